//! Files: what uploads, text extraction and thumbnails cost.
//!
//! ```text
//! cargo bench --bench files -- [--uploads N] [--mb MB]
//! ```
//! 1. Upload throughput: the release server, as its own process on a temporary data dir,
//!    receives `--uploads` (default 20) files of `--mb` MiB (default 25) one after
//!    another over HTTP on loopback; MB/s from the first byte sent to the 201, and the
//!    server's CPU seconds per MB (from /proc: user + system, the whole process).
//! 2. Memory: ten 25 MiB uploads at once; the server's peak RSS (sampled every 5 ms)
//!    above its RSS when idle.
//! 3. Text extraction, in process: PDFs and DOCX files made from the NTREX parallel
//!    corpus (`../shared/eval/parallel/`), one per language (en, fr, es, pt), each of the
//!    corpus's 1,997 sentences; MB of text read per second, and per document.
//! 4. A 12-megapixel JPEG (4000 x 3000, quality 90) stripped of its metadata and
//!    thumbnailed, in process: the median of 15 runs.
//!
//! `CB_BENCH_SERVER=PATH` runs another build of the server. Results go in
//! docs/BENCHMARKS.md.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use collective_brain::files::{extract, images, sniff};
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "files bench password";
const MIB: usize = 1024 * 1024;

struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let binary = std::env::var("CB_BENCH_SERVER").unwrap_or_else(|_| env!("CARGO_BIN_EXE_collective-brain").into());
    let child = Command::new(binary)
        .env("CB_DATA_DIR", dir.path())
        .env("CB_LISTEN", addr.to_string())
        .env("CB_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CB_RATE_LIMITS", "off")
        .env("CB_FILE_QUOTA_MB", "100000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary runs");
    Server { child, addr, _dir: dir }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The process's CPU time (user + system), in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

async fn upload(http: &reqwest::Client, addr: SocketAddr, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    http.post(format!("http://{addr}/api/v1/files?name={name}"))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("upload")
        .json()
        .await
        .expect("json")
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn photo_12mp() -> Vec<u8> {
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 24;
        image::Rgb([(x / 16) as u8 ^ n as u8, (y / 12) as u8, ((x + y) / 28) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).expect("jpeg");
    out
}

#[tokio::main]
async fn main() {
    let uploads = arg("--uploads", 20);
    let mb = arg("--mb", 25);

    // 3 and 4 first: in process, before the server runs beside them.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/eval/parallel/ntrex.tsv");
    let text = std::fs::read_to_string(path).expect("../shared/eval/parallel/ntrex.tsv");
    let rows = collective_brain_index::eval::read_corpus(&text);
    println!("text extraction ({} sentences a document):", rows.len());
    for (i, lang) in collective_brain_index::eval::LANGS.iter().enumerate() {
        let lines: Vec<String> = rows.iter().map(|r| r.text[i].clone()).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        for (kind, bytes, content_type) in
            [("PDF", extract::samples::pdf(&refs), sniff::PDF), ("DOCX", extract::samples::docx(&refs), sniff::DOCX)]
        {
            assert_eq!(sniff::sniff(&bytes[..bytes.len().min(8192)]), sniff::Kind::Document(content_type));
            let started = Instant::now();
            let mut n = 0;
            let mut got = 0;
            while started.elapsed() < Duration::from_secs(2) || n < 3 {
                got = extract::extract(&bytes, content_type).expect("text").len();
                n += 1;
            }
            let each = started.elapsed() / n;
            println!(
                "  {lang} {kind}: {} KB file, {} KB of text, {:.1?} each, {:.1} MB of text/s",
                bytes.len() / 1024,
                got / 1024,
                each,
                got as f64 / each.as_secs_f64() / 1e6
            );
        }
    }

    let photo = photo_12mp();
    let mut times: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            let p = images::process(&photo, "image/jpeg", 50_000_000);
            assert!(p.thumb.is_some());
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "12-megapixel JPEG ({} KB) stripped and thumbnailed: median {:.1?}, fastest {:.1?}",
        photo.len() / 1024,
        times[7],
        times[0]
    );

    // 1 and 2: the server.
    let server = start();
    let pid = server.child.id();
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if http.get(format!("http://{}/healthz", server.addr)).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let login: Value = http
        .post(format!("http://{}/api/v1/auth/login", server.addr))
        .json(&json!({"handle": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    // Different bytes each time: nothing is stored once.
    let body = |seed: usize| -> Vec<u8> {
        let mut v: Vec<u8> = (0..mb * MIB).map(|i| (i.wrapping_mul(31) ^ (i >> 11)) as u8).collect();
        v[..8].copy_from_slice(&(seed as u64).to_le_bytes());
        v
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = status_kib(pid, "VmRSS:");
    let cpu0 = cpu_secs(pid);
    let mut wall = Duration::ZERO;
    for n in 0..uploads {
        let b = body(n);
        let t = Instant::now();
        upload(&http, server.addr, &token, &format!("u{n}.bin"), b).await;
        wall += t.elapsed();
    }
    let cpu = cpu_secs(pid) - cpu0;
    let total_mb = (uploads * mb * MIB) as f64 / 1e6;
    println!(
        "uploads: {uploads} of {mb} MiB one after another: {:.0} MB/s; server CPU {:.2} ms per MB",
        total_mb / wall.as_secs_f64(),
        cpu * 1000.0 / total_mb
    );

    // Ten at once, the server's RSS sampled meanwhile.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_after = status_kib(pid, "VmRSS:");
    let bodies: Vec<Vec<u8>> = (0..10).map(|n| body(1000 + n)).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s2, peak) = (stop.clone(), std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)));
    let p2 = peak.clone();
    let sampler = std::thread::spawn(move || {
        while !s2.load(std::sync::atomic::Ordering::Relaxed) {
            p2.fetch_max(status_kib(pid, "VmRSS:"), std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let t = Instant::now();
    let all = bodies.into_iter().enumerate().map(|(n, b)| {
        let (http, token) = (http.clone(), token.clone());
        let addr = server.addr;
        tokio::spawn(async move { upload(&http, addr, &token, &format!("c{n}.bin"), b).await })
    });
    for h in all.collect::<Vec<_>>() {
        h.await.expect("upload task");
    }
    let took = t.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "ten {mb} MiB uploads at once: {:.1?}; server RSS idle {} MiB (after the serial ones {} MiB), peak {} MiB: {:.1} MiB above idle",
        took,
        idle / 1024,
        idle_after / 1024,
        peak / 1024,
        (peak.saturating_sub(idle_after)) as f64 / 1024.0
    );
}
