//! The translators' desk: pairs, claims, translations and the glossary.

use super::*;

/// The `SetPairs` write.
#[derive(Clone, Debug)]
pub struct SetPairs {
    pub user: UserId,
    pub pairs: Vec<LangPair>,
    /// Whether their queue is paused (`None`: as it was).
    pub paused: Option<bool>,
}

/// The `Claim` write.
#[derive(Clone, Debug)]
pub struct Claim {
    pub post: PostId,
    pub lang: Lang,
    pub translator: UserId,
}

/// The `Release` write.
#[derive(Clone, Debug)]
pub struct Release {
    pub post: PostId,
    pub lang: Lang,
    pub translator: UserId,
}

/// Ends a claim whose lease ran out and offers the item to every translator again.
#[derive(Clone, Debug)]
pub struct ExpireClaim {
    pub post: PostId,
    pub lang: Lang,
}

/// Adds or replaces a glossary concept.
#[derive(Clone, Debug)]
pub struct PutConcept {
    pub concept: collective_brain_index::Concept,
}

pub(super) fn set_pairs(tx: &Tx, user: &UserId, pairs: &[LangPair], paused: Option<bool>) -> OpResult {
    let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(user))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    rec.user.translator_pairs = pairs.to_vec();
    if let Some(p) = paused {
        rec.user.translator_paused = p;
    }
    put(tx.users(), &tx.ids.key(user), &rec)?;
    Ok(Ok(Outcome::User(rec.user)))
}

pub(super) fn claim(tx: &Tx, ctx: &Ctx, post: &PostId, lang: Lang, translator: &UserId) -> OpResult {
    let Some(item) = queued(tx, *post, lang)? else {
        return Ok(Err(Refusal::NotNeeded { post: *post, lang: lang.to_owned() }));
    };
    let key = keys::id_and(tx.ids.of(post), &lang.bytes());
    if let Some(c) = get::<ClaimRecord>(tx.claims(), "claims", &key)? {
        if c.translator != *translator && c.expires_ms > ctx.now_ms {
            return Ok(Err(Refusal::ClaimedByAnother { until_ms: c.expires_ms }));
        }
    }
    let _ = item;
    let expires_ms = ctx.now_ms.saturating_add(ctx.lease_ms);
    put(tx.claims(), &key, &ClaimRecord { translator: *translator, expires_ms })?;
    Ok(Ok(Outcome::Claimed { expires_ms }))
}

pub(super) fn release(tx: &Tx, post: &PostId, lang: Lang, translator: &UserId) -> OpResult {
    let key = keys::id_and(tx.ids.of(post), &lang.bytes());
    match get::<ClaimRecord>(tx.claims(), "claims", &key)? {
        Some(c) if c.translator == *translator => {
            tx.claims().remove(&key[..])?;
            Ok(Ok(Outcome::Done))
        }
        _ => Ok(Err(Refusal::NotFound("claim"))),
    }
}

pub(super) fn expire_claim(tx: &Tx, ctx: &Ctx, fx: &mut Effects, post: &PostId, lang: Lang) -> OpResult {
    let key = keys::id_and(tx.ids.of(post), &lang.bytes());
    match get::<ClaimRecord>(tx.claims(), "claims", &key)? {
        Some(c) if c.expires_ms <= ctx.now_ms => {
            tx.claims().remove(&key[..])?;
            if let (Some(item), Some(rec)) = (queued(tx, *post, lang)?, get_post(tx, *post)?) {
                fx.changes.push(Change::Requeued {
                    post: post_json(&rec.post),
                    room: item.room,
                    space: item.space,
                    from: item.from,
                    lang: lang.to_owned(),
                });
            }
            Ok(Ok(Outcome::Done))
        }
        // Renewed or gone meanwhile.
        _ => Ok(Ok(Outcome::Done)),
    }
}

/// A translator's translation of a post into `lang`.
#[derive(Clone, Debug)]
pub struct Translate {
    pub post: PostId,
    pub lang: Lang,
    pub body: String,
    /// The body rendered (`render`).
    pub html: String,
    pub translator: UserId,
    /// The post's sentences aligned with the translation's (`memory::align`), kept for
    /// the translation memory.
    pub pairs: Vec<(String, String)>,
}

pub(super) fn translate(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &Translate) -> OpResult {
    let Translate { post, lang, body, html, translator, pairs } = op;
    let now = ctx.now.as_str();
    let Some(mut rec) = get_post(tx, *post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if rec.post.deleted {
        return Ok(Err(Refusal::PostDeleted));
    }
    if *lang == rec.post.lang {
        return Ok(Err(Refusal::SameLanguage));
    }
    let key = keys::id_and(tx.ids.of(post), &lang.bytes());
    if let Some(c) = get::<ClaimRecord>(tx.claims(), "claims", &key)? {
        if c.translator != *translator && c.expires_ms > ctx.now_ms {
            return Ok(Err(Refusal::ClaimedByAnother { until_ms: c.expires_ms }));
        }
        tx.claims().remove(&key[..])?;
    }
    let space = room_space(tx, rec.post.room)?;
    let waited_ms = crate::clock::parse_ms(&rec.post.created_at).map_or(0, |c| ctx.now_ms - c);
    put(
        tx.translated(),
        &keys_lang_post(tx, *lang, *post),
        &TimeRecord { space, waited_ms, translator: Some(*translator) },
    )?;
    if !pairs.is_empty() {
        let record = MemoryRecord { from: rec.post.lang, to: *lang, post: *post, space, pairs: pairs.clone() };
        put(tx.memory(), &new_place(tx)?.to_be_bytes(), &record)?;
    }
    rec.post.translations.insert(
        lang.to_owned(),
        Translation {
            body: body.to_owned(),
            html: html.to_owned(),
            translator: *translator,
            created_at: now.to_owned(),
            stale: false,
        },
    );
    append(tx, fx, ctx, &mut rec, EventKind::Translation)?;
    Ok(Ok(Outcome::Event { seq: rec.seqs.last().copied().unwrap_or(rec.post.seq), post: rec.post }))
}

pub(super) fn put_concept(tx: &Tx, concept: &collective_brain_index::Concept) -> OpResult {
    put(tx.glossary(), concept.id.as_bytes(), concept)?;
    Ok(Ok(Outcome::Done))
}

/// A reader asks for `post` in `lang`: a short chat post enters the queue for it (at the
/// front, with News); a post already waiting moves there.
#[derive(Clone, Debug)]
pub struct RequestTranslation {
    pub post: PostId,
    pub lang: Lang,
    pub user: UserId,
}

pub(super) fn request_translation(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &RequestTranslation) -> OpResult {
    let Some(rec) = get_post(tx, op.post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if rec.post.deleted || rec.post.hidden {
        return Ok(Err(Refusal::PostDeleted));
    }
    if rec.post.lang == op.lang {
        return Ok(Err(Refusal::SameLanguage));
    }
    let key = request_key(&tx.ids, op.post, op.lang);
    let mut who: Vec<UserId> = get(tx.translation_requests(), "translation_requests", &key)?.unwrap_or_default();
    if !who.contains(&op.user) {
        who.push(op.user);
        put(tx.translation_requests(), &key, &who)?;
    }
    let Some(room) = tx.room(rec.post.room)? else {
        return Ok(Err(Refusal::NotFound("room")));
    };
    requeue(tx, fx, ctx, &rec.post, &room, false, None)?;
    Ok(Ok(Outcome::Done))
}

/// The `title_queue` key of a thread's title: its priority (as its posts'), then its place.
pub(super) fn title_key(ids: &Ids, priority: u8, room: RoomId) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = priority;
    k[1..].copy_from_slice(&ids.key(room));
    k
}

/// Makes the thread's title queue record match what its title needs: a translation into
/// every community language but its own, missing or stale. Returns those languages.
pub(super) fn requeue_title(tx: &Tx, ctx: &Ctx, room: &Room) -> Result<Vec<Lang>, Fatal> {
    let Some(from) = room.title_lang else { return Ok(Vec::new()) };
    let Some((policy, _)) = tx.space_traits(room.space)? else { return Ok(Vec::new()) };
    let at = priority(policy, room.pinned);
    tx.title_queue().remove(&title_key(&tx.ids, 1 - at, room.id)[..])?;
    let needs: Vec<Lang> = ctx
        .languages
        .iter()
        .copied()
        .filter(|l| *l != from && room.title_translations.get(l).is_none_or(|t| t.stale))
        .collect();
    let key = title_key(&tx.ids, at, room.id);
    if needs.is_empty() {
        tx.title_queue().remove(&key[..])?;
    } else {
        put(tx.title_queue(), &key, &needs)?;
    }
    Ok(needs)
}

/// Tells the translators of `needs` that the thread's title waits for them.
pub(super) fn title_queued(fx: &mut Effects, room: &Room, opening: &PostJson, needs: Vec<Lang>) {
    if let (Some(from), false) = (room.title_lang, needs.is_empty()) {
        let post = opening.clone();
        fx.changes.push(Change::TitleQueued { post, room: room.id, space: room.space, from, langs: needs });
    }
}

/// A translator's translation of a thread's title into `lang`.
#[derive(Clone, Debug)]
pub struct TranslateTitle {
    pub room: RoomId,
    pub lang: Lang,
    pub title: String,
    pub translator: UserId,
    /// The thread's opening post, whose search document holds the title.
    pub opening: Option<PostId>,
}

pub(super) fn translate_title(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &TranslateTitle) -> OpResult {
    let Some(mut room) = tx.room(op.room)? else {
        return Ok(Err(Refusal::NotFound("room")));
    };
    let Some(from) = room.title_lang else {
        return Ok(Err(Refusal::NotAThread));
    };
    if from == op.lang {
        return Ok(Err(Refusal::SameLanguage));
    }
    let t = TitleTranslation {
        title: op.title.clone(),
        translator: op.translator,
        created_at: ctx.now.clone(),
        stale: false,
    };
    room.title_translations.insert(op.lang, t);
    titled(tx, ctx, fx, room, op.opening)?;
    Ok(Ok(Outcome::Done))
}

/// A thread's new title (its author or a moderator): its translations go stale.
#[derive(Clone, Debug)]
pub struct RenameRoom {
    pub room: RoomId,
    pub title: String,
    pub opening: Option<PostId>,
}

pub(super) fn rename_room(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &RenameRoom) -> OpResult {
    let Some(mut room) = tx.room(op.room)? else {
        return Ok(Err(Refusal::NotFound("room")));
    };
    if room.title.is_none() {
        return Ok(Err(Refusal::NotAThread));
    }
    if room.title.as_deref() == Some(op.title.as_str()) {
        return Ok(Ok(Outcome::Done));
    }
    room.title = Some(op.title.clone());
    for t in room.title_translations.values_mut() {
        t.stale = true;
    }
    let opening = match op.opening {
        Some(post) => get_post(tx, post)?,
        None => None,
    };
    let (id, space, from) = (room.id, room.space, room.title_lang);
    let needs = titled(tx, ctx, fx, room, op.opening)?;
    if let (Some(rec), Some(from), false) = (opening, from, needs.is_empty()) {
        fx.changes.push(Change::TitleQueued { post: post_json(&rec.post), room: id, space, from, langs: needs });
    }
    Ok(Ok(Outcome::Done))
}

/// Writes a room whose title or its translations changed: its title's queue record, the
/// search index's copy (through its opening post), and the space's readers. Returns the
/// languages its title waits for.
fn titled(tx: &Tx, ctx: &Ctx, fx: &mut Effects, room: Room, opening: Option<PostId>) -> Result<Vec<Lang>, Fatal> {
    tx.put_room(&room);
    let needs = requeue_title(tx, ctx, &room)?;
    if let Some(post) = opening {
        record_change(fx, post);
    }
    fx.rooms_updated.insert(room.id, room);
    Ok(needs)
}
