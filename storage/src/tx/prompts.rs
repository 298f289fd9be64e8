//! Widget prompts: what a widget visitor is shown with buttons (a satisfaction survey, an FAQ
//! answer). The outbox writes one per survey or offer; the visitor's socket reads them like
//! the conversation's messages, with where each stands (rated, answered).

use sqlx::Row;

use super::Tx;
use crate::clock::from_ms;
use crate::{Result, StorageError};

/// What a prompt asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// "How did we do?" with ratings 1–5; the subject is the survey.
    Survey,
    /// An FAQ answer with "That solved it" / "I still need help"; the subject is the ticket.
    Faq,
    /// A line from the desk without buttons (out of business hours); the subject is the
    /// ticket.
    Notice,
}

impl PromptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Survey => "survey",
            Self::Faq => "faq",
            Self::Notice => "notice",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "survey" => Ok(Self::Survey),
            "faq" => Ok(Self::Faq),
            "notice" => Ok(Self::Notice),
            other => Err(StorageError::Corrupt(format!("prompt kind `{other}`"))),
        }
    }
}

/// A prompt to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrompt<'a> {
    pub conversation: &'a str,
    pub ticket_id: i64,
    pub kind: PromptKind,
    pub subject_id: i64,
    pub body: &'a str,
    pub labels: &'a [String],
}

/// A stored prompt, with where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetPrompt {
    pub id: i64,
    pub conversation: String,
    pub ticket_id: i64,
    pub ticket_number: i64,
    pub kind: PromptKind,
    pub subject_id: i64,
    pub body: String,
    pub labels: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// A survey's rating so far.
    pub rating: Option<u8>,
    /// Whether a survey got a comment.
    pub commented: bool,
    /// An FAQ answer's outcome (`solved`, `escalated`) once the customer said.
    pub outcome: Option<String>,
}

const SELECT: &str = "SELECT p.id, p.conversation, p.ticket_id, t.number, p.kind, p.subject_id, \
     p.body, p.labels, p.created_at, c.rating, c.comment, f.outcome \
     FROM widget_prompts p JOIN tickets t ON t.id = p.ticket_id \
     LEFT JOIN csat_surveys c ON p.kind = 'survey' AND c.id = p.subject_id \
     LEFT JOIN faq_offers f ON p.kind = 'faq' AND f.ticket_id = p.subject_id";

fn prompt(row: &sqlx::any::AnyRow) -> Result<WidgetPrompt> {
    let labels: String = row.try_get("labels")?;
    Ok(WidgetPrompt {
        id: row.try_get("id")?,
        conversation: row.try_get("conversation")?,
        ticket_id: row.try_get("ticket_id")?,
        ticket_number: row.try_get("number")?,
        kind: PromptKind::parse(&row.try_get::<String, _>("kind")?)?,
        subject_id: row.try_get("subject_id")?,
        body: row.try_get("body")?,
        labels: labels
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        created_at: from_ms(row.try_get("created_at")?),
        rating: row
            .try_get::<Option<i64>, _>("rating")?
            .and_then(|r| u8::try_from(r).ok()),
        commented: row.try_get::<Option<String>, _>("comment")?.is_some(),
        outcome: row.try_get("outcome")?,
    })
}

impl Tx {
    /// Stores a prompt once per survey or offer (a resend of the same one changes nothing);
    /// returns whether it is new.
    pub async fn add_widget_prompt(&mut self, new: &NewPrompt<'_>, now_ms: i64) -> Result<bool> {
        let labels = new
            .labels
            .iter()
            .map(|l| l.replace(['\r', '\n'], " "))
            .collect::<Vec<_>>()
            .join("\n");
        let done = sqlx::query(
            "INSERT INTO widget_prompts (conversation, ticket_id, kind, subject_id, body, labels, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, subject_id) DO NOTHING",
        )
        .bind(new.conversation)
        .bind(new.ticket_id)
        .bind(new.kind.as_str())
        .bind(new.subject_id)
        .bind(new.body)
        .bind(labels)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The conversation's prompts with an id above `after`, oldest first.
    pub async fn widget_prompts(
        &mut self,
        conversation: &str,
        after: i64,
    ) -> Result<Vec<WidgetPrompt>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE p.conversation = $1 AND p.id > $2 ORDER BY p.id"
        ))
        .bind(conversation)
        .bind(after)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(prompt).collect()
    }

    pub async fn widget_prompt(&mut self, id: i64) -> Result<Option<WidgetPrompt>> {
        let row = sqlx::query(&format!("{SELECT} WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(prompt).transpose()
    }
}
