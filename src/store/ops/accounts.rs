//! Accounts and sessions: users, tokens, passwords, suspensions.

use super::*;

/// A new account. With `invite`, the code is used (refused when unknown, expired or used
/// up) and the account joins the code's spaces; `pending` accounts wait for approval.
#[derive(Clone, Debug)]
pub struct CreateUser {
    pub handle: String,
    pub display_name: String,
    pub languages: Vec<Lang>,
    pub roles: Vec<Role>,
    pub password_hash: String,
    pub pending: bool,
    pub invite: Option<String>,
}

/// The `UpdateUser` write.
#[derive(Clone, Debug)]
pub struct UpdateUser {
    pub id: UserId,
    pub display_name: Option<String>,
    pub languages: Option<Vec<Lang>>,
    pub roles: Option<Vec<Role>>,
    pub profile: Option<Box<Profile>>,
}

/// The `PutToken` write.
#[derive(Clone, Debug)]
pub struct PutToken {
    pub hash: [u8; 32],
    pub user: UserId,
}

/// The `RevokeToken` write.
#[derive(Clone, Debug)]
pub struct RevokeToken {
    pub hash: [u8; 32],
}

/// Marks a token as used now (at most hourly: tokens expire after an idle time).
#[derive(Clone, Debug)]
pub struct TouchToken {
    pub hash: [u8; 32],
    pub user: UserId,
}

/// A new password: every other session of the user ends; `keep` (the caller's) stays.
#[derive(Clone, Debug)]
pub struct SetPassword {
    pub user: UserId,
    pub password_hash: String,
    pub keep: [u8; 32],
    pub others: Vec<[u8; 32]>,
}

/// A moderator suspends `user` until `until_ms` (or lifts it: `None`), revoking
/// these tokens (their sockets close).
#[derive(Clone, Debug)]
pub struct Suspend {
    pub user: UserId,
    pub until_ms: Option<i64>,
    pub tokens: Vec<[u8; 32]>,
    pub moderation: Moderation,
}

/// Erases an account at its owner's request (or an admin's): its sessions end, its
/// profile, languages, roles and password go, its handle is freed, and it leaves
/// `spaces` (listed by the service), its requests to join them withdrawn. Its posts
/// stay, by a deleted member.
#[derive(Clone, Debug)]
pub struct EraseAccount {
    pub user: UserId,
    pub tokens: Vec<[u8; 32]>,
    pub spaces: Vec<SpaceId>,
}

/// Sets (or with `None` takes away) a member's picture: the blob of its small square
/// JPEG, already durable.
#[derive(Clone, Debug)]
pub struct SetAvatar {
    pub user: UserId,
    pub blob: Option<String>,
}

pub(super) fn set_avatar(tx: &Tx, op: &SetAvatar) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    rec.user.profile.avatar =
        op.blob.as_ref().map(|b| format!("/api/v1/users/{}/avatar?v={}", op.user, b.get(..12).unwrap_or(b)));
    rec.avatar_blob = op.blob.clone();
    put(tx.users(), &tx.ids.key(op.user), &rec)?;
    Ok(Ok(Outcome::User(rec.user)))
}

/// The `MarkInitialized` write.
#[derive(Clone, Debug)]
pub struct MarkInitialized;

pub(super) fn create_user(tx: &Tx, ctx: &Ctx, op: &CreateUser) -> OpResult {
    let CreateUser { handle, display_name, languages, roles, password_hash, pending, invite } = op;
    let now = ctx.now.as_str();
    let lower = handle.to_lowercase();
    if tx.handles().get(lower.as_bytes())?.is_some() {
        return Ok(Err(Refusal::HandleTaken(handle.to_owned())));
    }
    let invite = match invite {
        Some(code) => match super::community::use_invite(tx, ctx, code)? {
            Ok(invite) => Some(invite),
            Err(refusal) => return Ok(Err(refusal)),
        },
        None => None,
    };
    let id = new_id::<UserId>(tx)?;
    let user = User {
        id,
        handle: handle.to_owned(),
        display_name: display_name.to_owned(),
        languages: languages.to_vec(),
        roles: roles.to_vec(),
        translator_pairs: Vec::new(),
        translator_paused: false,
        profile: Profile::default(),
        deleted: false,
        email: None,
        email_verified: None,
        email_settings: None,
    };
    let rec = UserRecord {
        file_bytes: 0,
        avatar_blob: None,
        email: None,
        email_verified: false,
        email_settings: Default::default(),
        digest_sent_ms: 0,
        mail_key: None,
        user: user.clone(),
        password_hash: password_hash.to_owned(),
        created_at: now.to_owned(),
        suspended_until_ms: None,
        session_epoch: 0,
        pending: *pending,
    };
    put(tx.users(), &tx.ids.key(id), &rec)?;
    tx.handles().insert(lower.as_bytes(), &tx.ids.key(id))?;
    for space in invite.iter().flat_map(|i| &i.spaces) {
        // A space deleted since the code was made is passed over.
        if tx.spaces().get(tx.ids.key(space))?.is_some() {
            tx.members().insert(&keys::pair(tx.ids.of(space), tx.ids.of(id))[..], &[][..])?;
        }
    }
    Ok(Ok(Outcome::User(user)))
}

pub(super) fn update_user(
    tx: &Tx,
    id: &UserId,
    display_name: &Option<String>,
    languages: &Option<Vec<Lang>>,
    roles: &Option<Vec<Role>>,
    profile: &Option<Box<Profile>>,
) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(id))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    if let Some(d) = display_name {
        rec.user.display_name = d.clone();
    }
    if let Some(l) = languages {
        rec.user.languages = l.clone();
    }
    if let Some(r) = roles {
        rec.user.roles = r.clone();
    }
    if let Some(p) = profile {
        // The picture is `SetAvatar`'s: a profile written from an older copy keeps it.
        let avatar = rec.user.profile.avatar.take();
        rec.user.profile = (**p).clone();
        rec.user.profile.avatar = avatar;
    }
    put(tx.users(), &tx.ids.key(id), &rec)?;
    Ok(Ok(Outcome::User(rec.user)))
}

pub(super) fn put_token(tx: &Tx, ctx: &Ctx, hash: &[u8; 32], user: &UserId) -> OpResult {
    // Checked here, in the writer's order, so that no token is issued to a user
    // suspended before it, and a suspension after it moves the epoch past it.
    let Some(rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    if let Some(until) = rec.suspended_until_ms.filter(|u| *u > ctx.now_ms) {
        return Ok(Err(Refusal::Suspended { until_ms: until }));
    }
    tx.tokens().insert(&hash[..], &keys::token(tx.ids.of(user), rec.session_epoch, ctx.now_ms)[..])?;
    Ok(Ok(Outcome::Done))
}

pub(super) fn touch_token(tx: &Tx, ctx: &Ctx, hash: &[u8; 32], user: &UserId) -> OpResult {
    // Only a token still valid: a revocation or a new epoch since wins.
    if let Some(v) = tx.tokens().get(&hash[..])? {
        if let Some((id, epoch, _)) = keys::token_value(&v) {
            let rec = get::<UserRecord>(tx.users(), "users", &tx.ids.key(user))?;
            if id == tx.ids.of(user) && rec.is_some_and(|r| r.session_epoch == epoch) {
                tx.tokens().insert(&hash[..], &keys::token(id, epoch, ctx.now_ms)[..])?;
            }
        }
    }
    Ok(Ok(Outcome::Done))
}

pub(super) fn set_password(
    tx: &Tx,
    ctx: &Ctx,
    fx: &mut Effects,
    user: &UserId,
    password_hash: &str,
    keep: &[u8; 32],
    others: &[[u8; 32]],
) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    rec.password_hash = password_hash.to_owned();
    // Every other session ends, those in flight included; this one goes on.
    rec.session_epoch += 1;
    put(tx.users(), &tx.ids.key(user), &rec)?;
    tx.tokens().insert(&keep[..], &keys::token(tx.ids.of(user), rec.session_epoch, ctx.now_ms)[..])?;
    for hash in others.iter().filter(|h| *h != keep) {
        tx.tokens().remove(&hash[..])?;
        fx.changes.push(Change::TokenRevoked { hash: *hash });
    }
    Ok(Ok(Outcome::Done))
}

pub(super) fn revoke_token(tx: &Tx, fx: &mut Effects, hash: &[u8; 32]) -> OpResult {
    tx.tokens().remove(&hash[..])?;
    // Open sockets signed in with it close once this is durable.
    fx.changes.push(Change::TokenRevoked { hash: *hash });
    Ok(Ok(Outcome::Done))
}

pub(super) fn suspend(
    tx: &Tx,
    ctx: &Ctx,
    fx: &mut Effects,
    user: &UserId,
    until_ms: &Option<i64>,
    tokens: &[[u8; 32]],
    moderation: &Moderation,
) -> OpResult {
    let now = ctx.now.as_str();
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    rec.suspended_until_ms = *until_ms;
    if until_ms.is_some() {
        // Every token issued before now, known to `tokens` or still in flight,
        // stops authenticating; every socket of the user closes.
        rec.session_epoch += 1;
        fx.changes.push(Change::SessionsEnded { user: *user });
    }
    put(tx.users(), &tx.ids.key(user), &rec)?;
    for hash in tokens {
        tx.tokens().remove(&hash[..])?;
        fx.changes.push(Change::TokenRevoked { hash: *hash });
    }
    let (action, until) = match until_ms {
        Some(ms) => ("suspend", Some(crate::clock::rfc3339(*ms))),
        None => ("unsuspend", None),
    };
    log_action(tx, now, moderation, action, None, Some(*user), until)?;
    Ok(Ok(Outcome::Done))
}

pub(super) fn erase_account(tx: &Tx, fx: &mut Effects, op: &EraseAccount) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    if rec.user.deleted {
        return Ok(Err(Refusal::NotFound("user")));
    }
    tx.handles().remove(rec.user.handle.to_lowercase().as_bytes())?;
    let place = tx.ids.of(op.user);
    rec.user = User {
        id: op.user,
        handle: format!("deleted-{place}"),
        display_name: String::new(),
        languages: Vec::new(),
        roles: Vec::new(),
        translator_pairs: Vec::new(),
        translator_paused: false,
        profile: Profile::default(),
        deleted: true,
        email: None,
        email_verified: None,
        email_settings: None,
    };
    rec.password_hash = String::new();
    rec.avatar_blob = None;
    rec.email = None;
    rec.email_verified = false;
    rec.mail_key = None;
    rec.pending = false;
    rec.session_epoch += 1;
    fx.changes.push(Change::SessionsEnded { user: op.user });
    put(tx.users(), &tx.ids.key(op.user), &rec)?;
    for hash in &op.tokens {
        tx.tokens().remove(&hash[..])?;
        fx.changes.push(Change::TokenRevoked { hash: *hash });
    }
    for space in &op.spaces {
        let key = keys::pair(tx.ids.of(space), place);
        tx.members().remove(&key[..])?;
        tx.join_requests().remove(&key[..])?;
    }
    Ok(Ok(Outcome::Done))
}

pub(super) fn mark_initialized(tx: &Tx, ctx: &Ctx) -> OpResult {
    let now = ctx.now.as_str();
    tx.meta().insert("initialized", now.as_bytes())?;
    Ok(Ok(Outcome::Done))
}
