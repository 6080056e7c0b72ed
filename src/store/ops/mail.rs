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
}

pub(super) fn set_email(tx: &Tx, ctx: &Ctx, op: &SetEmail) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    if let Some(email) = &op.email {
        rec.email = email.clone();
        rec.email_verified = false;
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
        MailResult::Sent => {
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
