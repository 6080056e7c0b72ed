//! Ids that tell nothing: the store numbers what it creates from one counter, and the
//! numbers leave the store only through a keyed permutation.
//!
//! Inside the store every key holds the counter's number (its "place"), so scans come
//! back in the order things were made, as the runs, the queue and the notifications
//! need. The ids in objects, frames and URLs are the places permuted under the
//! community's secret key (`meta` key `id_key`, made at the store's first open and
//! carried by exports), so the gap between two public posts says nothing about how many
//! private ones were written between them, and no id says which came first.
//!
//! The permutation is an 8-round Feistel network over 48 bits (two 24-bit halves) whose
//! round function is SipHash-1-3 under the key: a keyed pseudo-random permutation whose
//! output is a number below 2^48, at most 15 digits on the wire. Places at or past 2^48
//! (no store reaches them) are left as they are, which keeps the map one-to-one on all
//! of `u64`. No maintained crate offers format-preserving encryption on a 48-bit domain
//! without pulling in a block cipher and its radix arithmetic; this is twenty lines over
//! `siphasher`.

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

use crate::model::{FileId, NotificationId, PostId, RoomId, SpaceId, UserId};

const HALF_BITS: u32 = 24;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;
const DOMAIN: u64 = 1 << (2 * HALF_BITS);
const ROUNDS: u64 = 8;

/// The `meta` key of the community's id key.
pub const KEY_NAME: &str = "id_key";

/// The keyed permutation between the store's places and the ids outside it.
#[derive(Clone, Copy)]
pub struct Ids {
    k0: u64,
    k1: u64,
}

impl std::fmt::Debug for Ids {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ids(..)")
    }
}

impl Ids {
    /// The permutation under a 16-byte key.
    pub fn new(key: [u8; 16]) -> Ids {
        let (a, b) = key.split_at(8);
        let word = |s: &[u8]| s.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        Ids { k0: word(a), k1: word(b) }
    }

    /// A fresh random key.
    pub fn new_key() -> [u8; 16] {
        use rand::RngCore;
        let mut key = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    }

    fn round(&self, round: u64, half: u64) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.k0 ^ round, self.k1);
        h.write_u64(half);
        h.finish() & HALF_MASK
    }

    /// The id outside the store of the thing at `place`.
    pub fn id(&self, place: u64) -> u64 {
        if place >= DOMAIN {
            return place;
        }
        let (mut left, mut right) = (place >> HALF_BITS, place & HALF_MASK);
        for r in 0..ROUNDS {
            let next = left ^ self.round(r, right);
            left = right;
            right = next;
        }
        (left << HALF_BITS) | right
    }

    /// The place inside the store of the thing with id `id` (the inverse of `id`).
    pub fn place(&self, id: u64) -> u64 {
        if id >= DOMAIN {
            return id;
        }
        let (mut left, mut right) = (id >> HALF_BITS, id & HALF_MASK);
        for r in (0..ROUNDS).rev() {
            let prev = right ^ self.round(r, left);
            right = left;
            left = prev;
        }
        (left << HALF_BITS) | right
    }

    /// A key's eight bytes for an id: its place, big-endian.
    pub fn key<I: Place>(&self, id: I) -> [u8; 8] {
        self.place(id.raw()).to_be_bytes()
    }

    /// An id's place.
    pub fn of<I: Place>(&self, id: I) -> u64 {
        self.place(id.raw())
    }

    /// The id of the thing at `place`.
    pub fn at<I: FromPlace>(&self, place: u64) -> I {
        I::from_raw(self.id(place))
    }
}

/// An id the store keys by place.
pub trait Place: Copy {
    fn raw(self) -> u64;
}

/// An id type the store makes from a place.
pub trait FromPlace: Place {
    fn from_raw(raw: u64) -> Self;
}

macro_rules! place {
    ($($t:ident),*) => {$(
        impl Place for $t {
            fn raw(self) -> u64 {
                self.0
            }
        }
        impl FromPlace for $t {
            fn from_raw(raw: u64) -> Self {
                $t(raw)
            }
        }
    )*};
}
place!(UserId, SpaceId, RoomId, PostId, NotificationId, FileId);

impl<T: Place> Place for &T {
    fn raw(self) -> u64 {
        (*self).raw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permutation_is_one_to_one_and_keyed() {
        let ids = Ids::new(*b"0123456789abcdef");
        let other = Ids::new(*b"0123456789abcdeF");
        let mut seen = std::collections::HashSet::new();
        for place in (0..20_000u64).chain([DOMAIN - 1, DOMAIN, u64::MAX]) {
            let id = ids.id(place);
            assert_eq!(ids.place(id), place);
            assert!(seen.insert(id), "two places share id {id}");
            if place < DOMAIN {
                assert!(id < DOMAIN);
            }
        }
        let differ = (1..1000u64).filter(|&p| ids.id(p) != other.id(p)).count();
        assert!(differ > 990, "another key gives other ids ({differ} of 999 differ)");
    }

    #[test]
    fn consecutive_places_give_ids_without_order() {
        let ids = Ids::new(Ids::new_key());
        let seq: Vec<u64> = (1..=1000u64).map(|p| ids.id(p)).collect();
        let rising = seq.windows(2).filter(|w| w[1] > w[0]).count();
        assert!((350..650).contains(&rising), "about half the steps go up, not {rising} of 999");
        let small = seq.iter().filter(|&&id| id < DOMAIN / 1000).count();
        assert!(small < 20, "ids spread over the whole domain ({small} of 1000 below 2^48/1000)");
    }
}
