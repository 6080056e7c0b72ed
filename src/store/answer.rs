//! What each kind of write answers, taken out of the writer's `Outcome` in this one place:
//! a service asks `Store::write::<User>(op)` and gets a `User`, never an `Outcome` to
//! match with a fallback.

use super::ops::Outcome;
use super::NonceRecord;
use crate::model::{Post, Space, User};

/// An answer of the writer, of one kind.
pub trait Answer: Sized {
    fn from_outcome(outcome: Outcome) -> Option<Self>;
}

/// A new post, or (`duplicate`) the first ack again for a nonce already seen.
#[derive(Debug)]
pub struct Posted {
    pub ack: NonceRecord,
    pub duplicate: bool,
}

/// An event about an existing post: its seq, and the post as it left it.
#[derive(Debug)]
pub struct PostEvent {
    pub seq: u64,
    pub post: Post,
}

/// A translator's claim, held until then (ms since the epoch).
#[derive(Debug)]
pub struct ClaimedUntil(pub i64);

/// A read marker where it stands after the write.
#[derive(Debug)]
pub struct ReadUpTo(pub u64);

/// A write with nothing to answer but that it was done.
#[derive(Debug)]
pub struct Done;

impl Answer for User {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::User(u) => Some(u),
            _ => None,
        }
    }
}

impl Answer for Space {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Space(s) => Some(s),
            _ => None,
        }
    }
}

impl Answer for Posted {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Posted { ack, duplicate } => Some(Posted { ack, duplicate }),
            _ => None,
        }
    }
}

impl Answer for PostEvent {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Event { seq, post } => Some(PostEvent { seq, post }),
            _ => None,
        }
    }
}

impl Answer for ClaimedUntil {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Claimed { expires_ms } => Some(ClaimedUntil(expires_ms)),
            _ => None,
        }
    }
}

impl Answer for ReadUpTo {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Read { seq } => Some(ReadUpTo(seq)),
            _ => None,
        }
    }
}

impl Answer for Done {
    fn from_outcome(_: Outcome) -> Option<Self> {
        Some(Done)
    }
}
