//! Snippets: which version of a post the query matched, and where.

use serde::Serialize;

use crate::analysis::{analyze, analyzer, field_lang, grams_analyzer};
use crate::Plan;

/// A piece of a snippet: marked when it is a matched word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    pub text: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mark: bool,
}

/// The version of a post that matched best, and a snippet of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Highlight {
    /// The language of the version shown.
    pub lang: String,
    /// The snippet as plain text.
    pub snippet: String,
    /// The same text in pieces, the matched words marked.
    pub parts: Vec<Part>,
    /// Distinct matched words (whole words count twice, n-gram matches once).
    pub score: u32,
}

/// The share of a word's n-grams that must be in the query for it to count as matched.
const GRAM_SHARE: f32 = 0.5;

fn marks(plan: &Plan, lang: &str, text: &str) -> (u32, Vec<(usize, usize)>) {
    let fl = field_lang(lang);
    let mut ranges = Vec::new();
    let mut score = 0;
    let mut seen = std::collections::HashSet::new();
    let terms = plan.terms.get(fl);
    let learned = plan.learned.get(fl);
    if terms.is_some() || learned.is_some() {
        let mut a = analyzer(fl);
        let mut learned_hit = false;
        for t in analyze(&mut a, text) {
            if terms.is_some_and(|s| s.contains(&t.text)) {
                ranges.push((t.from, t.to));
                if seen.insert(t.text) {
                    score += 2;
                }
            } else if learned.is_some_and(|s| s.contains(&t.text)) {
                ranges.push((t.from, t.to));
                learned_hit = true;
            }
        }
        // What translations taught is a guess: one point for the version, whatever the
        // number of terms (a word cut into bigrams must not outweigh a word found as is).
        score += u32::from(learned_hit);
    }
    // Words sharing most of their n-grams with the query: cognates in untranslated text.
    let mut g = grams_analyzer();
    let mut words: Vec<((usize, usize), u32, u32)> = Vec::new();
    for t in analyze(&mut g, text) {
        let hit = u32::from(plan.grams.contains(&t.text));
        match words.last_mut() {
            Some((r, n, h)) if *r == (t.from, t.to) => {
                *n += 1;
                *h += hit;
            }
            _ => words.push(((t.from, t.to), 1, hit)),
        }
    }
    for (r, n, h) in words {
        #[allow(clippy::cast_precision_loss)]
        if h > 0 && h as f32 >= n as f32 * GRAM_SHARE && !ranges.contains(&r) {
            ranges.push(r);
            if seen.insert(text[r.0..r.1].to_lowercase()) {
                score += 1;
            }
        }
    }
    ranges.sort_unstable();
    (score, ranges)
}

/// A version's score, its index, and its marked ranges.
type Scored = (u32, usize, Vec<(usize, usize)>);

/// The best-matching version and its snippet of at most about `max_chars` characters.
pub fn best(plan: &Plan, versions: &[(&str, &str)], max_chars: usize) -> Option<Highlight> {
    let mut best: Option<Scored> = None;
    for (i, (lang, text)) in versions.iter().enumerate() {
        let (score, ranges) = marks(plan, lang, text);
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, i, ranges));
        }
    }
    let (score, i, ranges) = best?;
    let (lang, text) = versions[i];
    let (snippet, parts) = cut(text, &ranges, max_chars.max(16));
    Some(Highlight { lang: lang.to_owned(), snippet, parts, score })
}

/// Cuts a window of `text` around its first marked range.
fn cut(text: &str, ranges: &[(usize, usize)], max_chars: usize) -> (String, Vec<Part>) {
    let total = text.chars().count();
    let (start, end) = if total <= max_chars {
        (0, text.len())
    } else {
        let anchor = ranges.first().map_or(0, |r| r.0);
        let before = text[..anchor].chars().count();
        let first_char = before.saturating_sub(max_chars / 4).min(total - max_chars);
        let start = byte_of_char(text, first_char);
        // Start at a word boundary when one is near.
        let start = if start == 0 {
            0
        } else {
            text[start..].find(char::is_whitespace).filter(|d| *d < 20).map_or(start, |d| start + d + 1).min(anchor)
        };
        let end_char = text[..start].chars().count() + max_chars;
        let end = byte_of_char(text, end_char);
        let end = text[..end].rfind(char::is_whitespace).filter(|p| end - *p < 20 && *p > start).unwrap_or(end);
        (start, end)
    };
    let mut parts = Vec::new();
    if start > 0 {
        parts.push(Part { text: "…".into(), mark: false });
    }
    let mut at = start;
    for &(from, to) in ranges {
        if from < at || to > end {
            continue;
        }
        if from > at {
            parts.push(Part { text: text[at..from].to_owned(), mark: false });
        }
        parts.push(Part { text: text[from..to].to_owned(), mark: true });
        at = to;
    }
    if at < end {
        parts.push(Part { text: text[at..end].to_owned(), mark: false });
    }
    if end < text.len() {
        parts.push(Part { text: "…".into(), mark: false });
    }
    let snippet = parts.iter().map(|p| p.text.as_str()).collect();
    (snippet, parts)
}

fn byte_of_char(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
}
