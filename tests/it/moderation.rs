//! Moderation end to end: flags and the review list, hide (text gone from replays,
//! listings and search; kept for moderators) and restore, moderator deletes, suspension
//! (sockets closed, sign-in refused until it ends), and the admins' log.

use std::time::Duration;

use serde_json::json;

use crate::util::{search_until, thread, Server, PASSWORD};

#[tokio::test]
async fn flag_review_hide_restore_and_the_log() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let author = s.user("autor_mod").await;
    let flagger = s.user("sinal").await;
    let mut moder = s.user("mod_a").await;
    let (status, u) = admin.put(&format!("/users/{}/roles", moder.id()), json!({"roles": ["moderator"]})).await;
    assert_eq!(status, 200);
    moder.user = u;

    let (room, post) = thread(&author, &general, "Oferta", "Compre seguidores baratos zzspam").await;
    let pid = post["id"].as_str().unwrap().to_owned();
    // Members flag; a reason is required; non-moderators cannot review.
    let (status, e) = flagger.post(&format!("/posts/{pid}/flags"), json!({})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("reason")), "{e}");
    let (status, _) = flagger.post(&format!("/posts/{pid}/flags"), json!({"reason": "spam"})).await;
    assert_eq!(status, 204);
    let (status, _) = flagger.get("/moderation/review").await;
    assert_eq!(status, 403);
    let (status, list) = moder.get("/moderation/review").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["post"]["id"], pid.as_str());
    assert_eq!(list[0]["flags"][0]["reason"], "spam");

    // Hiding: a live edit event without the text, replays and listings redacted, search
    // forgets it; moderators still see the text in the review list; the flag is settled.
    let g = s.guest();
    search_until(&g, "q=zzspam", |v| v["total"] == 1).await;
    let mut ws = g.ws().await;
    let (_, head) = ws.subscribe(&room, 0).await;
    let (status, hidden) = flagger.post(&format!("/posts/{pid}/hide"), json!({"reason": "spam"})).await;
    assert_eq!(status, 403, "{hidden}");
    let (status, hidden) = moder.post(&format!("/posts/{pid}/hide"), json!({"reason": "spam"})).await;
    assert_eq!(status, 200, "{hidden}");
    assert_eq!((hidden["hidden"].as_bool(), hidden["body"].as_str()), (Some(true), Some("")));
    assert_eq!(hidden["html"], "", "the rendered text goes with the text");
    let ev = ws.until("event").await;
    assert_eq!((ev["kind"].as_str(), ev["post"]["body"].as_str()), (Some("edit"), Some("")));
    assert!(ev["seq"].as_u64().unwrap() > head);
    let (_, posts) = g.get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(posts[0]["body"], "", "{posts}");
    let (replay, _) = g.ws().await.subscribe(&room, 0).await;
    assert!(replay.iter().all(|e| e["post"]["body"] == ""), "a replay shows hidden text: {replay:?}");
    assert!(replay.iter().all(|e| e["post"]["html"] == ""), "a replay shows hidden html: {replay:?}");
    search_until(&g, "q=zzspam", |v| v["total"] == 0).await;
    let (_, list) = moder.get("/moderation/review").await;
    assert_eq!(list[0]["hidden_body"], "Compre seguidores baratos zzspam");
    assert!(list[0]["flags"].as_array().unwrap().is_empty(), "the flag was settled: {list}");

    // Restoring brings the text back everywhere, search included.
    let (status, back) = moder.post(&format!("/posts/{pid}/restore"), json!({})).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["body"], "Compre seguidores baratos zzspam");
    assert_eq!(back["html"], "<p>Compre seguidores baratos zzspam</p>\n");
    assert!(back.get("hidden").is_none());
    search_until(&g, "q=zzspam", |v| v["total"] == 1).await;
    let (status, _) = moder.post(&format!("/posts/{pid}/restore"), json!({})).await;
    assert_eq!(status, 409);
    // A moderator's delete of someone else's post is logged too.
    let (status, _) = moder.delete(&format!("/posts/{pid}")).await;
    assert_eq!(status, 200);

    let (status, _) = moder.get("/moderation/log").await;
    assert_eq!(status, 403, "the log is for admins");
    let (status, log) = admin.get("/moderation/log").await;
    assert_eq!(status, 200, "{log}");
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["delete", "restore", "hide"]);
    assert_eq!(log[2]["reason"], "spam");
    assert_eq!(log[2]["moderator"], moder.id().as_str());
    s.stop().await;
}

#[tokio::test]
async fn suspension_closes_sockets_and_refuses_sign_in_until_it_ends() {
    let mut clock = None;
    let s = Server::start_with(|c| clock = Some(c.clock.clone())).await;
    let clock = clock.unwrap();
    let admin = s.admin().await;
    let troll = s.user("troll_s").await;
    let mut ws = troll.ws().await;
    let (status, e) =
        troll.put(&format!("/users/{}/suspension", admin.id()), json!({"until": "2999-01-01T00:00:00Z"})).await;
    assert_eq!(status, 403, "{e}");
    let until = chrono::Utc::now() + chrono::Duration::hours(24);
    let (status, e) = admin.put(&format!("/users/{}/suspension", troll.id()), json!({"until": "yesterday"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("until")), "{e}");
    let (status, _) = admin
        .put(&format!("/users/{}/suspension", troll.id()), json!({"until": until.to_rfc3339(), "reason": "abuse"}))
        .await;
    assert_eq!(status, 204);
    assert_eq!(ws.close_code().await, Some(4001));
    let (status, _) = troll.get("/me").await;
    assert_eq!(status, 401, "the old token still works");
    let login = json!({"handle": "troll_s", "password": PASSWORD});
    let (status, e) = s.guest().post("/auth/login", login.clone()).await;
    assert_eq!(status, 403, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("suspended until"));
    // A day later (on the server's clock) it is over.
    clock.advance(Duration::from_secs(25 * 3600));
    let (status, _) = s.guest().post("/auth/login", login.clone()).await;
    assert_eq!(status, 200);
    // Lifting works too.
    let (status, _) = admin
        .put(
            &format!("/users/{}/suspension", troll.id()),
            json!({"until": (until + chrono::Duration::days(30)).to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = admin.delete(&format!("/users/{}/suspension", troll.id())).await;
    assert_eq!(status, 204);
    let (status, _) = s.guest().post("/auth/login", login).await;
    assert_eq!(status, 200);
    let (_, log) = admin.get("/moderation/log").await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["unsuspend", "suspend", "suspend"]);
    s.stop().await;
}
