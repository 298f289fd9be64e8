use sqlx::Row;

use super::Tx;
use crate::{Platform, Result};

impl Tx {
    /// Links a ticket to its staff thread (Discord thread, Telegram topic) on a platform,
    /// unless it has one already: a ticket never moves to a second thread, where agents would
    /// lose the first. Returns the thread the ticket is linked to now (`thread_ref`, or the
    /// one it had).
    pub async fn bind_thread(
        &mut self,
        ticket_id: i64,
        platform: Platform,
        thread_ref: &str,
        now_ms: i64,
    ) -> Result<String> {
        sqlx::query(
            "INSERT INTO staff_threads (ticket_id, platform, thread_ref, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(ticket_id)
        .bind(platform.as_str())
        .bind(thread_ref)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        self.thread_of(ticket_id, platform).await?.ok_or_else(|| {
            crate::StorageError::Corrupt(format!(
                "{platform} thread {thread_ref} belongs to another ticket than {ticket_id}"
            ))
        })
    }

    /// Records the platform's id of the ticket card posted in the ticket's staff thread, and
    /// the text that shares the card's message (`tail`), if any.
    pub async fn set_thread_card(
        &mut self,
        ticket_id: i64,
        platform: Platform,
        card_ref: &str,
        tail: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE staff_threads SET card_ref = $3, card_tail = $4 WHERE ticket_id = $1 AND platform = $2",
        )
        .bind(ticket_id)
        .bind(platform.as_str())
        .bind(card_ref)
        .bind(tail)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn thread_of(
        &mut self,
        ticket_id: i64,
        platform: Platform,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT thread_ref FROM staff_threads WHERE ticket_id = $1 AND platform = $2",
        )
        .bind(ticket_id)
        .bind(platform.as_str())
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.try_get("thread_ref")).transpose()?)
    }

    /// The ticket a staff thread belongs to.
    pub async fn ticket_id_by_thread(
        &mut self,
        platform: Platform,
        thread_ref: &str,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT ticket_id FROM staff_threads WHERE platform = $1 AND thread_ref = $2",
        )
        .bind(platform.as_str())
        .bind(thread_ref)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.try_get("ticket_id")).transpose()?)
    }
}
