//! Property tests of the store's invariants, through the service verbs: whatever mix of
//! posts, resent nonces, edits and deletes arrives, concurrently, every room's log is
//! gapless, a nonce names one post forever, and a deleted body is gone from the log.

use std::collections::HashMap;

use collective_brain::limits::Limits;
use collective_brain::model::{PostId, Role};
use collective_brain::service::{NewPost, Registration};
use collective_brain::{App, Config};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Action {
    Post { room: usize, user: usize, nonce: u8 },
    Edit { pick: usize },
    Delete { pick: usize, by_admin: bool },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..2usize, 0..2usize, 0..8u8).prop_map(|(room, user, nonce)| Action::Post { room, user, nonce }),
        1 => any::<usize>().prop_map(|pick| Action::Edit { pick }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, by_admin)| Action::Delete { pick, by_admin }),
    ]
}

async fn check(actions: Vec<Action>) {
    let tmp = tempfile::tempdir().unwrap();
    let config = Config {
        admin_password: Some("property-admin-password".into()),
        limits: Limits::off(),
        ..Config::with_data_dir(tmp.path())
    };
    let app = App::open(config).await.unwrap();
    let mut users = Vec::new();
    for h in ["prop_a", "prop_b"] {
        let reg = Registration { handle: h.into(), password: "property password".into(), ..Default::default() };
        users.push(app.create_user(reg, vec![Role::Member]).await.unwrap());
    }
    let admin = app.store.user_by_handle("admin").unwrap().unwrap().user;
    let spaces = app.spaces(None).unwrap();
    let lobby = spaces.iter().find_map(|s| s.room.filter(|_| s.slug == "lobby")).unwrap();
    let general = spaces.iter().find(|s| s.slug == "general").unwrap().id;
    let p = NewPost { body: "opening".into(), nonce: "open".into(), reply_to: None, lang: None, ..NewPost::default() };
    let thread = app.create_room(Some(&users[0]), general, "Properties", p).await.unwrap().post.room;
    let rooms = [lobby, thread];

    // Actions run four at a time, so they share commit batches in every order.
    let mut first_ack: HashMap<(usize, u8), PostId> = HashMap::new();
    let mut posted: Vec<PostId> = Vec::new();
    for chunk in actions.chunks(4) {
        let futures = chunk.iter().map(|a| {
            let (app, users, admin, posted) = (&app, &users, &admin, &posted);
            async move {
                match a {
                    Action::Post { room, user, nonce } => {
                        let p = NewPost {
                            body: format!("body {nonce}"),
                            nonce: format!("n{nonce}"),
                            reply_to: None,
                            lang: None,
                            ..NewPost::default()
                        };
                        let ack = app.post(Some(&users[*user]), rooms[*room], p).await.unwrap();
                        Some(((*user, *nonce), ack.post.id))
                    }
                    Action::Edit { pick } if !posted.is_empty() => {
                        let id = posted[pick % posted.len()];
                        let post = app.read_post(None, id).unwrap();
                        let author = users.iter().find(|u| u.id == post.author).unwrap_or(admin);
                        // Refused once deleted (conflict); that is part of the contract.
                        let _ = app.edit(Some(author), id, "edited body".into(), None).await;
                        None
                    }
                    Action::Delete { pick, by_admin } if !posted.is_empty() => {
                        let id = posted[pick % posted.len()];
                        let post = app.read_post(None, id).unwrap();
                        let who = if *by_admin { admin } else { users.iter().find(|u| u.id == post.author).unwrap() };
                        app.delete(Some(who), id).await.unwrap();
                        None
                    }
                    _ => None,
                }
            }
        });
        for (key, id) in futures_util::future::join_all(futures).await.into_iter().flatten() {
            let first = *first_ack.entry(key).or_insert(id);
            assert_eq!(first, id, "nonce {key:?} named two posts");
            if !posted.contains(&id) {
                posted.push(id);
            }
        }
    }

    let mut total_posts = 0;
    for room in rooms {
        let r = app.store.room(room).unwrap().unwrap();
        let head = app.store.durable_head(room);
        assert_eq!(r.last_seq, head);
        let events = app.store.events(room, 1, head, usize::MAX).unwrap();
        let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "room {room:?} log is gapless");
        let posts = app.store.posts(room, 0, usize::MAX).unwrap();
        assert_eq!(r.post_count as usize, posts.len());
        total_posts += posts.len();
        for p in posts.iter().filter(|p| p.deleted) {
            assert!(p.body.is_empty());
            for (_, e) in &events {
                let e: serde_json::Value = serde_json::from_slice(e).unwrap();
                if e["post"]["id"] == p.id.to_string() {
                    assert_eq!(e["post"]["body"], "", "a deleted body stays in the log");
                }
            }
        }
    }
    // The thread's opening post plus one post per distinct (user, nonce).
    assert_eq!(total_posts, 1 + first_ack.len());
    app.close().await.unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn the_log_stays_gapless_and_nonces_unique(actions in proptest::collection::vec(action(), 1..40)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(check(actions));
    }
}
