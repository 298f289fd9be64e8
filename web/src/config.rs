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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {}

/// `[email]`: outgoing mail (transcripts). No mail is sent while `smtp_url` is unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `smtp://host:port`, `smtps://user:pass@host`.
    pub smtp_url: Option<String>,
    /// The sender address, e.g. `Support <support@example.com>`.
    pub from: Option<String>,
}
