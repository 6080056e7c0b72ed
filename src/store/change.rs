//! What a committed batch changed, as the store reports it: facts, in commit order.
//! Who hears of each one, and in which frame, is the service's to decide
//! (`service::publish`).

use super::log::PostJson;
use crate::model::{Lang, Notification, NotificationId, Post, PostId, Room, RoomId, SpaceId, UserId};

/// One thing a durable batch did that someone connected may need to know.
#[derive(Debug)]
pub enum Change {
    /// An event appended to a room's log: its frame, exactly as the log keeps it.
    Event { room: RoomId, seq: u64, frame: String },
    /// A forum thread was made (once per batch, with its state at the batch's end).
    RoomCreated(Room),
    /// A thread changed: new posts, a title, a pin (once per batch).
    RoomUpdated(Room),
    /// A post now waits for translations into `langs`, from `from`, in `space`.
    Queued { post: PostJson, room: RoomId, space: SpaceId, from: Lang, langs: Vec<Lang> },
    /// A post no longer waits for a translation into `lang` (translated, deleted,
    /// relabelled, or claimed back into the queue's other list).
    Unqueued { post: PostId, lang: Lang, space: SpaceId, from: Lang },
    /// A thread's title waits for translations into `langs`, from `from` (a new thread,
    /// or a new title); `post` is its opening post.
    TitleQueued { post: PostJson, room: RoomId, space: SpaceId, from: Lang, langs: Vec<Lang> },
    /// A post waits again for `lang` after a claim on it ran out.
    Requeued { post: PostJson, room: RoomId, space: SpaceId, from: Lang, lang: Lang },
    /// Someone mentioned `user` or replied to them.
    Notified { user: UserId, notification: Notification, post: Post },
    /// The user read a room up to `seq`.
    Read { user: UserId, room: RoomId, seq: u64 },
    /// The user marked notifications read up to `until`.
    NotificationsRead { user: UserId, until: NotificationId },
    /// The user was taken out of a space.
    AccessLost { user: UserId, space: SpaceId },
    /// A public space became private: whoever follows it may no longer read it.
    SpaceClosed { space: SpaceId },
    /// Every session of the user ended (a suspension).
    SessionsEnded { user: UserId },
    /// The session of this token ended (sign-out, a new password elsewhere).
    TokenRevoked { hash: [u8; 32] },
}
