//! Discord messages translated into what the hub understands.

use relaydesk_storage::{Attachment, Platform};
use serenity::all::{Message, MessageType, User};

use crate::hub::{CustomerMessage, PlatformUser};

/// What a gateway message is to us.
#[derive(Debug)]
pub enum Incoming {
    /// A DM to the bot.
    Customer(CustomerMessage),
    /// A message in a channel of the support guild; a ticket thread's messages are staff input.
    Guild,
    /// Not ours to handle: bots (ourselves included), webhooks, system messages, other guilds.
    Ignored,
}

pub fn person(user: &User) -> PlatformUser {
    PlatformUser {
        external_id: user.id.to_string(),
        display_name: user.display_name().to_string(),
        language: None,
    }
}

pub fn attachments(message: &Message) -> Vec<Attachment> {
    message
        .attachments
        .iter()
        .map(|a| {
            let kind = match a.content_type.as_deref() {
                Some(t) if t.starts_with("image/") => "photo",
                Some(t) if t.starts_with("video/") => "video",
                Some(t) if t.starts_with("audio/") => "voice",
                _ => "document",
            };
            Attachment {
                kind: kind.to_string(),
                file_name: Some(a.filename.clone()),
                mime_type: a.content_type.clone(),
                size: Some(i64::from(a.size)),
                platform_ref: Some(a.id.to_string()),
                url: Some(a.url.clone()),
            }
        })
        .collect()
}

/// Sorts a gateway message. `guild` is the support guild.
pub fn classify(message: &Message, guild: serenity::all::GuildId) -> Incoming {
    if message.author.bot || message.webhook_id.is_some() {
        return Incoming::Ignored;
    }
    if !matches!(
        message.kind,
        MessageType::Regular | MessageType::InlineReply
    ) {
        return Incoming::Ignored;
    }
    match message.guild_id {
        None => Incoming::Customer(CustomerMessage {
            platform: Platform::Discord,
            external_message_id: Some(message.id.to_string()),
            customer: person(&message.author),
            conversation: message.channel_id.to_string(),
            subject: None,
            text: message.content.clone(),
            attachments: attachments(message),
        }),
        Some(id) if id == guild => Incoming::Guild,
        Some(_) => Incoming::Ignored,
    }
}
