//! The web server's configuration sections. The `relaydesk` binary reads them from
//! `relaydesk.toml` and `RELAYDESK_…` (as `[web]`, `[console]`, `[email]`) with the rest of its
//! configuration and hands them over in [`WebSettings`].

use serde::{Deserialize, Serialize};

/// Everything the web server is configured with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSettings {
    pub web: WebConfig,
    pub console: ConsoleConfig,
    pub email: EmailConfig,
}

/// `[web]`: the public side (widget, demo page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Site origins allowed to embed the widget (`https://www.example.com`); others are refused.
    pub allowed_origins: Vec<String>,
    /// Requests a minute one REST API token may make (default 300); more get 429.
    pub api_requests_per_minute: Option<u32>,
}

/// `[console]`: the agents' console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// How long a console sign-in lasts.
    pub session_hours: u32,
    /// Failed sign-ins in a row that lock an account.
    pub max_failed_sign_ins: u32,
    /// How long a locked account stays locked.
    pub lockout_minutes: u32,
    /// Mark the session cookie `Secure` (only sent over HTTPS). Turn on behind TLS.
    pub secure_cookie: bool,
    /// An open ticket page re-reads the store this often, to show changes made by other
    /// instances.
    pub refresh_seconds: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            session_hours: 12,
            max_failed_sign_ins: 5,
            lockout_minutes: 15,
            secure_cookie: false,
            refresh_seconds: 5,
        }
    }
}

/// `[email]`: outgoing mail (transcripts). No mail is sent while `smtp_url` is unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `smtp://host:port`, `smtps://user:pass@host`.
    pub smtp_url: Option<String>,
    /// The sender address, e.g. `Support <support@example.com>`.
    pub from: Option<String>,
}
