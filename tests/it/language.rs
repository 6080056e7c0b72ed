//! Language tagging accuracy over the real multilingual text in `../shared/eval/langid/`,
//! with the server's default settings: the community's languages (en, fr, es, pt) and
//! those tagged besides (ar, ko, it, de). Figures are the mean of the per-language
//! accuracies, as the baselines report.

use std::path::PathBuf;

use collective_brain::lang::{Tagger, DEFAULT_ALSO};
use collective_brain::lang_eval::{evaluate, read_tsv, Score};
use collective_brain::lexicon::DEFAULT_DIR;
use collective_brain::model::Lang;

fn community() -> Vec<Lang> {
    Lang::many(&["en", "fr", "es", "pt"])
}

fn score(file: &str) -> Score {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/langid").join(file);
    let rows = read_tsv(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let also = Lang::many(&DEFAULT_ALSO);
    let (tagger, read) = Tagger::load(&community(), &also, std::path::Path::new(DEFAULT_DIR));
    assert_eq!(
        read.len(),
        6,
        "Hunspell dictionaries for en, fr, es, pt, it and de are missing from {DEFAULT_DIR}: run the README's \
         test command (scripts/test.sh), which installs Debian's hunspell-en-us, -fr, -es, -pt-pt, -pt-br, -it \
         and -de-de"
    );
    let score = evaluate(&tagger, &community(), &rows);
    assert_eq!(score.per_lang.len(), 8, "all eight languages are in {file}");
    score
}

fn eval(file: &str) -> (f64, f64) {
    score(file).means_of(&community())
}

#[test]
fn detector_alone_meets_its_targets() {
    // The targets for the detector alone. whatlang alone (restricted to the four
    // languages) scored 65.1, 86.2, 97.4 and 99.1 on these files.
    for (file, target) in [
        ("lingua-word-pairs.tsv", 90.0),
        ("ntrex-headlines.tsv", 95.0),
        ("lingua-sentences.tsv", 99.0),
        ("ntrex-sentences.tsv", 99.0),
    ] {
        let (alone, _) = eval(file);
        assert!(alone >= target, "{file}: {alone:.1}% alone, target {target}%");
    }
}

#[test]
fn the_author_prior_meets_its_targets_and_adds_accuracy() {
    // With the author's two declared languages: the targets, 99% on headlines and
    // 97% on word pairs; single words are guarded at what is reached (docs/LANGUAGE.md).
    for (file, floor) in [("ntrex-headlines.tsv", 99.0), ("lingua-word-pairs.tsv", 97.0), ("lingua-words.tsv", 90.5)] {
        let (alone, prior) = eval(file);
        assert!(prior >= floor, "{file}: {prior:.2}% with the author prior, floor {floor}%");
        assert!(prior > alone, "{file}: the prior must help ({alone:.1}% -> {prior:.1}%)");
    }
}

#[test]
fn the_alumni_s_other_languages_are_tagged_right() {
    // Italian, German, Arabic and Korean with default settings: each at least 99% of
    // sentences and 95% of headlines, by the text alone.
    for (file, target) in [("ntrex-headlines.tsv", 95.0), ("lingua-sentences.tsv", 99.0), ("ntrex-sentences.tsv", 99.0)]
    {
        let score = score(file);
        for lang in DEFAULT_ALSO {
            let (right, _, total) = score.per_lang[lang];
            let pct = 100.0 * right as f64 / total as f64;
            assert!(pct >= target, "{file}: {lang} {pct:.1}% alone ({right} of {total}), target {target}%");
        }
    }
}
