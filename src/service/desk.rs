//! The translators' desk: pairs, the queue, claims with leases, translations, language
//! corrections and coverage.
//!
//! A post needs a translation into every community language but its own (missing or
//! stale). The store keeps that set as queue items, updated in the same transaction as
//! every change to the post, and announces each change on the queue topic of the target
//! language; here are the reads and the access rules around it.

use std::collections::HashMap;

use serde::Serialize;

use super::{signed_in, validate, App, Changed, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Lang, LangPair, Post, PostId, Role, RoomId, SpaceId, User};

pub const QUEUE_DEFAULT_LIMIT: usize = 50;
pub const QUEUE_MAX_LIMIT: usize = 200;
pub const MAX_PAIRS: usize = 32;

/// One item of a translator's queue, with what a translator needs to know of where the
/// post was written.
#[derive(Clone, Debug, Serialize)]
pub struct QueueEntry {
    pub post: Post,
    pub room: RoomId,
    pub needed: Lang,
    /// `post` (a post's body to translate).
    pub kind: &'static str,
    /// The thread's title (none in a chat room).
    pub room_title: Option<String>,
    pub space: SpaceRef,
    pub author: AuthorRef,
    /// Extension: the post's place in its thread (1 for the opening post); none in a
    /// chat room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// Extension: when the caller holds the claim on it, until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_until: Option<String>,
}

/// A queue item's space: `{id, name}`.
#[derive(Clone, Debug, Serialize)]
pub struct SpaceRef {
    pub id: SpaceId,
    pub name: String,
}

/// A queue item's author: `{id, display_name}`.
#[derive(Clone, Debug, Serialize)]
pub struct AuthorRef {
    pub id: crate::model::UserId,
    pub display_name: String,
}

/// A granted claim.
#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    pub post: PostId,
    pub lang: Lang,
    pub expires_at: String,
}

/// The translation memory of this node: an index per language pair of the store's
/// `memory` records, read up to `seen`.
#[derive(Default)]
pub struct Memories {
    state: std::sync::Mutex<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    seen: u64,
    pairs: HashMap<(Lang, Lang), crate::memory::Memory>,
}

/// One translation-memory match for a sentence of the post being translated.
#[derive(Clone, Debug, Serialize)]
pub struct Suggestion {
    pub source: String,
    pub target: String,
    pub score: f64,
    pub from_post: PostId,
    /// Extension: which sentence of the post it is for (0 for the first).
    pub sentence: usize,
}

/// Suggestions offered per sentence, and the least score offered.
const SUGGESTIONS_PER_SENTENCE: usize = 3;
const SUGGESTION_MIN_SCORE: f64 = 0.5;
/// Sentences of one post looked up at most.
const SUGGESTION_MAX_SENTENCES: usize = 60;

/// A translator's published translations, for the desk's recognition page.
#[derive(Clone, Debug, Serialize)]
pub struct TranslatorCount {
    pub user: AuthorRef,
    pub translations: usize,
    /// By target language.
    pub languages: std::collections::BTreeMap<Lang, usize>,
}

/// How far translation into one language has come.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    pub lang: Lang,
    /// Posts waiting for a translation into it, among those the caller can read.
    pub waiting: usize,
    /// Translations made into it so far, among those the caller can read.
    pub translated: usize,
    /// The median time from post to translation, in seconds.
    pub median_seconds: Option<f64>,
}

fn translator<'a>(viewer: Viewer<'a>) -> ApiResult<&'a User> {
    let user = signed_in(viewer)?;
    if user.has_role(Role::Translator) {
        Ok(user)
    } else {
        Err(ApiError::forbidden("only translators use the translation desk"))
    }
}

/// A language pair as a client asks for it, checked by [`App::set_pairs`].
#[derive(Clone, Debug, serde::Deserialize)]
pub struct PairRequest {
    pub from: String,
    pub to: String,
}

impl App {
    /// Sets the caller's language pairs. Targets must be community languages.
    pub async fn set_pairs(
        &self,
        viewer: Viewer<'_>,
        pairs: Vec<PairRequest>,
        paused: Option<bool>,
    ) -> ApiResult<User> {
        let user = translator(viewer)?;
        self.limiter.write(user.id)?;
        if pairs.len() > MAX_PAIRS {
            return Err(ApiError::field("pairs", format!("at most {MAX_PAIRS} pairs")));
        }
        let mut clean: Vec<LangPair> = Vec::new();
        for p in pairs {
            let from = validate::lang(&p.from)
                .map_err(|_| ApiError::field("pairs", format!("{:?} is not an ISO 639-1 code", p.from)))?;
            let to = validate::lang(&p.to)
                .map_err(|_| ApiError::field("pairs", format!("{:?} is not an ISO 639-1 code", p.to)))?;
            if from == to {
                return Err(ApiError::field("pairs", format!("{from} to {to} is no translation")));
            }
            if !self.config.languages.contains(&to) {
                return Err(ApiError::field(
                    "pairs",
                    format!(
                        "{to} is not a language of this community ({})",
                        self.config.languages.iter().map(Lang::as_str).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let pair = LangPair { from, to };
            if !clean.contains(&pair) {
                clean.push(pair);
            }
        }
        Ok(self.store.run(crate::store::SetPairs { user: user.id, pairs: clean, paused }).await?)
    }

    /// The target languages the translator works into (only `to` when given), each with
    /// the source languages they take.
    pub fn queue_targets(&self, user: &User, to: Option<&str>) -> ApiResult<Vec<(Lang, Vec<Lang>)>> {
        translator(Some(user))?;
        if user.translator_pairs.is_empty() {
            return Err(ApiError::bad_request("declare your language pairs first (PUT /api/v1/me/translator)"));
        }
        let to = to.map(validate::lang).transpose()?;
        let mut targets: Vec<(Lang, Vec<Lang>)> = Vec::new();
        for p in &user.translator_pairs {
            if to.is_some_and(|t| t != p.to) {
                continue;
            }
            match targets.iter_mut().find(|(t, _)| *t == p.to) {
                Some((_, froms)) => froms.push(p.from),
                None => targets.push((p.to, vec![p.from])),
            }
        }
        if let (true, Some(to)) = (targets.is_empty(), to) {
            return Err(ApiError::bad_request(format!("you translate into none of {to}")));
        }
        Ok(targets)
    }

    /// What the caller can translate, News-like spaces first, then oldest first; only
    /// from spaces they can read; items another translator holds are left out.
    pub fn queue(&self, viewer: Viewer, to: Option<&str>, limit: Option<usize>) -> ApiResult<Vec<QueueEntry>> {
        let user = translator(viewer)?;
        let limit = limit.unwrap_or(QUEUE_DEFAULT_LIMIT);
        if limit == 0 || limit > QUEUE_MAX_LIMIT {
            return Err(ApiError::field("limit", format!("must be 1 to {QUEUE_MAX_LIMIT}")));
        }
        let targets = self.queue_targets(user, to)?;
        // Paused: nothing is offered until they resume (their claims stay theirs).
        if user.translator_paused {
            return Ok(Vec::new());
        }
        let now = self.config.clock.now_ms();
        let mut readable: HashMap<SpaceId, bool> = HashMap::new();
        // (priority, post id) orders items across target languages as within one.
        let mut found: Vec<((u8, String), QueueEntry)> = Vec::new();
        for (to, froms) in targets {
            let mut taken = 0;
            for item in self.store.queue(to) {
                let item = item?;
                if taken == limit {
                    break;
                }
                if !froms.contains(&item.from) {
                    continue;
                }
                if !self.may_read(Some(user), item.space, &mut readable) {
                    continue;
                }
                let mut claimed_until = None;
                if let Some(c) = self.store.claim(item.post, to)? {
                    if c.expires_ms > now {
                        if c.translator != user.id {
                            continue;
                        }
                        claimed_until = Some(crate::clock::rfc3339(c.expires_ms));
                    }
                }
                let Some(rec) = self.store.post(item.post)? else { continue };
                let (Some(space), Some(room)) = (self.store.space(item.space)?, self.store.room(item.room)?) else {
                    continue;
                };
                // News and pinned threads, then what readers asked for, then the rest.
                let priority = match space.post_policy {
                    _ if room.pinned => 0,
                    crate::model::PostPolicy::Moderators => 0,
                    _ if !self.store.translation_requests(item.post, to)?.is_empty() => 1,
                    _ => 2,
                };
                let entry = self.queue_entry(rec.post, room, space, to, claimed_until)?;
                found.push(((priority, entry.post.created_at.clone()), entry));
                taken += 1;
            }
            self.title_entries(user, to, &froms, limit, &mut readable, &mut found)?;
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found.into_iter().take(limit).map(|(_, e)| e).collect())
    }

    /// Threads whose title waits for a translation into `to` from one of `froms`, as
    /// `title` items (with the opening post for context): News and pinned threads first,
    /// then beside readers' requests, ahead of other posts.
    fn title_entries(
        &self,
        user: &User,
        to: Lang,
        froms: &[Lang],
        limit: usize,
        readable: &mut HashMap<SpaceId, bool>,
        found: &mut Vec<((u8, String), QueueEntry)>,
    ) -> ApiResult<()> {
        let mut taken = 0;
        for room in self.store.title_queue(to) {
            if taken == limit {
                break;
            }
            let Some(room) = self.store.room(room?)? else { continue };
            if !room.title_lang.is_some_and(|l| froms.contains(&l)) {
                continue;
            }
            let can = self.may_read(Some(user), room.space, readable);
            let Some(space) = self.store.space(room.space)?.filter(|_| can) else { continue };
            let Some(opening) = self.store.posts(room.id, 0, 1)?.into_iter().next() else { continue };
            if opening.deleted || opening.hidden {
                continue;
            }
            let priority = match space.post_policy {
                _ if room.pinned => 0,
                crate::model::PostPolicy::Moderators => 0,
                _ => 1,
            };
            let mut entry = self.queue_entry(opening, room, space, to, None)?;
            entry.kind = "title";
            found.push(((priority, entry.post.created_at.clone()), entry));
            taken += 1;
        }
        Ok(())
    }

    /// A translator's translation of a thread's title into `lang`, shown to readers of
    /// that language and searchable in it.
    pub async fn translate_title(
        &self,
        viewer: Viewer<'_>,
        room: RoomId,
        lang: &str,
        title: &str,
    ) -> ApiResult<crate::model::Room> {
        let user = translator(viewer)?;
        let lang = validate::lang(lang)?;
        let title = validate::title(title)?;
        let (r, _) = self.readable_room(viewer, room)?;
        let Some(from) = r.title_lang else {
            return Err(ApiError::bad_request("only a forum thread has a title to translate"));
        };
        self.check_pair(user, from, lang)?;
        self.limiter.write(user.id)?;
        let opening = self.store.posts(room, 0, 1)?.into_iter().next().map(|p| p.id);
        let op = crate::store::TranslateTitle { room, lang, title, translator: user.id, opening };
        self.store.run(op).await?;
        self.store.room(room)?.ok_or_else(|| ApiError::not_found("room"))
    }

    /// A new title for a thread, by its author or whoever manages its space: its
    /// translations are marked stale and offered to translators again.
    pub async fn rename_room(&self, viewer: Viewer<'_>, room: RoomId, title: &str) -> ApiResult<crate::model::Room> {
        let user = signed_in(viewer)?;
        let title = validate::title(title)?;
        let (r, _) = self.readable_room(viewer, room)?;
        if r.title.is_none() {
            return Err(ApiError::bad_request("a chat room has no title"));
        }
        let opening = self.store.posts(room, 0, 1)?.into_iter().next();
        if opening.as_ref().is_none_or(|p| p.author != user.id) {
            self.check_manages(user, r.space)?;
        }
        self.limiter.write(user.id)?;
        let op = crate::store::RenameRoom { room, title, opening: opening.map(|p| p.id) };
        self.store.run(op).await?;
        self.store.room(room)?.ok_or_else(|| ApiError::not_found("room"))
    }

    /// A queue item with its context: the thread, the space, the author, the place.
    fn queue_entry(
        &self,
        post: Post,
        room: crate::model::Room,
        space: crate::model::Space,
        needed: Lang,
        claimed_until: Option<String>,
    ) -> ApiResult<QueueEntry> {
        let author = match self.store.user(post.author)? {
            Some(r) if !r.user.deleted => r.user.display_name,
            _ => String::new(),
        };
        // Threads are short: their posts up to this one are counted.
        let position = match room.title {
            Some(_) => {
                Some(self.store.posts_after(room.id, 0)?.saturating_sub(self.store.posts_after(room.id, post.seq)?))
            }
            None => None,
        };
        Ok(QueueEntry {
            room: room.id,
            needed,
            kind: "post",
            room_title: room.title,
            space: SpaceRef { id: space.id, name: space.name },
            author: AuthorRef { id: post.author, display_name: author },
            position,
            claimed_until,
            post,
        })
    }

    /// Of `posts`, those the caller can read that readers asked to have in languages
    /// they still lack (missing or stale), with those languages.
    pub fn requested_translations(
        &self,
        viewer: Viewer,
        posts: &[PostId],
    ) -> ApiResult<std::collections::BTreeMap<PostId, Vec<Lang>>> {
        if posts.len() > super::posts::POSTS_MAX_REACTIONS_ASKED {
            return Err(ApiError::field(
                "posts",
                format!("at most {} at once", super::posts::POSTS_MAX_REACTIONS_ASKED),
            ));
        }
        let mut out = std::collections::BTreeMap::new();
        for &id in posts {
            let Some(rec) = self.store.post(id)? else { continue };
            let p = &rec.post;
            if p.deleted || p.hidden || self.readable_room(viewer, p.room).is_err() {
                continue;
            }
            let mut langs = Vec::new();
            for lang in &self.config.languages {
                let lacking = *lang != p.lang && p.translations.get(lang).is_none_or(|t| t.stale);
                if lacking && !self.store.translation_requests(id, *lang)?.is_empty() {
                    langs.push(*lang);
                }
            }
            if !langs.is_empty() {
                out.insert(id, langs);
            }
        }
        Ok(out)
    }

    /// A reader asks for `post` in `lang`, a community language it is not in: it waits
    /// for translators (a short chat post enters the queue only so), ahead of all but
    /// News. Asking twice changes nothing.
    pub async fn request_translation(&self, viewer: Viewer<'_>, post: PostId, lang: &str) -> ApiResult<()> {
        let user = signed_in(viewer)?;
        let lang = validate::lang(lang)?;
        if !self.config.languages.contains(&lang) {
            return Err(ApiError::field("lang", format!("{lang} is not a language of this community")));
        }
        let p = self.read_post(viewer, post)?;
        if p.lang == lang {
            return Err(ApiError::field("lang", format!("the post is in {lang} already")));
        }
        if p.translations.get(&lang).is_some_and(|t| !t.stale) {
            return Ok(());
        }
        self.limiter.write(user.id)?;
        self.store.run(crate::store::RequestTranslation { post, lang, user: user.id }).await?;
        Ok(())
    }

    /// Takes the lease on translating `post` into `lang`; `conflict` while another
    /// translator holds it.
    pub async fn claim(&self, viewer: Viewer<'_>, post: PostId, lang: &str) -> ApiResult<Claim> {
        let user = translator(viewer)?;
        let lang = validate::lang(lang)?;
        let p = self.read_post(viewer, post)?;
        self.check_pair(user, p.lang, lang)?;
        let crate::store::ClaimedUntil(expires_ms) =
            self.store.run(crate::store::Claim { post, lang, translator: user.id }).await?;
        Ok(Claim { post, lang, expires_at: crate::clock::rfc3339(expires_ms) })
    }

    /// Gives a claim back before its lease ends.
    pub async fn release(&self, viewer: Viewer<'_>, post: PostId, lang: &str) -> ApiResult<()> {
        let user = translator(viewer)?;
        let lang = validate::lang(lang)?;
        self.read_post(viewer, post)?;
        self.store.run(crate::store::Release { post, lang, translator: user.id }).await?;
        Ok(())
    }

    /// Publishes a translation: stored with its translator and time, a `translation`
    /// event in the room, and the item gone from every queue.
    pub async fn translate(&self, viewer: Viewer<'_>, post: PostId, lang: &str, body: &str) -> ApiResult<Changed> {
        let user = translator(viewer)?;
        let lang = validate::lang(lang)?;
        validate::body(body, self.config.max_post_bytes)?;
        let p = self.read_post(viewer, post)?;
        if p.deleted {
            return Err(ApiError::conflict("the post was deleted"));
        }
        self.check_pair(user, p.lang, lang)?;
        self.limiter.write(user.id)?;
        let pairs = crate::memory::align(&p.body, body);
        let html = self.render(body);
        let op = crate::store::Translate { post, lang, body: body.to_owned(), html, translator: user.id, pairs };
        let crate::store::PostEvent { seq, post } = self.store.run(op).await?;
        Ok(Changed { seq, post })
    }

    fn check_pair(&self, user: &User, from: Lang, to: Lang) -> ApiResult<()> {
        if !self.config.languages.contains(&to) {
            return Err(ApiError::field("lang", format!("{to} is not a language of this community")));
        }
        if from == to {
            return Err(ApiError::field("lang", "the post is already in this language"));
        }
        if !user.translator_pairs.iter().any(|p| p.from == from && p.to == to) {
            return Err(ApiError::forbidden(format!("{from} to {to} is not one of your language pairs")));
        }
        Ok(())
    }

    /// Returns to the queue, live, every item whose claim has expired. Runs while the
    /// server serves.
    pub async fn sweep_expired_claims(&self) -> ApiResult<usize> {
        // A scan of the store: off the runtime's workers, which it must never block.
        let (store, now) = (self.store.clone(), self.config.clock.now_ms());
        let expired =
            tokio::task::spawn_blocking(move || store.expired_claims(now)).await.map_err(ApiError::internal)??;
        let n = expired.len();
        for (post, lang) in expired {
            self.store.run(crate::store::ExpireClaim { post, lang }).await?;
        }
        Ok(n)
    }

    /// Corrects a post's language in one action (its author, a translator or a
    /// moderator): an `edit` event, and the post rerouted in the queue.
    pub async fn correct_lang(&self, viewer: Viewer<'_>, post: PostId, lang: &str) -> ApiResult<Changed> {
        let user = signed_in(viewer)?;
        let lang = validate::lang(lang)?;
        let p = self.read_post(viewer, post)?;
        if p.author != user.id && !user.has_role(Role::Translator) && !user.is_moderator() {
            return Err(ApiError::forbidden("only the author, a translator or a moderator corrects a post's language"));
        }
        self.limiter.write(user.id)?;
        let crate::store::PostEvent { seq, post } = self.store.run(crate::store::SetLang { post, lang }).await?;
        Ok(Changed { seq, post })
    }

    /// Translation-memory matches for each sentence of `post` into `lang`, best first
    /// within each sentence, from earlier human translations in public spaces and in the
    /// post's own space only (and of posts still shown). Blocking: reads the store.
    pub fn suggestions(&self, viewer: Viewer, post: PostId, lang: &str) -> ApiResult<Vec<Suggestion>> {
        let user = translator(viewer)?;
        let lang = validate::lang(lang)?;
        let p = self.read_post(viewer, post)?;
        self.check_pair(user, p.lang, lang)?;
        let (room, _) = self.readable_room(viewer, p.room)?;
        let mut allowed_spaces: HashMap<u64, bool> = HashMap::new();
        let mut allowed = |space: u64| -> bool {
            if space == room.space.0 {
                return true;
            }
            *allowed_spaces.entry(space).or_insert_with(|| {
                matches!(self.store.space(SpaceId(space)), Ok(Some(s)) if s.visibility == crate::model::Visibility::Public && s.direct.is_empty())
            })
        };
        let mut found = Vec::new();
        {
            let mut state = self.memory.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.catch_up_memory(&mut state)?;
            let Some(memory) = state.pairs.get(&(p.lang, lang)) else { return Ok(Vec::new()) };
            for (i, s) in crate::memory::sentences(&p.body).iter().take(SUGGESTION_MAX_SENTENCES).enumerate() {
                for m in memory.lookup(s, SUGGESTIONS_PER_SENTENCE, SUGGESTION_MIN_SCORE, &mut allowed) {
                    found.push((i, m));
                }
            }
        }
        let mut out = Vec::new();
        for (sentence, m) in found {
            let from = PostId(m.post);
            // A deleted or hidden post's words are offered to no one.
            let shown = self.store.post(from)?.is_some_and(|r| !r.post.deleted && !r.post.hidden);
            if shown {
                out.push(Suggestion { source: m.source, target: m.target, score: m.score, from_post: from, sentence });
            }
        }
        Ok(out)
    }

    /// Reads the memory records this node has not indexed yet.
    fn catch_up_memory(&self, state: &mut MemoryState) -> ApiResult<()> {
        loop {
            let batch = self.store.memory_since(state.seen, 1000)?;
            let Some((last, _)) = batch.last() else { return Ok(()) };
            state.seen = *last;
            for (_, r) in batch {
                let pairs = r
                    .pairs
                    .into_iter()
                    .map(|(source, target)| crate::memory::Pair { source, target, post: r.post.0, space: r.space.0 })
                    .collect();
                state.pairs.entry((r.from, r.to)).or_default().add_translation(r.post.0, pairs);
            }
        }
    }

    /// Whether `viewer` may read `space`, remembered in `seen` for the rest of a listing.
    fn may_read(&self, viewer: Viewer, space: SpaceId, seen: &mut HashMap<SpaceId, bool>) -> bool {
        *seen.entry(space).or_insert_with(|| self.readable_space(viewer, space).is_ok())
    }

    /// Every translator's published translations of posts and thread titles (the
    /// current one of each post or title and language is credited), most first, counting
    /// only what the caller can read.
    pub fn translators(&self, viewer: Viewer) -> ApiResult<Vec<TranslatorCount>> {
        signed_in(viewer)?;
        let mut readable: HashMap<SpaceId, bool> = HashMap::new();
        let mut counts: HashMap<crate::model::UserId, std::collections::BTreeMap<Lang, usize>> = HashMap::new();
        for lang in &self.config.languages {
            for (post, t) in self.store.translation_records(*lang)? {
                if !self.may_read(viewer, t.space, &mut readable) {
                    continue;
                }
                // A record written before it named its translator: the post's translation does.
                let who = match t.translator {
                    Some(who) => Some(who),
                    None => self.store.post(post)?.and_then(|r| r.post.translations.get(lang).map(|t| t.translator)),
                };
                if let Some(who) = who {
                    *counts.entry(who).or_default().entry(*lang).or_default() += 1;
                }
            }
        }
        for space in self.store.spaces()? {
            if !self.may_read(viewer, space.id, &mut readable) {
                continue;
            }
            for room in self.store.rooms_of(space.id)? {
                for (lang, t) in room.title_translations {
                    *counts.entry(t.translator).or_default().entry(lang).or_default() += 1;
                }
            }
        }
        let mut out = Vec::new();
        for (id, languages) in counts {
            let Some(rec) = self.store.user(id)?.filter(|r| !r.user.deleted) else { continue };
            let translations = languages.values().sum();
            out.push(TranslatorCount {
                user: AuthorRef { id, display_name: rec.user.display_name },
                translations,
                languages,
            });
        }
        out.sort_by(|a, b| {
            b.translations.cmp(&a.translations).then_with(|| a.user.display_name.cmp(&b.user.display_name))
        });
        Ok(out)
    }

    /// Per community language: posts waiting, translations made, and the median wait,
    /// counting only what the caller can read.
    pub fn coverage(&self, viewer: Viewer) -> ApiResult<Vec<Coverage>> {
        let mut readable: HashMap<SpaceId, bool> = HashMap::new();
        let mut can = |space: SpaceId| -> ApiResult<bool> { Ok(self.may_read(viewer, space, &mut readable)) };
        let mut out = Vec::new();
        for lang in &self.config.languages {
            let mut waiting = 0;
            for item in self.store.queue(*lang) {
                if can(item?.space)? {
                    waiting += 1;
                }
            }
            let mut times: Vec<i64> = Vec::new();
            for t in self.store.translation_times(*lang)? {
                if can(t.space)? {
                    times.push(t.waited_ms);
                }
            }
            times.sort_unstable();
            let median_seconds = match times.len() {
                0 => None,
                n if n % 2 == 1 => Some(times[n / 2] as f64 / 1000.0),
                n => Some((times[n / 2 - 1] + times[n / 2]) as f64 / 2000.0),
            };
            out.push(Coverage { lang: *lang, waiting, translated: times.len(), median_seconds });
        }
        Ok(out)
    }
}
