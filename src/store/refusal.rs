//! Why the store refused a write: what it found, not how to tell a client (the service
//! words it: `service::refusals`).

use crate::error::StoreError;
use crate::model::{Lang, PostId, UserId};

/// A write the store's state does not allow; nothing of it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such thing (or, for `reply_to`, not in the room written to).
    NotFound(&'static str),
    /// The post was deleted.
    PostDeleted,
    HandleTaken(String),
    SlugTaken(String),
    /// The post does not wait for a translation into this language.
    NotNeeded {
        post: PostId,
        lang: Lang,
    },
    /// Another translator's claim holds the post until then (ms since the epoch).
    ClaimedByAnother {
        until_ms: i64,
    },
    /// The post is not hidden, so it cannot be restored.
    NotHidden,
    /// A post's reactions are at most this many kinds.
    TooManyReactionKinds(usize),
    /// Only forum threads are pinned.
    NotAThread,
    /// A chat space has one room.
    ChatHasOneRoom,
    /// The user is suspended until then (ms since the epoch).
    Suspended {
        until_ms: i64,
    },
    /// A coordinator must be a member of the space.
    NotAMember(UserId),
    /// The post is already in this language.
    SameLanguage,
    /// An invitation code that admits nobody: `unknown`, `expired` or `used up`.
    InviteUnusable(&'static str),
    /// The account does not wait for approval.
    NotPending,
    /// The user is a member of the space already.
    AlreadyMember,
    /// The uploader's files would take more than their quota (bytes).
    QuotaExceeded {
        quota: u64,
        used: u64,
    },
    /// A file named for a post that is not the author's own upload waiting to be attached.
    FileUnusable(crate::model::FileId),
}

/// Why a write did not happen: refused, or the store failed.
#[derive(Debug)]
pub enum WriteError {
    Refused(Refusal),
    /// The disk is below its reserve: nothing is written until space is freed.
    DiskFull,
    Store(StoreError),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

impl From<Refusal> for WriteError {
    fn from(r: Refusal) -> Self {
        WriteError::Refused(r)
    }
}
