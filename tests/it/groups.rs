//! Working groups: coordinators add and remove members and pin threads without being
//! moderators; a removed member loses the group at once, open sockets included.

use serde_json::json;

use crate::util::{private_forum, search_until, thread, Server};

#[tokio::test]
async fn coordinators_manage_members_and_pins_and_removal_ends_access_at_once() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let coord = s.user("coord_g").await;
    let member = s.user("membro_g").await;
    let other = s.user("outro_g").await;
    let sid = private_forum(&admin, "sul-sul", &[&coord]).await;

    // Only admins name coordinators, among members.
    let (status, _) = coord.put(&format!("/spaces/{sid}/coordinators"), json!({"users": [coord.id()]})).await;
    assert_eq!(status, 403);
    let (status, e) = admin.put(&format!("/spaces/{sid}/coordinators"), json!({"users": [other.id()]})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("users")), "{e}");
    let (status, sp) = admin.put(&format!("/spaces/{sid}/coordinators"), json!({"users": [coord.id()]})).await;
    assert_eq!(status, 200, "{sp}");
    assert_eq!(sp["coordinators"], json!([coord.id()]));

    // The coordinator adds a member; a plain member cannot.
    let (status, _) = coord.post(&format!("/spaces/{sid}/members"), json!({"user": member.id()})).await;
    assert!(status < 300, "{status}");
    let (status, _) = member.post(&format!("/spaces/{sid}/members"), json!({"user": other.id()})).await;
    assert_eq!(status, 403);
    let (status, _) = other.post(&format!("/spaces/{sid}/members"), json!({"user": other.id()})).await;
    assert_eq!(status, 404, "a non-member learns nothing of the space");

    // Pinning: the coordinator pins the older thread, which then lists first.
    let (old_room, _) = thread(&member, &sid, "Plano de trabalho", "Versão 1 zzgrupo").await;
    let (new_room, _) = thread(&member, &sid, "Notícias", "Novidades").await;
    let (_, rooms) = member.get(&format!("/spaces/{sid}/rooms")).await;
    assert_eq!(rooms[0]["id"], new_room.as_str());
    let (status, _) = member.put(&format!("/rooms/{old_room}/pin"), json!({"pinned": true})).await;
    assert_eq!(status, 403);
    let (status, r) = coord.put(&format!("/rooms/{old_room}/pin"), json!({"pinned": true})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["pinned"], true);
    let (_, rooms) = member.get(&format!("/spaces/{sid}/rooms")).await;
    assert_eq!(rooms[0]["id"], old_room.as_str(), "{rooms}");

    // Removal: the member's socket closes with 4003; reconnecting, the group is gone,
    // from subscriptions, listings and search.
    let mut ws = member.ws().await;
    ws.subscribe(&old_room, 0).await;
    search_until(&member, "q=zzgrupo", |v| v["total"] == 1).await;
    let (status, _) = coord.delete(&format!("/spaces/{sid}/members/{}", member.id())).await;
    assert_eq!(status, 204);
    assert_eq!(ws.close_code().await, Some(4003));
    let mut ws = member.ws().await;
    ws.send(json!({"type": "subscribe", "room": old_room, "since": 0})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
    let (status, _) = member.get(&format!("/spaces/{sid}/rooms")).await;
    assert_eq!(status, 404);
    let (_, v) = member.get("/search?q=zzgrupo").await;
    assert_eq!(v["total"], 0, "{v}");
    let (status, _) = coord.delete(&format!("/spaces/{sid}/members/{}", member.id())).await;
    assert_eq!(status, 404, "already out");
    s.stop().await;
}

#[tokio::test]
async fn pinned_threads_lead_the_translators_queue() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let mut t = s.user("trad_pin").await;
    let (status, _) = admin.put(&format!("/users/{}/roles", t.id()), json!({"roles": ["translator"]})).await;
    assert_eq!(status, 200);
    let (status, me) = t.put("/me/translator", json!({"pairs": [{"from": "fr", "to": "en"}]})).await;
    assert_eq!(status, 200);
    t.user = me;
    let a = s.user("auteur_pin").await;
    let say = |title: &'static str, body: &'static str| {
        let a = &a;
        let general = general.clone();
        async move {
            let (status, v) = a
                .post(
                    &format!("/spaces/{general}/rooms"),
                    json!({"title": title, "body": body, "nonce": title, "lang": "fr"}),
                )
                .await;
            assert_eq!(status, 201, "{v}");
            (v["room"]["id"].as_str().unwrap().to_owned(), v["post"]["id"].as_str().unwrap().to_owned())
        }
    };
    let (_, older) = say("Ancien", "Un ancien fil").await;
    let (newer_room, newer) = say("Nouveau", "Un nouveau fil").await;
    let order = |q: &serde_json::Value| -> Vec<String> {
        let posts = q.as_array().unwrap().iter().filter(|i| i["kind"] == "post");
        posts.map(|i| i["post"]["id"].as_str().unwrap().to_owned()).collect()
    };
    let (_, q) = t.get("/translations/queue?to=en").await;
    assert_eq!(order(&q), vec![older.clone(), newer.clone()], "oldest first");
    let (status, _) = admin.put(&format!("/rooms/{newer_room}/pin"), json!({"pinned": true})).await;
    assert_eq!(status, 200);
    let (_, q) = t.get("/translations/queue?to=en").await;
    assert_eq!(order(&q), vec![newer.clone(), older.clone()], "pinned first");
    let titles: Vec<&str> =
        q.as_array().unwrap().iter().filter(|i| i["kind"] == "title").map(|i| i["room"].as_str().unwrap()).collect();
    assert_eq!(titles.first(), Some(&newer_room.as_str()), "its title leads the titles: {q}");
    assert_eq!(q[0]["room"], newer_room.as_str(), "a pinned thread's title goes first with it: {q}");
    // A post written in the pinned thread afterwards is queued first too; unpinning
    // puts the thread back in date order.
    let (status, _) = a
        .post(&format!("/rooms/{newer_room}/posts"), json!({"body": "Encore un mot", "nonce": "n3", "lang": "fr"}))
        .await;
    assert_eq!(status, 201);
    let (_, q) = t.get("/translations/queue?to=en").await;
    assert_eq!(order(&q)[2], older, "{q}");
    let (status, _) = admin.put(&format!("/rooms/{newer_room}/pin"), json!({"pinned": false})).await;
    assert_eq!(status, 200);
    let (_, q) = t.get("/translations/queue?to=en").await;
    assert_eq!(order(&q)[0], older);
    s.stop().await;
}
