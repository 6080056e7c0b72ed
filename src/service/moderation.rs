//! Moderation: members flag posts; moderators review, hide, restore, delete and suspend;
//! admins read the log. Every action and the flags it settles are written in one
//! transaction with the change itself.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{signed_in, App, Changed, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Flag, ModAction, Post, PostId, RoomId, SpaceId, User, UserId};
use crate::store::Moderation;

/// One post for the moderators' review.
#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub post: Post,
    pub room: RoomId,
    pub space: SpaceId,
    pub flags: Vec<Flag>,
    /// A hidden post's text, for moderators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_body: Option<String>,
}

const MAX_REASON: usize = 500;
const LOG_LIMIT: usize = 500;

fn reason(r: &str) -> ApiResult<String> {
    let r = r.trim();
    if r.is_empty() || r.chars().count() > MAX_REASON || r.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::field("reason", format!("1 to {MAX_REASON} characters")));
    }
    Ok(r.to_owned())
}

fn moderator<'a>(viewer: Viewer<'a>) -> ApiResult<&'a User> {
    let user = signed_in(viewer)?;
    if !user.is_moderator() {
        return Err(ApiError::forbidden("moderators only"));
    }
    Ok(user)
}

impl App {
    /// Flags a post the caller can read.
    pub async fn flag(&self, viewer: Viewer<'_>, post: PostId, why: &str) -> ApiResult<()> {
        let user = signed_in(viewer)?;
        self.read_post(viewer, post)?;
        let why = reason(why)?;
        self.limiter.write(user.id)?;
        self.store.run(crate::store::Flag { post, user: user.id, reason: why }).await?;
        Ok(())
    }

    /// Flagged and hidden posts the moderator can read, most flagged first.
    pub fn review(&self, viewer: Viewer) -> ApiResult<Vec<Review>> {
        let user = moderator(viewer)?;
        let mut flags: BTreeMap<PostId, Vec<Flag>> = BTreeMap::new();
        for (post, flag) in self.store.flags()? {
            flags.entry(post).or_default().push(flag);
        }
        for post in self.store.hidden_posts()? {
            flags.entry(post).or_default();
        }
        let mut out = Vec::new();
        for (id, flags) in flags {
            let Some(rec) = self.store.post(id)? else { continue };
            if rec.post.deleted {
                continue;
            }
            // A private group's posts only to moderators who are in it.
            let Ok((room, space)) = self.readable_room(Some(user), rec.post.room) else { continue };
            let hidden_body = if rec.post.hidden { self.store.hidden(id)?.map(|h| h.body) } else { None };
            out.push(Review { post: rec.post, room: room.id, space: space.id, flags, hidden_body });
        }
        // Most flagged first; among as many flags, the oldest post first (ids carry no order).
        out.sort_by(|a, b| b.flags.len().cmp(&a.flags.len()).then_with(|| a.post.created_at.cmp(&b.post.created_at)));
        Ok(out)
    }

    /// Hides a post (its text leaves every replay, listing and the index) or restores it.
    pub async fn set_hidden(
        &self,
        viewer: Viewer<'_>,
        post: PostId,
        hide: bool,
        why: Option<&str>,
    ) -> ApiResult<Changed> {
        // Readability first: to someone outside a private group its posts do not exist,
        // whatever their rank, so they get `not_found` before `forbidden`.
        signed_in(viewer)?;
        self.read_post(viewer, post)?;
        let user = moderator(viewer)?;
        let why = why.map(reason).transpose()?;
        let m = Moderation { moderator: user.id, reason: why, flaggers: self.store.flaggers(post)? };
        let crate::store::PostEvent { seq, post } = if hide {
            self.store.run(crate::store::Hide { post, moderation: m }).await?
        } else {
            self.store.run(crate::store::Restore { post, moderation: m }).await?
        };
        Ok(Changed { seq, post })
    }

    /// Suspends `target` until `until` (RFC 3339), or lifts the suspension (`None`): their
    /// tokens are revoked at once (open sockets close with 4001) and sign-in is refused
    /// until then.
    pub async fn suspend(
        &self,
        viewer: Viewer<'_>,
        target: UserId,
        until: Option<&str>,
        why: Option<&str>,
    ) -> ApiResult<()> {
        let user = moderator(viewer)?;
        let rec = self.store.user(target)?.ok_or_else(|| ApiError::not_found("user"))?;
        if rec.user.is_admin() || (rec.user.is_moderator() && !user.is_admin()) {
            return Err(ApiError::forbidden("admins, and moderators (but by an admin), cannot be suspended"));
        }
        let until_ms = match until {
            None => None,
            Some(t) => {
                let ms = crate::clock::parse_ms(t).ok_or_else(|| ApiError::field("until", "an RFC 3339 time"))?;
                if ms <= self.config.clock.now_ms() {
                    return Err(ApiError::field("until", "must be in the future"));
                }
                Some(ms)
            }
        };
        let why = why.map(reason).transpose()?;
        let tokens = if until_ms.is_some() { self.store.tokens_of(target)? } else { Vec::new() };
        let m = Moderation { moderator: user.id, reason: why, flaggers: Vec::new() };
        self.store.run(crate::store::Suspend { user: target, until_ms, tokens, moderation: m }).await?;
        Ok(())
    }

    /// The moderation log, newest first: admins only.
    pub fn modlog(&self, viewer: Viewer) -> ApiResult<Vec<ModAction>> {
        let user = signed_in(viewer)?;
        if !user.is_admin() {
            return Err(ApiError::forbidden("admins only"));
        }
        Ok(self.store.modlog(LOG_LIMIT)?)
    }
}
