//! The web server's configuration sections. The `relaydesk` binary reads them from
//! `relaydesk.toml` and `RELAYDESK_…` (as `[web]`, `[console]`, `[email]`) with the rest of its
//! configuration and hands them over in [`WebSettings`].

use std::net::IpAddr;

use ipnet::IpNet;
use relaydesk_storage::sla::{BusinessHours, Calendar};
use serde::{Deserialize, Serialize};

/// Everything the web server is configured with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSettings {
    pub web: WebConfig,
    pub console: ConsoleConfig,
    pub email: EmailConfig,
    pub metrics: MetricsConfig,
    /// The time zone reports are cut in unless a request names one (the first
    /// `[[sla.team]]`'s, else UTC).
    pub report_time_zone: String,
}

/// `[metrics]`: the Prometheus endpoint `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// When set, a scrape must send `Authorization: Bearer <token>`; otherwise `/metrics` is
    /// open to whoever reaches the server (block it at the proxy).
    pub token: Option<String>,
}

/// `[web]`: the public side (widget, demo page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Site origins allowed to embed the widget (`https://www.example.com`); others are refused.
    /// The server's own origin (the demo page) is always allowed.
    #[serde(deserialize_with = "string_list")]
    pub allowed_origins: Vec<String>,
    /// Requests a minute one REST API token may make (default 300); more get 429.
    pub api_requests_per_minute: Option<u32>,
    /// This server's public base URL (`https://desk.example.com`), used in links to visitors'
    /// files shown in staff channels and transcripts. Links are relative when unset.
    pub public_url: Option<String>,
    /// Key that signs widget session tokens. When unset one is generated and kept in the
    /// database, so restarts and other instances keep sessions valid.
    pub session_secret: Option<String>,
    /// How long a widget session stays valid without being used, in hours.
    pub session_ttl_hours: u64,
    /// Shared secret of identity verification: sites set `data-user-hash` to
    /// hex(HMAC-SHA256(identity_secret, user id)). Verification is off while unset.
    pub identity_secret: Option<String>,
    /// Largest attachment a visitor may send, in bytes.
    pub max_attachment_bytes: usize,
    /// Messages one widget session may send per minute.
    pub session_messages_per_minute: u32,
    /// Widget connections and messages one IP address may make per minute.
    pub ip_requests_per_minute: u32,
    /// Widget sockets open at once on this server; more are refused with 503 until some close.
    pub max_widget_sockets: usize,
    /// Widget sockets one client address may hold open at once; more get an error frame.
    pub max_widget_sockets_per_address: usize,
    /// Name or email changes (`profile` frames) one widget socket may send; more are refused.
    pub max_profile_frames: u32,
    /// Bytes of files one widget session may upload per hour, in MB.
    pub session_upload_mb_per_hour: u32,
    /// Bytes of files one client address may upload per hour, in MB.
    pub ip_upload_mb_per_hour: u32,
    /// All visitors' files together, in MB: beyond it uploads are refused (`storage_full`).
    pub max_upload_storage_mb: u64,
    /// A widget socket the visitor sends nothing on for this long is closed (an `idle` error
    /// frame first); the widget reconnects when the visitor is back.
    pub widget_idle_seconds: u64,
    /// Reverse proxies in front of this server (`10.0.0.0/8`, `127.0.0.1`): only from these
    /// is `X-Forwarded-For` believed, so each visitor gets their own per-address budget.
    #[serde(deserialize_with = "network_list")]
    pub trusted_proxies: Vec<IpNet>,
    /// When agents answer; outside these hours the widget says so and asks for an email.
    /// Always open when unset (the widget still says so when no agent is on duty).
    pub business_hours: Option<BusinessHoursConfig>,
}

/// `[web.business_hours]`, in the format of the SLA calendars: a time zone, spans per
/// weekday (`mon = ["09:00-17:00"]`) and holidays (`"2026-12-24"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHoursConfig {
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
    pub holidays: Vec<String>,
}

impl BusinessHoursConfig {
    /// The calendar these hours describe; errors name the key.
    pub fn calendar(&self) -> Result<Calendar, String> {
        let key = "web.business_hours";
        let holidays = self
            .holidays
            .iter()
            .map(|h| {
                chrono::NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d").map_err(|_| {
                    format!("{key}.holidays: `{h}` is not a date of the form 2026-12-24")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let week = [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
        .map(Vec::as_slice);
        BusinessHours::from_config(key, &self.time_zone, week, holidays).map(Calendar::Business)
    }
}

impl WebConfig {
    /// Checks what can be checked before starting.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(hours) = &self.business_hours {
            hours.calendar()?;
        }
        Ok(())
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            public_url: None,
            session_secret: None,
            session_ttl_hours: 30 * 24,
            identity_secret: None,
            max_attachment_bytes: 5 * 1024 * 1024,
            session_messages_per_minute: 20,
            ip_requests_per_minute: 120,
            max_widget_sockets: 20_000,
            max_widget_sockets_per_address: 30,
            max_profile_frames: 10,
            widget_idle_seconds: 1800,
            session_upload_mb_per_hour: 50,
            ip_upload_mb_per_hour: 200,
            max_upload_storage_mb: 10_240,
            trusted_proxies: Vec::new(),
            business_hours: None,
            api_requests_per_minute: None,
        }
    }
}

/// A list from TOML (`["a", "b"]`) or from the environment (`a,b`).
fn string_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        One(String),
    }
    let items = match Raw::deserialize(d)? {
        Raw::List(items) => items,
        Raw::One(joined) => joined.split(',').map(str::to_string).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Networks as CIDRs or single addresses, as a list or one comma-separated string.
fn network_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    string_list(d)?
        .iter()
        .map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`{text}` is not a network: write a CIDR like 10.0.0.0/8 or an address"
                    ))
                })
        })
        .collect()
}

/// `[console]`: the agents' console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// How long a console sign-in lasts.
    pub session_hours: u32,
    /// Failed sign-ins with one email from one client address that lock that email there.
    pub max_failed_sign_ins: u32,
    /// Failed sign-ins with one email from any address that lock it everywhere (guessing
    /// from many addresses).
    pub max_failed_sign_ins_per_account: u32,
    /// Failed sign-ins from one client address, any email, that lock the address.
    pub max_failed_sign_ins_per_address: u32,
    /// How long a lock lasts; failures older than this are forgotten.
    pub lockout_minutes: u32,
    /// Mark the session cookie `Secure` (only sent over HTTPS). Turn on behind TLS.
    pub secure_cookie: bool,
    /// An open ticket page re-reads the store this often besides the changes pushed to it
    /// (a safety net).
    pub refresh_seconds: u32,
}

impl ConsoleConfig {
    /// The sign-in limits the store counts against.
    pub fn sign_in_limits(&self) -> relaydesk_storage::SignInLimits {
        relaydesk_storage::SignInLimits {
            per_pair: i64::from(self.max_failed_sign_ins.max(1)),
            per_email: i64::from(self.max_failed_sign_ins_per_account.max(1)),
            per_address: i64::from(self.max_failed_sign_ins_per_address.max(1)),
            lock_ms: i64::from(self.lockout_minutes.max(1)) * 60_000,
        }
    }
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            session_hours: 12,
            max_failed_sign_ins: 5,
            max_failed_sign_ins_per_account: 50,
            max_failed_sign_ins_per_address: 20,
            lockout_minutes: 15,
            secure_cookie: false,
            refresh_seconds: 30,
        }
    }
}

/// `[email]`: mail. With `smtp_url` and `from` set, widget transcripts are mailed and email
/// is a channel: mail posted to the inbound endpoint becomes tickets, and agents' replies go
/// out as mail. No mail is sent while `smtp_url` is unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `smtp://host:port`, `smtps://user:pass@host`.
    pub smtp_url: Option<String>,
    /// The sender address, e.g. `Support <support@example.com>`: the support mailbox.
    pub from: Option<String>,
    /// Secret in the inbound endpoint's path (`POST /api/v1/inbound/email/<secret>`), for mail
    /// providers that cannot send an `Authorization` header. At least 24 characters.
    pub inbound_secret: Option<String>,
    /// Largest mail the inbound endpoint reads, in MB; larger ones get 413.
    pub max_mail_mb: usize,
    /// Files kept per mail; the rest are dropped and named in the thread.
    pub max_attachments: usize,
    /// `[email.imap]`: read the support mailbox over IMAP (instead of, or beside, the inbound
    /// endpoint).
    pub imap: Option<ImapConfig>,
}

/// `[email.imap]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// `imaps://user:password@host[:port]/FOLDER` (the folder defaults to INBOX; %-escape an
    /// `@` in the user name as `%40`).
    pub url: String,
    /// Move processed mail to this folder instead of flagging it read.
    #[serde(default)]
    pub move_to: Option<String>,
    /// Seconds between looks when the server cannot IDLE (and the longest IDLE).
    #[serde(default = "default_imap_poll")]
    pub poll_seconds: u64,
}

fn default_imap_poll() -> u64 {
    60
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: None,
            inbound_secret: None,
            max_mail_mb: 32,
            max_attachments: 20,
            imap: None,
        }
    }
}
