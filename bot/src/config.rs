//! Configuration: defaults, then `relaydesk.toml` (if given or present), then `RELAYDESK_…`
//! environment variables. Unknown keys are errors that name the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::hub::RelayMode;

/// Where the configuration file is looked for when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "relaydesk.toml";

/// Sections whose keys map from `RELAYDESK_<SECTION>_<KEY>`; anything else maps to a top-level key.
const SECTIONS: &[&str] = &[
    "tickets",
    "outbox",
    "telegram",
    "discord",
    "sla",
    "web",
    "console",
    "email",
    "csat",
    "transcripts",
    "faq",
    "metrics",
];

/// `RELAYDESK_*` variables that are not configuration keys: the command line's own, and the
/// test suites' (`RELAYDESK_TEST_*`).
const NOT_CONFIG: &[&str] = &["config", "log", "log_format"];

/// Every environment variable, for `--help`.
pub const ENVIRONMENT_HELP: &str = "\
Environment (each overrides the same key of relaydesk.toml):
  RELAYDESK_CONFIG                   path of the configuration file [default: relaydesk.toml if present]
  RELAYDESK_DATABASE_URL             database_url: sqlite://PATH (created when missing) or postgres://USER@HOST:PORT/DB
                                     [default: sqlite://relaydesk.db?mode=rwc]
  RELAYDESK_LISTEN                   listen: address of the web server [default: 127.0.0.1:8080]
  RELAYDESK_RELAY_MODE               relay_mode: implicit (agent text in a ticket thread goes to the
                                     customer) or explicit (only /reply does) [default: implicit]
  RELAYDESK_TICKETS_REOPEN_WINDOW    tickets.reopen_window: a customer message this soon after a close
                                     reopens the ticket, later ones open a new ticket [default: 7d]
  RELAYDESK_TICKETS_MAX_MESSAGE_BYTES
                                     tickets.max_message_bytes: longer messages are refused [default: 65536]
  RELAYDESK_OUTBOX_MAX_ATTEMPTS      outbox.max_attempts: temporary failures before a send is given up
                                     [default: 12]
  RELAYDESK_OUTBOX_POLL              outbox.poll: how often workers look for due sends [default: 1s]
  RELAYDESK_TELEGRAM_TOKEN           telegram.token: bot token from @BotFather; the Telegram channel is on
                                     when this is set [default: unset]
  RELAYDESK_TELEGRAM_API_URL         telegram.api_url: Bot API base URL (self-hosted Bot API server)
                                     [default: https://api.telegram.org]
  RELAYDESK_TELEGRAM_STAFF_CHAT_ID   telegram.staff_chat_id: id of the staff supergroup (topics enabled),
                                     e.g. -1001234567890; required with a token
  RELAYDESK_TELEGRAM_MODE            telegram.mode: polling (getUpdates) or webhook [default: polling]
  RELAYDESK_TELEGRAM_WEBHOOK_URL     telegram.webhook_url: public HTTPS URL of our update endpoint; its
                                     path is served by the web server (webhook mode)
  RELAYDESK_TELEGRAM_WEBHOOK_SECRET  telegram.webhook_secret: checked against X-Telegram-Bot-Api-Secret-Token
                                     (webhook mode; 1-256 characters A-Z a-z 0-9 _ -)
  RELAYDESK_TELEGRAM_MESSAGES_PER_SECOND
                                     telegram.messages_per_second: sends a second, all chats (0: no
                                     limit) [default: 30]
  RELAYDESK_TELEGRAM_GROUP_MESSAGES_PER_MINUTE
                                     telegram.group_messages_per_minute: sends a minute into one
                                     group (0: no limit) [default: 20]
  RELAYDESK_TELEGRAM_TOPICS_PER_MINUTE
                                     telegram.topics_per_minute: topics created a minute (0: no
                                     limit) [default: 20]
  RELAYDESK_DISCORD_TOKEN            discord.token: bot token; the Discord channel is on when set
  RELAYDESK_DISCORD_API_URL          discord.api_url: REST base URL; the gateway URL is the one it
                                     returns [default: https://discord.com]
  RELAYDESK_DISCORD_GUILD_ID         discord.guild_id: the support guild (server) id
  RELAYDESK_DISCORD_STAFF_CHANNEL_ID discord.staff_channel_id: text channel holding one private
                                     thread per ticket
  RELAYDESK_DISCORD_SUPPORT_CHANNEL_ID
                                     discord.support_channel_id: optional public support channel
  RELAYDESK_DISCORD_AGENT_ROLE_IDS   discord.agent_role_ids: comma-separated role ids of agents
  RELAYDESK_DISCORD_ADMIN_ROLE_IDS   discord.admin_role_ids: comma-separated role ids of admins
  RELAYDESK_SLA_SCAN_INTERVAL        sla.scan_interval: how often SLA warnings are looked for
                                     and summaries posted [default: 30s]
  RELAYDESK_SLA_SUMMARY_CATCH_UP     sla.summary_catch_up: how late a summary missed while down
                                     is still posted [default: 1h]
  RELAYDESK_WEB_ALLOWED_ORIGINS      web.allowed_origins: comma-separated site origins that may embed
                                     the widget, e.g. https://www.example.com [default: none]
  RELAYDESK_WEB_API_REQUESTS_PER_MINUTE
                                     web.api_requests_per_minute: REST API requests a minute per
                                     token; more are refused with 429 [default: 300]
  RELAYDESK_CONSOLE_SESSION_HOURS    console.session_hours: how long a console sign-in lasts
                                     [default: 12]
  RELAYDESK_CONSOLE_MAX_FAILED_SIGN_INS
                                     console.max_failed_sign_ins: failed sign-ins in a row that
                                     lock an account [default: 5]
  RELAYDESK_CONSOLE_LOCKOUT_MINUTES  console.lockout_minutes: how long it stays locked [default: 15]
  RELAYDESK_CONSOLE_SECURE_COOKIE    console.secure_cookie: send the session cookie over HTTPS
                                     only (turn on behind TLS) [default: false]
  RELAYDESK_CONSOLE_REFRESH_SECONDS  console.refresh_seconds: how often an open ticket page re-reads
                                     it besides pushed changes (a safety net) [default: 30]
  RELAYDESK_WEB_PUBLIC_URL           web.public_url: public base URL of this server, for links to
                                     visitors' files [default: unset, links are relative]
  RELAYDESK_WEB_SESSION_SECRET       web.session_secret: key signing widget sessions [default: generated
                                     once and kept in the database]
  RELAYDESK_WEB_SESSION_TTL_HOURS    web.session_ttl_hours: how long an unused widget session stays
                                     valid [default: 720]
  RELAYDESK_WEB_IDENTITY_SECRET      web.identity_secret: secret for data-user-hash =
                                     hex(HMAC-SHA256(secret, user id)) [default: unset, verification off]
  RELAYDESK_WEB_MAX_ATTACHMENT_BYTES web.max_attachment_bytes: largest file a visitor may send
                                     (images, PDF) [default: 5242880]
  RELAYDESK_WEB_SESSION_MESSAGES_PER_MINUTE
                                     web.session_messages_per_minute: messages per widget session
                                     [default: 20]
  RELAYDESK_WEB_IP_REQUESTS_PER_MINUTE
                                     web.ip_requests_per_minute: widget connections and messages per
                                     IP address [default: 120]
  RELAYDESK_WEB_MAX_WIDGET_SOCKETS   web.max_widget_sockets: widget sockets open at once; more get 503
                                     [default: 20000]
  RELAYDESK_WEB_MAX_WIDGET_SOCKETS_PER_ADDRESS
                                     web.max_widget_sockets_per_address: widget sockets one client
                                     address may hold open [default: 30]
  RELAYDESK_WEB_MAX_PROFILE_FRAMES   web.max_profile_frames: name/email changes per widget socket
                                     [default: 10]
  RELAYDESK_WEB_TRUSTED_PROXIES      web.trusted_proxies: comma-separated CIDRs of reverse proxies whose
                                     X-Forwarded-For is believed [default: none]
  RELAYDESK_EMAIL_SMTP_URL           email.smtp_url: smtp://host:port or smtps://user:pass@host; no
                                     mail is sent while unset [default: unset]
  RELAYDESK_EMAIL_FROM               email.from: sender address, e.g. Support <help@example.com>;
                                     with smtp_url set, email is a channel (docs/email.md)
  RELAYDESK_EMAIL_INBOUND_SECRET     email.inbound_secret: secret path segment of the inbound mail
                                     endpoint for providers that cannot send headers [default: unset]
  RELAYDESK_CSAT_ENABLED             csat.enabled: ask customers “How did we do?” with 1-5 buttons when
                                     a ticket closes [default: true]
  RELAYDESK_CSAT_DELAY_SECONDS       csat.delay_seconds: wait this long after the close [default: 0]
  RELAYDESK_TRANSCRIPTS_TELEGRAM_CHAT_ID
                                     transcripts.telegram_chat_id: a Telegram chat that gets each
                                     closed ticket's transcript as an HTML file [default: unset]
  RELAYDESK_TRANSCRIPTS_DISCORD_CHANNEL_ID
                                     transcripts.discord_channel_id: a Discord channel that gets each
                                     closed ticket's transcript as an HTML file [default: unset]
  RELAYDESK_FAQ_WAIT_SECONDS         faq.wait_seconds: how long a ticket that got an FAQ answer waits for
                                     “That solved it” before it reaches the team [default: 120]
  RELAYDESK_METRICS_TOKEN            metrics.token: bearer token /metrics requires [default: unset,
                                     open]
  RELAYDESK_LOG                      log filter, e.g. info or relaydesk=debug [default: info]
  RELAYDESK_LOG_FORMAT               text (default; colours only on a terminal) or json: one
                                     object per line with the ticket and message it is about";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub relay_mode: RelayMode,
    pub tickets: TicketsConfig,
    pub outbox: OutboxConfig,
    pub telegram: crate::telegram::TelegramConfig,
    pub sla: crate::sla::SlaConfig,
    pub discord: DiscordConfig,
    pub web: relaydesk_web::WebConfig,
    pub console: relaydesk_web::ConsoleConfig,
    pub email: relaydesk_web::EmailConfig,
    pub csat: CsatConfig,
    pub transcripts: TranscriptsConfig,
    pub faq: FaqConfig,
    pub teams: Vec<crate::routing::TeamSettings>,
    pub routing: Vec<crate::routing::RoutingRuleSettings>,
    pub routing_default: Option<crate::routing::RoutingDefaultSettings>,
    pub webhooks: Vec<crate::webhooks::WebhookSettings>,
    pub metrics: relaydesk_web::MetricsConfig,
}

/// `[faq]`: answers offered to new tickets whose first message matches an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaqConfig {
    /// How long the ticket waits for "That solved it" before it reaches the team anyway.
    pub wait_seconds: u64,
}

impl Default for FaqConfig {
    fn default() -> Self {
        Self { wait_seconds: 120 }
    }
}

/// `[transcripts]`: where each closed ticket's transcript is posted as an HTML file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranscriptsConfig {
    /// A Telegram chat (group or channel) the bot may post in.
    pub telegram_chat_id: Option<i64>,
    /// A Discord text channel the bot may post and attach files in.
    pub discord_channel_id: Option<String>,
}

/// `[csat]`: the satisfaction survey sent when a ticket closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsatConfig {
    pub enabled: bool,
    /// How long after the close the survey goes out.
    pub delay_seconds: u64,
}

impl Default for CsatConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            delay_seconds: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketsConfig {
    #[serde(with = "humantime_serde")]
    pub reopen_window: Duration,
    pub max_message_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    pub max_attempts: i64,
    #[serde(with = "humantime_serde")]
    pub poll: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://relaydesk.db?mode=rwc".to_string(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            relay_mode: RelayMode::Implicit,
            tickets: TicketsConfig::default(),
            outbox: OutboxConfig::default(),
            telegram: crate::telegram::TelegramConfig::default(),
            sla: crate::sla::SlaConfig::default(),
            discord: DiscordConfig::default(),
            web: relaydesk_web::WebConfig::default(),
            console: relaydesk_web::ConsoleConfig::default(),
            email: relaydesk_web::EmailConfig::default(),
            csat: CsatConfig::default(),
            transcripts: TranscriptsConfig::default(),
            faq: FaqConfig::default(),
            teams: Vec::new(),
            routing: Vec::new(),
            routing_default: None,
            webhooks: Vec::new(),
            metrics: relaydesk_web::MetricsConfig::default(),
        }
    }
}

impl Default for TicketsConfig {
    fn default() -> Self {
        Self {
            reopen_window: Duration::from_secs(7 * 24 * 3600),
            max_message_bytes: 64 * 1024,
        }
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            poll: Duration::from_secs(1),
        }
    }
}

/// `[discord]`: the Discord channel, on when `token` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    pub token: Option<String>,
    /// REST base URL (scheme and host); requests go to `<api_url>/api/v10/…`.
    pub api_url: String,
    #[serde(deserialize_with = "opt_id")]
    pub guild_id: Option<String>,
    #[serde(deserialize_with = "opt_id")]
    pub staff_channel_id: Option<String>,
    #[serde(deserialize_with = "opt_id")]
    pub support_channel_id: Option<String>,
    #[serde(deserialize_with = "id_list")]
    pub agent_role_ids: Vec<String>,
    #[serde(deserialize_with = "id_list")]
    pub admin_role_ids: Vec<String>,
}

/// Discord's own REST base URL.
pub const DISCORD_API_URL: &str = "https://discord.com";

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            token: None,
            api_url: DISCORD_API_URL.to_string(),
            guild_id: None,
            staff_channel_id: None,
            support_channel_id: None,
            agent_role_ids: Vec::new(),
            admin_role_ids: Vec::new(),
        }
    }
}

impl DiscordConfig {
    /// The token, when the channel is on (set and not blank).
    pub fn enabled_token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(format!("discord.{m}")));
        let url = match url::Url::parse(&self.api_url) {
            Ok(url) => url,
            Err(e) => return invalid(format!("api_url: not a valid URL ({e})")),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return invalid("api_url: must start with http:// or https://".into());
        }
        let snowflake = |key: &str, value: &str| -> Result<(), ConfigError> {
            match value.parse::<u64>() {
                Ok(n) if n > 0 => Ok(()),
                _ => Err(ConfigError::Invalid(format!(
                    "discord.{key}: `{value}` is not a Discord id (a positive number)"
                ))),
            }
        };
        for (key, value) in [
            ("guild_id", &self.guild_id),
            ("staff_channel_id", &self.staff_channel_id),
            ("support_channel_id", &self.support_channel_id),
        ] {
            if let Some(value) = value {
                snowflake(key, value)?;
            }
        }
        for id in &self.agent_role_ids {
            snowflake("agent_role_ids", id)?;
        }
        for id in &self.admin_role_ids {
            snowflake("admin_role_ids", id)?;
        }
        if self.enabled_token().is_some() {
            for (key, value) in [
                ("guild_id", &self.guild_id),
                ("staff_channel_id", &self.staff_channel_id),
            ] {
                if value.is_none() {
                    return invalid(format!("{key} is required when discord.token is set"));
                }
            }
            if self.agent_role_ids.is_empty() && self.admin_role_ids.is_empty() {
                return invalid(
                    "agent_role_ids or admin_role_ids: name at least one staff role when discord.token is set"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    fn into_string(self) -> String {
        match self {
            Id::Text(s) => s.trim().to_string(),
            Id::Number(n) => n.to_string(),
        }
    }
}

/// One id, given as a string or a number (environment values that look like numbers arrive as
/// numbers). A blank string means none.
fn opt_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Id>::deserialize(deserializer)?
        .map(Id::into_string)
        .filter(|s| !s.is_empty()))
}

/// A list of ids: a TOML array (of strings or numbers) or one comma-separated string (as
/// environment variables give it).
fn id_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ids {
        List(Vec<Id>),
        One(Id),
    }
    let raw: Vec<String> = match Ids::deserialize(deserializer)? {
        Ids::List(ids) => ids.into_iter().map(Id::into_string).collect(),
        Ids::One(id) => vec![id.into_string()],
    };
    Ok(raw
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        // One line per problem; figment names the key and where it came from.
        let lines: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
        ConfigError::Invalid(lines.join("; "))
    }
}

impl Config {
    /// Loads the configuration: `explicit` must exist when given; otherwise `relaydesk.toml` in
    /// the working directory is used if present.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match explicit {
            Some(path) if !path.exists() => {
                return Err(ConfigError::MissingFile(path.to_path_buf()))
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        Self::from_figment(figment.merge(environment()))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract()?;
        config.validate()?;
        Ok(config)
    }

    /// The `[sla]` section with the teams of `[[teams]]` that name a channel added to its
    /// `[[sla.team]]` list (after those). A team with channels in both places is refused.
    pub fn sla_config(&self) -> Result<crate::sla::SlaConfig, String> {
        let mut sla = self.sla.clone();
        for (i, team) in self.teams.iter().enumerate() {
            sla.other_teams.push(team.name.trim().to_string());
            if let Some(channels) = team.sla_team() {
                if sla.team.iter().any(|t| t.name == channels.name) {
                    return Err(format!(
                        "teams[{i}] ({}): its channels are also set in [[sla.team]]; keep them in one place (move them to [[teams]] and remove the [[sla.team]] entry)",
                        channels.name
                    ));
                }
                sla.team.push(channels);
            }
        }
        Ok(sla)
    }

    /// The SLA rules with the teams of both `[[sla.team]]` and `[[teams]]`.
    pub fn sla_rules(&self) -> Result<crate::sla::SlaRules, String> {
        self.sla_config()?.rules()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        relaydesk_storage::Backend::from_url(&self.database_url)
            .map_err(|e| ConfigError::Invalid(format!("database_url: {e}")))?;
        if self.database_url.starts_with("postgres") {
            url::Url::parse(&self.database_url).map_err(|e| {
                ConfigError::Invalid(format!("database_url: not a valid URL ({e})"))
            })?;
        }
        if self.tickets.max_message_bytes == 0 {
            return Err(ConfigError::Invalid(
                "tickets.max_message_bytes must be above 0".into(),
            ));
        }
        if self.outbox.max_attempts < 1 {
            return Err(ConfigError::Invalid(
                "outbox.max_attempts must be at least 1".into(),
            ));
        }
        if self.outbox.poll.is_zero() {
            return Err(ConfigError::Invalid("outbox.poll must be above 0".into()));
        }
        self.telegram.validate().map_err(ConfigError::Invalid)?;
        self.sla_rules().map_err(ConfigError::Invalid)?;
        self.discord.validate()?;
        if let Some(channel) = &self.transcripts.discord_channel_id {
            if channel.is_empty() || !channel.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError::Invalid(format!(
                    "transcripts.discord_channel_id: `{channel}` is not a Discord channel id (digits only)"
                )));
            }
        }
        self.web.validate().map_err(ConfigError::Invalid)?;
        crate::routing::rules(&self.teams, &self.routing, self.routing_default.as_ref())
            .map_err(ConfigError::Invalid)?;
        crate::webhooks::endpoints(&self.webhooks).map_err(ConfigError::Invalid)?;
        Ok(())
    }
}

/// `RELAYDESK_TICKETS_REOPEN_WINDOW` → `tickets.reopen_window`, `RELAYDESK_LISTEN` → `listen`.
fn environment() -> Env {
    Env::prefixed("RELAYDESK_")
        .filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            !NOT_CONFIG.contains(&key.as_str()) && !key.starts_with("test_")
        })
        .map(|key| {
            let key = key.as_str().to_ascii_lowercase();
            for section in SECTIONS {
                if let Some(rest) = key.strip_prefix(&format!("{section}_")) {
                    return format!("{section}.{rest}").into();
                }
            }
            key.into()
        })
        .lowercase(false)
        .split("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Config, ConfigError> {
        Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(toml)),
        )
    }

    #[test]
    fn empty_file_gives_the_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.database_url, "sqlite://relaydesk.db?mode=rwc");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn file_values_are_read() {
        let config = parse(
            "listen = \"0.0.0.0:9000\"\nrelay_mode = \"explicit\"\n[tickets]\nreopen_window = \"2days\"\n",
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.relay_mode, RelayMode::Explicit);
        assert_eq!(config.tickets.reopen_window, Duration::from_secs(2 * 86400));
    }

    /// Every key of every section, as `section.key` (top-level keys without a section).
    fn key_paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = value {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    serde_json::Value::Object(_) => key_paths(v, &path, out),
                    _ => out.push(path),
                }
            }
        }
    }

    /// (section, key) of every line `key = …` or `# key = …` of a TOML file, by the `[section]`
    /// or `[[section]]` (commented or not) it stands under.
    fn example_keys(text: &str) -> std::collections::HashSet<(String, String)> {
        let mut section = String::new();
        let mut keys = std::collections::HashSet::new();
        for line in text.lines() {
            let line = line.trim_start_matches('#').trim();
            let header = line
                .strip_prefix("[[")
                .and_then(|l| l.strip_suffix("]]"))
                .or_else(|| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')));
            if let Some(name) = header {
                // A table is itself a key of its parent.
                let (parent, last) = name.rsplit_once('.').unwrap_or(("", name));
                keys.insert((parent.to_string(), last.to_string()));
                section = name.to_string();
            } else if let Some((key, _)) = line.split_once(" = ") {
                if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    keys.insert((section.clone(), key.to_string()));
                }
            }
        }
        keys
    }

    #[test]
    fn the_example_configuration_has_every_key_and_loads_to_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../relaydesk.example.toml");
        let text = std::fs::read_to_string(&path).expect("relaydesk.example.toml at the top");
        let loaded = Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(&text)),
        )
        .expect("the example loads");
        assert_eq!(
            loaded,
            Config::default(),
            "the example's values are the defaults"
        );
        let mut paths = Vec::new();
        key_paths(
            &serde_json::to_value(Config::default()).unwrap(),
            "",
            &mut paths,
        );
        let keys = example_keys(&text);
        let missing: Vec<&String> = paths
            .iter()
            .filter(|path| {
                let (section, key) = path.rsplit_once('.').unwrap_or(("", path));
                !keys.contains(&(section.to_string(), key.to_string()))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "keys the example does not show: {missing:?}"
        );
    }

    #[test]
    fn webhooks_are_read_and_checked() {
        let config = parse(
            "[[webhooks]]\nname = \"crm\"\nurl = \"https://crm.example.com/h\"\nsecret = \"0123456789abcdef\"\nevents = [\"ticket.closed\"]\nretry_for = \"2h\"\n",
        )
        .unwrap();
        assert_eq!(config.webhooks.len(), 1);
        assert_eq!(config.webhooks[0].retry_for, Duration::from_secs(7200));
        let err = parse("[[webhooks]]\nurl = \"https://crm.example.com/h\"\nsecret = \"short\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("webhooks[0].secret"), "{err}");
        let err = parse(
            "[[webhooks]]\nurl = \"https://x.example\"\nsecret = \"0123456789abcdef\"\nsecrt = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("secrt"), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = parse("databse_url = \"x\"").unwrap_err().to_string();
        assert!(err.contains("databse_url"), "{err}");
        let err = parse("[tickets]\nreopen_windw = \"1d\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("reopen_windw"), "{err}");
        let err = parse("listen = \"not an address\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        let err = parse("database_url = \"mysql://x/y\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
        let err = parse("database_url = \"postgres://[bad\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("relaydesk.toml", "listen = \"127.0.0.1:7000\"")?;
            jail.set_env("RELAYDESK_LISTEN", "127.0.0.1:7001");
            jail.set_env("RELAYDESK_TICKETS_MAX_MESSAGE_BYTES", "1000");
            jail.set_env("RELAYDESK_TEST_POSTGRES_URL", "postgres://ignored");
            jail.set_env("RELAYDESK_TEST_BROWSER", "required");
            jail.set_env("RELAYDESK_LOG_FORMAT", "json");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.listen.port(), 7001);
            assert_eq!(config.tickets.max_message_bytes, 1000);
            jail.set_env("RELAYDESK_NO_SUCH_KEY", "1");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("no_such_key"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn telegram_keys_come_from_the_environment_and_are_checked() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RELAYDESK_TELEGRAM_TOKEN", "123456:ABC-def");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("telegram.staff_chat_id"), "{err}");
            jail.set_env("RELAYDESK_TELEGRAM_STAFF_CHAT_ID", "-1001234567890");
            jail.set_env("RELAYDESK_TELEGRAM_API_URL", "http://127.0.0.1:8081");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.telegram.enabled_token(), Some("123456:ABC-def"));
            assert_eq!(config.telegram.staff_chat_id, Some(-1_001_234_567_890));
            assert_eq!(config.telegram.api_url, "http://127.0.0.1:8081");
            jail.set_env("RELAYDESK_TELEGRAM_MODE", "webhook");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("telegram.webhook_url"), "{err}");
            jail.set_env("RELAYDESK_TELEGRAM_WEBHOOK_URL", "https://x.example/tg");
            jail.set_env("RELAYDESK_TELEGRAM_WEBHOOK_SECRET", "abc_DEF-1");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.telegram.mode, crate::telegram::TelegramMode::Webhook);
            jail.set_env("RELAYDESK_TELEGRAM_MODE", "carrier-pigeon");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.to_lowercase().contains("telegram.mode"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn discord_section_takes_arrays_or_comma_lists() {
        let config = parse(
            "[discord]\ntoken = \"t\"\nguild_id = \"10\"\nstaff_channel_id = \"20\"\nagent_role_ids = [\"30\", 31]\nadmin_role_ids = \"40, 41\"\n",
        )
        .unwrap();
        assert_eq!(config.discord.enabled_token(), Some("t"));
        assert_eq!(config.discord.agent_role_ids, vec!["30", "31"]);
        assert_eq!(config.discord.admin_role_ids, vec!["40", "41"]);
        assert_eq!(config.discord.api_url, DISCORD_API_URL);
    }

    #[test]
    fn discord_section_errors_name_the_key() {
        let err =
            parse("[discord]\ntoken = \"t\"\nstaff_channel_id = \"20\"\nagent_role_ids = \"1\"")
                .unwrap_err()
                .to_string();
        assert!(err.contains("discord.guild_id"), "{err}");
        let err = parse("[discord]\nguild_id = \"abc\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("discord.guild_id") && err.contains("abc"),
            "{err}"
        );
        let err = parse("[discord]\napi_url = \"ftp://x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("discord.api_url"), "{err}");
        let err = parse("[discord]\ntoken = \"t\"\nguild_id = \"1\"\nstaff_channel_id = \"2\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("agent_role_ids"), "{err}");
        let err = parse("[discord]\ntokn = \"t\"").unwrap_err().to_string();
        assert!(err.contains("tokn"), "{err}");
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn discord_environment_lists_are_comma_separated() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RELAYDESK_DISCORD_TOKEN", "secret");
            jail.set_env("RELAYDESK_DISCORD_GUILD_ID", "11");
            jail.set_env("RELAYDESK_DISCORD_STAFF_CHANNEL_ID", "22");
            jail.set_env("RELAYDESK_DISCORD_AGENT_ROLE_IDS", "33,34");
            jail.set_env("RELAYDESK_DISCORD_ADMIN_ROLE_IDS", "44");
            jail.set_env("RELAYDESK_DISCORD_API_URL", "http://127.0.0.1:9");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.discord.enabled_token(), Some("secret"));
            assert_eq!(config.discord.guild_id.as_deref(), Some("11"));
            assert_eq!(config.discord.staff_channel_id.as_deref(), Some("22"));
            assert_eq!(config.discord.agent_role_ids, vec!["33", "34"]);
            assert_eq!(config.discord.admin_role_ids, vec!["44"]);
            assert_eq!(config.discord.api_url, "http://127.0.0.1:9");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn widget_settings_come_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "RELAYDESK_WEB_ALLOWED_ORIGINS",
                "https://shop.example.com, https://www.example.com/",
            );
            jail.set_env("RELAYDESK_WEB_SESSION_TTL_HOURS", "48");
            jail.set_env("RELAYDESK_WEB_IDENTITY_SECRET", "s3cret-key");
            jail.set_env("RELAYDESK_WEB_SESSION_MESSAGES_PER_MINUTE", "5");
            jail.set_env("RELAYDESK_EMAIL_SMTP_URL", "smtp://127.0.0.1:2525");
            jail.set_env("RELAYDESK_WEB_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                config
                    .web
                    .trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                vec!["10.0.0.0/8", "127.0.0.1/32"]
            );
            assert_eq!(
                config.web.allowed_origins,
                vec!["https://shop.example.com", "https://www.example.com"]
            );
            assert_eq!(config.web.session_ttl_hours, 48);
            assert_eq!(config.web.identity_secret.as_deref(), Some("s3cret-key"));
            assert_eq!(config.web.session_messages_per_minute, 5);
            assert_eq!(config.web.max_attachment_bytes, 5 * 1024 * 1024);
            assert_eq!(
                config.email.smtp_url.as_deref(),
                Some("smtp://127.0.0.1:2525")
            );
            jail.set_env("RELAYDESK_WEB_TRUSTED_PROXIES", "10.0.0.0/33");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("`10.0.0.0/33` is not a network"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_named_file_must_exist() {
        let err = Config::load(Some(Path::new("/nonexistent/relaydesk.toml"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/relaydesk.toml"));
    }
}
