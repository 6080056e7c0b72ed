//! Accounts, sessions, profiles, and what every client learns first.

use super::*;

#[derive(Deserialize)]
pub(super) struct RegisterBody {
    handle: String,
    password: String,
    display_name: Option<String>,
    languages: Option<Vec<String>>,
}

#[derive(Serialize)]
pub(super) struct Session {
    token: String,
    user: User,
}

pub(super) async fn register(
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
pub(super) struct LoginBody {
    handle: String,
    password: String,
}

pub(super) async fn login(
    State(app): State<Arc<App>>,
    ClientIp(from): ClientIp,
    Body(b): Body<LoginBody>,
) -> ApiResult<Json<Session>> {
    let (token, user) = app.login(&b.handle, &b.password, from).await?;
    Ok(Json(Session { token, user }))
}

pub(super) async fn logout(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<StatusCode> {
    let token = caller.token.ok_or_else(|| ApiError::unauthorized("sign in first"))?;
    app.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn me(caller: Caller) -> ApiResult<Json<User>> {
    Ok(Json(signed_in(caller.user.as_ref())?.clone()))
}

#[derive(Deserialize)]
pub(super) struct PatchMe {
    display_name: Option<String>,
    languages: Option<Vec<String>>,
}

pub(super) async fn patch_me(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<PatchMe>,
) -> ApiResult<Json<User>> {
    let user = signed_in(caller.user.as_ref())?;
    Ok(Json(app.update_profile(user, b.display_name.as_deref(), b.languages.as_deref()).await?))
}

#[derive(Deserialize)]
pub(super) struct PasswordBody {
    current_password: String,
    password: String,
}

pub(super) async fn change_password(
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
pub(super) async fn user(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<User>> {
    signed_in(caller.user.as_ref())?;
    Ok(Json(app.user(parse_id(&id, UserId::parse, "user")?)?))
}

#[derive(Deserialize)]
pub(super) struct RolesBody {
    roles: Vec<Role>,
}

pub(super) async fn set_roles(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<RolesBody>,
) -> ApiResult<Json<User>> {
    let actor = signed_in(caller.user.as_ref())?;
    let id = parse_id(&id, UserId::parse, "user")?;
    Ok(Json(app.set_roles(actor, id, b.roles).await?))
}

/// What every client learns first: the community's name, languages and limits.
pub(super) async fn community(State(app): State<Arc<App>>) -> Json<crate::service::CommunityConfig> {
    Json(crate::service::CommunityConfig::new(&app.config))
}
