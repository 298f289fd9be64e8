//! What each agent has seen: a ticket is unread for an agent when its customer wrote after
//! the agent last opened it.

use std::collections::HashMap;

use sqlx::Row;

use super::Tx;
use crate::Result;

impl Tx {
    /// Records that `agent_id` looked at `ticket_id` at `now_ms`.
    pub async fn mark_read(&mut self, agent_id: i64, ticket_id: i64, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_reads (agent_id, ticket_id, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (agent_id, ticket_id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(agent_id)
        .bind(ticket_id)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// When `agent_id` last looked at each of `tickets` (those never opened are missing).
    pub async fn read_marks(
        &mut self,
        agent_id: i64,
        tickets: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        let mut marks = HashMap::new();
        if tickets.is_empty() {
            return Ok(marks);
        }
        let list = tickets
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let rows = sqlx::query(&format!(
            "SELECT ticket_id, seen_at FROM ticket_reads WHERE agent_id = $1 AND ticket_id IN ({list})"
        ))
        .bind(agent_id)
        .fetch_all(&mut *self.inner)
        .await?;
        for row in rows {
            marks.insert(row.try_get("ticket_id")?, row.try_get("seen_at")?);
        }
        Ok(marks)
    }
}
