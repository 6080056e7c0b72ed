//! Upgrades: every data dir a released schema wrote (`tests/fixtures/schema-N.tar.gz`,
//! made by `scripts/make-upgrade-fixture.py`) opens with this build, migrated, and
//! every post it held is there, readable, searchable and writable after.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::util::*;

#[tokio::test]
async fn every_fixture_of_an_earlier_schema_opens_with_every_post() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "no fixture in {}", dir.display());
    for tarball in fixtures {
        let manifest = tarball.to_string_lossy().replace(".tar.gz", ".json");
        let manifest: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        opens_with_every_post(&tarball, &manifest).await;
    }
}

async fn opens_with_every_post(tarball: &Path, manifest: &Value) {
    let tmp = tempfile::tempdir().unwrap();
    let ok = Command::new("tar").arg("xzf").arg(tarball).arg("-C").arg(tmp.path()).status().unwrap();
    assert!(ok.success(), "tar xzf {}", tarball.display());
    let s = Server::start_in(tmp.path(), |_| {}).await;
    let password = manifest["password"].as_str().unwrap();
    let (status, v) = s.guest().post("/auth/login", json!({"handle": "ana", "password": password})).await;
    assert_eq!(status, 200, "{}: {v}", tarball.display());
    let mut ana = s.guest();
    ana.token = v["token"].as_str().map(str::to_owned);
    let posts = manifest["posts"].as_array().unwrap();
    assert!(posts.len() >= 8);
    for p in posts {
        let (status, got) = ana.get(&format!("/posts/{}", p["id"].as_str().unwrap())).await;
        assert_eq!(status, 200, "{}: {p} {got}", tarball.display());
        assert_eq!(got["body"], p["body"], "{}", tarball.display());
        assert_eq!(got["room"], p["room"], "{}", tarball.display());
    }
    // The thread's first post kept its translation, the attachment its bytes.
    let first = &posts[0];
    let (_, got) = ana.get(&format!("/posts/{}", first["id"].as_str().unwrap())).await;
    assert!(got.to_string().contains("Les coopératives de ramasseurs"), "{got}");
    // Its translator is credited on the desk's recognition page, though schema 1's record
    // of the translation does not name them (the post's translation does).
    let (status, v) = ana.get("/translations/translators").await;
    assert_eq!(status, 200, "{v}");
    let credited = v.as_array().unwrap().iter().any(|r| r["translations"] == 1 && r["languages"] == json!({"fr": 1}));
    assert!(credited, "{}: {v}", tarball.display());
    let with_file = posts.iter().find(|p| p["body"] == "A ata da reunião.").unwrap();
    let (_, got) = ana.get(&format!("/posts/{}", with_file["id"].as_str().unwrap())).await;
    let file = got["files"][0]["id"].as_str().unwrap_or_else(|| panic!("{got}"));
    let (status, _, bytes) = ana.get_raw(&format!("/files/{file}"), &[]).await;
    assert_eq!(
        (status, String::from_utf8_lossy(&bytes).into_owned()),
        (200, "Ata da reunião de Campinas: economia solidária.".to_owned())
    );
    // The index is rebuilt from the store: the posts are found again.
    let v = search_until(&ana, "q=monedas", |v| v.to_string().contains("mercados solidarios")).await;
    assert!(v.to_string().contains("Puebla"), "{v}");
    // And the community goes on.
    let room = first["room"].as_str().unwrap();
    let (status, v) =
        ana.post(&format!("/rooms/{room}/posts"), json!({"body": "Depois da atualização", "nonce": "up1"})).await;
    assert_eq!(status, 201, "{v}");
    s.stop().await;
}
