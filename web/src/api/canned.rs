//! `/api/v1/canned`: the canned replies agents send with `/canned NAME`. Every agent may read
//! them; admins change them.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::Json;
use chrono::{DateTime, Utc};
use relaydesk_desk::canned;
use relaydesk_storage::CannedReply;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiAgent;
use super::body::ApiJson;
use super::error::{ApiError, ErrorBody};
use crate::AppState;

/// One text of a canned reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct CannedView {
    #[schema(example = "greeting")]
    pub name: String,
    /// The customer language it is for; `null`: every language without its own text.
    #[schema(example = "de")]
    pub language: Option<String>,
    #[schema(example = "Hallo {customer.first_name}, danke für Ihre Nachricht!")]
    pub text: String,
    pub updated_at: DateTime<Utc>,
}

impl From<CannedReply> for CannedView {
    fn from(reply: CannedReply) -> Self {
        Self {
            name: reply.name,
            language: reply.language,
            text: reply.text,
            updated_at: reply.updated_at,
        }
    }
}

/// Every canned reply text.
#[derive(Debug, Serialize, ToSchema)]
pub struct CannedList {
    pub items: Vec<CannedView>,
}

/// A canned reply's text to store.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedBody {
    /// May use {customer.name}, {customer.first_name}, {ticket.number}, {agent.name} and
    /// {team.name}.
    pub text: String,
    /// The customer language it is for (`de`, `pt-br`); omitted: every language without its
    /// own text.
    #[serde(default)]
    pub language: Option<String>,
}

/// Which language's text to remove.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RemoveParams {
    /// Only this language's text; omitted: every text of the name.
    pub language: Option<String>,
}

fn name_of(raw: &str) -> Result<String, ApiError> {
    canned::name(raw).map_err(|e| ApiError::invalid("name", e.to_string()))
}

fn language_of(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    raw.map(canned::language)
        .transpose()
        .map_err(|e| ApiError::invalid("language", e.to_string()))
}

/// List every canned reply text, by name.
#[utoipa::path(
    get,
    path = "/api/v1/canned",
    tag = "canned",
    responses(
        (status = 200, description = "Every canned reply text", body = CannedList),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _who: ApiAgent,
) -> Result<Json<CannedList>, ApiError> {
    let mut tx = state.store.begin().await?;
    let items = tx.canned_replies().await?;
    tx.rollback().await?;
    Ok(Json(CannedList {
        items: items.into_iter().map(CannedView::from).collect(),
    }))
}

/// Store a canned reply's text in one language (admins). 201 when new, 200 when replaced.
#[utoipa::path(
    put,
    path = "/api/v1/canned/{name}",
    tag = "canned",
    params(("name" = String, Path, description = "One word: letters, digits, - or _")),
    request_body = CannedBody,
    responses(
        (status = 200, description = "Replaced", body = CannedView),
        (status = 201, description = "Added", body = CannedView),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent is not an admin", body = ErrorBody),
        (status = 422, description = "A field is invalid (`field` names it)", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<CannedBody>,
) -> Result<(StatusCode, Json<CannedView>), ApiError> {
    who.require_admin("change canned replies")?;
    let name = name_of(&name)?;
    let text = canned::text(&body.text).map_err(|e| ApiError::invalid("text", e.to_string()))?;
    let language = language_of(body.language.as_deref())?;
    let now_ms = state.clock.now().timestamp_millis();
    let mut tx = state.store.begin().await?;
    let new = tx
        .put_canned_reply(&name, language.as_deref(), &text, now_ms)
        .await?;
    let stored = tx
        .canned_reply_variants(&name)
        .await?
        .into_iter()
        .find(|v| v.language == language)
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(stored.into())))
}

/// Remove a canned reply: every text of the name, or one language's (admins).
#[utoipa::path(
    delete,
    path = "/api/v1/canned/{name}",
    tag = "canned",
    params(("name" = String, Path, description = "The canned reply's name"), RemoveParams),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent is not an admin", body = ErrorBody),
        (status = 404, description = "No such canned reply", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(name): Path<String>,
    uri: Uri,
) -> Result<StatusCode, ApiError> {
    who.require_admin("change canned replies")?;
    let name = name_of(&name)?;
    let params = axum::extract::Query::<RemoveParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let language = language_of(params.language.as_deref())?;
    let mut tx = state.store.begin().await?;
    let removed = tx.remove_canned_reply(&name, language.as_deref()).await?;
    if removed == 0 {
        return Err(ApiError::not_found(format!(
            "there is no canned reply `{name}`"
        )));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
