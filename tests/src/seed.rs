//! Tickets written straight into a store, for tests that need them at chosen times.

use relaydesk_storage::{AuthorKind, NewMessage, NewTicket, Platform, Priority, Tx};

/// Opens a ticket for customer `who` (their own conversation) at `at`, in `team`, with one
/// message "help" from them; returns the ticket id.
pub async fn ticket_with_message(
    tx: &mut Tx,
    who: &str,
    origin: Platform,
    at: i64,
    team: Option<i64>,
) -> i64 {
    let customer = tx
        .customer_for_identity(origin, who, who, None, at)
        .await
        .expect("customer");
    let ticket = tx
        .open_ticket(
            &NewTicket {
                subject: "help",
                customer_id: customer.id,
                origin,
                conversation: who,
                priority: Priority::Normal,
                team_id: team,
                previous_ticket_id: None,
            },
            at,
        )
        .await
        .expect("open")
        .expect("opened");
    tx.append_message(
        &NewMessage {
            ticket_id: ticket.id,
            author_kind: AuthorKind::Customer,
            customer_id: Some(customer.id),
            agent_id: None,
            author_name: who,
            body: "help",
            attachments: &[],
            internal: false,
            platform: origin,
            external_id: None,
        },
        at,
    )
    .await
    .expect("message");
    ticket.id
}
