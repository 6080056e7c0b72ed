//! Translation memory evaluation: `cargo run --release --bin tm-eval -- FILE` over a
//! parallel corpus (`id en fr es pt ...`). For each language pair and each share N% of
//! sentences whose translation is known (in the memory), it looks up the other
//! sentences and prints how many get a suggestion scoring above 0.7, and how close the
//! suggestions are to the reference translation (chrF, 0 to 100), as a Markdown table
//! (see docs/BENCHMARKS.md). Then the case the memory is for most: a known sentence
//! edited (one word left out, as an edited post's stale translation is redone).

use std::process::ExitCode;

use collective_brain::memory::{chrf, Memory, Pair};
use collective_brain_index::eval::{read_corpus, Row, LANGS};

const SHARES: [u64; 4] = [10, 25, 50, 90];
const PAIRS: [(usize, usize); 4] = [(0, 1), (0, 2), (0, 3), (3, 0)];

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: tm-eval PARALLEL.tsv   (e.g. ../shared/eval/parallel/ntrex.tsv)");
        return ExitCode::from(2);
    };
    let rows = match std::fs::read_to_string(&path) {
        Ok(t) => read_corpus(&t),
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if rows.is_empty() {
        eprintln!("{path}: no rows of `id en fr es pt`");
        return ExitCode::FAILURE;
    }
    println!("{path}: {} sentences\n", rows.len());
    println!("| pair | known | looked up | suggestion > 0.7 | chrF of those | chrF of the best suggestion, all |");
    println!("|---|---|---|---|---|---|");
    for (from, to) in PAIRS {
        for share in SHARES {
            let r = evaluate(&rows, from, to, share);
            println!("| {}→{} | {share}% | {} | {:.1} |", LANGS[from], LANGS[to], r.cells(), r.chrf_all);
        }
    }
    println!("\n| pair | edited known sentences looked up | suggestion > 0.7 | chrF of those |");
    println!("|---|---|---|---|");
    for (from, to) in PAIRS {
        let r = edited(&rows, from, to);
        println!("| {}→{} | {} |", LANGS[from], LANGS[to], r.cells());
    }
    ExitCode::SUCCESS
}

/// Every sentence known; each looked up with its middle word left out.
fn edited(rows: &[Row], from: usize, to: usize) -> Result {
    let mut memory = Memory::default();
    for (i, r) in rows.iter().enumerate() {
        let pair = Pair { source: r.text[from].clone(), target: r.text[to].clone(), post: i as u64, space: 1 };
        memory.add_translation(i as u64, vec![pair]);
    }
    let (mut looked_up, mut above, mut sum) = (0, 0, 0.0);
    for r in rows {
        let words: Vec<&str> = r.text[from].split_whitespace().collect();
        if words.len() < 4 {
            continue;
        }
        let mid = words.len() / 2;
        let query: Vec<&str> = words.iter().enumerate().filter(|(i, _)| *i != mid).map(|(_, w)| *w).collect();
        looked_up += 1;
        if let Some(s) = memory.lookup(&query.join(" "), 1, 0.7, &mut |_| true).first() {
            above += 1;
            sum += chrf(&s.target, &r.text[to]);
        }
    }
    Result { looked_up, above, chrf_above: (above > 0).then(|| 100.0 * sum / above as f64), chrf_all: 0.0 }
}

struct Result {
    looked_up: usize,
    above: usize,
    chrf_above: Option<f64>,
    chrf_all: f64,
}

impl Result {
    /// Looked up | above 0.7 (share) | chrF of those.
    fn cells(&self) -> String {
        let chrf = self.chrf_above.map_or_else(|| "–".to_owned(), |c| format!("{c:.1}"));
        let share = 100.0 * self.above as f64 / self.looked_up.max(1) as f64;
        format!("{} | {} ({share:.1}%) | {chrf}", self.looked_up, self.above)
    }
}

/// Whether sentence `i` is among the known `share`%: a fixed spread over the corpus.
fn known(i: usize, share: u64) -> bool {
    (i as u64).wrapping_mul(2_654_435_761) % 100 < share
}

fn evaluate(rows: &[Row], from: usize, to: usize, share: u64) -> Result {
    let mut memory = Memory::default();
    for (i, r) in rows.iter().enumerate().filter(|(i, _)| known(*i, share)) {
        let pair = Pair { source: r.text[from].clone(), target: r.text[to].clone(), post: i as u64, space: 1 };
        memory.add_translation(i as u64, vec![pair]);
    }
    let (mut looked_up, mut above, mut sum_above, mut sum_all) = (0, 0, 0.0, 0.0);
    for (_, r) in rows.iter().enumerate().filter(|(i, _)| !known(*i, share)) {
        looked_up += 1;
        let best = memory.lookup(&r.text[from], 1, 0.0, &mut |_| true);
        let Some(s) = best.first() else { continue };
        let c = chrf(&s.target, &r.text[to]);
        sum_all += c;
        if s.score > 0.7 {
            above += 1;
            sum_above += c;
        }
    }
    Result {
        looked_up,
        above,
        chrf_above: (above > 0).then(|| 100.0 * sum_above / above as f64),
        chrf_all: 100.0 * sum_all / looked_up.max(1) as f64,
    }
}
