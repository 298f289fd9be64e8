//! The `[telegram]` section of `relaydesk.toml`.

use serde::{Deserialize, Serialize};

use super::pacing::Pacing;

/// The official Bot API server.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

/// How updates reach us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// `getUpdates` long polling.
    #[default]
    Polling,
    /// Telegram posts updates to `webhook_url`, served by our web server.
    Webhook,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// Bot token from @BotFather; the channel is on when this is set.
    pub token: Option<String>,
    /// Bot API base URL; requests go to `{api_url}/bot{token}/{method}`.
    pub api_url: String,
    /// The staff supergroup (topics enabled).
    pub staff_chat_id: Option<i64>,
    pub mode: TelegramMode,
    /// Public URL Telegram posts updates to (webhook mode); its path is served by us.
    pub webhook_url: Option<String>,
    /// Expected `X-Telegram-Bot-Api-Secret-Token` (webhook mode).
    pub webhook_secret: Option<String>,
    /// Messages a second the bot sends, all chats together (0: no limit).
    pub messages_per_second: u32,
    /// Messages a minute the bot sends into one group, the staff group included (0: no limit).
    pub group_messages_per_minute: u32,
    /// Forum topics a minute the bot creates in the staff group (0: no limit).
    pub topics_per_minute: u32,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            token: None,
            api_url: DEFAULT_API_URL.to_string(),
            staff_chat_id: None,
            mode: TelegramMode::Polling,
            webhook_url: None,
            webhook_secret: None,
            messages_per_second: Pacing::default().per_second,
            group_messages_per_minute: Pacing::default().per_group_minute,
            topics_per_minute: Pacing::default().topics_per_minute,
        }
    }
}

// Secrets stay out of logs.
impl std::fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("TelegramConfig")
            .field("token", &redact(&self.token))
            .field("api_url", &self.api_url)
            .field("staff_chat_id", &self.staff_chat_id)
            .field("mode", &self.mode)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &redact(&self.webhook_secret))
            .field("messages_per_second", &self.messages_per_second)
            .field("group_messages_per_minute", &self.group_messages_per_minute)
            .field("topics_per_minute", &self.topics_per_minute)
            .finish()
    }
}

impl TelegramConfig {
    /// The send limits this section sets.
    pub fn pacing(&self) -> Pacing {
        Pacing {
            per_second: self.messages_per_second,
            per_group_minute: self.group_messages_per_minute,
            topics_per_minute: self.topics_per_minute,
        }
    }

    /// The token, when the channel is on (set and not blank).
    pub fn enabled_token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// Checks the section; the message names the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        let Some(token) = self.enabled_token() else {
            return Ok(());
        };
        if token.chars().any(char::is_whitespace) || !token.contains(':') {
            return Err(
                "telegram.token: not a bot token (expected the form 123456:ABC-DEF… from @BotFather)"
                    .into(),
            );
        }
        let api = url::Url::parse(&self.api_url)
            .map_err(|e| format!("telegram.api_url: not a valid URL ({e})"))?;
        if !matches!(api.scheme(), "http" | "https") {
            return Err("telegram.api_url: must be an http:// or https:// URL".into());
        }
        match self.staff_chat_id {
            None => {
                return Err(
                    "telegram.staff_chat_id is required when telegram.token is set (the id of the staff supergroup, e.g. -1001234567890)"
                        .into(),
                )
            }
            Some(id) if id >= 0 => {
                return Err(format!(
                    "telegram.staff_chat_id: {id} is not a supergroup id (supergroup ids are negative, e.g. -1001234567890)"
                ))
            }
            Some(_) => {}
        }
        if self.mode == TelegramMode::Webhook {
            let url = self
                .webhook_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .ok_or("telegram.webhook_url is required when telegram.mode = \"webhook\"")?;
            let parsed = url::Url::parse(url)
                .map_err(|e| format!("telegram.webhook_url: not a valid URL ({e})"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err("telegram.webhook_url: must be an https:// URL".into());
            }
            if matches!(parsed.path(), "/" | "/healthz" | "/readyz") {
                return Err(format!(
                    "telegram.webhook_url: the path {} is taken by the web server; use one of its own, e.g. /telegram/updates",
                    parsed.path()
                ));
            }
            let secret = self
                .webhook_secret
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or("telegram.webhook_secret is required when telegram.mode = \"webhook\"")?;
            let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            if secret.len() > 256 || !secret.chars().all(allowed) {
                return Err(
                    "telegram.webhook_secret: 1-256 characters of A-Z, a-z, 0-9, _ and - only"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// The path of `webhook_url`, where our web server takes updates.
    pub fn webhook_path(&self) -> Option<String> {
        let url = url::Url::parse(self.webhook_url.as_deref()?).ok()?;
        Some(url.path().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> TelegramConfig {
        TelegramConfig {
            token: Some("123:abc".into()),
            staff_chat_id: Some(-100_500),
            ..TelegramConfig::default()
        }
    }

    #[test]
    fn off_without_a_token_and_valid_when_complete() {
        assert!(TelegramConfig::default().validate().is_ok());
        assert!(TelegramConfig::default().enabled_token().is_none());
        assert!(on().validate().is_ok());
    }

    #[test]
    fn missing_or_bad_keys_are_named() {
        let mut c = on();
        c.staff_chat_id = None;
        assert!(c.validate().unwrap_err().contains("telegram.staff_chat_id"));
        c.staff_chat_id = Some(42);
        assert!(c.validate().unwrap_err().contains("telegram.staff_chat_id"));
        let mut c = on();
        c.token = Some("nocolon".into());
        assert!(c.validate().unwrap_err().contains("telegram.token"));
        let mut c = on();
        c.api_url = "ftp://x".into();
        assert!(c.validate().unwrap_err().contains("telegram.api_url"));
        let mut c = on();
        c.mode = TelegramMode::Webhook;
        assert!(c.validate().unwrap_err().contains("telegram.webhook_url"));
        c.webhook_url = Some("https://example.org/tg/updates".into());
        assert!(c
            .validate()
            .unwrap_err()
            .contains("telegram.webhook_secret"));
        c.webhook_secret = Some("has spaces".into());
        assert!(c
            .validate()
            .unwrap_err()
            .contains("telegram.webhook_secret"));
        c.webhook_secret = Some("s3cret_-ok".into());
        assert!(c.validate().is_ok());
        assert_eq!(c.webhook_path().as_deref(), Some("/tg/updates"));
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut c = on();
        c.webhook_secret = Some("hush".into());
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("123:abc") && !shown.contains("hush"),
            "{shown}"
        );
    }
}
