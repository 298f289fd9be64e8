//! `getUpdates` long polling. The offset moves past an answer's updates only once the hub
//! committed every one of them: the next request carries `offset = last update_id + 1`, so a
//! crash at any point gets them again (and the hub drops what it already stored). The chats of
//! one answer are handled side by side, each chat's updates in order.
//!
//! Telegram allows one poller per bot. With several instances on one database, the holder of
//! the store's `telegram.polling` lease polls; the others wait and take over when its lease
//! runs out (it dies) or is given back (it stops).

use std::time::Duration;

use teloxide::payloads::setters::*;
use teloxide::requests::{Request, Requester};
use teloxide::types::AllowedUpdate;
use teloxide::Bot;
use tokio_util::sync::CancellationToken;

use super::errors::is_fatal;
use super::receive::Receiver;

/// Longest pause between attempts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The lease that lets one instance poll.
pub struct PollLease {
    pub store: relaydesk_storage::Store,
    pub owner: String,
    /// How long the lease lasts unless renewed: longer than one long poll.
    pub ttl: Duration,
}

/// Name of the polling lease in the store.
const LEASE: &str = "telegram.polling";

impl PollLease {
    /// Takes or renews the lease; `false` when another instance holds it (or the store cannot
    /// say, so two never poll at once).
    async fn hold(&self) -> bool {
        let ttl = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let held = async {
            let mut tx = self.store.begin().await?;
            let held = tx
                .hold_lease(
                    LEASE,
                    &self.owner,
                    chrono::Utc::now().timestamp_millis(),
                    ttl,
                )
                .await?;
            tx.commit().await?;
            Ok::<_, relaydesk_storage::StorageError>(held)
        };
        match held.await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the Telegram polling lease");
                false
            }
        }
    }

    async fn release(&self) {
        let released = async {
            let mut tx = self.store.begin().await?;
            tx.release_lease(LEASE, &self.owner).await?;
            tx.commit().await
        };
        if let Err(e) = released.await {
            tracing::warn!(error = %e, "could not give the Telegram polling lease back");
        }
    }
}

/// Why polling stopped for good.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PollingError(pub String);

pub async fn poll(
    bot: &Bot,
    receiver: &Receiver,
    long_poll: Duration,
    lease: &PollLease,
    health: &relaydesk_desk::ChannelHealth,
    shutdown: &CancellationToken,
) -> Result<(), PollingError> {
    let polled = poll_holding(bot, receiver, long_poll, lease, health, shutdown).await;
    lease.release().await;
    polled
}

async fn poll_holding(
    bot: &Bot,
    receiver: &Receiver,
    long_poll: Duration,
    lease: &PollLease,
    health: &relaydesk_desk::ChannelHealth,
    shutdown: &CancellationToken,
) -> Result<(), PollingError> {
    let timeout = u32::try_from(long_poll.as_secs()).unwrap_or(u32::MAX);
    let mut offset: Option<i32> = None;
    let mut failures = 0u32;
    let mut waiting = false;
    loop {
        if !lease.hold().await {
            if !waiting {
                tracing::info!("another instance polls Telegram; this one waits to take over");
                waiting = true;
            }
            // The holder's updates moved Telegram's offset on: start from what it left.
            offset = None;
            if !pause(lease.ttl / 4, shutdown).await {
                return Ok(());
            }
            continue;
        }
        if waiting {
            tracing::info!("this instance polls Telegram now");
            waiting = false;
        }
        let mut request = bot
            .get_updates()
            .timeout(timeout)
            .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        let updates = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            result = request.send() => result,
        };
        let updates = match updates {
            Ok(updates) => {
                if failures > 0 {
                    health.set("telegram", relaydesk_desk::ChannelState::Connected);
                }
                failures = 0;
                updates
            }
            Err(e) if is_fatal(&e) => {
                return Err(PollingError(format!("getUpdates refused: {e}")));
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "getUpdates failed; retrying");
                health.set(
                    "telegram",
                    relaydesk_desk::ChannelState::NotConnected {
                        reason: format!("getUpdates failed: {e}"),
                    },
                );
                if !pause(backoff(failures), shutdown).await {
                    return Ok(());
                }
                continue;
            }
        };
        let Some(last) = updates.last().map(|u| u.id.as_offset()) else {
            continue;
        };
        // One chat's updates in order, the chats side by side: messages of different chats
        // that arrive together are stored together (see `hub/together.rs`).
        let handled = futures_util::future::join_all(
            by_chat(&updates)
                .into_iter()
                .map(|updates| handle_in_order(receiver, updates, shutdown)),
        )
        .await;
        if handled.contains(&false) || shutdown.is_cancelled() {
            // Not all committed: the next start gets this answer's updates again.
            return Ok(());
        }
        offset = Some(last);
    }
}

/// The updates of one answer, grouped by chat, each group in the order received.
fn by_chat(updates: &[teloxide::types::Update]) -> Vec<Vec<&teloxide::types::Update>> {
    let mut groups: Vec<(
        Option<teloxide::types::ChatId>,
        Vec<&teloxide::types::Update>,
    )> = Vec::new();
    for update in updates {
        let chat = update.chat().map(|c| c.id);
        match groups
            .iter_mut()
            .find(|(c, _)| chat.is_some() && *c == chat)
        {
            Some((_, group)) => group.push(update),
            None => groups.push((chat, vec![update])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// Hands each update to the hub until it is stored; `false` when shut down first.
async fn handle_in_order(
    receiver: &Receiver,
    updates: Vec<&teloxide::types::Update>,
    shutdown: &CancellationToken,
) -> bool {
    for update in updates {
        let mut attempts = 0u32;
        loop {
            match receiver.handle(update).await {
                Ok(()) => break,
                Err(e) => {
                    attempts += 1;
                    tracing::error!(error = %e, attempts, "update not stored; retrying it");
                    if !pause(backoff(attempts), shutdown).await {
                        return false;
                    }
                }
            }
        }
        if shutdown.is_cancelled() {
            return false;
        }
    }
    true
}

fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(6);
    (Duration::from_millis(500) * 2u32.pow(exponent)).min(MAX_BACKOFF)
}

/// Sleeps unless shut down first; `false` when shutting down.
pub async fn pause(wait: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}
