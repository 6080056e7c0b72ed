//! Notifications: the list, and marking them read.

use super::*;

#[derive(Deserialize)]
pub(super) struct NotificationsQuery {
    #[serde(default)]
    unread: Option<bool>,
    #[serde(default)]
    limit: Option<usize>,
}

pub(super) async fn notifications(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<NotificationsQuery>,
) -> ApiResult<Json<Vec<crate::service::NotificationView>>> {
    Ok(Json(app.notifications(caller.user.as_ref(), q.unread.unwrap_or(false), q.limit)?))
}

#[derive(Deserialize)]
pub(super) struct ReadNotifications {
    until: crate::model::NotificationId,
}

pub(super) async fn read_notifications(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<ReadNotifications>,
) -> ApiResult<Json<serde_json::Value>> {
    let marked = app.mark_notifications_read(caller.user.as_ref(), b.until).await?;
    Ok(Json(serde_json::json!({ "until": b.until, "marked": marked })))
}
