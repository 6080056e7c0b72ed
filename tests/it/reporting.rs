//! The community's figures for reports, counted only over what the caller can read.

use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn figures_count_members_posts_languages_and_translations_but_nothing_the_caller_cannot_read() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let (ana, bruno) = (s.user("ana").await, s.user("bruno").await);
    let general = s.space_id("general").await;
    thread(&ana, &general, "Coopératives", "Les coopératives de femmes au Sénégal ont créé des emplois décents.").await;
    thread(&bruno, &general, "Cooperatives", "Women's cooperatives in Senegal created decent jobs in farming.").await;
    // A private group the admin is not in: none of it counts for them.
    let secret = private_forum(&admin, "secret", &[&ana]).await;
    admin.delete(&format!("/spaces/{secret}/members/{}", admin.id())).await;
    for i in 0..3 {
        thread(&ana, &secret, &format!("Privé {i}"), "Un texte privé du groupe de travail, en français.").await;
    }

    assert_eq!(ana.get("/admin/stats").await.0, 403);
    assert_eq!(s.guest().get("/admin/stats").await.0, 401);
    let (status, st) = admin.get("/admin/stats").await;
    assert_eq!(status, 200, "{st}");
    assert_eq!(st["members"], 3, "admin, ana, bruno");
    let months = st["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    let now = months.last().unwrap();
    assert_eq!((now["active_members"].as_u64(), now["posts"].as_u64()), (Some(2), Some(2)), "{st}");
    assert_eq!(st["by_language"], json!({"en": 1, "fr": 1}));
    let general_row =
        st["by_space"].as_array().unwrap().iter().find(|r| r["space"] == general.as_str()).unwrap().clone();
    assert_eq!((general_row["posts"].as_u64(), general_row["threads"].as_u64()), (Some(2), Some(2)));
    assert!(!st.to_string().contains(&secret), "the private group is not named: {st}");
    assert_eq!(st["coverage"].as_array().unwrap().len(), 4);
}
