//! Listed working groups and requests to join them. A private group is invisible to
//! non-members unless an admin lists it; a listed group shows its names, descriptions,
//! coordinators and size (never its rooms or members) to signed-in members, who may ask
//! to join; its coordinators (and admins, and moderators among its members) answer.

use serde::Serialize;

use super::{signed_in, validate, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{JoinRequest, Space, SpaceId, User, UserId, Visibility};

/// A listed group as a signed-in member sees it.
#[derive(Clone, Debug, Serialize)]
pub struct ListedGroup {
    pub space: Space,
    pub members: usize,
    /// The caller is a member.
    pub member: bool,
    /// The caller asked to join and waits for an answer.
    pub requested: bool,
}

/// A request as the group's coordinators see it.
#[derive(Clone, Debug, Serialize)]
pub struct JoinRequestView {
    pub user: User,
    pub message: String,
    pub created_at: String,
}

/// What a request to join may say at most.
const MESSAGE_MAX: usize = 500;

impl App {
    /// The listed working groups, for signed-in members.
    pub fn groups(&self, viewer: Viewer) -> ApiResult<Vec<ListedGroup>> {
        let user = signed_in(viewer)?;
        let waiting: Vec<SpaceId> = self.store.join_requests_of(user.id)?.into_iter().map(|r| r.space).collect();
        let mut out = Vec::new();
        for s in self.store.spaces()? {
            if s.visibility != Visibility::Private || !s.listed || s.is_direct() || s.archived {
                continue;
            }
            let members = self.store.members(s.id)?;
            out.push(ListedGroup {
                member: members.contains(&user.id),
                members: members.len(),
                requested: waiting.contains(&s.id),
                space: s,
            });
        }
        Ok(out)
    }

    /// A member asks to join a listed group (asking again keeps the first request).
    /// A group that is not listed is not found, as for anything private.
    pub async fn request_join(&self, viewer: Viewer<'_>, space: SpaceId, message: &str) -> ApiResult<JoinRequest> {
        let user = signed_in(viewer)?;
        let message = validate::line("message", message, MESSAGE_MAX)?.unwrap_or_default();
        self.limiter.write(user.id)?;
        let s = self.store.space(space)?.ok_or_else(|| ApiError::not_found("space"))?;
        if s.archived && s.listed {
            return Err(ApiError::conflict("this group is archived: it takes no new members"));
        }
        Ok(self.store.run(crate::store::RequestJoin { space, user: user.id, message }).await?)
    }

    /// The requests waiting on a group, for those who manage it.
    pub fn join_requests(&self, viewer: Viewer, space: SpaceId) -> ApiResult<Vec<JoinRequestView>> {
        let actor = signed_in(viewer)?;
        self.check_manages(actor, space)?;
        let mut out = Vec::new();
        for r in self.store.join_requests(space)? {
            if let Some(rec) = self.store.user(r.user)?.filter(|rec| !rec.user.deleted) {
                out.push(JoinRequestView { user: rec.user, message: r.message, created_at: r.created_at });
            }
        }
        Ok(out)
    }

    /// Those who manage a group approve a request (the member joins) or decline it.
    pub async fn answer_join(&self, viewer: Viewer<'_>, space: SpaceId, user: UserId, approve: bool) -> ApiResult<()> {
        let actor = signed_in(viewer)?;
        self.check_manages(actor, space)?;
        self.store.run(crate::store::AnswerJoin { space, user, approve }).await?;
        Ok(())
    }
}
