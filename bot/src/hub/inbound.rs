//! What adapters hand to the hub.

use relaydesk_storage::{Attachment, Platform, Role};
use serde::{Deserialize, Serialize};

use super::CommandReply;

/// A person on a platform, as the platform describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformUser {
    pub external_id: String,
    pub display_name: String,
    /// BCP 47-ish language code the platform reports (`de`, `en-US`), if any.
    pub language: Option<String>,
}

/// A customer wrote to us.
#[derive(Debug, Clone)]
pub struct CustomerMessage {
    pub platform: Platform,
    /// The platform's message id; the same id stored twice is one message.
    pub external_message_id: Option<String>,
    pub customer: PlatformUser,
    /// Where to answer: the platform's address of this conversation (chat id, DM channel,
    /// private thread, widget session).
    pub conversation: String,
    /// A subject the customer gave explicitly (panel form, `/ticket subject`).
    pub subject: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

/// An agent wrote in a ticket's staff thread. Serialisable: a post in a thread not yet linked
/// to its ticket is kept as it came until the link commits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffMessage {
    pub platform: Platform,
    pub external_message_id: Option<String>,
    pub thread_ref: String,
    pub agent: PlatformUser,
    /// What the platform says about this person (e.g. staff group administrator → admin).
    pub role: Role,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone)]
pub enum Inbound {
    Customer(CustomerMessage),
    Staff(StaffMessage),
}

/// What [`super::Hub::ingest`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// This platform message was stored before; nothing changed.
    Duplicate,
    Customer {
        ticket_id: i64,
        ticket_number: i64,
        message_id: i64,
        new_ticket: bool,
        reopened: bool,
    },
    Staff(StaffOutcome),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffOutcome {
    /// Queued to the customer.
    Relayed { ticket_number: i64, message_id: i64 },
    /// Stored as an internal note.
    Noted { ticket_number: i64, message_id: i64 },
    /// A command ran; tell the agent this.
    Command(CommandReply),
    /// The thread is not a ticket thread; the message was not stored.
    NotATicketThread,
    /// The thread is not linked to a ticket yet (it may have been created a moment ago): the
    /// post is kept and ingested when the link commits.
    Held,
}
