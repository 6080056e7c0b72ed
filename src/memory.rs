//! Translation memory: earlier human translations split into sentences and kept as
//! aligned pairs, and the fuzzy lookup the desk's editor offers from them.
//!
//! A sentence is matched by its character trigrams (lower-cased, spaces folded): the
//! score of a stored source sentence against the one being translated is the Dice
//! coefficient of their trigram sets, `2|A∩B| / (|A|+|B|)`, so an identical sentence
//! scores 1 and one word changed in a long sentence still scores high. Candidates come
//! from an inverted index of the trigrams, leaving out the commonest (those in more than
//! one sentence in `COMMON` of the pairs, such as " de"), which rank nothing and cost
//! most; the best candidates by shared rare trigrams are then scored exactly.
//!
//! The pairs live in the store (`memory` tree, in the order they were written); a node
//! keeps this index of them in memory and reads what it has not seen before each lookup,
//! so a translation published through any node is offered by every node.

use std::collections::HashMap;

/// One aligned pair, and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub source: String,
    pub target: String,
    /// The post it was translated in (the id's raw value).
    pub post: u64,
    /// The space of that post: a lookup offers only pairs from spaces it allows.
    pub space: u64,
}

/// A lookup's answer for one sentence: a remembered pair, with where it was written (the
/// desk decides from `space` whether the reader may see it, and offers it as a
/// `service::desk::Suggestion`).
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub source: String,
    pub target: String,
    pub score: f64,
    pub post: u64,
    pub space: u64,
}

/// Trigrams in more than one pair in this many are not used to find candidates.
const COMMON: usize = 40;
/// Candidates scored exactly per sentence.
const CANDIDATES: usize = 64;

/// The memory of one language pair.
#[derive(Default)]
pub struct Memory {
    pairs: Vec<Pair>,
    /// Each pair's source trigrams, sorted and deduplicated.
    grams: Vec<Vec<u32>>,
    /// Trigram to the pairs holding it, in order.
    postings: HashMap<u32, Vec<u32>>,
    /// Each post's pairs: a post translated again replaces them.
    by_post: HashMap<u64, Vec<u32>>,
    /// Pairs replaced by a later translation of the same post.
    replaced: Vec<bool>,
}

impl Memory {
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Adds the pairs of one translation of `post`, replacing the pairs an earlier
    /// translation of it gave.
    pub fn add_translation(&mut self, post: u64, pairs: Vec<Pair>) {
        for i in self.by_post.remove(&post).unwrap_or_default() {
            self.replaced[i as usize] = true;
        }
        for pair in pairs {
            self.add(pair);
        }
    }

    fn add(&mut self, pair: Pair) {
        let Ok(id) = u32::try_from(self.pairs.len()) else { return };
        let grams = trigrams(&pair.source);
        for g in &grams {
            self.postings.entry(*g).or_default().push(id);
        }
        self.by_post.entry(pair.post).or_default().push(id);
        self.grams.push(grams);
        self.pairs.push(pair);
        self.replaced.push(false);
    }

    /// The best `k` pairs for `sentence` scoring at least `min`, best first, among those
    /// `allowed` lets through (by space). Identical sources are offered once.
    pub fn lookup(&self, sentence: &str, k: usize, min: f64, allowed: &mut dyn FnMut(u64) -> bool) -> Vec<Match> {
        let query = trigrams(sentence);
        if query.is_empty() || self.pairs.is_empty() {
            return Vec::new();
        }
        let common = (self.pairs.len() / COMMON).max(64);
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for g in &query {
            if let Some(list) = self.postings.get(g) {
                if list.len() <= common {
                    for id in list {
                        *shared.entry(*id).or_default() += 1;
                    }
                }
            }
        }
        let mut candidates: Vec<(u32, u32)> = shared.into_iter().collect();
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        let mut scored: Vec<(f64, u32)> = Vec::new();
        for (id, _) in candidates.into_iter().filter(|(id, _)| !self.replaced[*id as usize]).take(CANDIDATES) {
            let score = dice(&query, &self.grams[id as usize]);
            if score >= min {
                scored.push((score, id));
            }
        }
        // Newest first among equals: a later translation is the community's current word.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        let mut out: Vec<Match> = Vec::new();
        for (score, id) in scored {
            let p = &self.pairs[id as usize];
            if out.iter().any(|s| s.target == p.target) || !allowed(p.space) {
                continue;
            }
            out.push(Match { source: p.source.clone(), target: p.target.clone(), score, post: p.post, space: p.space });
            if out.len() == k {
                break;
            }
        }
        out
    }
}

/// `text` lower-cased with runs of whitespace and punctuation folded to one space, framed
/// by spaces.
fn normalize(text: &str) -> Vec<char> {
    let mut out = vec![' '];
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_alphanumeric() { c } else { ' ' };
        if c == ' ' && out.last() == Some(&' ') {
            continue;
        }
        out.push(c);
    }
    if out.last() != Some(&' ') {
        out.push(' ');
    }
    out
}

/// The sentence's character trigrams, hashed, sorted and deduplicated.
pub fn trigrams(text: &str) -> Vec<u32> {
    let chars = normalize(text);
    let mut out: Vec<u32> = chars
        .windows(3)
        .map(|w| {
            // FNV-1a over the three code points.
            let mut h: u32 = 0x811c_9dc5;
            for c in w {
                h ^= *c as u32;
                h = h.wrapping_mul(0x0100_0193);
            }
            h
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The Dice coefficient of two sorted sets.
fn dice(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * both as f64 / (a.len() + b.len()) as f64
}

/// The sentences of a post's text: split after `.`, `!`, `?`, `…`, `。`, `؟` (and their
/// closing quotes or brackets) before a space, and at line breaks; Markdown list marks
/// and blank lines dropped.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches(['-', '*', '>', '#']).trim();
        let chars: Vec<char> = line.chars().collect();
        let mut start = 0;
        let mut i = 0;
        while i < chars.len() {
            if matches!(chars[i], '.' | '!' | '?' | '…' | '。' | '؟') {
                let mut end = i + 1;
                while end < chars.len() && matches!(chars[end], '.' | '!' | '?' | '"' | '\'' | '»' | '”' | '’' | ')')
                {
                    end += 1;
                }
                // French puts a space before its closing guillemet.
                if end + 1 < chars.len() && chars[end].is_whitespace() && chars[end + 1] == '»' {
                    end += 2;
                }
                if end == chars.len() || chars[end].is_whitespace() {
                    push(&mut out, &chars[start..end]);
                    start = end;
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        push(&mut out, &chars[start..]);
    }
    out
}

fn ngram_counts(v: &[char], n: usize) -> HashMap<&[char], usize> {
    let mut m: HashMap<&[char], usize> = HashMap::new();
    for w in v.windows(n) {
        *m.entry(w).or_default() += 1;
    }
    m
}

fn push(out: &mut Vec<String>, chars: &[char]) {
    let s: String = chars.iter().collect();
    let s = s.trim();
    if s.chars().any(char::is_alphanumeric) {
        out.push(s.to_owned());
    }
}

/// Aligns a post with its translation sentence by sentence when both have as many
/// sentences; otherwise the whole texts make one pair when short enough to be worth
/// offering (a paragraph), and nothing when longer.
pub fn align(source: &str, target: &str) -> Vec<(String, String)> {
    let (s, t) = (sentences(source), sentences(target));
    let pairs = if !s.is_empty() && s.len() == t.len() {
        s.into_iter().zip(t).collect()
    } else if s.is_empty() || t.is_empty() {
        Vec::new()
    } else {
        vec![(s.join(" "), t.join(" "))]
    };
    pairs.into_iter().filter(|(s, _)| s.chars().count() <= MAX_SOURCE_CHARS).collect()
}

/// Longer stretches of text are not kept as pairs: they would match nothing.
const MAX_SOURCE_CHARS: usize = 400;

/// chrF (Popović 2015): the character n-gram F-score of `hypothesis` against
/// `reference`, n from 1 to 6, β = 2, spaces removed; 0 to 1.
pub fn chrf(hypothesis: &str, reference: &str) -> f64 {
    let h: Vec<char> = hypothesis.chars().filter(|c| !c.is_whitespace()).collect();
    let r: Vec<char> = reference.chars().filter(|c| !c.is_whitespace()).collect();
    let (mut precision, mut recall, mut orders) = (0.0, 0.0, 0.0);
    for n in 1..=6 {
        if h.len() < n || r.len() < n {
            continue;
        }
        let (hc, rc) = (ngram_counts(&h, n), ngram_counts(&r, n));
        let matched: usize = hc.iter().map(|(g, c)| (*c).min(*rc.get(g).unwrap_or(&0))).sum();
        precision += matched as f64 / (h.len() - n + 1) as f64;
        recall += matched as f64 / (r.len() - n + 1) as f64;
        orders += 1.0;
    }
    if orders == 0.0 {
        return 0.0;
    }
    let (p, r) = (precision / orders, recall / orders);
    let beta2 = 4.0;
    if p + r == 0.0 {
        return 0.0;
    }
    (1.0 + beta2) * p * r / (beta2 * p + r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(post: u64, space: u64, source: &str, target: &str) -> Pair {
        Pair { source: source.into(), target: target.into(), post, space }
    }

    #[test]
    fn sentences_split_at_their_ends_not_inside_numbers_or_names() {
        assert_eq!(
            sentences("Bom dia! A reunião é às 10.30, na sala 2. Alguém vem?\n- Eu vou."),
            ["Bom dia!", "A reunião é às 10.30, na sala 2.", "Alguém vem?", "Eu vou."]
        );
        assert_eq!(sentences("« C'est ça. » Et puis ?"), ["« C'est ça. »", "Et puis ?"]);
        assert!(sentences("  \n---\n").is_empty());
    }

    #[test]
    fn an_identical_sentence_scores_one_and_a_close_one_high() {
        let mut m = Memory::default();
        m.add_translation(
            1,
            vec![pair(1, 1, "The cooperative opens its shop tomorrow.", "La coopérative ouvre sa boutique demain.")],
        );
        m.add_translation(
            2,
            vec![pair(
                2,
                1,
                "Solidarity finance funds the social economy.",
                "La finance solidaire finance l'économie sociale.",
            )],
        );
        let all = &mut |_| true;
        let s = m.lookup("The cooperative opens its shop tomorrow.", 3, 0.3, all);
        assert_eq!(s[0].target, "La coopérative ouvre sa boutique demain.");
        assert!((s[0].score - 1.0).abs() < 1e-9);
        let s = m.lookup("the cooperative opens its new shop tomorrow", 3, 0.3, all);
        assert!(s[0].score > 0.8 && s[0].score < 1.0, "{s:?}");
        assert!(m.lookup("Completely unrelated words here", 3, 0.5, all).is_empty());
    }

    #[test]
    fn a_space_not_allowed_gives_nothing_and_a_new_translation_replaces_the_old() {
        let mut m = Memory::default();
        m.add_translation(1, vec![pair(1, 7, "Draft terms of the exchange.", "Termes provisoires.")]);
        assert!(m.lookup("Draft terms of the exchange.", 3, 0.5, &mut |space| space != 7).is_empty());
        m.add_translation(1, vec![pair(1, 7, "Draft terms of the exchange.", "Projet de termes de l'échange.")]);
        let s = m.lookup("Draft terms of the exchange.", 3, 0.5, &mut |_| true);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].target, "Projet de termes de l'échange.");
    }

    #[test]
    fn alignment_pairs_sentences_when_they_match_in_number() {
        let a = align("One. Two!", "Un. Deux !");
        assert_eq!(a, [("One.".to_owned(), "Un.".to_owned()), ("Two!".to_owned(), "Deux !".to_owned())]);
        assert_eq!(align("One. Two.", "Un et deux.").len(), 1);
        assert!(align(&"word ".repeat(200), "mot").is_empty());
    }

    #[test]
    fn chrf_is_one_for_the_reference_and_falls_with_distance() {
        let r = "La coopérative ouvre sa boutique demain.";
        assert!((chrf(r, r) - 1.0).abs() < 1e-9);
        let near = chrf("La coopérative ouvre la boutique demain.", r);
        let far = chrf("Le marché solidaire ferme.", r);
        assert!(near > 0.8 && far < 0.4 && near > far, "{near} {far}");
    }
}
