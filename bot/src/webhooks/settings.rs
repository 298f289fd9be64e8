//! `[[webhooks]]` in the configuration, checked into [`Endpoint`]s at start.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use relaydesk_storage::{EventKind, Subscription};
use serde::{Deserialize, Serialize};

/// Shortest signing secret accepted.
pub const MIN_SECRET_CHARS: usize = 16;

/// One `[[webhooks]]` entry as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// How deliveries and logs name the endpoint [default: the URL].
    #[serde(default)]
    pub name: Option<String>,
    pub url: String,
    /// The signing secret, or
    #[serde(default)]
    pub secret: Option<String>,
    /// the environment variable that holds it.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Events sent [default: all].
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Whether `message.created` is sent for internal notes.
    #[serde(default)]
    pub include_notes: bool,
    /// How long a delivery is retried before it is marked failed.
    #[serde(default = "default_retry_for", with = "humantime_serde")]
    pub retry_for: Duration,
    /// How long one attempt may take.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn default_retry_for() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

/// A checked endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub url: url::Url,
    pub secret: String,
    pub events: BTreeSet<EventKind>,
    pub include_notes: bool,
    pub retry_for: Duration,
    pub timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("url", &self.url.as_str())
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub fn subscription(&self) -> Subscription {
        Subscription {
            endpoint: self.name.clone(),
            events: self.events.clone(),
            include_notes: self.include_notes,
        }
    }
}

/// Checks every entry; the error names the entry and key (`webhooks[1].url: …`).
pub fn endpoints(settings: &[WebhookSettings]) -> Result<Vec<Endpoint>, String> {
    let mut names = HashSet::new();
    settings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = |key: &str, why: String| format!("webhooks[{i}].{key}: {why}");
            let url = url::Url::parse(&s.url).map_err(|e| at("url", format!("not a URL ({e})")))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(at("url", "must be an http:// or https:// address".into()));
            }
            let secret = match (&s.secret, &s.secret_env) {
                (Some(secret), None) => secret.clone(),
                (None, Some(var)) => std::env::var(var)
                    .map_err(|_| at("secret_env", format!("the environment has no {var}")))?,
                (Some(_), Some(_)) => {
                    return Err(at(
                        "secret",
                        "give `secret` or `secret_env`, not both".into(),
                    ))
                }
                (None, None) => {
                    return Err(at(
                        "secret",
                        "required (or `secret_env`): deliveries are signed with it".into(),
                    ))
                }
            };
            if secret.trim().chars().count() < MIN_SECRET_CHARS {
                return Err(at(
                    "secret",
                    format!("must have at least {MIN_SECRET_CHARS} characters"),
                ));
            }
            let events = match &s.events {
                None => EventKind::ALL.iter().copied().collect(),
                Some(list) if list.is_empty() => {
                    return Err(at(
                        "events",
                        "empty: leave it out to send every event".into(),
                    ))
                }
                Some(list) => list
                    .iter()
                    .map(|e| {
                        e.parse::<EventKind>().map_err(|_| {
                            let known: Vec<&str> =
                                EventKind::ALL.iter().map(|k| k.as_str()).collect();
                            at(
                                "events",
                                format!("unknown event `{e}` (known: {})", known.join(", ")),
                            )
                        })
                    })
                    .collect::<Result<BTreeSet<_>, _>>()?,
            };
            let name = s.name.clone().unwrap_or_else(|| s.url.clone());
            if name.trim().is_empty() || name.chars().count() > 200 {
                return Err(at("name", "must have 1 to 200 characters".into()));
            }
            if !names.insert(name.clone()) {
                return Err(at("name", format!("`{name}` names two webhooks")));
            }
            if s.timeout.is_zero() || s.retry_for.is_zero() {
                return Err(at(
                    "timeout",
                    "`timeout` and `retry_for` must be above 0".into(),
                ));
            }
            Ok(Endpoint {
                name,
                url,
                secret,
                events,
                include_notes: s.include_notes,
                retry_for: s.retry_for,
                timeout: s.timeout,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str) -> WebhookSettings {
        WebhookSettings {
            name: None,
            url: url.into(),
            secret: Some("0123456789abcdef".into()),
            secret_env: None,
            events: None,
            include_notes: false,
            retry_for: default_retry_for(),
            timeout: default_timeout(),
        }
    }

    #[test]
    fn defaults_hear_every_event_and_are_named_by_url() {
        let endpoints = endpoints(&[entry("https://crm.example.com/hook")]).unwrap();
        assert_eq!(endpoints[0].name, "https://crm.example.com/hook");
        assert_eq!(endpoints[0].events.len(), EventKind::ALL.len());
        assert!(!format!("{:?}", endpoints[0]).contains("0123456789abcdef"));
    }

    #[test]
    fn bad_entries_are_named() {
        let err = |s: WebhookSettings| endpoints(&[entry("https://ok.example"), s]).unwrap_err();
        assert!(err(entry("ftp://x.example")).starts_with("webhooks[1].url"));
        assert!(err(entry("not a url")).starts_with("webhooks[1].url"));
        let mut short = entry("https://x.example");
        short.secret = Some("short".into());
        assert!(err(short).starts_with("webhooks[1].secret"));
        let mut none = entry("https://x.example");
        none.secret = None;
        assert!(err(none).starts_with("webhooks[1].secret"));
        let mut unknown = entry("https://x.example");
        unknown.events = Some(vec!["ticket.created".into(), "ticket.deleted".into()]);
        let e = err(unknown);
        assert!(
            e.contains("ticket.deleted") && e.contains("csat.received"),
            "{e}"
        );
        assert!(err(entry("https://ok.example")).starts_with("webhooks[1].name"));
        let mut missing = entry("https://x.example");
        missing.secret = None;
        missing.secret_env = Some("RELAYDESK_TEST_NO_SUCH_SECRET_VAR".into());
        assert!(err(missing).contains("RELAYDESK_TEST_NO_SUCH_SECRET_VAR"));
    }

    #[test]
    fn chosen_events_only() {
        let mut s = entry("https://x.example");
        s.events = Some(vec!["ticket.closed".into(), "csat.received".into()]);
        let e = endpoints(&[s]).unwrap();
        assert_eq!(
            e[0].events,
            [EventKind::TicketClosed, EventKind::CsatReceived].into()
        );
    }
}
