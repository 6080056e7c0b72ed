//! `langid-eval FILE...`: accuracy of the server's language tagging on `lang<TAB>text`
//! files, per language and per file, for the detector alone and with an author prior.
//! `--languages en,fr,es,pt` sets the community (the default); `--errors` lists on stderr
//! the rows tagged wrong with the author prior.

use std::path::PathBuf;
use std::time::Instant;

use collective_brain::lang::Tagger;
use collective_brain::lang_eval::{evaluate, pct, read_tsv};

fn main() {
    let mut languages: Vec<String> = ["en", "fr", "es", "pt"].map(String::from).to_vec();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut show_errors = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--languages" {
            let Some(v) = args.next() else {
                eprintln!("--languages needs a comma-separated list");
                std::process::exit(2);
            };
            languages = v.split(',').map(|s| s.trim().to_owned()).collect();
        } else if a == "--errors" {
            show_errors = true;
        } else {
            files.push(PathBuf::from(a));
        }
    }
    if files.is_empty() {
        eprintln!("usage: langid-eval [--languages en,fr,es,pt] [--errors] FILE...   (files of lang<TAB>text lines)");
        std::process::exit(2);
    }
    let tagger = Tagger::new(&languages);
    tagger.warm_up();
    println!("community: {}", languages.join(", "));
    println!();
    println!("| file | lang | rows | detector alone % | with author prior % |");
    println!("|---|---|---|---|---|");
    for file in &files {
        let rows = match read_tsv(file) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                std::process::exit(1);
            }
        };
        let started = Instant::now();
        let score = evaluate(&tagger, &languages, &rows);
        let elapsed = started.elapsed();
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut tagged = 0;
        for (lang, (alone, prior, total)) in &score.per_lang {
            tagged += 2 * total;
            println!("| {name} | {lang} | {total} | {:.1} | {:.1} |", pct(*alone, *total), pct(*prior, *total));
        }
        let (alone, prior) = score.means();
        println!(
            "| **{name}** | **mean** | | **{alone:.1}** | **{prior:.1}** | ({:.1} µs per text)",
            elapsed.as_secs_f64() * 1e6 / tagged.max(1) as f64
        );
        if show_errors {
            for (truth, got, author, text) in &score.errors {
                eprintln!("{name}\t{truth}->{got}\t{}\t{text}", author.join("+"));
            }
        }
    }
}
