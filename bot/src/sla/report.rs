//! `relaydesk sla report`: the summary's figures for any window, printed.

use chrono::{DateTime, Utc};
use relaydesk_storage::{StorageError, Store};

use super::rules::SlaRules;
use super::summary::{build_summary, format_summary};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("--since: {0}")]
    Since(String),
    #[error("--team: no [[sla.team]] is called `{0}`")]
    UnknownTeam(String),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

/// Reads `--since`: a duration back from `now` (`24h`, `7days`), a date (`2026-11-20`, UTC
/// midnight) or an RFC 3339 time (`2026-11-20T09:00:00+02:00`).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ReportError> {
    relaydesk_desk::reports::parse_when(text, now).map_err(|e| ReportError::Since(e.to_string()))
}

/// The summary from `since` to `now`, for one team or every ticket. "Due before the next
/// summary" looks ahead to the team's (or the first team's) next summary, else one day.
pub async fn report(
    store: &Store,
    rules: &SlaRules,
    team: Option<&str>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, ReportError> {
    let team = match team {
        Some(name) => Some(
            rules
                .teams
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| ReportError::UnknownTeam(name.to_string()))?,
        ),
        None => None,
    };
    let next = team
        .or(rules.teams.first())
        .and_then(|t| t.next_tick(now))
        .unwrap_or(now + chrono::Duration::days(1));
    let mut tx = store.begin().await?;
    let summary = build_summary(&mut tx, rules, team, since, now, next).await?;
    tx.commit().await?;
    Ok(format_summary(&summary))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn since_takes_durations_dates_and_times() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 0).unwrap();
        assert_eq!(
            parse_since("24h", now).unwrap(),
            now - chrono::Duration::hours(24)
        );
        assert_eq!(
            parse_since("7days", now).unwrap(),
            now - chrono::Duration::days(7)
        );
        assert_eq!(
            parse_since("2026-11-20", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_since("2026-11-20T09:00:00+02:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 7, 0, 0).unwrap()
        );
        let err = parse_since("last week", now).unwrap_err().to_string();
        assert!(err.starts_with("--since: `last week` is neither"), "{err}");
    }
}
