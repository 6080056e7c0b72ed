//! Fan-out: a topic (a room, or a space's room list) maps to a bounded broadcast of
//! already-serialized frames. Channels are created on first subscribe and dropped when
//! their last subscriber leaves. Publishing never waits: a subscriber that falls more than
//! the buffer behind is told it lagged, and catches up from the store with `since`.
//!
//! With several nodes, each node keeps its own hub, fed by the shared log instead of by
//! its local writer; nothing here needs to be seen by another node.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Weak};

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use tokio::sync::{broadcast, Notify};

use crate::model::{Lang, RoomId, SpaceId, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Room(RoomId),
    Space(SpaceId),
    /// The translators' queue into one language.
    Queue(Lang),
    /// A user's own stream, on every socket they are signed in on (read markers now,
    /// notifications later).
    User(UserId),
    /// One sign-in session, named by the start of its token's hash: told when the token
    /// is revoked.
    Session([u8; 8]),
}

/// The session topic of a token hash.
pub fn session_key(hash: &[u8; 32]) -> [u8; 8] {
    let mut k = [0u8; 8];
    k.copy_from_slice(&hash[..8]);
    k
}

/// Who may receive a queue frame: readers of `space` who translate from `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueScope {
    pub space: SpaceId,
    pub from: Lang,
}

/// One frame, serialized once and shared by every subscriber.
#[derive(Clone, Debug)]
pub struct HubMsg {
    /// The event's seq in the room's log; 0 for frames outside the log (typing, room
    /// announcements).
    pub seq: u64,
    /// Who caused it, for frames not echoed to their sender (typing).
    pub from: Option<UserId>,
    /// For queue frames: who may see them.
    pub scope: Option<QueueScope>,
    pub text: Utf8Bytes,
}

/// Frames buffered on a user's own stream (read markers, notifications, access changes).
const USER_BUFFER: usize = 64;

pub struct Hub {
    topics: DashMap<Topic, broadcast::Sender<HubMsg>>,
    capacity: usize,
}

impl Hub {
    /// `capacity`: frames buffered per topic before a slow subscriber lags.
    pub fn new(capacity: usize) -> Self {
        Hub { topics: DashMap::new(), capacity }
    }

    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<HubMsg> {
        self.topics.entry(topic).or_insert_with(|| broadcast::channel(self.capacity_of(topic)).0).subscribe()
    }

    /// A channel's slots are allocated when it is made, so each kind of topic gets what its
    /// traffic needs: a room or queue the full buffer, a user's own stream far less, a
    /// sign-in session only its revocation. Every signed-in socket holds the last two.
    fn capacity_of(&self, topic: Topic) -> usize {
        match topic {
            Topic::Room(_) | Topic::Space(_) | Topic::Queue(_) => self.capacity,
            Topic::User(_) => self.capacity.min(USER_BUFFER),
            Topic::Session(_) => 1,
        }
    }

    /// Sends to the topic's current subscribers, if any. Never blocks.
    pub fn publish(&self, topic: Topic, msg: HubMsg) {
        if let Some(tx) = self.topics.get(&topic) {
            let _ = tx.send(msg);
        }
    }

    /// Drops the topic's channel if nobody listens any more. Call after dropping a receiver.
    pub fn release(&self, topic: Topic) {
        self.topics.remove_if(&topic, |_, tx| tx.receiver_count() == 0);
    }

    /// Topics with a channel, for metrics and tests.
    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }
}

/// Who is in which room: signed-in users with at least one open socket subscribed to
/// it. Changes are announced on the room's topic as `presence {room, user, online}` when a
/// user's first socket joins or last one leaves. Per node, like the sockets it counts.
#[derive(Default)]
pub struct Presence {
    rooms: DashMap<RoomId, std::collections::HashMap<UserId, u32>>,
}

impl Presence {
    pub fn join(&self, hub: &Hub, room: RoomId, user: UserId) {
        let first = {
            let mut users = self.rooms.entry(room).or_default();
            let n = users.entry(user).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            announce(hub, room, user, true);
        }
    }

    pub fn leave(&self, hub: &Hub, room: RoomId, user: UserId) {
        let last = match self.rooms.get_mut(&room) {
            Some(mut users) => match users.get_mut(&user) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    users.remove(&user);
                    true
                }
                None => false,
            },
            None => false,
        };
        self.rooms.remove_if(&room, |_, users| users.is_empty());
        if last {
            announce(hub, room, user, false);
        }
    }

    /// The users in a room now.
    pub fn users(&self, room: RoomId) -> Vec<UserId> {
        let mut users: Vec<UserId> = self.rooms.get(&room).map(|u| u.keys().copied().collect()).unwrap_or_default();
        users.sort();
        users
    }
}

fn announce(hub: &Hub, room: RoomId, user: UserId, online: bool) {
    let text = crate::protocol::ServerFrame::Presence { room, user, online }.to_json();
    hub.publish(Topic::Room(room), HubMsg { seq: 0, from: Some(user), scope: None, text: Utf8Bytes::from(text) });
}

/// Why a socket must stop serving at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alarm {
    /// The user's access changed (taken out of a space), or their own stream lagged:
    /// the socket closes, and the client subscribes again to what it may still read.
    AccessChanged = 1,
    /// The user's sign-in ended (suspended): the socket closes as signed out.
    Revoked = 2,
}

/// One socket's alarm. Rung synchronously by the store's publish sink, before the frames
/// of any later commit are published, and read by the socket's writer before each frame
/// it writes: once rung, nothing more reaches the socket but its close.
#[derive(Default)]
pub struct Bell {
    rung: AtomicU8,
    notify: Notify,
}

impl Bell {
    pub fn ring(&self, why: Alarm) {
        self.rung.fetch_max(why as u8, Ordering::SeqCst);
        self.notify.notify_one();
    }

    pub fn rung(&self) -> Option<Alarm> {
        match self.rung.load(Ordering::SeqCst) {
            0 => None,
            1 => Some(Alarm::AccessChanged),
            _ => Some(Alarm::Revoked),
        }
    }

    /// Completes once the bell has rung.
    pub async fn wait(&self) -> Alarm {
        loop {
            let notified = self.notify.notified();
            if let Some(why) = self.rung() {
                return why;
            }
            notified.await;
        }
    }
}

/// The bells of this node's signed-in sockets, by user. Per node, like the sockets: with
/// several nodes each rings its own from the shared log it follows.
#[derive(Default)]
pub struct Bells {
    users: DashMap<UserId, Vec<Weak<Bell>>>,
    /// Every socket's bell, guests' too, by its address.
    sockets: DashMap<usize, Weak<Bell>>,
}

impl Bells {
    /// Counts a socket among those [`Bells::ring_everyone`] reaches, until `forget`.
    pub fn open(&self, bell: &Arc<Bell>) {
        self.sockets.insert(Arc::as_ptr(bell) as usize, Arc::downgrade(bell));
    }

    pub fn forget(&self, bell: &Arc<Bell>) {
        self.sockets.remove(&(Arc::as_ptr(bell) as usize));
    }

    /// Rings every socket of this node (a space closed to those who read it: each
    /// reconnects to what it may still read).
    pub fn ring_everyone(&self, why: Alarm) {
        for entry in self.sockets.iter() {
            if let Some(bell) = entry.value().upgrade() {
                bell.ring(why);
            }
        }
    }

    /// Whether `user` has a socket open on this node.
    pub fn has_socket(&self, user: UserId) -> bool {
        self.users.get(&user).is_some_and(|b| b.iter().any(|w| w.strong_count() > 0))
    }

    pub fn register(&self, user: UserId, bell: &Arc<Bell>) {
        let mut bells = self.users.entry(user).or_default();
        bells.retain(|b| b.strong_count() > 0);
        bells.push(Arc::downgrade(bell));
    }

    pub fn unregister(&self, user: UserId, bell: &Arc<Bell>) {
        if let Some(mut bells) = self.users.get_mut(&user) {
            bells.retain(|b| b.strong_count() > 0 && !std::ptr::eq(b.as_ptr(), Arc::as_ptr(bell)));
        }
        self.users.remove_if(&user, |_, bells| bells.is_empty());
    }

    /// Rings every socket of `user`.
    pub fn ring(&self, user: UserId, why: Alarm) {
        if let Some(bells) = self.users.get(&user) {
            for bell in bells.iter().filter_map(Weak::upgrade) {
                bell.ring(why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64) -> HubMsg {
        HubMsg { seq, from: None, scope: None, text: Utf8Bytes::from(format!("{{\"seq\":{seq}}}")) }
    }

    #[tokio::test]
    async fn publish_reaches_subscribers_and_slow_ones_lag() {
        let hub = Hub::new(4);
        let topic = Topic::Room(RoomId(1));
        hub.publish(topic, msg(0)); // nobody listens: dropped, no channel made
        assert_eq!(hub.topic_count(), 0);
        let mut rx = hub.subscribe(topic);
        for s in 1..=3 {
            hub.publish(topic, msg(s));
        }
        assert_eq!(rx.recv().await.unwrap().seq, 1);
        for s in 4..=10 {
            hub.publish(topic, msg(s));
        }
        assert!(matches!(rx.recv().await, Err(broadcast::error::RecvError::Lagged(_))));
        drop(rx);
        hub.release(topic);
        assert_eq!(hub.topic_count(), 0);
    }
}
