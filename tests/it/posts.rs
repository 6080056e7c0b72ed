//! Posts: replies, edits with history, deletes that leave the slot, language tags.

use serde_json::json;

use crate::util::{thread, Server};

#[tokio::test]
async fn edit_and_delete_are_events_in_the_log() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let author = s.user_with("autora", json!({"languages": ["es"]})).await;
    let other = s.user("otro").await;
    let admin = s.admin().await;
    let (room, first) = thread(
        &author,
        &general,
        "Finanzas solidarias",
        "Las finanzas solidarias apoyan a las cooperativas de trabajo en América Latina.",
    )
    .await;
    let first_id = first["id"].as_str().unwrap().to_owned();

    let mut watcher = other.ws().await;
    watcher.subscribe(&room, 1).await;

    let mut ws = author.ws().await;
    let reply = ws.post(&room, "Y también a las mutuales de salud.", "r1").await;
    assert_eq!(reply["post"]["seq"], 2);
    ws.send(json!({"type": "post", "room": room, "body": "respuesta", "nonce": "r2", "reply_to": first_id})).await;
    let r2 = ws.until("ack").await;
    assert_eq!(r2["post"]["reply_to"], first_id.as_str());

    // Edit: an event with the next seq; the old text goes to the history.
    ws.send(json!({"type": "edit", "post": first_id, "body": "Las finanzas solidarias apoyan a las cooperativas y mutuales en América Latina."})).await;
    let edited = ws.until("event").await;
    assert_eq!((edited["kind"].clone(), edited["seq"].clone()), (json!("edit"), json!(4)), "the edit event's own seq");
    let ev = watcher.until("event").await; // reply r1
    assert_eq!(ev["seq"], 2);
    watcher.until("event").await; // reply r2
    let ev = watcher.until("event").await;
    assert_eq!((ev["kind"].clone(), ev["seq"].clone()), (json!("edit"), json!(4)));
    assert_eq!(ev["post"]["id"], first_id.as_str());
    assert_eq!(ev["post"]["seq"], 1, "a post keeps its place");
    assert!(ev["post"]["edited_at"].is_string());
    let (status, history) = other.get(&format!("/posts/{first_id}/history")).await;
    assert_eq!(status, 200);
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["body"], "Las finanzas solidarias apoyan a las cooperativas de trabajo en América Latina.");

    // Only the author edits; the author or a moderator deletes.
    let mut ows = other.ws().await;
    ows.send(json!({"type": "edit", "post": first_id, "body": "hijacked"})).await;
    assert_eq!(ows.until("error").await["code"], "forbidden");
    ows.send(json!({"type": "delete", "post": first_id})).await;
    assert_eq!(ows.until("error").await["code"], "forbidden");
    let (status, _) = other.patch(&format!("/posts/{first_id}"), json!({"body": "hijacked"})).await;
    assert_eq!(status, 403);

    ws.send(json!({"type": "delete", "post": first_id})).await;
    let del = ws.until("event").await;
    assert_eq!((del["kind"].clone(), del["seq"].clone()), (json!("delete"), json!(5)));
    let ev = watcher.until("event").await;
    assert_eq!((ev["kind"].clone(), ev["seq"].clone()), (json!("delete"), json!(5)));
    assert_eq!((ev["post"]["deleted"].clone(), ev["post"]["body"].clone()), (json!(true), json!("")));

    // The body is gone from everywhere: the posts list, the history, and a full replay.
    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(posts.as_array().unwrap().len(), 3, "the slot stays");
    assert_eq!((posts[0]["deleted"].clone(), posts[0]["body"].clone()), (json!(true), json!("")));
    let (_, history) = s.guest().get(&format!("/posts/{first_id}/history")).await;
    assert_eq!(history, json!([]));
    let mut fresh = s.guest().ws().await;
    let (events, head) = fresh.subscribe(&room, 0).await;
    assert_eq!(head, 5);
    assert_eq!(events.iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains("finanzas solidarias apoyan"), "a deleted body is replayed: {all}");
    // Editing a deleted post is refused.
    ws.send(json!({"type": "edit", "post": first_id, "body": "back"})).await;
    assert_eq!(ws.until("error").await["code"], "conflict");

    // A moderator deletes someone else's post, over HTTP.
    let r1 = reply["post"]["id"].as_str().unwrap();
    let (status, post) = admin.delete(&format!("/posts/{r1}")).await;
    assert_eq!(status, 200);
    assert_eq!(post["deleted"], true);
    let (_, r) = s.guest().get(&format!("/rooms/{room}")).await;
    assert_eq!((r["last_seq"].clone(), r["post_count"].clone()), (json!(6), json!(3)));
    s.stop().await;
}

#[tokio::test]
async fn every_post_has_a_sensible_language_tag() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let u = s.user_with("lusofona", json!({"languages": ["pt", "en"]})).await;
    let (room, first) = thread(
        &u,
        &general,
        "Mulheres",
        "As cooperativas de mulheres em Moçambique organizaram a comercialização conjunta da produção agrícola.",
    )
    .await;
    assert_eq!((first["lang"].clone(), first["lang_source"].clone()), (json!("pt"), json!("detected")));
    let c = first["lang_confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));

    let mut ws = u.ws().await;
    let short = ws.post(&room, "ok!", "l1").await;
    assert_eq!(short["post"]["lang_source"], "author");
    assert!(["pt", "en"].contains(&short["post"]["lang"].as_str().unwrap()));

    ws.send(json!({"type": "post", "room": room, "body": "ok!", "nonce": "l2", "lang": "fr"})).await;
    let declared = ws.until("ack").await;
    assert_eq!(
        (declared["post"]["lang"].clone(), declared["post"]["lang_source"].clone()),
        (json!("fr"), json!("declared"))
    );
    assert_eq!(declared["post"]["lang_confidence"], 1.0);

    ws.send(json!({"type": "post", "room": room, "body": "x", "nonce": "l3", "lang": "french"})).await;
    let e = ws.until("error").await;
    assert_eq!((e["code"].clone(), e["ref"].clone()), (json!("bad_request"), json!("l3")));
    s.stop().await;
}
