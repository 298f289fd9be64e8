//! Keeping this process's workers and live views in step with the rest of the deployment.
//!
//! * [`hear_other_instances`]: on PostgreSQL, notifications from other instances wake this
//!   process's outbox workers (new rows) and its live views (changed tickets).
//! * [`retell_recent_changes`]: every [`SWEEP_EVERY`], the tickets changed since the last sweep
//!   are announced again to the views watching them. This is the safety net for a notification
//!   lost while the listener reconnected, or a change written by another tool; a view whose
//!   ticket did not change re-reads nothing new.

use std::time::Duration;

use relaydesk_storage::{ChangeListener, Heard};
use tokio_util::sync::CancellationToken;

use crate::hub::Hub;

/// How often recently changed tickets are announced again.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// How far back each sweep looks beyond the previous one, for clocks of instances that
/// disagree a little and transactions that committed late.
const SWEEP_OVERLAP_MS: i64 = 30_000;

/// Wakes this instance's workers and views when another instance sharing the PostgreSQL
/// database queued work or changed tickets.
pub async fn hear_other_instances(
    mut listener: ChangeListener,
    hub: Hub,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            heard = listener.recv() => match heard {
                Ok(Heard::Outbox(platform)) => hub.wakers().wake([platform]),
                Ok(Heard::Tickets(ids)) => hub.feed().announce(ids),
                Err(e) => {
                    tracing::warn!(error = %e, "notifications from other instances interrupted; workers keep polling");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            },
        }
    }
}

/// Announces, every `every`, the tickets changed since the previous sweep.
pub async fn retell_recent_changes(hub: Hub, every: Duration, shutdown: CancellationToken) {
    let mut since = hub.clock().now_ms();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let started = hub.clock().now_ms();
        match changed_since(&hub, since.saturating_sub(SWEEP_OVERLAP_MS)).await {
            Ok(ids) => {
                hub.feed().announce(ids);
                since = started;
            }
            Err(e) => tracing::warn!(error = %e, "could not look for recently changed tickets"),
        }
    }
}

async fn changed_since(
    hub: &Hub,
    since_ms: i64,
) -> Result<Vec<i64>, relaydesk_storage::StorageError> {
    let mut tx = hub.store().begin().await?;
    let ids = tx.tickets_changed_since(since_ms).await?;
    tx.rollback().await?;
    Ok(ids)
}
