//! Turning a stored [`Delivery`] into the [`Outbound`] send an adapter understands, reading
//! the store as it is now (thread created by an earlier row, current title and state).

use chrono::{DateTime, Utc};
use relaydesk_storage::sla::TicketSla;
use relaydesk_storage::{OutboxItem, Ticket, Tx};

use crate::hub::{Delivery, Outbound, TicketView};

/// Why an outbox row cannot be turned into a send.
#[derive(Debug)]
pub(super) enum Unresolvable {
    /// Will never work (no thread exists, message gone): give up on the row.
    Permanent(String),
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
            .and_then(|sla| next_due(&sla)),
    })
}

/// The earliest due moment among the ticket's running goals (met, paused and idle goals have
/// none), not the due-soon warning moment.
fn next_due(sla: &TicketSla) -> Option<DateTime<Utc>> {
    [sla.first_response, sla.next_response, sla.resolution]
        .iter()
        .filter_map(|due| due.due_at)
        .min()
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

pub(super) async fn resolve(
    tx: &mut Tx,
    item: &OutboxItem,
    delivery: &Delivery,
) -> Result<Outbound, Unresolvable> {
    if let Delivery::ChannelPost { channel, text } = delivery {
        return Ok(Outbound::ChannelPost {
            channel: channel.clone(),
            text: text.clone(),
        });
    }
    let ticket_id = item.ticket_id.ok_or_else(|| {
        Unresolvable::Permanent(format!("outbox row {} names no ticket", item.id))
    })?;
    let ticket = tx.ticket(ticket_id).await?;
    Ok(match delivery {
        // Answered before the ticket is read.
        Delivery::ChannelPost { channel, text } => Outbound::ChannelPost {
            channel: channel.clone(),
            text: text.clone(),
        },
        Delivery::OpenThread => Outbound::OpenThread {
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
            }
        }
        Delivery::StaffNotice { text } => Outbound::ThreadNotice {
            thread: thread(tx, ticket_id, item).await?,
            text: text.clone(),
        },
        Delivery::SyncThread => Outbound::SyncThread {
            thread: thread(tx, ticket_id, item).await?,
            ticket: ticket_view(tx, &ticket).await?,
        },
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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use relaydesk_storage::sla::Due;

    use super::*;

    #[test]
    fn next_due_is_the_earliest_running_goal_not_its_warning() {
        let at = |h| Utc.with_ymd_and_hms(2026, 5, 4, h, 0, 0).unwrap();
        let due = |h| Due {
            warn_at: Some(at(h) - Duration::minutes(30)),
            due_at: Some(at(h)),
        };
        let mut sla = TicketSla {
            first_response: due(14),
            resolution: due(18),
            ..TicketSla::default()
        };
        assert_eq!(next_due(&sla), Some(at(14)));
        // First response met: resolution is next.
        sla.first_response = Due::default();
        assert_eq!(next_due(&sla), Some(at(18)));
        sla.next_response = due(12);
        assert_eq!(next_due(&sla), Some(at(12)));
        assert_eq!(next_due(&TicketSla::default()), None);
    }
}
