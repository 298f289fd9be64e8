//! `relaydesk outbox failed|retry`: sends that were given up for good (the platform refused
//! them, or every retry failed), and putting one back in its queue once the cause is mended.

use std::fmt::Write as _;

use clap::Subcommand;
use relaydesk_storage::{Clock, OutboxRow, StorageError, Store};

use crate::hub::Delivery;

#[derive(Debug, Clone, Subcommand)]
pub enum OutboxCommand {
    /// List sends given up for good, newest first: id, platform, ticket, what, why.
    Failed {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Queue a failed send again; it goes out in its place in the ticket's queue.
    Retry {
        /// The id `relaydesk outbox failed` shows.
        id: i64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxCliError {
    #[error("there is no failed send with id {0}; `relaydesk outbox failed` lists them")]
    NotFailed(i64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Runs an outbox command; returns what to print.
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    command: OutboxCommand,
) -> Result<String, OutboxCliError> {
    let mut tx = store.begin().await?;
    match command {
        OutboxCommand::Failed { limit } => {
            let rows = tx.failed_outbox(limit.clamp(1, 10_000)).await?;
            tx.rollback().await?;
            if rows.is_empty() {
                return Ok("no failed sends".to_string());
            }
            let mut out = String::new();
            for row in rows {
                let _ = writeln!(out, "{}", line(&row));
            }
            Ok(out.trim_end().to_string())
        }
        OutboxCommand::Retry { id } => {
            if !tx.retry_failed(id, clock.now_ms()).await? {
                return Err(OutboxCliError::NotFailed(id));
            }
            tx.commit().await?;
            Ok(format!("send {id} queued again"))
        }
    }
}

/// `17  telegram  ticket 4  customer message  bot was blocked by the user`
fn line(row: &OutboxRow) -> String {
    let what = match serde_json::from_str::<Delivery>(&row.payload) {
        Ok(delivery) => describe(&delivery),
        Err(_) => "unreadable",
    };
    let ticket = row
        .ticket_id
        .map_or_else(|| "-".to_string(), |t| format!("ticket {t}"));
    format!(
        "{}\t{}\t{ticket}\t{what}\t{}",
        row.id,
        row.platform,
        row.last_error.as_deref().unwrap_or("")
    )
}

fn describe(delivery: &Delivery) -> &'static str {
    match delivery {
        Delivery::OpenThread => "open thread",
        Delivery::RetireThread { .. } => "close second thread",
        Delivery::StaffMessage { .. } => "thread post",
        Delivery::StaffNotice { .. } | Delivery::StaffMention { .. } => "thread notice",
        Delivery::SyncThread => "thread state",
        Delivery::RefreshCard => "ticket card",
        Delivery::CustomerMessage { .. } => "reply to customer",
        Delivery::CustomerNotice { .. } => "notice to customer",
        Delivery::CustomerSurvey { .. } => "satisfaction survey",
        Delivery::CustomerFaq { .. } => "FAQ answer",
        Delivery::CustomerCommentAsk { .. } => "comment request",
        Delivery::ConfirmDelivered { .. } => "delivered mark",
        Delivery::ChannelPost { .. } => "channel post",
        Delivery::TranscriptFile { .. } => "transcript file",
    }
}
