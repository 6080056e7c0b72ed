use serde_json::json;

use crate::util::{Server, PASSWORD};

#[tokio::test]
async fn register_login_logout() {
    let s = Server::start().await;
    let ana = s.user_with("Ana_Maria", json!({"display_name": "Ana Maria", "languages": ["pt", "en"]})).await;
    assert_eq!(ana.user["handle"], "Ana_Maria");
    assert_eq!(ana.user["display_name"], "Ana Maria");
    assert_eq!(ana.user["languages"], json!(["pt", "en"]));
    assert_eq!(ana.user["roles"], json!(["member"]));
    let token = ana.token.clone().unwrap();
    assert!(token.len() >= 22, "at least 128 bits of token");

    let (status, me) = ana.get("/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], ana.user["id"]);

    // Handles are unique whatever their case.
    let (status, e) = s.guest().post("/auth/register", json!({"handle": "ana_maria", "password": PASSWORD})).await;
    assert_eq!(status, 409);
    assert_eq!(e["error"]["code"], "conflict");

    let (status, e) = s.guest().post("/auth/login", json!({"handle": "Ana_Maria", "password": "wrong password"})).await;
    assert_eq!(status, 401);
    assert_eq!(e["error"]["code"], "unauthorized");
    let (status, e) = s.guest().post("/auth/login", json!({"handle": "nobody", "password": PASSWORD})).await;
    assert_eq!((status, e["error"]["message"].clone()), (401, json!("wrong handle or password")));

    let (status, session) = s.guest().post("/auth/login", json!({"handle": "ana_maria", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    assert_eq!(session["user"]["id"], ana.user["id"]);
    assert_ne!(session["token"].as_str().unwrap(), token, "each login gets its own token");

    // Logout revokes this token only, on open WebSockets too.
    let mut live = ana.ws().await;
    let (status, session2) = s.guest().post("/auth/login", json!({"handle": "ana_maria", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    let mut other_device = ana.clone();
    other_device.token = session2["token"].as_str().map(str::to_owned);
    let mut other_ws = other_device.ws().await;
    let (status, _) = ana.post("/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    let (status, e) = ana.get("/me").await;
    assert_eq!((status, e["error"]["code"].clone()), (401, json!("unauthorized")));
    let mut other = ana.clone();
    other.token = session["token"].as_str().map(str::to_owned);
    assert_eq!(other.get("/me").await.0, 200);
    let e = live.expect("error").await;
    assert_eq!(e["code"], "unauthorized");
    assert_eq!(live.close_code().await, Some(4001));
    other_ws.send(json!({"type": "ping"})).await;
    other_ws.expect("pong").await;

    // A revoked token cannot say hello on a WebSocket either.
    let mut ws = crate::util::Ws::connect(s.addr).await;
    ws.send(json!({"type": "hello", "token": token})).await;
    let e = ws.expect("error").await;
    assert_eq!(e["code"], "unauthorized");
    s.stop().await;
}

#[tokio::test]
async fn every_bad_field_gets_a_clear_error() {
    let s = Server::start().await;
    let g = s.guest();
    let cases = [
        (json!({"handle": "ab", "password": PASSWORD}), "handle"),
        (json!({"handle": "has space", "password": PASSWORD}), "handle"),
        (json!({"handle": "_under", "password": PASSWORD}), "handle"),
        (json!({"handle": "x".repeat(33), "password": PASSWORD}), "handle"),
        (json!({"handle": "okname", "password": "short"}), "password"),
        (json!({"handle": "okname", "password": PASSWORD, "display_name": "   "}), "display_name"),
        (json!({"handle": "okname", "password": PASSWORD, "languages": ["english"]}), "languages"),
    ];
    for (body, field) in cases {
        let (status, e) = g.post("/auth/register", body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(e["error"]["code"], "bad_request");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().starts_with(field));
    }
    let (status, e) = g.post("/auth/register", json!({"password": PASSWORD})).await;
    assert_eq!((status, e["error"]["code"].clone()), (400, json!("bad_request")));
    // Nothing was created by the refused registrations.
    assert_eq!(g.post("/auth/login", json!({"handle": "okname", "password": PASSWORD})).await.0, 401);

    let u = s.user("profile").await;
    let (status, me) = u.patch("/me", json!({"display_name": "Fatou Diop", "languages": ["fr", "wo"]})).await;
    assert_eq!(status, 200);
    assert_eq!(me["display_name"], "Fatou Diop");
    assert_eq!(me["languages"], json!(["fr", "wo"]));
    let (status, e) = u.patch("/me", json!({"languages": ["xx"]})).await;
    assert_eq!((status, e["error"]["field"].clone()), (400, json!("languages")));
    assert_eq!(s.guest().get("/me").await.0, 401);
    s.stop().await;
}

#[tokio::test]
async fn passwords_and_tokens_are_stored_only_hashed() {
    let s = Server::start().await;
    let u = s.user("hashcheck").await;
    let token = u.token.clone().unwrap();
    let dir = s.dir.clone();
    let tmp = s.stop().await;
    let mut all = Vec::new();
    for entry in walk(&dir) {
        all.extend(std::fs::read(entry).unwrap_or_default());
    }
    let contains = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(PASSWORD.as_bytes()), "a password is stored in clear");
    assert!(!contains(token.as_bytes()), "a token is stored in clear");
    assert!(contains(b"$argon2id$"), "passwords are argon2id hashes");
    drop(tmp);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn admins_set_roles_and_others_cannot() {
    let s = Server::start().await;
    let admin = s.admin().await;
    assert!(admin.user["roles"].as_array().unwrap().contains(&json!("admin")));
    let u = s.user("futuremod").await;
    let (status, _) = u.put(&format!("/users/{}/roles", u.id()), json!({"roles": ["admin"]})).await;
    assert_eq!(status, 403);
    let (status, user) =
        admin.put(&format!("/users/{}/roles", u.id()), json!({"roles": ["moderator", "translator"]})).await;
    assert_eq!(status, 200);
    assert_eq!(user["roles"], json!(["member", "translator", "moderator"]));
    let (status, e) = admin.put(&format!("/users/{}/roles", u.id()), json!({"roles": ["boss"]})).await;
    assert_eq!((status, e["error"]["code"].clone()), (400, json!("bad_request")));
    s.stop().await;
}

#[tokio::test]
async fn a_guest_learns_the_communitys_name_languages_and_limits_first() {
    let s = Server::start_with(|c| {
        c.name = "Cérebro Coletivo".into();
        c.languages = collective_brain::model::Lang::many(&["pt", "es", "en"]);
        c.max_post_bytes = 20_000;
    })
    .await;
    let (status, v) = s.guest().get("/config").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["name"], "Cérebro Coletivo");
    assert_eq!(v["languages"], json!(["pt", "es", "en"]));
    assert_eq!(v["signup"], "open");
    assert_eq!(v["email"], false);
    assert_eq!(v["max_file_bytes"], 25 * 1024 * 1024);
    assert_eq!(v["max_post_bytes"], 20_000);
    assert_eq!(v["min_password_chars"], 10);

    // The interface languages are exactly those the web client has texts for, and each
    // has a welcome.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/i18n");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("web/i18n")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".js").map(str::to_owned))
        .filter(|name| !name.contains('-')) // parts loaded with a page: admin-fr.js
        .collect();
    files.sort();
    let mut ui: Vec<String> =
        v["ui_languages"].as_array().expect("ui_languages").iter().map(|l| l.as_str().unwrap().to_owned()).collect();
    ui.sort();
    assert_eq!(ui, files);
    for l in &ui {
        let text = v["welcome"][l].as_str().unwrap_or_default();
        assert!(text.contains("Collective Brain") && text.len() > 200, "welcome in {l}: {text}");
    }
}
