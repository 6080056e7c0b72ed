//! Flags, and hiding and restoring posts.

use super::*;

/// A member flags a post (again: the reason is replaced).
#[derive(Clone, Debug)]
pub struct Flag {
    pub post: PostId,
    pub user: UserId,
    pub reason: String,
}

/// A moderator hides a post: its text is kept apart, redacted everywhere else.
#[derive(Clone, Debug)]
pub struct Hide {
    pub post: PostId,
    pub moderation: Moderation,
}

/// A moderator restores a hidden post.
#[derive(Clone, Debug)]
pub struct Restore {
    pub post: PostId,
    pub moderation: Moderation,
}

pub(super) fn flag(tx: &Tx, ctx: &Ctx, post: &PostId, user: &UserId, reason: &str) -> OpResult {
    let now = ctx.now.as_str();
    if tx.post_bytes(tx.ids.of(post))?.is_none() {
        return Ok(Err(Refusal::NotFound("post")));
    }
    let flag = crate::model::Flag { user: *user, reason: reason.to_owned(), at: now.to_owned() };
    put(tx.flags(), &keys::pair(tx.ids.of(post), tx.ids.of(user)), &flag)?;
    Ok(Ok(Outcome::Done))
}

pub(super) fn hide(tx: &Tx, ctx: &Ctx, fx: &mut Effects, post: &PostId, moderation: &Moderation) -> OpResult {
    let now = ctx.now.as_str();
    let Some(mut rec) = get_post(tx, *post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if rec.post.deleted {
        return Ok(Err(Refusal::PostDeleted));
    }
    if !rec.post.hidden {
        let kept = crate::store::HiddenRecord {
            body: std::mem::take(&mut rec.post.body),
            html: std::mem::take(&mut rec.post.html),
            translations: std::mem::take(&mut rec.post.translations),
            files: std::mem::take(&mut rec.post.files),
        };
        put(tx.hidden(), &tx.ids.key(post), &kept)?;
        rec.post.hidden = true;
        redact(tx, &rec)?;
        append(tx, fx, ctx, &mut rec, EventKind::Edit)?;
    }
    log_action(tx, now, moderation, "hide", Some(*post), None, None)?;
    Ok(Ok(Outcome::Event { seq: rec.seqs.last().copied().unwrap_or(rec.post.seq), post: rec.post }))
}

pub(super) fn restore(tx: &Tx, ctx: &Ctx, fx: &mut Effects, post: &PostId, moderation: &Moderation) -> OpResult {
    let now = ctx.now.as_str();
    let Some(mut rec) = get_post(tx, *post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if !rec.post.hidden {
        return Ok(Err(Refusal::NotHidden));
    }
    if let Some(kept) = get::<crate::store::HiddenRecord>(tx.hidden(), "hidden", &tx.ids.key(post))? {
        rec.post.body = kept.body;
        rec.post.html = kept.html;
        rec.post.translations = kept.translations;
        rec.post.files = kept.files;
    }
    tx.hidden().remove(tx.ids.key(post))?;
    rec.post.hidden = false;
    append(tx, fx, ctx, &mut rec, EventKind::Edit)?;
    log_action(tx, now, moderation, "restore", Some(*post), None, None)?;
    Ok(Ok(Outcome::Event { seq: rec.seqs.last().copied().unwrap_or(rec.post.seq), post: rec.post }))
}
