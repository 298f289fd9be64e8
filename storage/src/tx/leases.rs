//! Named leases: work only one instance may do at a time (long-polling Telegram, where a
//! second poller would make Telegram refuse both) is done by the holder of its lease.

use super::Tx;
use crate::Result;

impl Tx {
    /// Takes or keeps lease `name` for `owner` until `now_ms + ttl_ms`. Returns whether
    /// `owner` holds it: it does when nobody held it, it held it already, or the last holder
    /// let it run out.
    pub async fn hold_lease(
        &mut self,
        name: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
             WHERE leases.owner = excluded.owner OR leases.until < $4",
        )
        .bind(name)
        .bind(owner)
        .bind(now_ms.saturating_add(ttl_ms))
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives lease `name` up if `owner` holds it (at shutdown, so another takes over at once).
    pub async fn release_lease(&mut self, name: &str, owner: &str) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
