//! Spaces, their members and their rooms.

use std::collections::BTreeMap;

use super::{signed_in, validate, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{PostPolicy, Room, RoomId, Space, SpaceId, SpaceKind, User, UserId, Visibility};

pub const ROOMS_DEFAULT_LIMIT: usize = 50;
pub const ROOMS_MAX_LIMIT: usize = 200;

/// What `PATCH /spaces/{id}` changes; what is left out stays.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpacePatch {
    pub name: Option<String>,
    pub names: Option<BTreeMap<String, String>>,
    pub descriptions: Option<BTreeMap<String, String>>,
    pub post_policy: Option<PostPolicy>,
    pub archived: Option<bool>,
    pub visibility: Option<Visibility>,
    pub listed: Option<bool>,
    /// The Academy edition whose collection it is (empty: none).
    pub edition: Option<String>,
}

impl App {
    /// The spaces the viewer may see, in creation order; for a signed-in viewer, with
    /// their unread posts.
    pub fn spaces(&self, viewer: Viewer) -> ApiResult<Vec<Space>> {
        let mut out = Vec::new();
        for mut s in self.store.spaces()? {
            // Direct conversations are listed by `dms`.
            if !s.is_direct() && self.can_read(viewer, &s)? {
                let rooms = self.store.rooms_of(s.id)?;
                if let Some(u) = viewer {
                    let mut unread = 0;
                    for r in &rooms {
                        unread += self.store.posts_after(r.id, self.store.read_seq(u.id, r.id)?)?;
                    }
                    s.unread = Some(unread);
                }
                let active = rooms.iter().filter(|r| r.last_seq > 0);
                s.last_activity_at = active.map(|r| r.last_activity_at.clone()).max();
                s.threads = Some(rooms.len() as u64);
                out.push(s);
            }
        }
        // Archived spaces last, each group in creation order.
        out.sort_by_key(|s| s.archived);
        Ok(out)
    }

    /// Moves the viewer's read marker in a room forward; their other sockets hear it.
    pub async fn mark_read(&self, viewer: Viewer<'_>, room: RoomId, seq: u64) -> ApiResult<u64> {
        let user = signed_in(viewer)?;
        self.readable_room(viewer, room)?;
        self.limiter.read(user.id)?;
        let crate::store::ReadUpTo(seq) = self.store.run(crate::store::MarkRead { user: user.id, room, seq }).await?;
        Ok(seq)
    }

    /// Admins rename a space, describe it per language, change who posts in it, archive
    /// it (read as before, no new posts) or bring it back, open a private space to all or
    /// close a public one to its members (the admin among them), list a private group.
    pub async fn update_space(&self, actor: &User, space: SpaceId, patch: SpacePatch) -> ApiResult<Space> {
        if !actor.is_admin() {
            return Err(ApiError::forbidden("only admins change spaces"));
        }
        let s = self.store.space(space)?.filter(|s| !s.is_direct()).ok_or_else(|| ApiError::not_found("space"))?;
        let name = patch.name.as_deref().map(validate::space_name).transpose()?;
        let per_lang = |field: &'static str, texts: &BTreeMap<String, String>, max: usize| {
            let mut out = BTreeMap::new();
            for (l, text) in texts {
                let lang =
                    validate::lang(l).map_err(|_| ApiError::field(field, format!("{l:?} is not a language code")))?;
                if let Some(t) = validate::line(field, text, max)? {
                    out.insert(lang, t);
                }
            }
            Ok::<_, ApiError>(out)
        };
        let names = patch.names.as_ref().map(|n| per_lang("names", n, 80)).transpose()?;
        let descriptions = patch.descriptions.as_ref().map(|d| per_lang("descriptions", d, 500)).transpose()?;
        let edition = match patch.edition.as_deref() {
            Some(e) => Some(validate::line("edition", e, 60)?.unwrap_or_default()),
            None => None,
        };
        let visibility = patch.visibility.unwrap_or(s.visibility);
        if patch.listed == Some(true) && visibility != Visibility::Private {
            return Err(ApiError::field("listed", "only a private working group is listed"));
        }
        self.limiter.write(actor.id)?;
        // Search learns who may read the space's posts from the change feed.
        let mut posts = Vec::new();
        if visibility != s.visibility {
            for r in self.store.rooms_of(s.id)? {
                posts.extend(self.store.posts(r.id, 0, usize::MAX)?.into_iter().map(|p| p.id));
            }
        }
        let op = crate::store::UpdateSpace {
            space: s.id,
            name,
            names,
            descriptions,
            post_policy: patch.post_policy,
            archived: patch.archived,
            visibility: patch.visibility,
            listed: patch.listed,
            edition,
            actor: actor.id,
            posts,
        };
        Ok(self.store.run(op).await?)
    }

    /// Admins create spaces. The creator of a private space is its first member.
    pub async fn create_space(
        &self,
        actor: &User,
        slug: &str,
        name: &str,
        kind: SpaceKind,
        visibility: Visibility,
        post_policy: PostPolicy,
    ) -> ApiResult<Space> {
        if !actor.is_admin() {
            return Err(ApiError::forbidden("only admins create spaces"));
        }
        let slug = validate::slug(slug)?;
        let name = validate::space_name(name)?;
        let op = crate::store::CreateSpace {
            slug,
            name,
            kind,
            visibility,
            post_policy,
            creator: Some(actor.id),
            direct: Vec::new(),
        };
        Ok(self.store.run(op).await?)
    }

    /// Whether `actor` manages `space`'s members and pins: an admin, a moderator who can
    /// read it, or one of its coordinators. `not_found` when they cannot even read it.
    pub(super) fn check_manages(&self, actor: &User, space: SpaceId) -> ApiResult<crate::model::Space> {
        let s = self.store.space(space)?.ok_or_else(|| ApiError::not_found("space"))?;
        // A direct conversation's members are its own: nobody manages them, admins neither.
        if s.is_direct() {
            return Err(if self.can_read(Some(actor), &s)? {
                ApiError::forbidden("a direct conversation's members do not change")
            } else {
                ApiError::not_found("space")
            });
        }
        if actor.is_admin() {
            return Ok(s);
        }
        if !self.can_read(Some(actor), &s)? {
            return Err(ApiError::not_found("space"));
        }
        if actor.is_moderator() || s.coordinators.contains(&actor.id) {
            Ok(s)
        } else {
            Err(ApiError::forbidden("only admins, moderators and the space's coordinators do this"))
        }
    }

    /// Admins, moderators and the space's coordinators add members. A moderator must be
    /// a member of a private space to add to it; an admin administers every space.
    pub async fn add_member(&self, actor: Viewer<'_>, space: SpaceId, user: UserId) -> ApiResult<()> {
        let actor = signed_in(actor)?;
        self.check_manages(actor, space)?;
        self.store.run(crate::store::AddMember { space, user }).await?;
        Ok(())
    }

    /// Takes a member out; their open sockets are closed with 4003 so that none of their
    /// subscriptions outlives the access (they reconnect and resubscribe to what they may
    /// still read).
    pub async fn remove_member(&self, actor: Viewer<'_>, space: SpaceId, user: UserId) -> ApiResult<()> {
        let actor = signed_in(actor)?;
        self.check_manages(actor, space)?;
        self.store.run(crate::store::RemoveMember { space, user }).await?;
        Ok(())
    }

    /// Admins name a private space's coordinators, among its members.
    pub async fn set_coordinators(
        &self,
        actor: Viewer<'_>,
        space: SpaceId,
        users: Vec<UserId>,
    ) -> ApiResult<crate::model::Space> {
        let actor = signed_in(actor)?;
        if !actor.is_admin() {
            return Err(ApiError::forbidden("only admins name coordinators"));
        }
        let s = self.store.space(space)?.ok_or_else(|| ApiError::not_found("space"))?;
        if s.is_direct() && !self.can_read(Some(actor), &s)? {
            return Err(ApiError::not_found("space"));
        }
        if s.visibility != crate::model::Visibility::Private || s.is_direct() {
            return Err(ApiError::bad_request("coordinators are for private working groups"));
        }
        if users.len() > 20 {
            return Err(ApiError::field("users", "at most 20 coordinators"));
        }
        Ok(self.store.run(crate::store::SetCoordinators { space, users }).await?)
    }

    /// Pins or unpins a forum thread: admins, moderators and the space's coordinators.
    pub async fn pin(&self, actor: Viewer<'_>, room: RoomId, pinned: bool) -> ApiResult<Room> {
        let actor = signed_in(actor)?;
        let (r, _) = self.readable_room(Some(actor), room)?;
        self.check_manages(actor, r.space)?;
        let posts = self.store.posts(room, 0, usize::MAX)?.into_iter().map(|p| p.id).collect();
        self.store.run(crate::store::Pin { room, pinned, posts }).await?;
        self.store.room(room)?.ok_or_else(|| ApiError::not_found("room"))
    }

    /// The members of a space the viewer may read: all users of a private one's list.
    pub fn members(&self, viewer: Viewer, space: SpaceId) -> ApiResult<Vec<User>> {
        let s = self.readable_space(viewer, space)?;
        if s.visibility == Visibility::Public {
            return Err(ApiError::bad_request("a public space is open to every member; it has no member list"));
        }
        let mut out = Vec::new();
        for id in self.store.members(space)? {
            if let Some(r) = self.store.user(id)? {
                out.push(r.user);
            }
        }
        Ok(out)
    }

    /// Rooms of a space, newest activity first, those active strictly before `before`
    /// (an RFC 3339 time: the `last_activity_at` of the last room of the previous page).
    pub fn rooms(
        &self,
        viewer: Viewer,
        space: SpaceId,
        before: Option<&str>,
        limit: Option<usize>,
    ) -> ApiResult<Vec<Room>> {
        self.readable_space(viewer, space)?;
        let limit = limit.unwrap_or(ROOMS_DEFAULT_LIMIT);
        if limit == 0 || limit > ROOMS_MAX_LIMIT {
            return Err(ApiError::field("limit", format!("must be 1 to {ROOMS_MAX_LIMIT}")));
        }
        let before = before
            .map(|b| {
                chrono::DateTime::parse_from_rfc3339(b)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| ApiError::field("before", "must be an RFC 3339 time"))
            })
            .transpose()?;
        let mut rooms = self.store.rooms_of(space)?;
        rooms.retain(|r| {
            let Some(b) = before else { return true };
            chrono::DateTime::parse_from_rfc3339(&r.last_activity_at).map(|t| t < b).unwrap_or(false)
        });
        // Pinned threads first, then the most recently active.
        rooms.sort_by(|a, b| {
            b.pinned.cmp(&a.pinned).then(b.last_activity_at.cmp(&a.last_activity_at)).then(b.id.cmp(&a.id))
        });
        rooms.truncate(limit);
        if let Some(u) = viewer {
            for r in rooms.iter_mut() {
                let read = self.store.read_seq(u.id, r.id)?;
                r.read_seq = Some(read);
                r.unread = Some(self.store.posts_after(r.id, read)?);
            }
        }
        Ok(rooms)
    }
}
