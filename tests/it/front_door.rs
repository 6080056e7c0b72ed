//! What a guest sees first, and what admins change of the spaces: names and descriptions
//! per language, who posts, archiving; thread counts and last activity in the list.

use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn admins_describe_spaces_per_language_and_archive_them_and_the_list_says_how_alive_each_is() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let member = s.user("ana").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&member, &general, "Hello", "A first thread").await;

    let patch = json!({
        "names": {"fr": "Discussion générale", "pt": "Conversa geral"},
        "descriptions": {"en": "Anything about the SSE", "fr": "Tout sur l'ESS"},
    });
    assert_eq!(member.patch(&format!("/spaces/{general}"), patch.clone()).await.0, 403);
    let (status, space) = admin.patch(&format!("/spaces/{general}"), patch).await;
    assert_eq!(status, 200, "{space}");
    assert_eq!(space["names"]["fr"], "Discussion générale");
    assert_eq!(space["descriptions"]["fr"], "Tout sur l'ESS");
    let (status, e) = admin.patch(&format!("/spaces/{general}"), json!({"descriptions": {"francais": "x"}})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("descriptions")));
    let (status, e) = admin.patch(&format!("/spaces/{general}"), json!({"visibility": "hidden"})).await;
    assert_eq!(status, 400, "an unknown visibility: {e}");

    let (_, spaces) = s.guest().get("/spaces").await;
    let row = spaces.as_array().unwrap().iter().find(|x| x["id"] == general.as_str()).unwrap().clone();
    assert_eq!(row["threads"], 1);
    assert!(row["last_activity_at"].is_string(), "{row}");
    assert_eq!(row["descriptions"]["en"], "Anything about the SSE");
    let news = spaces.as_array().unwrap().iter().find(|x| x["slug"] == "news").unwrap().clone();
    assert_eq!((news["threads"].as_u64(), news.get("last_activity_at")), (Some(0), None), "no post yet: {news}");

    let (_, archived) = admin.patch(&format!("/spaces/{general}"), json!({"archived": true})).await;
    assert_eq!(archived["archived"], true);
    let (status, e) = member.post(&format!("/rooms/{room}/posts"), json!({"body": "late", "nonce": "late"})).await;
    assert_eq!(status, 403, "{e}");
    let (status, _) =
        member.post(&format!("/spaces/{general}/rooms"), json!({"title": "t", "body": "b", "nonce": "t2"})).await;
    assert_eq!(status, 403);
    let (_, spaces) = s.guest().get("/spaces").await;
    assert_eq!(spaces.as_array().unwrap().last().unwrap()["id"], general.as_str(), "archived spaces list last");
    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(posts[0]["body"], "A first thread", "still read");
    admin.patch(&format!("/spaces/{general}"), json!({"archived": false})).await;
    let (status, _) = member.post(&format!("/rooms/{room}/posts"), json!({"body": "back", "nonce": "back"})).await;
    assert_eq!(status, 201);

    // A direct conversation is nobody's to rename.
    let (_, dm) = member.post("/dms", json!({"users": [admin.id()]})).await;
    let (status, _) =
        admin.patch(&format!("/spaces/{}", dm["space"].as_str().unwrap()), json!({"archived": true})).await;
    assert_eq!(status, 404);
}
