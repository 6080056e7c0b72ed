//! Accounts: registration, sign-in and sign-out, profiles, roles.
//!
//! Passwords are kept only as argon2id hashes (the argon2 crate's defaults: 19 MiB,
//! 2 passes, 1 lane, the OWASP minimum). Tokens are 256 random bits sent as bearer and
//! stored only as their SHA-256, so a copy of the data dir holds no usable token.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::net::IpAddr;

use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{validate, App};
use crate::error::{ApiError, ApiResult};
use crate::model::{Role, User, UserId};
use crate::store::{Op, Outcome};

/// What `register` needs.
#[derive(Clone, Debug, Default)]
pub struct Registration {
    pub handle: String,
    pub password: String,
    pub display_name: Option<String>,
    pub languages: Option<Vec<String>>,
}

/// Hashes a password with argon2id, off the async runtime.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

async fn verify_password(password: String, hash: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(ApiError::internal)?
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

fn expect_user(outcome: Outcome) -> ApiResult<User> {
    match outcome {
        Outcome::User(u) => Ok(u),
        other => Err(ApiError::internal(format!("expected a user, got {other:?}"))),
    }
}

impl App {
    /// Creates an account with the given roles (`member` is always among them).
    pub async fn create_user(&self, reg: Registration, mut roles: Vec<Role>) -> ApiResult<User> {
        let handle = validate::handle(&reg.handle)?;
        validate::password(&reg.password)?;
        let display_name = match &reg.display_name {
            Some(d) => validate::display_name(d)?,
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
        let password_hash = hash_password(reg.password).await?;
        expect_user(self.store.submit(Op::CreateUser { handle, display_name, languages, roles, password_hash }).await?)
    }

    /// Registers a member and signs them in. Limited per address.
    pub async fn register(&self, reg: Registration, from: IpAddr) -> ApiResult<(String, User)> {
        self.limiter.register(from)?;
        let user = self.create_user(reg, vec![Role::Member]).await?;
        let token = self.issue_token(user.id).await?;
        Ok((token, user))
    }

    /// Signs in. Attempts are limited per address, and failed ones per handle: past a
    /// few, that handle's sign-ins slow down, whoever makes them.
    pub async fn login(&self, handle: &str, password: &str, from: IpAddr) -> ApiResult<(String, User)> {
        self.limiter.login(from)?;
        self.limiter.login_allowed(handle)?;
        let result = self.check_login(handle, password).await;
        if matches!(&result, Err(e) if e.code == crate::error::Code::Unauthorized) {
            self.limiter.login_failed(handle);
        }
        result
    }

    async fn check_login(&self, handle: &str, password: &str) -> ApiResult<(String, User)> {
        let bad = || ApiError::unauthorized("wrong handle or password");
        if handle.is_empty() || password.len() > validate::PASSWORD_MAX {
            return Err(bad());
        }
        let Some(rec) = self.store.user_by_handle(handle)? else {
            // Spend the same time as a real check, so timing does not tell which
            // handles exist.
            let _ = hash_password(password.to_owned()).await;
            return Err(bad());
        };
        let suspended = rec.suspended_until_ms;
        if !verify_password(password.to_owned(), rec.password_hash).await? {
            return Err(bad());
        }
        if let Some(until) = suspended.filter(|u| *u > self.config.clock.now_ms()) {
            return Err(ApiError::forbidden(format!("suspended until {}", crate::clock::rfc3339(until))));
        }
        let token = self.issue_token(rec.user.id).await?;
        Ok((token, rec.user))
    }

    async fn issue_token(&self, user: UserId) -> ApiResult<String> {
        let token = new_token();
        self.store.submit(Op::PutToken { hash: token_hash(&token), user }).await?;
        Ok(token)
    }

    /// Revokes the token: from now on it authenticates nothing.
    pub async fn logout(&self, token: &str) -> ApiResult<()> {
        self.store.submit(Op::RevokeToken { hash: token_hash(token) }).await?;
        Ok(())
    }

    /// The user a bearer token names, if it is valid.
    pub fn authenticate(&self, token: &str) -> ApiResult<Option<User>> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        Ok(self.store.user_by_token_hash(&token_hash(token))?.map(|r| r.user))
    }

    pub async fn update_profile(
        &self,
        user: &User,
        display_name: Option<&str>,
        languages: Option<&[String]>,
    ) -> ApiResult<User> {
        let display_name = display_name.map(validate::display_name).transpose()?;
        let languages = languages.map(|l| validate::languages("languages", l)).transpose()?;
        expect_user(self.store.submit(Op::UpdateUser { id: user.id, display_name, languages, roles: None }).await?)
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
        expect_user(
            self.store.submit(Op::UpdateUser { id, display_name: None, languages: None, roles: Some(roles) }).await?,
        )
    }
}
