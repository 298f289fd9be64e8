//! `Hub::post_to_channel`: a durable post that belongs to no ticket thread (a greeting, an answer
//! to a command typed outside a ticket thread), delivered by the outbox like everything else.

use relaydesk_storage::Platform;

use super::{Delivery, Hub, HubError};

impl Hub {
    /// Queues `text` for `channel` (the platform's address: chat id, `chat:topic`, channel id).
    /// Returns once committed.
    pub async fn post_to_channel(
        &self,
        platform: Platform,
        channel: &str,
        text: &str,
    ) -> Result<(), HubError> {
        let now = self.clock.now_ms();
        let delivery = Delivery::ChannelPost {
            channel: channel.to_string(),
            text: text.to_string(),
            mention: None,
        };
        let payload = serde_json::to_string(&delivery)?;
        let mut tx = self.store.begin().await?;
        tx.enqueue(
            None,
            &Delivery::channel_lane(platform, channel),
            platform,
            &payload,
            now,
        )
        .await?;
        tx.commit().await?;
        self.wakers.wake([platform]);
        Ok(())
    }
}
