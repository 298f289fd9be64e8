//! A platform that records what it is asked to send, and fails on demand. It stands in for a
//! chat platform behind the [`Deliver`] trait in tests of the hub and the outbox; channel tests
//! use the loopback HTTP fakes instead.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use relaydesk::hub::{Deliver, Delivered, DeliveryError, Outbound};
use relaydesk_storage::Platform;

#[derive(Debug, Default)]
struct State {
    sent: Vec<Outbound>,
    failures: VecDeque<DeliveryError>,
    next_ref: u64,
}

/// Records every successful send; answers with queued failures first.
#[derive(Debug, Clone)]
pub struct Recorder {
    platform: Platform,
    state: Arc<Mutex<State>>,
}

impl Recorder {
    pub fn new(platform: Platform) -> Self {
        Self {
            platform,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next `errors.len()` sends fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = DeliveryError>) {
        self.state().failures.extend(errors);
    }

    /// Every send that succeeded, in order.
    pub fn sent(&self) -> Vec<Outbound> {
        self.state().sent.clone()
    }

    /// The texts of thread posts and customer posts, in order.
    pub fn texts(&self) -> Vec<String> {
        self.sent()
            .into_iter()
            .filter_map(|o| match o {
                Outbound::ThreadPost { text, .. } | Outbound::ThreadNotice { text, .. } => {
                    Some(text)
                }
                Outbound::CustomerPost { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }

    pub fn as_deliver(&self) -> Arc<dyn Deliver> {
        Arc::new(self.clone())
    }
}

#[async_trait]
impl Deliver for Recorder {
    fn platform(&self) -> Platform {
        self.platform
    }

    async fn deliver(&self, outbound: &Outbound) -> Result<Delivered, DeliveryError> {
        let mut state = self.state();
        if let Some(error) = state.failures.pop_front() {
            return Err(error);
        }
        state.next_ref += 1;
        let external_ref = match outbound {
            Outbound::OpenThread { ticket } => format!("thread-{}", ticket.number),
            _ => format!("msg-{}", state.next_ref),
        };
        state.sent.push(outbound.clone());
        let mut delivered = Delivered::with_ref(external_ref);
        if let Outbound::ThreadPost { card: true, .. } = outbound {
            // Like the real adapters: the card heads the thread's first post.
            delivered.card_ref = delivered.external_ref.clone();
        }
        Ok(delivered)
    }
}

/// A [`Recorder`] plugged into the process as a channel with a staff and a customer side that
/// receives nothing by itself.
#[derive(Debug, Clone)]
pub struct RecordingChannel(pub Recorder);

#[async_trait]
impl relaydesk::channel::Channel for RecordingChannel {
    fn platform(&self) -> Platform {
        self.0.platform
    }

    fn has_staff_side(&self) -> bool {
        true
    }

    fn has_customer_side(&self) -> bool {
        true
    }

    fn deliverer(&self) -> Arc<dyn Deliver> {
        self.0.as_deliver()
    }

    async fn run(
        self: Arc<Self>,
        _hub: relaydesk::Hub,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Result<(), relaydesk::channel::ChannelError> {
        shutdown.cancelled().await;
        Ok(())
    }
}
