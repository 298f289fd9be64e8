//! Instances sharing one PostgreSQL database tell each other what changed with
//! `LISTEN`/`NOTIFY`. A transaction notifies on commit (see [`crate::Tx`]):
//!
//! * on `relaydesk_outbox` when it queued outbox rows (payload: the platform name), so every
//!   instance wakes its workers for that platform;
//! * on `relaydesk_tickets` when it changed tickets (payload: `<instance>:<id>,<id>,…`), so
//!   every other instance pushes the change to its open widget sockets and console pages.

use sqlx::postgres::PgListener;

use crate::{Platform, Result};

/// The channel outbox notifications travel on; the payload is the platform name.
pub(crate) const OUTBOX_CHANNEL: &str = "relaydesk_outbox";
/// The channel ticket changes travel on; the payload is the sender and the ticket ids.
pub(crate) const TICKETS_CHANNEL: &str = "relaydesk_tickets";
/// `NOTIFY` payloads must stay under 8,000 bytes; ids are sent in chunks of this many.
pub(crate) const IDS_PER_NOTIFICATION: usize = 300;

/// What another transaction told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// New outbox rows for this platform.
    Outbox(Platform),
    /// These tickets changed (in another instance).
    Tickets(Vec<i64>),
}

/// Hears the notifications of every instance.
pub struct ChangeListener {
    inner: PgListener,
    /// This instance's own ticket notifications are skipped: its hub announced them already.
    instance: u64,
}

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeListener").finish_non_exhaustive()
    }
}

impl ChangeListener {
    pub(crate) async fn connect(url: &str, instance: u64) -> Result<Self> {
        let mut inner = PgListener::connect(url).await?;
        inner.listen_all([OUTBOX_CHANNEL, TICKETS_CHANNEL]).await?;
        Ok(Self { inner, instance })
    }

    /// Waits for the next notification worth acting on. Reconnects by itself after a lost
    /// connection (notifications sent meanwhile are missed: workers also poll, and live views
    /// are re-told every ticket changed lately, see `Tx::tickets_changed_since`).
    pub async fn recv(&mut self) -> Result<Heard> {
        loop {
            let notification = self.inner.recv().await?;
            let heard = match notification.channel() {
                OUTBOX_CHANNEL => notification.payload().parse().ok().map(Heard::Outbox),
                TICKETS_CHANNEL => parse_tickets(notification.payload(), self.instance),
                _ => None,
            };
            if let Some(heard) = heard {
                return Ok(heard);
            }
        }
    }
}

/// The payload of a ticket notification, unless it came from `own` instance or is garbled.
fn parse_tickets(payload: &str, own: u64) -> Option<Heard> {
    let (sender, ids) = payload.split_once(':')?;
    if sender.parse::<u64>().ok()? == own {
        return None;
    }
    let ids: Vec<i64> = ids.split(',').filter_map(|id| id.parse().ok()).collect();
    (!ids.is_empty()).then_some(Heard::Tickets(ids))
}

/// Payloads announcing `ids` as changed by `instance`, each small enough for `NOTIFY`.
pub(crate) fn ticket_payloads(instance: u64, ids: &[i64]) -> Vec<String> {
    ids.chunks(IDS_PER_NOTIFICATION)
        .map(|chunk| {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            format!("{instance}:{}", list.join(","))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_and_garbled_ticket_notifications_are_skipped() {
        assert_eq!(parse_tickets("7:1,2,3", 7), None);
        assert_eq!(
            parse_tickets("8:1,2,3", 7),
            Some(Heard::Tickets(vec![1, 2, 3]))
        );
        assert_eq!(parse_tickets("8:x", 7), None);
        assert_eq!(parse_tickets("nonsense", 7), None);
    }

    #[test]
    fn long_lists_are_split_below_the_notify_limit() {
        let ids: Vec<i64> = (i64::MAX - 1000..i64::MAX).collect();
        let payloads = ticket_payloads(u64::MAX, &ids);
        assert_eq!(payloads.len(), 4);
        assert!(payloads.iter().all(|p| p.len() < 8000));
        let back: Vec<i64> = payloads
            .iter()
            .flat_map(|p| match parse_tickets(p, 0) {
                Some(Heard::Tickets(ids)) => ids,
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(back, ids);
    }
}
