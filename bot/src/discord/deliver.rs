//! The hub's sends ([`Outbound`]) as Discord REST calls.

use std::sync::Arc;

use async_trait::async_trait;
use relaydesk_storage::Platform;
use serde::Serialize;
use serenity::all::{
    AutoArchiveDuration, ChannelId, ChannelType, CreateAllowedMentions, CreateAttachment,
    CreateForumPost, CreateMessage, CreateThread, EditMessage, EditThread, GuildChannel, GuildId,
    Message, MessageId, Nonce, PrivateChannel, ThreadsData, UserId,
};
use serenity::http::{LightMethod, Multipart, MultipartUpload, Route};
use tokio::sync::OnceCell;

use super::card;
use super::rest::{is_archived_thread, is_thread_cap, Rest};
use super::{DiscordSettings, MESSAGE_LIMIT};
use crate::hub::text::split_for_limit;
use crate::hub::{CardRef, Deliver, Delivered, DeliveryError, Mention, Outbound, TicketView};

/// A customer conversation given as `user:<id>` is a user to open a DM with; anything else is
/// a channel id (the DM channel the customer wrote from).
pub const USER_CONVERSATION_PREFIX: &str = "user:";

/// `✅`, URL-encoded as the reaction routes want it.
const CHECK_MARK: &str = "%E2%9C%85";

/// Sends outbox rows to Discord.
#[derive(Debug)]
pub struct DiscordDeliver {
    rest: Arc<Rest>,
    staff_channel: ChannelId,
    guild: GuildId,
    /// Whether the staff channel is a forum (one post per ticket) rather than a text channel
    /// (one private thread per ticket); asked once.
    staff_is_forum: OnceCell<bool>,
    /// When the staff channel was last told that the guild's threads are at Discord's cap.
    cap_warned: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Least time between two warnings that the guild's threads are at Discord's cap.
const CAP_WARNING_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Serialize)]
struct DmRecipient {
    recipient_id: UserId,
}

fn id<T: From<std::num::NonZeroU64>>(what: &str, raw: &str) -> Result<T, DeliveryError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .and_then(std::num::NonZeroU64::new)
        .map(T::from)
        .ok_or_else(|| DeliveryError::Permanent(format!("`{raw}` is not a Discord {what} id")))
}

/// No one is pinged by what we relay: customers' `@everyone` and `<@&role>` stay text.
fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

impl DiscordDeliver {
    pub fn new(settings: &DiscordSettings) -> Self {
        Self {
            rest: Arc::new(Rest::new(settings)),
            staff_channel: settings.staff_channel,
            guild: settings.guild,
            staff_is_forum: OnceCell::new(),
            cap_warned: std::sync::Mutex::new(None),
        }
    }

    async fn post(
        &self,
        channel: ChannelId,
        message: CreateMessage,
    ) -> Result<Message, DeliveryError> {
        self.rest
            .call(
                Route::ChannelMessages {
                    channel_id: channel,
                },
                LightMethod::Post,
                Some(&message),
            )
            .await
    }

    /// Posts `text` split at Discord's limit, in order, pinging no one. Each part carries a
    /// nonce derived from `key` so a retried row does not post a part twice. Returns the id of
    /// the first part.
    async fn post_text(
        &self,
        channel: ChannelId,
        text: &str,
        key: Option<&str>,
    ) -> Result<Option<MessageId>, DeliveryError> {
        self.post_parts(channel, text, key, None).await
    }

    /// [`Self::post_text`], the first part carrying the ticket card of `card` when given.
    async fn post_parts(
        &self,
        channel: ChannelId,
        text: &str,
        key: Option<&str>,
        card: Option<&TicketView>,
    ) -> Result<Option<MessageId>, DeliveryError> {
        let mut first = None;
        for (i, part) in split_for_limit(text, MESSAGE_LIMIT).into_iter().enumerate() {
            let mut message = CreateMessage::new()
                .content(part)
                .allowed_mentions(no_mentions());
            if let (Some(ticket), 0) = (card, i) {
                message = message
                    .embed(card::ticket_card(ticket))
                    .components(card::card_buttons());
            }
            if let Some(key) = key {
                message = message
                    .nonce(Nonce::String(format!("rd{key}.{i}")))
                    .enforce_nonce(true);
            }
            let sent = self.post(channel, message).await?;
            first.get_or_insert(sent.id);
        }
        Ok(first)
    }

    /// Posts in a closed ticket's thread (archived and locked, e.g. a rating that came after
    /// the close): unarchives it, posts, and archives it again.
    async fn post_in_closed_thread(
        &self,
        thread: ChannelId,
        text: &str,
        key: Option<&str>,
    ) -> Result<Option<MessageId>, DeliveryError> {
        self.edit_thread(thread, EditThread::new().archived(false))
            .await?;
        let posted = self.post_text(thread, text, key).await;
        let closed = self
            .edit_thread(thread, EditThread::new().archived(true).locked(true))
            .await;
        let posted = posted?;
        closed?;
        Ok(posted)
    }

    async fn staff_is_forum(&self) -> Result<bool, DeliveryError> {
        self.staff_is_forum
            .get_or_try_init(|| async {
                let channel: GuildChannel = self
                    .rest
                    .call(
                        Route::Channel {
                            channel_id: self.staff_channel,
                        },
                        LightMethod::Get,
                        None::<&()>,
                    )
                    .await?;
                Ok(channel.kind == ChannelType::Forum)
            })
            .await
            .copied()
    }

    fn card(ticket: &crate::hub::TicketView, key: Option<&str>) -> CreateMessage {
        let mut card = CreateMessage::new()
            .embed(card::ticket_card(ticket))
            .components(card::card_buttons())
            .allowed_mentions(no_mentions());
        if let Some(key) = key {
            card = card
                .nonce(Nonce::String(format!("rd{key}.card")))
                .enforce_nonce(true);
        }
        card
    }

    /// Creates a ticket's thread. At Discord's cap of active threads, first makes room by
    /// archiving closed tickets' threads that are active again and tries once more; when there
    /// is none, the staff channel is told why the ticket waits and the send is retried later.
    async fn open_thread(
        &self,
        ticket: &crate::hub::TicketView,
        key: Option<&str>,
    ) -> Result<Delivered, DeliveryError> {
        let refused = match self.create_thread(ticket, key).await {
            Err(e) if is_thread_cap(&e) => e,
            other => return other,
        };
        let refused = match self.archive_closed_threads().await {
            Ok(0) => refused,
            Ok(archived) => {
                tracing::info!(archived, "archived closed tickets' threads to make room");
                match self.create_thread(ticket, key).await {
                    Err(e) if is_thread_cap(&e) => e,
                    other => return other,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not list the guild's active threads");
                refused
            }
        };
        self.warn_of_cap(ticket).await;
        Err(refused)
    }

    /// Archives (and keeps locked) the threads in the staff channel that belong to closed
    /// tickets but are active again. Only a close locks a ticket's thread; a moderator posting
    /// in it, or a post after the close that was cut short, unarchives it. Returns how many.
    async fn archive_closed_threads(&self) -> Result<usize, DeliveryError> {
        let active: ThreadsData = self
            .rest
            .call(
                Route::GuildThreadsActive {
                    guild_id: self.guild,
                },
                LightMethod::Get,
                None::<&()>,
            )
            .await?;
        let mut archived = 0;
        let closed = active.threads.iter().filter(|t| {
            t.parent_id == Some(self.staff_channel)
                && t.thread_metadata.is_some_and(|m| m.locked && !m.archived)
        });
        for thread in closed {
            match self
                .edit_thread(thread.id, EditThread::new().archived(true).locked(true))
                .await
            {
                Ok(_) => archived += 1,
                Err(e) => {
                    tracing::warn!(thread = %thread.id, error = %e, "could not archive a closed ticket's thread")
                }
            }
        }
        Ok(archived)
    }

    async fn create_thread(
        &self,
        ticket: &crate::hub::TicketView,
        key: Option<&str>,
    ) -> Result<Delivered, DeliveryError> {
        let route = Route::ChannelThreads {
            channel_id: self.staff_channel,
        };
        if self.staff_is_forum().await? {
            // A forum post: the card is its first message.
            let post = CreateForumPost::new(card::thread_name(ticket), Self::card(ticket, key))
                .auto_archive_duration(AutoArchiveDuration::OneWeek);
            let thread: GuildChannel = self
                .rest
                .call(route, LightMethod::Post, Some(&post))
                .await?;
            // A forum post's first message has the post's id.
            return Ok(Delivered {
                external_ref: Some(thread.id.to_string()),
                card_ref: Some(thread.id.to_string()),
                card_tail: None,
            });
        }
        // A private thread: created alone, so its id reaches the store at once; the card
        // goes out with its first post.
        let create = CreateThread::new(card::thread_name(ticket))
            .kind(ChannelType::PrivateThread)
            .invitable(false)
            .auto_archive_duration(AutoArchiveDuration::OneWeek);
        let thread: Result<GuildChannel, DeliveryError> = self
            .rest
            .call(route, LightMethod::Post, Some(&create))
            .await;
        thread.map(|thread| Delivered::with_ref(thread.id.to_string()))
    }

    /// Tells the staff channel (at most every [`CAP_WARNING_EVERY`]) that tickets wait for a
    /// thread because the guild is at Discord's cap of active threads. The thread is tried
    /// again meanwhile.
    async fn warn_of_cap(&self, ticket: &TicketView) {
        let due = {
            let Ok(mut last) = self.cap_warned.lock() else {
                return;
            };
            let due = last.is_none_or(|at| at.elapsed() >= CAP_WARNING_EVERY);
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        };
        if !due {
            return;
        }
        let text = format!(
            "⚠️ This server has as many active threads as Discord allows, so ticket #{} (and any \
             other new ticket) is waiting for its thread; it is tried again every few seconds. \
             Archive threads that are no longer needed (closed tickets archive theirs).",
            ticket.number
        );
        if let Err(e) = self.post_text(self.staff_channel, &text, None).await {
            tracing::warn!(error = %e, "could not warn the staff channel of the thread cap");
        }
    }

    /// Says in a second thread of a ticket where its conversation is, and archives and locks
    /// it.
    async fn retire_thread(
        &self,
        thread: ChannelId,
        live: &str,
        ticket: &TicketView,
        key: Option<&str>,
    ) -> Result<(), DeliveryError> {
        let text = format!(
            "ℹ️ This thread was opened twice for ticket #{}. Its conversation continues in <#{live}>; this one is closed.",
            ticket.number
        );
        self.post_text(thread, &text, key).await?;
        self.edit_thread(thread, EditThread::new().archived(true).locked(true))
            .await
    }

    /// Renames, archives or locks a thread.
    async fn edit_thread(
        &self,
        thread: ChannelId,
        edit: EditThread<'_>,
    ) -> Result<(), DeliveryError> {
        let _: GuildChannel = self
            .rest
            .call(
                Route::Channel { channel_id: thread },
                LightMethod::Patch,
                Some(&edit),
            )
            .await?;
        Ok(())
    }

    /// Redraws the ticket card (message `card` in `thread`) as the ticket is now.
    async fn refresh_card(
        &self,
        thread: ChannelId,
        card: &CardRef,
        ticket: &TicketView,
    ) -> Result<(), DeliveryError> {
        // Only the embed and buttons are redrawn: the text that shares the card's message
        // stays as it is.
        let card = card.message.as_str();
        let edit = EditMessage::new()
            .embed(card::ticket_card(ticket))
            .components(card::card_buttons())
            .allowed_mentions(no_mentions());
        let _: Message = self
            .rest
            .call(
                Route::ChannelMessage {
                    channel_id: thread,
                    message_id: id("message", card)?,
                },
                LightMethod::Patch,
                Some(&edit),
            )
            .await?;
        Ok(())
    }

    /// A team-channel post that pings the person it names and no one else: their name becomes
    /// `<@id>` and `allowed_mentions` lists only them.
    async fn post_mentioning(
        &self,
        channel: ChannelId,
        text: &str,
        mention: &Mention,
        key: Option<&str>,
    ) -> Result<Option<MessageId>, DeliveryError> {
        let user: Option<UserId> = id("user", &mention.user).ok();
        let content = match (user, mention.split(text)) {
            (Some(user), Some((before, after))) => format!("{before}<@{user}>{after}"),
            _ => return self.post_text(channel, text, key).await,
        };
        let (Some(user), true) = (user, content.chars().count() <= MESSAGE_LIMIT) else {
            return self.post_text(channel, text, key).await;
        };
        let mut message = CreateMessage::new()
            .content(content)
            .allowed_mentions(CreateAllowedMentions::new().users([user]));
        if let Some(key) = key {
            message = message
                .nonce(Nonce::String(format!("rd{key}.0")))
                .enforce_nonce(true);
        }
        Ok(Some(self.post(channel, message).await?.id))
    }

    async fn sync_thread(
        &self,
        thread: ChannelId,
        ticket: &crate::hub::TicketView,
        card: Option<&CardRef>,
    ) -> Result<(), DeliveryError> {
        let closed = !ticket.status.is_active();
        // An archived thread's messages cannot be edited: the card is redrawn before the
        // thread is archived, and after it is unarchived.
        if let (Some(card), true) = (card, closed) {
            card_kept_as_is(ticket.number, self.refresh_card(thread, card, ticket).await)?;
        }
        let edit = EditThread::new()
            .name(card::thread_name(ticket))
            .archived(closed)
            .locked(closed);
        self.edit_thread(thread, edit).await?;
        if let (Some(card), false) = (card, closed) {
            card_kept_as_is(ticket.number, self.refresh_card(thread, card, ticket).await)?;
        }
        Ok(())
    }

    async fn customer_channel(&self, conversation: &str) -> Result<ChannelId, DeliveryError> {
        let Some(user) = conversation.strip_prefix(USER_CONVERSATION_PREFIX) else {
            return id("channel", conversation);
        };
        let dm: PrivateChannel = self
            .rest
            .call(
                Route::UserMeDmChannels,
                LightMethod::Post,
                Some(&DmRecipient {
                    recipient_id: id("user", user)?,
                }),
            )
            .await?;
        Ok(dm.id)
    }

    async fn send(
        &self,
        outbound: &Outbound,
        key: Option<&str>,
    ) -> Result<Delivered, DeliveryError> {
        let sent = |first: Option<MessageId>| Delivered {
            external_ref: first.map(|m| m.to_string()),
            ..Delivered::default()
        };
        match outbound {
            Outbound::OpenThread { ticket } => self.open_thread(ticket, key).await,
            Outbound::ThreadPost {
                thread,
                ticket,
                author,
                internal,
                customer,
                text,
                attachments,
                card,
            } => {
                let text = if *customer {
                    card::quoted(text)
                } else {
                    text.clone()
                };
                let body = card::thread_post(author, *internal, &text, attachments);
                let with_card = card.then_some(ticket);
                let first = self
                    .post_parts(id("thread", thread)?, &body, key, with_card)
                    .await?;
                let mut delivered = sent(first);
                if *card {
                    delivered.card_ref = delivered.external_ref.clone();
                }
                Ok(delivered)
            }
            Outbound::RetireThread {
                thread,
                live,
                ticket,
            } => {
                self.retire_thread(id("thread", thread)?, live, ticket, key)
                    .await?;
                Ok(Delivered::default())
            }
            Outbound::ThreadNotice {
                thread,
                text,
                mention,
            } => {
                let thread = id("thread", thread)?;
                let posted = match mention {
                    Some(mention) => self.post_mentioning(thread, text, mention, key).await,
                    None => self.post_text(thread, text, key).await,
                };
                match posted {
                    Err(e) if is_archived_thread(&e) => {
                        Ok(sent(self.post_in_closed_thread(thread, text, key).await?))
                    }
                    posted => Ok(sent(posted?)),
                }
            }
            Outbound::SyncThread {
                thread,
                ticket,
                card,
            } => {
                self.sync_thread(id("thread", thread)?, ticket, card.as_ref())
                    .await?;
                Ok(Delivered::default())
            }
            Outbound::RefreshCard {
                thread,
                card,
                ticket,
            } => {
                self.refresh_card(id("thread", thread)?, card, ticket)
                    .await?;
                Ok(Delivered::default())
            }
            Outbound::CustomerPost {
                conversation,
                text,
                attachments,
                ..
            } => {
                let channel = self.customer_channel(conversation).await?;
                let body = format!("{text}{}", card::attachment_links(attachments));
                Ok(sent(self.post_text(channel, &body, key).await?))
            }
            Outbound::CustomerSurvey {
                conversation,
                survey_id,
                question,
            } => {
                let channel = self.customer_channel(conversation).await?;
                let mut message = CreateMessage::new()
                    .content(crate::hub::text::truncate_chars(question, MESSAGE_LIMIT))
                    .allowed_mentions(no_mentions())
                    .components(card::survey_buttons(*survey_id));
                if let Some(key) = key {
                    message = message
                        .nonce(Nonce::String(format!("rd{key}.0")))
                        .enforce_nonce(true);
                }
                Ok(sent(Some(self.post(channel, message).await?.id)))
            }
            Outbound::CustomerFaq {
                conversation,
                ticket_id,
                text,
                solved_label,
                help_label,
            } => {
                let channel = self.customer_channel(conversation).await?;
                let mut message = CreateMessage::new()
                    .content(crate::hub::text::truncate_chars(text, MESSAGE_LIMIT))
                    .allowed_mentions(no_mentions())
                    .components(card::faq_buttons(*ticket_id, solved_label, help_label));
                if let Some(key) = key {
                    message = message
                        .nonce(Nonce::String(format!("rd{key}.0")))
                        .enforce_nonce(true);
                }
                Ok(sent(Some(self.post(channel, message).await?.id)))
            }
            Outbound::CustomerCommentAsk { .. } => Err(DeliveryError::Permanent(
                "Discord asks for survey comments with a form".into(),
            )),
            Outbound::ChannelFile {
                channel,
                file_name,
                content,
                caption,
            } => {
                let channel: ChannelId = id("channel", channel)?;
                let mut payload = serde_json::json!({
                    "content": crate::hub::text::truncate_chars(caption, MESSAGE_LIMIT),
                    "allowed_mentions": {"parse": []},
                    "attachments": [{"id": 0, "filename": file_name}],
                });
                if let Some(key) = key {
                    payload["nonce"] = serde_json::json!(format!("rd{key}.0"));
                    payload["enforce_nonce"] = serde_json::json!(true);
                }
                let multipart = Multipart {
                    upload: MultipartUpload::Attachments(vec![CreateAttachment::bytes(
                        content.as_bytes().to_vec(),
                        file_name.clone(),
                    )]),
                    fields: Vec::new(),
                    payload_json: Some(payload.to_string()),
                };
                let message: Message = self
                    .rest
                    .call_multipart(
                        Route::ChannelMessages {
                            channel_id: channel,
                        },
                        multipart,
                    )
                    .await?;
                Ok(sent(Some(message.id)))
            }
            Outbound::MarkDelivered {
                thread,
                message_ref,
            } => {
                self.rest
                    .call_empty(
                        Route::ChannelMessageReactionMe {
                            channel_id: id("thread", thread)?,
                            message_id: id("message", message_ref)?,
                            reaction: CHECK_MARK,
                        },
                        LightMethod::Put,
                        None::<&()>,
                    )
                    .await?;
                Ok(Delivered::default())
            }
            Outbound::ChannelPost {
                channel,
                text,
                mention,
            } => {
                let channel = id("channel", channel)?;
                Ok(sent(match mention {
                    Some(mention) => self.post_mentioning(channel, text, mention, key).await?,
                    None => self.post_text(channel, text, key).await?,
                }))
            }
        }
    }
}

/// A card that can no longer be edited (deleted) does not hold up the thread's own changes;
/// waits and temporary failures are retried.
fn card_kept_as_is(ticket: i64, edited: Result<(), DeliveryError>) -> Result<(), DeliveryError> {
    match edited {
        Err(DeliveryError::Permanent(why)) => {
            tracing::warn!(ticket, error = %why, "ticket card could not be updated");
            Ok(())
        }
        other => other,
    }
}

#[async_trait]
impl Deliver for DiscordDeliver {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    fn coalesce_limit(&self) -> Option<usize> {
        Some(MESSAGE_LIMIT)
    }

    async fn deliver(&self, outbound: &Outbound) -> Result<Delivered, DeliveryError> {
        self.send(outbound, None).await
    }

    async fn deliver_keyed(
        &self,
        key: &str,
        outbound: &Outbound,
    ) -> Result<Delivered, DeliveryError> {
        self.send(outbound, Some(key)).await
    }
}
