//! Every JSON body (and query string) the HTTP API accepts, through the real router of a
//! real server: never a 5xx or a panic, and every error in the documented shape.
//!
//! Input: byte 0 picks the endpoint, byte 1 the caller (admin, member, guest, a token
//! that does not exist) and the content type, byte 2 the client's address; the rest is
//! the body, or for GET endpoints the query string.
#![no_main]

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::OnceLock;

use axum::http::Method;
use collective_brain_fuzz::{assert_contract, Live};
use libfuzzer_sys::fuzz_target;

/// (method, path with {placeholders}); GET ones take the input as their query string.
const ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("PATCH", "/me"),
    ("PUT", "/users/{victim}/roles"),
    ("POST", "/spaces"),
    ("POST", "/spaces/{private_space}/members"),
    ("PUT", "/spaces/{private_space}/coordinators"),
    ("PUT", "/rooms/{public_room}/pin"),
    ("POST", "/spaces/{public_space}/rooms"),
    ("POST", "/spaces/{private_space}/rooms"),
    ("PUT", "/rooms/{public_room}/read"),
    ("POST", "/rooms/{public_room}/posts"),
    ("POST", "/rooms/{private_room}/posts"),
    ("PATCH", "/posts/{public_post}"),
    ("PATCH", "/posts/{private_post}"),
    ("POST", "/posts/{public_post}/translations"),
    ("POST", "/posts/{private_post}/translations"),
    ("PUT", "/me/translator"),
    ("POST", "/translations/claim"),
    ("POST", "/translations/release"),
    ("POST", "/posts/{public_post}/flags"),
    ("POST", "/posts/{public_post}/hide"),
    ("PUT", "/users/{victim}/suspension"),
    ("PUT", "/notifications/read"),
    ("POST", "/glossary"),
    ("GET", "/search"),
    ("GET", "/rooms/{public_room}/posts"),
    ("GET", "/spaces/{public_space}/rooms"),
    ("GET", "/translations/queue"),
    ("GET", "/notifications"),
    ("GET", "/moderation/log"),
    ("GET", "/moderation/review"),
];

static LIVE: OnceLock<Mutex<Live>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let live = LIVE.get_or_init(|| Mutex::new(Live::start()));
    let mut live = live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (method, template) = ENDPOINTS[usize::from(data[0]) % ENDPOINTS.len()];
    let ids = &live.ids;
    let path = template
        .replace("{victim}", &ids.victim)
        .replace("{public_space}", &ids.public_space)
        .replace("{public_room}", &ids.public_room)
        .replace("{public_post}", &ids.public_post)
        .replace("{private_space}", &ids.private_space)
        .replace("{private_room}", &ids.private_room)
        .replace("{private_post}", &ids.private_post);
    let token = match data[1] % 4 {
        0 => Some(live.admin_token.clone()),
        1 => Some(live.member_token.clone()),
        2 => None,
        _ => Some("0000000000000000000000000000000000000000000".to_owned()),
    };
    let content_type = match (data[1] / 4) % 4 {
        0 | 1 => Some("application/json"),
        2 => Some("text/plain"),
        _ => None,
    };
    let peer = SocketAddr::from(([127, 0, 0, data[2]], 40000));
    let rest = &data[3..];
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let answer = if method == Method::GET {
        let query = String::from_utf8_lossy(rest);
        let uri = format!("/api/v1{path}?{query}");
        live.request(method.clone(), &uri, token.as_deref(), None, Vec::new(), peer)
    } else {
        live.request(method.clone(), &format!("/api/v1{path}"), token.as_deref(), content_type, rest.to_vec(), peer)
    };
    if answer.status == 0 {
        return;
    }
    assert_contract(&format!("{method} {path}"), &answer);
    if template == "/auth/logout" || answer.status == 401 {
        live.refresh_tokens();
    }
});
