//! Online backups from the browser's API: taken now, listed with their sizes, the newest
//! kept, each a whole export that restores the community.

use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn admins_take_backups_that_are_kept_to_their_number_and_restore_everything() {
    let mut clock = None;
    let backups = tempfile::tempdir().unwrap();
    let dir = backups.path().join("nightly");
    let s = Server::start_with(|c| {
        clock = Some(c.clock.clone());
        c.backup_dir = Some(dir.clone());
        c.backup_keep = 2;
        c.limits = collective_brain::limits::Limits::off();
    })
    .await;
    let clock = clock.unwrap();
    let admin = s.admin().await;
    let member = s.user("ana").await;
    thread(&member, &s.space_id("general").await, "Before the backup", "Kept in every backup").await;

    assert_eq!(member.get("/admin/backups").await.0, 403);
    assert_eq!(member.post("/admin/backups", json!({})).await.0, 403);
    let (_, listed) = admin.get("/admin/backups").await;
    assert_eq!((listed["every_hours"].as_u64(), listed["keep"].as_u64()), (Some(24), Some(2)));
    assert_eq!(listed["backups"], json!([]));
    let mut names = Vec::new();
    for _ in 0..3 {
        let (status, b) = admin.post("/admin/backups", json!({})).await;
        assert_eq!(status, 201, "{b}");
        assert!(b["size"].as_u64().unwrap() > 1000, "{b}");
        names.push(b["name"].as_str().unwrap().to_owned());
        clock.advance(std::time::Duration::from_secs(3600));
    }
    let (_, listed) = admin.get("/admin/backups").await;
    let kept: Vec<&str> = listed["backups"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(kept, [names[2].as_str(), names[1].as_str()], "the newest two, newest first");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(&names[2])).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the server's user reads a backup");
    }
    s.stop().await;

    // The newest restores the whole community into a new data dir.
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let mut file = std::io::BufReader::new(std::fs::File::open(dir.join(&names[2])).unwrap());
    collective_brain::store::import_into(&target, &mut file).await.expect("import");
    let s2 = Server::start_in(&target, |_| {}).await;
    let (_, found) = s2.guest().get(&format!("/spaces/{}/rooms", s2.space_id("general").await)).await;
    assert!(found.to_string().contains("Before the backup"), "{found}");
    let (status, _) = s2.guest().post("/auth/login", json!({"handle": "ana", "password": PASSWORD})).await;
    assert_eq!(status, 200, "password hashes come back with it");
}
