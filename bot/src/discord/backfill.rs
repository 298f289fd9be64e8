//! Reading back what was written while the gateway session was lost: after a fresh IDENTIFY
//! (and at start), the messages after the last stored one in every recent DM conversation and
//! ticket thread are fetched through REST, oldest first.

use std::time::Duration;

use relaydesk_storage::{BackfillCursor, Platform};
use serenity::all::{ChannelId, GetMessages, Message, MessageId};
use serenity::http::Http;

use crate::hub::Hub;

/// Discord's page size for message history.
const PAGE: u8 = 100;
/// Conversations of tickets changed this recently are read again, closed or not.
const LOOK_BACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// The conversations and threads to read again.
pub async fn cursors(hub: &Hub) -> Result<Vec<BackfillCursor>, relaydesk_storage::StorageError> {
    let look_back = i64::try_from(LOOK_BACK.as_millis()).unwrap_or(i64::MAX);
    let since = hub.clock().now_ms().saturating_sub(look_back);
    let mut tx = hub.store().begin().await?;
    tx.backfill_cursors(Platform::Discord, since).await
}

fn snowflake(raw: &str) -> Option<u64> {
    raw.trim().parse::<u64>().ok().filter(|n| *n > 0)
}

/// Every message of `cursor.channel` after `cursor.after` (or after the channel's creation),
/// oldest first.
pub async fn missed(http: &Http, cursor: &BackfillCursor) -> Result<Vec<Message>, serenity::Error> {
    let Some(channel) = snowflake(&cursor.channel) else {
        return Ok(Vec::new());
    };
    // A channel id is a snowflake of its creation: every message in it comes later.
    let mut after = cursor
        .after
        .as_deref()
        .and_then(snowflake)
        .unwrap_or(channel);
    let mut all = Vec::new();
    loop {
        let mut page = ChannelId::new(channel)
            .messages(
                http,
                GetMessages::new().after(MessageId::new(after)).limit(PAGE),
            )
            .await?;
        let full = page.len() >= usize::from(PAGE);
        page.sort_by_key(|m| m.id);
        match page.last() {
            Some(last) => after = last.id.get(),
            None => break,
        }
        all.extend(page);
        if !full {
            break;
        }
    }
    Ok(all)
}
