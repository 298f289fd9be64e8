//! What the web server asks of the helpdesk core.
//!
//! The widget, the console and the REST API read the store directly, but everything that
//! changes a ticket goes through the hub, which lives in the `relaydesk` crate (it depends on
//! this one, not the other way round). [`Desk`] is that door: the process implements it on the
//! hub and hands it to [`crate::AppState`].

use async_trait::async_trait;
use relaydesk_storage::{Attachment, Platform, TicketWatch};
use serde::Serialize;

/// A customer wrote to us through the web (widget visitor, REST integration).
#[derive(Debug, Clone)]
pub struct CustomerInput {
    /// [`Platform::Web`] for the widget, [`Platform::Api`] for an integration.
    pub platform: Platform,
    /// Unique per message on `platform`; the same id twice is one message (idempotent resend).
    pub external_message_id: Option<String>,
    /// The customer's id on `platform` (widget visitor id, integration's user id).
    pub customer_external_id: String,
    pub display_name: String,
    pub language: Option<String>,
    /// Where answers go: the widget session, or the integration's conversation id.
    pub conversation: String,
    pub subject: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

/// What happened to a [`CustomerInput`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerAccepted {
    pub ticket_id: i64,
    pub ticket_number: i64,
    /// The stored message (the earlier copy when `duplicate`).
    pub message_id: i64,
    pub new_ticket: bool,
    pub duplicate: bool,
}

/// What a command did, for whoever ran it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandOutcome {
    pub ticket_number: i64,
    /// The reply the chat adapters would post (e.g. "Assigned to anna.").
    pub text: String,
    /// For replies and notes: the stored message.
    pub message_id: Option<i64>,
}

/// Why the desk refused or failed. Maps onto HTTP statuses in the web layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    /// The actor may not do this (e.g. `/merge` by a non-admin).
    #[error("{0}")]
    Forbidden(String),
    /// No such ticket, agent or customer.
    #[error("{0}")]
    NotFound(String),
    /// The input makes no sense (unknown command, missing argument).
    #[error("{0}")]
    Invalid(String),
    /// The ticket's state does not allow it (merging a closed ticket).
    #[error("{0}")]
    Conflict(String),
    #[error("message too large: {size} bytes, at most {limit}")]
    TooLarge { size: usize, limit: usize },
    /// Something broke inside; logged where it happened, never shown in detail.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The helpdesk core as the web server sees it.
#[async_trait]
pub trait Desk: Send + Sync + 'static {
    /// Stores a customer message (opening or reopening a ticket as needed) and queues what it
    /// causes; returns once committed.
    async fn customer_message(&self, input: CustomerInput) -> Result<CustomerAccepted, DeskError>;

    /// Runs chat-grammar `input` on ticket `ticket_number` as agent `agent_id`: `/close done`,
    /// `/assign anna`, `/note text`; text without a leading `/` is a reply to the customer.
    async fn agent_command(
        &self,
        agent_id: i64,
        ticket_number: i64,
        input: &str,
    ) -> Result<CommandOutcome, DeskError>;

    /// A watch that wakes when one of the tickets added to it changes (new message, command,
    /// status), here or, on PostgreSQL, in another instance.
    fn watch(&self) -> TicketWatch;
}
