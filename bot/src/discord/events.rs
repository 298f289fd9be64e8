//! The gateway side: messages and interactions from Discord, in gateway order, handed to the
//! hub.
//!
//! serenity runs each event handler call in a task of its own, so handler calls can overtake
//! each other. Collectors, however, run inside the shard's loop in the order events arrive:
//! once the bot is ready a collector queues every message in order. The event handler queues
//! them too (covering the moment between READY and the collector's start); the worker skips
//! a message it has already handled.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use relaydesk_storage::Platform;
use serenity::all::{
    ChannelId, CollectorCallback, CommandInteraction, ComponentInteraction, Context,
    CreateAllowedMentions, CreateInteractionResponse, CreateInteractionResponseMessage,
    CreateMessage, Event as GatewayEvent, EventHandler, Interaction, Message, MessageId,
    ModalInteraction, Ready, RoleId, User, UserId,
};
use serenity::http::Http;
use tokio::sync::mpsc;

use super::inbound::{classify, person, Incoming};
use super::{backfill, card, commands, panel, DiscordSettings, MESSAGE_LIMIT};
use crate::hub::text::truncate_chars;
use crate::hub::{
    parse_staff_text, Actor, Command, CommandReply, CustomerMessage, Hub, HubError, Inbound,
    Ingested, StaffInput, StaffMessage, StaffOutcome, TicketRef,
};

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

struct Worker {
    hub: Hub,
    http: Arc<Http>,
    settings: Arc<DiscordSettings>,
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
    fn first_time(&mut self, id: MessageId) -> bool {
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
    async fn ingest(&self, inbound: Inbound) -> Result<Ingested, HubError> {
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

    /// The customer thread a channel is, if it is one (a Discord ticket's conversation).
    async fn is_customer_thread(&self, channel: ChannelId) -> bool {
        let found = async {
            let mut tx = self.hub.store().begin().await?;
            tx.latest_ticket(Platform::Discord, &channel.to_string())
                .await
        };
        match found.await {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::error!(error = %e, "cannot look up a conversation");
                false
            }
        }
    }

    /// A customer writes in their private support thread.
    async fn customer_thread_message(&self, message: &Message) {
        let customer = CustomerMessage {
            platform: Platform::Discord,
            external_message_id: Some(message.id.to_string()),
            customer: person(&message.author),
            conversation: message.channel_id.to_string(),
            subject: None,
            text: message.content.clone(),
            attachments: super::inbound::attachments(message),
        };
        match self.ingest(Inbound::Customer(customer)).await {
            Ok(outcome) => tracing::debug!(?outcome, "customer thread message ingested"),
            Err(e) => {
                tracing::warn!(error = %e, "customer thread message not ingested");
                say(&self.http, message.channel_id, &e.user_message()).await;
            }
        }
    }

    /// Opens a ticket from the guild (panel form or `/ticket`): a private thread in the
    /// support channel for the customer, and the ticket with its first message. Returns what
    /// to tell the customer.
    async fn open_guild_ticket(
        &self,
        customer: &User,
        subject: &str,
        text: &str,
        key: String,
    ) -> Result<String, String> {
        let Some(support) = self.settings.support_channel else {
            return Err("Send me a direct message to open a ticket.".into());
        };
        let thread = panel::customer_thread(&self.http, support, customer)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not open a customer thread");
                "Sorry, the ticket could not be opened; please try again.".to_string()
            })?;
        let message = CustomerMessage {
            platform: Platform::Discord,
            external_message_id: Some(key),
            customer: person(customer),
            conversation: thread.to_string(),
            subject: Some(subject.to_string()),
            text: text.to_string(),
            attachments: Vec::new(),
        };
        match self.ingest(Inbound::Customer(message)).await {
            Ok(_) => Ok(format!("Your ticket is open: <#{thread}>")),
            Err(e) => Err(e.user_message()),
        }
    }

    async fn message(&self, message: &Message) {
        match classify(message, self.settings.guild) {
            Incoming::Customer(customer) => match self.ingest(Inbound::Customer(customer)).await {
                Ok(outcome) => tracing::debug!(?outcome, "DM ingested"),
                Err(e) => {
                    tracing::warn!(error = %e, "DM not ingested");
                    if !matches!(e, HubError::Storage(_) | HubError::Encode(_)) {
                        say(&self.http, message.channel_id, &e.user_message()).await;
                    }
                }
            },
            Incoming::Guild => self.guild_message(message).await,
            Incoming::Ignored => {}
        }
    }

    async fn is_ticket_thread(&self, channel: ChannelId) -> bool {
        let found = async {
            let mut tx = self.hub.store().begin().await?;
            tx.ticket_id_by_thread(Platform::Discord, &channel.to_string())
                .await
        };
        match found.await {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::error!(error = %e, "cannot look up a thread");
                false
            }
        }
    }

    fn roles(&self, roles: &[RoleId], user: &User) -> Actor {
        match self.settings.role_of(roles) {
            Some(role) => Actor::Staff {
                platform: Platform::Discord,
                user: person(user),
                role,
            },
            None => Actor::Customer {
                platform: Platform::Discord,
                user: person(user),
            },
        }
    }

    /// A message in the guild: staff input when it is in a ticket thread.
    async fn guild_message(&self, message: &Message) {
        if !self.is_ticket_thread(message.channel_id).await {
            if self.is_customer_thread(message.channel_id).await {
                self.customer_thread_message(message).await;
            }
            return;
        }
        let roles = message
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        self.staff_message(message, &roles, true).await;
    }

    /// A message in a ticket thread. Members without a staff role are not relayed; their
    /// commands are refused by the hub. `live` is false for messages read back after an
    /// outage: commands among them are not run again (their author got no answer then and
    /// repeats them if still wanted), and nothing is answered.
    async fn staff_message(&self, message: &Message, roles: &[RoleId], live: bool) {
        let thread = message.channel_id;
        match self.roles(roles, &message.author) {
            Actor::Staff { user, role, .. } => {
                if !live
                    && matches!(
                        parse_staff_text(&message.content, self.hub.config().relay_mode),
                        Ok(StaffInput::Command(_)) | Err(_)
                    )
                {
                    tracing::info!(%thread, message = %message.id, "a command written during an outage was not run");
                    return;
                }
                let staff = StaffMessage {
                    platform: Platform::Discord,
                    external_message_id: Some(message.id.to_string()),
                    thread_ref: thread.to_string(),
                    agent: user,
                    role,
                    text: message.content.clone(),
                    attachments: super::inbound::attachments(message),
                };
                match self.ingest(Inbound::Staff(staff)).await {
                    Ok(Ingested::Staff(StaffOutcome::Command(reply))) => {
                        say(&self.http, thread, &reply.text).await
                    }
                    Ok(outcome) => tracing::debug!(?outcome, "staff message ingested"),
                    Err(e) if live => {
                        say(&self.http, thread, &format!("⚠️ {}", e.user_message())).await
                    }
                    Err(e) => tracing::warn!(error = %e, "a missed staff message was not stored"),
                }
            }
            actor => {
                let text = message.content.trim_start();
                if !live || !text.starts_with('/') || text.starts_with("//") {
                    return;
                }
                let ticket = TicketRef::Thread {
                    platform: Platform::Discord,
                    thread_ref: thread.to_string(),
                };
                let refusal = match Command::parse_text(text) {
                    Ok(command) => match self.hub.execute(&actor, &ticket, command).await {
                        Ok(reply) => {
                            tracing::error!(?reply, "a non-agent's command was run");
                            return;
                        }
                        Err(e) => e.user_message(),
                    },
                    Err(e) => e.user_message(),
                };
                say(&self.http, thread, &format!("⚠️ {refusal}")).await;
            }
        }
    }

    /// Reads back what was written while no session was open, oldest first per channel.
    async fn backfill(&mut self) {
        let cursors = match backfill::cursors(&self.hub).await {
            Ok(cursors) => cursors,
            Err(e) => {
                tracing::error!(error = %e, "cannot list conversations to read back");
                return;
            }
        };
        let mut roles: HashMap<UserId, Vec<RoleId>> = HashMap::new();
        let mut count = 0usize;
        for cursor in cursors {
            let missed = match backfill::missed(&self.http, &cursor).await {
                Ok(missed) => missed,
                Err(e) => {
                    tracing::warn!(channel = %cursor.channel, error = %e, "cannot read back a channel");
                    continue;
                }
            };
            for message in missed {
                if message.author.bot
                    || message.webhook_id.is_some()
                    || !self.first_time(message.id)
                {
                    continue;
                }
                count += 1;
                if !cursor.staff {
                    let mut dm = message.clone();
                    dm.guild_id = None;
                    self.message(&dm).await;
                    continue;
                }
                let member_roles = match roles.get(&message.author.id) {
                    Some(r) => r.clone(),
                    None => {
                        let found = self
                            .settings
                            .guild
                            .member(&self.http, message.author.id)
                            .await
                            .map(|m| m.roles)
                            .unwrap_or_default();
                        roles.insert(message.author.id, found.clone());
                        found
                    }
                };
                self.staff_message(&message, &member_roles, false).await;
            }
        }
        if count > 0 {
            tracing::info!(count, "messages written during the outage were read back");
        }
    }

    async fn interaction(&self, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) => self.slash_command(&command).await,
            Interaction::Component(component) => self.button(&component).await,
            Interaction::Modal(modal) => self.form(&modal).await,
            _ => {}
        }
    }

    async fn run_command(
        &self,
        actor: &Actor,
        channel: ChannelId,
        command: Command,
    ) -> Result<CommandReply, HubError> {
        let ticket = TicketRef::Thread {
            platform: Platform::Discord,
            thread_ref: channel.to_string(),
        };
        self.hub.execute(actor, &ticket, command).await
    }

    async fn form(&self, interaction: &ModalInteraction) {
        if interaction.data.custom_id != panel::OPEN_FORM {
            return;
        }
        let (subject, description) = panel::form_values(&interaction.data);
        let text = if description.trim().is_empty() {
            subject.clone()
        } else {
            description
        };
        let answer_text = match self
            .open_guild_ticket(
                &interaction.user,
                &subject,
                &text,
                interaction.id.to_string(),
            )
            .await
        {
            Ok(text) | Err(text) => text,
        };
        if let Err(e) = interaction
            .create_response(&self.http, answer(&answer_text, true))
            .await
        {
            tracing::warn!(error = %e, "could not answer a ticket form");
        }
    }

    async fn slash_command(&self, interaction: &CommandInteraction) {
        if interaction.data.name == "ticket" {
            let text = match commands::ticket_subject(&interaction.data) {
                Some(subject) => match self
                    .open_guild_ticket(
                        &interaction.user,
                        &subject,
                        &subject,
                        interaction.id.to_string(),
                    )
                    .await
                {
                    Ok(text) | Err(text) => text,
                },
                None => "/ticket needs a subject".to_string(),
            };
            if let Err(e) = interaction
                .create_response(&self.http, answer(&text, true))
                .await
            {
                tracing::warn!(error = %e, "could not answer /ticket");
            }
            return;
        }
        let roles = interaction
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        let actor = self.roles(&roles, &interaction.user);
        let (text, ephemeral) = match commands::command_of(&interaction.data) {
            Ok(command) => {
                let shown = commands::shown(&command, interaction.user.display_name());
                match self
                    .run_command(&actor, interaction.channel_id, command)
                    .await
                {
                    Ok(reply) => (shown.unwrap_or(reply.text), false),
                    Err(e) => (e.user_message(), true),
                }
            }
            Err(e) => (e.user_message(), true),
        };
        let response = answer(&text, ephemeral);
        if let Err(e) = interaction.create_response(&self.http, response).await {
            tracing::warn!(error = %e, "could not answer a slash command");
        }
    }

    async fn button(&self, interaction: &ComponentInteraction) {
        if interaction.data.custom_id == panel::OPEN_BUTTON {
            let form = CreateInteractionResponse::Modal(panel::form());
            if let Err(e) = interaction.create_response(&self.http, form).await {
                tracing::warn!(error = %e, "could not show the ticket form");
            }
            return;
        }
        let command = match interaction.data.custom_id.as_str() {
            card::CLAIM_BUTTON => Command::Claim,
            card::CLOSE_BUTTON => Command::Close(None),
            _ => return,
        };
        let roles = interaction
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        let actor = self.roles(&roles, &interaction.user);
        let (text, ephemeral) = match self
            .run_command(&actor, interaction.channel_id, command)
            .await
        {
            Ok(reply) => (reply.text, false),
            Err(e) => (e.user_message(), true),
        };
        if let Err(e) = interaction
            .create_response(&self.http, answer(&text, ephemeral))
            .await
        {
            tracing::warn!(error = %e, "could not answer a button");
        }
    }
}

fn answer(text: &str, ephemeral: bool) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(truncate_chars(text, MESSAGE_LIMIT))
            .ephemeral(ephemeral)
            .allowed_mentions(CreateAllowedMentions::new()),
    )
}

/// A short bot line in a channel, pinging no one.
async fn say(http: &Http, channel: ChannelId, text: &str) {
    let message = CreateMessage::new()
        .content(truncate_chars(text, MESSAGE_LIMIT))
        .allowed_mentions(CreateAllowedMentions::new());
    if let Err(e) = channel.send_message(http, message).await {
        tracing::warn!(%channel, error = %e, "could not post in Discord");
    }
}
