//! Gateway messages: DMs and customer-thread messages from customers, ticket-thread messages
//! from agents, and the same read back after an outage.

use std::collections::HashMap;

use relaydesk_storage::Platform;
use serenity::all::{ChannelId, Message, RoleId, User, UserId};

use super::backfill;
use super::events::{say, Worker};
use super::inbound::{classify, person, Incoming};
use crate::hub::{
    parse_staff_text, Actor, Command, CustomerMessage, HubError, Inbound, Ingested, StaffInput,
    StaffMessage, StaffOutcome, TicketRef,
};

impl Worker {
    /// The customer thread a channel is, if it is one (a Discord ticket's conversation).
    pub(super) async fn is_customer_thread(&self, channel: ChannelId) -> bool {
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
    pub(super) async fn customer_thread_message(&self, message: &Message) {
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

    pub(super) async fn message(&self, message: &Message) {
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

    pub(super) async fn is_ticket_thread(&self, channel: ChannelId) -> bool {
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

    pub(super) fn roles(&self, roles: &[RoleId], user: &User) -> Actor {
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
    pub(super) async fn guild_message(&self, message: &Message) {
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
    pub(super) async fn staff_message(&self, message: &Message, roles: &[RoleId], live: bool) {
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
                    Err(e) => e.chat_text(),
                };
                say(&self.http, thread, &format!("⚠️ {refusal}")).await;
            }
        }
    }

    /// Reads back what was written while no session was open, oldest first per channel.
    pub(super) async fn backfill(&mut self) {
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
}
