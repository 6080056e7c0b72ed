//! How people join: invitation codes for a cohort, and the accounts that wait for a
//! moderator's approval when sign-up asks for it.

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Invite, SpaceId, User, UserId};

/// Most spaces one invitation joins.
const INVITE_MAX_SPACES: usize = 20;
/// Most uses one invitation may be given.
const INVITE_MAX_USES: u32 = 10_000;
/// The longest cohort label, in characters.
const LABEL_MAX_CHARS: usize = 80;

/// What `POST /invites` takes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    #[serde(default)]
    pub spaces: Vec<SpaceId>,
    pub max_uses: Option<u32>,
    /// RFC 3339 time, or a date (the code works through that day, UTC).
    pub expires_at: Option<String>,
    pub email: Option<String>,
    /// Extension: the cohort it is for ("Academy 2027").
    pub label: Option<String>,
}

/// An invitation as clients see it: the code and the link that carries it.
#[derive(Clone, Debug, Serialize)]
pub struct InviteView {
    #[serde(flatten)]
    pub invite: Invite,
    pub url: String,
}

/// A fresh code: 96 random bits, URL-safe.
fn new_code() -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `code` has the shape of a code this server makes (anything else is unknown
/// without a look-up).
pub(super) fn code_shape(code: &str) -> bool {
    (8..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl App {
    fn invite_view(&self, invite: Invite) -> InviteView {
        let base = self.config.public_url.as_deref().unwrap_or("").trim_end_matches('/');
        let url = format!("{base}/#/join/{}", invite.code);
        InviteView { invite, url }
    }

    /// Admins and moderators invite into any spaces they manage; a working group's
    /// coordinators into their groups (and only with at least one of them named).
    pub async fn create_invite(&self, viewer: Viewer<'_>, req: NewInvite) -> ApiResult<InviteView> {
        let actor = signed_in(viewer)?;
        if req.spaces.is_empty() && !actor.is_moderator() {
            return Err(ApiError::forbidden("only admins and moderators invite without naming a working group"));
        }
        if req.spaces.len() > INVITE_MAX_SPACES {
            return Err(ApiError::field("spaces", format!("at most {INVITE_MAX_SPACES} spaces")));
        }
        let mut spaces: Vec<SpaceId> = Vec::new();
        for &space in &req.spaces {
            self.check_manages(actor, space)?;
            if !spaces.contains(&space) {
                spaces.push(space);
            }
        }
        if let Some(m) = req.max_uses {
            if m == 0 || m > INVITE_MAX_USES {
                return Err(ApiError::field("max_uses", format!("1 to {INVITE_MAX_USES}")));
            }
        }
        let now = self.config.clock.now_ms();
        let expires_at = match req.expires_at.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => {
                let ms = super::search::time_ms("expires_at", e, true)?;
                if ms <= now {
                    return Err(ApiError::field("expires_at", "must be in the future"));
                }
                Some(crate::clock::rfc3339(ms))
            }
            None => None,
        };
        let label = match req.label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) if l.chars().count() > LABEL_MAX_CHARS || l.chars().any(char::is_control) => {
                return Err(ApiError::field("label", format!("at most {LABEL_MAX_CHARS} characters")));
            }
            l => l.map(str::to_owned),
        };
        let email = req.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
        if email.is_some() && !self.sends_mail() {
            return Err(ApiError::field("email", "this server sends no email: share the link instead"));
        }
        if email.is_some_and(|e| e.len() > 254 || e.parse::<lettre::Address>().is_err()) {
            return Err(ApiError::field("email", "not an email address"));
        }
        self.limiter.write(actor.id)?;
        let invite = Invite {
            code: new_code(),
            spaces,
            uses: 0,
            max_uses: req.max_uses,
            expires_at,
            label,
            created_by: actor.id,
            created_at: self.config.clock.now_rfc3339(),
        };
        let view = self.invite_view(invite.clone());
        // Mailed in the language of whoever invites.
        let mail = email.map(|to| {
            let lang = actor.languages.first().map_or("en", |l| l.as_str());
            Box::new(self.outbox_mail("invite", lang, to, &view.url, None))
        });
        let mailed = mail.is_some();
        self.store.run(crate::store::CreateInvite { invite, mail }).await?;
        if mailed {
            self.mail.notify_one();
        }
        Ok(view)
    }

    /// The caller's invitations (an admin's: everyone's), newest first.
    pub fn invites(&self, viewer: Viewer) -> ApiResult<Vec<InviteView>> {
        let actor = signed_in(viewer)?;
        let mine = |i: &Invite| actor.is_admin() || i.created_by == actor.id;
        Ok(self.store.invites()?.into_iter().filter(mine).map(|i| self.invite_view(i)).collect())
    }

    /// Its maker or an admin revokes an invitation; to anyone else it does not exist.
    pub async fn revoke_invite(&self, viewer: Viewer<'_>, code: &str) -> ApiResult<()> {
        let actor = signed_in(viewer)?;
        let found = if code_shape(code) { self.store.invite(code)? } else { None };
        match found {
            Some(i) if actor.is_admin() || i.created_by == actor.id => {
                self.store.run(crate::store::RevokeInvite { code: code.to_owned() }).await?;
                Ok(())
            }
            _ => Err(ApiError::not_found("invite")),
        }
    }

    /// Accounts waiting for approval, oldest first: admins and moderators.
    pub fn signups(&self, viewer: Viewer) -> ApiResult<Vec<User>> {
        check_moderates(viewer)?;
        Ok(self.store.pending_users()?.into_iter().map(|r| r.user).collect())
    }

    /// Lets a waiting account in (it signs in from now on), or removes it.
    pub async fn decide_signup(&self, viewer: Viewer<'_>, user: UserId, approve: bool) -> ApiResult<()> {
        let actor = check_moderates(viewer)?;
        self.limiter.write(actor.id)?;
        if approve {
            self.store.run(crate::store::Approve { user }).await?;
        } else {
            let mut spaces = Vec::new();
            for s in self.store.spaces()? {
                if self.store.is_member(s.id, user)? {
                    spaces.push(s.id);
                }
            }
            self.store.run(crate::store::Reject { user, spaces }).await?;
        }
        Ok(())
    }
}

fn check_moderates<'a>(viewer: Viewer<'a>) -> ApiResult<&'a User> {
    let actor = signed_in(viewer)?;
    if !actor.is_moderator() {
        return Err(ApiError::forbidden("only admins and moderators review sign-ups"));
    }
    Ok(actor)
}
