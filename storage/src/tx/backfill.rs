//! Where to look for messages missed while a platform's event stream was down (a gateway
//! session that could not be resumed): every recent customer conversation and staff thread on
//! that platform, with the last platform message stored from it.

use sqlx::Row;

use super::Tx;
use crate::{Platform, Result};

/// One conversation or staff thread to read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillCursor {
    /// The platform's address of it (customer conversation, or staff thread reference).
    pub channel: String,
    /// Whether it is a staff thread (agents write there) rather than a customer conversation.
    pub staff: bool,
    /// The platform id of the last message stored from it, if any.
    pub after: Option<String>,
}

impl Tx {
    /// Conversations and staff threads of `platform` whose ticket is active or changed since
    /// `since_ms`, each with the platform id of the last message stored from it. A conversation
    /// that held several tickets is listed once, with its latest ticket's last message.
    pub async fn backfill_cursors(
        &mut self,
        platform: Platform,
        since_ms: i64,
    ) -> Result<Vec<BackfillCursor>> {
        let customer = sqlx::query(
            "SELECT t.conversation AS channel, \
               (SELECT m.external_id FROM messages m WHERE m.ticket_id = t.id AND m.platform = $1 \
                  AND m.author_kind = 'customer' AND m.external_id IS NOT NULL \
                  ORDER BY m.id DESC LIMIT 1) AS after \
             FROM tickets t \
             WHERE t.origin = $1 AND (t.status IN ('open', 'pending') OR t.updated_at >= $2) \
             ORDER BY t.id DESC",
        )
        .bind(platform.as_str())
        .bind(since_ms)
        .fetch_all(&mut *self.inner)
        .await?;
        let staff = sqlx::query(
            "SELECT s.thread_ref AS channel, \
               (SELECT m.external_id FROM messages m WHERE m.ticket_id = s.ticket_id \
                  AND m.platform = $1 AND m.author_kind = 'agent' AND m.external_id IS NOT NULL \
                  ORDER BY m.id DESC LIMIT 1) AS after \
             FROM staff_threads s JOIN tickets t ON t.id = s.ticket_id \
             WHERE s.platform = $1 AND (t.status IN ('open', 'pending') OR t.updated_at >= $2) \
             ORDER BY s.ticket_id",
        )
        .bind(platform.as_str())
        .bind(since_ms)
        .fetch_all(&mut *self.inner)
        .await?;
        let mut cursors: Vec<BackfillCursor> = Vec::new();
        for (rows, is_staff) in [(customer, false), (staff, true)] {
            for row in rows {
                let channel: String = row.try_get("channel")?;
                if cursors
                    .iter()
                    .any(|c| c.channel == channel && c.staff == is_staff)
                {
                    continue;
                }
                cursors.push(BackfillCursor {
                    channel,
                    staff: is_staff,
                    after: row.try_get("after")?,
                });
            }
        }
        Ok(cursors)
    }
}
