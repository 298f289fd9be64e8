//! The body of an outbound webhook: the event and the ticket as the API shows it.

use chrono::{DateTime, Utc};
use relaydesk_storage::{EventKind, StorageError, Tx, WebhookDelivery};
use serde::Serialize;

use super::views::{CsatView, MessageView, TicketSummary};

/// What a webhook receiver gets, as JSON.
#[derive(Debug, Serialize)]
pub struct EventBody {
    /// The delivery's id, also sent as `Relaydesk-Delivery`: the same on every attempt.
    pub id: String,
    /// `ticket.created`, `ticket.updated`, `message.created`, `ticket.closed` or
    /// `csat.received`; also sent as `Relaydesk-Event`.
    pub event: EventKind,
    /// When the change happened.
    pub created_at: DateTime<Utc>,
    /// The ticket as `GET /api/v1/tickets/{number}` lists it, when the event is first sent.
    pub ticket: TicketSummary,
    /// `message.created`: the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageView>,
    /// `csat.received`: the rating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csat: Option<CsatView>,
}

/// Reads what `delivery` is about and renders its body. `Ok(None)` when the ticket (or the
/// message or survey) is gone.
pub async fn event_body(
    tx: &mut Tx,
    delivery: &WebhookDelivery,
) -> Result<Option<String>, StorageError> {
    let ticket = match tx.ticket(delivery.ticket_id).await {
        Ok(ticket) => ticket,
        Err(StorageError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(row) = tx.ticket_row(ticket.number).await? else {
        return Ok(None);
    };
    let mut body = EventBody {
        id: delivery.delivery.clone(),
        event: delivery.event,
        created_at: delivery.created_at,
        ticket: row.into(),
        message: None,
        csat: None,
    };
    match (delivery.event, delivery.subject_id) {
        (EventKind::MessageCreated, Some(id)) => match tx.message(id).await {
            Ok(message) => body.message = Some(message.into()),
            Err(StorageError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        },
        (EventKind::CsatReceived, Some(id)) => {
            let Some(survey) = tx.csat_survey(id).await? else {
                return Ok(None);
            };
            body.csat = CsatView::of(&survey);
        }
        _ => {}
    }
    serde_json::to_string(&body)
        .map(Some)
        .map_err(|e| StorageError::Corrupt(format!("webhook body: {e}")))
}
