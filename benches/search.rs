//! Search at scale: `cargo bench --bench search` (CB_BENCH_POSTS to change the corpus size,
//! default 1,000,000).
//!
//! Builds an index of posts made from the NTREX parallel corpus (en/fr/es/pt sentences,
//! one or two per post, in 20 spaces of which 3 are private and the searcher is a member
//! of one), then measures:
//! 1. bulk indexing: posts per second, two indexing threads, including the final commit
//!    and merges; then `CB_BENCH_DOCS` documents (default 10,000: attached files' text,
//!    20 to 40 sentences each, in their own group of results as the server indexes them);
//! 2. query latency of 1-3 word queries drawn from the corpus (privacy filter and
//!    glossary expansion on, as in the server): p50, p99, and a criterion sample;
//! 3. freshness under a steady 1,000 posts/s: a producer puts posts as the server's
//!    indexer does and commits every 200 ms (the server's default); a post's freshness
//!    is the time from its put to the end of the commit that makes it searchable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use collective_brain_index::eval::{read_corpus, Row, LANGS};
use collective_brain_index::{Options, PostDoc, SearchIndex, SearchQuery};
use criterion::Criterion;

/// The server's allocator (src/main.rs), so the index is measured as it runs there.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const SPACES: u64 = 20;
/// Private spaces; the searcher is a member of the first.
const PRIVATE: [u64; 3] = [3, 7, 11];

fn doc(rows: &[Row], i: usize) -> PostDoc {
    let n = rows.len();
    let lang = (i / n) % 4;
    let mut body = rows[i % n].text[lang].clone();
    if i % 3 == 0 {
        body.push(' ');
        body.push_str(&rows[(i * 7 + 3) % n].text[lang]);
    }
    PostDoc {
        owner: 0,
        post: i as u64 + 1,
        room: (i / 5) as u64 + 1,
        space: i as u64 % SPACES + 1,
        public: !PRIVATE.contains(&(i as u64 % SPACES + 1)),
        author: i as u64 % 700 + 1,
        created_us: 1_600_000_000_000_000 + i as i64 * 1_000_000,
        lang: LANGS[lang].to_owned(),
        body,
        title: (i % 5 == 0).then(|| rows[(i + 11) % n].text[lang].chars().take(60).collect()),
        translations: Vec::new(),
        title_translations: Vec::new(),
    }
}

/// A document attached to post `i`: 20 to 40 consecutive sentences in one language.
fn file_doc(rows: &[Row], i: usize) -> PostDoc {
    let n = rows.len();
    let lang = i % 4;
    let len = 20 + i % 21;
    let body: Vec<&str> = (0..len).map(|k| rows[(i * 37 + k) % n].text[lang].as_str()).collect();
    let id = collective_brain_index::FILE | (i as u64 + 1);
    PostDoc {
        owner: i as u64 + 1,
        post: id,
        room: id,
        title: Some(format!("document-{i}.pdf")),
        body: body.join("\n"),
        lang: LANGS[lang].to_owned(),
        ..doc(rows, i)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// 1-3 word queries: words of 4+ letters from the corpus, in every language.
fn queries(rows: &[Row], n: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for r in rows.iter().step_by(7) {
        for t in &r.text {
            for w in t.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 4) {
                words.push(w.to_lowercase());
            }
        }
    }
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..n)
        .map(|_| {
            let k = 1 + (next() % 3) as usize;
            (0..k).map(|_| words[(next() % words.len() as u64) as usize].clone()).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn main() {
    let posts: usize = std::env::var("CB_BENCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let files: usize = std::env::var("CB_BENCH_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/eval/parallel/ntrex.tsv");
    let text = std::fs::read_to_string(path).expect("../shared/eval/parallel/ntrex.tsv");
    let rows = read_corpus(&text);
    // CB_BENCH_INDEX=DIR keeps the index there and, when it is already built, skips
    // straight to the queries (for working on query speed).
    let tmp = tempfile::tempdir().expect("tmp");
    let kept = std::env::var_os("CB_BENCH_INDEX").map(std::path::PathBuf::from);
    let reuse = kept.as_ref().is_some_and(|d| d.join("meta.json").exists());
    let dir_path = kept.unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir_path).expect("index dir");

    // 1. Bulk indexing.
    if !reuse {
        let docs: Vec<PostDoc> = (0..posts).map(|i| doc(&rows, i)).collect();
        let started = Instant::now();
        let (added, committed);
        {
            let ix = SearchIndex::open(&dir_path, &Options { threads: 2, memory_bytes: 512 << 20 }).expect("index");
            for d in &docs {
                ix.add(d).expect("add");
            }
            for i in 0..files {
                ix.add(&file_doc(&rows, i)).expect("add");
            }
            added = started.elapsed();
            ix.commit(posts as u64).expect("commit");
            committed = started.elapsed();
            ix.wait_merges().expect("merges");
        }
        let took = started.elapsed();
        println!(
            "bulk indexing: {posts} posts and {files} documents in {:.1} s = {:.0} posts/s (adding {:.1} s, final commit {:.1} s, merges {:.1} s)",
            took.as_secs_f64(),
            posts as f64 / took.as_secs_f64(),
            added.as_secs_f64(),
            (committed - added).as_secs_f64(),
            (took - committed).as_secs_f64(),
        );
        drop(docs);
        // CB_BENCH_BULK_ONLY=1 stops here (for A/B runs of indexing changes).
        if std::env::var_os("CB_BENCH_BULK_ONLY").is_some() {
            return;
        }
    }

    // 2. Query latency.
    let ix = Arc::new(SearchIndex::open(&dir_path, &Options::default()).expect("reopen"));

    let qs = queries(&rows, 5_000);
    let search_kind = |q: &str, files: Option<bool>| {
        ix.search(&SearchQuery {
            text: q.to_owned(),
            public: true,
            private_spaces: vec![PRIVATE[0]],
            limit: 20,
            files,
            ..SearchQuery::default()
        })
        .expect("search")
    };
    let search = |q: &str| search_kind(q, None);
    for q in qs.iter().take(200) {
        search(q); // warm the page cache
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(qs.len());
    let mut hits = 0;
    for q in &qs {
        let t = Instant::now();
        let page = search(q);
        lat.push(t.elapsed());
        hits += usize::from(!page.threads.is_empty());
    }
    lat.sort_unstable();
    println!(
        "query latency over {} queries of 1-3 words ({} with hits): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        qs.len(),
        hits,
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    // Documents only (`kind=file`).
    let mut lat: Vec<Duration> = Vec::with_capacity(qs.len());
    let mut hits = 0;
    for q in &qs {
        let t = Instant::now();
        let page = search_kind(q, Some(true));
        lat.push(t.elapsed());
        hits += usize::from(!page.threads.is_empty());
    }
    lat.sort_unstable();
    println!(
        "documents only (kind=file), same queries ({} with hits): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        hits,
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    if std::env::var_os("CB_BENCH_INDEX").is_some() {
        return; // a kept index stays as built, for the next run's queries
    }
    let mut c = Criterion::default().configure_from_args().sample_size(50);
    c.bench_function("search: 2-word query, 1M posts", |b| b.iter(|| search("cooperativas mulheres")));

    // 3. Freshness under 1,000 posts/s.
    let seconds = 20;
    let pending: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let fresh: Arc<Mutex<Vec<Duration>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let committer = {
        let (ix, pending, fresh, stop) = (ix.clone(), pending.clone(), fresh.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut applied = posts as u64;
            while !stop.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(200));
                let batch: Vec<Instant> = std::mem::take(&mut *pending.lock().expect("lock"));
                applied += batch.len() as u64;
                ix.commit(applied).expect("commit");
                let done = Instant::now();
                fresh.lock().expect("lock").extend(batch.into_iter().map(|t| done - t));
            }
        })
    };
    let started = Instant::now();
    for i in 0..seconds * 1000 {
        let due = started + Duration::from_millis(i as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut p = pending.lock().expect("lock");
        ix.put(&doc(&rows, posts + i)).expect("put");
        p.push(Instant::now());
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Release);
    committer.join().expect("committer");
    let mut f = fresh.lock().expect("lock").clone();
    f.sort_unstable();
    println!(
        "freshness at 1,000 posts/s for {seconds} s ({} posts): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        f.len(),
        percentile(&f, 0.50).as_secs_f64() * 1e3,
        percentile(&f, 0.99).as_secs_f64() * 1e3,
        f.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}
