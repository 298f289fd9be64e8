use sqlx::any::AnyRow;
use sqlx::Row;

use super::{flag, parse, time, Tx};
use crate::{Attachment, Message, NewMessage, Platform, Result, StorageError};

/// Rows per multi-row insert: well under both backends' limits on bound values.
const ROWS_PER_STATEMENT: usize = 300;

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

/// The columns a new message is written with, in the order [`bind_new`] binds them; the
/// creation time is bound by the caller after them.
const INSERT_COLUMNS: &str = "ticket_id, author_kind, customer_id, agent_id, author_name, body, \
     attachments, internal, platform, external_id, created_at";

/// Binds a new message's values (all of [`INSERT_COLUMNS`] but `created_at`).
fn bind_new<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    new: &NewMessage<'q>,
    external_id: Option<&'q str>,
) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>> {
    let attachments = serde_json::to_string(new.attachments)
        .map_err(|e| StorageError::Corrupt(format!("attachments: {e}")))?;
    Ok(query
        .bind(new.ticket_id)
        .bind(new.author_kind.as_str())
        .bind(new.customer_id)
        .bind(new.agent_id)
        .bind(new.author_name)
        .bind(new.body)
        .bind(attachments)
        .bind(i64::from(new.internal))
        .bind(new.platform.as_str())
        .bind(external_id))
}

impl Tx {
    /// Appends a message. Returns `None` when the same (platform, external id) is already stored:
    /// a platform message is stored once, however often it arrives.
    pub async fn append_message(
        &mut self,
        new: &NewMessage<'_>,
        now_ms: i64,
    ) -> Result<Option<Message>> {
        let sql = format!(
            "INSERT INTO messages ({INSERT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        );
        let row = bind_new(sqlx::query(&sql), new, new.external_id)?
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

    /// Appends several platform messages in one statement, in the order given. Each must carry
    /// its platform's message id; the answer lines up with `new`: the stored id, or `None` for
    /// a message stored before (or earlier in `new`).
    pub async fn append_messages(
        &mut self,
        new: &[NewMessage<'_>],
        now_ms: i64,
    ) -> Result<Vec<Option<i64>>> {
        const PER_ROW: usize = 10;
        let mut stored = std::collections::HashMap::new();
        for chunk in new.chunks(ROWS_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "({}, ${})",
                        super::placeholders(i * PER_ROW + 1, PER_ROW),
                        chunk.len() * PER_ROW + 1
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO messages ({INSERT_COLUMNS}) VALUES {} \
                 ON CONFLICT DO NOTHING RETURNING id, ticket_id, internal, platform, external_id",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for m in chunk {
                let Some(external_id) = m.external_id else {
                    return Err(StorageError::Conflict(
                        "a message stored with others needs its platform's id".to_string(),
                    ));
                };
                query = bind_new(query, m, Some(external_id))?;
            }
            let rows = query.bind(now_ms).fetch_all(&mut *self.inner).await?;
            for row in &rows {
                let platform: Platform = parse(row, "platform")?;
                let external_id: String = row.try_get("external_id")?;
                let id: i64 = row.try_get("id")?;
                let ticket_id: i64 = row.try_get("ticket_id")?;
                let internal = flag(row, "internal")?;
                stored.insert((platform, external_id), (id, ticket_id, internal));
            }
        }
        // RETURNING gives rows in no promised order: line them up with `new` by platform id.
        // Ids rise in the order given, so the events keep that order too.
        let mut answer = Vec::with_capacity(new.len());
        for m in new {
            let key = (m.platform, m.external_id.unwrap_or_default().to_string());
            let id = stored.remove(&key).map(|(id, ticket_id, internal)| {
                self.event(
                    crate::EventKind::MessageCreated,
                    ticket_id,
                    Some(id),
                    internal,
                );
                id
            });
            answer.push(id);
        }
        Ok(answer)
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

    /// Several messages by id in one statement; ids not stored are absent.
    pub async fn messages_by_id(
        &mut self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Message>> {
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE id IN ({})",
            super::placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        rows.iter()
            .map(|row| message(row).map(|m| (m.id, m)))
            .collect()
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
