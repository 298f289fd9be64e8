//! The SLA configuration, checked and ready to use.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use relaydesk_storage::sla::PolicySet;
use relaydesk_storage::Platform;

/// Policies and teams. Empty (the default) turns the SLA engine off.
#[derive(Debug, Clone, Default)]
pub struct SlaRules {
    pub policies: PolicySet,
    /// In configuration order; the first is the default team for tickets of no (known) team.
    pub teams: Vec<Team>,
    pub scan_interval: Duration,
    pub summary_catch_up: Duration,
    /// How warnings link to ticket threads.
    pub thread_links: ThreadLinks,
}

/// Turns a staff thread reference into a link agents can open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadLinks {
    /// The guild whose staff channel holds the ticket threads.
    pub discord_guild_id: Option<String>,
    /// The staff supergroup whose topics are the ticket threads (`-100…`).
    pub telegram_staff_chat_id: Option<i64>,
}

impl ThreadLinks {
    /// `https://discord.com/channels/GUILD/THREAD`, `https://t.me/c/CHAT/TOPIC`, or the plain
    /// reference when no link can be made.
    pub fn link(&self, platform: Platform, thread_ref: &str) -> String {
        match (
            platform,
            &self.discord_guild_id,
            self.telegram_staff_chat_id,
        ) {
            (Platform::Discord, Some(guild), _) => {
                format!("https://discord.com/channels/{guild}/{thread_ref}")
            }
            (Platform::Telegram, _, Some(chat)) => {
                // Links use the supergroup id without its `-100` prefix.
                let id = chat.to_string();
                match id.strip_prefix("-100") {
                    Some(internal) => format!("https://t.me/c/{internal}/{thread_ref}"),
                    None => format!("{platform} topic {thread_ref}"),
                }
            }
            _ => format!("{platform} {thread_ref}"),
        }
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;

    #[test]
    fn threads_link_to_discord_and_telegram_when_their_ids_are_known() {
        let links = ThreadLinks {
            discord_guild_id: Some("111".into()),
            telegram_staff_chat_id: Some(-1_001_234_567_890),
        };
        assert_eq!(
            links.link(Platform::Discord, "998877"),
            "https://discord.com/channels/111/998877"
        );
        assert_eq!(
            links.link(Platform::Telegram, "42"),
            "https://t.me/c/1234567890/42"
        );
        let unknown = ThreadLinks::default();
        assert_eq!(unknown.link(Platform::Discord, "998877"), "discord 998877");
    }
}

/// Where a team's warnings and summaries go.
#[derive(Debug, Clone)]
pub struct Team {
    pub name: String,
    pub zone: Tz,
    /// Platform and the channel address on it (`Delivery::ChannelPost::channel`).
    pub targets: Vec<(Platform, String)>,
    /// When summaries are posted, in `zone`; `None`: never.
    pub summary: Option<cron::Schedule>,
    /// When the weekly report is posted, in `zone`; `None`: never.
    pub report: Option<cron::Schedule>,
}

impl SlaRules {
    /// Whether there is anything to compute or post.
    pub fn is_active(&self) -> bool {
        !self.policies.is_empty() || !self.teams.is_empty()
    }

    /// The team a ticket's warnings go to: its own team if configured, else the first team.
    pub fn team_for(&self, team: Option<&str>) -> Option<&Team> {
        team.and_then(|name| self.teams.iter().find(|t| t.name == name))
            .or_else(|| self.teams.first())
    }

    /// Whether `team` is the one tickets of no team report to.
    pub fn is_default_team(&self, team: &Team) -> bool {
        self.teams.first().is_some_and(|t| t.name == team.name)
    }
}

impl Team {
    /// The latest summary tick at or before `now` and after `now - window`.
    pub fn last_tick(&self, now: DateTime<Utc>, window: Duration) -> Option<DateTime<Utc>> {
        self.last_tick_of(self.summary.as_ref()?, now, window)
    }

    /// The latest weekly-report tick at or before `now` and after `now - window`.
    pub fn last_report_tick(&self, now: DateTime<Utc>, window: Duration) -> Option<DateTime<Utc>> {
        self.last_tick_of(self.report.as_ref()?, now, window)
    }

    fn last_tick_of(
        &self,
        schedule: &cron::Schedule,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Option<DateTime<Utc>> {
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::hours(1));
        let from = (now - window).with_timezone(&self.zone);
        schedule
            .after(&from)
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t <= now)
            .last()
    }

    /// The first summary tick after `now`.
    pub fn next_tick(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let schedule = self.summary.as_ref()?;
        schedule
            .after(&now.with_timezone(&self.zone))
            .next()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::TimeZone;

    use super::*;

    fn team(zone: &str) -> Team {
        Team {
            name: "support".into(),
            zone: zone.parse().unwrap(),
            targets: vec![(Platform::Discord, "1".into())],
            summary: Some(cron::Schedule::from_str(crate::sla::DEFAULT_SUMMARY_CRON).unwrap()),
            report: None,
        }
    }

    #[test]
    fn summary_ticks_follow_the_team_zone_and_skip_weekends() {
        let helsinki = team("Europe/Helsinki");
        // Friday 2026-11-20 09:00 in Helsinki is 07:00 UTC.
        let friday_nine = Utc.with_ymd_and_hms(2026, 11, 20, 7, 0, 0).unwrap();
        let hour = Duration::from_secs(3600);
        assert_eq!(helsinki.last_tick(friday_nine, hour), Some(friday_nine));
        assert_eq!(
            helsinki.last_tick(friday_nine + chrono::Duration::minutes(59), hour),
            Some(friday_nine)
        );
        assert_eq!(
            helsinki.last_tick(friday_nine + chrono::Duration::minutes(61), hour),
            None
        );
        assert_eq!(
            helsinki.last_tick(friday_nine - chrono::Duration::seconds(1), hour),
            None
        );
        // The next one is Monday.
        assert_eq!(
            helsinki.next_tick(friday_nine),
            Some(Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap())
        );
        // New York, across the 2026-11-01 fall-back: Monday 09:00 EST is 14:00 UTC.
        let new_york = team("America/New_York");
        let friday_before = Utc.with_ymd_and_hms(2026, 10, 30, 13, 0, 0).unwrap();
        assert_eq!(new_york.last_tick(friday_before, hour), Some(friday_before));
        assert_eq!(
            new_york.next_tick(friday_before),
            Some(Utc.with_ymd_and_hms(2026, 11, 2, 14, 0, 0).unwrap())
        );
    }
}
