//! The server's side of search: the indexer thread that follows the store's change feed
//! into the [`collective_brain_index`] crate, and the rebuild behind `reindex`.
//!
//! The store numbers every change to a post (created, edited, deleted, translated,
//! relabelled) in one global feed, in the same transaction as the change. The indexer
//! waits on the feed's durable head, reads the changed posts' current state, puts or
//! removes their documents, and commits the index with the last change seq it applied.
//! Commits are batched (at most one per `index_commit`, off the request path), so the
//! server acks at full speed while a post becomes searchable a fraction of a second
//! later. A crash between an ack and a commit loses nothing: on start the indexer
//! resumes after the seq its last commit recorded.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use collective_brain_index::{Options, PostDoc, SearchIndex};

use crate::error::StoreError;
use crate::model::{Post, Room, RoomId, Visibility};
use crate::store::Store;

/// Changes applied per index batch at most (a long catch-up commits every this many).
const CHUNK: usize = 10_000;
/// How long the indexer sleeps at most before looking at its stop flag.
const POLL: Duration = Duration::from_millis(250);
/// A commit of at least this many posts means they are pouring in (2,500 a second at the
/// default interval): the next commit waits [`BUSY_COMMIT`] at least. Each commit costs
/// tantivy a segment (every field's dictionary and postings written, and merged later)
/// whatever its size; under durable posting at 8-10k posts/s, committing every 500 ms
/// instead of 200 ms took the index's CPU from about 36 to 27 µs a post (docs/SEARCH.md),
/// while a post still becomes searchable well within the second the search issue allows.
const BUSY: usize = 500;
const BUSY_COMMIT: Duration = Duration::from_millis(500);

/// Errors of search's plumbing.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Index(#[from] collective_brain_index::IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The index and the thread that keeps it current.
pub struct Search {
    pub index: Arc<SearchIndex>,
    /// The change seq the last commit applied.
    pub applied: Arc<AtomicU64>,
    /// When the index last held every change it had seen committed (unix ms): `/healthz`
    /// tells an index that stays behind.
    pub caught_up_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Search {
    /// Opens (or creates) the index in `dir` and starts following `store`. An index of
    /// another schema, or one ahead of the store (a restored backup), is rebuilt.
    /// `idle`: the index-writing thread runs at idle priority (`lower_priority`).
    pub fn start(store: Arc<Store>, dir: &Path, commit_every: Duration, idle: bool) -> Result<Search, SearchError> {
        let index = match SearchIndex::open(dir, &Options::default()) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "the search index cannot be used; rebuilding it from the store");
                let _ = std::fs::remove_dir_all(dir);
                SearchIndex::open(dir, &Options::default())?
            }
        };
        for c in store.concepts()? {
            index.add_concept(c)?;
        }
        let committed = index.applied()?;
        let index = Arc::new(index);
        let applied = Arc::new(AtomicU64::new(committed.unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let caught_up_ms = Arc::new(AtomicU64::new(crate::clock::unix_ms()));
        // The writer is made here, on the starting thread: its memory is taken before any
        // load, and its merging threads keep the normal policy (merges starved while the
        // CPU is busy left many small segments, and the memory they hold, behind).
        index.prepare_writer()?;
        let (indexer, writing) =
            Indexer::spawn(index.clone(), idle).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        let follower = Follower {
            store,
            index: index.clone(),
            indexer,
            writing: Some(writing),
            applied: applied.clone(),
            caught_up_ms: caught_up_ms.clone(),
            stop: stop.clone(),
            commit_every,
            fresh: committed.is_none(),
            puts_through: committed.unwrap_or(0),
        };
        let thread = std::thread::Builder::new()
            .name("search-indexer".into())
            .spawn(move || follower.run())
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(Search { index, applied, caught_up_ms, stop, thread: Mutex::new(Some(thread)) })
    }

    /// Stops the indexer (what it has not committed is caught up on the next start).
    /// Blocks until the thread ends.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let thread = self.thread.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

struct Follower {
    store: Arc<Store>,
    index: Arc<SearchIndex>,
    /// The index's writes go through the idle-priority thread.
    indexer: Indexer,
    /// That thread, joined when the follower stops.
    writing: Option<JoinHandle<()>>,
    applied: Arc<AtomicU64>,
    caught_up_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    commit_every: Duration,
    /// The index was never committed: build it from the posts.
    fresh: bool,
    /// Changes up to this seq may name a post the index (or its writer, uncommitted)
    /// already has a document for, other than through an earlier change: those are put,
    /// replacing any document. A post named by a later change, and by no change but its
    /// creation (one event: `seqs` of one), has no document yet and is added, which spares
    /// the index a delete for every new post (applied to every segment at the commit).
    puts_through: u64,
}

impl Follower {
    fn run(mut self) {
        let head = self.store.change_head().get();
        let applied = self.applied.load(Ordering::Acquire);
        if self.fresh || applied > head {
            match rebuild(&self.store, &self.indexer) {
                Ok((n, at)) => {
                    tracing::info!(posts = n, change = at, "search index built from the store");
                    self.applied.store(at, Ordering::Release);
                    // The rebuild read every post committed by the time it finished,
                    // some of them after `at`: the changes up to then are put.
                    self.puts_through = self.store.committed_change_seq().unwrap_or(u64::MAX);
                }
                Err(e) => {
                    tracing::error!(error = %e, "building the search index failed; following changes only");
                    // What the failed rebuild left in the writer is unknown: put everything.
                    self.puts_through = u64::MAX;
                }
            }
        } else {
            // What the index learned from translations lives in memory: learn it again
            // from the posts (a rebuild learns as it indexes).
            match learn_all(&self.store, &self.index) {
                Ok(n) if n > 0 => tracing::info!(pairs = n, "search learned from the community's translations"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "learning from translations failed; searching without"),
            }
            if head > applied {
                tracing::info!(behind = head - applied, "search index catching up with the store");
            }
        }
        let mut last_commit = Instant::now();
        // The last chunk stopped at `COMMIT_TEXT` with more to index: no wait for the next.
        let mut cut = false;
        // How long after a commit the next one waits: longer after a large one.
        let mut every = self.commit_every;
        while !self.stop.load(Ordering::Acquire) {
            let applied = self.applied.load(Ordering::Acquire);
            let head = self.store.change_head().wait_beyond(applied, POLL);
            if head <= applied {
                self.caught_up_ms.store(crate::clock::unix_ms(), Ordering::Relaxed);
                continue;
            }
            // Let a burst gather into one commit, but never hold a change longer than
            // `every` after the previous commit.
            while !cut && last_commit.elapsed() < every && !self.stop.load(Ordering::Acquire) {
                std::thread::sleep((every - last_commit.elapsed()).min(POLL));
            }
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            match self.apply(applied) {
                Ok((at, more, posts)) => {
                    self.applied.store(at, Ordering::Release);
                    if at >= head {
                        self.caught_up_ms.store(crate::clock::unix_ms(), Ordering::Relaxed);
                    }
                    cut = more;
                    every = if posts >= BUSY { self.commit_every.max(BUSY_COMMIT) } else { self.commit_every };
                }
                Err(e) => {
                    tracing::error!(error = %e, "indexing failed; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            last_commit = Instant::now();
        }
        // Dropping the indexer ends the index-writing thread.
        let Follower { indexer, writing, .. } = self;
        drop(indexer);
        if let Some(t) = writing {
            let _ = t.join();
        }
        tracing::debug!("search indexer stopped");
    }

    /// Applies changes after `applied` and commits; returns the new applied, whether it
    /// stopped at `COMMIT_TEXT` before the changes it read were all applied, and how many
    /// posts it indexed or removed.
    fn apply(&mut self, applied: u64) -> Result<(u64, bool, usize), SearchError> {
        let head = self.store.change_head().get();
        let changes = self.store.changes(applied, head, CHUNK)?;
        if changes.is_empty() {
            return Ok((applied, false, 0));
        }
        let puts_through = self.puts_through;
        let mut seen = HashSet::new();
        let mut rooms = HashMap::new();
        let mut ops = Vec::with_capacity(changes.len().min(OPS_AT_ONCE) + 1);
        let (mut last, mut text) = (applied, 0);
        let mut at = 0;
        // Change record by change record, each post once (its current state, read at the
        // first record that names it), until `COMMIT_TEXT` of text: what tantivy queues
        // and holds until the commit stays bounded however far behind the index is.
        while let Some(&(seq, _)) = changes.get(at) {
            if text >= COMMIT_TEXT {
                break;
            }
            // Until the commit, the writer holds these documents: should it fail, the
            // retry replaces them.
            self.puts_through = self.puts_through.max(seq);
            while let Some(&(_, id)) = changes.get(at).filter(|(s, _)| *s == seq) {
                at += 1;
                if !seen.insert(id) {
                    continue;
                }
                if ops.len() >= OPS_AT_ONCE {
                    self.indexer.run(std::mem::take(&mut ops))?;
                }
                let Some(rec) = self.store.post(id)? else {
                    ops.push(IndexOp::Remove(id.0));
                    continue;
                };
                let Some(doc) = post_doc(&self.store, &rec.post, &mut rooms)? else {
                    ops.push(IndexOp::Remove(id.0));
                    continue;
                };
                text += doc.body.len() + doc.translations.iter().map(|(_, t)| t.len()).sum::<usize>();
                let files = file_docs(&self.store, &rec.post, &doc)?;
                ops.push(if seq > puts_through && rec.seqs.len() == 1 { IndexOp::Add(doc) } else { IndexOp::Put(doc) });
                for f in files {
                    text += f.body.len();
                    ops.push(IndexOp::Put(f));
                }
            }
            last = seq;
        }
        ops.push(IndexOp::Commit(last));
        self.indexer.run(ops)?;
        Ok((last, at < changes.len(), seen.len()))
    }
}

/// A write to the index.
pub enum IndexOp {
    /// Adds or replaces the post's document.
    Put(PostDoc),
    /// Adds the document of a post the index has no document for.
    Add(PostDoc),
    Remove(u64),
    /// Removes every document.
    Clear,
    /// Commits, recording the change seq applied.
    Commit(u64),
}

/// Where the index's writes are made: on the calling thread (maintenance), or on the
/// server's index-writing thread, at idle priority (see `lower_priority`).
pub enum Indexer {
    Here(Arc<SearchIndex>),
    Thread(std::sync::mpsc::SyncSender<IndexWork>),
}

/// Writes for the index-writing thread, and where to say they are made.
pub type IndexWork = (Vec<IndexOp>, std::sync::mpsc::SyncSender<Result<(), SearchError>>);

impl Indexer {
    /// Starts the index-writing thread for `index`. It ends when the returned indexer is
    /// dropped.
    fn spawn(index: Arc<SearchIndex>, idle: bool) -> std::io::Result<(Indexer, JoinHandle<()>)> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<IndexWork>(1);
        let thread = std::thread::Builder::new().name("index-writer".into()).spawn(move || {
            if idle {
                lower_priority();
            }
            while let Ok((ops, reply)) = rx.recv() {
                let _ = reply.send(execute(&index, ops));
            }
        })?;
        Ok((Indexer::Thread(tx), thread))
    }

    /// Makes `ops`, in order; returns once they are made.
    pub fn run(&self, ops: Vec<IndexOp>) -> Result<(), SearchError> {
        match self {
            Indexer::Here(index) => execute(index, ops),
            Indexer::Thread(tx) => {
                let (reply, answer) = std::sync::mpsc::sync_channel(1);
                let gone =
                    || SearchError::Index(collective_brain_index::IndexError::Dir("the index writer stopped".into()));
                tx.send((ops, reply)).map_err(|_| gone())?;
                answer.recv().map_err(|_| gone())?
            }
        }
    }
}

fn execute(index: &SearchIndex, ops: Vec<IndexOp>) -> Result<(), SearchError> {
    for op in ops {
        match op {
            IndexOp::Put(doc) => index.put(&doc)?,
            IndexOp::Add(doc) => index.add(&doc)?,
            IndexOp::Remove(post) => index.remove(post)?,
            IndexOp::Clear => index.clear()?,
            IndexOp::Commit(seq) => index.commit(seq)?,
        }
    }
    Ok(())
}

/// Puts the calling thread (the index-writing one, with `index_idle`) under Linux's
/// `SCHED_IDLE` policy, and with it tantivy's indexing threads, which it starts at each
/// commit (threads inherit their creator's policy; the merging and search threads are
/// started elsewhere and keep the normal one). It only writes the index: the store is
/// read by the follower, at normal priority, so no thread sled starts (its I/O threads
/// are started by whichever thread needs one) can inherit the policy and slow a flush.
///
/// Indexing is background work with a freshness target of about a second, while acks and
/// deliveries wait on the writer, the flusher and the sockets' tasks. When the CPU is
/// saturated, an idle-policy thread runs only on a core nothing else wants, and a waking
/// normal thread preempts it at once: durable posting +7.7%, p99 9.6 ms instead of 12.1
/// on the 2-core load machine (docs/BENCHMARKS.md). The cost, and why it is opt-in: an
/// idle-policy thread weighs 3 against a normal thread's 1,024, so on a machine that
/// other work keeps busy without pause the index falls behind (`cb_index_lag_changes`)
/// and may not catch up until the load eases (beside three busy loops: not within
/// 120 s), losing nothing, as it follows the durable change feed. An unprivileged
/// thread cannot leave `SCHED_IDLE`, so this is for the thread's lifetime.
fn lower_priority() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy, ThreadPriority,
            ThreadSchedulePolicy,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle) {
            tracing::warn!(error = ?e, "the search indexer keeps the normal scheduling priority");
        }
    }
}

/// Rooms and whether their space is public, read once per batch.
pub type RoomCache = HashMap<RoomId, (Room, bool)>;

/// What the index holds for `post`: nothing when it is deleted.
pub fn post_doc(store: &Store, post: &Post, rooms: &mut RoomCache) -> Result<Option<PostDoc>, StoreError> {
    if post.deleted || post.hidden {
        return Ok(None);
    }
    let (room, public) = match rooms.get(&post.room) {
        Some(r) => r.clone(),
        None => {
            let Some(r) = store.room(post.room)? else { return Ok(None) };
            let Some(space) = store.space(r.space)? else { return Ok(None) };
            let public = space.visibility == Visibility::Public;
            rooms.insert(r.id, (r.clone(), public));
            (r, public)
        }
    };
    Ok(Some(PostDoc {
        owner: 0,
        post: post.id.0,
        room: room.id.0,
        space: room.space.0,
        public,
        author: post.author.0,
        created_us: crate::clock::parse_us(&post.created_at).unwrap_or(0),
        lang: post.lang.to_string(),
        body: post.body.clone(),
        // A thread's title belongs to its opening post.
        title: if post.seq == 1 { room.title.clone() } else { None },
        translations: post.translations.iter().map(|(l, t)| (l.to_string(), t.body.clone())).collect(),
        // And its translations, but those of an older title.
        title_translations: match post.seq {
            1 => room
                .title_translations
                .iter()
                .filter(|(_, t)| !t.stale)
                .map(|(l, t)| (l.to_string(), t.title.clone()))
                .collect(),
            _ => Vec::new(),
        },
    }))
}

/// The documents of `post`'s files whose text was read, readable as the post
/// (`post_doc`, its document) is.
pub fn file_docs(store: &Store, post: &Post, doc: &PostDoc) -> Result<Vec<PostDoc>, StoreError> {
    let mut out = Vec::new();
    for f in &post.files {
        let Some(rec) = store.file(f.id)? else { continue };
        if rec.text != crate::store::TextState::Read {
            continue;
        }
        let Some(text) = store.file_text(f.id)? else { continue };
        let id = collective_brain_index::FILE | f.id.0;
        out.push(PostDoc {
            post: id,
            owner: post.id.0,
            room: id,
            space: doc.space,
            public: doc.public,
            author: rec.file.uploader.0,
            created_us: crate::clock::parse_us(&rec.file.created_at).unwrap_or(doc.created_us),
            lang: rec.file.text_lang.map_or_else(|| doc.lang.clone(), |l| l.to_string()),
            body: match &rec.file.description {
                Some(d) => format!("{d}\n{text}"),
                None => text,
            },
            title: Some(match &rec.file.title {
                Some(t) => format!("{t} · {}", rec.file.name),
                None => rec.file.name.clone(),
            }),
            // Its title and description in other languages are searched in those.
            translations: rec
                .file
                .translations
                .iter()
                .map(|(l, t)| {
                    let words = [t.title.as_deref(), t.description.as_deref()].into_iter().flatten();
                    (l.to_string(), words.collect::<Vec<_>>().join("\n"))
                })
                .collect(),
            title_translations: Vec::new(),
        });
    }
    Ok(out)
}

/// Teaches `index` every translation of a public post in `store` (see the index's
/// lexicon); returns the translated pairs it knows.
pub fn learn_all(store: &Store, index: &SearchIndex) -> Result<usize, SearchError> {
    let mut rooms = HashMap::new();
    for rec in store.all_posts() {
        let rec = rec?;
        if rec.post.translations.is_empty() {
            continue;
        }
        if let Some(doc) = post_doc(store, &rec.post, &mut rooms)? {
            index.learn(&doc)?;
        }
    }
    Ok(index.learned_pairs())
}

/// Rebuilds `index` from every post in `store`. Returns the posts indexed and the change
/// seq the rebuild covers (read before the posts, so later changes are applied again).
pub fn rebuild(store: &Store, indexer: &Indexer) -> Result<(u64, u64), SearchError> {
    let head = store.change_head().get();
    let mut ops = vec![IndexOp::Clear];
    let mut rooms = HashMap::new();
    let mut n = 0;
    for rec in store.all_posts() {
        let rec = rec?;
        if let Some(doc) = post_doc(store, &rec.post, &mut rooms)? {
            for f in file_docs(store, &rec.post, &doc)? {
                ops.push(IndexOp::Add(f));
            }
            ops.push(IndexOp::Add(doc));
            n += 1;
            if ops.len() >= OPS_AT_ONCE {
                indexer.run(std::mem::take(&mut ops))?;
            }
        }
    }
    ops.push(IndexOp::Commit(head));
    indexer.run(ops)?;
    Ok((n, head))
}

/// Text indexed between two commits at most, in bytes, when the index is behind (a
/// commit waits for tantivy to have indexed what it queued).
const COMMIT_TEXT: usize = 2 << 20;
/// Documents handed to the index-writing thread at a time: what the follower holds
/// (posts' text included) stays bounded however far behind the index is.
const OPS_AT_ONCE: usize = 256;

/// `collective-brain reindex`: rebuilds the index of a stopped server's data dir.
pub fn reindex(data_dir: &Path) -> Result<u64, SearchError> {
    let store = Store::open_for_maintenance(data_dir)?;
    let dir = data_dir.join("index");
    let _ = std::fs::remove_dir_all(&dir);
    let index = Arc::new(SearchIndex::open(&dir, &Options { threads: 2, ..Options::default() })?);
    let (n, _) = rebuild(&store, &Indexer::Here(index.clone()))?;
    if let Ok(index) = Arc::try_unwrap(index) {
        index.wait_merges()?;
    }
    Ok(n)
}
