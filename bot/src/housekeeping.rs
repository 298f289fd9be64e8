//! Work that keeps the store lean and quick to read, every [`FOLD_EVERY`]: the rows that record
//! how many tickets are closed and merged are folded into one per status (the console's view
//! counts sum them), SQLite's planner statistics are refreshed where stale, and files whose
//! message was never stored (an upload abandoned, a chat file fetched for a message that turned
//! out to be a repeat) are deleted. Answers are right whether or not this runs.

use std::sync::Arc;
use std::time::Duration;

use relaydesk_storage::{Clock, Store};
use tokio_util::sync::CancellationToken;

/// How often the closed/merged counts are folded.
pub const FOLD_EVERY: Duration = Duration::from_secs(60);

/// Folds the ticket counts every `every` until `shutdown`; a failed fold is logged and tried
/// again at the next tick.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Not at start: a restart has more urgent writes (the sends it owes) than tidying.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        if let Err(e) = tidy(&store, clock.now_ms()).await {
            tracing::warn!(error = %e, "housekeeping failed; trying again later");
        }
    }
}

async fn tidy(store: &Store, now_ms: i64) -> Result<(), relaydesk_storage::StorageError> {
    let mut tx = store.begin().await?;
    tx.fold_ticket_counts().await?;
    tx.refresh_planner_statistics().await?;
    let pruned = tx
        .prune_unattached_files(now_ms - relaydesk_storage::UNATTACHED_FILE_MS)
        .await?;
    tx.commit().await?;
    if pruned > 0 {
        tracing::info!(pruned, "deleted files no stored message took");
    }
    Ok(())
}
