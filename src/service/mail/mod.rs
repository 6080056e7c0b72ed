//! Email: members' addresses and their verification, password resets, invitations, the
//! notices of what members missed (`notices`), digests (`digest`), unsubscribing, and
//! the sender that delivers the outbox through SMTP (`lettre`). Mail is written into the
//! outbox in the same transaction as what causes it, and leaves it only once the SMTP
//! server took it: a stop, a crash or an SMTP server that is down loses none, and each
//! mail keeps its `Message-ID` across retries.

use std::time::Duration;

use base64::Engine;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{signed_in, validate, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{DigestEvery, EmailSettings, Lang, MailNotifications, User, UserId};
use crate::store::{EmailToken, MailResult, OutboxMail};

mod digest;
mod notices;
pub mod words;

use words::word;

/// How long a verification link works.
const VERIFY_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long a password reset link works.
const RESET_TTL_MS: i64 = 3600 * 1000;
/// The first retry of a mail the SMTP server did not take, and the longest wait between
/// two tries.
const RETRY_FIRST: Duration = Duration::from_secs(15);
const RETRY_MOST: Duration = Duration::from_secs(300);
/// Mails sent at once, each on a connection of its own from the transport's pool.
/// lettre writes a message and its final `.` in two writes without `TCP_NODELAY`, so
/// each message waits out the SMTP server's delayed ACK (about 40 ms on Linux): one
/// connection alone sends about 20 mails a second, 32 in parallel several hundred.
const SENDING_AT_ONCE: usize = 32;

/// The SMTP transport for `url` (`smtp://`, `smtps://`, `?tls=starttls`).
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    // lettre says `tls=required` for STARTTLS.
    let url = url.replace("tls=starttls", "tls=required");
    let pool = lettre::transport::smtp::PoolConfig::new().max_size(SENDING_AT_ONCE as u32);
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url).map(|b| b.pool_config(pool).build()).map_err(|e| e.to_string())
}

/// Of the interface languages, the first `langs` holds (English otherwise).
fn mail_lang(langs: &[Lang]) -> &'static str {
    langs.iter().find_map(|l| crate::service::UI_LANGUAGES.iter().find(|u| **u == l.as_str()).copied()).unwrap_or("en")
}

/// The kinds of mail a member can stop with one click: notices, digests, or both.
pub const UNSUBSCRIBE_KINDS: [&str; 3] = ["notices", "digest", "all"];

/// The signature of a member's unsubscribe link for `kind`, under their key.
fn unsubscribe_sig(key: &str, kind: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(b"unsubscribe\0")
        .chain_update(kind)
        .chain_update(b"\0")
        .chain_update(key)
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18])
}

/// Whether two strings are equal, in a time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl App {
    /// Whether the server sends email.
    pub fn sends_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// The community's name, as mail signs it.
    fn mail_name(&self) -> String {
        self.community().map(|c| c.name).unwrap_or_else(|_| self.config.name.clone())
    }

    /// A mail to `to` of `kind`, its `Message-ID` new; `unsubscribe`: the one-click URL of
    /// its `List-Unsubscribe` header.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn compose(
        &self,
        kind: &str,
        to: &str,
        user: Option<UserId>,
        subject: String,
        text: String,
        html: String,
        unsubscribe: Option<String>,
    ) -> OutboxMail {
        let domain = self.config.mail_from.rsplit_once('@').map_or("localhost", |(_, d)| d.trim_end_matches('>'));
        OutboxMail {
            message_id: format!("<{}.{}@{domain}>", kind, random_token()),
            to: to.to_owned(),
            subject,
            text,
            html,
            kind: kind.to_owned(),
            user,
            created_at: self.config.clock.now_rfc3339(),
            attempts: 0,
            next_ms: 0,
            failed: None,
            notes: Vec::new(),
            window: None,
            posts: Vec::new(),
            unsubscribe,
        }
    }

    /// A mail of one paragraph and a link, in text and HTML, to `to`.
    pub(super) fn outbox_mail(
        &self,
        kind: &str,
        lang: &str,
        to: &str,
        link: &str,
        user: Option<(UserId, &str)>,
    ) -> OutboxMail {
        let name = self.mail_name();
        let subject = word(lang, &format!("{kind}_subject")).replace("{name}", &name);
        let text_line = word(lang, &format!("{kind}_text")).replace("{name}", &name);
        let text = format!("{text_line}\n\n{link}\n\n-- \n{name}\n");
        let html = format!(
            "<!doctype html><html lang=\"{lang}\"><body><p>{}</p><p><a href=\"{}\">{}</a></p><p>— {}</p></body></html>",
            html_escape(&text_line),
            html_escape(link),
            html_escape(link),
            html_escape(&name)
        );
        let unsubscribe = user.map(|(id, key)| self.unsubscribe_url(id, key, "all"));
        self.compose(kind, to, user.map(|u| u.0), subject, text, html, unsubscribe)
    }

    /// Ends a notice or a digest: why they get it (`footer`, a word key), where to choose,
    /// and the link that stops it, in text and HTML.
    pub(super) fn sign_off(&self, lang: &str, footer: &str, unsubscribe: &str, text: &mut String, html: &mut String) {
        let footer = word(lang, footer).replace("{settings}", &self.public_link("profile"));
        text.push_str(&format!("\n-- \n{footer}\n{}: {unsubscribe}\n", word(lang, "stop")));
        html.push_str(&format!(
            "<hr><p><small>{}<br><a href=\"{}\">{}</a></small></p></body></html>",
            html_escape(&footer),
            html_escape(unsubscribe),
            html_escape(word(lang, "stop"))
        ));
    }

    /// A member's one-click unsubscribe URL for `kind` of mail (`UNSUBSCRIBE_KINDS`).
    pub(super) fn unsubscribe_url(&self, user: UserId, key: &str, kind: &str) -> String {
        format!(
            "{}/api/v1/unsubscribe?user={user}&kind={kind}&sig={}",
            self.config.public_url.as_deref().unwrap_or("").trim_end_matches('/'),
            unsubscribe_sig(key, kind)
        )
    }

    /// Where a link of the web client points: under `CB_PUBLIC_URL`.
    pub(super) fn public_link(&self, route: &str) -> String {
        format!("{}/#/{route}", self.config.public_url.as_deref().unwrap_or("").trim_end_matches('/'))
    }

    /// Refuses an address this server cannot take: not one, or no email sent at all.
    pub fn check_email(&self, email: &str) -> ApiResult<()> {
        if !self.sends_mail() {
            return Err(ApiError::field("email", "this server sends no email"));
        }
        if email.len() > 254 || email.trim().parse::<lettre::Address>().is_err() {
            return Err(ApiError::field("email", "not an email address"));
        }
        Ok(())
    }

    /// Sets (or with `""` removes) the caller's address: unverified until the link mailed
    /// to it is opened.
    pub async fn set_email(&self, user: &User, email: &str) -> ApiResult<()> {
        let email = email.trim();
        if email.is_empty() {
            let op =
                crate::store::SetEmail { user: user.id, email: Some(None), token: None, mail: None, mail_key: None };
            self.store.run(op).await?;
            return Ok(());
        }
        self.check_email(email)?;
        self.limiter.write(user.id)?;
        let token = random_token();
        let record = EmailToken {
            user: user.id,
            purpose: "verify".into(),
            email: Some(email.to_owned()),
            expires_ms: self.config.clock.now_ms() + VERIFY_TTL_MS,
        };
        let link = self.public_link(&format!("verify-email?token={token}"));
        let (key, new_key) = self.mail_key(user.id)?;
        let mail = self.outbox_mail("verify", mail_lang(&user.languages), email, &link, Some((user.id, &key)));
        let op = crate::store::SetEmail {
            user: user.id,
            email: Some(Some(email.to_owned())),
            token: Some((super::token_hash(&token), record)),
            mail: Some(Box::new(mail)),
            mail_key: new_key,
        };
        self.store.run(op).await?;
        self.mail.notify_one();
        Ok(())
    }

    /// Opens a verification link: the address it was sent to is verified.
    pub async fn verify_email(&self, token: &str) -> ApiResult<()> {
        let op = crate::store::UseEmailToken { hash: super::token_hash(token), reset: None };
        self.store.run(op).await.map_err(|_| ApiError::field("token", "this link is used, expired or unknown"))?;
        Ok(())
    }

    /// Mails a password reset link to the verified address of the account `login` names
    /// (a handle or that address). Answers the same whether or not there is one.
    pub async fn request_reset(&self, login: &str) -> ApiResult<()> {
        let login = login.trim();
        let lower = login.to_lowercase();
        let found = self.store.users()?.into_iter().find(|r| {
            !r.user.deleted
                && r.email_verified
                && (r.user.handle.to_lowercase() == lower
                    || r.email.as_deref().is_some_and(|e| e.to_lowercase() == lower))
        });
        let Some(rec) = found else { return Ok(()) };
        // A few per account and hour, quietly: the answer does not change.
        if self.limiter.write(rec.user.id).is_err() || !self.sends_mail() {
            return Ok(());
        }
        let Some(email) = rec.email.clone() else { return Ok(()) };
        let token = random_token();
        let record = EmailToken {
            user: rec.user.id,
            purpose: "reset".into(),
            email: None,
            expires_ms: self.config.clock.now_ms() + RESET_TTL_MS,
        };
        let link = self.public_link(&format!("reset-password?token={token}"));
        let (key, new_key) = self.mail_key(rec.user.id)?;
        let mail = self.outbox_mail("reset", mail_lang(&rec.user.languages), &email, &link, Some((rec.user.id, &key)));
        let op = crate::store::SetEmail {
            user: rec.user.id,
            email: None,
            token: Some((super::token_hash(&token), record)),
            mail: Some(Box::new(mail)),
            mail_key: new_key,
        };
        self.store.run(op).await?;
        self.mail.notify_one();
        Ok(())
    }

    /// Sets a new password with a reset link, once; every session of the account ends.
    pub async fn confirm_reset(&self, token: &str, password: String) -> ApiResult<()> {
        validate::password(&password)?;
        let hash = super::token_hash(token);
        let record = self
            .store
            .email_token(&hash)?
            .filter(|t| t.purpose == "reset" && t.expires_ms >= self.config.clock.now_ms())
            .ok_or_else(|| ApiError::field("token", "this link is used, expired or unknown"))?;
        let password_hash = self.hashes.run(move || super::accounts::hash_now(&password)).await?;
        let sessions = self.store.tokens_of(record.user)?;
        let op = crate::store::UseEmailToken { hash, reset: Some((password_hash, sessions)) };
        self.store.run(op).await.map_err(|_| ApiError::field("token", "this link is used, expired or unknown"))?;
        Ok(())
    }

    /// The key of `user`'s unsubscribe links, and whether it is new (to be stored with
    /// the mail that first carries it).
    fn mail_key(&self, user: UserId) -> ApiResult<(String, Option<String>)> {
        let rec = self.store.user(user)?.ok_or_else(|| ApiError::not_found("user"))?;
        Ok(match rec.mail_key {
            Some(k) => (k, None),
            None => {
                let k = random_token();
                (k.clone(), Some(k))
            }
        })
    }

    /// The caller as they see themselves: with their address.
    pub fn me_view(&self, viewer: Viewer) -> ApiResult<User> {
        let user = signed_in(viewer)?;
        let rec = self.store.user(user.id)?.ok_or_else(|| ApiError::not_found("user"))?;
        let mut me = rec.user;
        me.email = rec.email;
        me.email_verified = Some(rec.email_verified);
        me.email_settings = Some(rec.email_settings);
        Ok(me)
    }

    /// Sets the caller's email choices.
    pub async fn set_email_settings(&self, viewer: Viewer<'_>, settings: EmailSettings) -> ApiResult<EmailSettings> {
        let user = signed_in(viewer)?;
        self.limiter.write(user.id)?;
        self.store.run(crate::store::SetEmailSettings { user: user.id, settings }).await?;
        Ok(settings)
    }

    /// Checks a one-click unsubscribe link (`user`, `kind`, `sig` from its query) and,
    /// with `apply`, stops that kind of mail. Answers the member's interface language and
    /// whether the link is good.
    pub async fn unsubscribe(&self, user: &str, kind: &str, sig: &str, apply: bool) -> (&'static str, bool) {
        let Some(rec) = UserId::parse(user).and_then(|u| self.store.user(u).ok().flatten()) else {
            return ("en", false);
        };
        let lang = mail_lang(&rec.user.languages);
        let good = UNSUBSCRIBE_KINDS.contains(&kind)
            && !rec.user.deleted
            && rec.mail_key.as_deref().is_some_and(|k| same(&unsubscribe_sig(k, kind), sig));
        if !good {
            return (lang, false);
        }
        if apply {
            let mut settings = rec.email_settings;
            if kind != "digest" {
                settings.notifications = MailNotifications::Off;
            }
            if kind != "notices" {
                settings.digest = DigestEvery::Off;
            }
            let op = crate::store::SetEmailSettings { user: rec.user.id, settings };
            if let Err(e) = self.store.run(op).await {
                tracing::warn!(error = ?e, "unsubscribing failed");
                return (lang, false);
            }
            tracing::info!(kind, "unsubscribed by a mailed link");
        }
        (lang, true)
    }

    /// The page an unsubscribe link opens: a question and a button (GET), or what was
    /// done (POST).
    pub fn unsubscribe_page(&self, lang: &str, kind: &str, good: bool, done: bool) -> String {
        let name = html_escape(&self.mail_name());
        let body = if !good {
            format!("<p>{}</p>", html_escape(word(lang, "unsub_bad")))
        } else if done {
            format!("<p>{}</p>", html_escape(word(lang, "unsub_done")))
        } else {
            format!(
                "<p>{}</p><form method=\"post\"><button type=\"submit\">{}</button></form>",
                html_escape(word(lang, &format!("unsub_{kind}"))),
                html_escape(word(lang, "stop"))
            )
        };
        format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{name}</title></head><body><h1>{}</h1>{body}</body></html>",
            html_escape(word(lang, "unsub_title"))
        )
    }

    /// Sends what is due in the outbox, oldest first; returns how long until the next
    /// try is due (none: the outbox holds nothing to try).
    pub async fn deliver_mail(&self) -> ApiResult<Option<Duration>> {
        let Some(mailer) = &self.mailer else { return Ok(None) };
        let from: Mailbox = self.config.mail_from.parse().map_err(ApiError::internal)?;
        let now = self.config.clock.now_ms();
        let mut next: Option<i64> = None;
        let mut due = Vec::new();
        for (key, mail) in self.store.outbox()? {
            if mail.failed.is_some() {
                continue;
            }
            if mail.next_ms > now {
                next = Some(next.map_or(mail.next_ms, |n| n.min(mail.next_ms)));
                continue;
            }
            due.push((key, mail));
        }
        for chunk in due.chunks(SENDING_AT_ONCE) {
            let sends = chunk.iter().map(|(key, mail)| self.send_one(mailer, &from, *key, mail.clone()));
            for retry in futures_util::future::join_all(sends).await {
                if let Some(at) = retry? {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
        }
        self.bound_outbox().await?;
        let now = self.config.clock.now_ms();
        Ok(next.map(|n| Duration::from_millis(u64::try_from(n - now).unwrap_or(0))))
    }

    /// Sends one mail of the outbox (after checking what it shows may still go) and
    /// records what became of it; returns when to try again, if it is to be retried.
    async fn send_one(
        &self,
        mailer: &AsyncSmtpTransport<Tokio1Executor>,
        from: &Mailbox,
        key: u64,
        mail: OutboxMail,
    ) -> ApiResult<Option<i64>> {
        // What it shows must still be fit to go: written again without what is not.
        let Some(mail) = self.recheck(mail).await? else {
            self.store.run(crate::store::MailDone { key, result: MailResult::Dropped }).await?;
            return Ok(None);
        };
        let mut retry = None;
        let result = match build(from, &mail) {
            Err(e) => MailResult::Failed(e),
            Ok(message) => match mailer.send(message).await {
                Ok(_) => MailResult::Sent,
                Err(e) if e.is_permanent() => MailResult::Failed(e.to_string()),
                Err(e) => {
                    let wait = RETRY_FIRST.saturating_mul(1 << mail.attempts.min(8)).min(RETRY_MOST);
                    let next_ms = self.config.clock.now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    retry = Some(next_ms);
                    MailResult::Retry { next_ms, error: e.to_string() }
                }
            },
        };
        match &result {
            MailResult::Sent => tracing::info!(kind = %mail.kind, "mail sent"),
            MailResult::Retry { error, .. } => {
                tracing::warn!(kind = %mail.kind, %error, "mail not sent yet; retrying")
            }
            MailResult::Failed(error) => {
                tracing::error!(kind = %mail.kind, %error, "mail refused by the SMTP server")
            }
            MailResult::Dropped => {}
        }
        self.store.run(crate::store::MailDone { key, result }).await?;
        Ok(retry)
    }

    /// A notice or digest as it may still go: `None` when nothing of it may, or written
    /// again without what was hidden, deleted or closed to its reader since.
    async fn recheck(&self, mail: OutboxMail) -> ApiResult<Option<OutboxMail>> {
        let Some(user) = mail.user else { return Ok(Some(mail)) };
        if !mail.notes.is_empty() {
            let Some(rec) = self.store.user(user)?.filter(|r| !r.user.deleted) else { return Ok(None) };
            let fit: Vec<_> = mail.notes.iter().filter_map(|n| self.still_fit(&rec.user, n.clone())).collect();
            if fit.len() == mail.notes.len() {
                return Ok(Some(mail));
            }
            if fit.is_empty() {
                return Ok(None);
            }
            let mut again = self.notice_mail(&rec, &fit)?;
            again.message_id = mail.message_id;
            again.attempts = mail.attempts;
            return Ok(Some(again));
        }
        if let Some((since, until)) = mail.window {
            let Some(rec) = self.store.user(user)?.filter(|r| !r.user.deleted) else { return Ok(None) };
            let unfit = mail.posts.iter().any(|p| match self.store.post(*p) {
                Ok(Some(r)) => {
                    r.post.deleted || r.post.hidden || self.readable_room(Some(&rec.user), r.post.room).is_err()
                }
                _ => true,
            });
            if !unfit {
                return Ok(Some(mail));
            }
            let activity = self.activity(since, until)?;
            let Some(mut again) = self.digest_mail(&rec, since, until, &activity)? else { return Ok(None) };
            again.message_id = mail.message_id;
            again.attempts = mail.attempts;
            return Ok(Some(again));
        }
        Ok(Some(mail))
    }

    /// Keeps the outbox within `outbox_max` mails: the oldest digests go first, then the
    /// oldest notices; account mail (addresses, resets, invitations) is never dropped.
    async fn bound_outbox(&self) -> ApiResult<()> {
        let len = self.store.outbox_len();
        if len <= self.config.outbox_max {
            return Ok(());
        }
        let mut over = len - self.config.outbox_max;
        let all = self.store.outbox()?;
        for kind in ["digest", "notices"] {
            for (key, mail) in all.iter().filter(|(_, m)| m.kind == kind) {
                if over == 0 {
                    return Ok(());
                }
                tracing::warn!(kind = %mail.kind, "outbox full: the oldest mail of its kind is dropped");
                self.store.run(crate::store::MailDone { key: *key, result: MailResult::Dropped }).await?;
                over -= 1;
            }
        }
        Ok(())
    }

    /// The outbox as admins see it: how much waits, and what the SMTP server refused.
    pub fn mail_status(&self, viewer: Viewer) -> ApiResult<MailStatus> {
        if !signed_in(viewer)?.is_admin() {
            return Err(ApiError::forbidden("only admins see the outbox"));
        }
        let all = self.store.outbox()?;
        let failed = all
            .iter()
            .filter_map(|(key, m)| {
                m.failed.as_ref().map(|error| FailedMail {
                    id: key.to_string(),
                    to: m.to.clone(),
                    kind: m.kind.clone(),
                    subject: m.subject.clone(),
                    created_at: m.created_at.clone(),
                    attempts: m.attempts,
                    error: error.clone(),
                })
            })
            .collect::<Vec<_>>();
        Ok(MailStatus { email: self.sends_mail(), waiting: all.len() - failed.len(), failed })
    }

    /// Forgets a mail the SMTP server refused (an admin read why).
    pub async fn forget_failed_mail(&self, viewer: Viewer<'_>, id: &str) -> ApiResult<()> {
        if !signed_in(viewer)?.is_admin() {
            return Err(ApiError::forbidden("only admins see the outbox"));
        }
        let key: u64 = id.parse().map_err(|_| ApiError::not_found("mail"))?;
        if !self.store.outbox()?.iter().any(|(k, m)| *k == key && m.failed.is_some()) {
            return Err(ApiError::not_found("mail"));
        }
        self.store.run(crate::store::MailDone { key, result: MailResult::Dropped }).await?;
        Ok(())
    }
}

/// `GET /admin/mail`.
#[derive(Debug, serde::Serialize)]
pub struct MailStatus {
    /// Whether the server sends email at all.
    pub email: bool,
    /// Mails waiting to go (retried while the SMTP server is down).
    pub waiting: usize,
    /// Mails the SMTP server refused for good.
    pub failed: Vec<FailedMail>,
}

#[derive(Debug, serde::Serialize)]
pub struct FailedMail {
    pub id: String,
    pub to: String,
    pub kind: String,
    pub subject: String,
    pub created_at: String,
    pub attempts: u32,
    pub error: String,
}

/// Sends one test message with `config`'s SMTP settings (`collective-brain mail test`),
/// straight away, outside any outbox.
pub async fn send_test(config: &crate::Config, to: &str) -> Result<(), String> {
    let url = config.smtp_url.as_deref().ok_or("CB_SMTP_URL is not set: this server sends no email")?;
    let mailer = transport(url)?;
    let from: Mailbox = config.mail_from.parse().map_err(|e| format!("mail_from: {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("{to:?} is not an address: {e}"))?;
    let name = &config.name;
    let message = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(word("en", "test_subject").replace("{name}", name))
        .body(format!("{}\n", word("en", "test_text").replace("{name}", name)))
        .map_err(|e| e.to_string())?;
    mailer.send(message).await.map(|_| ()).map_err(|e| e.to_string())
}

/// The message of an outbox mail: multipart text and HTML, its stable `Message-ID`.
fn build(from: &Mailbox, mail: &OutboxMail) -> Result<lettre::Message, String> {
    let to: Mailbox = mail.to.parse().map_err(|e: lettre::address::AddressError| e.to_string())?;
    let mut message = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(mail.message_id.clone()));
    if let Some(url) = &mail.unsubscribe {
        use lettre::message::header::{HeaderName, HeaderValue};
        // RFC 2369 and RFC 8058: a mail client stops this kind of mail with one POST.
        message = message
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    message
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| e.to_string())
}
