//! The console as a team channel: SLA warnings and daily summaries addressed to a team's
//! `console_channel` are kept in the store and shown on the console's alerts page. The console
//! has no ticket threads (it shows tickets straight from the store) and no customers.

use std::sync::Arc;

use async_trait::async_trait;
use relaydesk_storage::{Clock, Platform, Store};
use tokio_util::sync::CancellationToken;

use crate::channel::{Channel, ChannelError};
use crate::hub::{Deliver, Delivered, DeliveryError, Hub, Outbound};

/// Always on: a team may name the console as its alert channel whatever else is configured.
#[derive(Debug, Clone)]
pub struct ConsoleChannel {
    posts: Arc<ConsolePosts>,
}

impl ConsoleChannel {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            posts: Arc::new(ConsolePosts { store, clock }),
        }
    }
}

/// Stores channel posts for the console.
#[derive(Debug)]
struct ConsolePosts {
    store: Store,
    clock: Arc<dyn Clock>,
}

#[async_trait]
impl Deliver for ConsolePosts {
    fn platform(&self) -> Platform {
        Platform::Console
    }

    async fn deliver(&self, outbound: &Outbound) -> Result<Delivered, DeliveryError> {
        let Outbound::ChannelPost { channel, text, .. } = outbound else {
            return Err(DeliveryError::Permanent(
                "the console has no ticket threads or customers to send to".to_string(),
            ));
        };
        let stored = async {
            let mut tx = self.store.begin().await?;
            let id = tx
                .add_console_post(channel, text, self.clock.now_ms())
                .await?;
            tx.commit().await?;
            Ok::<_, relaydesk_storage::StorageError>(id)
        }
        .await;
        match stored {
            Ok(id) => Ok(Delivered::with_ref(id.to_string())),
            Err(e) => Err(DeliveryError::Transient(format!(
                "could not store a console post: {e}"
            ))),
        }
    }
}

#[async_trait]
impl Channel for ConsoleChannel {
    fn platform(&self) -> Platform {
        Platform::Console
    }

    fn has_staff_side(&self) -> bool {
        false
    }

    fn has_customer_side(&self) -> bool {
        false
    }

    fn deliverer(&self) -> Arc<dyn Deliver> {
        self.posts.clone()
    }

    async fn run(
        self: Arc<Self>,
        _hub: Hub,
        shutdown: CancellationToken,
    ) -> Result<(), ChannelError> {
        // Nothing to receive: agents act through the web console.
        shutdown.cancelled().await;
        Ok(())
    }
}
