//! The isolation matrix: every read and write path, over HTTP and WebSocket, for each kind
//! of caller of a private working group: a guest, a signed-in non-member, a site moderator
//! and a second site admin who are not members, a member and the group's coordinator.
//! Nothing of the group reaches anyone outside it, counts included; every path that is
//! closed to outsiders is open to members, so a probe aimed at the wrong place fails.

use serde_json::{json, Value};

use crate::util::{search_until, thread, Client, Server, Ws};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Guest,
    Outsider,
    Moderator,
    OtherAdmin,
    Member,
    Coordinator,
}

impl Who {
    fn inside(self) -> bool {
        matches!(self, Who::Member | Who::Coordinator)
    }
}

/// Words that exist only in the private group.
const SECRETS: &[&str] = &["quetzal", "Confidential", "triangulaire"];

struct Group {
    space: String,
    room: String,
    post: String,
    /// A second post by the member, for the writes members may make.
    scratch: String,
    /// An image attached to the scratch post.
    file: String,
}

fn leaks(text: &str) -> Option<&'static str> {
    SECRETS.iter().copied().find(|s| text.contains(s))
}

/// A refusal that tells nothing: 401 for a guest, 404 for anyone signed in, no secret.
fn assert_hidden(who: Who, what: &str, status: u16, body: &Value) {
    let expected = if who == Who::Guest { [401, 404] } else { [404, 404] };
    assert!(expected.contains(&status), "{who:?} {what}: expected {expected:?}, got {status} {body}");
    assert_eq!(leaks(&body.to_string()), None, "{who:?} {what} leaks: {body}");
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x[key].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

async fn setup(s: &Server) -> (Vec<(Who, Client)>, Group, String) {
    let admin = s.admin().await;
    let mut people = vec![(Who::Guest, s.guest())];
    for (who, handle, roles) in [
        (Who::Outsider, "outsider", json!(["translator"])),
        (Who::Moderator, "sitemod", json!(["moderator", "translator"])),
        (Who::OtherAdmin, "otheradmin", json!(["admin", "translator"])),
        (Who::Member, "member", json!(["translator"])),
        (Who::Coordinator, "coordinator", json!(["translator"])),
    ] {
        let c = s.user_with(handle, json!({"languages": ["fr", "en"]})).await;
        let (status, e) = admin.put(&format!("/users/{}/roles", c.id()), json!({"roles": roles})).await;
        assert_eq!(status, 200, "{e}");
        let (status, e) = c.put("/me/translator", json!({"pairs": [{"from": "fr", "to": "en"}]})).await;
        assert_eq!(status, 200, "{e}");
        people.push((who, c));
    }
    let find = |w: Who| people.iter().find(|(x, _)| *x == w).map(|(_, c)| c.clone()).expect("that caller");
    let (member, coordinator) = (find(Who::Member), find(Who::Coordinator));
    let space = crate::util::private_forum(&admin, "wg-south-south", &[&member, &coordinator]).await;
    let (status, e) = admin.put(&format!("/spaces/{space}/coordinators"), json!({"users": [coordinator.id()]})).await;
    assert_eq!(status, 200, "{e}");
    let general = s.space_id("general").await;
    let (public_room, _) = thread(&admin, &general, "Open thread", "Anyone may read this").await;
    let group = Group { space, room: String::new(), post: String::new(), scratch: String::new(), file: String::new() };
    (people, group, public_room)
}

#[tokio::test]
async fn nothing_of_a_private_group_reaches_a_non_member_through_any_path() {
    let s = Server::start().await;
    let (people, mut g, public_room) = setup(&s).await;
    let member = people.iter().find(|(w, _)| *w == Who::Member).map(|(_, c)| c.clone()).unwrap();

    // Every caller listens before anything is written: the public room (for a marker),
    // the translators' queue, and (refused to outsiders) the group's space.
    let mut sockets: Vec<(Who, Ws)> = Vec::new();
    for (who, c) in &people {
        let mut ws = c.ws().await;
        ws.subscribe(&public_room, 0).await;
        if *who != Who::Guest {
            ws.send(json!({"type": "subscribe_queue", "to": "en"})).await;
            ws.until("subscribed_queue").await;
        }
        ws.send(json!({"type": "subscribe_space", "space": g.space})).await;
        let v = ws.recv().await;
        if who.inside() {
            assert_eq!(v["type"], "subscribed_space", "{who:?}: {v}");
        } else {
            assert_eq!(v["type"], "error", "{who:?} subscribe_space: {v}");
            assert!(v["code"] == "not_found" || v["code"] == "unauthorized", "{who:?}: {v}");
        }
        sockets.push((*who, ws));
    }

    // The member writes: a thread in French that mentions an outsider and a moderator.
    let (room, post) = thread(
        &member,
        &g.space,
        "Confidential budget",
        "Le budget quetzal du projet triangulaire, @outsider et @sitemod ne doivent rien voir",
    )
    .await;
    g.room = room;
    g.post = post["id"].as_str().unwrap().to_owned();
    let (status, file) = member.upload("quetzal plan.png", crate::files::tiny_png()).await;
    assert_eq!(status, 201, "{file}");
    g.file = file["id"].as_str().unwrap().to_owned();
    let (status, doc) = member.upload("notes.txt", b"Compte rendu quetzal du groupe triangulaire".to_vec()).await;
    assert_eq!(status, 201, "{doc}");
    let (status, scratch) = member
        .post(
            &format!("/rooms/{}/posts", g.room),
            json!({"body": "Brouillon quetzal", "nonce": "sc", "lang": "fr", "files": [g.file, doc["id"]]}),
        )
        .await;
    assert_eq!(status, 201, "{scratch}");
    search_until(&member, "q=quetzal&kind=file", |v| v["total"].as_u64() >= Some(1)).await;
    g.scratch = scratch["id"].as_str().unwrap().to_owned();
    search_until(&member, "q=quetzal", |v| v["total"].as_u64() >= Some(2)).await;
    let mut poster = member.ws().await;
    let told = drain_to_marker(&mut sockets, &mut poster, &public_room, &g, "first marker").await;
    assert_eq!(told, 2, "both members were told live of the group's post in their queue");

    // ---- reads over HTTP ----
    let coverage_of = |v: &Value| -> u64 {
        v.as_array()
            .and_then(|a| a.iter().find(|c| c["lang"] == "en"))
            .and_then(|c| c["waiting"].as_u64())
            .unwrap_or(u64::MAX)
    };
    let outsider_waiting = {
        let outsider = &people.iter().find(|(w, _)| *w == Who::Outsider).unwrap().1;
        let (status, v) = outsider.get("/translations/coverage").await;
        assert_eq!(status, 200, "{v}");
        coverage_of(&v)
    };
    for (who, c) in &people {
        let who = *who;
        let (status, spaces) = c.get("/spaces").await;
        assert_eq!(status, 200);
        assert_eq!(ids(&spaces, "id").contains(&g.space), who.inside(), "{who:?} GET /spaces");
        let single = [
            format!("/spaces/{}", g.space),
            format!("/spaces/{}/rooms", g.space),
            format!("/spaces/{}/members", g.space),
            format!("/rooms/{}", g.room),
            format!("/rooms/{}/posts", g.room),
            format!("/rooms/{}/presence", g.room),
            format!("/posts/{}", g.post),
            format!("/posts/{}/history", g.post),
            format!("/files/{}", g.file),
            format!("/files/{}/thumbnail", g.file),
            format!("/spaces/{}/library", g.space),
        ];
        for path in &single {
            let (status, body) = c.get(path).await;
            if who.inside() {
                assert_eq!(status, 200, "{who:?} GET {path}: {body}");
            } else {
                assert_hidden(who, &format!("GET {path}"), status, &body);
            }
        }
        // Search, counts and snippets included, over HTTP and over the socket.
        for query in ["q=quetzal", "q=Confidential+budget", "q=triangular", &format!("q=budget&space={}", g.space)] {
            let (status, v) = c.get(&format!("/search?{query}")).await;
            if who.inside() {
                assert_eq!(status, 200, "{who:?} search {query}: {v}");
                assert!(v["total"].as_u64() >= Some(1), "{who:?} search {query} finds the group's posts: {v}");
            } else if status == 200 {
                assert_eq!(
                    (v["total"].as_u64(), v["hits"].as_array().map(Vec::len)),
                    (Some(0), Some(0)),
                    "{who:?} {query}: {v}"
                );
                assert_eq!(leaks(&v.to_string()), None, "{who:?} search {query}: {v}");
            } else {
                assert_hidden(who, &format!("search {query}"), status, &v);
            }
        }
        // The translators' desk: the queue, and how many posts wait.
        let (status, queue) = c.get("/translations/queue?to=en").await;
        if who == Who::Guest {
            assert_eq!(status, 401, "{queue}");
        } else {
            assert_eq!(status, 200, "{who:?} queue: {queue}");
            let listed: Vec<String> =
                queue.as_array().unwrap().iter().filter_map(|q| q["post"]["id"].as_str().map(str::to_owned)).collect();
            assert_eq!(listed.contains(&g.post), who.inside(), "{who:?} queue lists the group's post: {queue}");
            assert_eq!(leaks(&queue.to_string()).is_some(), who.inside(), "{who:?} queue: {queue}");
        }
        let (status, coverage) = c.get("/translations/coverage").await;
        if status == 200 {
            let expected = if who.inside() { outsider_waiting + 2 } else { outsider_waiting };
            assert_eq!(coverage_of(&coverage), expected, "{who:?} coverage counts: {coverage}");
        } else {
            assert_eq!((who, status), (Who::Guest, 401), "{coverage}");
        }
        // Mentions of non-members notify no one; members hear of their group's posts.
        let (status, notes) = c.get("/notifications").await;
        if who == Who::Guest {
            assert_eq!(status, 401);
        } else if who.inside() {
            assert_eq!(status, 200);
            // The member wrote the group's posts; the coordinator hears of them.
            if who == Who::Coordinator {
                assert!(leaks(&notes.to_string()).is_some(), "{who:?} watches their group: {notes}");
            }
        } else {
            assert_eq!(status, 200);
            assert_eq!(leaks(&notes.to_string()), None, "{who:?} notifications: {notes}");
        }
    }

    // ---- writes over HTTP: refused to outsiders without a trace, open to members ----
    let enc_emoji = "%F0%9F%91%8D";
    for (who, c) in &people {
        let who = *who;
        // Members act on a post of their own (the group's first post stays as it was).
        let target = if who.inside() {
            let body = json!({"body": "Mon brouillon quetzal pour le groupe de travail", "nonce": format!("own-{who:?}"), "lang": "fr"});
            let (status, own) = c.post(&format!("/rooms/{}/posts", g.room), body).await;
            assert_eq!(status, 201, "{own}");
            own["id"].as_str().unwrap().to_owned()
        } else {
            g.post.clone()
        };
        let mut writes: Vec<(String, (u16, Value))> = vec![
            (
                "post".into(),
                c.post(
                    &format!("/rooms/{}/posts", g.room),
                    json!({"body": "quetzal reply", "nonce": format!("w-{who:?}")}),
                )
                .await,
            ),
            (
                "new thread".into(),
                c.post(
                    &format!("/spaces/{}/rooms", g.space),
                    json!({"title": "t", "body": "b", "nonce": format!("t-{who:?}")}),
                )
                .await,
            ),
            (
                "edit".into(),
                c.patch(
                    &format!("/posts/{target}"),
                    json!({"body": "Le budget quetzal, version corrigée par le groupe de travail"}),
                )
                .await,
            ),
            ("claim".into(), c.post("/translations/claim", json!({"post": target, "lang": "en"})).await),
            ("release".into(), c.post("/translations/release", json!({"post": target, "lang": "en"})).await),
            (
                "translation".into(),
                c.post(&format!("/posts/{target}/translations"), json!({"lang": "en", "body": "The quetzal budget"}))
                    .await,
            ),
            ("language correction".into(), c.patch(&format!("/posts/{target}"), json!({"lang": "es"})).await),
            ("reaction".into(), c.put(&format!("/posts/{target}/reactions/{enc_emoji}"), json!({})).await),
            ("read marker".into(), c.put(&format!("/rooms/{}/read", g.room), json!({"seq": 1})).await),
            ("flag".into(), c.post(&format!("/posts/{target}/flags"), json!({"reason": "test"})).await),
            ("hide".into(), c.post(&format!("/posts/{target}/hide"), json!({"reason": "test"})).await),
            ("restore".into(), c.post(&format!("/posts/{target}/restore"), json!({})).await),
            ("pin".into(), c.put(&format!("/rooms/{}/pin", g.room), json!({"pinned": true})).await),
            ("ask to join".into(), c.post(&format!("/spaces/{}/join-requests", g.space), json!({})).await),
            ("delete".into(), c.delete(&format!("/posts/{target}")).await),
        ];
        // Admins administer every space's membership; everyone else outside is refused.
        if who != Who::OtherAdmin {
            writes.push((
                "add a member".into(),
                c.post(&format!("/spaces/{}/members", g.space), json!({"user": member.id()})).await,
            ));
            writes.push(("an invitation into it".into(), c.post("/invites", json!({"spaces": [g.space]})).await));
        }
        for (what, (status, body)) in writes {
            if who.inside() {
                assert!(status != 404 && status != 401, "{who:?} {what}: a member must reach it: {status} {body}");
            } else {
                assert_hidden(who, &what, status, &body);
            }
        }
    }

    // The coordinator's invitation into the group is listed to them, and to no outsider.
    for (who, c) in &people {
        let (status, invites) = c.get("/invites").await;
        match who {
            Who::Guest => assert_eq!(status, 401),
            Who::Coordinator | Who::OtherAdmin => assert!(invites.to_string().contains(&g.space), "{who:?}: {invites}"),
            _ => assert!(!invites.to_string().contains(&g.space), "{who:?} sees the group's invitation: {invites}"),
        }
    }

    // A group that is not listed is in no one's list of groups, and its requests to join
    // are its coordinator's to read.
    for (who, c) in &people {
        let (status, groups) = c.get("/groups").await;
        if *who == Who::Guest {
            assert_eq!(status, 401);
        } else {
            assert_eq!((status, groups.as_array().map(Vec::len)), (200, Some(0)), "{who:?}: {groups}");
        }
        let (status, body) = c.get(&format!("/spaces/{}/join-requests", g.space)).await;
        match who {
            Who::Coordinator | Who::OtherAdmin => assert_eq!(status, 200, "{who:?}: {body}"),
            Who::Member => assert_eq!(status, 403, "{body}"),
            _ => assert_hidden(*who, "join requests", status, &body),
        }
    }

    // A direct conversation of the member and the coordinator: closed to everyone else,
    // the admins included, on every path; and no one's export holds another's text.
    let (member, coordinator) = (
        people.iter().find(|(w, _)| *w == Who::Member).map(|(_, c)| c.clone()).expect("member"),
        people.iter().find(|(w, _)| *w == Who::Coordinator).map(|(_, c)| c.clone()).expect("coordinator"),
    );
    let (status, dm) = member.post("/dms", json!({"users": [coordinator.id()]})).await;
    assert_eq!(status, 200, "{dm}");
    let dm_room = dm["id"].as_str().unwrap().to_owned();
    let (status, _) = member
        .post(&format!("/rooms/{dm_room}/posts"), json!({"body": "Entre nous, le quetzal", "nonce": "dm-secret"}))
        .await;
    assert_eq!(status, 201);
    for (who, c) in &people {
        let who = *who;
        let reads = [
            c.get("/dms").await,
            c.get(&format!("/rooms/{dm_room}")).await,
            c.get(&format!("/rooms/{dm_room}/posts")).await,
            c.get(&format!("/spaces/{}", dm["space"].as_str().unwrap())).await,
            c.get("/me/export").await,
            c.get("/users").await,
            c.get("/admin/signups").await,
        ];
        for (i, (status, body)) in reads.into_iter().enumerate() {
            let text = body.to_string();
            if who.inside() {
                assert!(status == 200 || i >= 5, "{who:?} read {i}: {status} {body}");
            } else {
                assert!(!text.contains(&dm_room), "{who:?} read {i} names the conversation: {text}");
                assert!(!text.contains("Entre nous"), "{who:?} read {i} leaks the conversation: {text}");
            }
        }
    }

    // ---- frames over the socket ----
    for (who, ws) in sockets.iter_mut() {
        let who = *who;
        if who.inside() {
            let (events, _) = ws.subscribe(&g.room, 0).await;
            assert!(!events.is_empty(), "{who:?} replays the group's room");
            ws.send(json!({"type": "search", "q": "quetzal", "ref": "s1"})).await;
            let v = ws.until("search_results").await;
            assert!(v["total"].as_u64() >= Some(1), "{who:?}: {v}");
            continue;
        }
        let frames = [
            json!({"type": "subscribe", "room": g.room, "since": 0}),
            json!({"type": "typing", "room": g.room}),
            json!({"type": "post", "room": g.room, "body": "quetzal?", "nonce": "spy"}),
            json!({"type": "create_room", "space": g.space, "title": "t", "body": "b", "nonce": "spy2"}),
            json!({"type": "edit", "post": g.post, "body": "defaced"}),
            json!({"type": "delete", "post": g.post}),
            json!({"type": "react", "post": g.post, "emoji": "👍"}),
            json!({"type": "read", "room": g.room, "seq": 1}),
        ];
        for frame in frames {
            ws.send(frame.clone()).await;
            let v = loop {
                let v = ws.recv().await;
                if v["type"] == "error" {
                    break v;
                }
                assert_eq!(leaks(&v.to_string()), None, "{who:?} after {frame}: {v}");
            };
            assert!(v["code"] == "not_found" || v["code"] == "unauthorized", "{who:?} {frame} -> {v}");
            assert_eq!(leaks(&v.to_string()), None, "{who:?} {frame}: {v}");
        }
        ws.send(json!({"type": "search", "q": "quetzal triangulaire", "ref": "s2"})).await;
        let v = loop {
            let v = ws.recv().await;
            if v["ref"] == "s2" {
                break v;
            }
        };
        if v["type"] == "search_results" {
            assert_eq!(v["total"], 0, "{who:?}: {v}");
        }
        assert_eq!(leaks(&v.to_string()), None, "{who:?} search frame: {v}");
    }

    // Nothing more reached the outsiders' sockets.
    let mut poster = member.ws().await;
    drain_to_marker(&mut sockets, &mut poster, &public_room, &g, "second marker").await;

    // What the outsiders tried changed nothing.
    let (_, post) = member.get(&format!("/posts/{}", g.post)).await;
    assert_eq!(post["deleted"], false, "{post}");
    assert_eq!(post["lang"], "fr", "{post}");
    assert!(post["body"].as_str().unwrap().starts_with("Le budget quetzal"), "{post}");
    assert_eq!(post["translations"].as_object().map_or(0, |t| t.len()), 0, "{post}");
    let (_, posts) = member.get(&format!("/rooms/{}/posts?limit=100", g.room)).await;
    let bodies: Vec<&str> = posts.as_array().unwrap().iter().filter_map(|p| p["body"].as_str()).collect();
    assert!(!bodies.contains(&"quetzal?"), "{bodies:?}");
    let (_, members) = member.get(&format!("/spaces/{}/members", g.space)).await;
    assert_eq!(ids(&members, "handle").len(), 3, "admin, member, coordinator: {members}");
    s.stop().await;
}

/// Posts `marker` in the public room and reads every socket up to it (so every frame sent
/// before it has been delivered): outsiders got no event, queue item, notification or
/// room of the group. Returns how many members' sockets got the group's post as a
/// queue item.
async fn drain_to_marker(
    sockets: &mut [(Who, Ws)],
    poster: &mut Ws,
    public_room: &str,
    g: &Group,
    marker: &str,
) -> usize {
    poster.post(public_room, marker, marker).await;
    let mut told = 0;
    for (who, ws) in sockets.iter_mut() {
        loop {
            let v = ws.recv().await;
            if who.inside() {
                if v["type"] == "queue_item" && v["post"]["id"] == g.post.as_str() {
                    told += 1;
                }
            } else {
                assert_eq!(leaks(&v.to_string()), None, "{who:?} live frame: {v}");
                for id in [&g.space, &g.room, &g.post] {
                    assert_ne!(v["room"], id.as_str(), "{who:?}: {v}");
                    assert_ne!(v["space"], id.as_str(), "{who:?}: {v}");
                    assert_ne!(v["post"]["id"], id.as_str(), "{who:?}: {v}");
                }
            }
            if v["type"] == "event" && v["post"]["body"] == marker {
                break;
            }
        }
    }
    told
}
