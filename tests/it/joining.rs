//! How people join: the community's settings from the browser, sign-up modes,
//! invitation codes for a cohort, and approval of new accounts.

use std::time::Duration;

use serde_json::{json, Value};

use crate::util::*;

async fn register(s: &Server, body: Value) -> (u16, Value) {
    s.guest().post("/auth/register", body).await
}

fn with_password(handle: &str, extra: Value) -> Value {
    let mut body = json!({"handle": handle, "password": PASSWORD});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

#[tokio::test]
async fn admins_set_the_name_the_sign_up_mode_and_the_welcome_and_they_outlive_a_restart() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("amina").await;
    let (_, config) = s.guest().get("/config").await;
    assert_eq!(config["signup"], "open");
    assert!(config["welcome"]["fr"].as_str().unwrap().contains("Académie"), "the built-in welcome");

    let patch =
        json!({"name": "Cérebro Coletivo", "signup": "invite", "welcome": {"pt": "Bem-vindos, turma de 2027!"}});
    let (status, e) = member.patch("/config", patch.clone()).await;
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, e) = admin.patch("/config", json!({"signup": "closed"})).await;
    assert_eq!(status, 400, "an unknown mode: {e}");
    let (status, e) = admin.patch("/config", json!({"welcome": {"portugues": "x"}})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("welcome")));
    let (status, config) = admin.patch("/config", patch).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["name"], "Cérebro Coletivo");
    assert_eq!(config["signup"], "invite");
    assert_eq!(config["welcome"]["pt"], "Bem-vindos, turma de 2027!");
    assert!(config["welcome"]["en"].as_str().unwrap().contains("Academy"), "other languages keep theirs");

    let tmp = s.stop().await.expect("temp dir");
    let s = Server::start_in(tmp.path(), |_| {}).await;
    let (_, config) = s.guest().get("/config").await;
    assert_eq!((config["name"].as_str(), config["signup"].as_str()), (Some("Cérebro Coletivo"), Some("invite")));
    assert_eq!(config["welcome"]["pt"], "Bem-vindos, turma de 2027!");
    // An empty text gives the built-in one back.
    let admin = s.admin().await;
    let (_, config) = admin.patch("/config", json!({"welcome": {"pt": " "}})).await;
    assert!(config["welcome"]["pt"].as_str().unwrap().contains("Academia"), "{config}");
    drop(tmp);
}

#[tokio::test]
async fn a_cohorts_invitation_joins_its_working_group_within_its_uses_and_its_date() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let group = private_forum(&admin, "academy-2027", &[]).await;
    admin.patch("/config", json!({"signup": "invite"})).await;

    let (status, e) = register(&s, with_password("nocode", json!({}))).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("invite")), "a code is needed: {e}");
    let (status, e) = register(&s, with_password("badcode", json!({"invite": "not a code!"}))).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("invite")), "{e}");
    let (status, e) = register(&s, with_password("guess", json!({"invite": "AAAAAAAAAAAAAAAA"}))).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("invite")), "{e}");

    let (status, invite) = admin
        .post(
            "/invites",
            json!({"spaces": [group], "max_uses": 2, "expires_at": "2099-12-31", "label": "Academy 2027"}),
        )
        .await;
    assert_eq!(status, 201, "{invite}");
    let code = invite["code"].as_str().unwrap().to_owned();
    assert_eq!(invite["url"], format!("/#/join/{code}"));
    assert_eq!((invite["uses"].as_u64(), invite["max_uses"].as_u64()), (Some(0), Some(2)));
    assert!(invite["expires_at"].as_str().unwrap().starts_with("2100-01-01T00:00:00"), "{invite}");

    for handle in ["kwame", "lucia"] {
        let (status, joined) = register(&s, with_password(handle, json!({"invite": code}))).await;
        assert_eq!(status, 201, "{joined}");
        let c =
            Client { token: joined["token"].as_str().map(str::to_owned), user: joined["user"].clone(), ..s.guest() };
        let (status, space) = c.get(&format!("/spaces/{group}")).await;
        assert_eq!(status, 200, "{handle} is in the group: {space}");
    }
    let (status, e) = register(&s, with_password("third", json!({"invite": code}))).await;
    assert_eq!((status, e["error"]["message"].as_str()), (400, Some("invite: this invitation code is used up")));
    assert!(s.guest().post("/auth/login", json!({"handle": "third", "password": PASSWORD})).await.0 == 401);
    let (_, listed) = admin.get("/invites").await;
    assert_eq!(listed[0]["uses"], 2);

    // A code that expires, then the clock passes it.
    let (_, soon) = admin.post("/invites", json!({"expires_at": "2099-01-01T00:00:00Z"})).await;
    let (status, e) = admin.post("/invites", json!({"expires_at": "2001-01-01"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("expires_at")));
    // Revoked: gone for everyone.
    let (_, revoked) = admin.post("/invites", json!({})).await;
    let revoked = revoked["code"].as_str().unwrap();
    assert_eq!(admin.delete(&format!("/invites/{revoked}")).await.0, 204);
    let (status, e) = register(&s, with_password("late", json!({"invite": revoked}))).await;
    assert_eq!((status, e["error"]["message"].as_str()), (400, Some("invite: this invitation code is unknown")));
    let (status, _) = register(&s, with_password("early", json!({"invite": soon["code"]}))).await;
    assert_eq!(status, 201, "not expired yet");
}

#[tokio::test]
async fn an_invitation_past_its_date_admits_nobody() {
    let mut clock = None;
    let s = Server::start_with(|c| clock = Some(c.clock.clone())).await;
    let clock = clock.unwrap();
    let admin = s.admin().await;
    let tomorrow = collective_brain::clock::rfc3339(clock.now_ms() + 86_400_000);
    let (_, invite) = admin.post("/invites", json!({"expires_at": tomorrow})).await;
    clock.advance(Duration::from_secs(2 * 86_400));
    let (status, e) = register(&s, with_password("kofi", json!({"invite": invite["code"]}))).await;
    assert_eq!((status, e["error"]["message"].as_str()), (400, Some("invite: this invitation code is expired")), "{e}");
}

#[tokio::test]
async fn coordinators_invite_into_their_own_group_only_and_members_not_at_all() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let (coord, member) = (s.user("coord").await, s.user("member").await);
    let theirs = private_forum(&admin, "south-south", &[&coord]).await;
    let other = private_forum(&admin, "triangular", &[]).await;
    let (status, _) = admin.put(&format!("/spaces/{theirs}/coordinators"), json!({"users": [coord.id()]})).await;
    assert_eq!(status, 200);

    let (status, e) = member.post("/invites", json!({"spaces": [theirs]})).await;
    assert_eq!(status, 404, "a member outside the group does not see it: {e}");
    let (status, _) = member.post("/invites", json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = coord.post("/invites", json!({})).await;
    assert_eq!(status, 403, "a coordinator names their group");
    let (status, e) = coord.post("/invites", json!({"spaces": [other]})).await;
    assert_eq!(status, 404, "another group stays unseen: {e}");
    let (status, mine) = coord.post("/invites", json!({"spaces": [theirs], "max_uses": 5})).await;
    assert_eq!(status, 201, "{mine}");
    let (_, admins) = admin.post("/invites", json!({"spaces": [other]})).await;

    let (_, listed) = coord.get("/invites").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "the coordinator sees their own: {listed}");
    let (status, _) = coord.delete(&format!("/invites/{}", admins["code"].as_str().unwrap())).await;
    assert_eq!(status, 404, "nor revokes another's");
    let (_, listed) = member.get("/invites").await;
    assert_eq!(listed, json!([]));
    let (_, all) = admin.get("/invites").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, e) = admin.post("/invites", json!({"max_uses": 0})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("max_uses")));
    let (status, e) = admin.post("/invites", json!({"email": "a@example.org"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("email")), "no email without SMTP");
}

#[tokio::test]
async fn with_approval_new_accounts_wait_for_a_moderator_and_a_rejected_handle_is_free_again() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let member = s.user("early").await;
    admin.patch("/config", json!({"signup": "approval"})).await;

    let (status, joined) = register(&s, with_password("nadia", json!({"display_name": "Nadia"}))).await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["pending"], true);
    assert!(joined.get("token").is_none(), "no session while waiting");
    let nadia = joined["user"]["id"].as_str().unwrap().to_owned();
    let (status, e) = s.guest().post("/auth/login", json!({"handle": "nadia", "password": PASSWORD})).await;
    assert_eq!(status, 403, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("approval"));
    let (status, e) = s.guest().post("/auth/login", json!({"handle": "nadia", "password": "wrong password!"})).await;
    assert_eq!(status, 401, "a wrong password says nothing of the account: {e}");
    let (status, _) = register(&s, with_password("nadia", json!({}))).await;
    assert_eq!(status, 409, "signing up again while waiting");

    assert_eq!(member.get("/admin/signups").await.0, 403);
    assert_eq!(s.guest().get("/admin/signups").await.0, 401);
    assert_eq!(member.post(&format!("/admin/signups/{nadia}/approve"), json!({})).await.0, 403);
    let (_, waiting) = admin.get("/admin/signups").await;
    assert_eq!(
        waiting.as_array().unwrap().iter().map(|u| u["handle"].as_str().unwrap()).collect::<Vec<_>>(),
        ["nadia"]
    );
    assert_eq!(admin.post(&format!("/admin/signups/{nadia}/approve"), json!({})).await.0, 204);
    let (status, _) = s.guest().post("/auth/login", json!({"handle": "nadia", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    assert_eq!(admin.post(&format!("/admin/signups/{nadia}/approve"), json!({})).await.0, 409, "not waiting");
    assert_eq!(admin.get("/admin/signups").await.1, json!([]));

    let (_, joined) = register(&s, with_password("spam", json!({}))).await;
    let spam = joined["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(admin.post(&format!("/admin/signups/{spam}/reject"), json!({})).await.0, 204);
    assert_eq!(admin.get(&format!("/users/{spam}")).await.0, 404);
    let (status, joined) = register(&s, with_password("spam", json!({}))).await;
    assert_eq!((status, joined["pending"].as_bool()), (201, Some(true)), "the handle is free again");

    // An invitation admits at once, even while sign-up asks for approval.
    let (_, invite) = admin.post("/invites", json!({})).await;
    let (status, joined) = register(&s, with_password("invited", json!({"invite": invite["code"]}))).await;
    assert_eq!(status, 201);
    assert!(joined["token"].is_string(), "{joined}");
}
