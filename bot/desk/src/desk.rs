//! [`Desk`]: what the web server (widget, console, REST API) asks of the helpdesk core.
//!
//! The web reads the store directly, but everything that changes a ticket goes through the
//! hub, which lives in the `relaydesk` crate. That crate implements [`Desk`] on the hub and
//! hands it to the web server, so the web depends on this crate and not on the binary.

use async_trait::async_trait;
use relaydesk_storage::{Attachment, Platform, TicketWatch};
use serde::Serialize;

use crate::{Command, DeskError};

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

/// A customer's answer to something the desk asked them with buttons (a widget prompt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerAnswer {
    /// A rating (1–5) on survey `survey_id`.
    Rating { survey_id: i64, rating: u8 },
    /// "That solved it" (`solved`) or "I still need help" on the FAQ answer of `ticket_id`.
    Faq { ticket_id: i64, solved: bool },
    /// Words added after rating survey `survey_id`.
    Comment { survey_id: i64, text: String },
}

/// The helpdesk core as the web server sees it.
#[async_trait]
pub trait Desk: Send + Sync + 'static {
    /// Stores a customer message (opening or reopening a ticket as needed) and queues what it
    /// causes; returns once committed.
    async fn customer_message(&self, input: CustomerInput) -> Result<CustomerAccepted, DeskError>;

    /// Runs `command` on ticket `ticket_number` as agent `agent_id`, with that agent's stored
    /// role; whether they may is decided inside (see [`crate::access`]).
    async fn execute(
        &self,
        agent_id: i64,
        ticket_number: i64,
        command: Command,
    ) -> Result<CommandOutcome, DeskError>;

    /// Stores `answer` from the customer known on `platform` as `user`; returns what to tell
    /// them (in `language` when theirs is not known). Answers from anyone but the ticket's
    /// customer, on old surveys or twice are answered politely and change nothing.
    async fn customer_answer(
        &self,
        platform: Platform,
        user: &str,
        language: Option<&str>,
        answer: CustomerAnswer,
    ) -> Result<String, DeskError>;

    /// A watch that wakes when one of the tickets added to it changes (new message, command,
    /// status), here or, on PostgreSQL, in another instance.
    fn watch(&self) -> TicketWatch;
}
