//! Restarting on the same data dir keeps every acked post, and seq continues.

use serde_json::json;

use crate::util::{thread, Server};

#[tokio::test]
async fn restart_keeps_every_acked_post_and_seq_continues() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let u = s.user("persistent").await;
    let token = u.token.clone();
    let (room, _) = thread(&u, &general, "Durable", "first").await;
    let mut ws = u.ws().await;
    for i in 0..50 {
        ws.send(json!({"type": "post", "room": room, "body": format!("message {i}"), "nonce": format!("d{i}")})).await;
    }
    let mut acked = Vec::new();
    let mut d3 = None;
    for _ in 0..50 {
        let ack = ws.until("ack").await;
        if ack["nonce"] == "d3" {
            d3 = Some(ack["post"]["id"].clone());
        }
        acked.push(ack["post"].clone());
    }
    let d0 = posts_by_seq(&acked, 2);
    ws.send(json!({"type": "edit", "post": d0, "body": "message 0, edited"})).await;
    ws.until("event").await;
    drop(ws);
    let tmp = s.stop().await.expect("temp dir");

    let s = Server::start_in(tmp.path(), |_| {}).await;
    // Same spaces, no second seeding; the session survives.
    assert_eq!(s.space_id("general").await, general);
    let mut u2 = s.guest();
    u2.token = token;
    assert_eq!(u2.get("/me").await.0, 200);
    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts?limit=500")).await;
    let posts = posts.as_array().unwrap();
    assert_eq!(posts.len(), 51);
    for a in &acked {
        let found = posts.iter().find(|p| p["id"] == a["id"]).expect("acked post present");
        assert_eq!(found["seq"], a["seq"]);
    }
    assert_eq!(posts[1]["body"], "message 0, edited");
    let mut ws = u2.ws().await;
    let (events, head) = ws.subscribe(&room, 0).await;
    assert_eq!(head, 52);
    assert_eq!(events.len(), 52);
    let next = ws.post(&room, "after restart", "after").await;
    assert_eq!(next["post"]["seq"], 53);
    // A nonce from before the restart is still known.
    let again = ws.post(&room, "message 3", "d3").await;
    assert_eq!(Some(again["post"]["id"].clone()), d3);
    let (_, spaces) = s.guest().get("/spaces").await;
    assert_eq!(spaces.as_array().unwrap().iter().filter(|s| s["slug"] == "general").count(), 1);
    let _ = s.stop().await;
    drop(tmp);
}

/// The id of the acked post with this seq.
fn posts_by_seq(acked: &[serde_json::Value], seq: u64) -> serde_json::Value {
    acked.iter().find(|p| p["seq"] == seq).map(|p| p["id"].clone()).expect("a post with that seq")
}

#[tokio::test]
async fn health_and_metrics_report_the_node() {
    let s = Server::start().await;
    let r = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, "ok".to_owned()));
    let u = s.user("metered").await;
    let general = s.space_id("general").await;
    let (room, _) = thread(&u, &general, "Zanzibar", "first").await;
    let mut ws = u.ws().await;
    ws.subscribe(&room, 0).await;
    let m2 = ws.post(&room, "quokka", "m2").await;
    // Operators only: community-wide counts include private groups' activity.
    assert_eq!(s.http.get(s.url("/metrics")).send().await.unwrap().status(), 401);
    let as_member = s.http.get(s.url("/metrics")).bearer_auth(u.token.clone().unwrap()).send().await.unwrap();
    assert_eq!(as_member.status(), 403);
    let admin = s.admin().await.token.unwrap();
    let scrape = || s.http.get(s.url("/metrics")).bearer_auth(&admin).send();
    let text = scrape().await.unwrap().text().await.unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in {text}"))
    };
    assert_eq!(value("cb_websockets_open"), 1.0);
    assert!(value("cb_ops_committed_total") >= 3.0, "register, thread, post");
    assert!(value("cb_commits_total") >= 1.0);
    assert!(value("cb_flush_seconds_total") > 0.0);
    assert!(value("cb_flushes_total") >= 1.0);
    assert!(value("cb_apply_seconds_total") > 0.0);
    assert!(value("cb_frames_in_total") >= 3.0, "hello, subscribe, post");
    assert!(!text.contains("Zanzibar") && !text.contains("quokka"), "no content in metrics");
    assert!(value("cb_changes_total") >= 2.0, "thread and post");
    assert_eq!(value("cb_store_queue"), 0.0);
    assert_eq!(value("cb_posts_acked_total"), 2.0, "the thread's first post and one more");
    // Both posts are English (detected), so each waits for fr, es and pt.
    for lang in ["fr", "es", "pt"] {
        assert_eq!(value(&format!("cb_translation_queue{{lang=\"{lang}\"}}")), 2.0, "{lang}");
    }
    assert_eq!(value("cb_translation_queue{lang=\"en\"}"), 0.0);
    // The index catches up: its lag falls to zero and it holds both posts.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = scrape().await.unwrap().text().await.unwrap();
        let v = |name: &str| -> f64 {
            text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).and_then(|v| v.parse().ok()).unwrap_or(-1.0)
        };
        if v("cb_index_lag_changes") == 0.0 && v("cb_index_docs") >= 2.0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the index never caught up: {text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The reply's nonce is only in its run until the store has been quiet for a second;
    // then it is folded into the nonces tree, and the same nonce again is still the
    // same post.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = scrape().await.unwrap().text().await.unwrap();
        let v = |name: &str| -> f64 {
            text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).and_then(|v| v.parse().ok()).unwrap_or(-1.0)
        };
        if v("cb_nonces_folded_total") >= 1.0 && v("cb_nonces_unfolded") == 0.0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the nonces were never folded: {text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let again = ws.post(&room, "quokka again", "m2").await;
    assert_eq!(again["type"], "ack", "{again}");
    assert_eq!(again["post"]["id"], m2["post"]["id"]);
    assert_eq!(again["post"]["body"], "quokka");
    drop(ws);
    let _ = s.stop().await;
}

/// `run` returns only once the data dir is free: a new server can open it at once, even
/// when sockets with live subscriptions and a search were open at the stop.
#[tokio::test]
async fn a_stopped_server_releases_its_data_dir_at_once() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut known: Option<(String, String)> = None;
    for round in 0..5u64 {
        let s = Server::start_in(tmp.path(), |_| {}).await;
        let (u, room) = match &known {
            None => {
                let u = s.user("relay").await;
                let general = s.space_id("general").await;
                let (room, _) = thread(&u, &general, "Relay", "first").await;
                known = Some((u.token.clone().expect("token"), room.clone()));
                (u, room)
            }
            Some((token, room)) => {
                let mut u = s.guest();
                u.token = Some(token.clone());
                (u, room.clone())
            }
        };
        let mut sockets = Vec::new();
        for _ in 0..8 {
            let mut ws = u.ws().await;
            ws.subscribe(&room, 0).await;
            sockets.push(ws);
        }
        let posted = sockets[0].post(&room, &format!("round {round}"), &format!("r{round}")).await;
        assert_eq!(posted["post"]["seq"], round + 2);
        assert_eq!(u.get("/search?q=round").await.0, 200);
        // Stop with every socket still subscribed: the server closes them.
        let _ = s.stop().await;
    }
}

/// Posts that arrive together are stored as runs (`store::runs`): their events, their
/// places in the room and their ids, a few entries for many posts. Read back whole:
/// a post deleted from the middle of a run is redacted in every replay, before and after
/// a restart, the events around it keep their text, and a retry of its nonce gets the
/// redacted post.
#[tokio::test]
async fn a_post_deleted_inside_a_run_is_redacted_and_its_neighbours_stay() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let u = s.user("runner").await;
    let (room, _) = thread(&u, &general, "Runs", "first").await;
    let mut ws = u.ws().await;
    // All in flight at once, so that the writer takes them in a few batches.
    let acks = ws.post_many(&room, "body", "r", 60, 60).await;
    assert_eq!(acks.len(), 60);
    let at30 = acks.iter().find(|a| a["post"]["seq"] == 30).expect("a post at seq 30");
    let (middle, nonce) = (at30["post"]["id"].clone(), at30["nonce"].as_str().unwrap_or_default().to_owned());
    let (status, deleted) = u.delete(&format!("/posts/{}", middle.as_str().unwrap())).await;
    assert_eq!(status, 200, "{deleted}");
    let check = |events: &[serde_json::Value]| {
        assert_eq!(events.len(), 62, "the thread's first post, 60 posts, the delete");
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e["seq"], i as u64 + 1, "in order, no gap");
        }
        let at30 = &events[29]["post"];
        assert_eq!(at30["id"], middle);
        assert_eq!(at30["deleted"], true);
        assert_eq!(at30["body"], "", "redacted in the replay");
        for seq in [29usize, 31] {
            assert_eq!(events[seq - 1]["post"]["body"], "body", "seq {seq} keeps its text");
        }
        assert_eq!(events[61]["kind"], "delete");
    };
    let (events, head) = ws.subscribe(&room, 0).await;
    assert_eq!(head, 62);
    check(&events);
    drop(ws);
    let tmp = s.stop().await.expect("temp dir");
    {
        // Fewer entries than events: the batches were written as runs.
        let db = sled::open(tmp.path().join("store")).expect("sled");
        let entries = db.open_tree("events").expect("events").len();
        assert!(entries < 62, "{entries} entries for 62 events");
        let entries = db.open_tree("room_posts").expect("room_posts").len();
        assert!(entries < 61, "{entries} entries for 61 posts");
        let entries = db.open_tree("fresh_posts").expect("fresh_posts").len();
        assert!(entries < 61, "{entries} entries for 61 new posts");
        // Only a changed post has a whole record: the deleted one.
        assert_eq!(db.open_tree("posts").expect("posts").len(), 1);
    }
    let s = Server::start_in(tmp.path(), |_| {}).await;
    let mut u2 = s.guest();
    u2.token = u.token.clone();
    let mut ws = u2.ws().await;
    let (events, _) = ws.subscribe(&room, 0).await;
    check(&events);
    // A replay from inside a run starts at the seq asked for.
    let (tail, _) = ws.subscribe(&room, 45).await;
    assert_eq!(tail.first().map(|e| e["seq"].clone()), Some(46.into()));
    assert_eq!(tail.len(), 62 - 45);
    let again = ws.post(&room, "body", &nonce).await;
    assert_eq!(again["post"]["id"], middle);
    assert_eq!(again["post"]["deleted"], true);
    let (status, post) = u2.get(&format!("/posts/{}", middle.as_str().unwrap())).await;
    assert_eq!((status, post["deleted"].clone()), (200, true.into()));
    // The room's posts, whole and paged from inside a run, and unread counts.
    let seqs =
        |v: &serde_json::Value| v.as_array().unwrap().iter().map(|p| p["seq"].as_u64().unwrap()).collect::<Vec<_>>();
    let (_, all) = u2.get(&format!("/rooms/{room}/posts?limit=500")).await;
    assert_eq!(seqs(&all), (1..=61).collect::<Vec<_>>());
    let (_, page) = u2.get(&format!("/rooms/{room}/posts?after_seq=45&limit=5")).await;
    assert_eq!(seqs(&page), vec![46, 47, 48, 49, 50]);
    let reader = s.user("run_reader").await;
    let (status, _) = reader.put(&format!("/rooms/{room}/read"), json!({"seq": 40})).await;
    assert_eq!(status, 200);
    let (_, rooms) = reader.get(&format!("/spaces/{general}/rooms")).await;
    let listed = rooms.as_array().unwrap().iter().find(|r| r["id"] == room.as_str()).expect("the room").clone();
    assert_eq!(listed["unread"], 21, "posts at seqs 41 to 61; the delete is not a post");
    let _ = s.stop().await;
    drop(tmp);
}

/// Batches that post into several rooms at once write a run per room: each room's log
/// replays whole, in order, with only its own posts, before and after a restart.
#[tokio::test]
async fn concurrent_posts_in_several_rooms_replay_each_room_whole() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let u = s.user("multi").await;
    let mut rooms = Vec::new();
    for t in ["Alpha", "Beta", "Gamma"] {
        rooms.push(thread(&u, &general, t, &format!("{t} first")).await.0);
    }
    // One poster a room, all at once, so that batches mix the rooms.
    let mut posting = Vec::new();
    for (r, room) in rooms.iter().enumerate() {
        let poster = s.user(&format!("multi{r}")).await;
        let room = room.clone();
        posting.push(tokio::spawn(async move {
            let mut ws = poster.ws().await;
            let mut acks = 0;
            let (mut sent, window) = (0, 20);
            while acks < 40 {
                while sent < 40 && sent - acks < window {
                    let body = format!("room {r} post {sent}");
                    ws.send(json!({"type": "post", "room": room, "body": body, "nonce": format!("m{sent}")})).await;
                    sent += 1;
                }
                let v = ws.until("ack").await;
                assert!(v["post"]["id"].is_string(), "{v}");
                acks += 1;
            }
        }));
    }
    for p in posting {
        p.await.expect("poster");
    }
    let mut ws = u.ws().await;
    let check = |r: usize, events: &[serde_json::Value]| {
        assert_eq!(events.len(), 41, "room {r}");
        let mut bodies = Vec::new();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e["seq"], i as u64 + 1, "room {r}: in order, no gap");
            bodies.push(e["post"]["body"].as_str().unwrap_or_default().to_owned());
        }
        let mut expected: Vec<String> = (0..40).map(|i| format!("room {r} post {i}")).collect();
        expected.insert(0, ["Alpha", "Beta", "Gamma"][r].to_owned() + " first");
        bodies[1..].sort_by_key(|b| b.rsplit(' ').next().and_then(|n| n.parse::<u32>().ok()));
        assert_eq!(bodies, expected, "room {r}: its own posts, each once");
    };
    for (r, room) in rooms.iter().enumerate() {
        let (events, head) = ws.subscribe(room, 0).await;
        assert_eq!(head, 41);
        check(r, &events);
    }
    drop(ws);
    let tmp = s.stop().await.expect("temp dir");
    let s = Server::start_in(tmp.path(), |_| {}).await;
    let mut again = s.guest();
    again.token = u.token.clone();
    let mut ws = again.ws().await;
    for (r, room) in rooms.iter().enumerate() {
        let (events, _) = ws.subscribe(room, 0).await;
        check(r, &events);
        let (_, posts) = again.get(&format!("/rooms/{room}/posts?limit=100")).await;
        assert_eq!(posts.as_array().map(Vec::len), Some(41));
    }
    let _ = s.stop().await;
    drop(tmp);
}
