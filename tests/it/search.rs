//! Search across languages: translations, the glossary and n-grams; accent folding;
//! privacy in the query (counts included); edits and deletes; filters and paging; the
//! `search` frame; catch-up after a stop before the index committed; reindex.

use std::time::Duration;

use serde_json::{json, Value};

use crate::util::{private_forum, search_until, thread, Client, Server};

fn hit_posts(v: &Value) -> Vec<String> {
    v["hits"].as_array().unwrap().iter().map(|h| h["post"]["id"].as_str().unwrap().to_owned()).collect()
}

fn has(v: &Value, post: &Value) -> bool {
    hit_posts(v).contains(&post["id"].as_str().unwrap().to_owned())
}

fn hit<'a>(v: &'a Value, post: &Value) -> &'a Value {
    v["hits"].as_array().unwrap().iter().find(|h| h["post"]["id"] == post["id"]).expect("hit")
}

/// The words a hit's snippet marks.
fn marked(hit: &Value) -> Vec<&str> {
    hit["snippet_parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["mark"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect()
}

fn q(s: &str) -> String {
    s.replace(' ', "%20")
}

/// A thread with a declared language; returns its first post.
async fn say(c: &Client, space: &str, title: &str, body: &str, lang: &str) -> Value {
    let (status, v) = c
        .post(
            &format!("/spaces/{space}/rooms"),
            json!({"title": title, "body": body, "nonce": format!("n-{title}"), "lang": lang}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    v["post"].clone()
}

#[tokio::test]
async fn a_query_finds_posts_in_other_languages_with_marked_snippets() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let a = s.user("awa").await;
    let fr = say(&a, &general, "Dakar", "Au Sénégal, les coopératives de femmes transforment le mil.", "fr").await;
    let es = say(&a, &general, "Puebla", "En Puebla, las cooperativas de mujeres venden café.", "es").await;
    let en = say(&a, &general, "Turin", "The weather in Turin was lovely all week.", "en").await;

    let guest = s.guest();
    let v = search_until(&guest, &q("q=cooperativas de mulheres"), |v| has(v, &fr) && has(v, &es)).await;
    assert!(!has(&v, &en), "{v}");
    let h = hit(&v, &fr);
    assert_eq!(h["matched_lang"], "fr");
    assert_eq!(h["title"], "Dakar");
    assert_eq!(h["space"], general.as_str());
    let marked = marked(h);
    assert!(marked.contains(&"coopératives") && marked.contains(&"femmes"), "{h}");
    assert!(h["snippet"].as_str().unwrap().contains("coopératives de femmes"), "{h}");
    assert!(h["score"].as_f64().unwrap() > 0.0);
    assert_eq!(hit(&v, &es)["matched_lang"], "es");

    // Accents never matter.
    let v = search_until(&guest, "q=Senegal", |v| has(v, &fr)).await;
    assert_eq!(v["total"], 1);
    s.stop().await;
}

#[tokio::test]
async fn translations_glossary_and_ngrams_bridge_languages() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let a = s.user("jisoo").await;
    let ko = say(&a, &general, "서울", "사회적경제 기업들이 지역 일자리를 만듭니다", "ko").await;
    // Nobody has translated it yet: an English query cannot find it.
    let guest = s.guest();
    let v = search_until(&guest, "q=jobs", |_| true).await;
    assert!(!has(&v, &ko), "{v}");

    let mut t = s.user("trad").await;
    let (status, _) = admin.put(&format!("/users/{}/roles", t.id()), json!({"roles": ["translator"]})).await;
    assert_eq!(status, 200);
    let (status, me) = t.put("/me/translator", json!({"pairs": [{"from": "ko", "to": "en"}]})).await;
    assert_eq!(status, 200, "{me}");
    t.user = me;
    let id = ko["id"].as_str().unwrap();
    let (status, p) = t
        .post(
            &format!("/posts/{id}/translations"),
            json!({"lang": "en", "body": "Social economy enterprises create local jobs"}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let v = search_until(&guest, "q=jobs", |v| has(v, &ko)).await;
    assert_eq!(hit(&v, &ko)["matched_lang"], "en");
    assert!(hit(&v, &ko)["snippet"].as_str().unwrap().contains("jobs"));
    // The original still answers in its own language.
    search_until(&guest, &q("q=일자리를"), |v| has(v, &ko)).await;

    // The shipped glossary: "decent work" and "travail décent" share no word.
    let fr = say(&a, &general, "Travail", "Le travail décent pour les récupérateurs de déchets", "fr").await;
    search_until(&guest, &q("q=decent work"), |v| has(v, &fr)).await;
    search_until(&guest, &q("q=waste pickers"), |v| has(v, &fr)).await;
    // N-grams: a cognate with no translation and no glossary entry.
    let pt = say(&a, &general, "Agro", "Agroecologia e bioinsumos nas comunidades", "pt").await;
    search_until(&guest, "q=agroecology", |v| has(v, &pt)).await;

    // Translators and admins extend the glossary; others may not; bad concepts are refused.
    let pt2 = say(&a, &general, "Mutirão", "O mutirão reconstruiu as casas da vila", "pt").await;
    let v = search_until(&guest, &q("q=community work party"), |_| true).await;
    assert!(!has(&v, &pt2), "{v}");
    let concept = json!({"id": "mutirao", "terms": {"en": ["community work party"], "pt": ["mutirão"]}});
    let (status, e) = a.post("/glossary", concept.clone()).await;
    assert_eq!(status, 403, "{e}");
    let (status, e) = t.post("/glossary", json!({"id": "x y", "terms": {"en": ["a"], "pt": ["b"]}})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("id")), "{e}");
    let (status, e) = t.post("/glossary", json!({"id": "one", "terms": {"en": ["a"]}})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("terms")), "{e}");
    let (status, c) = t.post("/glossary", concept).await;
    assert_eq!(status, 201, "{c}");
    search_until(&guest, &q("q=community work party"), |v| has(v, &pt2)).await;
    let (status, all) = guest.get("/glossary").await;
    assert_eq!(status, 200);
    assert!(all.as_array().unwrap().iter().any(|c| c["id"] == "mutirao"));
    assert!(all.as_array().unwrap().len() > 40);

    // The added concept survives a restart.
    let dir = s.stop().await.expect("dir");
    let s = Server::start_in(dir.path(), |_| {}).await;
    search_until(&s.guest(), &q("q=community work party"), |v| has(v, &pt2)).await;
    s.stop().await;
}

/// Makes `name` a translator from es into en.
async fn translator(s: &Server, admin: &Client, name: &str) -> Client {
    let mut t = s.user(name).await;
    let (status, _) = admin.put(&format!("/users/{}/roles", t.id()), json!({"roles": ["translator"]})).await;
    assert_eq!(status, 200);
    let (status, me) = t.put("/me/translator", json!({"pairs": [{"from": "es", "to": "en"}]})).await;
    assert_eq!(status, 200, "{me}");
    t.user = me;
    t
}

async fn translate(t: &Client, post: &Value, body: &str) {
    let id = post["id"].as_str().unwrap();
    let (status, p) = t.post(&format!("/posts/{id}/translations"), json!({"lang": "en", "body": body})).await;
    assert_eq!(status, 201, "{p}");
}

#[tokio::test]
async fn search_learns_words_from_public_translations_only() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let general = s.space_id("general").await;
    let a = s.user("lucia").await;
    let member = s.user("miembro").await;
    let t = translator(&s, &admin, "traductora").await;
    let private = private_forum(&admin, "grupo", &[&member, &t]).await;
    // Untranslated Spanish posts: "gobierno" and "trabajadores" share no n-gram with
    // "government" and "workers", and no glossary entry names them.
    let gov = say(&a, &general, "Fondo", "El gobierno anuncia un fondo", "es").await;
    let work = say(&a, &general, "Campo", "Los trabajadores del campo", "es").await;
    let guest = s.guest();
    for (query, post) in [("q=government", &gov), ("q=workers", &work)] {
        let v = search_until(&guest, query, |_| true).await;
        assert!(!has(&v, post), "found before anything was learned: {v}");
    }
    // A public post translated teaches gobierno = government; a private one teaches
    // trabajadores = workers, which must not reach anyone's search.
    let public = say(&a, &general, "Apoyo", "El gobierno apoya las cooperativas", "es").await;
    translate(&t, &public, "The government supports cooperatives").await;
    let secret = say(&member, &private, "Plan", "Los trabajadores y las cooperativas", "es").await;
    translate(&t, &secret, "Workers and cooperatives").await;
    // (The lexicon learns as the translation is indexed; the translated post itself is
    // searchable from the next commit.)
    let v = search_until(&guest, "q=government", |v| has(v, &gov) && has(v, &public)).await;
    let h = hit(&v, &gov);
    assert_eq!(marked(h), vec!["gobierno"], "{h}");
    for c in [&guest, &member] {
        let v = search_until(c, "q=workers", |_| true).await;
        assert!(!has(&v, &work), "a private translation expanded the query: {v}");
    }
    // Learned again from the store after a restart.
    let dir = s.stop().await.expect("dir");
    let s = Server::start_in(dir.path(), |_| {}).await;
    search_until(&s.guest(), "q=government", |v| has(v, &gov)).await;
    let v = search_until(&s.guest(), "q=workers", |_| true).await;
    assert!(!has(&v, &work), "{v}");
    s.stop().await;
}

#[tokio::test]
async fn nothing_private_reaches_a_non_member_not_even_in_counts() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let member = s.user("membro").await;
    let outsider = s.user("outsider").await;
    let private = private_forum(&admin, "south-south", &[&member]).await;
    let secret = say(&member, &private, "Plano", "Plano confidencial de cooperação triangular", "pt").await;
    let general = s.space_id("general").await;
    let open = say(&member, &general, "Aberto", "Cooperação triangular aberta a todos", "pt").await;

    let v = search_until(&member, "q=triangular", |v| has(v, &secret) && has(v, &open)).await;
    assert_eq!(v["total"], 2);
    for c in [&outsider, &s.guest()] {
        let v = search_until(c, "q=triangular", |v| has(v, &open)).await;
        assert!(!has(&v, &secret), "{v}");
        assert_eq!(v["total"], 1, "a private post is counted: {v}");
        let v = search_until(c, "q=confidencial", |_| true).await;
        assert_eq!(v["total"], 0, "{v}");
        assert!(v["hits"].as_array().unwrap().is_empty());
        // Naming the space does not open it, nor say whether it exists.
        let (status, e) = c.get(&format!("/search?q=plano&space={private}")).await;
        assert_eq!(status, 404, "{e}");
    }
    // The WebSocket frame answers the same way.
    let mut ws = outsider.ws().await;
    ws.send(json!({"type": "search", "q": "confidencial triangular", "ref": "r1"})).await;
    let v = ws.expect("search_results").await;
    assert_eq!(v["ref"], "r1");
    assert!(!has(&v, &secret) && has(&v, &open), "{v}");
    let mut ws = member.ws().await;
    ws.send(json!({"type": "search", "q": "confidencial", "space": private})).await;
    let v = ws.expect("search_results").await;
    assert!(has(&v, &secret), "{v}");
    ws.send(json!({"type": "search", "q": "", "ref": "r2"})).await;
    let e = ws.expect("error").await;
    assert_eq!((e["code"].as_str(), e["ref"].as_str()), (Some("bad_request"), Some("r2")), "{e}");
    s.stop().await;
}

#[tokio::test]
async fn edits_translations_and_deletes_are_reflected() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let a = s.user("editor").await;
    let p = say(&a, &general, "Feira", "A feira de economia solidária em Campinas", "pt").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let g = s.guest();
    search_until(&g, "q=Campinas", |v| has(v, &p)).await;
    let (status, _) =
        a.patch(&format!("/posts/{id}"), json!({"body": "A feira de economia solidária em Lisboa"})).await;
    assert_eq!(status, 200);
    search_until(&g, "q=Lisboa", |v| has(v, &p)).await;
    search_until(&g, "q=Campinas", |v| !has(v, &p)).await;
    let (status, _) = a.delete(&format!("/posts/{id}")).await;
    assert_eq!(status, 200);
    search_until(&g, "q=Lisboa", |v| v["total"] == 0 && !has(v, &p)).await;
    s.stop().await;
}

#[tokio::test]
async fn filters_sorting_and_cursor_paging() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let a = s.user("ana").await;
    let b = s.user("bruno").await;
    let mut posts = Vec::new();
    for i in 0..7 {
        let who = if i % 2 == 0 { &a } else { &b };
        posts.push(
            say(who, &general, &format!("Fundo {i}"), &format!("Fundo rotativo solidário número {i}"), "pt").await,
        );
    }
    let g = s.guest();
    let v = search_until(&g, "q=rotativo&limit=3", |v| v["total"] == 7).await;
    assert_eq!(v["hits"].as_array().unwrap().len(), 3);
    let mut seen = hit_posts(&v);
    let mut cursor = v["next"].as_str().expect("next").to_owned();
    loop {
        let (status, v) = g.get(&format!("/search?q=rotativo&limit=3&cursor={cursor}")).await;
        assert_eq!(status, 200, "{v}");
        seen.extend(hit_posts(&v));
        match v["next"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "paging lost or repeated a thread");

    let (_, v) = g.get(&format!("/search?q=rotativo&author={}", a.id())).await;
    assert_eq!(v["total"], 4, "{v}");
    let (_, v) = g.get("/search?q=rotativo&sort=recent&limit=1").await;
    assert_eq!(v["hits"][0]["post"]["id"], posts[6]["id"]);
    let (_, v) = g.get("/search?q=rotativo&lang=es").await;
    assert_eq!(v["total"], 0, "{v}");
    let (_, v) = g.get("/search?q=rotativo&lang=pt&from=2000-01-01&to=2999-12-31").await;
    assert_eq!(v["total"], 7, "{v}");
    let (_, v) = g.get("/search?q=rotativo&to=2000-01-01").await;
    assert_eq!(v["total"], 0, "{v}");

    for (query, field) in [
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=x&limit=0", "limit"),
        ("q=x&limit=51", "limit"),
        ("q=x&sort=loud", "sort"),
        ("q=x&cursor=nonsense", "cursor"),
        ("q=x&from=yesterday", "from"),
        ("q=x&lang=english", "lang"),
    ] {
        let (status, e) = g.get(&format!("/search?{query}")).await;
        assert_eq!((status, e["error"]["field"].as_str()), (400, Some(field)), "{query}: {e}");
    }
    let (status, e) = g.get(&format!("/search?q={}", "a".repeat(300))).await;
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_request")), "{e}");
    let (status, e) = g.get("/search?q=x&space=u1").await;
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_request")), "{e}");
    s.stop().await;
}

#[tokio::test]
async fn a_stop_before_the_index_commits_is_caught_up_on_start() {
    // The index would commit only after an hour: every ack lands in the store alone.
    let s = Server::start_with(|c| c.index_commit_ms = 3_600_000).await;
    let general = s.space_id("general").await;
    let a = s.user("late").await;
    let (room, _) = thread(&a, &general, "Catch-up", "primeiro").await;
    let mut ws = a.ws().await;
    let acks = ws.post_many(&room, "microcrédito solidário", "m", 20, 20).await;
    assert_eq!(acks.len(), 20);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, v) = a.get("/search?q=microcredito").await;
    assert_eq!(v["total"], 0, "committed early: {v}");
    let dir = s.stop().await.expect("dir");

    let s = Server::start_in(dir.path(), |_| {}).await;
    let v = search_until(&s.guest(), "q=microcredito", |v| v["total"] == 20).await;
    assert_eq!(v["hits"].as_array().unwrap().len(), 1, "one thread: {v}");
    assert_eq!(v["hits"][0]["also"].as_array().unwrap().len(), 19);
    s.stop().await;
}

#[tokio::test]
async fn reindex_equals_the_live_index() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let admin = s.admin().await;
    let a = s.user("many").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let p = say(&a, &general, &format!("T{i}"), &format!("Economía social número {i}"), "es").await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = a.patch(&format!("/posts/{}", ids[0]), json!({"body": "Economía popular"})).await;
    assert_eq!(status, 200);
    let (status, _) = a.delete(&format!("/posts/{}", ids[1])).await;
    assert_eq!(status, 200);
    let (status, _) = admin.patch(&format!("/posts/{}", ids[2]), json!({"lang": "pt"})).await;
    assert_eq!(status, 200);
    let last = say(&a, &general, "Last", "zzfinal marker", "en").await;
    search_until(&s.guest(), "q=zzfinal", |v| has(v, &last)).await;
    let dir = s.stop().await.expect("dir");

    let live = {
        let ix = collective_brain_index::SearchIndex::open(&dir.path().join("index"), &Default::default()).unwrap();
        ix.fingerprint().unwrap()
    };
    // 12 and `last`, less the deleted one (and whatever the first start seeded).
    assert!(live.len() >= 12, "{}", live.len());
    // New posts are added without a delete: each still has one document.
    let mut posts: Vec<u64> = live.iter().map(|(post, _)| *post).collect();
    posts.dedup();
    assert_eq!(posts.len(), live.len(), "a post with two documents: {live:?}");
    let n = tokio::task::spawn_blocking({
        let d = dir.path().to_owned();
        move || collective_brain::search::reindex(&d)
    })
    .await
    .unwrap()
    .unwrap();
    let rebuilt = collective_brain_index::SearchIndex::open(&dir.path().join("index"), &Default::default())
        .unwrap()
        .fingerprint()
        .unwrap();
    assert_eq!(n as usize, rebuilt.len());
    assert_eq!(live, rebuilt, "the rebuilt index differs from the live one");
}

#[test]
fn recall_targets_hold_on_the_parallel_corpus() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/eval/parallel/ntrex.tsv");
    let text = std::fs::read_to_string(path).expect("../shared/eval/parallel/ntrex.tsv (the evaluation data)");
    let rows = collective_brain_index::eval::read_corpus(&text);
    assert!(rows.len() > 1900, "{} rows", rows.len());
    let r = collective_brain_index::eval::evaluate(&rows).unwrap();
    eprintln!("{}", r.to_markdown());
    assert!(r.translated.total() >= 0.99, "with translations: {:.3}", r.translated.total());
    assert!(
        r.untranslated.total() >= 2.5 * r.baseline.total(),
        "no translations {:.3} against baseline {:.3}",
        r.untranslated.total(),
        r.baseline.total()
    );
}
