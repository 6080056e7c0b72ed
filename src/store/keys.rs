//! Key layout (schema 1). Every key is big-endian so that a prefix scan returns rows in
//! order. Users, spaces, rooms, posts and notifications are keyed by their *place*, the
//! number the store's counter gave them, never by their id (`ids`); values hold places
//! too, except JSON records and frames, which hold ids as clients see them.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | name | the schema (`schema`), the id key (`id_key`), markers (`nonces_folded_through`: the key of the last `fresh_posts` run folded into `nonces`; `change_seq`) |
//! | `users` | user | `UserRecord` (JSON) |
//! | `handles` | lower-case handle | user |
//! | `tokens` | SHA-256 of the token | user, the session epoch it was issued in, when it was last used (8 bytes each) |
//! | `spaces` | space | `Space` (JSON) |
//! | `slugs` | slug | space |
//! | `members` | space, user | empty |
//! | `rooms` | room | `Room` (JSON) |
//! | `space_rooms` | space, room | empty |
//! | `events` | room, last seq of the run | a run of the room's events, each the `event` frame exactly as sent to clients (`runs`; a run of one is the frame itself) |
//! | `posts` | post | `PostRecord` (JSON), once anything has changed the post |
//! | `fresh_posts` | last post of the run | the places of the posts one batch created, each read as a `fresh_post` until its first change writes its record in `posts`: byte 3, then for each post its place, room, seq, author, nonce length (2 bytes) and nonce (`runs`). Until folded, the only copy of the nonce, found through the applying thread's index (`nonces`) |
//! | `room_posts` | room, last seq of the run | the posts a batch created in the room: byte 2, then each post's seq and place (`runs`); a run of one is the post alone, keyed by its seq |
//! | `nonces` | user, nonce | `StoredNonce` (JSON): the room and seq of the post's creation event, and the room when it started a thread. A reply's nonce arrives here when its run is folded; a new thread's at once |
//! | `queue` | priority (1 byte), post | `NeedsRecord` (JSON): the languages the post still needs, once the record has changed since the post was created (until then it is in `fresh_queue`) |
//! | `fresh_queue` | priority (1 byte), last post of the run | the queue records of the posts one batch created at that priority, each until it changes: byte 2, then for each post its place, the record's length (4 bytes) and its `NeedsRecord` (JSON) (`runs`). A record that changes leaves the run, which keeps its key |
//! | `claims` | post, target language | `ClaimRecord` (JSON) |
//! | `translated` | target language, post | `TimeRecord` (JSON): how long it waited |
//! | `reads` | user, room | the last seq the user read |
//! | `changes` | change seq (global, one per batch) | posts, 8 bytes each: the posts the batch changed (created, edited, deleted, translated, relabelled) |
//! | `glossary` | concept id | `Concept` (JSON): a glossary concept added through the API |
//! | `notifications` | user, notification | `Notification` (JSON) |
//! | `flags` | post, user | `Flag` (JSON): a member's flag on a post |
//! | `hidden` | post | `HiddenRecord` (JSON): a hidden post's text, for moderators |
//! | `modlog` | action number (a place) | `ModAction` (JSON) |

/// Two ids as one ordered key.
pub fn pair(a: u64, b: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a.to_be_bytes());
    k[8..].copy_from_slice(&b.to_be_bytes());
    k
}

/// An id followed by arbitrary bytes.
pub fn id_and(a: u64, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + rest.len());
    k.extend_from_slice(&a.to_be_bytes());
    k.extend_from_slice(rest);
    k
}

/// The second half of a `pair` key.
pub fn second(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(8..16)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// A value holding one id.
pub fn id_value(v: &[u8]) -> Option<u64> {
    let b: [u8; 8] = v.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// A `tokens` value: the user id, the session epoch the token was issued in, and when
/// it was last used (ms since the epoch).
pub fn token(user: u64, epoch: u64, used_ms: i64) -> [u8; 24] {
    let mut v = [0u8; 24];
    v[..8].copy_from_slice(&user.to_be_bytes());
    v[8..16].copy_from_slice(&epoch.to_be_bytes());
    v[16..].copy_from_slice(&used_ms.to_be_bytes());
    v
}

/// Reads a `tokens` value as (user, epoch, last used); a shorter value (a bare user id,
/// or no time) reads as epoch 0 and time 0, "unknown".
pub fn token_value(v: &[u8]) -> Option<(u64, u64, i64)> {
    let user = id_value(v.get(..8)?)?;
    let epoch = if v.len() >= 16 { id_value(&v[8..16])? } else { 0 };
    let used = if v.len() >= 24 { i64::from_be_bytes(v[16..24].try_into().ok()?) } else { 0 };
    match v.len() {
        8 | 16 | 24 => Some((user, epoch, used)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_keys_sort_by_first_then_second() {
        let mut keys = vec![pair(2, 1), pair(1, 300), pair(1, 2), pair(256, 0)];
        keys.sort();
        assert_eq!(keys, vec![pair(1, 2), pair(1, 300), pair(2, 1), pair(256, 0)]);
        assert_eq!(second(&pair(7, 9)), Some(9));
        assert_eq!(second(&[0u8; 3]), None);
    }
}
