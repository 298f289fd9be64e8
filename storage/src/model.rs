//! Domain types of the ticket store. Pure data: no SQL, no platform types.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StorageError;

/// Generates `as_str`, `Display` and `FromStr` for a plain enum stored as text.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StorageError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err(StorageError::Corrupt(format!(
                        concat!("`{}` is not a valid ", stringify!($name)), other
                    ))),
                }
            }
        }
    };
}

/// Where a message came from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Telegram,
    Discord,
    Web,
    Console,
    Api,
    Email,
}
text_enum!(Platform { Telegram => "telegram", Discord => "discord", Web => "web", Console => "console", Api => "api", Email => "email" });

/// `open` = waiting on us, `pending` = waiting on the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    Open,
    Pending,
    Closed,
    Merged,
}
text_enum!(TicketStatus { Open => "open", Pending => "pending", Closed => "closed", Merged => "merged" });

impl TicketStatus {
    /// Open or pending: the conversation is still going on.
    pub fn is_active(self) -> bool {
        matches!(self, TicketStatus::Open | TicketStatus::Pending)
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}
text_enum!(Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Admin,
}
text_enum!(Role { Agent => "agent", Admin => "admin" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorKind {
    Customer,
    Agent,
    System,
}
text_enum!(AuthorKind { Customer => "customer", Agent => "agent", System => "system" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    Pending,
    Delivered,
    Failed,
}
text_enum!(OutboxStatus { Pending => "pending", Delivered => "delivered", Failed => "failed" });

/// What happened to a ticket, as outbound webhooks name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "ticket.created")]
    TicketCreated,
    #[serde(rename = "ticket.updated")]
    TicketUpdated,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "ticket.closed")]
    TicketClosed,
    #[serde(rename = "csat.received")]
    CsatReceived,
}
text_enum!(EventKind {
    TicketCreated => "ticket.created",
    TicketUpdated => "ticket.updated",
    MessageCreated => "message.created",
    TicketClosed => "ticket.closed",
    CsatReceived => "csat.received",
});

/// One event of a transaction: what happened, to which ticket, and the message or survey it
/// is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketEvent {
    pub kind: EventKind,
    pub ticket_id: i64,
    /// The message (`message.created`) or survey (`csat.received`) the event is about.
    pub subject_id: Option<i64>,
    /// An internal note (`message.created` only): sent only to endpoints that ask for notes.
    pub internal: bool,
}

/// A webhook's send of one event, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub endpoint: String,
    pub event: EventKind,
    pub ticket_id: i64,
    /// The message or survey the event is about.
    pub subject_id: Option<i64>,
    /// The id the receiver sees (`Relaydesk-Delivery`), the same on every attempt.
    pub delivery: String,
    pub status: OutboxStatus,
    /// Attempts so far (this one included, for a leased row).
    pub attempts: i64,
    /// The body fixed at the first attempt.
    pub body: Option<String>,
    pub response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The ticket's number (in listings; `None` on a leased delivery).
    pub ticket_number: Option<i64>,
}

/// A file that came with a message. The bytes stay on the platform (or in the web store);
/// we keep what is needed to show or forward it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// `photo`, `document`, `voice`, `video`, `sticker`, `file`, …
    pub kind: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub size: Option<i64>,
    /// The platform's own handle (Telegram `file_id`, Discord attachment id).
    pub platform_ref: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: i64,
    pub display_name: String,
    pub email: Option<String>,
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub on_duty: bool,
    /// May not sign in, use API tokens or run commands.
    pub disabled: bool,
    /// Must choose a new console password before anything else (it was set by an admin).
    pub must_change_password: bool,
}

/// An agent with what console sign-in needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCredentials {
    pub agent: Agent,
    /// argon2 PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
}

/// How many failed sign-ins lock what, and for how long. Failures older than the lock's
/// length are forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    /// One email from one client address.
    pub per_pair: i64,
    /// One email from any address: the guard against guessing from many addresses.
    pub per_email: i64,
    /// One client address, any email: the guard against trying many accounts.
    pub per_address: i64,
    pub lock_ms: i64,
}

/// A satisfaction survey sent when a ticket closed, and the customer's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsatSurvey {
    pub id: i64,
    pub ticket_id: i64,
    pub created_at: DateTime<Utc>,
    /// 1 (bad) to 5 (great); `None` until the customer answers.
    pub rating: Option<u8>,
    pub rated_at: Option<DateTime<Utc>>,
    /// What the customer added after rating, if anything.
    pub comment: Option<String>,
    pub commented_at: Option<DateTime<Utc>>,
}

/// One text of an FAQ entry: offered to a new ticket whose first message has its keywords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaqEntry {
    /// Lower-case word naming it (`refund-policy`).
    pub name: String,
    /// The customer language this text is for; `None` for every language without its own.
    pub language: Option<String>,
    /// Lower-case words or phrases; a first message with any of them (as whole words) matches.
    pub keywords: Vec<String>,
    pub question: String,
    pub answer: String,
    pub updated_at: DateTime<Utc>,
}

/// The FAQ answer a ticket was offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaqOffer {
    pub ticket_id: i64,
    pub faq_name: String,
    /// `None` while waiting; `solved` or `escalated` once the customer said.
    pub outcome: Option<String>,
}

/// One text of a canned reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CannedReply {
    /// What agents type after `/canned`: lower case, letters, digits, `-` and `_`.
    pub name: String,
    /// The customer language this text is for; `None` for every language without its own.
    pub language: Option<String>,
    pub text: String,
    pub updated_at: DateTime<Utc>,
}

/// A post in a console channel (SLA warning, daily summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsolePost {
    pub id: i64,
    pub channel: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// A REST API token (its secret is never stored, only a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The agent the token acts as.
    pub agent_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub customer_id: i64,
    pub origin: Platform,
    /// Platform-specific address of the customer conversation (chat id, DM channel, session).
    pub conversation: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub merged_into: Option<i64>,
    pub previous_ticket_id: Option<i64>,
    pub close_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_agent_reply_at: Option<DateTime<Utc>>,
    pub last_customer_message_at: Option<DateTime<Utc>>,
    pub last_agent_reply_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The ticket this one was split off (`/split`).
    pub split_from: Option<i64>,
    /// How many tickets were merged into this one.
    pub merges: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i64,
    pub ticket_id: i64,
    pub author_kind: AuthorKind,
    pub customer_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub internal: bool,
    pub platform: Platform,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What to write when a message is appended.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub ticket_id: i64,
    pub author_kind: AuthorKind,
    pub customer_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub author_name: &'a str,
    pub body: &'a str,
    pub attachments: &'a [Attachment],
    pub internal: bool,
    pub platform: Platform,
    pub external_id: Option<&'a str>,
}

/// What to write when a ticket is opened.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub subject: &'a str,
    pub customer_id: i64,
    pub origin: Platform,
    pub conversation: &'a str,
    pub priority: Priority,
    pub team_id: Option<i64>,
    pub previous_ticket_id: Option<i64>,
}

/// An outbox row handed to a delivery worker under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub lane: String,
    pub platform: Platform,
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// An outbox row as stored, for inspection (tests, console, metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub lane: String,
    pub platform: Platform,
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub external_ref: Option<String>,
    pub last_error: Option<String>,
}

/// Where a message to the customer stands: queued (`Pending`, with the last error of a try
/// that will be repeated), sent (`Delivered`) or given up (`Failed`, with why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyDelivery {
    pub message_id: i64,
    pub platform: Platform,
    pub status: OutboxStatus,
    pub last_error: Option<String>,
}

impl ReplyDelivery {
    /// `queued`, `sent` or `failed`, and why when it is not sent (the last error of a send
    /// that will be tried again, or the reason it was given up).
    pub fn state(&self) -> (&'static str, Option<&str>) {
        let why = self.last_error.as_deref().filter(|e| !e.is_empty());
        match self.status {
            OutboxStatus::Pending => ("queued", why),
            OutboxStatus::Delivered => ("sent", None),
            OutboxStatus::Failed => ("failed", why),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_round_trip_and_reject_garbage() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), *p);
        }
        for p in Priority::ALL {
            assert_eq!(p.to_string().parse::<Priority>().unwrap(), *p);
        }
        assert_eq!(" URGENT ".parse::<Priority>().unwrap(), Priority::Urgent);
        assert!("sometime".parse::<Priority>().is_err());
        assert!(TicketStatus::Pending.is_active());
        assert!(!TicketStatus::Merged.is_active());
    }
}
