//! Turning a stored [`Delivery`] into the [`Outbound`] send an adapter understands, reading
//! the store as it is now (thread created by an earlier row, current title and state).

use relaydesk_storage::{OutboxItem, Ticket, Tx};

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

pub(super) async fn ticket_view(tx: &mut Tx, ticket: &Ticket) -> Result<TicketView, Unresolvable> {
    let customer = tx.customer(ticket.customer_id).await?;
    let assignee = match ticket.assignee_id {
        Some(id) => Some(tx.agent(id).await?.name),
        None => None,
    };
    Ok(TicketView {
        id: ticket.id,
        number: ticket.number,
        subject: ticket.subject.clone(),
        customer_name: customer.display_name,
        origin: ticket.origin,
        status: ticket.status,
        priority: ticket.priority,
        assignee,
        tags: tx.tags(ticket.id).await?,
        sla_due: tx
            .ticket_sla(ticket.id)
            .await?
            .and_then(|sla| card_due(&sla)),
    })
}

async fn thread(tx: &mut Tx, ticket_id: i64, item: &OutboxItem) -> Result<String, Unresolvable> {
    tx.thread_of(ticket_id, item.platform)
        .await?
        .ok_or_else(|| {
            Unresolvable::Permanent(format!(
                "ticket {ticket_id} has no {} staff thread",
                item.platform
            ))
        })
}

/// The ticket card's message in the ticket's thread on the row's platform, when recorded.
async fn card(
    tx: &mut Tx,
    ticket_id: i64,
    item: &OutboxItem,
) -> Result<Option<CardRef>, Unresolvable> {
    Ok(tx
        .thread_card(ticket_id, item.platform)
        .await?
        .map(|(message, tail)| CardRef { message, tail }))
}

pub(super) async fn resolve(
    tx: &mut Tx,
    item: &OutboxItem,
    delivery: &Delivery,
) -> Result<Outbound, Unresolvable> {
    if let Delivery::ChannelPost {
        channel,
        text,
        mention,
    } = delivery
    {
        return Ok(Outbound::ChannelPost {
            channel: channel.clone(),
            text: text.clone(),
            mention: mention.clone(),
        });
    }
    let ticket_id = item.ticket_id.ok_or_else(|| {
        Unresolvable::Permanent(format!("outbox row {} names no ticket", item.id))
    })?;
    let ticket = tx.ticket(ticket_id).await?;
    Ok(match delivery {
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
            if let Some(thread) = tx.thread_of(ticket_id, item.platform).await? {
                return Err(Unresolvable::Moot(format!(
                    "ticket {ticket_id} has its {} thread {thread} already",
                    item.platform
                )));
            }
            Outbound::OpenThread {
                ticket: ticket_view(tx, &ticket).await?,
            }
        }
        Delivery::RetireThread { thread } => Outbound::RetireThread {
            thread: thread.clone(),
            live: self::thread(tx, ticket_id, item).await?,
            ticket: ticket_view(tx, &ticket).await?,
        },
        Delivery::StaffMessage { message_id } => {
            let message = tx.message(*message_id).await?;
            // A merge may have moved the message; it is posted in the thread it was queued for.
            Outbound::ThreadPost {
                thread: thread(tx, ticket_id, item).await?,
                ticket: ticket_view(tx, &ticket).await?,
                author: message.author_name,
                internal: message.internal,
                text: message.body,
                attachments: message.attachments,
                // The thread's first post carries the card (and so does the next one, should
                // posting it have failed).
                card: card(tx, ticket_id, item).await?.is_none(),
            }
        }
        Delivery::StaffNotice { text } => Outbound::ThreadNotice {
            thread: thread(tx, ticket_id, item).await?,
            text: text.clone(),
        },
        Delivery::SyncThread => Outbound::SyncThread {
            thread: thread(tx, ticket_id, item).await?,
            ticket: ticket_view(tx, &ticket).await?,
            card: card(tx, ticket_id, item).await?,
        },
        Delivery::RefreshCard => {
            let thread = thread(tx, ticket_id, item).await.map_err(|e| match e {
                Unresolvable::Permanent(why) => Unresolvable::Moot(why),
                other => other,
            })?;
            let card = card(tx, ticket_id, item).await?.ok_or_else(|| {
                Unresolvable::Moot(format!(
                    "ticket {ticket_id} has no {} card on record",
                    item.platform
                ))
            })?;
            Outbound::RefreshCard {
                thread,
                card,
                ticket: ticket_view(tx, &ticket).await?,
            }
        }
        Delivery::CustomerMessage { message_id } => {
            let message = tx.message(*message_id).await?;
            Outbound::CustomerPost {
                conversation: ticket.conversation,
                text: message.body,
                attachments: message.attachments,
            }
        }
        Delivery::CustomerNotice { text } => Outbound::CustomerPost {
            conversation: ticket.conversation,
            text: text.clone(),
            attachments: Vec::new(),
        },
        Delivery::ConfirmDelivered { message_id } => {
            let message = tx.message(*message_id).await?;
            let message_ref = message.external_id.ok_or_else(|| {
                Unresolvable::Permanent(format!("message {message_id} has no platform id"))
            })?;
            Outbound::MarkDelivered {
                thread: thread(tx, ticket_id, item).await?,
                message_ref,
            }
        }
    })
}
