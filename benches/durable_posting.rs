//! Durable posting through the real service and store: 64 concurrent posters, each
//! waiting for its ack (the post flushed to disk) before sending the next. Prints acked
//! posts per second and ack latency percentiles. Run with
//! `cargo bench --bench durable_posting`; results go in docs/BENCHMARKS.md.

mod common;

use std::time::{Duration, Instant};

use collective_brain::model::{Role, RoomId};
use collective_brain::service::{NewPost, Registration};
use collective_brain::App;

// The server's allocator, so the bench measures what runs.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Concurrent posters; `CB_BENCH_POSTERS` changes it.
const POSTERS: usize = 64;
const DURATION: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let app = App::open(common::config(tmp.path())).await.expect("open");
    let lobby: RoomId = app
        .spaces(None)
        .expect("spaces")
        .into_iter()
        .find_map(|s| if s.slug == "lobby" { s.room } else { None })
        .expect("lobby");
    let body = "A solidarity economy post of about one hundred bytes, written for the durable posting bench.";
    // The posters' accounts first: argon2 hashing is sign-up work, not posting work, and
    // must stay out of the timed window.
    let mut users = Vec::new();
    let posters = std::env::var("CB_BENCH_POSTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(POSTERS);
    for p in 0..posters {
        let reg =
            Registration { handle: format!("poster{p}"), password: "bench password".into(), ..Default::default() };
        users.push(app.create_user(reg, vec![Role::Member]).await.expect("user"));
    }
    // `CB_BENCH_UNDECLARED=1`: posts without a declared language, as the web client sends
    // them, so each is tagged with the room's recent language as evidence.
    let undeclared = std::env::var("CB_BENCH_UNDECLARED").is_ok_and(|v| v == "1");
    let mut tasks = Vec::new();
    let start = Instant::now();
    for (p, user) in users.into_iter().enumerate() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while start.elapsed() < DURATION {
                let t = Instant::now();
                let lang = (!undeclared).then(|| "en".to_owned());
                let post = NewPost {
                    body: body.into(),
                    nonce: format!("{p}-{i}"),
                    reply_to: None,
                    lang,
                    ..NewPost::default()
                };
                app.post(Some(&user), lobby, post).await.expect("post");
                latencies.push(t.elapsed());
                i += 1;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("poster"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    println!(
        "durable posting: {} posters, {} acked posts in {:.1} s = {:.0} posts/s; ack latency p50 {:?} p99 {:?} p99.9 {:?}",
        posters,
        all.len(),
        elapsed,
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        pct(0.999)
    );
    let w = app.store.stats();
    let commits = w.commits.load(std::sync::atomic::Ordering::Relaxed).max(1);
    let flush = w.flush_micros.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "writer: {} commits, {:.1} posts per commit, apply {:.2} ms mean, {} flushes of {:.2} ms mean ({:.1} s of {:.1} s flushing)",
        commits,
        all.len() as f64 / commits as f64,
        w.apply_micros.load(std::sync::atomic::Ordering::Relaxed) as f64 / commits as f64 / 1000.0,
        w.flushes.load(std::sync::atomic::Ordering::Relaxed),
        flush as f64 / w.flushes.load(std::sync::atomic::Ordering::Relaxed).max(1) as f64 / 1000.0,
        flush as f64 / 1e6,
        elapsed
    );
    assert!(!all.is_empty(), "no post was acked");
    app.close().await.expect("close");
}
