//! Cross-language search for the Collective Brain.
//!
//! One tantivy document per post. The original text goes into the field of its language
//! and every translation into the field of its own, each analysed with that language's
//! stemmer after lower-casing and accent folding; a thread's title goes into the title
//! field of its opening post's language and weighs more. Every text also goes, cut into
//! character n-grams, into one shared field, which finds cognates in posts that nobody
//! has translated yet; and the query is expanded with the names, in every language, of the
//! Social and Solidarity Economy concepts it mentions (the [`glossary`]).
//!
//! Privacy is part of the query: every search names the spaces the caller may read and
//! the index returns, counts and pages only documents from them.
//!
//! The server keeps one [`SearchIndex`] with one writer (its indexer thread); each commit
//! records the store's change sequence it has applied, so a restart resumes exactly there.

pub mod analysis;
mod collect;
pub mod eval;
pub mod glossary;
mod highlight;
pub mod lexicon;
mod stats;
mod stem;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use analysis::{field_lang, FIELD_LANGS};
pub use glossary::{matches_parts, Concept, Glossary};
pub use highlight::{Highlight, Part};

/// How much a title match weighs against a body match.
const TITLE_BOOST: f32 = 2.0;
/// How much an n-gram match weighs: enough to find cognates, less than a whole word.
const GRAM_BOOST: f32 = 2.0;
/// How much a learned expansion weighs at most (times its association).
const LEARNED_BOOST: f32 = 0.6;
/// How much a glossary expansion weighs.
const GLOSSARY_BOOST: f32 = 0.8;
/// n-grams found in more than this share of the documents are not searched...
const GRAM_MAX_SHARE: f64 = 0.005;
/// ...unless they are in fewer than this many.
const GRAM_MIN_DF_CAP: u64 = 2_000;
/// n-grams searched per query word at most (its rarest).
const GRAMS_PER_WORD: usize = 6;
/// At most this many documents are gathered into thread groups for one page.
const MAX_COLLECT: usize = 5_000;
/// Threads that search a query's segments side by side, at most.
const MAX_SEARCH_THREADS: usize = 4;
/// The schema's version, kept in each commit's payload; another version means reindex.
const SCHEMA: u32 = 6;

/// Errors of the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Dir(String),
    #[error("the search index was built by another version (schema {found}, this build writes {SCHEMA}): run `collective-brain reindex`")]
    Schema { found: u32 },
    #[error("search index: a lock was poisoned")]
    Poisoned,
}

pub type Result<T> = std::result::Result<T, IndexError>;

/// The bit that marks a document's `post` (and `room`) as a file's: `FILE | file id`.
/// Ids stay below 2^48, so the bit is never a post's.
pub const FILE: u64 = 1 << 63;

/// A post as the index sees it; or a document attached to a post, whose text is indexed
/// alike under `post = FILE | file id` (and `room` the same: each file is its own group
/// of results), `owner` the post it is attached to, `title` its name.
#[derive(Clone, Debug, PartialEq)]
pub struct PostDoc {
    pub post: u64,
    /// The post whose removal removes this document: the post itself, or for a file the
    /// post it is attached to. 0 means `post`.
    pub owner: u64,
    pub room: u64,
    pub space: u64,
    /// Whether the space is public (readable by everyone, guests included).
    pub public: bool,
    pub author: u64,
    /// When the post was written, in microseconds since the epoch: the order of "newest"
    /// (a store gives no two posts the same time).
    pub created_us: i64,
    pub lang: String,
    pub body: String,
    /// The thread's title, on the thread's opening post only.
    pub title: Option<String>,
    /// `(lang, body)` of each translation.
    pub translations: Vec<(String, String)>,
    /// `(lang, title)` of each translation of the title (the opening post's only).
    pub title_translations: Vec<(String, String)>,
}

/// How results are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Relevance,
    Recent,
}

/// One search.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub text: String,
    /// Whether the caller may read public spaces (everyone may, today).
    pub public: bool,
    /// The private spaces the caller is a member of. Nothing outside the public spaces
    /// (when `public`) and these is matched, counted or paged. A space made public
    /// since its posts were indexed is named here too, for everyone.
    pub private_spaces: Vec<u64>,
    /// Spaces made private since their posts were indexed as public, that the caller
    /// may not read: none of their documents is matched, counted or paged.
    pub closed_spaces: Vec<u64>,
    pub space: Option<u64>,
    pub author: Option<u64>,
    /// Posts readable in this language: written in it or translated into it.
    pub lang: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub sort: Sort,
    /// Thread groups to skip.
    pub offset: usize,
    /// Thread groups to return.
    pub limit: usize,
    /// Only posts (`Some(false)`), only files (`Some(true)`), or both.
    pub files: Option<bool>,
}

/// One thread's group of matching posts.
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadHit {
    pub room: u64,
    pub space: u64,
    /// The best-ranked post of the thread.
    pub post: u64,
    pub score: f32,
    /// The thread's other matching posts, best first.
    pub also: Vec<u64>,
}

/// A page of results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchPage {
    /// Matching posts the caller may read (all pages).
    pub total: usize,
    pub threads: Vec<ThreadHit>,
    /// Whether another page follows.
    pub more: bool,
}

/// What a query was analysed into, for highlighting the hits.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Terms per field language: the query's own and the glossary's.
    terms: HashMap<&'static str, HashSet<String>>,
    /// Terms per field language that the lexicon learned answer the query's words: marked
    /// too, but weaker evidence of the version that matched.
    learned: HashMap<&'static str, HashSet<String>>,
    grams: HashSet<String>,
}

struct Fields {
    post: Field,
    owner: Field,
    /// `file` on the documents of files; posts have none.
    kind: Field,
    room: Field,
    space: Field,
    author: Field,
    created: Field,
    acl: Field,
    langs: Field,
    digest: Field,
    text: Vec<Field>,
    title: Vec<Field>,
    grams: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = NumericOptions::default().set_indexed().set_fast().set_stored();
    let post = b.add_u64_field("post", id.clone());
    let owner = b.add_u64_field("owner", NumericOptions::default().set_indexed());
    let kind = b.add_text_field("kind", STRING);
    let room = b.add_u64_field("room", NumericOptions::default().set_fast());
    let space = b.add_u64_field("space", NumericOptions::default().set_indexed().set_fast());
    let author = b.add_u64_field("author", NumericOptions::default().set_indexed());
    let created = b.add_i64_field("created", NumericOptions::default().set_indexed().set_fast());
    let acl = b.add_text_field("acl", STRING);
    let langs = b.add_text_field("langs", STRING);
    let digest = b.add_u64_field("digest", STORED);
    let text_opts = |analyzer: String| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(&analyzer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let mut text = Vec::new();
    let mut title = Vec::new();
    for l in FIELD_LANGS {
        text.push(b.add_text_field(&format!("text_{l}"), text_opts(analysis::analyzer_name(l))));
    }
    for l in FIELD_LANGS {
        title.push(b.add_text_field(&format!("title_{l}"), text_opts(analysis::analyzer_name(l))));
    }
    let grams = b.add_text_field(
        "grams",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analysis::GRAMS).set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let _ = id;
    (b.build(), Fields { post, owner, kind, room, space, author, created, acl, langs, digest, text, title, grams })
}

fn lang_index(field_lang: &str) -> usize {
    FIELD_LANGS.iter().position(|l| *l == field_lang).unwrap_or(FIELD_LANGS.len() - 1)
}

/// The search index: one writer, any number of concurrent searches.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// Made on first use, by the thread that first writes (see [`SearchIndex::open`]).
    writer: Mutex<Option<IndexWriter>>,
    /// Indexing threads and memory, for the writer.
    writer_options: (usize, usize),
    f: Fields,
    glossary: RwLock<Glossary>,
    /// The documents of each private space in each segment, as bitsets: segments never
    /// change their documents, so these hold until the segment is merged away.
    space_docs: Mutex<HashMap<(tantivy::index::SegmentId, u64), DocBits>>,
    /// Words that answer each other across languages, learned from translations.
    lexicon: RwLock<lexicon::Lexicon>,
    /// Each segment's `post`, `room` and `space` columns, for grouping hits by thread.
    id_columns: Mutex<HashMap<tantivy::index::SegmentId, Arc<IdColumns>>>,
    /// Each segment's public documents and their lengths, for scoring (`stats`).
    public: stats::PublicCache,
}

/// A set of a segment's documents, one bit each.
type DocBits = Arc<Vec<u64>>;

/// A segment's id columns.
struct IdColumns {
    post: tantivy::columnar::Column<u64>,
    room: tantivy::columnar::Column<u64>,
    space: tantivy::columnar::Column<u64>,
}

/// How to open the index.
#[derive(Clone, Debug)]
pub struct Options {
    /// The writer's indexing memory, in bytes, shared by its threads.
    pub memory_bytes: usize,
    /// Indexing threads (1 for the server's steady trickle; more for bulk builds).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { memory_bytes: 15 << 20, threads: 1 }
    }
}

/// What a commit records.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    schema: u32,
    applied: u64,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it if it is not there.
    pub fn open(dir: &Path, options: &Options) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir).map_err(|e| IndexError::Dir(format!("{}: {e}", dir.display())))?;
        let (schema, f) = schema();
        let mmap = MmapDirectory::open(dir).map_err(|e| IndexError::Dir(e.to_string()))?;
        let index = Index::open_or_create(mmap, schema)?;
        Self::with(index, f, options)
    }

    /// An index in memory, for evaluations and tests.
    pub fn in_ram(options: &Options) -> Result<SearchIndex> {
        let (schema, f) = schema();
        Self::with(Index::create_in_ram(schema), f, options)
    }

    fn with(mut index: Index, f: Fields, options: &Options) -> Result<SearchIndex> {
        analysis::register(index.tokenizers());
        // A query's segments are searched side by side: on two cores a query over a
        // large index takes about half as long (it costs the same CPU).
        let search_threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_SEARCH_THREADS);
        if search_threads > 1 {
            index.set_multithread_executor(search_threads)?;
        }
        if let Some(p) = read_payload(&index)? {
            if p.schema != SCHEMA {
                return Err(IndexError::Schema { found: p.schema });
            }
        }
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let threads = options.threads.max(1);
        let memory = options.memory_bytes.max((threads * 15) << 20);
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(None),
            writer_options: (threads, memory),
            f,
            glossary: RwLock::new(Glossary::shipped()),
            space_docs: Mutex::new(HashMap::new()),
            public: stats::PublicCache::default(),
            id_columns: Mutex::new(HashMap::new()),
            lexicon: RwLock::new(lexicon::Lexicon::default()),
        })
    }

    /// The store change sequence the last commit applied; `None` for an index never
    /// committed.
    pub fn applied(&self) -> Result<Option<u64>> {
        Ok(read_payload(&self.index)?.map(|p| p.applied))
    }

    /// Adds `concept` to the glossary that expands queries.
    pub fn add_concept(&self, concept: Concept) -> Result<()> {
        self.glossary.write().map_err(|_| IndexError::Poisoned)?.add(concept);
        Ok(())
    }

    /// The glossary's concepts.
    pub fn concepts(&self) -> Result<Vec<Concept>> {
        Ok(self.glossary.read().map_err(|_| IndexError::Poisoned)?.concepts().to_vec())
    }

    /// What a text must hold to match `query` across languages (`Glossary::parts`).
    pub fn query_parts(&self, query: &str) -> Result<Vec<Vec<String>>> {
        Ok(self.glossary.read().map_err(|_| IndexError::Poisoned)?.parts(query))
    }

    /// Adds or replaces the document of `doc.post`. Visible after the next commit.
    pub fn put(&self, doc: &PostDoc) -> Result<()> {
        self.learn(doc)?;
        self.with_writer(|w| {
            w.delete_term(Term::from_field_u64(self.f.post, doc.post));
            w.add_document(self.document(doc))?;
            Ok(())
        })
    }

    /// Adds the document of `doc.post`, which must not be in the index yet (a rebuild
    /// after [`SearchIndex::clear`], a post never indexed): no delete to apply at the
    /// commit, so bulk builds and new posts cost less.
    pub fn add(&self, doc: &PostDoc) -> Result<()> {
        self.learn(doc)?;
        self.with_writer(|w| {
            w.add_document(self.document(doc))?;
            Ok(())
        })
    }

    /// Removes the document of `post` (and with it its translations), and those of the
    /// files attached to it.
    pub fn remove(&self, post: u64) -> Result<()> {
        self.with_writer(|w| {
            w.delete_term(Term::from_field_u64(self.f.owner, post));
            Ok(())
        })
    }

    /// Removes every document (before a rebuild).
    pub fn clear(&self) -> Result<()> {
        self.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })
    }

    /// Makes everything put or removed so far durable and searchable, recording that the
    /// store's changes up to `applied` are in.
    pub fn commit(&self, applied: u64) -> Result<()> {
        self.with_writer(|w| {
            let mut prepared = w.prepare_commit()?;
            let payload = serde_json::to_string(&Payload { schema: SCHEMA, applied })
                .map_err(|e| IndexError::Dir(e.to_string()))?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Waits for background merges to finish (after a bulk build).
    pub fn wait_merges(self) -> Result<()> {
        if let Some(w) = self.writer.into_inner().map_err(|_| IndexError::Poisoned)? {
            w.wait_merging_threads()?;
        }
        Ok(())
    }

    /// Makes the writer now if it is not made yet (its memory and threads), on this
    /// thread (see `with_writer`).
    pub fn prepare_writer(&self) -> Result<()> {
        self.with_writer(|_| Ok(()))
    }

    /// Runs `f` with the writer, made on first use: its indexing and merging threads are
    /// started by the thread that first writes, and take on its scheduling (the server's
    /// indexer runs at idle priority; the search threads, started at `open`, do not).
    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut slot = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        let writer = match slot.take() {
            Some(w) => w,
            None => self.index.writer_with_num_threads(self.writer_options.0, self.writer_options.1)?,
        };
        f(slot.insert(writer))
    }

    /// Documents searchable now.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Every searchable post with the digest of what was indexed for it, sorted: two
    /// indexes holding the same documents have the same fingerprint.
    pub fn fingerprint(&self) -> Result<Vec<(u64, u64)>> {
        let searcher = self.reader.searcher();
        let addrs = searcher.search(&AllQuery, &tantivy::collector::DocSetCollector)?;
        let mut out = Vec::with_capacity(addrs.len());
        for a in addrs {
            let d: TantivyDocument = searcher.doc(a)?;
            let post = d.get_first(self.f.post).and_then(|v| v.as_u64()).unwrap_or(0);
            let digest = d.get_first(self.f.digest).and_then(|v| v.as_u64()).unwrap_or(0);
            out.push((post, digest));
        }
        out.sort_unstable();
        Ok(out)
    }

    fn document(&self, d: &PostDoc) -> TantivyDocument {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.post, d.post);
        doc.add_u64(f.owner, if d.owner == 0 { d.post } else { d.owner });
        if d.post & FILE != 0 {
            doc.add_text(f.kind, "file");
        }
        doc.add_u64(f.room, d.room);
        doc.add_u64(f.space, d.space);
        doc.add_u64(f.author, d.author);
        doc.add_i64(f.created, d.created_us);
        doc.add_text(f.acl, acl_term(d.public, d.space));
        doc.add_u64(f.digest, digest(d));
        let mut langs = vec![d.lang.as_str()];
        let original = lang_index(field_lang(&d.lang));
        doc.add_text(f.text[original], &d.body);
        doc.add_text(f.grams, &d.body);
        if let Some(t) = &d.title {
            doc.add_text(f.title[original], t);
            doc.add_text(f.grams, t);
        }
        for (lang, body) in &d.translations {
            langs.push(lang);
            doc.add_text(f.text[lang_index(field_lang(lang))], body);
            doc.add_text(f.grams, body);
        }
        for (lang, title) in &d.title_translations {
            doc.add_text(f.title[lang_index(field_lang(lang))], title);
            doc.add_text(f.grams, title);
        }
        langs.sort_unstable();
        langs.dedup();
        for l in langs {
            doc.add_text(f.langs, l);
        }
        doc
    }

    /// Analyses `text` for every field, with the glossary's expansions.
    pub fn plan(&self, text: &str) -> Result<Plan> {
        let mut plan = Plan::default();
        let mut learned: Vec<(usize, String)> = Vec::new();
        {
            let lexicon = self.lexicon.read().map_err(|_| IndexError::Poisoned)?;
            for (i, l) in FIELD_LANGS.iter().enumerate() {
                let mut a = self.analyzer(l);
                let set: HashSet<String> = analysis::analyze(&mut a, text).into_iter().map(|t| t.text).collect();
                for t in &set {
                    learned.extend(lexicon.expand(i, t).into_iter().map(|e| (e.lang, e.term)));
                }
                plan.terms.entry(l).or_default().extend(set);
            }
        }
        // Learned expansions are marked in snippets too.
        for (i, term) in learned {
            if let Some(l) = FIELD_LANGS.get(i) {
                plan.learned.entry(l).or_default().insert(term);
            }
        }
        let expansions = self.glossary.read().map_err(|_| IndexError::Poisoned)?.expand(text);
        for (lang, name) in expansions {
            let l = field_lang(&lang);
            let mut a = self.analyzer(l);
            let terms = analysis::analyze(&mut a, &name).into_iter().map(|t| t.text);
            plan.terms.entry(l).or_default().extend(terms);
        }
        let mut g = self.analyzer_named(analysis::GRAMS, analysis::grams_analyzer);
        plan.grams = analysis::analyze(&mut g, text).into_iter().map(|t| t.text).collect();
        Ok(plan)
    }

    /// The query that matches `text` in any language (without access or filters).
    fn text_query(&self, searcher: &tantivy::Searcher, text: &str) -> Result<Box<dyn Query>> {
        // n-grams in a large share of the documents ("^con", "cion") say little and cost
        // the most: they are left out of big indexes.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let max_gram_df = ((searcher.num_docs() as f64 * GRAM_MAX_SHARE) as u64).max(GRAM_MIN_DF_CAP);
        let f = &self.f;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let lexicon = self.lexicon.read().map_err(|_| IndexError::Poisoned)?;
        let mut learned = HashSet::new();
        for (i, l) in FIELD_LANGS.iter().enumerate() {
            let mut a = self.analyzer(l);
            let mut seen = HashSet::new();
            for t in analysis::analyze(&mut a, text) {
                if !seen.insert(t.text.clone()) {
                    continue;
                }
                // A term in no document (a language nobody wrote in, a word in no title)
                // would still cost a scorer in every segment.
                if searcher.doc_freq(&Term::from_field_text(f.text[i], &t.text))? > 0 {
                    should.push((Occur::Should, term_query(f.text[i], &t.text)));
                }
                // What the community's translations say this word is in other languages.
                for e in lexicon.expand(i, &t.text) {
                    let Some(field) = f.text.get(e.lang) else { continue };
                    if learned.insert((e.lang, e.term.clone()))
                        && searcher.doc_freq(&Term::from_field_text(*field, &e.term))? > 0
                    {
                        should.push((
                            Occur::Should,
                            Box::new(BoostQuery::new(term_query(*field, &e.term), LEARNED_BOOST * e.weight)),
                        ));
                    }
                }
                if searcher.doc_freq(&Term::from_field_text(f.title[i], &t.text))? > 0 {
                    should
                        .push((Occur::Should, Box::new(BoostQuery::new(term_query(f.title[i], &t.text), TITLE_BOOST))));
                }
            }
        }
        // Each query word's n-grams together weigh as one word: a long word must not
        // outweigh the others by having more pieces.
        let mut g = self.analyzer_named(analysis::GRAMS, analysis::grams_analyzer);
        let mut by_word: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        for t in analysis::analyze(&mut g, text) {
            by_word.entry((t.from, t.to)).or_default().push(t.text);
        }
        let mut seen = HashSet::new();
        for grams in by_word.values() {
            // A word's rarest n-grams only: they carry nearly all its weight, and the
            // common ones cost the most to walk.
            let mut rare: Vec<(u64, &String)> = Vec::with_capacity(grams.len());
            for gram in grams {
                if seen.insert(gram.clone()) {
                    let df = searcher.doc_freq(&Term::from_field_text(f.grams, gram))?;
                    if df > 0 && df <= max_gram_df {
                        rare.push((df, gram));
                    }
                }
            }
            rare.sort_unstable();
            rare.truncate(GRAMS_PER_WORD);
            #[allow(clippy::cast_precision_loss)]
            let weight = GRAM_BOOST / (grams.len() as f32).sqrt();
            for (_, gram) in rare {
                should.push((Occur::Should, Box::new(BoostQuery::new(term_query(f.grams, gram), weight))));
            }
        }
        let expansions = self.glossary.read().map_err(|_| IndexError::Poisoned)?.expand(text);
        for (lang, name) in expansions {
            let l = field_lang(&lang);
            let i = lang_index(l);
            let mut a = self.analyzer(l);
            let terms = analysis::analyze(&mut a, &name);
            let q: Box<dyn Query> = match terms.len() {
                0 => continue,
                1 => term_query(f.text[i], &terms[0].text),
                _ => {
                    let first = terms[0].position;
                    Box::new(PhraseQuery::new_with_offset(
                        terms.iter().map(|t| (t.position - first, Term::from_field_text(f.text[i], &t.text))).collect(),
                    ))
                }
            };
            should.push((Occur::Should, Box::new(BoostQuery::new(q, GLOSSARY_BOOST))));
        }
        Ok(Box::new(BooleanQuery::new(should)))
    }

    /// Runs `q`. Only documents the caller may read are matched, counted and paged.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchPage> {
        let f = &self.f;
        if (!q.public && q.private_spaces.is_empty()) || q.limit == 0 {
            return Ok(SearchPage::default());
        }
        let searcher = self.reader.searcher();
        let text = self.text_query(&searcher, &q.text)?;
        let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
        // Who may read what: with `public`, everything but the private spaces the caller
        // is not in, read from this very snapshot's `acl` terms (so a space created a
        // moment ago cannot slip through), checked on every match by the collector;
        // without, only the caller's private spaces, as a required clause.
        let excluded = if q.public {
            self.unreadable_docs(&searcher, &q.private_spaces)?
        } else {
            let acl = q.private_spaces.iter().map(|s| Term::from_field_text(f.acl, &acl_term(false, *s)));
            must.push((Occur::Must, Box::new(TermSetQuery::new(acl))));
            Vec::new()
        };
        if !q.closed_spaces.is_empty() {
            let closed = q.closed_spaces.iter().map(|s| Term::from_field_u64(f.space, *s));
            must.push((Occur::MustNot, Box::new(TermSetQuery::new(closed))));
        }
        if let Some(s) = q.space {
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_u64(f.space, s), IndexRecordOption::Basic)),
            ));
        }
        if let Some(files) = q.files {
            // Files carry a `kind` term, posts none: a posting list as short as the files.
            let file = TermQuery::new(Term::from_field_text(f.kind, "file"), IndexRecordOption::Basic);
            must.push((if files { Occur::Must } else { Occur::MustNot }, Box::new(file)));
        }
        if let Some(a) = q.author {
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_u64(f.author, a), IndexRecordOption::Basic)),
            ));
        }
        if let Some(l) = &q.lang {
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_text(f.langs, l), IndexRecordOption::Basic)),
            ));
        }
        if q.from_ms.is_some() || q.to_ms.is_some() {
            let lo = q
                .from_ms
                .map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(f.created, v.saturating_mul(1000))));
            let hi = q
                .to_ms
                .map_or(Bound::Unbounded, |v| Bound::Excluded(Term::from_field_i64(f.created, v.saturating_mul(1000))));
            must.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        let query = BooleanQuery::new(must);
        // Enough documents to fill the page with thread groups in the usual case; a
        // thread with very many matches only shortens the last page reachable.
        let want = (q.offset + q.limit + 1).saturating_mul(8).min(MAX_COLLECT);
        let rank = match q.sort {
            Sort::Relevance => collect::Rank::Score,
            // Post ids grow with time (one counter for the community), and unlike
            // milliseconds they never tie. Recency has no relevance score: 0.
            Sort::Recent => collect::Rank::Newest,
        };
        // Scored with statistics over public documents only (`stats`).
        let public = stats::PublicStats { searcher: &searcher, acl: f.acl, cache: &self.public };
        let collector = collect::Readable { limit: want, rank, excluded: &excluded };
        let (total, docs) = searcher.search_with_statistics_provider(&query, &collector, &public)?;
        let mut groups: Vec<ThreadHit> = Vec::new();
        let mut by_room: HashMap<u64, usize> = HashMap::new();
        let columns = self.id_columns(&searcher)?;
        for (score, addr) in &docs {
            let Some(cols) = columns.get(addr.segment_ord as usize) else { continue };
            let post = cols.post.first(addr.doc_id).unwrap_or(0);
            let room = cols.room.first(addr.doc_id).unwrap_or(0);
            let space = cols.space.first(addr.doc_id).unwrap_or(0);
            match by_room.get(&room) {
                Some(&i) => groups[i].also.push(post),
                None => {
                    by_room.insert(room, groups.len());
                    groups.push(ThreadHit { room, space, post, score: *score, also: Vec::new() });
                }
            }
        }
        let more = groups.len() > q.offset + q.limit || (docs.len() == want && total > want);
        let threads = groups.into_iter().skip(q.offset).take(q.limit).collect();
        Ok(SearchPage { total, threads, more })
    }

    /// Learns from the translations of a public post which words answer each other
    /// across languages (see [`lexicon`]); each translation once. `put` and `add` call
    /// it; a server that did not rebuild its index calls it for every post on start.
    pub fn learn(&self, doc: &PostDoc) -> Result<()> {
        if !doc.public || doc.translations.is_empty() {
            return Ok(());
        }
        let la = lang_index(field_lang(&doc.lang));
        let mut original: Option<Vec<String>> = None;
        for (lang, body) in &doc.translations {
            let lb = lang_index(field_lang(lang));
            if la == lb || self.lexicon.read().map_err(|_| IndexError::Poisoned)?.seen(doc.post, lb) {
                continue;
            }
            let a = original.get_or_insert_with(|| {
                let mut an = self.analyzer(FIELD_LANGS[la]);
                analysis::analyze(&mut an, &doc.body).into_iter().map(|t| t.text).collect()
            });
            let mut an = self.analyzer(FIELD_LANGS[lb]);
            let b: Vec<String> = analysis::analyze(&mut an, body).into_iter().map(|t| t.text).collect();
            self.lexicon.write().map_err(|_| IndexError::Poisoned)?.learn(doc.post, la, a, lb, &b);
        }
        Ok(())
    }

    /// The words the lexicon adds to a query: `(field language, term)`.
    pub fn learned_expansions(&self, text: &str) -> Result<Vec<(String, String)>> {
        let lexicon = self.lexicon.read().map_err(|_| IndexError::Poisoned)?;
        let mut out = Vec::new();
        for (i, l) in FIELD_LANGS.iter().enumerate() {
            let mut a = self.analyzer(l);
            for t in analysis::analyze(&mut a, text) {
                for e in lexicon.expand(i, &t.text) {
                    let pair = (FIELD_LANGS.get(e.lang).copied().unwrap_or("xx").to_owned(), e.term);
                    if !out.contains(&pair) {
                        out.push(pair);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Forgets everything learned from translations (for evaluations).
    pub fn forget_learned(&self) {
        if let Ok(mut l) = self.lexicon.write() {
            *l = lexicon::Lexicon::default();
        }
    }

    /// Translated pairs the lexicon has learned from.
    pub fn learned_pairs(&self) -> usize {
        self.lexicon.read().map_or(0, |l| l.learned())
    }

    /// Each segment's id columns (by segment ordinal), opened once per segment.
    fn id_columns(&self, searcher: &tantivy::Searcher) -> Result<Vec<Arc<IdColumns>>> {
        let mut cache = self.id_columns.lock().map_err(|_| IndexError::Poisoned)?;
        if cache.len() > searcher.segment_readers().len() * 4 {
            let live: HashSet<tantivy::index::SegmentId> =
                searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
            cache.retain(|seg, _| live.contains(seg));
        }
        let mut out = Vec::with_capacity(searcher.segment_readers().len());
        for seg in searcher.segment_readers() {
            let cols = match cache.get(&seg.segment_id()) {
                Some(c) => c.clone(),
                None => {
                    let ff = seg.fast_fields();
                    let c =
                        Arc::new(IdColumns { post: ff.u64("post")?, room: ff.u64("room")?, space: ff.u64("space")? });
                    cache.insert(seg.segment_id(), c.clone());
                    c
                }
            };
            out.push(cols);
        }
        Ok(out)
    }

    /// The analyzer of a field language, as registered (built once: stop word lists and
    /// stemmers are not rebuilt for every query).
    fn analyzer(&self, field_lang: &str) -> tantivy::tokenizer::TextAnalyzer {
        self.index
            .tokenizers()
            .get(&analysis::analyzer_name(field_lang))
            .unwrap_or_else(|| analysis::analyzer(field_lang))
    }

    fn analyzer_named(
        &self,
        name: &str,
        build: fn() -> tantivy::tokenizer::TextAnalyzer,
    ) -> tantivy::tokenizer::TextAnalyzer {
        self.index.tokenizers().get(name).unwrap_or_else(build)
    }

    /// Per segment of `searcher`'s snapshot, the documents of the private spaces other
    /// than `readable` (None when there are none). Which private spaces a segment holds is
    /// read from its own `acl` terms, so a space created a moment ago cannot slip through.
    fn unreadable_docs(&self, searcher: &tantivy::Searcher, readable: &[u64]) -> Result<Vec<Option<DocBits>>> {
        let mut out = Vec::with_capacity(searcher.segment_readers().len());
        let mut cache = self.space_docs.lock().map_err(|_| IndexError::Poisoned)?;
        let live: HashSet<tantivy::index::SegmentId> =
            searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
        cache.retain(|(seg, _), _| live.contains(seg));
        for seg in searcher.segment_readers() {
            let mut merged: Option<DocBits> = None;
            for space in segment_private_spaces(seg, self.f.acl)? {
                if readable.contains(&space) {
                    continue;
                }
                let bits = match cache.get(&(seg.segment_id(), space)) {
                    Some(b) => b.clone(),
                    None => {
                        let b =
                            Arc::new(collect::space_bits(seg, self.f.acl, std::iter::once(acl_term(false, space)))?);
                        cache.insert((seg.segment_id(), space), b.clone());
                        b
                    }
                };
                merged = Some(match merged {
                    None => bits,
                    Some(mut m) => {
                        for (w, b) in Arc::make_mut(&mut m).iter_mut().zip(bits.iter()) {
                            *w |= *b;
                        }
                        m
                    }
                });
            }
            out.push(merged);
        }
        Ok(out)
    }

    /// Picks, among a post's versions (`(lang, text)`: the original first), the one the
    /// query matched best, and cuts a snippet of it with the matched words marked.
    pub fn highlight(&self, plan: &Plan, versions: &[(&str, &str)], max_chars: usize) -> Option<Highlight> {
        highlight::best(plan, versions, max_chars)
    }
}

/// The private spaces with documents in one segment, from its `acl` terms.
fn segment_private_spaces(seg: &tantivy::SegmentReader, acl: Field) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    let inverted = seg.inverted_index(acl)?;
    let mut terms = inverted.terms().stream().map_err(|e| IndexError::Dir(e.to_string()))?;
    while terms.advance() {
        if let Some(id) = std::str::from_utf8(terms.key()).ok().and_then(|k| k.strip_prefix('s')) {
            if let Ok(id) = id.parse() {
                out.push(id);
            }
        }
    }
    Ok(out)
}

/// Who may read a document: everyone (`public`) or the members of its space (`s<id>`),
/// as when the post was indexed. When a space's visibility changes its posts are indexed
/// again; until then the caller's query names the space (`private_spaces`,
/// `closed_spaces`).
fn acl_term(public: bool, space: u64) -> String {
    if public {
        "public".to_owned()
    } else {
        format!("s{space}")
    }
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

fn read_payload(index: &Index) -> Result<Option<Payload>> {
    let metas = index.load_metas()?;
    Ok(metas.payload.as_deref().and_then(|p| serde_json::from_str(p).ok()))
}

/// A stable 64-bit FNV-1a digest of what is indexed for a post.
fn digest(d: &PostDoc) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    for n in [d.post, d.owner, d.room, d.space, d.author] {
        eat(&n.to_be_bytes());
    }
    eat(&d.created_us.to_be_bytes());
    eat(d.lang.as_bytes());
    eat(d.body.as_bytes());
    eat(d.title.as_deref().unwrap_or("\u{0}").as_bytes());
    for (l, b) in d.translations.iter().chain(&d.title_translations) {
        eat(l.as_bytes());
        eat(b.as_bytes());
    }
    h
}

#[cfg(test)]
mod tests;
