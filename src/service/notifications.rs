//! Notifications: the rules of who hears of a post and as what (mentions, replies,
//! direct messages, watched rooms, mutes), and each user's list. The service decides
//! here; the store writes the notifications in the same transaction as the post (`ops::
//! notify`, which still refuses anyone who cannot read the space) and they are pushed
//! live on each user's own stream.

use std::collections::HashSet;

use serde::Serialize;

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{
    Notification, NotificationId, NotificationKind, Post, PostId, RoomId, Space, SpaceId, UserId, Visibility,
    WatchLevel,
};

/// Most members one post notifies by mentioning them.
const MAX_MENTIONS: usize = 20;

/// The lower-cased handles a body mentions (`@handle`), at most `MAX_MENTIONS`: letters,
/// digits, `_`, `.` and `-` after a character that is not a letter, a digit or `_`, less a
/// trailing `.` or `-` (the end of a sentence). `render` links the same handles.
pub fn mentions(body: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() && out.len() < MAX_MENTIONS {
        if bytes[i] == b'@' && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')) {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'.' | b'-'))
            {
                end += 1;
            }
            while end > start && matches!(bytes[end - 1], b'.' | b'-') {
                end -= 1;
            }
            if (3..=32).contains(&(end - start)) {
                out.insert(body[start..end].to_ascii_lowercase());
            }
            i = end.max(start);
        } else {
            i += 1;
        }
    }
    out
}

/// The notifications one post makes: who, and as what; each member once, the first
/// reason winning (a mention over a reply over the rest).
type Audience = Vec<(UserId, NotificationKind)>;

/// A notification with the post as it is now.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationView {
    #[serde(flatten)]
    pub notification: Notification,
    pub post: Post,
}

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

impl App {
    /// How members chose to follow `room` of `space`: a choice for the room, else one for
    /// the space.
    pub(super) fn watch_choices(&self, room: Option<RoomId>, space: SpaceId) -> ApiResult<Vec<(UserId, WatchLevel)>> {
        let mut chosen = match room {
            Some(r) => self.store.watchers(r)?,
            None => Vec::new(),
        };
        for (u, level) in self.store.space_watchers(space)? {
            if !chosen.iter().any(|(c, _)| *c == u) {
                chosen.push((u, level));
            }
        }
        Ok(chosen)
    }

    /// Who hears of a new post in `room` (none yet: a new thread) of `space` by `author`:
    /// those it mentions, the author of the post it replies to, everyone else in a direct
    /// conversation, the room's watchers, and a working group's members (who watch it
    /// unless they chose otherwise); never those who muted the room, mentions included.
    pub(super) fn audience(
        &self,
        author: UserId,
        room: Option<RoomId>,
        space: &Space,
        body: &str,
        reply_to: Option<PostId>,
    ) -> ApiResult<Audience> {
        let chosen = self.watch_choices(room, space.id)?;
        let muted: Vec<UserId> = chosen.iter().filter(|(_, l)| *l == WatchLevel::Muted).map(|(u, _)| *u).collect();
        let mut out: Audience = Vec::new();
        let mut add = |u: UserId, kind| {
            if u != author && !muted.contains(&u) && !out.iter().any(|(x, _)| *x == u) {
                out.push((u, kind));
            }
        };
        for handle in mentions(body) {
            if let Some(rec) = self.store.user_by_handle(&handle)? {
                add(rec.user.id, NotificationKind::Mention);
            }
        }
        if let Some(parent) = reply_to.and_then(|p| self.store.post(p).ok().flatten()) {
            add(parent.post.author, NotificationKind::Reply);
        }
        if space.is_direct() {
            space.direct.iter().for_each(|&u| add(u, NotificationKind::Dm));
            return Ok(out);
        }
        for &(u, level) in &chosen {
            if level == WatchLevel::Watching {
                add(u, NotificationKind::Watched);
            }
        }
        if space.visibility == Visibility::Private {
            for u in self.store.members(space.id)? {
                if !chosen.iter().any(|(c, _)| *c == u) {
                    add(u, NotificationKind::Watched);
                }
            }
        }
        Ok(out)
    }

    /// Whom an edit of `post` (by `author`) into `body` mentions for the first time,
    /// those who muted its room left out.
    pub(super) fn newly_mentioned(&self, author: UserId, post: &Post, body: &str) -> ApiResult<Audience> {
        let before = mentions(&post.body);
        let space = self.store.room(post.room)?.map(|r| r.space).ok_or_else(|| ApiError::not_found("room"))?;
        let muted: Vec<UserId> = self
            .watch_choices(Some(post.room), space)?
            .into_iter()
            .filter(|(_, l)| *l == WatchLevel::Muted)
            .map(|(u, _)| u)
            .collect();
        let mut out: Audience = Vec::new();
        for handle in mentions(body).difference(&before) {
            if let Some(rec) = self.store.user_by_handle(handle)? {
                let u = rec.user.id;
                if u != author && !muted.contains(&u) && !out.iter().any(|(x, _)| *x == u) {
                    out.push((u, NotificationKind::Mention));
                }
            }
        }
        Ok(out)
    }

    /// The caller's notifications, newest first. Those about what the caller can no longer
    /// read are left out.
    pub fn notifications(
        &self,
        viewer: Viewer,
        unread_only: bool,
        limit: Option<usize>,
    ) -> ApiResult<Vec<NotificationView>> {
        let user = signed_in(viewer)?;
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", format!("1 to {MAX_LIMIT}")));
        }
        let mut out = Vec::new();
        for n in self.store.notifications(user.id, unread_only, limit)? {
            let Some(rec) = self.store.post(n.post)? else { continue };
            if self.readable_room(Some(user), n.room).is_err() {
                continue;
            }
            out.push(NotificationView { notification: n, post: rec.post });
        }
        Ok(out)
    }

    /// Marks the caller's notifications up to `until` read; returns how many were unread.
    pub async fn mark_notifications_read(&self, viewer: Viewer<'_>, until: NotificationId) -> ApiResult<usize> {
        let user = signed_in(viewer)?;
        self.limiter.read(user.id)?;
        let ids = self.store.unread_notifications_until(user.id, until)?;
        let n = ids.len();
        if n > 0 {
            self.store.run(crate::store::MarkNotificationsRead { user: user.id, ids, until }).await?;
        }
        Ok(n)
    }
}
