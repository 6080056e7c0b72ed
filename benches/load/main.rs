//! The load generator: the same workload against the ceiling, NATS and the project's
//! server, in one run, and one table with the ratios.
//!
//! ```text
//! cargo bench --bench load -- [fanout] [rooms] [durable] [idle] [storm] [--servers ceiling,nats,ours] [--secs N] [--durable-secs N] [--rounds N]
//! ```
//! With no scenario named, all five run. Durable posting runs `--secs` but at most 10 s,
//! or `--durable-secs` (load sustained past the store's bounds, such as its index of
//! nonces not yet folded). `--rounds N` runs each scenario N times, the
//! servers alternating within each round, prints each round's table and then the
//! medians and the spread of our ratios to each peer: on a shared machine one run's
//! ratio moves by a third from run to run, so a target is judged on the median. NATS rows need Debian's `nats-server`
//! (`apt-get install -y nats-server`); without it they are skipped. Every server runs as
//! its own process, started fresh for each scenario, so its CPU seconds and peak RSS are
//! read from /proc. Results and the machine go in docs/BENCHMARKS.md.

mod ceiling;
mod stats;
mod target;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use stats::{cpu_seconds, json_number, memory, payload, stamp, Latencies, ThreadCpu};
use target::{greet, open, path, publish_frame, subscribe_frame, text, Kind, NatsOp, NatsParser, Target, Ws};
use tokio_tungstenite::tungstenite::Message;

/// One row of the table.
struct Row {
    server: Kind,
    /// Deliveries (or acks) per second.
    rate: f64,
    latency: [f64; 3],
    cpu: f64,
    peak_rss: u64,
    note: String,
    /// The scenario's own figures, beside the common columns (idle: memory per
    /// connection; the storm: catch-up time, lost and duplicated posts), for the summary
    /// over rounds.
    figures: Vec<(&'static str, f64)>,
}

/// A figure with `decimals`, or a dash when the scenario does not measure it.
fn cell(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "-".to_owned()
    }
}

/// A scenario's own figure: a count as a whole number, anything else with two decimals.
fn figure(value: f64) -> String {
    cell(value, if value.fract() == 0.0 { 0 } else { 2 })
}

/// `ours / theirs` as a ratio, or a dash when either side has no such figure.
fn ratio(ours: f64, theirs: f64) -> String {
    let r = ours / theirs;
    if r.is_finite() {
        format!("{r:.2}x")
    } else {
        "-".to_owned()
    }
}

struct Options {
    secs: u64,
    /// Durable posting's length: `--secs` up to 10 unless given (`--durable-secs`).
    durable_secs: Option<u64>,
    servers: Vec<Kind>,
    rounds: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(port) = args.iter().position(|a| a == "--ceiling-server").and_then(|i| args.get(i + 1)) {
        ceiling::serve(port.parse().expect("port"));
        return;
    }
    // Many sockets on both ends.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let mut scenarios = Vec::new();
    let mut options =
        Options { secs: 20, durable_secs: None, servers: vec![Kind::Ceiling, Kind::Nats, Kind::Ours], rounds: 1 };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => {} // added by `cargo bench`
            "--secs" => options.secs = it.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| usage("--secs N")),
            "--durable-secs" => {
                options.durable_secs =
                    Some(it.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| usage("--durable-secs N")))
            }
            "--rounds" => {
                options.rounds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|n| *n > 0)
                    .unwrap_or_else(|| usage("--rounds N, N > 0"))
            }
            "--servers" => {
                options.servers = it
                    .next()
                    .expect("--servers LIST")
                    .split(',')
                    .map(|s| match s {
                        "ceiling" => Kind::Ceiling,
                        "nats" => Kind::Nats,
                        "ours" | "collective-brain" => Kind::Ours,
                        other => panic!("unknown server {other}: ceiling, nats or ours"),
                    })
                    .collect()
            }
            s @ ("fanout" | "rooms" | "durable" | "idle" | "storm") => scenarios.push(s.to_owned()),
            other => panic!("unknown argument {other}"),
        }
    }
    if scenarios.is_empty() {
        scenarios = ["fanout", "rooms", "durable", "idle", "storm"].map(String::from).to_vec();
    }
    if options.servers.contains(&Kind::Nats) && !target::nats_available() {
        eprintln!("nats-server not found (apt-get install -y nats-server): NATS rows skipped");
        options.servers.retain(|k| *k != Kind::Nats);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!(
        "load generator: {} cores; servers: {:?}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        options.servers
    );
    for scenario in scenarios {
        let mut rounds = Vec::new();
        for round in 1..=options.rounds {
            if options.rounds > 1 {
                eprintln!("  {scenario}: round {round} of {}", options.rounds);
            }
            let rows = runtime.block_on(run(&scenario, &options));
            print_table(&scenario, &rows);
            rounds.push(rows);
        }
        if rounds.len() > 1 {
            print_summary(&scenario, &rounds);
        }
    }
}

/// Says what an argument needs and stops the generator.
fn usage(what: &str) -> ! {
    eprintln!("load: expected {what}");
    std::process::exit(2)
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Medians over the rounds for each server, then our ratio to each peer round by round
/// (each ratio from one round, where the servers ran minutes apart), with its median.
fn print_summary(scenario: &str, rounds: &[Vec<Row>]) {
    println!("\n### {scenario}: medians of {} rounds\n", rounds.len());
    println!("| server | rate | p50 ms | p99 ms | p99.9 ms | server CPU s | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|");
    let servers: Vec<Kind> = rounds.first().map(|r| r.iter().map(|row| row.server).collect()).unwrap_or_default();
    let of = |kind: Kind, f: &dyn Fn(&Row) -> f64| -> Vec<f64> {
        rounds.iter().filter_map(|r| r.iter().find(|row| row.server == kind)).map(f).collect()
    };
    for &kind in &servers {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            kind.name(),
            cell(median(&mut of(kind, &|r| r.rate)), 0),
            cell(median(&mut of(kind, &|r| r.latency[0])), 2),
            cell(median(&mut of(kind, &|r| r.latency[1])), 2),
            cell(median(&mut of(kind, &|r| r.latency[2])), 2),
            cell(median(&mut of(kind, &|r| r.cpu)), 1),
            cell(median(&mut of(kind, &|r| r.peak_rss as f64)) / (1024.0 * 1024.0), 0),
        );
    }
    // The scenario's own figures, server by server: the median and every round's value.
    let mut figures = Vec::new();
    for &kind in &servers {
        let names: Vec<&str> = rounds
            .iter()
            .find_map(|r| r.iter().find(|row| row.server == kind))
            .map_or(Vec::new(), |row| row.figures.iter().map(|(name, _)| *name).collect());
        for name in names {
            let mut values = of(kind, &|r| r.figures.iter().find(|(n, _)| *n == name).map_or(f64::NAN, |(_, v)| *v));
            let each: Vec<String> = values.iter().map(|v| figure(*v)).collect();
            let m = median(&mut values);
            figures.push(format!("{}: {name} {} (rounds: {})", kind.name(), figure(m), each.join(", ")));
        }
    }
    if !figures.is_empty() {
        println!("\n{}", figures.join("\n"));
    }
    for &peer in servers.iter().filter(|k| **k != Kind::Ours) {
        let ratios = |f: &dyn Fn(&Row) -> f64| -> Vec<f64> {
            rounds
                .iter()
                .filter_map(|r| {
                    let ours = r.iter().find(|row| row.server == Kind::Ours)?;
                    let them = r.iter().find(|row| row.server == peer)?;
                    Some(f(ours) / f(them))
                })
                .collect()
        };
        let line = |name: &str, mut values: Vec<f64>| {
            if values.iter().all(|v| !v.is_finite()) {
                return format!("{name} -");
            }
            let each: Vec<String> = values.iter().map(|v| cell(*v, 2)).collect();
            let m = median(&mut values);
            format!("{name} {}x (rounds: {})", cell(m, 2), each.join(", "))
        };
        if ratios(&|r| r.rate).is_empty() {
            continue;
        }
        println!(
            "\nours / {}, medians of the rounds' ratios: {}; {}; {}",
            peer.name(),
            line("rate", ratios(&|r| r.rate)),
            line("p99", ratios(&|r| r.latency[1])),
            line("CPU", ratios(&|r| r.cpu)),
        );
        let names: Vec<&str> = rounds
            .iter()
            .find_map(|r| r.iter().find(|row| row.server == Kind::Ours))
            .map_or(Vec::new(), |row| row.figures.iter().map(|(name, _)| *name).collect());
        for name in names {
            let figure = |r: &Row| r.figures.iter().find(|(n, _)| *n == name).map_or(f64::NAN, |(_, v)| *v);
            let values = ratios(&figure);
            if values.iter().any(|v| v.is_finite()) {
                println!("ours / {}, {name}: {}", peer.name(), line("", values).trim_start());
            }
        }
    }
}

async fn run(scenario: &str, options: &Options) -> Vec<Row> {
    let mut rows = Vec::new();
    for &kind in &options.servers {
        let row = match scenario {
            "fanout" => Some(broadcast(kind, 1, 1000, 500.0, options.secs).await),
            "rooms" => Some(broadcast(kind, 500, 5000, 1000.0, options.secs).await),
            "durable" => Some(durable(kind, 64, options.durable_secs.unwrap_or(options.secs.min(10))).await),
            "idle" => Some(idle(kind, 10_000).await),
            "storm" if kind == Kind::Ours => Some(storm(kind, 2000, 20, 200.0).await),
            "storm" => None, // no replay from a point: nothing to catch up with
            _ => None,
        };
        if let Some(row) = row {
            eprintln!(
                "  {scenario} {}: {:.0}/s p99 {} ms {}",
                kind.name(),
                row.rate,
                cell(row.latency[1], 1),
                row.note
            );
            rows.push(row);
        }
    }
    rows
}

fn print_table(scenario: &str, rows: &[Row]) {
    let what = match scenario {
        "durable" => "acked posts/s",
        "idle" => "connections",
        _ => "deliveries/s",
    };
    println!("\n### {scenario}\n");
    println!("| server | {what} | p50 ms | p99 ms | p99.9 ms | server CPU s | peak RSS MiB | notes |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.server.name(),
            cell(r.rate, 0),
            cell(r.latency[0], 2),
            cell(r.latency[1], 2),
            cell(r.latency[2], 2),
            cell(r.cpu, 1),
            cell(r.peak_rss as f64 / (1024.0 * 1024.0), 0),
            r.note
        );
    }
    let ours = rows.iter().find(|r| r.server == Kind::Ours);
    for peer in rows.iter().filter(|r| r.server != Kind::Ours) {
        if let Some(o) = ours {
            let mut line = format!(
                "\nours / {}: rate {}, p99 {}, CPU {}, peak RSS {}",
                peer.server.name(),
                ratio(o.rate, peer.rate),
                ratio(o.latency[1], peer.latency[1]),
                ratio(o.cpu, peer.cpu),
                ratio(o.peak_rss as f64, peer.peak_rss as f64)
            );
            for (name, value) in &o.figures {
                if let Some((_, theirs)) = peer.figures.iter().find(|(n, _)| n == name) {
                    line.push_str(&format!(", {name} {}", ratio(*value, *theirs)));
                }
            }
            println!("{line}");
        }
    }
}

/// Fan-out and many rooms: `subscribers` spread over `rooms`, publishers posting
/// `rate` payloads of 100 bytes a second in all, round-robin over the rooms, for `secs`.
async fn broadcast(kind: Kind, rooms: usize, subscribers: usize, rate: f64, secs: u64) -> Row {
    let target = Arc::new(Target::start(kind, rooms, 16).await);
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicU64::new(0));
    let lagged = Arc::new(AtomicU64::new(0));
    let mut receivers = Vec::new();
    // Connect in waves so the accept queue keeps up.
    for wave in (0..subscribers).collect::<Vec<_>>().chunks(250) {
        let mut opened = Vec::new();
        for &i in wave {
            let (target, stop, ready, lagged) = (target.clone(), stop.clone(), ready.clone(), lagged.clone());
            opened.push(tokio::spawn(async move {
                let room = i % rooms;
                let mut ws = open(&target, i, &path(kind, "r", room)).await;
                let token = target.tokens.get(i % target.tokens.len().max(1)).cloned();
                greet(kind, &mut ws, token.as_deref()).await;
                if let Some(f) = subscribe_frame(&target, room, 0, 1) {
                    ws.send(f).await.expect("subscribe");
                }
                if kind == Kind::Nats {
                    // A round trip, so the subscription is in place before posting starts.
                    ws.send(text("PING\r\n".into())).await.expect("ping");
                }
                (ws, target, stop, ready, lagged)
            }));
        }
        for o in opened {
            let (ws, target, stop, ready, lagged) = o.await.expect("subscriber");
            receivers.push(tokio::spawn(receive(ws, target.kind, stop, ready, lagged)));
        }
    }
    // Wait for every subscription to be confirmed (ours: `subscribed`; NATS: the PONG).
    let deadline = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::Relaxed) < subscribers as u64 && kind != Kind::Ceiling {
        assert!(Instant::now() < deadline, "subscriptions not confirmed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_before = cpu_seconds(target.pid());
    let threads_before = ThreadCpu::read(target.pid());
    let publishers = 8.min(rooms.max(1)).max(4);
    let per_publisher = rate / publishers as f64;
    let started = Instant::now();
    let mut posting = Vec::new();
    for p in 0..publishers {
        let target = target.clone();
        posting.push(tokio::spawn(async move {
            publish_steadily(&target, p, publishers, rooms, per_publisher, Duration::from_secs(secs)).await
        }));
    }
    let mut sent = 0;
    let mut acks = Latencies::default();
    for p in posting {
        let (n, a) = p.await.expect("publisher");
        sent += n;
        acks.merge(a);
    }
    let publishing = started.elapsed().as_secs_f64();
    // Give the last deliveries a moment, then stop the receivers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let cpu = cpu_seconds(target.pid()) - cpu_before;
    let threads = ThreadCpu::read(target.pid()).since(&threads_before);
    let peak_rss = memory(target.pid(), "VmHWM");
    if kind == Kind::Ours {
        println!("  server CPU s by thread: {threads}");
    }
    if let Some(w) = target.writer_summary().await {
        println!("  {w}");
    }
    let mut latencies = Latencies::default();
    let (mut to_commit, mut after_commit) = (Latencies::default(), Latencies::default());
    let mut delivered = 0u64;
    for r in receivers {
        let (l, (a, b)) = r.await.expect("receiver");
        delivered += l.0.len() as u64;
        latencies.merge(l);
        to_commit.merge(a);
        after_commit.merge(b);
    }
    let split = if to_commit.0.is_empty() {
        String::new()
    } else {
        let ([a50, a99, _], [b50, b99, _]) = (to_commit.percentiles(), after_commit.percentiles());
        format!("; send to commit stamp p50 {a50:.2} p99 {a99:.2} ms, stamp to delivery p50 {b50:.2} p99 {b99:.2} ms")
    };
    let expected = sent * (subscribers / rooms.max(1)) as u64;
    let lag = lagged.load(Ordering::Relaxed);
    let ack = if acks.0.is_empty() {
        String::new()
    } else {
        let [p50, p99, _] = acks.percentiles();
        format!("; ack p50 {p50:.2} ms, p99 {p99:.2} ms")
    };
    Row {
        server: kind,
        rate: delivered as f64 / publishing,
        latency: latencies.percentiles(),
        cpu,
        peak_rss,
        note: format!(
            "{sent} posts sent, {delivered} of {expected} deliveries ({:.1}%){}{ack}",
            100.0 * delivered as f64 / expected.max(1) as f64,
            if lag > 0 { format!(", {lag} lagged") } else { String::new() }
        ) + &split,
        figures: Vec::new(),
    }
}

/// Reads deliveries until told to stop, recording each payload's latency.
async fn receive(
    mut ws: Ws,
    kind: Kind,
    stop: Arc<AtomicBool>,
    ready: Arc<AtomicU64>,
    lagged: Arc<AtomicU64>,
) -> (Latencies, (Latencies, Latencies)) {
    let mut latencies = Latencies::default();
    let mut split = (Latencies::default(), Latencies::default());
    let mut parser = NatsParser::default();
    let mut pongs = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let msg = match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
            Ok(Some(Ok(m))) => m,
            Ok(_) => break,
            Err(_) => continue,
        };
        match kind {
            Kind::Ceiling => {
                if let Some(t) = stamp(msg.into_data().as_ref()) {
                    latencies.push(t);
                }
            }
            Kind::Ours => {
                let Message::Text(t) = msg else { continue };
                if t.starts_with(r#"{"type":"event""#) {
                    if let Some(s) = stamp(t.as_bytes()) {
                        latencies.push(s);
                        // One delivery in 16: the split at the writer's stamp.
                        if latencies.0.len() % 16 == 0 {
                            if let Some(at) = stats::created_at_micros(&t) {
                                let now = stats::now_micros();
                                split.0 .0.push(u32::try_from(at.saturating_sub(s)).unwrap_or(u32::MAX));
                                split.1 .0.push(u32::try_from(now.saturating_sub(at)).unwrap_or(u32::MAX));
                            }
                        }
                    }
                } else if t.starts_with(r#"{"type":"subscribed""#) {
                    ready.fetch_add(1, Ordering::Relaxed);
                } else if t.starts_with(r#"{"type":"lagged""#) {
                    lagged.fetch_add(1, Ordering::Relaxed);
                }
            }
            Kind::Nats => {
                parser.feed(msg.into_data().as_ref(), |op| match op {
                    NatsOp::Msg { payload, .. } => {
                        if let Some(s) = stamp(payload) {
                            latencies.push(s);
                        }
                    }
                    NatsOp::Pong => {
                        ready.fetch_add(1, Ordering::Relaxed);
                    }
                    NatsOp::Ping => pongs.push(()),
                    NatsOp::Other => {}
                });
                for _ in pongs.drain(..) {
                    let _ = ws.send(text("PONG\r\n".into())).await;
                }
            }
        }
    }
    (latencies, split)
}

/// Posts at a steady `rate` per second for `duration`, to rooms p, p + n, p + 2n, ...;
/// returns the number sent. Acks (ours) are read and dropped by a task of their own.
async fn publish_steadily(
    target: &Target,
    p: usize,
    n: usize,
    rooms: usize,
    rate: f64,
    duration: Duration,
) -> (u64, Latencies) {
    let mut ws = open(target, 1000 + p, &path(target.kind, "p", p % rooms)).await;
    let token = target.tokens.get(p % target.tokens.len().max(1)).cloned();
    greet(target.kind, &mut ws, token.as_deref()).await;
    let (mut sink, mut source) = ws.split();
    // Our acks carry the post, stamp included: how long the durable commit took.
    let drain = tokio::spawn(async move {
        let mut acks = Latencies::default();
        while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(2), source.next()).await {
            if let Message::Text(t) = m {
                if t.starts_with(r#"{"type":"ack""#) {
                    if let Some(s) = stamp(t.as_bytes()) {
                        acks.push(s);
                    }
                }
            }
        }
        acks
    });
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut sent = 0u64;
    let mine: Vec<usize> = if rooms > p { (p..rooms).step_by(n).collect() } else { vec![p % rooms.max(1)] };
    while start.elapsed() < duration {
        tick.tick().await;
        let room = mine[sent as usize % mine.len()];
        let body = payload(100, sent);
        let frame = publish_frame(target, room, &body, &format!("p{p}-{sent}"));
        if sink.send(frame).await.is_err() {
            break;
        }
        sent += 1;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = sink.close().await;
    let acks = match tokio::time::timeout(Duration::from_secs(5), drain).await {
        Ok(Ok(acks)) => acks,
        _ => Latencies::default(),
    };
    (sent, acks)
}

/// Durable posting: `posters` connections, each posting as soon as its last post is
/// acknowledged. The ceiling's ack is its echo; NATS's is JetStream's `PubAck`.
async fn durable(kind: Kind, posters: usize, secs: u64) -> Row {
    let target = Arc::new(Target::start(kind, 1, posters.min(16)).await);
    if kind == Kind::Nats {
        let mut ws = open(&target, 0, "/").await;
        greet(kind, &mut ws, None).await;
        let config = r#"{"name":"LOAD","subjects":["durable.>"],"storage":"file"}"#;
        let frame = format!(
            "SUB _INBOX.setup 1\r\nPUB $JS.API.STREAM.CREATE.LOAD _INBOX.setup {}\r\n{config}\r\n",
            config.len()
        );
        ws.send(text(frame)).await.expect("create stream");
        let mut parser = NatsParser::default();
        let mut done = false;
        while !done {
            let m = ws.next().await.expect("stream created").expect("stream created");
            parser.feed(m.into_data().as_ref(), |op| done |= matches!(op, NatsOp::Msg { .. }));
        }
    }
    let cpu_before = cpu_seconds(target.pid());
    let threads_before = ThreadCpu::read(target.pid());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..posters {
        let target = target.clone();
        tasks.push(tokio::spawn(async move { post_and_wait(&target, p, Duration::from_secs(secs)).await }));
    }
    let mut latencies = Latencies::default();
    let (mut to_commit, mut after_commit) = (Latencies::default(), Latencies::default());
    for t in tasks {
        let (all, before, after) = t.await.expect("poster");
        latencies.merge(all);
        to_commit.merge(before);
        after_commit.merge(after);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let acked = latencies.0.len();
    if kind == Kind::Ours {
        println!("  server CPU s by thread: {}", ThreadCpu::read(target.pid()).since(&threads_before));
    }
    if let Some(w) = target.writer_summary().await {
        println!("  {w}");
    }
    let note = match kind {
        Kind::Ceiling => "echo, nothing stored".to_owned(),
        Kind::Nats => "JetStream file store (nats-server 2.9 does not fsync each message)".to_owned(),
        Kind::Ours => {
            let ([b50, b99, _], [a50, a99, _]) = (to_commit.percentiles(), after_commit.percentiles());
            format!(
                "acked after the group commit's flush; send to commit stamp p50 {b50:.2} p99 {b99:.2} ms, stamp to ack p50 {a50:.2} p99 {a99:.2} ms"
            )
        }
    };
    Row {
        server: kind,
        rate: acked as f64 / elapsed,
        latency: latencies.percentiles(),
        cpu: cpu_seconds(target.pid()) - cpu_before,
        peak_rss: memory(target.pid(), "VmHWM"),
        note,
        figures: Vec::new(),
    }
}

/// One poster: post, wait for the ack, again, until `duration` has passed. Returns the
/// ack latencies, and for our server the same split at the post's `created_at` (the
/// writer stamps it as it applies the batch): send to stamp, stamp to ack.
async fn post_and_wait(target: &Target, p: usize, duration: Duration) -> (Latencies, Latencies, Latencies) {
    let kind = target.kind;
    let where_to = if kind == Kind::Ceiling { "/echo".to_owned() } else { path(kind, "p", 0) };
    let mut ws = open(target, p, &where_to).await;
    let token = target.tokens.get(p % target.tokens.len().max(1)).cloned();
    greet(kind, &mut ws, token.as_deref()).await;
    if kind == Kind::Nats {
        ws.send(text(format!("SUB _INBOX.p{p} 1\r\n"))).await.expect("sub inbox");
    }
    let mut parser = NatsParser::default();
    let mut latencies = Latencies::default();
    let (mut to_commit, mut after_commit) = (Latencies::default(), Latencies::default());
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        let body = payload(100, n);
        let frame = match kind {
            Kind::Nats => text(format!("PUB durable.{p} _INBOX.p{p} {}\r\n{body}\r\n", body.len())),
            _ => publish_frame(target, 0, &body, &format!("d{p}-{n}")),
        };
        let sent = stats::now_micros();
        ws.send(frame).await.expect("post");
        let mut acked = false;
        while !acked {
            let Some(Ok(msg)) = ws.next().await else { return (latencies, to_commit, after_commit) };
            acked = match kind {
                Kind::Ceiling => true,
                Kind::Ours => match &msg {
                    Message::Text(t) if t.starts_with(r#"{"type":"ack""#) => {
                        if let Some(at) = stats::created_at_micros(t) {
                            let now = stats::now_micros();
                            to_commit.0.push(u32::try_from(at.saturating_sub(sent)).unwrap_or(u32::MAX));
                            after_commit.0.push(u32::try_from(now.saturating_sub(at)).unwrap_or(u32::MAX));
                        }
                        true
                    }
                    _ => false,
                },
                Kind::Nats => {
                    let mut got = false;
                    parser.feed(msg.into_data().as_ref(), |op| got |= matches!(op, NatsOp::Msg { .. }));
                    got
                }
            };
        }
        latencies.push(sent);
        n += 1;
    }
    (latencies, to_commit, after_commit)
}

/// Idle: `n` connections that greet (ours: `hello` with a token; NATS: `CONNECT`) and then
/// say nothing. Reports the server's resident memory per connection.
async fn idle(kind: Kind, n: usize) -> Row {
    let target = Arc::new(Target::start(kind, 1, 16).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = memory(target.pid(), "VmRSS");
    let cpu_before = cpu_seconds(target.pid());
    let mut held = Vec::with_capacity(n);
    let started = Instant::now();
    for wave in (0..n).collect::<Vec<_>>().chunks(250) {
        let opened = wave.iter().map(|&i| {
            let target = target.clone();
            async move {
                let mut ws = open(&target, i, &path(kind, "idle", 0)).await;
                let token = target.tokens.get(i % target.tokens.len().max(1)).cloned();
                greet(kind, &mut ws, token.as_deref()).await;
                ws
            }
        });
        held.extend(futures_util::future::join_all(opened).await);
    }
    let connecting = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = memory(target.pid(), "VmRSS");
    let per = after.saturating_sub(before) as f64 / n as f64;
    let row = Row {
        server: kind,
        rate: held.len() as f64,
        latency: [f64::NAN; 3],
        cpu: cpu_seconds(target.pid()) - cpu_before,
        peak_rss: memory(target.pid(), "VmHWM"),
        note: format!(
            "RSS {:.1} KB per connection ({:.0} MiB before, {:.0} MiB after); {n} connected in {connecting:.1} s",
            per / 1000.0,
            before as f64 / 1048576.0,
            after as f64 / 1048576.0
        ),
        figures: vec![("KB per connection", per / 1000.0)],
    };
    drop(held);
    row
}

/// Reconnect storm (the project's server): `subscribers` over `rooms`, posting at `rate`;
/// after 5 s every subscriber drops at once and reconnects with `since`. Reports the time
/// until every one has caught up with what was acked when they dropped, and, once posting
/// stops, every subscriber's seqs checked against the room's: lost and duplicated.
async fn storm(kind: Kind, subscribers: usize, rooms: usize, rate: f64) -> Row {
    let target = Arc::new(Target::start(kind, rooms, 16).await);
    let heads: Arc<Vec<AtomicU64>> = Arc::new((0..rooms).map(|_| AtomicU64::new(1)).collect());
    let phase = Arc::new(AtomicU64::new(0)); // 0 before the drop, 1 after, 2 when posting is over
    let drop_at = Arc::new(tokio::sync::Notify::new());
    let cpu_before = cpu_seconds(target.pid());
    let mut subs = Vec::new();
    for i in 0..subscribers {
        let (target, heads, phase, drop_at) = (target.clone(), heads.clone(), phase.clone(), drop_at.clone());
        subs.push(tokio::spawn(async move { storm_subscriber(&target, i, i % rooms, &heads, &phase, &drop_at).await }));
    }
    // Posting, with the acked head of each room recorded.
    let posting_for = Duration::from_secs(10);
    let publishers = 4;
    let mut posting = Vec::new();
    for p in 0..publishers {
        let (target, heads) = (target.clone(), heads.clone());
        posting.push(tokio::spawn(async move {
            let mut ws = open(&target, 3000 + p, "/ws").await;
            greet(Kind::Ours, &mut ws, target.tokens.get(p).map(String::as_str)).await;
            let (mut sink, mut source) = ws.split();
            let acks = tokio::spawn(async move {
                while let Some(Ok(Message::Text(t))) = source.next().await {
                    if t.starts_with(r#"{"type":"ack""#) {
                        let room =
                            t.find("\"nonce\":\"r").and_then(|at| t[at + 10..].split('-').next()?.parse::<u64>().ok());
                        if let (Some(room), Some(seq)) = (room, json_number(&t, "seq")) {
                            heads[room as usize].fetch_max(seq, Ordering::Relaxed);
                        }
                    }
                }
            });
            let mut tick = tokio::time::interval(Duration::from_secs_f64(publishers as f64 / rate));
            let start = Instant::now();
            let mut n = 0usize;
            while start.elapsed() < posting_for {
                tick.tick().await;
                let room = (p + n * publishers) % rooms;
                let frame = publish_frame(&target, room, &payload(100, n as u64), &format!("r{room}-p{p}-{n}"));
                if sink.send(frame).await.is_err() {
                    break;
                }
                n += 1;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            acks.abort();
        }));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let heads_at_drop: Vec<u64> = heads.iter().map(|h| h.load(Ordering::Relaxed)).collect();
    let dropped = Instant::now();
    phase.store(1, Ordering::SeqCst);
    drop_at.notify_waiters();
    for p in posting {
        p.await.expect("publisher");
    }
    phase.store(2, Ordering::SeqCst);
    let mut caught_up = Duration::ZERO;
    let (mut lost, mut duplicated, mut late) = (0u64, 0u64, 0usize);
    for (i, s) in subs.into_iter().enumerate() {
        let (seqs, reached) = s.await.expect("subscriber");
        let room = i % rooms;
        match reached {
            Some(at) if heads_at_drop[room] > 0 => caught_up = caught_up.max(at.saturating_duration_since(dropped)),
            _ => late += 1,
        }
        let head = heads[room].load(Ordering::Relaxed);
        let mut seen = vec![0u32; head as usize + 1];
        for s in seqs {
            if let Some(c) = seen.get_mut(s as usize) {
                *c += 1;
            }
        }
        lost += seen[1..].iter().filter(|c| **c == 0).count() as u64;
        duplicated += seen[1..].iter().map(|c| c.saturating_sub(1) as u64).sum::<u64>();
    }
    Row {
        server: kind,
        rate: subscribers as f64,
        latency: [f64::NAN, caught_up.as_secs_f64() * 1000.0, f64::NAN],
        cpu: cpu_seconds(target.pid()) - cpu_before,
        peak_rss: memory(target.pid(), "VmHWM"),
        note: format!(
            "{subscribers} subscribers all caught up {:.2} s after dropping ({late} never did); {lost} lost, {duplicated} duplicated",
            caught_up.as_secs_f64()
        ),
        figures: vec![
            ("s to catch up", caught_up.as_secs_f64()),
            ("never caught up", late as f64),
            ("lost", lost as f64),
            ("duplicated", duplicated as f64),
        ],
    }
}

/// One subscriber of the storm: every seq it receives, and when it reached the head acked
/// at the moment of the drop.
async fn storm_subscriber(
    target: &Target,
    i: usize,
    room: usize,
    heads: &[AtomicU64],
    phase: &AtomicU64,
    drop_at: &tokio::sync::Notify,
) -> (Vec<u64>, Option<Instant>) {
    let mut seqs = Vec::new();
    let mut last = 0u64;
    let mut reached = None;
    let mut target_head = u64::MAX;
    let token = target.tokens.get(i % target.tokens.len().max(1)).cloned();
    for round in 0..2 {
        let mut ws = open(target, i, "/ws").await;
        greet(Kind::Ours, &mut ws, token.as_deref()).await;
        ws.send(subscribe_frame(target, room, last, 0).expect("frame")).await.expect("subscribe");
        if round == 1 {
            target_head = heads[room].load(Ordering::Relaxed);
        }
        let dropped = drop_at.notified();
        tokio::pin!(dropped);
        loop {
            let msg = tokio::select! {
                _ = &mut dropped, if round == 0 => break, // drop the socket, no close
                m = tokio::time::timeout(Duration::from_secs(3), ws.next()) => m,
            };
            let Ok(Some(Ok(Message::Text(t)))) = msg else {
                if phase.load(Ordering::SeqCst) == 2 {
                    return (seqs, reached);
                }
                continue;
            };
            if t.starts_with(r#"{"type":"event""#) {
                if let Some(s) = json_number(&t, "seq") {
                    seqs.push(s);
                    last = last.max(s);
                    if reached.is_none() && round == 1 && last >= target_head {
                        reached = Some(Instant::now());
                    }
                }
            } else if t.starts_with(r#"{"type":"lagged""#) {
                ws.send(subscribe_frame(target, room, last, 0).expect("frame")).await.expect("resubscribe");
            }
            if phase.load(Ordering::SeqCst) == 2 && last >= heads[room].load(Ordering::Relaxed) {
                return (seqs, reached);
            }
        }
    }
    (seqs, reached)
}
