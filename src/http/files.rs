//! Uploads, downloads (with `Range` and `ETag`, by tower-http's `ServeFile`) and the
//! library. Every file is served with `nosniff` and a sandboxing CSP; what is not shown
//! inline (HTML, SVG and everything unknown) only as a download.

use axum::http::{HeaderMap, HeaderValue, Request as HttpRequest};
use tower::ServiceExt;

use super::*;
use crate::model::FileId;
use crate::service::{LibraryEntry, LibraryQuery, Served};

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    name: Option<String>,
}

pub(super) async fn upload(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<crate::model::File>)> {
    let length =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let name = q.name.unwrap_or_default();
    let body = req.into_body().into_data_stream();
    let file = app.upload(caller.user.as_ref(), &name, length, body).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

pub(super) async fn download(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let id = parse_id(&id, FileId::parse, "file")?;
    let served = app.download(caller.user.as_ref(), id, false)?;
    serve(served, req).await
}

pub(super) async fn describe(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<crate::service::FilePatch>,
) -> ApiResult<Json<crate::model::File>> {
    let id = parse_id(&id, FileId::parse, "file")?;
    Ok(Json(app.describe_file(caller.user.as_ref(), id, b).await?))
}

pub(super) async fn translate(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<crate::service::FileTranslationBody>,
) -> ApiResult<(StatusCode, Json<crate::model::File>)> {
    let id = parse_id(&id, FileId::parse, "file")?;
    Ok((StatusCode::CREATED, Json(app.translate_file(caller.user.as_ref(), id, b).await?)))
}

#[derive(Deserialize)]
pub(super) struct ToTranslateQuery {
    to: String,
}

pub(super) async fn to_translate(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<ToTranslateQuery>,
) -> ApiResult<Json<Vec<LibraryEntry>>> {
    Ok(Json(app.files_to_translate(caller.user.as_ref(), &q.to)?))
}

pub(super) async fn thumbnail(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let id = parse_id(&id, FileId::parse, "file")?;
    let served = app.download(caller.user.as_ref(), id, true)?;
    serve(served, req).await
}

pub(super) async fn library(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<LibraryQuery>,
) -> ApiResult<Json<Vec<LibraryEntry>>> {
    let id = parse_id(&id, SpaceId::parse, "space")?;
    Ok(Json(app.library(caller.user.as_ref(), id, &q)?))
}

pub(super) async fn avatar(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let id = parse_id(&id, UserId::parse, "user")?;
    let served = app.avatar_of(caller.user.as_ref(), id)?;
    serve(served, req).await
}

/// The blob, answered 304 when the client holds it already, else by `ServeFile` (whole
/// or in the ranges asked), with the file's own headers.
pub(super) async fn serve(served: Served, req: Request) -> ApiResult<Response> {
    let etag = format!("\"{}\"", served.sha256);
    let mut headers = HeaderMap::new();
    let value = |v: &str| HeaderValue::from_str(v).map_err(ApiError::internal);
    headers.insert(header::ETAG, value(&etag)?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
        ),
    );
    headers.insert(header::CONTENT_DISPOSITION, value(&crate::files::sniff::disposition(served.inline, &served.name))?);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().extend(headers);
        return Ok(r);
    }
    // Only what ServeFile reads of the request: the method and the range, unless an
    // If-Range names another version than this one (then the whole file).
    let mut inner = HttpRequest::builder().method(req.method().clone()).uri("/");
    let current = req.headers().get(header::IF_RANGE).is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag));
    if let Some(range) = req.headers().get(header::RANGE).filter(|_| current) {
        inner = inner.header(header::RANGE, range.clone());
    }
    let inner = inner.body(axum::body::Body::empty()).map_err(ApiError::internal)?;
    let answer = tower_http::services::ServeFile::new(&served.path).oneshot(inner).await.map_err(ApiError::internal)?;
    if answer.status() == StatusCode::NOT_FOUND {
        tracing::error!(path = %served.path.display(), "a file's blob is missing");
        return Err(ApiError::not_found("file"));
    }
    let mut r = answer.map(axum::body::Body::new);
    r.headers_mut().remove(header::LAST_MODIFIED);
    r.headers_mut().insert(header::CONTENT_TYPE, value(&served.content_type)?);
    r.headers_mut().extend(headers);
    Ok(r)
}
