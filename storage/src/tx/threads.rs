use sqlx::Row;

use super::Tx;
use crate::{Platform, Result};

impl Tx {
    /// Records the staff thread (Discord thread, Telegram topic) of a ticket on a platform.
    pub async fn bind_thread(
        &mut self,
        ticket_id: i64,
        platform: Platform,
        thread_ref: &str,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO staff_threads (ticket_id, platform, thread_ref, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id, platform) DO UPDATE SET thread_ref = $3",
        )
        .bind(ticket_id)
        .bind(platform.as_str())
        .bind(thread_ref)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Records the platform's id of the ticket card posted in the ticket's staff thread.
    pub async fn set_thread_card(
        &mut self,
        ticket_id: i64,
        platform: Platform,
        card_ref: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE staff_threads SET card_ref = $3 WHERE ticket_id = $1 AND platform = $2",
        )
        .bind(ticket_id)
        .bind(platform.as_str())
        .bind(card_ref)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The platform's id of the ticket card in the ticket's staff thread, when known.
    pub async fn thread_card(
        &mut self,
        ticket_id: i64,
        platform: Platform,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT card_ref FROM staff_threads WHERE ticket_id = $1 AND platform = $2",
        )
        .bind(ticket_id)
        .bind(platform.as_str())
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row
            .map(|r| r.try_get::<Option<String>, _>("card_ref"))
            .transpose()?
            .flatten())
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
