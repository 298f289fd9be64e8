//! The hub: everything that happens to a ticket goes through here, in one transaction each.
//!
//! Adapters translate platform events into [`Inbound`] and call [`Hub::ingest`], or parse a
//! [`Command`] and call [`Hub::execute`]. The hub writes the store and queues [`Delivery`] rows
//! in the outbox; the outbox workers turn them into [`Outbound`] sends through an adapter's
//! [`Deliver`] implementation. The hub knows no platform crate.

mod commands;
mod csat;
mod delivery;
mod effects;
mod error;
mod faq;
mod held;
mod hours;
mod inbound;
mod ingest;
mod notify;
mod post;
mod routing;
mod sla;
pub mod text;
mod together;

use std::sync::Arc;
use std::time::Duration;

use relaydesk_storage::{ChangeFeed, Clock, Platform, Store};

pub use commands::{Actor, CommandReply, TicketRef};
pub use csat::{
    comment_form_id, parse_comment_form, CsatComment, Rated, Rating, MAX_COMMENT_CHARS, RATINGS,
};
pub use delivery::{
    CardRef, Deliver, Delivered, Delivery, DeliveryError, Mention, Outbound, TicketView,
};
pub use error::HubError;
pub use faq::{FaqPress, SELF_SERVED};
pub use inbound::{CustomerMessage, Inbound, Ingested, PlatformUser, StaffMessage, StaffOutcome};
pub use notify::Wakers;
pub use relaydesk_desk::{parse_staff_text, Command, RelayMode, StaffInput};

/// How the hub behaves; built from the configuration.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Platforms with a staff side (a thread per ticket): every ticket is mirrored there.
    pub staff_platforms: Vec<Platform>,
    /// Platforms that can deliver to customers (replies, acknowledgements, close notices).
    pub customer_platforms: Vec<Platform>,
    pub relay_mode: RelayMode,
    /// A customer message after a close reopens the ticket if it closed less than this ago.
    pub reopen_window: Duration,
    /// Longest message text accepted, in bytes; longer is refused, never cut.
    pub max_message_bytes: usize,
    /// SLA policies and teams; empty turns the SLA engine off.
    pub sla: Arc<crate::sla::SlaRules>,
    /// The satisfaction survey after a close; `None` sends none.
    pub csat_delay: Option<Duration>,
    /// Routing rules and teams' assignment; empty routes nothing.
    pub routing: Arc<crate::routing::Routing>,
    /// How long an offered FAQ answer holds a new ticket back from the team.
    pub faq_wait: Duration,
    /// Log channels that get each closed ticket's transcript: (platform, channel address).
    pub transcript_channels: Vec<(Platform, String)>,
    /// The desk's business hours (`[web.business_hours]`) for tickets whose team has none;
    /// `None`: always open.
    pub desk_hours: Option<Arc<relaydesk_storage::sla::Calendar>>,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            staff_platforms: Vec::new(),
            customer_platforms: Vec::new(),
            relay_mode: RelayMode::Implicit,
            reopen_window: Duration::from_secs(7 * 24 * 3600),
            max_message_bytes: 64 * 1024,
            sla: Arc::default(),
            csat_delay: None,
            transcript_channels: Vec::new(),
            faq_wait: Duration::from_secs(120),
            routing: Arc::default(),
            desk_hours: None,
        }
    }
}

/// The hub. Cheap to clone; clones share the store, clock and wakers.
#[derive(Debug, Clone)]
pub struct Hub {
    store: Store,
    clock: Arc<dyn Clock>,
    config: Arc<HubConfig>,
    wakers: Wakers,
    feed: ChangeFeed,
    channels: relaydesk_desk::ChannelHealth,
    /// Customer messages waiting to be stored together (see `together.rs`).
    queue: Arc<together::IngestQueue>,
}

impl Hub {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: HubConfig) -> Self {
        let queue = Arc::new(together::IngestQueue::for_backend(store.backend()));
        Self {
            store,
            clock,
            config: Arc::new(config),
            wakers: Wakers::default(),
            feed: ChangeFeed::default(),
            channels: relaydesk_desk::ChannelHealth::default(),
            queue,
        }
    }

    /// Whether each channel is connected to its platform (set by the channels, shown by
    /// `/readyz`).
    pub fn channel_health(&self) -> &relaydesk_desk::ChannelHealth {
        &self.channels
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Outbox workers wait on these; the hub rings them after a commit that queued work.
    pub fn wakers(&self) -> &Wakers {
        &self.wakers
    }

    /// Live views watch tickets here: woken after each commit of this hub (and its clones)
    /// that changed one, and when another instance reports a change (see `serve`).
    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }
}
