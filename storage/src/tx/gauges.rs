//! Figures read when metrics are scraped: what waits in the outbox and how old the oldest is,
//! open tickets by priority, pending webhook deliveries.

use sqlx::Row;

use super::Tx;
use crate::Result;

/// Pending sends of one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    pub platform: String,
    pub pending: i64,
    /// When the oldest pending send was queued (ms since the epoch).
    pub oldest_ms: Option<i64>,
}

/// The scrape-time figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    pub outbox: Vec<Backlog>,
    /// (priority, open or pending tickets).
    pub open_tickets: Vec<(String, i64)>,
    pub webhooks_pending: i64,
    pub webhooks_failed: i64,
}

impl Tx {
    pub async fn gauges(&mut self) -> Result<Gauges> {
        let outbox = sqlx::query(
            "SELECT platform, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox \
             WHERE status = 'pending' GROUP BY platform",
        )
        .fetch_all(&mut *self.inner)
        .await?
        .iter()
        .map(|r| {
            Ok(Backlog {
                platform: r.try_get("platform")?,
                pending: r.try_get("n")?,
                oldest_ms: r.try_get("oldest")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let open_tickets = sqlx::query(
            "SELECT priority, COUNT(*) AS n FROM tickets WHERE status IN ('open', 'pending') \
             GROUP BY priority",
        )
        .fetch_all(&mut *self.inner)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("priority")?, r.try_get("n")?)))
        .collect::<Result<Vec<_>>>()?;
        let mut webhooks = [0i64; 2];
        for (i, status) in ["pending", "failed"].into_iter().enumerate() {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = $1")
                .bind(status)
                .fetch_one(&mut *self.inner)
                .await?;
            webhooks[i] = row.try_get("n")?;
        }
        Ok(Gauges {
            outbox,
            open_tickets,
            webhooks_pending: webhooks[0],
            webhooks_failed: webhooks[1],
        })
    }
}
