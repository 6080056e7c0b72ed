//! The translators' queue at scale: `cargo bench --bench queue` (CB_BENCH_WAITING to change
//! the number of waiting posts, default 50,000).
//!
//! Writes that many English posts through the service (threads of 25 posts in the
//! forums, so their titles wait too), none translated, then times a translator's
//! `GET /translations/queue?to=fr` as the service answers it: the default page (50
//! items) and the largest (200), p50 and p99 over 500 listings each, once the search
//! index has caught up with the posts.

mod common;

use std::time::{Duration, Instant};

use collective_brain::model::{Lang, LangPair, Role, User};
use collective_brain::service::NewPost;
use collective_brain::store::{CreateUser, SetPairs};
use collective_brain::App;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

async fn member(app: &App, handle: &str, roles: Vec<Role>) -> User {
    let op = CreateUser {
        handle: handle.into(),
        display_name: handle.into(),
        languages: vec![Lang::EN],
        roles,
        password_hash: String::new(),
        pending: false,
        invite: None,
    };
    app.store.run(op).await.expect("member")
}

fn pct(all: &[Duration], q: f64) -> f64 {
    all[((all.len() as f64 * q) as usize).min(all.len() - 1)].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let waiting: usize = std::env::var("CB_BENCH_WAITING").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let app = App::open(common::config(tmp.path())).await.expect("open");
    let mut authors = Vec::new();
    for i in 0..8 {
        authors.push(member(&app, &format!("author{i}"), vec![Role::Member]).await);
    }
    let t = member(&app, "translator", vec![Role::Member, Role::Translator]).await;
    let pairs = vec![LangPair { from: Lang::EN, to: Lang::parse("fr").expect("fr") }];
    let translator = app.store.run(SetPairs { user: t.id, pairs, paused: None }).await.expect("pairs");
    let forums = common::member_forums(&app);
    let started = Instant::now();
    let mut n = 0;
    while n < waiting {
        let author = authors[n % authors.len()].clone();
        let body = format!("Our cooperative shares its report on solidarity finance, part {n}.");
        let post = NewPost { body, nonce: format!("t{n}"), lang: Some("en".into()), ..NewPost::default() };
        let title = format!("Solidarity finance, thread {}", n / 25);
        let made = app.create_room(Some(&author), forums[n % forums.len()], &title, post).await.expect("thread");
        n += 1;
        let mut tasks = Vec::new();
        for k in 0..24.min(waiting - n) {
            let (app, author) = (app.clone(), authors[(n + k) % authors.len()].clone());
            let body = format!("A reply about the cooperative's accounts, number {}.", n + k);
            let post = NewPost { body, nonce: format!("r{}", n + k), lang: Some("en".into()), ..NewPost::default() };
            let room = made.post.room;
            tasks.push(tokio::spawn(async move { app.post(Some(&author), room, post).await.expect("reply") }));
        }
        n += tasks.len();
        for task in tasks {
            task.await.expect("reply task");
        }
    }
    println!("{waiting} posts written in {:.1} s", started.elapsed().as_secs_f64());
    // The search index catches up with them first: the listing is timed on a quiet node.
    let head = app.store.change_head().get();
    while app.search.applied.load(std::sync::atomic::Ordering::Acquire) < head {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for limit in [50, 200] {
        let mut times = Vec::new();
        for _ in 0..500 {
            let t = Instant::now();
            let items = app.queue(Some(&translator), Some("fr"), Some(limit)).expect("queue");
            times.push(t.elapsed());
            assert_eq!(items.len(), limit);
        }
        times.sort();
        println!(
            "queue listing of {limit} items with {waiting} posts waiting: p50 {:.2} ms, p99 {:.2} ms",
            pct(&times, 0.5),
            pct(&times, 0.99)
        );
    }
}
