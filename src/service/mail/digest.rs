//! Digests: daily or weekly, per member's choice, the new threads and the most active
//! discussions of the spaces they read (and, for those who chose it, the notices waiting
//! for them), in their interface language, each post in a language they read. What
//! happened is read once per pass for everyone (`activity`), then each member's digest
//! is cut from it.

use std::sync::Arc;
use std::time::Duration;

use super::{html_escape, mail_lang, random_token, word, App};
use crate::error::{ApiError, ApiResult};
use crate::model::{DigestEvery, Lang, MailNotifications, Post, Room, Space, User};
use crate::store::{OutboxMail, QueueMail, UserRecord, WriteError};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// The longest period a digest looks back over (a member back from a long silence gets
/// the last week, not the last year).
const LONGEST_MS: i64 = 8 * DAY_MS;
/// Posts read per room per pass (the newest).
const PER_ROOM: usize = 500;
const NEW_THREADS: usize = 8;
const ACTIVE: usize = 5;
const WAITING: usize = 10;
/// Characters of a post a digest shows.
const EXCERPT: usize = 280;
/// Digests built and written at once (their writes share commits), and the pause
/// before the next few.
const AT_ONCE: usize = 8;
const PACE: Duration = Duration::from_millis(10);

/// Runs `f` on a blocking thread (store reads and rendering, off the async workers).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(e.to_string()))?
}

/// What happened in the community's rooms over a period: each room with its posts of
/// the period, newest first (none deleted or hidden).
pub struct Activity {
    rooms: Vec<Active>,
}

/// A room of `Activity`, its times read once for every member's digest.
struct Active {
    room: Room,
    space: Space,
    created_ms: i64,
    /// Newest first, with when each was written (ms since the epoch).
    posts: Vec<(i64, Post)>,
}

fn ms(rfc3339: &str) -> i64 {
    crate::clock::parse_ms(rfc3339).unwrap_or(0)
}

fn excerpt(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(EXCERPT) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

impl App {
    /// Writes the digests that are due: returns how many mails it wrote. A few at a
    /// time, each few built on a blocking thread, with a pause between: a community's
    /// digests take a second or two and posting goes on beside them at its pace.
    pub async fn queue_digests(self: &Arc<Self>) -> ApiResult<usize> {
        if !self.sends_mail() {
            return Ok(0);
        }
        let app = self.clone();
        let (first, due, activity, now) = blocking(move || app.digests_due()).await?;
        let mut written = self.write_digests(first).await?;
        let activity = Arc::new(activity);
        let mut due = due.into_iter();
        loop {
            let chunk: Vec<UserRecord> = due.by_ref().take(AT_ONCE).collect();
            if chunk.is_empty() {
                break;
            }
            let (app, activity) = (self.clone(), activity.clone());
            let ops = blocking(move || {
                chunk.into_iter().map(|rec| app.digest_op(rec, now, &activity)).collect::<ApiResult<Vec<_>>>()
            })
            .await?;
            written += self.write_digests(ops).await?;
            tokio::time::sleep(PACE).await;
        }
        if written > 0 {
            self.mail.notify_one();
        }
        Ok(written)
    }

    /// Runs the writes of some digests at once; returns how many mails they hold.
    async fn write_digests(&self, ops: Vec<QueueMail>) -> ApiResult<usize> {
        let mut written = 0;
        for chunk in ops.chunks(AT_ONCE) {
            let runs = chunk.iter().map(|op| self.store.run(op.clone()));
            for (op, result) in chunk.iter().zip(futures_util::future::join_all(runs).await) {
                match result {
                    Ok(_) => written += usize::from(op.mail.is_some()),
                    // A post it shows was hidden or deleted meanwhile: written again next pass.
                    Err(WriteError::Refused(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(written)
    }

    /// Who is due for a digest now, and what happened over their periods: the writes of
    /// those whose first period starts now, the members due, the activity, and now.
    fn digests_due(&self) -> ApiResult<(Vec<QueueMail>, Vec<UserRecord>, Activity, i64)> {
        let now = self.config.clock.now_ms();
        let mut due = Vec::new();
        let mut ops = Vec::new();
        for rec in self.store.users()? {
            if rec.user.deleted || !rec.email_verified {
                continue;
            }
            let period = match rec.email_settings.digest {
                DigestEvery::Off => continue,
                DigestEvery::Daily => DAY_MS,
                DigestEvery::Weekly => 7 * DAY_MS,
            };
            if rec.digest_sent_ms == 0 {
                // The first digest covers what happens from now on.
                ops.push(QueueMail {
                    user: rec.user.id,
                    due: Vec::new(),
                    mail: None,
                    digest_sent_ms: Some(now),
                    mail_key: None,
                });
            } else if rec.digest_sent_ms + period <= now {
                due.push(rec);
            }
        }
        let activity = match due.iter().map(|r| r.digest_sent_ms).min() {
            Some(since) => self.activity(since.max(now - LONGEST_MS), now)?,
            None => Activity { rooms: Vec::new() },
        };
        Ok((ops, due, activity, now))
    }

    /// The write of one member's digest (none when nothing happened: the period moves on).
    fn digest_op(&self, mut rec: UserRecord, now: i64, activity: &Activity) -> ApiResult<QueueMail> {
        let mut op =
            QueueMail { user: rec.user.id, due: Vec::new(), mail: None, digest_sent_ms: Some(now), mail_key: None };
        if rec.mail_key.is_none() {
            let key = random_token();
            op.mail_key = Some(key.clone());
            rec.mail_key = Some(key);
        }
        let since = rec.digest_sent_ms.max(now - LONGEST_MS);
        op.mail = self.digest_mail(&rec, since, now, activity)?.map(Box::new);
        Ok(op)
    }

    /// What happened between `since` and `until` (ms since the epoch) in every room but
    /// direct conversations.
    pub(super) fn activity(&self, since: i64, until: i64) -> ApiResult<Activity> {
        let mut rooms = Vec::new();
        for space in self.store.spaces()? {
            if space.is_direct() {
                continue;
            }
            for room in self.store.rooms_of(space.id)? {
                if ms(&room.last_activity_at) <= since {
                    continue;
                }
                let posts: Vec<(i64, Post)> = self
                    .store
                    .posts_since(room.id, since, PER_ROOM)?
                    .into_iter()
                    .map(|p| (ms(&p.created_at), p))
                    .filter(|(at, p)| !p.deleted && !p.hidden && *at <= until)
                    .collect();
                if !posts.is_empty() {
                    let created_ms = ms(&room.created_at);
                    rooms.push(Active { room, space: space.clone(), created_ms, posts });
                }
            }
        }
        Ok(Activity { rooms })
    }

    /// One post of a digest: its heading (a link to it), what else is said of it, who
    /// wrote it and its first words in a language the reader reads.
    fn digest_item(
        &self,
        user: &User,
        lang: &str,
        (text, html): (&mut String, &mut String),
        heading: String,
        extra: Option<String>,
        post: &Post,
    ) {
        let link = self.public_link(&format!("p/{}", post.id));
        let (body, _, note) = self.readable_text(user, post, lang);
        let by = self.name_of(post.author);
        let quote = excerpt(&body);
        text.push_str(&format!("\n* {heading}\n"));
        if let Some(extra) = &extra {
            text.push_str(&format!("  {extra}\n"));
        }
        text.push_str(&format!("  {by}: {quote}\n"));
        if let Some(note) = &note {
            text.push_str(&format!("  ({note})\n"));
        }
        text.push_str(&format!("  {link}\n"));
        html.push_str(&format!(
            "<li><a href=\"{}\"><strong>{}</strong></a>{}<br><em>{}</em>: {}{}</li>",
            html_escape(&link),
            html_escape(&heading),
            extra.map(|e| format!(" · {}", html_escape(&e))).unwrap_or_default(),
            html_escape(&by),
            html_escape(&quote),
            note.map(|n| format!(" <small>({})</small>", html_escape(&n))).unwrap_or_default(),
        ));
    }

    /// One member's digest of `activity` between `since` and `until`: none when nothing
    /// happened that they may read.
    pub(super) fn digest_mail(
        &self,
        rec: &UserRecord,
        since: i64,
        until: i64,
        activity: &Activity,
    ) -> ApiResult<Option<OutboxMail>> {
        let user = &rec.user;
        let lang = mail_lang(&user.languages);
        let mut readable: Vec<(&Room, &Space, Vec<&Post>)> = Vec::new();
        let mut created = std::collections::HashMap::new();
        for a in &activity.rooms {
            if !self.can_read(Some(user), &a.space)? {
                continue;
            }
            let posts: Vec<&Post> =
                a.posts.iter().filter(|(at, p)| *at > since && p.author != user.id).map(|(_, p)| p).collect();
            if !posts.is_empty() {
                created.insert(a.room.id, a.created_ms);
                readable.push((&a.room, &a.space, posts));
            }
        }
        let created_ms = |r: &Room| created.get(&r.id).copied().unwrap_or(0);
        let mut new: Vec<_> = readable.iter().filter(|(r, _, _)| r.title.is_some() && created_ms(r) > since).collect();
        new.sort_by_key(|(r, _, _)| std::cmp::Reverse(created_ms(r)));
        new.truncate(NEW_THREADS);
        let mut active: Vec<_> =
            readable.iter().filter(|(r, _, _)| !new.iter().any(|(n, _, _)| n.id == r.id)).collect();
        active.sort_by_key(|(_, _, posts)| std::cmp::Reverse(posts.len()));
        active.truncate(ACTIVE);
        let mut waiting = Vec::new();
        if rec.email_settings.notifications == MailNotifications::Digest {
            // Those of the period: each is told once.
            for n in self.store.notifications(user.id, true, WAITING)? {
                if ms(&n.created_at) > since {
                    waiting.extend(self.still_fit(user, n));
                }
            }
        }
        if new.is_empty() && active.is_empty() && waiting.is_empty() {
            return Ok(None);
        }

        let name = self.mail_name();
        let every = if until - since > 2 * DAY_MS { "weekly" } else { "daily" };
        let every = match rec.email_settings.digest {
            DigestEvery::Daily => "daily",
            DigestEvery::Weekly => "weekly",
            DigestEvery::Off => every,
        };
        let subject = word(lang, &format!("digest_{every}_subject")).replace("{name}", &name);
        let day = chrono::DateTime::from_timestamp_millis(since).map(|d| d.format("%Y-%m-%d").to_string());
        let intro = word(lang, "digest_intro").replace("{name}", &name).replace("{since}", &day.unwrap_or_default());
        let mut text = format!("{intro}\n");
        let mut html = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head><body><p>{}</p>",
            html_escape(&intro)
        );
        let mut shown = Vec::new();
        let mut item = |text: &mut String, html: &mut String, heading: String, extra: Option<String>, post: &Post| {
            self.digest_item(user, lang, (text, html), heading, extra, post);
            shown.push(post.id);
        };
        let space_name =
            |s: &Space| Lang::parse(lang).and_then(|l| s.names.get(&l).cloned()).unwrap_or_else(|| s.name.clone());
        for (title, list) in [("digest_new", &new), ("digest_active", &active)] {
            if list.is_empty() {
                continue;
            }
            text.push_str(&format!("\n{}\n", word(lang, title)));
            html.push_str(&format!("<h2>{}</h2><ul>", html_escape(word(lang, title))));
            for (room, space, posts) in list.iter() {
                let heading = match &room.title {
                    Some(t) => format!("{t} ({})", space_name(space)),
                    None => space_name(space),
                };
                if title == "digest_new" {
                    // The thread's first post (the oldest of the period).
                    if let Some(first) = posts.last() {
                        item(&mut text, &mut html, heading, None, first);
                    }
                } else if let Some(latest) = posts.first() {
                    let n = word(lang, "digest_posts").replace("{n}", &posts.len().to_string());
                    item(&mut text, &mut html, heading, Some(n), latest);
                }
            }
            html.push_str("</ul>");
        }
        if !waiting.is_empty() {
            text.push_str(&format!("\n{}\n", word(lang, "digest_waiting")));
            html.push_str(&format!("<h2>{}</h2><ul>", html_escape(word(lang, "digest_waiting"))));
            for (_, post) in &waiting {
                item(&mut text, &mut html, self.place_of(post, lang), None, post);
            }
            html.push_str("</ul>");
        }
        let key = rec.mail_key.clone().unwrap_or_default();
        let unsubscribe = self.unsubscribe_url(user.id, &key, "digest");
        self.sign_off(lang, "digest_footer", &unsubscribe, &mut text, &mut html);
        let to = rec.email.clone().unwrap_or_default();
        let mut mail = self.compose("digest", &to, Some(user.id), subject, text, html, Some(unsubscribe));
        mail.window = Some((since, until));
        mail.posts = shown;
        Ok(Some(mail))
    }
}
