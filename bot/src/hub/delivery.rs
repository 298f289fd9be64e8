//! What the hub owes a platform ([`Delivery`], stored in the outbox) and what an adapter is
//! asked to send ([`Outbound`], resolved from the store when the row is delivered).

use std::time::Duration;

use async_trait::async_trait;
use relaydesk_storage::{Attachment, Platform, Priority, TicketStatus};
use serde::{Deserialize, Serialize};

/// An outbox payload. It names stored things by id; the worker reads them when it delivers,
/// so a thread created by an earlier row of the same lane is known by then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// Create the ticket's staff thread (topic) with its ticket card.
    OpenThread,
    /// Post a stored message (customer message, agent reply from another platform, note) in the
    /// staff thread.
    StaffMessage { message_id: i64 },
    /// A short system line in the staff thread.
    StaffNotice { text: String },
    /// Bring the thread's title and open/closed state in line with the ticket.
    SyncThread,
    /// Send a stored agent reply to the customer.
    CustomerMessage { message_id: i64 },
    /// A system text to the customer (acknowledgement, closed notice).
    CustomerNotice { text: String },
    /// Mark an agent's message in the staff thread as delivered to the customer.
    ConfirmDelivered { message_id: i64 },
    /// A post in a team channel that belongs to no ticket thread (SLA alert, daily summary).
    /// `channel` is the platform's address of it (chat id, `chat:topic`, channel id).
    ChannelPost { channel: String, text: String },
}

impl Delivery {
    /// Outbox lanes: rows of one lane go out strictly in order, one at a time.
    pub fn staff_lane(ticket_id: i64, platform: Platform) -> String {
        format!("{ticket_id}:staff:{platform}")
    }

    pub fn customer_lane(ticket_id: i64, platform: Platform) -> String {
        format!("{ticket_id}:customer:{platform}")
    }

    pub fn channel_lane(platform: Platform, channel: &str) -> String {
        format!("channel:{platform}:{channel}")
    }
}

/// What a ticket card and thread title show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketView {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub customer_name: String,
    pub origin: Platform,
    pub status: TicketStatus,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    /// When the earliest running SLA goal is due; `None` when no policy applies or no goal
    /// is running.
    pub sla_due: Option<chrono::DateTime<chrono::Utc>>,
}

impl TicketView {
    /// `#1042 · Anna K. · printer won't…` (with ✅ in front once closed), at most `max` characters.
    pub fn title(&self, max: usize) -> String {
        let mark = if self.status.is_active() { "" } else { "✅ " };
        let full = format!(
            "{mark}#{} · {} · {}",
            self.number, self.customer_name, self.subject
        );
        super::text::truncate_chars(&full, max)
    }
}

/// One send, fully resolved. Text is plain text: adapters must send it without markup parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Create a staff thread for the ticket and post its card. Returns the thread reference.
    OpenThread {
        ticket: TicketView,
    },
    /// Post in a staff thread. `author` is who wrote it (customer or agent name).
    ThreadPost {
        thread: String,
        ticket: TicketView,
        author: String,
        internal: bool,
        text: String,
        attachments: Vec<Attachment>,
    },
    ThreadNotice {
        thread: String,
        text: String,
    },
    SyncThread {
        thread: String,
        ticket: TicketView,
    },
    /// Send to the customer's conversation.
    CustomerPost {
        conversation: String,
        text: String,
        attachments: Vec<Attachment>,
    },
    /// React to (mark) a message in a staff thread: `message_ref` is the platform's id of it.
    MarkDelivered {
        thread: String,
        message_ref: String,
    },
    /// Post plain text in a team channel (not a ticket thread).
    ChannelPost {
        channel: String,
        text: String,
    },
}

/// A confirmed send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    /// The platform's id of what was created (message id, thread id), if any.
    pub external_ref: Option<String>,
}

/// Why a send did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The platform asked us to wait (HTTP 429 `retry_after`).
    #[error("rate limited, retry after {0:?}")]
    RetryAfter(Duration),
    /// Worth trying again later (5xx, timeout, connection lost).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Will never work (bot blocked, chat gone, bad request).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Implemented by each platform adapter.
#[async_trait]
pub trait Deliver: Send + Sync {
    fn platform(&self) -> Platform;
    async fn deliver(&self, outbound: &Outbound) -> Result<Delivered, DeliveryError>;

    /// [`Deliver::deliver`] with `key`, the same for every attempt of one outbox row and
    /// different between rows, so a platform that can deduplicate sends (Discord's message
    /// nonce) never posts a retried row twice. The default ignores the key.
    async fn deliver_keyed(
        &self,
        key: &str,
        outbound: &Outbound,
    ) -> Result<Delivered, DeliveryError> {
        let _ = key;
        self.deliver(outbound).await
    }
}
