//! Language tagging accuracy over the real multilingual text in `../shared/eval/langid/`
//! (en, fr, es, pt; the mean of the per-language accuracies, as the baselines report).

use std::path::PathBuf;

use collective_brain::lang::Tagger;
use collective_brain::lang_eval::{evaluate, read_tsv};
use collective_brain::lexicon::{Lexicon, DEFAULT_DIR};
use collective_brain::model::Lang;

fn eval(file: &str) -> (f64, f64) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/langid").join(file);
    let rows = read_tsv(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let community = Lang::many(&["en", "fr", "es", "pt"]);
    let (lexicon, read) = Lexicon::load(std::path::Path::new(DEFAULT_DIR), &community);
    assert_eq!(
        read.len(),
        4,
        "Hunspell dictionaries for en, fr, es and pt are missing from {DEFAULT_DIR}: run the README's test \
         command (scripts/test.sh), which installs Debian's hunspell-en-us, -fr, -es, -pt-pt and -pt-br"
    );
    let tagger = Tagger::with_lexicon(&community, lexicon);
    let score = evaluate(&tagger, &community, &rows);
    assert_eq!(score.per_lang.len(), 4, "all four languages are in {file}");
    score.means()
}

#[test]
fn detector_alone_meets_its_targets() {
    // The issue's targets for the detector alone. whatlang alone (restricted to the four
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
    // With the author's two declared languages: the issue's targets, 99% on headlines and
    // 97% on word pairs; single words are guarded at what is reached (docs/LANGUAGE.md).
    for (file, floor) in [("ntrex-headlines.tsv", 99.0), ("lingua-word-pairs.tsv", 97.0), ("lingua-words.tsv", 90.5)] {
        let (alone, prior) = eval(file);
        assert!(prior >= floor, "{file}: {prior:.2}% with the author prior, floor {floor}%");
        assert!(prior > alone, "{file}: the prior must help ({alone:.1}% -> {prior:.1}%)");
    }
}
