use sqlx::any::AnyRow;
use sqlx::Row;

use super::{flag, parse, time, Tx};
use crate::{Attachment, Message, NewMessage, Platform, Result, StorageError};

const COLUMNS: &str = "id, ticket_id, author_kind, customer_id, agent_id, author_name, body, \
     attachments, internal, platform, external_id, created_at";

pub(super) fn message(row: &AnyRow) -> Result<Message> {
    let attachments: String = row.try_get("attachments")?;
    let attachments: Vec<Attachment> = serde_json::from_str(&attachments)
        .map_err(|e| StorageError::Corrupt(format!("attachments of a message: {e}")))?;
    Ok(Message {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        author_kind: parse(row, "author_kind")?,
        customer_id: row.try_get("customer_id")?,
        agent_id: row.try_get("agent_id")?,
        author_name: row.try_get("author_name")?,
        body: row.try_get("body")?,
        attachments,
        internal: flag(row, "internal")?,
        platform: parse(row, "platform")?,
        external_id: row.try_get("external_id")?,
        created_at: time(row, "created_at")?,
    })
}

impl Tx {
    /// Appends a message. Returns `None` when the same (platform, external id) is already stored:
    /// a platform message is stored once, however often it arrives.
    pub async fn append_message(
        &mut self,
        new: &NewMessage<'_>,
        now_ms: i64,
    ) -> Result<Option<Message>> {
        let attachments = serde_json::to_string(new.attachments)
            .map_err(|e| StorageError::Corrupt(format!("attachments: {e}")))?;
        let sql = format!(
            "INSERT INTO messages (ticket_id, author_kind, customer_id, agent_id, author_name, body, \
             attachments, internal, platform, external_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.ticket_id)
            .bind(new.author_kind.as_str())
            .bind(new.customer_id)
            .bind(new.agent_id)
            .bind(new.author_name)
            .bind(new.body)
            .bind(attachments)
            .bind(i64::from(new.internal))
            .bind(new.platform.as_str())
            .bind(new.external_id)
            .bind(now_ms)
            .fetch_optional(&mut *self.inner)
            .await?;
        let stored = row.as_ref().map(message).transpose()?;
        if let Some(stored) = &stored {
            self.event(
                crate::EventKind::MessageCreated,
                stored.ticket_id,
                Some(stored.id),
                stored.internal,
            );
        }
        Ok(stored)
    }

    /// The stored message for a platform message id, if any.
    pub async fn message_by_external(
        &mut self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Option<Message>> {
        let sql =
            format!("SELECT {COLUMNS} FROM messages WHERE platform = $1 AND external_id = $2");
        let row = sqlx::query(&sql)
            .bind(platform.as_str())
            .bind(external_id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(message).transpose()
    }

    pub async fn message(&mut self, id: i64) -> Result<Message> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref()
            .map(message)
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("message id {id}")))
    }

    /// Every message of a ticket, in the order they were stored.
    pub async fn messages(&mut self, ticket_id: i64) -> Result<Vec<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE ticket_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(ticket_id)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(message).collect()
    }

    pub async fn count_messages(&mut self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM messages")
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Remembers a platform event that is not stored as a message. Returns false when it was
    /// remembered before (a redelivery).
    pub async fn remember_event(
        &mut self,
        platform: Platform,
        external_id: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO inbound_events (platform, external_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
