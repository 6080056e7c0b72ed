//! Files: uploads streamed under the size limit and the member's quota, typed by their
//! bytes, stored once, attached to posts and read exactly as those posts are, served
//! with ranges and validators, images stripped of their position and thumbnailed, and
//! each space's library.

use serde_json::{json, Value};

use crate::util::*;

const MIB: u64 = 1024 * 1024;

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A JPEG whose EXIF block holds a GPS position, and bytes after its end.
fn photo_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1600, 1200, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 90]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&img).unwrap();
    let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(plain.into()).unwrap();
    let mut exif = b"MM\0\x2a\0\0\0\x08".to_vec();
    exif.extend_from_slice(&1u16.to_be_bytes());
    exif.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26]);
    exif.extend_from_slice(&0u32.to_be_bytes());
    exif.extend_from_slice(&1u16.to_be_bytes());
    exif.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'S', 0, 0, 0]);
    exif.extend_from_slice(&0u32.to_be_bytes());
    exif.extend_from_slice(b"LAT-23.5505");
    img_parts::ImageEXIF::set_exif(&mut jpeg, Some(exif.into()));
    let mut out = Vec::new();
    jpeg.encoder().write_to(&mut out).unwrap();
    out
}

async fn post_with(c: &Client, room: &str, body: &str, files: Value) -> (u16, Value) {
    let nonce = format!("n-{}", rand::random::<u32>());
    c.post(&format!("/rooms/{room}/posts"), json!({"body": body, "nonce": nonce, "files": files})).await
}

#[tokio::test]
async fn a_document_is_uploaded_attached_and_served_with_ranges_and_validators() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let amina = s.user("amina").await;
    let bruno = s.user("bruno").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&amina, &general, "Agenda", "L'agenda de Turin").await;

    let text = "Programme de l'Académie, Turin 2010.\nSéance 1 : économie sociale et solidaire.\n".repeat(20);
    assert_eq!(s.guest().upload("agenda.txt", text.clone().into_bytes()).await.0, 401);
    let (status, e) = amina.upload(" / ", text.clone().into_bytes()).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("name")), "{e}");
    let (status, file) = amina.upload("../Agenda Turin 2010.txt", text.clone().into_bytes()).await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["name"], "Agenda Turin 2010.txt", "no directories");
    assert_eq!(file["size"], text.len());
    assert_eq!(file["content_type"], "text/plain; charset=utf-8", "sniffed, not taken from the request");
    assert_eq!(file["uploader"], amina.id().as_str());
    assert_eq!(file["thumbnail"], Value::Null);
    let id = file["id"].as_str().unwrap().to_owned();
    let sha = file["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);

    // Not attached: its uploader's alone.
    assert_eq!(amina.get_raw(&format!("/files/{id}"), &[]).await.0, 200);
    assert_eq!(bruno.get_raw(&format!("/files/{id}"), &[]).await.0, 404);
    assert_eq!(s.guest().get_raw(&format!("/files/{id}"), &[]).await.0, 404);
    // Nobody attaches another's upload.
    let (status, e) = post_with(&bruno, &room, "mine now", json!([id])).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("files")), "{e}");
    let (status, e) =
        post_with(&amina, &room, "too many", json!((0..11).map(|n| format!("f{n}")).collect::<Vec<_>>())).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("files")), "{e}");

    let (status, post) = post_with(&amina, &room, "Voici l'agenda", json!([id])).await;
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["files"][0]["id"], id.as_str());
    assert_eq!(post["files"][0]["sha256"], sha.as_str());
    let (status, e) = post_with(&amina, &room, "again", json!([id])).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("files")), "attached once: {e}");

    // Attached in a public space: everyone reads it, guests too.
    let (status, h, bytes) = s.guest().get_raw(&format!("/files/{id}"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, text.as_bytes());
    assert_eq!(h["etag"], format!("\"{sha}\"").as_str());
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"].to_str().unwrap().contains("sandbox"));
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("inline;") && disposition.contains("Agenda%20Turin%202010.txt"), "{disposition}");
    assert_eq!(h["accept-ranges"], "bytes");
    assert!(h.get("content-encoding").is_none(), "served as stored, not compressed");

    let (status, h, part) = bruno.get_raw(&format!("/files/{id}"), &[("range", "bytes=10-19")]).await;
    assert_eq!(status, 206);
    assert_eq!(part, &text.as_bytes()[10..20]);
    assert_eq!(h["content-range"], format!("bytes 10-19/{}", text.len()).as_str());
    let (status, _, part) = bruno.get_raw(&format!("/files/{id}"), &[("range", "bytes=-5")]).await;
    assert_eq!((status, part.as_slice()), (206, &text.as_bytes()[text.len() - 5..]));
    let (status, _, whole) =
        bruno.get_raw(&format!("/files/{id}"), &[("range", "bytes=0-3"), ("if-range", "\"another\"")]).await;
    assert_eq!((status, whole.len()), (200, text.len()), "a stale If-Range gets the whole file");
    let (status, _, _) = bruno.get_raw(&format!("/files/{id}"), &[("range", "bytes=999999-")]).await;
    assert_eq!(status, 416);
    let (status, h, none) = bruno.get_raw(&format!("/files/{id}"), &[("if-none-match", &format!("\"{sha}\""))]).await;
    assert_eq!((status, none.len()), (304, 0));
    assert_eq!(h["etag"], format!("\"{sha}\"").as_str());

    // The same bytes again are stored once.
    let (status, again) = bruno.upload("copie.txt", text.clone().into_bytes()).await;
    assert_eq!((status, again["sha256"].as_str()), (201, Some(sha.as_str())));
    assert_ne!(again["id"], id.as_str());
    let blobs = walk(&s.dir.join("files")).into_iter().filter(|p| p.ends_with(&sha)).count();
    assert_eq!(blobs, 1);

    // The library of the space.
    let (_, other) = amina.upload("photo.png", tiny_png()).await;
    post_with(&amina, &room, "Et une photo", json!([other["id"]])).await;
    let (status, lib) = s.guest().get(&format!("/spaces/{general}/library")).await;
    assert_eq!(status, 200, "{lib}");
    let names: Vec<_> = lib.as_array().unwrap().iter().map(|e| e["file"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["photo.png", "Agenda Turin 2010.txt"], "newest first");
    assert_eq!(lib[1]["title"], "Agenda");
    assert_eq!(lib[1]["room"], room.as_str());
    let (_, lib) = s.guest().get(&format!("/spaces/{general}/library?q=turin")).await;
    assert_eq!(lib.as_array().unwrap().len(), 1);
    let (_, lib) = s.guest().get(&format!("/spaces/{general}/library?q=agenda&limit=1")).await;
    assert_eq!(lib.as_array().unwrap().len(), 1, "the thread's title matches too");
    let (status, e) = s.guest().get(&format!("/spaces/{general}/library?limit=0")).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("limit")));
    let (status, e) = s.guest().get(&format!("/spaces/{general}/library?lang=klingon")).await;
    assert_eq!(status, 400, "{e}");

    // A deleted post takes its files with it.
    let post_id = post["id"].as_str().unwrap();
    assert_eq!(amina.delete(&format!("/posts/{post_id}")).await.0, 200);
    assert_eq!(amina.get_raw(&format!("/files/{id}"), &[]).await.0, 404);
    let (_, lib) = s.guest().get(&format!("/spaces/{general}/library")).await;
    assert_eq!(lib.as_array().unwrap().len(), 1, "{lib}");

    // And it is all there after a restart.
    let photo = other["id"].as_str().unwrap().to_owned();
    let tmp = s.stop().await.expect("temp dir");
    let s = Server::start_in(tmp.path(), |_| {}).await;
    assert_eq!(s.guest().get_raw(&format!("/files/{photo}"), &[]).await.0, 200);
    drop(tmp);
}

#[tokio::test]
async fn programs_oversized_files_and_full_quotas_are_refused_and_active_types_only_downloaded() {
    let s = Server::start_with(|c| {
        c.limits = collective_brain::limits::Limits::off();
        c.max_file_bytes = MIB;
        c.file_quota_mb = 2;
    })
    .await;
    let amina = s.user("amina").await;
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.resize(4096, 0);
    let (status, e) = amina.upload("rapport.pdf", elf).await;
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_request")), "{e}");
    let (status, e) = amina.upload("big.bin", vec![7u8; MIB as usize + 1]).await;
    assert_eq!((status, e["error"]["code"].as_str()), (413, Some("too_large")), "{e}");
    for n in 0..2 {
        let (status, e) = amina.upload(&format!("part{n}.bin"), vec![n; (MIB - 10) as usize]).await;
        assert_eq!(status, 201, "{e}");
    }
    let (status, e) = amina.upload("one-more.bin", vec![9u8; 1000]).await;
    assert_eq!((status, e["error"]["code"].as_str()), (413, Some("too_large")), "over the quota: {e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("quota"), "{e}");
    // Nothing refused was left on disk.
    let tmp = walk(&s.dir.join("files").join("tmp"));
    assert!(tmp.is_empty(), "{tmp:?}");

    let bruno = s.user("bruno").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&bruno, &general, "Pages", "Some pages").await;
    for (name, bytes, kind) in [
        ("page.html", b"<!DOCTYPE html><script>alert(document.cookie)</script>".to_vec(), "text/html"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec(), "image/svg+xml"),
        ("data.bin", vec![0u8, 1, 2, 3, 255], "application/octet-stream"),
    ] {
        let (status, f) = bruno.upload(name, bytes).await;
        assert_eq!((status, f["content_type"].as_str()), (201, Some(kind)), "{f}");
        post_with(&bruno, &room, name, json!([f["id"]])).await;
        let (status, h, _) = s.guest().get_raw(&format!("/files/{}", f["id"].as_str().unwrap()), &[]).await;
        assert_eq!(status, 200);
        assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment;"), "{name} only downloaded");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-security-policy"].to_str().unwrap().contains("sandbox"));
    }
}

#[tokio::test]
async fn a_photo_is_served_without_its_position_and_with_a_thumbnail() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let amina = s.user("amina").await;
    let photo = photo_with_gps();
    assert!(find(&photo, b"LAT-23.5505"));
    let (status, f) = amina.upload("IMG_0042.JPG", photo.clone()).await;
    assert_eq!(status, 201, "{f}");
    assert_eq!(f["content_type"], "image/jpeg");
    assert_eq!((f["width"].as_u64(), f["height"].as_u64()), (Some(1600), Some(1200)));
    let id = f["id"].as_str().unwrap();
    assert_eq!(f["thumbnail"], format!("/api/v1/files/{id}/thumbnail").as_str());
    let (status, h, served) = amina.get_raw(&format!("/files/{id}"), &[]).await;
    assert_eq!(status, 200);
    assert!(!find(&served, b"LAT-23.5505"), "the position is not served");
    assert_eq!(f["size"], served.len(), "the size is of what is served");
    assert_eq!(h["etag"], format!("\"{}\"", f["sha256"].as_str().unwrap()).as_str());
    assert!(image::load_from_memory(&served).is_ok());
    let (status, h, thumb) = amina.get_raw(&format!("/files/{id}/thumbnail"), &[]).await;
    assert_eq!((status, h["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (1280, 960));
    assert!(!find(&thumb, b"LAT-23.5505"));
    let (status, _, _) = s.user("bruno").await.get_raw(&format!("/files/{id}/thumbnail"), &[]).await;
    assert_eq!(status, 404, "an unattached upload's thumbnail is its uploader's too");
}

#[tokio::test]
async fn files_of_a_private_group_and_of_hidden_posts_reach_nobody_else() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let member = s.user("member").await;
    let outsider = s.user("outsider").await;
    let group = private_forum(&admin, "wg-files", &[&member]).await;
    let (room, _) = thread(&member, &group, "Budget", "Le budget").await;
    let (_, f) = member.upload("budget confidentiel.txt", b"quetzal budget lines".to_vec()).await;
    let (_, img) = member.upload("plan.png", tiny_png()).await;
    let (status, post) = post_with(&member, &room, "Les pièces", json!([f["id"], img["id"]])).await;
    assert_eq!(status, 201, "{post}");
    let (id, img) = (f["id"].as_str().unwrap(), img["id"].as_str().unwrap());
    for path in [format!("/files/{id}"), format!("/files/{img}"), format!("/files/{img}/thumbnail")] {
        assert_eq!(member.get_raw(&path, &[]).await.0, 200, "{path}");
        for c in [&outsider, &s.guest()] {
            let (status, _, body) = c.get_raw(&path, &[]).await;
            assert_eq!(status, 404, "{path}");
            assert!(!find(&body, b"quetzal"));
        }
    }
    assert_eq!(outsider.get(&format!("/spaces/{group}/library")).await.0, 404);
    let (_, lib) = member.get(&format!("/spaces/{group}/library")).await;
    assert_eq!(lib.as_array().unwrap().len(), 2);

    // Hidden: gone for members, kept for a moderator of the group.
    let moderator = s.user("moderator").await;
    admin.put(&format!("/users/{}/roles", moderator.id()), json!({"roles": ["moderator"]})).await;
    admin.post(&format!("/spaces/{group}/members"), json!({"user": moderator.id()})).await;
    let post_id = post["id"].as_str().unwrap();
    let (status, hidden) = moderator.post(&format!("/posts/{post_id}/hide"), json!({"reason": "spam"})).await;
    assert_eq!(status, 200, "{hidden}");
    assert!(hidden["files"].is_null(), "a hidden post shows no files: {hidden}");
    assert_eq!(member.get_raw(&format!("/files/{id}"), &[]).await.0, 404);
    assert_eq!(moderator.get_raw(&format!("/files/{id}"), &[]).await.0, 200);
    let (_, posts) = member.get(&format!("/rooms/{room}/posts")).await;
    assert!(!posts.to_string().contains("budget confidentiel"), "{posts}");
    moderator.post(&format!("/posts/{post_id}/restore"), json!({})).await;
    assert_eq!(member.get_raw(&format!("/files/{id}"), &[]).await.0, 200);
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub fn tiny_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 200]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

/// Waits until `file`'s text was read (its `text_lang` set) or gives up after 20 s.
async fn text_read(c: &Client, space: &str, file: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, lib) = c.get(&format!("/spaces/{space}/library")).await;
        if let Some(e) = lib.as_array().and_then(|a| a.iter().find(|e| e["file"]["id"] == file)) {
            if !e["file"]["text_lang"].is_null() {
                return e.clone();
            }
        }
        assert!(std::time::Instant::now() < deadline, "the text of {file} was never read: {lib}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn documents_are_read_and_found_across_languages_and_hostile_ones_harm_nothing() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let amina = s.user("amina").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&amina, &general, "Académie 2010", "Les documents de Turin").await;

    let docx = collective_brain::files::extract::samples::docx(&[
        "Programme de l'Académie sur l'économie sociale et solidaire, Turin 2010",
        "Séance 1 : les coopératives d'épargne et de crédit en Afrique de l'Ouest",
        "Séance 2 : le travail décent dans l'économie informelle",
    ]);
    let (status, agenda) = amina.upload("Programme Turin.docx", docx).await;
    assert_eq!(status, 201, "{agenda}");
    assert_eq!(agenda["content_type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    let pdf = collective_brain::files::extract::samples::pdf(&[
        "Relatório da Academia: cooperativas de crédito",
        "e economia solidária no Brasil, Campinas 2013",
    ]);
    let (status, report) = amina.upload("Relatorio Campinas.pdf", pdf).await;
    assert_eq!((status, report["content_type"].as_str()), (201, Some("application/pdf")), "{report}");
    let odt = collective_brain::files::extract::samples::odt(&["Acta de la reunión sobre finanzas solidarias"]);
    let (_, minutes) = amina.upload("Acta.odt", odt).await;
    // Hostile: a DOCX whose one part inflates to 300 MB of one word, and a broken PDF.
    let mut bomb = std::io::Cursor::new(Vec::new());
    {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(&mut bomb);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file("word/document.xml", opts).unwrap();
        z.write_all(b"<w:document xmlns:w='x'><w:body><w:p><w:r><w:t>").unwrap();
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..300 {
            z.write_all(&chunk).unwrap();
        }
        z.write_all(b"</w:t></w:r></w:p></w:body></w:document>").unwrap();
        z.finish().unwrap();
    }
    let (status, bomb) = amina.upload("bomb.docx", bomb.into_inner()).await;
    assert_eq!(status, 201, "{bomb}");
    let (_, broken) =
        amina.upload("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ntrailer".to_vec()).await;

    let ids: Vec<Value> = [&agenda, &report, &minutes, &bomb, &broken].iter().map(|f| f["id"].clone()).collect();
    let (status, post) = post_with(&amina, &room, "Les documents", json!(ids)).await;
    assert_eq!(status, 201, "{post}");
    let e = text_read(&amina, &general, agenda["id"].as_str().unwrap()).await;
    assert_eq!(e["file"]["text_lang"], "fr");
    let e = text_read(&amina, &general, report["id"].as_str().unwrap()).await;
    assert_eq!(e["file"]["text_lang"], "pt");
    text_read(&amina, &general, minutes["id"].as_str().unwrap()).await;

    // A Portuguese query finds the French agenda; an English one the Portuguese report.
    let v = search_until(&s.guest(), "q=economia+social&kind=file", |v| {
        v["hits"].as_array().is_some_and(|h| h.iter().any(|h| h["file"]["id"] == agenda["id"]))
    })
    .await;
    let hit = v["hits"].as_array().unwrap().iter().find(|h| h["file"]["id"] == agenda["id"]).unwrap();
    assert_eq!(hit["kind"], "file");
    assert_eq!(hit["post"]["id"], post["id"]);
    assert!(hit["snippet"].as_str().unwrap().contains("conomie sociale"), "{hit}");
    search_until(&amina, "q=cooperative+credit&kind=file", |v| {
        v["hits"].as_array().is_some_and(|h| h.iter().any(|h| h["file"]["id"] == report["id"]))
    })
    .await;
    // Without `kind`, posts and documents; with `kind=post`, no document.
    let (_, v) = amina.get("/search?q=Turin&kind=post").await;
    assert!(v["hits"].as_array().unwrap().iter().all(|h| h["kind"] == "post"), "{v}");
    let (status, e) = amina.get("/search?q=Turin&kind=video").await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("kind")));
    let (_, lib) = amina.get(&format!("/spaces/{general}/library?lang=pt")).await;
    assert_eq!(lib.as_array().unwrap().len(), 1, "{lib}");

    // The hostile ones gave no text; the server goes on.
    assert_eq!(s.guest().get("/config").await.0, 200);
    let (_, lib) = amina.get(&format!("/spaces/{general}/library")).await;
    for f in [&bomb, &broken] {
        let e = lib.as_array().unwrap().iter().find(|e| e["file"]["id"] == f["id"]).unwrap();
        assert!(e["file"]["text_lang"].is_null(), "{e}");
    }

    // Deleting the post takes its documents out of search.
    amina.delete(&format!("/posts/{}", post["id"].as_str().unwrap())).await;
    search_until(&amina, "q=economia+social&kind=file", |v| v["total"] == 0).await;
}

#[tokio::test]
async fn exports_and_backups_carry_the_files_and_an_import_serves_them() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let amina = s.user("amina").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&amina, &general, "Photos", "Les photos").await;
    let photo = photo_with_gps();
    let (_, img) = amina.upload("turin.jpg", photo).await;
    let doc = collective_brain::files::extract::samples::docx(&["Compte rendu de la séance sur les mutuelles"]);
    let (_, doc) = amina.upload("compte rendu.docx", doc).await;
    let (status, _) = post_with(&amina, &room, "Voici", json!([img["id"], doc["id"]])).await;
    assert_eq!(status, 201);
    let (img, doc) = (img["id"].as_str().unwrap().to_owned(), doc["id"].as_str().unwrap().to_owned());
    text_read(&amina, &general, &doc).await;
    let (_, _, served) = amina.get_raw(&format!("/files/{img}"), &[]).await;
    let (_, _, thumb) = amina.get_raw(&format!("/files/{img}/thumbnail"), &[]).await;

    // The online export streams the blobs after the trees; each is checked on import.
    let r = s.http.get(s.api("/admin/export")).bearer_auth(admin.token.as_ref().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let export = r.bytes().await.unwrap().to_vec();
    let text = String::from_utf8_lossy(&export);
    let blobs = text.lines().filter(|l| l.starts_with(r#"{"blob""#)).count();
    assert_eq!(blobs, 3, "the photo, its thumbnail and the document");
    // An altered blob is refused.
    let altered = text.replacen(r#""base64":"/9j/"#, r#""base64":"/9k/"#, 1);
    let bad = tempfile::tempdir().unwrap();
    let out = crate::backup::import_command(&bad.path().join("data"), altered.as_bytes());
    assert!(!out.status.success(), "an altered blob was imported");

    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data");
    let out = crate::backup::import_command(&dir, &export);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s2 = Server::start_in(&dir, |_| {}).await;
    let guest = s2.guest();
    let (status, _, bytes) = guest.get_raw(&format!("/files/{img}"), &[]).await;
    assert_eq!((status, bytes == served), (200, true), "the photo, byte for byte");
    let (_, _, t2) = guest.get_raw(&format!("/files/{img}/thumbnail"), &[]).await;
    assert_eq!(t2, thumb);
    search_until(&guest, "q=mutuelles&kind=file", |v| v["total"] == 1).await;

    // Scheduled backups carry them too.
    let (status, b) = admin.post("/admin/backups", json!({})).await;
    assert_eq!(status, 201, "{b}");
    let backup = std::fs::read(s.dir.join("backups").join(b["name"].as_str().unwrap())).unwrap();
    assert!(String::from_utf8_lossy(&backup).contains(&format!(r#"{{"blob":"{}""#, img_sha(&served))));
    drop(home);
}

fn img_sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_collections_files_belong_to_its_edition_and_are_described_and_filtered() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let amina = s.user("amina").await;
    let bruno = s.user("bruno").await;
    let turin = s.space_id("collections-turin").await;
    let (_, space) = amina.get(&format!("/spaces/{turin}")).await;
    assert_eq!(space["edition"], "Turin", "a collection names its edition");
    let (room, _) = thread(&amina, &turin, "Séance plénière", "Les documents de la plénière").await;
    let (_, agenda) = amina.upload("agenda.txt", "Agenda of the plenary on cooperatives".as_bytes().to_vec()).await;
    let (_, photo) = amina.upload("plenary.png", tiny_png()).await;
    post_with(&amina, &room, "Documents", json!([agenda["id"], photo["id"]])).await;
    let id = agenda["id"].as_str().unwrap();

    let patch = json!({"title": "Programme of the plenary", "description": "Speakers and times\nRoom B", "year": 2010});
    assert_eq!(bruno.patch(&format!("/files/{id}"), patch.clone()).await.0, 403, "not his file");
    let (status, e) = amina.patch(&format!("/files/{id}"), json!({"year": 10})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("year")));
    let (status, e) = amina.patch(&format!("/files/{id}"), json!({"title": "x".repeat(201)})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("title")));
    let (status, f) = amina.patch(&format!("/files/{id}"), patch).await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(
        (f["title"].as_str(), f["year"].as_u64(), f["edition"].as_str()),
        (Some("Programme of the plenary"), Some(2010), Some("Turin"))
    );
    let moderator = s.user("moderator").await;
    admin.put(&format!("/users/{}/roles", moderator.id()), json!({"roles": ["moderator"]})).await;
    let (status, f) = moderator.patch(&format!("/files/{id}"), json!({"edition": "Turin 2010"})).await;
    assert_eq!((status, f["edition"].as_str()), (200, Some("Turin 2010")), "a moderator describes it too");

    let names = |v: &Value| {
        v.as_array().unwrap().iter().map(|e| e["file"]["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let (_, lib) = s.guest().get(&format!("/spaces/{turin}/library?year=2010")).await;
    assert_eq!(names(&lib), ["agenda.txt"]);
    let (_, lib) = s.guest().get(&format!("/spaces/{turin}/library?type=image")).await;
    assert_eq!(names(&lib), ["plenary.png"]);
    let (_, lib) = s.guest().get(&format!("/spaces/{turin}/library?edition=turin")).await;
    assert_eq!(names(&lib), ["plenary.png"], "the photo kept the collection's edition");
    let (_, lib) = s.guest().get(&format!("/spaces/{turin}/library?q=speakers")).await;
    assert_eq!(names(&lib), ["agenda.txt"], "found by its description");
    let (status, e) = s.guest().get(&format!("/spaces/{turin}/library?type=video")).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("type")));
    search_until(&s.guest(), "q=speakers&kind=file", |v| v["total"] == 1).await;
}

#[tokio::test]
async fn a_member_sets_a_picture_seen_as_their_profile_is() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let amina = s.user("amina").await;
    let bruno = s.user("bruno").await;
    let (_, photo) = amina.upload("me.jpg", photo_with_gps()).await;
    let (_, doc) = amina.upload("cv.txt", b"Curriculum vitae".to_vec()).await;
    let (_, other) = bruno.upload("bruno.png", tiny_png()).await;
    let (status, e) = amina.patch("/me", json!({"avatar": doc["id"]})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("avatar")), "{e}");
    let (status, _) = amina.patch("/me", json!({"avatar": other["id"]})).await;
    assert_eq!(status, 404, "another's upload is not found");
    let (status, me) = amina.patch("/me", json!({"avatar": photo["id"], "organization": "Coopérative"})).await;
    assert_eq!(status, 200, "{me}");
    let url = me["avatar"].as_str().expect("an avatar").to_owned();
    assert_eq!(me["organization"], "Coopérative");
    let path = url.strip_prefix("/api/v1").unwrap();
    let (status, h, bytes) = bruno.get_raw(path, &[]).await;
    assert_eq!((status, h["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
    assert!(!find(&bytes, b"LAT-23.5505"), "no position in the picture");
    // A later profile change keeps it; guests see it only on a public profile.
    let (_, me) = amina.patch("/me", json!({"sector": "Finance"})).await;
    assert_eq!(me["avatar"], url.as_str());
    assert_eq!(s.guest().get_raw(path, &[]).await.0, 401);
    amina.patch("/me", json!({"profile_visibility": "public"})).await;
    assert_eq!(s.guest().get_raw(path, &[]).await.0, 200);
    // It outlives the collector, and goes with the account.
    let (_, export) = amina.get("/me/export").await;
    assert_eq!(export["user"]["avatar"], url.as_str());
    let (status, _) = amina.delete_with("/me", json!({"password": PASSWORD})).await;
    assert_eq!(status, 204);
    assert_eq!(bruno.get_raw(path, &[]).await.0, 404);
}

#[tokio::test]
async fn translators_give_a_documents_title_in_other_languages_and_it_is_found_in_them() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let amina = s.user_with("amina", json!({"languages": ["fr"]})).await;
    let tr = s.user("traductora").await;
    admin.put(&format!("/users/{}/roles", tr.id()), json!({"roles": ["translator"]})).await;
    let turin = s.space_id("collections-turin").await;
    let (room, _) = thread(&amina, &turin, "Plénière", "Les documents").await;
    let (_, f) = amina.upload("prog.txt", b"Programme".to_vec()).await;
    post_with(&amina, &room, "Programme", json!([f["id"]])).await;
    let id = f["id"].as_str().unwrap();

    // Not described yet: nothing to translate.
    let (_, list) = tr.get("/translations/files?to=en").await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");
    let (_, d) = amina
        .patch(&format!("/files/{id}"), json!({"title": "Programme de la séance plénière sur les mutuelles", "description": "Les intervenants et les horaires de la séance"}))
        .await;
    assert_eq!(d["title_lang"], "fr", "{d}");
    let (status, _) = amina.get("/translations/files?to=en").await;
    assert_eq!(status, 403, "translators only");
    let (_, list) = tr.get("/translations/files?to=en").await;
    assert_eq!(list[0]["file"]["id"], id, "{list}");
    let (_, list) = tr.get("/translations/files?to=fr").await;
    assert!(list.as_array().unwrap().is_empty(), "not into its own language");

    let (status, e) = tr.post(&format!("/files/{id}/translations"), json!({"lang": "fr", "title": "x"})).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = tr.post(&format!("/files/{id}/translations"), json!({"lang": "en"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("title")));
    let body = json!({"lang": "en", "title": "Programme of the plenary on mutual societies", "description": "Speakers and times"});
    assert_eq!(amina.post(&format!("/files/{id}/translations"), body.clone()).await.0, 403);
    let (status, t) = tr.post(&format!("/files/{id}/translations"), body).await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["translations"]["en"]["title"], "Programme of the plenary on mutual societies");
    assert_eq!(t["translations"]["en"]["translator"], tr.id().as_str());
    let (_, list) = tr.get("/translations/files?to=en").await;
    assert!(list.as_array().unwrap().is_empty(), "translated: {list}");
    search_until(&s.guest(), "q=speakers+times&kind=file", |v| v["total"] == 1).await;

    // A new title makes the translation stale: it waits again.
    amina.patch(&format!("/files/{id}"), json!({"title": "Programme révisé de la plénière"})).await;
    let (_, list) = tr.get("/translations/files?to=en").await;
    assert_eq!(list[0]["file"]["translations"]["en"]["stale"], true, "{list}");
}

/// The collector, run by the server every hour, called here directly on the service.
#[tokio::test]
async fn the_collector_forgets_unattached_uploads_and_deleted_posts_files_and_never_an_attached_one() {
    let tmp = tempfile::tempdir().unwrap();
    let config = crate::util::test_config(tmp.path());
    let clock = config.clock.clone();
    let app = collective_brain::App::open(config).await.unwrap();
    let reg = |h: &str| collective_brain::service::Registration {
        handle: h.into(),
        password: PASSWORD.into(),
        display_name: None,
        languages: None,
        invite: None,
    };
    let user = app.create_user(reg("amina"), vec![]).await.unwrap();
    let up = |name: &'static str, bytes: &'static [u8]| {
        let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(bytes))]);
        app.upload(Some(&user), name, None, stream)
    };
    let kept = up("kept.txt", b"attached and kept").await.unwrap();
    let waiting = up("waiting.txt", b"never attached").await.unwrap();
    let deleted = up("deleted.txt", b"its post deleted").await.unwrap();
    let general = app.store.space_by_slug("general").unwrap().unwrap().id;
    let post = |body: &str, file: collective_brain::model::FileId| collective_brain::service::NewPost {
        body: body.into(),
        nonce: format!("n-{body}"),
        files: vec![file],
        ..Default::default()
    };
    app.create_room(Some(&user), general, "Kept", post("kept", kept.id)).await.unwrap();
    let gone = app.create_room(Some(&user), general, "Gone", post("gone", deleted.id)).await.unwrap();
    app.delete(Some(&user), gone.post.id).await.unwrap();

    // Within the day nothing attached-or-waiting goes; the deleted post's file does.
    let (records, _) = app.collect_files().await.unwrap();
    assert_eq!(records, 1);
    assert!(app.store.file(waiting.id).unwrap().is_some());
    assert!(app.store.file(deleted.id).unwrap().is_none());
    // A day later the waiting upload goes; blobs go once an hour old, never one a file names.
    clock.advance(std::time::Duration::from_secs(25 * 3600));
    let files = tmp.path().join("files");
    for f in [&kept, &waiting, &deleted] {
        let path = files.join(&f.sha256[..2]).join(&f.sha256);
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
    }
    let (records, blobs) = app.collect_files().await.unwrap();
    assert_eq!((records, blobs), (1, 2));
    assert!(app.store.file(waiting.id).unwrap().is_none());
    assert!(files.join(&kept.sha256[..2]).join(&kept.sha256).exists(), "an attached file's blob stays");
    assert!(!files.join(&waiting.sha256[..2]).join(&waiting.sha256).exists());
    assert_eq!(app.store.user(user.id).unwrap().unwrap().file_bytes, kept.size, "the quota counts what is kept");
    app.close().await.unwrap();
}
