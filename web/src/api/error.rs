//! API errors: JSON `{"error": {"code", "message", "field"?}}` with a stable `code` and the
//! status that fits. Internal failures are logged and shown only as `internal`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use relaydesk_storage::{BadCursor, StorageError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::DeskError;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The request field that is wrong, for validation errors.
    pub field: Option<String>,
    /// Seconds until a rate-limited client may try again.
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `invalid`, `too_large`, `rate_limited`, `unsupported_media_type`, `internal`.
    #[schema(example = "invalid")]
    pub code: String,
    /// For people; may change between versions.
    pub message: String,
    /// The request field at fault (validation errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// A field of the request is wrong (422).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests with this token; retry in {retry_after} s"),
            )
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field: self.field,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"relaydesk\""),
            );
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            other => {
                tracing::error!(error = %other, "an API request failed in the store");
                ApiError::internal()
            }
        }
    }
}

impl From<DeskError> for ApiError {
    fn from(error: DeskError) -> Self {
        let status = crate::desk_status(&error);
        let code = match &error {
            DeskError::Forbidden(_) => "forbidden",
            DeskError::NotFound(_) => "not_found",
            DeskError::Invalid(_) => "invalid",
            DeskError::Conflict(_) => "conflict",
            DeskError::TooLarge { .. } => "too_large",
            DeskError::Internal(detail) => {
                tracing::error!(error = %detail, "an API request failed in the desk");
                return ApiError::internal();
            }
        };
        ApiError::new(status, code, error.to_string())
    }
}

impl From<BadCursor> for ApiError {
    fn from(error: BadCursor) -> Self {
        ApiError::invalid("cursor", error.to_string())
    }
}
