use sqlx::any::AnyRow;
use sqlx::Row;

use super::{parse, Tx};
use crate::{Backend, OutboxItem, OutboxRow, OutboxStatus, Platform, ReplyDelivery, Result};

const ROW_COLUMNS: &str =
    "id, ticket_id, lane, platform, payload, status, attempts, next_attempt_at, external_ref, last_error";

fn outbox_row(row: &AnyRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        lane: row.try_get("lane")?,
        platform: parse(row, "platform")?,
        payload: row.try_get("payload")?,
        status: parse(row, "status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        external_ref: row.try_get("external_ref")?,
        last_error: row.try_get("last_error")?,
    })
}

/// Rows per multi-row insert: well under both backends' limits on bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// One send for [`Tx::enqueue_many`].
#[derive(Debug, Clone)]
pub struct NewOutboxRow<'a> {
    pub ticket_id: Option<i64>,
    pub lane: &'a str,
    pub platform: Platform,
    pub payload: &'a str,
    /// The stored message this send carries, if any (see [`Tx::enqueue_carrying`]).
    pub message_id: Option<i64>,
    /// Not before this time (ms since the epoch); `None`: at once.
    pub next_attempt_at: Option<i64>,
}

impl Tx {
    /// Queues a send. Rows of one `lane` are delivered one at a time, in the order queued.
    pub async fn enqueue(
        &mut self,
        ticket_id: Option<i64>,
        lane: &str,
        platform: Platform,
        payload: &str,
        now_ms: i64,
    ) -> Result<i64> {
        self.enqueue_carrying(ticket_id, lane, platform, payload, None, now_ms)
            .await
    }

    /// [`Tx::enqueue`] for a send that carries stored message `message_id` to the customer, so
    /// its state can be shown with the message ([`Tx::reply_deliveries`]).
    pub async fn enqueue_carrying(
        &mut self,
        ticket_id: Option<i64>,
        lane: &str,
        platform: Platform,
        payload: &str,
        message_id: Option<i64>,
        now_ms: i64,
    ) -> Result<i64> {
        self.enqueue_row(
            ticket_id, lane, platform, payload, message_id, now_ms, now_ms,
        )
        .await
    }

    /// [`Tx::enqueue`] for a send that must not go out before `not_before_ms`.
    pub async fn enqueue_after(
        &mut self,
        ticket_id: Option<i64>,
        lane: &str,
        platform: Platform,
        payload: &str,
        not_before_ms: i64,
        now_ms: i64,
    ) -> Result<i64> {
        self.enqueue_row(
            ticket_id,
            lane,
            platform,
            payload,
            None,
            not_before_ms,
            now_ms,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn enqueue_row(
        &mut self,
        ticket_id: Option<i64>,
        lane: &str,
        platform: Platform,
        payload: &str,
        message_id: Option<i64>,
        next_attempt_at: i64,
        now_ms: i64,
    ) -> Result<i64> {
        self.queued_for.insert(platform);
        let row = sqlx::query(
            "INSERT INTO outbox (ticket_id, lane, platform, payload, message_id, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(ticket_id)
        .bind(lane)
        .bind(platform.as_str())
        .bind(payload)
        .bind(message_id)
        .bind(next_attempt_at)
        .bind(now_ms)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Queues several sends in one statement, in the order given (each lane keeps that order).
    pub async fn enqueue_many(&mut self, rows: &[NewOutboxRow<'_>], now_ms: i64) -> Result<()> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let n = i * 6;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6,
                        chunk.len() * 6 + 1
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO outbox (ticket_id, lane, platform, payload, message_id, next_attempt_at, created_at) \
                 VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                self.queued_for.insert(row.platform);
                query = query
                    .bind(row.ticket_id)
                    .bind(row.lane)
                    .bind(row.platform.as_str())
                    .bind(row.payload)
                    .bind(row.message_id)
                    .bind(row.next_attempt_at.unwrap_or(now_ms));
            }
            query.bind(now_ms).execute(&mut *self.inner).await?;
        }
        Ok(())
    }

    /// How the sends carrying a ticket's messages to the customer stand, one per message (the
    /// latest send of each), in no particular order.
    pub async fn reply_deliveries(&mut self, ticket_id: i64) -> Result<Vec<ReplyDelivery>> {
        let rows = sqlx::query(
            "SELECT o.message_id, o.platform, o.status, o.last_error FROM outbox o \
             WHERE o.ticket_id = $1 AND o.message_id IS NOT NULL AND o.id = \
             (SELECT MAX(l.id) FROM outbox l WHERE l.ticket_id = o.ticket_id AND l.message_id = o.message_id)",
        )
        .bind(ticket_id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReplyDelivery {
                    message_id: r.try_get("message_id")?,
                    platform: parse(r, "platform")?,
                    status: parse(r, "status")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Leases up to `limit` due rows of a platform to `owner` until `now + lease_ms`. Only the
    /// head of each lane is eligible, so one lane never has two rows in flight; on PostgreSQL
    /// rows locked by another instance are skipped.
    pub async fn lease(
        &mut self,
        platform: Platform,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>> {
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT o.id FROM outbox o \
                 WHERE o.status = 'pending' AND o.platform = $3 AND o.next_attempt_at <= $4 \
                 AND (o.lease_until IS NULL OR o.lease_until < $4) \
                 AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.lane = o.lane AND p.status = 'pending' AND p.id < o.id) \
                 ORDER BY o.next_attempt_at, o.id LIMIT $5 {skip_locked}) \
             RETURNING id, ticket_id, lane, platform, payload, attempts"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(now_ms + lease_ms)
            .bind(platform.as_str())
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&mut *self.inner)
            .await?;
        let mut items = rows
            .iter()
            .map(|r| {
                Ok(OutboxItem {
                    id: r.try_get("id")?,
                    ticket_id: r.try_get("ticket_id")?,
                    lane: r.try_get("lane")?,
                    platform: parse(r, "platform")?,
                    payload: r.try_get("payload")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    /// The pending rows queued in `lane` after row `after_id`, in order, at most `limit`, as
    /// long as each is due at `now_ms` and leased by no one: the rows that could go out
    /// together with the lane's head. Reads only; [`Tx::lease_joined_row`] takes them.
    pub async fn lane_followers(
        &mut self,
        lane: &str,
        after_id: i64,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, lane, platform, payload, attempts, \
             CASE WHEN next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
             THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS free \
             FROM outbox WHERE lane = $1 AND status = 'pending' AND id > $2 ORDER BY id LIMIT $4",
        )
        .bind(lane)
        .bind(after_id)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let free: i64 = r.try_get("free")?;
            if free != 1 {
                break;
            }
            items.push(OutboxItem {
                id: r.try_get("id")?,
                ticket_id: r.try_get("ticket_id")?,
                lane: r.try_get("lane")?,
                platform: parse(r, "platform")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get::<i64, _>("attempts")? + 1,
            });
        }
        Ok(items)
    }

    /// The pending rows that went out joined to row `head` last time it was tried, in order.
    pub async fn joined_rows(&mut self, head: i64) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, lane, platform, payload, attempts FROM outbox \
             WHERE joined_to = $1 AND status = 'pending' ORDER BY id",
        )
        .bind(head)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxItem {
                    id: r.try_get("id")?,
                    ticket_id: r.try_get("ticket_id")?,
                    lane: r.try_get("lane")?,
                    platform: parse(r, "platform")?,
                    payload: r.try_get("payload")?,
                    attempts: r.try_get::<i64, _>("attempts")? + 1,
                })
            })
            .collect()
    }

    /// Leases one pending row that nobody holds to `owner` until `now + lease_ms`, counting
    /// an attempt, as part of row `head`'s post. Returns false when the row is gone, finished
    /// or held by someone else.
    pub async fn lease_joined_row(
        &mut self,
        id: i64,
        head: i64,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET lease_owner = $2, lease_until = $3, attempts = attempts + 1, joined_to = $5 \
             WHERE id = $1 AND status = 'pending' AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(id)
        .bind(owner)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(head)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a confirmed send. Returns false when the lease was lost (another worker owns it).
    pub async fn mark_delivered(
        &mut self,
        id: i64,
        owner: &str,
        external_ref: Option<&str>,
        now_ms: i64,
    ) -> Result<bool> {
        let marked = self
            .mark_delivered_many(&[(id, external_ref)], owner, now_ms)
            .await?;
        Ok(marked.contains(&id))
    }

    /// [`Tx::mark_delivered`] for several sends (row id, the platform's reference), one
    /// statement per few hundred. Returns the ids recorded; a row missing from the answer had
    /// lost its lease.
    pub async fn mark_delivered_many(
        &mut self,
        sent: &[(i64, Option<&str>)],
        owner: &str,
        now_ms: i64,
    ) -> Result<std::collections::HashSet<i64>> {
        let mut marked = std::collections::HashSet::new();
        for chunk in sent.chunks(ROWS_PER_STATEMENT) {
            // A derived table both backends read (SQLite names no columns of a VALUES list).
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let n = 3 + 2 * i;
                    if i == 0 {
                        format!("SELECT ${n} AS sent_id, ${} AS sent_ref", n + 1)
                    } else {
                        format!("SELECT ${n}, ${}", n + 1)
                    }
                })
                .collect();
            let sql = format!(
                "UPDATE outbox SET status = 'delivered', external_ref = sent.sent_ref, finished_at = $2, \
                 lease_owner = NULL, lease_until = NULL, last_error = NULL \
                 FROM ({}) AS sent \
                 WHERE outbox.id = sent.sent_id AND outbox.lease_owner = $1 AND outbox.status = 'pending' \
                 RETURNING id",
                rows.join(" UNION ALL ")
            );
            let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(owner).bind(now_ms);
            for (id, external_ref) in chunk {
                query = query.bind(*id).bind(*external_ref);
            }
            marked.extend(query.fetch_all(&mut *self.inner).await?);
        }
        Ok(marked)
    }

    /// Gives a leased row back to be tried again at `next_attempt_ms`.
    /// `counts` false (the platform only asked us to wait) gives the attempt back, so rate
    /// limiting never brings a row closer to being given up, and lets go of the row's place in
    /// a joined post (nothing was posted, so the next try may join rows anew).
    pub async fn reschedule(
        &mut self,
        id: i64,
        owner: &str,
        next_attempt_ms: i64,
        error: &str,
        counts: bool,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $3, last_error = $4, lease_owner = NULL, lease_until = NULL, \
             attempts = CASE WHEN $5 = 1 THEN attempts ELSE attempts - 1 END, \
             joined_to = CASE WHEN $5 = 1 THEN joined_to ELSE NULL END \
             WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(next_attempt_ms)
        .bind(error)
        .bind(i64::from(counts))
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up on a row for good; the lane moves on.
    pub async fn mark_failed(
        &mut self,
        id: i64,
        owner: &str,
        error: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'failed', last_error = $3, finished_at = $4, lease_owner = NULL, \
             lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(owner)
        .bind(error)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The payload of the delivery to `platform` that created `external_ref` (a message a
    /// customer now replies to), if it is still kept.
    pub async fn delivered_payload(
        &mut self,
        platform: Platform,
        external_ref: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT payload FROM outbox WHERE platform = $1 AND external_ref = $2 \
             AND status = 'delivered' ORDER BY id DESC LIMIT 1",
        )
        .bind(platform.as_str())
        .bind(external_ref)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|r| Ok(r.try_get("payload")?)).transpose()
    }

    /// Marks the delivery to `platform` that created `external_ref` failed after the fact (a
    /// mail that bounced), with `error`. Returns its row id and ticket, or `None` when no
    /// delivered row has that reference.
    pub async fn bounce_delivery(
        &mut self,
        platform: Platform,
        external_ref: &str,
        error: &str,
        now_ms: i64,
    ) -> Result<Option<(i64, Option<i64>)>> {
        let row = sqlx::query(
            "UPDATE outbox SET status = 'failed', last_error = $3, finished_at = $4 \
             WHERE platform = $1 AND external_ref = $2 AND status = 'delivered' \
             RETURNING id, ticket_id",
        )
        .bind(platform.as_str())
        .bind(external_ref)
        .bind(error)
        .bind(now_ms)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("ticket_id")?)))
            .transpose()
    }

    /// Extends the leases `owner` holds on `ids` to `until_ms`, while their send is still under
    /// way. Returns how many are still held.
    pub async fn renew_leases(&mut self, ids: &[i64], owner: &str, until_ms: i64) -> Result<u64> {
        let mut held = 0;
        for id in ids {
            let done = sqlx::query(
                "UPDATE outbox SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'pending'",
            )
            .bind(id)
            .bind(owner)
            .bind(until_ms)
            .execute(&mut *self.inner)
            .await?;
            held += done.rows_affected();
        }
        Ok(held)
    }

    /// Rows given up for good, newest first, at most `limit`.
    pub async fn failed_outbox(&mut self, limit: i64) -> Result<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM outbox WHERE status = 'failed' ORDER BY id DESC LIMIT $1"
        );
        let rows = sqlx::query(&sql)
            .bind(limit)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(outbox_row).collect()
    }

    /// Puts a failed row back in its lane to be tried again from now, with its attempts
    /// counted afresh, and with it the failed rows after it in the same lane: those that
    /// failed because it did (a staff post whose thread could not be opened) go out behind it,
    /// in order. False when the row is not a failed one.
    pub async fn retry_failed(&mut self, id: i64, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, finished_at = NULL, \
             lease_owner = NULL, lease_until = NULL, joined_to = NULL WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() == 1 {
            let row = sqlx::query("SELECT platform, lane FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *self.inner)
                .await?;
            let lane: String = row.try_get("lane")?;
            sqlx::query(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $3, \
                 finished_at = NULL, lease_owner = NULL, lease_until = NULL, joined_to = NULL \
                 WHERE lane = $1 AND id > $2 AND status = 'failed'",
            )
            .bind(&lane)
            .bind(id)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
            self.queued_for.insert(parse(&row, "platform")?);
            return Ok(true);
        }
        Ok(false)
    }

    /// What a delivered row's platform send returned (its message id), if delivered.
    pub async fn outbox_row(&mut self, id: i64) -> Result<Option<OutboxRow>> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM outbox WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(outbox_row).transpose()
    }

    /// Every outbox row of a ticket, in queue order.
    pub async fn outbox_for_ticket(&mut self, ticket_id: i64) -> Result<Vec<OutboxRow>> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM outbox WHERE ticket_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(ticket_id)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(outbox_row).collect()
    }

    pub async fn count_outbox(&mut self, status: OutboxStatus) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = $1")
            .bind(status.as_str())
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The soonest moment a pending row of this platform becomes due, if any.
    pub async fn next_due(&mut self, platform: Platform) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at THEN lease_until \
             ELSE next_attempt_at END) AS due FROM outbox WHERE status = 'pending' AND platform = $1",
        )
        .bind(platform.as_str())
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(row.try_get("due")?)
    }
}
