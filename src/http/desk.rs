//! The translators' desk: pairs, the queue, claims, translations, the glossary, coverage.

use super::*;

#[derive(Deserialize)]
pub(super) struct PairsBody {
    pairs: Vec<crate::service::desk::PairRequest>,
    #[serde(default)]
    paused: Option<bool>,
}

pub(super) async fn set_pairs(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<PairsBody>,
) -> ApiResult<Json<User>> {
    Ok(Json(app.set_pairs(caller.user.as_ref(), b.pairs, b.paused).await?))
}

#[derive(Deserialize)]
pub(super) struct QueueQuery {
    to: Option<String>,
    limit: Option<usize>,
}

pub(super) async fn queue(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Vec<QueueEntry>>> {
    Ok(Json(app.queue(caller.user.as_ref(), q.to.as_deref(), q.limit)?))
}

#[derive(Deserialize)]
pub(super) struct ClaimBody {
    post: PostId,
    lang: String,
}

pub(super) async fn claim(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<ClaimBody>,
) -> ApiResult<Json<Claim>> {
    Ok(Json(app.claim(caller.user.as_ref(), b.post, &b.lang).await?))
}

pub(super) async fn release(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<ClaimBody>,
) -> ApiResult<StatusCode> {
    app.release(caller.user.as_ref(), b.post, &b.lang).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct TranslationBody {
    lang: String,
    body: String,
}

pub(super) async fn translate(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<TranslationBody>,
) -> ApiResult<(StatusCode, Json<Post>)> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok((StatusCode::CREATED, Json(app.translate(caller.user.as_ref(), id, &b.lang, &b.body).await?.post)))
}

pub(super) async fn glossary(State(app): State<Arc<App>>) -> ApiResult<Json<Vec<collective_brain_index::Concept>>> {
    Ok(Json(app.glossary()?))
}

pub(super) async fn add_concept(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<crate::service::NewConcept>,
) -> ApiResult<(StatusCode, Json<collective_brain_index::Concept>)> {
    Ok((StatusCode::CREATED, Json(app.add_concept(caller.user.as_ref(), b).await?)))
}

pub(super) async fn coverage(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<Coverage>>> {
    Ok(Json(app.coverage(caller.user.as_ref())?))
}

/// `GET /translations/translators`: the recognition page's counts.
pub(super) async fn translators(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> ApiResult<Json<Vec<crate::service::desk::TranslatorCount>>> {
    Ok(Json(app.translators(caller.user.as_ref())?))
}

#[derive(Deserialize)]
pub(super) struct RequestBody {
    lang: String,
}

pub(super) async fn request_translation(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<RequestBody>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, PostId::parse, "post")?;
    app.request_translation(caller.user.as_ref(), id, &b.lang).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct TitleTranslationBody {
    lang: String,
    title: String,
}

/// `POST /rooms/{id}/title-translations`: the thread, with its title in `lang`.
pub(super) async fn translate_title(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<TitleTranslationBody>,
) -> ApiResult<Json<Room>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    Ok(Json(app.translate_title(caller.user.as_ref(), id, &b.lang, &b.title).await?))
}

#[derive(Deserialize)]
pub(super) struct SuggestionsQuery {
    post: String,
    lang: String,
}

/// `GET /translations/suggestions?post=&lang=`: translation-memory matches, sentence by
/// sentence (read from the store on a blocking thread).
pub(super) async fn suggestions(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<SuggestionsQuery>,
) -> ApiResult<Json<Vec<crate::service::desk::Suggestion>>> {
    let post = PostId::parse(&q.post).ok_or_else(|| ApiError::field("post", "not a post id"))?;
    let found = tokio::task::spawn_blocking(move || app.suggestions(caller.user.as_ref(), post, &q.lang))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(found))
}
