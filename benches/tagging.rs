//! Language tagging per post, on real text from `../shared/eval/langid/`: sentences
//! (whatlang decides), word pairs (the short-text path), with and without an author
//! prior. Run with `cargo bench --bench tagging`; results go in docs/LANGUAGE.md. The
//! tagger is the server's default (the community's languages and `DEFAULT_ALSO`);
//! `CB_BENCH_ALSO=ar,ko` (or empty) sets what is tagged besides, for A/B runs.

use std::path::Path;

use collective_brain::lang::{Evidence, Tagger, DEFAULT_ALSO};
use collective_brain::lang_eval::read_tsv;
use collective_brain::lexicon::DEFAULT_DIR;
use collective_brain::model::Lang;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn rows(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/langid").join(file);
    read_tsv(&path)
        .expect("eval data beside the repo")
        .into_iter()
        .filter(|r| ["en", "fr", "es", "pt"].contains(&r.lang.as_str()))
        .take(400)
        .map(|r| r.text)
        .collect()
}

fn tagging(c: &mut Criterion) {
    let community = Lang::many(&["en", "fr", "es", "pt"]);
    let also = match std::env::var("CB_BENCH_ALSO") {
        Ok(v) => v.split(',').filter(|c| !c.is_empty()).map(|c| c.parse().expect("a language code")).collect(),
        Err(_) => Lang::many(&DEFAULT_ALSO),
    };
    // With the machine's Hunspell dictionaries, as the server loads them (none: none used).
    let (tagger, _) = Tagger::load(&community, &also, Path::new(DEFAULT_DIR));
    tagger.warm_up();
    let author = Lang::many(&["pt", "es"]);
    for (name, file) in [("sentences", "ntrex-sentences.tsv"), ("word pairs", "lingua-word-pairs.tsv")] {
        let texts = rows(file);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(texts.len() as u64));
        group.bench_function("detector alone", |b| {
            b.iter(|| texts.iter().map(|t| tagger.tag(t, &Evidence::default()).confidence).sum::<f64>())
        });
        group.bench_function("with author prior", |b| {
            let ev = Evidence { author: &author, ..Evidence::default() };
            b.iter(|| texts.iter().map(|t| tagger.tag(t, &ev).confidence).sum::<f64>())
        });
        group.finish();
    }
}

criterion_group!(benches, tagging);
criterion_main!(benches);
