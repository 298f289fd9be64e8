//! `GET /api/v1/tickets/{number}/transcript`: the conversation as a file.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::ApiAgent;
use super::error::{ApiError, ErrorBody};
use super::tickets::ticket_number;
use crate::transcript::{Audience, Format, Transcript};
use crate::AppState;

/// How to render the transcript.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TranscriptParams {
    /// `html` (default: one self-contained page) or `txt`.
    pub format: Option<String>,
    /// `true`: include internal notes, marked as such (default `false`: what the customer saw).
    pub notes: Option<bool>,
}

/// A transcript file: `Content-Disposition: attachment; filename="ticket-N.html"`.
pub fn file_response(transcript: &Transcript, format: Format, audience: Audience) -> Response {
    let body = transcript.render(format, audience);
    let disposition = format!(
        "attachment; filename=\"{}\"",
        format.file_name(transcript.ticket.number)
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Download a ticket's conversation as HTML or plain text.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{number}/transcript",
    tag = "tickets",
    params(("number" = i64, Path, description = "Ticket number"), TranscriptParams),
    responses(
        (status = 200, description = "The transcript file", content_type = "text/html"),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 422, description = "Unknown format", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn transcript(
    State(state): State<AppState>,
    _who: ApiAgent,
    Path(number): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let number = ticket_number(&number)?;
    let params = axum::extract::Query::<TranscriptParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let format = Format::parse(params.format.as_deref())
        .ok_or_else(|| ApiError::invalid("format", "format is html or txt"))?;
    let audience = if params.notes.unwrap_or(false) {
        Audience::Staff
    } else {
        Audience::Customer
    };
    let transcript = Transcript::load(&state.store, number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no ticket #{number}")))?;
    Ok(file_response(&transcript, format, audience))
}
