//! `relaydesk report`: how the desk is doing — volume, response and resolution times, SLA,
//! satisfaction, self-service, backlog — per day, week or month and per agent, team, channel
//! or priority, as a table, CSV or JSON.

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use relaydesk_desk::reports::{self, Granularity, Request};
use relaydesk_desk::DeskError;
use relaydesk_storage::{StorageError, Store};

/// The options of `relaydesk report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Split the rows by agent, team, channel or priority [default: one row per period].
    #[arg(long, value_name = "GROUP")]
    pub by: Option<String>,
    /// Start: a duration back from now (7d, 24h), a date (2026-11-20) or an RFC 3339 time;
    /// the first period starts at the start of the day, week or month holding it.
    #[arg(long, default_value = "7d", value_name = "WHEN")]
    pub since: String,
    /// End, as --since [default: now].
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// How long each row's period is.
    #[arg(long, default_value = "day", value_name = "day|week|month")]
    pub period: String,
    /// The time zone periods are cut in [default: the first [[sla.team]]'s, else UTC].
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportCliError {
    #[error("{0}")]
    Request(#[from] DeskError),
    #[error("{0}")]
    When(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("could not write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Runs the report; returns what to print.
pub async fn run(
    store: &Store,
    args: &ReportArgs,
    now: DateTime<Utc>,
    default_zone: &str,
) -> Result<String, ReportCliError> {
    let when = |flag: &str, text: &str| {
        reports::parse_when(text, now).map_err(|e| ReportCliError::When(format!("{flag}: {e}")))
    };
    let from = when("--since", &args.since)?;
    let until = match &args.until {
        Some(text) => when("--until", text)?,
        None => now,
    };
    let request = Request::new(
        reports::group(args.by.as_deref().unwrap_or("all"))?,
        Granularity::parse(&args.period)?,
        reports::zone(args.time_zone.as_deref().unwrap_or(default_zone))?,
        from,
        until,
    )?;
    let mut tx = store.begin().await?;
    let rows = tx.report(&request.periods, request.by).await?;
    tx.rollback().await?;
    let report = request.report(rows);
    Ok(match args.format {
        Format::Table => report.to_text(),
        Format::Csv => report.to_csv()?.trim_end().to_string(),
        Format::Json => serde_json::to_string_pretty(&report.lines())?,
    })
}
