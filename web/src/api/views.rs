//! What the API returns: plain JSON shapes with their OpenAPI schemas, made from store rows.

use chrono::{DateTime, Utc};
use relaydesk_storage::{CustomerProfile, Message, ReplyDelivery, TicketPage, TicketRow};
use serde::Serialize;
use utoipa::ToSchema;

/// A ticket as a list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketSummary {
    /// The ticket's number, as agents and customers see it (`#1042`).
    #[schema(example = 1042)]
    pub number: i64,
    pub subject: String,
    /// `open` (waiting on us), `pending` (waiting on the customer), `closed` or `merged`.
    #[schema(example = "open")]
    pub status: String,
    /// `low`, `normal`, `high` or `urgent`.
    #[schema(example = "normal")]
    pub priority: String,
    /// Where the customer wrote from: `telegram`, `discord`, `web` or `api`.
    #[schema(example = "api")]
    pub origin: String,
    pub customer: PersonRef,
    pub assignee: Option<PersonRef>,
    pub team: Option<PersonRef>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The last time anything changed on the ticket.
    pub last_activity_at: DateTime<Utc>,
    /// The earliest due time of the SLA goals whose clocks run.
    pub next_due_at: Option<DateTime<Utc>>,
}

/// A customer, agent or team, by id and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: i64,
    pub name: String,
}

impl From<TicketRow> for TicketSummary {
    fn from(row: TicketRow) -> Self {
        Self {
            number: row.number,
            subject: row.subject,
            status: row.status.to_string(),
            priority: row.priority.to_string(),
            origin: row.origin.to_string(),
            customer: PersonRef {
                id: row.customer_id,
                name: row.customer_name,
            },
            assignee: row
                .assignee_id
                .zip(row.assignee_name)
                .map(|(id, name)| PersonRef { id, name }),
            team: row
                .team_id
                .zip(row.team_name)
                .map(|(id, name)| PersonRef { id, name }),
            tags: row.tags,
            created_at: row.created_at,
            last_activity_at: row.updated_at,
            next_due_at: row.next_due_at,
        }
    }
}

/// A page of tickets.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub tickets: Vec<TicketSummary>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl From<TicketPage> for TicketList {
    fn from(page: TicketPage) -> Self {
        Self {
            tickets: page.tickets.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// A ticket with its whole conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketSummary,
    pub close_reason: Option<String>,
    /// The number of the ticket this one was merged into.
    pub merged_into: Option<i64>,
    /// The number of the ticket this one was split off (`/split`).
    pub split_from: Option<i64>,
    /// The numbers of the tickets split off this one, oldest first.
    pub split_off: Vec<i64>,
    pub customer_profile: CustomerView,
    /// Every message, oldest first, internal notes included.
    pub messages: Vec<MessageView>,
    /// The customer's satisfaction rating of the ticket (the latest close's survey), once
    /// they answered.
    pub csat: Option<CsatView>,
}

/// A satisfaction rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsatView {
    /// 1 (poor) to 5 (excellent).
    #[schema(example = 4, minimum = 1, maximum = 5)]
    pub rating: u8,
    pub rated_at: Option<DateTime<Utc>>,
    /// What the customer added after rating, if anything.
    pub comment: Option<String>,
}

impl CsatView {
    /// The survey's answer; `None` until rated.
    pub fn of(survey: &relaydesk_storage::CsatSurvey) -> Option<Self> {
        survey.rating.map(|rating| Self {
            rating,
            rated_at: survey.rated_at,
            comment: survey.comment.clone(),
        })
    }
}

/// One message of a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// `customer`, `agent` or `system`.
    #[schema(example = "customer")]
    pub author_kind: String,
    pub author_name: String,
    /// Plain text, exactly as written.
    pub body: String,
    /// True for agents' internal notes, which the customer never sees.
    pub internal: bool,
    /// Where it was written: `telegram`, `discord`, `web`, `console` or `api`.
    pub platform: String,
    pub attachments: Vec<AttachmentView>,
    pub created_at: DateTime<Utc>,
    /// For a reply to the customer: how its send stands. Absent for everything else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryView>,
}

/// How the send of a reply to the customer stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// `queued` (not sent yet, or being retried), `sent` or `failed` (given up).
    #[schema(example = "sent")]
    pub state: String,
    /// The customer's channel it goes to.
    pub platform: String,
    /// Why it is not sent: the last error of a retried send, or why it was given up.
    pub reason: Option<String>,
}

impl From<&ReplyDelivery> for DeliveryView {
    fn from(d: &ReplyDelivery) -> Self {
        let (state, reason) = d.state();
        Self {
            state: state.to_string(),
            platform: d.platform.to_string(),
            reason: reason.map(str::to_string),
        }
    }
}

impl MessageView {
    /// The message, with its send's state when `deliveries` has one for it.
    pub fn with_delivery(message: Message, deliveries: &[ReplyDelivery]) -> Self {
        let delivery = deliveries
            .iter()
            .find(|d| d.message_id == message.id)
            .map(DeliveryView::from);
        Self {
            delivery,
            ..message.into()
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    /// `photo`, `document`, `voice`, `video`, `sticker`, `file`, …
    pub kind: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub size: Option<i64>,
    pub url: Option<String>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            author_kind: m.author_kind.to_string(),
            author_name: m.author_name,
            body: m.body,
            internal: m.internal,
            platform: m.platform.to_string(),
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentView {
                    kind: a.kind,
                    file_name: a.file_name,
                    mime_type: a.mime_type,
                    size: a.size,
                    url: a.url,
                })
                .collect(),
            created_at: m.created_at,
            delivery: None,
        }
    }
}

/// A customer and the identities they wrote from.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
    pub identities: Vec<IdentityView>,
}

/// Who a customer is on one platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityView {
    #[schema(example = "telegram")]
    pub platform: String,
    /// The platform's id of the person (for `api`: the integration's customer id).
    pub external_id: String,
    pub name: String,
}

impl From<CustomerProfile> for CustomerView {
    fn from(p: CustomerProfile) -> Self {
        Self {
            id: p.customer.id,
            name: p.customer.display_name,
            email: p.customer.email,
            language: p.customer.language,
            created_at: p.customer.created_at,
            identities: p
                .identities
                .into_iter()
                .map(|i| IdentityView {
                    platform: i.platform.to_string(),
                    external_id: i.external_id,
                    name: i.display_name,
                })
                .collect(),
        }
    }
}

/// What a reply, note or command did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandResult {
    pub ticket_number: i64,
    /// What the helpdesk answers, as the chat would show it (e.g. "Assigned to anna.").
    #[schema(example = "Reply queued.")]
    pub text: String,
    /// The stored message, for replies and notes.
    pub message_id: Option<i64>,
}

/// What happened to a customer message sent through the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedMessage {
    pub ticket: TicketSummary,
    pub message_id: i64,
    /// True when this message opened the ticket.
    pub new_ticket: bool,
    /// True when this `external_id` was sent before: nothing new was stored.
    pub duplicate: bool,
}
