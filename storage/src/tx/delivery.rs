//! What the outbox worker needs to turn a queued delivery into a send, read in one query.

use std::collections::HashMap;

use sqlx::Row;

use super::sla::{ticket_sla, SLA_COLUMNS};
use super::tickets::{ticket, COLUMNS};
use super::Tx;
use crate::sla::TicketSla;
use crate::{Backend, Platform, Result, Ticket};

/// A ticket as a delivery shows it, and its staff thread on one platform.
#[derive(Debug, Clone)]
pub struct DeliveryContext {
    pub ticket: Ticket,
    pub customer_name: String,
    pub assignee_name: Option<String>,
    pub team_name: Option<String>,
    /// Sorted.
    pub tags: Vec<String>,
    pub sla: Option<TicketSla>,
    /// The ticket's staff thread on the platform asked for, when linked.
    pub thread: Option<String>,
    /// The ticket card's message in that thread and the text under it, when recorded.
    pub card: Option<(String, Option<String>)>,
}

impl Tx {
    /// The ticket, its customer's and assignee's names, tags, SLA row and staff thread on
    /// `platform`: one statement instead of one per part.
    pub async fn delivery_context(
        &mut self,
        ticket_id: i64,
        platform: Platform,
    ) -> Result<DeliveryContext> {
        self.delivery_contexts(&[ticket_id], platform)
            .await?
            .remove(&ticket_id)
            .ok_or_else(|| crate::StorageError::NotFound(format!("ticket {ticket_id}")))
    }

    /// [`Tx::delivery_context`] of several tickets in one statement, by ticket id; tickets that
    /// do not exist are absent.
    pub async fn delivery_contexts(
        &mut self,
        ticket_ids: &[i64],
        platform: Platform,
    ) -> Result<HashMap<i64, DeliveryContext>> {
        if ticket_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let prefixed = |columns: &str, table: &str| {
            columns
                .split(',')
                .map(|c| format!("{table}.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Tags never hold a line break (see the tag rules), so one joined string carries them.
        let tags = match self.backend {
            Backend::Postgres => {
                "(SELECT string_agg(tag, chr(10) ORDER BY tag) FROM ticket_tags \
                 WHERE ticket_id = t.id)"
            }
            Backend::Sqlite => {
                "(SELECT group_concat(tag, char(10)) FROM \
                 (SELECT tag FROM ticket_tags WHERE ticket_id = t.id ORDER BY tag))"
            }
        };
        let sql = format!(
            "SELECT {}, {}, c.display_name AS customer_name, a.name AS assignee_name, \
             tm.name AS team_name, s.thread_ref, s.card_ref, s.card_tail, {tags} AS tag_list \
             FROM tickets t JOIN customers c ON c.id = t.customer_id \
             LEFT JOIN agents a ON a.id = t.assignee_id \
             LEFT JOIN teams tm ON tm.id = t.team_id \
             LEFT JOIN staff_threads s ON s.ticket_id = t.id AND s.platform = $1 \
             LEFT JOIN ticket_sla l ON l.ticket_id = t.id \
             WHERE t.id IN ({})",
            prefixed(COLUMNS, "t"),
            prefixed(SLA_COLUMNS, "l"),
            super::placeholders(2, ticket_ids.len()),
        );
        let mut query = sqlx::query(&sql).bind(platform.as_str());
        for id in ticket_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        let mut contexts = HashMap::with_capacity(rows.len());
        for row in &rows {
            let sla = match row.try_get::<Option<i64>, _>("ticket_id")? {
                Some(_) => Some(ticket_sla(row)?),
                None => None,
            };
            let card_ref: Option<String> = row.try_get("card_ref")?;
            let card_tail: Option<String> = row.try_get("card_tail")?;
            let tags: Option<String> = row.try_get("tag_list")?;
            let ticket = ticket(row)?;
            contexts.insert(
                ticket.id,
                DeliveryContext {
                    ticket,
                    customer_name: row.try_get("customer_name")?,
                    assignee_name: row.try_get("assignee_name")?,
                    team_name: row.try_get("team_name")?,
                    tags: tags
                        .map(|t| t.split('\n').map(str::to_string).collect())
                        .unwrap_or_default(),
                    sla,
                    thread: row.try_get("thread_ref")?,
                    card: card_ref.map(|card| (card, card_tail)),
                },
            );
        }
        Ok(contexts)
    }
}
