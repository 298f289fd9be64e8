//! Canned replies: saved answers, one text per name and language.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{time, Tx};
use crate::model::CannedReply;
use crate::Result;

fn canned_reply(row: &AnyRow) -> Result<CannedReply> {
    let language: String = row.try_get("language")?;
    Ok(CannedReply {
        name: row.try_get("name")?,
        language: (!language.is_empty()).then_some(language),
        text: row.try_get("body")?,
        updated_at: time(row, "updated_at")?,
    })
}

const COLUMNS: &str = "name, language, body, updated_at";

impl Tx {
    /// Stores `text` as the canned reply `name` in `language` (`None`: for every language
    /// without its own text), replacing what was there. Returns whether it is new.
    pub async fn put_canned_reply(
        &mut self,
        name: &str,
        language: Option<&str>,
        text: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let language = language.unwrap_or("");
        let existed =
            sqlx::query("SELECT 1 AS one FROM canned_replies WHERE name = $1 AND language = $2")
                .bind(name)
                .bind(language)
                .fetch_optional(&mut *self.inner)
                .await?
                .is_some();
        sqlx::query(
            "INSERT INTO canned_replies (name, language, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (name, language) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(language)
        .bind(text)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(!existed)
    }

    /// Every canned reply, by name, the text for every language first.
    pub async fn canned_replies(&mut self) -> Result<Vec<CannedReply>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM canned_replies ORDER BY name, language"
        ))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(canned_reply).collect()
    }

    /// The texts of one canned reply, one per language.
    pub async fn canned_reply_variants(&mut self, name: &str) -> Result<Vec<CannedReply>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM canned_replies WHERE name = $1 ORDER BY language"
        ))
        .bind(name)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(canned_reply).collect()
    }

    /// The names of every canned reply, in order.
    pub async fn canned_reply_names(&mut self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT name FROM canned_replies ORDER BY name")
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(|row| Ok(row.try_get("name")?)).collect()
    }

    /// Removes the canned reply `name` in `language`, or in every language when `language` is
    /// `None`. Returns how many texts went.
    pub async fn remove_canned_reply(&mut self, name: &str, language: Option<&str>) -> Result<u64> {
        let done = match language {
            Some(language) => {
                sqlx::query("DELETE FROM canned_replies WHERE name = $1 AND language = $2")
                    .bind(name)
                    .bind(language)
                    .execute(&mut *self.inner)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM canned_replies WHERE name = $1")
                    .bind(name)
                    .execute(&mut *self.inner)
                    .await?
            }
        };
        Ok(done.rows_affected())
    }
}
