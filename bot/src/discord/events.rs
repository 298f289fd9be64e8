//! The gateway side: messages and interactions from Discord, in gateway order, handed to the
//! hub.
//!
//! serenity runs each event handler call in a task of its own, so handler calls can overtake
//! each other. Collectors, however, run inside the shard's loop in the order events arrive:
//! once the bot is ready a collector queues every message in order. The event handler queues
//! them too (covering the moment between READY and the collector's start); the worker skips
//! a message it has already handled.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ChannelId, CollectorCallback, Context, CreateAllowedMentions, CreateMessage,
    Event as GatewayEvent, EventHandler, Interaction, Message, MessageId, Ready,
};
use serenity::http::Http;
use tokio::sync::mpsc;

use super::{commands, panel, DiscordSettings, MESSAGE_LIMIT};
use crate::hub::text::truncate_chars;
use crate::hub::{Hub, HubError, Inbound, Ingested};

enum Event {
    Ready(Ready),
    Message(Message),
    Interaction(Interaction),
}

/// How often a message is offered to the hub when the store fails.
const INGEST_ATTEMPTS: u32 = 6;

/// How many recent message ids the worker remembers to skip a message queued twice.
const SEEN: usize = 4096;

/// Queues gateway events for the [`Worker`].
pub struct Handler {
    queue: mpsc::UnboundedSender<Event>,
    /// Counts READYs; a collector from an earlier session removes itself.
    sessions: Arc<AtomicU64>,
}

impl Handler {
    pub fn new(hub: Hub, settings: Arc<DiscordSettings>) -> Self {
        let (queue, events) = mpsc::unbounded_channel();
        let worker = Worker {
            hub,
            http: Arc::new(super::rest::http_client(&settings)),
            settings,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
        };
        tokio::spawn(worker.run(events));
        Self {
            queue,
            sessions: Arc::default(),
        }
    }

    fn push(&self, event: Event) {
        if self.queue.send(event).is_err() {
            tracing::error!("discord event worker stopped; an event was dropped");
        }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        // From now on this shard's messages are queued in gateway order.
        let queue = self.queue.clone();
        let sessions = self.sessions.clone();
        let session = sessions.fetch_add(1, Ordering::SeqCst) + 1;
        ctx.shard
            .add_collector(CollectorCallback(Box::new(move |event| {
                if sessions.load(Ordering::SeqCst) != session {
                    return false;
                }
                if let GatewayEvent::MessageCreate(created) = event {
                    return queue.send(Event::Message(created.message.clone())).is_ok();
                }
                !queue.is_closed()
            })));
        self.push(Event::Ready(ready));
    }

    async fn message(&self, _ctx: Context, message: Message) {
        self.push(Event::Message(message));
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        self.push(Event::Interaction(interaction));
    }
}

/// Handles the queued events one at a time.
pub(super) struct Worker {
    pub(super) hub: Hub,
    pub(super) http: Arc<Http>,
    pub(super) settings: Arc<DiscordSettings>,
    seen: HashSet<MessageId>,
    seen_order: VecDeque<MessageId>,
}

impl Worker {
    async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        while let Some(event) = events.recv().await {
            match event {
                Event::Ready(ready) => {
                    self.ready(ready).await;
                    self.backfill().await;
                }
                Event::Message(message) => {
                    if self.first_time(message.id) {
                        self.message(&message).await;
                    }
                }
                Event::Interaction(interaction) => self.interaction(interaction).await,
            }
        }
    }

    /// Whether this message was not handled yet (it may be queued twice).
    pub(super) fn first_time(&mut self, id: MessageId) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.seen_order.push_back(id);
        if self.seen_order.len() > SEEN {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// Hands a message to the hub, trying again when the store fails for a moment: Discord
    /// sends a gateway event once, so giving up early would lose it.
    pub(super) async fn ingest(&self, inbound: Inbound) -> Result<Ingested, HubError> {
        let mut pause = Duration::from_millis(100);
        for _ in 1..INGEST_ATTEMPTS {
            match self.hub.ingest(inbound.clone()).await {
                Err(HubError::Storage(e)) => {
                    tracing::warn!(error = %e, ?pause, "storing a Discord message failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = pause.saturating_mul(2);
                }
                other => return other,
            }
        }
        self.hub.ingest(inbound).await
    }

    async fn ready(&self, ready: Ready) {
        self.http.set_application_id(ready.application.id);
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        self.hub
            .channel_health()
            .set("discord", relaydesk_desk::ChannelState::Connected);
        if let Err(e) = self
            .settings
            .guild
            .set_commands(
                &self.http,
                commands::definitions(self.settings.support_channel.is_some()),
            )
            .await
        {
            tracing::error!(error = %e, "could not register the slash commands");
        }
        if let Some(support) = self.settings.support_channel {
            if let Err(e) = panel::ensure_panel(&self.http, support, ready.user.id).await {
                tracing::error!(error = %e, "could not post the support panel");
            }
        }
    }
}

/// A short bot line in a channel, pinging no one.
pub(super) async fn say(http: &Http, channel: ChannelId, text: &str) {
    let message = CreateMessage::new()
        .content(truncate_chars(text, MESSAGE_LIMIT))
        .allowed_mentions(CreateAllowedMentions::new());
    if let Err(e) = channel.send_message(http, message).await {
        tracing::warn!(%channel, error = %e, "could not post in Discord");
    }
}
