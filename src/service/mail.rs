//! Email: members' addresses and their verification, password resets, invitations, and
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
use crate::model::{Lang, User};
use crate::store::{EmailToken, MailResult, OutboxMail};

/// How long a verification link works.
const VERIFY_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long a password reset link works.
const RESET_TTL_MS: i64 = 3600 * 1000;
/// The first retry of a mail the SMTP server did not take, and the longest wait between
/// two tries.
const RETRY_FIRST: Duration = Duration::from_secs(15);
const RETRY_MOST: Duration = Duration::from_secs(300);

/// The SMTP transport for `url` (`smtp://`, `smtps://`, `?tls=starttls`).
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    // lettre says `tls=required` for STARTTLS.
    let url = url.replace("tls=starttls", "tls=required");
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url).map(|b| b.build()).map_err(|e| e.to_string())
}

/// The words of account mail, in the interface languages.
fn words(lang: &str, what: &str) -> &'static str {
    match (lang, what) {
        ("fr", "verify_subject") => "Confirmez votre adresse",
        ("fr", "verify_text") => "Pour confirmer que cette adresse est la vôtre sur {name}, ouvrez ce lien (valable 7 jours) :",
        ("fr", "reset_subject") => "Choisir un nouveau mot de passe",
        ("fr", "reset_text") => "Quelqu'un (vous, espérons-le) a demandé un nouveau mot de passe pour votre compte {name}. Ce lien marche une fois, pendant une heure :",
        ("fr", "invite_subject") => "Vous êtes invité·e à rejoindre {name}",
        ("fr", "invite_text") => "Vous êtes invité·e à rejoindre {name}, où les anciens de l'Académie ESS travaillent ensemble. Créez votre compte avec ce lien :",
        ("es", "verify_subject") => "Confirme su dirección",
        ("es", "verify_text") => "Para confirmar que esta dirección es suya en {name}, abra este enlace (válido 7 días):",
        ("es", "reset_subject") => "Elegir una nueva contraseña",
        ("es", "reset_text") => "Alguien (usted, esperamos) pidió una nueva contraseña para su cuenta de {name}. Este enlace funciona una vez, durante una hora:",
        ("es", "invite_subject") => "Le invitan a unirse a {name}",
        ("es", "invite_text") => "Le invitan a unirse a {name}, donde los antiguos alumnos de la Academia ESS trabajan juntos. Cree su cuenta con este enlace:",
        ("pt", "verify_subject") => "Confirme o seu endereço",
        ("pt", "verify_text") => "Para confirmar que este endereço é seu em {name}, abra este link (válido 7 dias):",
        ("pt", "reset_subject") => "Escolher uma nova palavra-passe",
        ("pt", "reset_text") => "Alguém (você, esperamos) pediu uma nova palavra-passe para a sua conta de {name}. Este link funciona uma vez, durante uma hora:",
        ("pt", "invite_subject") => "Convidam-no a entrar em {name}",
        ("pt", "invite_text") => "Convidam-no a entrar em {name}, onde os antigos alunos da Academia ESS trabalham juntos. Crie a sua conta com este link:",
        (_, "verify_subject") => "Confirm your address",
        (_, "verify_text") => "To confirm that this address is yours on {name}, open this link (it works for 7 days):",
        (_, "reset_subject") => "Choose a new password",
        (_, "reset_text") => "Someone (you, we hope) asked for a new password for your {name} account. This link works once, for an hour:",
        (_, "invite_subject") => "You are invited to join {name}",
        (_, "invite_text") => "You are invited to join {name}, where the SSE Academy's alumni work together. Create your account with this link:",
        _ => "",
    }
}

/// Of the interface languages, the first `langs` holds (English otherwise).
fn mail_lang(langs: &[Lang]) -> &'static str {
    langs.iter().find_map(|l| crate::service::UI_LANGUAGES.iter().find(|u| **u == l.as_str()).copied()).unwrap_or("en")
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

    /// A mail of one paragraph and a link, in text and HTML, to `to`.
    pub(super) fn outbox_mail(
        &self,
        kind: &str,
        lang: &str,
        to: &str,
        link: &str,
        user: Option<crate::model::UserId>,
    ) -> OutboxMail {
        let name = self.community().map(|c| c.name).unwrap_or_else(|_| self.config.name.clone());
        let subject = words(lang, &format!("{kind}_subject")).replace("{name}", &name);
        let text_line = words(lang, &format!("{kind}_text")).replace("{name}", &name);
        let text = format!("{text_line}\n\n{link}\n\n-- \n{name}\n");
        let html = format!(
            "<!doctype html><html lang=\"{lang}\"><body><p>{}</p><p><a href=\"{}\">{}</a></p><p>— {}</p></body></html>",
            html_escape(&text_line),
            html_escape(link),
            html_escape(link),
            html_escape(&name)
        );
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
        }
    }

    /// Where a link of the web client points: under `CB_PUBLIC_URL`.
    pub(super) fn public_link(&self, route: &str) -> String {
        format!("{}/#/{route}", self.config.public_url.as_deref().unwrap_or("").trim_end_matches('/'))
    }

    /// Sets (or with `""` removes) the caller's address: unverified until the link mailed
    /// to it is opened.
    pub async fn set_email(&self, user: &User, email: &str) -> ApiResult<()> {
        let email = email.trim();
        if email.is_empty() {
            let op = crate::store::SetEmail { user: user.id, email: Some(None), token: None, mail: None };
            self.store.run(op).await?;
            return Ok(());
        }
        if !self.sends_mail() {
            return Err(ApiError::field("email", "this server sends no email"));
        }
        if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
            return Err(ApiError::field("email", "not an email address"));
        }
        self.limiter.write(user.id)?;
        let token = random_token();
        let record = EmailToken {
            user: user.id,
            purpose: "verify".into(),
            email: Some(email.to_owned()),
            expires_ms: self.config.clock.now_ms() + VERIFY_TTL_MS,
        };
        let link = self.public_link(&format!("verify-email?token={token}"));
        let mail = self.outbox_mail("verify", mail_lang(&user.languages), email, &link, Some(user.id));
        let op = crate::store::SetEmail {
            user: user.id,
            email: Some(Some(email.to_owned())),
            token: Some((super::token_hash(&token), record)),
            mail: Some(Box::new(mail)),
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
        let mail = self.outbox_mail("reset", mail_lang(&rec.user.languages), &email, &link, Some(rec.user.id));
        let op = crate::store::SetEmail {
            user: rec.user.id,
            email: None,
            token: Some((super::token_hash(&token), record)),
            mail: Some(Box::new(mail)),
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

    /// The caller as they see themselves: with their address.
    pub fn me_view(&self, viewer: Viewer) -> ApiResult<User> {
        let user = signed_in(viewer)?;
        let rec = self.store.user(user.id)?.ok_or_else(|| ApiError::not_found("user"))?;
        let mut me = rec.user;
        me.email = rec.email;
        me.email_verified = Some(rec.email_verified);
        Ok(me)
    }

    /// Sends what is due in the outbox, oldest first; returns how long until the next
    /// try is due (none: the outbox holds nothing to try).
    pub async fn deliver_mail(&self) -> ApiResult<Option<Duration>> {
        let Some(mailer) = &self.mailer else { return Ok(None) };
        let from: Mailbox = self.config.mail_from.parse().map_err(ApiError::internal)?;
        let mut next: Option<i64> = None;
        for (key, mail) in self.store.outbox()? {
            if mail.failed.is_some() {
                continue;
            }
            let now = self.config.clock.now_ms();
            if mail.next_ms > now {
                next = Some(next.map_or(mail.next_ms, |n| n.min(mail.next_ms)));
                continue;
            }
            let result = match build(&from, &mail) {
                Err(e) => MailResult::Failed(e),
                Ok(message) => match mailer.send(message).await {
                    Ok(_) => MailResult::Sent,
                    Err(e) if e.is_permanent() => MailResult::Failed(e.to_string()),
                    Err(e) => {
                        let wait = RETRY_FIRST.saturating_mul(1 << mail.attempts.min(8)).min(RETRY_MOST);
                        let next_ms = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                        next = Some(next.map_or(next_ms, |n| n.min(next_ms)));
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
            }
            self.store.run(crate::store::MailDone { key, result }).await?;
        }
        let now = self.config.clock.now_ms();
        Ok(next.map(|n| Duration::from_millis(u64::try_from(n - now).unwrap_or(0))))
    }
}

/// The message of an outbox mail: multipart text and HTML, its stable `Message-ID`.
fn build(from: &Mailbox, mail: &OutboxMail) -> Result<lettre::Message, String> {
    let to: Mailbox = mail.to.parse().map_err(|e: lettre::address::AddressError| e.to_string())?;
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(mail.message_id.clone()))
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| e.to_string())
}
