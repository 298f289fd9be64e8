//! What the web chat widget reads and keeps: its conversation history, generated secrets,
//! visitors' files and the record of mailed transcripts.

use sqlx::Row;

use super::messages::message;
use super::Tx;
use crate::{Message, Platform, Result};

/// A file a visitor attached in the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetFile {
    pub key: String,
    pub conversation: String,
    pub file_name: String,
    pub mime_type: String,
    pub data: Vec<u8>,
}

/// A file whose message is not stored this long after the file arrived is deleted.
pub const UNATTACHED_FILE_MS: i64 = 10 * 60 * 1000;

impl Tx {
    /// The secret stored under `name`; `candidate` is stored first when there is none yet, so
    /// every instance ends up with the same value.
    pub async fn web_secret(&mut self, name: &str, candidate: &str, now_ms: i64) -> Result<String> {
        sqlx::query(
            "INSERT INTO web_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        let row = sqlx::query("SELECT value FROM web_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("value")?)
    }

    /// Messages the customer of a conversation may see (no internal notes) with an id above
    /// `after`, oldest first, across all of the conversation's tickets.
    pub async fn conversation_messages(
        &mut self,
        origin: Platform,
        conversation: &str,
        after: i64,
    ) -> Result<Vec<Message>> {
        let rows = sqlx::query(
            "SELECT m.id, m.ticket_id, m.author_kind, m.customer_id, m.agent_id, m.author_name, \
             m.body, m.attachments, m.internal, m.platform, m.external_id, m.created_at \
             FROM messages m JOIN tickets t ON t.id = m.ticket_id \
             WHERE t.origin = $1 AND t.conversation = $2 AND m.internal = 0 AND m.id > $3 \
             ORDER BY m.id",
        )
        .bind(origin.as_str())
        .bind(conversation)
        .bind(after)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(message).collect()
    }

    /// The customer linked to a platform identity, if any.
    pub async fn customer_of_identity(
        &mut self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT customer_id FROM customer_identities WHERE platform = $1 AND external_id = $2",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.try_get("customer_id")).transpose()?)
    }

    /// The oldest customer with this email address (compared without case) whose address can
    /// be trusted: one known on Telegram or Discord, or a site-verified widget user. An email
    /// typed by an unverified visitor never makes its customer a match.
    pub async fn trusted_customer_by_email(&mut self, email: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT c.id FROM customers c WHERE LOWER(c.email) = LOWER($1) AND EXISTS ( \
             SELECT 1 FROM customer_identities i WHERE i.customer_id = c.id \
             AND (i.platform <> 'web' OR i.external_id LIKE 'user:%')) \
             ORDER BY c.id LIMIT 1",
        )
        .bind(email)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    /// How many platform identities the customer has (a customer known only from one widget
    /// conversation has one).
    pub async fn customer_identity_count(&mut self, customer_id: i64) -> Result<i64> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM customer_identities WHERE customer_id = $1")
                .bind(customer_id)
                .fetch_one(&mut *self.inner)
                .await?;
        Ok(row.try_get("n")?)
    }

    /// Links a platform identity to an existing customer. Returns false when the identity was
    /// already linked (to whichever customer).
    pub async fn link_customer_identity(
        &mut self,
        platform: Platform,
        external_id: &str,
        customer_id: i64,
        display_name: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO customer_identities (platform, external_id, customer_id, display_name) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .bind(customer_id)
        .bind(display_name)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Agents currently on duty (and not disabled).
    pub async fn count_agents_on_duty(&mut self) -> Result<i64> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM agents WHERE on_duty = 1 AND disabled = 0")
                .fetch_one(&mut *self.inner)
                .await?;
        Ok(row.try_get("n")?)
    }

    /// Keeps a file. `attached`: its message is stored (or is about to be, in this
    /// transaction); otherwise it waits for [`Tx::attach_widget_file`] and is deleted by
    /// [`Tx::prune_unattached_files`] if that never comes.
    pub async fn put_widget_file(
        &mut self,
        file: &WidgetFile,
        now_ms: i64,
        attached: bool,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO widget_files (key, conversation, file_name, mime_type, size, data, created_at, attached) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&file.key)
        .bind(&file.conversation)
        .bind(&file.file_name)
        .bind(&file.mime_type)
        .bind(i64::try_from(file.data.len()).unwrap_or(i64::MAX))
        .bind(file.data.clone())
        .bind(now_ms)
        .bind(i64::from(attached))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Marks a file as belonging to a stored message: it is kept.
    pub async fn attach_widget_file(&mut self, key: &str) -> Result<()> {
        sqlx::query("UPDATE widget_files SET attached = 1 WHERE key = $1")
            .bind(key)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Deletes files uploaded before `before_ms` that no stored message took (see
    /// [`UNATTACHED_FILE_MS`]). Returns how many.
    pub async fn prune_unattached_files(&mut self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM widget_files WHERE attached = 0 AND created_at < $1")
            .bind(before_ms)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected())
    }

    /// Bytes of all kept files.
    pub async fn widget_file_bytes(&mut self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(SUM(size), 0) AS n FROM widget_files")
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn widget_file(&mut self, key: &str) -> Result<Option<WidgetFile>> {
        let row = sqlx::query(
            "SELECT key, conversation, file_name, mime_type, data FROM widget_files WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|r| -> Result<WidgetFile> {
            Ok(WidgetFile {
                key: r.try_get("key")?,
                conversation: r.try_get("conversation")?,
                file_name: r.try_get("file_name")?,
                mime_type: r.try_get("mime_type")?,
                data: r.try_get("data")?,
            })
        })
        .transpose()
    }

    /// Claims the transcript of a ticket's close for `sent_to`. False when it was claimed
    /// before: a transcript goes out once per close.
    pub async fn claim_transcript(
        &mut self,
        ticket_id: i64,
        closed_at_ms: i64,
        sent_to: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO widget_transcripts (ticket_id, closed_at, sent_to, sent_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(ticket_id)
        .bind(closed_at_ms)
        .bind(sent_to)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claim back after the mail could not be sent, so a retry sends it.
    pub async fn release_transcript(&mut self, ticket_id: i64, closed_at_ms: i64) -> Result<()> {
        sqlx::query("DELETE FROM widget_transcripts WHERE ticket_id = $1 AND closed_at = $2")
            .bind(ticket_id)
            .bind(closed_at_ms)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
