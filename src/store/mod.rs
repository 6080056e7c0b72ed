//! Persistence in sled, behind a small API: reads are plain method calls, and every write
//! is an [`Op`] handed to the single writer thread, which commits whole batches of them in
//! one sled transaction and one flush (group commit) before anyone hears of them.
//!
//! The writer then updates each room's *durable head* (the newest seq known to be on
//! disk) and passes what happened to the publish sink (the hub). Readers of a room's log
//! never read past its durable head, so nothing is replayed that a crash could still take
//! back, and a `seq`, once seen by anyone, is never reused.
//!
//! This is the seam for running several nodes: another implementation of the same
//! reads and `submit` can sit on a shared log (NATS JetStream) without the services or
//! the hub changing.

mod answer;
mod backup;
mod change;
mod disk;
pub mod engine;
pub mod ids;
mod keys;
pub mod log;
mod migrate;
mod mirror;
mod nonces;
mod ops;
pub mod refusal;
mod runs;
mod verify;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use engine::Value as IVec;
use engine::{Db, KvEngine, KvTree, Tree};
use mirror::{Mirror, Mirrored, RecentPost, RECENT_KEPT};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use answer::{Answer, ClaimedUntil, Done, PostEvent, Posted, ReadUpTo, Write};
pub use backup::{import_into, ImportError, Secrets, Snapshot, EXPORT_VERSION};
pub use change::Change;
pub use ops::{
    files::MAX_FILES_PER_POST, ClaimRecord, MemoryRecord, Moderation, NeedsRecord, Op, Outcome, QueueRecord,
    RoomTarget, TimeRecord,
};
// The operations, one type each, run with `Store::run`.
pub use ops::{
    AddMember, AnswerJoin, Approve, Claim, CreateFile, CreateInvite, CreatePost, CreateSpace, CreateUser, DeletePost,
    DescribeFile, DropFiles, EditPost, EraseAccount, ExpireClaim, Flag, Hide, MailDone, MailResult, MarkInitialized,
    MarkNotificationsRead, MarkRead, Pin, PutConcept, PutToken, QueueMail, React, Reject, Release, RemoveMember,
    RenameRoom, RequestJoin, RequestTranslation, Restore, RevokeInvite, RevokeToken, SetAvatar, SetCommunity,
    SetCoordinators, SetEmail, SetEmailSettings, SetFileText, SetLang, SetPairs, SetPassword, SetSpaceWatch, SetWatch,
    Suspend, TouchToken, Translate, TranslateFile, TranslateTitle, UpdateSpace, UpdateUser, UseEmailToken,
};
pub use refusal::{Refusal, WriteError};
pub use verify::{Report, Watermark, WATERMARK};
pub use writer::{Turn, WriterStats};

use crate::error::StoreError;
use crate::model::{
    CommunitySettings, Invite, Lang, Post, PostId, Revision, Room, RoomId, Space, SpaceId, User, UserId,
};

pub use migrate::SCHEMA as SCHEMA_VERSION;

/// A stored account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserRecord {
    pub user: User,
    /// argon2id, PHC string.
    pub password_hash: String,
    pub created_at: String,
    /// Suspended by a moderator until then (ms since the epoch): sign-in is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_until_ms: Option<i64>,
    /// Tokens name the epoch they were issued in; a suspension (or a password change)
    /// moves it on, and every token of an earlier epoch authenticates nothing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub session_epoch: u64,
    /// Registered while sign-up asks for approval, and not approved yet: no sign-in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    /// Bytes of the files they uploaded that the store keeps (their storage quota's use).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub file_bytes: u64,
    /// The blob of their picture (a small square JPEG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_blob: Option<String>,
    /// Their email address, seen by them and admins only; mail other than its
    /// verification goes to it once verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_verified: bool,
    #[serde(default)]
    pub email_settings: crate::model::EmailSettings,
    /// When their last digest was written (ms since the epoch; 0: none yet).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub digest_sent_ms: i64,
    /// The secret their unsubscribe links are signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_key: Option<String>,
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// A notification due for an email: its `mail_due` key, when it was written (ms since
/// the epoch), whose it is, and which.
pub type MailDue = ([u8; 24], i64, UserId, crate::model::NotificationId);

/// An email waiting in the outbox: written in the same transaction as what causes it,
/// removed once the SMTP server took it (or kept, marked failed, when it refused it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxMail {
    /// Its `Message-ID` (stable across retries: a message sent twice is one message).
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `verify`, `reset`, `invite`, `activity`, `digest`.
    pub kind: String,
    pub user: Option<crate::model::UserId>,
    pub created_at: String,
    #[serde(default)]
    pub attempts: u32,
    /// Not to be tried before then (ms since the epoch).
    #[serde(default)]
    pub next_ms: i64,
    /// The SMTP server refused it for good (5xx): why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// A notice mail's notifications: each checked again before it goes (a post hidden,
    /// deleted or closed to its reader since is left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<crate::model::Notification>,
    /// A digest's period (ms since the epoch) and the posts it shows: if one of them is
    /// hidden, deleted or closed to its reader before it goes, it is written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<(i64, i64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub posts: Vec<crate::model::PostId>,
    /// Its one-click unsubscribe URL (RFC 8058), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
}

/// A single-use token sent by email (an address to verify, a password to reset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailToken {
    pub user: crate::model::UserId,
    /// `verify` (then `email` is the address it verifies) or `reset`.
    pub purpose: String,
    #[serde(default)]
    pub email: Option<String>,
    pub expires_ms: i64,
}

/// An uploaded file with what only the server sees: where it is attached, its
/// thumbnail's blob, and whether its text was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub file: crate::model::File,
    /// The post it is attached to (and that post's room and space); none while it waits
    /// to be, seen by its uploader alone.
    #[serde(default)]
    pub post: Option<crate::model::PostId>,
    #[serde(default)]
    pub room: Option<RoomId>,
    #[serde(default)]
    pub space: Option<SpaceId>,
    /// The blob of its thumbnail (images).
    #[serde(default)]
    pub thumb: Option<String>,
    pub text: TextState,
}

/// Whether a file's text is read (documents) or will be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextState {
    /// Not a document.
    None,
    /// A document whose text the extractor has not read yet.
    Pending,
    /// Read: its text is in `file_texts`.
    Read,
    /// The extractor read nothing from it (broken, hostile, too big, or a scan).
    Unreadable,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A post's text while a moderator hides it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HiddenRecord {
    pub body: String,
    #[serde(default)]
    pub html: String,
    pub translations: std::collections::BTreeMap<Lang, crate::model::Translation>,
    /// The post's files, kept from everyone while it is hidden.
    #[serde(default)]
    pub files: Vec<crate::model::File>,
}

/// A stored post with what clients see only through other calls.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PostRecord {
    pub post: Post,
    /// Earlier versions, oldest first.
    pub history: Vec<Revision>,
    /// The seqs of every event about this post, for redaction on delete.
    pub seqs: Vec<u64>,
    /// The nonce it was created with.
    pub nonce: String,
    /// Who reacted with what.
    #[serde(default)]
    pub reactors: std::collections::BTreeMap<String, Vec<UserId>>,
}

/// The first byte of a `posts` value for a post unchanged since its creation (a whole
/// record is JSON, so it starts with `{`).
const FRESH_POST: u8 = 1;

/// What the `posts` tree holds for a new post: where its creation event is and its
/// nonce, not a second copy of the post. The creation event holds the post as it was
/// created, which is the post until something changes it, and every change writes the
/// whole record (`PostRecord`) in its place. So a new post's bytes are written once,
/// in its event.
pub(crate) fn fresh_post(room: u64, seq: u64, nonce: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(17 + nonce.len());
    v.push(FRESH_POST);
    v.extend_from_slice(&keys::pair(room, seq));
    v.extend_from_slice(nonce.as_bytes());
    v
}

/// A `posts` value: a whole record, or (`fresh_post`) the key of the creation event,
/// its seq and the nonce.
enum PostValue<'a> {
    Record(&'a [u8]),
    Fresh { event: &'a [u8], seq: u64, nonce: &'a str },
}

fn post_value(v: &[u8]) -> Result<PostValue<'_>, StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt { tree: "posts", detail: detail.into() };
    match v.first() {
        Some(&FRESH_POST) => {
            let event = v.get(1..17).ok_or_else(|| corrupt("short value"))?;
            let seq = event.get(8..16).and_then(keys::id_value).ok_or_else(|| corrupt("short value"))?;
            let nonce = std::str::from_utf8(v.get(17..).unwrap_or_default()).map_err(|_| corrupt("nonce"))?;
            Ok(PostValue::Fresh { event, seq, nonce })
        }
        _ => Ok(PostValue::Record(v)),
    }
}

/// Reads a `posts` value as a whole record; `event` reads the `events` tree (the
/// creation event of a fresh post).
pub(crate) fn post_record(
    v: &[u8],
    event: impl FnOnce(&[u8]) -> Result<Option<IVec>, StoreError>,
) -> Result<PostRecord, StoreError> {
    match post_value(v)? {
        PostValue::Record(bytes) => decode("posts", bytes),
        PostValue::Fresh { event: key, seq, nonce } => {
            let Some(text) = event(key)? else {
                return Err(StoreError::Corrupt { tree: "posts", detail: format!("no creation event at seq {seq}") });
            };
            let ev: log::StoredEvent = decode("events", &text)?;
            Ok(PostRecord {
                post: ev.post,
                history: Vec::new(),
                seqs: vec![seq],
                nonce: nonce.to_owned(),
                reactors: std::collections::BTreeMap::new(),
            })
        }
    }
}

/// Reads from a `posts` value only what `T` takes of its `post` (a whole record and an
/// event both hold the post under `post`).
fn post_part<T: DeserializeOwned>(
    v: &[u8],
    event: impl FnOnce(&[u8]) -> Result<Option<IVec>, StoreError>,
) -> Result<T, StoreError> {
    match post_value(v)? {
        PostValue::Record(bytes) => decode("posts", bytes),
        PostValue::Fresh { event: key, seq, .. } => match event(key)? {
            Some(text) => decode("events", &text),
            None => Err(StoreError::Corrupt { tree: "posts", detail: format!("no creation event at seq {seq}") }),
        },
    }
}

/// What the first ack for a nonce carried.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NonceRecord {
    pub post: Post,
    #[serde(default)]
    pub room: Option<Room>,
    /// The post as the writer serialized it for its event, when at hand (a new post's
    /// first ack): the ack reuses it rather than serializing the post again on the
    /// runtime (`protocol::ack_frame`). Never stored.
    #[serde(skip)]
    pub json: Option<std::sync::Arc<log::PostJson>>,
}

/// What the `nonces` tree holds for a nonce: where the first ack's post is, and the
/// room when that post started a thread. The post itself is the one in the creation
/// event, which is what the first ack sent and which redaction keeps in step (so a
/// retry after a delete gets the redacted post).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredNonce {
    /// The room and seq of the post's creation event.
    pub event: (RoomId, u64),
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<Room>,
}

/// The trees, by name. Their order is the order of the transaction's view.
#[derive(Clone)]
pub(crate) struct Trees {
    pub meta: Tree,
    pub users: Tree,
    pub handles: Tree,
    pub tokens: Tree,
    pub spaces: Tree,
    pub slugs: Tree,
    pub members: Tree,
    pub rooms: Tree,
    pub space_rooms: Tree,
    pub events: Tree,
    pub posts: Tree,
    pub room_posts: Tree,
    pub nonces: Tree,
    pub queue: Tree,
    pub claims: Tree,
    pub translated: Tree,
    pub reads: Tree,
    pub changes: Tree,
    pub glossary: Tree,
    pub notifications: Tree,
    pub flags: Tree,
    pub hidden: Tree,
    pub modlog: Tree,
    /// New posts' places, in runs (`runs`).
    pub fresh: Tree,
    /// New posts' translators' queue records, in runs (`runs`).
    pub fresh_queue: Tree,
    /// Invitation codes.
    pub invites: Tree,
    /// How members follow rooms: (room, user) to a level.
    pub watches: Tree,
    /// Requests to join listed working groups: (space, user) to the request.
    pub join_requests: Tree,
    /// Uploaded files' records, by file.
    pub files: Tree,
    /// The text read from documents, by file.
    pub file_texts: Tree,
    /// The files attached in each space: (space, file).
    pub space_files: Tree,
    /// Email waiting to be sent, by when it was written (a place of the counter).
    pub outbox: Tree,
    /// Tokens sent by email, by their hash.
    pub email_tokens: Tree,
    /// Notifications that may be mailed: (ms written, user, notification), empty values.
    pub mail_due: Tree,
    /// Readers' requests for a translation: (post, language) to who asked.
    pub translation_requests: Tree,
    /// Threads whose title waits for translations: (priority, room) to the languages
    /// it needs (JSON).
    pub title_queue: Tree,
    /// Translation memory: each published translation's aligned sentence pairs, under a
    /// place of the counter (in the order they were written): `MemoryRecord` (JSON).
    pub memory: Tree,
}

impl Trees {
    fn open(db: &Db) -> Result<Self, StoreError> {
        Ok(Trees {
            meta: db.open_tree("meta")?,
            users: db.open_tree("users")?,
            handles: db.open_tree("handles")?,
            tokens: db.open_tree("tokens")?,
            spaces: db.open_tree("spaces")?,
            slugs: db.open_tree("slugs")?,
            members: db.open_tree("members")?,
            rooms: db.open_tree("rooms")?,
            space_rooms: db.open_tree("space_rooms")?,
            events: db.open_tree("events")?,
            posts: db.open_tree("posts")?,
            room_posts: db.open_tree("room_posts")?,
            nonces: db.open_tree("nonces")?,
            queue: db.open_tree("queue")?,
            claims: db.open_tree("claims")?,
            translated: db.open_tree("translated")?,
            reads: db.open_tree("reads")?,
            changes: db.open_tree("changes")?,
            glossary: db.open_tree("glossary")?,
            notifications: db.open_tree("notifications")?,
            flags: db.open_tree("flags")?,
            hidden: db.open_tree("hidden")?,
            modlog: db.open_tree("modlog")?,
            fresh: db.open_tree("fresh_posts")?,
            fresh_queue: db.open_tree("fresh_queue")?,
            invites: db.open_tree("invites")?,
            watches: db.open_tree("watches")?,
            join_requests: db.open_tree("join_requests")?,
            files: db.open_tree("files")?,
            file_texts: db.open_tree("file_texts")?,
            space_files: db.open_tree("space_files")?,
            outbox: db.open_tree("outbox")?,
            email_tokens: db.open_tree("email_tokens")?,
            mail_due: db.open_tree("mail_due")?,
            translation_requests: db.open_tree("translation_requests")?,
            title_queue: db.open_tree("title_queue")?,
            memory: db.open_tree("memory")?,
        })
    }

    /// All trees, in the order `ops::Tx` names them.
    fn all(&self) -> Vec<Tree> {
        vec![
            self.meta.clone(),
            self.users.clone(),
            self.handles.clone(),
            self.tokens.clone(),
            self.spaces.clone(),
            self.slugs.clone(),
            self.members.clone(),
            self.rooms.clone(),
            self.space_rooms.clone(),
            self.events.clone(),
            self.posts.clone(),
            self.room_posts.clone(),
            self.nonces.clone(),
            self.queue.clone(),
            self.claims.clone(),
            self.translated.clone(),
            self.reads.clone(),
            self.changes.clone(),
            self.glossary.clone(),
            self.notifications.clone(),
            self.flags.clone(),
            self.hidden.clone(),
            self.modlog.clone(),
            self.fresh.clone(),
            self.fresh_queue.clone(),
            self.invites.clone(),
            self.watches.clone(),
            self.join_requests.clone(),
            self.files.clone(),
            self.file_texts.clone(),
            self.space_files.clone(),
            self.outbox.clone(),
            self.email_tokens.clone(),
            self.mail_due.clone(),
            self.translation_requests.clone(),
            self.title_queue.clone(),
            self.memory.clone(),
        ]
    }
}

fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { tree, detail: e.to_string() })
}

/// The language most of the last `n` of `posts` (oldest first) are in, deleted ones
/// left out; on a tie, the one whose first vote, newest first, came last.
fn majority_lang(posts: &[RecentPost], n: usize) -> Option<Lang> {
    let mut counts: Vec<(Lang, usize)> = Vec::new();
    for p in posts.iter().rev().take(n).filter(|p| !p.deleted) {
        match counts.iter_mut().find(|(l, _)| *l == p.lang) {
            Some((_, c)) => *c += 1,
            None => counts.push((p.lang, 1)),
        }
    }
    counts.into_iter().max_by_key(|(_, c)| *c).map(|(l, _)| l)
}

/// The post of a stored post record or event.
#[derive(serde::Deserialize)]
struct PostOf {
    post: Post,
}

/// The part of a stored post record that the room's language needs.
#[derive(serde::Deserialize)]
struct LangOf {
    post: LangOfPost,
}

#[derive(serde::Deserialize)]
struct LangOfPost {
    lang: Lang,
    #[serde(default)]
    deleted: bool,
}

/// How to open the store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// sled's page cache.
    pub cache_bytes: u64,
    /// Most ops per commit.
    pub max_batch: usize,
    /// The community's languages: every post needs a translation into each but its own.
    pub languages: Vec<Lang>,
    /// How long a translator's claim holds, in milliseconds.
    pub lease_ms: i64,
    /// A chat post of fewer words waits for translation only once a reader asks for it.
    pub chat_min_words: usize,
    pub clock: crate::clock::Clock,
    /// New posts' nonces found through the applying thread's index before every batch
    /// folds as many into `nonces` as it adds (`nonces`); [`NONCE_INDEX_CAP`] but in tests.
    pub nonce_index_cap: usize,
    /// Whether the applying thread folds nonces on its own once the store is quiet (not
    /// for maintenance: an offline export reads the trees from another thread).
    pub fold_when_quiet: bool,
}

/// The bound of the index of nonces not folded yet (18 MB at most).
pub const NONCE_INDEX_CAP: usize = nonces::CAP;

/// The newest durable change seq, which the search indexer waits on.
#[derive(Debug, Default)]
pub struct ChangeHead {
    seq: AtomicU64,
    lock: Mutex<()>,
    moved: Condvar,
}

impl ChangeHead {
    fn advance(&self, seq: u64) {
        self.seq.store(seq, Ordering::Release);
        let _g = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.moved.notify_all();
    }

    pub fn get(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    /// Blocks the calling thread until the head passes `seq` or `timeout` ends; returns
    /// the head.
    pub fn wait_beyond(&self, seq: u64, timeout: Duration) -> u64 {
        let g = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = self
            .moved
            .wait_timeout_while(g, timeout, |_| self.get() <= seq)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.get()
    }
}

/// The store: sled, its writer thread, and the durable head of every room.
pub struct Store {
    db: Db,
    trees: Trees,
    heads: Arc<DashMap<RoomId, u64>>,
    changes: Arc<ChangeHead>,
    writer: writer::Handle,
    stats: Arc<WriterStats>,
    /// sled's directory, for syncing its files outside the writer (`disk`).
    sled_dir: PathBuf,
    /// Rooms, spaces and members in memory: what requests read, without sled's lock.
    mirror: Arc<Mirror>,
    /// Set while the disk is below its reserve: writes are refused.
    disk_low: AtomicBool,
    /// Places and ids (`ids`): every key holds places.
    ids: ids::Ids,
}

/// What recovery found on opening a data dir, for the log.
#[derive(Debug, Default)]
pub struct Recovered {
    pub users: usize,
    pub spaces: usize,
    pub rooms: usize,
    pub events: u64,
    pub was_recovered: bool,
}

/// What to add to sled's id counter so that every new id is past every id in use.
///
/// sled's counter only grows (it even jumps two million ahead at each open), so a store
/// that has only ever had its own ids needs nothing (and a new one's ids start at 1, as
/// the counter's 0 is taken here).
/// But the counter is not in an export: a store made by an import starts it again near
/// 0, below the ids it holds. Ids are in the first 8 bytes of the keys of users, spaces,
/// rooms, posts, new posts' runs and the moderation log (so the last key has the largest), and in bytes
/// 8..16 of notification keys, which are scanned.
fn id_offset(db: &Db, trees: &Trees) -> Result<u64, StoreError> {
    let id_at = |k: &[u8], at: usize| k.get(at..at + 8).and_then(keys::id_value).unwrap_or(0);
    let mut largest = 0;
    for tree in [&trees.users, &trees.spaces, &trees.rooms, &trees.posts, &trees.modlog, &trees.fresh] {
        if let Some((k, _)) = tree.last()? {
            largest = largest.max(id_at(&k, 0));
        }
    }
    for item in trees.notifications.iter() {
        largest = largest.max(id_at(&item?.0, 8));
    }
    // Taking one from the counter here: the ids given out from now on are past it.
    let next = db.next_id()?.saturating_add(1);
    Ok(largest.saturating_add(1).saturating_sub(next))
}

impl Store {
    /// Opens (or creates) the store in `dir`. `sink` receives, in commit order, what every
    /// committed batch published; it runs on the writer thread and must not block.
    pub fn open(
        dir: &Path,
        options: StoreOptions,
        sink: Box<dyn Fn(Vec<Change>) + Send>,
    ) -> Result<(Store, Recovered), StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        let sled_dir = dir.join("store");
        let db = Db::open(&sled_dir, options.cache_bytes)?;
        let io = |e| StoreError::Sled(sled::Error::Io(e));
        let mut disk = disk::DiskSync::open(&sled_dir).map_err(io)?;
        let trees = Trees::open(&db)?;
        let mut recovered = Recovered { was_recovered: db.was_recovered(), ..Recovered::default() };
        if migrate::bring_up(&db, &trees, SCHEMA_VERSION, migrate::STEPS)? == migrate::Found::New {
            migrate::mark_new(&trees)?;
            trees.meta.insert(ids::KEY_NAME, &ids::Ids::new_key()[..])?;
            db.flush()?;
            disk.sync().map_err(io)?;
        }
        let ids = match trees.meta.get(ids::KEY_NAME)? {
            Some(key) => ids::Ids::new(
                key.as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt { tree: "meta", detail: "the id key is not 16 bytes".into() })?,
            ),
            None => return Err(StoreError::Corrupt { tree: "meta", detail: "no id key".into() }),
        };
        // Everything on disk at open is durable: it is where each room's head starts.
        let heads = Arc::new(DashMap::new());
        for item in trees.rooms.iter() {
            let (_, v) = item?;
            let room: Room = decode("rooms", &v)?;
            recovered.events += room.last_seq;
            heads.insert(room.id, room.last_seq);
        }
        recovered.rooms = heads.len();
        recovered.users = trees.users.len();
        recovered.spaces = trees.spaces.len();
        let changes = Arc::new(ChangeHead::default());
        changes.seq.store(
            trees.meta.get(ops::CHANGE_SEQ)?.as_deref().and_then(keys::id_value).unwrap_or(0),
            Ordering::Release,
        );
        let stats = Arc::new(WriterStats::default());
        let id_offset = id_offset(&db, &trees)?;
        let mirror = Arc::new(Mirror::load(&trees.rooms, &trees.spaces, &trees.members)?);
        let nonce_index = nonces::NonceIndex::load(&trees)?;
        let writer = writer::spawn(
            db.clone(),
            trees.clone(),
            heads.clone(),
            changes.clone(),
            options,
            stats.clone(),
            sink,
            (id_offset, ids),
            disk,
            mirror.clone(),
            nonce_index,
        )?;
        let disk_low = AtomicBool::new(false);
        let store = Store { db, trees, heads, changes, writer, stats, sled_dir, mirror, disk_low, ids };
        store.quick_check()?;
        Ok((store, recovered))
    }

    /// Opens a data dir for maintenance (export, import): default options, nothing
    /// published, no first-start setup.
    pub fn open_for_maintenance(dir: &Path) -> Result<Store, StoreError> {
        let options = StoreOptions {
            cache_bytes: 64 * 1024 * 1024,
            max_batch: 64,
            languages: Vec::new(),
            lease_ms: 0,
            chat_min_words: 0,
            clock: crate::clock::Clock::default(),
            nonce_index_cap: NONCE_INDEX_CAP,
            fold_when_quiet: false,
        };
        Ok(Store::open(dir, options, Box::new(|_| {}))?.0)
    }

    /// Commits one write and returns its answer once it is on disk.
    pub async fn run<W: Write>(&self, op: W) -> Result<W::Answer, WriteError> {
        self.run_in_turn(op, Turn::default()).await
    }

    /// `run`, in its turn of an ordered chain of writes (`Turn`).
    pub async fn run_in_turn<W: Write>(&self, op: W, turn: Turn) -> Result<W::Answer, WriteError> {
        let outcome = self.submit_in_turn(op.into(), turn).await?;
        // Each op's function gives the outcome its `Write` names (answer.rs): another is
        // a bug of the store, reported rather than panicking.
        W::Answer::from_outcome(outcome)
            .ok_or(WriteError::Store(StoreError::Failed("the write answered another kind of outcome")))
    }

    /// Submits `op` in its turn of an ordered chain of writes (`Turn`).
    async fn submit_in_turn(&self, op: Op, turn: Turn) -> Result<Outcome, WriteError> {
        if self.disk_low() {
            return Err(WriteError::DiskFull);
        }
        self.writer.submit_in_turn(op, turn).await
    }

    /// Reads one record of the store: an error when its files cannot be read.
    pub fn readable(&self) -> Result<(), StoreError> {
        self.trees.meta.get(migrate::KEY)?;
        Ok(())
    }

    /// Whether the data dir's disk is below its reserve (writes refused).
    pub fn disk_low(&self) -> bool {
        self.disk_low.load(Ordering::SeqCst)
    }

    /// Says whether the disk is below its reserve; returns whether that changed.
    pub fn set_disk_low(&self, low: bool) -> bool {
        self.disk_low.swap(low, Ordering::SeqCst) != low
    }

    /// The directory whose disk holds the store.
    pub fn dir(&self) -> &Path {
        &self.sled_dir
    }

    /// Stops the writer after it has committed what it was given, and flushes.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.writer.stop().await;
        self.db.flush_async().await?;
        self.record_watermark(Watermark { events: u64::MAX, changes: u64::MAX })
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        Ok(())
    }

    /// Writes waiting for the writer now (at most its queue's bound).
    pub fn writes_waiting(&self) -> usize {
        self.writer.queued()
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Items waiting in the translators' queue into `to` (all spaces).
    pub fn queue_len(&self, to: Lang) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.queue(to) {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// Whether the first-start setup has run on this data dir.
    pub fn is_initialized(&self) -> Result<bool, StoreError> {
        Ok(self.trees.meta.contains_key("initialized")?)
    }

    // ---- the change feed and the glossary ----

    /// The newest durable change seq, to wait on.
    pub fn change_head(&self) -> &ChangeHead {
        &self.changes
    }

    /// The newest change seq committed, durable or not yet (`change_head` waits for the
    /// flush): every post readable now was changed by a change up to it.
    pub fn committed_change_seq(&self) -> Result<u64, StoreError> {
        Ok(self.trees.meta.get(ops::CHANGE_SEQ)?.as_deref().and_then(keys::id_value).unwrap_or(0))
    }

    /// Posts changed after change `after`, up to `upto` (inclusive), from at most `limit`
    /// change records (each names every post one batch changed).
    pub fn changes(&self, after: u64, upto: u64, limit: usize) -> Result<Vec<(u64, PostId)>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.changes.range(after.saturating_add(1).to_be_bytes()..=upto.to_be_bytes()).take(limit) {
            let (k, v) = item?;
            let seq = keys::id_value(&k).ok_or(StoreError::Corrupt { tree: "changes", detail: "key".into() })?;
            if v.is_empty() || v.len() % 8 != 0 {
                return Err(StoreError::Corrupt {
                    tree: "changes",
                    detail: format!("record {seq}: {} bytes", v.len()),
                });
            }
            for id in v.chunks_exact(8) {
                let post = keys::id_value(id).ok_or(StoreError::Corrupt { tree: "changes", detail: "value".into() })?;
                out.push((seq, self.ids.at::<PostId>(post)));
            }
        }
        Ok(out)
    }

    /// Every post, in id order: the whole records of `posts` and the new posts of
    /// `fresh_posts`' runs, a post in both read from its whole record.
    pub fn all_posts(&self) -> impl Iterator<Item = Result<PostRecord, StoreError>> + '_ {
        let whole = self.trees.posts.iter().map(|item| {
            let (k, v) = item?;
            Ok((keys::id_value(&k).ok_or(StoreError::Corrupt { tree: "posts", detail: "bad key".into() })?, v))
        });
        let fresh = self
            .trees
            .fresh
            .iter()
            .map(|item| {
                let (k, v) = item?;
                let list: Vec<(u64, IVec)> = runs::fresh_entries(&k, &v)?
                    .into_iter()
                    .map(|p| (p.id, IVec::from(fresh_post(p.room, p.seq, p.nonce))))
                    .collect();
                Ok(list)
            })
            .flat_map(|run: Result<Vec<(u64, IVec)>, StoreError>| match run {
                Ok(list) => list.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            });
        merge_by_key(whole, fresh).map(move |item| {
            let (_, v) = item?;
            post_record(&v, |k| runs::event_by_key(&self.trees.events, k))
        })
    }

    /// Post `id`'s `posts` value: its whole record, or where its creation event is
    /// (`fresh_post`), from `posts` or else from `fresh_posts`' runs.
    fn post_bytes(&self, id: u64) -> Result<Option<IVec>, StoreError> {
        if let Some(v) = self.trees.posts.get(id.to_be_bytes())? {
            return Ok(Some(v));
        }
        Ok(runs::fresh_in(&self.trees.fresh, id)?.map(IVec::from))
    }

    /// The glossary concepts added through the API.
    pub fn concepts(&self) -> Result<Vec<collective_brain_index::Concept>, StoreError> {
        self.trees.glossary.iter().map(|item| decode("glossary", &item?.1)).collect()
    }

    // ---- moderation ----

    /// Every open flag, by post.
    pub fn flags(&self) -> Result<Vec<(PostId, crate::model::Flag)>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.flags.iter() {
            let (k, v) = item?;
            let post = keys::id_value(k.get(..8).unwrap_or_default())
                .ok_or(StoreError::Corrupt { tree: "flags", detail: "key".into() })?;
            out.push((self.ids.at::<PostId>(post), decode("flags", &v)?));
        }
        Ok(out)
    }

    /// Who flagged `post`.
    pub fn flaggers(&self, post: PostId) -> Result<Vec<UserId>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.flags.scan_prefix(self.ids.key(post)) {
            let (k, _) = item?;
            if let Some(u) = keys::second(&k) {
                out.push(self.ids.at::<UserId>(u));
            }
        }
        Ok(out)
    }

    /// The text of a hidden post, and every hidden post.
    pub fn hidden(&self, post: PostId) -> Result<Option<HiddenRecord>, StoreError> {
        self.trees.hidden.get(self.ids.key(post))?.map(|v| decode("hidden", &v)).transpose()
    }

    pub fn hidden_posts(&self) -> Result<Vec<PostId>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.hidden.iter() {
            let (k, _) = item?;
            if let Some(p) = keys::id_value(&k) {
                out.push(self.ids.at::<PostId>(p));
            }
        }
        Ok(out)
    }

    /// The moderation log, newest first.
    pub fn modlog(&self, limit: usize) -> Result<Vec<crate::model::ModAction>, StoreError> {
        self.trees.modlog.iter().rev().take(limit).map(|item| decode("modlog", &item?.1)).collect()
    }

    /// The hashes of `user`'s tokens.
    pub fn tokens_of(&self, user: UserId) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.tokens.iter() {
            let (k, v) = item?;
            if keys::token_value(&v).map(|(id, _, _)| id) == Some(self.ids.of(user)) {
                if let Ok(h) = <[u8; 32]>::try_from(k.as_ref()) {
                    out.push(h);
                }
            }
        }
        Ok(out)
    }

    // ---- notifications ----

    /// `user`'s notifications, newest first: at most `limit`, only unread ones if asked.
    pub fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        limit: usize,
    ) -> Result<Vec<crate::model::Notification>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.notifications.scan_prefix(self.ids.key(user)).rev() {
            let n: crate::model::Notification = decode("notifications", &item?.1)?;
            if unread_only && n.read {
                continue;
            }
            out.push(n);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The ids of `user`'s unread notifications up to `until`.
    pub fn unread_notifications_until(
        &self,
        user: UserId,
        until: crate::model::NotificationId,
    ) -> Result<Vec<crate::model::NotificationId>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .trees
            .notifications
            .range(keys::pair(self.ids.of(user), 0)..=keys::pair(self.ids.of(user), self.ids.of(until)))
        {
            let n: crate::model::Notification = decode("notifications", &item?.1)?;
            if !n.read {
                out.push(n.id);
            }
        }
        Ok(out)
    }

    // ---- users and tokens ----

    pub fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        self.trees.users.get(self.ids.key(id))?.map(|v| decode("users", &v)).transpose()
    }

    /// Every handle in use, lower-cased.
    pub fn handles(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.handles.iter() {
            let (k, _) = item?;
            out.push(String::from_utf8_lossy(&k).into_owned());
        }
        Ok(out)
    }

    /// Those who chose how to follow `room`, and how.
    pub fn watchers(&self, room: RoomId) -> Result<Vec<(UserId, crate::model::WatchLevel)>, StoreError> {
        self.watch_choices(self.ids.key(room))
    }

    /// Those who chose how to follow the rooms of `space`, and how.
    pub fn space_watchers(&self, space: SpaceId) -> Result<Vec<(UserId, crate::model::WatchLevel)>, StoreError> {
        self.watch_choices(self.ids.key(space))
    }

    fn watch_choices(&self, prefix: [u8; 8]) -> Result<Vec<(UserId, crate::model::WatchLevel)>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.watches.scan_prefix(prefix) {
            let (k, v) = item?;
            if let Some(u) = keys::second(&k) {
                out.push((self.ids.at::<UserId>(u), decode("watches", &v)?));
            }
        }
        Ok(out)
    }

    /// Every account (the member directory reads them all: a community of hundreds).
    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.users.iter() {
            out.push(decode("users", &item?.1)?);
        }
        Ok(out)
    }

    /// Accounts waiting for a moderator's approval, oldest first.
    pub fn pending_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.users.iter() {
            let rec: UserRecord = decode("users", &item?.1)?;
            if rec.pending {
                out.push(rec);
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(out)
    }

    /// What admins set from the browser, if anything.
    pub fn community(&self) -> Result<CommunitySettings, StoreError> {
        match self.trees.meta.get(ops::COMMUNITY)? {
            Some(v) => decode("meta", &v),
            None => Ok(CommunitySettings::default()),
        }
    }

    pub fn invite(&self, code: &str) -> Result<Option<Invite>, StoreError> {
        self.trees.invites.get(code.as_bytes())?.map(|v| decode("invites", &v)).transpose()
    }

    /// Every invitation code, newest first.
    pub fn invites(&self) -> Result<Vec<Invite>, StoreError> {
        let mut out: Vec<Invite> = Vec::new();
        for item in self.trees.invites.iter() {
            out.push(decode("invites", &item?.1)?);
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(out)
    }

    pub fn user_by_handle(&self, handle: &str) -> Result<Option<UserRecord>, StoreError> {
        match self.trees.handles.get(handle.to_lowercase().as_bytes())? {
            Some(v) => match keys::id_value(&v) {
                Some(id) => self.user(self.ids.at::<UserId>(id)),
                None => Err(StoreError::Corrupt { tree: "handles", detail: "bad id".into() }),
            },
            None => Ok(None),
        }
    }

    /// The account a token hash signs in, with when the token was last used (0 when
    /// unknown): none for an unknown token, or one of an earlier session epoch.
    pub fn session(&self, hash: &[u8; 32]) -> Result<Option<(UserRecord, i64)>, StoreError> {
        match self.trees.tokens.get(hash)? {
            Some(v) => match keys::token_value(&v) {
                Some((id, epoch, used)) => {
                    Ok(self.user(self.ids.at::<UserId>(id))?.filter(|r| r.session_epoch == epoch).map(|r| (r, used)))
                }
                None => Err(StoreError::Corrupt { tree: "tokens", detail: "bad id".into() }),
            },
            None => Ok(None),
        }
    }

    // ---- spaces ----

    pub fn space(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        self.mirror.get(Mirrored::Spaces, &self.ids.key(id)).map(|v| decode("spaces", &v)).transpose()
    }

    /// Every space, in creation order.
    pub fn spaces(&self) -> Result<Vec<Space>, StoreError> {
        self.trees.spaces.iter().map(|r| decode("spaces", &r?.1)).collect()
    }

    pub fn is_member(&self, space: SpaceId, user: UserId) -> Result<bool, StoreError> {
        Ok(self.mirror.contains(Mirrored::Members, &keys::pair(self.ids.of(space), self.ids.of(user))))
    }

    pub fn members(&self, space: SpaceId) -> Result<Vec<UserId>, StoreError> {
        self.trees
            .members
            .scan_prefix(self.ids.key(space))
            .map(|r| {
                let (k, _) = r?;
                keys::second(&k)
                    .map(|u| self.ids.at::<UserId>(u))
                    .ok_or(StoreError::Corrupt { tree: "members", detail: "short key".into() })
            })
            .collect()
    }

    /// Requests to join `space`, oldest first.
    pub fn join_requests(&self, space: SpaceId) -> Result<Vec<crate::model::JoinRequest>, StoreError> {
        let mut out: Vec<crate::model::JoinRequest> = Vec::new();
        for item in self.trees.join_requests.scan_prefix(self.ids.key(space)) {
            out.push(decode("join_requests", &item?.1)?);
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(out)
    }

    /// Every request `user` has waiting (a scan: requests are few).
    pub fn join_requests_of(&self, user: UserId) -> Result<Vec<crate::model::JoinRequest>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.join_requests.iter() {
            let r: crate::model::JoinRequest = decode("join_requests", &item?.1)?;
            if r.user == user {
                out.push(r);
            }
        }
        Ok(out)
    }

    // ---- mail ----

    /// The notifications due for an email, written at or before `upto_ms`, oldest first:
    /// (key, when written, user, notification).
    pub fn mail_due(&self, upto_ms: i64) -> Result<Vec<MailDue>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.mail_due.iter() {
            let (k, _) = item?;
            let Ok(key) = <[u8; 24]>::try_from(&k[..]) else { continue };
            let at = keys::id_value(&key[..8]).and_then(|v| i64::try_from(v).ok()).unwrap_or(0);
            if at > upto_ms {
                break;
            }
            let (Some(user), Some(n)) = (keys::id_value(&key[8..16]), keys::id_value(&key[16..])) else { continue };
            out.push((key, at, self.ids.at::<UserId>(user), self.ids.at::<crate::model::NotificationId>(n)));
        }
        Ok(out)
    }

    /// One of `user`'s notifications.
    pub fn notification(
        &self,
        user: UserId,
        id: crate::model::NotificationId,
    ) -> Result<Option<crate::model::Notification>, StoreError> {
        let key = keys::pair(self.ids.of(user), self.ids.of(id));
        self.trees.notifications.get(key)?.map(|v| decode("notifications", &v)).transpose()
    }

    /// Who asked for `post` in `lang` (`POST /posts/{id}/translation-requests`).
    pub fn translation_requests(&self, post: PostId, lang: Lang) -> Result<Vec<UserId>, StoreError> {
        let mut key = [0u8; 10];
        key[..8].copy_from_slice(&self.ids.key(post));
        key[8..].copy_from_slice(&lang.bytes());
        Ok(self
            .trees
            .translation_requests
            .get(key)?
            .map(|v| decode("translation_requests", &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// How many mails the outbox holds.
    pub fn outbox_len(&self) -> usize {
        self.trees.outbox.len()
    }

    /// Email waiting in the outbox, oldest first: (key, mail).
    pub fn outbox(&self) -> Result<Vec<(u64, OutboxMail)>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.outbox.iter() {
            let (k, v) = item?;
            let key = keys::id_value(&k).ok_or(StoreError::Corrupt { tree: "outbox", detail: "key".into() })?;
            out.push((key, decode("outbox", &v)?));
        }
        Ok(out)
    }

    pub fn email_token(&self, hash: &[u8; 32]) -> Result<Option<EmailToken>, StoreError> {
        self.trees.email_tokens.get(hash)?.map(|v| decode("email_tokens", &v)).transpose()
    }

    // ---- files ----

    pub fn file(&self, id: crate::model::FileId) -> Result<Option<FileRecord>, StoreError> {
        self.trees.files.get(self.ids.key(id))?.map(|v| decode("files", &v)).transpose()
    }

    /// Every file's record, oldest first.
    pub fn files(&self) -> impl Iterator<Item = Result<FileRecord, StoreError>> + '_ {
        self.trees.files.iter().map(|item| decode("files", &item?.1))
    }

    /// The text read from a document.
    pub fn file_text(&self, id: crate::model::FileId) -> Result<Option<String>, StoreError> {
        Ok(self.trees.file_texts.get(self.ids.key(id))?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// The files attached in `space`, newest first.
    pub fn space_files(&self, space: SpaceId) -> Result<Vec<crate::model::FileId>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.space_files.scan_prefix(self.ids.key(space)).rev() {
            let (k, _) = item?;
            let place =
                keys::second(&k).ok_or(StoreError::Corrupt { tree: "space_files", detail: "short key".into() })?;
            out.push(self.ids.at(place));
        }
        Ok(out)
    }

    // ---- rooms ----

    pub fn space_by_slug(&self, slug: &str) -> Result<Option<Space>, StoreError> {
        match self.trees.slugs.get(slug.as_bytes())? {
            Some(v) => match keys::id_value(&v) {
                Some(id) => self.space(self.ids.at::<SpaceId>(id)),
                None => Err(StoreError::Corrupt { tree: "slugs", detail: "bad id".into() }),
            },
            None => Ok(None),
        }
    }

    pub fn room(&self, id: RoomId) -> Result<Option<Room>, StoreError> {
        self.mirror.get(Mirrored::Rooms, &self.ids.key(id)).map(|v| decode("rooms", &v)).transpose()
    }

    /// The rooms of a space, in creation order.
    pub fn rooms_of(&self, space: SpaceId) -> Result<Vec<Room>, StoreError> {
        let mut out = Vec::new();
        for r in self.trees.space_rooms.scan_prefix(self.ids.key(space)) {
            let (k, _) = r?;
            let id = keys::second(&k).ok_or(StoreError::Corrupt { tree: "space_rooms", detail: "short key".into() })?;
            if let Some(room) = self.room(self.ids.at::<RoomId>(id))? {
                out.push(room);
            }
        }
        Ok(out)
    }

    /// The newest seq of a room that is on disk (0 for an empty or unknown room).
    pub fn durable_head(&self, room: RoomId) -> u64 {
        self.heads.get(&room).map(|h| *h).unwrap_or(0)
    }

    /// Up to `limit` events of a room's log with `from <= seq <= to`, as the frames sent
    /// to clients, in seq order.
    pub fn events(&self, room: RoomId, from: u64, to: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let to = to.min(self.durable_head(room));
        if from > to {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        // Entries are keyed by their last event (`runs`): the first at or after `from`
        // holds it.
        'entries: for r in
            self.trees.events.range(keys::pair(self.ids.of(room), from)..=keys::pair(self.ids.of(room), u64::MAX))
        {
            let (k, v) = r?;
            for (seq, range) in runs::entries(&k, &v)? {
                if seq > to || out.len() >= limit {
                    break 'entries;
                }
                if seq >= from {
                    out.push((seq, v.get(range).unwrap_or_default().to_vec()));
                }
            }
        }
        Ok(out)
    }

    // ---- posts ----

    pub fn post(&self, id: PostId) -> Result<Option<PostRecord>, StoreError> {
        let rec = match self.post_bytes(self.ids.of(id))? {
            Some(v) => Some(post_record(&v, |k| runs::event_by_key(&self.trees.events, k))?),
            None => None,
        };
        // A post whose creation is not yet on disk does not exist yet for readers.
        Ok(rec.filter(|r| r.post.seq <= self.durable_head(r.post.room)))
    }

    /// The queue into `to`, in queue order (News-like spaces and pinned threads first,
    /// then oldest first): the posts whose record names `to`, from `queue` and the runs
    /// of `fresh_queue` (a record is in one of them).
    /// Translation memory records written after `after` (a key), oldest first, at most
    /// `limit`: (key, record).
    pub fn memory_since(&self, after: u64, limit: usize) -> Result<Vec<(u64, MemoryRecord)>, StoreError> {
        let mut out = Vec::new();
        for r in self.trees.memory.range(after.saturating_add(1).to_be_bytes()..).take(limit) {
            let (k, v) = r?;
            let key = k
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or(StoreError::Corrupt { tree: "memory", detail: "key".into() })?;
            out.push((key, decode("memory", &v)?));
        }
        Ok(out)
    }

    /// Threads whose title waits for a translation into `to`, by priority then age.
    pub fn title_queue(&self, to: Lang) -> impl Iterator<Item = Result<RoomId, StoreError>> + '_ {
        self.trees.title_queue.iter().filter_map(move |r| {
            let found = r.map_err(StoreError::from).and_then(|(k, v)| {
                let room = k
                    .get(1..9)
                    .and_then(keys::id_value)
                    .ok_or(StoreError::Corrupt { tree: "title_queue", detail: "key".into() })?;
                let needs: Vec<Lang> = decode("title_queue", &v)?;
                Ok(needs.contains(&to).then(|| self.ids.at::<RoomId>(room)))
            });
            found.transpose()
        })
    }

    pub fn queue(&self, to: Lang) -> impl Iterator<Item = Result<QueueRecord, StoreError>> + '_ {
        let bad = |detail: &str| StoreError::Corrupt { tree: "queue", detail: detail.into() };
        let whole = self.trees.queue.iter().map(move |r| {
            let (k, v) = r?;
            let post = k.get(1..9).and_then(keys::id_value).ok_or_else(|| bad("short key"))?;
            Ok(((k[0], post), v))
        });
        let fresh = self.trees.fresh_queue.iter().flat_map(|r| {
            let run = r.map_err(StoreError::from).and_then(|(k, v)| {
                Ok(runs::queue_entries(&k, &v)?
                    .into_iter()
                    .map(|(id, rec)| Ok(((k[0], id), IVec::from(rec))))
                    .collect())
            });
            match run {
                Ok(list) => list,
                Err(e) => vec![Err(e)],
            }
        });
        merge_by_key(whole, fresh).filter_map(move |item| match item {
            Ok(((_, post), v)) => match decode::<NeedsRecord>("queue", &v) {
                Ok(needs) => needs.item(self.ids.at::<PostId>(post), to).map(Ok),
                Err(e) => Some(Err(e)),
            },
            Err(e) => Some(Err(e)),
        })
    }

    /// The claim on translating `post` into `lang`, expired or not.
    pub fn claim(&self, post: PostId, lang: Lang) -> Result<Option<ClaimRecord>, StoreError> {
        let key = keys::id_and(self.ids.of(post), &lang.bytes());
        self.trees.claims.get(key)?.map(|v| decode("claims", &v)).transpose()
    }

    /// Claims whose lease has run out by `now_ms`: (post, language).
    pub fn expired_claims(&self, now_ms: i64) -> Result<Vec<(PostId, Lang)>, StoreError> {
        let mut out = Vec::new();
        for r in self.trees.claims.iter() {
            let (k, v) = r?;
            let claim: ClaimRecord = decode("claims", &v)?;
            if claim.expires_ms > now_ms {
                continue;
            }
            let post = k.get(..8).and_then(keys::id_value).map(|p| self.ids.at::<PostId>(p));
            let lang = match k.get(8..10) {
                Some(&[a, b]) => Lang::from_bytes([a, b]),
                _ => None,
            };
            if let (Some(post), Some(lang)) = (post, lang) {
                out.push((post, lang));
            }
        }
        Ok(out)
    }

    /// How long each translation into `lang` waited.
    pub fn translation_times(&self, lang: Lang) -> Result<Vec<TimeRecord>, StoreError> {
        self.trees.translated.scan_prefix(lang.bytes()).map(|r| decode("translated", &r?.1)).collect()
    }

    /// Each post translated into `lang`, with its translation's record.
    pub fn translation_records(&self, lang: Lang) -> Result<Vec<(PostId, TimeRecord)>, StoreError> {
        let mut out = Vec::new();
        for r in self.trees.translated.scan_prefix(lang.bytes()) {
            let (k, v) = r?;
            let Some(post) = k.get(2..10).and_then(keys::id_value).map(|p| self.ids.at::<PostId>(p)) else { continue };
            out.push((post, decode("translated", &v)?));
        }
        Ok(out)
    }

    /// The language most of the room's last `n` posts are in (deleted ones count for
    /// nothing), as of its durable head. From the mirror's memory of the room's last posts;
    /// the first time a room is asked, from sled, and then remembered.
    pub fn recent_lang(&self, room: RoomId, n: usize) -> Result<Option<Lang>, StoreError> {
        if let Some(posts) = self.mirror.recent(room) {
            return Ok(majority_lang(&posts, n));
        }
        let head = self.durable_head(room);
        let posts = self.last_posts(room, head, RECENT_KEPT.max(n))?;
        let lang = majority_lang(&posts, n);
        if n <= RECENT_KEPT {
            self.mirror.offer_recent(&self.heads, room, head, posts);
        }
        Ok(lang)
    }

    /// The last `n` posts of a room up to seq `head`, oldest first, from sled.
    fn last_posts(&self, room: RoomId, head: u64, n: usize) -> Result<Vec<RecentPost>, StoreError> {
        let mut out = Vec::new();
        // Runs are keyed by their last seq: one past `head` may hold posts up to it.
        'entries: for r in self
            .trees
            .room_posts
            .range(keys::pair(self.ids.of(room), 0)..=keys::pair(self.ids.of(room), u64::MAX))
            .rev()
        {
            let (k, v) = r?;
            for (seq, id) in runs::post_entries(&k, &v)?.into_iter().rev() {
                if out.len() >= n {
                    break 'entries;
                }
                if seq > head {
                    continue;
                }
                let Some(rec) = self.post_bytes(id)? else { continue };
                // Only the language and the deleted flag: the body and history are skipped.
                let rec: LangOf = post_part(&rec, |k| runs::event_by_key(&self.trees.events, k))?;
                out.push(RecentPost {
                    post: self.ids.at::<PostId>(id),
                    lang: rec.post.lang,
                    deleted: rec.post.deleted,
                });
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The last seq of `room` that `user` has read (0 if none).
    /// Every read marker of `user`: (room, seq).
    pub fn read_markers(&self, user: UserId) -> Result<Vec<(RoomId, u64)>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.reads.scan_prefix(self.ids.key(user)) {
            let (k, v) = item?;
            let room = k.get(8..16).and_then(keys::id_value);
            if let (Some(room), Some(seq)) = (room, keys::id_value(&v)) {
                out.push((self.ids.at::<RoomId>(room), seq));
            }
        }
        Ok(out)
    }

    pub fn read_seq(&self, user: UserId, room: RoomId) -> Result<u64, StoreError> {
        Ok(self
            .trees
            .reads
            .get(keys::pair(self.ids.of(user), self.ids.of(room)))?
            .as_deref()
            .and_then(keys::id_value)
            .unwrap_or(0))
    }

    /// Posts of `room` created after `seq` (that are durable).
    pub fn posts_after(&self, room: RoomId, seq: u64) -> Result<u64, StoreError> {
        let head = self.durable_head(room);
        if seq >= head {
            return Ok(0);
        }
        let mut count = 0;
        for (_, id) in self.room_posts_between(room, seq, head) {
            id?;
            count += 1;
        }
        Ok(count)
    }

    /// Up to `limit` posts of a room with `seq > after_seq`, in seq order.
    pub fn posts(&self, room: RoomId, after_seq: u64, limit: usize) -> Result<Vec<Post>, StoreError> {
        let head = self.durable_head(room);
        if after_seq >= head {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (_, id) in self.room_posts_between(room, after_seq, head).take(limit) {
            if let Some(rec) = self.post_bytes(id?)? {
                out.push(post_part::<PostOf>(&rec, |k| runs::event_by_key(&self.trees.events, k))?.post);
            }
        }
        Ok(out)
    }

    /// The last `limit` posts of `room` before `before` (a seq), in seq order.
    pub fn posts_before(&self, room: RoomId, before: u64, limit: usize) -> Result<Vec<Post>, StoreError> {
        let mut out = Vec::new();
        if limit > 0 {
            self.newest_first(room, before, |post| {
                out.push(post);
                out.len() < limit
            })?;
        }
        out.reverse();
        Ok(out)
    }

    /// The posts of `room` written after `since_ms`, newest first, at most `limit`
    /// (deleted and hidden ones included: the caller decides).
    pub fn posts_since(&self, room: RoomId, since_ms: i64, limit: usize) -> Result<Vec<Post>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.newest_first(room, u64::MAX, |post| {
            if crate::clock::parse_ms(&post.created_at).unwrap_or(0) <= since_ms {
                return false;
            }
            out.push(post);
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Walks the durable posts of `room` before seq `before` from the newest back, giving
    /// each to `visit` until it answers `false` (later ones are not read).
    fn newest_first(&self, room: RoomId, before: u64, mut visit: impl FnMut(Post) -> bool) -> Result<(), StoreError> {
        let head = self.durable_head(room);
        let range = keys::pair(self.ids.of(room), 0)..=keys::pair(self.ids.of(room), u64::MAX);
        for r in self.trees.room_posts.range(range).rev() {
            let (k, v) = r?;
            for (seq, id) in runs::post_entries(&k, &v)?.into_iter().rev() {
                if seq > head || seq >= before {
                    continue;
                }
                let Some(rec) = self.post_bytes(id)? else { continue };
                let post = post_part::<PostOf>(&rec, |k| runs::event_by_key(&self.trees.events, k))?.post;
                if !visit(post) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The posts `room` created at seqs in `after < seq <= head`, in seq order: each
    /// seq (0 with an error) and post id.
    fn room_posts_between(
        &self,
        room: RoomId,
        after: u64,
        head: u64,
    ) -> impl Iterator<Item = (u64, Result<u64, StoreError>)> + '_ {
        // Runs are keyed by their last seq: the first at or after `after + 1` may hold it.
        let range = keys::pair(self.ids.of(room), after.saturating_add(1))..=keys::pair(self.ids.of(room), u64::MAX);
        self.trees
            .room_posts
            .range(range)
            .map(|r| {
                let (k, v) = r?;
                runs::post_entries(&k, &v)
            })
            .flat_map(|entries| match entries {
                Ok(list) => list.into_iter().map(|(s, id)| (s, Ok(id))).collect::<Vec<_>>(),
                Err(e) => vec![(0, Err(e))],
            })
            .filter(move |(s, _)| *s == 0 || *s > after)
            .take_while(move |(s, _)| *s <= head)
    }
}

/// Two streams of (key, value) in key order as one; a key in both is taken from `first`.
fn merge_by_key<K, A, B>(first: A, second: B) -> impl Iterator<Item = Result<(K, IVec), StoreError>>
where
    K: Ord,
    A: Iterator<Item = Result<(K, IVec), StoreError>>,
    B: Iterator<Item = Result<(K, IVec), StoreError>>,
{
    let (mut a, mut b) = (first.peekable(), second.peekable());
    std::iter::from_fn(move || {
        let (take_a, same) = match (a.peek(), b.peek()) {
            (None, None) => return None,
            (Some(Err(_)), _) | (Some(Ok(_)), None) => (true, false),
            (_, Some(Err(_))) | (None, Some(Ok(_))) => (false, false),
            (Some(Ok((x, _))), Some(Ok((y, _)))) => (x <= y, x == y),
        };
        if same {
            b.next();
        }
        if take_a {
            a.next()
        } else {
            b.next()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_by_id_keeps_order_prefers_the_first_and_passes_errors() {
        let item = |id: u64, tag: &str| Ok((id, IVec::from(tag.as_bytes())));
        let whole = vec![item(2, "w"), item(5, "w"), item(9, "w")];
        let fresh = vec![item(1, "f"), item(2, "f"), item(3, "f"), item(9, "f"), item(12, "f")];
        let merged: Vec<(u64, String)> = merge_by_key(whole.into_iter(), fresh.into_iter())
            .map(|r| r.map(|(id, v)| (id, String::from_utf8_lossy(&v).into_owned())).unwrap())
            .collect();
        let expect = [(1, "f"), (2, "w"), (3, "f"), (5, "w"), (9, "w"), (12, "f")];
        assert_eq!(merged, expect.map(|(i, t)| (i, t.to_owned())).to_vec());
        let broken = vec![Err(StoreError::Corrupt { tree: "t", detail: "x".into() }), item(4, "f")];
        let merged: Vec<_> = merge_by_key(vec![item(3, "w")].into_iter(), broken.into_iter()).collect();
        assert_eq!(merged.len(), 3);
        assert!(merged.iter().any(|r| r.is_err()));
    }

    /// Every entry of a mirrored tree, from sled and from the mirror, side by side.
    fn mirrored_pairs(store: &Store) -> Vec<(Mirrored, usize, usize)> {
        let t = &store.trees;
        [(Mirrored::Rooms, &t.rooms), (Mirrored::Spaces, &t.spaces), (Mirrored::Members, &t.members)]
            .into_iter()
            .map(|(m, tree)| {
                for item in tree.iter() {
                    let (k, v) = item.unwrap();
                    assert_eq!(store.mirror.get(m, &k).as_deref(), Some(v.as_ref()), "{m:?} {k:?}");
                }
                (m, tree.len(), store.mirror.len(m))
            })
            .collect()
    }

    /// A new forum space where members post.
    async fn forum(store: &Store, slug: &str, visibility: crate::model::Visibility) -> Space {
        let op = crate::store::CreateSpace {
            slug: slug.into(),
            name: slug.into(),
            kind: crate::model::SpaceKind::Forum,
            visibility,
            post_policy: crate::model::PostPolicy::Members,
            creator: None,
            direct: Vec::new(),
        };
        store.run(op).await.unwrap()
    }

    #[tokio::test]
    async fn the_mirror_follows_every_durable_batch_and_reloads_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_for_maintenance(dir.path()).unwrap();
        let space = forum(&store, "south-south", crate::model::Visibility::Private).await;
        let user = store
            .run(crate::store::CreateUser {
                handle: "amina".into(),
                display_name: "Amina".into(),
                languages: Lang::many(&["fr"]),
                roles: vec![],
                password_hash: "x".into(),
                pending: false,
                invite: None,
            })
            .await
            .unwrap();
        assert!(!store.is_member(space.id, user.id).unwrap());
        store.run(crate::store::AddMember { space: space.id, user: user.id }).await.unwrap();
        // Read back as soon as the write is acknowledged: the mirror has it.
        assert!(store.is_member(space.id, user.id).unwrap());
        let post = |n: usize| crate::store::CreatePost {
            html: String::new(),
            target: RoomTarget::New { space: space.id, title: format!("Thread {n}") },
            author: user.id,
            body: "Bonjour".into(),
            reply_to: None,
            lang: Lang::parse("fr").unwrap(),
            lang_source: crate::model::LangSource::Declared,
            lang_confidence: 1.0,
            nonce: format!("n{n}"),
            notify: Vec::new(),
            files: Vec::new(),
        };
        // Several in flight at once, so that they share batches.
        let posted = futures_util::future::join_all((0..8).map(|n| store.run(post(n)))).await;
        for p in posted {
            let Posted { ack, .. } = p.unwrap();
            let room = ack.room.expect("a new thread");
            assert_eq!(store.room(room.id).unwrap().map(|r| r.last_seq), Some(1));
            assert_eq!(store.space(room.space).unwrap().map(|s| s.id), Some(space.id));
        }
        store.run(crate::store::RemoveMember { space: space.id, user: user.id }).await.unwrap();
        assert!(!store.is_member(space.id, user.id).unwrap());
        let pairs = mirrored_pairs(&store);
        for (m, in_sled, in_mirror) in &pairs {
            assert_eq!(in_sled, in_mirror, "{m:?}");
        }
        assert_eq!(pairs[0].1, 8, "eight threads");
        store.close().await.unwrap();
        drop(store);
        let store = Store::open_for_maintenance(dir.path()).unwrap();
        assert_eq!(mirrored_pairs(&store), pairs);
    }

    #[tokio::test]
    async fn a_rooms_recent_language_follows_posts_deletions_and_corrections() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_for_maintenance(dir.path()).unwrap();
        let space = forum(&store, "lobby", crate::model::Visibility::Public).await;
        let post = |target: RoomTarget, lang: &str, n: usize| crate::store::CreatePost {
            html: String::new(),
            target,
            author: UserId(1),
            body: "texto".into(),
            reply_to: None,
            lang: Lang::parse(lang).unwrap(),
            lang_source: crate::model::LangSource::Declared,
            lang_confidence: 1.0,
            nonce: format!("n{n}"),
            notify: Vec::new(),
            files: Vec::new(),
        };
        let posted = |o: Posted| o.ack;
        let first =
            posted(store.run(post(RoomTarget::New { space: space.id, title: "T".into() }, "fr", 0)).await.unwrap());
        let room = first.room.expect("a thread").id;
        // What sled says, read the slow way, against what the store answers.
        let check = |store: &Store, want: Option<&str>| {
            let from_sled = majority_lang(&store.last_posts(room, store.durable_head(room), 8).unwrap(), 5);
            assert_eq!(from_sled.as_ref().map(Lang::as_str), want);
            assert_eq!(store.recent_lang(room, 5).unwrap().as_ref().map(Lang::as_str), want);
        };
        check(&store, Some("fr")); // the first ask reads sled and remembers
        let mut ids = vec![first.post.id];
        for (n, lang) in ["pt", "pt", "es"].into_iter().enumerate() {
            ids.push(posted(store.run(post(RoomTarget::Existing(room), lang, n + 1)).await.unwrap()).post.id);
        }
        check(&store, Some("pt")); // fr pt pt es: from memory, kept by each batch
        store.run(crate::store::DeletePost { post: ids[1], moderation: None }).await.unwrap();
        store.run(crate::store::DeletePost { post: ids[2], moderation: None }).await.unwrap();
        check(&store, Some("fr")); // fr es: a tie goes to the language whose first vote, newest first, came last
        store.run(crate::store::SetLang { post: ids[0], lang: Lang::parse("es").unwrap() }).await.unwrap();
        check(&store, Some("es"));
        // Several at once, sharing batches: only the last five count.
        let many = (0..6).map(|n| store.run(post(RoomTarget::Existing(room), "en", 10 + n)));
        for p in futures_util::future::join_all(many).await {
            p.unwrap();
        }
        check(&store, Some("en"));
        let remembered = store.mirror.recent(room).expect("remembered");
        assert_eq!(remembered.len(), RECENT_KEPT);
        assert_eq!(remembered, store.last_posts(room, store.durable_head(room), RECENT_KEPT).unwrap());
    }

    #[tokio::test]
    async fn queue_records_of_new_posts_live_in_runs_and_leave_them_when_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let options = || StoreOptions {
            cache_bytes: 64 * 1024 * 1024,
            max_batch: 64,
            languages: Lang::many(&["en", "fr", "es", "pt"]),
            lease_ms: 60_000,
            chat_min_words: 0,
            clock: crate::clock::Clock::default(),
            nonce_index_cap: NONCE_INDEX_CAP,
            fold_when_quiet: true,
        };
        let store = Store::open(dir.path(), options(), Box::new(|_| {})).unwrap().0;
        let space = forum(&store, "ssc", crate::model::Visibility::Public).await;
        let post =
            |target: RoomTarget, n: usize| declared(target, 1, format!("Coopération {n}"), "fr", format!("q{n}"));
        let posted = |o: Result<Posted, WriteError>| o.unwrap().ack;
        let first = posted(store.run(post(RoomTarget::New { space: space.id, title: "A".into() }, 0)).await);
        let a = first.room.expect("a thread").id;
        let other = posted(store.run(post(RoomTarget::New { space: space.id, title: "B".into() }, 1)).await);
        let b = other.room.expect("a thread").id;
        // Thirty more at once, into both threads, so that batches hold several.
        let many = (2..32).map(|n| store.run(post(RoomTarget::Existing(if n % 2 == 0 { a } else { b }), n)));
        let mut ids: Vec<PostId> = vec![first.post.id, other.post.id];
        ids.extend(futures_util::future::join_all(many).await.into_iter().map(|o| posted(o).post.id));
        ids.sort_by_key(|p| store.ids.of(*p));
        let queued = |store: &Store, to: &str| -> Vec<PostId> {
            store.queue(Lang::parse(to).unwrap()).map(|q| q.unwrap().post).collect()
        };
        assert_eq!(queued(&store, "en"), ids, "every post, oldest first");
        assert_eq!(queued(&store, "fr"), vec![], "none into its own language");
        assert_eq!(store.trees.queue.len(), 0, "new posts' records are in runs");
        let runs = store.trees.fresh_queue.len();
        assert!(runs < ids.len(), "{runs} runs for {} posts", ids.len());

        // A deleted post leaves the queue (the first of a run, and the last: its key).
        let (gone_first, gone_last) = (ids[3], ids[ids.len() - 1]);
        for p in [gone_first, gone_last] {
            store.run(crate::store::DeletePost { post: p, moderation: None }).await.unwrap();
        }
        // A post now said to be in English needs French instead: its record leaves the run.
        let relabelled = ids[5];
        store.run(crate::store::SetLang { post: relabelled, lang: Lang::parse("en").unwrap() }).await.unwrap();
        let mut left: Vec<PostId> = ids.iter().copied().filter(|p| ![gone_first, gone_last].contains(p)).collect();
        let not_relabelled: Vec<PostId> = left.iter().copied().filter(|p| *p != relabelled).collect();
        assert_eq!(queued(&store, "en"), not_relabelled);
        assert_eq!(queued(&store, "fr"), vec![relabelled]);
        assert_eq!(queued(&store, "pt"), left);
        assert_eq!(store.trees.queue.len(), 1, "the relabelled post's record");

        // Pinning thread B puts its posts first (priority 0), in id order.
        let in_b: Vec<PostId> =
            left.iter().copied().filter(|p| store.post(*p).unwrap().is_some_and(|r| r.post.room == b)).collect();
        store.run(crate::store::Pin { room: b, pinned: true, posts: in_b.clone() }).await.unwrap();
        let rest: Vec<PostId> = left.iter().copied().filter(|p| !in_b.contains(p)).collect();
        let pinned_first: Vec<PostId> = in_b.iter().chain(rest.iter()).copied().collect();
        assert_eq!(queued(&store, "es"), pinned_first);

        // The same after a restart.
        store.close().await.unwrap();
        drop(store);
        let store = Store::open(dir.path(), options(), Box::new(|_| {})).unwrap().0;
        assert_eq!(queued(&store, "es"), pinned_first);
        assert_eq!(queued(&store, "fr"), vec![relabelled]);
        // And a change after the restart finds a record in its run: deleting every post
        // empties the queue and every run.
        left.sort();
        for p in &left {
            store.run(crate::store::DeletePost { post: *p, moderation: None }).await.unwrap();
        }
        assert_eq!(queued(&store, "es"), vec![]);
        assert_eq!(queued(&store, "fr"), vec![]);
        assert_eq!((store.trees.queue.len(), store.trees.fresh_queue.len()), (0, 0));
    }

    #[test]
    fn a_stored_nonce_names_its_event() {
        let at = StoredNonce { event: (RoomId(7), 3), room: None };
        let text = serde_json::to_string(&at).unwrap();
        assert_eq!(text, r#"{"event":["r7",3]}"#);
        assert!(matches!(serde_json::from_str(&text).unwrap(), StoredNonce { event: (RoomId(7), 3), room: None }));
    }

    /// A post in a declared language.
    fn declared(target: RoomTarget, author: u64, body: String, lang: &str, nonce: String) -> CreatePost {
        crate::store::CreatePost {
            html: String::new(),
            target,
            author: UserId(author),
            body,
            reply_to: None,
            lang: Lang::parse(lang).unwrap(),
            lang_source: crate::model::LangSource::Declared,
            lang_confidence: 1.0,
            nonce,
            notify: Vec::new(),
            files: Vec::new(),
        }
    }

    /// A new thread in `space` by user 1, nonce "thread".
    fn new_thread(space: SpaceId) -> CreatePost {
        declared(RoomTarget::New { space, title: "T".into() }, 1, "first".into(), "en", "thread".into())
    }

    /// Posts a batch of `n` at once by two authors sharing nonces, then each again: every
    /// second one a duplicate of the first, with its post.
    async fn post_twice(store: &Store, room: RoomId, tag: &str, n: u64) -> Vec<(PostId, bool)> {
        let post = |author: u64, i: u64| {
            declared(RoomTarget::Existing(room), author, format!("body {tag} {i}"), "en", format!("{tag}-{i}"))
        };
        // The same nonce twice in one batch as well, and by another author.
        let ops = (0..n).flat_map(|i| [post(1, i), post(1, i), post(2, i)]);
        let first = futures_util::future::join_all(ops.map(|op| store.run(op))).await;
        let again =
            futures_util::future::join_all((0..n).flat_map(|i| [post(1, i), post(2, i)]).map(|op| store.run(op))).await;
        first
            .into_iter()
            .chain(again)
            .map(|o| {
                let Posted { ack, duplicate } = o.unwrap();
                (ack.post.id, duplicate)
            })
            .collect()
    }

    /// Each (author, nonce) of `post_twice` made exactly one post, which every
    /// duplicate names.
    fn check_once(answers: &[(PostId, bool)], n: usize) {
        let (first, again) = answers.split_at(3 * n);
        for i in 0..n {
            let (a, a2, b) = (first[3 * i], first[3 * i + 1], first[3 * i + 2]);
            assert_ne!(a.0, b.0, "another author's same nonce is another post");
            assert_eq!(a.0, a2.0, "the same nonce in one batch: one post");
            assert_eq!([a.1, a2.1, b.1].iter().filter(|d| **d).count(), 1, "{:?}", (a, a2, b));
            assert_eq!(again[2 * i], (a.0, true));
            assert_eq!(again[2 * i + 1], (b.0, true));
        }
    }

    #[tokio::test]
    async fn new_posts_nonces_live_in_their_runs_until_folded_and_stay_unique_throughout() {
        let dir = tempfile::tempdir().unwrap();
        let options = |cap: usize| StoreOptions {
            cache_bytes: 64 * 1024 * 1024,
            max_batch: 64,
            languages: vec![Lang::EN],
            lease_ms: 60_000,
            chat_min_words: 0,
            clock: crate::clock::Clock::default(),
            nonce_index_cap: cap,
            fold_when_quiet: true,
        };
        let store = Store::open(dir.path(), options(NONCE_INDEX_CAP), Box::new(|_| {})).unwrap().0;
        let space = forum(&store, "ssc", crate::model::Visibility::Public).await;
        let thread = new_thread(space.id);
        let Posted { ack, .. } = store.run(thread.clone()).await.unwrap();
        let room = ack.room.expect("a thread").id;
        let answers = post_twice(&store, room, "a", 40).await;
        check_once(&answers, 40);
        // Only the thread's nonce is a key of `nonces`: the posts' are in their runs.
        assert_eq!(store.trees.nonces.len(), 1);
        store.close().await.unwrap();
        drop(store);

        // Reopened: the index is read back from the runs.
        let store = Store::open(dir.path(), options(NONCE_INDEX_CAP), Box::new(|_| {})).unwrap().0;
        let again = post_twice(&store, room, "a", 40).await;
        assert!(again.iter().all(|(_, dup)| *dup), "every nonce seen before the restart");
        let old: std::collections::HashSet<PostId> = answers.iter().map(|a| a.0).collect();
        assert!(again.iter().all(|(id, _)| old.contains(id)));
        // A new thread's ack names its room again.
        let Posted { ack, duplicate } = store.run(thread.clone()).await.unwrap();
        assert!(duplicate);
        assert_eq!(ack.room.map(|r| r.id), Some(room));

        // Quiet: the applying thread folds the nonces into `nonces` on its own.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while store.trees.nonces.len() < 1 + 80 {
            assert!(std::time::Instant::now() < deadline, "folded: {}", store.trees.nonces.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let last_run = store.trees.fresh.last().unwrap().unwrap().0;
        assert_eq!(store.trees.meta.get(nonces::FOLDED).unwrap(), Some(last_run));
        assert!(post_twice(&store, room, "a", 40).await.iter().all(|(_, dup)| *dup), "found folded");
        store.close().await.unwrap();
        drop(store);

        // A bound of 50: under load every batch folds as much as it adds, and every
        // nonce, folded or not, is found, before and after a restart.
        let store = Store::open(dir.path(), options(50), Box::new(|_| {})).unwrap().0;
        let answers = post_twice(&store, room, "b", 150).await;
        check_once(&answers, 150);
        let in_tree = store.trees.nonces.len();
        assert!(in_tree > 81, "past the bound, batches fold: {in_tree}");
        assert!(post_twice(&store, room, "a", 40).await.iter().all(|(_, dup)| *dup));
        store.close().await.unwrap();
        drop(store);
        let store = Store::open(dir.path(), options(50), Box::new(|_| {})).unwrap().0;
        let again = post_twice(&store, room, "b", 150).await;
        assert!(again.iter().all(|(_, dup)| *dup));
        let old: std::collections::HashSet<PostId> = answers.iter().map(|a| a.0).collect();
        assert!(again.iter().all(|(id, _)| old.contains(id)));
    }
}
