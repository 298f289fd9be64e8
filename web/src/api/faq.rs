//! `/api/v1/faq`: FAQ entries offered to new tickets. Every agent may read them; admins
//! change them.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::Json;
use chrono::{DateTime, Utc};
use relaydesk_desk::{canned, faq, DeskError};
use relaydesk_storage::FaqEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiAgent;
use super::body::ApiJson;
use super::error::{ApiError, ErrorBody};
use crate::AppState;

/// One text of an FAQ entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqView {
    #[schema(example = "refund")]
    pub name: String,
    /// The customer language it is for; `null`: every language without its own text.
    pub language: Option<String>,
    /// Lower-case words or phrases; a first message with any of them matches.
    #[schema(example = json!(["refund", "money back"]))]
    pub keywords: Vec<String>,
    pub question: String,
    pub answer: String,
    pub updated_at: DateTime<Utc>,
}

impl From<FaqEntry> for FaqView {
    fn from(entry: FaqEntry) -> Self {
        Self {
            name: entry.name,
            language: entry.language,
            keywords: entry.keywords,
            question: entry.question,
            answer: entry.answer,
            updated_at: entry.updated_at,
        }
    }
}

/// Every FAQ entry text.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqList {
    pub items: Vec<FaqView>,
}

/// An FAQ entry's text to store.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqBody {
    pub keywords: Vec<String>,
    pub question: String,
    pub answer: String,
    /// The customer language it is for; omitted: every language without its own text.
    #[serde(default)]
    pub language: Option<String>,
}

/// Which language's text to remove.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RemoveParams {
    /// Only this language's text; omitted: every text of the entry.
    pub language: Option<String>,
}

fn field<T>(name: &'static str, checked: Result<T, DeskError>) -> Result<T, ApiError> {
    checked.map_err(|e| ApiError::invalid(name, e.to_string()))
}

/// List every FAQ entry text, by name.
#[utoipa::path(
    get,
    path = "/api/v1/faq",
    tag = "faq",
    responses(
        (status = 200, description = "Every FAQ entry text", body = FaqList),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _who: ApiAgent,
) -> Result<Json<FaqList>, ApiError> {
    let mut tx = state.store.begin().await?;
    let items = tx.faq_entries().await?;
    tx.rollback().await?;
    Ok(Json(FaqList {
        items: items.into_iter().map(FaqView::from).collect(),
    }))
}

/// Store an FAQ entry's text in one language (admins). 201 when new, 200 when replaced.
#[utoipa::path(
    put,
    path = "/api/v1/faq/{name}",
    tag = "faq",
    params(("name" = String, Path, description = "One word: letters, digits, - or _")),
    request_body = FaqBody,
    responses(
        (status = 200, description = "Replaced", body = FaqView),
        (status = 201, description = "Added", body = FaqView),
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
    ApiJson(body): ApiJson<FaqBody>,
) -> Result<(StatusCode, Json<FaqView>), ApiError> {
    who.require_admin("change FAQ entries")?;
    let now = state.clock.now();
    let entry = FaqEntry {
        name: field("name", canned::name(&name))?,
        language: field(
            "language",
            body.language.as_deref().map(canned::language).transpose(),
        )?,
        keywords: field("keywords", faq::keywords(&body.keywords.join(",")))?,
        question: field("question", faq::text("question", &body.question))?,
        answer: field("answer", faq::text("answer", &body.answer))?,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    let new = tx.put_faq_entry(&entry, now.timestamp_millis()).await?;
    tx.commit().await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry.into())))
}

/// Remove an FAQ entry: every text, or one language's (admins).
#[utoipa::path(
    delete,
    path = "/api/v1/faq/{name}",
    tag = "faq",
    params(("name" = String, Path, description = "The entry's name"), RemoveParams),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent is not an admin", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
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
    who.require_admin("change FAQ entries")?;
    let name = field("name", canned::name(&name))?;
    let params = axum::extract::Query::<RemoveParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let language = field(
        "language",
        params.language.as_deref().map(canned::language).transpose(),
    )?;
    let mut tx = state.store.begin().await?;
    let removed = tx.remove_faq_entry(&name, language.as_deref()).await?;
    if removed == 0 {
        return Err(ApiError::not_found(format!(
            "there is no FAQ entry `{name}`"
        )));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
