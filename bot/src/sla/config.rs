//! The `[sla]` section: `[[sla.calendar]]`, `[[sla.policy]]` and `[[sla.team]]`, checked and
//! turned into [`SlaRules`] at start.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use relaydesk_storage::sla::{BusinessHours, Calendar, DueSoon, Policy, PolicySet, Target};
use relaydesk_storage::{Platform, Priority};
use serde::{Deserialize, Serialize};

use super::rules::{SlaRules, Team};

/// Weekdays at 09:00 in the team's time zone.
pub const DEFAULT_SUMMARY_CRON: &str = "0 0 9 * * Mon-Fri";
/// When a team's weekly report is posted unless configured: Monday 09:00 in its time zone.
pub const DEFAULT_REPORT_CRON: &str = "0 0 9 * * Mon";

/// The name of the built-in around-the-clock calendar.
const ALWAYS: &str = "24/7";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    /// How often the scheduler looks for due warnings and summaries.
    #[serde(with = "humantime_serde")]
    pub scan_interval: Duration,
    /// A summary tick missed (process down) is still posted this long after its time.
    #[serde(with = "humantime_serde")]
    pub summary_catch_up: Duration,
    pub calendar: Vec<CalendarConfig>,
    pub policy: Vec<PolicyConfig>,
    pub team: Vec<TeamConfig>,
    /// Teams of `[[teams]]` that policies may name besides those of `team` (filled in by the
    /// configuration, never read from the file).
    #[serde(skip)]
    pub other_teams: Vec<String>,
}

impl Default for SlaConfig {
    fn default() -> Self {
        Self {
            scan_interval: Duration::from_secs(30),
            summary_catch_up: Duration::from_secs(3600),
            calendar: Vec::new(),
            policy: Vec::new(),
            team: Vec::new(),
            other_teams: Vec::new(),
        }
    }
}

/// Business hours in a time zone: `mon = ["09:00-12:00", "13:00-17:00"]`, days left out are
/// closed; `holidays = [2026-12-24, …]` are closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub name: String,
    pub time_zone: String,
    #[serde(default)]
    pub mon: Vec<String>,
    #[serde(default)]
    pub tue: Vec<String>,
    #[serde(default)]
    pub wed: Vec<String>,
    #[serde(default)]
    pub thu: Vec<String>,
    #[serde(default)]
    pub fri: Vec<String>,
    #[serde(default)]
    pub sat: Vec<String>,
    #[serde(default)]
    pub sun: Vec<String>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

/// A holiday date: `"2026-12-24"` or a bare TOML date `2026-12-24`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Holiday {
    Text(String),
    TomlDate {
        #[serde(rename = "$__toml_private_datetime")]
        value: String,
    },
}

impl Holiday {
    fn date(&self) -> Result<NaiveDate, String> {
        let text = match self {
            Holiday::Text(t) | Holiday::TomlDate { value: t } => t,
        };
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a date of the form 2026-12-24"))
    }
}

/// Goals for the tickets it matches (priority, origin channel, team; empty = any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub name: String,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub channel: Option<Platform>,
    #[serde(default)]
    pub team: Option<String>,
    /// A `[[sla.calendar]]` name, or `24/7`.
    #[serde(default = "always")]
    pub calendar: String,
    #[serde(default, with = "humantime_serde::option")]
    pub first_response: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    pub next_response: Option<Duration>,
    #[serde(default, with = "humantime_serde::option")]
    pub resolution: Option<Duration>,
    /// `20%` of the goal left, or a duration left such as `10m`.
    #[serde(default = "twenty_percent")]
    pub due_soon: String,
    #[serde(default)]
    pub first_response_due_soon: Option<String>,
    #[serde(default)]
    pub next_response_due_soon: Option<String>,
    #[serde(default)]
    pub resolution_due_soon: Option<String>,
}

/// Where a team's warnings and summaries go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    pub name: String,
    #[serde(default = "utc")]
    pub time_zone: String,
    /// A Discord channel id.
    #[serde(default)]
    pub discord_channel: Option<String>,
    /// A Telegram chat id, or `chat:topic` for a forum topic.
    #[serde(default)]
    pub telegram_chat: Option<String>,
    /// A console channel name.
    #[serde(default)]
    pub console_channel: Option<String>,
    /// Seconds-first cron expression in the team's time zone; empty turns summaries off.
    #[serde(default = "default_cron")]
    pub summary_cron: String,
    /// When the weekly report (the last seven days) is posted, as `summary_cron`; empty turns
    /// it off.
    #[serde(default = "default_report_cron")]
    pub report_cron: String,
}

fn always() -> String {
    ALWAYS.to_string()
}

fn twenty_percent() -> String {
    "20%".to_string()
}

fn utc() -> String {
    "UTC".to_string()
}

/// A team's cron schedule; `None` when the text is empty.
fn schedule(
    key: &str,
    field: &str,
    text: &str,
    example: &str,
) -> Result<Option<cron::Schedule>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    cron::Schedule::from_str(text).map(Some).map_err(|e| {
        format!(
            "{key}.{field}: `{text}` is not a cron expression ({e}); use seconds first, e.g. `{example}`"
        )
    })
}

fn default_report_cron() -> String {
    DEFAULT_REPORT_CRON.to_string()
}

fn default_cron() -> String {
    DEFAULT_SUMMARY_CRON.to_string()
}

fn zone(key: &str, name: &str) -> Result<Tz, String> {
    Tz::from_str(name)
        .map_err(|_| format!("{key}: `{name}` is not an IANA time zone (e.g. Europe/Helsinki)"))
}

impl SlaConfig {
    /// Checks every key and builds the rules; errors name the key, e.g.
    /// `sla.policy[1] (urgent).first_response: must be above 0`.
    pub fn rules(&self) -> Result<SlaRules, String> {
        if self.scan_interval.is_zero() {
            return Err("sla.scan_interval must be above 0".into());
        }
        if self.summary_catch_up < self.scan_interval {
            return Err(
                "sla.summary_catch_up must be at least sla.scan_interval, or summaries can be missed"
                    .into(),
            );
        }
        let mut calendars = vec![(ALWAYS.to_string(), Arc::new(Calendar::Always))];
        for (i, c) in self.calendar.iter().enumerate() {
            let key = format!("sla.calendar[{i}] ({})", c.name);
            if c.name.trim().is_empty() {
                return Err(format!("sla.calendar[{i}].name must not be empty"));
            }
            if calendars.iter().any(|(n, _)| *n == c.name) {
                return Err(format!(
                    "{key}.name: a calendar called `{}` exists already",
                    c.name
                ));
            }
            zone(&format!("{key}.time_zone"), &c.time_zone)?;
            let holidays = c
                .holidays
                .iter()
                .map(|h| h.date().map_err(|e| format!("{key}.holidays: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let week = [&c.mon, &c.tue, &c.wed, &c.thu, &c.fri, &c.sat, &c.sun].map(Vec::as_slice);
            let hours = BusinessHours::from_config(&key, &c.time_zone, week, holidays)?;
            calendars.push((c.name.clone(), Arc::new(Calendar::Business(hours))));
        }

        let mut teams = Vec::new();
        let mut team_names = HashSet::new();
        for (i, t) in self.team.iter().enumerate() {
            let key = format!("sla.team[{i}] ({})", t.name);
            if t.name.trim().is_empty() {
                return Err(format!("sla.team[{i}].name must not be empty"));
            }
            if !team_names.insert(t.name.clone()) {
                return Err(format!(
                    "{key}.name: a team called `{}` exists already",
                    t.name
                ));
            }
            let tz = zone(&format!("{key}.time_zone"), &t.time_zone)?;
            let mut targets = Vec::new();
            for (platform, value, field) in [
                (Platform::Discord, &t.discord_channel, "discord_channel"),
                (Platform::Telegram, &t.telegram_chat, "telegram_chat"),
                (Platform::Console, &t.console_channel, "console_channel"),
            ] {
                if let Some(v) = value {
                    if v.trim().is_empty() {
                        return Err(format!("{key}.{field} must not be empty"));
                    }
                    targets.push((platform, v.trim().to_string()));
                }
            }
            if targets.is_empty() {
                return Err(format!(
                    "{key}: set at least one of discord_channel, telegram_chat, console_channel"
                ));
            }
            let summary = schedule(&key, "summary_cron", &t.summary_cron, DEFAULT_SUMMARY_CRON)?;
            let report = schedule(&key, "report_cron", &t.report_cron, DEFAULT_REPORT_CRON)?;
            teams.push(Team {
                name: t.name.clone(),
                zone: tz,
                targets,
                summary,
                report,
            });
        }

        let mut policies = Vec::new();
        let mut policy_names = HashSet::new();
        for (i, p) in self.policy.iter().enumerate() {
            let key = format!("sla.policy[{i}] ({})", p.name);
            if p.name.trim().is_empty() {
                return Err(format!("sla.policy[{i}].name must not be empty"));
            }
            if !policy_names.insert(p.name.clone()) {
                return Err(format!(
                    "{key}.name: a policy called `{}` exists already",
                    p.name
                ));
            }
            let calendar = calendars
                .iter()
                .find(|(n, _)| *n == p.calendar)
                .map(|(_, c)| c.clone())
                .ok_or_else(|| {
                    format!(
                        "{key}.calendar: no [[sla.calendar]] is called `{}` (or use `{ALWAYS}`)",
                        p.calendar
                    )
                })?;
            if let Some(team) = &p.team {
                if !team_names.contains(team) && !self.other_teams.contains(team) {
                    return Err(format!(
                        "{key}.team: no team is called `{team}` (in [[teams]] or [[sla.team]])"
                    ));
                }
            }
            let default_soon: DueSoon = p
                .due_soon
                .parse()
                .map_err(|e| format!("{key}.due_soon: {e}"))?;
            let target = |field: &str,
                          limit: Option<Duration>,
                          soon: &Option<String>|
             -> Result<Option<Target>, String> {
                let Some(limit) = limit else {
                    if soon.is_some() {
                        return Err(format!("{key}.{field}_due_soon is set but {field} is not"));
                    }
                    return Ok(None);
                };
                if limit.is_zero() {
                    return Err(format!("{key}.{field}: must be above 0"));
                }
                let limit = chrono::Duration::from_std(limit)
                    .map_err(|_| format!("{key}.{field}: too long"))?;
                let due_soon = match soon {
                    Some(s) => s
                        .parse()
                        .map_err(|e| format!("{key}.{field}_due_soon: {e}"))?,
                    None => default_soon,
                };
                Ok(Some(Target { limit, due_soon }))
            };
            let policy = Policy {
                name: p.name.clone(),
                priority: p.priority,
                channel: p.channel,
                team: p.team.clone(),
                calendar,
                first_response: target(
                    "first_response",
                    p.first_response,
                    &p.first_response_due_soon,
                )?,
                next_response: target("next_response", p.next_response, &p.next_response_due_soon)?,
                resolution: target("resolution", p.resolution, &p.resolution_due_soon)?,
            };
            if policy.first_response.is_none()
                && policy.next_response.is_none()
                && policy.resolution.is_none()
            {
                return Err(format!(
                    "{key}: set at least one of first_response, next_response, resolution"
                ));
            }
            policies.push(policy);
        }
        Ok(SlaRules {
            policies: PolicySet::new(policies),
            teams,
            scan_interval: self.scan_interval,
            summary_catch_up: self.summary_catch_up,
            thread_links: super::ThreadLinks::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Toml};
    use figment::Figment;

    use super::*;

    fn load(toml: &str) -> Result<SlaRules, String> {
        #[derive(Deserialize)]
        struct Wrapper {
            sla: SlaConfig,
        }
        let w: Wrapper = Figment::from(Toml::string(toml))
            .extract()
            .map_err(|e| e.to_string())?;
        w.sla.rules()
    }

    const GOOD: &str = r#"
[sla]
scan_interval = "10s"

[[sla.calendar]]
name = "office"
time_zone = "Europe/Helsinki"
mon = ["09:00-12:00", "13:00-17:00"]
fri = ["09:00-15:00"]
holidays = [2026-12-24, "2026-12-26", 2026-12-25]

[[sla.team]]
name = "support"
time_zone = "Europe/Helsinki"
discord_channel = "123456789"
telegram_chat = "-100123:7"

[[sla.policy]]
name = "default"
calendar = "office"
first_response = "4h"
next_response = "8h"
resolution = "3d"

[[sla.policy]]
name = "urgent"
priority = "urgent"
first_response = "15m"
next_response = "30m"
resolution = "4h"
due_soon = "5m"
resolution_due_soon = "25%"
"#;

    #[test]
    fn a_full_sla_section_becomes_rules() {
        let rules = load(GOOD).unwrap();
        assert_eq!(rules.scan_interval, Duration::from_secs(10));
        assert_eq!(rules.teams.len(), 1);
        assert_eq!(
            rules.teams[0].targets,
            vec![
                (Platform::Discord, "123456789".to_string()),
                (Platform::Telegram, "-100123:7".to_string())
            ]
        );
        assert!(rules.teams[0].summary.is_some());
        let urgent = rules
            .policies
            .for_ticket(Priority::Urgent, Platform::Telegram, None)
            .unwrap();
        assert_eq!(urgent.name, "urgent");
        assert_eq!(
            urgent.first_response,
            Some(Target {
                limit: chrono::Duration::minutes(15),
                due_soon: DueSoon::Left(chrono::Duration::minutes(5))
            })
        );
        assert_eq!(urgent.resolution.unwrap().due_soon, DueSoon::Percent(25));
        assert_eq!(*urgent.calendar, Calendar::Always);
        let normal = rules
            .policies
            .for_ticket(Priority::Normal, Platform::Discord, None)
            .unwrap();
        assert!(matches!(*normal.calendar, Calendar::Business(_)));
    }

    #[test]
    fn mistakes_are_reported_with_their_key() {
        let cases = [
            (
                GOOD.replace(
                    "time_zone = \"Europe/Helsinki\"\nmon",
                    "time_zone = \"Europe/Helsinky\"\nmon",
                ),
                "sla.calendar[0] (office).time_zone: `Europe/Helsinky` is not an IANA time zone",
            ),
            (
                GOOD.replace("\"13:00-17:00\"", "\"11:00-17:00\""),
                "sla.calendar[0] (office): mon: 09:00-12:00 overlaps 11:00-17:00",
            ),
            (
                GOOD.replace("first_response = \"15m\"", "first_response = \"0s\""),
                "sla.policy[1] (urgent).first_response: must be above 0",
            ),
            (
                GOOD.replace("calendar = \"office\"", "calendar = \"ofice\""),
                "sla.policy[0] (default).calendar: no [[sla.calendar]] is called `ofice`",
            ),
            (
                GOOD.replace("due_soon = \"5m\"", "due_soon = \"soon\""),
                "sla.policy[1] (urgent).due_soon: `soon` is not a due-soon threshold",
            ),
            (
                GOOD.replace(
                    "telegram_chat = \"-100123:7\"",
                    "telegram_chat = \"-100123:7\"\nsummary_cron = \"every morning\"",
                ),
                "sla.team[0] (support).summary_cron: `every morning` is not a cron expression",
            ),
            (
                GOOD.replace(
                    "telegram_chat = \"-100123:7\"",
                    "telegram_chat = \"-100123:7\"\nreport_cron = \"mondays\"",
                ),
                "sla.team[0] (support).report_cron: `mondays` is not a cron expression",
            ),
            (
                GOOD.replace(
                    "discord_channel = \"123456789\"\ntelegram_chat = \"-100123:7\"",
                    "",
                ),
                "sla.team[0] (support): set at least one of",
            ),
            (
                GOOD.replace("fri = [\"09:00-15:00\"]", "fri = [\"9 to 5\"]"),
                "sla.calendar[0] (office).fri: `9 to 5` is not an interval",
            ),
            (
                GOOD.replace(
                    "scan_interval = \"10s\"",
                    "scan_interval = \"10s\"\nsummary_catch_up = \"5s\"",
                ),
                "sla.summary_catch_up must be at least sla.scan_interval",
            ),
            (
                GOOD.replace("2026-12-25]", "\"2026-13-01\"]"),
                "sla.calendar[0] (office).holidays: `2026-13-01` is not a date",
            ),
        ];
        for (toml, expected) in cases {
            let err = load(&toml).unwrap_err();
            assert!(err.contains(expected), "expected `{expected}` in `{err}`");
        }
        let err = load("[sla]\nscan_intervall = \"1s\"").unwrap_err();
        assert!(err.contains("scan_intervall"), "{err}");
    }

    #[test]
    fn holidays_close_the_calendar() {
        use chrono::TimeZone;
        use relaydesk_storage::sla::business_time_between;
        let rules = load(GOOD).unwrap();
        let office = rules
            .policies
            .for_ticket(Priority::Normal, Platform::Web, None)
            .unwrap()
            .calendar
            .clone();
        let day = |d| chrono::Utc.with_ymd_and_hms(2026, 12, d, 0, 0, 0).unwrap();
        // Friday 25 December is a holiday; Friday 18 December has 6 hours.
        assert_eq!(
            business_time_between(&office, day(25), day(26)),
            chrono::Duration::zero()
        );
        assert_eq!(
            business_time_between(&office, day(18), day(19)),
            chrono::Duration::hours(6)
        );
        // Monday 21 December: 09:00-12:00 and 13:00-17:00.
        assert_eq!(
            business_time_between(&office, day(21), day(22)),
            chrono::Duration::hours(7)
        );
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_scan_interval_comes_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RELAYDESK_SLA_SCAN_INTERVAL", "5s");
            let config = crate::config::Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.sla.scan_interval, Duration::from_secs(5));
            jail.set_env("RELAYDESK_SLA_SCAN_INTERVAL", "0s");
            let err = crate::config::Config::load(None).unwrap_err().to_string();
            assert!(err.contains("sla.scan_interval must be above 0"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn no_sla_section_means_no_rules() {
        let rules = SlaConfig::default().rules().unwrap();
        assert!(!rules.is_active());
    }
}
