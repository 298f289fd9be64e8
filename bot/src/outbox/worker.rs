use std::sync::Arc;
use std::time::Duration;

use relaydesk_storage::{OutboxItem, StorageError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::resolve::{resolve, Unresolvable};
use super::RetryPolicy;
use crate::hub::{Deliver, Delivered, Delivery, DeliveryError, Hub, Outbound};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox storage: {0}")]
    Storage(#[from] StorageError),
    #[error("could not encode an outbox payload: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Tuning of one worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Rows leased at once (each from a different lane, delivered concurrently).
    pub batch: i64,
    /// How long a lease lasts; a worker that dies mid-send frees its rows after this.
    pub lease: Duration,
    /// How often to look for due rows when nothing woke the worker.
    pub poll: Duration,
    pub retry: RetryPolicy,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            batch: 64,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            retry: RetryPolicy::default(),
        }
    }
}

/// Delivers one platform's outbox rows through its adapter.
#[derive(Clone)]
pub struct OutboxWorker {
    hub: Hub,
    adapter: Arc<dyn Deliver>,
    owner: Arc<str>,
    options: WorkerOptions,
}

impl std::fmt::Debug for OutboxWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxWorker")
            .field("platform", &self.adapter.platform())
            .field("owner", &self.owner)
            .finish()
    }
}

/// A leased row, read and ready: either to be sent, or already settled without a send.
enum Prepared {
    Send(OutboxItem, Delivery, Outbound),
    Settle(OutboxItem, Option<Delivery>, Outcome),
}

/// What happened to one row, decided before the outcome is written.
enum Outcome {
    Delivered(Delivered),
    /// Try again after the wait; the bool says whether this attempt counts toward giving up
    /// (a platform's rate limit does not).
    Retry(Duration, String, bool),
    Failed(String),
}

impl OutboxWorker {
    pub fn new(hub: Hub, adapter: Arc<dyn Deliver>, options: WorkerOptions) -> Self {
        let owner = format!("{}-{}", adapter.platform(), uuid::Uuid::new_v4());
        Self {
            hub,
            adapter,
            owner: owner.into(),
            options,
        }
    }

    /// Delivers until `shutdown` is cancelled. Storage errors are logged and retried.
    pub async fn run(self, shutdown: CancellationToken) {
        let platform = self.adapter.platform();
        let wake = self.hub.wakers().for_platform(platform);
        tracing::info!(%platform, "outbox worker started");
        loop {
            let handled = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(%platform, error = %e, "outbox pass failed; retrying");
                    0
                }
            };
            if handled > 0 {
                continue;
            }
            let pause = self.until_next_due().await.min(self.options.poll);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(%platform, "outbox worker stopped");
    }

    async fn until_next_due(&self) -> Duration {
        let due = async {
            let mut tx = self.hub.store().begin().await?;
            tx.next_due(self.adapter.platform()).await
        };
        match due.await {
            Ok(Some(at)) => {
                let wait = at.saturating_sub(self.hub.clock().now_ms()).max(0);
                Duration::from_millis(u64::try_from(wait).unwrap_or(0))
            }
            Ok(None) | Err(_) => self.options.poll,
        }
    }

    /// One pass: leases due rows and delivers them (different lanes concurrently). Returns how
    /// many rows were handled.
    pub async fn run_once(&self) -> Result<usize, OutboxError> {
        let now = self.hub.clock().now_ms();
        let lease_ms = i64::try_from(self.options.lease.as_millis()).unwrap_or(60_000);
        let mut tx = self.hub.store().begin().await?;
        let items = tx
            .lease(
                self.adapter.platform(),
                &self.owner,
                now,
                lease_ms,
                self.options.batch,
            )
            .await?;
        tx.commit().await?;
        let count = items.len();
        let mut tasks = JoinSet::new();
        for prepared in self.prepare(items).await? {
            let worker = self.clone();
            tasks.spawn(async move {
                match prepared {
                    Prepared::Send(item, delivery, outbound) => {
                        worker.send(item, delivery, outbound).await
                    }
                    Prepared::Settle(item, delivery, outcome) => {
                        worker.record(&item, delivery.as_ref(), outcome).await
                    }
                }
            });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "recording a delivery failed");
                    first_error.get_or_insert(e);
                }
                Err(e) => tracing::error!(error = %e, "delivery task panicked"),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    /// Reads what every leased row needs, in one read transaction.
    async fn prepare(&self, items: Vec<OutboxItem>) -> Result<Vec<Prepared>, OutboxError> {
        let mut prepared = Vec::with_capacity(items.len());
        if items.is_empty() {
            return Ok(prepared);
        }
        let mut tx = self.hub.store().begin().await?;
        for item in items {
            let delivery: Delivery = match serde_json::from_str(&item.payload) {
                Ok(d) => d,
                Err(e) => {
                    let why = format!("unreadable payload: {e}");
                    prepared.push(Prepared::Settle(item, None, Outcome::Failed(why)));
                    continue;
                }
            };
            match resolve(&mut tx, &item, &delivery).await {
                Ok(outbound) => prepared.push(Prepared::Send(item, delivery, outbound)),
                Err(Unresolvable::Storage(e)) => return Err(e.into()),
                Err(Unresolvable::Permanent(why)) => {
                    prepared.push(Prepared::Settle(item, Some(delivery), Outcome::Failed(why)));
                }
            }
        }
        tx.rollback().await?;
        Ok(prepared)
    }

    /// Sends one resolved row and records the outcome.
    async fn send(
        &self,
        item: OutboxItem,
        delivery: Delivery,
        outbound: Outbound,
    ) -> Result<(), OutboxError> {
        let key = item.id.to_string();
        let outcome = match self.adapter.deliver_keyed(&key, &outbound).await {
            Ok(delivered) => Outcome::Delivered(delivered),
            Err(DeliveryError::RetryAfter(wait)) => Outcome::Retry(
                self.options.retry.retry_after(wait),
                "rate limited".into(),
                false,
            ),
            Err(DeliveryError::Transient(why))
                if !self.options.retry.gives_up_after(item.attempts) =>
            {
                Outcome::Retry(
                    self.options.retry.delay(item.attempts, &mut rand::rng()),
                    why,
                    true,
                )
            }
            Err(DeliveryError::Transient(why) | DeliveryError::Permanent(why)) => {
                Outcome::Failed(why)
            }
        };
        if let (Outcome::Failed(why), Outbound::CustomerPost { .. }) = (&outcome, &outbound) {
            tracing::warn!(ticket = item.ticket_id, error = %why, "could not deliver to the customer");
        }
        self.record(&item, Some(&delivery), outcome).await
    }

    /// Writes the outcome, and what follows from it, in one transaction.
    async fn record(
        &self,
        item: &OutboxItem,
        delivery: Option<&Delivery>,
        outcome: Outcome,
    ) -> Result<(), OutboxError> {
        let now = self.hub.clock().now_ms();
        let platform = self.adapter.platform();
        let mut tx = self.hub.store().begin().await?;
        let mut follow_ups: Vec<(String, relaydesk_storage::Platform, Delivery)> = Vec::new();
        let ticket_id = item.ticket_id.unwrap_or_default();
        let owned = match outcome {
            Outcome::Delivered(delivered) => {
                let owned = tx
                    .mark_delivered(item.id, &self.owner, delivered.external_ref.as_deref(), now)
                    .await?;
                if owned {
                    match (delivery, delivered.external_ref.as_deref()) {
                        (Some(Delivery::OpenThread), Some(thread)) => {
                            tx.bind_thread(ticket_id, platform, thread, now).await?;
                        }
                        (Some(Delivery::CustomerMessage { message_id }), _) => {
                            let message = tx.message(*message_id).await?;
                            let staff = self
                                .hub
                                .config()
                                .staff_platforms
                                .contains(&message.platform);
                            if staff && message.external_id.is_some() {
                                follow_ups.push((
                                    Delivery::staff_lane(ticket_id, message.platform),
                                    message.platform,
                                    Delivery::ConfirmDelivered {
                                        message_id: *message_id,
                                    },
                                ));
                            }
                        }
                        _ => {}
                    }
                }
                owned
            }
            Outcome::Retry(wait, why, counts) => {
                let at =
                    now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2));
                tracing::debug!(id = item.id, %platform, ?wait, error = %why, "delivery postponed");
                tx.reschedule(item.id, &self.owner, at, &why, counts)
                    .await?
            }
            Outcome::Failed(why) => {
                tracing::warn!(id = item.id, %platform, error = %why, "delivery failed for good");
                let owned = tx.mark_failed(item.id, &self.owner, &why, now).await?;
                if owned
                    && matches!(
                        delivery,
                        Some(Delivery::CustomerMessage { .. } | Delivery::CustomerNotice { .. })
                    )
                {
                    for &staff in &self.hub.config().staff_platforms {
                        follow_ups.push((
                            Delivery::staff_lane(ticket_id, staff),
                            staff,
                            Delivery::StaffNotice {
                                text: format!(
                                    "⚠️ This could not be delivered to the customer: {why}"
                                ),
                            },
                        ));
                    }
                }
                owned
            }
        };
        if !owned {
            tracing::warn!(
                id = item.id,
                "lease lost before the outcome was recorded; another worker has the row"
            );
        }
        for (lane, target, follow_up) in &follow_ups {
            tx.enqueue(
                item.ticket_id,
                lane,
                *target,
                &serde_json::to_string(follow_up)?,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        self.hub
            .wakers()
            .wake(follow_ups.iter().map(|(_, p, _)| *p));
        Ok(())
    }
}
