use sqlx::Row;

use super::{time, Tx};
use crate::{AuditEntry, Result};

impl Tx {
    /// Records who did what to a ticket.
    pub async fn audit(
        &mut self,
        ticket_id: Option<i64>,
        actor: &str,
        action: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (ticket_id, actor, action, detail, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ticket_id)
            .bind(actor)
            .bind(action)
            .bind(detail)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Whether the ticket's audit trail has an entry of `action`.
    pub async fn audited(&mut self, ticket_id: i64, action: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM audit_log WHERE ticket_id = $1 AND action = $2 LIMIT 1",
        )
        .bind(ticket_id)
        .bind(action)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.is_some())
    }

    pub async fn audit_trail(&mut self, ticket_id: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, actor, action, detail, created_at FROM audit_log WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket_id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    ticket_id: r.try_get("ticket_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    detail: r.try_get("detail")?,
                    created_at: time(r, "created_at")?,
                })
            })
            .collect()
    }
}
