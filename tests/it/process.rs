//! The real binary as a separate process: crash safety under SIGKILL, clean shutdown on
//! SIGTERM, the `user add` command, and the server's memory under slow subscribers.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::util::{search_until, Client, Ws, ADMIN_PASSWORD, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_collective-brain");

pub(crate) struct Proc {
    child: Child,
    addr: SocketAddr,
    http: reqwest::Client,
    /// Everything the server wrote to stderr (its log), line by line.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Proc {
    pub(crate) fn spawn(dir: &Path, env: &[(&str, &str)]) -> Proc {
        let mut child = Command::new(BIN)
            .arg("serve")
            .env("CB_DATA_DIR", dir)
            .env("CB_LISTEN", "127.0.0.1:0")
            .env("CB_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                keep.lock().unwrap().push(line.clone());
                if let Some(rest) = line.split_once("listening on ").map(|(_, r)| r) {
                    let addr: String =
                        rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(30)).expect("server printed its address");
        Proc { child, addr: addr.parse().expect("address"), http: reqwest::Client::new(), log }
    }

    pub(crate) async fn ready(&self) {
        for _ in 0..400 {
            if let Ok(r) = self.http.get(format!("http://{}/api/v1/spaces", self.addr)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server not ready");
    }

    pub(crate) fn client(&self, token: Option<String>) -> Client {
        Client { addr: self.addr, http: self.http.clone(), token, user: serde_json::Value::Null }
    }

    pub(crate) async fn login(&self, handle: &str, password: &str) -> Client {
        let (status, v) = self.client(None).post("/auth/login", json!({"handle": handle, "password": password})).await;
        assert_eq!(status, 200, "{v}");
        let mut c = self.client(v["token"].as_str().map(str::to_owned));
        c.user = v["user"].clone();
        c
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }

    pub(crate) fn sigkill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    pub(crate) fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub(crate) fn sigterm(mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill -TERM");
        assert!(ok.success());
        self.child.wait().expect("wait")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn lobby_room(c: &Client) -> String {
    let (_, spaces) = c.get("/spaces").await;
    spaces.as_array().unwrap().iter().find(|s| s["slug"] == "lobby").unwrap()["room"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sigkill_never_loses_an_acked_post() {
    let tmp = tempfile::tempdir().unwrap();
    let mut acked: Vec<(String, u64)> = Vec::new();
    // Nonce -> the acked post's id.
    let mut by_nonce: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut token = None;
    for round in 0..3 {
        let p = Proc::spawn(tmp.path(), &[("CB_RATE_LIMITS", "off")]);
        p.ready().await;
        let c = match &token {
            None => {
                let (status, v) =
                    p.client(None).post("/auth/register", json!({"handle": "crashtest", "password": PASSWORD})).await;
                assert_eq!(status, 201);
                token = v["token"].as_str().map(str::to_owned);
                p.client(token.clone())
            }
            Some(t) => p.client(Some(t.clone())),
        };
        let room = lobby_room(&c).await;

        // Every post acked before the crash is there after it, with its seq.
        let (_, posts) = c.get(&format!("/rooms/{room}/posts?limit=500")).await;
        let posts = posts.as_array().unwrap();
        for (id, seq) in &acked {
            let found = posts.iter().find(|p| p["id"] == id.as_str());
            assert_eq!(found.map(|p| p["seq"].as_u64().unwrap()), Some(*seq), "round {round}: acked post {id} lost");
        }
        let seqs: Vec<u64> = posts.iter().map(|p| p["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "gapless after a crash");
        let mut ws = c.ws().await;
        let (events, head) = ws.subscribe(&room, 0).await;
        assert_eq!(events.len() as u64, head);

        // The last round's posts sent again with their nonces (a client's outbox after a
        // reconnection): each acked one answers with its first post, none is made twice,
        // though the crash came before their nonces were folded into the nonces tree.
        if round > 0 {
            for i in 0..150 {
                let nonce = format!("{}-{i}", round - 1);
                let ack = ws.post(&room, &format!("round {} post {i}", round - 1), &nonce).await;
                assert_eq!(ack["type"], "ack", "{ack}");
                if let Some(id) = by_nonce.get(&nonce) {
                    assert_eq!(ack["post"]["id"], id.as_str(), "round {round}: {nonce} made a second post");
                }
            }
            let (_, posts) = c.get(&format!("/rooms/{room}/posts?limit=500")).await;
            let bodies: Vec<&str> = posts.as_array().unwrap().iter().map(|p| p["body"].as_str().unwrap()).collect();
            let unique: std::collections::HashSet<&&str> = bodies.iter().collect();
            assert_eq!(unique.len(), bodies.len(), "round {round}: a post exists twice");
        }

        // Post a stream and kill the server in the middle of it.
        for i in 0..150 {
            ws.send(json!({"type": "post", "room": room, "body": format!("round {round} post {i}"), "nonce": format!("{round}-{i}")}))
                .await;
        }
        let mut got = 0;
        while got < 60 {
            let v = ws.recv().await;
            if v["type"] == "ack" {
                acked.push((v["post"]["id"].as_str().unwrap().to_owned(), v["post"]["seq"].as_u64().unwrap()));
                by_nonce.insert(v["nonce"].as_str().unwrap().to_owned(), v["post"]["id"].as_str().unwrap().to_owned());
                got += 1;
            }
        }
        p.sigkill();
        // Acks that were already on the wire when the process died count too.
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_millis(200), futures_util::StreamExt::next(&mut ws.inner)).await
        {
            if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "ack" {
                    acked.push((v["post"]["id"].as_str().unwrap().to_owned(), v["post"]["seq"].as_u64().unwrap()));
                    by_nonce
                        .insert(v["nonce"].as_str().unwrap().to_owned(), v["post"]["id"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    assert!(acked.len() >= 180);
}

#[tokio::test]
async fn sigterm_closes_websockets_with_1001_and_flushes() {
    let tmp = tempfile::tempdir().unwrap();
    let p = Proc::spawn(tmp.path(), &[]);
    p.ready().await;
    let admin = p.login("admin", ADMIN_PASSWORD).await;
    let room = lobby_room(&admin).await;
    let mut ws = admin.ws().await;
    let ack = ws.post(&room, "before shutdown", "s1").await;
    assert_eq!(ack["type"], "ack");
    let mut guest = Ws::connect(p.addr).await;
    guest.send(json!({"type": "hello"})).await;
    guest.expect("welcome").await;
    let status = p.sigterm();
    assert!(status.success(), "clean exit: {status:?}");
    assert_eq!(ws.close_code().await, Some(1001));
    assert_eq!(guest.close_code().await, Some(1001));

    let p = Proc::spawn(tmp.path(), &[]);
    p.ready().await;
    let (_, posts) = p.client(None).get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(posts[0]["body"], "before shutdown");
}

#[tokio::test]
async fn user_add_creates_an_account_while_the_server_is_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(BIN)
            .args(args)
            .env("CB_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let dir = tmp.path().to_str().unwrap();
    let out = run(
        &["user", "add", "--data-dir", dir, "--handle", "tradutora", "--role", "translator", "--password-stdin"],
        "uma senha longa\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["user", "add", "--data-dir", dir, "--handle", "tradutora", "--password-stdin"], "other password\n");
    assert!(!out.status.success(), "a taken handle is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));
    let out = run(&["user", "add", "--data-dir", dir, "--handle", "x y", "--password-stdin"], "pw pw pw pw\n");
    assert!(!out.status.success());
    let out = run(
        &["user", "add", "--data-dir", dir, "--handle", "boss", "--role", "emperor", "--password-stdin"],
        "pw pw pw pw\n",
    );
    assert!(!out.status.success());

    let p = Proc::spawn(tmp.path(), &[]);
    p.ready().await;
    let t = p.login("tradutora", "uma senha longa").await;
    assert_eq!(t.user["roles"], json!(["member", "translator"]));
}

#[tokio::test]
async fn slow_subscribers_do_not_make_the_server_buffer_without_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let p = Proc::spawn(
        tmp.path(),
        &[
            ("CB_ROOM_BUFFER", "64"),
            ("CB_CONNECTION_QUEUE", "32"),
            ("CB_CACHE_MB", "16"),
            ("CB_RATE_LIMITS", "off"),
            ("CB_METRICS_TOKEN", "rss-scraper"),
        ],
    );
    // On a busy machine the search index indexes the posts later than they are acked,
    // and its working memory comes with it. Both readings wait for it to have caught
    // up, so that they compare the same index work and the difference is what the slow
    // subscribers cost.
    let caught_up = || async {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let r = p.http.get(format!("http://{}/metrics", p.addr)).bearer_auth("rss-scraper").send().await.unwrap();
            let text = r.text().await.unwrap();
            if text.lines().any(|l| l == "cb_index_lag_changes 0") {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the index did not catch up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    p.ready().await;
    let admin = p.login("admin", ADMIN_PASSWORD).await;
    let room = lobby_room(&admin).await;
    // Subscribers that never read again.
    let mut sleepers = Vec::new();
    for _ in 0..20 {
        let mut ws = p.client(None).ws().await;
        ws.subscribe(&room, 0).await;
        sleepers.push(ws);
    }
    let body = "y".repeat(4 * 1024);
    let mut poster = admin.ws().await;
    poster.post_many(&room, &body, "warm", 1000, 64).await;
    caught_up().await;
    let warm = p.rss_kib();
    poster.post_many(&room, &body, "m", 8000, 64).await;
    caught_up().await;
    let end = p.rss_kib();
    let published_kib = 8000 * 4 * 20;
    eprintln!("server RSS: {warm} KiB after warm-up, {end} KiB after {published_kib} KiB more for 20 slow subscribers");
    assert!(end < warm + 24 * 1024, "server memory grew from {warm} KiB to {end} KiB");
    drop(sleepers);
}

#[tokio::test]
async fn a_settings_file_configures_the_server_and_typos_stop_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("settings.toml");
    std::fs::write(&file, "languages = [\"pt\", \"es\"]\nrate_limits = false\n").unwrap();
    let data = tmp.path().join("data");
    let p = Proc::spawn(&data, &[("CB_CONFIG", file.to_str().unwrap())]);
    p.ready().await;
    let admin = p.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.user["languages"], json!(["pt", "es"]), "the admin speaks the community's languages");
    let room = lobby_room(&admin).await;
    let (status, post) = admin
        .post(
            &format!("/rooms/{room}/posts"),
            json!({"body": "Thank you all for the meeting yesterday in Maputo", "nonce": "c1"}),
        )
        .await;
    assert_eq!(status, 201);
    assert!(["pt", "es"].contains(&post["lang"].as_str().unwrap()), "tagged among the configured languages: {post}");
    drop(p);

    std::fs::write(&file, "room_bufer = 64\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config", file.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("room_bufer"), "the error names the unknown key");
}

/// What the clients were told was stored, and what they sent without hearing back.
#[derive(Default)]
struct Ledger {
    /// Acked posts by id.
    posts: std::collections::HashMap<String, Acked>,
}

struct Acked {
    seq: u64,
    /// The word that makes the post findable, unique to it.
    tag: String,
    /// The last body whose write was acknowledged, and one sent after it without an answer.
    body: String,
    body_pending: Option<String>,
    /// The same for its French translation.
    translation: Option<String>,
    translation_pending: Option<String>,
}

/// A word of letters only, from the seeded generator.
fn tag(rng: &mut impl rand::Rng) -> String {
    (0..12).map(|_| rng.gen_range(b'a'..=b'z') as char).collect()
}

/// One writer's session until the server dies: posts pipelined 8 deep, and now and then
/// an edit of one of its own acked posts (one at a time, so its outcome is unambiguous).
async fn torture_writer(
    addr: SocketAddr,
    token: String,
    room: String,
    me: usize,
    round: usize,
    seed: u64,
    ledger: std::sync::Arc<std::sync::Mutex<Ledger>>,
) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ ((round as u64) << 8) ^ me as u64);
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await else { return };
    let send = |v: serde_json::Value| tokio_tungstenite::tungstenite::Message::Text(v.to_string().into());
    use futures_util::{SinkExt, StreamExt};
    if ws.send(send(json!({"type": "hello", "token": token}))).await.is_err() {
        return;
    }
    let mut sent: std::collections::HashMap<String, String> = std::collections::HashMap::new(); // nonce -> tag
    let mut mine: Vec<String> = Vec::new();
    let mut editing: Option<(String, String)> = None; // post id, body
    let mut n = 0usize;
    loop {
        while sent.len() < 8 {
            let t = tag(&mut rng);
            let nonce = format!("r{round}-c{me}-{n}");
            n += 1;
            let frame = json!({"type": "post", "room": room, "body": format!("{t} torture post {nonce}"), "nonce": nonce, "lang": "en"});
            if ws.send(send(frame)).await.is_err() {
                return;
            }
            sent.insert(nonce, t);
        }
        if editing.is_none() && !mine.is_empty() && rng.gen_bool(0.3) {
            let id = mine[rng.gen_range(0..mine.len())].clone();
            let body = {
                let mut l = ledger.lock().unwrap();
                let Some(entry) = l.posts.get_mut(&id) else { continue };
                let body = format!("{} edited {}", entry.tag, tag(&mut rng));
                entry.body_pending = Some(body.clone());
                body
            };
            if ws.send(send(json!({"type": "edit", "post": id, "body": body, "lang": "en"}))).await.is_err() {
                return;
            }
            editing = Some((id, body));
        }
        let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await else { return };
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        match v["type"].as_str() {
            Some("ack") => {
                let nonce = v["nonce"].as_str().unwrap().to_owned();
                let t = sent.remove(&nonce).expect("an ack for a nonce we sent");
                let id = v["post"]["id"].as_str().unwrap().to_owned();
                let seq = v["post"]["seq"].as_u64().unwrap();
                let body = v["post"]["body"].as_str().unwrap().to_owned();
                let entry =
                    Acked { seq, tag: t, body, body_pending: None, translation: None, translation_pending: None };
                ledger.lock().unwrap().posts.insert(id.clone(), entry);
                mine.push(id);
            }
            Some("event") if v["kind"] == "edit" => {
                let (id, body) = editing.take().expect("an edit we sent");
                assert_eq!(v["post"]["id"], id.as_str());
                let mut l = ledger.lock().unwrap();
                let entry = l.posts.get_mut(&id).unwrap();
                entry.body = body;
                entry.body_pending = None;
            }
            Some("error") => panic!("round {round}: a write was refused: {v}"),
            _ => {}
        }
    }
}

/// The translator's session until the server dies: French translations of acked posts,
/// one at a time.
async fn torture_translator(c: Client, round: usize, seed: u64, ledger: std::sync::Arc<std::sync::Mutex<Ledger>>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ ((round as u64) << 16) ^ 0x7a);
    loop {
        let target = {
            let mut l = ledger.lock().unwrap();
            let ids: Vec<String> = l.posts.keys().cloned().collect();
            if ids.is_empty() {
                None
            } else {
                let id = ids[rng.gen_range(0..ids.len())].clone();
                let body = format!("traduction {}", tag(&mut rng));
                l.posts.get_mut(&id).unwrap().translation_pending = Some(body.clone());
                Some((id, body))
            }
        };
        let Some((id, body)) = target else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let r = c
            .http
            .post(format!("http://{}/api/v1/posts/{id}/translations", c.addr))
            .bearer_auth(c.token.as_deref().unwrap())
            .json(&json!({"lang": "fr", "body": body}))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 201 => {
                let mut l = ledger.lock().unwrap();
                let entry = l.posts.get_mut(&id).unwrap();
                entry.translation = Some(body);
                entry.translation_pending = None;
            }
            Ok(r) if r.status().is_success() || r.status().is_client_error() => {
                let status = r.status();
                panic!("round {round}: translation refused: {status} {}", r.text().await.unwrap_or_default())
            }
            _ => return, // the server died mid-request: the outcome stays pending
        }
    }
}

/// Every post of a room, paging through the listing.
async fn all_posts(c: &Client, room: &str) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = Vec::new();
    loop {
        let after = out.last().map_or(0, |p| p["seq"].as_u64().unwrap());
        let (status, page) = c.get(&format!("/rooms/{room}/posts?after_seq={after}&limit=200")).await;
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Crash torture: the server is killed with SIGKILL at 20 seeded random moments while
/// three clients post and edit and a translator translates, and restarted on the same
/// data each time. After every restart: every acked post is there with its seq, its
/// acked edit (or a later unacknowledged one) and its acked translation; the room's log
/// replays gapless with each seq once; no post exists twice; and search has caught up
/// with the newest acked post. `CB_TORTURE_SEED=N` replays a run.
#[tokio::test]
async fn torture_twenty_sigkills_lose_nothing_acked() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("CB_TORTURE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("torture seed {seed} (CB_TORTURE_SEED={seed} replays it)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let tmp = tempfile::tempdir().unwrap();
    let ledger = std::sync::Arc::new(std::sync::Mutex::new(Ledger::default()));
    let mut tokens: Vec<String> = Vec::new();
    for round in 0..21 {
        let started = std::time::Instant::now();
        let p = Proc::spawn(tmp.path(), &[("CB_RATE_LIMITS", "off")]);
        p.ready().await;
        let restart = started.elapsed();
        if tokens.is_empty() {
            for h in ["writer0", "writer1", "writer2", "translator"] {
                let (status, v) =
                    p.client(None).post("/auth/register", json!({"handle": h, "password": PASSWORD})).await;
                assert_eq!(status, 201, "{v}");
                tokens.push(v["token"].as_str().unwrap().to_owned());
            }
            let admin = p.login("admin", ADMIN_PASSWORD).await;
            let (_, who) = p.client(Some(tokens[3].clone())).get("/me").await;
            let (status, v) = admin
                .put(
                    &format!("/users/{}/roles", who["id"].as_str().unwrap()),
                    json!({"roles": ["member", "translator"]}),
                )
                .await;
            assert_eq!(status, 200, "{v}");
            let (status, v) = p
                .client(Some(tokens[3].clone()))
                .put("/me/translator", json!({"pairs": [{"from": "en", "to": "fr"}]}))
                .await;
            assert_eq!(status, 200, "{v}");
        }
        let reader = p.client(Some(tokens[0].clone()));
        let room = lobby_room(&reader).await;

        // Everything acked is there, as it was acked (or as a later write left it).
        let posts = all_posts(&reader, &room).await;
        let by_id: std::collections::HashMap<&str, &serde_json::Value> =
            posts.iter().map(|p| (p["id"].as_str().unwrap(), p)).collect();
        {
            let mut l = ledger.lock().unwrap();
            for (id, a) in l.posts.iter_mut() {
                let post =
                    by_id.get(id.as_str()).unwrap_or_else(|| panic!("seed {seed} round {round}: acked post {id} lost"));
                assert_eq!(post["seq"], a.seq, "seed {seed}: post {id} changed seq");
                let body = post["body"].as_str().unwrap();
                assert!(
                    body == a.body || a.body_pending.as_deref() == Some(body),
                    "seed {seed} round {round}: post {id} has {body:?}, acked {:?}",
                    a.body
                );
                let fr = post["translations"]["fr"]["body"].as_str();
                assert!(
                    fr == a.translation.as_deref() || (fr.is_some() && fr == a.translation_pending.as_deref()),
                    "seed {seed} round {round}: post {id} translation {fr:?}, acked {:?}",
                    a.translation
                );
                // What is there now is what the next round must find.
                a.body = body.to_owned();
                a.body_pending = None;
                a.translation = fr.map(str::to_owned);
                a.translation_pending = None;
            }
        }
        // No post twice: each carries its own tag as its first word.
        let mut tags = std::collections::HashSet::new();
        for post in &posts {
            let t = post["body"].as_str().unwrap().split(' ').next().unwrap().to_owned();
            assert!(tags.insert(t), "seed {seed} round {round}: a post exists twice: {post}");
        }
        // The log replays gapless, each seq once.
        let mut ws = reader.ws().await;
        let (events, head) = ws.subscribe(&room, 0).await;
        let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "seed {seed} round {round}: the log has a gap or a repeat");
        drop(ws);
        // Search caught up with the newest acked post.
        let newest = {
            let l = ledger.lock().unwrap();
            l.posts.iter().max_by_key(|(_, a)| a.seq).map(|(id, a)| (id.clone(), a.tag.clone()))
        };
        if let Some((id, t)) = newest {
            search_until(&reader, &format!("q={t}"), |v| {
                v["hits"].as_array().is_some_and(|hits| {
                    hits.iter().any(|h| {
                        h["post"]["id"] == id.as_str()
                            || h["also"].as_array().is_some_and(|a| a.iter().any(|x| x == id.as_str()))
                    })
                })
            })
            .await;
        }
        eprintln!(
            "round {round}: restarted in {:.2} s; {} posts, {} acked, head {head}",
            restart.as_secs_f64(),
            posts.len(),
            ledger.lock().unwrap().posts.len()
        );
        if round == 20 {
            break;
        }

        // Load, then a kill at a random moment.
        let mut tasks = Vec::new();
        for (me, token) in tokens.iter().take(3).enumerate() {
            let (token, room, ledger) = (token.clone(), room.clone(), ledger.clone());
            tasks.push(tokio::spawn(torture_writer(p.addr, token, room, me, round, seed, ledger)));
        }
        let translator = p.client(Some(tokens[3].clone()));
        tasks.push(tokio::spawn(torture_translator(translator, round, seed, ledger.clone())));
        tokio::time::sleep(Duration::from_millis(rng.gen_range(150..700))).await;
        p.sigkill();
        for t in tasks {
            if let Err(e) = t.await {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
    let l = ledger.lock().unwrap();
    assert!(l.posts.len() >= 200, "the clients got too few writes through to test anything");
    assert!(l.posts.values().filter(|a| a.body.contains(" edited ")).count() >= 20, "too few edits got through");
    assert!(l.posts.values().filter(|a| a.translation.is_some()).count() >= 20, "too few translations got through");
}

/// Hostile clients at once: one socket asks for 10,000 subscriptions (to rooms that do
/// not exist, to the same room again and again, and past the per-socket limit), another
/// floods posts without reading, and 2,000 connections stop halfway (a TCP connection
/// that never sends its request, an HTTP upgrade that never finishes). Each gets its
/// documented answer, the server keeps serving others, and its memory stays bounded.
#[tokio::test]
async fn hostile_clients_get_their_answers_and_memory_stays_bounded() {
    use futures_util::SinkExt;
    use tokio::io::AsyncWriteExt;
    let tmp = tempfile::tempdir().unwrap();
    // The half-open connections all come from one address: the per-address cap (tested
    // in `hostile`) would close them at once, and this is about what the rest costs.
    let p = Proc::spawn(tmp.path(), &[("CB_CACHE_MB", "16"), ("CB_MAX_CONNECTIONS_PER_ADDRESS", "5000")]);
    p.ready().await;
    let admin = p.login("admin", ADMIN_PASSWORD).await;
    let room = lobby_room(&admin).await;
    let base = p.rss_kib();

    // 10,000 subscriptions on one socket, pipelined, answered in order.
    let mut greedy = admin.ws().await;
    let mut not_found = 0;
    for batch in 0..40 {
        for i in 0..250 {
            let n = batch * 250 + i;
            let frame = if n % 2 == 0 {
                json!({"type": "subscribe", "room": format!("r{}", 1_000_000 + n)})
            } else {
                json!({"type": "subscribe", "room": room, "since": 0})
            };
            greedy.send(frame).await;
        }
        // A subscription restarted before its replay ended never says `subscribed`, so
        // a ping marks the end of each batch (frames are answered in order).
        greedy.send(json!({"type": "ping"})).await;
        loop {
            let v = greedy.recv().await;
            match v["type"].as_str() {
                Some("error") => {
                    assert_eq!(v["code"], "not_found", "{v}");
                    not_found += 1;
                }
                Some("pong") => break,
                _ => {}
            }
        }
    }
    assert_eq!(not_found, 5000);
    greedy.send(json!({"type": "ping"})).await;
    greedy.until("pong").await;

    // Past the per-socket limit: bad_request, and the socket stays usable.
    let mut spaces = Vec::new();
    for i in 0..300 {
        let (status, s) = admin
            .post(
                "/spaces",
                json!({"slug": format!("h{i}"), "name": "h", "kind": "forum", "visibility": "public", "post_policy": "members"}),
            )
            .await;
        assert_eq!(status, 201, "{s}");
        spaces.push(s["id"].as_str().unwrap().to_owned());
    }
    let mut limited = 0;
    for s in &spaces {
        greedy.send(json!({"type": "subscribe_space", "space": s})).await;
        let v = greedy.recv().await;
        if v["type"] == "error" {
            assert_eq!(v["code"], "bad_request", "{v}");
            limited += 1;
        }
    }
    assert!(limited >= 300 - 256, "the subscription limit was not enforced: {limited} refused");
    greedy.send(json!({"type": "ping"})).await;
    greedy.until("pong").await;

    // A flood of posts from a client that never reads its acks: the socket stops being
    // read once its writes and queue are full, and nobody else notices.
    let mut flood = admin.ws().await;
    let flood_room = room.clone();
    let flooding = tokio::spawn(async move {
        for i in 0..5000 {
            let frame = json!({"type": "post", "room": flood_room, "body": "flood", "nonce": format!("f{i}")});
            if flood.inner.send(tokio_tungstenite::tungstenite::Message::Text(frame.to_string().into())).await.is_err()
            {
                break;
            }
        }
        flood
    });

    // 1,000 TCP connections that never send a request, 1,000 upgrades left unfinished.
    let mut half_open = Vec::new();
    for i in 0..2000 {
        let Ok(mut s) = tokio::net::TcpStream::connect(p.addr).await else { continue };
        if i % 2 == 1 {
            let partial =
                format!("GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", p.addr);
            let _ = s.write_all(partial.as_bytes()).await;
        }
        half_open.push(s);
    }

    // Others are served as usual, and fast.
    let started = std::time::Instant::now();
    let someone = p.client(None);
    let (status, _) = someone.get("/spaces").await;
    assert_eq!(status, 200);
    let mut ws = someone.ws().await;
    let (_, head) = ws.subscribe(&room, 0).await;
    let mut poster = p.login("admin", ADMIN_PASSWORD).await.ws().await;
    let ack = poster.post(&room, "still serving", "alive").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    // The flood's accepted posts (up to the rate limit) may come first.
    loop {
        let event = ws.until("event").await;
        assert!(event["seq"].as_u64().unwrap() > head);
        if event["post"]["body"] == "still serving" {
            break;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10), "serving others took {:?}", started.elapsed());

    let end = p.rss_kib();
    eprintln!("server RSS: {base} KiB at start, {end} KiB with the hostile clients");
    assert!(end < base + 96 * 1024, "server memory grew from {base} KiB to {end} KiB");
    let flood = flooding.await.unwrap();
    drop((flood, half_open, greedy));
}

/// No password and no token reaches the log, even at debug level for every crate:
/// registration, a failed and a good sign-in, a WebSocket hello, posting, an admin's
/// export and sign-out.
#[tokio::test]
async fn no_secret_reaches_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let metrics_token = "scraper-token-5521";
    // No admin password given: the server generates one, into a file, not the log.
    let p = Proc::spawn(
        tmp.path(),
        &[("RUST_LOG", "debug"), ("CB_ADMIN_PASSWORD", ""), ("CB_METRICS_TOKEN", metrics_token)],
    );
    p.ready().await;
    let file = tmp.path().join("admin-password.txt");
    let generated = std::fs::read_to_string(&file).expect("the generated admin password is in its file");
    let generated = generated.trim().to_owned();
    assert!(generated.len() >= 16, "{generated}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the server's user reads the password file: {mode:o}");
    }
    let r = p.http.get(format!("http://{}/metrics", p.addr)).bearer_auth(metrics_token).send().await.unwrap();
    assert_eq!(r.status(), 200, "the scraper's token opens /metrics");
    let secret_password = "correct horse battery staple 7431";
    let wrong_password = "not the password 9152";
    let (status, v) =
        p.client(None).post("/auth/register", json!({"handle": "discreta", "password": secret_password})).await;
    assert_eq!(status, 201, "{v}");
    let first_token = v["token"].as_str().unwrap().to_owned();
    let (status, _) =
        p.client(None).post("/auth/login", json!({"handle": "discreta", "password": wrong_password})).await;
    assert_eq!(status, 401);
    let c = p.login("discreta", secret_password).await;
    let token = c.token.clone().unwrap();
    let mut ws = Ws::connect(p.addr).await;
    ws.send(json!({"type": "hello", "token": token})).await;
    ws.expect("welcome").await;
    let room = lobby_room(&c).await;
    ws.post(&room, "a post, logged at debug level", "n1").await;
    ws.send(json!({"type": "hello", "token": "made-up-token-that-is-not-valid-4417"})).await;
    ws.until("error").await;
    let admin = p.login("admin", &generated).await;
    let admin_token = admin.token.clone().unwrap();
    let r =
        p.http.get(format!("http://{}/api/v1/admin/export", p.addr)).bearer_auth(&admin_token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let _ = r.bytes().await.unwrap();
    assert_eq!(c.post("/auth/logout", json!({})).await.0, 204);
    drop(ws);
    let log = p.log_text();
    assert!(p.sigterm().success());
    assert!(log.contains("listening on") && log.lines().count() > 5, "the log was captured: {log}");
    for secret in [
        secret_password,
        wrong_password,
        ADMIN_PASSWORD,
        &first_token,
        &token,
        &admin_token,
        "made-up-token-that-is-not-valid-4417",
    ] {
        assert!(!log.contains(secret), "the log contains a secret ({secret}):\n{log}");
    }
}

/// The scheduling policy of each thread of process `pid`, by name (`/proc`; Linux's
/// numbers: 0 normal, 5 idle).
fn thread_policies(pid: u32) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let (Ok(name), Ok(stat)) =
            (std::fs::read_to_string(task.path().join("comm")), std::fs::read_to_string(task.path().join("stat")))
        else {
            continue; // ended meanwhile
        };
        // Fields after the name in parentheses; the policy is the stat file's 41st.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let policy = rest.split_whitespace().nth(38).and_then(|p| p.parse().ok()).unwrap();
        out.push((name.trim().to_owned(), policy));
    }
    out
}

#[tokio::test]
async fn with_index_idle_the_index_is_written_at_idle_priority_and_the_store_is_not() {
    const IDLE: u32 = 5;
    let tmp = tempfile::tempdir().unwrap();
    let p = Proc::spawn(tmp.path(), &[("CB_INDEX_IDLE", "true")]);
    p.ready().await;
    let admin = p.login("admin", ADMIN_PASSWORD).await;
    let room = lobby_room(&admin).await;
    let mut ws = admin.ws().await;
    ws.post_many(&room, "zzprioridade do índice", "prio", 20, 20).await;
    search_until(&admin, "q=zzprioridade", |v| v["total"].as_u64().unwrap_or(0) > 0).await;
    let policies = thread_policies(p.child.id());
    let of = |prefix: &str| -> Vec<u32> {
        policies.iter().filter(|(n, _)| n.starts_with(prefix)).map(|(_, p)| *p).collect()
    };
    // The index-writing thread, and tantivy's indexing threads, which it starts at each
    // commit and which take its policy.
    for idle in ["index-writer", "thrd-tantivy"] {
        let found = of(idle);
        assert!(!found.is_empty() && found.iter().all(|&p| p == IDLE), "{idle}: {policies:?}");
    }
    // Everything acks and deliveries wait on keeps the normal policy: sled's I/O threads
    // (which a flush waits on), the index's follower (which reads sled) and its merges.
    for normal in ["store-writer", "store-flusher", "sled-io", "search-indexer", "merge_thread", "tokio-rt-worker"] {
        let found = of(normal);
        assert!(!found.is_empty() && found.iter().all(|&p| p != IDLE), "{normal}: {policies:?}");
    }
}

/// An upload cut by SIGKILL leaves nothing behind but what was already answered: the
/// restarted server serves the finished upload byte for byte, knows nothing of the cut
/// one, and has no temporary file left.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_an_upload_keeps_what_was_answered_and_leaves_no_debris() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::spawn(dir.path(), &[]);
    p.ready().await;
    let (status, v) =
        p.client(None).post("/auth/register", json!({"handle": "uploader", "password": crate::util::PASSWORD})).await;
    assert_eq!(status, 201, "{v}");
    let c = p.login("uploader", crate::util::PASSWORD).await;
    let whole: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let (status, done) = c.upload("whole.bin", whole.clone()).await;
    assert_eq!(status, 201, "{done}");

    // A second upload announced at 10 MB, of which 3 MB are sent before the kill.
    let mut tcp = tokio::net::TcpStream::connect(p.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/files?name=cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 10000000\r\n\r\n",
        c.token.as_deref().unwrap()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&vec![7u8; 3_000_000]).await.unwrap();
    let tmp = dir.path().join("files").join("tmp");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(&tmp).unwrap().filter_map(Result::ok).all(|e| e.metadata().map_or(0, |m| m.len()) == 0) {
        assert!(std::time::Instant::now() < deadline, "the cut upload never reached the disk");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p.sigkill();
    drop(tcp);

    let p = Proc::spawn(dir.path(), &[]);
    p.ready().await;
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "the cut upload's temporary file is gone");
    let c = p.login("uploader", crate::util::PASSWORD).await;
    let id = done["id"].as_str().unwrap();
    let (status, _, bytes) = c.get_raw(&format!("/files/{id}"), &[]).await;
    assert_eq!((status, bytes == whole), (200, true), "the answered upload is whole");
    let (_, export) = c.get("/me/export").await;
    let names: Vec<_> = export["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["whole.bin"], "nothing of the cut one");
}
