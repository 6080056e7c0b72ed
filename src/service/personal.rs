//! Personal data: a member downloads everything stored about them (`GET /me/export`) and
//! erases their account (`DELETE /me`); admins erase a member's account when asked.

use serde::{Deserialize, Serialize};

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Invite, Notification, Post, PostId, Revision, RoomId, User, UserId};

/// What `GET /me/export` answers.
#[derive(Clone, Debug, Serialize)]
pub struct PersonalExport {
    pub exported_at: String,
    pub user: User,
    pub registered_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<String>,
    /// Their posts, each with its earlier versions.
    pub posts: Vec<PostWithHistory>,
    pub reactions: Vec<Reaction>,
    pub notifications: Vec<Notification>,
    pub read_markers: Vec<ReadMarker>,
    pub flags: Vec<FlagMade>,
    pub invites: Vec<Invite>,
    /// Their requests to join working groups, still waiting.
    pub join_requests: Vec<crate::model::JoinRequest>,
    /// The files they uploaded (their bytes at `/api/v1/files/{id}`).
    pub files: Vec<crate::model::File>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PostWithHistory {
    pub post: Post,
    pub history: Vec<Revision>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Reaction {
    pub post: PostId,
    pub emoji: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReadMarker {
    pub room: RoomId,
    pub seq: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FlagMade {
    pub post: PostId,
    pub reason: String,
    pub at: String,
}

/// What `DELETE /me` takes.
#[derive(Clone, Debug, Deserialize)]
pub struct Erase {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub delete_posts: bool,
}

/// Most notifications an export carries (the newest).
const EXPORT_NOTIFICATIONS: usize = 100_000;

impl App {
    /// Everything stored about the caller, their own posts with their history included.
    /// A scan of every post: off the runtime's workers.
    pub async fn export_me(self: &std::sync::Arc<Self>, viewer: Viewer<'_>) -> ApiResult<PersonalExport> {
        let user = signed_in(viewer)?.clone();
        self.limiter.search(Some(user.id), None)?;
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.collect_export(user)).await.map_err(ApiError::internal)?
    }

    fn collect_export(&self, user: User) -> ApiResult<PersonalExport> {
        let rec = self.store.user(user.id)?.ok_or_else(|| ApiError::not_found("user"))?;
        let (mut posts, mut reactions) = (Vec::new(), Vec::new());
        for r in self.store.all_posts() {
            let r = r?;
            for (emoji, who) in &r.reactors {
                if who.contains(&user.id) {
                    reactions.push(Reaction { post: r.post.id, emoji: emoji.clone() });
                }
            }
            if r.post.author == user.id {
                posts.push(PostWithHistory { post: r.post, history: r.history });
            }
        }
        posts.sort_by(|a, b| a.post.created_at.cmp(&b.post.created_at));
        let flags = self
            .store
            .flags()?
            .into_iter()
            .filter(|(_, f)| f.user == user.id)
            .map(|(post, f)| FlagMade { post, reason: f.reason, at: f.at })
            .collect();
        let read_markers =
            self.store.read_markers(user.id)?.into_iter().map(|(room, seq)| ReadMarker { room, seq }).collect();
        Ok(PersonalExport {
            exported_at: self.config.clock.now_rfc3339(),
            // Their address too: it is theirs.
            user: crate::model::User {
                email: rec.email.clone(),
                email_verified: Some(rec.email_verified),
                email_settings: Some(rec.email_settings),
                ..rec.user
            },
            registered_at: rec.created_at,
            suspended_until: rec.suspended_until_ms.map(crate::clock::rfc3339),
            posts,
            reactions,
            notifications: self.store.notifications(user.id, false, EXPORT_NOTIFICATIONS)?,
            read_markers,
            flags,
            invites: self.store.invites()?.into_iter().filter(|i| i.created_by == user.id).collect(),
            join_requests: self.store.join_requests_of(user.id)?,
            files: self
                .store
                .files()
                .filter_map(Result::ok)
                .filter(|r| r.file.uploader == user.id)
                .map(|r| r.file)
                .collect(),
        })
    }

    /// The caller erases their own account, given their password.
    pub async fn erase_me(&self, viewer: Viewer<'_>, req: Erase) -> ApiResult<()> {
        let user = signed_in(viewer)?;
        if req.password.is_empty() {
            return Err(ApiError::field("password", "your password, to confirm"));
        }
        self.confirm_password(user, "password", &req.password).await?;
        self.erase(user.id, user.id, req.delete_posts).await
    }

    /// An admin erases a member's account (at the member's request).
    pub async fn erase_user(&self, viewer: Viewer<'_>, id: UserId, delete_posts: bool) -> ApiResult<()> {
        let actor = signed_in(viewer)?;
        if !actor.is_admin() {
            return Err(ApiError::forbidden("only admins erase another member's account"));
        }
        let target = self.store.user(id)?.filter(|r| !r.user.deleted).ok_or_else(|| ApiError::not_found("user"))?;
        if target.user.is_admin() {
            return Err(ApiError::bad_request(
                "an admin's account is erased by its owner, or after its admin role is removed",
            ));
        }
        self.erase(actor.id, id, delete_posts).await
    }

    async fn erase(&self, actor: UserId, user: UserId, delete_posts: bool) -> ApiResult<()> {
        self.limiter.write(actor)?;
        if delete_posts {
            let store = self.store.clone();
            let mine: Vec<PostId> = tokio::task::spawn_blocking(move || {
                store
                    .all_posts()
                    .filter_map(|r| r.ok())
                    .filter(|r| r.post.author == user && !r.post.deleted)
                    .map(|r| r.post.id)
                    .collect()
            })
            .await
            .map_err(ApiError::internal)?;
            for post in mine {
                self.store.run(crate::store::DeletePost { post, moderation: None }).await?;
            }
        }
        let mut spaces = Vec::new();
        for s in self.store.spaces()? {
            if self.store.is_member(s.id, user)? {
                spaces.push(s.id);
            }
        }
        // Requests to join go with the account.
        spaces.extend(self.store.join_requests_of(user)?.into_iter().map(|r| r.space));
        let tokens = self.store.tokens_of(user)?;
        self.store.run(crate::store::EraseAccount { user, tokens, spaces }).await?;
        Ok(())
    }
}
