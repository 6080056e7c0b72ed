//! Email: how fast the outbox drains into a real SMTP server, and what the daily digests
//! of a community cost, alone and beside people posting.
//!
//! ```text
//! cargo bench --bench mail -- [--mails N] [--members N] [--days N] [--per-day N]
//! ```
//! 1. Drain: `--mails` (default 2,000) mails put in the outbox, then sent by the server's
//!    sender into aiosmtpd (`tests/smtp/maildrop.py`, a process of its own delivering to
//!    a maildir; the README's test command installs aiosmtpd): mails per second.
//! 2. Digests: `--members` (default 700) members with verified addresses and a daily
//!    digest, `--days` (default 30) days of activity of `--per-day` (default 300) posts
//!    across the seeded forums (a new thread in every 15 posts) by those members, the
//!    server's clock moved a day at a time. Then, in alternating rounds, 8 members post
//!    (each every 20 ms: 400 posts/s) for 10 s without digests, and again while a day's
//!    700 digests are written, four times each: the digests' time, and the posters' ack
//!    p50 and p99 each way.
//!
//! Results go in docs/BENCHMARKS.md.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use collective_brain::clock::Clock;
use collective_brain::model::{DigestEvery, EmailSettings, Lang, MailNotifications, Role, RoomId, User};
use collective_brain::service::NewPost;
use collective_brain::store::{CreateUser, EmailToken, OutboxMail, SetEmail, SetEmailSettings, UseEmailToken};
use collective_brain::{App, Config};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const DAY: Duration = Duration::from_secs(24 * 3600);
const POSTERS: usize = 8;
const WINDOW: Duration = Duration::from_secs(10);
/// Each poster posts this often: 8 posters make 400 posts a second, far above what a
/// community of 700 writes at its busiest, and short of what saturates the machine (the
/// posters measure latency, not throughput).
const EVERY: Duration = Duration::from_millis(20);

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// aiosmtpd with the tests' handler, delivering into `maildir`.
struct Smtp(std::process::Child);

impl Smtp {
    fn start(port: u16, maildir: &std::path::Path) -> Smtp {
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "maildrop.Maildrop"])
            .arg(maildir)
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp(child)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn config(dir: &std::path::Path, port: u16, clock: &Clock) -> Config {
    Config {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        mail_from: "Collective Brain <brain@example.org>".into(),
        public_url: Some("https://brain.example.org".into()),
        clock: clock.clone(),
        ..common::config(dir)
    }
}

/// A member made straight in the store (no password hashing: they never sign in), with
/// `email` verified.
async fn member(app: &App, handle: &str, email: &str, lang: &str) -> User {
    let op = CreateUser {
        handle: handle.into(),
        display_name: handle.into(),
        languages: vec![Lang::parse(lang).expect("lang")],
        roles: vec![Role::Member],
        password_hash: String::new(),
        pending: false,
        invite: None,
    };
    let user = app.store.run(op).await.expect("member");
    let mut hash = [0u8; 32];
    hash[..handle.len().min(32)].copy_from_slice(&handle.as_bytes()[..handle.len().min(32)]);
    let token =
        EmailToken { user: user.id, purpose: "verify".into(), email: Some(email.into()), expires_ms: i64::MAX / 2 };
    let op = SetEmail {
        user: user.id,
        email: Some(Some(email.into())),
        token: Some((hash, token)),
        mail: None,
        mail_key: None,
    };
    app.store.run(op).await.expect("email");
    app.store.run(UseEmailToken { hash, reset: None }).await.expect("verify");
    user
}

async fn drain(mails: usize) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let _smtp = Smtp::start(port, &tmp.path().join("mail"));
    let clock = Clock::default();
    let app = App::open(config(&tmp.path().join("data"), port, &clock)).await.expect("open");
    let user = member(&app, "sender", "sender@example.org", "en").await;
    let body = "A notice of about the size members get: who wrote, where, the post quoted, a link.\n".repeat(12);
    for i in 0..mails {
        let mail = OutboxMail {
            message_id: format!("<bench.{i}@example.org>"),
            to: format!("member{}@example.org", i % 700),
            subject: format!("bench mail {i}"),
            text: body.clone(),
            html: format!("<p>{body}</p>"),
            kind: "notices".into(),
            user: Some(user.id),
            created_at: clock.now_rfc3339(),
            attempts: 0,
            next_ms: 0,
            failed: None,
            notes: Vec::new(),
            window: None,
            posts: Vec::new(),
            unsubscribe: Some("https://brain.example.org/api/v1/unsubscribe?user=u&kind=notices&sig=s".into()),
        };
        let op = SetEmail { user: user.id, email: None, token: None, mail: Some(Box::new(mail)), mail_key: None };
        app.store.run(op).await.expect("queue");
    }
    let started = Instant::now();
    while app.store.outbox_len() > 0 {
        app.deliver_mail().await.expect("deliver");
    }
    let secs = started.elapsed().as_secs_f64();
    let delivered = std::fs::read_dir(tmp.path().join("mail/new")).map(|d| d.count()).unwrap_or(0);
    println!(
        "drain: {mails} mails into aiosmtpd in {secs:.2} s = {:.0} mails/s ({delivered} delivered)",
        mails as f64 / secs
    );
    assert_eq!(delivered, mails, "every mail delivered once");
    app.close().await.expect("close");
}

/// Posts by `posters` into `rooms` for `WINDOW`, each every `EVERY`; their ack latencies.
async fn post_for(app: &Arc<App>, posters: &[User], rooms: &[RoomId], round: &str) -> Vec<Duration> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (p, user) in posters.iter().cloned().enumerate() {
        let (app, rooms, round) = (app.clone(), rooms.to_vec(), round.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0;
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while start.elapsed() < WINDOW {
                tick.tick().await;
                let t = Instant::now();
                let post = NewPost {
                    body: format!("A reply while digests are written, {round} {p} {i}: la coopérative a voté."),
                    nonce: format!("{round}-{p}-{i}"),
                    lang: Some("en".into()),
                    ..NewPost::default()
                };
                app.post(Some(&user), rooms[(p + i) % rooms.len()], post).await.expect("post");
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
    all.sort();
    all
}

fn pct(all: &[Duration], q: f64) -> Duration {
    all[((all.len() as f64 * q) as usize).min(all.len() - 1)]
}

async fn digests(members: usize, days: usize, per_day: usize) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let clock = Clock::default();
    // No SMTP server: the digests are written into the outbox, not sent.
    let app = App::open(config(tmp.path(), free_port(), &clock)).await.expect("open");
    let langs = ["en", "fr", "es", "pt"];
    let mut people = Vec::new();
    for i in 0..members {
        people.push(member(&app, &format!("member{i}"), &format!("member{i}@example.org"), langs[i % 4]).await);
    }
    let forums = common::member_forums(&app);
    let bodies = [
        "Our cooperative in Recife is looking for partners for a solidarity finance pilot.",
        "La coopérative de Montréal partage son guide sur la gouvernance démocratique.",
        "La red de economía social de Puebla organiza un taller sobre compras públicas.",
        "A incubadora de Campinas publicou o relatório sobre empreendimentos solidários.",
    ];
    let started = Instant::now();
    let mut threads: Vec<RoomId> = Vec::new();
    let mut n = 0usize;
    for day in 0..days {
        if day + 1 == days {
            // Everyone wants a daily digest, from the last day on.
            let settings = EmailSettings { notifications: MailNotifications::Immediate, digest: DigestEvery::Daily };
            for p in &people {
                app.store.run(SetEmailSettings { user: p.id, settings }).await.expect("settings");
            }
            app.queue_digests().await.expect("first pass");
        }
        let mut tasks = Vec::new();
        for k in 0..per_day {
            let author = people[(n + k * 7) % people.len()].clone();
            let body = format!("{} ({day}/{k})", bodies[(n + k) % 4]);
            let nonce = format!("seed-{day}-{k}");
            if k % 15 == 0 || threads.is_empty() {
                let space = forums[(n + k) % forums.len()];
                let title = format!("Day {day}: topic {k}");
                let post = NewPost { body, nonce, lang: Some(langs[(n + k) % 4].into()), ..NewPost::default() };
                let made = app.create_room(Some(&author), space, &title, post).await.expect("thread");
                threads.push(made.post.room);
            } else {
                let room = threads[threads.len() - 1 - (k % threads.len().min(40))];
                let app = app.clone();
                let lang = langs[(n + k) % 4].to_owned();
                tasks.push(tokio::spawn(async move {
                    let post = NewPost { body, nonce, lang: Some(lang), ..NewPost::default() };
                    app.post(Some(&author), room, post).await.expect("reply");
                }));
            }
            if tasks.len() >= 32 {
                for t in tasks.drain(..) {
                    t.await.expect("reply task");
                }
            }
        }
        for t in tasks {
            t.await.expect("reply task");
        }
        n += per_day;
        clock.advance(DAY);
    }
    println!(
        "digests: {members} members, {} posts over {days} days in {} threads, seeded in {:.0} s",
        n,
        threads.len(),
        started.elapsed().as_secs_f64()
    );
    let posters: Vec<User> = people[..POSTERS].to_vec();
    let rooms: Vec<RoomId> = threads[threads.len() - 10..].to_vec();
    let mut quiet = Vec::new();
    let mut busy = Vec::new();
    for round in 0..4 {
        // A/B: posting alone, then posting while a day's digests are written.
        let alone = post_for(&app, &posters, &rooms, &format!("quiet{round}")).await;
        clock.advance(DAY);
        let before = app.store.outbox_len();
        let writer = {
            let app = app.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let t = Instant::now();
                let written = app.queue_digests().await.expect("digests");
                (written, t.elapsed())
            })
        };
        let during = post_for(&app, &posters, &rooms, &format!("busy{round}")).await;
        let (written, took) = writer.await.expect("digest task");
        println!(
            "round {round}: {written} digests written in {:.2} s ({} mails in the outbox after, {before} before); \
             posting alone p99 {:?}, beside the digests p99 {:?}",
            took.as_secs_f64(),
            app.store.outbox_len(),
            pct(&alone, 0.99),
            pct(&during, 0.99)
        );
        quiet.extend(alone);
        busy.extend(during);
    }
    quiet.sort();
    busy.sort();
    println!(
        "acks of {POSTERS} posters: alone p50 {:?} p99 {:?} ({} posts); beside digests p50 {:?} p99 {:?} ({} posts)",
        pct(&quiet, 0.5),
        pct(&quiet, 0.99),
        quiet.len(),
        pct(&busy, 0.5),
        pct(&busy, 0.99),
        busy.len()
    );
    app.close().await.expect("close");
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--digests-only") {
        digests(arg("--members", 700), arg("--days", 30), arg("--per-day", 300)).await;
        return;
    }
    drain(arg("--mails", 2000)).await;
    digests(arg("--members", 700), arg("--days", 30), arg("--per-day", 300)).await;
}
