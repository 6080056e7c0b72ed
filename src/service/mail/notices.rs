//! Notices: the mentions, replies, direct messages and watched posts a member has not
//! seen within `email_delay_secs` while no socket of theirs was open, mailed together to
//! their verified address. The store marks each notification due (`mail_due`) in the
//! same transaction as the post; `queue_notices` turns what is due into one mail per
//! member, written in the same transaction that settles the notifications.

use std::collections::BTreeMap;

use super::{html_escape, mail_lang, random_token, word, App};
use crate::error::ApiResult;
use crate::model::{MailNotifications, Notification, NotificationId, NotificationKind, Post, User, UserId};
use crate::store::{OutboxMail, QueueMail, UserRecord, WriteError};

/// What waits unseen this long while its reader is online is not mailed.
const STALE_MS: i64 = 24 * 3600 * 1000;
/// Most notices one mail quotes (the newest); the rest are a click away.
const MOST_PER_MAIL: usize = 20;

impl App {
    /// Turns the notifications due for a notice into mails, one per member: returns how
    /// many it wrote.
    pub async fn queue_notices(&self) -> ApiResult<usize> {
        if !self.sends_mail() {
            return Ok(0);
        }
        let now = self.config.clock.now_ms();
        let delay = i64::try_from(self.config.email_delay_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut by_user: BTreeMap<UserId, Vec<([u8; 24], i64, NotificationId)>> = BTreeMap::new();
        for (key, at, user, n) in self.store.mail_due(now.saturating_sub(delay))? {
            by_user.entry(user).or_default().push((key, at, n));
        }
        let mut written = 0;
        for (user, due) in by_user {
            let mut op = QueueMail { user, due: Vec::new(), mail: None, digest_sent_ms: None, mail_key: None };
            if self.bells.has_socket(user) {
                // Online: most likely seen live. Mailed once they leave, unless read by
                // then; forgotten after a day.
                op.due = due.iter().filter(|d| d.1 < now - STALE_MS).map(|d| d.0).collect();
                if op.due.is_empty() {
                    continue;
                }
            } else {
                op.due = due.iter().map(|d| d.0).collect();
                let rec = self.store.user(user)?.filter(|r| {
                    !r.user.deleted
                        && r.email_verified
                        && r.email_settings.notifications == MailNotifications::Immediate
                });
                if let Some(rec) = rec {
                    let mut notes: Vec<(Notification, Post)> = Vec::new();
                    for d in &due {
                        if let Some(n) = self.store.notification(user, d.2)? {
                            notes.extend(self.still_fit(&rec.user, n));
                        }
                    }
                    if !notes.is_empty() {
                        let mut rec = rec;
                        if rec.mail_key.is_none() {
                            let key = random_token();
                            op.mail_key = Some(key.clone());
                            rec.mail_key = Some(key);
                        }
                        op.mail = Some(Box::new(self.notice_mail(&rec, &notes)?));
                    }
                }
            }
            let wrote = op.mail.is_some();
            match self.store.run(op).await {
                Ok(_) => written += usize::from(wrote),
                // A post it quotes was hidden or deleted meanwhile: written again next time.
                Err(WriteError::Refused(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if written > 0 {
            self.mail.notify_one();
        }
        Ok(written)
    }

    /// A notification with its post, if it may still be mailed to `user`: unread, its
    /// post neither deleted nor hidden, readable by them, and not read in its room.
    pub(super) fn still_fit(&self, user: &User, n: Notification) -> Option<(Notification, Post)> {
        if n.read {
            return None;
        }
        let post = self.store.post(n.post).ok().flatten()?.post;
        if post.deleted || post.hidden || self.readable_room(Some(user), post.room).is_err() {
            return None;
        }
        if self.store.read_seq(user.id, post.room).ok()? >= post.seq {
            return None;
        }
        Some((n, post))
    }

    /// Where a post was written, as a notice names it: the thread's title, the space's
    /// name, or a direct conversation.
    pub(super) fn place_of(&self, post: &Post, lang: &str) -> String {
        let Ok(Some(room)) = self.store.room(post.room) else { return String::new() };
        if let Some(title) = room.title {
            return format!("“{title}”");
        }
        match self.store.space(room.space) {
            Ok(Some(space)) if space.is_direct() => word(lang, "direct").to_owned(),
            Ok(Some(space)) => {
                crate::model::Lang::parse(lang).and_then(|l| space.names.get(&l).cloned()).unwrap_or(space.name)
            }
            _ => String::new(),
        }
    }

    /// The name a member's posts are signed with.
    pub(super) fn name_of(&self, user: UserId) -> String {
        match self.store.user(user) {
            Ok(Some(r)) if !r.user.deleted => {
                if r.user.display_name.is_empty() {
                    format!("@{}", r.user.handle)
                } else {
                    r.user.display_name
                }
            }
            _ => "—".to_owned(),
        }
    }

    /// A post's text in a language `user` reads: a published translation when the
    /// original is in none of theirs and there is one, else the original, its language
    /// named when they do not read it. Returns (text, html, a note on the language).
    pub(super) fn readable_text(&self, reader: &User, post: &Post, lang: &str) -> (String, String, Option<String>) {
        let reads = |l: &str| reader.languages.iter().any(|r| r.as_str() == l);
        if !reads(post.lang.as_str()) {
            for l in &reader.languages {
                if let Some(t) = post.translations.get(l).filter(|t| !t.stale) {
                    let note = word(lang, "translated_from")
                        .replace("{lang}", &super::words::language_name(post.lang.as_str()));
                    return (t.body.clone(), t.html.clone(), Some(note));
                }
            }
            let note = word(lang, "original_in").replace("{lang}", &super::words::language_name(post.lang.as_str()));
            return (post.body.clone(), post.html.clone(), Some(note));
        }
        (post.body.clone(), post.html.clone(), None)
    }

    /// The mail of one member's notices: each post quoted with who wrote it, where, and
    /// a link to it.
    pub(super) fn notice_mail(&self, rec: &UserRecord, notes: &[(Notification, Post)]) -> ApiResult<OutboxMail> {
        let lang = mail_lang(&rec.user.languages);
        let name = self.mail_name();
        let key = rec.mail_key.clone().unwrap_or_default();
        let unsubscribe = self.unsubscribe_url(rec.user.id, &key, "notices");
        let shown = &notes[notes.len().saturating_sub(MOST_PER_MAIL)..];
        let line = |n: &Notification, post: &Post| {
            let what = match n.kind {
                NotificationKind::Mention => "mention",
                NotificationKind::Reply => "reply",
                NotificationKind::Dm => "dm",
                NotificationKind::Watched => "watched",
            };
            word(lang, what).replace("{who}", &self.name_of(post.author)).replace("{where}", &self.place_of(post, lang))
        };
        let subject = match shown {
            [(n, post)] => line(n, post),
            _ => word(lang, "many_subject").replace("{n}", &notes.len().to_string()).replace("{name}", &name),
        };
        let mut text = format!("{}\n\n", word(lang, "notices_intro"));
        let mut html = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head><body><p>{}</p>",
            html_escape(word(lang, "notices_intro"))
        );
        for (n, post) in shown {
            let link = self.public_link(&format!("p/{}", post.id));
            let (body, body_html, note) = self.readable_text(&rec.user, post, lang);
            let heading = line(n, post);
            text.push_str(&format!("{heading}\n"));
            if let Some(note) = &note {
                text.push_str(&format!("({note})\n"));
            }
            for l in body.lines() {
                text.push_str(&format!("> {l}\n"));
            }
            text.push_str(&format!("{}: {link}\n\n", word(lang, "open")));
            html.push_str(&format!(
                "<h3>{}</h3>{}<blockquote>{body_html}</blockquote><p><a href=\"{}\">{}</a></p>",
                html_escape(&heading),
                note.map(|n| format!("<p><small>{}</small></p>", html_escape(&n))).unwrap_or_default(),
                html_escape(&link),
                html_escape(word(lang, "open")),
            ));
        }
        self.sign_off(lang, "notices_footer", &unsubscribe, &mut text, &mut html);
        let to = rec.email.clone().unwrap_or_default();
        let mut mail = self.compose("notices", &to, Some(rec.user.id), subject, text, html, Some(unsubscribe));
        mail.notes = shown.iter().map(|(n, _)| n.clone()).collect();
        Ok(mail)
    }
}
