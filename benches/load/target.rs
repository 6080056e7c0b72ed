//! The servers under load and how to speak to each: the same workload through a small
//! adapter per server.
//!
//! - the ceiling (`ceiling.rs`), started as a second process of this binary;
//! - NATS (`nats-server`, Debian's package), through its WebSocket listener: `SUB`/`PUB`
//!   per room subject, and for durable posting JetStream publishes answered by a `PubAck`;
//! - the project's server (`collective-brain serve`, persistence on, rate limits off),
//!   through the protocol of docs/PROTOCOL.md.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub const ADMIN_PASSWORD: &str = "load-bench-admin-password";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ceiling,
    Nats,
    Ours,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ceiling => "ceiling",
            Kind::Nats => "nats",
            Kind::Ours => "collective-brain",
        }
    }
}

/// A running server of one kind, with what the workload needs of it.
pub struct Target {
    pub kind: Kind,
    child: Child,
    pub addr: SocketAddr,
    /// The project's server: room ids, in order; others name rooms by number.
    pub rooms: Vec<String>,
    /// The project's server: tokens of signed-in users, used round-robin.
    pub tokens: Vec<String>,
    /// The project's server: the admin's token (for `/metrics`).
    admin: Option<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Waits until something accepts connections on `addr`.
async fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn nats_available() -> bool {
    Command::new("nats-server").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

impl Target {
    /// Starts a fresh server of `kind` with `rooms` rooms and `users` signed-in users.
    ///
    /// `CB_BENCH_SERVER_CPUS=LIST` runs every server on those CPUs (through `taskset`), to
    /// tell the server's share of a latency from the generator's on a shared machine.
    pub async fn start(kind: Kind, rooms: usize, users: usize) -> Target {
        let pinned = |program: &str| match std::env::var("CB_BENCH_SERVER_CPUS") {
            Ok(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &cpus, program]);
                c
            }
            Err(_) => Command::new(program),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let child = match kind {
            Kind::Ceiling => pinned(&std::env::current_exe().expect("own path").display().to_string())
                .args(["--ceiling-server", &port.to_string()])
                .stdin(Stdio::null())
                .spawn()
                .expect("start the ceiling"),
            Kind::Nats => {
                let conf = dir.path().join("nats.conf");
                let store = dir.path().join("jetstream");
                let text = format!(
                    "listen: 127.0.0.1:{}\nmax_payload: 65536\nwebsocket {{ listen: \"127.0.0.1:{port}\", no_tls: true }}\njetstream {{ store_dir: {:?} }}\n",
                    free_port(),
                    store.display().to_string()
                );
                std::fs::write(&conf, text).expect("nats config");
                pinned("nats-server")
                    .args(["-c", &conf.display().to_string()])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start nats-server")
            }
            // CB_BENCH_SERVER: another build of the server (an A/B run against an older commit).
            Kind::Ours => pinned(
                &std::env::var("CB_BENCH_SERVER").unwrap_or_else(|_| env!("CARGO_BIN_EXE_collective-brain").into()),
            )
            .args(["serve", "--listen", &addr.to_string(), "--rate-limits", "off"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("CB_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // Every generated client comes from 127.0.0.1: no cap per address here.
            .env("CB_MAX_CONNECTIONS_PER_ADDRESS", "1000000")
            .env("CB_MAX_CONNECTIONS", "1000000")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("start collective-brain"),
        };
        wait_listening(addr).await;
        let mut target = Target { kind, child, addr, rooms: Vec::new(), tokens: Vec::new(), admin: None, _dir: dir };
        if kind == Kind::Ours {
            target.setup_ours(rooms, users).await;
        } else {
            target.rooms = (0..rooms).map(|i| i.to_string()).collect();
        }
        target
    }

    /// The project's server: what its store writer did so far, from `/metrics`.
    pub async fn writer_summary(&self) -> Option<String> {
        let token = self.admin.as_ref()?;
        let url = format!("http://{}/metrics", self.addr);
        let text = reqwest::Client::new().get(url).bearer_auth(token).send().await.ok()?.text().await.ok()?;
        let value = |name: &str| -> f64 {
            text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        };
        let (commits, flushes) = (value("cb_commits_total"), value("cb_flushes_total"));
        Some(format!(
            "writer: {commits:.0} batches of {:.1} ops, {:.2} ms to apply each; {flushes:.0} flushes of {:.2} ms (max {:.1} ms)",
            value("cb_ops_committed_total") / commits.max(1.0),
            1000.0 * value("cb_apply_seconds_total") / commits.max(1.0),
            1000.0 * value("cb_flush_seconds_total") / flushes.max(1.0),
            1000.0 * value("cb_flush_seconds_max"),
        ))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A forum space with `rooms` threads, and `users` members signed in.
    async fn setup_ours(&mut self, rooms: usize, users: usize) {
        let http = reqwest::Client::new();
        let api = |p: &str| format!("http://{}/api/v1{p}", self.addr);
        let call = |method: reqwest::Method, path: String, token: Option<String>, body: Value| {
            let mut r = http.request(method, api(&path)).json(&body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            async move {
                let resp = r.send().await.expect("http");
                let status = resp.status();
                let v: Value = resp.json().await.unwrap_or(Value::Null);
                assert!(status.is_success(), "{path}: {status} {v}");
                v
            }
        };
        let admin = call(
            reqwest::Method::POST,
            "/auth/login".into(),
            None,
            json!({"handle": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
        let admin_token = admin["token"].as_str().expect("admin token").to_owned();
        self.admin = Some(admin_token.clone());
        let space = call(
            reqwest::Method::POST,
            "/spaces".into(),
            Some(admin_token.clone()),
            json!({"slug": "load", "name": "Load", "kind": "forum", "visibility": "public", "post_policy": "members"}),
        )
        .await;
        let space = space["id"].as_str().expect("space id").to_owned();
        // Rooms made concurrently, a few at a time, in a known order.
        let mut made = Vec::with_capacity(rooms);
        for chunk in (0..rooms).collect::<Vec<_>>().chunks(32) {
            let calls = chunk.iter().map(|i| {
                call(
                    reqwest::Method::POST,
                    format!("/spaces/{space}/rooms"),
                    Some(admin_token.clone()),
                    json!({"title": format!("Room {i}"), "body": "opening", "nonce": format!("room-{i}"), "lang": "en"}),
                )
            });
            for v in futures_util::future::join_all(calls).await {
                made.push(v["room"]["id"].as_str().expect("room id").to_owned());
            }
        }
        self.rooms = made;
        // Registration hashes a password (argon2): a few users, their tokens shared.
        let users = users.max(1);
        let calls = (0..users).map(|i| {
            call(
                reqwest::Method::POST,
                "/auth/register".into(),
                None,
                json!({"handle": format!("load{i}"), "password": "load bench password", "languages": ["en"]}),
            )
        });
        for v in futures_util::future::join_all(calls).await {
            self.tokens.push(v["token"].as_str().expect("token").to_owned());
        }
    }
}

pub type Ws = WebSocketStream<TcpStream>;

/// Opens a WebSocket to `target` at `path`, from the loopback address 127.0.0.(2 + n % 200),
/// so that many connections do not run out of ephemeral ports on one address.
pub async fn open(target: &Target, n: usize, path: &str) -> Ws {
    let local = Ipv4Addr::new(127, 0, 0, 2 + (n % 200) as u8);
    let mut tries = 0;
    loop {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind((local, 0).into()).expect("bind a loopback address");
        let attempt = async {
            let stream = socket.connect(target.addr).await?;
            stream.set_nodelay(true)?;
            let config = WebSocketConfig::default().read_buffer_size(16 * 1024).write_buffer_size(0);
            let url = format!("ws://{}{path}", target.addr);
            tokio_tungstenite::client_async_with_config(url, stream, Some(config))
                .await
                .map(|(ws, _)| ws)
                .map_err(std::io::Error::other)
        };
        match attempt.await {
            Ok(ws) => return ws,
            Err(e) => {
                // Under a connection storm the accept queue overflows: try again.
                tries += 1;
                assert!(tries < 50, "cannot connect to {}: {e}", target.addr);
                tokio::time::sleep(Duration::from_millis(20 * tries)).await;
            }
        }
    }
}

/// The WebSocket path each kind wants: the ceiling routes by path, the others by frames.
pub fn path(kind: Kind, role: &str, room: usize) -> String {
    match kind {
        Kind::Ceiling if role == "p" => "/p".into(),
        Kind::Ceiling => format!("/{role}/{room}"),
        Kind::Nats => "/".into(),
        Kind::Ours => "/ws".into(),
    }
}

/// Greets the server: `hello` with a token (ours), `CONNECT` then `PING`/`PONG` (NATS).
pub async fn greet(kind: Kind, ws: &mut Ws, token: Option<&str>) {
    match kind {
        Kind::Ceiling => {}
        Kind::Ours => {
            ws.send(text(json!({"type": "hello", "token": token}).to_string())).await.expect("hello");
            loop {
                let m = ws.next().await.expect("welcome").expect("welcome");
                if let Message::Text(t) = m {
                    assert!(t.starts_with(r#"{"type":"welcome""#), "expected welcome, got {t}");
                    break;
                }
            }
        }
        Kind::Nats => {
            let connect = "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1,\"echo\":false}\r\nPING\r\n";
            ws.send(text(connect.into())).await.expect("connect");
            let mut parser = NatsParser::default();
            loop {
                let m = ws.next().await.expect("pong").expect("pong");
                let mut done = false;
                parser.feed(m.into_data().as_ref(), |op| done |= matches!(op, NatsOp::Pong));
                if done {
                    break;
                }
            }
        }
    }
}

pub fn text(s: String) -> Message {
    Message::Text(s.into())
}

/// The frame that subscribes to room `room` (ours: after seq `since`).
pub fn subscribe_frame(target: &Target, room: usize, since: u64, sid: usize) -> Option<Message> {
    match target.kind {
        Kind::Ceiling => None,
        Kind::Nats => Some(text(format!("SUB room.{room} {sid}\r\n"))),
        Kind::Ours => Some(text(json!({"type": "subscribe", "room": target.rooms[room], "since": since}).to_string())),
    }
}

/// The frame that publishes `body` to room `room`.
pub fn publish_frame(target: &Target, room: usize, body: &str, nonce: &str) -> Message {
    match target.kind {
        Kind::Ceiling => text(format!("{room}|{body}")),
        Kind::Nats => text(format!("PUB room.{room} {}\r\n{body}\r\n", body.len())),
        Kind::Ours => text(
            json!({"type": "post", "room": target.rooms[room], "body": body, "nonce": nonce, "lang": "en"}).to_string(),
        ),
    }
}

/// What the NATS server sends, as far as the workload cares.
pub enum NatsOp<'a> {
    Msg { payload: &'a [u8] },
    Ping,
    Pong,
    Other,
}

/// A streaming parser of the NATS protocol: messages may span WebSocket frames.
#[derive(Default)]
pub struct NatsParser {
    buf: Vec<u8>,
}

impl NatsParser {
    pub fn feed(&mut self, data: &[u8], mut each: impl FnMut(NatsOp<'_>)) {
        self.buf.extend_from_slice(data);
        let mut at = 0;
        loop {
            let rest = &self.buf[at..];
            let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else { break };
            let line = &rest[..eol];
            if line.starts_with(b"MSG ") {
                let fields: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
                let size: usize = fields
                    .last()
                    .and_then(|f| std::str::from_utf8(f).ok())
                    .and_then(|f| f.parse().ok())
                    .expect("MSG size");
                let start = eol + 2;
                if rest.len() < start + size + 2 {
                    break;
                }
                each(NatsOp::Msg { payload: &rest[start..start + size] });
                at += start + size + 2;
            } else {
                each(match line {
                    b"PING" => NatsOp::Ping,
                    b"PONG" => NatsOp::Pong,
                    _ => NatsOp::Other,
                });
                at += eol + 2;
            }
        }
        self.buf.drain(..at);
    }
}
