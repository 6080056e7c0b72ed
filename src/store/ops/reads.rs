//! Read markers, notifications read, and how members follow rooms.

use super::*;
use crate::model::WatchLevel;

/// How `user` follows `room` from now on.
#[derive(Clone, Debug)]
pub struct SetWatch {
    pub room: RoomId,
    pub user: UserId,
    pub level: WatchLevel,
}

/// How `user` follows every room of `space` they made no choice for.
#[derive(Clone, Debug)]
pub struct SetSpaceWatch {
    pub space: SpaceId,
    pub user: UserId,
    pub level: WatchLevel,
}

pub(super) fn set_space_watch(tx: &Tx, op: &SetSpaceWatch) -> OpResult {
    if tx.spaces().get(tx.ids.key(op.space))?.is_none() {
        return Ok(Err(Refusal::NotFound("space")));
    }
    // Spaces and rooms take their places from one counter: one tree holds both choices.
    put(tx.watches(), &keys::pair(tx.ids.of(op.space), tx.ids.of(op.user)), &op.level)?;
    Ok(Ok(Outcome::Done))
}

pub(super) fn set_watch(tx: &Tx, op: &SetWatch) -> OpResult {
    if tx.room(op.room)?.is_none() {
        return Ok(Err(Refusal::NotFound("room")));
    }
    put(tx.watches(), &keys::pair(tx.ids.of(op.room), tx.ids.of(op.user)), &op.level)?;
    Ok(Ok(Outcome::Done))
}

/// Moves `user`'s read marker in `room` forward to `seq` (never back).
#[derive(Clone, Debug)]
pub struct MarkRead {
    pub user: UserId,
    pub room: RoomId,
    pub seq: u64,
}

/// Marks these notifications of `user` read (the service lists them: a transaction
/// cannot scan). `until` is what the client asked, echoed to the user's devices.
#[derive(Clone, Debug)]
pub struct MarkNotificationsRead {
    pub user: UserId,
    pub ids: Vec<NotificationId>,
    pub until: NotificationId,
}

pub(super) fn mark_read(tx: &Tx, fx: &mut Effects, user: &UserId, room: &RoomId, seq: &u64) -> OpResult {
    let Some(r) = tx.room(*room)? else {
        return Ok(Err(Refusal::NotFound("room")));
    };
    let key = keys::pair(tx.ids.of(user), tx.ids.of(room));
    let old = tx.reads().get(&key[..])?.as_deref().and_then(keys::id_value).unwrap_or(0);
    let new = (*seq).min(r.last_seq).max(old);
    if new != old {
        tx.reads().insert(&key[..], &new.to_be_bytes()[..])?;
        fx.changes.push(Change::Read { user: *user, room: *room, seq: new });
    }
    Ok(Ok(Outcome::Read { seq: new }))
}

pub(super) fn mark_notifications_read(
    tx: &Tx,
    fx: &mut Effects,
    user: &UserId,
    ids: &[NotificationId],
    until: &NotificationId,
) -> OpResult {
    let mut marked = 0u64;
    for id in ids {
        let key = keys::pair(tx.ids.of(user), tx.ids.of(id));
        if let Some(mut n) = get::<Notification>(tx.notifications(), "notifications", &key)? {
            if !n.read {
                n.read = true;
                put(tx.notifications(), &key, &n)?;
                marked += 1;
            }
        }
    }
    if marked > 0 {
        fx.changes.push(Change::NotificationsRead { user: *user, until: *until });
    }
    Ok(Ok(Outcome::Done))
}
