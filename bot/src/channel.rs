//! A chat channel (Telegram, Discord, the web widget) as the process sees it: something that
//! receives platform events and hands them to the hub, and delivers the hub's sends.

use std::sync::Arc;

use async_trait::async_trait;
use relaydesk_storage::Platform;
use tokio_util::sync::CancellationToken;

use crate::hub::{Deliver, Hub};

/// Why a channel stopped.
#[derive(Debug, thiserror::Error)]
#[error("{platform} channel: {message}")]
pub struct ChannelError {
    pub platform: Platform,
    pub message: String,
}

/// One enabled channel. `serve` starts its receive loop, one outbox worker for its
/// [`Deliver`] side, and merges its HTTP routes (webhooks) into the web server.
#[async_trait]
pub trait Channel: Send + Sync {
    fn platform(&self) -> Platform;

    /// Whether tickets get a staff thread on this platform.
    fn has_staff_side(&self) -> bool;

    /// Whether customers can write from (and be answered on) this platform.
    fn has_customer_side(&self) -> bool;

    /// The sending side, driven by the outbox worker.
    fn deliverer(&self) -> Arc<dyn Deliver>;

    /// HTTP routes to merge into the web server (e.g. a webhook endpoint).
    fn routes(&self, _hub: Hub) -> Option<axum::Router> {
        None
    }

    /// Receives platform events and ingests them until `shutdown` is cancelled. Must only
    /// acknowledge an event to the platform after the hub committed it.
    async fn run(
        self: Arc<Self>,
        hub: Hub,
        shutdown: CancellationToken,
    ) -> Result<(), ChannelError>;
}
