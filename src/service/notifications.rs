//! Mentions and replies: each user's notifications. They are made in the store, in the
//! same transaction as the post (see `ops::notify`), and pushed live on the user's own
//! stream; this is the reading side.

use serde::Serialize;

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Notification, NotificationId, Post};

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
