//! The translators' desk: routing by pairs, live queue items, claims and leases,
//! translations, stale on edit, removal on delete, corrections, privacy, restarts.

use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{private_forum, search_until, thread, Client, Server, Ws};

/// A translator with these pairs.
async fn translator(s: &Server, admin: &Client, handle: &str, pairs: &[(&str, &str)]) -> Client {
    let mut t = s.user(handle).await;
    let (status, _) = admin.put(&format!("/users/{}/roles", t.id()), json!({"roles": ["translator"]})).await;
    assert_eq!(status, 200);
    let pairs: Vec<Value> = pairs.iter().map(|(f, t)| json!({"from": f, "to": t})).collect();
    let (status, user) = t.put("/me/translator", json!({"pairs": pairs})).await;
    assert_eq!(status, 200, "{user}");
    t.user = user;
    t
}

/// The posts' items of a translator's queue (titles left out: `queue_all`).
async fn queue(t: &Client, to: &str) -> Vec<Value> {
    queue_all(t, to).await.into_iter().filter(|i| i["kind"] == "post").collect()
}

async fn queue_all(t: &Client, to: &str) -> Vec<Value> {
    let (status, q) = t.get(&format!("/translations/queue?to={to}")).await;
    assert_eq!(status, 200, "{q}");
    q.as_array().unwrap().clone()
}

fn queued_ids(q: &[Value]) -> Vec<String> {
    q.iter().map(|i| i["post"]["id"].as_str().unwrap().to_owned()).collect()
}

async fn subscribe_queue(t: &Client) -> Ws {
    let mut ws = t.ws().await;
    ws.send(json!({"type": "subscribe_queue"})).await;
    ws.expect("subscribed_queue").await;
    ws
}

/// Posts with a declared language, over HTTP; returns the post.
async fn say(c: &Client, room: &str, body: &str, lang: &str, nonce: &str) -> Value {
    let (status, p) =
        c.post(&format!("/rooms/{room}/posts"), json!({"body": body, "nonce": nonce, "lang": lang})).await;
    assert_eq!(status, 201, "{p}");
    p
}

#[tokio::test]
async fn items_are_routed_by_pairs_and_pushed_live() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let tfr = translator(&s, &admin, "trad_fr", &[("en", "fr")]).await;
    let tes = translator(&s, &admin, "trad_es", &[("en", "es"), ("pt", "es")]).await;
    let mut fr_ws = subscribe_queue(&tfr).await;
    let mut es_ws = subscribe_queue(&tes).await;

    let author = s.user("autor").await;
    let (room, first) = thread(&author, &general, "Cooperatives", "hello").await;
    let first_lang = first["lang"].as_str().unwrap().to_owned();
    // Whatever the first post was tagged, drain its queue items.
    let _ = first_lang;
    let p1 = say(&author, &room, "Women's cooperatives in Senegal", "en", "p1").await;
    let p2 = say(&author, &room, "Cooperativas de mulheres em Moçambique", "pt", "p2").await;
    let p3 = say(&author, &room, "Decent work in the informal economy", "en", "p3").await;

    let mut fr_items = Vec::new();
    while fr_items.last() != Some(&p3["id"]) {
        let v = fr_ws.expect("queue_item").await;
        assert_eq!(v["needed"], "fr");
        assert_eq!(v["post"]["lang"], "en", "only en to fr reaches this translator: {v}");
        fr_items.push(v["post"]["id"].clone());
    }
    assert!(fr_items.contains(&p1["id"]) && !fr_items.contains(&p2["id"]));
    let mut es_items = Vec::new();
    while es_items.last() != Some(&p3["id"]) {
        let v = es_ws.expect("queue_item").await;
        assert_eq!(v["needed"], "es");
        assert!(v["post"]["body"].is_string(), "the item carries the post to translate");
        es_items.push(v["post"]["id"].clone());
    }
    assert!(es_items.contains(&p1["id"]) && es_items.contains(&p2["id"]));

    // The queue over HTTP: oldest first, only the caller's pairs.
    let q = queued_ids(&queue(&tfr, "fr").await);
    let pos = |id: &Value| q.iter().position(|x| x == id.as_str().unwrap());
    assert!(pos(&p1["id"]) < pos(&p3["id"]) && pos(&p1["id"]).is_some());
    assert_eq!(pos(&p2["id"]), None);
    let q = queued_ids(&queue(&tes, "es").await);
    assert!(q.contains(&p2["id"].as_str().unwrap().to_owned()));
    // Not a pair of theirs.
    let (status, _) = tfr.get("/translations/queue?to=es").await;
    assert_eq!(status, 400);

    // News comes first.
    let news = s.space_id("news").await;
    let (news_room, _) = thread(&admin, &news, "Academy announced", "intro").await;
    let n = say(&admin, &news_room, "The next Academy will be held online", "en", "n1").await;
    let q = queue(&tfr, "fr").await;
    let news_pos = q.iter().position(|i| i["post"]["id"] == n["id"]).unwrap();
    let p1_pos = q.iter().position(|i| i["post"]["id"] == p1["id"]).unwrap();
    assert!(news_pos < p1_pos, "News first");

    // Access to the desk.
    assert_eq!(author.get("/translations/queue").await.0, 403);
    assert_eq!(s.guest().get("/translations/queue").await.0, 401);
    assert_eq!(author.put("/me/translator", json!({"pairs": [{"from": "en", "to": "fr"}]})).await.0, 403);
    let (status, e) = tfr.put("/me/translator", json!({"pairs": [{"from": "en", "to": "de"}]})).await;
    assert_eq!((status, e["error"]["field"].clone()), (400, json!("pairs")));
    let (status, _) = tfr.put("/me/translator", json!({"pairs": [{"from": "en", "to": "en"}]})).await;
    assert_eq!(status, 400);
    let mut aws = author.ws().await;
    aws.send(json!({"type": "subscribe_queue"})).await;
    assert_eq!(aws.expect("error").await["code"], "forbidden");
    s.stop().await;
}

#[tokio::test]
async fn claims_race_expire_release_and_translations_leave_every_queue() {
    let mut clock = None;
    let s = Server::start_with(|c| clock = Some(c.clock.clone())).await;
    let clock = clock.unwrap();
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let a = translator(&s, &admin, "ana_t", &[("en", "fr")]).await;
    let b = translator(&s, &admin, "bruno_t", &[("en", "fr")]).await;
    let author = s.user("writer").await;
    let (room, _) = thread(&author, &general, "Just transition", "intro").await;
    let p = say(&author, &room, "A just transition needs social dialogue", "en", "jt").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let claim = json!({"post": pid, "lang": "fr"});

    // Two translators claim at once: one wins.
    let (ra, rb) =
        tokio::join!(a.post("/translations/claim", claim.clone()), b.post("/translations/claim", claim.clone()));
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{ra:?} {rb:?}");
    let (winner, loser) = if ra.0 == 200 { (&a, &b) } else { (&b, &a) };
    let granted = if ra.0 == 200 { ra.1 } else { rb.1 };
    assert_eq!(granted["post"], pid.as_str());
    assert!(granted["expires_at"].is_string());

    let mine = queue(winner, "fr").await;
    assert!(mine.iter().any(|i| i["post"]["id"] == pid.as_str() && i["claimed_until"].is_string()));
    assert!(!queued_ids(&queue(loser, "fr").await).contains(&pid), "held items leave the others' queues");
    let (status, _) = loser.post(&format!("/posts/{pid}/translations"), json!({"lang": "fr", "body": "x"})).await;
    assert_eq!(status, 409);

    // The lease runs out (no sleeping: the server's clock moves), and the item comes back
    // to the other translator, live and in the queue.
    let mut back = subscribe_queue(loser).await;
    clock.advance(Duration::from_secs(21 * 60));
    let item = back.until("queue_item").await;
    assert_eq!((item["post"]["id"].clone(), item["needed"].clone()), (json!(pid), json!("fr")));
    assert!(queued_ids(&queue(loser, "fr").await).contains(&pid), "an expired lease returns the item");
    assert_eq!(loser.post("/translations/claim", claim.clone()).await.0, 200);
    assert_eq!(winner.post("/translations/claim", claim.clone()).await.0, 409);
    // The holder releases it; the other takes it and translates.
    assert_eq!(loser.post("/translations/release", claim.clone()).await.0, 204);
    assert_eq!(loser.post("/translations/release", claim.clone()).await.0, 404);
    assert_eq!(winner.post("/translations/claim", claim.clone()).await.0, 200);

    let mut reader = s.guest().ws().await;
    let (_, head) = reader.subscribe(&room, 0).await;
    let mut loser_ws = subscribe_queue(loser).await;
    let (status, post) = winner
        .post(
            &format!("/posts/{pid}/translations"),
            json!({"lang": "fr", "body": "Une transition juste exige le dialogue social"}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    let t = &post["translations"]["fr"];
    assert_eq!(t["body"], "Une transition juste exige le dialogue social");
    assert_eq!(t["translator"], winner.id());
    assert_eq!(t["stale"], false);
    let ev = reader.expect("event").await;
    assert_eq!((ev["kind"].clone(), ev["seq"].clone()), (json!("translation"), json!(head + 1)));
    assert_eq!(ev["post"]["translations"]["fr"]["body"], t["body"]);
    let removed = loser_ws.until("queue_removed").await;
    assert_eq!(removed, json!({"type": "queue_removed", "post": pid, "needed": "fr"}));
    assert!(!queued_ids(&queue(winner, "fr").await).contains(&pid));
    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(posts[1]["translations"]["fr"]["translator"], winner.id());

    // Coverage: one translation into fr, with its wait.
    let (status, cov) = s.guest().get("/translations/coverage").await;
    assert_eq!(status, 200);
    let fr = cov.as_array().unwrap().iter().find(|c| c["lang"] == "fr").unwrap().clone();
    assert_eq!(fr["translated"], 1);
    assert!(fr["median_seconds"].as_f64().unwrap() >= 21.0 * 60.0);

    // Bad desk input.
    assert_eq!(winner.post("/translations/claim", json!({"post": pid, "lang": "fr"})).await.0, 409);
    assert_eq!(winner.post("/translations/claim", json!({"post": "p999999", "lang": "fr"})).await.0, 404);
    assert_eq!(winner.post("/translations/claim", json!({"post": pid, "lang": "xx"})).await.0, 400);
    assert_eq!(winner.post(&format!("/posts/{pid}/translations"), json!({"lang": "fr", "body": ""})).await.0, 400);
    assert_eq!(winner.post(&format!("/posts/{pid}/translations"), json!({"lang": "en", "body": "x"})).await.0, 400);
    s.stop().await;
}

#[tokio::test]
async fn edits_make_translations_stale_and_deletes_and_corrections_reroute() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let t = translator(&s, &admin, "tradutor", &[("en", "fr"), ("es", "fr"), ("es", "en")]).await;
    let author = s.user("escritora").await;
    let (room, _) = thread(&author, &general, "Finance", "intro").await;
    let p = say(&author, &room, "Solidarity finance supports cooperatives", "en", "sf").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let (status, _) =
        t.post(&format!("/posts/{pid}/translations"), json!({"lang": "fr", "body": "La finance solidaire"})).await;
    assert_eq!(status, 201);
    assert!(!queued_ids(&queue(&t, "fr").await).contains(&pid));

    // Editing the original: the translation is stale and back in the queue, live.
    let mut tws = subscribe_queue(&t).await;
    let (status, edited) = author
        .patch(&format!("/posts/{pid}"), json!({"body": "Solidarity finance supports cooperatives and mutuals"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(edited["translations"]["fr"]["stale"], true);
    let item = tws.until("queue_item").await;
    assert_eq!((item["post"]["id"].clone(), item["needed"].clone()), (json!(pid), json!("fr")));
    assert!(queued_ids(&queue(&t, "fr").await).contains(&pid));

    // A correction of the language reroutes it: now es to fr and es to en.
    let mut reader = s.guest().ws().await;
    reader.subscribe(&room, 0).await;
    let (status, corrected) = t.patch(&format!("/posts/{pid}"), json!({"lang": "es"})).await;
    assert_eq!(status, 200, "{corrected}");
    assert_eq!((corrected["lang"].clone(), corrected["lang_source"].clone()), (json!("es"), json!("declared")));
    let ev = reader.expect("event").await;
    assert_eq!((ev["kind"].clone(), ev["post"]["lang"].clone()), (json!("edit"), json!("es")));
    let fr = queue(&t, "fr").await;
    let item = fr.iter().find(|i| i["post"]["id"] == pid.as_str()).expect("still needs fr");
    assert_eq!(item["post"]["lang"], "es");
    assert!(queued_ids(&queue(&t, "en").await).contains(&pid), "now it needs English too");
    let other = s.user("someone").await;
    assert_eq!(other.patch(&format!("/posts/{pid}"), json!({"lang": "pt"})).await.0, 403);

    // Deleting removes its translations and every queue item, live.
    let (status, deleted) = author.delete(&format!("/posts/{pid}")).await;
    assert_eq!(status, 200);
    assert_eq!(deleted["translations"], json!({}));
    loop {
        let v = tws.recv().await;
        if v["type"] == "queue_removed" && v["post"] == pid.as_str() && v["needed"] == "fr" {
            break;
        }
    }
    assert!(!queued_ids(&queue(&t, "fr").await).contains(&pid));
    assert!(!queued_ids(&queue(&t, "en").await).contains(&pid));
    assert_eq!(t.post("/translations/claim", json!({"post": pid, "lang": "fr"})).await.0, 409);
    s.stop().await;
}

#[tokio::test]
async fn no_queue_item_of_a_private_space_reaches_a_non_member() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = translator(&s, &admin, "insider", &[("en", "fr")]).await;
    let outsider = translator(&s, &admin, "outsider_t", &[("en", "fr")]).await;
    let (_, space) = admin
        .post(
            "/spaces",
            json!({"slug": "wg", "name": "WG", "kind": "forum", "visibility": "private", "post_policy": "members"}),
        )
        .await;
    let space = space["id"].as_str().unwrap().to_owned();
    admin.post(&format!("/spaces/{space}/members"), json!({"user": member.id()})).await;
    let mut mws = subscribe_queue(&member).await;
    let mut ows = subscribe_queue(&outsider).await;

    let (room, intro) = thread(&member, &space, "Private plan", "intro").await;
    let secret = say(&member, &room, "Secret budget for the triangular project", "en", "s1").await;
    let general = s.space_id("general").await;
    let (proom, _) = thread(&admin, &general, "Public", "intro").await;
    let public = say(&admin, &proom, "Public marker post", "en", "m1").await;

    let mut seen = Vec::new();
    while seen.last() != Some(&public["id"]) {
        seen.push(mws.expect("queue_item").await["post"]["id"].clone());
    }
    assert!(seen.contains(&secret["id"]));
    loop {
        let v = ows.recv().await;
        assert!(!v.to_string().contains("Secret"), "leak: {v}");
        if v["post"]["id"] == public["id"] {
            break;
        }
    }
    let sid = secret["id"].as_str().unwrap();
    assert!(queued_ids(&queue(&member, "fr").await).contains(&sid.to_owned()));
    assert!(!queued_ids(&queue(&outsider, "fr").await).contains(&sid.to_owned()));
    assert_eq!(outsider.post("/translations/claim", json!({"post": sid, "lang": "fr"})).await.0, 404);
    assert_eq!(outsider.post(&format!("/posts/{sid}/translations"), json!({"lang": "fr", "body": "x"})).await.0, 404);
    assert_eq!(outsider.patch(&format!("/posts/{sid}"), json!({"lang": "es"})).await.0, 404);
    let waiting =
        |c: Value| c.as_array().unwrap().iter().find(|l| l["lang"] == "fr").unwrap()["waiting"].as_u64().unwrap();
    let inside = waiting(member.get("/translations/coverage").await.1);
    let outside = waiting(outsider.get("/translations/coverage").await.1);
    let private_waiting = if intro["lang"] == "fr" { 1 } else { 2 };
    assert_eq!(inside, outside + private_waiting, "the private posts count for members only");
    s.stop().await;
}

#[tokio::test]
async fn restart_keeps_the_queue_and_the_claims() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let a = translator(&s, &admin, "keeper", &[("en", "pt")]).await;
    let b = translator(&s, &admin, "waiter", &[("en", "pt")]).await;
    let (room, _) = thread(&admin, &general, "Persist", "intro").await;
    let p = say(&admin, &room, "Social enterprises in Seoul", "en", "se").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    assert_eq!(a.post("/translations/claim", json!({"post": pid, "lang": "pt"})).await.0, 200);
    let tmp = s.stop().await.unwrap();

    let s = Server::start_in(tmp.path(), |_| {}).await;
    let mut a2 = s.guest();
    a2.token = a.token.clone();
    let mut b2 = s.guest();
    b2.token = b.token.clone();
    let q = queue(&a2, "pt").await;
    let item = q.iter().find(|i| i["post"]["id"] == pid.as_str()).expect("queued after restart");
    assert!(item["claimed_until"].is_string(), "the claim survived");
    assert!(!queued_ids(&queue(&b2, "pt").await).contains(&pid));
    assert_eq!(b2.post("/translations/claim", json!({"post": pid, "lang": "pt"})).await.0, 409);
    let (status, _) =
        a2.post(&format!("/posts/{pid}/translations"), json!({"lang": "pt", "body": "Empresas sociais em Seul"})).await;
    assert_eq!(status, 201);
    let _ = s.stop().await;
    drop(tmp);
}

/// A post in Korean, Arabic, Italian or German is tagged so with the default settings
/// (the script settles the first two, whatever the author declares), waits for a
/// translation into each community language, reaches the translators whose pairs start
/// from it and no one else's queue, and is found by other forms of its words.
#[tokio::test]
async fn posts_in_the_alumni_s_other_languages_are_tagged_so_and_reach_their_translators() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let minji = s.user_with("minji", json!({"languages": ["en"]})).await;
    let general = s.space_id("general").await;
    let (_, ko) =
        thread(&minji, &general, "Seoul 2013", "사회적경제 아카데미에서 다시 만나요! 협동조합 이야기를 나눠요.").await;
    assert_eq!(ko["lang"], "ko", "{ko}");
    let (_, ar) = thread(&minji, &general, "Agadir 2015", "التعاونيات النسائية في أكادير تخلق فرص عمل جديدة").await;
    assert_eq!(ar["lang"], "ar", "{ar}");
    let (_, it) = thread(
        &minji,
        &general,
        "Torino 2010",
        "Le cooperative sociali di Torino hanno creato nuovi posti di lavoro per i giovani del quartiere.",
    )
    .await;
    assert_eq!(it["lang"], "it", "{it}");
    let (_, de) = thread(
        &minji,
        &general,
        "Luxemburg 2019",
        "Die Genossenschaften in Luxemburg schaffen neue Arbeitsplätze für junge Menschen.",
    )
    .await;
    assert_eq!(de["lang"], "de", "{de}");
    let itt = translator(&s, &admin, "italiantr", &[("it", "es")]).await;
    let q = queue(&itt, "es").await;
    assert!(q.iter().any(|i| i["post"]["id"] == it["id"]), "{q:?}");
    assert!(q.iter().all(|i| i["post"]["id"] != de["id"] && i["post"]["id"] != ko["id"]), "{q:?}");
    let kt = translator(&s, &admin, "koreantr", &[("ko", "en"), ("ko", "fr")]).await;
    let es = translator(&s, &admin, "spanishtr", &[("es", "en")]).await;
    for to in ["en", "fr"] {
        let q = queue(&kt, to).await;
        let item = q.iter().find(|i| i["post"]["id"] == ko["id"]).unwrap_or_else(|| panic!("{to}: {q:?}"));
        // With its context: the thread, the space, the author, its place.
        assert_eq!(item["kind"], "post");
        assert_eq!(item["room_title"], "Seoul 2013");
        assert_eq!(item["space"], json!({"id": general, "name": "General discussion"}));
        assert_eq!(item["author"], json!({"id": minji.id(), "display_name": "minji"}));
        assert_eq!(item["position"], 1);
        assert!(q.iter().all(|i| i["post"]["id"] != ar["id"]), "not from Arabic: {q:?}");
    }
    let q = queue(&es, "en").await;
    assert!(q.iter().all(|i| ![&ko["id"], &ar["id"], &it["id"], &de["id"]].contains(&&i["post"]["id"])), "{q:?}");
    // A translation into English is published over it, and it is found by its own words.
    let (st, e) = kt.post("/translations/claim", json!({"post": ko["id"], "lang": "en"})).await;
    assert_eq!(st, 200, "{e}");
    let body = json!({"lang": "en", "body": "See you again at the SSE Academy! Let's talk about cooperatives."});
    let (st, p) = kt.post(&format!("/posts/{}/translations", ko["id"].as_str().unwrap()), body).await;
    assert_eq!(st, 201, "{p}");
    assert_eq!(p["lang"], "ko");
    let found = |post: &Value| {
        let id = post["id"].clone();
        move |v: &Value| v["hits"].as_array().is_some_and(|h| h.iter().any(|x| x["post"]["id"] == id))
    };
    search_until(&minji, "q=%ED%98%91%EB%8F%99%EC%A1%B0%ED%95%A9", found(&ko)).await;
    // 이야기 ("story") is written 이야기를 in the post; التعاونية ("the cooperative")
    // التعاونيات ("the cooperatives"); Genossenschaft, Genossenschaften.
    search_until(&minji, "q=%EC%9D%B4%EC%95%BC%EA%B8%B0", found(&ko)).await;
    search_until(&minji, "q=%D8%A7%D9%84%D8%AA%D8%B9%D8%A7%D9%88%D9%86%D9%8A%D8%A9", found(&ar)).await;
    search_until(&minji, "q=Genossenschaft", found(&de)).await;
    search_until(&minji, "q=cooperativa%20sociale", found(&it)).await;
}

/// Chat small talk stays out of the queue unless a reader asks for it (then it goes
/// first after News) or it is long; forum posts always wait.
#[tokio::test]
async fn short_chat_posts_wait_only_when_a_reader_asks_and_then_go_first_after_news() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let tr = translator(&s, &admin, "tradutora", &[("pt", "en")]).await;
    let ana = s.user_with("ana", json!({"languages": ["pt"]})).await;
    let edward = s.user_with("edward", json!({"languages": ["en"]})).await;
    let lobby = s.lobby_room().await;
    let hello = say(&ana, &lobby, "Bom dia Marc", "pt", "c1").await;
    let long = "Hoje a cooperativa de Campinas reuniu trinta pessoas para discutir o fundo rotativo, \
                as regras de empréstimo e a próxima feira de economia solidária no centro da cidade.";
    let long = say(&ana, &lobby, long, "pt", "c2").await;
    let general = s.space_id("general").await;
    let (_, forum) = thread(&ana, &general, "Fundo rotativo", "Alguém conhece um bom modelo de estatuto?").await;
    let ids = queued_ids(&queue(&tr, "en").await);
    assert!(!ids.contains(&hello["id"].as_str().unwrap().to_owned()), "small talk stays out: {ids:?}");
    assert!(ids.contains(&long["id"].as_str().unwrap().to_owned()), "a long chat post waits: {ids:?}");
    assert!(ids.contains(&forum["id"].as_str().unwrap().to_owned()), "forum posts wait: {ids:?}");

    // Edward asks for it in English: it enters the queue, first.
    let path = format!("/posts/{}/translation-requests", hello["id"].as_str().unwrap());
    let (st, e) = edward.post(&path, json!({"lang": "de"})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (400, Some("lang")), "not a community language: {e}");
    let (st, e) = edward.post(&path, json!({"lang": "pt"})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (400, Some("lang")), "its own language: {e}");
    assert_eq!(s.guest().post(&path, json!({"lang": "en"})).await.0, 401);
    assert_eq!(edward.post(&path, json!({"lang": "en"})).await.0, 204);
    assert_eq!(edward.post(&path, json!({"lang": "en"})).await.0, 204, "asking twice is the same");
    let ids = queued_ids(&queue(&tr, "en").await);
    assert_eq!(ids.first().map(String::as_str), hello["id"].as_str(), "first: {ids:?}");
    // Not into French, which nobody asked for.
    let tfr = translator(&s, &admin, "tradutrice", &[("pt", "fr")]).await;
    assert!(!queued_ids(&queue(&tfr, "fr").await).contains(&hello["id"].as_str().unwrap().to_owned()));
    // A News post still goes before it.
    let news = s.space_id("news").await;
    let (_, n) = thread(&admin, &news, "Academia 2027", "A Academia de 2027 será em Lisboa.").await;
    let ids = queued_ids(&queue(&tr, "en").await);
    assert_eq!(
        ids[..2].to_vec(),
        vec![n["id"].as_str().unwrap().to_owned(), hello["id"].as_str().unwrap().to_owned()],
        "{ids:?}"
    );
    // Translated, it leaves.
    kt_publish(&tr, &hello, "en", "Good morning Marc").await;
    assert!(!queued_ids(&queue(&tr, "en").await).contains(&hello["id"].as_str().unwrap().to_owned()));
}

async fn kt_publish(t: &Client, post: &Value, lang: &str, body: &str) {
    let (st, e) = t.post("/translations/claim", json!({"post": post["id"], "lang": lang})).await;
    assert_eq!(st, 200, "{e}");
    let (st, e) = t
        .post(&format!("/posts/{}/translations", post["id"].as_str().unwrap()), json!({"lang": lang, "body": body}))
        .await;
    assert_eq!(st, 201, "{e}");
}

/// A translator pauses their queue: it lists nothing until they resume.
#[tokio::test]
async fn a_paused_queue_lists_nothing_until_resumed() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let t = translator(&s, &admin, "pausing", &[("en", "fr")]).await;
    let general = s.space_id("general").await;
    let author = s.user("author").await;
    let (room, _) = thread(&author, &general, "Care work", "intro").await;
    let p = say(&author, &room, "Care cooperatives are growing across the region", "en", "cw").await;
    assert!(queued_ids(&queue(&t, "fr").await).contains(&p["id"].as_str().unwrap().to_owned()));
    let (st, me) = t.put("/me/translator", json!({"pairs": [{"from": "en", "to": "fr"}], "paused": true})).await;
    assert_eq!((st, me["translator_paused"].as_bool()), (200, Some(true)), "{me}");
    assert!(queue(&t, "fr").await.is_empty());
    // Pairs changed without `paused` keep it as it was.
    let (_, me) =
        t.put("/me/translator", json!({"pairs": [{"from": "en", "to": "fr"}, {"from": "es", "to": "fr"}]})).await;
    assert_eq!(me["translator_paused"], true);
    let (_, me) = t.put("/me/translator", json!({"pairs": [{"from": "en", "to": "fr"}], "paused": false})).await;
    assert!(me.get("translator_paused").is_none(), "{me}");
    assert!(queued_ids(&queue(&t, "fr").await).contains(&p["id"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn thread_titles_are_translated_through_the_desk_shown_and_searched_in_their_languages() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let marc = translator(&s, &admin, "marc_t", &[("pt", "fr")]).await;
    let lucia = translator(&s, &admin, "lucia_t", &[("en", "es")]).await;
    let ana = s.user_with("ana_titles", json!({"languages": ["pt"]})).await;
    let mut marc_queue = subscribe_queue(&marc).await;
    let (room, opening) = thread(
        &ana,
        &general,
        "Catadoras de Campinas",
        "As cooperativas de catadores organizam a coleta seletiva com a prefeitura de Campinas.",
    )
    .await;
    assert_eq!(opening["lang"], "pt", "{opening}");
    let (_, r) = ana.get(&format!("/rooms/{room}")).await;
    assert_eq!(r["title_lang"], "pt", "{r}");
    // Live on the desk: the opening post, then its title.
    let live = marc_queue.until("queue_title").await;
    assert_eq!((live["room"].as_str(), live["needed"].as_str()), (Some(room.as_str()), Some("fr")), "{live}");
    assert_eq!(live["post"]["id"], opening["id"], "{live}");

    // The title waits for French beside its post, with the thread's context.
    let q = queue_all(&marc, "fr").await;
    let title =
        q.iter().find(|i| i["kind"] == "title" && i["room"] == room.as_str()).unwrap_or_else(|| panic!("{q:?}"));
    assert_eq!(title["room_title"], "Catadoras de Campinas");
    assert_eq!(title["post"]["id"], opening["id"], "the opening post, for context");
    assert_eq!(title["needed"], "fr");
    assert!(q.iter().any(|i| i["kind"] == "post" && i["post"]["id"] == opening["id"]));
    // Not for a translator from another language.
    assert!(!queue_all(&lucia, "es").await.iter().any(|i| i["kind"] == "title"));

    // Refused: a pair the translator does not hold, the title's own language, a chat.
    let path = format!("/rooms/{room}/title-translations");
    let (status, e) = lucia.post(&path, json!({"lang": "es", "title": "Recicladoras"})).await;
    assert_eq!(status, 403, "{e}");
    let (status, e) = marc.post(&path, json!({"lang": "pt", "title": "Catadoras"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("lang")), "{e}");
    let (status, e) = marc.post(&path, json!({"lang": "fr", "title": "  "})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("title")), "{e}");
    let lobby = s.lobby_room().await;
    let (status, _) =
        marc.post(&format!("/rooms/{lobby}/title-translations"), json!({"lang": "fr", "title": "x"})).await;
    assert_eq!(status, 400);
    let (status, _) = ana.post(&path, json!({"lang": "fr", "title": "x"})).await;
    assert_eq!(status, 403, "translators only");

    // Published: on the room, gone from the queue, found in French.
    let mut ws = ana.ws().await;
    ws.send(json!({"type": "subscribe_space", "space": general})).await;
    ws.expect("subscribed_space").await;
    let (status, r) = marc.post(&path, json!({"lang": "fr", "title": "Les ramasseuses de Campinas"})).await;
    assert_eq!(status, 200, "{r}");
    let live = ws.until("room_updated").await;
    assert_eq!(live["room"]["title_translations"]["fr"]["title"], "Les ramasseuses de Campinas", "{live}");
    assert_eq!(r["title_translations"]["fr"]["title"], "Les ramasseuses de Campinas");
    assert_eq!(r["title_translations"]["fr"]["translator"], marc.id().as_str());
    assert!(!queue_all(&marc, "fr").await.iter().any(|i| i["kind"] == "title" && i["room"] == room.as_str()));
    let (_, r) = s.guest().get(&format!("/rooms/{room}")).await;
    assert_eq!(r["title_translations"]["fr"]["title"], "Les ramasseuses de Campinas", "{r}");
    let found = search_until(&s.guest(), "q=ramasseuses", |v| v.to_string().contains(&room)).await;
    assert!(found.to_string().contains(&room), "{found}");

    // A new title makes its translations stale and offers it again; only its author or
    // a manager of the space renames it.
    let other = s.user("someone_else").await;
    let (status, _) = other.patch(&format!("/rooms/{room}"), json!({"title": "Mine now"})).await;
    assert_eq!(status, 403);
    let (status, r) = ana.patch(&format!("/rooms/{room}"), json!({"title": "Catadoras e catadores de Campinas"})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["title"], "Catadoras e catadores de Campinas");
    assert_eq!(r["title_translations"]["fr"]["stale"], true, "{r}");
    assert!(queue_all(&marc, "fr").await.iter().any(|i| i["kind"] == "title" && i["room"] == room.as_str()));
    let live = marc_queue.until("queue_title").await;
    assert_eq!((live["room"].as_str(), live["needed"].as_str()), (Some(room.as_str()), Some("fr")), "{live}");
    s.stop().await;
}

#[tokio::test]
async fn a_private_groups_titles_reach_only_translators_who_read_it() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let inside = translator(&s, &admin, "inside_t", &[("en", "fr")]).await;
    let outside = translator(&s, &admin, "outside_t", &[("en", "fr")]).await;
    let member = s.user("member_t").await;
    let group = private_forum(&admin, "wg-titles", &[&inside, &member]).await;
    let (mut inside_queue, mut outside_queue) = (subscribe_queue(&inside).await, subscribe_queue(&outside).await);
    let (room, _) = thread(
        &member,
        &group,
        "Secret agenda of the cooperative network",
        "The draft terms of the exchange between the three cooperatives.",
    )
    .await;
    assert!(queue_all(&inside, "fr").await.iter().any(|i| i["kind"] == "title" && i["room"] == room.as_str()));
    assert!(!queue_all(&outside, "fr").await.iter().any(|i| i["room"] == room.as_str()));
    // Live too: the group's title reaches its member; the first title the other hears
    // of is a public thread's, opened after it.
    assert_eq!(inside_queue.until("queue_title").await["room"], room.as_str());
    let general = s.space_id("general").await;
    let (public, _) =
        thread(&member, &general, "Open agenda of the network", "What the network plans this year.").await;
    assert_eq!(outside_queue.until("queue_title").await["room"], public.as_str());
    let (status, _) = outside
        .post(&format!("/rooms/{room}/title-translations"), json!({"lang": "fr", "title": "Ordre du jour"}))
        .await;
    assert_eq!(status, 404, "a group it cannot read does not exist for it");
    s.stop().await;
}

#[tokio::test]
async fn the_recognition_page_counts_each_translators_work_over_what_the_reader_reads() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let marc = translator(&s, &admin, "marc_r", &[("en", "fr"), ("en", "es")]).await;
    let ines = translator(&s, &admin, "ines_r", &[("en", "pt")]).await;
    let author = s.user("author_r").await;
    let outsider = s.user("outsider_r").await;
    let group = private_forum(&admin, "wg-recognition", &[&marc, &author]).await;
    // A thread's title is in its opening post's language.
    let opening = "This thread is where we share what we have learned.";
    let (room, _) = thread(&author, &general, "The social finance of our cooperatives", opening).await;
    let (secret, _) = thread(&author, &group, "Inside the group and what it is working on", opening).await;
    let a = say(&author, &room, "Solidarity finance funds cooperatives", "en", "r1").await;
    let b = say(&author, &room, "Community banks lend to members", "en", "r2").await;
    let c = say(&author, &secret, "The group's budget for the exchange", "en", "r3").await;
    for (t, post, lang) in [(&marc, &a, "fr"), (&marc, &a, "es"), (&marc, &c, "fr"), (&ines, &b, "pt")] {
        let pid = post["id"].as_str().unwrap();
        let (status, v) = t.post(&format!("/posts/{pid}/translations"), json!({"lang": lang, "body": "traduit"})).await;
        assert_eq!(status, 201, "{v}");
    }
    // Titles count too: Ines gives the public thread's in Portuguese, Marc the group's in French.
    for (t, room, lang, title) in
        [(&ines, &room, "pt", "Finanças solidárias"), (&marc, &secret, "fr", "Dans le groupe")]
    {
        let (status, v) =
            t.post(&format!("/rooms/{room}/title-translations"), json!({"lang": lang, "title": title})).await;
        assert_eq!(status, 200, "{v}");
    }
    let (status, _) = s.guest().get("/translations/translators").await;
    assert_eq!(status, 401);
    let counts = |v: &Value, who: &Client| -> (u64, Value) {
        let row = v
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["user"]["id"] == who.id().as_str())
            .unwrap_or_else(|| panic!("{v}"));
        (row["translations"].as_u64().unwrap(), row["languages"].clone())
    };
    // A member of the group sees all of Marc's work, most first.
    let (status, v) = author.get("/translations/translators").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v[0]["user"]["id"], marc.id().as_str(), "{v}");
    assert_eq!(counts(&v, &marc), (4, json!({"fr": 3, "es": 1})));
    assert_eq!(counts(&v, &ines), (2, json!({"pt": 2})));
    // Someone outside it does not learn of the group's translations.
    let (_, v) = outsider.get("/translations/translators").await;
    assert_eq!(counts(&v, &marc), (2, json!({"fr": 1, "es": 1})));
    assert_eq!(counts(&v, &ines), (2, json!({"pt": 2})));
    s.stop().await;
}

#[tokio::test]
async fn readers_see_which_posts_others_asked_to_have_translated() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let t = translator(&s, &admin, "req_t", &[("es", "en")]).await;
    let es = s.user_with("req_es", json!({"languages": ["es"]})).await;
    let asker = s.user_with("req_en", json!({"languages": ["en"]})).await;
    let other = s.user_with("req_other", json!({"languages": ["en"]})).await;
    let lobby = s.lobby_room().await;
    let hola = say(&es, &lobby, "¡Hola a todos!", "es", "req1").await;
    let quiet = say(&es, &lobby, "¿Qué tal?", "es", "req2").await;
    let (h, q) = (hola["id"].as_str().unwrap(), quiet["id"].as_str().unwrap());
    let path = format!("/translation-requests?posts={h},{q}");
    let (status, v) = other.get(&path).await;
    assert_eq!((status, v.clone()), (200, json!({})), "nothing asked yet");
    let (status, _) = asker.post(&format!("/posts/{h}/translation-requests"), json!({"lang": "en"})).await;
    assert_eq!(status, 204);
    let (_, v) = other.get(&path).await;
    assert_eq!(v, json!({h: ["en"]}), "another reader sees it");
    let (status, e) = other.get("/translation-requests?posts=nonsense").await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("posts")), "{e}");
    // Translated, it is no longer waiting.
    let (status, _) =
        t.post(&format!("/posts/{h}/translations"), json!({"lang": "en", "body": "Hello, everyone!"})).await;
    assert_eq!(status, 201);
    let (_, v) = other.get(&path).await;
    assert_eq!(v, json!({}));
    s.stop().await;
}

#[tokio::test]
async fn translation_memory_suggests_earlier_sentences_without_crossing_spaces() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let marc = translator(&s, &admin, "marc_m", &[("en", "fr")]).await;
    let author = s.user("author_m").await;
    let group = private_forum(&admin, "wg-memory", &[&marc, &author]).await;
    let (room, _) = thread(&author, &general, "Shop", "intro").await;
    let (secret, _) = thread(&author, &group, "Budget", "intro").await;
    let translate = |post: &Value, body: &'static str| {
        let pid = post["id"].as_str().unwrap().to_owned();
        let marc = &marc;
        async move {
            let (status, v) =
                marc.post(&format!("/posts/{pid}/translations"), json!({"lang": "fr", "body": body})).await;
            assert_eq!(status, 201, "{v}");
        }
    };
    let open = say(&author, &room, "The cooperative opens its shop tomorrow. Everyone is welcome.", "en", "m1").await;
    translate(&open, "La coopérative ouvre sa boutique demain. Tout le monde est bienvenu.").await;
    let budget = say(&author, &secret, "Our budget for the exchange is small.", "en", "m2").await;
    translate(&budget, "Notre budget pour l'échange est modeste.").await;

    // A new public post: its first sentence was translated before, its second only
    // inside the group, which a public post's translation never draws on.
    let new = say(
        &author,
        &room,
        "The cooperative opens its shop tomorrow. Our budget for the exchange is small.",
        "en",
        "m3",
    )
    .await;
    let path = format!("/translations/suggestions?post={}&lang=fr", new["id"].as_str().unwrap());
    let (status, v) = marc.get(&path).await;
    assert_eq!(status, 200, "{v}");
    let list = v.as_array().unwrap();
    assert_eq!(list[0]["target"], "La coopérative ouvre sa boutique demain.", "{v}");
    assert_eq!(list[0]["source"], "The cooperative opens its shop tomorrow.");
    assert_eq!(list[0]["sentence"], 0);
    assert_eq!(list[0]["from_post"], open["id"]);
    assert!(list[0]["score"].as_f64().unwrap() >= 0.9, "{v}");
    assert!(!v.to_string().contains("Notre budget"), "a private group's words reached a public post: {v}");
    // Inside the group, its own pairs are offered.
    let inside = say(&author, &secret, "Our budget for the exchange is very small.", "en", "m4").await;
    let (_, v) = marc.get(&format!("/translations/suggestions?post={}&lang=fr", inside["id"].as_str().unwrap())).await;
    assert_eq!(v[0]["target"], "Notre budget pour l'échange est modeste.", "{v}");
    let score = v[0]["score"].as_f64().unwrap();
    assert!((0.7..1.0).contains(&score), "a close match scores high but below an identical one: {score}");
    // Refused: not a translator, not their pair.
    let (status, _) = author.get(&path).await;
    assert_eq!(status, 403);
    let (status, _) =
        marc.get(&format!("/translations/suggestions?post={}&lang=es", new["id"].as_str().unwrap())).await;
    assert_eq!(status, 403);
    // A deleted post's words are offered no more.
    let (status, _) = author.delete(&format!("/posts/{}", open["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    let (_, v) = marc.get(&path).await;
    assert!(!v.to_string().contains("La coopérative ouvre"), "{v}");
    s.stop().await;
}
