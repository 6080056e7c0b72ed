//! What the fuzz targets share: one real server per fuzzing process, on a temporary data
//! dir, with an admin, a member, a third user for the paths that act on someone, a
//! public thread, a private working group with its own thread, and posts in both.
//!
//! The server lives as long as the process; state carries over from one input to the
//! next, as it does for a server that has been up for a while. Every check is an
//! `assert!`/`panic!`, which libFuzzer reports as a crash with the input that caused it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use axum::Router;
use collective_brain::limits::Limits;
use collective_brain::{App, Config};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "fuzzing admin password";
const PASSWORD: &str = "fuzzing user password";

/// The ids the targets put in paths and seeds refer to.
#[derive(Clone, Debug)]
pub struct Ids {
    pub admin: String,
    pub member: String,
    pub victim: String,
    pub public_space: String,
    pub public_room: String,
    pub public_post: String,
    pub private_space: String,
    pub private_room: String,
    pub private_post: String,
}

pub struct Live {
    pub rt: tokio::runtime::Runtime,
    pub app: Arc<App>,
    pub router: Router,
    /// The same server, listening on loopback (for the WebSocket target).
    pub addr: SocketAddr,
    pub ids: Ids,
    pub admin_token: String,
    pub member_token: String,
    _dir: tempfile::TempDir,
}

/// An HTTP answer: status and the JSON body (Null when empty).
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Live {
    pub fn start() -> Live {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = Config::with_data_dir(dir.path());
        config.admin_password = Some(ADMIN_PASSWORD.into());
        config.limits = Limits::off();
        config.cache_mb = 32;
        config.index_commit_ms = 50;
        // No scheduled backup in the middle of a fuzzing run.
        config.backup_every_hours = 0;
        // The sockets here say `hello` late or not at all (a guest that never greets is one
        // of them) and go unused while others are fuzzed: the timeouts that close such
        // sockets are tested in tests/it/hostile.rs, not here.
        config.hello_timeout_secs = 24 * 3600;
        config.idle_timeout_secs = 24 * 3600;
        let app = rt.block_on(App::open(config)).expect("the server opens its data dir");
        let router = collective_brain::http::router(app.clone());
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let served = app.clone();
        rt.spawn(async move {
            let _ = collective_brain::serve(listener, served, std::future::pending()).await;
        });
        let mut live = Live {
            rt,
            app,
            router,
            addr,
            ids: Ids {
                admin: String::new(),
                member: String::new(),
                victim: String::new(),
                public_space: String::new(),
                public_room: String::new(),
                public_post: String::new(),
                private_space: String::new(),
                private_room: String::new(),
                private_post: String::new(),
            },
            admin_token: String::new(),
            member_token: String::new(),
            _dir: dir,
        };
        live.seed();
        live
    }

    fn seed(&mut self) {
        let admin = self.json(Method::POST, "/api/v1/auth/login", None, json!({"handle": "admin", "password": ADMIN_PASSWORD}));
        self.admin_token = str_of(&admin.body["token"]);
        self.ids.admin = str_of(&admin.body["user"]["id"]);
        let member = self.json(Method::POST, "/api/v1/auth/register", None, json!({"handle": "membro", "password": PASSWORD, "languages": ["pt", "es"]}));
        self.member_token = str_of(&member.body["token"]);
        self.ids.member = str_of(&member.body["user"]["id"]);
        let victim = self.json(Method::POST, "/api/v1/auth/register", None, json!({"handle": "terceiro", "password": PASSWORD}));
        self.ids.victim = str_of(&victim.body["user"]["id"]);
        let admin_token = self.admin_token.clone();
        let spaces = self.call(Method::GET, "/api/v1/spaces", Some(&admin_token), Vec::new());
        let general = spaces.body.as_array().and_then(|a| a.iter().find(|s| s["slug"] == "general")).cloned().unwrap_or(Value::Null);
        self.ids.public_space = str_of(&general["id"]);
        let room = self.json(
            Method::POST,
            &format!("/api/v1/spaces/{}/rooms", self.ids.public_space),
            Some(&admin_token),
            json!({"title": "Cooperativas", "body": "As cooperativas de mulheres em Moçambique", "nonce": "seed-1"}),
        );
        self.ids.public_room = str_of(&room.body["room"]["id"]);
        self.ids.public_post = str_of(&room.body["post"]["id"]);
        let space = self.json(
            Method::POST,
            "/api/v1/spaces",
            Some(&admin_token),
            json!({"slug": "sul-sul", "name": "South-South", "kind": "forum", "visibility": "private", "post_policy": "members"}),
        );
        self.ids.private_space = str_of(&space.body["id"]);
        let member_id = self.ids.member.clone();
        self.json(
            Method::POST,
            &format!("/api/v1/spaces/{}/members", self.ids.private_space),
            Some(&admin_token),
            json!({"user": member_id}),
        );
        let room = self.json(
            Method::POST,
            &format!("/api/v1/spaces/{}/rooms", self.ids.private_space),
            Some(&admin_token),
            json!({"title": "Triangular", "body": "Le budget secret du projet triangulaire", "nonce": "seed-2"}),
        );
        self.ids.private_room = str_of(&room.body["room"]["id"]);
        self.ids.private_post = str_of(&room.body["post"]["id"]);
        for (name, id) in [
            ("admin", &self.ids.admin),
            ("member", &self.ids.member),
            ("public_room", &self.ids.public_room),
            ("public_post", &self.ids.public_post),
            ("private_space", &self.ids.private_space),
            ("private_room", &self.ids.private_room),
            ("private_post", &self.ids.private_post),
        ] {
            assert!(!id.is_empty(), "seeding the fuzz server: no {name}");
        }
        eprintln!("fuzz server on {}: {:?}", self.addr, self.ids);
    }

    /// Sends one request through the router, as if from `peer`.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>, content_type: Option<&str>, body: Vec<u8>, peer: SocketAddr) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let mut req = match req.body(Body::from(body)) {
            Ok(r) => r,
            // A path the HTTP library itself refuses never reaches the server.
            Err(_) => return Answer { status: 0, body: Value::Null, raw: Vec::new() },
        };
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = self.router.clone();
        self.rt.block_on(async move {
            let resp = router.oneshot(req).await.expect("the router is infallible");
            let status = resp.status().as_u16();
            let raw = resp.into_body().collect().await.expect("the body is readable").to_bytes().to_vec();
            let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).unwrap_or(Value::Null) };
            Answer { status, body, raw }
        })
    }

    pub fn call(&self, method: Method, path: &str, token: Option<&str>, body: Vec<u8>) -> Answer {
        let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
        self.request(method, path, token, Some("application/json"), body, peer)
    }

    fn json(&self, method: Method, path: &str, token: Option<&str>, body: Value) -> Answer {
        let a = self.call(method.clone(), path, token, body.to_string().into_bytes());
        assert!((200..300).contains(&a.status), "seeding the fuzz server: {method} {path} answered {} {}", a.status, a.body);
        a
    }

    /// Signs the admin and the member in again when an input signed them out.
    pub fn refresh_tokens(&mut self) {
        let admin = self.admin_token.clone();
        if self.call(Method::GET, "/api/v1/me", Some(&admin), Vec::new()).status == 401 {
            let a = self.json(Method::POST, "/api/v1/auth/login", None, json!({"handle": "admin", "password": ADMIN_PASSWORD}));
            self.admin_token = str_of(&a.body["token"]);
        }
        let member = self.member_token.clone();
        if self.call(Method::GET, "/api/v1/me", Some(&member), Vec::new()).status == 401 {
            let a = self.json(Method::POST, "/api/v1/auth/login", None, json!({"handle": "membro", "password": PASSWORD}));
            self.member_token = str_of(&a.body["token"]);
        }
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The contract for every answer: never a 5xx, and every error is the documented JSON
/// `{"error": {"code", "message"}}`.
pub fn assert_contract(what: &str, a: &Answer) {
    assert!(a.status < 500, "{what}: answered {} {}", a.status, String::from_utf8_lossy(&a.raw));
    if a.status >= 400 {
        let code = a.body["error"]["code"].as_str();
        let message = a.body["error"]["message"].as_str();
        assert!(
            code.is_some() && message.is_some(),
            "{what}: error {} without the error shape: {}",
            a.status,
            String::from_utf8_lossy(&a.raw)
        );
    }
}
