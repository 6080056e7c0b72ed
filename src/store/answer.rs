//! What each write answers. Every operation is a type of its own ([`Write`]) bound here to
//! the type of its answer, so a service calls `store.run(UpdateUser { .. })` and gets a
//! `User`, never an `Outcome` to match with a fallback.

use super::ops::*;
use super::NonceRecord;
use crate::model::{File, JoinRequest, Post, Space, User};

/// An answer of the writer, of one kind.
pub trait Answer: Sized {
    fn from_outcome(outcome: Outcome) -> Option<Self>;
}

/// A new post, or (`duplicate`) the first ack again for a nonce already seen.
#[derive(Debug)]
pub struct Posted {
    pub ack: NonceRecord,
    pub duplicate: bool,
}

/// An event about an existing post: its seq, and the post as it left it.
#[derive(Debug)]
pub struct PostEvent {
    pub seq: u64,
    pub post: Post,
}

/// A translator's claim, held until then (ms since the epoch).
#[derive(Debug)]
pub struct ClaimedUntil(pub i64);

/// A read marker where it stands after the write.
#[derive(Debug)]
pub struct ReadUpTo(pub u64);

/// A write with nothing to answer but that it was done.
#[derive(Debug)]
pub struct Done;

impl Answer for User {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::User(u) => Some(u),
            _ => None,
        }
    }
}

impl Answer for Space {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Space(s) => Some(s),
            _ => None,
        }
    }
}

impl Answer for JoinRequest {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::JoinRequest(r) => Some(r),
            _ => None,
        }
    }
}

impl Answer for File {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::File(f) => Some(f),
            _ => None,
        }
    }
}

impl Answer for Posted {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Posted { ack, duplicate } => Some(Posted { ack, duplicate }),
            _ => None,
        }
    }
}

impl Answer for PostEvent {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Event { seq, post } => Some(PostEvent { seq, post }),
            _ => None,
        }
    }
}

impl Answer for ClaimedUntil {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Claimed { expires_ms } => Some(ClaimedUntil(expires_ms)),
            _ => None,
        }
    }
}

impl Answer for ReadUpTo {
    fn from_outcome(o: Outcome) -> Option<Self> {
        match o {
            Outcome::Read { seq } => Some(ReadUpTo(seq)),
            _ => None,
        }
    }
}

impl Answer for Done {
    fn from_outcome(_: Outcome) -> Option<Self> {
        Some(Done)
    }
}

/// An operation the writer runs, and the type of what it answers.
pub trait Write: Into<Op> {
    type Answer: Answer;
}

macro_rules! writes {
    ($($op:ident => $answer:ty,)*) => {
        $(
            impl From<$op> for Op {
                fn from(op: $op) -> Op {
                    Op::$op(op)
                }
            }
            impl Write for $op {
                type Answer = $answer;
            }
        )*
    };
}

writes! {
    CreateUser => User,
    UpdateUser => User,
    PutToken => Done,
    TouchToken => Done,
    SetPassword => Done,
    RevokeToken => Done,
    Suspend => Done,
    MarkInitialized => Done,
    CreateSpace => Space,
    AddMember => Done,
    RemoveMember => Done,
    SetCoordinators => Space,
    Pin => Done,
    CreatePost => Posted,
    EditPost => PostEvent,
    DeletePost => PostEvent,
    SetLang => PostEvent,
    React => PostEvent,
    SetPairs => User,
    Claim => ClaimedUntil,
    Release => Done,
    ExpireClaim => Done,
    Translate => PostEvent,
    PutConcept => Done,
    Flag => Done,
    Hide => PostEvent,
    Restore => PostEvent,
    MarkRead => ReadUpTo,
    MarkNotificationsRead => Done,
    SetCommunity => Done,
    CreateInvite => Done,
    RevokeInvite => Done,
    Approve => User,
    Reject => Done,
    EraseAccount => Done,
    UpdateSpace => Space,
    SetWatch => Done,
    SetSpaceWatch => Done,
    RequestJoin => JoinRequest,
    AnswerJoin => Done,
    CreateFile => File,
    SetFileText => Done,
    DropFiles => Done,
    DescribeFile => File,
    SetAvatar => User,
    TranslateFile => File,
    SetEmail => Done,
    UseEmailToken => Done,
    MailDone => Done,
    SetEmailSettings => Done,
    QueueMail => Done,
    RequestTranslation => Done,
    TranslateTitle => Done,
    RenameRoom => Done,
}
