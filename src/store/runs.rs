//! A room's log in runs.
//!
//! The events a batch appends to a room have consecutive seqs; they are written as one
//! `events` entry, a *run*, keyed by the room and the run's **last** seq, rather than one
//! entry per event. sled's cost is per key (each insert in a transaction reads the key
//! first, walks the tree, clones the leaf and logs it; a leaf splits past 16 keys), so
//! a batch of twenty posts in one room writes a few keys instead of twenty.
//!
//! Keyed by the last seq so that finding an event is a forward step: the first entry at
//! or after `(room, seq)` is the one holding `seq`, if any does. A run of one event is
//! the event's frame itself, keyed by its own seq.
//!
//! A run's value: the byte [`RUN`], its first seq (8 bytes, big-endian), then each
//! event's length (4 bytes, big-endian) and frame. A frame is JSON and starts with `{`,
//! never with [`RUN`].
//!
//! The `room_posts` tree (which seqs of a room created which post) is written the same
//! way: a batch's new posts in a room are one entry keyed by the room and the last of
//! their seqs, its value [`RUN`] then each post's seq and place (8 bytes each,
//! big-endian). An entry of one post is the post's place alone (8 bytes), keyed by its
//! own seq. Their seqs need not be consecutive (edits, deletes and translations take seqs
//! of their own). Posts, rooms and authors are named by their places (`ids`).
//!
//! A new post's place (where its creation event is, and its nonce) is written the same
//! way, into a tree of its own, `fresh_posts`: a batch's new posts are one entry keyed
//! by the last of their places, its value [`AUTHORED`] then each post's place, room,
//! seq, author (8 bytes each) and nonce (its length in 2 bytes, then the bytes). These
//! entries are never rewritten: the first change to a post writes its whole record in
//! `posts`, which wins over the run. A post is looked up in `posts` first, then in the
//! run at or after its place. A run is also where its posts' nonces are, until they are
//! folded into `nonces` (`nonces`).
//!
//! The translators' queue records of a batch's new posts are runs in a tree of their
//! own, `fresh_queue`: one entry a batch and priority, keyed like a `queue` entry by the
//! priority and the last of their places, its value [`RUN`] then each post's place
//! (8 bytes), its record's length (4 bytes) and the record (`NeedsRecord`, JSON).
//! These are rewritten: a record that changes leaves its run (which keeps its key, and
//! is removed once empty) for an entry of its own in `queue`.

use std::ops::Range;

use super::engine::Value as IVec;
use super::engine::{Error as EngineError, KvTree, Tree};

use super::keys;
use crate::error::StoreError;

/// The first byte of a run of more than one event.
pub(crate) const RUN: u8 = 2;

/// A run holds at most this many bytes of frames: sled writes a leaf that outgrows a
/// quarter of its 512 KiB segment as a separate blob file (synced on its own at every
/// flush), and a leaf holds up to 17 entries, so 17 runs must stay well under 128 KiB.
pub(crate) const RUN_BYTES: usize = 4096;

/// Events in one run at most.
pub(crate) const RUN_EVENTS: usize = 64;

fn corrupt(detail: &str) -> StoreError {
    StoreError::Corrupt { tree: "events", detail: detail.into() }
}

/// The value of a run of `frames`, whose first has seq `first` and the others follow.
/// One frame is stored as itself.
pub(crate) fn encode(first: u64, frames: &[&[u8]]) -> Vec<u8> {
    if let [one] = frames {
        return one.to_vec();
    }
    let len = 9 + frames.iter().map(|f| 4 + f.len()).sum::<usize>();
    let mut v = Vec::with_capacity(len);
    v.push(RUN);
    v.extend_from_slice(&first.to_be_bytes());
    for f in frames {
        // A frame is bounded by the largest post (far under 4 GiB).
        v.extend_from_slice(&u32::try_from(f.len()).unwrap_or(u32::MAX).to_be_bytes());
        v.extend_from_slice(f);
    }
    v
}

/// The events of one entry: each seq and where its frame is in `value`.
pub(crate) fn entries(key: &[u8], value: &[u8]) -> Result<Vec<(u64, Range<usize>)>, StoreError> {
    let last = keys::second(key).ok_or_else(|| corrupt("short key"))?;
    if value.first() != Some(&RUN) {
        return Ok(vec![(last, 0..value.len())]);
    }
    let first = value.get(1..9).and_then(keys::id_value).ok_or_else(|| corrupt("short run"))?;
    let mut out = Vec::new();
    let mut at = 9;
    while at < value.len() {
        let len = value
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| corrupt("short run"))?;
        let len = usize::try_from(len).map_err(|_| corrupt("run length"))?;
        let start = at + 4;
        let end = start.checked_add(len).filter(|&e| e <= value.len()).ok_or_else(|| corrupt("short run"))?;
        let seq = first.checked_add(out.len() as u64).ok_or_else(|| corrupt("run seq"))?;
        out.push((seq, start..end));
        at = end;
    }
    if out.last().map(|(s, _)| *s) != Some(last) {
        return Err(corrupt("run does not end at its key"));
    }
    Ok(out)
}

/// The frame of event `seq` in the entry `(key, value)`, if the entry holds it.
pub(crate) fn frame_in(key: &[u8], value: &IVec, seq: u64) -> Result<Option<IVec>, StoreError> {
    Ok(entries(key, value)?.into_iter().find(|(s, _)| *s == seq).map(|(_, r)| value.subslice(r.start, r.len())))
}

/// The entry of `tree` that may hold event `seq` of `room`: the first at or after it.
pub(crate) fn entry_for(tree: &Tree, room: u64, seq: u64) -> Result<Option<(IVec, IVec)>, EngineError> {
    match tree.range(keys::pair(room, seq)..=keys::pair(room, u64::MAX)).next() {
        Some(item) => item.map(Some),
        None => Ok(None),
    }
}

/// Event `seq` of `room`, from `tree`.
pub(crate) fn event(tree: &Tree, room: u64, seq: u64) -> Result<Option<IVec>, StoreError> {
    match entry_for(tree, room, seq)? {
        Some((k, v)) => frame_in(&k, &v, seq),
        None => Ok(None),
    }
}

/// Event `(room, seq)` of `tree`, named by its key `keys::pair(room, seq)` (as a fresh
/// post's entry names its creation event).
pub(crate) fn event_by_key(tree: &Tree, key: &[u8]) -> Result<Option<IVec>, StoreError> {
    let room = key.get(..8).and_then(keys::id_value).ok_or_else(|| corrupt("short key"))?;
    let seq = keys::second(key).ok_or_else(|| corrupt("short key"))?;
    event(tree, room, seq)
}

/// Splits a room's new events (consecutive seqs from `first`) into runs within the
/// bounds: each run's key and value.
pub(crate) fn runs(room: u64, first: u64, frames: &[&[u8]]) -> Vec<([u8; 16], Vec<u8>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < frames.len() {
        let mut end = start + 1;
        let mut bytes = frames[start].len();
        while end < frames.len() && end - start < RUN_EVENTS && bytes + frames[end].len() <= RUN_BYTES {
            bytes += frames[end].len();
            end += 1;
        }
        let last = first + end as u64 - 1;
        out.push((keys::pair(room, last), encode(first + start as u64, &frames[start..end])));
        start = end;
    }
    out
}

/// `frames` of an entry with event `seq` replaced by `frame`: the entry's new value.
pub(crate) fn replace(key: &[u8], value: &[u8], seq: u64, frame: &[u8]) -> Result<Vec<u8>, StoreError> {
    let list = entries(key, value)?;
    let first = list.first().map(|(s, _)| *s).ok_or_else(|| corrupt("empty run"))?;
    let frames: Vec<&[u8]> =
        list.iter().map(|(s, r)| if *s == seq { frame } else { value.get(r.clone()).unwrap_or_default() }).collect();
    Ok(encode(first, &frames))
}

/// Posts in one `room_posts` run at most (16 bytes each).
pub(crate) const POST_RUN: usize = 64;

/// The `room_posts` entries of a room's new posts (seq, post id; seqs ascending): each
/// run's key and value.
pub(crate) fn post_runs(room: u64, posts: &[(u64, u64)]) -> Vec<([u8; 16], Vec<u8>)> {
    posts
        .chunks(POST_RUN)
        .filter_map(|run| {
            let &(last, id) = run.last()?;
            let value = if run.len() == 1 {
                id.to_be_bytes().to_vec()
            } else {
                let mut v = Vec::with_capacity(1 + 16 * run.len());
                v.push(RUN);
                for (seq, id) in run {
                    v.extend_from_slice(&keys::pair(*seq, *id));
                }
                v
            };
            Some((keys::pair(room, last), value))
        })
        .collect()
}

/// The posts of one `room_posts` entry: (seq, post id), seqs ascending.
pub(crate) fn post_entries(key: &[u8], value: &[u8]) -> Result<Vec<(u64, u64)>, StoreError> {
    let bad = |detail: &str| StoreError::Corrupt { tree: "room_posts", detail: detail.into() };
    let last = keys::second(key).ok_or_else(|| bad("short key"))?;
    if value.len() == 8 {
        return Ok(vec![(last, keys::id_value(value).ok_or_else(|| bad("bad id"))?)]);
    }
    let body = match value.split_first() {
        Some((&RUN, body)) if !body.is_empty() && body.len() % 16 == 0 => body,
        _ => return Err(bad("bad run")),
    };
    let out: Vec<(u64, u64)> = body
        .chunks_exact(16)
        .map(|pair| {
            Ok((
                keys::id_value(&pair[..8]).ok_or_else(|| bad("bad run"))?,
                keys::second(pair).ok_or_else(|| bad("bad run"))?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    if out.last().map(|(s, _)| *s) != Some(last) || out.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(bad("run out of order"));
    }
    Ok(out)
}

/// The first byte of a `fresh_posts` run (it names each post's author): the nonces of
/// its posts are not in `nonces` until folded there (`nonces`).
pub(crate) const AUTHORED: u8 = 3;

/// A new post's place, its creation event's room and seq, its author and its nonce
/// (rooms and authors as places too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fresh<'a> {
    pub id: u64,
    pub room: u64,
    pub seq: u64,
    pub author: u64,
    pub nonce: &'a str,
}

/// The `fresh_posts` entries of a batch's new posts (ids ascending): each run's key and
/// value, in the layout that names the author ([`AUTHORED`]).
pub(crate) fn fresh_runs(posts: &[Fresh<'_>]) -> Vec<([u8; 8], Vec<u8>)> {
    const HEAD: usize = 34;
    posts
        .chunks(POST_RUN)
        .filter_map(|run| {
            let last = run.last()?.id;
            let mut v = Vec::with_capacity(1 + run.iter().map(|p| HEAD + p.nonce.len()).sum::<usize>());
            v.push(AUTHORED);
            for p in run {
                v.extend_from_slice(&p.id.to_be_bytes());
                v.extend_from_slice(&keys::pair(p.room, p.seq));
                v.extend_from_slice(&p.author.to_be_bytes());
                // A nonce is at most 64 bytes (`validate::nonce`).
                let n = &p.nonce.as_bytes()[..p.nonce.len().min(usize::from(u16::MAX))];
                v.extend_from_slice(&u16::try_from(n.len()).unwrap_or(u16::MAX).to_be_bytes());
                v.extend_from_slice(n);
            }
            Some((last.to_be_bytes(), v))
        })
        .collect()
}

/// The posts of one `fresh_posts` entry, ids ascending.
pub(crate) fn fresh_entries<'a>(key: &[u8], value: &'a [u8]) -> Result<Vec<Fresh<'a>>, StoreError> {
    let bad = |detail: &str| StoreError::Corrupt { tree: "fresh_posts", detail: detail.into() };
    let last = keys::id_value(key).ok_or_else(|| bad("bad key"))?;
    let Some((&AUTHORED, mut rest)) = value.split_first() else { return Err(bad("bad run")) };
    let head_len = 34;
    let mut out: Vec<Fresh<'a>> = Vec::new();
    while !rest.is_empty() {
        let head = rest.get(..head_len).ok_or_else(|| bad("short run"))?;
        let field = |at: usize| keys::id_value(&head[at..at + 8]).ok_or_else(|| bad("short run"));
        let (id, room, seq) = (field(0)?, field(8)?, field(16)?);
        let author = field(24)?;
        let len = usize::from(u16::from_be_bytes([head[head_len - 2], head[head_len - 1]]));
        let nonce = rest.get(head_len..head_len + len).ok_or_else(|| bad("short run"))?;
        let nonce = std::str::from_utf8(nonce).map_err(|_| bad("nonce"))?;
        if out.last().is_some_and(|prev| prev.id >= id) {
            return Err(bad("run out of order"));
        }
        out.push(Fresh { id, room, seq, author, nonce });
        rest = &rest[head_len + len..];
    }
    if out.last().map(|p| p.id) != Some(last) {
        return Err(bad("run does not end at its key"));
    }
    Ok(out)
}

/// Post `id`'s place from `tree` (`fresh_posts`), as a `posts` value (`fresh_post`).
pub(crate) fn fresh_in(tree: &Tree, id: u64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(fresh_entry(tree, id)?.map(|p| super::fresh_post(p.room, p.seq, &p.nonce)))
}

/// A new post's place, owned: see [`Fresh`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FreshOwned {
    pub room: u64,
    pub seq: u64,
    pub author: u64,
    pub nonce: String,
}

/// Post `id`'s entry in `tree` (`fresh_posts`).
pub(crate) fn fresh_entry(tree: &Tree, id: u64) -> Result<Option<FreshOwned>, StoreError> {
    let Some(item) = tree.range(id.to_be_bytes()..).next() else { return Ok(None) };
    let (k, v) = item?;
    Ok(fresh_entries(&k, &v)?.into_iter().find(|p| p.id == id).map(|p| FreshOwned {
        room: p.room,
        seq: p.seq,
        author: p.author,
        nonce: p.nonce.to_owned(),
    }))
}

/// A new post's translators' queue record: its id and its `NeedsRecord` (JSON).
pub(crate) type Queued<'a> = (u64, &'a [u8]);

fn queue_corrupt(detail: &str) -> StoreError {
    StoreError::Corrupt { tree: "fresh_queue", detail: detail.into() }
}

/// The `fresh_queue` entries of a batch's new posts at one priority (ids ascending):
/// each run's key (the priority, then the run's last id, as a `queue` key) and value.
/// Bounded like the events' runs, in posts and in bytes.
pub(crate) fn queue_runs(priority: u8, posts: &[Queued<'_>]) -> Vec<([u8; 9], Vec<u8>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < posts.len() {
        let mut end = start + 1;
        let mut bytes = posts[start].1.len();
        while end < posts.len() && end - start < POST_RUN && bytes + posts[end].1.len() <= RUN_BYTES {
            bytes += posts[end].1.len();
            end += 1;
        }
        let run = &posts[start..end];
        let mut v = Vec::with_capacity(1 + run.iter().map(|(_, r)| 12 + r.len()).sum::<usize>());
        v.push(RUN);
        for (id, record) in run {
            v.extend_from_slice(&id.to_be_bytes());
            // A record is a few languages and ids: far under 4 GiB.
            v.extend_from_slice(&u32::try_from(record.len()).unwrap_or(u32::MAX).to_be_bytes());
            v.extend_from_slice(record);
        }
        let mut key = [0u8; 9];
        key[0] = priority;
        key[1..].copy_from_slice(&run[run.len() - 1].0.to_be_bytes());
        out.push((key, v));
        start = end;
    }
    out
}

/// The records of one `fresh_queue` entry: each post's id and record, ids ascending, the
/// last at most the key's id. A run keeps its key when posts leave it (`queue_without`),
/// the last one included, so its records may end before its key.
pub(crate) fn queue_entries<'a>(key: &[u8], value: &'a [u8]) -> Result<Vec<Queued<'a>>, StoreError> {
    let last =
        key.get(1..9).and_then(keys::id_value).filter(|_| key.len() == 9).ok_or_else(|| queue_corrupt("bad key"))?;
    let Some((&RUN, mut rest)) = value.split_first() else { return Err(queue_corrupt("bad run")) };
    let mut out: Vec<Queued<'a>> = Vec::new();
    while !rest.is_empty() {
        let head = rest.get(..12).ok_or_else(|| queue_corrupt("short run"))?;
        let id = keys::id_value(&head[..8]).ok_or_else(|| queue_corrupt("short run"))?;
        let len = usize::try_from(u32::from_be_bytes([head[8], head[9], head[10], head[11]]))
            .map_err(|_| queue_corrupt("record length"))?;
        let end = 12usize.checked_add(len).ok_or_else(|| queue_corrupt("record length"))?;
        let record = rest.get(12..end).ok_or_else(|| queue_corrupt("short run"))?;
        if out.last().is_some_and(|&(prev, _)| prev >= id) {
            return Err(queue_corrupt("run out of order"));
        }
        out.push((id, record));
        rest = &rest[end..];
    }
    match out.last() {
        None => Err(queue_corrupt("empty run")),
        Some(&(id, _)) if id > last => Err(queue_corrupt("a record past the run's key")),
        Some(_) => Ok(out),
    }
}

/// The run `(key, value)` without post `id`'s record: its new value, or `None` when it
/// held only that one (the entry is then removed). The key stays.
pub(crate) fn queue_without(key: &[u8], value: &[u8], id: u64) -> Result<Option<Vec<u8>>, StoreError> {
    let kept: Vec<Queued<'_>> = queue_entries(key, value)?.into_iter().filter(|(i, _)| *i != id).collect();
    if kept.is_empty() {
        return Ok(None);
    }
    let mut v = Vec::with_capacity(value.len());
    v.push(RUN);
    for (i, record) in kept {
        v.extend_from_slice(&i.to_be_bytes());
        v.extend_from_slice(&u32::try_from(record.len()).unwrap_or(u32::MAX).to_be_bytes());
        v.extend_from_slice(record);
    }
    Ok(Some(v))
}

/// Post `id`'s record in a `fresh_queue` entry, if the entry holds it.
pub(crate) fn queued_in(key: &[u8], value: &[u8], id: u64) -> Result<Option<IVec>, StoreError> {
    Ok(queue_entries(key, value)?.into_iter().find(|(i, _)| *i == id).map(|(_, r)| IVec::from(r)))
}

/// The `fresh_queue` entry that may hold `key`'s record (a `queue` key: priority, post
/// id): the first at or after it at the same priority.
pub(crate) fn queue_entry_for(tree: &Tree, key: &[u8; 9]) -> Result<Option<(IVec, IVec)>, EngineError> {
    let mut end = [0xffu8; 9];
    end[0] = key[0];
    match tree.range(&key[..]..=&end[..]).next() {
        Some(item) => item.map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64, len: usize) -> Vec<u8> {
        let mut f = format!("{{\"seq\":{seq},\"pad\":\"").into_bytes();
        f.resize(len.saturating_sub(2).max(f.len()), b'x');
        f.extend_from_slice(b"\"}");
        f
    }

    #[test]
    fn a_run_reads_back_every_event_at_its_seq() {
        let frames: Vec<Vec<u8>> = (10..15).map(|s| frame(s, 100)).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let value = IVec::from(encode(10, &refs));
        let key = keys::pair(7, 14);
        let list = entries(&key, &value).unwrap();
        assert_eq!(list.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![10, 11, 12, 13, 14]);
        for (i, s) in (10..15).enumerate() {
            assert_eq!(frame_in(&key, &value, s).unwrap().unwrap().as_ref(), frames[i].as_slice());
        }
        assert!(frame_in(&key, &value, 9).unwrap().is_none());
        assert!(frame_in(&key, &value, 15).unwrap().is_none());
    }

    #[test]
    fn a_single_frame_is_stored_as_itself() {
        let f = frame(3, 50);
        assert_eq!(encode(3, &[&f]), f);
        let key = keys::pair(1, 3);
        let v = IVec::from(f.clone());
        assert_eq!(entries(&key, &v).unwrap(), vec![(3, 0..f.len())]);
        assert_eq!(frame_in(&key, &v, 3).unwrap().unwrap().as_ref(), f.as_slice());
    }

    #[test]
    fn runs_stay_within_their_bounds_and_cover_every_seq() {
        let frames: Vec<Vec<u8>> = (1..=200).map(|s| frame(s, 300 + (s as usize % 7) * 40)).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let out = runs(5, 1, &refs);
        let mut next = 1;
        for (key, value) in &out {
            assert!(value.len() <= RUN_BYTES + 9 + 4 * RUN_EVENTS);
            for (s, r) in entries(key, value).unwrap() {
                assert_eq!(s, next);
                assert_eq!(&value[r], frames[(s - 1) as usize].as_slice());
                next += 1;
            }
        }
        assert_eq!(next, 201);
        // A frame over the bound is a run of its own.
        let big = frame(1, RUN_BYTES * 2);
        let small = frame(2, 10);
        let out = runs(5, 1, &[&big, &small]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].1, big);
    }

    #[test]
    fn replacing_an_event_keeps_the_others() {
        let frames: Vec<Vec<u8>> = (1..=3).map(|s| frame(s, 60)).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let key = keys::pair(2, 3);
        let value = encode(1, &refs);
        let redacted = b"{\"seq\":2,\"gone\":true}";
        let new = IVec::from(replace(&key, &value, 2, redacted).unwrap());
        assert_eq!(frame_in(&key, &new, 1).unwrap().unwrap().as_ref(), frames[0].as_slice());
        assert_eq!(frame_in(&key, &new, 2).unwrap().unwrap().as_ref(), redacted);
        assert_eq!(frame_in(&key, &new, 3).unwrap().unwrap().as_ref(), frames[2].as_slice());
    }

    #[test]
    fn post_runs_read_back_in_order_and_one_post_is_its_id() {
        let posts: Vec<(u64, u64)> = (0..150).map(|i| (3 + 2 * i, 1000 + i)).collect();
        let out = post_runs(9, &posts);
        assert_eq!(out.len(), 3);
        let mut read = Vec::new();
        for (key, value) in &out {
            read.extend(post_entries(key, value).unwrap());
        }
        assert_eq!(read, posts);
        let one = post_runs(9, &[(4, 77)]);
        assert_eq!(one, vec![(keys::pair(9, 4), 77u64.to_be_bytes().to_vec())]);
        assert_eq!(post_entries(&one[0].0, &one[0].1).unwrap(), vec![(4, 77)]);
        // Damaged: a short value, a run not ending at its key, seqs out of order.
        assert!(post_entries(&keys::pair(9, 4), &[RUN, 1, 2]).is_err());
        assert!(post_entries(&keys::pair(9, 4), &[]).is_err());
        let (k, v) = &post_runs(9, &[(1, 5), (2, 6)])[0];
        assert!(post_entries(&keys::pair(9, 3), v).is_err());
        assert!(post_entries(k, v).is_ok());
        let mut swapped = vec![RUN];
        swapped.extend_from_slice(&keys::pair(2, 6));
        swapped.extend_from_slice(&keys::pair(2, 5));
        assert!(post_entries(&keys::pair(9, 2), &swapped).is_err());
    }

    #[test]
    fn fresh_runs_read_back_every_post() {
        let nonces: Vec<String> = (0..100).map(|i| format!("nonce-{i}-é")).collect();
        let posts: Vec<Fresh<'_>> = (0..100)
            .map(|i| Fresh {
                id: 50 + 3 * i,
                room: 7,
                seq: 10 + i,
                author: 900 + i % 3,
                nonce: nonces[i as usize].as_str(),
            })
            .collect();
        let out = fresh_runs(&posts);
        assert_eq!(out.len(), 2);
        let mut read = Vec::new();
        for (k, v) in &out {
            read.extend(fresh_entries(k, v).unwrap());
        }
        assert_eq!(read, posts);
        let (k, v) = &out[0];
        assert!(fresh_entries(&[1, 2], v).is_err());
        assert!(fresh_entries(k, &v[..v.len() - 1]).is_err());
        assert!(fresh_entries(k, &[RUN]).is_err());
        assert!(fresh_entries(k, &[]).is_err());
        assert!(fresh_entries(&7u64.to_be_bytes(), v).is_err(), "a run not ending at its key");
    }

    #[test]
    fn queue_runs_read_back_and_lose_records_keeping_their_key() {
        let records: Vec<Vec<u8>> = (0..150)
            .map(|i| format!(r#"{{"room":"r{i}","to":["en","es"],"pad":"{}"}}"#, "x".repeat(i % 90)).into_bytes())
            .collect();
        let posts: Vec<Queued<'_>> = (0..150).map(|i| (100 + 2 * i as u64, records[i].as_slice())).collect();
        let out = queue_runs(1, &posts);
        assert!(out.len() >= 3, "bounded in posts and bytes");
        let mut read = Vec::new();
        for (k, v) in &out {
            assert_eq!(k[0], 1);
            assert!(v.len() <= RUN_BYTES + 1 + 12 * POST_RUN + 200);
            read.extend(queue_entries(k, v).unwrap());
        }
        assert_eq!(read, posts);
        // Records leave one by one; the key stays, even once its own post has left.
        let (k, v) = &out[0];
        let list = queue_entries(k, v).unwrap();
        let last = list.last().unwrap().0;
        let mut value = queue_without(k, v, last).unwrap().unwrap();
        assert_eq!(queued_in(k, &value, last).unwrap(), None);
        assert_eq!(queued_in(k, &value, list[0].0).unwrap().as_deref(), Some(list[0].1));
        for (id, _) in &list[..list.len() - 2] {
            value = queue_without(k, &value, *id).unwrap().unwrap();
        }
        let (only, rec) = list[list.len() - 2];
        assert_eq!(queue_entries(k, &value).unwrap(), vec![(only, rec)]);
        assert_eq!(queue_without(k, &value, only).unwrap(), None, "the last record gone: no run");
        // Damaged: no run marker, a short record, a record past the key, ids out of order.
        assert!(queue_entries(k, &[]).is_err());
        assert!(queue_entries(k, &[RUN]).is_err());
        assert!(queue_entries(k, &v[..v.len() - 1]).is_err());
        assert!(queue_entries(&[1, 0, 0, 0, 0, 0, 0, 0, 1], v).is_err());
        assert!(queue_entries(&k[..5], v).is_err());
        let swapped = queue_runs(0, &[(9, b"{}"), (8, b"{}")]);
        assert!(queue_entries(&swapped[0].0, &swapped[0].1).is_err());
    }

    #[test]
    fn a_damaged_run_is_an_error_not_a_panic() {
        let key = keys::pair(1, 5);
        for bad in [vec![RUN], vec![RUN, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 9, b'{'], {
            let mut v = encode(1, &[b"{}", b"{}"]);
            v.truncate(v.len() - 1);
            v
        }] {
            assert!(entries(&key, &bad).is_err(), "{bad:?}");
        }
        // A run whose last seq is not its key's.
        let v = encode(1, &[b"{}", b"{}"]);
        assert!(entries(&keys::pair(1, 5), &v).is_err());
        assert!(entries(&keys::pair(1, 2), &v).is_ok());
        assert!(entries(&[0u8; 3], &v).is_err());
    }
}
