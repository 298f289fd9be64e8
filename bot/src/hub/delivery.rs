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
    /// Create the ticket's staff thread (topic). The thread is linked to the ticket as soon as
    /// the platform returns it; the ticket card goes out with the thread's first post.
    OpenThread,
    /// Close a second thread opened for a ticket that has one (`thread`), pointing to the
    /// ticket's thread.
    RetireThread { thread: String },
    /// Post a stored message (customer message, agent reply from another platform, note) in the
    /// staff thread.
    StaffMessage { message_id: i64 },
    /// A short system line in the staff thread.
    StaffNotice { text: String },
    /// A system line that notifies agent `agent_id`, whose name `name` stands in `text` right
    /// after `marker` (e.g. "assigned to "): a real mention of them on the thread's platform
    /// when they are linked there, of no one else.
    StaffMention {
        text: String,
        agent_id: i64,
        name: String,
        marker: String,
    },
    /// Bring the thread's title, open/closed state and ticket card in line with the ticket.
    SyncThread,
    /// Bring the ticket card in line with the ticket (its SLA due time moved).
    RefreshCard,
    /// Send a stored agent reply to the customer.
    CustomerMessage { message_id: i64 },
    /// A system text to the customer (acknowledgement, closed notice).
    CustomerNotice { text: String },
    /// An FAQ entry's answer with "That solved it" / "I still need help" buttons.
    CustomerFaq {
        text: String,
        solved_label: String,
        help_label: String,
    },
    /// "How did we do?" with 1–5 buttons, for survey `survey_id`. Goes out only while it is
    /// the ticket's latest survey and the ticket is still closed.
    CustomerSurvey { survey_id: i64, question: String },
    /// After a rating on a chat that has no forms (Telegram): "Anything to add?", answered by
    /// replying to it. Goes out only while survey `survey_id` is current and has no comment.
    CustomerCommentAsk { survey_id: i64, text: String },
    /// Mark an agent's message in the staff thread as delivered to the customer.
    ConfirmDelivered { message_id: i64 },
    /// The closed ticket's transcript as an HTML file in a log channel (`channel`: the
    /// platform's address of it), rendered when it goes out.
    TranscriptFile { channel: String },
    /// A post in a team channel that belongs to no ticket thread (SLA alert, daily summary).
    /// `channel` is the platform's address of it (chat id, `chat:topic`, channel id).
    ChannelPost {
        channel: String,
        text: String,
        /// Someone the post names who should be notified (the assignee of an SLA warning).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mention: Option<Mention>,
    },
}

/// A person a post names and notifies: their user id on the post's platform, and where their
/// name stands in the text. Adapters turn the name into a real mention (Discord `<@id>`,
/// Telegram a `text_mention` entity) that notifies that user and no one else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// The platform's id of the user.
    pub user: String,
    /// The name as it is written in the text.
    pub name: String,
    /// Where the name starts in the text, in characters.
    pub at: usize,
}

impl Mention {
    /// Finds the first `name` in `text` after `after` (a marker such as `Assignee: `) and
    /// records it; `None` when the text does not have it.
    pub fn find(text: &str, after: &str, name: &str, user: &str) -> Option<Self> {
        let needle = format!("{after}{name}");
        let byte = text.find(&needle)? + after.len();
        Some(Self {
            user: user.to_string(),
            name: name.to_string(),
            at: text[..byte].chars().count(),
        })
    }

    /// `text` split around the mentioned name: (before, after). `None` when the name is not
    /// where the mention says.
    pub fn split<'t>(&self, text: &'t str) -> Option<(&'t str, &'t str)> {
        let start = match text.char_indices().nth(self.at) {
            Some((byte, _)) => byte,
            None if text.chars().count() == self.at => text.len(),
            None => return None,
        };
        let rest = text[start..].strip_prefix(self.name.as_str())?;
        Some((&text[..start], rest))
    }
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

    /// Sends that wait for their time (the survey after a close), one lane per ticket and
    /// platform so they hold up nothing else.
    pub fn later_lane(ticket_id: i64, platform: Platform) -> String {
        format!("{ticket_id}:later:{platform}")
    }

    /// The stored message this delivery carries to the customer, if it does.
    pub fn carried_message(&self) -> Option<i64> {
        match self {
            Delivery::CustomerMessage { message_id } => Some(*message_id),
            _ => None,
        }
    }

    /// Delivery marks on a ticket's staff messages: apart from the thread's posts, so they
    /// never wait behind them nor split a run of customer texts that could go out as one.
    pub fn marks_lane(ticket_id: i64, platform: Platform) -> String {
        format!("{ticket_id}:marks:{platform}")
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
    pub team: Option<String>,
    pub tags: Vec<String>,
    /// When the earliest running SLA goal is due; `None` when no policy applies or no goal
    /// is running.
    pub sla_due: Option<chrono::DateTime<chrono::Utc>>,
}

impl TicketView {
    /// `#1042 · Anna K. · printer won't…` (`#1042 [billing] · …` with a team; ✅ in front once
    /// closed), at most `max` characters.
    pub fn title(&self, max: usize) -> String {
        let mark = if self.status.is_active() { "" } else { "✅ " };
        let team = self
            .team
            .as_deref()
            .map(|t| format!(" [{t}]"))
            .unwrap_or_default();
        let full = format!(
            "{mark}#{}{team} · {} · {}",
            self.number, self.customer_name, self.subject
        );
        super::text::truncate_chars(&super::text::visible_line(&full), max)
    }
}

/// The ticket card's message in a staff thread, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRef {
    /// The platform's id of the message.
    pub message: String,
    /// Text that shares the card's message (the ticket's first post), kept when it is redrawn.
    pub tail: Option<String>,
}

/// One send, fully resolved. Text is plain text: adapters must send it without markup parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Create a staff thread for the ticket, nothing more. Returns the thread reference (and,
    /// where creating it posts the card too, as a Discord forum post does, the card's id).
    OpenThread { ticket: TicketView },
    /// Post in a staff thread. `author` is who wrote it (customer or agent name). With `card`,
    /// the ticket card goes out in the same post, first (the thread has none yet).
    ThreadPost {
        thread: String,
        ticket: TicketView,
        author: String,
        internal: bool,
        /// The customer wrote `text`: adapters frame it as a quote (and escape what the
        /// platform would render), so it cannot pass for Relaydesk's own lines.
        customer: bool,
        text: String,
        attachments: Vec<Attachment>,
        card: bool,
    },
    /// Close `thread`, a second thread of a ticket whose thread is `live`, saying so in it.
    RetireThread {
        thread: String,
        live: String,
        ticket: TicketView,
    },
    ThreadNotice {
        thread: String,
        text: String,
        /// Someone the line notifies (an agent who was just given the ticket).
        mention: Option<Mention>,
    },
    /// Rename, close or reopen the thread as the ticket is, and redraw its card (`card`: the
    /// platform's id of the card message, when known).
    SyncThread {
        thread: String,
        ticket: TicketView,
        card: Option<CardRef>,
    },
    /// Redraw the ticket card.
    RefreshCard {
        thread: String,
        card: CardRef,
        ticket: TicketView,
    },
    /// Ask the customer to rate the ticket: `question`, then one button per rating 1–5 whose
    /// press comes back as a [`crate::hub::Rating`] for `survey_id`.
    CustomerSurvey {
        conversation: String,
        survey_id: i64,
        question: String,
    },
    /// Ask for a comment on a rating; a reply to this message is the comment.
    CustomerCommentAsk { conversation: String, text: String },
    /// An FAQ answer with two buttons whose presses come back as a [`crate::hub::FaqPress`]
    /// for `ticket_id`.
    CustomerFaq {
        conversation: String,
        ticket_id: i64,
        text: String,
        solved_label: String,
        help_label: String,
    },
    /// A file in a channel that is no ticket's thread (a transcript in the log channel).
    ChannelFile {
        channel: String,
        file_name: String,
        content: String,
        caption: String,
    },
    /// Send to the customer's conversation.
    CustomerPost {
        conversation: String,
        text: String,
        attachments: Vec<Attachment>,
        /// The agent who wrote it; `None` for the desk's own notices (acknowledgements,
        /// closing notes), which channels that can tell them apart mark as automatic.
        author: Option<String>,
    },
    /// React to (mark) a message in a staff thread: `message_ref` is the platform's id of it.
    MarkDelivered { thread: String, message_ref: String },
    /// Post plain text in a team channel (not a ticket thread), notifying `mention` if any.
    ChannelPost {
        channel: String,
        text: String,
        mention: Option<Mention>,
    },
}

/// A confirmed send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    /// The platform's id of what was created (message id, thread id), if any.
    pub external_ref: Option<String>,
    /// The platform's id of a ticket card message this send posted, if it posted one.
    pub card_ref: Option<String>,
    /// Text this send put in the card's message after the card, if any.
    pub card_tail: Option<String>,
}

impl Delivered {
    /// A send that created `external_ref`.
    pub fn with_ref(external_ref: impl Into<String>) -> Self {
        Self {
            external_ref: Some(external_ref.into()),
            ..Self::default()
        }
    }
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

    /// When the head of a staff lane is a customer's text and more customer texts of the same
    /// author wait right behind it, the outbox may send them as one thread post of at most
    /// this many characters (author line included) instead of one post each. `None` (the
    /// default): one post per row.
    fn coalesce_limit(&self) -> Option<usize> {
        None
    }

    /// The send limits `outbound` falls under, kept in the store for every instance: the
    /// outbox takes a slot of each before the send, and when one has no room yet the row
    /// waits for it in the outbox (its lane waits, other lanes go on). The default: none.
    fn paces(&self, outbound: &Outbound) -> Vec<relaydesk_storage::Pace> {
        let _ = outbound;
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_finds_and_splits_around_the_name() {
        let text = "SLA breached: #7 ⏰\nCustomer: Ana · Assignee: Bö · Priority: high";
        let mention = Mention::find(text, "Assignee: ", "Bö", "42").expect("the name is there");
        assert_eq!(mention.at, text[..text.find("Bö").unwrap()].chars().count());
        assert_eq!(
            mention.split(text),
            Some((
                "SLA breached: #7 ⏰\nCustomer: Ana · Assignee: ",
                " · Priority: high"
            ))
        );
        assert_eq!(mention.split("something else"), None);
        assert_eq!(Mention::find(text, "Assignee: ", "Cy", "42"), None);
    }
}
