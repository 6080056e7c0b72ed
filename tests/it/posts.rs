//! Posts: replies, edits with history, deletes that leave the slot, language tags.

use serde_json::json;

use crate::util::{thread, Server};

#[tokio::test]
async fn edit_and_delete_are_events_in_the_log() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let author = s.user_with("autora", json!({"languages": ["es"]})).await;
    let other = s.user("otro").await;
    let admin = s.admin().await;
    let (room, first) = thread(
        &author,
        &general,
        "Finanzas solidarias",
        "Las finanzas solidarias apoyan a las cooperativas de trabajo en América Latina.",
    )
    .await;
    let first_id = first["id"].as_str().unwrap().to_owned();

    let mut watcher = other.ws().await;
    watcher.subscribe(&room, 1).await;

    let mut ws = author.ws().await;
    let reply = ws.post(&room, "Y también a las mutuales de salud.", "r1").await;
    assert_eq!(reply["post"]["seq"], 2);
    ws.send(json!({"type": "post", "room": room, "body": "respuesta", "nonce": "r2", "reply_to": first_id})).await;
    let r2 = ws.until("ack").await;
    assert_eq!(r2["post"]["reply_to"], first_id.as_str());

    // Edit: an event with the next seq; the old text goes to the history.
    ws.send(json!({"type": "edit", "post": first_id, "body": "Las finanzas solidarias apoyan a las cooperativas y mutuales en América Latina."})).await;
    let edited = ws.until("event").await;
    assert_eq!((edited["kind"].clone(), edited["seq"].clone()), (json!("edit"), json!(4)), "the edit event's own seq");
    let ev = watcher.until("event").await; // reply r1
    assert_eq!(ev["seq"], 2);
    watcher.until("event").await; // reply r2
    let ev = watcher.until("event").await;
    assert_eq!((ev["kind"].clone(), ev["seq"].clone()), (json!("edit"), json!(4)));
    assert_eq!(ev["post"]["id"], first_id.as_str());
    assert_eq!(ev["post"]["seq"], 1, "a post keeps its place");
    assert!(ev["post"]["edited_at"].is_string());
    let (status, history) = other.get(&format!("/posts/{first_id}/history")).await;
    assert_eq!(status, 200);
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["body"], "Las finanzas solidarias apoyan a las cooperativas de trabajo en América Latina.");

    // Only the author edits; the author or a moderator deletes.
    let mut ows = other.ws().await;
    ows.send(json!({"type": "edit", "post": first_id, "body": "hijacked"})).await;
    assert_eq!(ows.until("error").await["code"], "forbidden");
    ows.send(json!({"type": "delete", "post": first_id})).await;
    assert_eq!(ows.until("error").await["code"], "forbidden");
    let (status, _) = other.patch(&format!("/posts/{first_id}"), json!({"body": "hijacked"})).await;
    assert_eq!(status, 403);

    ws.send(json!({"type": "delete", "post": first_id})).await;
    let del = ws.until("event").await;
    assert_eq!((del["kind"].clone(), del["seq"].clone()), (json!("delete"), json!(5)));
    let ev = watcher.until("event").await;
    assert_eq!((ev["kind"].clone(), ev["seq"].clone()), (json!("delete"), json!(5)));
    assert_eq!((ev["post"]["deleted"].clone(), ev["post"]["body"].clone()), (json!(true), json!("")));

    // The body is gone from everywhere: the posts list, the history, and a full replay.
    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(posts.as_array().unwrap().len(), 3, "the slot stays");
    assert_eq!((posts[0]["deleted"].clone(), posts[0]["body"].clone()), (json!(true), json!("")));
    let (_, history) = s.guest().get(&format!("/posts/{first_id}/history")).await;
    assert_eq!(history, json!([]));
    let mut fresh = s.guest().ws().await;
    let (events, head) = fresh.subscribe(&room, 0).await;
    assert_eq!(head, 5);
    assert_eq!(events.iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains("finanzas solidarias apoyan"), "a deleted body is replayed: {all}");
    // Editing a deleted post is refused.
    ws.send(json!({"type": "edit", "post": first_id, "body": "back"})).await;
    assert_eq!(ws.until("error").await["code"], "conflict");

    // A moderator deletes someone else's post, over HTTP.
    let r1 = reply["post"]["id"].as_str().unwrap();
    let (status, post) = admin.delete(&format!("/posts/{r1}")).await;
    assert_eq!(status, 200);
    assert_eq!(post["deleted"], true);
    let (_, r) = s.guest().get(&format!("/rooms/{room}")).await;
    assert_eq!((r["last_seq"].clone(), r["post_count"].clone()), (json!(6), json!(3)));
    s.stop().await;
}

#[tokio::test]
async fn every_post_has_a_sensible_language_tag() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let u = s.user_with("lusofona", json!({"languages": ["pt", "en"]})).await;
    let (room, first) = thread(
        &u,
        &general,
        "Mulheres",
        "As cooperativas de mulheres em Moçambique organizaram a comercialização conjunta da produção agrícola.",
    )
    .await;
    assert_eq!((first["lang"].clone(), first["lang_source"].clone()), (json!("pt"), json!("detected")));
    let c = first["lang_confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));
    // Read back, the post is the one the server answered with, to the last bit of the
    // confidence (a record read back from the store once came out one bit off).
    let (status, read) = u.get(&format!("/posts/{}", first["id"].as_str().unwrap())).await;
    assert_eq!((status, read), (200, first.clone()));

    let mut ws = u.ws().await;
    let short = ws.post(&room, "ok!", "l1").await;
    assert_eq!(short["post"]["lang_source"], "author");
    assert!(["pt", "en"].contains(&short["post"]["lang"].as_str().unwrap()));

    ws.send(json!({"type": "post", "room": room, "body": "ok!", "nonce": "l2", "lang": "fr"})).await;
    let declared = ws.until("ack").await;
    assert_eq!(
        (declared["post"]["lang"].clone(), declared["post"]["lang_source"].clone()),
        (json!("fr"), json!("declared"))
    );
    assert_eq!(declared["post"]["lang_confidence"], 1.0);

    ws.send(json!({"type": "post", "room": room, "body": "x", "nonce": "l3", "lang": "french"})).await;
    let e = ws.until("error").await;
    assert_eq!((e["code"].clone(), e["ref"].clone()), (json!("bad_request"), json!("l3")));
    s.stop().await;
}

#[tokio::test]
async fn reactions_are_events_with_counts_per_emoji() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let a = s.user("reactor_a").await;
    let b = s.user("reactor_b").await;
    let (room, first) = thread(&a, &general, "Reactions", "Celebrating the new cooperative law").await;
    let pid = first["id"].as_str().unwrap().to_owned();
    let mut watcher = s.guest().ws().await;
    watcher.subscribe(&room, 1).await;

    let mut aws = a.ws().await;
    let mut bws = b.ws().await;
    aws.send(json!({"type": "react", "post": pid, "emoji": "👍"})).await;
    let ev = aws.until("event").await;
    assert_eq!((ev["kind"].clone(), ev["seq"].clone()), (json!("reaction"), json!(2)));
    bws.send(json!({"type": "react", "post": pid, "emoji": "👍"})).await;
    bws.until("event").await;
    let ev = watcher.expect("event").await;
    assert_eq!(ev["post"]["reactions"], json!({"👍": 1}));
    let ev = watcher.expect("event").await;
    assert_eq!((ev["seq"].clone(), ev["post"]["reactions"].clone()), (json!(3), json!({"👍": 2})));

    // The same reaction again changes nothing and logs nothing.
    aws.send(json!({"type": "react", "post": pid, "emoji": "👍"})).await;
    assert_eq!(aws.until("event").await["seq"], 3);
    // Taking it back, and another emoji over HTTP (percent-encoded in the path).
    aws.send(json!({"type": "react", "post": pid, "emoji": "👍", "remove": true})).await;
    aws.until("event").await;
    let ev = watcher.expect("event").await;
    assert_eq!((ev["seq"].clone(), ev["post"]["reactions"].clone()), (json!(4), json!({"👍": 1})));
    let (status, post) = b.put(&format!("/posts/{pid}/reactions/%F0%9F%8E%89"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(post["reactions"], json!({"👍": 1, "🎉": 1}));

    // Bad input and access.
    aws.send(json!({"type": "react", "post": pid, "emoji": "two words"})).await;
    assert_eq!(aws.until("error").await["code"], "bad_request");
    aws.send(json!({"type": "react", "post": pid, "emoji": ""})).await;
    assert_eq!(aws.until("error").await["code"], "bad_request");
    let mut guest = s.guest().ws().await;
    guest.send(json!({"type": "react", "post": pid, "emoji": "👍"})).await;
    assert_eq!(guest.until("error").await["code"], "unauthorized");
    a.delete(&format!("/posts/{pid}")).await;
    let (status, _) = b.put(&format!("/posts/{pid}/reactions/%F0%9F%8E%89"), json!({})).await;
    assert_eq!(status, 409);
    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts")).await;
    assert!(posts[0].get("reactions").is_none(), "a deleted post keeps no reactions");
    s.stop().await;
}

#[tokio::test]
async fn every_write_gets_its_own_time_even_within_one_batch() {
    // Posts sent together share store batches; each still gets a time of its own, later
    // than the one before, so what is ordered or paged by time never has ties.
    let s = Server::start().await;
    let lobby = s.lobby_room().await;
    let mut ws = s.user("reloj").await.ws().await;
    let mut acks = ws.post_many(&lobby, "al mismo tiempo", "t", 64, 64).await;
    acks.sort_by_key(|a| a["post"]["seq"].as_u64());
    let times: Vec<String> = acks.iter().map(|a| a["post"]["created_at"].as_str().unwrap().to_owned()).collect();
    for pair in times.windows(2) {
        assert!(pair[0] < pair[1], "created_at in seq order, no two alike: {pair:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn bodies_are_markdown_rendered_once_and_gone_with_a_delete() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let ana = s.user("ana_md").await;
    let bea = s.user("bea_md").await;
    let (room, first) =
        thread(&ana, &general, "Guia", "**Bom dia**, @bea_md: o [guia](https://www.ilo.org/) <b>x</b>").await;
    let html = first["html"].as_str().expect("html");
    assert!(html.contains("<strong>Bom dia</strong>"), "{html}");
    assert!(html.contains(r##"<a href="#/u/bea_md" class="mention""##), "a member's handle is a link: {html}");
    assert!(html.contains(r#"href="https://www.ilo.org/" target="_blank" rel="nofollow noopener ugc""#), "{html}");
    assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"), "raw HTML is text: {html}");
    let id = first["id"].as_str().expect("id").to_owned();

    // An edit renders the new body; the history keeps each version's rendering.
    let (status, edited) = ana.patch(&format!("/posts/{id}"), json!({"body": "*Boa tarde*"})).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["html"], "<p><em>Boa tarde</em></p>\n");
    let (_, history) = ana.get(&format!("/posts/{id}/history")).await;
    assert!(history.to_string().contains("<strong>Bom dia</strong>"), "{history}");

    // A delete takes the rendering with the text, from the post, its log and its history.
    let (status, gone) = ana.delete(&format!("/posts/{id}")).await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!((gone["body"].as_str(), gone["html"].as_str()), (Some(""), Some("")));
    let (replay, _) = bea.ws().await.subscribe(&room, 0).await;
    assert!(replay.iter().all(|e| e["post"]["html"] == ""), "{replay:?}");
    let (_, history) = ana.get(&format!("/posts/{id}/history")).await;
    assert!(!history.to_string().contains("Bom dia"), "{history}");
}

#[tokio::test]
async fn a_reader_learns_which_reactions_are_theirs_and_nothing_of_posts_they_cannot_read() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let ana = s.user("ana_react").await;
    let bea = s.user("bea_react").await;
    let (_, first) = thread(&ana, &general, "Reacciones", "Una idea").await;
    let id = first["id"].as_str().expect("id").to_owned();
    let group = crate::util::private_forum(&admin, "react-group", &[&ana]).await;
    let (_, secret) = thread(&ana, &group, "Secreto", "Una idea privada").await;
    let secret_id = secret["id"].as_str().expect("id").to_owned();
    for (who, post, emoji) in
        [(&bea, &id, "%F0%9F%91%8D"), (&ana, &id, "%F0%9F%8E%89"), (&ana, &secret_id, "%F0%9F%91%8D")]
    {
        let (status, v) = who.put(&format!("/posts/{post}/reactions/{emoji}"), json!({})).await;
        assert_eq!(status, 200, "{v}");
    }
    let (status, mine) = bea.get(&format!("/me/reactions?posts={id},{secret_id}")).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine, json!({ id.clone(): ["👍"] }), "only hers, and nothing of the private post");
    let (_, mine) = ana.get(&format!("/me/reactions?posts={id},{secret_id}")).await;
    assert_eq!(mine, json!({ id.clone(): ["🎉"], secret_id.clone(): ["👍"] }));
    let (status, _) = s.guest().get(&format!("/me/reactions?posts={id}")).await;
    assert_eq!(status, 401);
    let (status, e) = bea.get("/me/reactions?posts=r12").await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("posts")));
}

#[tokio::test]
async fn posts_before_a_seq_are_the_last_ones_before_it_in_order() {
    let s = Server::start().await;
    let u = s.user("earlier").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&u, &general, "Earlier posts", "post 1").await;
    for i in 2..=6 {
        let (status, _) = u
            .post(&format!("/rooms/{room}/posts"), json!({"body": format!("post {i}"), "nonce": format!("b{i}")}))
            .await;
        assert_eq!(status, 201);
    }
    let bodies = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|p| p["body"].as_str().unwrap().to_owned()).collect()
    };
    let (status, v) = u.get(&format!("/rooms/{room}/posts?before_seq=5&limit=3")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(bodies(&v), ["post 2", "post 3", "post 4"]);
    let (_, v) = u.get(&format!("/rooms/{room}/posts?before_seq=3&limit=10")).await;
    assert_eq!(bodies(&v), ["post 1", "post 2"]);
    let (_, v) = u.get(&format!("/rooms/{room}/posts?before_seq=1&limit=10")).await;
    assert_eq!(bodies(&v), Vec::<String>::new());
    s.stop().await;
}
