//! The one place API errors become HTTP responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callscope_store::StoreError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session or token.
    #[error("sign in first")]
    Unauthorized,
    /// Signed in, but not allowed to see this.
    #[error("you do not have access to this")]
    Forbidden,
    /// No such thing.
    #[error("{0} not found")]
    NotFound(String),
    /// The request is wrong (bad date, bad parameter).
    #[error("{0}")]
    BadRequest(String),
    /// Only a comment's author may delete it.
    #[error("comment {0} belongs to someone else")]
    NotAuthor(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else (an I/O error reading audio, say).
    #[error("internal error: {0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Exhaustive on purpose: a new variant must decide its status here.
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotAuthor(_) => StatusCode::FORBIDDEN,
            ApiError::Store(e) => match e {
                StoreError::Unavailable(_) | StoreError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
                StoreError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
                StoreError::SchemaMismatch(_) | StoreError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        // Internal details stay in the server's log, never in the response.
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    "the call store is unavailable; try again shortly".to_owned()
                }
                _ => "internal error".to_owned(),
            }
        } else {
            self.to_string()
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
