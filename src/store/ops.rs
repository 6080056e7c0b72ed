//! The writes. Each `Op` is applied inside the writer's batch transaction: it reads and
//! validates everything first and writes only when it will succeed, so a refused op
//! leaves nothing half-written in the batch it shares with others.

use std::collections::BTreeMap;

use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use super::keys;
use super::writer::Publish;
use super::{decode, NonceRecord, PostRecord, UserRecord};
use crate::error::{ApiError, StoreError};
use crate::hub::Topic;
use crate::model::{
    EventKind, LangSource, Post, PostId, PostPolicy, Revision, Role, Room, RoomId, Space, SpaceId, SpaceKind, User,
    UserId, Visibility,
};
use crate::protocol::{ServerFrame, StoredEvent};

/// Where a new post goes.
#[derive(Clone, Debug)]
pub enum RoomTarget {
    Existing(RoomId),
    /// A new forum thread in this space, with this title.
    New {
        space: SpaceId,
        title: String,
    },
}

/// A write.
#[derive(Clone, Debug)]
pub enum Op {
    CreateUser {
        handle: String,
        display_name: String,
        languages: Vec<String>,
        roles: Vec<Role>,
        password_hash: String,
    },
    UpdateUser {
        id: UserId,
        display_name: Option<String>,
        languages: Option<Vec<String>>,
        roles: Option<Vec<Role>>,
    },
    PutToken {
        hash: [u8; 32],
        user: UserId,
    },
    RevokeToken {
        hash: [u8; 32],
    },
    CreateSpace {
        slug: String,
        name: String,
        kind: SpaceKind,
        visibility: Visibility,
        post_policy: PostPolicy,
        creator: Option<UserId>,
    },
    AddMember {
        space: SpaceId,
        user: UserId,
    },
    CreatePost {
        target: RoomTarget,
        author: UserId,
        body: String,
        reply_to: Option<PostId>,
        lang: String,
        lang_source: LangSource,
        lang_confidence: f64,
        nonce: String,
    },
    EditPost {
        post: PostId,
        body: String,
        lang: String,
        lang_source: LangSource,
        lang_confidence: f64,
    },
    DeletePost {
        post: PostId,
    },
    MarkInitialized,
}

/// What a write produced.
#[derive(Clone, Debug)]
pub enum Outcome {
    User(User),
    Space(Space),
    /// A post was created, or (`duplicate`) its nonce had been seen and this is the
    /// first ack's content again.
    Posted {
        ack: NonceRecord,
        duplicate: bool,
    },
    Post(Post),
    Done,
}

/// The transaction's view of the trees, by name (same order as `Trees::all`).
pub(super) struct Tx<'a>(pub &'a [TransactionalTree]);

impl Tx<'_> {
    fn meta(&self) -> &TransactionalTree {
        &self.0[0]
    }
    fn users(&self) -> &TransactionalTree {
        &self.0[1]
    }
    fn handles(&self) -> &TransactionalTree {
        &self.0[2]
    }
    fn tokens(&self) -> &TransactionalTree {
        &self.0[3]
    }
    fn spaces(&self) -> &TransactionalTree {
        &self.0[4]
    }
    fn slugs(&self) -> &TransactionalTree {
        &self.0[5]
    }
    fn members(&self) -> &TransactionalTree {
        &self.0[6]
    }
    fn rooms(&self) -> &TransactionalTree {
        &self.0[7]
    }
    fn space_rooms(&self) -> &TransactionalTree {
        &self.0[8]
    }
    fn events(&self) -> &TransactionalTree {
        &self.0[9]
    }
    fn posts(&self) -> &TransactionalTree {
        &self.0[10]
    }
    fn room_posts(&self) -> &TransactionalTree {
        &self.0[11]
    }
    fn nonces(&self) -> &TransactionalTree {
        &self.0[12]
    }
}

/// A failure that aborts the whole batch (storage, or a corrupt record).
#[derive(Debug)]
pub(super) enum Fatal {
    Storage(UnabortableTransactionError),
    Store(StoreError),
}

impl From<UnabortableTransactionError> for Fatal {
    fn from(e: UnabortableTransactionError) -> Self {
        Fatal::Storage(e)
    }
}
impl From<StoreError> for Fatal {
    fn from(e: StoreError) -> Self {
        Fatal::Store(e)
    }
}

/// What the ops of one batch publish, gathered as they are applied.
#[derive(Default)]
pub(super) struct Effects {
    pub publish: Vec<Publish>,
    /// The newest seq of every room written.
    pub heads: BTreeMap<RoomId, u64>,
    /// Rooms created or changed, for one `room_created` / `room_updated` each per batch.
    rooms_created: BTreeMap<RoomId, Room>,
    rooms_updated: BTreeMap<RoomId, Room>,
}

impl Effects {
    /// Appends the space-level announcements, once per room, after the room events.
    pub fn finish(&mut self) {
        for (id, room) in std::mem::take(&mut self.rooms_created) {
            let room = self.rooms_updated.remove(&id).unwrap_or(room);
            let text = ServerFrame::RoomCreated { room: &room }.to_json();
            self.publish.push(Publish { topic: Topic::Space(room.space), seq: 0, text });
        }
        for (_, room) in std::mem::take(&mut self.rooms_updated) {
            let text = ServerFrame::RoomUpdated { room: &room }.to_json();
            self.publish.push(Publish { topic: Topic::Space(room.space), seq: 0, text });
        }
    }
}

type OpResult = Result<Result<Outcome, ApiError>, Fatal>;

fn get<T: serde::de::DeserializeOwned>(
    tree: &TransactionalTree,
    name: &'static str,
    key: &[u8],
) -> Result<Option<T>, Fatal> {
    match tree.get(key)? {
        Some(v) => Ok(Some(decode(name, &v)?)),
        None => Ok(None),
    }
}

fn put<T: serde::Serialize>(tree: &TransactionalTree, key: &[u8], value: &T) -> Result<(), Fatal> {
    let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt { tree: "encode", detail: e.to_string() })?;
    tree.insert(key, bytes)?;
    Ok(())
}

fn new_id(tx: &Tx) -> Result<u64, Fatal> {
    // sled ids start at 0; ours start at 1 so that 0 never names anything.
    Ok(tx.meta().generate_id().map_err(StoreError::Sled)? + 1)
}

/// Applies one op. `Ok(Err(_))` is a refusal that wrote nothing.
pub(super) fn apply(tx: &Tx, op: &Op, now: &str, fx: &mut Effects) -> OpResult {
    match op {
        Op::CreateUser { handle, display_name, languages, roles, password_hash } => {
            let lower = handle.to_lowercase();
            if tx.handles().get(lower.as_bytes())?.is_some() {
                return Ok(Err(ApiError::conflict(format!("handle {handle:?} is taken"))));
            }
            let id = UserId(new_id(tx)?);
            let user = User {
                id,
                handle: handle.clone(),
                display_name: display_name.clone(),
                languages: languages.clone(),
                roles: roles.clone(),
            };
            let rec =
                UserRecord { user: user.clone(), password_hash: password_hash.clone(), created_at: now.to_owned() };
            put(tx.users(), &id.key(), &rec)?;
            tx.handles().insert(lower.as_bytes(), &id.key())?;
            Ok(Ok(Outcome::User(user)))
        }
        Op::UpdateUser { id, display_name, languages, roles } => {
            let Some(mut rec) = get::<UserRecord>(tx.users(), "users", &id.key())? else {
                return Ok(Err(ApiError::not_found("user")));
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
            put(tx.users(), &id.key(), &rec)?;
            Ok(Ok(Outcome::User(rec.user)))
        }
        Op::PutToken { hash, user } => {
            tx.tokens().insert(&hash[..], &user.key())?;
            Ok(Ok(Outcome::Done))
        }
        Op::RevokeToken { hash } => {
            tx.tokens().remove(&hash[..])?;
            Ok(Ok(Outcome::Done))
        }
        Op::CreateSpace { slug, name, kind, visibility, post_policy, creator } => {
            if tx.slugs().get(slug.as_bytes())?.is_some() {
                return Ok(Err(ApiError::conflict(format!("slug {slug:?} is taken"))));
            }
            let id = SpaceId(new_id(tx)?);
            let room = if *kind == SpaceKind::Chat {
                let room = Room {
                    id: RoomId(new_id(tx)?),
                    space: id,
                    title: None,
                    created_at: now.to_owned(),
                    last_seq: 0,
                    post_count: 0,
                    last_activity_at: now.to_owned(),
                };
                put(tx.rooms(), &room.id.key(), &room)?;
                tx.space_rooms().insert(&keys::pair(id.0, room.id.0)[..], &[][..])?;
                Some(room.id)
            } else {
                None
            };
            let space = Space {
                id,
                slug: slug.clone(),
                name: name.clone(),
                kind: *kind,
                visibility: *visibility,
                post_policy: *post_policy,
                room,
            };
            put(tx.spaces(), &id.key(), &space)?;
            tx.slugs().insert(slug.as_bytes(), &id.key())?;
            if let (Visibility::Private, Some(c)) = (visibility, creator) {
                tx.members().insert(&keys::pair(id.0, c.0)[..], &[][..])?;
            }
            Ok(Ok(Outcome::Space(space)))
        }
        Op::AddMember { space, user } => {
            if tx.spaces().get(space.key())?.is_none() {
                return Ok(Err(ApiError::not_found("space")));
            }
            if tx.users().get(user.key())?.is_none() {
                return Ok(Err(ApiError::not_found("user")));
            }
            tx.members().insert(&keys::pair(space.0, user.0)[..], &[][..])?;
            Ok(Ok(Outcome::Done))
        }
        Op::CreatePost { target, author, body, reply_to, lang, lang_source, lang_confidence, nonce } => {
            let nonce_key = keys::id_and(author.0, nonce.as_bytes());
            if let Some(ack) = get::<NonceRecord>(tx.nonces(), "nonces", &nonce_key)? {
                return Ok(Ok(Outcome::Posted { ack, duplicate: true }));
            }
            let (mut room, is_new) = match target {
                RoomTarget::Existing(id) => match get::<Room>(tx.rooms(), "rooms", &id.key())? {
                    Some(r) => (r, false),
                    None => return Ok(Err(ApiError::not_found("room"))),
                },
                RoomTarget::New { space, title } => {
                    let Some(s) = get::<Space>(tx.spaces(), "spaces", &space.key())? else {
                        return Ok(Err(ApiError::not_found("space")));
                    };
                    if s.kind != SpaceKind::Forum {
                        return Ok(Err(ApiError::bad_request("a chat space has exactly one room; post in it")));
                    }
                    let room = Room {
                        id: RoomId(new_id(tx)?),
                        space: *space,
                        title: Some(title.clone()),
                        created_at: now.to_owned(),
                        last_seq: 0,
                        post_count: 0,
                        last_activity_at: now.to_owned(),
                    };
                    (room, true)
                }
            };
            if let Some(parent) = reply_to {
                match get::<PostRecord>(tx.posts(), "posts", &parent.key())? {
                    Some(p) if p.post.room == room.id => {}
                    Some(_) => return Ok(Err(ApiError::bad_request("reply_to: the post is in another room"))),
                    None => return Ok(Err(ApiError::not_found("reply_to post"))),
                }
            }
            let seq = room.last_seq + 1;
            let post = Post {
                id: PostId(new_id(tx)?),
                room: room.id,
                seq,
                author: *author,
                body: body.clone(),
                reply_to: *reply_to,
                lang: lang.clone(),
                lang_source: *lang_source,
                lang_confidence: *lang_confidence,
                created_at: now.to_owned(),
                edited_at: None,
                deleted: false,
                translations: BTreeMap::new(),
            };
            room.last_seq = seq;
            room.post_count += 1;
            room.last_activity_at = now.to_owned();
            put(tx.rooms(), &room.id.key(), &room)?;
            if is_new {
                tx.space_rooms().insert(&keys::pair(room.space.0, room.id.0)[..], &[][..])?;
            }
            write_event(tx, fx, &room, EventKind::Post, &post)?;
            tx.room_posts().insert(&keys::pair(room.id.0, seq)[..], &post.id.key())?;
            let rec = PostRecord { post: post.clone(), history: Vec::new(), seqs: vec![seq], nonce: nonce.clone() };
            put(tx.posts(), &post.id.key(), &rec)?;
            let ack = NonceRecord { post, room: is_new.then(|| room.clone()) };
            put(tx.nonces(), &nonce_key, &ack)?;
            if is_new {
                fx.rooms_created.insert(room.id, room);
            } else {
                fx.rooms_updated.insert(room.id, room);
            }
            Ok(Ok(Outcome::Posted { ack, duplicate: false }))
        }
        Op::EditPost { post, body, lang, lang_source, lang_confidence } => {
            let Some(mut rec) = get::<PostRecord>(tx.posts(), "posts", &post.key())? else {
                return Ok(Err(ApiError::not_found("post")));
            };
            if rec.post.deleted {
                return Ok(Err(ApiError::conflict("the post was deleted")));
            }
            let Some(mut room) = get::<Room>(tx.rooms(), "rooms", &rec.post.room.key())? else {
                return Err(StoreError::Corrupt { tree: "rooms", detail: format!("post {post} has no room") }.into());
            };
            rec.history.push(Revision {
                body: std::mem::replace(&mut rec.post.body, body.clone()),
                lang: std::mem::replace(&mut rec.post.lang, lang.clone()),
                written_at: rec.post.edited_at.clone().unwrap_or_else(|| rec.post.created_at.clone()),
                replaced_at: now.to_owned(),
            });
            rec.post.lang_source = *lang_source;
            rec.post.lang_confidence = *lang_confidence;
            rec.post.edited_at = Some(now.to_owned());
            for t in rec.post.translations.values_mut() {
                t.stale = true;
            }
            room.last_seq += 1;
            room.last_activity_at = now.to_owned();
            rec.seqs.push(room.last_seq);
            put(tx.rooms(), &room.id.key(), &room)?;
            write_event(tx, fx, &room, EventKind::Edit, &rec.post)?;
            put(tx.posts(), &post.key(), &rec)?;
            fx.rooms_updated.insert(room.id, room);
            Ok(Ok(Outcome::Post(rec.post)))
        }
        Op::DeletePost { post } => {
            let Some(mut rec) = get::<PostRecord>(tx.posts(), "posts", &post.key())? else {
                return Ok(Err(ApiError::not_found("post")));
            };
            if rec.post.deleted {
                return Ok(Ok(Outcome::Post(rec.post)));
            }
            let Some(mut room) = get::<Room>(tx.rooms(), "rooms", &rec.post.room.key())? else {
                return Err(StoreError::Corrupt { tree: "rooms", detail: format!("post {post} has no room") }.into());
            };
            rec.post.body = String::new();
            rec.post.deleted = true;
            rec.post.translations.clear();
            rec.post.edited_at = Some(now.to_owned());
            rec.history.clear();
            // The body is gone everywhere: rewrite the post's earlier events and its
            // first ack so that no replay or retry shows it again.
            for &s in &rec.seqs {
                let key = keys::pair(room.id.0, s);
                if let Some(mut ev) = get::<StoredEvent>(tx.events(), "events", &key)? {
                    ev.post = rec.post.clone();
                    let text =
                        ServerFrame::Event { room: ev.room, seq: ev.seq, kind: ev.kind, post: &ev.post }.to_json();
                    tx.events().insert(&key[..], text.as_bytes())?;
                }
            }
            let nonce_key = keys::id_and(rec.post.author.0, rec.nonce.as_bytes());
            if let Some(mut ack) = get::<NonceRecord>(tx.nonces(), "nonces", &nonce_key)? {
                ack.post = rec.post.clone();
                put(tx.nonces(), &nonce_key, &ack)?;
            }
            room.last_seq += 1;
            room.last_activity_at = now.to_owned();
            rec.seqs.push(room.last_seq);
            put(tx.rooms(), &room.id.key(), &room)?;
            write_event(tx, fx, &room, EventKind::Delete, &rec.post)?;
            put(tx.posts(), &post.key(), &rec)?;
            fx.rooms_updated.insert(room.id, room);
            Ok(Ok(Outcome::Post(rec.post)))
        }
        Op::MarkInitialized => {
            tx.meta().insert("initialized", now.as_bytes())?;
            Ok(Ok(Outcome::Done))
        }
    }
}

/// Appends the event with the room's current `last_seq` to its log, and queues it for
/// publication: serialized once, the same bytes stored and sent to every subscriber.
fn write_event(tx: &Tx, fx: &mut Effects, room: &Room, kind: EventKind, post: &Post) -> Result<(), Fatal> {
    let seq = room.last_seq;
    let text = ServerFrame::Event { room: room.id, seq, kind, post }.to_json();
    tx.events().insert(&keys::pair(room.id.0, seq)[..], text.as_bytes())?;
    fx.heads.insert(room.id, seq);
    fx.publish.push(Publish { topic: Topic::Room(room.id), seq, text });
    Ok(())
}
