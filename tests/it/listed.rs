//! Listed working groups, requests to join them, and a space's visibility changed by an
//! admin: what non-members see before and after, on every path.

use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn a_member_asks_to_join_a_listed_group_and_its_coordinator_answers() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let coord = s.user("coord").await;
    let amina = s.user("amina").await;
    let bruno = s.user("bruno").await;
    let group = private_forum(&admin, "coop-law", &[&coord]).await;
    admin.put(&format!("/spaces/{group}/coordinators"), json!({"users": [coord.id()]})).await;
    let (room, _) = thread(&coord, &group, "Statuts", "Premier brouillon des statuts").await;

    // Not listed: invisible, and asking is not found.
    let (_, groups) = amina.get("/groups").await;
    assert!(groups.as_array().unwrap().is_empty(), "{groups}");
    let (status, e) = amina.post(&format!("/spaces/{group}/join-requests"), json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (404, Some("not_found")), "{e}");
    assert_eq!(s.guest().get("/groups").await.0, 401);

    // Only a private group is listed, and only admins list it.
    let (status, e) = coord.patch(&format!("/spaces/{group}"), json!({"listed": true})).await;
    assert_eq!(status, 403, "{e}");
    let lobby = s.space_id("lobby").await;
    let (status, e) = admin.patch(&format!("/spaces/{lobby}"), json!({"listed": true})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("listed")), "{e}");
    let desc = json!({"listed": true, "descriptions": {"en": "Cooperative law in francophone Africa"}});
    let (status, space) = admin.patch(&format!("/spaces/{group}"), desc).await;
    assert_eq!((status, space["listed"].as_bool()), (200, Some(true)), "{space}");

    let (_, groups) = amina.get("/groups").await;
    let g = &groups[0];
    assert_eq!(g["space"]["id"], group.as_str());
    assert_eq!(g["space"]["descriptions"]["en"], "Cooperative law in francophone Africa");
    assert_eq!(
        (g["members"].as_u64(), g["member"].as_bool(), g["requested"].as_bool()),
        (Some(2), Some(false), Some(false))
    );
    // Listed is not readable: its rooms stay not found.
    assert_eq!(amina.get(&format!("/rooms/{room}/posts")).await.0, 404);
    assert_eq!(amina.get(&format!("/spaces/{group}/rooms")).await.0, 404);

    let (status, e) = amina.post(&format!("/spaces/{group}/join-requests"), json!({"message": "x".repeat(501)})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("message")), "{e}");
    let (status, r) =
        amina.post(&format!("/spaces/{group}/join-requests"), json!({"message": "Je travaille sur l'OHADA"})).await;
    assert_eq!(status, 201, "{r}");
    // Asking again keeps the first request.
    let (status, again) = amina.post(&format!("/spaces/{group}/join-requests"), json!({"message": "bis"})).await;
    assert_eq!((status, again["message"].as_str()), (201, Some("Je travaille sur l'OHADA")));
    bruno.post(&format!("/spaces/{group}/join-requests"), json!({})).await;
    let (_, groups) = amina.get("/groups").await;
    assert_eq!(groups[0]["requested"], true);

    // Members who do not manage the group, and those asking, do not see the list.
    let member = s.user("member").await;
    admin.post(&format!("/spaces/{group}/members"), json!({"user": member.id()})).await;
    assert_eq!(member.get(&format!("/spaces/{group}/join-requests")).await.0, 403);
    assert_eq!(amina.get(&format!("/spaces/{group}/join-requests")).await.0, 404);
    let (status, e) = amina.post(&format!("/spaces/{group}/join-requests/{}/approve", amina.id()), json!({})).await;
    assert_eq!(status, 404, "one cannot approve oneself: {e}");

    let (status, list) = coord.get(&format!("/spaces/{group}/join-requests")).await;
    assert_eq!(status, 200, "{list}");
    let handles: Vec<_> = list.as_array().unwrap().iter().map(|r| r["user"]["handle"].as_str().unwrap()).collect();
    assert_eq!(handles, ["amina", "bruno"]);
    assert_eq!(list[0]["message"], "Je travaille sur l'OHADA");

    let (status, e) = coord.post(&format!("/spaces/{group}/join-requests/{}/approve", amina.id()), json!({})).await;
    assert_eq!(status, 204, "{e}");
    let (status, e) = coord.post(&format!("/spaces/{group}/join-requests/{}/reject", bruno.id()), json!({})).await;
    assert_eq!(status, 204, "{e}");
    let (status, _) = coord.post(&format!("/spaces/{group}/join-requests/{}/reject", bruno.id()), json!({})).await;
    assert_eq!(status, 404, "answered once");
    let (status, _) = coord.post(&format!("/spaces/{group}/join-requests/{}/maybe", bruno.id()), json!({})).await;
    assert_eq!(status, 404);

    let (status, posts) = amina.get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(status, 200, "approved, she reads the group: {posts}");
    assert_eq!(bruno.get(&format!("/rooms/{room}/posts")).await.0, 404, "declined, he does not");
    let (status, e) = amina.post(&format!("/spaces/{group}/join-requests"), json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("conflict")), "a member already: {e}");
    let (_, groups) = bruno.get("/groups").await;
    assert_eq!((groups[0]["requested"].as_bool(), groups[0]["members"].as_u64()), (Some(false), Some(4)));

    // A request waits in the asker's export, and goes with their account.
    let carla = s.user("carla").await;
    carla.post(&format!("/spaces/{group}/join-requests"), json!({"message": "Olá"})).await;
    let (_, export) = carla.get("/me/export").await;
    assert_eq!(export["join_requests"][0]["message"], "Olá");
    let (status, _) = carla.delete_with("/me", json!({"password": PASSWORD})).await;
    assert_eq!(status, 204);
    let (_, list) = coord.get(&format!("/spaces/{group}/join-requests")).await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");

    // Unlisted again: gone from the list, and asking is not found.
    admin.patch(&format!("/spaces/{group}"), json!({"listed": false})).await;
    assert!(bruno.get("/groups").await.1.as_array().unwrap().is_empty());
    assert_eq!(bruno.post(&format!("/spaces/{group}/join-requests"), json!({})).await.0, 404);
}

#[tokio::test]
async fn a_space_made_private_closes_to_non_members_everywhere_and_made_public_opens() {
    let s = Server::start_with(|c| c.limits = collective_brain::limits::Limits::off()).await;
    let admin = s.admin().await;
    let amina = s.user("amina").await;
    let (_, space) = admin
        .post(
            "/spaces",
            json!({"slug": "finance", "name": "Finance", "kind": "forum", "visibility": "public", "post_policy": "members"}),
        )
        .await;
    let space = space["id"].as_str().unwrap().to_owned();
    let (room, _) = thread(&amina, &space, "Microcrédit", "Les coopératives d'épargne et de crédit solidaires").await;
    search_until(&amina, "q=solidaires", |v| v["total"] == 1).await;

    let mut ws = amina.ws().await;
    ws.subscribe(&room, 0).await;
    let mut guest = s.guest().ws().await;
    guest.send(json!({"type": "hello"})).await;
    guest.expect("welcome").await;
    guest.subscribe(&room, 0).await;

    let (status, e) = amina.patch(&format!("/spaces/{space}"), json!({"visibility": "private"})).await;
    assert_eq!(status, 403, "{e}");
    let (status, v) = admin.patch(&format!("/spaces/{space}"), json!({"visibility": "private"})).await;
    assert_eq!((status, v["visibility"].as_str()), (200, Some("private")), "{v}");
    // Every socket is told to reconnect, and resubscribing is refused.
    assert_eq!(ws.close_code().await, Some(4003));
    assert_eq!(guest.close_code().await, Some(4003));
    let mut ws = amina.ws().await;
    ws.send(json!({"type": "subscribe", "room": room, "since": 0})).await;
    assert_eq!(ws.until("error").await["code"], "not_found");

    assert_eq!(amina.get(&format!("/rooms/{room}/posts")).await.0, 404);
    assert_eq!(s.guest().get(&format!("/spaces/{space}")).await.0, 404);
    let (_, spaces) = amina.get("/spaces").await;
    assert!(!spaces.as_array().unwrap().iter().any(|x| x["id"] == space.as_str()));
    // The admin who closed it is a member; search follows.
    assert_eq!(admin.get(&format!("/rooms/{room}/posts")).await.0, 200);
    search_until(&admin, "q=solidaires", |v| v["total"] == 1).await;
    let (_, hits) = amina.get("/search?q=solidaires").await;
    assert_eq!(hits["total"], 0, "{hits}");

    // Opened again: everyone reads it, search too.
    let (status, _) = admin.patch(&format!("/spaces/{space}"), json!({"visibility": "public"})).await;
    assert_eq!(status, 200);
    assert_eq!(s.guest().get(&format!("/rooms/{room}/posts")).await.0, 200);
    search_until(&amina, "q=solidaires", |v| v["total"] == 1).await;
    search_until(&s.guest(), "q=solidaires", |v| v["total"] == 1).await;
    let (status, e) = admin.patch(&format!("/spaces/{space}"), json!({"visibility": "secret"})).await;
    assert_eq!(status, 400, "{e}");
}
