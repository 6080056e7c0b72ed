//! Personal data: a member downloads everything stored about them, and erases their
//! account; an admin erases one on request.

use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn a_member_downloads_everything_stored_about_them_and_nothing_of_anyone_else() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let (ana, bruno) = (s.user("ana").await, s.user("bruno").await);
    let group = private_forum(&admin, "wg", &[&ana, &bruno]).await;
    let general = s.space_id("general").await;
    let (room, post) = thread(&ana, &general, "Cooperatives", "Version one").await;
    let post_id = post["id"].as_str().unwrap().to_owned();
    ana.patch(&format!("/posts/{post_id}"), json!({"body": "Version two"})).await;
    let (_, theirs) =
        bruno.post(&format!("/rooms/{room}/posts"), json!({"body": "Bruno's words, @ana", "nonce": "b1"})).await;
    let theirs = theirs["id"].as_str().unwrap().to_owned();
    thread(&ana, &group, "Private plan", "Our private plan").await;
    ana.put(&format!("/posts/{theirs}/reactions/%F0%9F%91%8D"), json!({})).await;
    ana.post(&format!("/posts/{theirs}/flags"), json!({"reason": "off topic"})).await;
    ana.put(&format!("/rooms/{room}/read"), json!({"seq": 2})).await;

    assert_eq!(s.guest().get("/me/export").await.0, 401);
    let (status, export) = ana.get("/me/export").await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["user"]["handle"], "ana");
    let bodies: Vec<&str> =
        export["posts"].as_array().unwrap().iter().map(|p| p["post"]["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Version two", "Our private plan"]);
    assert_eq!(export["posts"][0]["history"][0]["body"], "Version one");
    assert_eq!(export["reactions"], json!([{"post": theirs, "emoji": "👍"}]));
    assert_eq!(export["flags"][0]["reason"], "off topic");
    assert_eq!(export["notifications"][0]["kind"], "mention");
    assert_eq!(export["read_markers"], json!([{"room": room, "seq": 2}]));
    assert!(!export.to_string().contains("Bruno's words"), "nobody else's text: {export}");
}

#[tokio::test]
async fn an_erased_account_signs_in_no_more_and_its_posts_stay_by_a_deleted_member_or_go() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let (ana, bruno, carla) = (s.user("ana").await, s.user("bruno").await, s.user("carla").await);
    let general = s.space_id("general").await;
    let (_, kept) = thread(&ana, &general, "Kept", "A post that stays").await;
    let (_, gone) = thread(&bruno, &general, "Gone", "A post that goes").await;
    ana.patch("/me", json!({"organization": "Coop", "profile_visibility": "public"})).await;
    let mut ws = ana.ws().await;

    let (status, e) = ana.delete_with("/me", json!({"password": "not my password"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("password")));
    let (status, e) = ana.delete_with("/me", json!({})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("password")));
    let (status, _) = ana.delete_with("/me", json!({"password": PASSWORD})).await;
    assert_eq!(status, 204);
    assert_eq!(ws.close_code().await, Some(4001), "the open socket closes");
    assert_eq!(ana.get("/me").await.0, 401, "the session ended");
    let (status, _) = s.guest().post("/auth/login", json!({"handle": "ana", "password": PASSWORD})).await;
    assert_eq!(status, 401);
    let (_, post) = bruno.get(&format!("/posts/{}", kept["id"].as_str().unwrap())).await;
    assert_eq!(post["body"], "A post that stays");
    let (_, author) = bruno.get(&format!("/users/{}", ana.id())).await;
    assert_eq!((author["deleted"].as_bool(), author["display_name"].as_str()), (Some(true), Some("")));
    assert_eq!(author["organization"], serde_json::Value::Null, "the profile is erased");
    assert!(!bruno.get("/users").await.1.to_string().contains(&ana.id()), "not in the directory");
    let again = s.user("ana").await;
    assert_ne!(again.id(), ana.id(), "the handle is free again");

    // An admin erases on request; the posts go too when asked.
    assert_eq!(carla.delete(&format!("/users/{}", bruno.id())).await.0, 403);
    assert_eq!(admin.delete(&format!("/users/{}?delete_posts=true", bruno.id())).await.0, 204);
    let (_, post) = carla.get(&format!("/posts/{}", gone["id"].as_str().unwrap())).await;
    assert_eq!((post["deleted"].as_bool(), post["body"].as_str()), (Some(true), Some("")));
    assert_eq!(admin.delete(&format!("/users/{}", bruno.id())).await.0, 404, "once");
    assert_eq!(admin.delete(&format!("/users/{}", admin.id())).await.0, 400, "an admin erases their own");
}
