//! `langid-eval FILE...`: accuracy of the server's language tagging on `lang<TAB>text`
//! files, per language and per file, for the detector alone and with an author prior.
//! `--languages en,fr,es,pt` sets the community (the default); `--also ar,ko,it,de` the
//! languages tagged besides (the default, as the server's); `--errors` lists on stderr
//! the rows tagged wrong with the author prior, then those the detector alone got wrong
//! (marked `alone`); `--pairs-from PARALLEL` adds word pairs
//! taken from a parallel corpus in NTREX's layout (`../shared/eval/parallel/ntrex.tsv`),
//! a check on text the tagger's rules were not written against.

use std::path::{Path, PathBuf};
use std::time::Instant;

use collective_brain::lang::Tagger;
use collective_brain::lang_eval::{evaluate, pairs_from_parallel, pct, read_tsv};
use collective_brain::lexicon::DEFAULT_DIR;
use collective_brain::model::Lang;

fn main() {
    let mut languages = Lang::many(&["en", "fr", "es", "pt"]);
    // As the server's default `tag_languages`.
    let mut also = Lang::many(&collective_brain::lang::DEFAULT_ALSO);
    let mut files: Vec<PathBuf> = Vec::new();
    let mut parallel: Vec<PathBuf> = Vec::new();
    let mut show_errors = false;
    let mut dictionaries = DEFAULT_DIR.to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--languages" {
            let Some(v) = args.next() else {
                eprintln!("--languages needs a comma-separated list");
                std::process::exit(2);
            };
            languages = match v.split(',').map(|s| s.trim().parse()).collect::<Result<Vec<Lang>, String>>() {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("--languages: {e}");
                    std::process::exit(2);
                }
            };
        } else if a == "--pairs-from" {
            let Some(v) = args.next() else {
                eprintln!("--pairs-from needs a parallel corpus file");
                std::process::exit(2);
            };
            parallel.push(PathBuf::from(v));
        } else if a == "--dictionaries" {
            let Some(v) = args.next() else {
                eprintln!("--dictionaries needs a directory of Hunspell dictionaries");
                std::process::exit(2);
            };
            dictionaries = v;
        } else if a == "--also" {
            let Some(v) = args.next() else {
                eprintln!("--also needs a comma-separated list");
                std::process::exit(2);
            };
            also = match v.split(',').map(|s| s.trim().parse()).collect::<Result<Vec<Lang>, String>>() {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("--also: {e}");
                    std::process::exit(2);
                }
            };
        } else if a == "--errors" {
            show_errors = true;
        } else {
            files.push(PathBuf::from(a));
        }
    }
    if files.is_empty() && parallel.is_empty() {
        eprintln!(
            "usage: langid-eval [--languages en,fr,es,pt] [--also ar,ko,it,de] [--errors] [--pairs-from PARALLEL] FILE...   (files of lang<TAB>text lines)"
        );
        std::process::exit(2);
    }
    let all: Vec<Lang> = languages.iter().chain(&also).copied().collect();
    let (tagger, read) = Tagger::load(&languages, &also, Path::new(&dictionaries));
    tagger.warm_up();
    println!("community: {}", languages.iter().map(Lang::as_str).collect::<Vec<_>>().join(", "));
    println!("also tagged: {}", also.iter().map(Lang::as_str).collect::<Vec<_>>().join(", "));
    let with: Vec<&str> = read.iter().map(|(l, _)| l.as_str()).collect();
    println!("dictionaries ({dictionaries}): {}", if with.is_empty() { "none".to_owned() } else { with.join(", ") });
    println!();
    println!("| file | lang | rows | detector alone % | with author prior % |");
    println!("|---|---|---|---|---|");
    let sources = files.iter().map(|f| (f, false)).chain(parallel.iter().map(|f| (f, true)));
    for (file, pairs) in sources {
        let read = if pairs { pairs_from_parallel(file, &all) } else { read_tsv(file) };
        let rows = match read {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                std::process::exit(1);
            }
        };
        let started = Instant::now();
        let score = evaluate(&tagger, &languages, &rows);
        let elapsed = started.elapsed();
        let mut name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if pairs {
            name.push_str(" word pairs");
        }
        let mut tagged = 0;
        for (lang, (alone, prior, total)) in &score.per_lang {
            tagged += 2 * total;
            println!("| {name} | {lang} | {total} | {:.1} | {:.1} |", pct(*alone, *total), pct(*prior, *total));
        }
        let (alone, prior) = score.means_of(&languages);
        println!(
            "| **{name}** | **mean (community)** | | **{alone:.1}** | **{prior:.1}** | ({:.1} µs per text)",
            elapsed.as_secs_f64() * 1e6 / tagged.max(1) as f64
        );
        if score.per_lang.keys().any(|l| also.iter().any(|a| a == l.as_str())) {
            let (alone, prior) = score.means_of(&also);
            println!("| **{name}** | **mean (also tagged)** | | **{alone:.1}** | **{prior:.1}** |");
        }
        if show_errors {
            for (truth, got, author, text) in &score.errors {
                eprintln!("{name}\t{truth}->{got}\t{}\t{text}", author.map(|l| l.to_string()).join("+"));
            }
            for (truth, got, text) in &score.errors_alone {
                eprintln!("{name}\t{truth}->{got}\talone\t{text}");
            }
        }
    }
}
