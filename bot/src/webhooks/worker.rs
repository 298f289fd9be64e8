//! Posts webhook deliveries to their endpoints.
//!
//! Each pass leases the due deliveries (only the oldest pending one of each endpoint and
//! ticket, so a ticket's events arrive in order), posts them concurrently and records each
//! outcome. A delivery is retried with backoff until its endpoint answers 2xx or its
//! `retry_for` has passed since the event; then it is marked failed and the ticket's next
//! event goes. Times are wall-clock: retries wait real seconds, whatever clock the hub keeps.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use relaydesk_storage::{StorageError, Store, WebhookDelivery, WebhookOutcome};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{signature_header, Endpoint};
use crate::outbox::RetryPolicy;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook storage: {0}")]
    Storage(#[from] StorageError),
    #[error("could not set up the webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Tuning of the worker.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Deliveries posted at once (each of a different endpoint and ticket).
    pub batch: i64,
    /// How often to look for due deliveries when nothing woke the worker.
    pub poll: Duration,
    /// Waits between attempts (`max_attempts` is not used: `retry_for` of the endpoint is).
    pub retry: RetryPolicy,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            batch: 32,
            poll: Duration::from_secs(1),
            retry: RetryPolicy {
                base: Duration::from_secs(1),
                max_delay: Duration::from_secs(600),
                max_attempts: i64::MAX,
            },
        }
    }
}

/// Longest part of a receiver's answer kept as the error.
const ERROR_EXCERPT: usize = 200;
/// Longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct WebhookWorker {
    store: Store,
    endpoints: Arc<HashMap<String, Endpoint>>,
    client: reqwest::Client,
    owner: Arc<str>,
    options: WebhookOptions,
}

impl std::fmt::Debug for WebhookWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWorker")
            .field("endpoints", &self.endpoints.len())
            .field("owner", &self.owner)
            .finish()
    }
}

impl WebhookWorker {
    pub fn new(
        store: Store,
        endpoints: Vec<Endpoint>,
        options: WebhookOptions,
    ) -> Result<Self, WebhookError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Relaydesk-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            endpoints: Arc::new(endpoints.into_iter().map(|e| (e.name.clone(), e)).collect()),
            client,
            owner: format!("webhooks-{}", uuid::Uuid::new_v4()).into(),
            options,
        })
    }

    /// Posts until `shutdown` is cancelled. Storage errors are logged and retried.
    pub async fn run(self, shutdown: CancellationToken) {
        let queued = self.store.webhooks_queued();
        tracing::info!(endpoints = self.endpoints.len(), "webhook worker started");
        loop {
            let handled = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "webhook pass failed; retrying");
                    0
                }
            };
            if i64::try_from(handled).unwrap_or(0) >= self.options.batch {
                continue;
            }
            let pause = if handled > 0 {
                Duration::ZERO
            } else {
                self.until_next_due().await.min(self.options.poll)
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = queued.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("webhook worker stopped");
    }

    async fn until_next_due(&self) -> Duration {
        let due = async {
            let mut tx = self.store.begin().await?;
            let due = tx.next_webhook_due().await?;
            tx.rollback().await?;
            Ok::<_, StorageError>(due)
        };
        match due.await {
            Ok(Some(at)) => {
                let wait = at.saturating_sub(now_ms()).max(0);
                Duration::from_millis(u64::try_from(wait).unwrap_or(0))
            }
            Ok(None) | Err(_) => self.options.poll,
        }
    }

    /// One pass: leases the due deliveries, posts them and records every outcome. Returns how
    /// many were leased.
    pub async fn run_once(&self) -> Result<usize, WebhookError> {
        let longest = self
            .endpoints
            .values()
            .map(|e| e.timeout)
            .max()
            .unwrap_or(Duration::from_secs(10));
        let lease_ms =
            i64::try_from((longest + Duration::from_secs(30)).as_millis()).unwrap_or(60_000);
        let mut tx = self.store.begin().await?;
        let leased = tx
            .lease_webhooks(&self.owner, now_ms(), lease_ms, self.options.batch)
            .await?;
        tx.commit().await?;
        let count = leased.len();
        let mut posts = JoinSet::new();
        for delivery in leased {
            let worker = self.clone();
            posts.spawn(async move {
                let outcome = worker.attempt(&delivery).await;
                (delivery, outcome)
            });
        }
        let mut first_error = None;
        while let Some(joined) = posts.join_next().await {
            let Ok((delivery, outcome)) = joined else {
                continue;
            };
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(e) => {
                    // The body could not be read or fixed: the lease runs out and it is tried again.
                    tracing::warn!(delivery = %delivery.delivery, error = %e, "webhook not sent");
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            if let Err(e) = self.record(&delivery, &outcome).await {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    async fn record(
        &self,
        delivery: &WebhookDelivery,
        outcome: &WebhookOutcome,
    ) -> Result<(), WebhookError> {
        match outcome {
            WebhookOutcome::Delivered { status } => tracing::info!(
                endpoint = %delivery.endpoint, event = %delivery.event, delivery = %delivery.delivery,
                status, "webhook delivered"
            ),
            WebhookOutcome::Retry { error, .. } => tracing::warn!(
                endpoint = %delivery.endpoint, event = %delivery.event, delivery = %delivery.delivery,
                attempts = delivery.attempts, %error, "webhook not delivered; will retry"
            ),
            WebhookOutcome::Failed { error, .. } => tracing::error!(
                endpoint = %delivery.endpoint, event = %delivery.event, delivery = %delivery.delivery,
                attempts = delivery.attempts, %error, "webhook given up"
            ),
        }
        let mut tx = self.store.begin().await?;
        tx.finish_webhook(delivery.id, &self.owner, outcome, now_ms())
            .await?;
        tx.commit().await?;
        let counted = match outcome {
            WebhookOutcome::Delivered { .. } => "delivered",
            WebhookOutcome::Retry { .. } => "retry",
            WebhookOutcome::Failed { .. } => "failed",
        };
        metrics::counter!("relaydesk_webhook_attempts_total", "outcome" => counted).increment(1);
        Ok(())
    }

    /// Posts one delivery and says how it went.
    async fn attempt(&self, delivery: &WebhookDelivery) -> Result<WebhookOutcome, WebhookError> {
        let Some(endpoint) = self.endpoints.get(&delivery.endpoint) else {
            return Ok(WebhookOutcome::Failed {
                status: None,
                error: format!("no webhook named `{}` is configured now", delivery.endpoint),
            });
        };
        let body = match &delivery.body {
            Some(body) => body.clone(),
            None => match self.fix_body(delivery).await? {
                Some(body) => body,
                None => {
                    return Ok(WebhookOutcome::Failed {
                        status: None,
                        error: "what the event is about is no longer stored".into(),
                    })
                }
            },
        };
        let timestamp = chrono::Utc::now().timestamp();
        let sent = self
            .client
            .post(endpoint.url.clone())
            .timeout(endpoint.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Relaydesk-Event", delivery.event.as_str())
            .header("Relaydesk-Delivery", &delivery.delivery)
            .header(
                "Relaydesk-Signature",
                signature_header(&endpoint.secret, timestamp, body.as_bytes()),
            )
            .body(body)
            .send()
            .await;
        let (status, error, asked_wait) = match sent {
            Ok(response) if response.status().is_success() => {
                return Ok(WebhookOutcome::Delivered {
                    status: response.status().as_u16(),
                })
            }
            Ok(response) => {
                let status = response.status();
                let asked = retry_after(&response);
                let text = response.text().await.unwrap_or_default();
                let excerpt: String = text.chars().take(ERROR_EXCERPT).collect();
                let error = if excerpt.trim().is_empty() {
                    format!("HTTP {status}")
                } else {
                    format!("HTTP {status}: {}", excerpt.trim())
                };
                (Some(status.as_u16()), error, asked)
            }
            Err(e) if e.is_timeout() => (
                None,
                format!("no answer within {:?}", endpoint.timeout),
                None,
            ),
            Err(e) => (None, format!("could not post: {}", error_chain(&e)), None),
        };
        let now = now_ms();
        let age = Duration::from_millis(
            u64::try_from(now.saturating_sub(delivery.created_at.timestamp_millis())).unwrap_or(0),
        );
        if age >= endpoint.retry_for {
            return Ok(WebhookOutcome::Failed {
                status,
                error: format!(
                    "{error} (retried for {})",
                    humantime::format_duration(endpoint.retry_for)
                ),
            });
        }
        let wait = match asked_wait {
            Some(asked) => asked.min(MAX_RETRY_AFTER),
            None => self
                .options
                .retry
                .delay(delivery.attempts, &mut rand::rng()),
        };
        Ok(WebhookOutcome::Retry {
            at_ms: now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2),
            status,
            error,
        })
    }

    /// Renders the body and stores it on the delivery, so every attempt sends the same bytes.
    async fn fix_body(&self, delivery: &WebhookDelivery) -> Result<Option<String>, WebhookError> {
        let mut tx = self.store.begin().await?;
        let Some(body) = relaydesk_web::api::event_body(&mut tx, delivery).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        tx.set_webhook_body(delivery.id, &self.owner, &body).await?;
        tx.commit().await?;
        Ok(Some(body))
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `Retry-After` in seconds, as 429 and 503 answers may give it.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let status = response.status();
    if status != reqwest::StatusCode::TOO_MANY_REQUESTS
        && status != reqwest::StatusCode::SERVICE_UNAVAILABLE
    {
        return None;
    }
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// An error with its causes ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
