//! A database transaction and the queries that run inside one.
//!
//! Queries are grouped by what they touch (`tx/tickets.rs`, `tx/outbox.rs`, …). All SQL uses
//! `$n` placeholders, which both SQLite and PostgreSQL accept; the few statements that differ
//! between the two ask [`Backend`].

mod audit;
mod auth;
mod backfill;
mod canned;
mod console_posts;
mod csat;
mod delivery;
mod faq;
mod gauges;
mod held;
mod leases;
mod listing;
mod messages;
mod outbox;
mod pacing;
mod people;
mod prompts;
mod reads;
mod reports;
mod routing;
mod sla;
mod threads;
mod tickets;
mod webhooks;
mod widget;

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub use backfill::BackfillCursor;
pub use delivery::DeliveryContext;
pub use gauges::{Backlog, Gauges};
pub use held::HeldPost;
pub use listing::search_problem;
pub use listing::{
    BadCursor, Cursor, CustomerIdentity, CustomerProfile, SlaFilter, StatusFilter, Team,
    TicketFilter, TicketPage, TicketRow, TicketSort, MAX_PAGE, MAX_SEARCH_CHARS, MAX_SEARCH_WORDS,
};
pub use outbox::NewOutboxRow;
pub use pacing::Pace;
pub use people::known_customers_sql;
pub use people::KnownIdentity;
pub use prompts::{NewPrompt, PromptKind, WidgetPrompt};
pub use reports::{Figures, Period, ReportGroup, ReportRow, Spread};
pub use routing::MemberLoad;
pub use tickets::{active_tickets_sql, ACTIVITY_STEP_MS};
pub use webhooks::WebhookOutcome;
pub use widget::{WidgetFile, UNATTACHED_FILE_MS};

use crate::clock::from_ms;
use crate::{Backend, Result, StorageError};

/// One open transaction. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    inner: Transaction<'static, Any>,
    backend: Backend,
    /// Platforms that got outbox rows in this transaction: told to every instance on commit.
    queued_for: std::collections::BTreeSet<crate::Platform>,
    /// Tickets this transaction changed, told to the other instances on commit.
    changed: std::collections::BTreeSet<i64>,
    /// The webhook endpoints as this transaction began; events are recorded only when there
    /// are some.
    webhooks: std::sync::Arc<[crate::Subscription]>,
    /// What this transaction did to tickets, for the webhooks.
    events: Vec<crate::TicketEvent>,
    /// Told when this transaction queued webhook deliveries and committed.
    webhooks_queued: std::sync::Arc<tokio::sync::Notify>,
    /// Sends `queued_for` and `changed` to the other instances once this commits (PostgreSQL).
    announcer: Option<crate::notify::Announcer>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Tx {
    pub(crate) fn new(
        inner: Transaction<'static, Any>,
        backend: Backend,
        webhooks: &crate::events::Subscriptions,
        announcer: Option<&crate::notify::Announcer>,
    ) -> Self {
        Self {
            inner,
            backend,
            queued_for: std::collections::BTreeSet::new(),
            changed: std::collections::BTreeSet::new(),
            webhooks: webhooks.get(),
            events: Vec::new(),
            webhooks_queued: webhooks.queued(),
            announcer: announcer.cloned(),
        }
    }

    /// Tells the other instances, once this transaction commits, that these tickets changed
    /// (PostgreSQL; on SQLite one process owns the file and its hub tells its own views).
    pub fn announce_changes(&mut self, tickets: impl IntoIterator<Item = i64>) {
        if self.backend == Backend::Postgres {
            self.changed.extend(tickets);
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Commits; then (PostgreSQL) what it queued and changed is told to the other instances.
    pub async fn commit(mut self) -> Result<()> {
        let queued = self.queue_webhooks().await?;
        let notes = crate::notify::Notes {
            platforms: std::mem::take(&mut self.queued_for),
            tickets: std::mem::take(&mut self.changed),
        };
        self.inner.commit().await?;
        if let Some(announcer) = &self.announcer {
            announcer.announce(notes);
        }
        if queued > 0 {
            self.webhooks_queued.notify_one();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        self.inner.rollback().await?;
        Ok(())
    }

    /// `FOR UPDATE` where the backend has row locks (PostgreSQL); SQLite serialises writers.
    fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }
}

/// `$first, $first+1, …` (`count` placeholders), for an `IN (…)` list.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($first), ($first+1), …` (`count` rows of one placeholder), for a `VALUES` list whose rows
/// are each looked up on their own (see `active_tickets_sql`).
fn value_rows(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("(${n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse<T: std::str::FromStr<Err = StorageError>>(row: &AnyRow, column: &str) -> Result<T> {
    row.try_get::<String, _>(column)?.parse()
}

fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>> {
    Ok(from_ms(row.try_get::<i64, _>(column)?))
}

fn opt_time(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(from_ms))
}

fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}
