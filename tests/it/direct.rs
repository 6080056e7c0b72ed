//! Direct conversations: a private room for 2 to 9 members, isolated on every path.

use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn a_direct_conversation_is_found_again_notifies_and_is_closed_to_everyone_else() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let (alice, bob, carol) = (s.user("alice").await, s.user("bob").await, s.user("carol").await);
    let admin = s.admin().await;

    let (status, dm) = alice.post("/dms", json!({"users": [bob.id()]})).await;
    assert_eq!(status, 200, "{dm}");
    let room = dm["id"].as_str().unwrap().to_owned();
    let space = dm["space"].as_str().unwrap().to_owned();
    let mut members: Vec<String> =
        dm["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_owned()).collect();
    members.sort();
    let mut want = vec![alice.id(), bob.id()];
    want.sort();
    assert_eq!(members, want);
    let (_, again) = bob.post("/dms", json!({"users": [alice.id(), bob.id()]})).await;
    assert_eq!(again["id"], dm["id"], "the same members get the same conversation");

    let (status, posted) = alice
        .post(&format!("/rooms/{room}/posts"), json!({"body": "Le budget quetzal, entre nous", "nonce": "dm1"}))
        .await;
    assert_eq!(status, 201, "{posted}");
    let (_, notes) = bob.get("/notifications").await;
    assert_eq!(notes[0]["kind"], "dm", "{notes}");
    assert_eq!(notes[0]["post"]["body"], "Le budget quetzal, entre nous");
    assert_eq!(alice.get("/notifications").await.1, json!([]), "not its author");

    let (_, listed) = bob.get("/dms").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], room.as_str());
    assert_eq!(carol.get("/dms").await.1, json!([]));
    let (_, spaces) = alice.get("/spaces").await;
    assert!(!spaces.to_string().contains(&space), "conversations are not spaces in the list");

    // Outsiders, the site's admin included, reach none of it.
    for (who, c) in [("carol", &carol), ("admin", &admin), ("guest", &s.guest())] {
        for path in [
            format!("/rooms/{room}"),
            format!("/rooms/{room}/posts"),
            format!("/spaces/{space}"),
            format!("/spaces/{space}/members"),
            format!("/posts/{}", posted["id"].as_str().unwrap()),
        ] {
            let (status, v) = c.get(&path).await;
            assert!([401, 404].contains(&status), "{who} {path}: {status} {v}");
            assert!(!v.to_string().contains("quetzal"), "{who} {path}: {v}");
        }
        let (status, _) = c.post(&format!("/rooms/{room}/posts"), json!({"body": "hi", "nonce": "x"})).await;
        assert!([401, 404].contains(&status), "{who} posts");
    }
    let (status, _) = admin.post(&format!("/spaces/{space}/members"), json!({"user": admin.id()})).await;
    assert_eq!(status, 404, "an admin cannot join a conversation");
    let (status, _) = alice.post(&format!("/spaces/{space}/members"), json!({"user": carol.id()})).await;
    assert_eq!(status, 403, "nor can its members add someone");
    let found = search_until(&bob, "q=quetzal", |v| v["total"].as_u64() >= Some(1)).await;
    assert_eq!(found["hits"][0]["room"], room.as_str());
    let (_, carols) = carol.get("/search?q=quetzal").await;
    assert_eq!(carols["total"], 0, "{carols}");

    // A group conversation of three.
    let (_, three) = alice.post("/dms", json!({"users": [bob.id(), carol.id()]})).await;
    assert_ne!(three["id"], dm["id"]);
    let (status, _) = carol.get(&format!("/rooms/{}", three["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn conversations_with_oneself_with_fifty_or_with_strangers_are_refused() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let alice = s.user("alice").await;
    let mut many = Vec::new();
    for i in 0..9 {
        many.push(s.user(&format!("peer{i}")).await.id());
    }
    for (body, why) in [
        (json!({"users": []}), "nobody"),
        (json!({"users": [alice.id()]}), "oneself"),
        (json!({"users": many}), "nine others"),
        (json!({"users": ["u1"]}), "no such member"),
        (json!({"users": ["not-an-id"]}), "not an id"),
    ] {
        let (status, e) = alice.post("/dms", body).await;
        assert_eq!((status, e["error"]["field"].as_str()), (400, Some("users")), "{why}: {e}");
    }
    assert_eq!(s.guest().post("/dms", json!({"users": [alice.id()]})).await.0, 401);
    let (status, _) = alice.post("/dms", json!({"users": many[..8]})).await;
    assert_eq!(status, 200, "eight others is the most");
    assert_eq!(alice.get("/dms").await.1.as_array().unwrap().len(), 1);
}
