//! The single writer: group commit.
//!
//! Writes arrive on a bounded queue. The writer takes everything waiting (up to a
//! batch), applies it in one sled transaction, flushes once, and only then advances the
//! rooms' durable heads, hands the batch's events to the publish sink in commit order,
//! and answers each caller. Under load, many posts share one fsync; alone, a post waits
//! for exactly one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use dashmap::DashMap;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use tokio::sync::{mpsc, oneshot};

use super::ops::Ctx;
use super::ops::{apply, Effects, Fatal, Op, Outcome, Tx};
use super::Trees;
use super::{ChangeHead, StoreOptions};
use crate::error::{ApiError, StoreError};
use crate::hub::Topic;
use crate::model::RoomId;

/// Counters of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Batches committed (one flush each).
    pub commits: AtomicU64,
    /// Ops committed.
    pub ops: AtomicU64,
    /// Time spent flushing, in microseconds, summed over commits.
    pub flush_micros: AtomicU64,
    /// The longest flush so far, in microseconds.
    pub flush_micros_max: AtomicU64,
    /// Batches that failed (nothing of them written or acknowledged).
    pub failures: AtomicU64,
}

/// One message to publish once its batch is durable.
#[derive(Clone, Debug)]
pub struct Publish {
    pub topic: Topic,
    /// The event's seq in its room; 0 for messages outside the log.
    pub seq: u64,
    /// For queue frames: who may see them.
    pub scope: Option<crate::hub::QueueScope>,
    pub text: String,
}

enum Job {
    Write(Op, oneshot::Sender<Result<Outcome, ApiError>>),
    /// Runs between batches, with no write in progress (a consistent read).
    Exclusive(Box<dyn FnOnce() + Send>),
    Stop(oneshot::Sender<()>),
}

/// The writer's queue. Bounded: when the disk falls behind, submitters wait here.
pub(super) struct Handle {
    tx: mpsc::Sender<Job>,
}

const QUEUE: usize = 4096;

pub(super) fn spawn(
    db: sled::Db,
    trees: Trees,
    heads: Arc<DashMap<RoomId, u64>>,
    changes: Arc<ChangeHead>,
    options: StoreOptions,
    stats: Arc<WriterStats>,
    sink: Box<dyn Fn(Vec<Publish>) + Send>,
) -> Result<Handle, StoreError> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let w = Writer { db, all: trees.all(), heads, changes, options, stats, sink };
    thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(w, rx))
        .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
    Ok(Handle { tx })
}

impl Handle {
    pub async fn submit(&self, op: Op) -> Result<Outcome, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job::Write(op, reply)).await.map_err(|_| ApiError::from(StoreError::WriterGone))?;
        answer.await.map_err(|_| ApiError::from(StoreError::WriterGone))?
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

    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Job::Stop(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// The writer thread's state.
struct Writer {
    db: sled::Db,
    all: Vec<sled::Tree>,
    heads: Arc<DashMap<RoomId, u64>>,
    changes: Arc<ChangeHead>,
    options: StoreOptions,
    stats: Arc<WriterStats>,
    sink: Box<dyn Fn(Vec<Publish>) + Send>,
}

fn run(w: Writer, mut rx: mpsc::Receiver<Job>) {
    let max_batch = w.options.max_batch;
    let mut stop: Option<oneshot::Sender<()>> = None;
    while stop.is_none() {
        let Some(first) = rx.blocking_recv() else { break };
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
            }
            if replies.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !ops.is_empty() {
            w.commit(ops, replies);
        }
        if let Some(f) = exclusive {
            f();
        }
    }
    if let Err(e) = w.flush() {
        tracing::error!(error = %e, "final flush failed");
    }
    if let Some(done) = stop {
        let _ = done.send(());
    }
    tracing::debug!("store writer stopped");
}

impl Writer {
    /// Flushes sled, timing it.
    fn flush(&self) -> sled::Result<usize> {
        let started = Instant::now();
        let flushed = self.db.flush();
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.stats.flush_micros.fetch_add(micros, Ordering::Relaxed);
        self.stats.flush_micros_max.fetch_max(micros, Ordering::Relaxed);
        if flushed.is_err() {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
        }
        flushed
    }

    fn commit(&self, ops: Vec<Op>, replies: Vec<oneshot::Sender<Result<Outcome, ApiError>>>) {
        let (options, stats) = (&self.options, &self.stats);
        let started = Instant::now();
        let now_ms = options.clock.now_ms();
        let ctx = Ctx {
            now: crate::clock::rfc3339(now_ms),
            now_ms,
            languages: &options.languages,
            lease_ms: options.lease_ms,
        };
        let result = self.all.transaction(|view| {
            let tx = Tx(view);
            let mut fx = Effects::default();
            let mut outcomes = Vec::with_capacity(ops.len());
            for op in &ops {
                match apply(&tx, op, &ctx, &mut fx) {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(Fatal::Storage(e)) => return Err(e.into()),
                    Err(Fatal::Store(e)) => return Err(ConflictableTransactionError::Abort(e)),
                }
            }
            fx.finish();
            Ok((outcomes, fx))
        });
        let (outcomes, fx) = match result {
            Ok(r) => r,
            Err(e) => {
                let e = match e {
                    TransactionError::Abort(e) => e,
                    TransactionError::Storage(e) => StoreError::Sled(e),
                };
                stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, ops = replies.len(), "batch failed; nothing of it was written");
                for reply in replies {
                    let _ = reply.send(Err(ApiError::internal("write failed")));
                }
                return;
            }
        };
        if let Err(e) = self.flush() {
            // The batch may still reach the disk later; callers retry with the same nonce
            // and get the first ack, so nothing is duplicated.
            tracing::error!(error = %e, "flush failed; answering the batch with errors");
            for reply in replies {
                let _ = reply.send(Err(ApiError::internal("flush failed")));
            }
            return;
        }
        for (room, seq) in &fx.heads {
            self.heads.insert(*room, *seq);
        }
        if let Some(seq) = fx.change_head {
            self.changes.advance(seq);
        }
        let n = replies.len();
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.ops.fetch_add(n as u64, Ordering::Relaxed);
        if !fx.publish.is_empty() {
            (self.sink)(fx.publish);
        }
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
        tracing::trace!(ops = n, micros = started.elapsed().as_micros() as u64, "batch committed");
    }
}
