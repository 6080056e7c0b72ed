//! Cross-language search evaluation: `cargo run --release --bin search-eval -- FILE`
//! over a parallel corpus (`id en fr es pt ...`), printing recall@10 for a baseline and
//! for the project's index without and with translations (see docs/SEARCH.md).

use std::process::ExitCode;

use collective_brain_index::eval;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: search-eval PARALLEL.tsv   (e.g. ../shared/eval/parallel/ntrex.tsv)");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rows = eval::read_corpus(&text);
    if rows.is_empty() {
        eprintln!("{path}: no rows of `id en fr es pt`");
        return ExitCode::FAILURE;
    }
    match eval::evaluate(&rows) {
        Ok(report) => {
            println!("{path}\n\n{}", report.to_markdown());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
