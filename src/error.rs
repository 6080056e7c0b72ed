//! The client-facing error codes, and the one place that turns errors into HTTP answers
//! and `error` frames. Internal details go to the log, never to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The error codes of the client contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    RateLimited,
    /// The server is full (connections) for now: try again later.
    Unavailable,
    /// The disk is (nearly) full: writes are refused until space is freed; reads go on.
    InsufficientStorage,
    Internal,
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Conflict => StatusCode::CONFLICT,
            Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error as the client sees it: a code, a message fit to show, and for validation
/// errors the offending field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// For `rate_limited`: seconds to wait before trying again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), field: None, retry_after: None }
    }

    /// A `bad_request` about one field of the input.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code: Code::BadRequest,
            message: format!("{field}: {}", message.into()),
            field: Some(field),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Code::BadRequest, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Code::Unauthorized, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Code::Conflict, message)
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(Code::TooLarge, message)
    }

    /// An internal failure: logged in full here, reported to the client without detail.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(Code::Internal, "internal error")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ApiError,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.code.status(), axum::Json(Envelope { error: &self })).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        r
    }
}

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt record in {tree}: {detail}")]
    Corrupt { tree: &'static str, detail: String },
    #[error("the store's writer has stopped")]
    WriterGone,
    #[error("{0}")]
    Failed(&'static str),
    #[error("data dir was written by schema version {found}; this build reads up to {supported}")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error(
        "the data dir holds a layout no release has written (a development build's): start from an empty data dir"
    )]
    UnknownLayout,
    #[error("the store is damaged: {0}. Do not serve it: restore the last backup into a new data dir (collective-brain import), or run collective-brain verify for a full report")]
    Damaged(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_json_shape() {
        let e = ApiError::field("handle", "too short");
        let json = serde_json::to_value(Envelope { error: &e }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "bad_request", "message": "handle: too short", "field": "handle"}})
        );
        let e = ApiError::not_found("room");
        assert_eq!(
            serde_json::to_value(Envelope { error: &e }).unwrap(),
            serde_json::json!({"error": {"code": "not_found", "message": "room not found"}})
        );
        assert_eq!(Code::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
