//! Instances sharing one PostgreSQL database tell each other what changed with
//! `LISTEN`/`NOTIFY`. What a transaction has to tell is sent once it has committed (see
//! [`Announcer`]):
//!
//! * on `relaydesk_outbox` when it queued outbox rows (payload: the platform name), so every
//!   instance wakes its workers for that platform;
//! * on `relaydesk_tickets` when it changed tickets (payload: `<instance>:<id>,<id>,…`), so
//!   every other instance pushes the change to its open widget sockets and console pages.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::mpsc;

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

/// What committed transactions have to tell the other instances.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Notes {
    /// Platforms that got outbox rows.
    pub platforms: BTreeSet<Platform>,
    /// Tickets that changed.
    pub tickets: BTreeSet<i64>,
}

impl Notes {
    pub(crate) fn is_empty(&self) -> bool {
        self.platforms.is_empty() && self.tickets.is_empty()
    }

    fn merge(&mut self, other: Notes) {
        self.platforms.extend(other.platforms);
        self.tickets.extend(other.tickets);
    }

    /// Every `(channel, payload)` to send for these notes, each payload under the limit.
    fn notifications(&self, instance: u64) -> Vec<(&'static str, String)> {
        let tickets: Vec<i64> = self.tickets.iter().copied().collect();
        self.platforms
            .iter()
            .map(|platform| (OUTBOX_CHANNEL, platform.as_str().to_string()))
            .chain(
                ticket_payloads(instance, &tickets)
                    .into_iter()
                    .map(|payload| (TICKETS_CHANNEL, payload)),
            )
            .collect()
    }
}

/// Sends this process's notifications after their transactions committed: whatever waits is
/// sent together, in one statement, on a connection of the announcer's own.
///
/// Inside a transaction, `NOTIFY` takes PostgreSQL's database-wide notification lock and holds
/// it to the end of the commit, its WAL flush included: every notifying transaction would
/// commit after the other, however many connections write. Sent afterwards, writers commit
/// side by side, and the announcer's own commits skip the flush (`synchronous_commit = off`:
/// a notification is no data; a crashed server forgets its listeners anyway). A process killed
/// between a commit and its notification leaves the other instances to find the work as they
/// do after a lost connection: workers poll every second, live views re-read what changed.
#[derive(Debug, Clone)]
pub(crate) struct Announcer {
    queue: mpsc::UnboundedSender<Notes>,
}

/// The announcer's connection, as `pg_stat_activity` names it.
pub const ANNOUNCER_NAME: &str = "relaydesk notifications";

/// After a failed send, the pause before the next connection attempt.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

impl Announcer {
    /// Starts the task that sends; it ends when the last announcer is dropped.
    pub(crate) fn start(url: Arc<str>, instance: u64) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(send_all(url, instance, waiting));
        Self { queue }
    }

    /// Queues what a committed transaction has to tell.
    pub(crate) fn announce(&self, notes: Notes) {
        if !notes.is_empty() {
            // The sending task lives as long as any announcer does.
            let _ = self.queue.send(notes);
        }
    }
}

async fn send_all(url: Arc<str>, instance: u64, mut waiting: mpsc::UnboundedReceiver<Notes>) {
    let mut connection: Option<PgConnection> = None;
    while let Some(mut notes) = waiting.recv().await {
        while let Ok(more) = waiting.try_recv() {
            notes.merge(more);
        }
        let notifications = notes.notifications(instance);
        // A connection the server dropped fails once; a fresh one is tried straight away.
        let mut sent = Ok(());
        for _ in 0..2 {
            sent = send(&mut connection, &url, &notifications).await;
            if sent.is_ok() {
                break;
            }
            connection = None;
        }
        if let Err(error) = sent {
            tracing::warn!(
                %error,
                "could not notify the other instances; they find the changes by polling"
            );
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
    }
}

/// Sends `notifications` in one statement, connecting first if need be.
async fn send(
    connection: &mut Option<PgConnection>,
    url: &str,
    notifications: &[(&'static str, String)],
) -> std::result::Result<(), sqlx::Error> {
    let connection = match connection {
        Some(connection) => connection,
        None => {
            // Not logged statement by statement: a batch of notifications is no query of a
            // request's, and the hot paths' statement counts are of their own transactions.
            let options = PgConnectOptions::from_str(url)?
                .application_name(ANNOUNCER_NAME)
                .disable_statement_logging();
            let mut fresh = PgConnection::connect_with(&options).await?;
            sqlx::query("SET synchronous_commit = off")
                .execute(&mut fresh)
                .await?;
            connection.insert(fresh)
        }
    };
    let selects: Vec<String> = (0..notifications.len())
        .map(|i| format!("SELECT pg_notify(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT COUNT(*) AS n FROM ({}) AS sent",
        selects.join(" UNION ALL ")
    );
    let mut query = sqlx::query(&sql);
    for (channel, payload) in notifications {
        query = query.bind(*channel).bind(payload.as_str());
    }
    // One-off texts (the count varies): not kept as prepared statements.
    query.persistent(false).execute(&mut *connection).await?;
    Ok(())
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
    fn notes_waiting_together_are_sent_once_each() {
        let mut notes = Notes {
            platforms: [Platform::Telegram].into(),
            tickets: [1, 2].into(),
        };
        notes.merge(Notes {
            platforms: [Platform::Telegram, Platform::Discord].into(),
            tickets: [2, 3].into(),
        });
        let sent = notes.notifications(7);
        assert_eq!(
            sent,
            vec![
                (OUTBOX_CHANNEL, "telegram".to_string()),
                (OUTBOX_CHANNEL, "discord".to_string()),
                (TICKETS_CHANNEL, "7:1,2,3".to_string()),
            ]
        );
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
