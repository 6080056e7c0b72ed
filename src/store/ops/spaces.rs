//! Spaces, their members and coordinators, and pinned threads.

use super::*;

/// The `AddMember` write.
#[derive(Clone, Debug)]
pub struct AddMember {
    pub space: SpaceId,
    pub user: UserId,
}

/// Takes `user` out of a space (and its coordinators); their sockets are told to
/// reconnect, so no subscription outlives the access.
#[derive(Clone, Debug)]
pub struct RemoveMember {
    pub space: SpaceId,
    pub user: UserId,
}

/// Sets a private space's coordinators (members all).
#[derive(Clone, Debug)]
pub struct SetCoordinators {
    pub space: SpaceId,
    pub users: Vec<UserId>,
}

/// Pins or unpins a thread; its posts' queue items move to the matching priority
/// (the service lists the posts: a transaction cannot scan).
#[derive(Clone, Debug)]
pub struct Pin {
    pub room: RoomId,
    pub pinned: bool,
    pub posts: Vec<PostId>,
}

/// Admins' changes to a space: its names and descriptions per language, who posts in
/// it, whether it is archived. What is `None` stays.
#[derive(Clone, Debug)]
pub struct UpdateSpace {
    pub space: SpaceId,
    pub name: Option<String>,
    pub names: Option<BTreeMap<Lang, String>>,
    pub descriptions: Option<BTreeMap<Lang, String>>,
    pub post_policy: Option<PostPolicy>,
    pub archived: Option<bool>,
    /// A new visibility: the space's posts are named in the change feed again (listed
    /// by the service) so that search sees who may read them; made private, the space
    /// keeps `actor` as a member and every socket is told to reconnect.
    pub visibility: Option<Visibility>,
    pub listed: Option<bool>,
    /// `Some("")` clears it.
    pub edition: Option<String>,
    pub actor: UserId,
    pub posts: Vec<PostId>,
}

pub(super) fn update_space(tx: &Tx, fx: &mut Effects, op: &UpdateSpace) -> OpResult {
    let Some(mut s) = get::<Space>(tx.spaces(), "spaces", &tx.ids.key(op.space))? else {
        return Ok(Err(Refusal::NotFound("space")));
    };
    if let Some(n) = &op.name {
        s.name = n.clone();
    }
    if let Some(n) = &op.names {
        s.names = n.clone();
    }
    if let Some(d) = &op.descriptions {
        s.descriptions = d.clone();
    }
    if let Some(p) = op.post_policy {
        s.post_policy = p;
    }
    if let Some(a) = op.archived {
        s.archived = a;
    }
    if let Some(l) = op.listed {
        s.listed = l;
    }
    if let Some(e) = &op.edition {
        s.edition = (!e.is_empty()).then(|| e.clone());
    }
    if let Some(v) = op.visibility.filter(|v| *v != s.visibility) {
        s.visibility = v;
        s.visibility_changed = true;
        for post in &op.posts {
            record_change(fx, *post);
        }
        if v == Visibility::Private {
            tx.members().insert(&keys::pair(tx.ids.of(op.space), tx.ids.of(op.actor))[..], &[][..])?;
            fx.changes.push(Change::SpaceClosed { space: op.space });
        }
    }
    if s.visibility == Visibility::Public {
        s.listed = false;
        s.coordinators.clear();
    }
    put(tx.spaces(), &tx.ids.key(op.space), &s)?;
    Ok(Ok(Outcome::Space(s)))
}

/// A new space; a chat space gets its one room.
#[derive(Clone, Debug)]
pub struct CreateSpace {
    pub slug: String,
    pub name: String,
    pub kind: SpaceKind,
    pub visibility: Visibility,
    pub post_policy: PostPolicy,
    pub creator: Option<UserId>,
    /// A direct conversation's members (the creator among them); empty for a space.
    pub direct: Vec<UserId>,
}

pub(super) fn create_space(tx: &Tx, ctx: &Ctx, op: &CreateSpace) -> OpResult {
    let CreateSpace { slug, name, kind, visibility, post_policy, creator, direct } = op;
    let now = ctx.now.as_str();
    if tx.slugs().get(slug.as_bytes())?.is_some() {
        return Ok(Err(Refusal::SlugTaken(slug.clone())));
    }
    for user in direct {
        if tx.users().get(tx.ids.key(user))?.is_none() {
            return Ok(Err(Refusal::NotFound("user")));
        }
    }
    let id = new_id::<SpaceId>(tx)?;
    let room = if *kind == SpaceKind::Chat {
        let room = new_room(tx, id, None, now)?;
        tx.put_room(&room);
        tx.space_rooms().insert(&keys::pair(tx.ids.of(id), tx.ids.of(room.id))[..], &[][..])?;
        Some(room.id)
    } else {
        None
    };
    let space = Space {
        id,
        slug: slug.to_owned(),
        name: name.to_owned(),
        kind: *kind,
        visibility: *visibility,
        post_policy: *post_policy,
        room,
        unread: None,
        coordinators: Vec::new(),
        direct: direct.clone(),
        names: BTreeMap::new(),
        descriptions: BTreeMap::new(),
        archived: false,
        listed: false,
        edition: None,
        visibility_changed: false,
        threads: None,
        last_activity_at: None,
        watch: None,
    };
    put(tx.spaces(), &tx.ids.key(id), &space)?;
    tx.slugs().insert(slug.as_bytes(), &tx.ids.key(id))?;
    if let (Visibility::Private, Some(c)) = (visibility, creator) {
        tx.members().insert(&keys::pair(tx.ids.of(id), tx.ids.of(c))[..], &[][..])?;
    }
    for user in direct {
        tx.members().insert(&keys::pair(tx.ids.of(id), tx.ids.of(user))[..], &[][..])?;
    }
    Ok(Ok(Outcome::Space(space)))
}

pub(super) fn add_member(tx: &Tx, space: &SpaceId, user: &UserId) -> OpResult {
    if tx.spaces().get(tx.ids.key(space))?.is_none() {
        return Ok(Err(Refusal::NotFound("space")));
    }
    if tx.users().get(tx.ids.key(user))?.is_none() {
        return Ok(Err(Refusal::NotFound("user")));
    }
    let key = keys::pair(tx.ids.of(space), tx.ids.of(user));
    tx.members().insert(&key[..], &[][..])?;
    // A request to join is answered by joining.
    tx.join_requests().remove(&key[..])?;
    Ok(Ok(Outcome::Done))
}

/// A member asks to join a listed working group.
#[derive(Clone, Debug)]
pub struct RequestJoin {
    pub space: SpaceId,
    pub user: UserId,
    pub message: String,
}

pub(super) fn request_join(tx: &Tx, ctx: &Ctx, op: &RequestJoin) -> OpResult {
    let Some(s) = get::<Space>(tx.spaces(), "spaces", &tx.ids.key(op.space))? else {
        return Ok(Err(Refusal::NotFound("space")));
    };
    let key = keys::pair(tx.ids.of(op.space), tx.ids.of(op.user));
    if tx.members().get(&key[..])?.is_some() {
        return Ok(Err(Refusal::AlreadyMember));
    }
    // Only a listed group is seen by non-members: any other is not found.
    if s.visibility != Visibility::Private || !s.listed || s.is_direct() {
        return Ok(Err(Refusal::NotFound("space")));
    }
    if let Some(r) = get::<JoinRequest>(tx.join_requests(), "join_requests", &key)? {
        return Ok(Ok(Outcome::JoinRequest(r)));
    }
    let r = JoinRequest { space: op.space, user: op.user, message: op.message.clone(), created_at: ctx.now.clone() };
    put(tx.join_requests(), &key, &r)?;
    Ok(Ok(Outcome::JoinRequest(r)))
}

/// A coordinator answers a request to join: approved, the member joins; either way the
/// request is gone.
#[derive(Clone, Debug)]
pub struct AnswerJoin {
    pub space: SpaceId,
    pub user: UserId,
    pub approve: bool,
}

pub(super) fn answer_join(tx: &Tx, op: &AnswerJoin) -> OpResult {
    let key = keys::pair(tx.ids.of(op.space), tx.ids.of(op.user));
    if tx.join_requests().remove(&key[..])?.is_none() {
        return Ok(Err(Refusal::NotFound("join request")));
    }
    if op.approve {
        tx.members().insert(&key[..], &[][..])?;
    }
    Ok(Ok(Outcome::Done))
}

pub(super) fn remove_member(tx: &Tx, fx: &mut Effects, space: &SpaceId, user: &UserId) -> OpResult {
    let Some(mut s) = get::<Space>(tx.spaces(), "spaces", &tx.ids.key(space))? else {
        return Ok(Err(Refusal::NotFound("space")));
    };
    let key = keys::pair(tx.ids.of(space), tx.ids.of(user));
    if tx.members().remove(&key[..])?.is_none() {
        return Ok(Err(Refusal::NotFound("member")));
    }
    if s.coordinators.contains(user) {
        s.coordinators.retain(|u| u != user);
        put(tx.spaces(), &tx.ids.key(space), &s)?;
    }
    fx.changes.push(Change::AccessLost { user: *user, space: *space });
    Ok(Ok(Outcome::Done))
}

pub(super) fn set_coordinators(tx: &Tx, space: &SpaceId, users: &[UserId]) -> OpResult {
    let Some(mut s) = get::<Space>(tx.spaces(), "spaces", &tx.ids.key(space))? else {
        return Ok(Err(Refusal::NotFound("space")));
    };
    for u in users {
        if tx.members().get(&keys::pair(tx.ids.of(space), tx.ids.of(u))[..])?.is_none() {
            return Ok(Err(Refusal::NotAMember(*u)));
        }
    }
    s.coordinators = users.to_vec();
    put(tx.spaces(), &tx.ids.key(space), &s)?;
    Ok(Ok(Outcome::Space(s)))
}

pub(super) fn pin(tx: &Tx, ctx: &Ctx, fx: &mut Effects, room: &RoomId, pinned: &bool, posts: &[PostId]) -> OpResult {
    let Some(mut r) = tx.room(*room)? else {
        return Ok(Err(Refusal::NotFound("room")));
    };
    if r.title.is_none() {
        return Ok(Err(Refusal::NotAThread));
    }
    r.pinned = *pinned;
    tx.put_room(&r);
    // Its place in the queue: nothing new to translate.
    super::desk::requeue_title(tx, ctx, &r)?;
    let Some(space) = get::<Space>(tx.spaces(), "spaces", &tx.ids.key(r.space))? else {
        return Ok(Err(Refusal::NotFound("space")));
    };
    let (from, to) = (priority(space.post_policy, !*pinned), priority(space.post_policy, *pinned));
    if from != to {
        for post in posts {
            if let Some(needs) = tx.queue_remove(&queue_key(&tx.ids, from, *post))? {
                tx.queue_put(&queue_key(&tx.ids, to, *post), needs.to_vec(), false)?;
            }
        }
    }
    fx.rooms_updated.insert(r.id, r.clone());
    Ok(Ok(Outcome::Done))
}
