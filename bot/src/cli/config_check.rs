//! `relaydesk config check`: the effective configuration (defaults, file, environment) as TOML
//! with every secret masked, or the exact error.

use serde_json::Value;

use crate::config::Config;

/// Keys whose values are secrets: shown as `"***"` when set.
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "webhook_secret",
    "session_secret",
    "identity_secret",
    "inbound_secret",
    "password",
];

/// Keys holding URLs that may carry a password (`smtp://user:pass@host`).
const URL_KEYS: &[&str] = &["database_url", "smtp_url", "url"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigCheckError {
    #[error("could not show the configuration: {0}")]
    Render(String),
}

/// The configuration as TOML, secrets masked; unset optional keys are left out.
pub fn render(config: &Config) -> Result<String, ConfigCheckError> {
    let mut value =
        serde_json::to_value(config).map_err(|e| ConfigCheckError::Render(e.to_string()))?;
    clean(&mut value, "");
    toml::to_string_pretty(&value).map_err(|e| ConfigCheckError::Render(e.to_string()))
}

/// Drops nulls and masks secrets, recursively.
fn clean(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for (k, v) in map.iter_mut() {
                clean(v, k);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| clean(v, key)),
        Value::String(text) if SECRET_KEYS.contains(&key) && !text.is_empty() => {
            *text = "***".to_string();
        }
        Value::String(text) if URL_KEYS.contains(&key) => {
            *text = relaydesk_storage::redact_url(text);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_the_rest_shown() {
        let mut config = Config::default();
        config.telegram.token = Some("123456:ABC-secret".into());
        config.database_url = "postgres://relaydesk:hunter2@db/relaydesk".into();
        config.metrics.token = Some("scrape-me".into());
        config.email.inbound_secret = Some("inbound-path-secret-0123456789".into());
        config.email.imap = Some(relaydesk_web::ImapConfig {
            url: "imaps://support:mailbox-pass@imap.example/INBOX".into(),
            move_to: None,
            poll_seconds: 60,
        });
        let text = render(&config).unwrap();
        assert!(
            !text.contains("ABC-secret")
                && !text.contains("hunter2")
                && !text.contains("scrape-me")
                && !text.contains("inbound-path-secret")
                && !text.contains("mailbox-pass"),
            "{text}"
        );
        assert!(text.contains("token = \"***\""), "{text}");
        assert!(
            text.contains("postgres://relaydesk:***@db/relaydesk"),
            "{text}"
        );
        assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
        // What is shown loads back (apart from the masks).
        let back: toml::Value = toml::from_str(&text).unwrap();
        assert!(back.get("telegram").is_some());
    }
}
