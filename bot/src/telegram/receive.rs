//! One update, start to finish: translate it, hand it to the hub, queue any answer. Shared by
//! long polling and the webhook. Returns an error only when the update must be tried again
//! (nothing was committed); everything else is answered and done.

use relaydesk_storage::{Platform, Role};
use teloxide::payloads::setters::*;
use teloxide::requests::{Request, Requester};
use teloxide::types::Update;
use teloxide::Bot;

use super::admins::Admins;
use super::files::KeepFiles;
use super::inbound::{message_ref, translate, Incoming, StaffPost};
use crate::hub::text::truncate_chars;
use crate::hub::{
    Actor, Command, CustomerMessage, Hub, HubError, Inbound, Ingested, StaffMessage, StaffOutcome,
    TicketRef,
};
use crate::texts;
use relaydesk_desk::Scope;

/// Said when a command is typed in the staff group but not in a ticket's topic.
pub const OUTSIDE_TOPIC: &str =
    "Commands work inside a ticket's topic. Open the ticket's topic and type the command there.";

/// Longest popup text of `answerCallbackQuery`.
const CALLBACK_ANSWER_CHARS: usize = 200;

/// The update could not be committed; try it again, do not acknowledge it.
#[derive(Debug, thiserror::Error)]
#[error("update {update_id} not stored: {source}")]
pub struct NotCommitted {
    pub update_id: u32,
    #[source]
    pub source: HubError,
}

#[derive(Debug)]
pub struct Receiver {
    hub: Hub,
    bot: Bot,
    staff_chat_id: i64,
    admins: Admins,
    keep_files: KeepFiles,
}

impl Receiver {
    pub fn new(hub: Hub, bot: Bot, staff_chat_id: i64, keep_files: KeepFiles) -> Self {
        Self {
            hub,
            bot,
            staff_chat_id,
            admins: Admins::new(staff_chat_id),
            keep_files,
        }
    }

    pub async fn handle(&self, update: &Update) -> Result<(), NotCommitted> {
        let failed = |source| NotCommitted {
            update_id: update.id.0,
            source,
        };
        match translate(update, self.staff_chat_id) {
            Incoming::Ignore => Ok(()),
            Incoming::Start { chat_id, language } => self
                .hub
                .post_to_channel(
                    Platform::Telegram,
                    &chat_id.to_string(),
                    &texts::greeting(language.as_deref()),
                )
                .await
                .map_err(failed),
            Incoming::Reply { prompt, message } => {
                let comment = !message.text.trim().is_empty()
                    && message.attachments.is_empty()
                    && self
                        .hub
                        .comment_by_reply(&prompt, &message)
                        .await
                        .map_err(failed)?;
                if comment {
                    return Ok(());
                }
                self.customer(message).await.map_err(failed)
            }
            Incoming::Customer(message) => self.customer(message).await.map_err(failed),
            Incoming::StaffCommandOutsideTopic(post) => {
                self.outside_topic(post).await.map_err(failed)
            }
            Incoming::Staff(post) => self.staff(post).await.map_err(failed),
            Incoming::Rating { query_id, rating } => {
                let text = match self.hub.rate(&rating).await {
                    Ok(text) => text,
                    Err(e) if e.is_internal() => return Err(failed(e)),
                    Err(e) => e.user_message(),
                };
                self.answer_button(query_id, Some(text)).await;
                Ok(())
            }
            Incoming::Faq { query_id, press } => {
                let text = match self.hub.faq_reply(&press).await {
                    Ok(text) => text,
                    Err(e) if e.is_internal() => return Err(failed(e)),
                    Err(e) => e.user_message(),
                };
                self.answer_button(query_id, Some(text)).await;
                Ok(())
            }
            Incoming::UnknownButton { query_id } => {
                self.answer_button(query_id, None).await;
                Ok(())
            }
        }
    }

    /// A customer's message: stored (opening or reopening a ticket); a refusal is answered in
    /// their chat.
    async fn customer(&self, mut message: CustomerMessage) -> Result<(), HubError> {
        let chat = message.conversation.clone();
        let files = super::files::keep(&self.hub, &self.bot, &self.keep_files, &mut message).await;
        match self.hub.ingest(Inbound::Customer(message)).await {
            Ok(Ingested::Customer { .. }) => {
                // A failure here costs the console's copy of the file, never the message.
                if let Err(e) = super::files::attach(&self.hub, &files).await {
                    tracing::warn!(error = %e, "could not keep a customer's files for good");
                }
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) if e.is_internal() => Err(e),
            Err(e) => {
                self.answer(&chat, &e.user_message()).await;
                Ok(())
            }
        }
    }

    /// Answers a button press (the client shows a spinner until then), with a short popup
    /// text when there is one. A failed answer is logged: the press itself is stored.
    async fn answer_button(&self, query_id: String, text: Option<String>) {
        let mut request = self.bot.answer_callback_query(query_id.into());
        if let Some(text) = text {
            request = request.text(truncate_chars(&text, CALLBACK_ANSWER_CHARS));
        }
        if let Err(e) = request.send().await {
            tracing::warn!(error = %e, "could not answer a button press");
        }
    }

    /// What the platform says this poster is: anonymous admins and group admins are admins.
    async fn role(&self, post: &StaffPost) -> Role {
        if post.anonymous_admin {
            Role::Admin
        } else {
            self.admins.role(&self.bot, post.user_id).await
        }
    }

    /// A command in the staff group's general area: commands meant for anywhere (`/help`) run;
    /// ticket commands are pointed to the ticket's topic.
    async fn outside_topic(&self, post: StaffPost) -> Result<(), HubError> {
        let chat = post.chat_id.to_string();
        let command = match Command::parse_text(&post.text) {
            Ok(command) if command.spec().scope == Scope::Staff => command,
            Ok(_) => {
                self.answer(&chat, OUTSIDE_TOPIC).await;
                return Ok(());
            }
            Err(refused) => {
                self.answer(&chat, &refused.chat_text()).await;
                return Ok(());
            }
        };
        let actor = Actor::Staff {
            platform: Platform::Telegram,
            role: self.role(&post).await,
            user: post.agent,
        };
        match self.hub.execute(&actor, &TicketRef::None, command).await {
            Ok(reply) => self.answer(&chat, &reply.text).await,
            Err(e) if e.is_internal() => return Err(e),
            Err(e) => self.answer(&chat, &e.user_message()).await,
        }
        Ok(())
    }

    async fn staff(&self, post: StaffPost) -> Result<(), HubError> {
        let role = self.role(&post).await;
        let topic = format!("{}:{}", post.chat_id, post.topic);
        let is_command = post.text.trim_start().starts_with('/');
        let message = StaffMessage {
            platform: Platform::Telegram,
            external_message_id: Some(message_ref(post.chat_id, post.message_id)),
            thread_ref: post.topic.to_string(),
            agent: post.agent,
            role,
            text: post.text,
            attachments: post.attachments,
        };
        match self.hub.ingest(Inbound::Staff(message)).await {
            Ok(Ingested::Staff(StaffOutcome::Command(reply))) => {
                self.answer(&topic, &reply.text).await;
            }
            Ok(Ingested::Staff(StaffOutcome::NotATicketThread)) if is_command => {
                self.answer(&topic, OUTSIDE_TOPIC).await;
            }
            Ok(_) => {}
            Err(e) if e.is_internal() => return Err(e),
            Err(e) => self.answer(&topic, &e.user_message()).await,
        }
        Ok(())
    }

    /// Queues a short answer. The update itself is already handled, so a failure here is logged
    /// rather than repeating the update.
    async fn answer(&self, channel: &str, text: &str) {
        if let Err(e) = self
            .hub
            .post_to_channel(Platform::Telegram, channel, text)
            .await
        {
            tracing::error!(channel, error = %e, "could not queue an answer");
        }
    }
}
