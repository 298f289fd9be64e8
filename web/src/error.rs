use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use relaydesk_desk::DeskError;
use serde_json::json;
use thiserror::Error;

/// Errors of the web layer. Internal details are logged, never shown to clients.
#[derive(Debug, Error)]
pub enum WebError {
    #[error("the web server stopped: {0}")]
    Serve(#[source] std::io::Error),
    #[error("not ready: {0}")]
    NotReady(String),
    #[error(transparent)]
    Storage(#[from] relaydesk_storage::StorageError),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            WebError::NotReady(reason) => {
                (StatusCode::SERVICE_UNAVAILABLE, "not_ready", reason.clone())
            }
            WebError::Serve(_) | WebError::Storage(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error".to_string(),
                )
            }
        };
        (
            status,
            Json(json!({ "error": { "code": code, "message": message } })),
        )
            .into_response()
    }
}

/// The HTTP status for a [`DeskError`]: the one place the desk's refusals meet HTTP, for the
/// REST API and the console alike.
pub fn desk_status(error: &DeskError) -> StatusCode {
    match error {
        DeskError::Forbidden(_) => StatusCode::FORBIDDEN,
        DeskError::NotFound(_) => StatusCode::NOT_FOUND,
        DeskError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        DeskError::Conflict(_) => StatusCode::CONFLICT,
        DeskError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DeskError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
