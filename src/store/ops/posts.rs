//! Posts: creating, editing, deleting, relabelling and reacting.

use super::*;

/// The `DeletePost` write.
#[derive(Clone, Debug)]
pub struct DeletePost {
    pub post: PostId,
    /// A moderator deleting someone else's post: logged, and the post's flags cleared.
    pub moderation: Option<Moderation>,
}

/// A correction of the post's language: rerouted in the queue.
#[derive(Clone, Debug)]
pub struct SetLang {
    pub post: PostId,
    pub lang: Lang,
}

/// Adds (or removes) `user`'s reaction `emoji` to a post.
#[derive(Clone, Debug)]
pub struct React {
    pub post: PostId,
    pub user: UserId,
    pub emoji: String,
    pub add: bool,
}

/// A new version of a post: its body and language.
#[derive(Clone, Debug)]
pub struct EditPost {
    pub post: PostId,
    pub body: String,
    /// The body rendered (`render`).
    pub html: String,
    pub lang: Lang,
    pub lang_source: LangSource,
    pub lang_confidence: f64,
    /// Those the new version mentions for the first time (`service::notifications`).
    pub notify: Vec<(UserId, NotificationKind)>,
}

/// A new post, in a room or in a new forum thread.
#[derive(Clone, Debug)]
pub struct CreatePost {
    pub target: RoomTarget,
    pub author: UserId,
    pub body: String,
    /// The body rendered (`render`).
    pub html: String,
    pub reply_to: Option<PostId>,
    pub lang: Lang,
    pub lang_source: LangSource,
    pub lang_confidence: f64,
    pub nonce: String,
    /// Who is notified of the post, and as what (the service's rules:
    /// `service::notifications`); anyone who cannot read the space is passed over.
    pub notify: Vec<(UserId, NotificationKind)>,
    /// The author's uploads it carries (at most `MAX_FILES_PER_POST`, none attached yet).
    pub files: Vec<crate::model::FileId>,
}

pub(super) fn create_post(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &CreatePost) -> OpResult {
    let CreatePost {
        target,
        author,
        body,
        html,
        reply_to,
        lang,
        lang_source,
        lang_confidence,
        nonce,
        notify: also,
        files,
    } = op;
    let now = ctx.now.as_str();
    let nonce_hash = nonces::hash(tx.ids.of(author), nonce);
    if let Some(stored) = tx.nonce_seen(tx.ids.of(author), nonce, nonce_hash, &fx.new_nonces)? {
        let ack = first_ack(tx, stored)?;
        return Ok(Ok(Outcome::Posted { ack, duplicate: true }));
    }
    let (mut room, is_new) = match target {
        RoomTarget::Existing(id) => match tx.room(*id)? {
            Some(r) => (r, false),
            None => return Ok(Err(Refusal::NotFound("room"))),
        },
        RoomTarget::New { space, title } => {
            let Some(s) = get::<Space>(tx.spaces(), "spaces", &tx.ids.key(space))? else {
                return Ok(Err(Refusal::NotFound("space")));
            };
            if s.kind != SpaceKind::Forum {
                return Ok(Err(Refusal::ChatHasOneRoom));
            }
            (new_room(tx, *space, Some(title.clone()), now)?, true)
        }
    };
    if let Some(parent) = reply_to {
        match get_post(tx, *parent)? {
            Some(p) if p.post.room == room.id => {}
            // A post elsewhere is answered as one that does not exist: the room
            // it is in may be one the author cannot read.
            _ => return Ok(Err(Refusal::NotFound("reply_to post (in this room)"))),
        }
    }
    let attached = match super::files::attachable(tx, files, *author)? {
        Ok(records) => records,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let id = new_id::<PostId>(tx)?;
    let files = super::files::attach(tx, attached, id, room.id, room.space)?;
    let seq = room.last_seq + 1;
    let post = Post {
        id,
        room: room.id,
        seq,
        author: *author,
        body: body.to_owned(),
        html: html.to_owned(),
        reply_to: *reply_to,
        lang: lang.to_owned(),
        lang_source: *lang_source,
        lang_confidence: *lang_confidence,
        created_at: now.to_owned(),
        edited_at: None,
        deleted: false,
        hidden: false,
        translations: BTreeMap::new(),
        reactions: BTreeMap::new(),
        files,
    };
    room.last_seq = seq;
    room.post_count += 1;
    room.last_activity_at = now.to_owned();
    let mut title_needs = Vec::new();
    if is_new && room.title.is_some() {
        room.title_lang = Some(*lang);
        title_needs = super::desk::requeue_title(tx, ctx, &room)?;
    }
    tx.put_room(&room);
    if is_new {
        tx.space_rooms().insert(&keys::pair(tx.ids.of(room.space), tx.ids.of(room.id))[..], &[][..])?;
    }
    // The post as JSON once, for its event, its record and its queue frames.
    let json = post_json(&post);
    let event = event_frame_of(room.id, seq, EventKind::Post, &json).map_err(encoding)?;
    write_event_text(tx, fx, &room, EventKind::Post, &post, event)?;
    tx.new_room_posts.borrow_mut().insert((tx.ids.of(room.id), seq), tx.ids.of(post.id));
    // Not a second copy of the post: where its creation event is (`fresh_post`),
    // in a run of the batch's new posts (`runs`).
    tx.new_fresh
        .borrow_mut()
        .insert(tx.ids.of(post.id), (tx.ids.of(room.id), seq, tx.ids.of(author), nonce.to_owned()));
    requeue(tx, fx, ctx, &post, &room, true, Some(&json))?;
    super::desk::title_queued(fx, &room, &json, title_needs);
    notify(tx, ctx, fx, &post, room.space, also)?;
    if is_new {
        // A new thread's ack names its room: its nonce goes to `nonces` at once.
        let stored = StoredNonce { event: (room.id, seq), room: Some(room.clone()) };
        put(tx.nonces(), &keys::id_and(tx.ids.of(author), nonce.as_bytes()), &stored)?;
    } else {
        // In its run, found through the index until folded (`nonces`).
        fx.new_nonces.push((nonce_hash, tx.ids.of(post.id)));
    }
    let ack = NonceRecord { post, room: is_new.then(|| room.clone()), json: Some(Arc::new(json)) };
    if is_new {
        fx.rooms_created.insert(room.id, room);
    } else {
        fx.rooms_updated.insert(room.id, room);
    }
    Ok(Ok(Outcome::Posted { ack, duplicate: false }))
}

pub(super) fn edit_post(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &EditPost) -> OpResult {
    let EditPost { post, body, html, lang, lang_source, lang_confidence, notify: also } = op;
    let now = ctx.now.as_str();
    let Some(mut rec) = get_post(tx, *post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if rec.post.deleted {
        return Ok(Err(Refusal::PostDeleted));
    }
    rec.history.push(Revision {
        body: std::mem::replace(&mut rec.post.body, body.to_owned()),
        html: std::mem::replace(&mut rec.post.html, html.to_owned()),
        lang: std::mem::replace(&mut rec.post.lang, lang.to_owned()),
        written_at: rec.post.edited_at.clone().unwrap_or_else(|| rec.post.created_at.clone()),
        replaced_at: now.to_owned(),
    });
    if rec.history.len() > MAX_HISTORY {
        rec.history.drain(..rec.history.len() - MAX_HISTORY);
    }
    rec.post.lang_source = *lang_source;
    rec.post.lang_confidence = *lang_confidence;
    rec.post.edited_at = Some(now.to_owned());
    for t in rec.post.translations.values_mut() {
        t.stale = true;
    }
    append(tx, fx, ctx, &mut rec, EventKind::Edit)?;
    let space = room_space(tx, rec.post.room)?;
    notify(tx, ctx, fx, &rec.post, space, also)?;
    Ok(Ok(Outcome::Event { seq: rec.seqs.last().copied().unwrap_or(rec.post.seq), post: rec.post }))
}

pub(super) fn delete_post(
    tx: &Tx,
    ctx: &Ctx,
    fx: &mut Effects,
    post: &PostId,
    moderation: &Option<Moderation>,
) -> OpResult {
    let now = ctx.now.as_str();
    let Some(mut rec) = get_post(tx, *post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if rec.post.deleted {
        return Ok(Ok(Outcome::Event { seq: rec.seqs.last().copied().unwrap_or(rec.post.seq), post: rec.post }));
    }
    rec.post.body = String::new();
    rec.post.html = String::new();
    rec.post.files.clear();
    rec.post.deleted = true;
    rec.post.translations.clear();
    rec.post.reactions.clear();
    rec.reactors.clear();
    rec.post.edited_at = Some(now.to_owned());
    rec.history.clear();
    redact(tx, &rec)?;
    tx.hidden().remove(tx.ids.key(rec.post.id))?;
    append(tx, fx, ctx, &mut rec, EventKind::Delete)?;
    if let Some(m) = moderation {
        log_action(tx, now, m, "delete", Some(rec.post.id), None, None)?;
    }
    Ok(Ok(Outcome::Event { seq: rec.seqs.last().copied().unwrap_or(rec.post.seq), post: rec.post }))
}

pub(super) fn set_lang(tx: &Tx, ctx: &Ctx, fx: &mut Effects, post: &PostId, lang: Lang) -> OpResult {
    let Some(mut rec) = get_post(tx, *post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if rec.post.deleted {
        return Ok(Err(Refusal::PostDeleted));
    }
    if rec.post.lang == lang && rec.post.lang_source == LangSource::Declared {
        // Already so: nothing to write, no event.
        let seq = rec.seqs.last().copied().unwrap_or(rec.post.seq);
        return Ok(Ok(Outcome::Event { seq, post: rec.post }));
    }
    rec.post.lang = lang.to_owned();
    rec.post.lang_source = LangSource::Declared;
    rec.post.lang_confidence = 1.0;
    // A translation into the post's own language is no translation.
    rec.post.translations.remove(&lang);
    append(tx, fx, ctx, &mut rec, EventKind::Edit)?;
    Ok(Ok(Outcome::Event { seq: rec.seqs.last().copied().unwrap_or(rec.post.seq), post: rec.post }))
}

pub(super) fn react(
    tx: &Tx,
    ctx: &Ctx,
    fx: &mut Effects,
    post: &PostId,
    user: &UserId,
    emoji: &str,
    add: &bool,
) -> OpResult {
    let Some(mut rec) = get_post(tx, *post)? else {
        return Ok(Err(Refusal::NotFound("post")));
    };
    if rec.post.deleted {
        return Ok(Err(Refusal::PostDeleted));
    }
    let has = rec.reactors.get(emoji).is_some_and(|who| who.contains(user));
    if has == *add {
        // Already so: no change, no event.
        let seq = rec.seqs.last().copied().unwrap_or(rec.post.seq);
        return Ok(Ok(Outcome::Event { seq, post: rec.post }));
    }
    if *add {
        if !rec.reactors.contains_key(emoji) && rec.reactors.len() >= MAX_REACTIONS {
            return Ok(Err(Refusal::TooManyReactionKinds(MAX_REACTIONS)));
        }
        rec.reactors.entry(emoji.to_owned()).or_default().push(*user);
    } else if let Some(who) = rec.reactors.get_mut(emoji) {
        who.retain(|u| u != user);
        if who.is_empty() {
            rec.reactors.remove(emoji);
        }
    }
    rec.post.reactions = rec.reactors.iter().map(|(e, who)| (e.clone(), who.len() as u64)).collect();
    append(tx, fx, ctx, &mut rec, EventKind::Reaction)?;
    let seq = rec.seqs.last().copied().unwrap_or(rec.post.seq);
    Ok(Ok(Outcome::Event { seq, post: rec.post }))
}
