//! Evaluation of language tagging over `lang<TAB>text` files: accuracy per language for
//! the detector alone and with an author prior (the author declares two languages, the
//! true one among them). Used by the `langid-eval` command and the accuracy tests.

use std::collections::BTreeMap;
use std::path::Path;

use crate::lang::{Evidence, Tagger};
use crate::model::Lang;

/// One labelled text.
#[derive(Clone, Debug)]
pub struct Row {
    pub lang: String,
    pub text: String,
}

/// Reads a `lang<TAB>text` file (no header). Lines without a tab are skipped.
pub fn read_tsv(path: &Path) -> std::io::Result<Vec<Row>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(lang, text)| Row { lang: lang.trim().to_owned(), text: text.to_owned() })
        .collect())
}

/// The columns of `../shared/eval/parallel/ntrex.tsv` (no header line in the file).
pub const NTREX_COLUMNS: [&str; 10] = ["id", "en", "fr", "es", "pt", "pt_BR", "it", "de", "ar", "ko"];

/// Word pairs taken from a parallel corpus in NTREX's layout, as a check on data the
/// tagger was never tuned on: from each sentence, in each of `languages`, the middle one
/// of its pairs of adjacent words of five letters or more, lower-cased (the shape of
/// lingua's word-pair file).
pub fn pairs_from_parallel(path: &Path, languages: &[Lang]) -> std::io::Result<Vec<Row>> {
    let text = std::fs::read_to_string(path)?;
    let mut rows = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('\t').collect();
        for lang in languages {
            let Some(col) = NTREX_COLUMNS.iter().position(|c| *lang == *c) else { continue };
            let Some(sentence) = cells.get(col) else { continue };
            if let Some(pair) = middle_pair(sentence) {
                rows.push(Row { lang: lang.to_string(), text: pair });
            }
        }
    }
    Ok(rows)
}

/// The middle one of `sentence`'s pairs of adjacent words of five letters or more.
fn middle_pair(sentence: &str) -> Option<String> {
    let words: Vec<String> =
        sentence.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let pairs: Vec<(&String, &String)> = words
        .windows(2)
        .filter(|w| w[0].chars().count() >= 5 && w[1].chars().count() >= 5)
        .map(|w| (&w[0], &w[1]))
        .collect();
    let (a, b) = pairs.get(pairs.len() / 2)?;
    Some(format!("{a} {b}"))
}

/// Correct answers per language.
#[derive(Clone, Debug, Default)]
pub struct Score {
    /// lang -> (correct alone, correct with the author prior, total)
    pub per_lang: BTreeMap<String, (usize, usize, usize)>,
    /// The rows tagged wrong with the author prior: (true, tagged, declared, text).
    pub errors: Vec<(Lang, Lang, [Lang; 2], String)>,
    /// The rows tagged wrong by the detector alone: (true, tagged, text).
    pub errors_alone: Vec<(Lang, Lang, String)>,
}

impl Score {
    /// Mean over languages of the per-language accuracy, in percent, alone and with the
    /// prior (each language counts the same, as in the published baselines).
    pub fn means(&self) -> (f64, f64) {
        self.mean_over(self.per_lang.values())
    }

    /// As [`Score::means`], over the rows of `langs` only.
    pub fn means_of(&self, langs: &[Lang]) -> (f64, f64) {
        self.mean_over(self.per_lang.iter().filter(|(l, _)| langs.iter().any(|c| c == l.as_str())).map(|(_, v)| v))
    }

    fn mean_over<'a>(&self, counts: impl Iterator<Item = &'a (usize, usize, usize)>) -> (f64, f64) {
        let (mut n, mut alone, mut prior) = (0usize, 0.0, 0.0);
        for (a, p, t) in counts {
            n += 1;
            alone += pct(*a, *t);
            prior += pct(*p, *t);
        }
        let n = n.max(1) as f64;
        (alone / n, prior / n)
    }
}

pub fn pct(part: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * part as f64 / total as f64
    }
}

/// Tags every row whose language the tagger may tag with (the community's, and those a
/// script settles), alone and with an author who declares the true language and one
/// other community language (which one, and in which order, varies from row to row).
pub fn evaluate(tagger: &Tagger, community: &[Lang], rows: &[Row]) -> Score {
    let mut score = Score::default();
    let all = tagger.languages();
    for (i, row) in rows.iter().enumerate() {
        let Some(truth) = all.iter().copied().find(|c| *c == row.lang.as_str()) else { continue };
        let entry = score.per_lang.entry(row.lang.clone()).or_default();
        entry.2 += 1;
        let alone = tagger.tag(&row.text, &Evidence::default()).lang;
        if alone == truth {
            entry.0 += 1;
        } else {
            score.errors_alone.push((truth, alone, row.text.clone()));
        }
        let others: Vec<Lang> = community.iter().copied().filter(|c| *c != truth).collect();
        if !others.is_empty() {
            let other = others[i % others.len()];
            let author = if i % 2 == 0 { [truth, other] } else { [other, truth] };
            let tagged = tagger.tag(&row.text, &Evidence { author: &author, ..Evidence::default() }).lang;
            if tagged == truth {
                entry.1 += 1;
            } else {
                score.errors.push((truth, tagged, author, row.text.clone()));
            }
        } else {
            entry.1 += 1;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_come_from_long_adjacent_words() {
        assert_eq!(
            middle_pair("Des membres de l’Assemblée du pays de Galles inquiets"),
            Some("galles inquiets".into())
        );
        assert_eq!(middle_pair("Welsh AMs worried about 'looking like muppets'"), Some("about looking".into()));
        assert_eq!(middle_pair("Oui, non."), None);
    }
}
