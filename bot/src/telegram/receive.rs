//! One update, start to finish: translate it, hand it to the hub, queue any answer. Shared by
//! long polling and the webhook. Returns an error only when the update must be tried again
//! (nothing was committed); everything else is answered and done.

use relaydesk_storage::{Platform, Role};
use teloxide::types::Update;
use teloxide::Bot;

use super::admins::Admins;
use super::inbound::{message_ref, translate, Incoming, StaffPost};
use crate::hub::{Hub, HubError, Inbound, Ingested, StaffMessage, StaffOutcome};
use crate::texts;

/// Said when a command is typed in the staff group but not in a ticket's topic.
pub const OUTSIDE_TOPIC: &str =
    "Commands work inside a ticket's topic. Open the ticket's topic and type the command there.";

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
}

impl Receiver {
    pub fn new(hub: Hub, bot: Bot, staff_chat_id: i64) -> Self {
        Self {
            hub,
            bot,
            staff_chat_id,
            admins: Admins::new(staff_chat_id),
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
            Incoming::Customer(message) => {
                let chat = message.conversation.clone();
                match self.hub.ingest(Inbound::Customer(message)).await {
                    Ok(_) => Ok(()),
                    Err(e) if is_internal(&e) => Err(failed(e)),
                    Err(e) => {
                        self.answer(&chat, &e.user_message()).await;
                        Ok(())
                    }
                }
            }
            Incoming::StaffCommandOutsideTopic { chat_id } => self
                .hub
                .post_to_channel(Platform::Telegram, &chat_id.to_string(), OUTSIDE_TOPIC)
                .await
                .map_err(failed),
            Incoming::Staff(post) => self.staff(post).await.map_err(failed),
        }
    }

    async fn staff(&self, post: StaffPost) -> Result<(), HubError> {
        let role = if post.anonymous_admin {
            Role::Admin
        } else {
            self.admins.role(&self.bot, post.user_id).await
        };
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
            Err(e) if is_internal(&e) => return Err(e),
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

/// Storage trouble: the update was not handled and must be tried again.
fn is_internal(error: &HubError) -> bool {
    matches!(error, HubError::Storage(_) | HubError::Encode(_))
}
