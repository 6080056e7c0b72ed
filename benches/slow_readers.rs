//! Guests that subscribe to a long room from its start and never read: what they cost
//! the server, and whether the memory comes back once they go.
//!
//! ```text
//! cargo bench --bench slow_readers -- [--guests N] [--posts N] [--body BYTES] [--after SECS]
//! ```
//! Defaults: 2,000 guests, a room of 50,000 posts of 1 KiB, RSS read 60 s after they
//! leave. "Idle" is read after one reader has taken the whole room once, so that the
//! store's page cache already holds it. The server is the release binary, run as its own process on a temporary data
//! dir; its RSS is read from /proc. Each guest's socket has a small receive buffer, so the
//! server's writes to it block at once, as with a client on a stalled mobile link.
//! `CB_BENCH_SERVER=PATH` runs another build of the server instead. Results go in
//! docs/BENCHMARKS.md.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const ADMIN_PASSWORD: &str = "slow readers bench password";

struct Options {
    guests: usize,
    posts: usize,
    body: usize,
    after: u64,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Options {
        guests: get("--guests", 2000),
        posts: get("--posts", 50_000),
        body: get("--body", 1024),
        after: get("--after", 60) as u64,
    }
}

/// RSS of `pid` in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let binary = std::env::var("CB_BENCH_SERVER").unwrap_or_else(|_| env!("CARGO_BIN_EXE_collective-brain").into());
    let child = Command::new(binary)
        .env("CB_DATA_DIR", dir.path())
        .env("CB_LISTEN", addr.to_string())
        .env("CB_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CB_RATE_LIMITS", "off")
        .env("CB_MAX_CONNECTIONS_PER_ADDRESS", "10000")
        .env("CB_MAX_CONNECTIONS", "20000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary runs");
    Server { child, addr, _dir: dir }
}

async fn ready(http: &reqwest::Client, addr: SocketAddr) {
    for _ in 0..400 {
        if http.get(format!("http://{addr}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// A WebSocket; a guest's (`small`) with a small receive buffer.
async fn connect(addr: SocketAddr, small: bool) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpSocket::new_v4().expect("socket");
    if small {
        tcp.set_recv_buffer_size(16 * 1024).expect("buffer");
    }
    let tcp = tcp.connect(addr).await.expect("connect");
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), tcp).await.expect("upgrade");
    ws
}

#[tokio::main]
async fn main() {
    let o = options();
    let server = start();
    let pid = server.child.id();
    let http = reqwest::Client::new();
    ready(&http, server.addr).await;
    let login: Value = http
        .post(format!("http://{}/api/v1/auth/login", server.addr))
        .json(&json!({"handle": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let spaces: Value = http
        .get(format!("http://{}/api/v1/spaces", server.addr))
        .send()
        .await
        .expect("spaces")
        .json()
        .await
        .expect("json");
    let lobby = spaces.as_array().and_then(|a| a.iter().find(|s| s["slug"] == "lobby")).expect("the lobby");
    let room = lobby["room"].as_str().expect("its room").to_owned();

    // The long room.
    let started = Instant::now();
    let mut poster = connect(server.addr, false).await;
    poster.send(Message::Text(json!({"type": "hello", "token": token}).to_string().into())).await.expect("hello");
    let filler = "Economia social e solidária: cooperativas, mutualidades e associações. ".repeat(o.body / 72 + 1);
    let (mut sent, mut acked, window) = (0usize, 0usize, 256usize);
    while acked < o.posts {
        while sent < o.posts && sent - acked < window {
            let body = format!("{sent} {}", &filler[..o.body.min(filler.len())]);
            let frame = json!({"type": "post", "room": room, "body": body, "nonce": format!("n{sent}")});
            poster.send(Message::Text(frame.to_string().into())).await.expect("post");
            sent += 1;
        }
        match poster.next().await {
            Some(Ok(Message::Text(t))) if t.contains(r#""type":"ack""#) => acked += 1,
            Some(Ok(_)) => {}
            other => panic!("the poster's socket ended: {other:?}"),
        }
    }
    drop(poster);
    println!("room of {} posts of {} B made in {:.1?}", o.posts, o.body, started.elapsed());
    // One reader takes the whole replay first, so that the store's page cache holds the
    // room before "idle" is read: what follows is the guests' cost, not the cache's.
    let mut reader = connect(server.addr, false).await;
    reader.send(Message::Text(json!({"type": "hello"}).to_string().into())).await.expect("hello");
    reader
        .send(Message::Text(json!({"type": "subscribe", "room": room, "since": 0}).to_string().into()))
        .await
        .expect("subscribe");
    while let Some(Ok(m)) = reader.next().await {
        if matches!(&m, Message::Text(t) if t.contains(r#""type":"subscribed""#)) {
            break;
        }
    }
    drop(reader);
    tokio::time::sleep(Duration::from_secs(15)).await;
    let idle = rss(pid);

    // The guests: hello, subscribe from the start, never read again.
    let started = Instant::now();
    let mut guests = Vec::with_capacity(o.guests);
    for _ in 0..o.guests {
        let mut ws = connect(server.addr, true).await;
        ws.send(Message::Text(json!({"type": "hello"}).to_string().into())).await.expect("hello");
        ws.send(Message::Text(json!({"type": "subscribe", "room": room, "since": 0}).to_string().into()))
            .await
            .expect("subscribe");
        guests.push(ws);
    }
    println!("{} guests subscribed in {:.1?}", o.guests, started.elapsed());
    let mut peak = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(rss(pid));
    }
    let with = rss(pid);
    // Someone else is still served.
    let t = Instant::now();
    let r = http.get(format!("http://{}/api/v1/rooms/{room}/posts?limit=1", server.addr)).send().await;
    let served = r.is_ok_and(|r| r.status().is_success());
    let answer = t.elapsed();
    drop(guests);
    tokio::time::sleep(Duration::from_secs(o.after)).await;
    let after = rss(pid);

    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| server RSS, idle (room made) | {:.1} MiB |", mib(idle));
    println!("| with {} never-reading guests (after 10 s) | {:.1} MiB (peak {:.1}) |", o.guests, mib(with), mib(peak));
    println!(
        "| above idle | {:.1} MiB ({:.1} KiB a guest) |",
        mib(peak.saturating_sub(idle)),
        peak.saturating_sub(idle) as f64 / 1024.0 / o.guests as f64
    );
    println!(
        "| another client's request meanwhile | {} in {:.1?} |",
        if served { "answered" } else { "FAILED" },
        answer
    );
    println!(
        "| {} s after they left | {:.1} MiB ({:+.0}% of idle) |",
        o.after,
        mib(after),
        (after as f64 / idle as f64 - 1.0) * 100.0
    );
}
