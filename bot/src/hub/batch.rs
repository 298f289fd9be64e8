//! Group commit for customer messages. Messages that arrive while a transaction is running
//! wait, and the next transaction takes all of them at once: one commit for many messages,
//! and every caller is answered only after the commit that stored its message.
//!
//! Whoever holds a leader slot drains the queue; every caller takes a slot once after queueing,
//! so every queued message is handled by its own caller or an earlier one.

use std::sync::Mutex;

use tokio::sync::{oneshot, Semaphore};

use super::effects::Effects;
use super::{CustomerMessage, Hub, HubError, Ingested};

/// Most messages in one transaction.
const MAX_BATCH: usize = 128;

type Waiting = (CustomerMessage, oneshot::Sender<Result<Ingested, HubError>>);

#[derive(Debug)]
pub(super) struct Batcher {
    queue: Mutex<Vec<Waiting>>,
    leaders: Semaphore,
}

impl Batcher {
    /// `leaders` transactions may run at once (one for SQLite's single writer, a few for
    /// PostgreSQL).
    pub fn new(leaders: usize) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            leaders: Semaphore::new(leaders.max(1)),
        }
    }

    fn take(&self) -> Vec<Waiting> {
        let mut queue = match self.queue.lock() {
            Ok(queue) => queue,
            Err(poisoned) => poisoned.into_inner(),
        };
        let n = queue.len().min(MAX_BATCH);
        queue.drain(..n).collect()
    }

    pub async fn submit(&self, hub: &Hub, message: CustomerMessage) -> Result<Ingested, HubError> {
        let (answer, answered) = oneshot::channel();
        match self.queue.lock() {
            Ok(mut queue) => queue.push((message, answer)),
            Err(poisoned) => poisoned.into_inner().push((message, answer)),
        }
        {
            let _slot = self
                .leaders
                .acquire()
                .await
                .map_err(|_| HubError::Invalid("the hub is shutting down".into()))?;
            let batch = self.take();
            if !batch.is_empty() {
                hub.ingest_batch(batch).await;
            }
        }
        answered.await.map_err(|_| {
            HubError::Invalid("the message was not stored; please send it again".into())
        })?
    }
}

impl Hub {
    /// Stores a batch in one transaction; if anything in it fails, each message is stored on
    /// its own so one bad message cannot fail the others.
    async fn ingest_batch(&self, batch: Vec<Waiting>) {
        if batch.len() == 1 {
            for (message, answer) in batch {
                let _ = answer.send(self.ingest_customer_alone(&message).await);
            }
            return;
        }
        let together = async {
            let now = self.clock.now_ms();
            let mut tx = self.store.begin().await?;
            let mut effects = Effects::default();
            let mut results = Vec::with_capacity(batch.len());
            for (message, _) in &batch {
                match self
                    .customer_in_tx(&mut tx, message, now, &mut effects)
                    .await?
                {
                    Some(ingested) => results.push(ingested),
                    // A concurrent transaction stored one of them: redo them one by one.
                    None => return Ok(None),
                }
            }
            self.commit(tx, &effects, now).await?;
            Ok::<_, HubError>(Some(results))
        };
        match together.await {
            Ok(Some(results)) => {
                for ((_, answer), result) in batch.into_iter().zip(results) {
                    let _ = answer.send(Ok(result));
                }
            }
            Ok(None) | Err(_) => {
                for (message, answer) in batch {
                    let _ = answer.send(self.ingest_customer_alone(&message).await);
                }
            }
        }
    }
}
