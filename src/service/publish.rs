//! Who hears of what the store changed, and in which frame: the one place that turns
//! the store's `Change`s into hub topics and frames. It runs on the store's flushing
//! thread, in commit order, once each batch is durable, and must not block.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;

use crate::hub::{session_key, Alarm, Bells, Hub, HubMsg, QueueScope, Topic};
use crate::protocol::{QueueItemFrames, ServerFrame};
use crate::store::Change;

/// The store's sink: every batch's changes, published.
pub(super) fn sink(hub: Arc<Hub>, bells: Arc<Bells>) -> Box<dyn Fn(Vec<Change>) + Send> {
    Box::new(move |changes: Vec<Change>| {
        for change in changes {
            publish(&hub, &bells, change);
        }
    })
}

fn send(hub: &Hub, topic: Topic, seq: u64, scope: Option<QueueScope>, text: String) {
    hub.publish(topic, HubMsg { seq, from: None, scope, text: Utf8Bytes::from(text) });
}

fn publish(hub: &Hub, bells: &Bells, change: Change) {
    match change {
        Change::Event { room, seq, frame } => send(hub, Topic::Room(room), seq, None, frame),
        Change::RoomCreated(room) => {
            send(hub, Topic::Space(room.space), 0, None, ServerFrame::RoomCreated { room: &room }.to_json())
        }
        Change::RoomUpdated(room) => {
            send(hub, Topic::Space(room.space), 0, None, ServerFrame::RoomUpdated { room: &room }.to_json())
        }
        Change::Queued { post, room, space, from, langs } => {
            // The post is copied once into the part every language's frame shares.
            let frames = match QueueItemFrames::new(&post, room) {
                Ok(f) => f,
                Err(e) => return tracing::error!(error = %e, "queue frames"),
            };
            let scope = Some(QueueScope { space, from });
            for lang in langs {
                match frames.needing(lang) {
                    Ok(text) => send(hub, Topic::Queue(lang), 0, scope, text),
                    Err(e) => tracing::error!(error = %e, "queue frame"),
                }
            }
        }
        Change::TitleQueued { post, room, space, from, langs } => {
            let scope = Some(QueueScope { space, from });
            for needed in langs {
                send(
                    hub,
                    Topic::Queue(needed),
                    0,
                    scope,
                    ServerFrame::QueueTitle { post: &post, room, needed }.to_json(),
                );
            }
        }
        Change::Requeued { post, room, space, from, lang } => {
            let text = ServerFrame::QueueItem { post: &post, room, needed: lang }.to_json();
            send(hub, Topic::Queue(lang), 0, Some(QueueScope { space, from }), text);
        }
        Change::Unqueued { post, lang, space, from } => {
            let text = ServerFrame::QueueRemoved { post, needed: lang }.to_json();
            send(hub, Topic::Queue(lang), 0, Some(QueueScope { space, from }), text);
        }
        Change::Notified { user, notification, post } => {
            let text = ServerFrame::Notification { notification: &notification, post: &post }.to_json();
            send(hub, Topic::User(user), 0, None, text);
        }
        Change::Read { user, room, seq } => {
            send(hub, Topic::User(user), 0, None, ServerFrame::Read { room, seq }.to_json())
        }
        Change::NotificationsRead { user, until } => {
            send(hub, Topic::User(user), 0, None, ServerFrame::NotificationsRead { until }.to_json())
        }
        // An access change rings the user's sockets before any later frame is
        // published: their writers stop before it could reach them.
        Change::AccessLost { user, space } => {
            bells.ring(user, Alarm::AccessChanged);
            send(hub, Topic::User(user), 0, None, ServerFrame::AccessChanged { space }.to_json());
        }
        Change::SpaceClosed { .. } => bells.ring_everyone(Alarm::AccessChanged),
        Change::SessionsEnded { user } => {
            bells.ring(user, Alarm::Revoked);
            send(hub, Topic::User(user), 0, None, ServerFrame::Revoked.to_json());
        }
        Change::TokenRevoked { hash } => {
            send(hub, Topic::Session(session_key(&hash)), 0, None, ServerFrame::Revoked.to_json())
        }
    }
}
