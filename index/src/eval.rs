//! The cross-language retrieval evaluation behind `search-eval` and the recall test.
//!
//! Over a parallel corpus (`id en fr es pt ...` per line), each sentence is indexed once,
//! as a post in one of en/fr/es/pt (rotating), and queried in each of the three other
//! languages with that version's four rarest words; a query succeeds when the post is in
//! the top 10. Two settings: no translations, and the post carrying a human translation
//! into every other language. The same queries run against a baseline: tantivy's default
//! tokenizer on one field holding the original text.

use std::collections::HashMap;
use std::time::Instant;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, Value, STORED, TEXT};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, TantivyDocument, Term};

use crate::{Options, PostDoc, Result, SearchIndex, SearchQuery};

/// The corpus languages evaluated, in the corpus's column order.
pub const LANGS: [&str; 4] = ["en", "fr", "es", "pt"];

/// One sentence in each language of [`LANGS`].
#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub text: [String; 4],
}

/// Reads the parallel corpus: `id`, then en, fr, es, pt (further columns ignored).
pub fn read_corpus(text: &str) -> Vec<Row> {
    text.lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 5 || cols[0] == "id" {
                return None;
            }
            Some(Row { id: cols[0].to_owned(), text: [1, 2, 3, 4].map(|i| cols[i].to_owned()) })
        })
        .collect()
}

/// Recall@10 of one system in one setting, per query language.
#[derive(Clone, Debug, Default)]
pub struct Recall {
    /// (found, asked) per query language.
    pub by_lang: [(usize, usize); 4],
}

impl Recall {
    pub fn total(&self) -> f64 {
        let (f, a) = self.by_lang.iter().fold((0, 0), |(f, a), (x, y)| (f + x, a + y));
        ratio(f, a)
    }
    pub fn lang(&self, i: usize) -> f64 {
        ratio(self.by_lang[i].0, self.by_lang[i].1)
    }
}

#[allow(clippy::cast_precision_loss)]
fn ratio(f: usize, a: usize) -> f64 {
    if a == 0 {
        0.0
    } else {
        f as f64 / a as f64
    }
}

/// Everything one run measured.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub sentences: usize,
    pub queries: usize,
    pub baseline: Recall,
    pub untranslated: Recall,
    pub translated: Recall,
    /// Half the corpus translated (see [`in_learning_half`]); recall over the other half,
    /// without and with what the index learned from those translations.
    pub half_unlearned: Recall,
    pub half_learned: Recall,
    /// Of those queries: (how many the lexicon expanded, how many there were).
    pub half_expanded: (usize, usize),
    pub seconds: f64,
}

/// Whether sentence `i` is in the half whose posts carry translations (blocks of four,
/// so both halves have posts in every language).
pub fn in_learning_half(i: usize) -> bool {
    (i / 4) % 2 == 0
}

/// The language a sentence is posted in.
pub fn post_lang(i: usize) -> usize {
    i % 4
}

/// The four rarest words of each version (`queries[row][lang]`), rarity counted over
/// all versions of all sentences.
pub fn rare_word_queries(rows: &[Row]) -> Vec<[String; 4]> {
    let mut analyzer = TextAnalyzer::from(tantivy::tokenizer::SimpleTokenizer::default());
    let mut lower = |s: &str| -> Vec<String> {
        let mut out: Vec<String> =
            crate::analysis::analyze(&mut analyzer, s).into_iter().map(|t| t.text.to_lowercase()).collect();
        out.sort();
        out.dedup();
        out
    };
    let tokens: Vec<[Vec<String>; 4]> = rows.iter().map(|r| [0, 1, 2, 3].map(|l| lower(&r.text[l]))).collect();
    // Document frequency over every version in every language: a name or number that
    // the four versions share is common, a word of one language alone is rare.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for t in &tokens {
        for words in t {
            for w in words {
                *df.entry(w.as_str()).or_default() += 1;
            }
        }
    }
    tokens
        .iter()
        .map(|t| {
            [0, 1, 2, 3].map(|l| {
                let mut words: Vec<&String> = t[l].iter().collect();
                // Rarest first; among equals, the longer word, then alphabetical.
                let freq = |w: &str| df.get(w).copied().unwrap_or(0);
                words.sort_by(|a, b| freq(a).cmp(&freq(b)).then(b.len().cmp(&a.len())).then(a.cmp(b)));
                words.into_iter().take(4).cloned().collect::<Vec<_>>().join(" ")
            })
        })
        .collect()
}

fn build(rows: &[Row], translated: impl Fn(usize) -> bool) -> Result<SearchIndex> {
    let ix = SearchIndex::in_ram(&Options { threads: 2, memory_bytes: 128 << 20 })?;
    for (i, r) in rows.iter().enumerate() {
        let l = post_lang(i);
        let translations = if translated(i) {
            (0..4).filter(|x| *x != l).map(|x| (LANGS[x].to_owned(), r.text[x].clone())).collect()
        } else {
            Vec::new()
        };
        ix.put(&PostDoc {
            owner: 0,
            post: i as u64 + 1,
            room: i as u64 + 1,
            space: 1,
            public: true,
            author: 1,
            created_us: 0,
            lang: LANGS[l].to_owned(),
            body: r.text[l].clone(),
            title: None,
            translations,
            title_translations: Vec::new(),
        })?;
    }
    ix.commit(1)?;
    Ok(ix)
}

fn run_ours(ix: &SearchIndex, queries: &[[String; 4]], asked: impl Fn(usize) -> bool) -> Result<Recall> {
    let mut recall = Recall::default();
    for (i, q) in queries.iter().enumerate() {
        if !asked(i) {
            continue;
        }
        let l = post_lang(i);
        for (ql, text) in q.iter().enumerate() {
            if ql == l || text.is_empty() {
                continue;
            }
            let page =
                ix.search(&SearchQuery { text: text.clone(), public: true, limit: 10, ..SearchQuery::default() })?;
            let found = page.threads.iter().any(|t| t.post == i as u64 + 1);
            recall.by_lang[ql].0 += usize::from(found);
            recall.by_lang[ql].1 += 1;
        }
    }
    Ok(recall)
}

fn run_baseline(rows: &[Row], queries: &[[String; 4]]) -> Result<Recall> {
    let mut b = Schema::builder();
    let id = b.add_u64_field("id", STORED);
    let body = b.add_text_field("body", TEXT);
    let index = Index::create_in_ram(b.build());
    let mut w = index.writer_with_num_threads(2, 128 << 20)?;
    for (i, r) in rows.iter().enumerate() {
        let mut d = TantivyDocument::default();
        d.add_u64(id, i as u64 + 1);
        d.add_text(body, &r.text[post_lang(i)]);
        w.add_document(d)?;
    }
    w.commit()?;
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let mut analyzer = index.tokenizer_for_field(body)?;
    let mut recall = Recall::default();
    for (i, q) in queries.iter().enumerate() {
        let l = post_lang(i);
        for (ql, text) in q.iter().enumerate() {
            if ql == l || text.is_empty() {
                continue;
            }
            let terms: Vec<(Occur, Box<dyn Query>)> = crate::analysis::analyze(&mut analyzer, text)
                .into_iter()
                .map(|t| {
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(Term::from_field_text(body, &t.text), IndexRecordOption::WithFreqs));
                    (Occur::Should, q)
                })
                .collect();
            let top = searcher.search(&BooleanQuery::new(terms), &TopDocs::with_limit(10))?;
            let mut found = false;
            for (_, addr) in top {
                let d: TantivyDocument = searcher.doc(addr)?;
                found |= d.get_first(id).and_then(|v| v.as_u64()) == Some(i as u64 + 1);
            }
            recall.by_lang[ql].0 += usize::from(found);
            recall.by_lang[ql].1 += 1;
        }
    }
    Ok(recall)
}

/// Runs the whole evaluation over `rows`.
pub fn evaluate(rows: &[Row]) -> Result<Report> {
    let started = Instant::now();
    let queries = rare_word_queries(rows);
    let baseline = run_baseline(rows, &queries)?;
    let untranslated = run_ours(&build(rows, |_| false)?, &queries, |_| true)?;
    let translated = run_ours(&build(rows, |_| true)?, &queries, |_| true)?;
    let half = build(rows, in_learning_half)?;
    let other_half = |i| !in_learning_half(i);
    let half_learned = run_ours(&half, &queries, other_half)?;
    let mut half_expanded = (0, 0);
    for (i, q) in queries.iter().enumerate() {
        if other_half(i) {
            for (ql, text) in q.iter().enumerate() {
                if ql != post_lang(i) && !text.is_empty() {
                    half_expanded.0 += usize::from(!half.learned_expansions(text)?.is_empty());
                    half_expanded.1 += 1;
                }
            }
        }
    }
    half.forget_learned();
    let half_unlearned = run_ours(&half, &queries, other_half)?;
    let queries_n = baseline.by_lang.iter().map(|x| x.1).sum();
    Ok(Report {
        sentences: rows.len(),
        queries: queries_n,
        baseline,
        untranslated,
        translated,
        half_unlearned,
        half_learned,
        half_expanded,
        seconds: started.elapsed().as_secs_f64(),
    })
}

impl Report {
    /// The report as a Markdown table.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "{} sentences, {} queries (4 rarest words, in each language but the post's), recall@10 in %\n\n",
            self.sentences, self.queries
        );
        s.push_str(&table(&[
            ("baseline: default tokenizer, one field", &self.baseline),
            ("ours, no translations", &self.untranslated),
            ("ours, with translations", &self.translated),
        ]));
        let gain = if self.baseline.total() > 0.0 { self.untranslated.total() / self.baseline.total() } else { 0.0 };
        s.push_str(&format!("\nno translations vs baseline: {gain:.2}x ({:.1} s)\n", self.seconds));
        s.push_str("\nHalf the posts translated (blocks of four sentences); queries for the other half's posts:\n\n");
        s.push_str(&table(&[
            ("ours, not learning from the translations", &self.half_unlearned),
            ("ours, learning from the translations", &self.half_learned),
        ]));
        s.push_str(&format!(
            "\nqueries the learned lexicon expanded: {} of {} ({:.1}%)\n",
            self.half_expanded.0,
            self.half_expanded.1,
            100.0 * ratio(self.half_expanded.0, self.half_expanded.1)
        ));
        s
    }
}

/// Recall per query language and in all, one row per system.
fn table(rows: &[(&str, &Recall)]) -> String {
    let mut s = String::from("| system | en | fr | es | pt | all |\n|---|---|---|---|---|---|\n");
    for (name, r) in rows {
        s.push_str(&format!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | **{:.1}** |\n",
            100.0 * r.lang(0),
            100.0 * r.lang(1),
            100.0 * r.lang(2),
            100.0 * r.lang(3),
            100.0 * r.total()
        ));
    }
    s
}
