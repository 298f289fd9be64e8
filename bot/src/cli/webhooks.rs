//! `relaydesk webhooks deliveries|retry`: what the webhook endpoints were sent and how it
//! went, and queuing a failed delivery again once the receiver is mended.

use std::fmt::Write as _;

use clap::Subcommand;
use relaydesk_storage::{StorageError, Store, WebhookDelivery};

#[derive(Debug, Clone, Subcommand)]
pub enum WebhooksCommand {
    /// Recent deliveries, newest first: id, time, endpoint, event, ticket, status, attempts, why.
    Deliveries {
        /// Only this endpoint (its `name`, or its URL when it has none).
        #[arg(long)]
        endpoint: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Queue a failed delivery again (same id and body; it is retried for `retry_for` again).
    Retry {
        /// The id `relaydesk webhooks deliveries` shows.
        id: i64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum WebhooksCliError {
    #[error("there is no failed delivery with id {0}; `relaydesk webhooks deliveries` lists them")]
    NotFailed(i64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Runs a webhooks command; returns what to print.
pub async fn run(store: &Store, command: WebhooksCommand) -> Result<String, WebhooksCliError> {
    let mut tx = store.begin().await?;
    match command {
        WebhooksCommand::Deliveries { endpoint, limit } => {
            let rows = tx
                .recent_webhook_deliveries(endpoint.as_deref(), limit.clamp(1, 10_000))
                .await?;
            tx.rollback().await?;
            if rows.is_empty() {
                return Ok("no webhook deliveries".to_string());
            }
            let mut out = String::new();
            for row in rows {
                let _ = writeln!(out, "{}", line(&row));
            }
            Ok(out.trim_end().to_string())
        }
        WebhooksCommand::Retry { id } => {
            if !tx
                .retry_webhook(id, chrono::Utc::now().timestamp_millis())
                .await?
            {
                return Err(WebhooksCliError::NotFailed(id));
            }
            tx.commit().await?;
            Ok(format!("delivery {id} queued again"))
        }
    }
}

/// `12  2026-12-04 10:31:07  crm  message.created  ticket 4  failed  31 attempts  HTTP 500`
pub fn line(row: &WebhookDelivery) -> String {
    format!(
        "{}\t{}\t{}\t{}\tticket {}\t{}\t{} attempts\t{}",
        row.id,
        row.created_at.format("%Y-%m-%d %H:%M:%S"),
        row.endpoint,
        row.event,
        row.ticket_id,
        row.status,
        row.attempts,
        row.last_error.as_deref().unwrap_or("")
    )
}
