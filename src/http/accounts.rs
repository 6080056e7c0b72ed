//! Accounts, sessions, profiles, and what every client learns first.

use super::*;
use crate::service::{
    CommunityConfig, CommunityPatch, Directory, DirectoryQuery, Erase, InviteView, NewInvite, ProfilePatch, Registered,
};

#[derive(Deserialize)]
pub(super) struct RegisterBody {
    handle: String,
    password: String,
    display_name: Option<String>,
    languages: Option<Vec<String>>,
    invite: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Session {
    token: String,
    user: User,
}

/// A registration's answer: a session, or (sign-up by approval) the account waiting.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Joined {
    Session(Session),
    Pending { user: User, pending: bool },
}

pub(super) async fn register(
    State(app): State<Arc<App>>,
    ClientIp(from): ClientIp,
    Body(b): Body<RegisterBody>,
) -> ApiResult<(StatusCode, Json<Joined>)> {
    let email = b.email.filter(|e| !e.trim().is_empty());
    if let Some(e) = &email {
        app.check_email(e)?;
    }
    let reg = Registration {
        handle: b.handle,
        password: b.password,
        display_name: b.display_name,
        languages: b.languages,
        invite: b.invite,
    };
    let registered = app.register(reg, from).await?;
    let user = match &registered {
        Registered::SignedIn { user, .. } | Registered::Pending(user) => user.clone(),
    };
    // The account is made: an address that could not be kept is set again from the profile.
    if let Some(e) = email {
        if let Err(err) = app.set_email(&user, &e).await {
            tracing::warn!(error = %err.message, "keeping a new member's address failed");
        }
    }
    let joined = match registered {
        Registered::SignedIn { token, user } => Joined::Session(Session { token, user }),
        Registered::Pending(user) => Joined::Pending { user, pending: true },
    };
    Ok((StatusCode::CREATED, Json(joined)))
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

pub(super) async fn me(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<User>> {
    Ok(Json(app.me_view(caller.user.as_ref())?))
}

pub(super) async fn patch_me(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<ProfilePatch>,
) -> ApiResult<Json<User>> {
    let user = signed_in(caller.user.as_ref())?;
    let email = b.email.clone();
    let updated = app.update_profile(user, b).await?;
    if let Some(email) = email {
        app.set_email(&updated, &email).await?;
    }
    Ok(Json(app.me_view(Some(&updated))?))
}

#[derive(Deserialize)]
pub(super) struct TokenBody {
    token: String,
}

pub(super) async fn verify_email(State(app): State<Arc<App>>, Body(b): Body<TokenBody>) -> ApiResult<StatusCode> {
    app.verify_email(&b.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct ResetBody {
    login: String,
}

pub(super) async fn password_reset(State(app): State<Arc<App>>, Body(b): Body<ResetBody>) -> ApiResult<StatusCode> {
    app.request_reset(&b.login).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
pub(super) struct ResetConfirmBody {
    token: String,
    password: String,
}

pub(super) async fn password_reset_confirm(
    State(app): State<Arc<App>>,
    Body(b): Body<ResetConfirmBody>,
) -> ApiResult<StatusCode> {
    app.confirm_reset(&b.token, b.password).await?;
    Ok(StatusCode::NO_CONTENT)
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

/// A member's profile: to members, and to guests when the member made it public.
pub(super) async fn user(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(app.user_for(caller.user.as_ref(), parse_id(&id, UserId::parse, "user")?)?))
}

/// The member directory.
pub(super) async fn directory(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<DirectoryQuery>,
) -> ApiResult<Json<Directory>> {
    Ok(Json(app.directory(caller.user.as_ref(), q)?))
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
pub(super) async fn community(State(app): State<Arc<App>>) -> ApiResult<Json<CommunityConfig>> {
    Ok(Json(app.community()?))
}

pub(super) async fn patch_community(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<CommunityPatch>,
) -> ApiResult<Json<CommunityConfig>> {
    let actor = signed_in(caller.user.as_ref())?;
    Ok(Json(app.set_community(actor, b).await?))
}

pub(super) async fn create_invite(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<NewInvite>,
) -> ApiResult<(StatusCode, Json<InviteView>)> {
    Ok((StatusCode::CREATED, Json(app.create_invite(caller.user.as_ref(), b).await?)))
}

pub(super) async fn invites(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<InviteView>>> {
    Ok(Json(app.invites(caller.user.as_ref())?))
}

pub(super) async fn revoke_invite(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    app.revoke_invite(caller.user.as_ref(), &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn signups(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(app.signups(caller.user.as_ref())?))
}

pub(super) async fn approve_signup(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, UserId::parse, "user")?;
    app.decide_signup(caller.user.as_ref(), id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn reject_signup(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, UserId::parse, "user")?;
    app.decide_signup(caller.user.as_ref(), id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything stored about the caller.
pub(super) async fn export_me(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Response> {
    let export = app.export_me(caller.user.as_ref()).await?;
    let name = format!("attachment; filename=\"collective-brain-{}.json\"", export.user.handle);
    Ok(([(header::CONTENT_DISPOSITION, name)], Json(export)).into_response())
}

/// The caller erases their account.
pub(super) async fn delete_me(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<Erase>,
) -> ApiResult<StatusCode> {
    app.erase_me(caller.user.as_ref(), b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct EraseQuery {
    #[serde(default)]
    delete_posts: bool,
}

/// An admin erases a member's account.
pub(super) async fn delete_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<EraseQuery>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, UserId::parse, "user")?;
    app.erase_user(caller.user.as_ref(), id, q.delete_posts).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn email_settings(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<crate::model::EmailSettings>,
) -> ApiResult<Json<crate::model::EmailSettings>> {
    Ok(Json(app.set_email_settings(caller.user.as_ref(), b).await?))
}

/// The query of a mailed unsubscribe link.
#[derive(Deserialize)]
pub(super) struct UnsubscribeQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    sig: String,
}

/// A mailed unsubscribe link opened in a browser: a page that asks (mail scanners open
/// links; only the POST stops anything).
pub(super) async fn unsubscribe_page(
    State(app): State<Arc<App>>,
    Query(q): Query<UnsubscribeQuery>,
) -> axum::response::Response {
    let (lang, good) = app.unsubscribe(&q.user, &q.kind, &q.sig, false).await;
    let status = if good { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    (status, axum::response::Html(app.unsubscribe_page(lang, &q.kind, good, false))).into_response()
}

/// RFC 8058's one-click POST (from a mail client, or the page's button): that kind of
/// mail stops.
pub(super) async fn unsubscribe(
    State(app): State<Arc<App>>,
    Query(q): Query<UnsubscribeQuery>,
) -> axum::response::Response {
    let (lang, good) = app.unsubscribe(&q.user, &q.kind, &q.sig, true).await;
    let status = if good { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    (status, axum::response::Html(app.unsubscribe_page(lang, &q.kind, good, true))).into_response()
}

pub(super) async fn admin_mail(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> ApiResult<Json<crate::service::mail::MailStatus>> {
    Ok(Json(app.mail_status(caller.user.as_ref())?))
}

pub(super) async fn forget_mail(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    app.forget_failed_mail(caller.user.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
