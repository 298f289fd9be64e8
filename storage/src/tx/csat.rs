//! Satisfaction surveys: one per close, the rating the customer pressed.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::Tx;
use crate::clock::from_ms;
use crate::model::CsatSurvey;
use crate::Result;

fn survey(row: &AnyRow) -> Result<CsatSurvey> {
    let rated_at: Option<i64> = row.try_get("rated_at")?;
    let commented_at: Option<i64> = row.try_get("commented_at")?;
    Ok(CsatSurvey {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        created_at: from_ms(row.try_get("created_at")?),
        rating: row
            .try_get::<Option<i64>, _>("rating")?
            .and_then(|r| u8::try_from(r).ok()),
        rated_at: rated_at.map(from_ms),
        comment: row.try_get("comment")?,
        commented_at: commented_at.map(from_ms),
    })
}

const COLUMNS: &str = "id, ticket_id, created_at, rating, rated_at, comment, commented_at";

impl Tx {
    /// Starts a survey for the ticket's latest close; returns its id.
    pub async fn create_csat_survey(&mut self, ticket_id: i64, now_ms: i64) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO csat_surveys (ticket_id, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(ticket_id)
        .bind(now_ms)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(row.try_get("id")?)
    }

    pub async fn csat_survey(&mut self, id: i64) -> Result<Option<CsatSurvey>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM csat_surveys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(survey).transpose()
    }

    /// The ticket's newest survey: the one a press counts on.
    pub async fn latest_csat_survey(&mut self, ticket_id: i64) -> Result<Option<CsatSurvey>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM csat_surveys WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(ticket_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref().map(survey).transpose()
    }

    /// The ticket's rating: that of its newest rated survey.
    pub async fn ticket_csat(&mut self, ticket_id: i64) -> Result<Option<CsatSurvey>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM csat_surveys WHERE ticket_id = $1 AND rating IS NOT NULL \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(ticket_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref().map(survey).transpose()
    }

    /// Stores `rating` (1–5) on survey `id`.
    pub async fn rate_csat_survey(&mut self, id: i64, rating: u8, now_ms: i64) -> Result<()> {
        let row = sqlx::query(
            "UPDATE csat_surveys SET rating = $1, rated_at = $2 WHERE id = $3 RETURNING ticket_id",
        )
        .bind(i64::from(rating))
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        if let Some(row) = row {
            let ticket_id: i64 = row.try_get("ticket_id")?;
            self.event(crate::EventKind::CsatReceived, ticket_id, Some(id), false);
        }
        Ok(())
    }

    /// Stores the customer's comment on survey `id` (the latest one counts).
    pub async fn comment_csat_survey(&mut self, id: i64, comment: &str, now_ms: i64) -> Result<()> {
        sqlx::query("UPDATE csat_surveys SET comment = $1, commented_at = $2 WHERE id = $3")
            .bind(comment)
            .bind(now_ms)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
