//! Turning a stored [`Delivery`] into the [`Outbound`] send an adapter understands, reading
//! the store as it is now (thread created by an earlier row, current title and state).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use relaydesk_storage::{DeliveryContext, Message, OutboxItem, Platform, TicketStatus, Tx};

use relaydesk_web::transcript::{Audience, Format, Transcript};

use crate::hub::{CardRef, Delivery, Outbound, TicketView};
use crate::sla::card_due;

/// Why an outbox row cannot be turned into a send.
#[derive(Debug)]
pub(super) enum Unresolvable {
    /// Will never work (no thread exists, message gone): give up on the row.
    Permanent(String),
    /// Nothing to send any more (a card to redraw that was never posted): settled as done.
    Moot(String),
    Storage(relaydesk_storage::StorageError),
}

impl From<relaydesk_storage::StorageError> for Unresolvable {
    fn from(e: relaydesk_storage::StorageError) -> Self {
        Unresolvable::Storage(e)
    }
}

fn ticket_view(context: &DeliveryContext) -> TicketView {
    let ticket = &context.ticket;
    TicketView {
        id: ticket.id,
        number: ticket.number,
        subject: ticket.subject.clone(),
        customer_name: context.customer_name.clone(),
        origin: ticket.origin,
        status: ticket.status,
        priority: ticket.priority,
        assignee: context.assignee_name.clone(),
        team: context.team_name.clone(),
        tags: context.tags.clone(),
        sla_due: context.sla.as_ref().and_then(card_due),
    }
}

fn thread(context: &DeliveryContext, item: &OutboxItem) -> Result<String, Unresolvable> {
    context.thread.clone().ok_or_else(|| {
        Unresolvable::Permanent(format!(
            "ticket {} has no {} staff thread",
            context.ticket.id, item.platform
        ))
    })
}

/// The ticket card's message in the ticket's thread on the row's platform, when recorded.
fn card(context: &DeliveryContext) -> Option<CardRef> {
    context
        .card
        .clone()
        .map(|(message, tail)| CardRef { message, tail })
}

/// What a pass's rows need, read for all of them at once (one statement each instead of one
/// per row). A row whose ticket or message is not here reads it itself.
#[derive(Debug, Default)]
pub(super) struct Prefetched {
    contexts: HashMap<i64, DeliveryContext>,
    messages: HashMap<i64, Message>,
}

impl Prefetched {
    /// Reads the tickets and messages that `rows` name, in `tx`.
    pub async fn read(
        tx: &mut Tx,
        rows: &[(&OutboxItem, &Delivery)],
    ) -> Result<Self, relaydesk_storage::StorageError> {
        let mut contexts = HashMap::new();
        let mut by_platform: BTreeMap<Platform, BTreeSet<i64>> = BTreeMap::new();
        for (item, _) in rows {
            if let Some(ticket_id) = item.ticket_id {
                by_platform
                    .entry(item.platform)
                    .or_default()
                    .insert(ticket_id);
            }
        }
        for (platform, ids) in by_platform {
            let ids: Vec<i64> = ids.into_iter().collect();
            contexts.extend(tx.delivery_contexts(&ids, platform).await?);
        }
        let message_ids: BTreeSet<i64> = rows
            .iter()
            .filter_map(|(_, delivery)| named_message(delivery))
            .collect();
        let message_ids: Vec<i64> = message_ids.into_iter().collect();
        let messages = tx.messages_by_id(&message_ids).await?;
        Ok(Self { contexts, messages })
    }

    async fn context(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        platform: Platform,
    ) -> Result<DeliveryContext, relaydesk_storage::StorageError> {
        match self.contexts.get(&ticket_id) {
            Some(context) => Ok(context.clone()),
            None => tx.delivery_context(ticket_id, platform).await,
        }
    }

    async fn message(
        &self,
        tx: &mut Tx,
        id: i64,
    ) -> Result<Message, relaydesk_storage::StorageError> {
        match self.messages.get(&id) {
            Some(message) => Ok(message.clone()),
            None => tx.message(id).await,
        }
    }
}

/// The stored message a delivery names, if any.
fn named_message(delivery: &Delivery) -> Option<i64> {
    match delivery {
        Delivery::StaffMessage { message_id }
        | Delivery::CustomerMessage { message_id }
        | Delivery::ConfirmDelivered { message_id } => Some(*message_id),
        _ => None,
    }
}

/// A send ready to go, and the number of the ticket it is about (for logs).
pub(super) struct Resolved {
    pub outbound: Outbound,
    pub ticket_number: Option<i64>,
}

/// Reads what the row needs (the ticket and its thread in one query, a message if it names
/// one) and builds the send.
pub(super) async fn resolve(
    tx: &mut Tx,
    known: &Prefetched,
    item: &OutboxItem,
    delivery: &Delivery,
) -> Result<Resolved, Unresolvable> {
    if let Delivery::ChannelPost {
        channel,
        text,
        mention,
    } = delivery
    {
        return Ok(Resolved {
            outbound: Outbound::ChannelPost {
                channel: channel.clone(),
                text: text.clone(),
                mention: mention.clone(),
            },
            ticket_number: None,
        });
    }
    let ticket_id = item.ticket_id.ok_or_else(|| {
        Unresolvable::Permanent(format!("outbox row {} names no ticket", item.id))
    })?;
    let context = known.context(tx, ticket_id, item.platform).await?;
    let ticket = &context.ticket;
    let outbound = match delivery {
        // Answered before the ticket is read.
        Delivery::ChannelPost {
            channel,
            text,
            mention,
        } => Outbound::ChannelPost {
            channel: channel.clone(),
            text: text.clone(),
            mention: mention.clone(),
        },
        Delivery::OpenThread => {
            // A retry after the thread was linked (by this row's earlier try or another
            // instance's) must not open a second one.
            if let Some(thread) = &context.thread {
                return Err(Unresolvable::Moot(format!(
                    "ticket {ticket_id} has its {} thread {thread} already",
                    item.platform
                )));
            }
            Outbound::OpenThread {
                ticket: ticket_view(&context),
            }
        }
        Delivery::RetireThread { thread } => Outbound::RetireThread {
            thread: thread.clone(),
            live: self::thread(&context, item)?,
            ticket: ticket_view(&context),
        },
        Delivery::StaffMessage { message_id } => {
            let message = known.message(tx, *message_id).await?;
            // A merge may have moved the message; it is posted in the thread it was queued for.
            Outbound::ThreadPost {
                thread: thread(&context, item)?,
                ticket: ticket_view(&context),
                author: message.author_name,
                internal: message.internal,
                customer: message.author_kind == relaydesk_storage::AuthorKind::Customer,
                text: message.body,
                attachments: message.attachments,
                // The thread's first post carries the card (and so does the next one, should
                // posting it have failed).
                card: card(&context).is_none(),
            }
        }
        Delivery::StaffNotice { text } => Outbound::ThreadNotice {
            thread: thread(&context, item)?,
            text: text.clone(),
            mention: None,
        },
        Delivery::StaffMention {
            text,
            agent_id,
            name,
            marker,
        } => {
            let mention = tx
                .agent_user_on(*agent_id, item.platform)
                .await?
                .and_then(|user| crate::hub::Mention::find(text, marker, name, &user));
            Outbound::ThreadNotice {
                thread: thread(&context, item)?,
                text: text.clone(),
                mention,
            }
        }
        Delivery::SyncThread => Outbound::SyncThread {
            thread: thread(&context, item)?,
            ticket: ticket_view(&context),
            card: card(&context),
        },
        Delivery::RefreshCard => {
            let thread = thread(&context, item).map_err(|e| match e {
                Unresolvable::Permanent(why) => Unresolvable::Moot(why),
                other => other,
            })?;
            let card = card(&context).ok_or_else(|| {
                Unresolvable::Moot(format!(
                    "ticket {ticket_id} has no {} card on record",
                    item.platform
                ))
            })?;
            Outbound::RefreshCard {
                thread,
                card,
                ticket: ticket_view(&context),
            }
        }
        Delivery::CustomerMessage { message_id } => {
            let message = known.message(tx, *message_id).await?;
            Outbound::CustomerPost {
                conversation: ticket.conversation.clone(),
                text: message.body,
                attachments: message.attachments,
                author: Some(message.author_name),
            }
        }
        Delivery::CustomerNotice { text } => Outbound::CustomerPost {
            conversation: ticket.conversation.clone(),
            text: text.clone(),
            attachments: Vec::new(),
            author: None,
        },
        Delivery::CustomerSurvey {
            survey_id,
            question,
        } => {
            let latest = tx.latest_csat_survey(ticket.id).await?.map(|s| s.id);
            if latest != Some(*survey_id) || ticket.status != TicketStatus::Closed {
                return Err(Unresolvable::Moot(format!(
                    "survey {survey_id} of ticket {} is no longer current",
                    ticket.number
                )));
            }
            Outbound::CustomerSurvey {
                conversation: ticket.conversation.clone(),
                survey_id: *survey_id,
                question: question.clone(),
            }
        }
        Delivery::CustomerCommentAsk { survey_id, text } => {
            let survey = tx.latest_csat_survey(ticket.id).await?;
            if survey
                .as_ref()
                .is_none_or(|s| s.id != *survey_id || s.comment.is_some())
            {
                return Err(Unresolvable::Moot(format!(
                    "survey {survey_id} of ticket {} is no longer waiting for a comment",
                    ticket.number
                )));
            }
            Outbound::CustomerCommentAsk {
                conversation: ticket.conversation.clone(),
                text: text.clone(),
            }
        }
        Delivery::CustomerFaq {
            text,
            solved_label,
            help_label,
        } => Outbound::CustomerFaq {
            conversation: ticket.conversation.clone(),
            ticket_id: ticket.id,
            text: text.clone(),
            solved_label: solved_label.clone(),
            help_label: help_label.clone(),
        },
        Delivery::TranscriptFile { channel } => {
            let transcript = Transcript {
                ticket: ticket.clone(),
                customer_name: context.customer_name.clone(),
                messages: tx.messages(ticket.id).await?,
            };
            Outbound::ChannelFile {
                channel: channel.clone(),
                file_name: Format::Html.file_name(ticket.number),
                content: transcript.html(Audience::Staff),
                caption: format!(
                    "📄 Transcript of #{} · {} · {} ({})",
                    ticket.number, context.customer_name, ticket.subject, ticket.status
                ),
            }
        }
        Delivery::ConfirmDelivered { message_id } => {
            let message = known.message(tx, *message_id).await?;
            let message_ref = message.external_id.ok_or_else(|| {
                Unresolvable::Permanent(format!("message {message_id} has no platform id"))
            })?;
            Outbound::MarkDelivered {
                thread: thread(&context, item)?,
                message_ref,
            }
        }
    };
    Ok(Resolved {
        outbound,
        ticket_number: Some(ticket.number),
    })
}
