//! The verbs. HTTP handlers and WebSocket frames both call these; each checks access,
//! validates, and writes through the store, whose writer then publishes to the hub.

mod accounts;
mod backups;
mod community;
pub mod desk;
mod direct;
mod files;
mod groups;
pub mod health;
mod joining;
pub mod mail;
mod moderation;
mod notifications;
mod people;
mod personal;
mod posts;
mod publish;
mod refusals;
mod search;
mod seed;
mod spaces;
mod stats;
pub mod validate;

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use accounts::{hash_password, token_hash, HashGate, Registered, Registration};
pub use backups::{BackupInfo, Backups};
pub use community::{CommunityConfig, CommunityPatch, UI_LANGUAGES};
pub use desk::{Claim, Coverage, QueueEntry};
pub use direct::Conversation;
pub use files::{FilePatch, FileTranslationBody, LibraryEntry, LibraryQuery, Served};
pub use groups::{JoinRequestView, ListedGroup};
pub use joining::{InviteView, NewInvite};
pub use moderation::Review;
pub use notifications::NotificationView;
pub use people::{Directory, DirectoryQuery, ProfilePatch};
pub use personal::{Erase, PersonalExport};
pub use posts::{Changed, NewPost};
pub use search::NewConcept;
pub use spaces::SpacePatch;
pub use stats::Stats;

use crate::config::Config;
use crate::error::{ApiError, ApiResult, StoreError};
use crate::hub::{Bells, Hub, Presence};
use crate::lang::Tagger;
use crate::limits::Limiter;
use crate::model::{PostPolicy, Room, RoomId, Space, SpaceId, User, UserId, Visibility, WatchLevel};
use crate::store::{Recovered, Store, StoreOptions};

/// Bytes all connections' replays may have queued and not yet flushed, on this node
/// (`App::replay_bytes`, spent by the WebSocket adapter).
pub const REPLAY_BYTES_PER_NODE: usize = 64 * 1024 * 1024;

/// Everything a request needs, shared by all of them.
pub struct App {
    pub config: Config,
    pub store: Arc<Store>,
    pub hub: Arc<Hub>,
    /// The search index and its indexer thread.
    pub search: crate::search::Search,
    pub tagger: Tagger,
    /// Cancelled when the server shuts down: sockets close with 1001.
    pub shutdown: CancellationToken,
    /// The WebSocket tasks, waited for on shutdown.
    pub sockets: TaskTracker,
    pub metrics: Metrics,
    pub limiter: Limiter,
    /// Who is in which room, on this node.
    pub presence: Presence,
    /// The signed-in sockets of this node, rung when their user's access changes.
    pub bells: Arc<Bells>,
    /// Password hashes computed at once, and waiting.
    pub hashes: HashGate,
    /// The connections open on this node, by address.
    pub gate: Arc<crate::net::Gate>,
    /// Bytes of replays queued for sockets and not yet flushed, on this node (`ws`).
    pub replay_bytes: Arc<tokio::sync::Semaphore>,
    /// Uploaded files' bytes (`files::Blobs`).
    pub blobs: crate::files::Blobs,
    /// Images decoded at once on this node (each holds its whole picture in memory).
    pub images: tokio::sync::Semaphore,
    /// Woken when a document waits for its text to be read (`read_documents`).
    pub documents: tokio::sync::Notify,
    /// The SMTP transport, when `smtp_url` is set.
    pub mailer: Option<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>>,
    /// Woken when mail enters the outbox (`deliver_mail`).
    pub mail: tokio::sync::Notify,
    /// The translation memory's index on this node, following the store's `memory` tree.
    pub memory: desk::Memories,
}

/// This node's counters, for `/metrics`. Per node by nature: each node reports its own.
#[derive(Debug, Default)]
pub struct Metrics {
    /// WebSockets open now.
    pub sockets_open: AtomicI64,
    /// WebSockets accepted since start.
    pub sockets_total: AtomicU64,
    /// Client frames received.
    pub frames_in: AtomicU64,
    /// Subscriptions ended with `lagged`.
    pub lagged: AtomicU64,
    /// Posts acked (new posts and threads; a repeated nonce is acked again and counted).
    pub posts_acked: AtomicU64,
    /// Connections closed at once: their address, or the server, was at its cap.
    pub refused_connections: AtomicU64,
    /// Free bytes on the data dir's disk at the last look (`watch_disk`).
    pub disk_free: AtomicU64,
    /// The store's watermark could not be written at the last try.
    pub watermark_failing: std::sync::atomic::AtomicBool,
}

/// Who is asking: a signed-in user, or a guest.
pub type Viewer<'a> = Option<&'a User>;

impl App {
    /// A body's safe HTML (`render`): `@handle`s of members become links.
    pub fn render(&self, body: &str) -> String {
        crate::render::html(body, |handle| self.store.user_by_handle(handle).ok().flatten().is_some())
    }
}

impl App {
    /// Opens the store, wires the writer to the hub, and runs the first-start setup.
    pub async fn open(config: Config) -> Result<Arc<App>, StoreError> {
        let hub = Arc::new(Hub::new(config.room_buffer));
        let bells = Arc::new(Bells::default());
        let sink = publish::sink(hub.clone(), bells.clone());
        let options = StoreOptions {
            cache_bytes: config.cache_bytes(),
            max_batch: config.max_commit_batch,
            languages: config.languages.clone(),
            lease_ms: i64::try_from(config.claim_lease().as_millis()).unwrap_or(i64::MAX),
            chat_min_words: config.queue_chat_min_words,
            clock: config.clock.clone(),
            nonce_index_cap: crate::store::NONCE_INDEX_CAP,
            fold_when_quiet: true,
        };
        let (store, recovered) = Store::open(&config.data_dir, options, sink)?;
        let store = Arc::new(store);
        log_recovery(&config, &recovered);
        let search = crate::search::Search::start(
            store.clone(),
            &config.data_dir.join("index"),
            config.index_commit(),
            config.index_idle,
        )
        .map_err(|e| StoreError::Corrupt { tree: "index", detail: e.to_string() })?;
        // The short-text models load once, here, rather than on the first short post.
        let languages = config.languages.clone();
        let also = config.tag_languages.clone();
        let dictionaries = config.dictionaries.clone();
        let tagger = tokio::task::spawn_blocking(move || {
            let (t, read) = Tagger::load(&languages, &also, &dictionaries);
            let with: Vec<&str> = read.iter().map(|(l, _)| l.as_str()).collect();
            tracing::info!(dir = %dictionaries.display(), languages = ?with, "dictionaries for language tagging");
            t.warm_up();
            t
        })
        .await
        .map_err(|e| StoreError::Corrupt { tree: "tagger", detail: e.to_string() })?;
        let limiter = Limiter::new(config.rate_limits());
        let mailer = match &config.smtp_url {
            Some(url) => Some(mail::transport(url).map_err(|e| StoreError::Corrupt { tree: "smtp_url", detail: e })?),
            None => None,
        };
        let blobs = crate::files::Blobs::open(&config.data_dir.join("files"))
            .map_err(|e| StoreError::Corrupt { tree: "files", detail: e.to_string() })?;
        let gate = crate::net::Gate::new(config.net());
        let app = Arc::new(App {
            tagger,
            config,
            store,
            hub,
            search,
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
            metrics: Metrics::default(),
            limiter,
            presence: Presence::default(),
            bells,
            hashes: HashGate::for_this_machine(),
            gate,
            replay_bytes: Arc::new(tokio::sync::Semaphore::new(REPLAY_BYTES_PER_NODE)),
            blobs,
            images: tokio::sync::Semaphore::new(1),
            documents: tokio::sync::Notify::new(),
            mailer,
            mail: tokio::sync::Notify::new(),
            memory: desk::Memories::default(),
        });
        if !app.store.is_initialized()? {
            seed::first_start(&app).await.map_err(|e| StoreError::Corrupt { tree: "seed", detail: e.to_string() })?;
        }
        Ok(app)
    }

    /// The space, if the viewer may read it. A private space is `not_found` to
    /// non-members: its existence is not revealed either.
    pub fn readable_space(&self, viewer: Viewer, id: SpaceId) -> ApiResult<Space> {
        let space = self.store.space(id)?.ok_or_else(|| ApiError::not_found("space"))?;
        if self.can_read(viewer, &space)? {
            Ok(space)
        } else {
            Err(ApiError::not_found("space"))
        }
    }

    /// The room and its space, if the viewer may read them.
    pub fn readable_room(&self, viewer: Viewer, id: RoomId) -> ApiResult<(Room, Space)> {
        let room = self.store.room(id)?.ok_or_else(|| ApiError::not_found("room"))?;
        let space = self.store.space(room.space)?.ok_or_else(|| ApiError::not_found("room"))?;
        if self.can_read(viewer, &space)? {
            Ok((room, space))
        } else {
            Err(ApiError::not_found("room"))
        }
    }

    /// A room as its reader sees it: for a signed-in reader, with where they read up to
    /// and how many posts came after.
    pub fn room_for(&self, viewer: Viewer, id: RoomId) -> ApiResult<Room> {
        let (mut room, space) = self.readable_room(viewer, id)?;
        if let Some(u) = viewer {
            let read = self.store.read_seq(u.id, room.id)?;
            room.read_seq = Some(read);
            room.unread = Some(self.store.posts_after(room.id, read)?);
            room.watch = Some(self.watch_level(u.id, &room, &space)?);
        }
        Ok(room)
    }

    /// How `user` follows `room`: as they chose, else watching a working group's rooms
    /// and their direct conversations, normal elsewhere.
    pub fn watch_level(&self, user: UserId, room: &Room, space: &Space) -> ApiResult<WatchLevel> {
        if let Some((_, level)) = self.watch_choices(Some(room.id), space.id)?.into_iter().find(|(u, _)| *u == user) {
            return Ok(level);
        }
        Ok(if space.visibility == Visibility::Private { WatchLevel::Watching } else { WatchLevel::Normal })
    }

    /// A space as its reader sees it: for a signed-in reader, with how they follow its rooms.
    pub fn space_for(&self, viewer: Viewer, id: SpaceId) -> ApiResult<Space> {
        let mut space = self.readable_space(viewer, id)?;
        if let Some(u) = viewer {
            let chosen = self.store.space_watchers(id)?.into_iter().find(|(w, _)| *w == u.id).map(|(_, l)| l);
            let default =
                if space.visibility == Visibility::Private { WatchLevel::Watching } else { WatchLevel::Normal };
            space.watch = Some(chosen.unwrap_or(default));
        }
        Ok(space)
    }

    /// How the caller follows the rooms of a space from now on (those they made no choice
    /// for).
    pub async fn set_space_watch(&self, viewer: Viewer<'_>, space: SpaceId, level: WatchLevel) -> ApiResult<()> {
        let user = signed_in(viewer)?;
        self.readable_space(viewer, space)?;
        self.limiter.write(user.id)?;
        self.store.run(crate::store::SetSpaceWatch { space, user: user.id, level }).await?;
        Ok(())
    }

    /// How the caller follows a room from now on.
    pub async fn set_watch(&self, viewer: Viewer<'_>, room: RoomId, level: WatchLevel) -> ApiResult<Room> {
        let user = signed_in(viewer)?;
        self.readable_room(viewer, room)?;
        self.limiter.write(user.id)?;
        self.store.run(crate::store::SetWatch { room, user: user.id, level }).await?;
        self.room_for(viewer, room)
    }

    /// Public spaces are open to all; private ones to their members only (whatever
    /// their global role).
    pub fn can_read(&self, viewer: Viewer, space: &Space) -> ApiResult<bool> {
        Ok(match space.visibility {
            Visibility::Public => true,
            Visibility::Private => match viewer {
                Some(u) => self.store.is_member(space.id, u.id)?,
                None => false,
            },
        })
    }

    /// Whether `user` may start posts in `space` (which they can read).
    pub fn check_can_post(&self, user: &User, space: &Space) -> ApiResult<()> {
        if space.archived {
            return Err(ApiError::forbidden("this space is archived: no new posts"));
        }
        match space.post_policy {
            PostPolicy::Members => Ok(()),
            PostPolicy::Moderators if user.is_moderator() => Ok(()),
            PostPolicy::Moderators => Err(ApiError::forbidden("only moderators post in this space")),
        }
    }

    /// Stops the writer after what it holds, and flushes.
    pub async fn close(self: &Arc<Self>) -> Result<(), StoreError> {
        let app = self.clone();
        let _ = tokio::task::spawn_blocking(move || app.search.stop()).await;
        self.store.close().await
    }
}

/// A signed-in user, or `unauthorized`.
pub fn signed_in<'a>(viewer: Viewer<'a>) -> ApiResult<&'a User> {
    viewer.ok_or_else(|| ApiError::unauthorized("sign in first"))
}

fn log_recovery(config: &Config, r: &Recovered) {
    if r.was_recovered {
        tracing::info!(
            data_dir = %config.data_dir.display(),
            users = r.users,
            spaces = r.spaces,
            rooms = r.rooms,
            events = r.events,
            "opened existing data dir; every room resumes at its last durable seq"
        );
    } else {
        tracing::info!(data_dir = %config.data_dir.display(), "created a new data dir");
    }
}
