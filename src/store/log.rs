//! The format of a room's log: each event is kept as the exact frame its subscribers get
//! (`{"type":"event","room","seq","kind","post"}`), so a replay sends stored bytes as
//! they are. The wire (`protocol`) uses these same types for the frames that carry
//! posts.

use serde::{Deserialize, Serialize};

use crate::model::{EventKind, Post, RoomId};

/// A post already serialized, embedded as it is in the frames that carry it.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct PostJson(Box<serde_json::value::RawValue>);

impl PostJson {
    /// The post's JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for PostJson {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// A post as JSON, to embed in frames that carry it (events, queue items, acks); made
/// once however many frames carry it. Serializing a post cannot fail (no map with
/// non-string keys, no failing `Serialize`), so the fallback is never taken in practice.
pub fn post_json(post: &Post) -> PostJson {
    match serde_json::value::to_raw_value(post) {
        Ok(raw) => PostJson(raw),
        Err(e) => {
            tracing::error!(error = %e, "post serialization failed");
            PostJson(serde_json::value::RawValue::NULL.to_owned())
        }
    }
}

/// An event as the log keeps it, owned (for decoding the log when an event must be
/// rewritten, or a post read from its creation event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    #[serde(rename = "type")]
    pub frame: String,
    pub room: RoomId,
    pub seq: u64,
    pub kind: EventKind,
    pub post: Post,
}

#[derive(Serialize)]
struct EventOut<'a, P: Serialize> {
    #[serde(rename = "type")]
    frame: &'static str,
    room: RoomId,
    seq: u64,
    kind: EventKind,
    post: &'a P,
}

/// An event's frame, as kept in the log and sent to subscribers.
pub fn event_frame(room: RoomId, seq: u64, kind: EventKind, post: &Post) -> serde_json::Result<String> {
    serde_json::to_string(&EventOut { frame: "event", room, seq, kind, post })
}

/// The same frame, with the post already serialized.
pub fn event_frame_of(room: RoomId, seq: u64, kind: EventKind, post: &PostJson) -> serde_json::Result<String> {
    serde_json::to_string(&EventOut { frame: "event", room, seq, kind, post })
}
