//! Posts: create (in a room or as a new thread), edit, delete, read; typing.

use axum::extract::ws::Utf8Bytes;

use super::{signed_in, validate, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::hub::{HubMsg, Topic};
use crate::lang::Evidence;
use crate::model::{NotificationKind, Post, PostId, Revision, RoomId, SpaceId, SpaceKind, User, UserId};
use crate::protocol::ServerFrame;
use crate::store::{NonceRecord, RoomTarget, Turn};

pub const POSTS_DEFAULT_LIMIT: usize = 100;
pub const POSTS_MAX_LIMIT: usize = 500;
/// Posts one `GET /me/reactions` may ask about.
pub const POSTS_MAX_REACTIONS_ASKED: usize = 200;
/// Posts that make up a room's current language, for tagging.
const RECENT_POSTS: usize = 5;

/// A change to an existing post: the seq of its event, and the post as it left it.
#[derive(Clone, Debug)]
pub struct Changed {
    pub seq: u64,
    pub post: Post,
}

/// A post as a client sends it.
#[derive(Debug, Default)]
pub struct NewPost {
    pub body: String,
    pub nonce: String,
    pub reply_to: Option<PostId>,
    /// The author's own statement of the language; it wins over detection.
    pub lang: Option<String>,
    /// Its place among its connection's writes, which reach the store in the order sent.
    pub turn: Turn,
    /// The author's uploads it carries.
    pub files: Vec<crate::model::FileId>,
}

impl App {
    /// Posts in a room. Resending the same nonce returns the first ack's content and
    /// creates nothing.
    pub async fn post(&self, viewer: Viewer<'_>, room: RoomId, p: NewPost) -> ApiResult<NonceRecord> {
        let user = signed_in(viewer)?;
        let (_, space) = self.readable_room(viewer, room)?;
        self.check_can_post(user, &space)?;
        let notify = self.audience(user.id, Some(room), &space, &p.body, p.reply_to)?;
        self.create(user, RoomTarget::Existing(room), p, notify).await
    }

    /// Starts a forum thread: a new room with its first post.
    pub async fn create_room(
        &self,
        viewer: Viewer<'_>,
        space: SpaceId,
        title: &str,
        p: NewPost,
    ) -> ApiResult<NonceRecord> {
        let user = signed_in(viewer)?;
        let s = self.readable_space(viewer, space)?;
        if s.kind != SpaceKind::Forum {
            return Err(ApiError::bad_request("a chat space has exactly one room; post in it"));
        }
        self.check_can_post(user, &s)?;
        let title = validate::title(title)?;
        let notify = self.audience(user.id, None, &s, &p.body, None)?;
        self.create(user, RoomTarget::New { space, title }, p, notify).await
    }

    async fn create(
        &self,
        user: &User,
        target: RoomTarget,
        p: NewPost,
        notify: Vec<(UserId, NotificationKind)>,
    ) -> ApiResult<NonceRecord> {
        self.limiter.write(user.id)?;
        validate::nonce(&p.nonce)?;
        validate::body(&p.body, self.config.max_post_bytes)?;
        let mut files = p.files;
        files.dedup();
        if files.len() > crate::store::MAX_FILES_PER_POST {
            return Err(ApiError::field("files", format!("at most {} files a post", crate::store::MAX_FILES_PER_POST)));
        }
        let declared = p.lang.as_deref().map(validate::lang).transpose()?;
        // A declared language wins: the room's recent posts are read only when needed.
        let room_lang = match &target {
            RoomTarget::Existing(room) if declared.is_none() => self.store.recent_lang(*room, RECENT_POSTS)?,
            _ => None,
        };
        let evidence = Evidence { declared, author: &user.languages, room: room_lang };
        let tag = self.tagger.tag(&p.body, &evidence);
        let html = self.render(&p.body);
        let op = crate::store::CreatePost {
            target,
            author: user.id,
            html,
            body: p.body,
            reply_to: p.reply_to,
            lang: tag.lang,
            lang_source: tag.source,
            lang_confidence: tag.confidence,
            nonce: p.nonce,
            notify,
            files,
        };
        let crate::store::Posted { ack, .. } = self.store.run_in_turn(op, p.turn).await?;
        self.metrics.posts_acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(ack)
    }

    /// A post the viewer may read.
    pub fn read_post(&self, viewer: Viewer, id: PostId) -> ApiResult<Post> {
        let rec = self.store.post(id)?.ok_or_else(|| ApiError::not_found("post"))?;
        self.readable_room(viewer, rec.post.room).map_err(|_| ApiError::not_found("post"))?;
        Ok(rec.post)
    }

    /// Which of `posts` the reader reacted to, and with what: post id to emoji. Posts
    /// the reader cannot read, or that do not exist, are left out (as missing).
    pub fn my_reactions(
        &self,
        viewer: Viewer,
        posts: &[PostId],
    ) -> ApiResult<std::collections::BTreeMap<PostId, Vec<String>>> {
        let user = signed_in(viewer)?;
        if posts.len() > POSTS_MAX_REACTIONS_ASKED {
            return Err(ApiError::field("posts", format!("at most {POSTS_MAX_REACTIONS_ASKED} at once")));
        }
        let mut out = std::collections::BTreeMap::new();
        for &id in posts {
            let Some(rec) = self.store.post(id)? else { continue };
            if self.readable_room(viewer, rec.post.room).is_err() {
                continue;
            }
            let mine: Vec<String> =
                rec.reactors.iter().filter(|(_, who)| who.contains(&user.id)).map(|(e, _)| e.clone()).collect();
            if !mine.is_empty() {
                out.insert(id, mine);
            }
        }
        Ok(out)
    }

    /// Earlier versions of a post, oldest first.
    pub fn post_history(&self, viewer: Viewer, id: PostId) -> ApiResult<Vec<Revision>> {
        let rec = self.store.post(id)?.ok_or_else(|| ApiError::not_found("post"))?;
        self.readable_room(viewer, rec.post.room).map_err(|_| ApiError::not_found("post"))?;
        Ok(rec.history)
    }

    /// Posts of a room with `seq > after_seq`, in seq order.
    pub fn posts(
        &self,
        viewer: Viewer,
        room: RoomId,
        after_seq: Option<u64>,
        before_seq: Option<u64>,
        limit: Option<usize>,
    ) -> ApiResult<Vec<Post>> {
        self.readable_room(viewer, room)?;
        let limit = limit.unwrap_or(POSTS_DEFAULT_LIMIT);
        if limit == 0 || limit > POSTS_MAX_LIMIT {
            return Err(ApiError::field("limit", format!("must be 1 to {POSTS_MAX_LIMIT}")));
        }
        match before_seq {
            Some(before) => Ok(self.store.posts_before(room, before, limit)?),
            None => Ok(self.store.posts(room, after_seq.unwrap_or(0), limit)?),
        }
    }

    /// The author edits their post; the earlier version goes to its history.
    pub async fn edit(&self, viewer: Viewer<'_>, id: PostId, body: String, lang: Option<String>) -> ApiResult<Changed> {
        let user = signed_in(viewer)?;
        let post = self.read_post(viewer, id)?;
        if post.author != user.id {
            return Err(ApiError::forbidden("only the author edits a post"));
        }
        self.limiter.write(user.id)?;
        if post.deleted {
            return Err(ApiError::conflict("the post was deleted"));
        }
        validate::body(&body, self.config.max_post_bytes)?;
        let declared = lang.as_deref().map(validate::lang).transpose()?;
        let room_lang = if declared.is_none() { self.store.recent_lang(post.room, RECENT_POSTS)? } else { None };
        let evidence = Evidence { declared, author: &user.languages, room: room_lang };
        let tag = self.tagger.tag(&body, &evidence);
        let notify = self.newly_mentioned(user.id, &post, &body)?;
        let op = crate::store::EditPost {
            post: id,
            html: self.render(&body),
            notify,
            body,
            lang: tag.lang,
            lang_source: tag.source,
            lang_confidence: tag.confidence,
        };
        let crate::store::PostEvent { seq, post } = self.store.run(op).await?;
        Ok(Changed { seq, post })
    }

    /// The author or a moderator deletes a post: the body, history and translations are
    /// gone, the slot stays.
    pub async fn delete(&self, viewer: Viewer<'_>, id: PostId) -> ApiResult<Changed> {
        let user = signed_in(viewer)?;
        let post = self.read_post(viewer, id)?;
        if post.author != user.id && !user.is_moderator() {
            return Err(ApiError::forbidden("only the author or a moderator deletes a post"));
        }
        self.limiter.write(user.id)?;
        let moderation = (post.author != user.id).then(|| -> ApiResult<_> {
            Ok(crate::store::Moderation { moderator: user.id, reason: None, flaggers: self.store.flaggers(id)? })
        });
        let moderation = moderation.transpose()?;
        let crate::store::PostEvent { seq, post } =
            self.store.run(crate::store::DeletePost { post: id, moderation }).await?;
        Ok(Changed { seq, post })
    }

    /// Adds or removes the viewer's reaction to a post: a `reaction` event with the
    /// counts per emoji. Reacting twice the same way changes nothing.
    pub async fn react(&self, viewer: Viewer<'_>, id: PostId, emoji: &str, add: bool) -> ApiResult<Changed> {
        let user = signed_in(viewer)?;
        self.read_post(viewer, id)?;
        let emoji = validate::reaction(emoji)?;
        self.limiter.write(user.id)?;
        let crate::store::PostEvent { seq, post } =
            self.store.run(crate::store::React { post: id, user: user.id, emoji, add }).await?;
        Ok(Changed { seq, post })
    }

    /// Tells the room's other subscribers that the user is typing. Not stored.
    pub fn typing(&self, viewer: Viewer, room: RoomId) -> ApiResult<()> {
        let user = signed_in(viewer)?;
        self.readable_room(viewer, room)?;
        self.limiter.typing(user.id)?;
        let text = ServerFrame::Typing { room, user: user.id }.to_json();
        self.hub.publish(
            Topic::Room(room),
            HubMsg { seq: 0, from: Some(user.id), scope: None, text: Utf8Bytes::from(text) },
        );
        Ok(())
    }
}
