//! FAQ entries and the answers offered to new tickets.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{time, Tx};
use crate::model::{FaqEntry, FaqOffer};
use crate::Result;

fn entry(row: &AnyRow) -> Result<FaqEntry> {
    let language: String = row.try_get("language")?;
    let keywords: String = row.try_get("keywords")?;
    Ok(FaqEntry {
        name: row.try_get("name")?,
        language: (!language.is_empty()).then_some(language),
        keywords: keywords
            .split('\n')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect(),
        question: row.try_get("question")?,
        answer: row.try_get("answer")?,
        updated_at: time(row, "updated_at")?,
    })
}

const COLUMNS: &str = "name, language, keywords, question, answer, updated_at";

impl Tx {
    /// Stores an FAQ entry's text in `language` (`None`: every language without its own),
    /// replacing what was there. Keywords are stored one per line. Returns whether it is new.
    pub async fn put_faq_entry(&mut self, entry: &FaqEntry, now_ms: i64) -> Result<bool> {
        let language = entry.language.as_deref().unwrap_or("");
        let existed =
            sqlx::query("SELECT 1 AS one FROM faq_entries WHERE name = $1 AND language = $2")
                .bind(&entry.name)
                .bind(language)
                .fetch_optional(&mut *self.inner)
                .await?
                .is_some();
        sqlx::query(
            "INSERT INTO faq_entries (name, language, keywords, question, answer, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (name, language) DO UPDATE SET keywords = excluded.keywords, \
             question = excluded.question, answer = excluded.answer, updated_at = excluded.updated_at",
        )
        .bind(&entry.name)
        .bind(language)
        .bind(entry.keywords.join("\n"))
        .bind(&entry.question)
        .bind(&entry.answer)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(!existed)
    }

    /// Every FAQ entry text, by name, the text for every language first.
    pub async fn faq_entries(&mut self) -> Result<Vec<FaqEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM faq_entries ORDER BY name, language"
        ))
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(entry).collect()
    }

    /// Removes an entry in one language, or in all when `language` is `None`; returns how
    /// many texts went.
    pub async fn remove_faq_entry(&mut self, name: &str, language: Option<&str>) -> Result<u64> {
        let done = match language {
            Some(language) => {
                sqlx::query("DELETE FROM faq_entries WHERE name = $1 AND language = $2")
                    .bind(name)
                    .bind(language)
                    .execute(&mut *self.inner)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM faq_entries WHERE name = $1")
                    .bind(name)
                    .execute(&mut *self.inner)
                    .await?
            }
        };
        Ok(done.rows_affected())
    }

    /// Records that ticket `ticket_id` was offered FAQ entry `name`.
    pub async fn offer_faq(&mut self, ticket_id: i64, name: &str, now_ms: i64) -> Result<()> {
        sqlx::query("INSERT INTO faq_offers (ticket_id, faq_name, offered_at) VALUES ($1, $2, $3)")
            .bind(ticket_id)
            .bind(name)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn faq_offer(&mut self, ticket_id: i64) -> Result<Option<FaqOffer>> {
        let row =
            sqlx::query("SELECT ticket_id, faq_name, outcome FROM faq_offers WHERE ticket_id = $1")
                .bind(ticket_id)
                .fetch_optional(&mut *self.inner)
                .await?;
        row.map(|row| {
            Ok(FaqOffer {
                ticket_id: row.try_get("ticket_id")?,
                faq_name: row.try_get("faq_name")?,
                outcome: row.try_get("outcome")?,
            })
        })
        .transpose()
    }

    /// Settles a waiting offer as `outcome` (`solved` or `escalated`); false when it was
    /// settled before.
    pub async fn settle_faq_offer(
        &mut self,
        ticket_id: i64,
        outcome: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE faq_offers SET outcome = $1, answered_at = $2 \
             WHERE ticket_id = $3 AND outcome IS NULL",
        )
        .bind(outcome)
        .bind(now_ms)
        .bind(ticket_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes the ticket's held pending sends in `lane` due now.
    pub async fn release_lane(&mut self, lane: &str, now_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1 \
             WHERE lane = $2 AND status = 'pending' AND next_attempt_at > $1",
        )
        .bind(now_ms)
        .bind(lane)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected())
    }

    /// Settles the pending sends in `lane` as done without sending them (a ticket the FAQ
    /// solved: its staff thread is never opened).
    pub async fn drop_lane(&mut self, lane: &str, now_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'delivered', finished_at = $1, \
             last_error = 'not sent: solved by an FAQ answer' \
             WHERE lane = $2 AND status = 'pending' AND lease_owner IS NULL",
        )
        .bind(now_ms)
        .bind(lane)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected())
    }
}
