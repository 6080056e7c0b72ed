//! Posts: listing, writing, editing, deleting, history and reactions.

use super::*;

#[derive(Deserialize)]
pub(super) struct PostsQuery {
    after_seq: Option<u64>,
    /// Extension: the last `limit` posts before this seq (what came before a post).
    before_seq: Option<u64>,
    limit: Option<usize>,
}

pub(super) async fn posts(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PostsQuery>,
) -> ApiResult<Json<Vec<Post>>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    Ok(Json(app.posts(caller.user.as_ref(), id, q.after_seq, q.before_seq, q.limit)?))
}

#[derive(Deserialize)]
pub(super) struct NewPostBody {
    body: String,
    nonce: String,
    reply_to: Option<PostId>,
    lang: Option<String>,
    #[serde(default)]
    files: Vec<crate::model::FileId>,
}

pub(super) async fn create_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<NewPostBody>,
) -> ApiResult<(StatusCode, Json<Post>)> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    let p = NewPost {
        body: b.body,
        nonce: b.nonce,
        reply_to: b.reply_to,
        lang: b.lang,
        files: b.files,
        ..NewPost::default()
    };
    Ok((StatusCode::CREATED, Json(app.post(caller.user.as_ref(), id, p).await?.post)))
}

pub(super) async fn read_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.read_post(caller.user.as_ref(), id)?))
}

#[derive(Deserialize)]
pub(super) struct EditBody {
    body: Option<String>,
    lang: Option<String>,
}

pub(super) async fn edit_post(
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

pub(super) async fn delete_post(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.delete(caller.user.as_ref(), id).await?.post))
}

pub(super) async fn post_history(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Revision>>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.post_history(caller.user.as_ref(), id)?))
}

pub(super) async fn add_reaction(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, emoji)): Path<(String, String)>,
) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.react(caller.user.as_ref(), id, &emoji, true).await?.post))
}

pub(super) async fn remove_reaction(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, emoji)): Path<(String, String)>,
) -> ApiResult<Json<Post>> {
    let id = parse_id(&id, PostId::parse, "post")?;
    Ok(Json(app.react(caller.user.as_ref(), id, &emoji, false).await?.post))
}

#[derive(Deserialize)]
pub(super) struct MineQuery {
    /// Post ids, comma-separated.
    posts: String,
}

/// `GET /me/reactions?posts=p1,p2`: the reader's own reactions on those posts.
pub(super) async fn my_reactions(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<MineQuery>,
) -> ApiResult<Json<std::collections::BTreeMap<PostId, Vec<String>>>> {
    let ids = post_ids(&q.posts)?;
    Ok(Json(app.my_reactions(caller.user.as_ref(), &ids)?))
}

fn post_ids(list: &str) -> ApiResult<Vec<PostId>> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| PostId::parse(s).ok_or_else(|| ApiError::field("posts", format!("{s:?} is not a post id"))))
        .collect()
}

/// `GET /translation-requests?posts=p1,p2`: which of those posts readers asked to have
/// in which languages (that they still lack).
pub(super) async fn requested_translations(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<MineQuery>,
) -> ApiResult<Json<std::collections::BTreeMap<PostId, Vec<crate::model::Lang>>>> {
    Ok(Json(app.requested_translations(caller.user.as_ref(), &post_ids(&q.posts)?)?))
}
