//! Direct conversations between 2 to 9 members: each a private chat space of its own
//! (`Space::direct` names its members), so it is isolated on every path exactly as a
//! working group is. The same members always get the same conversation back.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{PostPolicy, Room, SpaceKind, UserId, Visibility};
use crate::store::{Refusal, WriteError};

/// Most members of a conversation besides the one who opens it.
const MAX_OTHERS: usize = 8;

/// A conversation's room, with its members.
#[derive(Clone, Debug, Serialize)]
pub struct Conversation {
    #[serde(flatten)]
    pub room: Room,
    pub members: Vec<UserId>,
}

impl App {
    /// Opens (or finds again) the conversation of the caller with `users`.
    pub async fn open_dm(&self, viewer: Viewer<'_>, users: Vec<UserId>) -> ApiResult<Conversation> {
        let me = signed_in(viewer)?;
        let mut members: Vec<UserId> = users.into_iter().filter(|u| *u != me.id).collect();
        members.sort();
        members.dedup();
        if members.is_empty() {
            return Err(ApiError::field("users", "name at least one other member"));
        }
        if members.len() > MAX_OTHERS {
            return Err(ApiError::field(
                "users",
                format!("at most {MAX_OTHERS} others: for more, ask for a working group"),
            ));
        }
        let mut names = Vec::new();
        for &u in &members {
            match self.store.user(u)? {
                Some(rec) if !rec.pending => names.push(rec.user.display_name),
                _ => return Err(ApiError::field("users", format!("{u} is not a member"))),
            }
        }
        members.push(me.id);
        members.sort();
        // One slug per set of members: opening it again finds it.
        let mut h = Sha256::new();
        for m in &members {
            h.update(m.to_string().as_bytes());
            h.update(b",");
        }
        let slug = format!("dm-{}", &hex::encode(h.finalize())[..24]);
        if self.store.space_by_slug(&slug)?.is_none() {
            self.limiter.write(me.id)?;
            names.insert(0, me.display_name.clone());
            let op = crate::store::CreateSpace {
                slug: slug.clone(),
                name: names.join(", ").chars().take(120).collect(),
                kind: SpaceKind::Chat,
                visibility: Visibility::Private,
                post_policy: PostPolicy::Members,
                creator: Some(me.id),
                direct: members.clone(),
            };
            match self.store.run(op).await {
                // Opened by another member at the same moment: theirs is the one.
                Ok(_) | Err(WriteError::Refused(Refusal::SlugTaken(_))) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let space = self.store.space_by_slug(&slug)?.ok_or_else(|| ApiError::internal("conversation not found"))?;
        let room = space
            .room
            .and_then(|r| self.store.room(r).ok().flatten())
            .ok_or_else(|| ApiError::internal("conversation without its room"))?;
        Ok(Conversation { room, members: space.direct })
    }

    /// The caller's conversations, newest activity first.
    pub fn dms(&self, viewer: Viewer) -> ApiResult<Vec<Conversation>> {
        let me = signed_in(viewer)?;
        let mut out = Vec::new();
        for s in self.store.spaces()? {
            if !s.direct.contains(&me.id) {
                continue;
            }
            if let Some(room) = s.room.and_then(|r| self.store.room(r).ok().flatten()) {
                out.push(Conversation { room, members: s.direct });
            }
        }
        out.sort_by(|a, b| b.room.last_activity_at.cmp(&a.room.last_activity_at));
        Ok(out)
    }
}
