//! The Discord channel: customers write to the bot in DMs; every ticket gets a private thread
//! in the staff channel, opened by a ticket card; agents answer in the thread and drive the
//! ticket with slash commands.
//!
//! Receiving runs on serenity's gateway client ([`events`]); sending runs on serenity's HTTP
//! client ([`deliver`]). Both point at `discord.api_url`, so a loopback server can stand in
//! for Discord in tests.

mod backfill;
mod card;
mod commands;
mod deliver;
mod events;
mod inbound;
mod interactions;
mod messages;
mod panel;
mod rest;
mod settings;

use std::sync::Arc;

use async_trait::async_trait;
use relaydesk_storage::Platform;
use serenity::all::{ClientBuilder, GatewayIntents};
use tokio_util::sync::CancellationToken;

use crate::channel::{Channel, ChannelError};
use crate::config::DiscordConfig;
use crate::hub::{Deliver, Hub};

pub use deliver::DiscordDeliver;
pub use settings::{DiscordSettings, SettingsError};

/// Discord's limit on one message's content, in characters.
pub const MESSAGE_LIMIT: usize = 2000;
/// Discord's limit on a channel (thread) name, in characters.
pub const THREAD_NAME_LIMIT: usize = 100;

/// What the bot needs from the gateway.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::GUILD_MEMBERS
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// The Discord channel, built from `[discord]`.
pub struct DiscordChannel {
    settings: Arc<DiscordSettings>,
    deliver: Arc<DiscordDeliver>,
}

impl std::fmt::Debug for DiscordChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordChannel")
            .field("settings", &self.settings)
            .finish()
    }
}

impl DiscordChannel {
    /// Builds the channel; `None` when no token is configured.
    pub fn from_config(config: &DiscordConfig) -> Result<Option<Self>, SettingsError> {
        let Some(settings) = DiscordSettings::from_config(config)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            deliver: Arc::new(DiscordDeliver::new(&settings)),
            settings: Arc::new(settings),
        }))
    }
}

#[async_trait]
impl Channel for DiscordChannel {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    fn has_staff_side(&self) -> bool {
        true
    }

    fn has_customer_side(&self) -> bool {
        true
    }

    fn deliverer(&self) -> Arc<dyn Deliver> {
        self.deliver.clone()
    }

    async fn run(
        self: Arc<Self>,
        hub: Hub,
        shutdown: CancellationToken,
    ) -> Result<(), ChannelError> {
        let fail = |message: String| ChannelError {
            platform: Platform::Discord,
            message,
        };
        let handler = events::Handler::new(hub, self.settings.clone());
        let mut client = ClientBuilder::new_with_http(rest::http_client(&self.settings), intents())
            .event_handler(handler)
            .await
            .map_err(|e| fail(format!("cannot start the gateway client: {e}")))?;
        let shards = client.shard_manager.clone();
        tokio::select! {
            result = client.start() => {
                result.map_err(|e| fail(format!("gateway: {e}")))
            }
            _ = shutdown.cancelled() => {
                shards.shutdown_all().await;
                Ok(())
            }
        }
    }
}
