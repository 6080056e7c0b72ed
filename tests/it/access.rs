//! Guests read public spaces only; nothing of a private space reaches a non-member
//! through any endpoint or frame.

use serde_json::{json, Value};

use crate::util::{thread, Client, Server};

struct Group {
    space: String,
    room: String,
    post: String,
    chat_space: String,
    chat_room: String,
}

/// A private forum with one thread and a private chat, with `member` in both.
async fn private_group(s: &Server, admin: &Client, member: &Client) -> Group {
    let (status, space) = admin
        .post(
            "/spaces",
            json!({"slug": "wg-south-south", "name": "South-South working group", "kind": "forum",
                   "visibility": "private", "post_policy": "members"}),
        )
        .await;
    assert_eq!(status, 201, "{space}");
    let space = space["id"].as_str().unwrap().to_owned();
    let (status, chat) = admin
        .post(
            "/spaces",
            json!({"slug": "wg-chat", "name": "Working group chat", "kind": "chat",
                   "visibility": "private", "post_policy": "members"}),
        )
        .await;
    assert_eq!(status, 201);
    let chat_space = chat["id"].as_str().unwrap().to_owned();
    let chat_room = chat["room"].as_str().expect("a chat space has its room").to_owned();
    for sp in [&space, &chat_space] {
        let (status, _) = admin.post(&format!("/spaces/{sp}/members"), json!({"user": member.id()})).await;
        assert_eq!(status, 204);
    }
    let (room, post) = thread(member, &space, "Confidential budget", "Secret plan for the triangular project").await;
    let _ = s;
    Group { space, room, post: post["id"].as_str().unwrap().to_owned(), chat_space, chat_room }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn private_spaces_are_invisible_to_guests_and_non_members_over_http() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("member1").await;
    let outsider = s.user("outsider").await;
    let g = private_group(&s, &admin, &member).await;

    let (_, spaces) = member.get("/spaces").await;
    assert!(ids(&spaces).contains(&g.space) && ids(&spaces).contains(&g.chat_space));
    assert_eq!(member.get(&format!("/spaces/{}/rooms", g.space)).await.0, 200);
    let (status, posts) = member.get(&format!("/rooms/{}/posts", g.room)).await;
    assert_eq!(status, 200);
    assert_eq!(posts[0]["body"], "Secret plan for the triangular project");
    assert_eq!(member.get(&format!("/spaces/{}/members", g.space)).await.0, 200);

    // A moderator who is not a member sees nothing either: membership, not rank, opens a
    // private space.
    let moderator = s.user("globalmod").await;
    admin.put(&format!("/users/{}/roles", moderator.id()), json!({"roles": ["moderator"]})).await;

    for (who, c) in [("guest", s.guest()), ("outsider", outsider.clone()), ("moderator", moderator.clone())] {
        let (status, spaces) = c.get("/spaces").await;
        assert_eq!(status, 200);
        let listed = ids(&spaces);
        assert!(!listed.contains(&g.space) && !listed.contains(&g.chat_space), "{who} lists a private space");
        assert!(!listed.is_empty(), "{who} still sees the public spaces");
        let reads = [
            format!("/spaces/{}", g.space),
            format!("/spaces/{}/rooms", g.space),
            format!("/spaces/{}/members", g.space),
            format!("/spaces/{}/rooms", g.chat_space),
            format!("/rooms/{}", g.room),
            format!("/rooms/{}/posts", g.room),
            format!("/rooms/{}/posts", g.chat_room),
            format!("/posts/{}", g.post),
            format!("/posts/{}/history", g.post),
        ];
        for path in &reads {
            let (status, body) = c.get(path).await;
            assert_eq!(status, 404, "{who} GET {path}: {body}");
            assert!(!body.to_string().contains("Secret") && !body.to_string().contains("Confidential"));
        }
        let writes = [
            c.post(&format!("/rooms/{}/posts", g.room), json!({"body": "hi", "nonce": "x1"})).await,
            c.post(&format!("/spaces/{}/rooms", g.space), json!({"title": "t", "body": "b", "nonce": "x2"})).await,
            c.patch(&format!("/posts/{}", g.post), json!({"body": "defaced"})).await,
            c.delete(&format!("/posts/{}", g.post)).await,
        ];
        for (status, body) in writes {
            let expected = if who == "guest" { 401 } else { 404 };
            assert_eq!(status, expected, "{who} write: {body}");
        }
    }
    // The thread is untouched.
    let (_, posts) = member.get(&format!("/rooms/{}/posts", g.room)).await;
    assert_eq!(posts.as_array().unwrap().len(), 1);
    assert_eq!(posts[0]["deleted"], false);
    assert_eq!(posts[0]["body"], "Secret plan for the triangular project");
    s.stop().await;
}

#[tokio::test]
async fn private_spaces_are_invisible_to_non_members_over_websocket() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("member2").await;
    let outsider = s.user("outsider2").await;
    let g = private_group(&s, &admin, &member).await;

    // The outsider and a guest, each on a socket, try every frame.
    let mut spies = [outsider.ws().await, s.guest().ws().await];
    for ws in spies.iter_mut() {
        for frame in [
            json!({"type": "subscribe", "room": g.room, "since": 0}),
            json!({"type": "subscribe", "room": g.chat_room}),
            json!({"type": "subscribe_space", "space": g.space}),
            json!({"type": "typing", "room": g.chat_room}),
        ] {
            ws.send(frame.clone()).await;
            let e = ws.expect("error").await;
            assert!(e["code"] == "not_found" || e["code"] == "unauthorized", "{frame} -> {e}");
        }
        ws.send(json!({"type": "post", "room": g.chat_room, "body": "let me in", "nonce": "spy"})).await;
        let e = ws.expect("error").await;
        assert_eq!(e["ref"], "spy");
        ws.send(json!({"type": "create_room", "space": g.space, "title": "t", "body": "b", "nonce": "spy2"})).await;
        assert_eq!(ws.expect("error").await["ref"], "spy2");
        ws.send(json!({"type": "edit", "post": g.post, "body": "defaced"})).await;
        ws.expect("error").await;
        ws.send(json!({"type": "delete", "post": g.post})).await;
        ws.expect("error").await;
        // The public lobby is open to them, so they could receive live frames.
        ws.send(json!({"type": "subscribe", "room": s.lobby_room().await})).await;
        ws.until("subscribed").await;
    }

    // The member works in the private rooms; nothing of it may reach the spies.
    let mut m = member.ws().await;
    m.subscribe(&g.chat_room, 0).await;
    m.send(json!({"type": "typing", "room": g.chat_room})).await;
    let ack = m.post(&g.chat_room, "Secret chat line", "m1").await;
    assert_eq!(ack["type"], "ack");
    m.send(
        json!({"type": "create_room", "space": g.space, "title": "Confidential 2", "body": "Secret 2", "nonce": "m2"}),
    )
    .await;
    m.until("ack").await;

    // A marker through the public lobby: everything sent before it has been delivered.
    let lobby_room = s.lobby_room().await;
    m.post(&lobby_room, "public marker", "m3").await;
    for ws in spies.iter_mut() {
        loop {
            let v = ws.recv().await;
            let text = v.to_string();
            assert!(!text.contains("Secret") && !text.contains("Confidential"), "leak: {text}");
            assert_ne!(v["room"], g.chat_room);
            if v["type"] == "event" && v["post"]["body"] == "public marker" {
                break;
            }
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn post_policies_and_guests() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("plainmember").await;
    let news = s.space_id("news").await;
    let general = s.space_id("general").await;

    // News: only moderators post.
    let (status, e) =
        member.post(&format!("/spaces/{news}/rooms"), json!({"title": "t", "body": "b", "nonce": "n"})).await;
    assert_eq!((status, e["error"]["code"].clone()), (403, json!("forbidden")));
    let (news_room, _) = thread(&admin, &news, "Academy 2027 announced", "Dates and venue").await;
    let (status, _) = member.post(&format!("/rooms/{news_room}/posts"), json!({"body": "reply", "nonce": "r"})).await;
    assert_eq!(status, 403);
    let mut ws = member.ws().await;
    let e = ws.post(&news_room, "reply over ws", "w1").await;
    assert_eq!((e["type"].clone(), e["code"].clone()), (json!("error"), json!("forbidden")));

    // Guests read public spaces and subscribe, but cannot write.
    let (room, _) = thread(&member, &general, "Cooperatives and decent work", "Let us share experiences").await;
    let guest = s.guest();
    let (status, posts) = guest.get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(status, 200);
    assert_eq!(posts.as_array().unwrap().len(), 1);
    let mut gws = guest.ws().await;
    let (events, head) = gws.subscribe(&room, 0).await;
    assert_eq!((events.len(), head), (1, 1));
    let e = gws.post(&room, "guest post", "g1").await;
    assert_eq!(e["code"], "unauthorized");
    gws.send(json!({"type": "typing", "room": room})).await;
    assert_eq!(gws.expect("error").await["code"], "unauthorized");

    // Only admins create spaces; admins and moderators add members.
    let (status, _) = member
        .post(
            "/spaces",
            json!({"slug": "mine", "name": "Mine", "kind": "chat", "visibility": "public", "post_policy": "members"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = member.post(&format!("/spaces/{general}/members"), json!({"user": member.id()})).await;
    assert_eq!(status, 403);
    s.stop().await;
}
