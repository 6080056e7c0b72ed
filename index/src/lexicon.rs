//! Words that answer each other across languages, learned from the community's own
//! translations.
//!
//! Every human translation published on the translators' desk is a pair of parallel
//! texts. For each pair, every (stemmed) word of one side is linked to every word of the
//! other, weighted by how near their relative positions are (translations keep much of
//! their order, so a word at the start of one side answers a word at the start of the
//! other more often than one at the end). A word's association with another is their
//! Dice coefficient over the pairs: `2 * link / (pairs with a + pairs with b)`. A query
//! word the lexicon knows is expanded with its best-associated words in the other
//! languages, searched in those languages' fields with a weight below the word's own.
//!
//! Only translations of posts in public spaces are learned from: an association is a
//! trace of a text, and nothing of a private group may reach an outsider. The lexicon
//! holds counts of stems, never text; it lives in memory and is rebuilt from the store's
//! posts when the server starts.

use std::collections::{HashMap, HashSet};

/// How quickly a link's weight falls with the distance between relative positions.
const POSITION_DECAY: f32 = 4.0;
/// Associations below this Dice coefficient are not used.
const MIN_ASSOCIATION: f32 = 0.5;
/// Words a query word is expanded with, per other language, at most.
const PER_LANGUAGE: usize = 2;
/// Links kept at most (about 24 bytes each): past this, new links are not recorded, so a
/// very large community's lexicon stays bounded (known words still strengthen).
const MAX_LINKS: usize = 8_000_000;

/// A stemmed word of one field language (an index into `FIELD_LANGS`).
type Word = u32;

/// The learned associations.
#[derive(Debug, Default)]
pub struct Lexicon {
    ids: HashMap<(u8, String), Word>,
    words: Vec<(u8, String)>,
    /// Pairs each word appeared in.
    pairs: Vec<f32>,
    /// Weighted co-occurrence, both ways.
    links: HashMap<Word, HashMap<Word, f32>>,
    link_count: usize,
    /// `(post, translation language)` already learned from.
    seen: HashSet<(u64, u8)>,
}

/// One expansion of a query word.
#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    /// Index into `FIELD_LANGS`.
    pub lang: usize,
    pub term: String,
    /// The Dice association, in (0, 1].
    pub weight: f32,
}

impl Lexicon {
    fn id(&mut self, lang: u8, term: &str) -> Word {
        if let Some(id) = self.ids.get(&(lang, term.to_owned())) {
            return *id;
        }
        let id = Word::try_from(self.words.len()).unwrap_or(Word::MAX);
        self.ids.insert((lang, term.to_owned()), id);
        self.words.push((lang, term.to_owned()));
        self.pairs.push(0.0);
        id
    }

    /// Whether the translation of `post` into `lang` was learned from already (a post is
    /// indexed again on every edit and translation; each pair counts once).
    pub fn seen(&self, post: u64, lang: usize) -> bool {
        self.seen.contains(&(post, lang_u8(lang)))
    }

    /// Learns from one translated pair: `a` and `b` are the analysed terms of each side
    /// (in order), in field languages `la` and `lb`.
    pub fn learn(&mut self, post: u64, la: usize, a: &[String], lb: usize, b: &[String]) {
        if la == lb || !self.seen.insert((post, lang_u8(lb))) {
            return;
        }
        let side = |lex: &mut Lexicon, lang: usize, terms: &[String]| -> Vec<(Word, f32)> {
            let mut out: Vec<(Word, f32)> = Vec::new();
            let mut dedup = HashSet::new();
            #[allow(clippy::cast_precision_loss)]
            let n = terms.len().max(1) as f32;
            for (i, t) in terms.iter().enumerate() {
                let id = lex.id(lang_u8(lang), t);
                if dedup.insert(id) {
                    #[allow(clippy::cast_precision_loss)]
                    out.push((id, i as f32 / n));
                }
            }
            out
        };
        let a = side(self, la, a);
        let b = side(self, lb, b);
        for (w, _) in a.iter().chain(&b) {
            if let Some(p) = self.pairs.get_mut(*w as usize) {
                *p += 1.0;
            }
        }
        for (wa, ra) in &a {
            for (wb, rb) in &b {
                let weight = (-POSITION_DECAY * (ra - rb).abs()).exp();
                self.link(*wa, *wb, weight);
                self.link(*wb, *wa, weight);
            }
        }
    }

    fn link(&mut self, from: Word, to: Word, weight: f32) {
        let full = self.link_count >= MAX_LINKS;
        let row = self.links.entry(from).or_default();
        match row.get_mut(&to) {
            Some(w) => *w += weight,
            None if !full => {
                row.insert(to, weight);
                self.link_count += 1;
            }
            None => {}
        }
    }

    /// The words of other languages that best answer `term` of field language `lang`.
    pub fn expand(&self, lang: usize, term: &str) -> Vec<Expansion> {
        let Some(&id) = self.ids.get(&(lang_u8(lang), term.to_owned())) else { return Vec::new() };
        let Some(row) = self.links.get(&id) else { return Vec::new() };
        let mine = self.pairs.get(id as usize).copied().unwrap_or(0.0);
        let mut best: Vec<(usize, f32, Word)> = Vec::new();
        for (&other, &link) in row {
            let theirs = self.pairs.get(other as usize).copied().unwrap_or(0.0);
            let dice = 2.0 * link / (mine + theirs).max(1.0);
            if dice >= MIN_ASSOCIATION {
                if let Some((l, _)) = self.words.get(other as usize) {
                    best.push((usize::from(*l), dice, other));
                }
            }
        }
        // Strongest first; ties by word id, so expansions do not depend on hash order.
        best.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.total_cmp(&x.1)).then(x.2.cmp(&y.2)));
        let mut out = Vec::new();
        let mut per: HashMap<usize, usize> = HashMap::new();
        for (l, dice, w) in best {
            let n = per.entry(l).or_default();
            if *n < PER_LANGUAGE {
                *n += 1;
                if let Some((_, t)) = self.words.get(w as usize) {
                    out.push(Expansion { lang: l, term: t.clone(), weight: dice.min(1.0) });
                }
            }
        }
        out
    }

    /// Translated pairs learned from.
    pub fn learned(&self) -> usize {
        self.seen.len()
    }
}

fn lang_u8(lang: usize) -> u8 {
    u8::try_from(lang).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::Lexicon;

    fn terms(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn words_seen_together_in_order_answer_each_other() {
        let mut lex = Lexicon::default();
        lex.learn(1, 0, &terms("cooper women rural"), 1, &terms("cooper femm rural"));
        lex.learn(2, 0, &terms("women network"), 1, &terms("reseau femm"));
        lex.learn(3, 0, &terms("women fund"), 1, &terms("femm fond"));
        let women = lex.expand(0, "women");
        assert_eq!(women.first().map(|e| e.term.as_str()), Some("femm"), "{women:?}");
        assert!(women.iter().all(|e| e.lang == 1));
        // Both ways.
        assert_eq!(lex.expand(1, "femm").first().map(|e| e.term.as_str()), Some("women"));
        // The same pair twice counts once.
        let before = lex.expand(0, "fund");
        lex.learn(3, 0, &terms("women fund"), 1, &terms("femm fond"));
        assert_eq!(lex.expand(0, "fund"), before);
        assert_eq!(lex.learned(), 3);
        // Unknown words expand to nothing.
        assert!(lex.expand(0, "nothing").is_empty());
    }
}
