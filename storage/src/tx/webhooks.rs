//! Webhook deliveries: written on commit from the transaction's events, leased one per
//! endpoint and ticket at a time, finished by the sender.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{opt_time, parse, time, Tx};
use crate::events::condense;
use crate::{Backend, EventKind, Result, TicketEvent, WebhookDelivery};

const COLUMNS: &str = "id, endpoint, event, ticket_id, message_id, delivery, status, attempts, \
     body, response_status, last_error, created_at, finished_at";

/// The ticket's number beside a listed delivery (`w`).
const NUMBER: &str = "(SELECT t.number FROM tickets t WHERE t.id = w.ticket_id) AS ticket_number";

fn delivery(row: &AnyRow) -> Result<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: row.try_get("id")?,
        endpoint: row.try_get("endpoint")?,
        event: parse(row, "event")?,
        ticket_id: row.try_get("ticket_id")?,
        subject_id: row.try_get("message_id")?,
        delivery: row.try_get("delivery")?,
        status: parse(row, "status")?,
        attempts: row.try_get("attempts")?,
        body: row.try_get("body")?,
        response_status: row.try_get("response_status")?,
        last_error: row.try_get("last_error")?,
        created_at: time(row, "created_at")?,
        finished_at: opt_time(row, "finished_at")?,
        ticket_number: None,
    })
}

/// How a finished attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// Try again at `at_ms`.
    Retry {
        at_ms: i64,
        status: Option<u16>,
        error: String,
    },
    /// Given up: it stays listed as failed.
    Failed { status: Option<u16>, error: String },
}

impl Tx {
    /// Records that this transaction did `kind` to `ticket_id` (nothing when no webhook is
    /// configured). `subject_id` is the message or survey the event is about.
    pub(crate) fn event(
        &mut self,
        kind: EventKind,
        ticket_id: i64,
        subject_id: Option<i64>,
        internal: bool,
    ) {
        if self.webhooks.is_empty() {
            return;
        }
        self.events.push(TicketEvent {
            kind,
            ticket_id,
            subject_id,
            internal,
        });
    }

    /// Writes one delivery per recorded event and endpoint that hears it. Returns how many.
    pub(super) async fn queue_webhooks(&mut self) -> Result<usize> {
        if self.events.is_empty() {
            return Ok(0);
        }
        let events = condense(&std::mem::take(&mut self.events));
        let subscriptions = self.webhooks.clone();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut queued = 0;
        for event in &events {
            for sub in subscriptions.iter().filter(|s| s.hears(event)) {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (endpoint, event, ticket_id, message_id, lane, \
                     delivery, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                )
                .bind(&sub.endpoint)
                .bind(event.kind.as_str())
                .bind(event.ticket_id)
                .bind(event.subject_id)
                .bind(format!("{}:{}", sub.endpoint, event.ticket_id))
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(now_ms)
                .execute(&mut *self.inner)
                .await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Leases up to `limit` due deliveries to `owner` until `now + lease_ms`, counting an
    /// attempt. Only the oldest pending delivery of each endpoint and ticket is eligible, so a
    /// ticket's events reach an endpoint in order.
    pub async fn lease_webhooks(
        &mut self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT w.id FROM webhook_deliveries w \
                 WHERE w.status = 'pending' AND w.next_attempt_at <= $3 \
                 AND (w.lease_until IS NULL OR w.lease_until < $3) \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                     WHERE p.lane = w.lane AND p.status = 'pending' AND p.id < w.id) \
                 ORDER BY w.next_attempt_at, w.id LIMIT $4 {skip_locked}) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(now_ms + lease_ms)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&mut *self.inner)
            .await?;
        let mut leased = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
        leased.sort_by_key(|d| d.id);
        Ok(leased)
    }

    /// Fixes the body of delivery `id` (at its first attempt) while `owner` holds it.
    pub async fn set_webhook_body(&mut self, id: i64, owner: &str, body: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET body = $3 WHERE id = $1 AND lease_owner = $2 AND body IS NULL",
        )
        .bind(id)
        .bind(owner)
        .bind(body)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how an attempt of delivery `id` went, if `owner` still holds it.
    pub async fn finish_webhook(
        &mut self,
        id: i64,
        owner: &str,
        outcome: &WebhookOutcome,
        now_ms: i64,
    ) -> Result<bool> {
        let (status, next, response, error, finished) = match outcome {
            WebhookOutcome::Delivered { status } => {
                ("delivered", now_ms, Some(*status), None, Some(now_ms))
            }
            WebhookOutcome::Retry {
                at_ms,
                status,
                error,
            } => ("pending", *at_ms, *status, Some(error.as_str()), None),
            WebhookOutcome::Failed { status, error } => (
                "failed",
                now_ms,
                *status,
                Some(error.as_str()),
                Some(now_ms),
            ),
        };
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, response_status = $5, \
             last_error = $6, finished_at = $7, lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(status)
        .bind(next)
        .bind(response.map(i64::from))
        .bind(error)
        .bind(finished)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When the next pending delivery is due, if any is.
    pub async fn next_webhook_due(&mut self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM webhook_deliveries WHERE status = 'pending'",
        )
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(row.try_get("due")?)
    }

    /// Puts failed delivery `id` back in its queue (its body unchanged, its time to retry
    /// starting now). Returns false when there is no failed delivery `id`.
    pub async fn retry_webhook(&mut self, id: i64, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, created_at = $2, \
             finished_at = NULL, attempts = 0 WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The latest `limit` deliveries, newest first; of one endpoint when `endpoint` is given.
    pub async fn recent_webhook_deliveries(
        &mut self,
        endpoint: Option<&str>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let rows = match endpoint {
            Some(endpoint) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS}, {NUMBER} FROM webhook_deliveries w WHERE endpoint = $1 \
                     ORDER BY id DESC LIMIT $2"
                ))
                .bind(endpoint)
                .bind(limit)
                .fetch_all(&mut *self.inner)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS}, {NUMBER} FROM webhook_deliveries w ORDER BY id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&mut *self.inner)
                .await?
            }
        };
        rows.iter()
            .map(|row| {
                let mut listed = delivery(row)?;
                listed.ticket_number = row.try_get("ticket_number")?;
                Ok(listed)
            })
            .collect()
    }
}
