//! Rate limits: token buckets per (what, who). A bucket holds up to `burst` tokens and
//! refills at `per_second`; each attempt takes one, and an empty bucket answers
//! `rate_limited` with the seconds until the next token.
//!
//! Per node: with several nodes each limits what reaches it, which bounds abuse per node
//! (a shared limiter can come with the shared log).

use std::net::IpAddr;
use std::time::Instant;

use dashmap::DashMap;

use crate::error::{ApiError, Code};
use crate::model::UserId;

/// One limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub burst: f64,
    pub per_second: f64,
}

impl Rate {
    pub const fn new(burst: u32, per_minute: u32) -> Rate {
        Rate { burst: burst as f64, per_second: per_minute as f64 / 60.0 }
    }
}

/// The limits in force.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Registrations per address.
    pub register: Rate,
    /// Login attempts per address.
    pub login: Rate,
    /// Failed logins per handle: past the burst, logins for that handle slow down to the
    /// refill rate, whoever tries.
    pub login_failures: Rate,
    /// Posts, edits and translations per user.
    pub writes: Rate,
    /// Typing notices per user.
    pub typing: Rate,
    /// Read markers (rooms and notifications) per user: frequent, small.
    pub reads: Rate,
    /// Searches per user, or per address for guests.
    pub searches: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            register: Rate::new(20, 10),
            login: Rate::new(30, 30),
            login_failures: Rate::new(5, 2),
            writes: Rate::new(120, 600),
            typing: Rate::new(10, 60),
            reads: Rate::new(120, 1200),
            searches: Rate::new(120, 1200),
        }
    }
}

impl Limits {
    /// No limits (benchmarks, and tests of other things).
    pub fn off() -> Limits {
        let off = Rate { burst: f64::INFINITY, per_second: f64::INFINITY };
        Limits { register: off, login: off, login_failures: off, writes: off, typing: off, reads: off, searches: off }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Register(IpAddr),
    Login(IpAddr),
    LoginFailures(u64),
    Writes(UserId),
    Typing(UserId),
    Reads(UserId),
    SearchUser(UserId),
    SearchAddr(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Most buckets kept; past this, full (idle) ones are dropped.
const MAX_BUCKETS: usize = 100_000;

pub struct Limiter {
    limits: Limits,
    buckets: DashMap<Key, Bucket>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        Limiter { limits, buckets: DashMap::new() }
    }

    pub fn register(&self, addr: IpAddr) -> Result<(), ApiError> {
        self.take(Key::Register(addr), self.limits.register, "registrations from your address")
    }

    pub fn login(&self, addr: IpAddr) -> Result<(), ApiError> {
        self.take(Key::Login(addr), self.limits.login, "sign-in attempts from your address")
    }

    /// Counts a sign-in attempt for the handle as failed, before its password is
    /// checked; refused when the handle is locked by failed attempts.
    pub fn login_attempt(&self, handle: &str) -> Result<(), ApiError> {
        self.take(Key::LoginFailures(handle_key(handle)), self.limits.login_failures, "failed sign-ins for this handle")
    }

    /// Gives back the attempt of a sign-in that did not fail.
    pub fn login_refund(&self, handle: &str) {
        let rate = self.limits.login_failures;
        if let Some(mut b) = self.buckets.get_mut(&Key::LoginFailures(handle_key(handle))) {
            b.tokens = (b.tokens + 1.0).min(rate.burst);
        }
    }

    pub fn write(&self, user: UserId) -> Result<(), ApiError> {
        self.take(Key::Writes(user), self.limits.writes, "posts and edits")
    }

    pub fn typing(&self, user: UserId) -> Result<(), ApiError> {
        self.take(Key::Typing(user), self.limits.typing, "typing notices")
    }

    pub fn read(&self, user: UserId) -> Result<(), ApiError> {
        self.take(Key::Reads(user), self.limits.reads, "read markers")
    }

    /// A search by `user`, or by a guest from `addr`.
    pub fn search(&self, user: Option<UserId>, addr: Option<IpAddr>) -> Result<(), ApiError> {
        let key = match (user, addr) {
            (Some(u), _) => Key::SearchUser(u),
            (None, Some(a)) => Key::SearchAddr(a),
            (None, None) => return Ok(()),
        };
        self.take(key, self.limits.searches, "searches")
    }

    fn refill(bucket: &mut Bucket, rate: Rate, now: Instant) {
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate.per_second).min(rate.burst);
        bucket.at = now;
    }

    fn take(&self, key: Key, rate: Rate, what: &str) -> Result<(), ApiError> {
        if rate.burst.is_infinite() {
            return Ok(());
        }
        self.prune();
        let now = Instant::now();
        let mut b = self.buckets.entry(key).or_insert(Bucket { tokens: rate.burst, at: now });
        Self::refill(&mut b, rate, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(limited(what, (1.0 - b.tokens) / rate.per_second))
        }
    }

    fn prune(&self) {
        if self.buckets.len() > MAX_BUCKETS {
            let now = Instant::now();
            self.buckets.retain(|_, b| now.duration_since(b.at).as_secs() < 3600);
        }
    }
}

fn handle_key(handle: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    handle.to_lowercase().hash(&mut h);
    h.finish()
}

fn limited(what: &str, retry_after: f64) -> ApiError {
    let secs = retry_after.ceil().max(1.0) as u64;
    let mut e = ApiError::new(Code::RateLimited, format!("too many {what}: try again in {secs} s"));
    e.retry_after = Some(secs);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_says_when_to_retry() {
        let l = Limiter::new(Limits { writes: Rate::new(3, 60), ..Limits::default() });
        let u = UserId(1);
        for _ in 0..3 {
            assert!(l.write(u).is_ok());
        }
        let e = l.write(u).unwrap_err();
        assert_eq!(e.code, Code::RateLimited);
        assert_eq!(e.retry_after, Some(1));
        assert!(l.write(UserId(2)).is_ok(), "buckets are per user");
        assert!(Limiter::new(Limits::off()).write(u).is_ok());
    }

    #[test]
    fn failed_logins_lock_the_handle_only_after_the_burst() {
        let l = Limiter::new(Limits::default());
        for _ in 0..5 {
            assert!(l.login_attempt("Ana").is_ok());
        }
        assert!(l.login_attempt("ANA").is_err());
        assert!(l.login_attempt("bruno").is_ok());
        l.login_refund("bruno");
        for _ in 0..5 {
            assert!(l.login_attempt("bruno").is_ok(), "a successful sign-in gives its attempt back");
        }
    }
}
