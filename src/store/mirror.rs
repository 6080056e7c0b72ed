//! An in-memory copy of the small trees that every request reads: `rooms`, `spaces` and
//! `members` (who may read and post where), and each room's last posts (the evidence of
//! its language when a post does not declare one).
//!
//! Why: once a sled 0.34 database has run one transaction, every sled call from any
//! thread takes one process-wide reader-writer lock, and a transaction holds it for
//! writing from its first read to its commit, while a flush holds it for reading as long
//! as it waits for the disk (and a writer waiting for it keeps new readers out). So a
//! `get` on a tokio worker waited, most of the time under load, for the writer thread's
//! batch and the flush before it: in a profile of durable posting the two workers were
//! switched out about 4,200 times a second inside that lock, from `Store::room` and
//! `Store::space` (docs/BENCHMARKS.md). The posting path's reads now come from here and
//! never touch sled.
//!
//! The copy is loaded when the store opens, and changed only by the writer, with exactly
//! the writes a batch made to these trees (`ops::Tx::into_writes`), once the batch is
//! durable and before anyone is answered or anything is published. So it shows durable
//! state, as the rooms' durable heads do. With several nodes, each node's copy would
//! follow the shared log the same way.

use std::collections::VecDeque;

use super::engine::Value as IVec;
use super::engine::{KvTree, Tree};
use dashmap::DashMap;

use crate::error::StoreError;
use crate::model::{Lang, PostId, RoomId};

/// Which tree a write went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mirrored {
    Rooms,
    Spaces,
    Members,
}

/// One write of a batch to a mirrored tree: the key and the new value (`None`: removed).
#[derive(Clone, Debug)]
pub(crate) struct MirrorWrite {
    pub tree: Mirrored,
    pub key: IVec,
    pub value: Option<IVec>,
}

/// Posts of a room remembered for its recent language, at most.
pub(crate) const RECENT_KEPT: usize = 8;

/// What a batch did to a post that its room's recent language reads: created it, or
/// changed its language or deleted it (`created` false).
#[derive(Clone, Debug)]
pub(crate) struct LangChange {
    pub room: RoomId,
    pub post: PostId,
    pub created: bool,
    pub lang: Lang,
    pub deleted: bool,
}

/// One of a room's last posts: its language, and whether it was deleted.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RecentPost {
    pub post: PostId,
    pub lang: Lang,
    pub deleted: bool,
}

/// The copies, key to value as sled holds them, and each room's last posts.
#[derive(Default)]
pub(crate) struct Mirror {
    rooms: DashMap<IVec, IVec>,
    spaces: DashMap<IVec, IVec>,
    members: DashMap<IVec, IVec>,
    /// A room's last `RECENT_KEPT` posts (oldest first) as of its durable head, for the
    /// language of the room (`Store::recent_lang`). Filled on first use from sled (a room
    /// nobody posts in without declaring a language never gets one), then kept by the
    /// writer with each durable batch (`advance`).
    recent: DashMap<RoomId, VecDeque<RecentPost>>,
}

impl Mirror {
    /// A copy of the three trees as they are now.
    pub fn load(rooms: &Tree, spaces: &Tree, members: &Tree) -> Result<Mirror, StoreError> {
        let m = Mirror::default();
        m.reload(rooms, spaces, members)?;
        Ok(m)
    }

    /// Copies the three trees again (after an import wrote them directly).
    pub fn reload(&self, rooms: &Tree, spaces: &Tree, members: &Tree) -> Result<(), StoreError> {
        self.recent.clear();
        for (tree, copy) in [(rooms, &self.rooms), (spaces, &self.spaces), (members, &self.members)] {
            copy.clear();
            for item in tree.iter() {
                let (k, v) = item?;
                copy.insert(k, v);
            }
        }
        Ok(())
    }

    fn map(&self, tree: Mirrored) -> &DashMap<IVec, IVec> {
        match tree {
            Mirrored::Rooms => &self.rooms,
            Mirrored::Spaces => &self.spaces,
            Mirrored::Members => &self.members,
        }
    }

    /// Applies a durable batch's writes, in the order they were made.
    pub fn apply(&self, writes: Vec<MirrorWrite>) {
        for w in writes {
            let map = self.map(w.tree);
            match w.value {
                Some(v) => {
                    map.insert(w.key, v);
                }
                None => {
                    map.remove(&w.key);
                }
            }
        }
    }

    /// Moves `room`'s durable head to `seq` after a durable batch, and brings the room's
    /// remembered last posts along with what the batch did to them (`changes`, in order).
    /// Both happen under the room's entry in `recent`, which `offer_recent` takes too, so a
    /// list read from sled can only be kept if no batch moved the head meanwhile.
    pub fn advance<'c>(
        &self,
        heads: &DashMap<RoomId, u64>,
        room: RoomId,
        seq: u64,
        changes: impl Iterator<Item = &'c LangChange>,
    ) {
        let entry = self.recent.get_mut(&room);
        if let Some(mut posts) = entry {
            for c in changes.filter(|c| c.room == room) {
                if c.created {
                    posts.push_back(RecentPost { post: c.post, lang: c.lang, deleted: c.deleted });
                    while posts.len() > RECENT_KEPT {
                        posts.pop_front();
                    }
                } else if let Some(p) = posts.iter_mut().find(|p| p.post == c.post) {
                    p.lang.clone_from(&c.lang);
                    p.deleted = c.deleted;
                }
            }
            heads.insert(room, seq);
        } else {
            // Nothing remembered: hold the shard while the head moves, so that a list
            // read from sled before this batch cannot be offered after it.
            let _held = self.recent.entry(room);
            heads.insert(room, seq);
        }
    }

    /// A room's remembered last posts, oldest first.
    pub fn recent(&self, room: RoomId) -> Option<Vec<RecentPost>> {
        self.recent.get(&room).map(|p| p.iter().cloned().collect())
    }

    /// Keeps `posts`, read from sled up to the durable head `head`, as the room's last
    /// posts, unless the head has moved since (a batch this list does not show).
    pub fn offer_recent(&self, heads: &DashMap<RoomId, u64>, room: RoomId, head: u64, posts: Vec<RecentPost>) {
        if let dashmap::Entry::Vacant(slot) = self.recent.entry(room) {
            if heads.get(&room).map_or(0, |h| *h) == head {
                slot.insert(posts.into());
            }
        }
    }

    /// The value under `key`, as bytes (cheap to clone: sled's `IVec` is shared or inline).
    pub fn get(&self, tree: Mirrored, key: &[u8]) -> Option<IVec> {
        self.map(tree).get(key).map(|v| v.value().clone())
    }

    pub fn contains(&self, tree: Mirrored, key: &[u8]) -> bool {
        self.map(tree).contains_key(key)
    }

    /// Entries of each copy, for checks against sled.
    #[cfg(test)]
    pub fn len(&self, tree: Mirrored) -> usize {
        self.map(tree).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_what_sled_holds_and_follows_writes_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        use crate::store::engine::{Db, KvEngine};
        let db = Db::open(dir.path(), 8 * 1024 * 1024).expect("sled");
        let (rooms, spaces, members) = (
            db.open_tree("rooms").expect("t"),
            db.open_tree("spaces").expect("t"),
            db.open_tree("members").expect("t"),
        );
        rooms.insert(b"r1", b"one".as_slice()).expect("insert");
        members.insert(b"m1", b"".as_slice()).expect("insert");
        let m = Mirror::load(&rooms, &spaces, &members).expect("load");
        assert_eq!(m.get(Mirrored::Rooms, b"r1").as_deref(), Some(b"one".as_slice()));
        assert!(m.contains(Mirrored::Members, b"m1"));
        assert_eq!(m.len(Mirrored::Spaces), 0);
        let w = |tree, key: &[u8], value: Option<&[u8]>| MirrorWrite {
            tree,
            key: IVec::from(key),
            value: value.map(IVec::from),
        };
        m.apply(vec![
            w(Mirrored::Rooms, b"r1", Some(b"two")),
            w(Mirrored::Members, b"m1", None),
            w(Mirrored::Spaces, b"s1", Some(b"s")),
            w(Mirrored::Spaces, b"s1", None),
            w(Mirrored::Spaces, b"s1", Some(b"again")),
        ]);
        assert_eq!(m.get(Mirrored::Rooms, b"r1").as_deref(), Some(b"two".as_slice()));
        assert!(!m.contains(Mirrored::Members, b"m1"));
        assert_eq!(m.get(Mirrored::Spaces, b"s1").as_deref(), Some(b"again".as_slice()));
    }
}
