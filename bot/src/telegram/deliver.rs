//! The hub's [`Outbound`] sends → Bot API calls. Text is always sent without `parse_mode`, so
//! customer text is shown exactly as written.

use std::time::Duration;

use async_trait::async_trait;
use relaydesk_storage::{Attachment, Platform};
use teloxide::payloads::setters::*;
use teloxide::requests::{Request, Requester};
use teloxide::types::{
    ChatId, FileId, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    MessageEntity, MessageEntityKind, MessageId, ReactionType, ThreadId, User, UserId,
};
use teloxide::{ApiError, Bot, RequestError};

use super::card::{author_line, ticket_card, TOPIC_NAME_CHARS};
use super::errors::delivery_error;
use super::inbound::message_ref;
use super::pacing::Pacing;
use crate::hub::text::{split_for_limit, truncate_chars};
use crate::hub::{
    CardRef, Deliver, Delivered, DeliveryError, FaqPress, Mention, Outbound, Rating, TicketView,
    RATINGS,
};

/// Longest caption of a file, in characters.
const CAPTION_CHARS: usize = 1024;

/// Longest text of one Telegram message, in characters.
pub const MESSAGE_CHARS: usize = 4096;

/// Inline retries for the later parts of a multi-part send: the first part is out, so handing
/// the row back to the outbox would send it twice.
const FOLLOW_UP_ATTEMPTS: u32 = 6;

/// Sends through the Bot API.
#[derive(Clone)]
pub struct TelegramSender {
    bot: Bot,
    staff_chat: ChatId,
    pacing: Pacing,
}

impl std::fmt::Debug for TelegramSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramSender")
            .field("staff_chat", &self.staff_chat)
            .finish()
    }
}

/// Where a message goes: a chat, and a topic in it.
#[derive(Debug, Clone, Copy)]
struct Target {
    chat: ChatId,
    topic: Option<ThreadId>,
}

impl TelegramSender {
    pub fn new(bot: Bot, staff_chat_id: i64, pacing: Pacing) -> Self {
        Self {
            bot,
            staff_chat: ChatId(staff_chat_id),
            pacing,
        }
    }

    fn topic(&self, thread: &str) -> Result<Target, DeliveryError> {
        Ok(Target {
            chat: self.staff_chat,
            topic: Some(parse_thread(thread)?),
        })
    }

    /// Sends `text` in parts of at most 4,096 characters, in order. Returns the first message.
    /// `leading`: nothing of this delivery went out before.
    async fn send_text(
        &self,
        to: Target,
        text: &str,
        leading: bool,
    ) -> Result<Option<MessageId>, DeliveryError> {
        self.send_quoting(to, text, None, leading).await
    }

    /// [`Self::send_text`], with everything from byte `quote_from` on shown as a blockquote
    /// (a customer's text, framed so it cannot pass for Relaydesk's own lines).
    async fn send_quoting(
        &self,
        to: Target,
        text: &str,
        quote_from: Option<usize>,
        leading: bool,
    ) -> Result<Option<MessageId>, DeliveryError> {
        let mut first = None;
        let mut offset = 0;
        for (i, part) in split_for_limit(text, MESSAGE_CHARS).into_iter().enumerate() {
            let quote =
                quote_from.and_then(|from| quote_entity(&part, from.saturating_sub(offset)));
            offset += part.len();
            let send = || {
                let mut request = self.bot.send_message(to.chat, part.clone());
                if let Some(topic) = to.topic {
                    request = request.message_thread_id(topic);
                }
                if let Some(quote) = &quote {
                    request = request.entities(vec![quote.clone()]);
                }
                request.send()
            };
            let sent = if leading && i == 0 {
                send().await.map_err(delivery_error)?
            } else {
                follow_up(send).await?
            };
            first.get_or_insert(sent.id);
        }
        Ok(first)
    }

    /// Sends files after a text: by Telegram `file_id` where there is one, else as a link line.
    async fn send_attachments(
        &self,
        to: Target,
        attachments: &[Attachment],
        nothing_sent_yet: bool,
    ) -> Result<Option<MessageId>, DeliveryError> {
        let mut first = None;
        let mut links = Vec::new();
        for attachment in attachments {
            let Some(file_id) = attachment.platform_ref.clone() else {
                if let Some(url) = &attachment.url {
                    let name = attachment.file_name.as_deref().unwrap_or(&attachment.kind);
                    links.push(format!("📎 {name}: {url}"));
                }
                continue;
            };
            let leading = nothing_sent_yet && first.is_none();
            let send = || self.send_file(to, &attachment.kind, file_id.clone());
            let sent = if leading {
                send().await.map_err(delivery_error)?
            } else {
                follow_up(send).await?
            };
            first.get_or_insert(sent);
        }
        if !links.is_empty() {
            let leading = nothing_sent_yet && first.is_none();
            let sent = self.send_text(to, &links.join("\n"), leading).await?;
            first = first.or(sent);
        }
        Ok(first)
    }

    async fn send_file(
        &self,
        to: Target,
        kind: &str,
        file_id: String,
    ) -> Result<MessageId, RequestError> {
        let file = InputFile::file_id(FileId(file_id));
        let (chat, topic) = (to.chat, to.topic);
        macro_rules! send {
            ($method:ident) => {{
                let mut request = self.bot.$method(chat, file);
                if let Some(topic) = topic {
                    request = request.message_thread_id(topic);
                }
                request.send().await.map(|m| m.id)
            }};
        }
        match kind {
            "photo" => send!(send_photo),
            "voice" => send!(send_voice),
            "video" => send!(send_video),
            "sticker" => send!(send_sticker),
            "audio" => send!(send_audio),
            "animation" => send!(send_animation),
            "video_note" => send!(send_video_note),
            _ => send!(send_document),
        }
    }

    /// Text then files, as one logical post.
    async fn post(
        &self,
        to: Target,
        text: &str,
        quote_from: Option<usize>,
        attachments: &[Attachment],
    ) -> Result<Option<MessageId>, DeliveryError> {
        let first = self.send_quoting(to, text, quote_from, true).await?;
        let files = self
            .send_attachments(to, attachments, first.is_none())
            .await?;
        Ok(first.or(files))
    }

    /// Creates the ticket's topic, nothing more: its id reaches the store at once, and the card
    /// goes out with the topic's first post.
    async fn open_thread(&self, ticket: &TicketView) -> Result<Delivered, DeliveryError> {
        let topic = self
            .bot
            .create_forum_topic(self.staff_chat, ticket.title(TOPIC_NAME_CHARS))
            .send()
            .await
            .map_err(delivery_error)?;
        Ok(Delivered::with_ref(topic.thread_id.0 .0.to_string()))
    }

    /// A post in a ticket's topic; with `card`, the ticket card heads its first message, and
    /// that message is recorded as the card.
    async fn thread_post(&self, post: ThreadPost<'_>) -> Result<Delivered, DeliveryError> {
        let to = self.topic(post.thread)?;
        let header = author_line(post.author, post.internal);
        let body = format!("{header}\n{}", post.text);
        // The customer's text, after the author line, is quoted.
        let quote_from = post.customer.then_some(header.len() + 1);
        if !post.card {
            let first = self.post(to, &body, quote_from, post.attachments).await?;
            return Ok(Delivered {
                external_ref: first.map(|id| message_ref(to.chat.0, id.0)),
                ..Delivered::default()
            });
        }
        let card = ticket_card(post.ticket);
        let combined = format!("{card}\n\n{body}");
        let tail = split_for_limit(&combined, MESSAGE_CHARS)
            .into_iter()
            .next()
            .and_then(|first| {
                first
                    .strip_prefix(&format!("{card}\n\n"))
                    .map(str::to_string)
            });
        let card_len = card.len() + 2;
        let first = self
            .post(
                to,
                &combined,
                quote_from.map(|from| card_len + from),
                post.attachments,
            )
            .await?;
        let reference = first.map(|id| message_ref(to.chat.0, id.0));
        Ok(Delivered {
            external_ref: reference.clone(),
            card_ref: reference,
            card_tail: tail,
        })
    }

    /// Says in a second topic of a ticket where its conversation is, and closes it.
    async fn retire_thread(
        &self,
        thread: &str,
        live: &str,
        ticket: &TicketView,
    ) -> Result<(), DeliveryError> {
        let to = self.topic(thread)?;
        let text = format!(
            "ℹ️ This topic was opened twice for ticket #{}. Its conversation continues in the \
             ticket's topic (id {live}); this one is closed.",
            ticket.number
        );
        self.send_text(to, &text, true).await?;
        let closed = self
            .bot
            .close_forum_topic(self.staff_chat, parse_thread(thread)?)
            .send()
            .await;
        unchanged_is_fine(closed)
    }

    /// Redraws the ticket card as the ticket is now, with the text that shares its message.
    /// An unchanged card is fine.
    async fn refresh_card(&self, card: &CardRef, ticket: &TicketView) -> Result<(), DeliveryError> {
        let (chat, message) = parse_message_ref(&card.message)?;
        let text = card_text(ticket, card.tail.as_deref());
        let mut edit = self.bot.edit_message_text(chat, message, text.clone());
        if let Some(quote) = card_tail_quote(&text, card.tail.as_deref()) {
            edit = edit.entities(vec![quote]);
        }
        let edited = edit.send().await;
        unchanged_is_fine(edited)
    }

    /// A team-channel post that notifies the person it names: their name carries a
    /// `text_mention` entity (no `parse_mode`, so the rest stays plain text).
    async fn send_mentioning(
        &self,
        to: Target,
        text: &str,
        mention: &Mention,
    ) -> Result<Option<MessageId>, DeliveryError> {
        let user = mention.user.trim().parse::<u64>().ok();
        let entity = match (user, mention.split(text)) {
            (Some(user), Some((before, _))) if text.chars().count() <= MESSAGE_CHARS => {
                MessageEntity::text_mention(
                    User {
                        id: UserId(user),
                        is_bot: false,
                        first_name: mention.name.clone(),
                        last_name: None,
                        username: None,
                        language_code: None,
                        is_premium: false,
                        added_to_attachment_menu: false,
                    },
                    utf16_len(before),
                    utf16_len(&mention.name),
                )
            }
            // Not where it should be, or too long for one message: the name stays plain.
            _ => return self.send_text(to, text, true).await,
        };
        let mut request = self.bot.send_message(to.chat, text).entities(vec![entity]);
        if let Some(topic) = to.topic {
            request = request.message_thread_id(topic);
        }
        let sent = request.send().await.map_err(delivery_error)?;
        Ok(Some(sent.id))
    }

    async fn sync_thread(
        &self,
        thread: &str,
        ticket: &crate::hub::TicketView,
        card: Option<&CardRef>,
    ) -> Result<Delivered, DeliveryError> {
        let topic = parse_thread(thread)?;
        let renamed = self
            .bot
            .edit_forum_topic(self.staff_chat, topic)
            .name(ticket.title(TOPIC_NAME_CHARS))
            .send()
            .await;
        unchanged_is_fine(renamed)?;
        let state = if ticket.status.is_active() {
            self.bot
                .reopen_forum_topic(self.staff_chat, topic)
                .send()
                .await
        } else {
            self.bot
                .close_forum_topic(self.staff_chat, topic)
                .send()
                .await
        };
        unchanged_is_fine(state)?;
        if let Some(card) = card {
            card_kept_as_is(ticket.number, self.refresh_card(card, ticket).await)?;
        }
        Ok(Delivered::default())
    }
}

#[async_trait]
impl Deliver for TelegramSender {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    fn coalesce_limit(&self) -> Option<usize> {
        Some(MESSAGE_CHARS)
    }

    async fn deliver(&self, outbound: &Outbound) -> Result<Delivered, DeliveryError> {
        let sent = match outbound {
            Outbound::OpenThread { ticket } => return self.open_thread(ticket).await,
            Outbound::SyncThread {
                thread,
                ticket,
                card,
            } => return self.sync_thread(thread, ticket, card.as_ref()).await,
            Outbound::RefreshCard { card, ticket, .. } => {
                self.refresh_card(card, ticket).await?;
                return Ok(Delivered::default());
            }
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
                return self
                    .thread_post(ThreadPost {
                        thread,
                        ticket,
                        author,
                        internal: *internal,
                        customer: *customer,
                        text,
                        attachments,
                        card: *card,
                    })
                    .await
            }
            Outbound::RetireThread {
                thread,
                live,
                ticket,
            } => {
                self.retire_thread(thread, live, ticket).await?;
                return Ok(Delivered::default());
            }
            Outbound::ThreadNotice {
                thread,
                text,
                mention,
            } => {
                let to = self.topic(thread)?;
                let line = notice(text);
                match mention {
                    Some(mention) => {
                        // The notice's mark moves the name along.
                        let shift = line.chars().count() - text.chars().count();
                        let mention = Mention {
                            at: mention.at + shift,
                            ..mention.clone()
                        };
                        (to, self.send_mentioning(to, &line, &mention).await?)
                    }
                    None => (to, self.send_text(to, &line, true).await?),
                }
            }
            Outbound::CustomerPost {
                conversation,
                text,
                attachments,
                ..
            } => {
                let to = Target {
                    chat: parse_chat(conversation)?,
                    topic: None,
                };
                (to, self.post(to, text, None, attachments).await?)
            }
            Outbound::CustomerSurvey {
                conversation,
                survey_id,
                question,
            } => {
                let to = Target {
                    chat: parse_chat(conversation)?,
                    topic: None,
                };
                let buttons = RATINGS
                    .iter()
                    .map(|r| {
                        InlineKeyboardButton::callback(
                            format!("{r} ⭐"),
                            Rating::button_data(*survey_id, *r),
                        )
                    })
                    .collect::<Vec<_>>();
                let sent = self
                    .bot
                    .send_message(to.chat, truncate_chars(question, MESSAGE_CHARS))
                    .reply_markup(InlineKeyboardMarkup::new(vec![buttons]))
                    .send()
                    .await
                    .map_err(delivery_error)?;
                (to, Some(sent.id))
            }
            Outbound::CustomerCommentAsk { conversation, text } => {
                let to = Target {
                    chat: parse_chat(conversation)?,
                    topic: None,
                };
                // The customer's reply to this message is taken as the comment.
                let sent = self
                    .bot
                    .send_message(to.chat, truncate_chars(text, MESSAGE_CHARS))
                    .reply_markup(ForceReply::new())
                    .send()
                    .await
                    .map_err(delivery_error)?;
                (to, Some(sent.id))
            }
            Outbound::CustomerFaq {
                conversation,
                ticket_id,
                text,
                solved_label,
                help_label,
            } => {
                let to = Target {
                    chat: parse_chat(conversation)?,
                    topic: None,
                };
                let buttons = vec![
                    InlineKeyboardButton::callback(
                        solved_label.clone(),
                        FaqPress::button_data(*ticket_id, true),
                    ),
                    InlineKeyboardButton::callback(
                        help_label.clone(),
                        FaqPress::button_data(*ticket_id, false),
                    ),
                ];
                let sent = self
                    .bot
                    .send_message(to.chat, truncate_chars(text, MESSAGE_CHARS))
                    .reply_markup(InlineKeyboardMarkup::new(vec![buttons]))
                    .send()
                    .await
                    .map_err(delivery_error)?;
                (to, Some(sent.id))
            }
            Outbound::ChannelFile {
                channel,
                file_name,
                content,
                caption,
            } => {
                let to = parse_channel(channel)?;
                let file =
                    InputFile::memory(content.clone().into_bytes()).file_name(file_name.clone());
                let mut request = self
                    .bot
                    .send_document(to.chat, file)
                    .caption(truncate_chars(caption, CAPTION_CHARS));
                if let Some(topic) = to.topic {
                    request = request.message_thread_id(topic);
                }
                let sent = request.send().await.map_err(delivery_error)?;
                (to, Some(sent.id))
            }
            Outbound::ChannelPost {
                channel,
                text,
                mention,
            } => {
                let to = parse_channel(channel)?;
                let first = match mention {
                    Some(mention) => self.send_mentioning(to, text, mention).await?,
                    None => self.send_text(to, text, true).await?,
                };
                (to, first)
            }
            Outbound::MarkDelivered {
                thread: _,
                message_ref,
            } => {
                let (chat, message) = parse_message_ref(message_ref)?;
                let marked = self
                    .bot
                    .set_message_reaction(chat, message)
                    .reaction(vec![ReactionType::Emoji {
                        emoji: "👍".to_string(),
                    }])
                    .send()
                    .await;
                unchanged_is_fine(marked)?;
                return Ok(Delivered::default());
            }
        };
        let (to, first) = sent;
        Ok(Delivered {
            external_ref: first.map(|id| message_ref(to.chat.0, id.0)),
            ..Delivered::default()
        })
    }

    fn paces(&self, outbound: &Outbound) -> Vec<relaydesk_storage::Pace> {
        let staff = self.staff_chat.0;
        let parts = |text: &str| split_for_limit(text, MESSAGE_CHARS).len().max(1);
        let files = |attachments: &[Attachment]| {
            attachments
                .iter()
                .filter(|a| a.platform_ref.is_some())
                .count()
        };
        let (chat, cost, topic) = match outbound {
            Outbound::OpenThread { .. } => (staff, 1, true),
            Outbound::ThreadPost {
                ticket,
                author,
                internal,
                text,
                attachments,
                card,
                ..
            } => {
                // Counted as sent: the card, when it comes along, heads the first message.
                let body = format!("{}\n{text}", author_line(author, *internal));
                let sent = if *card {
                    format!("{}\n\n{body}", ticket_card(ticket))
                } else {
                    body
                };
                (staff, parts(&sent) + files(attachments), false)
            }
            Outbound::ThreadNotice { text, .. } => (staff, parts(text), false),
            Outbound::RetireThread { .. } => (staff, 2, false),
            Outbound::SyncThread { .. } | Outbound::RefreshCard { .. } => (staff, 1, false),
            // A reaction posts nothing into the group.
            Outbound::MarkDelivered { .. } => (0, 1, false),
            Outbound::CustomerPost {
                conversation,
                text,
                attachments,
                ..
            } => (
                parse_chat(conversation).map_or(0, |c| c.0),
                parts(text) + files(attachments),
                false,
            ),
            Outbound::ChannelPost { channel, text, .. } => (
                parse_channel(channel).map_or(0, |t| t.chat.0),
                parts(text),
                false,
            ),
            Outbound::CustomerSurvey { conversation, .. } => {
                (parse_chat(conversation).map_or(0, |c| c.0), 1, false)
            }
            Outbound::ChannelFile { channel, .. } => {
                (parse_channel(channel).map_or(0, |t| t.chat.0), 1, false)
            }
            Outbound::CustomerFaq { conversation, .. }
            | Outbound::CustomerCommentAsk { conversation, .. } => {
                (parse_chat(conversation).map_or(0, |c| c.0), 1, false)
            }
        };
        self.pacing
            .paces(chat, i64::try_from(cost).unwrap_or(i64::MAX), topic)
    }
}

/// The parts of a thread post, borrowed from its [`Outbound`].
struct ThreadPost<'a> {
    thread: &'a str,
    ticket: &'a TicketView,
    author: &'a str,
    internal: bool,
    customer: bool,
    text: &'a str,
    attachments: &'a [Attachment],
    card: bool,
}

/// The card's message: the card, then the text that shared its message when it was posted,
/// cut to fit should the card have grown.
fn card_text(ticket: &TicketView, tail: Option<&str>) -> String {
    let card = ticket_card(ticket);
    match tail {
        Some(tail) => truncate_chars(&format!("{card}\n\n{tail}"), MESSAGE_CHARS),
        None => card,
    }
}

/// A system line in a topic: marked with ℹ️ unless it brings its own sign (⚠️).
fn notice(text: &str) -> String {
    match text.chars().next() {
        Some(c) if c.is_alphanumeric() || c == '#' => format!("ℹ️ {text}"),
        _ => text.to_string(),
    }
}

/// A card that can no longer be edited (deleted from the topic) does not hold up the thread's
/// own changes; waits and temporary failures are retried.
fn card_kept_as_is(ticket: i64, edited: Result<(), DeliveryError>) -> Result<(), DeliveryError> {
    match edited {
        Err(DeliveryError::Permanent(why)) => {
            tracing::warn!(ticket, error = %why, "ticket card could not be updated");
            Ok(())
        }
        other => other,
    }
}

/// Telegram measures entity offsets and lengths in UTF-16 code units.
/// A blockquote over `part` from byte `from` to its last visible character, if any of it is
/// there (Telegram counts entities in UTF-16 code units).
fn quote_entity(part: &str, from: usize) -> Option<MessageEntity> {
    let end = part.trim_end().len();
    if from >= end || !part.is_char_boundary(from) {
        return None;
    }
    Some(MessageEntity::new(
        MessageEntityKind::Blockquote,
        utf16_len(&part[..from]),
        utf16_len(&part[from..end]),
    ))
}

/// The quote of a redrawn card's tail: the text after the tail's author line when that line
/// relays a post (`💬`); notes and notices are not quoted. Quoting an agent's relayed reply
/// here too is harmless; leaving a customer's text bare would not be.
fn card_tail_quote(text: &str, tail: Option<&str>) -> Option<MessageEntity> {
    let tail = tail?;
    if !tail.starts_with("💬") {
        return None;
    }
    let header = tail.find('\n')? + 1;
    let start = text.rfind(tail.get(..header)?)? + header;
    quote_entity(text, start)
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Retries a later part of a multi-part send in place, honouring 429 `retry_after`.
async fn follow_up<T, F, Fut>(mut send: F) -> Result<T, DeliveryError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match send().await {
            Ok(value) => return Ok(value),
            Err(e) => delivery_error(e),
        };
        let wait = match &error {
            DeliveryError::RetryAfter(wait) => *wait,
            DeliveryError::Transient(_) => Duration::from_millis(500 * u64::from(attempt)),
            DeliveryError::Permanent(_) => return Err(error),
        };
        if attempt >= FOLLOW_UP_ATTEMPTS {
            return Err(error);
        }
        tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
    }
}

/// Renaming a topic to its current name, closing a closed topic, reacting twice: done already.
fn unchanged_is_fine<T>(result: Result<T, RequestError>) -> Result<(), DeliveryError> {
    match result {
        Ok(_) => Ok(()),
        Err(RequestError::Api(ApiError::Unknown(d)))
            if d.contains("TOPIC_NOT_MODIFIED")
                || d.contains("TOPIC_CLOSED")
                || d.contains("REACTION_NOT_MODIFIED")
                || d.contains("message is not modified") =>
        {
            Ok(())
        }
        Err(e) => Err(delivery_error(e)),
    }
}

fn parse_thread(thread: &str) -> Result<ThreadId, DeliveryError> {
    thread
        .trim()
        .parse::<i32>()
        .map(|id| ThreadId(MessageId(id)))
        .map_err(|_| DeliveryError::Permanent(format!("`{thread}` is not a Telegram topic id")))
}

fn parse_chat(chat: &str) -> Result<ChatId, DeliveryError> {
    chat.trim()
        .parse::<i64>()
        .map(ChatId)
        .map_err(|_| DeliveryError::Permanent(format!("`{chat}` is not a Telegram chat id")))
}

/// `chat` or `chat:topic`.
fn parse_channel(channel: &str) -> Result<Target, DeliveryError> {
    match channel.split_once(':') {
        Some((chat, topic)) => Ok(Target {
            chat: parse_chat(chat)?,
            topic: Some(parse_thread(topic)?),
        }),
        None => Ok(Target {
            chat: parse_chat(channel)?,
            topic: None,
        }),
    }
}

/// `chat_id:message_id`, as [`message_ref`] writes it.
fn parse_message_ref(reference: &str) -> Result<(ChatId, MessageId), DeliveryError> {
    let bad = || DeliveryError::Permanent(format!("`{reference}` is not a Telegram message"));
    let (chat, message) = reference.split_once(':').ok_or_else(bad)?;
    let message = message.parse::<i32>().map_err(|_| bad())?;
    Ok((parse_chat(chat)?, MessageId(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_or_fail_for_good() {
        let t = parse_channel("-100123:45").expect("chat and topic");
        assert_eq!(t.chat, ChatId(-100123));
        assert_eq!(t.topic, Some(ThreadId(MessageId(45))));
        assert!(parse_channel("-100123").expect("chat").topic.is_none());
        assert!(matches!(
            parse_channel("general"),
            Err(DeliveryError::Permanent(_))
        ));
        assert_eq!(
            parse_message_ref("-100:7").expect("a message"),
            (ChatId(-100), MessageId(7))
        );
        assert!(parse_message_ref("7").is_err());
        assert_eq!(utf16_len("⏰ Bö 😀"), 7);
    }
}
