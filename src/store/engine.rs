//! The seam under the store: the few things it asks of a key-value engine, and sled's
//! answer to them.
//!
//! The store reads and writes only through [`KvTree`] (one ordered map of byte keys to
//! byte values: get, insert, remove, ordered range and prefix scans) and [`KvEngine`]
//! (named trees, one atomic commit of writes across trees, a durable flush, a counter).
//! Everything above (the runs, the nonce index, the writer's overlay and group commit)
//! is written against these two traits and the concrete [`Db`] and [`Tree`] that
//! implement them on sled. Another engine implements both traits, passes the
//! conformance suite (`conformance`, generic functions run here against sled), and
//! takes the place of the two types and of [`Value`] and [`Error`], which are sled's
//! own. sled's files are synced by `disk` and copied whole by nothing else.

use std::collections::BTreeMap;
use std::ops::RangeBounds;
use std::path::Path;

/// A value (or key) read back: cheap to clone, read as bytes.
pub type Value = sled::IVec;
/// The engine's error.
pub type Error = sled::Error;
/// An ordered scan, both ways.
pub type Iter = Box<dyn DoubleEndedIterator<Item = Result<(Value, Value), Error>> + Send>;

/// A batch's writes to one tree: `Some` sets a key, `None` removes it.
pub type TreeWrites = BTreeMap<Value, Option<Value>>;

/// One ordered map of byte keys to byte values.
pub trait KvTree: Clone + Send + Sync + 'static {
    fn get<K: AsRef<[u8]>>(&self, key: K) -> Result<Option<Value>, Error>;
    fn contains_key<K: AsRef<[u8]>>(&self, key: K) -> Result<bool, Error>;
    /// Sets `key` at once, outside any batch (setup, migrations, imports).
    fn insert<K: AsRef<[u8]>, V: Into<Value>>(&self, key: K, value: V) -> Result<(), Error>;
    /// Removes `key` at once, outside any batch.
    fn remove<K: AsRef<[u8]>>(&self, key: K) -> Result<(), Error>;
    /// The entries whose keys are in `range`, in key order (or reversed).
    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter;
    /// The entries whose keys start with `prefix`, in key order.
    fn scan_prefix<P: AsRef<[u8]>>(&self, prefix: P) -> Iter;
    /// Every entry, in key order.
    fn iter(&self) -> Iter;
    /// The entry with the largest key.
    fn last(&self) -> Result<Option<(Value, Value)>, Error>;
    /// How many entries (may walk the whole tree).
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
}

/// Named trees, and what makes writes whole and durable.
pub trait KvEngine: Clone + Send + Sync + 'static {
    type Tree: KvTree;
    /// The tree called `name`, made empty if it did not exist.
    fn open_tree(&self, name: &str) -> Result<Self::Tree, Error>;
    /// Applies every write of every tree at once: after a crash, all of them are there or
    /// none is. Readers may see them before `flush`.
    fn commit(&self, writes: &[(&Self::Tree, &TreeWrites)]) -> Result<(), Error>;
    /// Makes everything written so far durable.
    fn flush(&self) -> Result<(), Error>;
    /// A number larger than any it gave before, also across restarts.
    fn next_id(&self) -> Result<u64, Error>;
}

/// sled's database: the engine.
#[derive(Clone)]
pub struct Db(sled::Db);

/// One of sled's trees.
#[derive(Clone)]
pub struct Tree(sled::Tree);

impl Db {
    /// Opens (or creates) the database in `dir` with a page cache of `cache_bytes`.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Db, Error> {
        Ok(Db(sled::Config::new().path(dir).cache_capacity(cache_bytes).open()?))
    }

    /// Whether opening replayed a log that was not cleanly closed.
    pub fn was_recovered(&self) -> bool {
        self.0.was_recovered()
    }

    /// `flush` off the caller's thread.
    pub async fn flush_async(&self) -> Result<(), Error> {
        self.0.flush_async().await.map(|_| ())
    }
}

impl KvEngine for Db {
    type Tree = Tree;

    fn open_tree(&self, name: &str) -> Result<Tree, Error> {
        Ok(Tree(self.0.open_tree(name)?))
    }

    /// One sled transaction over the trees written (sled makes each tree of a
    /// transaction its own overlay and walks them all at commit: a batch of posts writes
    /// 7 trees of 25).
    fn commit(&self, writes: &[(&Tree, &TreeWrites)]) -> Result<(), Error> {
        use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
        let (trees, writes): (Vec<sled::Tree>, Vec<&TreeWrites>) =
            writes.iter().filter(|(_, w)| !w.is_empty()).map(|(t, w)| (t.0.clone(), *w)).unzip();
        if trees.is_empty() {
            return Ok(());
        }
        let done = trees.transaction(|view| {
            for (tree, writes) in view.iter().zip(writes.iter().copied()) {
                for (k, v) in writes {
                    match v {
                        Some(v) => tree.insert(k.clone(), v.clone())?,
                        None => tree.remove(k.clone())?,
                    };
                }
            }
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        match done {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(e),
            Err(TransactionError::Abort(())) => {
                Err(Error::Unsupported("a batch's transaction aborted, which it never asks for".into()))
            }
        }
    }

    fn flush(&self) -> Result<(), Error> {
        self.0.flush().map(|_| ())
    }

    fn next_id(&self) -> Result<u64, Error> {
        self.0.generate_id()
    }
}

fn boxed(iter: sled::Iter) -> Iter {
    Box::new(iter)
}

impl KvTree for Tree {
    fn get<K: AsRef<[u8]>>(&self, key: K) -> Result<Option<Value>, Error> {
        self.0.get(key)
    }
    fn contains_key<K: AsRef<[u8]>>(&self, key: K) -> Result<bool, Error> {
        self.0.contains_key(key)
    }
    fn insert<K: AsRef<[u8]>, V: Into<Value>>(&self, key: K, value: V) -> Result<(), Error> {
        self.0.insert(key, value).map(|_| ())
    }
    fn remove<K: AsRef<[u8]>>(&self, key: K) -> Result<(), Error> {
        self.0.remove(key).map(|_| ())
    }
    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter {
        boxed(self.0.range(range))
    }
    fn scan_prefix<P: AsRef<[u8]>>(&self, prefix: P) -> Iter {
        boxed(self.0.scan_prefix(prefix))
    }
    fn iter(&self) -> Iter {
        boxed(self.0.iter())
    }
    fn last(&self) -> Result<Option<(Value, Value)>, Error> {
        self.0.last()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod conformance;

#[cfg(test)]
mod tests {
    use super::*;

    fn sled_engine() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path(), 8 * 1024 * 1024).expect("open");
        (dir, db)
    }

    #[test]
    fn sled_keeps_keys_in_order_and_scans_both_ways() {
        let (_dir, db) = sled_engine();
        conformance::ordered_scans(&db);
    }

    #[test]
    fn sled_reads_its_writes_and_forgets_removals() {
        let (_dir, db) = sled_engine();
        conformance::reads_writes_and_removals(&db);
    }

    #[test]
    fn sled_commits_across_trees_at_once() {
        let (_dir, db) = sled_engine();
        conformance::atomic_commit(&db);
    }

    #[test]
    fn sled_counts_up_across_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        conformance::ids_grow_across_reopening(|| Db::open(dir.path(), 8 * 1024 * 1024).expect("open"));
    }

    #[test]
    fn sled_keeps_what_was_flushed() {
        let dir = tempfile::tempdir().expect("tempdir");
        conformance::flushed_writes_survive_reopening(|| Db::open(dir.path(), 8 * 1024 * 1024).expect("open"));
    }
}
