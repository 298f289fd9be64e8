//! Customers' images and PDFs, fetched from Telegram (`getFile`, then the file itself) and kept
//! like a visitor's upload, so the console can show them: Telegram gives the bot only a file
//! handle. The file's type is decided by its bytes; anything else, anything larger than
//! allowed, a full file store (`web.max_upload_storage_mb`, shared with the widget) or a
//! failed fetch leaves the attachment as it was (the message is never held up or lost over a
//! file). A file is kept for good only once its message is stored ([`attach`]); housekeeping
//! deletes the others.

use relaydesk_storage::{Attachment, WidgetFile};
use teloxide::net::Download;
use teloxide::requests::Requester;
use teloxide::Bot;

use crate::hub::{CustomerMessage, Hub};

/// What to keep of customers' files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepFiles {
    /// Largest file fetched (`web.max_attachment_bytes`); 0 keeps none.
    pub max_bytes: usize,
    /// `web.public_url`, for the links other channels show.
    pub public_url: Option<String>,
    /// Most bytes all kept files may take (`web.max_upload_storage_mb`).
    pub max_total_bytes: i64,
}

impl Default for KeepFiles {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            public_url: None,
            max_total_bytes: 10_240 * 1024 * 1024,
        }
    }
}

/// Fetches and keeps (for now: until [`attach`]) the message's files that are images or PDFs
/// within the limits; each kept one gets the address the console and the other channels link
/// to. Returns the kept files' keys.
pub async fn keep(
    hub: &Hub,
    bot: &Bot,
    keep: &KeepFiles,
    message: &mut CustomerMessage,
) -> Vec<String> {
    let mut kept_keys = Vec::new();
    if keep.max_bytes == 0 || message.attachments.is_empty() {
        return kept_keys;
    }
    // A message stored before (Telegram repeating an update) is not stored again: its files
    // were fetched the first time.
    if let Some(id) = message.external_message_id.as_deref() {
        match stored_before(hub, id).await {
            Ok(false) => {}
            Ok(true) => return kept_keys,
            Err(e) => tracing::warn!(error = %e, "could not check for a repeated message"),
        }
    }
    for attachment in &mut message.attachments {
        match fetch(bot, attachment, keep.max_bytes).await {
            Ok(Some(file)) => {
                let file = WidgetFile {
                    key: hex::encode(rand::random::<[u8; 32]>()),
                    conversation: message.conversation.clone(),
                    file_name: file.name,
                    mime_type: file.mime.to_string(),
                    data: file.data,
                };
                match store(hub, &file, keep.max_total_bytes).await {
                    Ok(true) => {
                        let kept =
                            relaydesk_web::file_attachment(&file, keep.public_url.as_deref());
                        attachment.url = kept.url;
                        attachment.mime_type = kept.mime_type;
                        kept_keys.push(file.key);
                    }
                    Ok(false) => tracing::warn!(
                        "the file store is full (web.max_upload_storage_mb): a customer's file \
                         stays on Telegram only"
                    ),
                    Err(e) => tracing::warn!(error = %e, "could not keep a customer's file"),
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not fetch a customer's file from Telegram")
            }
        }
    }
    kept_keys
}

/// Keeps for good the files of a message that is now stored.
pub async fn attach(hub: &Hub, keys: &[String]) -> Result<(), relaydesk_storage::StorageError> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut tx = hub.store().begin().await?;
    for key in keys {
        tx.attach_widget_file(key).await?;
    }
    tx.commit().await
}

struct Fetched {
    name: String,
    mime: &'static str,
    data: Vec<u8>,
}

/// The file's bytes when it is one to keep.
async fn fetch(
    bot: &Bot,
    attachment: &Attachment,
    max_bytes: usize,
) -> Result<Option<Fetched>, String> {
    let Some(id) = attachment.platform_ref.as_deref() else {
        return Ok(None);
    };
    let wanted = matches!(attachment.kind.as_str(), "photo" | "document" | "sticker");
    let too_big = |size: u64| usize::try_from(size).map_or(true, |s| s > max_bytes);
    if !wanted || attachment.size.is_some_and(|s| too_big(s.unsigned_abs())) {
        return Ok(None);
    }
    let file = bot
        .get_file(teloxide::types::FileId(id.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    if too_big(u64::from(file.meta.size)) {
        return Ok(None);
    }
    let mut data = Vec::new();
    bot.download_file(&file.path, &mut data)
        .await
        .map_err(|e| e.to_string())?;
    if data.len() > max_bytes {
        return Ok(None);
    }
    let Some(mime) = relaydesk_web::sniff_file(&data) else {
        return Ok(None);
    };
    let name = attachment
        .file_name
        .clone()
        .or_else(|| file.path.rsplit('/').next().map(str::to_string))
        .unwrap_or_default();
    Ok(Some(Fetched {
        name: relaydesk_web::clean_file_name(&name, mime),
        mime,
        data,
    }))
}

async fn stored_before(
    hub: &Hub,
    external_id: &str,
) -> Result<bool, relaydesk_storage::StorageError> {
    let mut tx = hub.store().begin().await?;
    let found = tx
        .message_by_external(relaydesk_storage::Platform::Telegram, external_id)
        .await?;
    tx.rollback().await?;
    Ok(found.is_some())
}

/// Stores the file, not yet attached; false when the store is full.
async fn store(
    hub: &Hub,
    file: &WidgetFile,
    max_total_bytes: i64,
) -> Result<bool, relaydesk_storage::StorageError> {
    let size = i64::try_from(file.data.len()).unwrap_or(i64::MAX);
    let mut tx = hub.store().begin().await?;
    if tx.widget_file_bytes().await?.saturating_add(size) > max_total_bytes {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.put_widget_file(file, hub.clock().now_ms(), false)
        .await?;
    tx.commit().await?;
    Ok(true)
}
