//! Replay then live, with no gap and no duplicate; idempotent posting; typing; space
//! feeds; slow subscribers.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::util::{thread, Server};

const POSTERS: usize = 4;
const PER_POSTER: usize = 60;

#[tokio::test]
async fn replay_then_live_has_no_gap_and_no_duplicate_under_concurrent_posting() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let opener = s.user("opener").await;
    let (room, _) = thread(&opener, &general, "Race", "first").await;
    let total = 1 + (POSTERS * PER_POSTER) as u64;

    let mut posters = Vec::new();
    for p in 0..POSTERS {
        let c = s.user(&format!("poster{p}")).await;
        let room = room.clone();
        posters.push(tokio::spawn(async move {
            let mut ws = c.ws().await;
            for i in 0..PER_POSTER {
                ws.send(json!({"type": "post", "room": room, "body": format!("poster {p} message {i}"), "nonce": format!("{p}-{i}")}))
                    .await;
                if i % 7 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            let mut seqs = Vec::new();
            while seqs.len() < PER_POSTER {
                let v = ws.recv().await;
                assert_eq!(v["type"], "ack", "{v}");
                seqs.push(v["post"]["seq"].as_u64().unwrap());
            }
            seqs
        }));
    }

    // Subscribers join while the posts pour in, each from a different point.
    let mut subscribers = Vec::new();
    for k in 0..8u64 {
        let c = s.user(&format!("reader{k}")).await;
        let room = room.clone();
        subscribers.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(k * 12)).await;
            let (_, current) = c.get(&format!("/rooms/{room}")).await;
            let head_now = current["last_seq"].as_u64().unwrap();
            let since = match k % 3 {
                0 => 0,
                1 => head_now / 2,
                _ => head_now,
            };
            let mut ws = c.ws().await;
            ws.send(json!({"type": "subscribe", "room": room, "since": since})).await;
            let mut seen = Vec::new();
            let mut head = None;
            while head.is_none() || seen.last().copied().unwrap_or(since) < total {
                let v = ws.recv().await;
                match v["type"].as_str().unwrap() {
                    "event" => {
                        assert_eq!(v["room"], room.as_str());
                        seen.push(v["seq"].as_u64().unwrap());
                    }
                    "subscribed" => {
                        assert!(head.is_none(), "one subscribed frame");
                        let h = v["head"].as_u64().unwrap();
                        assert_eq!(h, seen.last().copied().unwrap_or(since), "head is the last replayed seq");
                        head = Some(h);
                    }
                    "typing" | "lagged" => panic!("unexpected {v}"),
                    _ => {}
                }
            }
            assert!(head.is_some());
            let expected: Vec<u64> = (since + 1..=total).collect();
            assert_eq!(seen, expected, "reader {k} from since {since}");
        }));
    }

    let mut all = HashSet::new();
    for p in posters {
        for seq in p.await.unwrap() {
            assert!(all.insert(seq), "two acks with seq {seq}");
        }
    }
    assert_eq!(all.len(), POSTERS * PER_POSTER);
    for sub in subscribers {
        sub.await.unwrap();
    }
    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts?limit=500")).await;
    let seqs: Vec<u64> = posts.as_array().unwrap().iter().map(|p| p["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    s.stop().await;
}

#[tokio::test]
async fn the_same_nonce_never_creates_a_second_post() {
    let s = Server::start().await;
    let room = s.lobby_room().await;
    let u = s.user("resender").await;

    let mut ws = u.ws().await;
    let first = ws.post(&room, "Bom dia a todos!", "nonce-1").await;
    assert_eq!(first["type"], "ack");
    let again = ws.post(&room, "Bom dia a todos!", "nonce-1").await;
    assert_eq!(again, first, "the first ack, again");
    drop(ws);

    // After a dropped connection the client resends: still the same post.
    let mut ws = u.ws().await;
    let third = ws.post(&room, "Bom dia a todos! (resent)", "nonce-1").await;
    assert_eq!(third["post"]["id"], first["post"]["id"]);
    assert_eq!(third["post"]["body"], "Bom dia a todos!");
    // Over HTTP too.
    let (status, post) = u.post(&format!("/rooms/{room}/posts"), json!({"body": "again", "nonce": "nonce-1"})).await;
    assert_eq!(status, 201);
    assert_eq!(post["id"], first["post"]["id"]);

    // Several copies in flight at once: one post.
    for _ in 0..5 {
        ws.send(json!({"type": "post", "room": room, "body": "burst", "nonce": "nonce-2"})).await;
    }
    let mut ids = HashSet::new();
    for _ in 0..5 {
        ids.insert(ws.until("ack").await["post"]["id"].to_string());
    }
    assert_eq!(ids.len(), 1);

    // The nonce is per user: another user's "nonce-1" is a post of its own.
    let other = s.user("otheruser").await;
    let mut ows = other.ws().await;
    let theirs = ows.post(&room, "Olá", "nonce-1").await;
    assert_ne!(theirs["post"]["id"], first["post"]["id"]);

    let (_, posts) = s.guest().get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(posts.as_array().unwrap().len(), 3);
    let (_, r) = s.guest().get(&format!("/rooms/{room}")).await;
    assert_eq!((r["last_seq"].as_u64(), r["post_count"].as_u64()), (Some(3), Some(3)));
    s.stop().await;
}

#[tokio::test]
async fn typing_and_presence_reach_the_others_only() {
    let s = Server::start().await;
    let room = s.lobby_room().await;
    let a = s.user("typer").await;
    let b = s.user("watcher").await;
    let mut aws = a.ws().await;
    let mut bws = b.ws().await;
    aws.subscribe(&room, 0).await;
    bws.subscribe(&room, 0).await;
    // A sees B arrive; nobody is told of their own arrival.
    let p = aws.expect("presence").await;
    assert_eq!(p, json!({"type": "presence", "room": room, "user": b.id(), "online": true}));
    let (_, here) = s.guest().get(&format!("/rooms/{room}/presence")).await;
    let mut expected = vec![a.id(), b.id()];
    expected.sort_by_key(|id| id[1..].parse::<u64>().unwrap());
    assert_eq!(here["users"], json!(expected));

    aws.send(json!({"type": "typing", "room": room})).await;
    let t = bws.expect("typing").await;
    assert_eq!(t, json!({"type": "typing", "room": room, "user": a.id()}));
    // A's next frames are its ack and its own event: no echo of its typing.
    aws.send(json!({"type": "post", "room": room, "body": "hello", "nonce": "t1"})).await;
    for _ in 0..2 {
        let v = aws.recv().await;
        assert!(v["type"] == "ack" || v["type"] == "event", "{v}");
    }
    // Typing is not in the log.
    assert_eq!(bws.expect("event").await["post"]["body"], "hello");
    let (events, head) = bws.subscribe(&room, 0).await;
    assert_eq!((events.len(), head), (1, 1));

    // B leaves: A is told, and the room's presence no longer lists B.
    drop(bws);
    let p = aws.expect("presence").await;
    assert_eq!((p["user"].clone(), p["online"].clone()), (json!(b.id()), json!(false)));
    let (_, here) = s.guest().get(&format!("/rooms/{room}/presence")).await;
    assert_eq!(here["users"], json!([a.id()]));
    s.stop().await;
}

#[tokio::test]
async fn space_subscribers_see_rooms_created_and_updated() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let u = s.user("threadstarter").await;
    let mut watch = s.guest().ws().await;
    watch.send(json!({"type": "subscribe_space", "space": general})).await;
    watch.expect("subscribed_space").await;

    let mut ws = u.ws().await;
    ws.send(json!({"type": "create_room", "space": general, "title": "Economía social en Puebla", "body": "¿Quién estuvo en Puebla?", "nonce": "c1"}))
        .await;
    let ack = ws.until("ack").await;
    let room = ack["room"]["id"].as_str().unwrap().to_owned();
    assert_eq!(ack["room"]["title"], "Economía social en Puebla");
    assert_eq!(ack["post"]["room"], room.as_str());
    let created = watch.expect("room_created").await;
    assert_eq!(created["room"]["id"], room.as_str());
    assert_eq!(created["room"]["last_seq"], 1);

    ws.post(&room, "Yo estuve en 2016", "c2").await;
    let updated = watch.expect("room_updated").await;
    assert_eq!((updated["room"]["id"].clone(), updated["room"]["last_seq"].clone()), (json!(room), json!(2)));
    assert_eq!(updated["room"]["post_count"], 2);

    // The rooms list: newest activity first, paged with `before`.
    let (room2, _) = thread(&u, &general, "Second", "newer").await;
    let (_, rooms) = s.guest().get(&format!("/spaces/{general}/rooms")).await;
    let order: Vec<&str> = rooms.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(order, vec![room2.as_str(), room.as_str()]);
    let before = rooms[0]["last_activity_at"].as_str().unwrap();
    let (_, page) = s.guest().get(&format!("/spaces/{general}/rooms?limit=1&before={}", urlencode(before))).await;
    assert_eq!(page[0]["id"], room.as_str());

    // A chat space has exactly one room.
    let lobby = s.space_id("lobby").await;
    ws.send(json!({"type": "create_room", "space": lobby, "title": "side room", "body": "b", "nonce": "c3"})).await;
    let e = ws.until("error").await;
    assert_eq!((e["code"].clone(), e["ref"].clone()), (json!("bad_request"), json!("c3")));
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn a_slow_subscriber_gets_lagged_and_catches_up_with_since() {
    let s = Server::start_with(|c| {
        c.room_buffer = 16;
        c.connection_queue = 4;
        c.limits = collective_brain::limits::Limits::off();
    })
    .await;
    let general = s.space_id("general").await;
    let u = s.user("firehose").await;
    let (room, _) = thread(&u, &general, "Firehose", "start").await;

    let mut slow = s.guest().ws().await;
    let (_, head) = slow.subscribe(&room, 0).await;
    assert_eq!(head, 1);
    // The slow client now reads nothing while 12 MB of posts go by.
    let body = "x".repeat(8 * 1024);
    let mut poster = u.ws().await;
    let n = 1500u64;
    poster.post_many(&room, &body, "f", n as usize, 64).await;
    let total = n + 1;

    let mut last = 1;
    loop {
        let v = slow.recv().await;
        match v["type"].as_str().unwrap() {
            "event" => {
                let seq = v["seq"].as_u64().unwrap();
                assert_eq!(seq, last + 1, "no gap before the lag");
                last = seq;
                assert!(last < total, "the slow client should have lagged");
            }
            "lagged" => {
                assert_eq!(v["room"], room.as_str());
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    // Resubscribing with `since` on the same socket brings everything else, once.
    let (events, head) = slow.subscribe(&room, last).await;
    assert_eq!(head, total);
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (last + 1..=total).collect::<Vec<_>>());
    s.stop().await;
}

#[tokio::test]
async fn read_markers_give_unread_counts_and_reach_every_device() {
    let s = Server::start().await;
    let general = s.space_id("general").await;
    let a = s.user("writer_a").await;
    let b = s.user("reader_b").await;
    let (room, _) = thread(&a, &general, "Unread", "one").await;
    let mut aws = a.ws().await;
    aws.post(&room, "two", "u2").await;
    aws.post(&room, "three", "u3").await;

    let unread = |rooms: &serde_json::Value| rooms[0]["unread"].as_u64().unwrap();
    let (_, rooms) = b.get(&format!("/spaces/{general}/rooms")).await;
    assert_eq!((unread(&rooms), rooms[0]["read_seq"].as_u64()), (3, Some(0)));
    let (_, spaces) = b.get("/spaces").await;
    let g = spaces.as_array().unwrap().iter().find(|s| s["id"] == general.as_str()).unwrap().clone();
    assert_eq!(g["unread"], 3);
    let (_, guest_rooms) = s.guest().get(&format!("/spaces/{general}/rooms")).await;
    assert!(guest_rooms[0].get("unread").is_none(), "guests have no read markers");

    // Two devices: reading on one tells the other.
    let mut phone = b.ws().await;
    let mut laptop = b.ws().await;
    phone.send(json!({"type": "read", "room": room, "seq": 2})).await;
    assert_eq!(laptop.expect("read").await, json!({"type": "read", "room": room, "seq": 2}));
    assert_eq!(phone.expect("read").await["seq"], 2);
    let (_, rooms) = b.get(&format!("/spaces/{general}/rooms")).await;
    assert_eq!(unread(&rooms), 1);
    // The room itself says where its reader stopped (a thread opens there).
    let (_, one) = b.get(&format!("/rooms/{room}")).await;
    assert_eq!((one["read_seq"].as_u64(), one["unread"].as_u64()), (Some(2), Some(1)));
    let (_, guest_one) = s.guest().get(&format!("/rooms/{room}")).await;
    assert!(guest_one.get("read_seq").is_none(), "{guest_one}");
    // Markers never move back, and stop at the head.
    let (status, r) = b.put(&format!("/rooms/{room}/read"), json!({"seq": 1})).await;
    assert_eq!((status, r["seq"].clone()), (200, json!(2)));
    let (_, r) = b.put(&format!("/rooms/{room}/read"), json!({"seq": 999})).await;
    assert_eq!(r["seq"], 3);
    assert_eq!(laptop.expect("read").await["seq"], 3);
    let (_, rooms) = b.get(&format!("/spaces/{general}/rooms")).await;
    assert_eq!(unread(&rooms), 0);
    aws.post(&room, "four", "u4").await;
    let (_, rooms) = b.get(&format!("/spaces/{general}/rooms")).await;
    assert_eq!(unread(&rooms), 1);

    let mut guest = s.guest().ws().await;
    guest.send(json!({"type": "read", "room": room, "seq": 1})).await;
    assert_eq!(guest.expect("error").await["code"], "unauthorized");
    assert_eq!(b.put("/rooms/r999999/read", json!({"seq": 1})).await.0, 404);
    s.stop().await;
}
