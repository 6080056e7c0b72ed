//! Accounts: registration, sign-in and sign-out, profiles, roles.
//!
//! Passwords are kept only as argon2id hashes (the argon2 crate's defaults: 19 MiB,
//! 2 passes, 1 lane, the OWASP minimum). Tokens are 256 random bits sent as bearer and
//! stored only as their SHA-256, so a copy of the data dir holds no usable token.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::net::IpAddr;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{validate, App};
use crate::error::{ApiError, ApiResult, Code};
use crate::model::{Role, Signup, User, UserId};

/// What `register` needs.
#[derive(Clone, Debug, Default)]
pub struct Registration {
    pub handle: String,
    pub password: String,
    pub display_name: Option<String>,
    pub languages: Option<Vec<String>>,
    /// An invitation code: required when sign-up is by invitation; it admits at once
    /// (no approval) and joins its spaces.
    pub invite: Option<String>,
}

/// A new account: signed in, or waiting for a moderator's approval.
#[derive(Debug)]
pub enum Registered {
    SignedIn { token: String, user: User },
    Pending(User),
}

/// Hashes a password with argon2id, off the async runtime (outside the gate: for the
/// first start and tools; requests go through `HashGate`).
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await.map_err(ApiError::internal)?
}

pub(super) fn hash_now(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(ApiError::internal)
}

fn verify_now(password: &str, hash: &str) -> ApiResult<bool> {
    // No hash (an account restored from an export without secrets): no password works.
    let Ok(parsed) = PasswordHash::new(hash) else { return Ok(false) };
    Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash that no password matches, checked for unknown handles so that they take the
/// time of a real check.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        hash_now(&hex::encode(secret)).unwrap_or_default()
    })
}

/// How stale a token's last use may be before it is written again.
const TOUCH_EVERY_MS: i64 = 3_600_000;

/// How long a request waits for a turn at hashing before it is told to come back.
const HASH_WAIT: Duration = Duration::from_secs(5);

/// Bounds the password hashes computed at once: each holds 19 MiB and a core for tens of
/// milliseconds, so a flood of sign-ins would otherwise take the memory and the CPU of
/// everyone else. A few run, a bounded number wait, and the rest are shed at once with
/// `rate_limited`.
pub struct HashGate {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl HashGate {
    pub fn new(concurrent: usize, max_waiting: usize) -> HashGate {
        HashGate { permits: Semaphore::new(concurrent.max(1)), waiting: AtomicUsize::new(0), max_waiting }
    }

    /// One hash for each core, and sixteen waiting for each.
    pub fn for_this_machine() -> HashGate {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashGate::new(cores, cores * 16)
    }

    /// Runs `f` (a hash) on a blocking thread when its turn comes, or refuses.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let permit = tokio::time::timeout(HASH_WAIT, self.permits.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _permit = match permit {
            Ok(Ok(p)) => p,
            _ => return Err(busy()),
        };
        tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
    }
}

fn busy() -> ApiError {
    let mut e = ApiError::new(Code::RateLimited, "too many sign-ins at once: try again in a few seconds");
    e.retry_after = Some(2);
    e
}

/// The SHA-256 of a token: how the store knows it.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl App {
    /// Creates an account with the given roles (`member` is always among them).
    pub async fn create_user(&self, reg: Registration, roles: Vec<Role>) -> ApiResult<User> {
        self.create_account(reg, roles, false).await
    }

    async fn create_account(&self, reg: Registration, mut roles: Vec<Role>, pending: bool) -> ApiResult<User> {
        let handle = validate::handle(&reg.handle)?;
        validate::password(&reg.password)?;
        let display_name = match &reg.display_name {
            Some(d) => {
                let d = validate::display_name(d)?;
                self.check_not_impersonating(&d, &handle)?;
                d
            }
            None => handle.clone(),
        };
        let languages = validate::languages("languages", reg.languages.as_deref().unwrap_or(&[]))?;
        if !roles.contains(&Role::Member) {
            roles.push(Role::Member);
        }
        roles.sort();
        roles.dedup();
        if self.store.user_by_handle(&handle)?.is_some() {
            return Err(ApiError::conflict(format!("handle {handle:?} is taken")));
        }
        let invite = match reg.invite.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) if !super::joining::code_shape(code) => {
                return Err(ApiError::field("invite", "this invitation code is unknown"));
            }
            code => code.map(str::to_owned),
        };
        let password = reg.password;
        let password_hash = self.hashes.run(move || hash_now(&password)).await?;
        let op = crate::store::CreateUser { handle, display_name, languages, roles, password_hash, pending, invite };
        Ok(self.store.run(op).await?)
    }

    /// Registers a member as the sign-up mode allows: signed in at once, or (approval)
    /// waiting. An invitation code is needed in `invite` mode and admits at once in
    /// every mode. Limited per address.
    pub async fn register(&self, reg: Registration, from: IpAddr) -> ApiResult<Registered> {
        self.limiter.register(from)?;
        let invited = reg.invite.as_deref().is_some_and(|c| !c.trim().is_empty());
        let mode = self.signup_mode()?;
        if mode == Signup::Invite && !invited {
            return Err(ApiError::field("invite", "joining needs an invitation code: ask a coordinator for one"));
        }
        let pending = mode == Signup::Approval && !invited;
        let user = self.create_account(reg, vec![Role::Member], pending).await?;
        if pending {
            return Ok(Registered::Pending(user));
        }
        let token = self.issue_token(user.id).await?;
        Ok(Registered::SignedIn { token, user })
    }

    /// Signs in. Attempts are limited per address, and failed ones per handle: past a
    /// few, that handle's sign-ins slow down, whoever makes them.
    pub async fn login(&self, handle: &str, password: &str, from: IpAddr) -> ApiResult<(String, User)> {
        self.limiter.login(from)?;
        // Counted as failed before the hash, so concurrent guesses cannot all be
        // checked; given back when the password was right.
        self.limiter.login_attempt(handle)?;
        let result = self.check_login(handle, password).await;
        if !matches!(&result, Err(e) if e.code == Code::Unauthorized) {
            self.limiter.login_refund(handle);
        }
        result
    }

    async fn check_login(&self, handle: &str, password: &str) -> ApiResult<(String, User)> {
        let bad = || ApiError::unauthorized("wrong handle or password");
        if handle.is_empty() || password.len() > validate::PASSWORD_MAX {
            return Err(bad());
        }
        let Some(rec) = self.store.user_by_handle(handle)? else {
            // The same check against a decoy, so timing does not tell which handles
            // exist.
            let password = password.to_owned();
            let _ = self.hashes.run(move || verify_now(&password, decoy_hash())).await?;
            return Err(bad());
        };
        let suspended = rec.suspended_until_ms;
        let (password, hash) = (password.to_owned(), rec.password_hash);
        if !self.hashes.run(move || verify_now(&password, &hash)).await? {
            return Err(bad());
        }
        if rec.pending {
            return Err(ApiError::forbidden("your account waits for a moderator's approval"));
        }
        if let Some(until) = suspended.filter(|u| *u > self.config.clock.now_ms()) {
            return Err(ApiError::forbidden(format!("suspended until {}", crate::clock::rfc3339(until))));
        }
        let token = self.issue_token(rec.user.id).await?;
        Ok((token, rec.user))
    }

    async fn issue_token(&self, user: UserId) -> ApiResult<String> {
        let token = new_token();
        self.store.run(crate::store::PutToken { hash: token_hash(&token), user }).await?;
        Ok(token)
    }

    /// Revokes the token: from now on it authenticates nothing.
    pub async fn logout(&self, token: &str) -> ApiResult<()> {
        self.store.run(crate::store::RevokeToken { hash: token_hash(token) }).await?;
        Ok(())
    }

    /// The user a bearer token names, if it is valid.
    pub fn authenticate(&self, token: &str) -> ApiResult<Option<User>> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some((rec, used_ms)) = self.store.session(&hash)? else { return Ok(None) };
        let now = self.config.clock.now_ms();
        let idle_ms = i64::try_from(self.config.token_idle().as_millis()).unwrap_or(i64::MAX);
        if used_ms > 0 && now.saturating_sub(used_ms) > idle_ms {
            return Ok(None);
        }
        if now.saturating_sub(used_ms) > TOUCH_EVERY_MS {
            // Written off the request's path, at most once an hour per token.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let (store, user) = (self.store.clone(), rec.user.id);
                rt.spawn(async move {
                    let _ = store.run(crate::store::TouchToken { hash, user }).await;
                });
            }
        }
        Ok(Some(rec.user))
    }

    /// Checks that `given` is `user`'s own password (for acts that need it again), counted
    /// as a sign-in attempt; a wrong one is a `bad_request` on `field`.
    pub async fn confirm_password(&self, user: &User, field: &'static str, given: &str) -> ApiResult<()> {
        self.limiter.login_attempt(&user.handle)?;
        let rec = self.store.user(user.id)?.ok_or_else(|| ApiError::not_found("user"))?;
        let (given, hash) = (given.to_owned(), rec.password_hash);
        if given.len() > validate::PASSWORD_MAX || !self.hashes.run(move || verify_now(&given, &hash)).await? {
            return Err(ApiError::field(field, "is not your password"));
        }
        self.limiter.login_refund(&user.handle);
        Ok(())
    }

    /// Changes the caller's password, given the current one: every other session of
    /// theirs ends (their sockets close); the one that asked goes on.
    pub async fn change_password(&self, user: &User, token: &str, current: &str, new: &str) -> ApiResult<()> {
        validate::password(new)?;
        self.confirm_password(user, "current_password", current).await?;
        let new = new.to_owned();
        let password_hash = self.hashes.run(move || hash_now(&new)).await?;
        let keep = token_hash(token);
        let others = self.store.tokens_of(user.id)?;
        self.store.run(crate::store::SetPassword { user: user.id, password_hash, keep, others }).await?;
        Ok(())
    }

    /// A display name may not read as another member's handle (look-alike letters and
    /// invisible characters folded): `@admin` written with a Cyrillic `а` is refused.
    pub(super) fn check_not_impersonating(&self, display_name: &str, own_handle: &str) -> ApiResult<()> {
        let name = validate::skeleton(display_name.trim_start_matches('@'));
        let own = own_handle.to_lowercase();
        for handle in self.store.handles()? {
            if handle != own && validate::skeleton(&handle) == name {
                return Err(ApiError::field("display_name", "is too like another member's name: choose another"));
            }
        }
        Ok(())
    }

    pub fn user(&self, id: UserId) -> ApiResult<User> {
        Ok(self.store.user(id)?.ok_or_else(|| ApiError::not_found("user"))?.user)
    }

    /// Admins set anyone's roles.
    pub async fn set_roles(&self, actor: &User, id: UserId, mut roles: Vec<Role>) -> ApiResult<User> {
        if !actor.is_admin() {
            return Err(ApiError::forbidden("only admins change roles"));
        }
        if actor.id == id && !roles.contains(&Role::Admin) {
            return Err(ApiError::bad_request("roles: an admin cannot remove their own admin role"));
        }
        if !roles.contains(&Role::Member) {
            roles.push(Role::Member);
        }
        roles.sort();
        roles.dedup();
        Ok(self
            .store
            .run(crate::store::UpdateUser {
                id,
                display_name: None,
                languages: None,
                roles: Some(roles),
                profile: None,
            })
            .await?)
    }
}
