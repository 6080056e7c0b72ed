//! Translation memory at scale: `cargo bench --bench memory` (CB_BENCH_PAIRS to change the
//! number of sentence pairs, default 100,000).
//!
//! Fills a memory (`collective_brain::memory`, as the server's index of its `memory`
//! tree) with English→French pairs made from the NTREX parallel corpus: the first half of
//! one sentence's words joined to the second half of another's, so that every source is
//! distinct; then times the lookups of the desk's `GET /translations/suggestions` for
//! posts of three sentences (one a stored source with a word changed, one stored as it
//! is, one new): p50 and p99 per post, and how long the memory takes to build.

use std::time::{Duration, Instant};

use collective_brain::memory::{sentences, Memory, Pair};
use collective_brain_index::eval::{read_corpus, Row};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn half(text: &str, first: bool) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mid = words.len() / 2;
    let part = if first { &words[..mid] } else { &words[mid..] };
    part.join(" ")
}

/// The `k`th made-up pair: (source, target) in en and fr.
fn made(rows: &[Row], k: usize) -> (String, String) {
    let n = rows.len();
    let (a, b) = (&rows[k % n], &rows[(k / n * 7 + k * 13 + 3) % n]);
    let source = format!("{} {}", half(&a.text[0], true), half(&b.text[0], false));
    let target = format!("{} {}", half(&a.text[1], true), half(&b.text[1], false));
    (source, target)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let path = std::env::var("CB_BENCH_CORPUS").unwrap_or_else(|_| "../shared/eval/parallel/ntrex.tsv".into());
    let rows = read_corpus(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")));
    let total: usize = std::env::var("CB_BENCH_PAIRS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let started = Instant::now();
    let mut memory = Memory::default();
    for k in 0..total {
        let (source, target) = made(&rows, k);
        // Ten pairs a post, in twenty spaces.
        let pair = Pair { source, target, post: (k / 10) as u64, space: (k % 20) as u64 };
        memory.add_translation(u64::MAX - k as u64, vec![pair]);
    }
    let built = started.elapsed();
    println!("memory of {} pairs built in {:.2} s", memory.len(), built.as_secs_f64());
    let mut times = Vec::new();
    let mut offered = 0;
    for q in 0..2_000 {
        let (known, _) = made(&rows, (q * 7919) % total);
        let (exact, _) = made(&rows, (q * 104_729 + 11) % total);
        let edited = known.replacen(' ', " new ", 1);
        let fresh = &rows[(q * 31) % rows.len()].text[0];
        let post = format!("{edited}. {exact}. {fresh}");
        let t = Instant::now();
        for s in sentences(&post) {
            // Public spaces and the post's own: here, all but three.
            offered += memory.lookup(&s, 3, 0.5, &mut |space| ![3, 7, 11].contains(&space)).len();
        }
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "suggestions for a post of 3 sentences: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} posts, {offered} suggestions)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        times.len(),
    );
}
