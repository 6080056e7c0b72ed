//! What `/healthz` says of this node: `ok`, or `degraded` and why. Each reason is
//! something an operator acts on: free disk space, a store that failed to write, a search
//! index that stays behind the store.

use std::sync::atomic::Ordering::Relaxed;

use super::App;

/// An index behind the store for longer than this degrades the node.
pub const INDEX_BEHIND_MS: u64 = 60_000;
/// A failed store write degrades the node for this long after it.
pub const STORE_FAILURE_MS: u64 = 300_000;

/// The node's readings that health is judged on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Readings {
    pub now_ms: u64,
    /// Writes refused: the disk is below its reserve.
    pub disk_low: bool,
    pub disk_free: u64,
    pub disk_reserve: u64,
    /// The store's watermark could not be written at the last try.
    pub watermark_failing: bool,
    /// When a store batch or flush last failed (0: never).
    pub store_failed_ms: u64,
    /// Changes committed and not yet searchable.
    pub index_lag: u64,
    /// When the index last held every change it had seen.
    pub index_caught_up_ms: u64,
}

/// The reasons the node is degraded; none when it is well.
pub fn problems(r: &Readings) -> Vec<String> {
    let mut out = Vec::new();
    if r.disk_low {
        out.push(format!(
            "disk: {} MiB free, below the reserve of {} MiB; writes are refused",
            r.disk_free >> 20,
            r.disk_reserve >> 20
        ));
    }
    if r.watermark_failing {
        out.push("store: the watermark cannot be written (see the log)".to_owned());
    }
    if r.store_failed_ms > 0 && r.now_ms.saturating_sub(r.store_failed_ms) < STORE_FAILURE_MS {
        let ago = r.now_ms.saturating_sub(r.store_failed_ms) / 1000;
        out.push(format!("store: a write failed {ago} s ago (see the log)"));
    }
    let behind = r.now_ms.saturating_sub(r.index_caught_up_ms);
    if r.index_lag > 0 && behind >= INDEX_BEHIND_MS {
        out.push(format!(
            "search: {} changes are not searchable yet; the index last caught up {} s ago",
            r.index_lag,
            behind / 1000
        ));
    }
    out
}

impl App {
    /// This node's readings now.
    pub fn health_readings(&self) -> Readings {
        let head = self.store.change_head().get();
        let applied = self.search.applied.load(Relaxed);
        Readings {
            now_ms: crate::clock::unix_ms(),
            disk_low: self.store.disk_low(),
            disk_free: self.metrics.disk_free.load(Relaxed),
            disk_reserve: self.config.disk_reserve_bytes(),
            watermark_failing: self.metrics.watermark_failing.load(Relaxed),
            store_failed_ms: self.store.stats().last_failure_ms.load(Relaxed),
            index_lag: head.saturating_sub(applied),
            index_caught_up_ms: self.search.caught_up_ms.load(Relaxed),
        }
    }

    /// Seconds the index has been behind the store (0 while it keeps up).
    pub fn index_behind_secs(&self) -> u64 {
        let r = self.health_readings();
        if r.index_lag == 0 {
            return 0;
        }
        r.now_ms.saturating_sub(r.index_caught_up_ms) / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn well() -> Readings {
        Readings {
            now_ms: NOW,
            disk_free: 10 << 30,
            disk_reserve: 256 << 20,
            index_caught_up_ms: NOW,
            ..Readings::default()
        }
    }

    #[test]
    fn a_well_node_has_no_problem() {
        assert!(problems(&well()).is_empty());
        // A moment behind is the index's normal pace, not a problem.
        let busy = Readings { index_lag: 500, index_caught_up_ms: NOW - 5_000, ..well() };
        assert!(problems(&busy).is_empty());
        // An old failure is history.
        let healed = Readings { store_failed_ms: NOW - STORE_FAILURE_MS - 1, ..well() };
        assert!(problems(&healed).is_empty());
    }

    #[test]
    fn each_reason_is_named() {
        let low = Readings { disk_low: true, disk_free: 100 << 20, ..well() };
        assert_eq!(problems(&low), ["disk: 100 MiB free, below the reserve of 256 MiB; writes are refused"]);
        let failed = Readings { store_failed_ms: NOW - 12_000, ..well() };
        assert_eq!(problems(&failed), ["store: a write failed 12 s ago (see the log)"]);
        let mark = Readings { watermark_failing: true, ..well() };
        assert!(problems(&mark)[0].contains("watermark"));
        let behind = Readings { index_lag: 42, index_caught_up_ms: NOW - 95_000, ..well() };
        assert_eq!(problems(&behind), ["search: 42 changes are not searchable yet; the index last caught up 95 s ago"]);
        let all = Readings { disk_low: true, watermark_failing: true, store_failed_ms: NOW, ..behind };
        assert_eq!(problems(&all).len(), 4);
    }
}
