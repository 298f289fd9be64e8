//! `GET /api/v1/reports`: the desk's figures per period and per agent, team, channel or
//! priority, as JSON or CSV.

use axum::extract::State;
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use relaydesk_desk::reports::Line;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiAgent;
use super::error::{ApiError, ErrorBody};
use crate::reports::{load, ReportParams};
use crate::AppState;

/// `format=csv` for a CSV file instead of JSON.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FormatParam {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// A report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportBody {
    /// `all`, `agent`, `team`, `channel` or `priority`.
    pub by: String,
    /// `day`, `week` or `month`.
    pub period: String,
    pub time_zone: String,
    /// In period order, then by group; a group with nothing in a period has no row.
    pub rows: Vec<Line>,
}

/// Figures per period and group: volume, first response and resolution times, SLA goals,
/// satisfaction, self-service and backlog.
#[utoipa::path(
    get,
    path = "/api/v1/reports",
    tag = "reports",
    params(ReportParams, FormatParam),
    responses(
        (status = 200, description = "The report (JSON, or CSV with format=csv)", body = ReportBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 422, description = "A parameter is invalid (`field` names it)", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    _who: ApiAgent,
    uri: Uri,
) -> Result<Response, ApiError> {
    let params = axum::extract::Query::<ReportParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let format = axum::extract::Query::<FormatParam>::try_from_uri(&uri)
        .map(|q| q.0.format)
        .map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let request = params
        .request(&state.settings.report_time_zone, state.clock.now())
        .map_err(|bad| ApiError::invalid(bad.field, bad.message))?;
    let report = load(&state.store, request).await?;
    match format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(ReportBody {
            by: report.by.as_str().to_string(),
            period: report.granularity.as_str().to_string(),
            time_zone: report.zone.name().to_string(),
            rows: report.lines(),
        })
        .into_response()),
        "csv" => {
            let csv = report.to_csv().map_err(|e| {
                tracing::error!(error = %e, "report CSV failed");
                ApiError::internal()
            })?;
            let mut response = csv.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            response.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"relaydesk-report.csv\""),
            );
            Ok(response)
        }
        _ => Err(ApiError::invalid("format", "format is json or csv")),
    }
}
