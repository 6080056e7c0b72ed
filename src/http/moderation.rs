//! Flags, hiding, restoring, suspensions, the review list and the log.

use super::*;

#[derive(Deserialize)]
pub(super) struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

pub(super) async fn flag_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Reason>,
) -> ApiResult<StatusCode> {
    let id = PostId::parse(&id).ok_or_else(|| ApiError::not_found("post"))?;
    app.flag(caller.user.as_ref(), id, b.reason.as_deref().unwrap_or("")).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn hide_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Reason>,
) -> ApiResult<Json<Post>> {
    let id = PostId::parse(&id).ok_or_else(|| ApiError::not_found("post"))?;
    Ok(Json(app.set_hidden(caller.user.as_ref(), id, true, b.reason.as_deref()).await?.post))
}

pub(super) async fn restore_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Post>> {
    let id = PostId::parse(&id).ok_or_else(|| ApiError::not_found("post"))?;
    Ok(Json(app.set_hidden(caller.user.as_ref(), id, false, None).await?.post))
}

#[derive(Deserialize)]
pub(super) struct Suspension {
    until: String,
    #[serde(default)]
    reason: Option<String>,
}

pub(super) async fn suspend_user(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Suspension>,
) -> ApiResult<StatusCode> {
    let id = UserId::parse(&id).ok_or_else(|| ApiError::not_found("user"))?;
    app.suspend(caller.user.as_ref(), id, Some(&b.until), b.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn lift_suspension(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = UserId::parse(&id).ok_or_else(|| ApiError::not_found("user"))?;
    app.suspend(caller.user.as_ref(), id, None, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn review(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> ApiResult<Json<Vec<crate::service::Review>>> {
    Ok(Json(app.review(caller.user.as_ref())?))
}

pub(super) async fn modlog(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> ApiResult<Json<Vec<crate::model::ModAction>>> {
    Ok(Json(app.modlog(caller.user.as_ref())?))
}
