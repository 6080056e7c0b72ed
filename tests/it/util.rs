//! Starts the real server on port 0 with a temporary data dir, and talks to it over HTTP
//! and WebSocket.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use collective_brain::Config;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "correct horse battery";
/// How long a test waits for any one frame before failing.
pub const FRAME_WAIT: Duration = Duration::from_secs(15);

/// A server running in this process.
pub struct Server {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    pub http: reqwest::Client,
}

pub fn test_config(dir: &Path) -> Config {
    Config {
        admin_password: Some(ADMIN_PASSWORD.into()),
        // The server runs inside the test program: documents are read by the real one.
        extractor: Some(env!("CARGO_BIN_EXE_collective-brain").into()),
        ..Config::with_data_dir(dir)
    }
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with(|_| {}).await
    }

    /// Starts on a new temporary data dir, after `tweak` has adjusted the config.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut s = Self::start_in(tmp.path(), tweak).await;
        s._tmp = Some(tmp);
        s
    }

    /// Starts on an existing data dir (kept by the caller).
    pub async fn start_in(dir: &Path, tweak: impl FnOnce(&mut Config)) -> Server {
        let mut config = test_config(dir);
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            collective_brain::run(listener, config, async {
                let _ = stopped.await;
            })
            .await
            .expect("server ran");
        });
        let server = Server {
            addr,
            dir: dir.to_owned(),
            _tmp: None,
            stop: Some(stop),
            task: Some(task),
            http: reqwest::Client::new(),
        };
        // Ready once it answers (the first start seeds the data dir).
        for _ in 0..200 {
            if let Ok(r) = server.http.get(server.url("/healthz")).send().await {
                if r.status().is_success() {
                    return server;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server did not come up");
    }

    /// Shuts down gracefully and waits until the data dir is released.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task");
        }
        self._tmp.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn api(&self, path: &str) -> String {
        format!("http://{}/api/v1{}", self.addr, path)
    }

    /// Registers a user and returns it signed in.
    pub async fn user(&self, handle: &str) -> Client {
        self.user_with(handle, json!({})).await
    }

    pub async fn user_with(&self, handle: &str, extra: Value) -> Client {
        let mut body = json!({"handle": handle, "password": PASSWORD});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self.http.post(self.api("/auth/register")).json(&body).send().await.expect("register");
        assert_eq!(r.status(), 201, "register {handle}");
        let v: Value = r.json().await.expect("json");
        Client::from_session(self, &v)
    }

    pub async fn admin(&self) -> Client {
        let r = self
            .http
            .post(self.api("/auth/login"))
            .json(&json!({"handle": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("json");
        Client::from_session(self, &v)
    }

    pub fn guest(&self) -> Client {
        Client { addr: self.addr, http: self.http.clone(), token: None, user: Value::Null }
    }

    /// The room of the starting Lobby chat.
    pub async fn lobby_room(&self) -> String {
        let lobby = self.space_id("lobby").await;
        let (_, space) = self.guest().get(&format!("/spaces/{lobby}")).await;
        space["room"].as_str().expect("the lobby has its room").to_owned()
    }

    /// The id of a starting space by slug.
    pub async fn space_id(&self, slug: &str) -> String {
        let spaces = self.guest().get("/spaces").await.1;
        spaces
            .as_array()
            .and_then(|a| a.iter().find(|s| s["slug"] == slug))
            .and_then(|s| s["id"].as_str())
            .unwrap_or_else(|| panic!("no space {slug}"))
            .to_owned()
    }
}

/// A signed-in user (or a guest), over HTTP.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub token: Option<String>,
    pub user: Value,
}

impl Client {
    fn from_session(server: &Server, v: &Value) -> Client {
        Client {
            addr: server.addr,
            http: server.http.clone(),
            token: v["token"].as_str().map(str::to_owned),
            user: v["user"].clone(),
        }
    }

    pub fn id(&self) -> String {
        self.user["id"].as_str().expect("user id").to_owned()
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("http://{}/api/v1{}", self.addr, path));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn send(r: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = r.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::send(self.req(reqwest::Method::GET, path)).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        Self::send(self.req(reqwest::Method::POST, path).json(&body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        Self::send(self.req(reqwest::Method::PUT, path).json(&body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        Self::send(self.req(reqwest::Method::PATCH, path).json(&body)).await
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        Self::send(self.req(reqwest::Method::DELETE, path)).await
    }
    pub async fn delete_with(&self, path: &str, body: Value) -> (u16, Value) {
        Self::send(self.req(reqwest::Method::DELETE, path).json(&body)).await
    }

    /// `POST /files?name=NAME` with `bytes` as the body.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> (u16, Value) {
        let path = format!("/files?name={}", urlencode(name));
        Self::send(
            self.req(reqwest::Method::POST, &path).header("content-type", "application/octet-stream").body(bytes),
        )
        .await
    }

    /// A GET whose answer is kept whole: status, headers and bytes.
    pub async fn get_raw(&self, path: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut r = self.req(reqwest::Method::GET, path);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let resp = r.send().await.expect("request");
        let status = resp.status().as_u16();
        let h = resp.headers().clone();
        (status, h, resp.bytes().await.expect("body").to_vec())
    }

    /// Opens a WebSocket and says hello with this client's token.
    pub async fn ws(&self) -> Ws {
        let mut ws = Ws::connect(self.addr).await;
        let hello = match &self.token {
            Some(t) => json!({"type": "hello", "token": t}),
            None => json!({"type": "hello"}),
        };
        ws.send(hello).await;
        let welcome = ws.expect("welcome").await;
        assert_eq!(welcome["protocol"], 1);
        ws
    }
}

/// A WebSocket client speaking the protocol.
pub struct Ws {
    pub inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn connect(addr: SocketAddr) -> Ws {
        let (inner, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("ws connect");
        Ws { inner }
    }

    pub async fn send(&mut self, v: Value) {
        self.inner.send(Message::Text(v.to_string().into())).await.expect("ws send");
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.inner.send(m).await.expect("ws send");
    }

    /// The next text frame as JSON; panics on a close or after `FRAME_WAIT`.
    pub async fn recv(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(FRAME_WAIT, self.inner.next())
                .await
                .expect("timed out waiting for a frame")
                .expect("socket ended")
                .expect("socket error");
            match m {
                Message::Text(t) => return serde_json::from_str(&t).expect("frame is JSON"),
                Message::Close(c) => panic!("socket closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame that is not `typing`, `room_updated` or `room_created`, and is of
    /// type `ty`.
    pub async fn expect(&mut self, ty: &str) -> Value {
        let v = self.recv().await;
        assert_eq!(v["type"], ty, "expected {ty}, got {v}");
        v
    }

    /// Skips frames until one of type `ty`.
    pub async fn until(&mut self, ty: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == ty {
                return v;
            }
        }
    }

    /// Waits for the close frame and returns its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(FRAME_WAIT, self.inner.next()).await.expect("timed out waiting for close") {
                Some(Ok(Message::Close(c))) => return c.map(|c| u16::from(c.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Posts and waits for the matching ack (other frames in between are skipped).
    pub async fn post(&mut self, room: &str, body: &str, nonce: &str) -> Value {
        self.send(json!({"type": "post", "room": room, "body": body, "nonce": nonce})).await;
        loop {
            let v = self.recv().await;
            if (v["type"] == "ack" || v["type"] == "error") && v["nonce"] == nonce || v["ref"] == nonce {
                return v;
            }
        }
    }

    /// Posts `n` bodies with nonces `{prefix}{i}`, keeping up to `window` in flight
    /// (a client must read its acks, or its own socket fills up). Returns the acks.
    pub async fn post_many(&mut self, room: &str, body: &str, prefix: &str, n: usize, window: usize) -> Vec<Value> {
        let mut acks = Vec::with_capacity(n);
        let mut sent = 0;
        while acks.len() < n {
            while sent < n && sent - acks.len() < window {
                self.send(json!({"type": "post", "room": room, "body": body, "nonce": format!("{prefix}{sent}")}))
                    .await;
                sent += 1;
            }
            let v = self.until("ack").await;
            acks.push(v);
        }
        acks
    }

    /// Subscribes and collects the replay, returning (events, head).
    pub async fn subscribe(&mut self, room: &str, since: u64) -> (Vec<Value>, u64) {
        self.send(json!({"type": "subscribe", "room": room, "since": since})).await;
        let mut events = Vec::new();
        loop {
            let v = self.recv().await;
            match v["type"].as_str() {
                Some("event") => events.push(v),
                Some("subscribed") => return (events, v["head"].as_u64().expect("head")),
                Some("error") => panic!("subscribe failed: {v}"),
                _ => {}
            }
        }
    }
}

/// A new thread in a forum space, made over HTTP; returns (room id, first post).
pub async fn thread(c: &Client, space: &str, title: &str, body: &str) -> (String, Value) {
    let nonce = format!("t-{title}");
    let (status, v) =
        c.post(&format!("/spaces/{space}/rooms"), json!({"title": title, "body": body, "nonce": nonce})).await;
    assert_eq!(status, 201, "create thread: {v}");
    (v["room"]["id"].as_str().expect("room id").to_owned(), v["post"].clone())
}

/// A private forum space made by `admin`, with `members` in it; returns its id.
pub async fn private_forum(admin: &Client, slug: &str, members: &[&Client]) -> String {
    let (status, space) = admin
        .post(
            "/spaces",
            json!({"slug": slug, "name": slug, "kind": "forum", "visibility": "private", "post_policy": "members"}),
        )
        .await;
    assert_eq!(status, 201, "create {slug}: {space}");
    let id = space["id"].as_str().expect("space id").to_owned();
    for m in members {
        let (status, e) = admin.post(&format!("/spaces/{id}/members"), json!({"user": m.id()})).await;
        assert_eq!(status, 204, "add member: {e}");
    }
    id
}

/// Searches until `done` holds for the answer (the index commits a fraction of a second
/// after the ack), or fails after 5 s.
pub async fn search_until(c: &Client, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, v) = c.get(&format!("/search?{query}")).await;
        assert_eq!(status, 200, "{v}");
        if done(&v) {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "search {query} never satisfied: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `text` percent-encoded for a query string.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
