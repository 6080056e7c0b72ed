//! The nonces of new posts, kept off the posting path.
//!
//! `(user, nonce)` names one post forever (PROTOCOL.md, idempotence), so every new post
//! is checked against every nonce before it. Keyed by user and nonce in `nonces`, each
//! new post was a new key at a random place of a large tree: the most expensive single
//! write a post made (sled splits leaves as keys arrive, and a random key splits a leaf
//! nothing else has in cache). So a new post's nonce is written with its place, in its batch's `fresh_posts` run ([`runs::AUTHORED`]: the run names each
//! post's author), and this index, owned by the applying thread, finds it there: a hash
//! of author and nonce to the post's place, for the runs not yet folded.
//!
//! Folding copies a run's nonces into `nonces` and moves the meta key [`FOLDED`] (the
//! last run folded) past it, in one transaction; the runs stay as they are (they are the
//! posts' places). The applying thread folds when the server has been quiet for a while
//! (no new post for [`QUIET`]) and when the index outgrows [`CAP`], as much as each
//! batch adds. So a burst of posts pays one hash-map insert a post, and its nonces'
//! keys are written later, when nobody waits; past [`CAP`] under sustained load every
//! post pays its key again, through the fold.
//!
//! At open the index is rebuilt from the runs past [`FOLDED`]: what it holds is derived
//! from the store, so a second process reading the same store rebuilds the same.
//!
//! A post is a duplicate when `nonces` holds its `(user, nonce)` (checked first: a new
//! thread's nonce is written there at once, with its room, for the ack) or when a
//! candidate the index gives for its hash is the same author and nonce. Two nonces with
//! the same 64-bit hash both stay findable (the second goes in `overflow`).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use super::engine::KvTree;
use super::{keys, runs, Trees};
use crate::error::StoreError;

/// The meta key naming the last `fresh_posts` run folded into `nonces` (its key).
pub(crate) const FOLDED: &str = "nonces_folded_through";

/// Nonces the index holds before each batch folds as many as it adds: 18 MB at most (a
/// `HashMap` of two `u64`s and a control byte an entry, 2^20 of them for 2^19 nonces).
pub(crate) const CAP: usize = 1 << 19;

/// How long without a new post before the applying thread folds on its own.
pub(crate) const QUIET: Duration = Duration::from_secs(1);

/// Nonces folded at most in one quiet step (a few tens of milliseconds of the applying
/// thread): whatever arrives meanwhile waits that long at most.
pub(crate) const QUIET_STEP: usize = 2048;

/// The hash of a nonce as the index keys it.
pub(crate) fn hash(author: u64, nonce: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    author.hash(&mut h);
    nonce.hash(&mut h);
    h.finish()
}

/// The nonces of the `fresh_posts` runs not folded yet, by hash, to their posts' ids.
#[derive(Debug, Default)]
pub(crate) struct NonceIndex {
    map: HashMap<u64, u64>,
    /// Entries whose hash was taken when they came (almost always empty).
    overflow: Vec<(u64, u64)>,
    /// The key of the last run folded (0: none).
    folded: u64,
}

impl NonceIndex {
    /// The index of the runs past the last one folded.
    pub fn load(trees: &Trees) -> Result<Self, StoreError> {
        let folded = trees.meta.get(FOLDED)?.as_deref().and_then(keys::id_value).unwrap_or(0);
        let mut index = NonceIndex { folded, ..NonceIndex::default() };
        let start = folded.saturating_add(1).to_be_bytes();
        for item in trees.fresh.range(start..) {
            let (k, v) = item?;
            for p in runs::fresh_entries(&k, &v)? {
                index.insert(hash(p.author, p.nonce), p.id);
            }
        }
        Ok(index)
    }

    pub fn len(&self) -> usize {
        self.map.len() + self.overflow.len()
    }

    /// The key of the last run folded.
    pub fn folded(&self) -> u64 {
        self.folded
    }

    /// The posts whose nonce may hash to `h`.
    pub fn candidates(&self, h: u64) -> impl Iterator<Item = u64> + '_ {
        self.map
            .get(&h)
            .copied()
            .into_iter()
            .chain(self.overflow.iter().filter(move |(x, _)| *x == h).map(|(_, id)| *id))
    }

    pub fn insert(&mut self, h: u64, id: u64) {
        match self.map.entry(h) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(_) => self.overflow.push((h, id)),
        }
    }

    /// Forgets the runs up to `through` (their nonces now in `nonces`), given what they held.
    pub fn folded_through(&mut self, through: u64, entries: &[(u64, u64)]) {
        for &(h, id) in entries {
            if self.map.get(&h) == Some(&id) {
                self.map.remove(&h);
            } else {
                self.overflow.retain(|&(x, i)| (x, i) != (h, id));
            }
        }
        self.folded = self.folded.max(through);
        if self.map.is_empty() && self.map.capacity() > 1024 {
            self.map.shrink_to(1024);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_hashes_both_stay_findable_and_leave_one_by_one() {
        let mut index = NonceIndex::default();
        index.insert(7, 100);
        index.insert(7, 101);
        index.insert(8, 102);
        let mut c: Vec<u64> = index.candidates(7).collect();
        c.sort_unstable();
        assert_eq!(c, vec![100, 101]);
        assert_eq!(index.len(), 3);
        index.folded_through(100, &[(7, 100)]);
        assert_eq!(index.candidates(7).collect::<Vec<_>>(), vec![101]);
        index.folded_through(102, &[(7, 101), (8, 102)]);
        assert_eq!(index.len(), 0);
        assert_eq!(index.folded(), 102);
        assert_eq!(hash(1, "a"), hash(1, "a"));
        assert_ne!(hash(1, "a"), hash(2, "a"));
    }
}
