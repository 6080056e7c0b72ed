//! The per-message hot paths, each alone: decoding a client frame, encoding an event
//! once, fanning one frame out through the hub, and appending a post through the store
//! (group commit and flush included). Run with `cargo bench --bench hot_paths`; results
//! go in docs/BENCHMARKS.md.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use collective_brain::hub::{Hub, HubMsg, Topic};
use collective_brain::model::{EventKind, LangSource, Post, PostId, Role, RoomId, UserId};
use collective_brain::protocol::{ClientFrame, ServerFrame};
use collective_brain::service::{NewPost, Registration};
use collective_brain::App;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const BODY: &str = "Les coopératives de femmes au Sénégal: what the Agadir edition learned about financing.";

fn post() -> Post {
    Post {
        id: PostId(4242),
        room: RoomId(17),
        seq: 1234,
        author: UserId(99),
        body: BODY.into(),
        html: collective_brain::render::html(BODY, |_| false),
        reply_to: None,
        lang: collective_brain::model::Lang::parse("fr").expect("a language"),
        lang_source: LangSource::Detected,
        lang_confidence: 0.93,
        created_at: "2026-11-22T07:00:00.000Z".into(),
        edited_at: None,
        deleted: false,
        hidden: false,
        translations: BTreeMap::new(),
        reactions: BTreeMap::new(),
        files: Vec::new(),
    }
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frames");
    group.throughput(Throughput::Elements(1));
    let text =
        serde_json::json!({"type": "post", "room": "17", "body": BODY, "nonce": "n-000123", "lang": "fr"}).to_string();
    group.bench_function("decode post", |b| b.iter(|| ClientFrame::parse(std::hint::black_box(&text))));
    let p = post();
    group.bench_function("encode event", |b| {
        b.iter(|| ServerFrame::Event { room: p.room, seq: p.seq, kind: EventKind::Post, post: &p }.to_json())
    });
    // A typical forum post: a paragraph with emphasis, a link, a mention and a list.
    let markdown = "Bonjour @ana, **merci** pour le guide: voir [le rapport](https://www.ilo.org/) de l'Académie.\n\n\
                    - coopératives de femmes\n- finance solidaire\n- *économie informelle*";
    group.bench_function("render a typical post", |b| {
        b.iter(|| collective_brain::render::html(std::hint::black_box(markdown), |h| h == "ana"))
    });
    // A chat line with nothing for Markdown to do: the shortcut.
    let line = "Bom dia Marc, até amanhã na reunião das 10h!";
    group.bench_function("render a plain chat line", |b| {
        b.iter(|| collective_brain::render::html(std::hint::black_box(line), |h| h == "ana"))
    });
    group.finish();
}

fn hub(c: &mut Criterion) {
    let mut group = c.benchmark_group("hub");
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    for subscribers in [1usize, 100, 1000] {
        group.throughput(Throughput::Elements(subscribers as u64));
        let hub = Hub::new(1024);
        let topic = Topic::Room(RoomId(1));
        let mut receivers: Vec<_> = (0..subscribers).map(|_| hub.subscribe(topic)).collect();
        let text = Utf8Bytes::from(
            ServerFrame::Event { room: RoomId(1), seq: 1, kind: EventKind::Post, post: &post() }.to_json(),
        );
        // One publish, and every subscriber receiving it: the shared frame is cloned (a
        // reference count), never re-serialized.
        group.bench_function(format!("publish and receive, {subscribers} subscribers"), |b| {
            b.iter(|| {
                hub.publish(topic, HubMsg { seq: 1, from: None, scope: None, text: text.clone() });
                runtime.block_on(async {
                    for rx in &mut receivers {
                        let _ = rx.recv().await;
                    }
                });
            })
        });
    }
    group.finish();
}

fn store_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let tmp = tempfile::tempdir().expect("temp dir");
    let (app, user, lobby) = runtime.block_on(async {
        let app = App::open(common::config(tmp.path())).await.expect("open");
        let lobby = app
            .spaces(None)
            .expect("spaces")
            .into_iter()
            .find_map(|s| if s.slug == "lobby" { s.room } else { None })
            .expect("lobby");
        let reg = Registration { handle: "appender".into(), password: "bench password".into(), ..Default::default() };
        let user = app.create_user(reg, vec![Role::Member]).await.expect("user");
        (app, user, lobby)
    });
    let mut n = 0u64;
    // One post alone: its own transaction and flush (the latency floor of an ack).
    group.throughput(Throughput::Elements(1));
    group.bench_function("append one post (flushed)", |b| {
        b.iter_batched(
            || {
                n += 1;
                NewPost {
                    body: BODY.into(),
                    nonce: format!("a-{n}"),
                    reply_to: None,
                    lang: Some("fr".into()),
                    ..NewPost::default()
                }
            },
            |p| runtime.block_on(app.post(Some(&user), lobby, p)).expect("post"),
            BatchSize::SmallInput,
        )
    });
    // 64 at once: they share group commits.
    group.throughput(Throughput::Elements(64));
    group.bench_function("append 64 concurrent posts", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut tasks = Vec::with_capacity(64);
                for _ in 0..64 {
                    n += 1;
                    let (app, user) = (app.clone(), user.clone());
                    let p = NewPost {
                        body: BODY.into(),
                        nonce: format!("a-{n}"),
                        reply_to: None,
                        lang: Some("fr".into()),
                        ..NewPost::default()
                    };
                    tasks.push(tokio::spawn(async move { app.post(Some(&user), lobby, p).await }));
                }
                for t in tasks {
                    t.await.expect("task").expect("post");
                }
            })
        })
    });
    group.finish();
    runtime.block_on(app.close()).expect("close");
}

criterion_group!(benches, frames, hub, store_append);
criterion_main!(benches);
