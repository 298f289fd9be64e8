//! Posts to the console's channels: what the SLA engine sends to a team whose alert channel is
//! the console (`[[sla.team]] console_channel`).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{time, Tx};
use crate::model::ConsolePost;
use crate::Result;

fn console_post(row: &AnyRow) -> Result<ConsolePost> {
    Ok(ConsolePost {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        text: row.try_get("body")?,
        created_at: time(row, "created_at")?,
    })
}

impl Tx {
    /// Stores a post in a console channel; returns its id.
    pub async fn add_console_post(
        &mut self,
        channel: &str,
        text: &str,
        now_ms: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO console_posts (channel, body, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(channel)
        .bind(text)
        .bind(now_ms)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// The newest `limit` posts of every console channel, newest first.
    pub async fn console_posts(&mut self, limit: i64) -> Result<Vec<ConsolePost>> {
        let rows = sqlx::query(
            "SELECT id, channel, body, created_at FROM console_posts ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(console_post).collect()
    }
}
