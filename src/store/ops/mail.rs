//! Email: addresses, the single-use tokens mailed to them, and the outbox, whose mail is
//! written in the same transaction as what causes it.

use super::*;
use crate::store::{EmailToken, OutboxMail};

/// Sets (or with `None` removes) a member's address, unverified; with a verification
/// token and its mail, or with `mail` alone (a password reset to a verified address,
/// where `email` stays as it is).
#[derive(Clone, Debug)]
pub struct SetEmail {
    pub user: UserId,
    /// `Some(None)`: remove the address; `None`: leave it.
    pub email: Option<Option<String>>,
    pub token: Option<([u8; 32], EmailToken)>,
    pub mail: Option<Box<OutboxMail>>,
    /// The key of their unsubscribe links, if they had none.
    pub mail_key: Option<String>,
}

pub(super) fn set_email(tx: &Tx, ctx: &Ctx, op: &SetEmail) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    if op.email.is_some() || (rec.mail_key.is_none() && op.mail_key.is_some()) {
        if let Some(email) = &op.email {
            rec.email = email.clone();
            rec.email_verified = false;
        }
        if rec.mail_key.is_none() {
            rec.mail_key.clone_from(&op.mail_key);
        }
        put(tx.users(), &tx.ids.key(op.user), &rec)?;
    }
    if let Some((hash, token)) = &op.token {
        put(tx.email_tokens(), hash, token)?;
    }
    if let Some(mail) = &op.mail {
        let mut mail = (**mail).clone();
        mail.next_ms = ctx.now_ms;
        put(tx.outbox(), &new_place(tx)?.to_be_bytes(), &mail)?;
    }
    Ok(Ok(Outcome::Done))
}

/// Uses a token mailed to a member, once: a verification marks the address it was sent
/// to verified (if it is still theirs); a reset sets the password and ends every session.
#[derive(Clone, Debug)]
pub struct UseEmailToken {
    pub hash: [u8; 32],
    /// A reset's new password hash, and the sessions to end.
    pub reset: Option<(String, Vec<[u8; 32]>)>,
}

pub(super) fn use_email_token(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &UseEmailToken) -> OpResult {
    let Some(token) = get::<EmailToken>(tx.email_tokens(), "email_tokens", &op.hash)? else {
        return Ok(Err(Refusal::NotFound("token")));
    };
    if token.expires_ms < ctx.now_ms || (token.purpose == "reset") != op.reset.is_some() {
        return Ok(Err(Refusal::NotFound("token")));
    }
    tx.email_tokens().remove(op.hash)?;
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(token.user))? else {
        return Ok(Err(Refusal::NotFound("token")));
    };
    match &op.reset {
        Some((hash, sessions)) => {
            // A new password, and every session ends: none is kept.
            rec.password_hash = hash.clone();
            rec.session_epoch += 1;
            put(tx.users(), &tx.ids.key(token.user), &rec)?;
            for h in sessions {
                tx.tokens().remove(&h[..])?;
                fx.changes.push(Change::TokenRevoked { hash: *h });
            }
            fx.changes.push(Change::SessionsEnded { user: token.user });
        }
        None => {
            if rec.email.is_some() && rec.email == token.email {
                rec.email_verified = true;
                // The first digest covers what happens from now on.
                if rec.digest_sent_ms == 0 {
                    rec.digest_sent_ms = ctx.now_ms;
                }
                put(tx.users(), &tx.ids.key(token.user), &rec)?;
            }
        }
    }
    Ok(Ok(Outcome::Done))
}

/// What became of a mail the sender tried.
#[derive(Clone, Debug)]
pub enum MailResult {
    /// The SMTP server took it: out of the outbox.
    Sent,
    /// Try again then (ms since the epoch).
    Retry { next_ms: i64, error: String },
    /// Refused for good.
    Failed(String),
    /// Not to be sent: nothing it held may still be mailed.
    Dropped,
}

/// The sender's word on the mail under `key`.
#[derive(Clone, Debug)]
pub struct MailDone {
    pub key: u64,
    pub result: MailResult,
}

pub(super) fn mail_done(tx: &Tx, op: &MailDone) -> OpResult {
    let key = op.key.to_be_bytes();
    let Some(mut mail) = get::<OutboxMail>(tx.outbox(), "outbox", &key)? else {
        return Ok(Ok(Outcome::Done));
    };
    match &op.result {
        MailResult::Sent | MailResult::Dropped => {
            tx.outbox().remove(key)?;
        }
        MailResult::Retry { next_ms, .. } => {
            mail.attempts += 1;
            mail.next_ms = *next_ms;
            put(tx.outbox(), &key, &mail)?;
        }
        MailResult::Failed(why) => {
            mail.attempts += 1;
            mail.failed = Some(why.clone());
            put(tx.outbox(), &key, &mail)?;
        }
    }
    Ok(Ok(Outcome::Done))
}

/// A member's email choices.
#[derive(Clone, Debug)]
pub struct SetEmailSettings {
    pub user: UserId,
    pub settings: crate::model::EmailSettings,
}

pub(super) fn set_email_settings(tx: &Tx, op: &SetEmailSettings) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    rec.email_settings = op.settings;
    put(tx.users(), &tx.ids.key(op.user), &rec)?;
    Ok(Ok(Outcome::Done))
}

/// Puts a notice or a digest in the outbox for `user`, and forgets the notifications it
/// settles (`due`, keys of `mail_due`), whether or not a mail is written. Refused when one
/// of the posts it shows was deleted or hidden since it was written (it is written again).
#[derive(Clone, Debug)]
pub struct QueueMail {
    pub user: UserId,
    pub due: Vec<[u8; 24]>,
    pub mail: Option<Box<OutboxMail>>,
    /// A digest: the end of the period it covered.
    pub digest_sent_ms: Option<i64>,
    /// The key of their unsubscribe links, if they had none.
    pub mail_key: Option<String>,
}

pub(super) fn queue_mail(tx: &Tx, ctx: &Ctx, op: &QueueMail) -> OpResult {
    if let Some(mail) = &op.mail {
        for &post in mail.notes.iter().map(|n| &n.post).chain(&mail.posts) {
            match get_post(tx, post)? {
                Some(rec) if !rec.post.deleted && !rec.post.hidden => {}
                _ => return Ok(Err(Refusal::PostDeleted)),
            }
        }
    }
    for key in &op.due {
        tx.mail_due().remove(&key[..])?;
    }
    if op.digest_sent_ms.is_some() || op.mail_key.is_some() {
        if let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? {
            if let Some(ms) = op.digest_sent_ms {
                rec.digest_sent_ms = ms;
            }
            if rec.mail_key.is_none() {
                rec.mail_key.clone_from(&op.mail_key);
            }
            put(tx.users(), &tx.ids.key(op.user), &rec)?;
        }
    }
    if let Some(mail) = &op.mail {
        let mut mail = (**mail).clone();
        mail.next_ms = ctx.now_ms;
        put(tx.outbox(), &new_place(tx)?.to_be_bytes(), &mail)?;
    }
    Ok(Ok(Outcome::Done))
}
