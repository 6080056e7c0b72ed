//! Search across languages.

use super::*;

pub(super) async fn search(
    State(app): State<Arc<App>>,
    ClientIp(from): ClientIp,
    caller: Caller,
    Query(q): Query<crate::model::SearchParams>,
) -> ApiResult<Json<crate::model::SearchResults>> {
    Ok(Json(app.search(caller.user.as_ref(), Some(from), q).await?))
}
