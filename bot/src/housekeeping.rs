//! Work that keeps the store quick to read, every [`FOLD_EVERY`]: the rows that record how many
//! tickets are closed and merged are folded into one per status (the console's view counts sum
//! them), and SQLite's planner statistics are refreshed where stale. Answers are right whether
//! or not this runs; it only keeps them cheap.

use std::time::Duration;

use relaydesk_storage::Store;
use tokio_util::sync::CancellationToken;

/// How often the closed/merged counts are folded.
pub const FOLD_EVERY: Duration = Duration::from_secs(60);

/// Folds the ticket counts every `every` until `shutdown`; a failed fold is logged and tried
/// again at the next tick.
pub async fn run(store: Store, every: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        if let Err(e) = fold(&store).await {
            tracing::warn!(error = %e, "folding the ticket counts failed; trying again later");
        }
    }
}

async fn fold(store: &Store) -> Result<(), relaydesk_storage::StorageError> {
    let mut tx = store.begin().await?;
    tx.fold_ticket_counts().await?;
    tx.refresh_planner_statistics().await?;
    tx.commit().await
}
