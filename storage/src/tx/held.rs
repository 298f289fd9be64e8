//! Staff posts held back because their thread was not linked to a ticket yet: a topic exists
//! from the moment the platform created it, and an agent may write in it before the link
//! commits. Such posts are kept here and ingested once the thread is known.

use sqlx::Row;

use super::Tx;
use crate::{Platform, Result};

/// A held post: the adapter's message, serialised by the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPost {
    pub id: i64,
    pub thread_ref: String,
    pub payload: String,
    pub created_at: i64,
}

fn held(row: &sqlx::any::AnyRow) -> Result<HeldPost> {
    Ok(HeldPost {
        id: row.try_get("id")?,
        thread_ref: row.try_get("thread_ref")?,
        payload: row.try_get("payload")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Tx {
    /// Keeps a staff post until its thread is linked. False when this platform message is
    /// held already (a redelivery).
    pub async fn hold_staff_post(
        &mut self,
        platform: Platform,
        thread_ref: &str,
        external_id: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO held_staff_posts (platform, thread_ref, external_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, external_id) DO NOTHING",
        )
        .bind(platform.as_str())
        .bind(thread_ref)
        .bind(external_id)
        .bind(payload)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Held posts whose thread is linked to a ticket by now, oldest first, at most `limit`.
    pub async fn held_posts_ready(
        &mut self,
        platform: Platform,
        limit: i64,
    ) -> Result<Vec<HeldPost>> {
        let rows = sqlx::query(
            "SELECT h.id, h.thread_ref, h.payload, h.created_at FROM held_staff_posts h \
             JOIN staff_threads s ON s.platform = h.platform AND s.thread_ref = h.thread_ref \
             WHERE h.platform = $1 ORDER BY h.id LIMIT $2",
        )
        .bind(platform.as_str())
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(held).collect()
    }

    /// Held posts of one thread, oldest first.
    pub async fn held_posts_of_thread(
        &mut self,
        platform: Platform,
        thread_ref: &str,
    ) -> Result<Vec<HeldPost>> {
        let rows = sqlx::query(
            "SELECT id, thread_ref, payload, created_at FROM held_staff_posts \
             WHERE platform = $1 AND thread_ref = $2 ORDER BY id",
        )
        .bind(platform.as_str())
        .bind(thread_ref)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(held).collect()
    }

    /// Held posts older than `before_ms` whose thread is still unknown, oldest first.
    pub async fn held_posts_expired(
        &mut self,
        platform: Platform,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<HeldPost>> {
        let rows = sqlx::query(
            "SELECT h.id, h.thread_ref, h.payload, h.created_at FROM held_staff_posts h \
             WHERE h.platform = $1 AND h.created_at < $2 AND NOT EXISTS \
             (SELECT 1 FROM staff_threads s WHERE s.platform = h.platform AND s.thread_ref = h.thread_ref) \
             ORDER BY h.id LIMIT $3",
        )
        .bind(platform.as_str())
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(held).collect()
    }

    /// Forgets a held post (ingested or given up). False when it was gone already.
    pub async fn release_held_post(&mut self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM held_staff_posts WHERE id = $1")
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
