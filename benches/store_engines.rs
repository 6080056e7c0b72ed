//! The store's writes for one post, as the writer makes them, in sled (the engine the store
//! uses) and in fjall (an LSM-tree engine), to weigh the engine's share of the posting
//! path's CPU. No server, no JSON, no index: only the engine.
//!
//! cargo bench --bench store_engines -- [--posts N] [--batch N] [--rooms N] [--flush-every N] [--idle-trees N]
//!
//! Per post, as `store/ops.rs` does for a new post: three reads (the nonce, which misses;
//! the room; its space), then the event (about 450 bytes, keyed by room and seq), the post
//! record (about 480 bytes), the nonce (30), the translators' queue record (60), the
//! room's `room_posts` entry and the room itself rewritten (250); one change record per
//! batch. Each batch is one atomic write (sled: a transaction over the trees; fjall: a
//! write batch over its keyspaces) and is then made durable before the next one, as the
//! group commit does: sled's `flush` and `fdatasync` of its log (`store/disk.rs`), fjall's
//! `persist(SyncData)`. CPU is the whole process's (every engine thread), from /proc.
//!
//! Two more ways of writing sled weigh its transaction's share: the trees as key prefixes
//! of one tree, each batch one `apply_batch`; and each batch's writes as one redo record,
//! then plain inserts (not what the store does: atomic only if sled recovers a prefix of
//! its log, which it does not promise).

use std::error::Error;
use std::path::Path;
use std::time::Instant;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Trees (sled) or keyspaces (fjall), in this order.
const NAMES: [&str; 8] = ["events", "posts", "nonces", "queue", "room_posts", "rooms", "spaces", "changes"];
const EVENT: [u8; 450] = [b'e'; 450];
const POST: [u8; 480] = [b'p'; 480];
const ROOM: [u8; 250] = [b'r'; 250];
const SPACE: [u8; 200] = [b's'; 200];
const NONCE: [u8; 30] = [b'n'; 30];
const QUEUE: [u8; 60] = [b'q'; 60];
const CHANGE: [u8; 64] = [b'c'; 64];
const AUTHOR: u64 = 7;

struct Run {
    posts: u64,
    batch: u64,
    rooms: u64,
    /// Trees in sled's transaction that no write touches (the store's view spans 23).
    idle_trees: usize,
    /// Batches a flush covers (the group commit flushes once for every batch applied
    /// while the previous flush ran).
    flush_every: u64,
}

impl Run {
    /// The room and seq of post `n` (from 1).
    fn place(&self, n: u64) -> (u64, u64) {
        (n % self.rooms + 1, n / self.rooms + 1)
    }
}

fn pair(a: u64, b: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a.to_be_bytes());
    k[8..].copy_from_slice(&b.to_be_bytes());
    k
}

/// CPU seconds (user + system) this process has used, all threads.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

/// What a run measured besides the writes: syncs made, and µs an event to read the first
/// room's log back in seq order (a replay).
struct Done {
    syncs: u64,
    /// CPU seconds and wall seconds of the writes alone.
    cpu: f64,
    wall: f64,
    replay_us: f64,
}

/// One access of a batch to tree (or keyspace) `NAMES[.0]`.
enum Access<'a> {
    Get(usize, &'a [u8]),
    Put(usize, &'a [u8], &'a [u8]),
}

/// The accesses of batch `b`, in the order the store makes them, passed to `access`.
fn batch_accesses<E>(run: &Run, b: u64, access: &mut impl FnMut(Access) -> Result<(), E>) -> Result<(), E> {
    for n in b * run.batch + 1..=(b + 1) * run.batch {
        let (room, seq) = run.place(n);
        let (nonce, at, id, room_key) = (pair(AUTHOR, n), pair(room, seq), n.to_be_bytes(), room.to_be_bytes());
        access(Access::Get(2, &nonce))?;
        access(Access::Get(5, &room_key))?;
        access(Access::Get(6, &1u64.to_be_bytes()))?;
        access(Access::Put(0, &at, &EVENT))?;
        access(Access::Put(1, &id, &POST))?;
        access(Access::Put(2, &nonce, &NONCE))?;
        access(Access::Put(3, &id, &QUEUE))?;
        access(Access::Put(4, &at, &id))?;
        access(Access::Put(5, &room_key, &ROOM))?;
    }
    access(Access::Put(7, &b.to_be_bytes(), &CHANGE))
}

/// Writes every batch with `commit` (one atomic, durable batch each), times it, then reads
/// the first room's events back with `replay` (which returns how many it read).
/// What a failed run reports.
type Res<T> = Result<T, Box<dyn Error>>;

fn timed(run: &Run, mut commit: impl FnMut(u64) -> Res<()>, replay: impl FnOnce() -> usize) -> Res<Done> {
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    let batches = run.posts / run.batch;
    for b in 0..batches {
        commit(b)?;
    }
    let (cpu, wall) = (cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
    let started = Instant::now();
    let read = replay();
    Ok(Done {
        syncs: batches / run.flush_every,
        cpu,
        wall,
        replay_us: started.elapsed().as_secs_f64() * 1e6 / read.max(1) as f64,
    })
}

/// Whether an event read back is one this run wrote.
fn is_event(v: &[u8]) -> bool {
    v.len() == EVENT.len()
}

/// A sled database in `dir` with the trees (`NAMES`, then the idle ones) and the rooms and
/// space the posts read, and its log file, to sync.
fn sled_open(dir: &Path, run: &Run) -> Res<(sled::Db, Vec<sled::Tree>, std::fs::File)> {
    let db = sled::Config::new().path(dir).cache_capacity(256 << 20).open()?;
    let mut trees: Vec<sled::Tree> = NAMES.iter().map(|n| db.open_tree(n)).collect::<Result<_, _>>()?;
    for i in 0..run.idle_trees {
        trees.push(db.open_tree(format!("idle{i}"))?);
    }
    for r in 1..=run.rooms {
        trees[5].insert(r.to_be_bytes(), &ROOM[..])?;
    }
    trees[6].insert(1u64.to_be_bytes(), &SPACE[..])?;
    let log = std::fs::File::open(dir.join("db"))?;
    Ok((db, trees, log))
}

/// The first room's events read back from `events`, counted.
fn sled_replay(events: &sled::Tree) -> usize {
    events.range(pair(1, 0)..pair(2, 0)).filter(|r| r.as_ref().is_ok_and(|(_, v)| is_event(v))).count()
}

fn sled_run(dir: &Path, run: &Run) -> Res<Done> {
    use sled::transaction::ConflictableTransactionError;
    use sled::Transactional;
    let (db, trees, log) = sled_open(dir, run)?;
    let commit = |b| {
        let result = trees.as_slice().transaction(|t| {
            batch_accesses(run, b, &mut |a| match a {
                Access::Get(i, k) => t[i].get(k).map(drop),
                Access::Put(i, k, v) => t[i].insert(k, v).map(drop),
            })?;
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        result.map_err(|e| format!("transaction: {e:?}"))?;
        if (b + 1) % run.flush_every == 0 {
            db.flush()?;
            log.sync_data()?;
        }
        Ok(())
    };
    timed(run, commit, || sled_replay(&trees[0]))
}

/// sled with every tree as a key prefix of one tree, and each batch one `apply_batch`:
/// atomic like the transaction, without the transaction's read of every key it writes.
fn sled_one_tree_run(dir: &Path, run: &Run) -> Res<Done> {
    let db = sled::Config::new().path(dir).cache_capacity(256 << 20).open()?;
    let tree = db.open_tree("all")?;
    let key = |i: usize, k: &[u8]| {
        let mut v = Vec::with_capacity(k.len() + 1);
        v.push(i as u8);
        v.extend_from_slice(k);
        v
    };
    for r in 1..=run.rooms {
        tree.insert(key(5, &r.to_be_bytes()), &ROOM[..])?;
    }
    tree.insert(key(6, &1u64.to_be_bytes()), &SPACE[..])?;
    let log = std::fs::File::open(dir.join("db"))?;
    let commit = |b| {
        let mut batch = sled::Batch::default();
        batch_accesses(run, b, &mut |a| match a {
            Access::Get(i, k) => tree.get(key(i, k)).map(drop),
            Access::Put(i, k, v) => {
                batch.insert(key(i, k), v);
                Ok(())
            }
        })?;
        tree.apply_batch(batch)?;
        if (b + 1) % run.flush_every == 0 {
            db.flush()?;
            log.sync_data()?;
        }
        Ok(())
    };
    let (from, to) = (key(0, &pair(1, 0)), key(0, &pair(2, 0)));
    let replay = || tree.range(from..to).filter(|r| r.as_ref().is_ok_and(|(_, v)| is_event(v))).count();
    timed(run, commit, replay)
}

/// sled without transactions: each batch's writes first as one redo record (the whole
/// write set under one key), then key by key with plain inserts. sled recovers a prefix of
/// its log, so after a crash either the record is missing (and so is every write after
/// it) or it is there to be applied again: atomic without sled's transaction, its lock
/// or its two io buffer writes.
fn sled_redo_run(dir: &Path, run: &Run) -> Res<Done> {
    let (db, trees, log) = sled_open(dir, run)?;
    let meta = db.open_tree("meta")?;
    let commit = |b| {
        let mut writes: Vec<(usize, Vec<u8>, Vec<u8>)> = Vec::new();
        batch_accesses(run, b, &mut |a| match a {
            Access::Get(i, k) => trees[i].get(k).map(drop),
            Access::Put(i, k, v) => {
                writes.push((i, k.to_vec(), v.to_vec()));
                Ok(())
            }
        })?;
        let mut redo = Vec::new();
        for (i, k, v) in &writes {
            redo.push(*i as u8);
            redo.extend_from_slice(&(k.len() as u32).to_be_bytes());
            redo.extend_from_slice(k);
            redo.extend_from_slice(&(v.len() as u32).to_be_bytes());
            redo.extend_from_slice(v);
        }
        meta.insert("redo", redo)?;
        for (i, k, v) in writes {
            trees[i].insert(k, v)?;
        }
        if (b + 1) % run.flush_every == 0 {
            db.flush()?;
            log.sync_data()?;
        }
        Ok(())
    };
    timed(run, commit, || sled_replay(&trees[0]))
}

fn fjall_run(dir: &Path, run: &Run) -> Res<Done> {
    use fjall::{Database, KeyspaceCreateOptions, PersistMode};
    let db = Database::builder(dir).open()?;
    let ks: Vec<_> = NAMES.iter().map(|n| db.keyspace(n, KeyspaceCreateOptions::default)).collect::<Result<_, _>>()?;
    for r in 1..=run.rooms {
        ks[5].insert(r.to_be_bytes(), ROOM)?;
    }
    ks[6].insert(1u64.to_be_bytes(), SPACE)?;
    let commit = |b| {
        let mut w = db.batch();
        batch_accesses(run, b, &mut |a| match a {
            Access::Get(i, k) => ks[i].get(k).map(drop),
            Access::Put(i, k, v) => {
                w.insert(&ks[i], k, v);
                Ok(())
            }
        })?;
        w.commit()?;
        if (b + 1) % run.flush_every == 0 {
            db.persist(PersistMode::SyncData)?;
        }
        Ok(())
    };
    let replay =
        || ks[0].range(pair(1, 0)..pair(2, 0)).filter_map(|g| g.into_inner().ok()).filter(|(_, v)| is_event(v)).count();
    timed(run, commit, replay)
}

/// fjall with write transactions: reads inside the batch see its own writes, as the
/// store's ops rely on (two posts of one batch in one room read the room the first wrote).
fn fjall_tx_run(dir: &Path, run: &Run) -> Res<Done> {
    use fjall::{KeyspaceCreateOptions, PersistMode, Readable, SingleWriterTxDatabase};
    let db = SingleWriterTxDatabase::builder(dir).open()?;
    let ks: Vec<_> = NAMES.iter().map(|n| db.keyspace(n, KeyspaceCreateOptions::default)).collect::<Result<_, _>>()?;
    for r in 1..=run.rooms {
        ks[5].insert(r.to_be_bytes(), ROOM)?;
    }
    ks[6].insert(1u64.to_be_bytes(), SPACE)?;
    let commit = |b| {
        let mut tx = db.write_tx();
        batch_accesses(run, b, &mut |a| match a {
            Access::Get(i, k) => tx.get(&ks[i], k).map(drop),
            Access::Put(i, k, v) => {
                tx.insert(&ks[i], k, v);
                Ok(())
            }
        })?;
        tx.commit()?;
        if (b + 1) % run.flush_every == 0 {
            db.persist(PersistMode::SyncData)?;
        }
        Ok(())
    };
    let replay = || {
        ks[0]
            .inner()
            .range(pair(1, 0)..pair(2, 0))
            .filter_map(|g| g.into_inner().ok())
            .filter(|(_, v)| is_event(v))
            .count()
    };
    timed(run, commit, replay)
}

fn main() -> Res<()> {
    let mut run = Run { posts: 80_000, batch: 8, rooms: 1, idle_trees: 0, flush_every: 1 };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = || it.next().and_then(|v| v.parse::<u64>().ok()).filter(|&v| v > 0);
        match a.as_str() {
            "--bench" => {}
            "--posts" => run.posts = number().ok_or("--posts takes a number above 0")?,
            "--batch" => run.batch = number().ok_or("--batch takes a number above 0")?,
            "--rooms" => run.rooms = number().ok_or("--rooms takes a number above 0")?,
            "--flush-every" => run.flush_every = number().ok_or("--flush-every takes a number above 0")?,
            "--idle-trees" => {
                let n = it.next().and_then(|v| v.parse::<usize>().ok());
                run.idle_trees = n.ok_or("--idle-trees takes a number")?;
            }
            other => return Err(format!("unknown argument {other}; see the file's first lines").into()),
        }
    }
    println!(
        "{} posts in atomic batches of {}, made durable every {} batch(es), over {} room(s); {} idle trees in sled's transactions\n",
        run.posts, run.batch, run.flush_every, run.rooms, run.idle_trees
    );
    println!("| engine | posts/s | CPU µs a post (all threads) | wall µs a post | syncs | replay µs an event |");
    println!("|---|---|---|---|---|---|");
    type Engine = fn(&Path, &Run) -> Res<Done>;
    let engines: [(&str, Engine); 5] = [
        ("sled 0.34", sled_run),
        ("sled 0.34, one tree, apply_batch", sled_one_tree_run),
        ("sled 0.34, redo record then plain inserts", sled_redo_run),
        ("fjall 3, write batches", fjall_run),
        ("fjall 3, write transactions", fjall_tx_run),
    ];
    for (name, engine) in engines {
        let dir = tempfile::tempdir()?;
        let d = engine(dir.path(), &run).map_err(|e| format!("{name}: {e}"))?;
        let done = (run.posts / run.batch * run.batch) as f64;
        println!(
            "| {name} | {:.0} | {:.1} | {:.1} | {} | {:.2} |",
            done / d.wall,
            d.cpu * 1e6 / done,
            d.wall * 1e6 / done,
            d.syncs,
            d.replay_us
        );
    }
    Ok(())
}
