//! Knowing the store is whole before serving it.
//!
//! sled recovers from a damaged file by cutting its log at the damage: it opens, in an
//! earlier state, and what it lost is silently gone. Two checks catch that:
//! - the watermark: beside the store, a file records how many events and changes were
//!   durable (written about once a second, fsync'd, never ahead of the disk). A store that
//!   opens with fewer has lost acknowledged writes.
//! - the quick check at every start: each room's first and last event are there.
//!
//! `collective-brain verify` reads everything: every room's log, seq by seq, and every
//! record of every tree it can decode. A store that fails is not served; the way back is
//! the last backup (`collective-brain import`).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::engine::KvTree;
use super::{decode, keys, PostRecord, Store, UserRecord};
use crate::error::StoreError;
use crate::model::{Room, RoomId, Space};

/// The watermark's file, in the data dir.
pub const WATERMARK: &str = "store.watermark";

/// What the store had made durable: events in all rooms, and the change feed's head.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Watermark {
    pub events: u64,
    pub changes: u64,
}

impl Watermark {
    fn parse(text: &str) -> Option<Watermark> {
        let mut w = Watermark::default();
        for line in text.lines() {
            let (name, value) = line.split_once(' ')?;
            let value: u64 = value.trim().parse().ok()?;
            match name {
                "events" => w.events = value,
                "changes" => w.changes = value,
                _ => {}
            }
        }
        Some(w)
    }

    /// Reads the watermark at `path`; none when there is no file yet.
    pub fn read(path: &Path) -> Result<Option<Watermark>, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Watermark::parse(&text).map(Some).ok_or_else(|| StoreError::Corrupt {
                tree: "watermark",
                detail: format!("{} is unreadable", path.display()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Sled(sled::Error::Io(e))),
        }
    }

    /// Writes it durably: a new file, synced, renamed over the old one.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        writeln!(f, "events {}\nchanges {}", self.events, self.changes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// Why a store is not whole.
fn damaged(detail: String) -> StoreError {
    StoreError::Damaged(detail)
}

/// What `verify` read.
#[derive(Debug, Default)]
pub struct Report {
    pub rooms: u64,
    pub events: u64,
    pub posts: u64,
    pub users: u64,
}

impl Store {
    /// The watermark's path.
    pub(super) fn watermark_path(&self) -> PathBuf {
        self.sled_dir.with_file_name(WATERMARK)
    }

    /// What is durable now.
    pub fn durable(&self) -> Watermark {
        let events = self.heads.iter().map(|h| *h.value()).sum();
        Watermark { events, changes: self.changes.get() }
    }

    /// Records what is durable now, when it moved since `last`; returns what it recorded.
    pub fn record_watermark(&self, last: Watermark) -> std::io::Result<Watermark> {
        let now = self.durable();
        if now != last {
            now.write(&self.watermark_path())?;
        }
        Ok(now)
    }

    /// The checks at every start: nothing acknowledged is missing (the watermark), and
    /// each room's log has its first and last event.
    pub(super) fn quick_check(&self) -> Result<(), StoreError> {
        let durable = self.durable();
        if let Some(mark) = Watermark::read(&self.watermark_path())? {
            if durable.events < mark.events || durable.changes < mark.changes {
                return Err(damaged(format!(
                    "it holds {} events and {} changes, but {} and {} were acknowledged before",
                    durable.events, durable.changes, mark.events, mark.changes
                )));
            }
        }
        for head in self.heads.iter() {
            let (room, last) = (*head.key(), *head.value());
            if last == 0 {
                continue;
            }
            for seq in [1, last] {
                if self.events(room, seq, seq, 1)?.first().map(|(s, _)| *s) != Some(seq) {
                    return Err(damaged(format!("room {room} has lost event {seq} of its {last}")));
                }
            }
        }
        Ok(())
    }

    /// Reads everything: every room's log without a gap and every record decoded.
    pub fn verify(&self) -> Result<Report, StoreError> {
        self.quick_check()?;
        let mut report = Report::default();
        for item in self.trees.rooms.iter() {
            let (_, v) = item?;
            let room: Room = decode("rooms", &v)?;
            report.rooms += 1;
            let mut next = 1;
            while next <= room.last_seq {
                let chunk = self.events(room.id, next, room.last_seq, 1024)?;
                for (seq, bytes) in &chunk {
                    if *seq != next {
                        return Err(damaged(format!("room {} misses event {next} (next found: {seq})", room.id)));
                    }
                    serde_json::from_slice::<serde_json::Value>(bytes)
                        .map_err(|e| damaged(format!("room {} event {seq}: {e}", room.id)))?;
                    next += 1;
                    report.events += 1;
                }
                if chunk.is_empty() {
                    return Err(damaged(format!("room {} misses events {next} to {}", room.id, room.last_seq)));
                }
            }
            check_room_posts(self, room.id)?;
        }
        for item in self.trees.spaces.iter() {
            decode::<Space>("spaces", &item?.1)?;
        }
        for item in self.trees.users.iter() {
            decode::<UserRecord>("users", &item?.1)?;
            report.users += 1;
        }
        for item in self.trees.tokens.iter() {
            let (_, v) = item?;
            keys::token_value(&v).ok_or_else(|| damaged("a token record is unreadable".into()))?;
        }
        for item in self.trees.posts.iter() {
            decode::<PostRecord>("posts", &item?.1)?;
            report.posts += 1;
        }
        Ok(report)
    }
}

/// Every post the room lists can be read.
fn check_room_posts(store: &Store, room: RoomId) -> Result<(), StoreError> {
    let mut after = 0;
    loop {
        let page = store.posts(room, after, 500)?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.seq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watermark_round_trips_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(WATERMARK);
        assert_eq!(Watermark::read(&path).unwrap(), None);
        let w = Watermark { events: 12, changes: 7 };
        w.write(&path).unwrap();
        assert_eq!(Watermark::read(&path).unwrap(), Some(w));
        std::fs::write(&path, "events many").unwrap();
        assert!(Watermark::read(&path).is_err());
    }
}
