//! The HTTP adapter: routes under `/api/v1`, extractors that turn every bad input into
//! the contract's JSON error, and the static web client.

mod accounts;
mod desk;
mod files;
mod moderation;
mod notifications;
mod operate;
mod posts;
mod search;
mod spaces;

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, Code};
use crate::model::{
    Post, PostId, PostPolicy, Revision, Role, Room, RoomId, Space, SpaceId, SpaceKind, User, UserId, Visibility,
};
use crate::service::{signed_in, App, Claim, Coverage, NewPost, QueueEntry, Registration};
use crate::store::Secrets;

pub fn router(app: Arc<App>) -> Router {
    let api = Router::new()
        .route("/config", get(accounts::community).patch(accounts::patch_community))
        .route("/invites", get(accounts::invites).post(accounts::create_invite))
        .route("/invites/{code}", delete(accounts::revoke_invite))
        .route("/admin/signups", get(accounts::signups))
        .route("/admin/stats", get(operate::stats))
        .route("/admin/backups", get(operate::backups).post(operate::backup_now))
        .route("/admin/signups/{id}/approve", post(accounts::approve_signup))
        .route("/admin/signups/{id}/reject", post(accounts::reject_signup))
        .route("/auth/register", post(accounts::register))
        .route("/auth/login", post(accounts::login))
        .route("/auth/logout", post(accounts::logout))
        .route("/auth/verify-email", post(accounts::verify_email))
        .route("/auth/password-reset", post(accounts::password_reset))
        .route("/auth/password-reset/confirm", post(accounts::password_reset_confirm))
        .route("/me", get(accounts::me).patch(accounts::patch_me).delete(accounts::delete_me))
        .route("/me/export", get(accounts::export_me))
        .route("/me/email-settings", put(accounts::email_settings))
        .route("/unsubscribe", get(accounts::unsubscribe_page).post(accounts::unsubscribe))
        .route("/admin/mail", get(accounts::admin_mail))
        .route("/admin/mail/{id}", delete(accounts::forget_mail))
        .route("/me/password", put(accounts::change_password))
        .route("/me/reactions", get(posts::my_reactions))
        .route("/translation-requests", get(posts::requested_translations))
        .route("/users", get(accounts::directory))
        .route("/users/{id}", get(accounts::user).delete(accounts::delete_user))
        .route("/users/{id}/roles", put(accounts::set_roles))
        .route("/spaces", get(spaces::spaces).post(spaces::create_space))
        .route("/dms", get(spaces::dms).post(spaces::open_dm))
        .route("/spaces/{id}", get(spaces::space).patch(spaces::update_space))
        .route("/spaces/{id}/members", get(spaces::members).post(spaces::add_member))
        .route("/spaces/{id}/members/{user}", delete(spaces::remove_member))
        .route("/spaces/{id}/coordinators", put(spaces::set_coordinators))
        .route("/groups", get(spaces::groups))
        .route("/files", post(files::upload))
        .route("/files/{id}", get(files::download).patch(files::describe))
        .route("/files/{id}/thumbnail", get(files::thumbnail))
        .route("/files/{id}/translations", post(files::translate))
        .route("/translations/files", get(files::to_translate))
        .route("/users/{id}/avatar", get(files::avatar))
        .route("/spaces/{id}/library", get(files::library))
        .route("/spaces/{id}/join-requests", get(spaces::join_requests).post(spaces::request_join))
        .route("/spaces/{id}/join-requests/{user}/{answer}", post(spaces::answer_join))
        .route("/rooms/{id}/pin", put(spaces::pin_room))
        .route("/spaces/{id}/rooms", get(spaces::rooms).post(spaces::create_room))
        .route("/rooms/{id}", get(spaces::room).patch(spaces::rename_room))
        .route("/rooms/{id}/title-translations", post(desk::translate_title))
        .route("/rooms/{id}/posts", get(posts::posts).post(posts::create_post))
        .route("/rooms/{id}/presence", get(spaces::presence))
        .route("/rooms/{id}/read", put(spaces::mark_read))
        .route("/rooms/{id}/watch", put(spaces::watch_room))
        .route("/spaces/{id}/watch", put(spaces::watch_space))
        .route("/posts/{id}", get(posts::read_post).patch(posts::edit_post).delete(posts::delete_post))
        .route("/posts/{id}/history", get(posts::post_history))
        .route("/posts/{id}/translations", post(desk::translate))
        .route("/posts/{id}/translation-requests", post(desk::request_translation))
        .route("/posts/{id}/reactions/{emoji}", put(posts::add_reaction).delete(posts::remove_reaction))
        .route("/me/translator", put(desk::set_pairs))
        .route("/translations/queue", get(desk::queue))
        .route("/translations/claim", post(desk::claim))
        .route("/translations/release", post(desk::release))
        .route("/translations/coverage", get(desk::coverage))
        .route("/translations/translators", get(desk::translators))
        .route("/translations/suggestions", get(desk::suggestions))
        .route("/posts/{id}/flags", post(moderation::flag_post))
        .route("/posts/{id}/hide", post(moderation::hide_post))
        .route("/posts/{id}/restore", post(moderation::restore_post))
        .route("/users/{id}/suspension", put(moderation::suspend_user).delete(moderation::lift_suspension))
        .route("/moderation/review", get(moderation::review))
        .route("/moderation/log", get(moderation::modlog))
        .route("/notifications", get(notifications::notifications))
        .route("/notifications/read", put(notifications::read_notifications))
        .route("/search", get(search::search))
        .route("/glossary", get(desk::glossary).post(desk::add_concept))
        .route("/admin/export", get(operate::export).post(operate::export_secrets))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .route("/ws", get(crate::ws::upgrade))
        .route("/healthz", get(operate::healthz))
        .route("/metrics", get(operate::metrics))
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(app.config.max_http_body_bytes))
        // gzip or brotli, as the client accepts, for the client's files and the JSON
        // answers alike (many members are on metered mobile data).
        // Files are served as stored (ranges count their bytes): a response that
        // accepts ranges is not compressed.
        .layer(tower_http::compression::CompressionLayer::new().compress_when(tower_http::compression::Predicate::and(
            tower_http::compression::DefaultPredicate::new(),
            |_: StatusCode, _: axum::http::Version, h: &axum::http::HeaderMap, _: &axum::http::Extensions| {
                !h.contains_key(header::ACCEPT_RANGES)
            },
        )))
        .with_state(app)
}

// ---- extractors ----

/// A JSON body; every rejection becomes the contract's error.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large("request body is over the size limit"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::bad_request("send the body as JSON with Content-Type: application/json")
        }
        _ => ApiError::bad_request(r.body_text()),
    }
}

/// A query string; every rejection becomes the contract's error.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(r) => Err(ApiError::bad_request(QueryRejection::body_text(&r))),
        }
    }
}

/// The caller: a user when a valid bearer token is sent, a guest when none is. A token
/// that is sent but invalid or revoked is `unauthorized`, never silently a guest.
pub struct Caller {
    pub user: Option<User>,
    pub token: Option<String>,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Caller { user: None, token: None });
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer TOKEN"))?;
        match app.authenticate(token)? {
            Some(user) => Ok(Caller { user: Some(user), token: Some(token.to_owned()) }),
            None => Err(ApiError::unauthorized("invalid or revoked token")),
        }
    }
}

/// The client's address: the peer's, or behind a trusted proxy the one it forwards.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Arc<App>> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::internal("no peer address"))?;
        Ok(ClientIp(app.gate.client_ip(peer, &parts.headers)))
    }
}

fn parse_id<T>(raw: &str, parse: fn(&str) -> Option<T>, what: &str) -> ApiResult<T> {
    parse(raw).ok_or_else(|| ApiError::not_found(what))
}

// ---- accounts ----

async fn index(State(app): State<Arc<App>>, headers: axum::http::HeaderMap) -> Response {
    crate::web::serve(app.config.web_dir.as_deref(), "index.html", headers.get(header::IF_NONE_MATCH))
}

async fn asset(State(app): State<Arc<App>>, Path(path): Path<String>, headers: axum::http::HeaderMap) -> Response {
    crate::web::serve(app.config.web_dir.as_deref(), &path, headers.get(header::IF_NONE_MATCH))
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such endpoint")
}

async fn method_not_allowed() -> Response {
    let mut r = ApiError::bad_request("method not allowed on this endpoint").into_response();
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}
