//! The HTTP adapter: routes under `/api/v1`, extractors that turn every bad input into
//! the contract's JSON error, and the static web client.

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
    LangPair, Post, PostId, PostPolicy, Revision, Role, Room, RoomId, Space, SpaceId, SpaceKind, User, UserId,
    Visibility,
};
use crate::service::{signed_in, App, Claim, Coverage, NewPost, QueueEntry, Registration};
use crate::store::Secrets;

pub fn router(app: Arc<App>) -> Router {
    let api = Router::new()
        .route("/config", get(community))
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me).patch(patch_me))
        .route("/me/password", put(change_password))
        .route("/users/{id}", get(user))
        .route("/users/{id}/roles", put(set_roles))
        .route("/spaces", get(spaces).post(create_space))
        .route("/spaces/{id}", get(space))
        .route("/spaces/{id}/members", get(members).post(add_member))
        .route("/spaces/{id}/members/{user}", delete(remove_member))
        .route("/spaces/{id}/coordinators", put(set_coordinators))
        .route("/rooms/{id}/pin", put(pin_room))
        .route("/spaces/{id}/rooms", get(rooms).post(create_room))
        .route("/rooms/{id}", get(room))
        .route("/rooms/{id}/posts", get(posts).post(create_post))
        .route("/rooms/{id}/presence", get(presence))
        .route("/rooms/{id}/read", put(mark_read))
        .route("/posts/{id}", get(read_post).patch(edit_post).delete(delete_post))
        .route("/posts/{id}/history", get(post_history))
        .route("/posts/{id}/translations", post(translate))
        .route("/posts/{id}/reactions/{emoji}", put(add_reaction).delete(remove_reaction))
        .route("/me/translator", put(set_pairs))
        .route("/translations/queue", get(queue))
        .route("/translations/claim", post(claim))
        .route("/translations/release", post(release))
        .route("/translations/coverage", get(coverage))
        .route("/posts/{id}/flags", post(flag_post))
        .route("/posts/{id}/hide", post(hide_post))
        .route("/posts/{id}/restore", post(restore_post))
        .route("/users/{id}/suspension", put(suspend_user).delete(lift_suspension))
        .route("/moderation/review", get(review))
        .route("/moderation/log", get(modlog))
        .route("/notifications", get(notifications))
        .route("/notifications/read", put(read_notifications))
        .route("/search", get(search))
        .route("/glossary", get(glossary).post(add_concept))
        .route("/admin/export", get(export).post(export_secrets))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .route("/ws", get(crate::ws::upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(app.config.max_http_body_bytes))
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

#[derive(Deserialize)]
struct RegisterBody {
    handle: String,
    password: String,
    display_name: Option<String>,
    languages: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Session {
    token: String,
    user: User,
}

async fn register(
    State(app): State<Arc<App>>,
    ClientIp(from): ClientIp,
    Body(b): Body<RegisterBody>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    let reg =
        Registration { handle: b.handle, password: b.password, display_name: b.display_name, languages: b.languages };
    let (token, user) = app.register(reg, from).await?;
    Ok((StatusCode::CREATED, Json(Session { token, user })))
}

#[derive(Deserialize)]
struct LoginBody {
    handle: String,
    password: String,
}

async fn login(
    State(app): State<Arc<App>>,
    ClientIp(from): ClientIp,
    Body(b): Body<LoginBody>,
) -> ApiResult<Json<Session>> {
    let (token, user) = app.login(&b.handle, &b.password, from).await?;
    Ok(Json(Session { token, user }))
}

async fn logout(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<StatusCode> {
    let token = caller.token.ok_or_else(|| ApiError::unauthorized("sign in first"))?;
    app.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(caller: Caller) -> ApiResult<Json<User>> {
    Ok(Json(signed_in(caller.user.as_ref())?.clone()))
}

#[derive(Deserialize)]
struct PatchMe {
    display_name: Option<String>,
    languages: Option<Vec<String>>,
}

async fn patch_me(State(app): State<Arc<App>>, caller: Caller, Body(b): Body<PatchMe>) -> ApiResult<Json<User>> {
    let user = signed_in(caller.user.as_ref())?;
    Ok(Json(app.update_profile(user, b.display_name.as_deref(), b.languages.as_deref()).await?))
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: String,
    password: String,
}

async fn change_password(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<PasswordBody>,
) -> ApiResult<StatusCode> {
    let user = signed_in(caller.user.as_ref())?;
    let token = caller.token.as_deref().unwrap_or_default();
    app.change_password(user, token, &b.current_password, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's profile: for members only (guests see authors' names in posts, not who
/// else is here).
async fn user(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<User>> {
    signed_in(caller.user.as_ref())?;
    Ok(Json(app.user(parse_id(&id, UserId::parse, "user")?)?))
}

#[derive(Deserialize)]
struct RolesBody {
    roles: Vec<Role>,
}

async fn set_roles(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<RolesBody>,
) -> ApiResult<Json<User>> {
    let actor = signed_in(caller.user.as_ref())?;
    let id = parse_id(&id, UserId::parse, "user")?;
    Ok(Json(app.set_roles(actor, id, b.roles).await?))
}

// ---- spaces and rooms ----

async fn spaces(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<Space>>> {
    Ok(Json(app.spaces(caller.user.as_ref())?))
}

#[derive(Deserialize)]
struct SpaceBody {
    slug: String,
    name: String,
    kind: SpaceKind,
    visibility: Visibility,
    post_policy: PostPolicy,
}

async fn create_space(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<SpaceBody>,
) -> ApiResult<(StatusCode, Json<Space>)> {
    let actor = signed_in(caller.user.as_ref())?;
    let s = app.create_space(actor, &b.slug, &b.name, b.kind, b.visibility, b.post_policy).await?;
    Ok((StatusCode::CREATED, Json(s)))
}

async fn space(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Space>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.readable_space(caller.user.as_ref(), id)?))
}

async fn members(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Vec<User>>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.members(caller.user.as_ref(), id)?))
}

#[derive(Deserialize)]
struct MemberBody {
    user: UserId,
}

async fn add_member(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<MemberBody>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    app.add_member(caller.user.as_ref(), id, b.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RoomsQuery {
    before: Option<String>,
    limit: Option<usize>,
}

async fn rooms(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<RoomsQuery>,
) -> ApiResult<Json<Vec<Room>>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.rooms(caller.user.as_ref(), id, q.before.as_deref(), q.limit)?))
}

#[derive(Deserialize)]
struct NewRoomBody {
    title: String,
    body: String,
    nonce: String,
    lang: Option<String>,
}

#[derive(Serialize)]
struct NewRoom {
    room: Option<Room>,
    post: Post,
}

async fn create_room(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<NewRoomBody>,
) -> ApiResult<(StatusCode, Json<NewRoom>)> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    let p = NewPost { body: b.body, nonce: b.nonce, reply_to: None, lang: b.lang, ..NewPost::default() };
    let ack = app.create_room(caller.user.as_ref(), id, &b.title, p).await?;
    Ok((StatusCode::CREATED, Json(NewRoom { room: ack.room, post: ack.post })))
}

async fn room(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Room>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    Ok(Json(app.readable_room(caller.user.as_ref(), id)?.0))
}

#[derive(Serialize)]
struct PresenceAnswer {
    room: RoomId,
    users: Vec<UserId>,
}

async fn presence(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PresenceAnswer>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    app.readable_room(caller.user.as_ref(), id)?;
    Ok(Json(PresenceAnswer { room: id, users: app.presence.users(id) }))
}

#[derive(Deserialize)]
struct ReadBody {
    seq: u64,
}

#[derive(Serialize)]
struct ReadAnswer {
    room: RoomId,
    seq: u64,
}

async fn mark_read(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<ReadBody>,
) -> ApiResult<Json<ReadAnswer>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    let seq = app.mark_read(caller.user.as_ref(), id, b.seq).await?;
    Ok(Json(ReadAnswer { room: id, seq }))
}

// ---- posts ----

#[derive(Deserialize)]
struct PostsQuery {
    after_seq: Option<u64>,
    limit: Option<usize>,
}

async fn posts(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PostsQuery>,
) -> ApiResult<Json<Vec<Post>>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    Ok(Json(app.posts(caller.user.as_ref(), id, q.after_seq, q.limit)?))
}

#[derive(Deserialize)]
struct NewPostBody {
    body: String,
    nonce: String,
    reply_to: Option<PostId>,
    lang: Option<String>,
}

async fn create_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<NewPostBody>,
) -> ApiResult<(StatusCode, Json<Post>)> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    let p = NewPost { body: b.body, nonce: b.nonce, reply_to: b.reply_to, lang: b.lang, ..NewPost::default() };
    Ok((StatusCode::CREATED, Json(app.post(caller.user.as_ref(), id, p).await?.post)))
}

async fn read_post(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.read_post(caller.user.as_ref(), id)?))
}

#[derive(Deserialize)]
struct EditBody {
    body: Option<String>,
    lang: Option<String>,
}

async fn edit_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<EditBody>,
) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    let viewer = caller.user.as_ref();
    match (b.body, b.lang) {
        (Some(body), lang) => Ok(Json(app.edit(viewer, id, body, lang).await?.post)),
        // `{lang}` alone corrects the language.
        (None, Some(lang)) => Ok(Json(app.correct_lang(viewer, id, &lang).await?.post)),
        (None, None) => Err(ApiError::bad_request("send body, lang, or both")),
    }
}

async fn delete_post(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.delete(caller.user.as_ref(), id).await?.post))
}

async fn post_history(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Revision>>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.post_history(caller.user.as_ref(), id)?))
}

async fn add_reaction(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, emoji)): Path<(String, String)>,
) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.react(caller.user.as_ref(), id, &emoji, true).await?.post))
}

async fn remove_reaction(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, emoji)): Path<(String, String)>,
) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.react(caller.user.as_ref(), id, &emoji, false).await?.post))
}

// ---- the translators' desk ----

#[derive(Deserialize)]
struct PairsBody {
    pairs: Vec<LangPair>,
}

async fn set_pairs(State(app): State<Arc<App>>, caller: Caller, Body(b): Body<PairsBody>) -> ApiResult<Json<User>> {
    Ok(Json(app.set_pairs(caller.user.as_ref(), b.pairs).await?))
}

#[derive(Deserialize)]
struct QueueQuery {
    to: Option<String>,
    limit: Option<usize>,
}

async fn queue(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Vec<QueueEntry>>> {
    Ok(Json(app.queue(caller.user.as_ref(), q.to.as_deref(), q.limit)?))
}

#[derive(Deserialize)]
struct ClaimBody {
    post: PostId,
    lang: String,
}

async fn claim(State(app): State<Arc<App>>, caller: Caller, Body(b): Body<ClaimBody>) -> ApiResult<Json<Claim>> {
    Ok(Json(app.claim(caller.user.as_ref(), b.post, &b.lang).await?))
}

async fn release(State(app): State<Arc<App>>, caller: Caller, Body(b): Body<ClaimBody>) -> ApiResult<StatusCode> {
    app.release(caller.user.as_ref(), b.post, &b.lang).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TranslationBody {
    lang: String,
    body: String,
}

async fn translate(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<TranslationBody>,
) -> ApiResult<(StatusCode, Json<Post>)> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok((StatusCode::CREATED, Json(app.translate(caller.user.as_ref(), id, &b.lang, &b.body).await?.post)))
}

async fn remove_member(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = SpaceId::parse(&id).ok_or_else(|| ApiError::not_found("space"))?;
    let user = UserId::parse(&user).ok_or_else(|| ApiError::not_found("user"))?;
    app.remove_member(caller.user.as_ref(), id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct Coordinators {
    users: Vec<UserId>,
}

async fn set_coordinators(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Coordinators>,
) -> ApiResult<Json<Space>> {
    let id = SpaceId::parse(&id).ok_or_else(|| ApiError::not_found("space"))?;
    Ok(Json(app.set_coordinators(caller.user.as_ref(), id, b.users).await?))
}

#[derive(Deserialize)]
struct PinBody {
    pinned: bool,
}

async fn pin_room(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<PinBody>,
) -> ApiResult<Json<Room>> {
    let id = RoomId::parse(&id).ok_or_else(|| ApiError::not_found("room"))?;
    Ok(Json(app.pin(caller.user.as_ref(), id, b.pinned).await?))
}

#[derive(Deserialize)]
struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

async fn flag_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Reason>,
) -> ApiResult<StatusCode> {
    let id = PostId::parse(&id).ok_or_else(|| ApiError::not_found("post"))?;
    app.flag(caller.user.as_ref(), id, b.reason.as_deref().unwrap_or("")).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn hide_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Reason>,
) -> ApiResult<Json<Post>> {
    let id = PostId::parse(&id).ok_or_else(|| ApiError::not_found("post"))?;
    Ok(Json(app.set_hidden(caller.user.as_ref(), id, true, b.reason.as_deref()).await?.post))
}

async fn restore_post(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Post>> {
    let id = PostId::parse(&id).ok_or_else(|| ApiError::not_found("post"))?;
    Ok(Json(app.set_hidden(caller.user.as_ref(), id, false, None).await?.post))
}

#[derive(Deserialize)]
struct Suspension {
    until: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn suspend_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Suspension>,
) -> ApiResult<StatusCode> {
    let id = UserId::parse(&id).ok_or_else(|| ApiError::not_found("user"))?;
    app.suspend(caller.user.as_ref(), id, Some(&b.until), b.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn lift_suspension(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = UserId::parse(&id).ok_or_else(|| ApiError::not_found("user"))?;
    app.suspend(caller.user.as_ref(), id, None, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn review(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<crate::service::Review>>> {
    Ok(Json(app.review(caller.user.as_ref())?))
}

async fn modlog(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<crate::model::ModAction>>> {
    Ok(Json(app.modlog(caller.user.as_ref())?))
}

#[derive(Deserialize)]
struct NotificationsQuery {
    #[serde(default)]
    unread: Option<bool>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn notifications(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<NotificationsQuery>,
) -> ApiResult<Json<Vec<crate::service::NotificationView>>> {
    Ok(Json(app.notifications(caller.user.as_ref(), q.unread.unwrap_or(false), q.limit)?))
}

#[derive(Deserialize)]
struct ReadNotifications {
    until: crate::model::NotificationId,
}

async fn read_notifications(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<ReadNotifications>,
) -> ApiResult<Json<serde_json::Value>> {
    let marked = app.mark_notifications_read(caller.user.as_ref(), b.until).await?;
    Ok(Json(serde_json::json!({ "until": b.until, "marked": marked })))
}

async fn search(
    State(app): State<Arc<App>>,
    ClientIp(from): ClientIp,
    caller: Caller,
    Query(q): Query<crate::model::SearchParams>,
) -> ApiResult<Json<crate::model::SearchResults>> {
    Ok(Json(app.search(caller.user.as_ref(), Some(from), q).await?))
}

/// What every client learns first: the community's name, languages and limits.
async fn community(State(app): State<Arc<App>>) -> Json<crate::service::CommunityConfig> {
    Json(crate::service::CommunityConfig::new(&app.config))
}

async fn glossary(State(app): State<Arc<App>>) -> ApiResult<Json<Vec<collective_brain_index::Concept>>> {
    Ok(Json(app.glossary()?))
}

async fn add_concept(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<crate::service::NewConcept>,
) -> ApiResult<(StatusCode, Json<collective_brain_index::Concept>)> {
    Ok((StatusCode::CREATED, Json(app.add_concept(caller.user.as_ref(), b).await?)))
}

async fn coverage(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<Coverage>>> {
    Ok(Json(app.coverage(caller.user.as_ref())?))
}

// ---- operations ----

/// The export without secrets (password hashes and sign-ins left out), for admins.
async fn export(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Response> {
    export_with(&app, &caller, Secrets::Left).await
}

#[derive(Deserialize)]
struct ExportBody {
    password: String,
}

/// The whole export, password hashes and sign-ins included: asked for with the admin's
/// own password.
async fn export_secrets(State(app): State<Arc<App>>, caller: Caller, Body(b): Body<ExportBody>) -> ApiResult<Response> {
    let user = signed_in(caller.user.as_ref())?;
    if !user.is_admin() {
        return Err(ApiError::forbidden("only admins export"));
    }
    app.confirm_password(user, "password", &b.password).await?;
    export_with(&app, &caller, Secrets::Included).await
}

/// A consistent export of everything, while the server runs (admins).
async fn export_with(app: &App, caller: &Caller, secrets: Secrets) -> ApiResult<Response> {
    let user = signed_in(caller.user.as_ref())?;
    if !user.is_admin() {
        return Err(ApiError::forbidden("only admins export"));
    }
    let body = app.store.export_online(secrets).await?;
    tracing::info!(admin = %user.handle, bytes = body.len(), ?secrets, "online export");
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

// ---- the rest ----

/// `ok`, or 503 `degraded` with the reason while writes are refused (the disk is below
/// its reserve): reads still work.
async fn healthz(State(app): State<Arc<App>>) -> Response {
    if app.store.disk_low() {
        return (StatusCode::SERVICE_UNAVAILABLE, "degraded: the disk is below its reserve, writes are refused\n")
            .into_response();
    }
    "ok".into_response()
}

/// Prometheus text format. Operational counters only: nothing here is about content.
/// Still, community-wide counts include private groups' activity, so they are for
/// operators: an admin's token, or the scraper's `CB_METRICS_TOKEN`.
async fn metrics(State(app): State<Arc<App>>, headers: axum::http::HeaderMap) -> Response {
    if let Err(e) = metrics_access(&app, &headers) {
        return e.into_response();
    }
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let m = &app.metrics;
    let w = app.store.stats();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: String| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
    };
    metric("cb_websockets_open", "gauge", "WebSockets open now.", m.sockets_open.load(Relaxed).to_string());
    metric(
        "cb_websockets_total",
        "counter",
        "WebSockets accepted since start.",
        m.sockets_total.load(Relaxed).to_string(),
    );
    metric("cb_frames_in_total", "counter", "Client frames received.", m.frames_in.load(Relaxed).to_string());
    metric("cb_posts_acked_total", "counter", "Posts acked (on disk).", m.posts_acked.load(Relaxed).to_string());
    metric("cb_lagged_total", "counter", "Subscriptions ended with lagged.", m.lagged.load(Relaxed).to_string());
    metric("cb_hub_topics", "gauge", "Fan-out channels with subscribers.", app.hub.topic_count().to_string());
    metric(
        "cb_commits_total",
        "counter",
        "Store batches committed (one transaction each).",
        w.commits.load(Relaxed).to_string(),
    );
    metric(
        "cb_flushes_total",
        "counter",
        "Store flushes (one covers every batch applied meanwhile).",
        w.flushes.load(Relaxed).to_string(),
    );
    let apply = w.apply_micros.load(Relaxed) as f64 / 1e6;
    metric("cb_apply_seconds_sum", "counter", "Time spent applying store batches.", format!("{apply:.6}"));
    metric(
        "cb_ops_committed_total",
        "counter",
        "Writes committed (posts acked among them).",
        w.ops.load(Relaxed).to_string(),
    );
    metric("cb_commit_failures_total", "counter", "Store batches that failed.", w.failures.load(Relaxed).to_string());
    let flush = w.flush_micros.load(Relaxed) as f64 / 1e6;
    metric("cb_flush_seconds_sum", "counter", "Time spent flushing the store.", format!("{flush:.6}"));
    let max = w.flush_micros_max.load(Relaxed) as f64 / 1e6;
    metric("cb_flush_seconds_max", "gauge", "The longest store flush.", format!("{max:.6}"));
    metric(
        "cb_nonces_unfolded",
        "gauge",
        "New posts' nonces still only in their runs (folded into the nonces tree when the store is quiet).",
        w.nonces_unfolded.load(Relaxed).to_string(),
    );
    metric(
        "cb_nonces_folded_total",
        "counter",
        "New posts' nonces folded into the nonces tree.",
        w.nonces_folded.load(Relaxed).to_string(),
    );
    let head = app.store.change_head().get();
    let applied = app.search.applied.load(Relaxed);
    metric(
        "cb_changes_total",
        "counter",
        "Change records committed (the change feed's head; one per store batch that changed posts).",
        head.to_string(),
    );
    metric(
        "cb_index_lag_changes",
        "gauge",
        "Change records committed but not yet searchable.",
        head.saturating_sub(applied).to_string(),
    );
    metric("cb_index_docs", "gauge", "Posts in the search index.", app.search.index.num_docs().to_string());
    metric("cb_store_queue", "gauge", "Writes waiting for the store writer.", app.store.writes_waiting().to_string());
    let _ = write!(
        out,
        "# HELP cb_translation_queue Posts waiting for a translation, by target language.\n# TYPE cb_translation_queue gauge\n"
    );
    for lang in &app.config.languages {
        // A store that cannot be read leaves the gauge out rather than lying.
        match app.store.queue_len(lang) {
            Ok(n) => {
                let _ = writeln!(out, "cb_translation_queue{{lang=\"{lang}\"}} {n}");
            }
            Err(e) => tracing::warn!(error = %e, "queue length for metrics"),
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

fn metrics_access(app: &App, headers: &axum::http::HeaderMap) -> ApiResult<()> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized("metrics are for operators: send an admin's token or the metrics token")
        })?;
    if let Some(expected) = &app.config.metrics_token {
        if constant_time_eq(expected.as_bytes(), token.as_bytes()) {
            return Ok(());
        }
    }
    match app.authenticate(token)? {
        Some(user) if user.is_admin() => Ok(()),
        Some(_) => Err(ApiError::forbidden("metrics are for admins")),
        None => Err(ApiError::unauthorized("invalid or revoked token")),
    }
}

/// Compares without an early exit, so the time taken says nothing of the secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn index(State(app): State<Arc<App>>) -> Response {
    crate::web::serve(app.config.web_dir.as_deref(), "index.html")
}

async fn asset(State(app): State<Arc<App>>, Path(path): Path<String>) -> Response {
    crate::web::serve(app.config.web_dir.as_deref(), &path)
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such endpoint")
}

async fn method_not_allowed() -> Response {
    let mut r = ApiError::bad_request("method not allowed on this endpoint").into_response();
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}
