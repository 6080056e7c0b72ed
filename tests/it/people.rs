//! People: profiles, who sees them, and the member directory across languages.

use serde_json::{json, Value};

use crate::util::*;

fn handles(v: &Value) -> Vec<String> {
    v["users"]
        .as_array()
        .map(|a| a.iter().map(|u| u["handle"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_member_fills_a_profile_and_chooses_who_sees_it() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let (awa, other) = (s.user("awa").await, s.user("other").await);
    let profile = json!({
        "country": "sn",
        "organization": "Réseau des coopératives de Thiès",
        "sector": "Cooperatives",
        "expertise": ["Droit coopératif", "Économie sociale", "droit coopératif", " "],
        "editions": ["Agadir 2013", "Johannesburg 2015"],
        "bio": "Juriste. **Coopératives** agricoles.<script>alert(1)</script>",
    });
    let (status, me) = awa.patch("/me", profile).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["country"], "SN");
    assert_eq!(me["expertise"], json!(["Droit coopératif", "Économie sociale"]), "trimmed, blanks and repeats dropped");
    assert_eq!(me["profile_visibility"], "members");
    assert!(me["bio_html"].as_str().unwrap().contains("<strong>Coopératives</strong>"), "{me}");
    assert!(!me["bio_html"].as_str().unwrap().contains("<script"), "{me}");

    // Members see it; guests do not, until it is public.
    let (status, seen) = other.get(&format!("/users/{}", awa.id())).await;
    assert_eq!((status, seen["organization"].as_str()), (200, Some("Réseau des coopératives de Thiès")));
    let (status, _) = s.guest().get(&format!("/users/{}", awa.id())).await;
    assert_eq!(status, 401);
    assert_eq!(handles(&s.guest().get("/users").await.1), Vec::<String>::new());
    awa.patch("/me", json!({"profile_visibility": "public"})).await;
    let (status, seen) = s.guest().get(&format!("/users/{}", awa.id())).await;
    assert_eq!((status, seen["country"].as_str()), (200, Some("SN")));
    assert_eq!(handles(&s.guest().get("/users").await.1), ["awa"]);

    // Bad input names its field and changes nothing.
    for (body, field) in [
        (json!({"country": "Senegal"}), "country"),
        (json!({"country": "XX"}), "country"),
        (json!({"expertise": (0..13).map(|i| format!("area {i}")).collect::<Vec<_>>()}), "expertise"),
        (json!({"organization": "a".repeat(121)}), "organization"),
        (json!({"bio": "b".repeat(4001)}), "bio"),
        (json!({"editions": ["Turin\u{0007}2010"]}), "editions"),
    ] {
        let (status, e) = awa.patch("/me", body.clone()).await;
        assert_eq!((status, e["error"]["field"].as_str()), (400, Some(field)), "{body}: {e}");
    }
    let (status, e) = awa.patch("/me", json!({"profile_visibility": "everyone"})).await;
    assert_eq!(status, 400, "{e}");
    let (_, me) = awa.get("/me").await;
    assert_eq!((me["country"].as_str(), me["profile_visibility"].as_str()), (Some("SN"), Some("public")));
    // An empty text clears a field.
    let (_, me) = awa.patch("/me", json!({"country": "", "organization": ""})).await;
    assert_eq!((me["country"].clone(), me["organization"].clone()), (Value::Null, Value::Null));
}

#[tokio::test]
async fn the_directory_finds_peers_by_expertise_across_languages_and_filters() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let people = [
        (
            "fatou",
            json!({"country": "SN", "expertise": ["Social economy law"], "editions": ["Agadir 2013"], "languages": ["fr", "en"]}),
        ),
        (
            "joao",
            json!({"country": "BR", "expertise": ["Economia social", "Finanças solidárias"], "editions": ["Campinas 2014"], "languages": ["pt"]}),
        ),
        (
            "marie",
            json!({"country": "FR", "expertise": ["Monnaie locale"], "organization": "Coopérative Oxalis", "languages": ["fr"]}),
        ),
        (
            "kim",
            json!({"country": "KR", "expertise": ["Social enterprise"], "editions": ["Seoul 2016", "Agadir 2013"], "languages": ["ko", "en"]}),
        ),
    ];
    let mut clients = Vec::new();
    for (h, profile) in people {
        let c = s.user(h).await;
        let (status, e) = c.patch("/me", profile).await;
        assert_eq!(status, 200, "{e}");
        clients.push(c);
    }
    let me = &clients[0];
    let find = |q: &str| {
        let me = me.clone();
        let q = q.to_owned();
        async move {
            let (status, v) = me.get(&format!("/users?{q}")).await;
            assert_eq!(status, 200, "{q}: {v}");
            let mut h = handles(&v);
            h.sort();
            h
        }
    };
    // "économie sociale" (French) finds "Social economy law" (English) and "Economia social"
    // (Portuguese) through the glossary.
    assert_eq!(find("expertise=%C3%A9conomie%20sociale").await, ["fatou", "joao"]);
    assert_eq!(find("q=economia%20social").await, ["fatou", "joao"]);
    assert_eq!(find("q=community%20currency").await, ["marie"], "English finds French");
    assert_eq!(find("q=oxalis").await, ["marie"], "the organisation");
    assert_eq!(find("country=sn").await, ["fatou"]);
    assert_eq!(find("language=ko").await, ["kim"]);
    assert_eq!(find("edition=agadir").await, ["fatou", "kim"]);
    assert_eq!(find("edition=agadir&country=KR").await, ["kim"]);
    assert_eq!(find("q=entreprise%20sociale").await, ["kim"]);
    assert_eq!(find("q=nobody%20knows%20this").await, Vec::<String>::new());

    // Pages, in name order, through an opaque cursor.
    let (_, page) = me.get("/users?limit=2").await;
    assert_eq!(handles(&page).len(), 2);
    let next = page["next"].as_str().expect("a next page");
    let (_, rest) = me.get(&format!("/users?limit=2&cursor={next}")).await;
    assert!(!handles(&rest).is_empty());
    assert!(handles(&rest).iter().all(|h| !handles(&page).contains(h)));

    // Nonsense filters are refused with their field.
    for (q, field) in [
        ("country=Senegal", "country"),
        ("language=portugues", "language"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("cursor=zzz", "cursor"),
    ] {
        let (status, e) = me.get(&format!("/users?{q}")).await;
        assert_eq!((status, e["error"]["field"].as_str()), (400, Some(field)), "{q}: {e}");
    }
    let long = "a".repeat(201);
    let (status, e) = me.get(&format!("/users?q={long}")).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("q")));
}
