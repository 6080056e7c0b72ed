//! The hostile-client suite: each test reproduces what an adversarial test of the server
//! found (a removed member, a suspended user, a client that never reads, a flood of
//! connections), and checks that it no longer works.

use std::time::Duration;

use collective_brain::limits::Limits;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::util::{private_forum, thread, Server, Ws, PASSWORD};

/// Every text frame that arrives within `wait`, and whether the socket ended.
async fn drain(ws: &mut Ws, wait: Duration) -> (Vec<Value>, Option<u16>, bool) {
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.inner.next()).await {
            Err(_) => return (frames, None, false),
            Ok(Some(Ok(Message::Text(t)))) => frames.push(serde_json::from_str(&t).expect("JSON frame")),
            Ok(Some(Ok(Message::Close(c)))) => return (frames, c.map(|c| u16::from(c.code)), true),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return (frames, None, true),
        }
    }
}

fn mentions(frames: &[Value], text: &str) -> bool {
    frames.iter().any(|f| f.to_string().contains(text))
}

#[tokio::test]
async fn a_failed_hello_drops_every_subscription() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("hello_member").await;
    let group = private_forum(&admin, "hello-group", &[&member]).await;
    let (room, _) = thread(&admin, &group, "Positions", "Our position paper").await;
    let mut ws = member.ws().await;
    ws.subscribe(&room, 0).await;
    // A second hello with a bad token is refused...
    ws.send(json!({"type": "hello", "token": "not-a-token"})).await;
    let e = ws.until("error").await;
    assert_eq!(e["code"], "unauthorized", "{e}");
    // ...and the socket keeps nothing of the identity it had: suspended now, the member
    // sees no more of the group.
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (status, e) = admin.put(&format!("/users/{}/suspension", member.id()), json!({"until": until})).await;
    assert_eq!(status, 204, "{e}");
    let (status, _) =
        admin.post(&format!("/rooms/{room}/posts"), json!({"body": "after-bad-hello", "nonce": "n1"})).await;
    assert_eq!(status, 201);
    let (frames, _, _) = drain(&mut ws, Duration::from_millis(1500)).await;
    assert!(!mentions(&frames, "after-bad-hello"), "the group's post reached the socket: {frames:?}");
    // Nor can it subscribe again without a valid hello.
    ws.send(json!({"type": "subscribe", "room": room})).await;
    let e = ws.until("error").await;
    assert!(e["message"].as_str().unwrap_or("").contains("hello"), "{e}");
}

/// A client that stops reading while a long replay is queued for it: its writer blocks.
async fn fill(ws: &mut Ws, room: &str) {
    ws.send(json!({"type": "subscribe", "room": room, "since": 0})).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn a_lagged_user_stream_cannot_hide_a_removal() {
    let s = Server::start_with(|c| {
        c.limits = Limits::off();
        c.connection_queue = 4;
    })
    .await;
    let admin = s.admin().await;
    let member = s.user("lag_member").await;
    let group = private_forum(&admin, "lag-group", &[&member]).await;
    let (secret_room, _) = thread(&admin, &group, "Confidential", "Opening").await;
    // A long public room: replayed to a socket that does not read, it blocks the writer.
    let general = s.space_id("general").await;
    let (big, _) = thread(&admin, &general, "Long thread", "start").await;
    let mut aws = admin.ws().await;
    let body = "x".repeat(30_000);
    aws.post_many(&big, &body, "big", 400, 32).await;

    let mut ws = member.ws().await;
    ws.subscribe(&secret_room, 0).await;
    fill(&mut ws, &big).await;
    // More than the user stream's buffer of frames for the member's own stream (read
    // markers from another device), while the first socket is not reading.
    let mut other = member.ws().await;
    for seq in 1..=150u64 {
        other.send(json!({"type": "read", "room": big, "seq": seq})).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, e) = admin.delete(&format!("/spaces/{group}/members/{}", member.id())).await;
    assert_eq!(status, 204, "{e}");
    let (status, _) =
        admin.post(&format!("/rooms/{secret_room}/posts"), json!({"body": "said-after-removal", "nonce": "s1"})).await;
    assert_eq!(status, 201);
    let (frames, code, ended) = drain(&mut ws, Duration::from_secs(20)).await;
    assert!(!mentions(&frames, "said-after-removal"), "a removed member received the group's post");
    assert!(ended, "the socket stayed open after the removal ({} frames)", frames.len());
    assert_eq!(code, Some(4003));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_token_issued_around_a_suspension_survives_it() {
    let s = Server::start_with(|c| c.limits = Limits::off()).await;
    let admin = s.admin().await;
    let target = s.user("racing_login").await;
    let login = json!({"handle": "racing_login", "password": PASSWORD});
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    // Sign-ins in flight on both sides of the suspension.
    let mut logins = Vec::new();
    for i in 0..24 {
        let (http, url, login) = (s.http.clone(), s.api("/auth/login"), login.clone());
        logins.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 15)).await;
            let r = http.post(url).json(&login).send().await.expect("login");
            let ok = r.status().is_success();
            let v: Value = r.json().await.expect("json");
            ok.then(|| v["token"].as_str().expect("token").to_owned())
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (status, e) = admin.put(&format!("/users/{}/suspension", target.id()), json!({"until": until})).await;
    assert_eq!(status, 204, "{e}");
    let mut issued = 0;
    for l in logins {
        if let Some(token) = l.await.expect("login task") {
            issued += 1;
            let r = s.http.get(s.api("/me")).bearer_auth(&token).send().await.expect("me");
            assert_eq!(r.status(), 401, "a token from a sign-in around the suspension still works");
        }
    }
    let r = s.http.get(s.api("/me")).bearer_auth(target.token.as_deref().unwrap_or("")).send().await.expect("me");
    assert_eq!(r.status(), 401);
    // Some sign-ins did succeed before the suspension (the race was run).
    assert!(issued > 0, "no sign-in got through before the suspension: the test did not race");
}

// On several worker threads, as the server runs: one thread never reorders its tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_connections_posts_take_seqs_in_the_order_sent() {
    let s = Server::start_with(|c| c.limits = Limits::off()).await;
    let admin = s.admin().await;
    let room = s.lobby_room().await;
    let mut ws = admin.ws().await;
    let n = 60;
    // Bodies of very different lengths: tagging the long ones takes longer.
    for i in 0..n {
        let body =
            if i % 3 == 0 { format!("{i} {}", "palavra longa em português ".repeat(300)) } else { format!("{i}") };
        ws.send(json!({"type": "post", "room": room, "body": body, "nonce": format!("o{i}")})).await;
    }
    let mut seqs = Vec::new();
    while seqs.len() < n {
        let a = ws.until("ack").await;
        let i: usize = a["nonce"].as_str().unwrap()[1..].parse().unwrap();
        seqs.push((a["post"]["seq"].as_u64().unwrap(), i));
    }
    seqs.sort();
    let order: Vec<usize> = seqs.iter().map(|(_, i)| *i).collect();
    assert_eq!(order, (0..n).collect::<Vec<_>>(), "posts took seqs out of the order they were sent");
}

#[tokio::test]
async fn concurrent_wrong_guesses_are_counted_before_hashing() {
    let s = Server::start_with(|c| c.limits.login = Limits::off().login).await;
    s.user("guessed").await;
    let mut tries = Vec::new();
    for i in 0..40 {
        let (http, url) = (s.http.clone(), s.api("/auth/login"));
        tries.push(tokio::spawn(async move {
            let r = http.post(url).json(&json!({"handle": "guessed", "password": format!("guess {i}")})).send().await;
            r.expect("login").status().as_u16()
        }));
    }
    let mut checked = 0;
    let mut limited = 0;
    for t in tries {
        match t.await.expect("task") {
            401 => checked += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    // The default lockout allows 5 failed attempts for a handle at once.
    assert!(checked <= 5, "{checked} wrong guesses were checked");
    assert_eq!(checked + limited, 40);
    // The right password, once the burst is spent, waits like any other attempt...
    let r = s.guest().post("/auth/login", json!({"handle": "guessed", "password": PASSWORD})).await;
    assert_eq!(r.0, 429, "{}", r.1);
}

#[tokio::test]
async fn a_flood_of_sign_ins_is_shed_not_queued_without_bound() {
    let s = Server::start_with(|c| c.limits = Limits::off()).await;
    s.user("popular").await;
    let mut tries = Vec::new();
    for _ in 0..200 {
        let (http, url) = (s.http.clone(), s.api("/auth/login"));
        tries.push(tokio::spawn(async move {
            let r = http.post(url).json(&json!({"handle": "popular", "password": PASSWORD})).send().await;
            let r = r.expect("login");
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }));
    }
    let mut ok = 0;
    let mut shed = 0;
    for t in tries {
        let (status, body) = t.await.expect("task");
        match status {
            200 => ok += 1,
            429 => {
                assert!(body.contains("rate_limited"), "{body}");
                shed += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(ok > 0, "no sign-in got through");
    assert!(shed > 0, "200 sign-ins at once were all hashed");
    // Another client's request is answered at once meanwhile, and after.
    let (status, _) = s.guest().get("/spaces").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn every_write_path_is_limited_and_a_posts_history_is_bounded() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let room = s.lobby_room().await;
    let (status, post) =
        admin.post(&format!("/rooms/{room}/posts"), json!({"body": "x".repeat(20_000), "nonce": "flip"})).await;
    assert_eq!(status, 201);
    let id = post["id"].as_str().unwrap().to_owned();
    let mut limited = None;
    for i in 0..300 {
        let lang = if i % 2 == 0 { "fr" } else { "es" };
        let (status, _) = admin.patch(&format!("/posts/{id}"), json!({"lang": lang})).await;
        if status == 429 {
            limited = Some(i);
            break;
        }
        assert_eq!(status, 200);
    }
    assert!(limited.is_some(), "300 language flips were all written");
    let mut limited = false;
    for i in 0..300 {
        let (status, _) = admin.patch("/me", json!({"display_name": format!("Admin {i}")})).await;
        if status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "300 profile changes were all written");

    let s = Server::start_with(|c| c.limits = Limits::off()).await;
    let admin = s.admin().await;
    let room = s.lobby_room().await;
    let (_, post) = admin.post(&format!("/rooms/{room}/posts"), json!({"body": "v0", "nonce": "h"})).await;
    let id = post["id"].as_str().unwrap().to_owned();
    for i in 1..=70 {
        let (status, e) = admin.patch(&format!("/posts/{id}"), json!({"body": format!("v{i}")})).await;
        assert_eq!(status, 200, "{e}");
    }
    let (status, history) = admin.get(&format!("/posts/{id}/history")).await;
    assert_eq!(status, 200);
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 50, "the history keeps the newest 50 versions");
    assert_eq!(history.last().unwrap()["body"], "v69");
}

fn short_timeouts(c: &mut collective_brain::Config) {
    c.header_timeout_secs = 1;
    c.hello_timeout_secs = 1;
    c.idle_timeout_secs = 3;
}

/// Whether the server closes `tcp` within `wait` (reads to the end, ignoring what came).
async fn closed_within(tcp: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn silent_and_half_sent_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let s = Server::start_with(short_timeouts).await;
    let mut silent = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let mut half = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await, "a silent connection stayed open");
    assert!(closed_within(&mut half, Duration::from_secs(5)).await, "half a request stayed open");
    // A keep-alive connection left idle after its request is closed too.
    let mut idle = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await, "an idle keep-alive connection stayed open");

    // A WebSocket that never says hello.
    let mut mute = Ws::connect(s.addr).await;
    let (_, code, ended) = drain(&mut mute, Duration::from_secs(5)).await;
    assert!(ended, "a WebSocket without hello stayed open");
    assert_eq!(code, Some(1008));
    // One that says hello and then neither reads nor answers pings.
    let mut deaf = s.guest().ws().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    // (Its close frame may be lost: the client's late pongs meet a closed socket.)
    let (_, code, ended) = drain(&mut deaf, Duration::from_secs(5)).await;
    assert!(ended && matches!(code, None | Some(1008)), "a WebSocket that answered no ping stayed open ({code:?})");
    // One that reads (and so answers pings) stays, past the idle timeout.
    let mut alive = s.guest().ws().await;
    let (_, _, ended) = drain(&mut alive, Duration::from_secs(5)).await;
    assert!(!ended, "a live WebSocket was closed");
}

#[tokio::test]
async fn one_address_cannot_take_every_connection_and_health_answers_at_the_cap() {
    let s = Server::start_with(|c| {
        c.max_connections = 40;
        c.http_reserve = 10;
        c.max_connections_per_address = 15;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..15 {
        held.push(tokio::net::TcpStream::connect(s.addr).await.unwrap());
    }
    let mut over = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    assert!(closed_within(&mut over, Duration::from_secs(2)).await, "the 16th connection from one address was kept");
    // From other loopback addresses, WebSockets take all but the reserve...
    drop(held);
    let mut sockets = Vec::new();
    let mut refused = None;
    for i in 0..40u8 {
        let local = std::net::IpAddr::from([127, 0, 1, i / 10 + 1]);
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.bind(std::net::SocketAddr::new(local, 0)).unwrap();
        let tcp = tcp.connect(s.addr).await.unwrap();
        match tokio_tungstenite::client_async(format!("ws://{}/ws", s.addr), tcp).await {
            Ok((ws, _)) => sockets.push(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                refused = Some(r.status().as_u16());
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(sockets.len(), 30, "WebSockets took more than all but the reserve");
    assert_eq!(refused, Some(503));
    // ...and health checks and sign-in still answer.
    let r = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .http
        .post(s.api("/auth/login"))
        .json(&json!({"handle": "admin", "password": crate::util::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limits() {
    let s = Server::start_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let register = |handle: String, client: &'static str| {
        let (http, url) = (s.http.clone(), s.api("/auth/register"));
        async move {
            let r =
                http.post(url).header("x-forwarded-for", client).json(&json!({"handle": handle, "password": PASSWORD}));
            r.send().await.unwrap().status().as_u16()
        }
    };
    let mut statuses = Vec::new();
    for i in 0..21 {
        statuses.push(register(format!("proxied{i}"), "203.0.113.7").await);
    }
    assert_eq!(statuses[..20], [201; 20]);
    assert_eq!(statuses[20], 429, "the forwarded client's registrations were not limited");
    assert_eq!(
        register("other_client".into(), "198.51.100.9").await,
        201,
        "another client behind the proxy shared the limit"
    );

    // Without trust, the header is the client's word and is ignored.
    let s = Server::start().await;
    let http = s.http.clone();
    let mut last = 0;
    for i in 0..21 {
        let r = http
            .post(s.api("/auth/register"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"handle": format!("spoof{i}"), "password": PASSWORD}));
        last = r.send().await.unwrap().status().as_u16();
    }
    assert_eq!(last, 429, "a forged X-Forwarded-For escaped the limit");
}

#[tokio::test]
async fn a_full_disk_refuses_writes_keeps_reads_and_recovers() {
    // A small tmpfs of its own when the tests run as root (they do in CI); otherwise the
    // temporary dir's disk, with the reserve set just under what is free there.
    let tmp = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=96m", "tmpfs"])
        .arg(tmp.path())
        .status()
        .is_ok_and(|s| s.success());
    let free = fs4::available_space(tmp.path()).unwrap();
    let reserve = if mounted { 32 * 1024 * 1024 } else { free.saturating_sub(24 * 1024 * 1024) };
    let dir = tmp.path().join("data");
    let s = Server::start_in(&dir, |c| c.disk_reserve_mb = reserve / (1024 * 1024)).await;
    let admin = s.admin().await;
    let room = s.lobby_room().await;
    let (status, _) = admin.post(&format!("/rooms/{room}/posts"), json!({"body": "before", "nonce": "d1"})).await;
    assert_eq!(status, 201);
    // Something else fills the disk past the reserve.
    let filler = tmp.path().join("filler");
    let free = fs4::available_space(tmp.path()).unwrap();
    let fill = free.saturating_sub(reserve / 2);
    std::fs::write(&filler, vec![7u8; usize::try_from(fill).unwrap()]).unwrap();
    let mut refused = None;
    for i in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, e) =
            admin.post(&format!("/rooms/{room}/posts"), json!({"body": "while full", "nonce": format!("f{i}")})).await;
        if status == 507 {
            refused = Some(e);
            break;
        }
    }
    let e = refused.expect("writes were still taken with the disk past its reserve");
    assert_eq!(e["error"]["code"], "insufficient_storage", "{e}");
    let r = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let said = r.text().await.unwrap();
    assert!(said.starts_with("degraded: disk: ") && said.contains("writes are refused"), "{said}");
    let (status, posts) = admin.get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(status, 200, "reads stopped");
    assert!(posts.to_string().contains("before"));
    let mut ws = admin.ws().await;
    let e = ws.post(&room, "over the socket", "ws-full").await;
    assert_eq!(e["code"], "insufficient_storage", "{e}");
    // Space comes back: so do writes, by themselves.
    std::fs::remove_file(&filler).unwrap();
    let mut ok = false;
    for i in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, _) =
            admin.post(&format!("/rooms/{room}/posts"), json!({"body": "after", "nonce": format!("a{i}")})).await;
        if status == 201 {
            ok = true;
            break;
        }
    }
    assert!(ok, "writes never came back after space was freed");
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    s.stop().await;
    if mounted {
        let _ = std::process::Command::new("umount").arg(tmp.path()).status();
    }
}

#[tokio::test]
async fn a_private_posts_existence_does_not_leak_through_replies_or_profiles() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("leak_member").await;
    let outsider = s.user("leak_outsider").await;
    let group = private_forum(&admin, "leak-group", &[&member]).await;
    let (_, secret) = thread(&member, &group, "Secret", "A private post").await;
    let room = s.lobby_room().await;
    // Replying to a private post from a public room answers as for a post that does not
    // exist.
    let reply = |reply_to: Value| {
        let (outsider, room) = (outsider.clone(), room.clone());
        async move {
            let nonce = format!("r-{reply_to}");
            outsider
                .post(&format!("/rooms/{room}/posts"), json!({"body": "hi", "nonce": nonce, "reply_to": reply_to}))
                .await
        }
    };
    let (status_private, private) = reply(secret["id"].clone()).await;
    let (status_missing, missing) = reply(json!("p999999999")).await;
    assert_eq!((status_private, status_missing), (404, 404), "{private} {missing}");
    assert_eq!(private["error"]["message"], missing["error"]["message"]);
    // Guests do not read profiles; members do.
    let (status, _) = s.guest().get(&format!("/users/{}", member.id())).await;
    assert_eq!(status, 401);
    let (status, profile) = outsider.get(&format!("/users/{}", member.id())).await;
    assert_eq!(status, 200);
    assert_eq!(profile["handle"], "leak_member");
}

#[tokio::test]
async fn accounts_refuse_weak_passwords_look_alike_names_and_invisible_posts() {
    let s = Server::start().await;
    let register = |handle: &str, password: &str, display: Option<&str>| {
        let mut body = json!({"handle": handle, "password": password});
        if let Some(d) = display {
            body["display_name"] = json!(d);
        }
        let guest = s.guest();
        async move { guest.post("/auth/register", body).await }
    };
    for weak in ["short", "1234567890", "password123", "aaaaaaaaaaaa"] {
        let (status, e) = register("weakling", weak, None).await;
        assert_eq!((status, e["error"]["field"].as_str()), (400, Some("password")), "{weak}: {e}");
    }
    // The admin's handle written with a Cyrillic а, or with a zero-width space.
    for fake in ["аdmin", "ad\u{200B}min", "ADM1N", "@admin"] {
        let (status, e) = register("impostor", PASSWORD, Some(fake)).await;
        assert_eq!((status, e["error"]["field"].as_str()), (400, Some("display_name")), "{fake:?}: {e}");
    }
    for invisible in ["\u{200B}\u{200B}", "\u{202E}nimda"] {
        let (status, e) = register("invisible", PASSWORD, Some(invisible)).await;
        assert_eq!((status, e["error"]["field"].as_str()), (400, Some("display_name")), "{invisible:?}: {e}");
    }
    let (status, _) = register("ana_real", PASSWORD, Some("Ana Real")).await;
    assert_eq!(status, 201);
    let admin = s.admin().await;
    let (status, e) = admin.patch("/me", json!({"display_name": "ana_reaI"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("display_name")), "renamed to a look-alike: {e}");
    let room = s.lobby_room().await;
    let (status, e) =
        admin.post(&format!("/rooms/{room}/posts"), json!({"body": "\u{200B}\u{FEFF}\u{2060}", "nonce": "inv"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("body")), "{e}");
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_idle_tokens_expire() {
    let mut clock = None;
    let s = Server::start_with(|c| clock = Some(c.clock.clone())).await;
    let clock = clock.unwrap();
    let phone = s.user("changer").await;
    let login = json!({"handle": "changer", "password": PASSWORD});
    let (status, laptop) = s.guest().post("/auth/login", login).await;
    assert_eq!(status, 200);
    let laptop_token = laptop["token"].as_str().unwrap().to_owned();
    let mut laptop_ws = {
        let mut c = s.guest();
        c.token = Some(laptop_token.clone());
        c.ws().await
    };
    let (status, e) =
        phone.put("/me/password", json!({"current_password": "wrong one!", "password": "a new long phrase"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("current_password")), "{e}");
    let (status, e) = phone.put("/me/password", json!({"current_password": PASSWORD, "password": "short"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("password")), "{e}");
    let (status, e) =
        phone.put("/me/password", json!({"current_password": PASSWORD, "password": "a new long phrase"})).await;
    assert_eq!(status, 204, "{e}");
    // The laptop is signed out, its socket closed; the phone that changed it goes on.
    assert_eq!(laptop_ws.close_code().await, Some(4001));
    let r = s.http.get(s.api("/me")).bearer_auth(&laptop_token).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(phone.get("/me").await.0, 200);
    let (status, _) = s.guest().post("/auth/login", json!({"handle": "changer", "password": PASSWORD})).await;
    assert_eq!(status, 401, "the old password still works");
    let (status, fresh) =
        s.guest().post("/auth/login", json!({"handle": "changer", "password": "a new long phrase"})).await;
    assert_eq!(status, 200);
    let fresh = fresh["token"].as_str().unwrap().to_owned();

    // Used every 20 days, a token lives on; left 31 days, it signs in no more.
    for _ in 0..3 {
        clock.advance(Duration::from_secs(20 * 86_400));
        assert_eq!(phone.get("/me").await.0, 200, "a token in use expired");
        tokio::time::sleep(Duration::from_millis(300)).await; // its use is written off the request
    }
    let r = s.http.get(s.api("/me")).bearer_auth(&fresh).send().await.unwrap();
    assert_eq!(r.status(), 401, "a token idle for 60 days still signs in");
}

#[tokio::test]
async fn a_damaged_store_is_refused_not_served() {
    use collective_brain::store::Store;
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_in(tmp.path(), |c| c.limits = Limits::off()).await;
    let admin = s.admin().await;
    let room = s.lobby_room().await;
    let mut ws = admin.ws().await;
    for round in 0..6 {
        ws.post_many(&room, &"acknowledged ".repeat(200), &format!("r{round}-"), 100, 16).await;
    }
    drop(ws);
    s.stop().await;
    // A whole store verifies.
    let verify = |dir: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_collective-brain"))
            .args(["verify", "--data-dir", dir.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = verify(tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the store is whole"));
    // Random bytes over the end of sled's file: sled recovers an earlier state.
    let db = tmp.path().join("store").join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    let mut bytes = std::fs::read(&db).unwrap();
    let from = usize::try_from(len.saturating_sub(len / 3)).unwrap();
    let mut x: u32 = 0x9E37_79B9;
    for b in &mut bytes[from..] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    std::fs::write(&db, bytes).unwrap();
    match Store::open_for_maintenance(tmp.path()) {
        Ok(store) => {
            let report = store.verify();
            panic!("a damaged store opened (verify: {report:?})");
        }
        Err(e) => {
            let e = e.to_string();
            assert!(e.contains("damaged") || e.contains("corrupt"), "{e}");
        }
    }
    let out = verify(tmp.path());
    assert!(!out.status.success(), "verify passed a damaged store");
}

#[tokio::test]
async fn search_scores_do_not_move_with_private_posts() {
    let s = Server::start_with(|c| c.limits = Limits::off()).await;
    let admin = s.admin().await;
    let member = s.user("score_member").await;
    let outsider = s.user("score_outsider").await;
    let general = s.space_id("general").await;
    thread(&admin, &general, "Reciclagem", "Uma cooperativa de reciclagem em Campinas").await;
    thread(&admin, &general, "Feiras", "Feiras de economia solidária no bairro").await;
    let found = |v: &Value| v["hits"].as_array().is_some_and(|h| !h.is_empty());
    // Both public threads indexed before the first score is read.
    crate::util::search_until(&outsider, "q=feiras", found).await;
    let before = crate::util::search_until(&outsider, "q=reciclagem", found).await;
    let score = |v: &Value| v["hits"][0]["score"].as_f64().expect("a score");
    // A private group uses the word, a lot.
    let group = private_forum(&admin, "score-group", &[&member]).await;
    for i in 0..30 {
        thread(&member, &group, &format!("Plano {i}"), "reciclagem reciclagem: a nossa posição sobre reciclagem").await;
    }
    crate::util::search_until(&member, "q=reciclagem", |v| v["total"].as_u64().unwrap_or(0) >= 31).await;
    let (status, after) = outsider.get("/search?q=reciclagem").await;
    assert_eq!(status, 200);
    assert_eq!(after["total"], before["total"], "{after}");
    assert!(
        (score(&after) - score(&before)).abs() < 1e-6,
        "the score moved: {} then {}",
        score(&before),
        score(&after)
    );
}

/// The number of an id on the wire (`p1234` → 1234).
fn id_number(v: &Value) -> u64 {
    let s = v.as_str().expect("an id");
    s[1..].parse().unwrap_or_else(|_| panic!("id {s} is a letter and digits"))
}

#[tokio::test]
async fn ids_tell_outsiders_neither_order_nor_how_much_was_written_in_private() {
    let s = Server::start_with(|c| c.limits = Limits::off()).await;
    let admin = s.admin().await;
    let member = s.user("ids_member").await;
    let group = private_forum(&admin, "ids-group", &[&member]).await;
    let (private_room, _) = thread(&member, &group, "Budget", "Private opening").await;
    let lobby = s.lobby_room().await;
    let mut public = admin.ws().await;
    let mut private = member.ws().await;

    // Public posts, and between every two of them either nothing or ten private posts.
    let mut seen = Vec::new();
    for i in 0..24 {
        let ack = public.post(&lobby, &format!("public {i}"), &format!("pub-{i}")).await;
        seen.push(id_number(&ack["post"]["id"]));
        if i % 2 == 1 {
            private.post_many(&private_room, "private", &format!("priv-{i}-"), 10, 10).await;
        }
    }
    // The gaps after odd posts hid ten private posts each, the others none: with ids from
    // a counter the first kind of gap is 11 and the second 1. Here neither shows.
    let gaps: Vec<i128> = seen.windows(2).map(|w| i128::from(w[1]) - i128::from(w[0])).collect();
    let rising = gaps.iter().filter(|g| **g > 0).count();
    assert!((3..=20).contains(&rising), "ids of successive posts go up and down at random: {seen:?}");
    assert!(gaps.iter().all(|g| g.unsigned_abs() > 1_000), "no two successive ids are neighbours: {seen:?}");
    assert!(seen.iter().all(|n| *n < 1 << 48), "ids stay at most 15 digits: {seen:?}");

    // Another community numbers the same first things otherwise: the key is its own.
    let other = Server::start().await;
    let (_, other_lobby) = (other.admin().await, other.lobby_room().await);
    assert_ne!(other_lobby, lobby, "two communities' first rooms have different ids");

    // A room id, a user id and a post id, sent where they belong, still work.
    let (status, v) = admin.get(&format!("/rooms/{lobby}/posts?limit=50")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v.as_array().map(Vec::len), Some(24), "every public post is found by its room");
    let (status, v) = admin.get(&format!("/users/{}", member.id())).await;
    assert_eq!((status, v["id"].as_str()), (200, Some(member.id().as_str())));
}
