//! Discord REST calls for deliveries: serenity's routes, request builder and models, sent
//! with our own pacing so that 429 `retry_after` and the `X-RateLimit-*` headers reach the
//! outbox (serenity's error type keeps neither, and its own limiter cannot follow a custom
//! `api_url`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serenity::http::{
    Http, HttpBuilder, LightMethod, Multipart, RatelimitingBucket, Request, Route,
};
use tokio::time::Instant;

use super::DiscordSettings;
use crate::config::DISCORD_API_URL;
use crate::hub::DeliveryError;

/// A wait for a rate-limit bucket shorter than this is slept through inside one delivery;
/// longer ones go back to the outbox as [`DeliveryError::RetryAfter`].
const MAX_INLINE_WAIT: Duration = Duration::from_secs(2);

/// Discord's global limit: at most this many requests per second across all routes.
const GLOBAL_PER_SECOND: usize = 50;

/// Used when Discord answers 429 without `retry_after` or `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// serenity's HTTP client for the gateway side (interaction answers, command registration).
/// With a custom `api_url` requests go to `<api_url>/api/v10/…` and serenity's limiter is off
/// (it would talk to discord.com directly).
pub fn http_client(settings: &DiscordSettings) -> Http {
    let builder = HttpBuilder::new(&settings.token);
    if settings.api_url == DISCORD_API_URL {
        builder.build()
    } else {
        builder
            .proxy(settings.api_url.clone())
            .ratelimiter_disabled(true)
            .build()
    }
}

/// The delivery side's REST client.
#[derive(Debug)]
pub struct Rest {
    client: reqwest::Client,
    authorization: String,
    proxy: Option<String>,
    /// Until when a bucket (or, under `None`, every route: a global limit) must not be used.
    blocked: Mutex<HashMap<Option<RatelimitingBucket>, Instant>>,
    /// When the latest requests were sent, for the global per-second limit.
    recent: Mutex<VecDeque<Instant>>,
}

impl Rest {
    pub fn new(settings: &DiscordSettings) -> Self {
        let token = settings.token.trim();
        let authorization = if token.starts_with("Bot ") || token.starts_with("Bearer ") {
            token.to_string()
        } else {
            format!("Bot {token}")
        };
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            authorization,
            proxy: (settings.api_url != DISCORD_API_URL).then(|| settings.api_url.clone()),
            blocked: Mutex::new(HashMap::new()),
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Calls a route with a JSON body and decodes the answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&impl Serialize>,
    ) -> Result<T, DeliveryError> {
        decode(self.send(route, method, body).await?).await
    }

    /// Posts a message with files (`multipart/form-data`: the message as `payload_json`, each
    /// file as `files[n]`) and decodes the answer.
    pub async fn call_multipart<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        multipart: Multipart,
    ) -> Result<T, DeliveryError> {
        let response = self
            .send_request(route, LightMethod::Post, None, Some(multipart))
            .await?;
        decode(response).await
    }

    /// Calls a route whose answer carries nothing we need (204 No Content).
    pub async fn call_empty(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&impl Serialize>,
    ) -> Result<(), DeliveryError> {
        self.send(route, method, body).await.map(drop)
    }

    fn blocked_for(&self, bucket: RatelimitingBucket) -> Option<Duration> {
        let blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        [None, Some(bucket)]
            .iter()
            .filter_map(|key| blocked.get(key))
            .filter(|until| **until > now)
            .map(|until| *until - now)
            .max()
    }

    fn block(&self, key: Option<RatelimitingBucket>, wait: Duration) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait;
        let entry = blocked.entry(key).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    /// Waits for a slot under the global per-second limit.
    async fn pace(&self) {
        loop {
            let wait = {
                let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
                global_wait(&mut recent, Instant::now())
            };
            match wait {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    async fn send(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&impl Serialize>,
    ) -> Result<reqwest::Response, DeliveryError> {
        let what = format!("{} {}", method.reqwest_method(), route.path());
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| DeliveryError::Permanent(format!("cannot encode {what}: {e}")))?;
        self.send_request(route, method, body, None).await
    }

    async fn send_request(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<Vec<u8>>,
        multipart: Option<Multipart>,
    ) -> Result<reqwest::Response, DeliveryError> {
        let bucket = route.ratelimiting_bucket();
        if let Some(wait) = self.blocked_for(bucket) {
            if wait > MAX_INLINE_WAIT {
                return Err(DeliveryError::RetryAfter(wait));
            }
            tokio::time::sleep(wait).await;
        }
        self.pace().await;
        let what = format!("{} {}", method.reqwest_method(), route.path());
        let request = Request::new(route, method)
            .body(body)
            .multipart(multipart)
            .build(&self.client, &self.authorization, self.proxy.as_deref())
            .map_err(|e| DeliveryError::Permanent(format!("cannot build {what}: {e}")))?;
        let response = request
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(format!("cannot reach Discord ({what}): {e}")))?;
        let status = response.status();
        if let Some(wait) = exhausted(response.headers()) {
            self.block(Some(bucket), wait);
        }
        if status.is_success() {
            return Ok(response);
        }
        let header_wait = header_seconds(response.headers(), "retry-after");
        let text = response.text().await.unwrap_or_default();
        let error: ErrorBody = serde_json::from_str(&text).unwrap_or_default();
        let described = format!(
            "{}Discord answered {} to {what}: {}{}",
            error.code.and_then(explain).unwrap_or_default(),
            status.as_u16(),
            error.message.as_deref().unwrap_or("(no message)"),
            error
                .code
                .map(|c| format!(" (code {c})"))
                .unwrap_or_default()
        );
        Err(match status.as_u16() {
            429 => {
                let wait = error
                    .retry_after
                    .and_then(seconds)
                    .or(header_wait)
                    .unwrap_or(DEFAULT_RETRY_AFTER);
                let key = if error.global { None } else { Some(bucket) };
                self.block(key, wait);
                tracing::debug!(%what, ?wait, global = error.global, "rate limited by Discord");
                DeliveryError::RetryAfter(wait)
            }
            500..=599 => DeliveryError::Transient(described),
            // The guild's active threads are at Discord's cap: tickets that close archive
            // theirs, so a later try can succeed. Retried, never given up at once.
            _ if error.code == Some(MAX_ACTIVE_THREADS) => {
                tracing::warn!(%what, "the guild has reached Discord's limit of active threads");
                DeliveryError::Transient(described)
            }
            _ => DeliveryError::Permanent(described),
        })
    }
}

/// Reads a successful answer's JSON.
async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, DeliveryError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| DeliveryError::Transient(format!("reading Discord's answer: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        // The call happened; retrying could repeat it, so this is not worth a retry.
        DeliveryError::Permanent(format!("unexpected answer from Discord: {e}"))
    })
}

/// Takes a slot in the one-second window of sent requests at `now`, or says how long to wait
/// for one.
fn global_wait(recent: &mut VecDeque<Instant>, now: Instant) -> Option<Duration> {
    let second = Duration::from_secs(1);
    while recent
        .front()
        .is_some_and(|t| now.duration_since(*t) >= second)
    {
        recent.pop_front();
    }
    if recent.len() < GLOBAL_PER_SECOND {
        recent.push_back(now);
        return None;
    }
    recent
        .front()
        .map(|oldest| second.saturating_sub(now.duration_since(*oldest)))
}

/// Discord's error code for "thread is archived".
const THREAD_ARCHIVED: i64 = 50_083;

/// Whether Discord refused because the thread is archived (a closed ticket's thread).
pub fn is_archived_thread(error: &DeliveryError) -> bool {
    matches!(error, DeliveryError::Permanent(why) if why.ends_with(&format!(" (code {THREAD_ARCHIVED})")))
}

/// Discord's error code for "maximum number of active threads reached".
const MAX_ACTIVE_THREADS: i64 = 160_006;

/// Whether Discord refused because the guild has as many active threads as it allows.
pub fn is_thread_cap(error: &DeliveryError) -> bool {
    matches!(error, DeliveryError::Transient(why) if why.ends_with(&format!(" (code {MAX_ACTIVE_THREADS})")))
}

/// What Discord's commonest refusals mean for the people reading the warning.
fn explain(code: i64) -> Option<&'static str> {
    Some(match code {
        MAX_ACTIVE_THREADS => {
            "the server has as many active threads as Discord allows; closing tickets archives \
             theirs (or archive some by hand); "
        }
        50007 => "the user does not accept direct messages from the bot; ",
        10003 => "the channel no longer exists; ",
        10008 => "the message no longer exists; ",
        10013 => "the user no longer exists; ",
        50001 => "the bot has no access to the channel; ",
        50013 => "the bot lacks a permission; ",
        THREAD_ARCHIVED => "the thread is archived; ",
        _ => return None,
    })
}

/// Discord's JSON error body (and the 429 body).
#[derive(Debug, Default, serde::Deserialize)]
struct ErrorBody {
    message: Option<String>,
    code: Option<i64>,
    retry_after: Option<f64>,
    #[serde(default)]
    global: bool,
}

fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value.min(3600.0)))
}

fn header_seconds(headers: &HeaderMap, name: &str) -> Option<Duration> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(seconds)
}

/// When a bucket has no requests left, how long until it refills.
fn exhausted(headers: &HeaderMap) -> Option<Duration> {
    let remaining = headers
        .get("x-ratelimit-remaining")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    if remaining > 0 {
        return None;
    }
    header_seconds(headers, "x-ratelimit-reset-after")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn an_empty_bucket_blocks_until_reset() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset-after", HeaderValue::from_static("1.5"));
        assert_eq!(exhausted(&headers), Some(Duration::from_millis(1500)));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("3"));
        assert_eq!(exhausted(&headers), None);
    }

    #[test]
    fn at_most_fifty_requests_a_second() {
        let start = Instant::now();
        let mut recent = VecDeque::new();
        for i in 0..GLOBAL_PER_SECOND {
            let at = start + Duration::from_millis(i as u64);
            assert_eq!(global_wait(&mut recent, at), None);
        }
        let full = start + Duration::from_millis(100);
        assert_eq!(
            global_wait(&mut recent, full),
            Some(Duration::from_millis(900))
        );
        // A second after the first request its slot is free again.
        assert_eq!(
            global_wait(&mut recent, start + Duration::from_secs(1)),
            None
        );
        assert_eq!(recent.len(), GLOBAL_PER_SECOND);
    }

    #[test]
    fn odd_waits_are_refused() {
        assert_eq!(seconds(-1.0), None);
        assert_eq!(seconds(f64::NAN), None);
        assert_eq!(seconds(0.25), Some(Duration::from_millis(250)));
    }
}
