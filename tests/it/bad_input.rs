//! Bad input gets the documented error, and the connection stays usable; frames over
//! the limit close with 1009, text that is not UTF-8 with 1007; nothing half-written
//! remains.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::util::{thread, Server, Ws};

#[tokio::test]
async fn bad_frames_get_bad_request_and_the_socket_stays_usable() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let u = s.user("clumsy").await;
    let (room, _) = thread(&u, &general, "Bad input", "first").await;

    let mut ws = Ws::connect(s.addr).await;
    // Before hello.
    ws.send(json!({"type": "subscribe", "room": room})).await;
    let e = ws.expect("error").await;
    assert_eq!(e["code"], "bad_request");
    ws.send(json!({"type": "hello", "token": u.token})).await;
    ws.expect("welcome").await;

    let bad: Vec<Message> = vec![
        Message::Text("this is not json".into()),
        Message::Text("{\"type\": \"post\"".into()),
        Message::Text("[1,2,3]".into()),
        Message::Text("{\"no_type\": true}".into()),
        Message::Text("{\"type\": \"launch_rockets\"}".into()),
        Message::Text(json!({"type": "subscribe", "room": 12}).to_string().into()),
        Message::Text(json!({"type": "subscribe", "room": "p1"}).to_string().into()),
        Message::Text(json!({"type": "subscribe", "room": room, "since": -1}).to_string().into()),
        Message::Text(json!({"type": "subscribe", "room": room, "since": 1e300}).to_string().into()),
        Message::Text(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into()),
        Message::Binary(vec![0u8, 159, 146, 150].into()),
    ];
    for m in bad {
        ws.send_raw(m.clone()).await;
        let e = ws.expect("error").await;
        assert_eq!(e["code"], "bad_request", "{m:?}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
        ws.send(json!({"type": "ping"})).await;
        ws.expect("pong").await;
    }

    // Bad posts carry their nonce back as `ref`.
    let cases = [
        (json!({"type": "post", "room": room, "body": "", "nonce": "e1"}), "bad_request"),
        (json!({"type": "post", "room": room, "body": "   \n ", "nonce": "e2"}), "bad_request"),
        (json!({"type": "post", "room": room, "body": "x".repeat(40 * 1024), "nonce": "e3"}), "too_large"),
        (json!({"type": "post", "room": "r999999", "body": "hello", "nonce": "e4"}), "not_found"),
        (json!({"type": "post", "room": "garbage", "body": "hello", "nonce": "e5"}), "bad_request"),
        (json!({"type": "post", "room": room, "body": "hello", "nonce": ""}), "bad_request"),
        (json!({"type": "post", "room": room, "body": "hello", "nonce": "e7", "reply_to": "p999999"}), "not_found"),
        (json!({"type": "create_room", "space": general, "title": " ", "body": "b", "nonce": "e8"}), "bad_request"),
        (json!({"type": "create_room", "space": "s999999", "title": "t", "body": "b", "nonce": "e9"}), "not_found"),
    ];
    for (frame, code) in cases {
        ws.send(frame.clone()).await;
        let e = ws.until("error").await;
        assert_eq!(e["code"], code, "{frame}");
        if let Some(n) = frame["nonce"].as_str().filter(|n| !n.is_empty()) {
            assert_eq!(e["ref"], n);
        }
    }
    ws.send(json!({"type": "subscribe", "room": "r999999"})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
    ws.send(json!({"type": "subscribe", "room": room, "since": 99})).await;
    assert_eq!(ws.expect("error").await["code"], "bad_request");

    // None of it was written.
    let (_, r) = s.guest().get(&format!("/rooms/{room}")).await;
    assert_eq!((r["last_seq"].clone(), r["post_count"].clone()), (json!(1), json!(1)));
    let (_, rooms) = s.guest().get(&format!("/spaces/{general}/rooms")).await;
    assert_eq!(rooms.as_array().unwrap().len(), 1);
    // And the socket still works.
    assert_eq!(ws.post(&room, "still here", "ok1").await["type"], "ack");
    s.stop().await;
}

/// A text frame whose bytes are not UTF-8 closes the socket with 1007. Written by hand,
/// since WebSocket libraries refuse to send one.
#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start().await;
    let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        s.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tcp.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    // FIN + text, masked, 2 bytes that are not UTF-8.
    let mask = [1u8, 2, 3, 4];
    let payload = [0xffu8, 0xfe];
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    tcp.write_all(&frame).await.unwrap();
    // The server's close frame: opcode 8, unmasked, the code first.
    let mut got = [0u8; 4];
    tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_exact(&mut got)).await.unwrap().unwrap();
    assert_eq!(got[0], 0x88, "a close frame");
    assert_eq!(u16::from_be_bytes([got[2], got[3]]), 1007);
    s.stop().await;
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let s = Server::start().await;
    let u = s.user("bigmouth").await;
    let mut ws = u.ws().await;
    let huge = json!({"type": "ping", "pad": "x".repeat(70 * 1024)});
    ws.send(huge).await;
    assert_eq!(ws.close_code().await, Some(1009));

    // Just under the limit is fine.
    let mut ws = u.ws().await;
    ws.send(json!({"type": "ping", "pad": "x".repeat(60 * 1024)})).await;
    ws.expect("pong").await;
    s.stop().await;
}

#[tokio::test]
async fn bad_http_bodies_get_json_errors() {
    let s = Server::start().await;
    let http = &s.http;
    let url = s.api("/auth/register");

    let r = http.post(&url).header("content-type", "application/json").body("").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "bad_request");

    let r = http.post(&url).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);

    let r = http.post(&url).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("application/json"));

    // Deep nesting, huge numbers and wrong types: bad_request, not a stack overflow.
    for body in [
        format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
        format!("{{\"handle\": {}\"x\"{}, \"password\": \"p\"}}", "[".repeat(5_000), "]".repeat(5_000)),
        r#"{"handle": 1e999999, "password": 18446744073709551616}"#.to_owned(),
        r#"{"handle": ["a"], "password": {"b": 1}}"#.to_owned(),
    ] {
        let r = http.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "bad_request");
    }

    let big = format!("{{\"handle\":\"x\",\"password\":\"{}\"}}", "y".repeat(100 * 1024));
    let r = http.post(&url).header("content-type", "application/json").body(big).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "too_large");

    let u = s.user("httpposter").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&u, &general, "HTTP", "first").await;
    let (status, e) = u.post(&format!("/rooms/{room}/posts"), json!({"body": "", "nonce": "a"})).await;
    assert_eq!((status, e["error"]["code"].clone()), (400, json!("bad_request")));
    let (status, e) =
        u.post(&format!("/rooms/{room}/posts"), json!({"body": "x".repeat(40 * 1024), "nonce": "b"})).await;
    assert_eq!((status, e["error"]["code"].clone()), (413, json!("too_large")));
    let (status, _) = u.get("/rooms/r424242/posts").await;
    assert_eq!(status, 404);
    let (status, _) = u.get("/rooms/not-an-id/posts").await;
    assert_eq!(status, 404);
    let (status, e) = u.get(&format!("/rooms/{room}/posts?limit=abc")).await;
    assert_eq!((status, e["error"]["code"].clone()), (400, json!("bad_request")));
    let (status, _) = u.get(&format!("/rooms/{room}/posts?limit=0")).await;
    assert_eq!(status, 400);
    let (status, e) = u.get("/no/such/thing").await;
    assert_eq!((status, e["error"]["code"].clone()), (404, json!("not_found")));
    let r = http.delete(s.api("/spaces")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = http.get(s.api("/me")).header("authorization", "Basic abc").send().await.unwrap();
    assert_eq!(r.status(), 401);
    s.stop().await;
}

#[tokio::test]
async fn floods_are_rate_limited_with_a_retry_hint() {
    use collective_brain::limits::{Limits, Rate};
    let s = Server::start_with(|c| {
        c.limits = Limits {
            writes: Rate::new(5, 60),
            register: Rate::new(6, 1),
            searches: Rate::new(3, 1),
            ..Limits::default()
        };
    })
    .await;
    let u = s.user("flooder").await;
    let room = s.lobby_room().await;
    let mut ws = u.ws().await;
    for i in 0..5 {
        assert_eq!(ws.post(&room, "flood", &format!("f{i}")).await["type"], "ack");
    }
    let e = ws.post(&room, "flood", "f5").await;
    assert_eq!((e["type"].clone(), e["code"].clone()), (json!("error"), json!("rate_limited")));
    assert!(e["retry_after"].as_u64().unwrap() >= 1);
    // Over HTTP: 429 with Retry-After.
    let r = s
        .http
        .post(s.api(&format!("/rooms/{room}/posts")))
        .bearer_auth(u.token.as_ref().unwrap())
        .json(&json!({"body": "more", "nonce": "h1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    // Another user is not affected.
    let other = s.user("calm").await;
    assert_eq!(other.ws().await.post(&room, "hello", "c1").await["type"], "ack");

    // Failed logins slow down that handle, even with the right password afterwards.
    for _ in 0..5 {
        let (status, _) = s.guest().post("/auth/login", json!({"handle": "calm", "password": "wrong password!"})).await;
        assert_eq!(status, 401);
    }
    let (status, e) = s.guest().post("/auth/login", json!({"handle": "calm", "password": crate::util::PASSWORD})).await;
    assert_eq!((status, e["error"]["code"].clone()), (429, json!("rate_limited")));
    let (status, _) =
        s.guest().post("/auth/login", json!({"handle": "flooder", "password": crate::util::PASSWORD})).await;
    assert_eq!(status, 200, "other handles sign in as usual");

    // Registrations per address: two made above, four more pass, then 429.
    let mut codes = Vec::new();
    for i in 0..6 {
        let body = json!({"handle": format!("newcomer{i}"), "password": crate::util::PASSWORD});
        codes.push(s.guest().post("/auth/register", body).await.0);
    }
    assert_eq!(codes, vec![201, 201, 201, 201, 429, 429]);

    // Searches: per address for guests, per user for the signed-in, HTTP and frames alike.
    let guest = s.guest();
    let codes: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(guest.get("/search?q=flood").await.0);
        }
        v
    };
    assert_eq!(codes, vec![200, 200, 200, 429]);
    let mut ws = other.ws().await;
    for i in 0..4 {
        ws.send(json!({"type": "search", "q": "flood", "ref": format!("q{i}")})).await;
        let v = ws.recv().await;
        if i < 3 {
            assert_eq!(v["type"], "search_results", "{v}");
        } else {
            assert_eq!((v["code"].as_str(), v["ref"].as_str()), (Some("rate_limited"), Some("q3")), "{v}");
            assert!(v["retry_after"].as_u64().unwrap() >= 1);
        }
    }
    s.stop().await;
}
