//! The real binary as a separate process: crash safety under SIGKILL, clean shutdown on
//! SIGTERM, the `user add` command, and the server's memory under slow subscribers.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::util::{Client, Ws, ADMIN_PASSWORD, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_collective-brain");

struct Proc {
    child: Child,
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Proc {
    fn spawn(dir: &Path, env: &[(&str, &str)]) -> Proc {
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
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
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
        Proc { child, addr: addr.parse().expect("address"), http: reqwest::Client::new() }
    }

    async fn ready(&self) {
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

    fn client(&self, token: Option<String>) -> Client {
        Client { addr: self.addr, http: self.http.clone(), token, user: serde_json::Value::Null }
    }

    async fn login(&self, handle: &str, password: &str) -> Client {
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

    fn sigkill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    fn sigterm(mut self) -> std::process::ExitStatus {
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
        &[("CB_ROOM_BUFFER", "64"), ("CB_CONNECTION_QUEUE", "32"), ("CB_CACHE_MB", "16"), ("CB_RATE_LIMITS", "off")],
    );
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
    let warm = p.rss_kib();
    poster.post_many(&room, &body, "m", 8000, 64).await;
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
