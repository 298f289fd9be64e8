//! Reports as the API and the console ask for them: the query parameters, checked into a
//! [`Request`], and the report read from the store.

use chrono::{DateTime, Utc};
use relaydesk_desk::reports::{self, Granularity, Report, Request};
use relaydesk_storage::{StorageError, Store};
use serde::Deserialize;
use utoipa::IntoParams;

/// What a report covers, as query parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct ReportParams {
    /// `agent`, `team`, `channel` or `priority`; omitted: one row per period.
    pub by: Option<String>,
    /// Start: a duration back from now (`7d`), a date (`2026-11-20`) or an RFC 3339 time;
    /// the first period starts at the start of the day, week or month holding it
    /// [default: 7d].
    pub from: Option<String>,
    /// End, as `from` [default: now].
    pub to: Option<String>,
    /// `day` (default), `week` (from Monday) or `month`.
    pub period: Option<String>,
    /// IANA time zone periods are cut in [default: the first `[[sla.team]]`'s, else UTC].
    pub time_zone: Option<String>,
}

/// A parameter that does not make sense: its name and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam {
    pub field: &'static str,
    pub message: String,
}

impl ReportParams {
    /// The parameters checked; `default_zone` when none is named.
    pub fn request(&self, default_zone: &str, now: DateTime<Utc>) -> Result<Request, BadParam> {
        let bad = |field: &'static str| {
            move |e: relaydesk_desk::DeskError| BadParam {
                field,
                message: e.to_string(),
            }
        };
        let by = reports::group(self.by.as_deref().unwrap_or("all")).map_err(bad("by"))?;
        let from =
            reports::parse_when(self.from.as_deref().unwrap_or("7d"), now).map_err(bad("from"))?;
        let to = match self.to.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(to) => reports::parse_when(to, now).map_err(bad("to"))?,
            None => now,
        };
        let period =
            Granularity::parse(self.period.as_deref().unwrap_or("day")).map_err(bad("period"))?;
        let zone = reports::zone(
            self.time_zone
                .as_deref()
                .filter(|z| !z.trim().is_empty())
                .unwrap_or(default_zone),
        )
        .map_err(bad("time_zone"))?;
        Request::new(by, period, zone, from, to).map_err(bad("from"))
    }
}

/// Runs `request` against the store.
pub async fn load(store: &Store, request: Request) -> Result<Report, StorageError> {
    let mut tx = store.begin().await?;
    let rows = tx.report(&request.periods, request.by).await?;
    tx.rollback().await?;
    Ok(request.report(rows))
}
