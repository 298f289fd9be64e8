//! Send pacing kept in the store, so that a restarted process and every other instance respect
//! the same platform limits: each pace (`telegram:group:-100123`, …) records the next moment a
//! send may go out.

use sqlx::Row;

use super::Tx;
use crate::Result;

/// One limit a send falls under: `key` names it, `gap_ms` is the spacing between two sends,
/// `cost` how many sends this one counts as (a text split in parts, files after a text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pace {
    pub key: String,
    pub gap_ms: i64,
    pub cost: i64,
}

impl Tx {
    /// Takes a slot of every pace in `paces` at `now_ms`, or of none: `Ok(None)` when the send
    /// may go out now, `Ok(Some(ms))` for how long until every pace has room. Paces with no
    /// gap are free. On PostgreSQL the pace rows stay locked until the transaction ends, so
    /// two instances never take the same slot.
    pub async fn claim_paces(&mut self, paces: &[Pace], now_ms: i64) -> Result<Option<i64>> {
        let mut paces: Vec<&Pace> = paces.iter().filter(|p| p.gap_ms > 0).collect();
        // One order for every claimer, so two transactions never wait on each other in a ring.
        paces.sort_by(|a, b| a.key.cmp(&b.key));
        paces.dedup_by(|a, b| a.key == b.key);
        let mut wait = 0_i64;
        for pace in &paces {
            let next_at = match self.pace_next_at(&pace.key).await? {
                Some(at) => at,
                None => {
                    sqlx::query(
                        "INSERT INTO pacing (pace_key, next_at) VALUES ($1, 0) \
                         ON CONFLICT (pace_key) DO NOTHING",
                    )
                    .bind(&pace.key)
                    .execute(&mut *self.inner)
                    .await?;
                    self.pace_next_at(&pace.key).await?.unwrap_or(0)
                }
            };
            wait = wait.max(next_at.saturating_sub(now_ms));
        }
        if wait > 0 {
            return Ok(Some(wait));
        }
        for pace in paces {
            sqlx::query("UPDATE pacing SET next_at = $2 WHERE pace_key = $1")
                .bind(&pace.key)
                .bind(now_ms.saturating_add(pace.gap_ms.saturating_mul(pace.cost.max(1))))
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(None)
    }

    async fn pace_next_at(&mut self, key: &str) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT next_at FROM pacing WHERE pace_key = $1{}",
            self.for_update()
        );
        let row = sqlx::query(&sql)
            .bind(key)
            .fetch_optional(&mut *self.inner)
            .await?;
        Ok(row.map(|r| r.try_get("next_at")).transpose()?)
    }
}
