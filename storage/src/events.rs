//! Ticket events for outbound webhooks. A transaction records what it did to tickets as
//! [`TicketEvent`]s; on commit it writes one `webhook_deliveries` row per event and endpoint
//! that hears it, so an event exists exactly when its change does (see `tx/webhooks.rs`).

use std::collections::BTreeSet;
use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::Notify;

use crate::{EventKind, TicketEvent};

/// One endpoint's interest: the events it hears and whether internal notes reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The endpoint's name, stored on its rows.
    pub endpoint: String,
    pub events: BTreeSet<EventKind>,
    pub include_notes: bool,
}

impl Subscription {
    pub fn hears(&self, event: &TicketEvent) -> bool {
        self.events.contains(&event.kind) && (self.include_notes || !event.internal)
    }
}

/// The endpoints every transaction of a store writes events for, and the signal that new
/// rows are due. Shared by every clone of the store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subscriptions {
    current: Arc<RwLock<Arc<[Subscription]>>>,
    queued: Arc<Notify>,
}

impl Subscriptions {
    pub fn set(&self, subscriptions: Vec<Subscription>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = subscriptions.into();
    }

    pub fn get(&self) -> Arc<[Subscription]> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn queued(&self) -> Arc<Notify> {
        self.queued.clone()
    }
}

/// The events worth sending from one transaction's record, in order: one `ticket.updated`
/// per ticket at most, and none for a ticket the same transaction opened or closed (those
/// events say it already).
pub(crate) fn condense(events: &[TicketEvent]) -> Vec<TicketEvent> {
    let said = |ticket: i64, kind: EventKind| {
        events
            .iter()
            .any(|e| e.ticket_id == ticket && e.kind == kind)
    };
    let mut updated = BTreeSet::new();
    events
        .iter()
        .filter(|e| {
            e.kind != EventKind::TicketUpdated
                || (!said(e.ticket_id, EventKind::TicketCreated)
                    && !said(e.ticket_id, EventKind::TicketClosed)
                    && updated.insert(e.ticket_id))
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, ticket_id: i64) -> TicketEvent {
        TicketEvent {
            kind,
            ticket_id,
            subject_id: None,
            internal: false,
        }
    }

    #[test]
    fn one_update_per_ticket_and_none_beside_open_or_close() {
        use EventKind::*;
        let events = [
            event(TicketCreated, 1),
            event(TicketUpdated, 1),
            event(MessageCreated, 1),
            event(TicketUpdated, 2),
            event(TicketUpdated, 2),
            event(TicketUpdated, 3),
            event(TicketClosed, 3),
        ];
        let kept: Vec<(EventKind, i64)> = condense(&events)
            .iter()
            .map(|e| (e.kind, e.ticket_id))
            .collect();
        assert_eq!(
            kept,
            vec![
                (TicketCreated, 1),
                (MessageCreated, 1),
                (TicketUpdated, 2),
                (TicketClosed, 3)
            ]
        );
    }

    #[test]
    fn notes_reach_only_endpoints_that_ask_for_them() {
        let mut note = event(EventKind::MessageCreated, 1);
        note.internal = true;
        let mut sub = Subscription {
            endpoint: "crm".into(),
            events: [EventKind::MessageCreated].into(),
            include_notes: false,
        };
        assert!(!sub.hears(&note));
        assert!(sub.hears(&event(EventKind::MessageCreated, 1)));
        assert!(!sub.hears(&event(EventKind::TicketClosed, 1)));
        sub.include_notes = true;
        assert!(sub.hears(&note));
    }
}
