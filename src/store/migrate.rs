//! The schema: its number in `meta`, and the numbered steps that bring an older data dir
//! up to this build's.
//!
//! Schema 1 is the layout `keys` describes. A change to the layout adds a step to
//! `STEPS` (from N to N + 1), raises `SCHEMA` and gets a test that runs the step on a
//! store of the schema before. Each step must be idempotent: a crash in the middle is
//! repaired by running it again at the next open, as the number is written only after
//! the step has been flushed.

use super::engine::{Db, KvEngine, KvTree};
use super::Trees;
use crate::error::StoreError;

/// The schema this build reads and writes.
pub const SCHEMA: u32 = 1;

/// The `meta` key of the schema number (big-endian `u32`).
pub const KEY: &str = "schema";

/// The `meta` key under which development builds before schema 1 wrote their layout's
/// number. A data dir holding it has another key layout, and ids that were not keyed.
const PRE_SCHEMA_KEY: &str = "schema_version";

/// One step: it brings a store of schema `to - 1` to schema `to`.
pub struct Step {
    pub to: u32,
    pub what: &'static str,
    pub apply: fn(&Db, &Trees) -> Result<(), StoreError>,
}

/// The steps, in order. Empty while schema 1 is the only one.
pub const STEPS: &[Step] = &[];

/// What `open` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// An empty data dir: the caller writes schema `SCHEMA` and the id key.
    New,
    /// A store of this schema, after any step it needed.
    Current,
}

/// Reads the data dir's schema and runs the steps it lacks (`steps`, up to `target`).
pub fn bring_up(db: &Db, trees: &Trees, target: u32, steps: &[Step]) -> Result<Found, StoreError> {
    if trees.meta.contains_key(PRE_SCHEMA_KEY)? {
        return Err(StoreError::UnknownLayout);
    }
    let Some(v) = trees.meta.get(KEY)? else {
        if trees.users.is_empty() && trees.spaces.is_empty() {
            return Ok(Found::New);
        }
        return Err(StoreError::UnknownLayout);
    };
    let found = v.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(u32::MAX);
    if found > target {
        return Err(StoreError::SchemaTooNew { found, supported: target });
    }
    for step in steps.iter().filter(|s| s.to > found && s.to <= target) {
        (step.apply)(db, trees)?;
        db.flush()?;
        trees.meta.insert(KEY, &step.to.to_be_bytes())?;
        tracing::info!(to = step.to, what = step.what, "store migrated");
    }
    Ok(Found::Current)
}

/// Writes a new store's schema number.
pub fn mark_new(trees: &Trees) -> Result<(), StoreError> {
    trees.meta.insert(KEY, &SCHEMA.to_be_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step as a real one would be: schema 2 keeps every user's handle in upper case
    /// beside the lower-case one, in `handles` under the prefix `U:`.
    fn upper_handles(db: &Db, trees: &Trees) -> Result<(), StoreError> {
        let mut writes = crate::store::engine::TreeWrites::new();
        for item in trees.handles.iter() {
            let (k, v) = item?;
            if k.starts_with(b"U:") {
                continue;
            }
            let mut upper = b"U:".to_vec();
            upper.extend(k.to_ascii_uppercase());
            writes.insert(upper.into(), Some(v));
        }
        db.commit(&[(&trees.handles, &writes)])?;
        Ok(())
    }

    const TEST_STEPS: &[Step] = &[Step { to: 2, what: "upper-case handles", apply: upper_handles }];

    fn trees(dir: &std::path::Path) -> (Db, Trees) {
        let db = Db::open(dir, 8 * 1024 * 1024).expect("open sled");
        let trees = Trees::open(&db).expect("trees");
        (db, trees)
    }

    #[test]
    fn a_step_brings_schema_1_up_once_and_again_after_a_crash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, t) = trees(dir.path());
        assert_eq!(bring_up(&db, &t, SCHEMA, STEPS).expect("new"), Found::New);
        mark_new(&t).expect("mark");
        t.users.insert(b"u", b"{}".as_slice()).expect("user");
        t.handles.insert(b"ana", b"1".as_slice()).expect("handle");

        assert_eq!(bring_up(&db, &t, 2, TEST_STEPS).expect("step"), Found::Current);
        assert_eq!(t.meta.get(KEY).expect("meta").as_deref(), Some(&2u32.to_be_bytes()[..]));
        assert_eq!(t.handles.get(b"U:ANA").expect("get").as_deref(), Some(b"1".as_slice()));

        // A crash after the step but before the number: the step runs again, harmlessly.
        t.meta.insert(KEY, &1u32.to_be_bytes()).expect("meta");
        bring_up(&db, &t, 2, TEST_STEPS).expect("again");
        assert_eq!(t.handles.len(), 2, "the step is idempotent");

        // A build of schema 1 refuses it.
        let err = bring_up(&db, &t, 1, STEPS).expect_err("too new");
        assert!(matches!(err, StoreError::SchemaTooNew { found: 2, supported: 1 }));
    }

    #[test]
    fn a_data_dir_of_a_development_layout_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, t) = trees(dir.path());
        t.meta.insert(PRE_SCHEMA_KEY, &6u32.to_be_bytes()).expect("meta");
        assert!(matches!(bring_up(&db, &t, SCHEMA, STEPS), Err(StoreError::UnknownLayout)));
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, t) = trees(dir.path());
        t.users.insert(b"u", b"{}".as_slice()).expect("user");
        assert!(matches!(bring_up(&db, &t, SCHEMA, STEPS), Err(StoreError::UnknownLayout)));
    }
}
