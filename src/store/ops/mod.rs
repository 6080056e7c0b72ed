//! The writes. Each `Op` is applied inside the writer's batch transaction: it reads and
//! validates everything first and writes only when it will succeed, so a refused op
//! leaves nothing half-written in the batch it shares with others.

use std::collections::{BTreeMap, HashMap};

use super::engine::Value as IVec;
use super::engine::{Db, Error as EngineError, KvEngine, KvTree, Tree, TreeWrites};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::Arc;

mod accounts;
mod community;
mod desk;
pub mod files;
mod mail;
mod moderation;
mod posts;
mod reads;
mod spaces;

pub use accounts::{
    CreateUser, EraseAccount, MarkInitialized, PutToken, RevokeToken, SetAvatar, SetPassword, Suspend, TouchToken,
    UpdateUser,
};
pub use community::{Approve, CreateInvite, Reject, RevokeInvite, SetCommunity, COMMUNITY};
pub use desk::{
    Claim, ExpireClaim, PutConcept, Release, RenameRoom, RequestTranslation, SetPairs, Translate, TranslateTitle,
};
pub use files::{CreateFile, DescribeFile, DropFiles, SetFileText, TranslateFile};
pub use mail::{MailDone, MailResult, QueueMail, SetEmail, SetEmailSettings, UseEmailToken};
pub use moderation::{Flag, Hide, Restore};
pub use posts::{CreatePost, DeletePost, EditPost, React, SetLang};
pub use reads::{MarkNotificationsRead, MarkRead, SetSpaceWatch, SetWatch};
pub use spaces::{AddMember, AnswerJoin, CreateSpace, Pin, RemoveMember, RequestJoin, SetCoordinators, UpdateSpace};

use super::change::Change;
use super::ids::{FromPlace, Ids};
use super::keys;
use super::log::{event_frame, event_frame_of, post_json, PostJson, StoredEvent};
use super::mirror::{LangChange, MirrorWrite, Mirrored};
use super::nonces::{self, NonceIndex};
use super::refusal::Refusal;
use super::runs;
use super::{decode, fresh_post, post_record, NonceRecord, PostRecord, StoredNonce, UserRecord};
use crate::error::StoreError;
use crate::model::{
    EventKind, JoinRequest, Lang, LangPair, LangSource, Notification, NotificationId, NotificationKind, Post, PostId,
    PostPolicy, Profile, Revision, Role, Room, RoomId, Space, SpaceId, SpaceKind, TitleTranslation, Translation, User,
    UserId, Visibility,
};

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

/// A write: one variant per operation, each a struct of its area's file (its answer:
/// `answer.rs`).
#[derive(Clone, Debug)]
pub enum Op {
    CreateUser(CreateUser),
    UpdateUser(UpdateUser),
    PutToken(PutToken),
    RevokeToken(RevokeToken),
    CreateSpace(CreateSpace),
    AddMember(AddMember),
    CreatePost(CreatePost),
    EditPost(EditPost),
    DeletePost(DeletePost),
    SetLang(SetLang),
    SetPairs(SetPairs),
    Claim(Claim),
    Release(Release),
    Translate(Translate),
    React(React),
    MarkRead(MarkRead),
    ExpireClaim(ExpireClaim),
    MarkNotificationsRead(MarkNotificationsRead),
    RemoveMember(RemoveMember),
    SetCoordinators(SetCoordinators),
    Pin(Pin),
    Flag(Flag),
    Hide(Hide),
    Restore(Restore),
    TouchToken(TouchToken),
    SetPassword(SetPassword),
    Suspend(Suspend),
    PutConcept(PutConcept),
    MarkInitialized(MarkInitialized),
    SetCommunity(SetCommunity),
    CreateInvite(CreateInvite),
    RevokeInvite(RevokeInvite),
    Approve(Approve),
    Reject(Reject),
    EraseAccount(EraseAccount),
    UpdateSpace(UpdateSpace),
    SetWatch(SetWatch),
    SetSpaceWatch(SetSpaceWatch),
    RequestJoin(RequestJoin),
    AnswerJoin(AnswerJoin),
    CreateFile(CreateFile),
    SetFileText(SetFileText),
    DropFiles(DropFiles),
    DescribeFile(DescribeFile),
    SetAvatar(SetAvatar),
    TranslateFile(TranslateFile),
    SetEmail(SetEmail),
    UseEmailToken(UseEmailToken),
    MailDone(MailDone),
    SetEmailSettings(SetEmailSettings),
    QueueMail(QueueMail),
    RequestTranslation(RequestTranslation),
    TranslateTitle(TranslateTitle),
    RenameRoom(RenameRoom),
}

/// Who moderates, why, and the flags the action settles (listed by the service: a
/// transaction cannot scan).
#[derive(Clone, Debug)]
pub struct Moderation {
    pub moderator: UserId,
    pub reason: Option<String>,
    pub flaggers: Vec<UserId>,
}

/// An item of the translators' queue: `post` needs a translation from `from` into `to`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueueRecord {
    pub post: PostId,
    pub room: RoomId,
    pub space: SpaceId,
    pub from: Lang,
    pub to: Lang,
}

/// What the `queue` tree holds for a post: the languages it still needs a translation
/// into, in the community's order (one record per post, not one per language: a post
/// in a community of four languages writes one key where it wrote three).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NeedsRecord {
    pub room: RoomId,
    pub space: SpaceId,
    pub from: Lang,
    pub to: Vec<Lang>,
}

impl NeedsRecord {
    /// The queue item into `to`, if the post needs that language.
    pub fn item(&self, post: PostId, to: Lang) -> Option<QueueRecord> {
        self.to.contains(&to).then_some(QueueRecord { post, room: self.room, space: self.space, from: self.from, to })
    }
}

/// A translator's lease on translating a post into a language.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub translator: UserId,
    pub expires_ms: i64,
}

/// One published translation's sentence pairs, for the translation memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryRecord {
    pub from: Lang,
    pub to: Lang,
    pub post: PostId,
    pub space: SpaceId,
    /// (source, target) sentences.
    pub pairs: Vec<(String, String)>,
}

/// How long one translation waited, for coverage.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimeRecord {
    pub space: SpaceId,
    pub waited_ms: i64,
    /// Who published it (the desk's recognition page counts these).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translator: Option<UserId>,
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
    /// An event about an existing post: its seq, and the post as it left it.
    Event {
        seq: u64,
        post: Post,
    },
    Claimed {
        expires_ms: i64,
    },
    /// The read marker after a `MarkRead`.
    Read {
        seq: u64,
    },
    JoinRequest(JoinRequest),
    File(crate::model::File),
    Done,
}

/// The batch's view of the trees, by name (same order as `Trees::all`): each tree's
/// writes so far over what sled holds, what is added to sled's id counter for a new id
/// (`Store::open` reckons it; ids are never 0: `Store::open` takes the counter's 0).
///
/// The ops run against this, outside any sled transaction; the writer then commits the
/// batch's writes in one short transaction (`Tx::commit`). Reads go to sled directly,
/// which is consistent because the writer is the only one writing: every earlier batch
/// is in sled already. Why not run the ops inside sled's transaction: once sled 0.34 has
/// run a transaction, it holds one process-wide lock for writing from the transaction's
/// start to its commit, while every other sled call (the flush, the search indexer,
/// replays on the runtime) waits; the ops' reads and JSON were about 40% of that time.
pub(super) struct Tx<'a> {
    trees: Vec<Overlay<'a>>,
    /// For sled's id counter.
    db: &'a Db,
    id_offset: u64,
    /// Places and ids (`ids`): every key and run holds places.
    pub(super) ids: Ids,
    /// Spaces' post policies read so far in the batch: every new post's queue record
    /// needs its space's, and most of a batch's posts share a few spaces, so the space is
    /// decoded once a batch rather than once a post. Not used for a space the batch wrote.
    policies: RefCell<HashMap<SpaceId, (PostPolicy, bool)>>,
    /// Rooms the batch read or wrote, decoded, and whether it wrote them. Every post
    /// reads its room and writes it back (its head, its count); a batch's posts mostly
    /// share a few rooms, so a room is decoded at most once a batch and encoded once, in
    /// `into_writes`. All room reads and writes of the ops go through `room` and
    /// `put_room`.
    rooms_seen: RefCell<HashMap<RoomId, (Room, bool)>>,
    /// The events the batch appends, by room and seq: written as runs (`runs`), a few
    /// keys a room instead of one an event, in `into_writes`. All event reads and writes
    /// of the ops go through `event`, `append_event` and `rewrite_event`.
    new_events: RefCell<BTreeMap<(u64, u64), Vec<u8>>>,
    /// The posts the batch creates, by room and seq: their `room_posts` entries, written
    /// as runs too.
    new_room_posts: RefCell<BTreeMap<(u64, u64), u64>>,
    /// The posts the batch creates, by id: where each one's creation event is (room,
    /// seq), its author and its nonce, written as runs in `fresh_posts`.
    new_fresh: RefCell<BTreeMap<u64, (u64, u64, u64, String)>>,
    /// The nonces of the runs not folded into `nonces` yet (the applying thread's).
    nonce_index: &'a NonceIndex,
    /// The queue records of the posts the batch creates, by `queue` key: written as runs
    /// in `fresh_queue`. All queue reads and writes of the ops go through `queue_get`,
    /// `queue_put` and `queue_remove`.
    new_queue: RefCell<BTreeMap<(u8, u64), Vec<u8>>>,
}

/// One tree as the batch sees it.
pub(super) struct Overlay<'a> {
    tree: &'a Tree,
    /// Writes of the batch so far, by key: the new value, or `None` for removed.
    writes: RefCell<BTreeMap<IVec, Option<IVec>>>,
}

impl Overlay<'_> {
    pub fn get<K: AsRef<[u8]>>(&self, key: K) -> Result<Option<IVec>, EngineError> {
        if let Some(written) = self.writes.borrow().get(key.as_ref()) {
            return Ok(written.clone());
        }
        self.tree.get(key)
    }

    /// Sets `key`. Unlike sled's `insert` it does not return what the key held, which
    /// would cost a read of sled for every write; `get` first when that is needed.
    pub fn insert<K: AsRef<[u8]>, V: Into<IVec>>(&self, key: K, value: V) -> Result<(), EngineError> {
        self.writes.borrow_mut().insert(IVec::from(key.as_ref()), Some(value.into()));
        Ok(())
    }

    /// Removes `key`, returning what it held.
    pub fn remove<K: AsRef<[u8]>>(&self, key: K) -> Result<Option<IVec>, EngineError> {
        let old = self.get(key.as_ref())?;
        self.writes.borrow_mut().insert(IVec::from(key.as_ref()), None);
        Ok(old)
    }
}

/// A batch's writes, tree by tree (indexes as in `Trees::all`), ready to commit.
pub(super) struct Writes(Vec<TreeWrites>);

/// The trees whose writes also go to the in-memory copy (`mirror`), by index.
const MIRRORED: [(usize, Mirrored); 3] = [(4, Mirrored::Spaces), (6, Mirrored::Members), (7, Mirrored::Rooms)];

impl<'a> Tx<'a> {
    pub fn new(db: &'a Db, trees: &'a [Tree], (id_offset, ids): (u64, Ids), nonce_index: &'a NonceIndex) -> Self {
        let trees = trees.iter().map(|tree| Overlay { tree, writes: RefCell::new(BTreeMap::new()) }).collect();
        Tx {
            trees,
            db,
            id_offset,
            ids,
            policies: RefCell::new(HashMap::new()),
            rooms_seen: RefCell::new(HashMap::new()),
            new_events: RefCell::new(BTreeMap::new()),
            new_room_posts: RefCell::new(BTreeMap::new()),
            new_fresh: RefCell::new(BTreeMap::new()),
            nonce_index,
            new_queue: RefCell::new(BTreeMap::new()),
        }
    }

    /// Where the first post of `(author, nonce)` is, if there was one: in `nonces` (a
    /// folded nonce, or a new thread's), or else among the posts
    /// of the runs not folded yet (the index's candidates) and of the batch.
    fn nonce_seen(&self, author: u64, nonce: &str, h: u64, new: &[(u64, u64)]) -> Result<Option<StoredNonce>, Fatal> {
        if let Some(stored) = get::<StoredNonce>(self.nonces(), "nonces", &keys::id_and(author, nonce.as_bytes()))? {
            return Ok(Some(stored));
        }
        let same = |room: u64, seq: u64, a: u64, n: &str| {
            (a == author && n == nonce).then_some(StoredNonce { event: (self.ids.at(room), seq), room: None })
        };
        for &(_, id) in new.iter().filter(|(x, _)| *x == h) {
            if let Some((room, seq, a, n)) = self.new_fresh.borrow().get(&id) {
                if let Some(found) = same(*room, *seq, *a, n) {
                    return Ok(Some(found));
                }
            }
        }
        for id in self.nonce_index.candidates(h) {
            if let Some(p) = runs::fresh_entry(self.fresh().tree, id)? {
                if let Some(found) = same(p.room, p.seq, p.author, &p.nonce) {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }

    /// The `fresh_queue` run that may hold `key`'s record, as the batch sees it (a run
    /// the batch rewrote keeps its key; one it emptied is gone).
    fn queue_run(&self, key: &[u8; 9]) -> Result<Option<(IVec, IVec)>, StoreError> {
        let fresh = self.fresh_queue();
        let Some((run_key, value)) = runs::queue_entry_for(fresh.tree, key)? else { return Ok(None) };
        let value = match fresh.writes.borrow().get(&run_key) {
            Some(Some(written)) => written.clone(),
            Some(None) => return Ok(None),
            None => value,
        };
        Ok(Some((run_key, value)))
    }

    /// A post's queue record (`NeedsRecord` JSON) under `key`, as the batch sees it: in
    /// `queue`, among the batch's new posts, or in a `fresh_queue` run. A record is in
    /// one of the three at most.
    fn queue_get(&self, key: &[u8; 9]) -> Result<Option<IVec>, StoreError> {
        if let Some(v) = self.queue().get(key)? {
            return Ok(Some(v));
        }
        let post = keys::id_value(&key[1..]).unwrap_or(0);
        if let Some(v) = self.new_queue.borrow().get(&(key[0], post)) {
            return Ok(Some(IVec::from(v.as_slice())));
        }
        match self.queue_run(key)? {
            Some((run_key, value)) => runs::queued_in(&run_key, &value, post),
            None => Ok(None),
        }
    }

    /// Removes the record under `key`, wherever it is; returns it.
    fn queue_remove(&self, key: &[u8; 9]) -> Result<Option<IVec>, StoreError> {
        if let Some(v) = self.queue().get(key)? {
            self.queue().remove(key)?;
            return Ok(Some(v));
        }
        let post = keys::id_value(&key[1..]).unwrap_or(0);
        if let Some(v) = self.new_queue.borrow_mut().remove(&(key[0], post)) {
            return Ok(Some(IVec::from(v)));
        }
        let Some((run_key, value)) = self.queue_run(key)? else { return Ok(None) };
        let Some(old) = runs::queued_in(&run_key, &value, post)? else { return Ok(None) };
        match runs::queue_without(&run_key, &value, post)? {
            Some(rest) => self.fresh_queue().insert(run_key, rest)?,
            None => {
                self.fresh_queue().remove(run_key)?;
            }
        }
        Ok(Some(old))
    }

    /// Sets the record under `key`: a new post's goes into the batch's runs; any other
    /// leaves its run, if it was in one, for an entry of its own in `queue`.
    fn queue_put(&self, key: &[u8; 9], record: Vec<u8>, new_post: bool) -> Result<(), StoreError> {
        if new_post {
            let post = keys::id_value(&key[1..]).unwrap_or(0);
            self.new_queue.borrow_mut().insert((key[0], post), record);
            return Ok(());
        }
        self.queue_remove(key)?;
        self.queue().insert(key, record)?;
        Ok(())
    }

    /// Event `seq` of `room` as the batch sees it.
    fn event(&self, room: u64, seq: u64) -> Result<Option<IVec>, StoreError> {
        if let Some(frame) = self.new_events.borrow().get(&(room, seq)) {
            return Ok(Some(IVec::from(frame.as_slice())));
        }
        let events = self.events();
        let Some((key, value)) = runs::entry_for(events.tree, room, seq)? else { return Ok(None) };
        // A run the batch rewrote (redaction) keeps its key.
        let value = match events.writes.borrow().get(&key) {
            Some(Some(written)) => written.clone(),
            Some(None) => return Ok(None),
            None => value,
        };
        runs::frame_in(&key, &value, seq)
    }

    /// Post `id`'s `posts` value as the batch sees it: its whole record, or where its
    /// creation event is (`fresh_post`), from `posts`, the batch's new posts or
    /// `fresh_posts`' runs (never rewritten: a whole record written later wins).
    fn post_bytes(&self, id: u64) -> Result<Option<IVec>, StoreError> {
        if let Some(v) = self.posts().get(id.to_be_bytes())? {
            return Ok(Some(v));
        }
        if let Some((room, seq, _, nonce)) = self.new_fresh.borrow().get(&id) {
            return Ok(Some(IVec::from(fresh_post(*room, *seq, nonce))));
        }
        Ok(runs::fresh_in(self.fresh().tree, id)?.map(IVec::from))
    }

    /// The event named by its key, `keys::pair(room, seq)`.
    fn event_by_key(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        let bad = || StoreError::Corrupt { tree: "events", detail: "short key".into() };
        let room = key.get(..8).and_then(keys::id_value).ok_or_else(bad)?;
        self.event(room, keys::second(key).ok_or_else(bad)?)
    }

    /// Appends a new event (its seq past the room's log so far).
    fn append_event(&self, room: u64, seq: u64, frame: Vec<u8>) {
        self.new_events.borrow_mut().insert((room, seq), frame);
    }

    /// Replaces the frame of an existing event; nothing if there is no such event.
    fn rewrite_event(&self, room: u64, seq: u64, frame: Vec<u8>) -> Result<(), StoreError> {
        if let Some(new) = self.new_events.borrow_mut().get_mut(&(room, seq)) {
            *new = frame;
            return Ok(());
        }
        let events = self.events();
        let Some((key, value)) = runs::entry_for(events.tree, room, seq)? else { return Ok(()) };
        let value = match events.writes.borrow().get(&key) {
            Some(Some(written)) => written.clone(),
            Some(None) => return Ok(()),
            None => value,
        };
        if runs::frame_in(&key, &value, seq)?.is_none() {
            return Ok(());
        }
        let new = runs::replace(&key, &value, seq, &frame)?;
        events.insert(key, new)?;
        Ok(())
    }

    /// What the batch wrote, and of it what the mirrored trees take.
    pub fn into_writes(self) -> Result<(Writes, Vec<MirrorWrite>), Fatal> {
        for (id, (room, written)) in self.rooms_seen.take() {
            if written {
                put(self.rooms(), &self.ids.key(id), &room)?;
            }
        }
        // The new posts' places, their rooms' `room_posts` and their queue records, as runs.
        let new_fresh = self.new_fresh.take();
        let fresh: Vec<runs::Fresh<'_>> = new_fresh
            .iter()
            .map(|(&id, (room, seq, author, nonce))| runs::Fresh {
                id,
                room: *room,
                seq: *seq,
                author: *author,
                nonce: nonce.as_str(),
            })
            .collect();
        for (key, value) in runs::fresh_runs(&fresh) {
            self.fresh().insert(key, value)?;
        }
        let new_room_posts = self.new_room_posts.take();
        let mut rooms = new_room_posts.iter().peekable();
        while let Some((&(room, seq), &id)) = rooms.next() {
            let mut posts = vec![(seq, id)];
            while let Some((&(_, seq), &id)) = rooms.next_if(|((r, _), _)| *r == room) {
                posts.push((seq, id));
            }
            for (key, value) in runs::post_runs(room, &posts) {
                self.room_posts().insert(key, value)?;
            }
        }
        let new_queue = self.new_queue.take();
        let mut items = new_queue.iter().peekable();
        while let Some((&(priority, id), record)) = items.next() {
            let mut queued: Vec<runs::Queued<'_>> = vec![(id, record.as_slice())];
            while let Some((&(_, id), record)) = items.next_if(|((p, _), _)| *p == priority) {
                queued.push((id, record.as_slice()));
            }
            for (key, value) in runs::queue_runs(priority, &queued) {
                self.fresh_queue().insert(key, value)?;
            }
        }
        // Each room's new events as runs of consecutive seqs.
        let new_events = self.new_events.take();
        let mut pending: Vec<(u64, u64, &[u8])> = Vec::new();
        let flush = |pending: &mut Vec<(u64, u64, &[u8])>| -> Result<(), EngineError> {
            if let Some(&(room, first, _)) = pending.first() {
                let frames: Vec<&[u8]> = pending.iter().map(|(_, _, f)| *f).collect();
                for (key, value) in runs::runs(room, first, &frames) {
                    self.events().insert(key, value)?;
                }
            }
            pending.clear();
            Ok(())
        };
        for (&(room, seq), frame) in &new_events {
            let follows = pending.last().is_some_and(|&(r, s, _)| r == room && s.checked_add(1) == Some(seq));
            if !follows {
                flush(&mut pending)?;
            }
            pending.push((room, seq, frame.as_slice()));
        }
        flush(&mut pending)?;
        let writes: Vec<_> = self.trees.into_iter().map(|o| o.writes.into_inner()).collect();
        let mut mirror = Vec::new();
        for (i, tree) in MIRRORED {
            if let Some(w) = writes.get(i) {
                mirror.extend(w.iter().map(|(k, v)| MirrorWrite { tree, key: k.clone(), value: v.clone() }));
            }
        }
        Ok((Writes(writes), mirror))
    }
}

impl Writes {
    /// Writes everything in one commit of the engine: after a crash, all of it or none.
    pub fn commit(&self, db: &Db, trees: &[Tree]) -> Result<(), EngineError> {
        let writes: Vec<(&Tree, &TreeWrites)> = trees.iter().zip(&self.0).collect();
        db.commit(&writes)
    }
}

/// What `get` and `put` read and write.
pub(super) trait View {
    fn read(&self, key: &[u8]) -> Result<Option<IVec>, EngineError>;
    fn write(&self, key: &[u8], value: Vec<u8>) -> Result<(), EngineError>;
}

impl View for &Overlay<'_> {
    fn read(&self, key: &[u8]) -> Result<Option<IVec>, EngineError> {
        self.get(key)
    }
    fn write(&self, key: &[u8], value: Vec<u8>) -> Result<(), EngineError> {
        self.insert(key, value)
    }
}

impl<'a> Tx<'a> {
    /// A space's post policy, and whether it is a chat (direct conversations are), as the
    /// batch sees it; `None` if there is no such space.
    fn space_traits(&self, space: SpaceId) -> Result<Option<(PostPolicy, bool)>, Fatal> {
        let key = self.ids.key(space);
        let written = self.spaces().writes.borrow().contains_key(&key[..]);
        if !written {
            if let Some(p) = self.policies.borrow().get(&space) {
                return Ok(Some(*p));
            }
        }
        let Some(s) = get::<Space>(self.spaces(), "spaces", &key)? else { return Ok(None) };
        let traits = (s.post_policy, s.kind == crate::model::SpaceKind::Chat);
        if !written {
            self.policies.borrow_mut().insert(space, traits);
        }
        Ok(Some(traits))
    }

    /// The room as the batch sees it.
    fn room(&self, id: RoomId) -> Result<Option<Room>, Fatal> {
        if let Some((room, _)) = self.rooms_seen.borrow().get(&id) {
            return Ok(Some(room.clone()));
        }
        let Some(room) = get::<Room>(self.rooms(), "rooms", &self.ids.key(id))? else { return Ok(None) };
        self.rooms_seen.borrow_mut().insert(id, (room.clone(), false));
        Ok(Some(room))
    }

    /// Writes the room (encoded once, when the batch ends).
    fn put_room(&self, room: &Room) {
        self.rooms_seen.borrow_mut().insert(room.id, (room.clone(), true));
    }

    fn meta(&self) -> &Overlay<'a> {
        &self.trees[0]
    }
    fn users(&self) -> &Overlay<'a> {
        &self.trees[1]
    }
    fn handles(&self) -> &Overlay<'a> {
        &self.trees[2]
    }
    fn tokens(&self) -> &Overlay<'a> {
        &self.trees[3]
    }
    fn spaces(&self) -> &Overlay<'a> {
        &self.trees[4]
    }
    fn slugs(&self) -> &Overlay<'a> {
        &self.trees[5]
    }
    fn members(&self) -> &Overlay<'a> {
        &self.trees[6]
    }
    fn rooms(&self) -> &Overlay<'a> {
        &self.trees[7]
    }
    fn space_rooms(&self) -> &Overlay<'a> {
        &self.trees[8]
    }
    fn events(&self) -> &Overlay<'a> {
        &self.trees[9]
    }
    fn posts(&self) -> &Overlay<'a> {
        &self.trees[10]
    }
    fn room_posts(&self) -> &Overlay<'a> {
        &self.trees[11]
    }
    fn nonces(&self) -> &Overlay<'a> {
        &self.trees[12]
    }
    fn queue(&self) -> &Overlay<'a> {
        &self.trees[13]
    }
    fn claims(&self) -> &Overlay<'a> {
        &self.trees[14]
    }
    fn translated(&self) -> &Overlay<'a> {
        &self.trees[15]
    }
    fn reads(&self) -> &Overlay<'a> {
        &self.trees[16]
    }
    fn changes(&self) -> &Overlay<'a> {
        &self.trees[17]
    }
    fn glossary(&self) -> &Overlay<'a> {
        &self.trees[18]
    }
    fn notifications(&self) -> &Overlay<'a> {
        &self.trees[19]
    }
    fn flags(&self) -> &Overlay<'a> {
        &self.trees[20]
    }
    fn hidden(&self) -> &Overlay<'a> {
        &self.trees[21]
    }
    fn modlog(&self) -> &Overlay<'a> {
        &self.trees[22]
    }
    fn fresh(&self) -> &Overlay<'a> {
        &self.trees[23]
    }
    fn fresh_queue(&self) -> &Overlay<'a> {
        &self.trees[24]
    }
    fn invites(&self) -> &Overlay<'a> {
        &self.trees[25]
    }
    fn watches(&self) -> &Overlay<'a> {
        &self.trees[26]
    }
    fn join_requests(&self) -> &Overlay<'a> {
        &self.trees[27]
    }
    fn files(&self) -> &Overlay<'a> {
        &self.trees[28]
    }
    fn file_texts(&self) -> &Overlay<'a> {
        &self.trees[29]
    }
    fn space_files(&self) -> &Overlay<'a> {
        &self.trees[30]
    }
    fn outbox(&self) -> &Overlay<'a> {
        &self.trees[31]
    }
    fn email_tokens(&self) -> &Overlay<'a> {
        &self.trees[32]
    }
    fn mail_due(&self) -> &Overlay<'a> {
        &self.trees[33]
    }
    fn translation_requests(&self) -> &Overlay<'a> {
        &self.trees[34]
    }
    fn title_queue(&self) -> &Overlay<'a> {
        &self.trees[35]
    }
    fn memory(&self) -> &Overlay<'a> {
        &self.trees[36]
    }
}

/// What every op of a batch shares.
pub(super) struct Ctx<'a> {
    pub now: String,
    pub now_ms: i64,
    pub languages: &'a [Lang],
    pub lease_ms: i64,
    pub chat_min_words: usize,
}

/// A failure that aborts the whole batch (storage, or a corrupt record).
#[derive(Debug)]
pub(super) enum Fatal {
    Storage(sled::Error),
    Store(StoreError),
}

impl From<sled::Error> for Fatal {
    fn from(e: sled::Error) -> Self {
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
    /// What the batch changed, in order, for `service::publish` once it is durable.
    pub changes: Vec<Change>,
    /// The newest seq of every room written.
    pub heads: BTreeMap<RoomId, u64>,
    /// The newest change seq written (posts changed, for the search index).
    pub change_head: Option<u64>,
    /// Posts changed by the batch so far: one change record names them all.
    changed: Vec<PostId>,
    /// The batch's writes to the mirrored trees, for the in-memory copy once durable.
    pub mirror: Vec<MirrorWrite>,
    /// What the batch did to posts' languages, in order, for the rooms' recent posts
    /// that the mirror keeps.
    pub langs: Vec<LangChange>,
    /// Rooms created or changed, for one `room_created` / `room_updated` each per batch.
    rooms_created: BTreeMap<RoomId, Room>,
    rooms_updated: BTreeMap<RoomId, Room>,
    /// The batch's new posts whose nonces are only in their runs: (hash, post id), for
    /// the applying thread's index once the batch is committed.
    pub new_nonces: Vec<(u64, u64)>,
}

impl Effects {
    /// Appends the space-level announcements, once per room, after the room events.
    pub fn finish(&mut self) {
        for (id, room) in std::mem::take(&mut self.rooms_created) {
            let room = self.rooms_updated.remove(&id).unwrap_or(room);
            self.changes.push(Change::RoomCreated(room));
        }
        for (_, room) in std::mem::take(&mut self.rooms_updated) {
            self.changes.push(Change::RoomUpdated(room));
        }
    }
}

type OpResult = Result<Result<Outcome, Refusal>, Fatal>;

fn get<T: serde::de::DeserializeOwned>(tree: impl View, name: &'static str, key: &[u8]) -> Result<Option<T>, Fatal> {
    match tree.read(key)? {
        Some(v) => Ok(Some(decode(name, &v)?)),
        None => Ok(None),
    }
}

fn put<T: serde::Serialize>(tree: impl View, key: &[u8], value: &T) -> Result<(), Fatal> {
    let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt { tree: "encode", detail: e.to_string() })?;
    tree.write(key, bytes)?;
    Ok(())
}

/// A new place from the counter (see `ids`).
fn new_place(tx: &Tx) -> Result<u64, Fatal> {
    Ok(tx.db.next_id().map_err(StoreError::Sled)?.saturating_add(tx.id_offset))
}

/// A new, empty room of `space`: a forum thread when it has a title, else a chat's room.
fn new_room(tx: &Tx, space: SpaceId, title: Option<String>, now: &str) -> Result<Room, Fatal> {
    Ok(Room {
        id: new_id::<RoomId>(tx)?,
        space,
        title,
        created_at: now.to_owned(),
        last_seq: 0,
        post_count: 0,
        last_activity_at: now.to_owned(),
        pinned: false,
        unread: None,
        read_seq: None,
        watch: None,
        title_lang: None,
        title_translations: BTreeMap::new(),
    })
}

/// A new id: a new place, permuted.
fn new_id<I: FromPlace>(tx: &Tx) -> Result<I, Fatal> {
    Ok(tx.ids.at(new_place(tx)?))
}

/// Applies one op. `Ok(Err(_))` is a refusal that wrote nothing.
/// Earlier versions kept per post: the newest ones, so that edits cannot grow a post's
/// record without bound.
pub const MAX_HISTORY: usize = 50;

pub(super) fn apply(tx: &Tx, op: &Op, ctx: &Ctx, fx: &mut Effects) -> OpResult {
    match op {
        Op::CreateUser(op) => accounts::create_user(tx, ctx, op),
        Op::UpdateUser(UpdateUser { id, display_name, languages, roles, profile }) => {
            accounts::update_user(tx, id, display_name, languages, roles, profile)
        }
        Op::PutToken(PutToken { hash, user }) => accounts::put_token(tx, ctx, hash, user),
        Op::TouchToken(TouchToken { hash, user }) => accounts::touch_token(tx, ctx, hash, user),
        Op::SetPassword(SetPassword { user, password_hash, keep, others }) => {
            accounts::set_password(tx, ctx, fx, user, password_hash, keep, others)
        }
        Op::RevokeToken(RevokeToken { hash }) => accounts::revoke_token(tx, fx, hash),
        Op::CreateSpace(op) => spaces::create_space(tx, ctx, op),
        Op::AddMember(AddMember { space, user }) => spaces::add_member(tx, space, user),
        Op::RemoveMember(RemoveMember { space, user }) => spaces::remove_member(tx, fx, space, user),
        Op::SetCoordinators(SetCoordinators { space, users }) => spaces::set_coordinators(tx, space, users),
        Op::Pin(Pin { room, pinned, posts }) => spaces::pin(tx, ctx, fx, room, pinned, posts),
        Op::CreatePost(op) => posts::create_post(tx, ctx, fx, op),
        Op::EditPost(op) => posts::edit_post(tx, ctx, fx, op),
        Op::DeletePost(DeletePost { post, moderation }) => posts::delete_post(tx, ctx, fx, post, moderation),
        Op::SetLang(SetLang { post, lang }) => posts::set_lang(tx, ctx, fx, post, *lang),
        Op::SetPairs(SetPairs { user, pairs, paused }) => desk::set_pairs(tx, user, pairs, *paused),
        Op::Claim(Claim { post, lang, translator }) => desk::claim(tx, ctx, post, *lang, translator),
        Op::Release(Release { post, lang, translator }) => desk::release(tx, post, *lang, translator),
        Op::React(React { post, user, emoji, add }) => posts::react(tx, ctx, fx, post, user, emoji, add),
        Op::MarkRead(MarkRead { user, room, seq }) => reads::mark_read(tx, fx, user, room, seq),
        Op::ExpireClaim(ExpireClaim { post, lang }) => desk::expire_claim(tx, ctx, fx, post, *lang),
        Op::Translate(op) => desk::translate(tx, ctx, fx, op),
        Op::MarkNotificationsRead(MarkNotificationsRead { user, ids, until }) => {
            reads::mark_notifications_read(tx, fx, user, ids, until)
        }
        Op::Flag(Flag { post, user, reason }) => moderation::flag(tx, ctx, post, user, reason),
        Op::Hide(Hide { post, moderation }) => moderation::hide(tx, ctx, fx, post, moderation),
        Op::Restore(Restore { post, moderation }) => moderation::restore(tx, ctx, fx, post, moderation),
        Op::Suspend(Suspend { user, until_ms, tokens, moderation }) => {
            accounts::suspend(tx, ctx, fx, user, until_ms, tokens, moderation)
        }
        Op::PutConcept(PutConcept { concept }) => desk::put_concept(tx, concept),
        Op::MarkInitialized(MarkInitialized) => accounts::mark_initialized(tx, ctx),
        Op::SetCommunity(op) => community::set_community(tx, op),
        Op::CreateInvite(op) => community::create_invite(tx, ctx, op),
        Op::RevokeInvite(op) => community::revoke_invite(tx, op),
        Op::Approve(op) => community::approve(tx, op),
        Op::Reject(op) => community::reject(tx, op),
        Op::EraseAccount(op) => accounts::erase_account(tx, fx, op),
        Op::UpdateSpace(op) => spaces::update_space(tx, fx, op),
        Op::SetWatch(op) => reads::set_watch(tx, op),
        Op::SetSpaceWatch(op) => reads::set_space_watch(tx, op),
        Op::RequestJoin(op) => spaces::request_join(tx, ctx, op),
        Op::AnswerJoin(op) => spaces::answer_join(tx, op),
        Op::CreateFile(op) => files::create_file(tx, ctx, op),
        Op::SetFileText(op) => files::set_file_text(tx, fx, op),
        Op::DropFiles(op) => files::drop_files(tx, op),
        Op::DescribeFile(op) => files::describe_file(tx, fx, op),
        Op::SetAvatar(op) => accounts::set_avatar(tx, op),
        Op::TranslateFile(op) => files::translate_file(tx, ctx, fx, op),
        Op::SetEmail(op) => mail::set_email(tx, ctx, op),
        Op::UseEmailToken(op) => mail::use_email_token(tx, ctx, fx, op),
        Op::MailDone(op) => mail::mail_done(tx, op),
        Op::SetEmailSettings(op) => mail::set_email_settings(tx, op),
        Op::QueueMail(op) => mail::queue_mail(tx, ctx, op),
        Op::RequestTranslation(op) => desk::request_translation(tx, ctx, fx, op),
        Op::TranslateTitle(op) => desk::translate_title(tx, ctx, fx, op),
        Op::RenameRoom(op) => desk::rename_room(tx, ctx, fx, op),
    }
}

/// Rewrites the post's earlier events and its first ack to the post as it is now (deleted
/// or hidden), so that no replay or retry shows its text again.
fn redact(tx: &Tx, rec: &PostRecord) -> Result<(), Fatal> {
    for &s in &rec.seqs {
        if let Some(frame) = tx.event(tx.ids.of(rec.post.room), s)? {
            let mut ev: StoredEvent = decode("events", &frame)?;
            ev.post = rec.post.clone();
            let text = event_frame(ev.room, ev.seq, ev.kind, &ev.post).map_err(encoding)?;
            tx.rewrite_event(tx.ids.of(rec.post.room), s, text.into_bytes())?;
        }
    }
    // The nonce names the creation event's place, so a retry reads the event just
    // rewritten.
    Ok(())
}

/// What one fold did: the key of the last run folded, and the (hash, post id) of the
/// nonces it copied into `nonces`.
pub(super) type Folded = (u64, Vec<(u64, u64)>);

/// Copies the nonces of the `fresh_posts` runs past `folded` into `nonces`, run by run
/// in place order, until at least `at_least` posts are done, and moves [`nonces::FOLDED`] to the last run
/// done. A nonce already in `nonces` (a new thread's) is left as it is. Returns that
/// run's key and the (hash, post id) of the nonces folded; `None` when nothing is left.
pub(super) fn fold_nonces(tx: &Tx, folded: u64, at_least: usize) -> Result<Option<Folded>, Fatal> {
    let mut done = Vec::new();
    let mut through = None;
    let mut count = 0;
    for item in tx.fresh().tree.range(folded.saturating_add(1).to_be_bytes()..) {
        let (k, v) = item?;
        let key = keys::id_value(&k).ok_or(StoreError::Corrupt { tree: "fresh_posts", detail: "bad key".into() })?;
        let posts = runs::fresh_entries(&k, &v)?;
        count += posts.len();
        for p in posts {
            let nonce_key = keys::id_and(p.author, p.nonce.as_bytes());
            if tx.nonces().get(&nonce_key)?.is_none() {
                let stored = StoredNonce { event: (tx.ids.at(p.room), p.seq), room: None };
                put(tx.nonces(), &nonce_key, &stored)?;
            }
            done.push((nonces::hash(p.author, p.nonce), p.id));
        }
        through = Some(key);
        if count >= at_least {
            break;
        }
    }
    let Some(through) = through else { return Ok(None) };
    tx.meta().insert(nonces::FOLDED, &through.to_be_bytes()[..])?;
    Ok(Some((through, done)))
}

/// The first ack for a nonce, from what the `nonces` tree holds.
fn first_ack(tx: &Tx, stored: StoredNonce) -> Result<NonceRecord, Fatal> {
    let StoredNonce { event: (room, seq), room: thread } = stored;
    match tx.event(tx.ids.of(room), seq)? {
        Some(frame) => {
            Ok(NonceRecord { post: decode::<StoredEvent>("events", &frame)?.post, room: thread, json: None })
        }
        None => Err(StoreError::Corrupt { tree: "nonces", detail: format!("no event {room}/{seq}") }.into()),
    }
}

/// Logs a moderation action and settles the flags it answers.
fn log_action(
    tx: &Tx,
    now: &str,
    m: &Moderation,
    action: &str,
    post: Option<PostId>,
    user: Option<UserId>,
    until: Option<String>,
) -> Result<(), Fatal> {
    let id = new_place(tx)?;
    let entry = crate::model::ModAction {
        id,
        at: now.to_owned(),
        moderator: m.moderator,
        action: action.to_owned(),
        post,
        user,
        reason: m.reason.clone(),
        until,
    };
    put(tx.modlog(), &id.to_be_bytes(), &entry)?;
    if let Some(p) = post {
        for u in &m.flaggers {
            tx.flags().remove(&keys::pair(tx.ids.of(p), tx.ids.of(u))[..])?;
        }
    }
    Ok(())
}

/// Writes the notifications of `post` to `targets` (the service's rules), each live on the
/// user's stream: never to its author, never to a non-member of a private space. Those of
/// members who get notices by email are also due for one (`mail_due`), a while later.
fn notify(
    tx: &Tx,
    ctx: &Ctx,
    fx: &mut Effects,
    post: &Post,
    space: SpaceId,
    targets: &[(UserId, NotificationKind)],
) -> Result<(), Fatal> {
    if targets.is_empty() {
        return Ok(());
    }
    let Some(s) = get::<Space>(tx.spaces(), "spaces", &tx.ids.key(space))? else { return Ok(()) };
    for &(user, kind) in targets {
        if user == post.author {
            continue;
        }
        if s.visibility == Visibility::Private
            && tx.members().get(&keys::pair(tx.ids.of(space), tx.ids.of(user))[..])?.is_none()
        {
            continue;
        }
        let n = Notification {
            id: new_id::<NotificationId>(tx)?,
            kind,
            post: post.id,
            room: post.room,
            space,
            from: post.author,
            created_at: ctx.now.clone(),
            read: false,
        };
        put(tx.notifications(), &keys::pair(tx.ids.of(user), tx.ids.of(n.id)), &n)?;
        let mails = get::<UserRecord>(tx.users(), "users", &tx.ids.key(user))?.is_some_and(|r| {
            r.email_verified && r.email_settings.notifications == crate::model::MailNotifications::Immediate
        });
        if mails {
            let mut key = [0u8; 24];
            key[..8].copy_from_slice(&u64::try_from(ctx.now_ms).unwrap_or(0).to_be_bytes());
            key[8..].copy_from_slice(&keys::pair(tx.ids.of(user), tx.ids.of(n.id)));
            tx.mail_due().write(&key, Vec::new())?;
        }
        fx.changes.push(Change::Notified { user, notification: n, post: post.clone() });
    }
    Ok(())
}

/// Notes that `post` changed; the batch's change record will name it.
fn record_change(fx: &mut Effects, post: PostId) {
    fx.changed.push(post);
}

/// Appends the batch's one record to the change feed (what the search index follows):
/// the ids of every post the batch changed, 8 bytes each, under the next change seq. One
/// record per batch, not per post: a key fewer for every post in the batch (sled's cost
/// per post is mostly its new keys). Records of one id, as earlier builds wrote them,
/// read the same way.
pub(super) fn write_changes(tx: &Tx, fx: &mut Effects) -> Result<(), Fatal> {
    if fx.changed.is_empty() {
        return Ok(());
    }
    let seq = tx.meta().get(CHANGE_SEQ)?.as_deref().and_then(keys::id_value).unwrap_or(0) + 1;
    tx.meta().insert(CHANGE_SEQ, &seq.to_be_bytes())?;
    let mut ids = Vec::with_capacity(fx.changed.len() * 8);
    for post in fx.changed.drain(..) {
        ids.extend_from_slice(&tx.ids.key(post));
    }
    tx.changes().insert(seq.to_be_bytes(), ids)?;
    fx.change_head = Some(seq);
    Ok(())
}

/// The `meta` key of the newest change seq.
pub(super) const CHANGE_SEQ: &str = "change_seq";

/// Kinds of reaction one post takes at most.
const MAX_REACTIONS: usize = 50;

/// Appends an event about an existing post to its room's log, saves the post, and
/// brings its queue items in line.
fn append(tx: &Tx, fx: &mut Effects, ctx: &Ctx, rec: &mut PostRecord, kind: EventKind) -> Result<(), Fatal> {
    let Some(mut room) = tx.room(rec.post.room)? else {
        return Err(StoreError::Corrupt { tree: "rooms", detail: format!("post {} has no room", rec.post.id) }.into());
    };
    room.last_seq += 1;
    room.last_activity_at = ctx.now.clone();
    rec.seqs.push(room.last_seq);
    tx.put_room(&room);
    write_event(tx, fx, &room, kind, &rec.post)?;
    put(tx.posts(), &tx.ids.key(rec.post.id), rec)?;
    requeue(tx, fx, ctx, &rec.post, &room, false, None)?;
    fx.rooms_updated.insert(room.id, room);
    Ok(())
}

fn room_space(tx: &Tx, room: RoomId) -> Result<SpaceId, Fatal> {
    match tx.room(room)? {
        Some(r) => Ok(r.space),
        None => Err(StoreError::Corrupt { tree: "rooms", detail: format!("no room {room}") }.into()),
    }
}

fn keys_lang_post(tx: &Tx, lang: Lang, post: PostId) -> Vec<u8> {
    let mut k = lang.bytes().to_vec();
    k.extend_from_slice(&tx.ids.key(post));
    k
}

/// Queue order inside a language: News-like spaces (where only moderators post) and
/// pinned threads first.
fn priority(policy: PostPolicy, pinned: bool) -> u8 {
    match policy {
        _ if pinned => 0,
        PostPolicy::Moderators => 0,
        PostPolicy::Members => 1,
    }
}

/// The `translation_requests` key of readers' requests for `post` in `lang`.
pub(super) fn request_key(ids: &Ids, post: PostId, lang: Lang) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[..8].copy_from_slice(&ids.key(post));
    k[8..].copy_from_slice(&lang.bytes());
    k
}

/// The `queue` key of a post's record: its priority, then its place (oldest first).
pub(super) fn queue_key(ids: &Ids, priority: u8, post: PostId) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = priority;
    k[1..].copy_from_slice(&ids.key(post));
    k
}

/// The queue item for translating `post` into `to`, if there is one.
fn queued(tx: &Tx, post: PostId, to: Lang) -> Result<Option<QueueRecord>, Fatal> {
    for p in [0u8, 1] {
        if let Some(bytes) = tx.queue_get(&queue_key(&tx.ids, p, post))? {
            return Ok(decode::<NeedsRecord>("queue", &bytes)?.item(post, to));
        }
    }
    Ok(None)
}

/// Makes the post's queue items match what it needs: a translation into every community
/// language but its own, missing or stale; none once deleted. Announces each change to
/// the translators of that language.
///
/// `room` is the post's room as the batch has it now.
/// `new_post`: the post is being created, so nothing of it is queued yet (a read saved).
/// `json`: the post already serialized, if the caller has it.
fn requeue(
    tx: &Tx,
    fx: &mut Effects,
    ctx: &Ctx,
    post: &Post,
    room: &Room,
    new_post: bool,
    json: Option<&PostJson>,
) -> Result<(), Fatal> {
    let space = room.space;
    let Some((policy, chat)) = tx.space_traits(space)? else {
        return Err(StoreError::Corrupt { tree: "spaces", detail: format!("no space {space}") }.into());
    };
    // A short chat post waits only for the languages readers asked for (and those go
    // first, with News).
    let asked = |to: &Lang| -> Result<bool, Fatal> {
        Ok(tx.translation_requests().get(&request_key(&tx.ids, post.id, *to)[..])?.is_some())
    };
    let short_chat = chat && post.body.split_whitespace().count() < ctx.chat_min_words;
    let mut requested = false;
    let mut wanted: Vec<Lang> = Vec::new();
    for to in ctx.languages {
        if post.deleted || post.hidden || *to == post.lang || post.translations.get(to).is_some_and(|t| !t.stale) {
            continue;
        }
        let asked = !new_post && asked(to)?;
        requested |= asked;
        if !short_chat || asked {
            wanted.push(*to);
        }
    }
    let key = queue_key(&tx.ids, if requested { 0 } else { priority(policy, room.pinned) }, post.id);
    let other = queue_key(&tx.ids, 1 - key[0], post.id);
    let present: Option<NeedsRecord> = match new_post {
        true => None,
        false => match tx.queue_get(&key)? {
            Some(v) => Some(decode("queue", &v)?),
            // Asked for since: the record moves to the front.
            None => match tx.queue_remove(&other)? {
                Some(v) => {
                    let moved: NeedsRecord = decode("queue", &v)?;
                    tx.queue_put(&key, v.to_vec(), false)?;
                    Some(moved)
                }
                None => None,
            },
        },
    };
    let mut queued = Vec::new();
    for to in ctx.languages {
        let needed = wanted.contains(to);
        let was = present.as_ref().filter(|n| n.to.contains(to));
        let removed = |fx: &mut Effects, from: Lang| {
            fx.changes.push(Change::Unqueued { post: post.id, lang: *to, space, from });
        };
        match (needed, was) {
            (true, Some(old)) if old.from == post.lang => {}
            (true, was) => {
                if let Some(old) = was {
                    removed(fx, old.from);
                }
                queued.push(*to);
            }
            (false, Some(old)) => {
                tx.claims().remove(&keys::id_and(tx.ids.of(post.id), &to.bytes())[..])?;
                removed(fx, old.from);
            }
            (false, None) => {}
        }
    }
    if !queued.is_empty() {
        let post_json = match json {
            Some(j) => j.clone(),
            None => post_json(post),
        };
        fx.changes.push(Change::Queued { post: post_json, room: post.room, space, from: post.lang, langs: queued });
    }
    let unchanged = present.as_ref().is_some_and(|n| n.to == wanted && n.from == post.lang);
    if wanted.is_empty() {
        if present.is_some() {
            tx.queue_remove(&key)?;
        }
    } else if !unchanged {
        let record = NeedsRecord { room: post.room, space, from: post.lang, to: wanted };
        tx.queue_put(&key, serde_json::to_vec(&record).map_err(encoding)?, new_post)?;
    }
    Ok(())
}

/// A post's record as the batch sees it (a fresh post's read from its creation event).
fn get_post(tx: &Tx, post: PostId) -> Result<Option<PostRecord>, Fatal> {
    match tx.post_bytes(tx.ids.of(post))? {
        Some(v) => Ok(Some(post_record(&v, |k| tx.event_by_key(k))?)),
        None => Ok(None),
    }
}

/// Appends the event with the room's current `last_seq` to its log, and queues it for
/// publication: serialized once, the same bytes stored and sent to every subscriber.
fn write_event(tx: &Tx, fx: &mut Effects, room: &Room, kind: EventKind, post: &Post) -> Result<(), Fatal> {
    let text = event_frame(room.id, room.last_seq, kind, post).map_err(encoding)?;
    write_event_text(tx, fx, room, kind, post, text)
}

/// A value that cannot be written as JSON: the batch fails, nothing of it is written.
fn encoding(e: serde_json::Error) -> Fatal {
    StoreError::Corrupt { tree: "encode", detail: e.to_string() }.into()
}

/// `write_event` with the frame's text made by the caller.
fn write_event_text(
    tx: &Tx,
    fx: &mut Effects,
    room: &Room,
    kind: EventKind,
    post: &Post,
    text: String,
) -> Result<(), Fatal> {
    let seq = room.last_seq;
    tx.append_event(tx.ids.of(room.id), seq, text.as_bytes().to_vec());
    fx.heads.insert(room.id, seq);
    // Reactions change nothing that is searched, nor any language.
    if kind != EventKind::Reaction {
        record_change(fx, post.id);
        let created = post.seq == seq;
        fx.langs.push(LangChange { room: room.id, post: post.id, created, lang: post.lang, deleted: post.deleted });
    }
    fx.changes.push(Change::Event { room: room.id, seq, frame: text });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> Post {
        let mut translations = BTreeMap::new();
        translations.insert(
            Lang::parse("fr").unwrap(),
            Translation {
                html: String::new(),
                body: "Bonjour \"à tous\"".to_owned(),
                translator: UserId(4),
                created_at: "2026-12-03T10:00:00.000001Z".to_owned(),
                stale: false,
            },
        );
        Post {
            html: String::new(),
            id: PostId(7),
            room: RoomId(3),
            seq: 12,
            author: UserId(2),
            body: "Hello \"all\"\n\u{1F600} e acentuação".to_owned(),
            reply_to: Some(PostId(5)),
            lang: Lang::EN,
            lang_source: LangSource::Declared,
            lang_confidence: 0.875,
            created_at: "2026-12-03T09:59:59.999999Z".to_owned(),
            edited_at: None,
            deleted: false,
            hidden: false,
            translations,
            reactions: BTreeMap::from([("👍".to_owned(), 2)]),
            files: Vec::new(),
        }
    }

    #[test]
    fn a_new_post_serialized_once_makes_the_same_bytes() {
        let post = post();
        let json = post_json(&post);
        let event = event_frame_of(post.room, post.seq, EventKind::Post, &json).ok();
        let expected =
            crate::protocol::ServerFrame::Event { room: post.room, seq: post.seq, kind: EventKind::Post, post: &post };
        assert_eq!(event, Some(expected.to_json()), "the log's frame is the wire's");
        assert_eq!(event_frame(post.room, post.seq, EventKind::Post, &post).ok(), Some(expected.to_json()));
    }

    #[test]
    fn a_new_post_is_read_back_from_its_creation_event() {
        // A confidence whose shortest decimal form reads back one bit off without
        // serde_json's exact float parsing (`float_roundtrip`).
        let post = Post { lang_confidence: 0.9564334850236477, ..post() };
        let event = event_frame(post.room, post.seq, EventKind::Post, &post).unwrap();
        let key = keys::pair(post.room.0, post.seq);
        let mut asked = None;
        let value = fresh_post(post.room.0, post.seq, "n-1");
        let read = post_record(&value, |k| {
            asked = Some(k.to_vec());
            Ok(Some(event.as_bytes().into()))
        });
        let Ok(rec) = read else { panic!("not read: {read:?}") };
        assert_eq!(asked.as_deref(), Some(&key[..]));
        assert_eq!(serde_json::to_string(&rec.post).ok(), serde_json::to_string(&post).ok());
        assert_eq!(rec.post.lang_confidence.to_bits(), post.lang_confidence.to_bits());
        assert_eq!(
            (rec.seqs, rec.nonce.as_str(), rec.history.len(), rec.reactors.len()),
            (vec![post.seq], "n-1", 0, 0)
        );
        // Without its event it is an error, not a missing post.
        assert!(post_record(&value, |_| Ok(None)).is_err());
        // A whole record (every change writes one).
        let whole = PostRecord {
            post: post.clone(),
            history: vec![Revision {
                html: String::new(),
                body: "Hi".to_owned(),
                lang: Lang::EN,
                written_at: "2026-12-03T09:00:00.000000Z".to_owned(),
                replaced_at: "2026-12-03T09:59:59.999999Z".to_owned(),
            }],
            seqs: vec![12, 14],
            nonce: "n-2".to_owned(),
            reactors: BTreeMap::from([("👍".to_owned(), vec![UserId(2), UserId(9)])]),
        };
        let bytes = serde_json::to_vec(&whole).unwrap_or_default();
        let read = post_record(&bytes, |_| Ok(None));
        let Ok(rec) = read else { panic!("not read: {read:?}") };
        assert_eq!((rec.seqs, rec.nonce.as_str(), rec.history.len()), (vec![12, 14], "n-2", 1));
    }
}
