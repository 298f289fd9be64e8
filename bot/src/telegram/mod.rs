//! The Telegram channel: customers write to the bot in private chats; each ticket gets a forum
//! topic in the staff supergroup, where agents answer and run commands.
//!
//! `inbound` reads updates, `receive` hands them to the hub, `polling`/`webhook` bring them in,
//! `deliver` turns the hub's sends into Bot API calls, `errors` classifies failures.

mod admins;
mod card;
mod config;
mod deliver;
mod errors;
mod files;
pub use files::KeepFiles;
mod inbound;
mod pacing;
mod polling;
mod receive;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use relaydesk_desk::{Language, CATALOGUE};
use relaydesk_storage::Platform;
use teloxide::payloads::setters::*;
use teloxide::requests::{Request, Requester};
use teloxide::types::{AllowedUpdate, BotCommand, BotCommandScope, ChatId, Recipient};
use teloxide::Bot;
use tokio_util::sync::CancellationToken;

pub use config::{TelegramConfig, TelegramMode, DEFAULT_API_URL};
pub use deliver::{TelegramSender, MESSAGE_CHARS};
pub use inbound::{translate, Incoming};
pub use pacing::Pacing;
pub use receive::{Receiver, OUTSIDE_TOPIC};
pub use webhook::SECRET_HEADER;

use crate::channel::{Channel, ChannelError};
use crate::hub::{Deliver, Hub};

/// Timing of the Bot API client.
#[derive(Debug, Clone)]
pub struct TelegramOptions {
    /// `timeout` of `getUpdates`: how long Telegram holds a poll open when there is nothing.
    pub long_poll: Duration,
    /// Longest wait for any one Bot API answer (must exceed `long_poll`).
    pub request_timeout: Duration,
    /// This instance, as the holder of the polling lease: the same after a restart (so a
    /// restarted instance polls again at once), different for every other instance.
    pub instance: String,
    /// Which of customers' files are fetched and kept for the console.
    pub keep_files: KeepFiles,
}

impl Default for TelegramOptions {
    fn default() -> Self {
        Self {
            long_poll: Duration::from_secs(25),
            request_timeout: Duration::from_secs(40),
            instance: host_name(),
            keep_files: KeepFiles::default(),
        }
    }
}

/// This machine's name (`HOSTNAME`, else `/etc/hostname`), for telling instances apart.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "relaydesk".to_string())
}

pub struct TelegramChannel {
    config: TelegramConfig,
    bot: Bot,
    staff_chat_id: i64,
    sender: Arc<TelegramSender>,
    options: TelegramOptions,
}

impl std::fmt::Debug for TelegramChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramChannel")
            .field("config", &self.config)
            .field("options", &self.options)
            .finish()
    }
}

impl TelegramChannel {
    /// The channel when `[telegram]` has a token; `Ok(None)` when it is off.
    pub fn from_config(
        config: &TelegramConfig,
        options: TelegramOptions,
    ) -> Result<Option<Self>, String> {
        let Some(token) = config.enabled_token() else {
            return Ok(None);
        };
        config.validate()?;
        let staff_chat_id = config
            .staff_chat_id
            .ok_or("telegram.staff_chat_id is required when telegram.token is set")?;
        let api_url = url::Url::parse(config.api_url.trim_end_matches('/'))
            .map_err(|e| format!("telegram.api_url: not a valid URL ({e})"))?;
        let client = teloxide::net::default_reqwest_settings()
            .timeout(options.request_timeout)
            .build()
            .map_err(|e| format!("cannot build the Telegram HTTP client: {e}"))?;
        let bot = Bot::with_client(token, client).set_api_url(api_url);
        Ok(Some(Self {
            config: config.clone(),
            sender: Arc::new(TelegramSender::new(
                bot.clone(),
                staff_chat_id,
                config.pacing(),
            )),
            bot,
            staff_chat_id,
            options,
        }))
    }

    fn failed(message: impl Into<String>) -> ChannelError {
        ChannelError {
            platform: Platform::Telegram,
            message: message.into(),
        }
    }

    /// `getMe` until it answers: a wrong token stops the channel, other failures are retried.
    async fn check_token(
        &self,
        health: &relaydesk_desk::ChannelHealth,
        shutdown: &CancellationToken,
    ) -> Result<bool, ChannelError> {
        let mut failures = 0u32;
        loop {
            match self.bot.get_me().send().await {
                Ok(me) => {
                    tracing::info!(bot = %me.username(), "Telegram bot connected");
                    health.set("telegram", relaydesk_desk::ChannelState::Connected);
                    return Ok(true);
                }
                Err(e) if errors::is_fatal(&e) => {
                    return Err(Self::failed(format!(
                        "the Bot API refused telegram.token: {e}"
                    )))
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "getMe failed; retrying");
                    health.set(
                        "telegram",
                        relaydesk_desk::ChannelState::NotConnected {
                            reason: format!("getMe failed: {e}"),
                        },
                    );
                    let wait = Duration::from_secs(u64::from(failures.min(30)));
                    if !polling::pause(wait, shutdown).await {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// The staff group's command menu, from the catalogue: the English one for everyone, and
    /// one per other language for members whose Telegram speaks it.
    async fn register_commands(&self) {
        let scope = BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(self.staff_chat_id)),
        };
        for language in Language::ALL {
            let commands = CATALOGUE
                .iter()
                .map(|spec| BotCommand::new(spec.name, spec.help.get(language)));
            let mut request = self.bot.set_my_commands(commands).scope(scope.clone());
            if language != Language::En {
                request = request.language_code(language.code());
            }
            if let Err(e) = request.send().await {
                tracing::warn!(error = %e, language = language.code(), "could not register the staff commands");
            }
        }
    }

    async fn set_webhook(&self, shutdown: &CancellationToken) -> Result<(), ChannelError> {
        let url = self
            .config
            .webhook_url
            .as_deref()
            .ok_or_else(|| Self::failed("telegram.webhook_url is not set"))?;
        let url =
            url::Url::parse(url).map_err(|e| Self::failed(format!("telegram.webhook_url: {e}")))?;
        let secret = self.config.webhook_secret.clone().unwrap_or_default();
        let mut failures = 0u32;
        loop {
            let result = self
                .bot
                .set_webhook(url.clone())
                .secret_token(secret.clone())
                .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
                // One update at a time keeps each chat's messages in order.
                .max_connections(1)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e) if errors::is_fatal(&e) => {
                    return Err(Self::failed(format!("setWebhook refused: {e}")))
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "setWebhook failed; retrying");
                    let wait = Duration::from_secs(u64::from(failures.min(30)));
                    if !polling::pause(wait, shutdown).await {
                        return Ok(());
                    }
                }
            }
        }
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn has_staff_side(&self) -> bool {
        true
    }

    fn has_customer_side(&self) -> bool {
        true
    }

    fn deliverer(&self) -> Arc<dyn Deliver> {
        self.sender.clone()
    }

    fn routes(&self, hub: Hub) -> Option<axum::Router> {
        if self.config.mode != TelegramMode::Webhook {
            return None;
        }
        let path = self.config.webhook_path()?;
        let secret = self.config.webhook_secret.as_deref()?;
        let receiver = Arc::new(Receiver::new(
            hub,
            self.bot.clone(),
            self.staff_chat_id,
            self.options.keep_files.clone(),
        ));
        Some(webhook::routes(&path, secret, receiver))
    }

    async fn run(
        self: Arc<Self>,
        hub: Hub,
        shutdown: CancellationToken,
    ) -> Result<(), ChannelError> {
        let health = hub.channel_health().clone();
        if !self.check_token(&health, &shutdown).await? {
            return Ok(());
        }
        self.register_commands().await;
        match self.config.mode {
            TelegramMode::Webhook => {
                self.set_webhook(&shutdown).await?;
                tracing::info!("Telegram updates arrive by webhook");
                shutdown.cancelled().await;
                Ok(())
            }
            TelegramMode::Polling => {
                // getUpdates does not work while a webhook is set.
                if let Err(e) = self.bot.delete_webhook().send().await {
                    tracing::warn!(error = %e, "deleteWebhook failed");
                }
                tracing::info!("Telegram updates arrive by long polling");
                let lease = polling::PollLease {
                    store: hub.store().clone(),
                    owner: self.options.instance.clone(),
                    ttl: self.options.long_poll + std::time::Duration::from_secs(30),
                };
                let receiver = Receiver::new(
                    hub,
                    self.bot.clone(),
                    self.staff_chat_id,
                    self.options.keep_files.clone(),
                );
                polling::poll(
                    &self.bot,
                    &receiver,
                    self.options.long_poll,
                    &lease,
                    &health,
                    &shutdown,
                )
                .await
                .map_err(|e| Self::failed(e.to_string()))
            }
        }
    }
}
