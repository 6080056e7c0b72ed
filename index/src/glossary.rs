//! The multilingual glossary of Social and Solidarity Economy terms that expands queries:
//! a query naming a concept in one language also searches its names in the others.
//!
//! The shipped concepts are in `index/glossary.tsv`; admins and translators add more
//! through the server's API, which stores them and hands them to [`Glossary::add`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::fold;

/// The glossary shipped with the index.
pub const SHIPPED: &str = include_str!("../glossary.tsv");

/// One concept and its names, by language code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concept {
    pub id: String,
    pub terms: BTreeMap<String, Vec<String>>,
}

/// Concepts, and each of their names folded into words for matching.
#[derive(Clone, Debug, Default)]
pub struct Glossary {
    concepts: Vec<Concept>,
    /// (folded words of a name, concept index)
    names: Vec<(Vec<String>, usize)>,
}

/// Why a glossary file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("glossary line {line}: {detail}")]
pub struct GlossaryError {
    pub line: usize,
    pub detail: String,
}

impl Glossary {
    /// The shipped glossary.
    pub fn shipped() -> Glossary {
        // The shipped file is checked by a test; a bad line cannot reach a build.
        Glossary::parse(SHIPPED).unwrap_or_default()
    }

    /// Reads the TSV format: comment lines start with `#`; the first other line names the
    /// columns (`id` then language codes); then one concept per line, synonyms split by `|`.
    pub fn parse(text: &str) -> Result<Glossary, GlossaryError> {
        let mut g = Glossary::default();
        let mut header: Option<Vec<String>> = None;
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let Some(h) = &header else {
                if cols.first() != Some(&"id") {
                    return Err(GlossaryError { line: line_no, detail: "the header must start with `id`".into() });
                }
                header = Some(cols[1..].iter().map(|c| c.trim().to_owned()).collect());
                continue;
            };
            if cols.len() != h.len() + 1 {
                return Err(GlossaryError {
                    line: line_no,
                    detail: format!("{} columns, the header has {}", cols.len(), h.len() + 1),
                });
            }
            let mut terms = BTreeMap::new();
            for (lang, cell) in h.iter().zip(&cols[1..]) {
                let names: Vec<String> =
                    cell.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
                if !names.is_empty() {
                    terms.insert(lang.clone(), names);
                }
            }
            g.add(Concept { id: cols[0].trim().to_owned(), terms });
        }
        Ok(g)
    }

    /// Adds a concept (or replaces the one with the same id).
    pub fn add(&mut self, concept: Concept) {
        if let Some(i) = self.concepts.iter().position(|c| c.id == concept.id) {
            self.concepts[i] = concept;
        } else {
            self.concepts.push(concept);
        }
        self.rebuild();
    }

    fn rebuild(&mut self) {
        self.names.clear();
        for (i, c) in self.concepts.iter().enumerate() {
            for names in c.terms.values() {
                for n in names {
                    let words: Vec<String> = fold(n).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
                    if !words.is_empty() {
                        self.names.push((words, i));
                    }
                }
            }
        }
        // Longest names first, so "cooperativas de mulheres" wins over "cooperativas".
        self.names.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
    }

    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    /// The concepts `words` name, one per matched span (longest names first, a word used
    /// by at most one span), and which words the spans used.
    fn spans(&self, words: &[String]) -> (Vec<usize>, Vec<bool>) {
        let mut used = vec![false; words.len()];
        let mut found = Vec::new();
        for (name, concept) in &self.names {
            if name.len() > words.len() {
                continue;
            }
            for start in 0..=words.len() - name.len() {
                let span = start..start + name.len();
                if used[span.clone()].iter().any(|u| *u) || words[span.clone()] != name[..] {
                    continue;
                }
                used[span].iter_mut().for_each(|u| *u = true);
                found.push(*concept);
            }
        }
        (found, used)
    }

    /// What a text must hold to match `query` across languages: one part per concept the
    /// query names (any of its names, in any language, folded) and one per other word.
    /// A text matches when it holds every part (`matches_parts`).
    pub fn parts(&self, query: &str) -> Vec<Vec<String>> {
        let words: Vec<String> = fold(query).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
        let (found, used) = self.spans(&words);
        let mut parts: Vec<Vec<String>> = found
            .into_iter()
            .map(|c| self.concepts[c].terms.values().flatten().map(|n| fold(n)).filter(|n| !n.is_empty()).collect())
            .collect();
        for (w, used) in words.into_iter().zip(used) {
            if !used {
                parts.push(vec![w]);
            }
        }
        parts
    }

    /// The names, in every language, of the concepts the query names: `(lang, name)`.
    /// A query word is used by at most one match, longest names first.
    pub fn expand(&self, query: &str) -> Vec<(String, String)> {
        let words: Vec<String> = fold(query).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
        let mut found = self.spans(&words).0;
        let mut seen = std::collections::HashSet::new();
        found.retain(|c| seen.insert(*c));
        let mut out = Vec::new();
        for c in found {
            for (lang, names) in &self.concepts[c].terms {
                for n in names {
                    out.push((lang.clone(), n.clone()));
                }
            }
        }
        out
    }
}

/// Whether `folded` (a text through `fold`) holds every part, each as whole words.
pub fn matches_parts(folded: &str, parts: &[Vec<String>]) -> bool {
    let text = format!(" {folded} ");
    parts.iter().all(|alternatives| alternatives.iter().any(|a| text.contains(&format!(" {a} "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_in_one_language_matches_a_query_in_another() {
        let g = Glossary::shipped();
        let parts = g.parts("économie sociale Sénégal");
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(matches_parts(&fold("Social economy law in Senegal"), &parts));
        assert!(!matches_parts(&fold("Social economy law in Mali"), &parts));
        assert!(!matches_parts(&fold("Socialist economics, Senegal"), &parts), "whole words only");
        assert!(matches_parts(&fold("anything"), &g.parts("")), "no parts: everything");
    }

    #[test]
    fn the_shipped_glossary_parses() {
        let g = Glossary::parse(SHIPPED).expect("shipped glossary");
        assert!(g.len() >= 40, "{} concepts", g.len());
        for c in g.concepts() {
            for l in ["en", "fr", "es", "pt"] {
                assert!(c.terms.contains_key(l), "{} has no {l}", c.id);
            }
        }
    }

    #[test]
    fn a_query_in_one_language_expands_to_the_others() {
        let g = Glossary::shipped();
        let x = g.expand("Cooperativas de MULHERES");
        assert!(x.contains(&("fr".into(), "coopératives de femmes".into())), "{x:?}");
        assert!(x.contains(&("en".into(), "women's cooperatives".into())), "{x:?}");
        // The longer name took the words: the single-word concepts did not match too.
        assert!(!x.iter().any(|(_, n)| n == "Genossenschaft"), "{x:?}");
        let y = g.expand("economia solidaria en Mozambique");
        assert!(y.contains(&("fr".into(), "économie sociale et solidaire".into())), "{y:?}");
        assert!(g.expand("weather today").is_empty());
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let e = Glossary::parse("id\ten\tfr\nx\tone\n").expect_err("short line");
        assert_eq!(e.line, 2);
        assert!(Glossary::parse("en\tfr\n").is_err());
    }

    #[test]
    fn added_concepts_replace_by_id() {
        let mut g = Glossary::default();
        let mut terms = BTreeMap::new();
        terms.insert("en".to_owned(), vec!["commons".to_owned()]);
        terms.insert("fr".to_owned(), vec!["communs".to_owned()]);
        g.add(Concept { id: "commons".into(), terms: terms.clone() });
        terms.insert("es".to_owned(), vec!["bienes comunes".to_owned()]);
        g.add(Concept { id: "commons".into(), terms });
        assert_eq!(g.len(), 1);
        assert_eq!(g.expand("the commons").len(), 3);
    }
}
