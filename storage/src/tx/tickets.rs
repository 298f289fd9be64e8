use sqlx::any::AnyRow;
use sqlx::Row;

use super::{opt_time, parse, time, Tx};
use crate::{Backend, EventKind, NewTicket, Priority, Result, StorageError, Ticket, TicketStatus};

pub(super) const COLUMNS: &str =
    "id, number, subject, customer_id, origin, conversation, status, priority, \
     assignee_id, team_id, merged_into, previous_ticket_id, close_reason, created_at, updated_at, \
     first_agent_reply_at, last_customer_message_at, last_agent_reply_at, closed_at, split_from, \
     merges";

/// How far a customer's message moves its ticket's `updated_at`, the activity order of ticket
/// lists: to the message's time when the ticket's last activity is at least this old; within
/// this step it is left as it is. (`last_customer_message_at` is always exact.) Anything that
/// looks for tickets changed since a moment must look this much further back.
pub const ACTIVITY_STEP_MS: i64 = 1_000;

/// The statement [`Tx::active_tickets`] runs for `count` conversations: `$1` is the origin,
/// `$2…` the conversations. Public so that a test can check PostgreSQL's plan for it.
pub fn active_tickets_sql(backend: Backend, count: usize) -> String {
    match backend {
        // First each listed conversation's active ticket, by (origin, conversation): written
        // as `conversation IN (…)`, PostgreSQL may scan every active ticket of the origin and
        // filter (it did, 15 ms a call at 1,000 tickets, whenever the table had no statistics
        // yet, as on a new database or with autovacuum off); the lateral subquery, kept apart
        // by `OFFSET 0`, can only be an index lookup per conversation. Then those tickets are
        // locked one by one by id, in id order, so that two transactions locking several
        // tickets never wait on each other in a cycle (a `FOR UPDATE` over the lookup itself
        // would lock in the order the conversations are listed). A ticket that changed before
        // its lock was had is returned as it is now: the caller drops any no longer active.
        Backend::Postgres => format!(
            "WITH found AS MATERIALIZED (SELECT t.id FROM (VALUES {}) AS listed (wanted) \
             CROSS JOIN LATERAL (SELECT id FROM tickets WHERE origin = $1 \
             AND conversation = listed.wanted AND status IN ('open', 'pending') \
             AND split_from IS NULL OFFSET 0) AS t) \
             SELECT locked.* FROM (SELECT id FROM found ORDER BY id OFFSET 0) AS ordered \
             CROSS JOIN LATERAL (SELECT {COLUMNS} FROM tickets WHERE tickets.id = ordered.id \
             FOR UPDATE) AS locked",
            super::value_rows(2, count)
        ),
        Backend::Sqlite => format!(
            "SELECT {COLUMNS} FROM tickets WHERE origin = $1 AND conversation IN ({}) \
             AND status IN ('open', 'pending') AND split_from IS NULL ORDER BY id",
            super::placeholders(2, count)
        ),
    }
}

pub(super) fn ticket(row: &AnyRow) -> Result<Ticket> {
    Ok(Ticket {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        subject: row.try_get("subject")?,
        customer_id: row.try_get("customer_id")?,
        origin: parse(row, "origin")?,
        conversation: row.try_get("conversation")?,
        status: parse(row, "status")?,
        priority: parse(row, "priority")?,
        assignee_id: row.try_get("assignee_id")?,
        team_id: row.try_get("team_id")?,
        merged_into: row.try_get("merged_into")?,
        previous_ticket_id: row.try_get("previous_ticket_id")?,
        close_reason: row.try_get("close_reason")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        first_agent_reply_at: opt_time(row, "first_agent_reply_at")?,
        last_customer_message_at: opt_time(row, "last_customer_message_at")?,
        last_agent_reply_at: opt_time(row, "last_agent_reply_at")?,
        closed_at: opt_time(row, "closed_at")?,
        split_from: row.try_get("split_from")?,
        merges: row.try_get("merges")?,
    })
}

impl Tx {
    /// Opens a ticket, or returns `None` when the conversation already has an active one
    /// (another transaction won the race; look it up with [`Tx::active_ticket`]).
    pub async fn open_ticket(
        &mut self,
        new: &NewTicket<'_>,
        now_ms: i64,
    ) -> Result<Option<Ticket>> {
        let number = match self.backend {
            Backend::Postgres => "nextval('ticket_numbers')",
            Backend::Sqlite => "(SELECT COALESCE(MAX(number), 1000) + 1 FROM tickets)",
        };
        let sql = format!(
            "INSERT INTO tickets (number, subject, customer_id, origin, conversation, status, priority, \
             team_id, previous_ticket_id, created_at, updated_at) \
             VALUES ({number}, $1, $2, $3, $4, 'open', $5, $6, $7, $8, $8) \
             ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.subject)
            .bind(new.customer_id)
            .bind(new.origin.as_str())
            .bind(new.conversation)
            .bind(new.priority.as_str())
            .bind(new.team_id)
            .bind(new.previous_ticket_id)
            .bind(now_ms)
            .fetch_optional(&mut *self.inner)
            .await?;
        let opened = row.as_ref().map(ticket).transpose()?;
        if let Some(opened) = &opened {
            self.event(EventKind::TicketCreated, opened.id, None, false);
        }
        Ok(opened)
    }

    /// The open or pending ticket of a customer conversation (not one split off it), locked
    /// for this transaction.
    pub async fn active_ticket(
        &mut self,
        origin: crate::Platform,
        conversation: &str,
    ) -> Result<Option<Ticket>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tickets WHERE origin = $1 AND conversation = $2 \
             AND status IN ('open', 'pending') AND split_from IS NULL{}",
            self.for_update()
        );
        let row = sqlx::query(&sql)
            .bind(origin.as_str())
            .bind(conversation)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(ticket).transpose()
    }

    /// [`Tx::active_ticket`] for several conversations of one platform in one statement,
    /// locked in id order (so two such transactions never wait on each other in a cycle).
    /// Conversations without an active ticket are absent.
    pub async fn active_tickets(
        &mut self,
        origin: crate::Platform,
        conversations: &[&str],
    ) -> Result<Vec<Ticket>> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let sql = active_tickets_sql(self.backend, conversations.len());
        let mut query = sqlx::query(&sql).bind(origin.as_str());
        for conversation in conversations {
            query = query.bind(*conversation);
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        let mut tickets = Vec::with_capacity(rows.len());
        for row in &rows {
            let found = ticket(row)?;
            // Closed, merged or split off between the lookup and the lock (PostgreSQL).
            if found.status.is_active() && found.split_from.is_none() {
                tickets.push(found);
            }
        }
        Ok(tickets)
    }

    /// The most recent ticket of a customer conversation, whatever its status.
    pub async fn latest_ticket(
        &mut self,
        origin: crate::Platform,
        conversation: &str,
    ) -> Result<Option<Ticket>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tickets WHERE origin = $1 AND conversation = $2 \
             ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(origin.as_str())
            .bind(conversation)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(ticket).transpose()
    }

    pub async fn ticket(&mut self, id: i64) -> Result<Ticket> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tickets WHERE id = $1{}",
            self.for_update()
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref()
            .map(ticket)
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("ticket id {id}")))
    }

    /// Looks a ticket up by its human number (`#1042` → 1042), locked for this transaction.
    pub async fn ticket_by_number(&mut self, number: i64) -> Result<Option<Ticket>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tickets WHERE number = $1{}",
            self.for_update()
        );
        let row = sqlx::query(&sql)
            .bind(number)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(ticket).transpose()
    }

    /// The tickets merged into `target` (directly), oldest first.
    pub async fn tickets_merged_into(&mut self, target: i64) -> Result<Vec<Ticket>> {
        let sql = format!("SELECT {COLUMNS} FROM tickets WHERE merged_into = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(target)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(ticket).collect()
    }

    /// Tickets in a status, oldest first.
    pub async fn tickets_with_status(
        &mut self,
        status: TicketStatus,
        limit: i64,
    ) -> Result<Vec<Ticket>> {
        let sql = format!("SELECT {COLUMNS} FROM tickets WHERE status = $1 ORDER BY id LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(status.as_str())
            .bind(limit)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(ticket).collect()
    }

    pub async fn count_tickets(&mut self, status: TicketStatus) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE status = $1")
            .bind(status.as_str())
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// A customer wrote: the ticket waits on us again.
    pub async fn note_customer_message(&mut self, ticket_id: i64, now_ms: i64) -> Result<()> {
        self.note_customer_messages(&[ticket_id], now_ms).await
    }

    /// [`Tx::note_customer_message`] for several tickets in one statement.
    pub async fn note_customer_messages(&mut self, ticket_ids: &[i64], now_ms: i64) -> Result<()> {
        if ticket_ids.is_empty() {
            return Ok(());
        }
        // `updated_at` is in five of the list indexes; moved only every ACTIVITY_STEP_MS, most
        // customer messages change no indexed column, and PostgreSQL updates the row in place
        // (a HOT update) instead of adding an entry to each of the ticket's indexes.
        let sql = format!(
            "UPDATE tickets SET last_customer_message_at = $1, \
             updated_at = CASE WHEN $1 - updated_at >= {ACTIVITY_STEP_MS} THEN $1 ELSE updated_at END, \
             status = CASE WHEN status = 'pending' THEN 'open' ELSE status END WHERE id IN ({})",
            super::placeholders(2, ticket_ids.len())
        );
        let mut query = sqlx::query(&sql).bind(now_ms);
        for id in ticket_ids {
            query = query.bind(*id);
        }
        query.execute(&mut *self.inner).await?;
        Ok(())
    }

    /// An agent answered the customer: the ticket waits on the customer.
    pub async fn note_agent_reply(&mut self, ticket_id: i64, now_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE tickets SET first_agent_reply_at = COALESCE(first_agent_reply_at, $2), \
             last_agent_reply_at = $2, updated_at = $2, \
             status = CASE WHEN status = 'open' THEN 'pending' ELSE status END WHERE id = $1",
        )
        .bind(ticket_id)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn set_status(
        &mut self,
        ticket_id: i64,
        status: TicketStatus,
        close_reason: Option<&str>,
        now_ms: i64,
    ) -> Result<()> {
        let closed_at = (status == TicketStatus::Closed).then_some(now_ms);
        sqlx::query(
            "UPDATE tickets SET status = $2, close_reason = $3, closed_at = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(ticket_id)
        .bind(status.as_str())
        .bind(close_reason)
        .bind(closed_at)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        let kind = match status {
            TicketStatus::Closed => EventKind::TicketClosed,
            _ => EventKind::TicketUpdated,
        };
        self.event(kind, ticket_id, None, false);
        Ok(())
    }

    pub async fn set_assignee(
        &mut self,
        ticket_id: i64,
        agent_id: Option<i64>,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE tickets SET assignee_id = $2, updated_at = $3 WHERE id = $1")
            .bind(ticket_id)
            .bind(agent_id)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        self.event(EventKind::TicketUpdated, ticket_id, None, false);
        Ok(())
    }

    pub async fn set_priority(
        &mut self,
        ticket_id: i64,
        priority: Priority,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE tickets SET priority = $2, updated_at = $3 WHERE id = $1")
            .bind(ticket_id)
            .bind(priority.as_str())
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        self.event(EventKind::TicketUpdated, ticket_id, None, false);
        Ok(())
    }

    /// Moves every message of `source` to `target` and marks `source` merged into `target`.
    pub async fn merge_tickets(&mut self, source: i64, target: i64, now_ms: i64) -> Result<u64> {
        let moved = sqlx::query("UPDATE messages SET ticket_id = $2 WHERE ticket_id = $1")
            .bind(source)
            .bind(target)
            .execute(&mut *self.inner)
            .await?
            .rows_affected();
        sqlx::query(
            "UPDATE tickets SET status = 'merged', merged_into = $2, closed_at = $3, updated_at = $3 WHERE id = $1",
        )
        .bind(source)
        .bind(target)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        sqlx::query("UPDATE tickets SET updated_at = $2, merges = merges + 1 WHERE id = $1")
            .bind(target)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        self.event(EventKind::TicketUpdated, source, None, false);
        self.event(EventKind::TicketUpdated, target, None, false);
        Ok(moved)
    }

    /// Opens a ticket split off `source` (same customer, conversation, priority and team) and
    /// moves messages `moved` of `source` into it. Returns the new ticket.
    pub async fn split_ticket(
        &mut self,
        source: &Ticket,
        moved: &[i64],
        subject: &str,
        now_ms: i64,
    ) -> Result<Ticket> {
        let number = match self.backend {
            Backend::Postgres => "nextval('ticket_numbers')",
            Backend::Sqlite => "(SELECT COALESCE(MAX(number), 1000) + 1 FROM tickets)",
        };
        let sql = format!(
            "INSERT INTO tickets (number, subject, customer_id, origin, conversation, status, priority, \
             team_id, split_from, created_at, updated_at) \
             VALUES ({number}, $1, $2, $3, $4, 'open', $5, $6, $7, $8, $8) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(subject)
            .bind(source.customer_id)
            .bind(source.origin.as_str())
            .bind(&source.conversation)
            .bind(source.priority.as_str())
            .bind(source.team_id)
            .bind(source.id)
            .bind(now_ms)
            .fetch_one(&mut *self.inner)
            .await?;
        let split = ticket(&row)?;
        for id in moved {
            sqlx::query("UPDATE messages SET ticket_id = $1 WHERE id = $2 AND ticket_id = $3")
                .bind(split.id)
                .bind(id)
                .bind(source.id)
                .execute(&mut *self.inner)
                .await?;
        }
        sqlx::query(
            "UPDATE tickets SET last_customer_message_at = \
             (SELECT MAX(created_at) FROM messages WHERE ticket_id = $1 AND author_kind = 'customer') \
             WHERE id = $1",
        )
        .bind(split.id)
        .execute(&mut *self.inner)
        .await?;
        sqlx::query("UPDATE tickets SET updated_at = $2 WHERE id = $1")
            .bind(source.id)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        self.event(EventKind::TicketCreated, split.id, None, false);
        self.event(EventKind::TicketUpdated, source.id, None, false);
        self.ticket(split.id).await
    }

    /// The numbers of the tickets split off `ticket_id`, oldest first.
    pub async fn split_off(&mut self, ticket_id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT number FROM tickets WHERE split_from = $1 ORDER BY id")
            .bind(ticket_id)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<i64, _>("number")?))
            .collect()
    }

    /// Adds a tag; returns false when the ticket already had it.
    pub async fn add_tag(&mut self, ticket_id: i64, tag: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(ticket_id)
        .bind(tag)
        .execute(&mut *self.inner)
        .await?;
        let added = done.rows_affected() == 1;
        if added {
            self.event(EventKind::TicketUpdated, ticket_id, None, false);
        }
        Ok(added)
    }

    /// Removes a tag; returns false when the ticket did not have it.
    pub async fn remove_tag(&mut self, ticket_id: i64, tag: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1 AND tag = $2")
            .bind(ticket_id)
            .bind(tag)
            .execute(&mut *self.inner)
            .await?;
        let removed = done.rows_affected() == 1;
        if removed {
            self.event(EventKind::TicketUpdated, ticket_id, None, false);
        }
        Ok(removed)
    }

    pub async fn tags(&mut self, ticket_id: i64) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT tag FROM ticket_tags WHERE ticket_id = $1 ORDER BY tag")
            .bind(ticket_id)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("tag")?)).collect()
    }

    /// Tickets changed at or after `since_ms` (any status; the `IN` list lets the
    /// `(status, updated_at)` index serve the range). Live views are re-told about these now
    /// and then, in case a notification was missed. A customer's message moves `updated_at`
    /// only every [`ACTIVITY_STEP_MS`], so this looks that much further back: it may name a
    /// ticket that did not change since, never miss one that did.
    pub async fn tickets_changed_since(&mut self, since_ms: i64) -> Result<Vec<i64>> {
        let since_ms = since_ms.saturating_sub(ACTIVITY_STEP_MS);
        let rows = sqlx::query(
            "SELECT id FROM tickets WHERE status IN ('open', 'pending', 'closed', 'merged') \
             AND updated_at >= $1",
        )
        .bind(since_ms)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }
}
