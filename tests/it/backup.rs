//! Export and import round-trip everything; the online export is consistent and equals
//! the offline one.

use std::io::BufReader;
use std::process::Command;

use collective_brain::store::{ImportError, Store};
use serde_json::{json, Value};

use crate::util::{thread, Server, PASSWORD};

#[tokio::test]
async fn export_and_import_round_trip_everything() {
    // Restarted twice first, as a store in use has been: sled's id counter jumps ahead at
    // each open, so the ids below are far past where a new store's counter starts.
    let home = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let _ = Server::start_in(home.path(), |_| {}).await.stop().await;
    }
    let s = Server::start_in(home.path(), |_| {}).await;
    let admin = s.admin().await;
    let member = s.user_with("miembro", json!({"languages": ["es", "pt"]})).await;
    let outsider = s.user("ajena").await;
    let mut translator = s.user("traductora").await;
    admin.put(&format!("/users/{}/roles", translator.id()), json!({"roles": ["translator"]})).await;
    let (_, me) = translator
        .put("/me/translator", json!({"pairs": [{"from": "es", "to": "en"}, {"from": "es", "to": "fr"}]}))
        .await;
    translator.user = me;
    let (_, space) = admin
        .post("/spaces", json!({"slug": "wg-ss", "name": "South-South", "kind": "forum", "visibility": "private", "post_policy": "members"}))
        .await;
    let space = space["id"].as_str().unwrap().to_owned();
    for u in [&member, &translator] {
        admin.post(&format!("/spaces/{space}/members"), json!({"user": u.id()})).await;
    }
    let (room, first) = thread(&member, &space, "Plan de trabajo", "Primera reunión del grupo de trabajo").await;
    let pid = first["id"].as_str().unwrap().to_owned();
    member
        .patch(&format!("/posts/{pid}"), json!({"body": "Primera reunión del grupo de trabajo sur-sur", "lang": "es"}))
        .await;
    let (status, _) =
        translator.post(&format!("/posts/{pid}/translations"), json!({"lang": "en", "body": "First meeting"})).await;
    assert_eq!(status, 201);
    let (status, _) = translator.post("/translations/claim", json!({"post": pid, "lang": "fr"})).await;
    assert_eq!(status, 200);
    let general = s.space_id("general").await;
    thread(&outsider, &general, "Public thread", "Hello everyone").await;

    // Only admins export.
    assert_eq!(member.get("/admin/export").await.0, 403);
    assert_eq!(s.guest().get("/admin/export").await.0, 401);
    // Without the admin's password, no password hash and no sign-in leaves the server.
    let r = s.http.get(s.api("/admin/export")).bearer_auth(admin.token.as_ref().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let plain = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
    assert!(plain.contains("Primera reunión"), "the plain export holds the content");
    assert!(!plain.contains("argon2id"), "a password hash was exported without the admin's password");
    assert!(!plain.contains(r#""tree":"tokens""#), "sign-ins were exported without the admin's password");
    let (status, e) = admin.post("/admin/export", json!({"password": "not the admin's password"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("password")), "{e}");
    let r = s
        .http
        .post(s.api("/admin/export"))
        .bearer_auth(admin.token.as_ref().unwrap())
        .json(&json!({"password": crate::util::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let online = r.bytes().await.unwrap().to_vec();
    assert!(String::from_utf8_lossy(&online).contains("argon2id"), "asked with the password, the export is whole");
    let before_posts = member.get(&format!("/rooms/{room}/posts")).await.1;
    let before_history = member.get(&format!("/posts/{pid}/history")).await.1;
    let before_queue = translator.get("/translations/queue").await.1;
    let dir = s.dir.clone();
    let _ = s.stop().await;

    // Offline, the command gives the same bytes.
    let out = Command::new(env!("CARGO_BIN_EXE_collective-brain"))
        .args(["export", "--data-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, online, "the online export is the store at one point in time");
    let text = String::from_utf8(online.clone()).unwrap();
    assert!(text.lines().count() > 50);
    assert!(!text.contains(PASSWORD), "no password in clear, even in a backup");

    // Import into a new data dir.
    let new = tempfile::tempdir().unwrap();
    let store = Store::open_for_maintenance(new.path()).unwrap();
    let n = store.import(&mut BufReader::new(&online[..])).unwrap();
    assert_eq!(n as usize, text.lines().count() - 2, "every line but the header and the trailer is an entry");
    assert!(matches!(store.import(&mut BufReader::new(&online[..])), Err(ImportError::NotEmpty)));
    store.close().await.unwrap();
    drop(store);
    let bad = tempfile::tempdir().unwrap();
    let store = Store::open_for_maintenance(bad.path()).unwrap();
    assert!(matches!(store.import(&mut BufReader::new(&br#"{"nope": 1}"#[..])), Err(ImportError::Format { .. })));
    store.close().await.unwrap();
    // A backup cut short at a line boundary, or altered, is refused, and the command
    // leaves no data dir behind.
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines[..lines.len() * 2 / 3].join("\n") + "\n";
    let altered = text.replacen("Primera", "Segunda", 1);
    assert_ne!(altered, text);
    let no_trailer = lines[..lines.len() - 1].join("\n") + "\n";
    for (what, input) in [("cut", cut), ("altered", altered), ("without its trailer", no_trailer)] {
        let target = tempfile::tempdir().unwrap();
        let dir = target.path().join("restored");
        let out = import_command(&dir, input.as_bytes());
        assert!(!out.status.success(), "an export {what} was imported");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("incomplete or altered"),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!dir.exists(), "a failed import left {} behind", dir.display());
        assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0, "a failed import left its work behind");
    }
    let target = tempfile::tempdir().unwrap();
    let out = import_command(&target.path().join("restored"), &online);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let s = Server::start_in(new.path(), |_| {}).await;
    let relogin = |c: &crate::util::Client| {
        let mut c2 = s.guest();
        c2.token = c.token.clone();
        c2
    };
    let (member2, translator2, outsider2) = (relogin(&member), relogin(&translator), relogin(&outsider));
    // Sessions, passwords, memberships, posts with history, translations, claims, queue.
    assert_eq!(member2.get("/me").await.1["handle"], "miembro");
    let (status, _) = s.guest().post("/auth/login", json!({"handle": "miembro", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    assert_eq!(member2.get(&format!("/rooms/{room}/posts")).await.1, before_posts);
    assert_eq!(member2.get(&format!("/posts/{pid}/history")).await.1, before_history);
    assert_eq!(translator2.get("/translations/queue").await.1, before_queue);
    let posts: Value = member2.get(&format!("/rooms/{room}/posts")).await.1;
    assert_eq!(posts[0]["translations"]["en"]["body"], "First meeting");
    assert_eq!(outsider2.get(&format!("/rooms/{room}/posts")).await.0, 404, "private stays private");
    let (status, _) = translator2.post("/translations/claim", json!({"post": pid, "lang": "fr"})).await;
    assert_eq!(status, 200, "the claim is still the translator's own");
    // New writes continue the seqs, and old nonces are still known.
    let mut ws = member2.ws().await;
    let next = ws.post(&room, "Segunda reunión", "after-import").await;
    assert_eq!(next["post"]["seq"].as_u64().unwrap(), before_posts[0]["seq"].as_u64().unwrap() + 3);
    // New ids do not reuse imported ones (sled's own id counter is not in an export):
    // the new post is one more, the old ones are all still there.
    let after: Value = member2.get(&format!("/rooms/{room}/posts")).await.1;
    let ids =
        |v: &Value| v.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (old_ids, new_ids) = (ids(&before_posts), ids(&after));
    assert!(!old_ids.contains(&next["post"]["id"].as_str().unwrap().to_owned()), "a new post took an imported id");
    assert_eq!(new_ids.len(), old_ids.len() + 1, "{after}");
    assert!(old_ids.iter().all(|id| new_ids.contains(id)), "an imported post was overwritten: {after}");
    let newcomer = s.user("recien").await;
    for old in [&member2, &translator2, &outsider2] {
        assert_ne!(newcomer.id(), old.get("/me").await.1["id"].as_str().unwrap(), "a new user took an imported id");
    }
    assert_eq!(member2.get("/me").await.1["handle"], "miembro");
    let _ = s.stop().await;
    drop(home);
}

/// Runs `collective-brain import` into `dir` with `input` on stdin.
pub fn import_command(dir: &std::path::Path, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_collective-brain"))
        .args(["import", "--data-dir", dir.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A refused import may stop reading before the end.
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}
