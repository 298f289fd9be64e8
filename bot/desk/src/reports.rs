//! Reports as every edge shows them: the periods a request covers, cut in a time zone, and one
//! table of figures rendered as text (CLI, chat), CSV (download) or JSON lines (API). The
//! figures come from the store ([`relaydesk_storage::Tx::report`]).

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use relaydesk_storage::{Figures, Period, ReportGroup, ReportRow, Spread};
use serde::Serialize;

use crate::DeskError;

/// The most periods one report covers.
pub const MAX_PERIODS: usize = 400;

/// How long each period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    /// Monday to Sunday.
    Week,
    Month,
}

impl Granularity {
    pub const NAMES: [&'static str; 3] = ["day", "week", "month"];

    pub fn parse(text: &str) -> Result<Self, DeskError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            other => Err(DeskError::Invalid(format!(
                "`{other}` is not a period: use day, week or month"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The first day of the period holding `date`.
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date,
            Self::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Self::Month => date.with_day(1).unwrap_or(date),
        }
    }

    fn next(self, date: NaiveDate) -> NaiveDate {
        let next = match self {
            Self::Day => date.checked_add_days(Days::new(1)),
            Self::Week => date.checked_add_days(Days::new(7)),
            Self::Month => date.checked_add_months(Months::new(1)),
        };
        next.unwrap_or(NaiveDate::MAX)
    }
}

/// What to split by, from its name (`agent`, `team`, `channel`, `priority`, `all`).
pub fn group(text: &str) -> Result<ReportGroup, DeskError> {
    ReportGroup::parse(text).ok_or_else(|| {
        DeskError::Invalid(format!(
            "`{text}` is not a grouping: use {}",
            ReportGroup::NAMES.join(", ")
        ))
    })
}

/// A time zone by its IANA name.
pub fn zone(text: &str) -> Result<Tz, DeskError> {
    text.trim()
        .parse::<Tz>()
        .map_err(|_| DeskError::Invalid(format!("`{text}` is not an IANA time zone")))
}

/// A point in time as people type it: a duration back from `now` (`24h`, `7days`), a date
/// (`2026-11-20`, UTC midnight) or an RFC 3339 time (`2026-11-20T09:00:00+02:00`).
pub fn parse_when(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, DeskError> {
    let text = text.trim();
    if let Ok(d) = humantime::parse_duration(text) {
        let d = chrono::Duration::from_std(d)
            .map_err(|_| DeskError::Invalid(format!("`{text}` is too long")))?;
        return now
            .checked_sub_signed(d)
            .ok_or_else(|| DeskError::Invalid(format!("`{text}` is too long")));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(NaiveTime::MIN).and_utc());
    }
    Err(DeskError::Invalid(format!(
        "`{text}` is neither a duration (24h, 7days), a date (2026-11-20) nor an RFC 3339 time"
    )))
}

/// The local midnight starting `date` in `zone` (the first moment of the day where a clock
/// change skips midnight).
fn midnight(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN);
    let local = zone.from_local_datetime(&naive).earliest().or_else(|| {
        zone.from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
    });
    match local {
        Some(t) => t.with_timezone(&Utc),
        None => naive.and_utc(),
    }
}

/// The periods from the start of the one holding `from` up to `until` (the last one ends
/// there), each with its first local day.
pub fn periods(
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    granularity: Granularity,
    zone: Tz,
) -> Result<Vec<(NaiveDate, Period)>, DeskError> {
    if until <= from {
        return Err(DeskError::Invalid(
            "the report's end must come after its start".into(),
        ));
    }
    let mut day = granularity.start_of(from.with_timezone(&zone).date_naive());
    let mut periods = Vec::new();
    loop {
        let start = midnight(zone, day);
        if start >= until {
            break;
        }
        let next = granularity.next(day);
        let end = midnight(zone, next).min(until);
        periods.push((
            day,
            Period {
                start_ms: start.timestamp_millis(),
                end_ms: end.timestamp_millis(),
            },
        ));
        if periods.len() > MAX_PERIODS {
            return Err(DeskError::Invalid(format!(
                "that is more than {MAX_PERIODS} periods: choose a longer period or a shorter span"
            )));
        }
        day = next;
    }
    Ok(periods)
}

/// A checked report request: what to split by and the periods to cover.
#[derive(Debug, Clone)]
pub struct Request {
    pub by: ReportGroup,
    pub granularity: Granularity,
    pub zone: Tz,
    days: Vec<NaiveDate>,
    /// What the store is asked for ([`relaydesk_storage::Tx::report`]).
    pub periods: Vec<Period>,
}

impl Request {
    pub fn new(
        by: ReportGroup,
        granularity: Granularity,
        zone: Tz,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Self, DeskError> {
        let (days, periods) = periods(from, until, granularity, zone)?.into_iter().unzip();
        Ok(Self {
            by,
            granularity,
            zone,
            days,
            periods,
        })
    }

    /// The report of the store's rows for these periods.
    pub fn report(self, rows: Vec<ReportRow>) -> Report {
        Report {
            by: self.by,
            granularity: self.granularity,
            zone: self.zone,
            days: self.days,
            rows,
        }
    }
}

/// A computed report: what was asked and the store's rows.
#[derive(Debug, Clone)]
pub struct Report {
    pub by: ReportGroup,
    pub granularity: Granularity,
    pub zone: Tz,
    /// Each period's first local day.
    pub days: Vec<NaiveDate>,
    pub rows: Vec<ReportRow>,
}

/// One row as CSV and JSON give it: a period and group. Durations are whole seconds (median and
/// 90th percentile, nearest rank); rates run from 0 to 1.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Line {
    /// The period's first day, in the report's time zone.
    #[schema(example = "2026-12-01")]
    pub period: String,
    /// The agent, team, channel or priority (`all` when not split; `(unassigned)`,
    /// `(no team)` for tickets without one).
    pub group: String,
    pub opened: i64,
    pub closed: i64,
    pub reopened: i64,
    /// Tickets open at the period's end.
    pub backlog: i64,
    pub first_responses: i64,
    pub first_response_median_seconds: Option<i64>,
    pub first_response_p90_seconds: Option<i64>,
    pub resolutions: i64,
    pub resolution_median_seconds: Option<i64>,
    pub resolution_p90_seconds: Option<i64>,
    /// First responses and resolutions in the business hours of each ticket's SLA policy
    /// (tickets under a policy only).
    pub first_response_business_median_seconds: Option<i64>,
    pub first_response_business_p90_seconds: Option<i64>,
    pub resolution_business_median_seconds: Option<i64>,
    pub resolution_business_p90_seconds: Option<i64>,
    pub sla_first_response_met: i64,
    pub sla_first_response_missed: i64,
    pub sla_next_response_missed: i64,
    pub sla_resolution_met: i64,
    pub sla_resolution_missed: i64,
    pub sla_hit_rate: Option<f64>,
    pub csat_sent: i64,
    pub csat_answered: i64,
    pub csat_average: Option<f64>,
    pub csat_response_rate: Option<f64>,
    /// Tickets solved by an FAQ answer.
    pub self_served: i64,
}

fn seconds(ms: Option<i64>) -> Option<i64> {
    ms.map(|ms| ms / 1000)
}

fn round3(x: Option<f64>) -> Option<f64> {
    x.map(|x| (x * 1000.0).round() / 1000.0)
}

impl Line {
    fn new(period: String, group: String, f: &Figures) -> Self {
        Self {
            period,
            group,
            opened: f.opened,
            closed: f.closed,
            reopened: f.reopened,
            backlog: f.backlog,
            first_responses: f.first_response.count,
            first_response_median_seconds: seconds(f.first_response.median_ms),
            first_response_p90_seconds: seconds(f.first_response.p90_ms),
            resolutions: f.resolution.count,
            resolution_median_seconds: seconds(f.resolution.median_ms),
            resolution_p90_seconds: seconds(f.resolution.p90_ms),
            first_response_business_median_seconds: seconds(f.first_response_business.median_ms),
            first_response_business_p90_seconds: seconds(f.first_response_business.p90_ms),
            resolution_business_median_seconds: seconds(f.resolution_business.median_ms),
            resolution_business_p90_seconds: seconds(f.resolution_business.p90_ms),
            sla_first_response_met: f.first_response_met,
            sla_first_response_missed: f.first_response_missed,
            sla_next_response_missed: f.next_response_missed,
            sla_resolution_met: f.resolution_met,
            sla_resolution_missed: f.resolution_missed,
            sla_hit_rate: round3(f.sla_hit_rate()),
            csat_sent: f.csat_sent,
            csat_answered: f.csat_answered,
            csat_average: round3(f.csat_average()),
            csat_response_rate: round3(f.csat_response_rate()),
            self_served: f.self_served,
        }
    }
}

/// `1h 05m`, `12m`, `45s`, `3d 4h`; `–` for none.
pub fn duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "–".to_string();
    };
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m:02}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn spread(s: &Spread) -> String {
    format!("{} / {}", duration(s.median_ms), duration(s.p90_ms))
}

impl Report {
    /// Every row, in period order, then by group.
    pub fn lines(&self) -> Vec<Line> {
        self.rows
            .iter()
            .map(|row| {
                let day = self
                    .days
                    .get(row.period)
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                Line::new(day, row.group.clone(), &row.figures)
            })
            .collect()
    }

    /// CSV with a header row.
    pub fn to_csv(&self) -> Result<String, DeskError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for line in self.lines() {
            writer
                .serialize(&line)
                .map_err(|e| DeskError::Internal(format!("report CSV: {e}")))?;
        }
        if self.rows.is_empty() {
            // A header even when there is nothing to report.
            writer
                .write_record(CSV_HEADER)
                .map_err(|e| DeskError::Internal(format!("report CSV: {e}")))?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| DeskError::Internal(format!("report CSV: {e}")))?;
        String::from_utf8(bytes).map_err(|e| DeskError::Internal(format!("report CSV: {e}")))
    }

    /// A plain-text table: one line per row, durations as median / 90th percentile.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{:<10}  {:<16}  {:>6}  {:>6}  {:>7}  {:>15}  {:>15}  {:>15}  {:>15}  {:>6}  {:>5}  {:>5}\n",
            "period",
            self.by.as_str(),
            "opened",
            "closed",
            "backlog",
            "first response",
            "resolution",
            "first resp. (bh)",
            "resolution (bh)",
            "SLA",
            "CSAT",
            "FAQ"
        );
        if self.rows.is_empty() {
            out.push_str("no tickets in this span\n");
        }
        for (row, line) in self.rows.iter().zip(self.lines()) {
            let f = &row.figures;
            let _ = writeln!(
                out,
                "{:<10}  {:<16}  {:>6}  {:>6}  {:>7}  {:>15}  {:>15}  {:>15}  {:>15}  {:>6}  {:>5}  {:>5}",
                line.period,
                truncate(&line.group, 16),
                f.opened,
                f.closed,
                f.backlog,
                spread(&f.first_response),
                spread(&f.resolution),
                spread(&f.first_response_business),
                spread(&f.resolution_business),
                percent(f.sla_hit_rate()),
                f.csat_average()
                    .map_or("–".to_string(), |a| format!("{a:.1}")),
                f.self_served,
            );
        }
        out.trim_end().to_string()
    }
}

/// A weekly report for a team channel: a title, then a few lines per section (one period's
/// figures of a group).
pub fn weekly_text(title: &str, sections: &[(String, Figures)]) -> String {
    let mut text = format!("📊 {title}");
    for (name, f) in sections {
        let _ = write!(
            text,
            "\n\n{name}\nOpened {} · closed {} · reopened {} · open at the end {}\n\
             First response {} · resolution {} (median / 90th percentile; in business hours {} · {})\n\
             SLA goals met {} · satisfaction {} ({} of {} surveys answered) · solved by FAQ {}",
            f.opened,
            f.closed,
            f.reopened,
            f.backlog,
            spread(&f.first_response),
            spread(&f.resolution),
            spread(&f.first_response_business),
            spread(&f.resolution_business),
            percent(f.sla_hit_rate()),
            f.csat_average()
                .map_or("–".to_string(), |a| format!("{a:.1}/5")),
            f.csat_answered,
            f.csat_sent,
            f.self_served,
        );
    }
    text
}

const CSV_HEADER: [&str; 27] = [
    "period",
    "group",
    "opened",
    "closed",
    "reopened",
    "backlog",
    "first_responses",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "resolutions",
    "resolution_median_seconds",
    "resolution_p90_seconds",
    "first_response_business_median_seconds",
    "first_response_business_p90_seconds",
    "resolution_business_median_seconds",
    "resolution_business_p90_seconds",
    "sla_first_response_met",
    "sla_first_response_missed",
    "sla_next_response_missed",
    "sla_resolution_met",
    "sla_resolution_missed",
    "sla_hit_rate",
    "csat_sent",
    "csat_answered",
    "csat_average",
    "csat_response_rate",
    "self_served",
];

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".to_string(), |r| format!("{:.0}%", r * 100.0))
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut.saturating_sub(1)]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_are_cut_at_local_midnight_and_the_last_ends_at_until() {
        let zone: Tz = "Europe/Helsinki".parse().unwrap();
        let p = periods(
            utc("2026-12-01T10:00:00Z"),
            utc("2026-12-03T12:00:00Z"),
            Granularity::Day,
            zone,
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].0.to_string(), "2026-12-01");
        // Helsinki is UTC+2 in December: its midnight is 22:00 UTC the day before.
        assert_eq!(
            p[0].1.start_ms,
            utc("2026-11-30T22:00:00Z").timestamp_millis()
        );
        assert_eq!(p[0].1.end_ms, p[1].1.start_ms);
        assert_eq!(
            p[2].1.end_ms,
            utc("2026-12-03T12:00:00Z").timestamp_millis()
        );
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first_across_a_clock_change() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let weeks = periods(
            utc("2026-03-25T12:00:00Z"),
            utc("2026-04-07T00:00:00Z"),
            Granularity::Week,
            zone,
        )
        .unwrap();
        assert_eq!(
            weeks.iter().map(|w| w.0.to_string()).collect::<Vec<_>>(),
            ["2026-03-23", "2026-03-30", "2026-04-06"]
        );
        // The clock moved forward on 29 March: that week is an hour short.
        assert_eq!(
            weeks[0].1.end_ms - weeks[0].1.start_ms,
            (7 * 24 - 1) * 3_600_000
        );
        let months = periods(
            utc("2026-01-15T00:00:00Z"),
            utc("2026-03-02T00:00:00Z"),
            Granularity::Month,
            zone,
        )
        .unwrap();
        assert_eq!(
            months.iter().map(|m| m.0.to_string()).collect::<Vec<_>>(),
            ["2026-01-01", "2026-02-01", "2026-03-01"]
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        let zone = Tz::UTC;
        let t = utc("2026-01-01T00:00:00Z");
        assert!(periods(t, t, Granularity::Day, zone).is_err());
        let far = utc("2028-01-01T00:00:00Z");
        let err = periods(t, far, Granularity::Day, zone)
            .unwrap_err()
            .to_string();
        assert!(err.contains("400"), "{err}");
        assert!(periods(t, far, Granularity::Week, zone).is_ok());
        assert!(Granularity::parse("fortnight").is_err());
        assert!(group("weather").unwrap_err().to_string().contains("agent"));
        assert!(zone_ok("Mars/Olympus").is_err());
    }

    fn zone_ok(name: &str) -> Result<Tz, DeskError> {
        zone(name)
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(None), "–");
        assert_eq!(duration(Some(45_000)), "45s");
        assert_eq!(duration(Some(12 * 60_000)), "12m");
        assert_eq!(duration(Some(65 * 60_000)), "1h 05m");
        assert_eq!(duration(Some(28 * 3_600_000)), "1d 4h");
    }

    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        let mut figures = Figures {
            opened: 2,
            ..Figures::default()
        };
        figures.first_response = Spread {
            count: 1,
            median_ms: Some(90_500),
            p90_ms: Some(90_500),
        };
        let report = Report {
            by: ReportGroup::Team,
            granularity: Granularity::Day,
            zone: Tz::UTC,
            days: vec![NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()],
            rows: vec![ReportRow {
                period: 0,
                group: "Billing, EU".into(),
                figures,
            }],
        };
        let csv = report.to_csv().unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), CSV_HEADER.join(","));
        let row = lines.next().unwrap();
        assert!(
            row.starts_with("2026-12-01,\"Billing, EU\",2,0,0,0,1,90,90,"),
            "{row}"
        );
        let empty = Report {
            rows: Vec::new(),
            ..report
        };
        assert_eq!(empty.to_csv().unwrap().trim(), CSV_HEADER.join(","));
        assert!(empty.to_text().contains("no tickets"));
    }
}
