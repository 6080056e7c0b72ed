//! How people join: the community's settings, invitation codes, approval of new accounts.

use super::*;
use crate::model::{CommunitySettings, Invite};

/// The `meta` key of the community's settings.
pub const COMMUNITY: &[u8] = b"community";

/// Replaces what admins set from the browser.
#[derive(Clone, Debug)]
pub struct SetCommunity {
    pub settings: CommunitySettings,
}

/// Stores a new invitation code.
#[derive(Clone, Debug)]
pub struct CreateInvite {
    pub invite: Invite,
    /// The invitation mailed, in the same transaction.
    pub mail: Option<Box<crate::store::OutboxMail>>,
}

/// Ends an invitation code: nobody registers with it any more.
#[derive(Clone, Debug)]
pub struct RevokeInvite {
    pub code: String,
}

/// Lets an account waiting for approval sign in.
#[derive(Clone, Debug)]
pub struct Approve {
    pub user: UserId,
}

/// Removes an account waiting for approval (its handle is free again), and its
/// memberships of `spaces` (listed by the service: a transaction cannot scan).
#[derive(Clone, Debug)]
pub struct Reject {
    pub user: UserId,
    pub spaces: Vec<SpaceId>,
}

pub(super) fn set_community(tx: &Tx, op: &SetCommunity) -> OpResult {
    put(tx.meta(), COMMUNITY, &op.settings)?;
    Ok(Ok(Outcome::Done))
}

pub(super) fn create_invite(tx: &Tx, ctx: &Ctx, op: &CreateInvite) -> OpResult {
    for space in &op.invite.spaces {
        if tx.spaces().get(tx.ids.key(space))?.is_none() {
            return Ok(Err(Refusal::NotFound("space")));
        }
    }
    put(tx.invites(), op.invite.code.as_bytes(), &op.invite)?;
    if let Some(mail) = &op.mail {
        let mut mail = (**mail).clone();
        mail.next_ms = ctx.now_ms;
        put(tx.outbox(), &new_place(tx)?.to_be_bytes(), &mail)?;
    }
    Ok(Ok(Outcome::Done))
}

pub(super) fn revoke_invite(tx: &Tx, op: &RevokeInvite) -> OpResult {
    match tx.invites().remove(op.code.as_bytes())? {
        Some(_) => Ok(Ok(Outcome::Done)),
        None => Ok(Err(Refusal::NotFound("invite"))),
    }
}

/// Counts one use of `code`, in the writer's order, so that a code of N uses admits N.
pub(super) fn use_invite(tx: &Tx, ctx: &Ctx, code: &str) -> Result<Result<Invite, Refusal>, Fatal> {
    let Some(mut invite) = get::<Invite>(tx.invites(), "invites", code.as_bytes())? else {
        return Ok(Err(Refusal::InviteUnusable("unknown")));
    };
    let expired = invite.expires_at.as_deref().and_then(crate::clock::parse_ms).is_some_and(|e| e <= ctx.now_ms);
    if expired {
        return Ok(Err(Refusal::InviteUnusable("expired")));
    }
    if invite.max_uses.is_some_and(|m| invite.uses >= m) {
        return Ok(Err(Refusal::InviteUnusable("used up")));
    }
    invite.uses += 1;
    put(tx.invites(), code.as_bytes(), &invite)?;
    Ok(Ok(invite))
}

pub(super) fn approve(tx: &Tx, op: &Approve) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    if !rec.pending {
        return Ok(Err(Refusal::NotPending));
    }
    rec.pending = false;
    put(tx.users(), &tx.ids.key(op.user), &rec)?;
    Ok(Ok(Outcome::User(rec.user)))
}

pub(super) fn reject(tx: &Tx, op: &Reject) -> OpResult {
    let Some(rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    if !rec.pending {
        return Ok(Err(Refusal::NotPending));
    }
    tx.users().remove(&tx.ids.key(op.user)[..])?;
    tx.handles().remove(rec.user.handle.to_lowercase().as_bytes())?;
    for space in &op.spaces {
        tx.members().remove(&keys::pair(tx.ids.of(space), tx.ids.of(op.user))[..])?;
    }
    Ok(Ok(Outcome::Done))
}
