//! Spaces, their members and coordinators, rooms, presence and read markers.

use super::*;

pub(super) async fn spaces(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<Vec<Space>>> {
    Ok(Json(app.spaces(caller.user.as_ref())?))
}

#[derive(Deserialize)]
pub(super) struct SpaceBody {
    slug: String,
    name: String,
    kind: SpaceKind,
    visibility: Visibility,
    post_policy: PostPolicy,
}

pub(super) async fn create_space(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<SpaceBody>,
) -> ApiResult<(StatusCode, Json<Space>)> {
    let actor = signed_in(caller.user.as_ref())?;
    let s = app.create_space(actor, &b.slug, &b.name, b.kind, b.visibility, b.post_policy).await?;
    Ok((StatusCode::CREATED, Json(s)))
}

pub(super) async fn space(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Space>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.space_for(caller.user.as_ref(), id)?))
}

pub(super) async fn members(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<User>>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.members(caller.user.as_ref(), id)?))
}

#[derive(Deserialize)]
pub(super) struct MemberBody {
    user: UserId,
}

pub(super) async fn add_member(
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
pub(super) struct RoomsQuery {
    before: Option<String>,
    limit: Option<usize>,
}

pub(super) async fn rooms(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<RoomsQuery>,
) -> ApiResult<Json<Vec<Room>>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.rooms(caller.user.as_ref(), id, q.before.as_deref(), q.limit)?))
}

#[derive(Deserialize)]
pub(super) struct NewRoomBody {
    title: String,
    body: String,
    nonce: String,
    lang: Option<String>,
    #[serde(default)]
    files: Vec<crate::model::FileId>,
}

#[derive(Serialize)]
pub(super) struct NewRoom {
    room: Option<Room>,
    post: Post,
}

pub(super) async fn create_room(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<NewRoomBody>,
) -> ApiResult<(StatusCode, Json<NewRoom>)> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    let p =
        NewPost { body: b.body, nonce: b.nonce, reply_to: None, lang: b.lang, files: b.files, ..NewPost::default() };
    let ack = app.create_room(caller.user.as_ref(), id, &b.title, p).await?;
    Ok((StatusCode::CREATED, Json(NewRoom { room: ack.room, post: ack.post })))
}

pub(super) async fn room(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Room>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    Ok(Json(app.room_for(caller.user.as_ref(), id)?))
}

#[derive(Serialize)]
pub(super) struct PresenceAnswer {
    room: RoomId,
    users: Vec<UserId>,
}

pub(super) async fn presence(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PresenceAnswer>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    app.readable_room(caller.user.as_ref(), id)?;
    Ok(Json(PresenceAnswer { room: id, users: app.presence.users(id) }))
}

#[derive(Deserialize)]
pub(super) struct ReadBody {
    seq: u64,
}

#[derive(Serialize)]
pub(super) struct ReadAnswer {
    room: RoomId,
    seq: u64,
}

pub(super) async fn mark_read(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<ReadBody>,
) -> ApiResult<Json<ReadAnswer>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    let seq = app.mark_read(caller.user.as_ref(), id, b.seq).await?;
    Ok(Json(ReadAnswer { room: id, seq }))
}

pub(super) async fn remove_member(
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
pub(super) struct Coordinators {
    users: Vec<UserId>,
}

pub(super) async fn set_coordinators(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<Coordinators>,
) -> ApiResult<Json<Space>> {
    let id = SpaceId::parse(&id).ok_or_else(|| ApiError::not_found("space"))?;
    Ok(Json(app.set_coordinators(caller.user.as_ref(), id, b.users).await?))
}

#[derive(Deserialize)]
pub(super) struct PinBody {
    pinned: bool,
}

pub(super) async fn pin_room(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<PinBody>,
) -> ApiResult<Json<Room>> {
    let id = RoomId::parse(&id).ok_or_else(|| ApiError::not_found("room"))?;
    Ok(Json(app.pin(caller.user.as_ref(), id, b.pinned).await?))
}

#[derive(Deserialize)]
pub(super) struct DmBody {
    users: Vec<String>,
}

pub(super) async fn open_dm(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<DmBody>,
) -> ApiResult<Json<crate::service::Conversation>> {
    if b.users.len() > 64 {
        return Err(ApiError::field("users", "at most 8 others"));
    }
    let users = b
        .users
        .iter()
        .map(|u| UserId::parse(u).ok_or_else(|| ApiError::field("users", format!("{u:?} is not a user id"))))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(app.open_dm(caller.user.as_ref(), users).await?))
}

pub(super) async fn dms(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> ApiResult<Json<Vec<crate::service::Conversation>>> {
    Ok(Json(app.dms(caller.user.as_ref())?))
}

pub(super) async fn update_space(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<crate::service::SpacePatch>,
) -> ApiResult<Json<Space>> {
    let actor = signed_in(caller.user.as_ref())?;
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.update_space(actor, id, b).await?))
}

#[derive(Deserialize)]
pub(super) struct WatchBody {
    level: crate::model::WatchLevel,
}

pub(super) async fn watch_room(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<WatchBody>,
) -> ApiResult<Json<Room>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    Ok(Json(app.set_watch(caller.user.as_ref(), id, b.level).await?))
}

pub(super) async fn watch_space(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<WatchBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    app.set_space_watch(caller.user.as_ref(), id, b.level).await?;
    Ok(Json(serde_json::json!({"space": id, "watch": b.level})))
}

pub(super) async fn groups(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> ApiResult<Json<Vec<crate::service::ListedGroup>>> {
    Ok(Json(app.groups(caller.user.as_ref())?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct JoinBody {
    #[serde(default)]
    message: String,
}

pub(super) async fn request_join(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<JoinBody>,
) -> ApiResult<(StatusCode, Json<crate::model::JoinRequest>)> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok((StatusCode::CREATED, Json(app.request_join(caller.user.as_ref(), id, &b.message).await?)))
}

pub(super) async fn join_requests(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<crate::service::JoinRequestView>>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.join_requests(caller.user.as_ref(), id)?))
}

pub(super) async fn answer_join(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, user, answer)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    let user = parse_id(&user, UserId::parse, "user")?;
    let approve = match answer.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::not_found("route")),
    };
    app.answer_join(caller.user.as_ref(), id, user, approve).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct RoomPatch {
    title: String,
}

/// `PATCH /rooms/{id}`: a thread's new title (its author, or whoever manages the space).
pub(super) async fn rename_room(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<RoomPatch>,
) -> ApiResult<Json<Room>> {
    let id = parse_id(&id, RoomId::parse, "room")?;
    Ok(Json(app.rename_room(caller.user.as_ref(), id, &b.title).await?))
}
