//! How the store's refusals and failures are told to clients: the words are the
//! service's, the facts the store's (`store::Refusal`).

use crate::error::{ApiError, Code};
use crate::store::{Refusal, WriteError};

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotFound(what) => ApiError::not_found(what),
            Refusal::PostDeleted => ApiError::conflict("the post was deleted"),
            Refusal::HandleTaken(handle) => ApiError::conflict(format!("handle {handle:?} is taken")),
            Refusal::SlugTaken(slug) => ApiError::conflict(format!("slug {slug:?} is taken")),
            Refusal::NotNeeded { post, lang } => {
                ApiError::conflict(format!("post {post} does not need a translation into {lang}"))
            }
            Refusal::ClaimedByAnother { until_ms } => ApiError::conflict(format!(
                "another translator holds this post until {}",
                crate::clock::rfc3339(until_ms)
            )),
            Refusal::NotHidden => ApiError::conflict("the post is not hidden"),
            Refusal::TooManyReactionKinds(n) => {
                ApiError::bad_request(format!("a post takes at most {n} kinds of reaction"))
            }
            Refusal::NotAThread => ApiError::bad_request("only forum threads are pinned"),
            Refusal::ChatHasOneRoom => ApiError::bad_request("a chat space has exactly one room; post in it"),
            Refusal::Suspended { until_ms } => {
                ApiError::forbidden(format!("suspended until {}", crate::clock::rfc3339(until_ms)))
            }
            Refusal::NotAMember(user) => ApiError::field("users", format!("{user} is not a member of the space")),
            Refusal::SameLanguage => ApiError::field("lang", "the post is already in this language"),
            Refusal::InviteUnusable(why) => ApiError::field("invite", format!("this invitation code is {why}")),
            Refusal::NotPending => ApiError::conflict("this account does not wait for approval"),
            Refusal::AlreadyMember => ApiError::conflict("you are a member of this group already"),
            Refusal::QuotaExceeded { quota, used } => ApiError::too_large(format!(
                "your files would take more than your storage quota of {} MiB ({} MiB used): remove some first",
                quota / (1024 * 1024),
                used / (1024 * 1024)
            )),
            Refusal::FileUnusable(id) => {
                ApiError::field("files", format!("{id} is not an upload of yours waiting to be attached"))
            }
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Refused(r) => r.into(),
            WriteError::DiskFull => ApiError::new(
                Code::InsufficientStorage,
                "the server's disk is full: nothing can be saved until space is freed (reading works)",
            ),
            WriteError::Store(e) => e.into(),
        }
    }
}
