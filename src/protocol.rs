//! The WebSocket wire: `ClientFrame` in, `ServerFrame` out, one JSON object per text
//! frame, tagged by `"type"`.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Code};
use crate::model::{EventKind, Lang, Post, PostId, Room, RoomId, SpaceId, User, UserId};

/// The log's types are the wire's: an event frame is what the log keeps.
pub use crate::store::log::{post_json, PostJson, StoredEvent};

/// The protocol version spoken here.
pub const PROTOCOL_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello {
        #[serde(default)]
        token: Option<String>,
    },
    Subscribe {
        room: RoomId,
        #[serde(default)]
        since: Option<u64>,
    },
    SubscribeSpace {
        space: SpaceId,
    },
    Unsubscribe {
        room: RoomId,
    },
    /// Extension: stop the live `room_created` / `room_updated` of a space.
    UnsubscribeSpace {
        space: SpaceId,
    },
    Post {
        room: RoomId,
        body: String,
        nonce: String,
        #[serde(default)]
        reply_to: Option<PostId>,
        /// Extension: the author's own statement of the language; it always wins.
        #[serde(default)]
        lang: Option<String>,
        /// The author's uploads the post carries.
        #[serde(default)]
        files: Vec<crate::model::FileId>,
    },
    CreateRoom {
        space: SpaceId,
        title: String,
        body: String,
        nonce: String,
        #[serde(default)]
        lang: Option<String>,
        #[serde(default)]
        files: Vec<crate::model::FileId>,
    },
    Edit {
        post: PostId,
        body: String,
        #[serde(default)]
        lang: Option<String>,
    },
    Delete {
        post: PostId,
    },
    Typing {
        room: RoomId,
    },
    /// Extension: the user has read `room` up to `seq`.
    Read {
        room: RoomId,
        seq: u64,
    },
    /// Extension: add (or with `remove`, take back) a reaction to a post.
    React {
        post: PostId,
        emoji: String,
        #[serde(default)]
        remove: bool,
    },
    SubscribeQueue {
        #[serde(default)]
        to: Option<String>,
    },
    /// A search, with the same parameters as `GET /search`; answered by `search_results`.
    Search {
        #[serde(flatten)]
        params: crate::model::SearchParams,
        /// Extension: echoed in the answer, to match it to the question.
        #[serde(default, rename = "ref")]
        reference: Option<String>,
    },
    Ping,
}

impl ClientFrame {
    /// Parses a text frame. On failure the error carries the frame's `nonce`, when it had
    /// one, so the client can match it to what it sent.
    pub fn parse(text: &str) -> Result<ClientFrame, (ApiError, Option<String>)> {
        serde_json::from_str(text).map_err(|e| {
            let nonce = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("nonce").and_then(|n| n.as_str()).map(str::to_owned));
            (ApiError::bad_request(format!("invalid frame: {e}")), nonce)
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Welcome {
        user: Option<&'a User>,
        protocol: u32,
    },
    Subscribed {
        room: RoomId,
        head: u64,
    },
    /// Extension: the answer to `subscribe_space`.
    SubscribedSpace {
        space: SpaceId,
    },
    Ack {
        nonce: &'a str,
        post: &'a Post,
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<&'a Room>,
    },
    Event {
        room: RoomId,
        seq: u64,
        kind: EventKind,
        post: &'a Post,
    },
    RoomCreated {
        room: &'a Room,
    },
    RoomUpdated {
        room: &'a Room,
    },
    Typing {
        room: RoomId,
        user: UserId,
    },
    /// A post that needs a translation into `needed`. The post comes serialized
    /// ([`post_json`]), since one post makes a frame for each language it waits for.
    QueueItem {
        post: &'a PostJson,
        room: RoomId,
        needed: Lang,
    },
    /// Extension: a thread's title needs a translation into `needed` (a new thread, or
    /// a new title); `post` is its opening post, for context.
    QueueTitle {
        post: &'a PostJson,
        room: RoomId,
        needed: Lang,
    },
    /// Extension: the item left the queue (translated, deleted, corrected or no longer
    /// needed).
    QueueRemoved {
        post: PostId,
        needed: Lang,
    },
    /// Extension: on the user's own stream, someone mentioned them or replied to them.
    Notification {
        notification: &'a crate::model::Notification,
        post: &'a Post,
    },
    /// The answer to `search`: the same shape as `GET /search`.
    SearchResults {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        #[serde(flatten)]
        results: &'a crate::model::SearchResults,
    },
    /// Extension: the answer to `subscribe_queue`.
    SubscribedQueue {
        to: Vec<&'a str>,
    },
    Pong,
    Lagged {
        room: RoomId,
    },
    /// Extension: a space's stream (`subscribe_space`) lagged and ended.
    #[serde(rename = "lagged")]
    LaggedSpace {
        space: SpaceId,
    },
    /// Extension: the user's own stream lagged (the socket closes after it).
    #[serde(rename = "lagged")]
    LaggedUser {
        user: bool,
    },
    /// Extension: a translators' queue stream lagged and ended.
    #[serde(rename = "lagged")]
    LaggedQueue {
        queue: &'a str,
    },
    /// Extension: someone came into a room or left it.
    Presence {
        room: RoomId,
        user: UserId,
        online: bool,
    },
    /// Extension: the user's session ended (signed out everywhere, or suspended).
    Revoked,
    /// Extension: the user was taken out of a space; the socket closes after it.
    AccessChanged {
        space: SpaceId,
    },
    /// Extension: the user read a room up to `seq` (from any device).
    Read {
        room: RoomId,
        seq: u64,
    },
    /// Extension: the user marked notifications read up to `until` (from any device).
    NotificationsRead {
        until: crate::model::NotificationId,
    },
    Error {
        code: Code,
        message: &'a str,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        /// Extension: for `rate_limited`, seconds to wait.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
}

impl ServerFrame<'_> {
    /// Serializes the frame. Serializing these types cannot fail (no maps with non-string
    /// keys, no failing `Serialize` impls), so the fallback is never taken in practice.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "frame serialization failed");
            r#"{"type":"error","code":"internal","message":"internal error"}"#.to_owned()
        })
    }

    pub fn error(e: &ApiError, reference: Option<&str>) -> String {
        ServerFrame::Error { code: e.code, message: &e.message, reference, retry_after: e.retry_after }.to_json()
    }
}

/// The `queue_item` frames of one post, one per language it needs: the same bytes as
/// `ServerFrame::QueueItem`, with the post copied once into the part they share.
pub struct QueueItemFrames {
    /// Everything up to the needed language's value.
    head: String,
}

impl QueueItemFrames {
    pub fn new(post: &PostJson, room: RoomId) -> serde_json::Result<QueueItemFrames> {
        let room = serde_json::to_string(&room)?;
        let mut head = String::with_capacity(post.as_str().len() + room.len() + 48);
        head.push_str(r#"{"type":"queue_item","post":"#);
        head.push_str(post.as_str());
        head.push_str(r#","room":"#);
        head.push_str(&room);
        head.push_str(r#","needed":"#);
        Ok(QueueItemFrames { head })
    }

    /// The frame for a translation into `lang`.
    pub fn needing(&self, lang: Lang) -> serde_json::Result<String> {
        let lang = serde_json::to_string(&lang)?;
        let mut frame = String::with_capacity(self.head.len() + lang.len() + 1);
        frame.push_str(&self.head);
        frame.push_str(&lang);
        frame.push('}');
        Ok(frame)
    }
}

/// The `ack` frame of a post: the same bytes as `ServerFrame::Ack`, with the post as
/// `json` when the writer's serialization of it is at hand (a new post's first ack), so
/// that it is not serialized a second time.
pub fn ack_frame(nonce: &str, post: &Post, json: Option<&PostJson>, room: Option<&Room>) -> String {
    #[derive(Serialize)]
    struct AckOut<'a> {
        #[serde(rename = "type")]
        frame: &'static str,
        nonce: &'a str,
        post: &'a PostJson,
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<&'a Room>,
    }
    let whole = || ServerFrame::Ack { nonce, post, room }.to_json();
    match json {
        Some(json) => {
            serde_json::to_string(&AckOut { frame: "ack", nonce, post: json, room }).unwrap_or_else(|_| whole())
        }
        None => whole(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_frames_parse() {
        assert_eq!(ClientFrame::parse(r#"{"type":"ping"}"#).unwrap(), ClientFrame::Ping);
        assert_eq!(
            ClientFrame::parse(r#"{"type":"subscribe","room":"r7","since":3}"#).unwrap(),
            ClientFrame::Subscribe { room: RoomId(7), since: Some(3) }
        );
        assert_eq!(ClientFrame::parse(r#"{"type":"hello"}"#).unwrap(), ClientFrame::Hello { token: None });
    }

    #[test]
    fn bad_frames_keep_their_nonce() {
        let (e, nonce) = ClientFrame::parse(r#"{"type":"post","room":"p1","body":"x","nonce":"n1"}"#).unwrap_err();
        assert_eq!(e.code, Code::BadRequest);
        assert_eq!(nonce.as_deref(), Some("n1"));
        let (_, nonce) = ClientFrame::parse(r#"{"type":"nope"}"#).unwrap_err();
        assert_eq!(nonce, None);
        assert!(ClientFrame::parse("not json").is_err());
        assert!(ClientFrame::parse(r#"{"type":"subscribe"}"#).is_err());
        // Unknown extra fields are tolerated, so clients may add their own.
        assert_eq!(ClientFrame::parse(r#"{"type":"ping","id":1}"#).unwrap(), ClientFrame::Ping);
    }

    #[test]
    fn server_frames_have_the_contract_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&ServerFrame::Subscribed { room: RoomId(2), head: 9 }.to_json()).unwrap();
        assert_eq!(v, json!({"type": "subscribed", "room": "r2", "head": 9}));
        let v: serde_json::Value = serde_json::from_str(&ServerFrame::Pong.to_json()).unwrap();
        assert_eq!(v, json!({"type": "pong"}));
        let e = ApiError::not_found("room");
        let v: serde_json::Value = serde_json::from_str(&ServerFrame::error(&e, Some("n9"))).unwrap();
        assert_eq!(v, json!({"type": "error", "code": "not_found", "message": "room not found", "ref": "n9"}));
        let v: serde_json::Value =
            serde_json::from_str(&ServerFrame::Welcome { user: None, protocol: 1 }.to_json()).unwrap();
        assert_eq!(v, json!({"type": "welcome", "user": null, "protocol": 1}));
    }

    #[test]
    fn a_queue_item_embeds_the_post_as_the_post_serializes() {
        let post = Post {
            html: String::new(),
            id: PostId(5),
            room: RoomId(2),
            seq: 3,
            author: UserId(9),
            body: "Bom dia, \"cooperativas\"!".into(),
            reply_to: None,
            lang: Lang::parse("pt").unwrap(),
            lang_source: crate::model::LangSource::Detected,
            lang_confidence: 0.75,
            created_at: "2026-12-01T10:00:00Z".into(),
            edited_at: None,
            deleted: false,
            hidden: false,
            translations: Default::default(),
            reactions: Default::default(),
            files: Vec::new(),
        };
        let raw = post_json(&post);
        let v: serde_json::Value = serde_json::from_str(
            &ServerFrame::QueueItem { post: &raw, room: RoomId(2), needed: Lang::parse("fr").unwrap() }.to_json(),
        )
        .unwrap();
        let inline = serde_json::to_value(&post).unwrap();
        assert_eq!(v, json!({"type": "queue_item", "post": inline, "room": "r2", "needed": "fr"}));
        // Made from a shared head, the same bytes.
        let frames = QueueItemFrames::new(&raw, RoomId(2)).unwrap();
        for lang in Lang::many(&["fr", "es", "en"]) {
            let by_serde = ServerFrame::QueueItem { post: &raw, room: RoomId(2), needed: lang }.to_json();
            assert_eq!(frames.needing(lang).unwrap(), by_serde);
        }
        // An ack made with the post's JSON is the ack made from the post, with a new
        // thread's room or without, and a confidence that needs every digit.
        let post = Post { lang_confidence: 0.9564334850236477, ..post };
        let raw = post_json(&post);
        let room = Room {
            id: RoomId(2),
            space: crate::model::SpaceId(1),
            title: Some("Cooperativas".into()),
            last_seq: 3,
            post_count: 3,
            created_at: "2026-12-01T09:00:00Z".into(),
            last_activity_at: "2026-12-01T10:00:00Z".into(),
            pinned: true,
            unread: None,
            read_seq: None,
            watch: None,
            title_lang: Lang::parse("pt"),
            title_translations: Default::default(),
        };
        for r in [None, Some(&room)] {
            let whole = ServerFrame::Ack { nonce: "n\"1", post: &post, room: r }.to_json();
            assert_eq!(ack_frame("n\"1", &post, Some(&raw), r), whole);
            assert_eq!(ack_frame("n\"1", &post, None, r), whole);
        }
    }

    #[test]
    fn the_small_frames_have_the_shapes_clients_know() {
        let (room, space, user) = (RoomId(7), crate::model::SpaceId(3), UserId(9));
        let cases = [
            (
                ServerFrame::Presence { room, user, online: true }.to_json(),
                r#"{"type":"presence","room":"r7","user":"u9","online":true}"#,
            ),
            (ServerFrame::Revoked.to_json(), r#"{"type":"revoked"}"#),
            (ServerFrame::AccessChanged { space }.to_json(), r#"{"type":"access_changed","space":"s3"}"#),
            (ServerFrame::Read { room, seq: 4 }.to_json(), r#"{"type":"read","room":"r7","seq":4}"#),
            (
                ServerFrame::NotificationsRead { until: crate::model::NotificationId(5) }.to_json(),
                r#"{"type":"notifications_read","until":"n5"}"#,
            ),
            (ServerFrame::Lagged { room }.to_json(), r#"{"type":"lagged","room":"r7"}"#),
            (ServerFrame::LaggedSpace { space }.to_json(), r#"{"type":"lagged","space":"s3"}"#),
            (ServerFrame::LaggedUser { user: true }.to_json(), r#"{"type":"lagged","user":true}"#),
            (ServerFrame::LaggedQueue { queue: "fr" }.to_json(), r#"{"type":"lagged","queue":"fr"}"#),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
