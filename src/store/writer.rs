//! The single writer: group commit.
//!
//! Writes arrive on a bounded queue. The applying thread takes everything waiting (up to
//! a batch), runs its ops against the trees as the batch sees them (`ops::Tx`: its own
//! writes over sled) and commits the writes in one short sled transaction; the flushing
//! thread flushes once for
//! every batch applied since its last flush, and only then advances the rooms' durable
//! heads, hands the batches' events to the publish sink in commit order, and answers each
//! caller. The two overlap: batch n+1 is applied while batch n is being flushed. Under
//! load, many posts share one fsync; alone, a post waits for exactly one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use dashmap::DashMap;
use tokio::sync::{mpsc, oneshot};

use super::change::Change;
use super::disk::DiskSync;
use super::engine::{Db, Error as EngineError, KvEngine, Tree};
use super::mirror::Mirror;
use super::nonces::{self, NonceIndex};
use super::ops::Ctx;
use super::ops::{apply, fold_nonces, write_changes, Effects, Fatal, Op, Outcome, Tx, Writes};
use super::refusal::{Refusal, WriteError};
use super::{runs, Trees};
use super::{ChangeHead, StoreOptions};
use crate::error::StoreError;
use crate::model::RoomId;

/// Counters of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Batches committed (applied in one transaction each).
    pub commits: AtomicU64,
    /// Flushes (one may cover several batches).
    pub flushes: AtomicU64,
    /// Ops committed.
    pub ops: AtomicU64,
    /// Time spent flushing, in microseconds, summed over flushes.
    pub flush_micros: AtomicU64,
    /// The longest flush so far, in microseconds.
    pub flush_micros_max: AtomicU64,
    /// Time spent applying batches (the sled transaction), in microseconds.
    pub apply_micros: AtomicU64,
    /// Batches that failed (nothing of them written or acknowledged).
    pub failures: AtomicU64,
    /// When the last batch failed (unix ms; 0: none since start).
    pub last_failure_ms: AtomicU64,
    /// New posts' nonces found through the index, not folded into `nonces` yet.
    pub nonces_unfolded: AtomicU64,
    /// Nonces folded into `nonces` so far.
    pub nonces_folded: AtomicU64,
}

/// A write's place in a chain of writes that must reach the writer in order (one
/// connection's frames): it waits for `after`, and its `next` is dropped once it is
/// queued, or as soon as it fails before that, so a refusal never stalls the chain.
#[derive(Default)]
pub struct Turn {
    after: Option<oneshot::Receiver<()>>,
    next: Option<oneshot::Sender<()>>,
}

impl Turn {
    /// The next turn of a chain whose last turn ended `last` (none for a new chain);
    /// `last` becomes this one's end.
    pub fn after(last: &mut Option<oneshot::Receiver<()>>) -> Turn {
        let (next, end) = oneshot::channel();
        Turn { after: last.replace(end), next: Some(next) }
    }
}

impl Turn {
    /// Waits for the write before this one, for a write that goes to the store through
    /// no `submit_in_turn` of its own: the next one waits until this turn is dropped.
    pub async fn wait(&mut self) {
        if let Some(after) = self.after.take() {
            let _ = after.await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let (Some(after), Some(next)) = (self.after.take(), self.next.take()) {
            // Given up before its turn came (a refused write): the next one still waits
            // for the one before.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = after.await;
                    drop(next);
                });
            }
        }
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn").field("waits", &self.after.is_some()).finish()
    }
}

enum Job {
    Write(Op, oneshot::Sender<Result<Outcome, WriteError>>),
    /// Runs between batches, with no write in progress (a consistent read).
    Exclusive(Box<dyn FnOnce() + Send>),
    Stop(oneshot::Sender<()>),
    /// From the ticking thread, every [`nonces::QUIET`]: a chance to fold nonces.
    Tick,
}

/// The writer's queue. Bounded: when the disk falls behind, submitters wait here.
pub(super) struct Handle {
    tx: mpsc::Sender<Job>,
}

const QUEUE: usize = 4096;

#[allow(clippy::too_many_arguments)]
pub(super) fn spawn(
    db: Db,
    trees: Trees,
    heads: Arc<DashMap<RoomId, u64>>,
    changes: Arc<ChangeHead>,
    options: StoreOptions,
    stats: Arc<WriterStats>,
    sink: Box<dyn Fn(Vec<Change>) + Send>,
    id_offset: (u64, super::ids::Ids),
    disk: DiskSync,
    mirror: Arc<Mirror>,
    nonces: NonceIndex,
) -> Result<Handle, StoreError> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let w = Writer { db, all: trees.all(), heads, changes, options, stats, sink, id_offset, disk, mirror, nonces };
    let io = |e| StoreError::Sled(sled::Error::Io(e));
    thread::Builder::new().name("store-writer".into()).spawn(move || run(w, rx)).map_err(io)?;
    // Ticks while the queue is there; a weak handle, so it never keeps the writer alive.
    let ticks = tx.downgrade();
    thread::Builder::new()
        .name("store-ticker".into())
        .spawn(move || loop {
            thread::sleep(nonces::QUIET);
            let Some(tx) = ticks.upgrade() else { break };
            let _ = tx.try_send(Job::Tick);
        })
        .map_err(io)?;
    Ok(Handle { tx })
}

impl Handle {
    /// Submits `op` once the write before it in `turn`'s chain is queued, then lets the
    /// next one go: the writer applies a chain's writes in the order it was made.
    pub async fn submit_in_turn(&self, op: Op, mut turn: Turn) -> Result<Outcome, WriteError> {
        turn.wait().await;
        let (reply, answer) = oneshot::channel();
        let sent = self.tx.send(Job::Write(op, reply)).await;
        drop(turn);
        sent.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `f` on the writer thread between two batches and returns what it returns.
    pub async fn exclusive<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Exclusive(Box::new(move || {
            let _ = reply.send(f());
        }));
        self.tx.send(job).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)
    }

    /// Jobs waiting for the writer now.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Job::Stop(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// The writer thread's state.
struct Writer {
    db: Db,
    all: Vec<Tree>,
    heads: Arc<DashMap<RoomId, u64>>,
    changes: Arc<ChangeHead>,
    options: StoreOptions,
    stats: Arc<WriterStats>,
    sink: Box<dyn Fn(Vec<Change>) + Send>,
    /// Added to sled's id counter for every new place (see `Store::open`), and the
    /// permutation from places to ids (`ids`).
    id_offset: (u64, super::ids::Ids),
    /// Makes each flush durable (see `disk`).
    disk: DiskSync,
    /// The in-memory copy of the trees every request reads (see `mirror`).
    mirror: Arc<Mirror>,
    /// The nonces not folded into `nonces` yet (see `nonces`).
    nonces: NonceIndex,
}

/// Work handed from the applying thread to the flushing one, in commit order.
enum Applied {
    /// A batch applied in memory: flushed, then published and answered.
    Batch(Box<Batch>),
    /// Answered once everything before it is flushed and answered.
    Barrier(std::sync::mpsc::SyncSender<()>),
}

/// A batch applied in memory, waiting for its flush.
struct Batch {
    replies: Vec<oneshot::Sender<Result<Outcome, WriteError>>>,
    outcomes: Vec<Result<Outcome, Refusal>>,
    fx: Effects,
}

/// Batches applied but not yet flushed, at most: the applying thread waits past this.
const PIPELINE: usize = 4;

/// The applying thread: takes what waits on the queue (up to a batch), applies it in one
/// transaction and passes it to the flushing thread, then goes on with the next batch
/// while that one is flushed. So the CPU work of batch n+1 overlaps the disk wait of
/// batch n, and one flush covers every batch applied while the previous flush ran.
fn run(w: Writer, rx: mpsc::Receiver<Job>) {
    // Everything holding the database (trees, the flusher) is dropped inside `apply_until_stop`,
    // so whoever waits for the stop may reopen the data dir at once: sled's lock is free.
    let stop = apply_until_stop(w, rx);
    if let Some(done) = stop {
        let _ = done.send(());
    }
    tracing::debug!("store writer stopped");
}

/// The applying loop; returns the stop request that ended it, if one did.
fn apply_until_stop(w: Writer, mut rx: mpsc::Receiver<Job>) -> Option<oneshot::Sender<()>> {
    let max_batch = w.options.max_batch;
    let (to_flush, flush_rx) = std::sync::mpsc::sync_channel::<Applied>(PIPELINE);
    let flusher = Flusher {
        db: w.db.clone(),
        heads: w.heads.clone(),
        changes: w.changes.clone(),
        stats: w.stats.clone(),
        sink: w.sink,
        disk: w.disk,
        mirror: w.mirror,
    };
    let flushing = thread::Builder::new().name("store-flusher".into()).spawn(move || flusher.run(flush_rx));
    let flushing = match flushing {
        Ok(handle) => handle,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the flushing thread; the store takes no writes");
            return None;
        }
    };
    let mut applier = Applier {
        db: w.db.clone(),
        all: w.all,
        options: w.options,
        stats: w.stats,
        last_us: 0,
        id_offset: w.id_offset,
        nonces: w.nonces,
        last_batch: Instant::now(),
    };
    applier.stats.nonces_unfolded.store(applier.nonces.len() as u64, Ordering::Relaxed);
    let barrier = |to_flush: &std::sync::mpsc::SyncSender<Applied>| {
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        if to_flush.send(Applied::Barrier(done)).is_ok() {
            let _ = wait.recv();
        }
    };
    let mut stop: Option<oneshot::Sender<()>> = None;
    // Folding nonces while the server is quiet, a step at a time between jobs.
    let mut folding = false;
    while stop.is_none() {
        let first = if folding {
            match rx.try_recv() {
                Ok(job) => job,
                Err(mpsc::error::TryRecvError::Empty) => {
                    folding = applier.fold_quietly();
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        } else {
            let Some(job) = rx.blocking_recv() else { break };
            job
        };
        let mut ops = Vec::new();
        let mut replies = Vec::new();
        let mut exclusive = None;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Write(op, reply) => {
                    ops.push(op);
                    replies.push(reply);
                }
                Job::Exclusive(f) => {
                    exclusive = Some(f);
                    break;
                }
                Job::Stop(done) => {
                    stop = Some(done);
                    break;
                }
                Job::Tick => folding = true,
            }
            if replies.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !ops.is_empty() {
            folding = false;
            if let Some(batch) = applier.apply(ops, replies) {
                if to_flush.send(Applied::Batch(Box::new(batch))).is_err() {
                    tracing::error!("the flushing thread is gone; the store takes no more writes");
                    break;
                }
            }
        }
        if let Some(f) = exclusive {
            // A consistent read of durable, published state: nothing in flight.
            barrier(&to_flush);
            f();
        }
    }
    barrier(&to_flush);
    drop(to_flush);
    let _ = flushing.join();
    stop
}

/// The flushing thread's state.
struct Flusher {
    db: Db,
    heads: Arc<DashMap<RoomId, u64>>,
    changes: Arc<ChangeHead>,
    stats: Arc<WriterStats>,
    sink: Box<dyn Fn(Vec<Change>) + Send>,
    disk: DiskSync,
    mirror: Arc<Mirror>,
}

impl Flusher {
    /// Flushes whatever batches have been applied (one flush for all of them), then in
    /// commit order advances the heads, publishes and answers.
    fn run(mut self, rx: std::sync::mpsc::Receiver<Applied>) {
        while let Ok(first) = rx.recv() {
            let mut pending = vec![first];
            while let Ok(more) = rx.try_recv() {
                pending.push(more);
            }
            let flushed = self.flush();
            for item in pending {
                match item {
                    Applied::Batch(batch) => self.finish(*batch, &flushed),
                    Applied::Barrier(done) => {
                        let _ = done.send(());
                    }
                }
            }
        }
        if let Err(e) = self.flush() {
            tracing::error!(error = %e, "final flush failed");
        }
    }

    /// Flushes sled and makes the flush durable (`disk`), timing both.
    fn flush(&mut self) -> Result<(), EngineError> {
        let started = Instant::now();
        let flushed = self.db.flush().and_then(|()| self.disk.sync().map(|_| ()).map_err(sled::Error::Io));
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.stats.flush_micros.fetch_add(micros, Ordering::Relaxed);
        self.stats.flush_micros_max.fetch_max(micros, Ordering::Relaxed);
        self.stats.flushes.fetch_add(1, Ordering::Relaxed);
        if flushed.is_err() {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            self.stats.last_failure_ms.store(crate::clock::unix_ms(), Ordering::Relaxed);
        }
        flushed
    }

    fn finish(&self, batch: Batch, flushed: &Result<(), EngineError>) {
        let Batch { replies, outcomes, fx } = batch;
        if let Err(e) = flushed {
            // The batch may still reach the disk later; callers retry with the same nonce
            // and get the first ack, so nothing is duplicated.
            tracing::error!(error = %e, "flush failed; answering the batch with errors");
            for reply in replies {
                let _ = reply.send(Err(StoreError::Failed("flush failed").into()));
            }
            return;
        }
        // Durable now: the copy of the mirrored trees first, so that whoever hears of the
        // batch reads what it wrote.
        self.mirror.apply(fx.mirror);
        for (room, seq) in &fx.heads {
            self.mirror.advance(&self.heads, *room, *seq, fx.langs.iter());
        }
        if let Some(seq) = fx.change_head {
            self.changes.advance(seq);
        }
        let n = replies.len();
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        self.stats.ops.fetch_add(n as u64, Ordering::Relaxed);
        if !fx.changes.is_empty() {
            (self.sink)(fx.changes);
        }
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome.map_err(WriteError::Refused));
        }
    }
}

/// What a batch's ops answered, what it publishes, and what it writes.
type RanOps = (Vec<Result<Outcome, Refusal>>, Effects, Writes);

/// The applying thread's state.
struct Applier {
    db: Db,
    all: Vec<Tree>,
    options: StoreOptions,
    stats: Arc<WriterStats>,
    /// The time given to the last op applied, in microseconds since the epoch.
    last_us: i64,
    id_offset: (u64, super::ids::Ids),
    /// The nonces of the runs not folded yet: only this thread reads or writes them.
    nonces: NonceIndex,
    /// When the last batch was applied.
    last_batch: Instant,
}

impl Applier {
    /// Applies a batch in one transaction. On failure nothing of it was written and every
    /// caller is answered; on success the batch goes on to be flushed.
    ///
    /// Every op gets its own time, strictly after the one before it even when the clock
    /// has not moved on (a microsecond later): so two writes never share a timestamp, and
    /// what orders by time (a space's rooms by last activity, paged with `before`) has no
    /// ties to lose at a page boundary.
    fn apply(&mut self, ops: Vec<Op>, replies: Vec<oneshot::Sender<Result<Outcome, WriteError>>>) -> Option<Batch> {
        let started = Instant::now();
        self.last_batch = started;
        if self.nonces.len() > self.options.nonce_index_cap {
            // Sustained load past the bound: each batch folds as many as it may add.
            self.fold(ops.len().max(runs::POST_RUN));
        }
        let (options, stats) = (&self.options, &self.stats);
        let base_us = options.clock.now_us().max(self.last_us.saturating_add(1));
        let n = i64::try_from(ops.len()).unwrap_or(i64::MAX);
        self.last_us = base_us.saturating_add(n - 1);
        let ctx_of = |i: usize| {
            let us = base_us.saturating_add(i64::try_from(i).unwrap_or(0));
            Ctx {
                now: crate::clock::rfc3339_us(us),
                now_ms: us.div_euclid(1000),
                languages: &options.languages,
                lease_ms: options.lease_ms,
                chat_min_words: options.chat_min_words,
            }
        };
        let result = self.run_ops(&ops, &ctx_of).and_then(|(outcomes, fx, writes)| {
            // Only the batch's writes inside sled's transaction (and its process-wide lock).
            commit(&self.db, &writes, &self.all)?;
            Ok((outcomes, fx))
        });
        let result = result.map(|(outcomes, mut fx)| {
            for (h, id) in std::mem::take(&mut fx.new_nonces) {
                self.nonces.insert(h, id);
            }
            self.stats.nonces_unfolded.store(self.nonces.len() as u64, Ordering::Relaxed);
            (outcomes, fx)
        });
        let applied = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        stats.apply_micros.fetch_add(applied, Ordering::Relaxed);
        match result {
            Ok((outcomes, fx)) => Some(Batch { replies, outcomes, fx }),
            Err(e) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                stats.last_failure_ms.store(crate::clock::unix_ms(), Ordering::Relaxed);
                tracing::error!(error = %e, ops = replies.len(), "batch failed; nothing of it was written");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Failed("write failed").into()));
                }
                None
            }
        }
    }

    /// Runs a batch's ops against the trees as the batch sees them (`ops::Tx`): what each
    /// op answers, what the batch publishes, and its writes. A failure here writes nothing.
    fn run_ops<'c>(&self, ops: &[Op], ctx_of: &impl Fn(usize) -> Ctx<'c>) -> Result<RanOps, StoreError> {
        let tx = Tx::new(&self.db, &self.all, self.id_offset, &self.nonces);
        let mut fx = Effects::default();
        let mut outcomes = Vec::with_capacity(ops.len());
        let fatal = |e: Fatal| match e {
            Fatal::Storage(e) => StoreError::Sled(e),
            Fatal::Store(e) => e,
        };
        for (i, op) in ops.iter().enumerate() {
            outcomes.push(apply(&tx, op, &ctx_of(i), &mut fx).map_err(fatal)?);
        }
        write_changes(&tx, &mut fx).map_err(fatal)?;
        fx.finish();
        let (writes, mirror) = tx.into_writes().map_err(fatal)?;
        fx.mirror = mirror;
        Ok((outcomes, fx, writes))
    }

    /// One step of folding while nothing else is asked of the store: when no batch has
    /// come for [`nonces::QUIET`] and some nonces are not folded. Whether to go on.
    fn fold_quietly(&mut self) -> bool {
        if !self.options.fold_when_quiet || self.nonces.len() == 0 || self.last_batch.elapsed() < nonces::QUIET {
            return false;
        }
        self.fold(nonces::QUIET_STEP) && self.nonces.len() > 0
    }

    /// Folds the nonces of at least `at_least` posts into `nonces` in one transaction
    /// (`ops::fold_nonces`), then forgets them. Whether anything was folded. Not flushed
    /// here: until the next flush, a crash loses the fold and the runs are read again.
    fn fold(&mut self, at_least: usize) -> bool {
        let tx = Tx::new(&self.db, &self.all, self.id_offset, &self.nonces);
        let folded = match fold_nonces(&tx, self.nonces.folded(), at_least) {
            Ok(Some(folded)) => folded,
            Ok(None) => return false,
            Err(Fatal::Storage(e)) => return fold_failed(&StoreError::Sled(e)),
            Err(Fatal::Store(e)) => return fold_failed(&e),
        };
        let writes = match tx.into_writes() {
            Ok((writes, _)) => writes,
            Err(Fatal::Storage(e)) => return fold_failed(&StoreError::Sled(e)),
            Err(Fatal::Store(e)) => return fold_failed(&e),
        };
        if let Err(e) = commit(&self.db, &writes, &self.all) {
            return fold_failed(&e);
        }
        let (through, entries) = folded;
        self.nonces.folded_through(through, &entries);
        self.stats.nonces_folded.fetch_add(entries.len() as u64, Ordering::Relaxed);
        self.stats.nonces_unfolded.store(self.nonces.len() as u64, Ordering::Relaxed);
        true
    }
}

fn fold_failed(e: &StoreError) -> bool {
    tracing::error!(error = %e, "folding nonces failed; they stay in their runs");
    false
}

/// Commits a batch's writes at once (`engine`).
fn commit(db: &Db, writes: &Writes, all: &[Tree]) -> Result<(), StoreError> {
    writes.commit(db, all).map_err(StoreError::Sled)
}
