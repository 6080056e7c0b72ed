//! Watching: per thread or room, watching / normal / muted; a working group's members
//! watch it unless they choose otherwise.

use serde_json::{json, Value};

use crate::util::*;

fn kinds(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| format!("{}:{}", n["kind"].as_str().unwrap(), n["post"]["body"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn watchers_hear_of_every_post_the_muted_of_none_and_groups_are_watched_by_default() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let (alice, bob, carol) = (s.user("alice").await, s.user("bob").await, s.user("carol").await);
    let general = s.space_id("general").await;
    let (room, _) = thread(&alice, &general, "Cooperative law", "Opening the thread").await;

    let (_, r) = bob.get(&format!("/rooms/{room}")).await;
    assert_eq!(r["watch"], "normal");
    let (status, r) = bob.put(&format!("/rooms/{room}/watch"), json!({"level": "watching"})).await;
    assert_eq!((status, r["watch"].as_str()), (200, Some("watching")));
    let (status, _) = carol.put(&format!("/rooms/{room}/watch"), json!({"level": "muted"})).await;
    assert_eq!(status, 200);
    let (status, _) = carol.put(&format!("/rooms/{room}/watch"), json!({"level": "loud"})).await;
    assert_eq!(status, 400);
    assert_eq!(s.guest().put(&format!("/rooms/{room}/watch"), json!({"level": "watching"})).await.0, 401);

    alice.post(&format!("/rooms/{room}/posts"), json!({"body": "A second post, @carol", "nonce": "w1"})).await;
    assert_eq!(kinds(&bob.get("/notifications").await.1), ["watched:A second post, @carol"]);
    assert_eq!(kinds(&carol.get("/notifications").await.1), Vec::<String>::new(), "muted: mentions neither");
    assert_eq!(kinds(&alice.get("/notifications").await.1), Vec::<String>::new(), "never one's own");

    // A working group's members watch it unless they choose otherwise.
    let group = private_forum(&admin, "wg", &[&alice, &bob, &carol]).await;
    let (groom, _) = thread(&alice, &group, "Plan", "Our plan").await;
    let (_, r) = carol.get(&format!("/rooms/{groom}")).await;
    assert_eq!(r["watch"], "watching");
    carol.put(&format!("/rooms/{groom}/watch"), json!({"level": "normal"})).await;
    alice.post(&format!("/rooms/{groom}/posts"), json!({"body": "Next step", "nonce": "w2"})).await;
    let bobs = kinds(&bob.get("/notifications").await.1);
    assert!(
        bobs.contains(&"watched:Our plan".to_owned()) && bobs.contains(&"watched:Next step".to_owned()),
        "{bobs:?}"
    );
    let carols = kinds(&carol.get("/notifications").await.1);
    assert_eq!(carols, ["watched:Our plan"], "the new thread, then nothing after choosing normal");

    // Nobody outside the group watches, or learns of, its rooms.
    let outsider = s.user("dan").await;
    assert_eq!(outsider.put(&format!("/rooms/{groom}/watch"), json!({"level": "watching"})).await.0, 404);
    assert_eq!(outsider.get("/notifications").await.1, json!([]));
}

#[tokio::test]
async fn a_choice_for_a_space_covers_its_rooms_unless_a_room_has_its_own() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let (alice, bob) = (s.user("alice").await, s.user("bob").await);
    let general = s.space_id("general").await;
    assert_eq!(bob.get(&format!("/spaces/{general}")).await.1["watch"], "normal");
    let (status, v) = bob.put(&format!("/spaces/{general}/watch"), json!({"level": "watching"})).await;
    assert_eq!((status, v["watch"].as_str()), (200, Some("watching")));
    assert_eq!(bob.get(&format!("/spaces/{general}")).await.1["watch"], "watching");
    let (first, _) = thread(&alice, &general, "First", "Thread one").await;
    let (second, _) = thread(&alice, &general, "Second", "Thread two").await;
    bob.put(&format!("/rooms/{second}/watch"), json!({"level": "muted"})).await;
    alice.post(&format!("/rooms/{first}/posts"), json!({"body": "More on one", "nonce": "s1"})).await;
    alice.post(&format!("/rooms/{second}/posts"), json!({"body": "More on two, @bob", "nonce": "s2"})).await;
    let heard = kinds(&bob.get("/notifications").await.1);
    assert!(
        heard.contains(&"watched:Thread one".to_owned()) && heard.contains(&"watched:More on one".to_owned()),
        "{heard:?}"
    );
    assert!(heard.contains(&"watched:Thread two".to_owned()), "a new thread, before the room's own choice: {heard:?}");
    assert!(!heard.iter().any(|h| h.contains("More on two")), "the room's own choice wins, mentions too: {heard:?}");
    assert_eq!(bob.get(&format!("/rooms/{first}")).await.1["watch"], "watching");
    assert_eq!(bob.get(&format!("/rooms/{second}")).await.1["watch"], "muted");

    // A private group's space is nobody else's to watch.
    let group = private_forum(&admin, "wg", &[&alice]).await;
    assert_eq!(bob.put(&format!("/spaces/{group}/watch"), json!({"level": "watching"})).await.0, 404);
}
