//! Teams, routing rules and assignment from `relaydesk.toml`:
//!
//! ```toml
//! [[teams]]
//! name = "billing"
//! members = ["anna", "ben"]
//! assignment = "round_robin"   # or "least_loaded", "manual" (default)
//! max_open_per_agent = 25
//!
//! [[routing]]
//! keywords = ["refund", "invoice"]
//! channels = ["telegram", "web"]
//! team = "billing"
//! priority = "high"
//! tags = ["refund"]
//!
//! [routing_default]
//! team = "support"
//! ```
//!
//! Checked when the configuration loads ([`rules`]) and again at start against the agents in
//! the store ([`prepare`]), which also writes the teams and their members.

use std::collections::HashMap;

use relaydesk_desk::routing::{Assignment, Rule};
use relaydesk_desk::{faq, Command, Value};
use relaydesk_storage::{Clock, Platform, Priority, StorageError, Store};
use serde::{Deserialize, Serialize};

/// `[[teams]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSettings {
    pub name: String,
    /// Agent names, in the order round robin goes.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub assignment: Assignment,
    /// Auto-assignment skips members who hold this many open tickets.
    #[serde(default)]
    pub max_open_per_agent: Option<i64>,
    /// Where this team's SLA warnings, daily summary and weekly report go: a Telegram chat
    /// (`-100…`, or `"-100…:topic"`).
    #[serde(default)]
    pub telegram_chat_id: Option<TelegramChat>,
    /// … a Discord channel id.
    #[serde(default)]
    pub discord_channel_id: Option<String>,
    /// … a console channel.
    #[serde(default)]
    pub console_channel: Option<String>,
    /// The zone summaries and reports are cut and posted in [default: the business hours'
    /// zone, else UTC].
    #[serde(default)]
    pub time_zone: Option<String>,
    /// As `[[sla.team]]`: daily summary and weekly report schedules (seconds-first cron in
    /// the team's zone; "" turns them off).
    #[serde(default)]
    pub summary_cron: Option<String>,
    #[serde(default)]
    pub report_cron: Option<String>,
    /// When the team works; outside these hours customers are told when it opens again.
    #[serde(default)]
    pub business_hours: Option<relaydesk_web::config::BusinessHoursConfig>,
    /// What a breach of an SLA goal of one of the team's tickets does, once.
    #[serde(default)]
    pub on_breach: Option<OnBreachSettings>,
    /// When a member goes `/away`, their open tickets of this team are assigned again (to
    /// another member, by the team's assignment) [default: true when the team assigns by
    /// itself].
    #[serde(default)]
    pub reassign_when_away: Option<bool>,
}

/// A Telegram chat id as a number, or `"chat:topic"` for a forum topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TelegramChat {
    Id(i64),
    Text(String),
}

impl TelegramChat {
    pub fn address(&self) -> String {
        match self {
            Self::Id(id) => id.to_string(),
            Self::Text(text) => text.trim().to_string(),
        }
    }
}

/// `on_breach = { priority = "urgent", notify = ["lead"], reassign = true }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnBreachSettings {
    /// Raise the ticket to this priority.
    #[serde(default)]
    pub priority: Option<String>,
    /// Agents (by name) mentioned in the team's channels.
    #[serde(default)]
    pub notify: Vec<String>,
    /// Assign the ticket to another member (by the team's assignment).
    #[serde(default)]
    pub reassign: bool,
}

impl TeamSettings {
    /// The team as `[[sla.team]]` describes one, for its warnings, summaries and reports;
    /// `None` when it names no channel.
    pub fn sla_team(&self) -> Option<crate::sla::TeamConfig> {
        if self.telegram_chat_id.is_none()
            && self.discord_channel_id.is_none()
            && self.console_channel.is_none()
        {
            return None;
        }
        let time_zone = self
            .time_zone
            .clone()
            .or_else(|| self.business_hours.as_ref().map(|h| h.time_zone.clone()))
            .unwrap_or_else(|| "UTC".to_string());
        Some(crate::sla::TeamConfig {
            name: self.name.trim().to_string(),
            time_zone,
            discord_channel: self.discord_channel_id.clone(),
            telegram_chat: self.telegram_chat_id.as_ref().map(TelegramChat::address),
            console_channel: self.console_channel.clone(),
            summary_cron: self
                .summary_cron
                .clone()
                .unwrap_or_else(|| crate::sla::DEFAULT_SUMMARY_CRON.to_string()),
            report_cron: self
                .report_cron
                .clone()
                .unwrap_or_else(|| crate::sla::DEFAULT_REPORT_CRON.to_string()),
        })
    }
}

/// `[[routing]]`: first match wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRuleSettings {
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    pub team: String,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `[routing_default]`: the team of tickets no rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingDefaultSettings {
    pub team: String,
}

/// A team as assignment runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamPlan {
    pub id: i64,
    pub name: String,
    pub assignment: Assignment,
    pub max_open: Option<i64>,
    /// Agent ids, in the configured order.
    pub members: Vec<i64>,
    /// Members' open tickets go to others when they go away (and reopened tickets of an
    /// away assignee too).
    pub reassign_when_away: bool,
    /// What a breach of one of the team's tickets does.
    pub on_breach: Option<OnBreach>,
    /// When the team works; `None`: always.
    pub hours: Option<std::sync::Arc<relaydesk_storage::sla::Calendar>>,
}

/// `on_breach`, checked: agents by id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnBreach {
    pub priority: Option<Priority>,
    /// (agent id, name) of each agent to notify.
    pub notify: Vec<(i64, String)>,
    pub reassign: bool,
}

/// Everything routing needs at run time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routing {
    pub rules: Vec<Rule>,
    pub default_team: Option<String>,
    pub teams: HashMap<String, TeamPlan>,
}

impl Routing {
    /// Whether a new ticket has anything to be routed by.
    pub fn is_active(&self) -> bool {
        !self.rules.is_empty() || self.default_team.is_some()
    }
}

/// Why routing could not be set up, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The routing rules and default team, checked: every team a rule names exists in
/// `[[teams]]`, channels, languages, priorities, keywords and tags are valid.
pub fn rules(
    teams: &[TeamSettings],
    routing: &[RoutingRuleSettings],
    default: Option<&RoutingDefaultSettings>,
) -> Result<(Vec<Rule>, Option<String>), String> {
    let mut names: Vec<&str> = Vec::new();
    for (i, team) in teams.iter().enumerate() {
        let name = team.name.trim();
        if name.is_empty() {
            return Err(format!("teams[{i}].name: a team needs a name"));
        }
        if names.contains(&name) {
            return Err(format!("teams[{i}].name: `{name}` is declared twice"));
        }
        if team.max_open_per_agent.is_some_and(|m| m < 1) {
            return Err(format!("teams[{i}].max_open_per_agent: must be 1 or more"));
        }
        if let Some(hours) = &team.business_hours {
            hours
                .calendar()
                .map_err(|e| format!("teams[{i}].{}", e.trim_start_matches("web.")))?;
        }
        if let Some(zone) = &team.time_zone {
            zone.parse::<chrono_tz::Tz>().map_err(|_| {
                format!(
                    "teams[{i}].time_zone: `{zone}` is not an IANA time zone (e.g. Europe/Berlin)"
                )
            })?;
        }
        if let Some(id) = &team.discord_channel_id {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "teams[{i}].discord_channel_id: `{id}` is not a Discord channel id (digits only)"
                ));
            }
        }
        if let Some(breach) = &team.on_breach {
            if let Some(p) = &breach.priority {
                p.parse::<Priority>().map_err(|_| {
                    format!(
                        "teams[{i}].on_breach.priority: `{p}` is not low, normal, high or urgent"
                    )
                })?;
            }
        }
        names.push(name);
    }
    let known = |key: String, team: &str| {
        if names.contains(&team.trim()) {
            Ok(team.trim().to_string())
        } else {
            Err(format!("{key}: no team named `{team}` in [[teams]]"))
        }
    };
    let mut rules = Vec::new();
    for (i, rule) in routing.iter().enumerate() {
        let key = |field: &str| format!("routing[{i}].{field}");
        let keywords = if rule.keywords.is_empty() {
            Vec::new()
        } else {
            faq::keywords(&rule.keywords.join(","))
                .map_err(|e| format!("{}: {e}", key("keywords")))?
        };
        let channels = rule
            .channels
            .iter()
            .map(|c| match c.trim().to_ascii_lowercase().as_str() {
                "telegram" => Ok(Platform::Telegram),
                "discord" => Ok(Platform::Discord),
                "web" => Ok(Platform::Web),
                "api" => Ok(Platform::Api),
                "email" => Ok(Platform::Email),
                other => Err(format!(
                    "{}: `{other}` is not a channel (telegram, discord, web, email, api)",
                    key("channels")
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let languages = rule
            .languages
            .iter()
            .map(|l| {
                let l = l.trim().to_ascii_lowercase();
                if (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()) {
                    Ok(l)
                } else {
                    Err(format!(
                        "{}: `{l}` is not a language code such as de",
                        key("languages")
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let priority = rule
            .priority
            .as_deref()
            .map(|p| {
                p.parse::<Priority>().map_err(|_| {
                    format!(
                        "{}: `{p}` is not low, normal, high or urgent",
                        key("priority")
                    )
                })
            })
            .transpose()?;
        let tags = rule
            .tags
            .iter()
            .map(
                |tag| match Command::build("tag", Some(Value::Text(tag.clone()))) {
                    Ok(Command::Tag(tag)) => Ok(tag),
                    _ => Err(format!("{}: `{tag}` is not a tag (one word)", key("tags"))),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        rules.push(Rule {
            keywords,
            channels,
            languages,
            team: known(key("team"), &rule.team)?,
            priority,
            tags,
        });
    }
    let default = default
        .map(|d| known("routing_default.team".into(), &d.team))
        .transpose()?;
    Ok((rules, default))
}

/// Writes the configured teams and their members to the store and returns the plan routing
/// runs on. Refuses (naming the key) a member who is not an agent.
pub async fn prepare(
    store: &Store,
    clock: &dyn Clock,
    teams: &[TeamSettings],
    routing: &[RoutingRuleSettings],
    default: Option<&RoutingDefaultSettings>,
) -> Result<Routing, RoutingError> {
    let (rules, default_team) = rules(teams, routing, default).map_err(RoutingError::Invalid)?;
    if teams.is_empty() && rules.is_empty() && default_team.is_none() {
        // Nothing configured: the store is not touched (and teams made with
        // `relaydesk agent join` stay as they are).
        return Ok(Routing::default());
    }
    let mut plans = HashMap::new();
    let mut tx = store.begin().await?;
    for (i, team) in teams.iter().enumerate() {
        let name = team.name.trim().to_string();
        let id = tx.ensure_team(&name, clock.now_ms()).await?;
        let mut members = Vec::new();
        for (j, member) in team.members.iter().enumerate() {
            let Some(agent) = tx.agent_by_name(member.trim()).await? else {
                return Err(RoutingError::Invalid(format!(
                    "teams[{i}].members[{j}]: no agent named `{member}`; add them with `relaydesk agent add` first"
                )));
            };
            if !members.contains(&agent.id) {
                members.push(agent.id);
            }
        }
        tx.set_team_members(id, &members).await?;
        let on_breach = match &team.on_breach {
            None => None,
            Some(breach) => {
                let mut notify = Vec::new();
                for (j, name) in breach.notify.iter().enumerate() {
                    let Some(agent) = tx.agent_by_name(name.trim()).await? else {
                        return Err(RoutingError::Invalid(format!(
                            "teams[{i}].on_breach.notify[{j}]: no agent named `{name}`"
                        )));
                    };
                    notify.push((agent.id, agent.name));
                }
                Some(OnBreach {
                    priority: breach.priority.as_deref().and_then(|p| p.parse().ok()),
                    notify,
                    reassign: breach.reassign,
                })
            }
        };
        let hours = match &team.business_hours {
            Some(hours) => {
                Some(std::sync::Arc::new(hours.calendar().map_err(|e| {
                    RoutingError::Invalid(format!("teams[{i}].{e}"))
                })?))
            }
            None => None,
        };
        plans.insert(
            name.clone(),
            TeamPlan {
                id,
                name,
                assignment: team.assignment,
                max_open: team.max_open_per_agent,
                members,
                reassign_when_away: team
                    .reassign_when_away
                    .unwrap_or(team.assignment != Assignment::Manual),
                on_breach,
                hours,
            },
        );
    }
    tx.commit().await?;
    Ok(Routing {
        rules,
        default_team,
        teams: plans,
    })
}
