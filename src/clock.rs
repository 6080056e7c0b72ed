//! The server's clock. Real time, plus an offset that tests advance instead of sleeping
//! (claim leases expire without anyone waiting twenty minutes).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Shared by everything in one server; clones see the same offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Microseconds since the Unix epoch.
    pub fn now_us(&self) -> i64 {
        chrono::Utc::now().timestamp_micros() + self.offset_ms.load(Ordering::Relaxed).saturating_mul(1000)
    }

    /// Now, as the RFC 3339 UTC string used on the wire.
    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now_ms())
    }

    /// Moves this clock forward (tests).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// Real milliseconds since the Unix epoch, whatever tests did to a `Clock`: for
/// operational readings (health, metrics), never for what members see.
pub fn unix_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// Milliseconds since the epoch as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Microseconds since the epoch as RFC 3339 UTC (the wire's precision).
pub fn rfc3339_us(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// RFC 3339 to milliseconds since the epoch.
pub fn parse_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
}

/// An RFC 3339 time in microseconds since the epoch.
pub fn parse_us(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let a = Clock::default();
        let b = a.clone();
        let before = b.now_ms();
        a.advance(Duration::from_secs(3600));
        assert!(b.now_ms() >= before + 3_600_000);
        assert_eq!(parse_ms(&rfc3339(1_700_000_000_123)), Some(1_700_000_000_123));
    }
}
