//! Mentions and replies: live on the user's own stream, listed, marked read; never to
//! the author, never to a non-member of a private space; a deleted post's text is gone.

use serde_json::json;

use crate::util::{private_forum, thread, Server};

#[tokio::test]
async fn mentions_and_replies_notify_live_and_are_listed() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let ana = s.user("ana_m").await;
    let bea = s.user("bea.m").await;
    let mut bea_ws = bea.ws().await;
    let mut ana_ws = ana.ws().await;

    // A mention (any case, in the middle of a sentence) reaches bea at once, without
    // subscribing to anything; the author is not notified of her own mention.
    let (room, first) =
        thread(&ana, &general, "Mutirão", "Olá @Bea.M, can you look at this? And @ana_m, @nobody_here.").await;
    let n = bea_ws.until("notification").await;
    assert_eq!(n["notification"]["kind"], "mention");
    assert_eq!(n["notification"]["post"], first["id"]);
    assert_eq!(n["notification"]["room"], room.as_str());
    assert_eq!(n["notification"]["from"], ana.id().as_str());
    assert_eq!(n["post"]["body"], first["body"]);

    // A reply notifies the author of the post replied to.
    let (status, reply) = bea
        .post(&format!("/rooms/{room}/posts"), json!({"body": "Sim!", "nonce": "r1", "reply_to": first["id"]}))
        .await;
    assert_eq!(status, 201, "{reply}");
    let n = ana_ws.until("notification").await;
    assert_eq!(n["notification"]["kind"], "reply");
    assert_eq!(n["notification"]["post"], reply["id"]);

    let (status, list) = ana.get("/notifications").await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "the author's own mention notified her: {list:?}");
    assert_eq!(list[0]["kind"], "reply");
    assert_eq!(list[0]["read"], false);

    // An edit notifies only those it mentions for the first time.
    let cid = s.user("carla_m").await;
    let mut carla_ws = cid.ws().await;
    let fid = first["id"].as_str().unwrap();
    let (status, _) =
        ana.patch(&format!("/posts/{fid}"), json!({"body": "Olá @bea.m and @carla_m, can you look at this?"})).await;
    assert_eq!(status, 200);
    let n = carla_ws.until("notification").await;
    assert_eq!(n["notification"]["kind"], "mention");
    let (_, bea_list) = bea.get("/notifications").await;
    assert_eq!(bea_list.as_array().unwrap().len(), 1, "bea was notified twice: {bea_list}");

    // Marking read, on every device.
    let nid = bea_list[0]["id"].as_str().unwrap();
    let (status, v) = bea.put("/notifications/read", json!({"until": nid})).await;
    assert_eq!((status, v["marked"].as_u64()), (200, Some(1)), "{v}");
    let r = bea_ws.until("notifications_read").await;
    assert_eq!(r["until"], nid);
    let (_, unread) = bea.get("/notifications?unread=true").await;
    assert!(unread.as_array().unwrap().is_empty(), "{unread}");

    // Deleting the post leaves the notification but not the text.
    let (status, _) = ana.delete(&format!("/posts/{fid}")).await;
    assert_eq!(status, 200);
    let (_, l) = bea.get("/notifications").await;
    assert_eq!(l[0]["post"]["deleted"], true);
    assert_eq!(l[0]["post"]["body"], "");

    // Bad input.
    let (status, _) = s.guest().get("/notifications").await;
    assert_eq!(status, 401);
    let (status, e) = bea.get("/notifications?limit=0").await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("limit")), "{e}");
    let (status, _) = bea.put("/notifications/read", json!({"until": "p1"})).await;
    assert_eq!(status, 400);
    s.stop().await;
}

#[tokio::test]
async fn a_mention_in_a_private_space_does_not_reach_a_non_member() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("membro_n").await;
    let outsider = s.user("fora_n").await;
    let private = private_forum(&admin, "grupo-n", &[&member]).await;
    let mut out_ws = outsider.ws().await;
    thread(&member, &private, "Segredo", "@fora_n não devia saber disto").await;
    // A public mention afterwards arrives, and is the first notification the outsider sees.
    let general = s.space_id("general").await;
    let (_, open) = thread(&member, &general, "Aberto", "@fora_n olá").await;
    let n = out_ws.until("notification").await;
    assert_eq!(n["notification"]["post"], open["id"], "a private post reached a non-member: {n}");
    let (_, list) = outsider.get("/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    s.stop().await;
}
