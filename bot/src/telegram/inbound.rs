//! Telegram updates → what they mean for the hub. Pure translation, no I/O.

use relaydesk_storage::{Attachment, Platform};
use teloxide::types::{Message, Update, UpdateKind, User};

use crate::hub::{CustomerMessage, FaqPress, PlatformUser, Rating};

/// What one update asks of us.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// A customer wrote in a private chat with the bot.
    Customer(CustomerMessage),
    /// A customer replied, in a private chat, to one of the bot's messages (`prompt`: its
    /// reference): a comment when that message asked for one, else an ordinary message.
    Reply {
        prompt: String,
        message: CustomerMessage,
    },
    /// `/start` in a private chat: greet in the customer's language.
    Start {
        chat_id: i64,
        language: Option<String>,
    },
    /// An agent wrote in a topic of the staff supergroup.
    Staff(StaffPost),
    /// A command typed in the staff supergroup outside any topic (`topic` is 0).
    StaffCommandOutsideTopic(StaffPost),
    /// A customer pressed a survey button (`callback_query`); answered with
    /// `answerCallbackQuery` under `query_id`.
    Rating { query_id: String, rating: Rating },
    /// A customer pressed a button of an FAQ answer.
    Faq { query_id: String, press: FaqPress },
    /// A button press that is not ours to act on; answered so the client stops waiting.
    UnknownButton { query_id: String },
    /// Nothing for us (service messages, other chats, bots, edits).
    Ignore,
}

/// An agent's message in a staff topic, before the role is known.
#[derive(Debug, Clone)]
pub struct StaffPost {
    pub chat_id: i64,
    pub topic: i32,
    pub message_id: i32,
    pub agent: PlatformUser,
    pub user_id: u64,
    /// Posted by an administrator as the group itself (anonymous admin).
    pub anonymous_admin: bool,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

/// The external message id the hub dedupes on: `chat_id:message_id`.
pub fn message_ref(chat_id: i64, message_id: i32) -> String {
    format!("{chat_id}:{message_id}")
}

/// Reads one update. `staff_chat_id` is the team's supergroup.
pub fn translate(update: &Update, staff_chat_id: i64) -> Incoming {
    let message = match &update.kind {
        UpdateKind::Message(message) => message,
        UpdateKind::CallbackQuery(query) => {
            let query_id = query.id.to_string();
            if let Some((ticket_id, solved)) =
                query.data.as_deref().and_then(FaqPress::parse_button)
            {
                return Incoming::Faq {
                    query_id,
                    press: FaqPress {
                        platform: Platform::Telegram,
                        user: query.from.id.0.to_string(),
                        ticket_id,
                        solved,
                        language: query.from.language_code.clone(),
                    },
                };
            }
            return match query.data.as_deref().and_then(Rating::parse_button) {
                Some((survey_id, rating)) => Incoming::Rating {
                    query_id,
                    rating: Rating {
                        platform: Platform::Telegram,
                        user: query.from.id.0.to_string(),
                        survey_id,
                        rating,
                        language: query.from.language_code.clone(),
                    },
                },
                None => Incoming::UnknownButton { query_id },
            };
        }
        _ => return Incoming::Ignore,
    };
    let Some(from) = message.from.as_ref() else {
        return Incoming::Ignore;
    };
    // Administrators of the staff group may post anonymously, as the group itself.
    let anonymous_admin = from.is_anonymous()
        && message.chat.id.0 == staff_chat_id
        && message
            .sender_chat
            .as_ref()
            .is_some_and(|c| c.id == message.chat.id);
    if from.is_bot && !anonymous_admin {
        return Incoming::Ignore;
    }
    let text = message
        .text()
        .or_else(|| message.caption())
        .unwrap_or("")
        .to_string();
    let attachments = attachments_of(message);
    if text.trim().is_empty() && attachments.is_empty() {
        return Incoming::Ignore;
    }
    let chat_id = message.chat.id.0;
    if message.chat.is_private() {
        if is_start(&text) {
            return Incoming::Start {
                chat_id,
                language: from.language_code.clone(),
            };
        }
        let customer = CustomerMessage {
            platform: Platform::Telegram,
            external_message_id: Some(message_ref(chat_id, message.id.0)),
            customer: PlatformUser {
                external_id: from.id.0.to_string(),
                display_name: customer_name(from),
                language: from.language_code.clone(),
            },
            conversation: chat_id.to_string(),
            subject: None,
            text,
            attachments,
        };
        return match message.reply_to_message() {
            Some(replied) if replied.from.as_ref().is_some_and(|u| u.is_bot) => Incoming::Reply {
                prompt: message_ref(chat_id, replied.id.0),
                message: customer,
            },
            _ => Incoming::Customer(customer),
        };
    }
    if chat_id != staff_chat_id {
        return Incoming::Ignore;
    }
    let agent = if anonymous_admin {
        // One agent per signature (the admin's custom title), if they set one.
        let name = message
            .author_signature()
            .map_or_else(|| "Anonymous admin".to_string(), str::to_string);
        PlatformUser {
            external_id: format!("anonymous:{name}"),
            display_name: name,
            language: None,
        }
    } else {
        PlatformUser {
            external_id: from.id.0.to_string(),
            display_name: agent_name(from),
            language: from.language_code.clone(),
        }
    };
    let command = is_command(&text);
    let post = |topic| StaffPost {
        chat_id,
        topic,
        message_id: message.id.0,
        agent,
        user_id: from.id.0,
        anonymous_admin,
        text,
        attachments,
    };
    match message.thread_id.filter(|_| message.is_topic_message) {
        Some(topic) => Incoming::Staff(post(topic.0 .0)),
        None if command => Incoming::StaffCommandOutsideTopic(post(0)),
        None => Incoming::Ignore,
    }
}

/// A slash command (`//text` is a note, not a command).
fn is_command(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with('/') && !text.starts_with("//")
}

/// `/start` or `/start payload` (deep links), also `/start@bot`.
fn is_start(text: &str) -> bool {
    let word = text.split_whitespace().next().unwrap_or("");
    let name = word.split('@').next().unwrap_or(word);
    name == "/start"
}

/// What a ticket shows for a customer: `Anna K.` from first and last name.
fn customer_name(user: &User) -> String {
    let name = user.full_name();
    if name.trim().is_empty() {
        user.username
            .clone()
            .unwrap_or_else(|| user.id.0.to_string())
    } else {
        name
    }
}

/// Agents are known by their @username when they have one, so `/assign @anna` finds them.
fn agent_name(user: &User) -> String {
    user.username
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| customer_name(user))
}

/// Files in a message, by Telegram `file_id` (the largest size of a photo).
pub fn attachments_of(message: &Message) -> Vec<Attachment> {
    let file =
        |kind: &str, id: &str, name: Option<&str>, mime: Option<String>, size: u32| Attachment {
            kind: kind.to_string(),
            file_name: name.map(str::to_string),
            mime_type: mime,
            size: Some(i64::from(size)),
            platform_ref: Some(id.to_string()),
            url: None,
        };
    let mut out = Vec::new();
    if let Some(sizes) = message.photo() {
        if let Some(p) = sizes.iter().max_by_key(|p| p.width * p.height) {
            out.push(file("photo", &p.file.id.0, None, None, p.file.size));
        }
    }
    if let Some(d) = message.document() {
        out.push(file(
            "document",
            &d.file.id.0,
            d.file_name.as_deref(),
            d.mime_type.as_ref().map(ToString::to_string),
            d.file.size,
        ));
    }
    if let Some(v) = message.voice() {
        let mime = v.mime_type.as_ref().map(ToString::to_string);
        out.push(file("voice", &v.file.id.0, None, mime, v.file.size));
    }
    if let Some(v) = message.video() {
        let mime = v.mime_type.as_ref().map(ToString::to_string);
        out.push(file(
            "video",
            &v.file.id.0,
            v.file_name.as_deref(),
            mime,
            v.file.size,
        ));
    }
    if let Some(s) = message.sticker() {
        out.push(file("sticker", &s.file.id.0, None, None, s.file.size));
    }
    if let Some(a) = message.audio() {
        let mime = a.mime_type.as_ref().map(ToString::to_string);
        out.push(file(
            "audio",
            &a.file.id.0,
            a.file_name.as_deref(),
            mime,
            a.file.size,
        ));
    }
    if let Some(a) = message.animation() {
        let mime = a.mime_type.as_ref().map(ToString::to_string);
        out.push(file(
            "animation",
            &a.file.id.0,
            a.file_name.as_deref(),
            mime,
            a.file.size,
        ));
    }
    if let Some(v) = message.video_note() {
        out.push(file("video_note", &v.file.id.0, None, None, v.file.size));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAFF: i64 = -100_777;

    fn update(message: serde_json::Value) -> Update {
        // As the client reads it: from the text of a Bot API answer.
        let text = serde_json::json!({"update_id": 1, "message": message}).to_string();
        serde_json::from_str(&text).expect("a valid update")
    }

    fn private(text: &str) -> serde_json::Value {
        serde_json::json!({
            "message_id": 5, "date": 1_700_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "Anna"},
            "from": {"id": 42, "is_bot": false, "first_name": "Anna", "last_name": "K.", "language_code": "de"},
            "text": text
        })
    }

    #[test]
    fn private_text_is_a_customer_message() {
        let Incoming::Customer(m) = translate(&update(private("<b>hi</b>")), STAFF) else {
            panic!("expected a customer message");
        };
        assert_eq!(m.conversation, "42");
        assert_eq!(m.external_message_id.as_deref(), Some("42:5"));
        assert_eq!(m.customer.display_name, "Anna K.");
        assert_eq!(m.customer.language.as_deref(), Some("de"));
        assert_eq!(m.text, "<b>hi</b>");
    }

    #[test]
    fn start_is_a_greeting_request() {
        assert!(matches!(
            translate(&update(private("/start")), STAFF),
            Incoming::Start { chat_id: 42, .. }
        ));
        assert!(matches!(
            translate(&update(private("/started a fire")), STAFF),
            Incoming::Customer(_)
        ));
    }

    #[test]
    fn topic_messages_are_staff_and_others_are_sorted_out() {
        let topic = serde_json::json!({
            "message_id": 9, "date": 1_700_000_000, "message_thread_id": 3, "is_topic_message": true,
            "chat": {"id": STAFF, "type": "supergroup", "title": "Team", "is_forum": true},
            "from": {"id": 7, "is_bot": false, "first_name": "Bo", "username": "bo"},
            "text": "on it"
        });
        let Incoming::Staff(post) = translate(&update(topic.clone()), STAFF) else {
            panic!("expected a staff post");
        };
        assert_eq!((post.topic, post.message_id), (3, 9));
        assert_eq!(post.agent.display_name, "bo");
        let mut general = topic.clone();
        general["is_topic_message"] = false.into();
        general["text"] = "/claim".into();
        assert!(matches!(
            translate(&update(general.clone()), STAFF),
            Incoming::StaffCommandOutsideTopic(StaffPost { chat_id: STAFF, .. })
        ));
        general["text"] = "chatting".into();
        assert!(matches!(
            translate(&update(general), STAFF),
            Incoming::Ignore
        ));
        assert!(matches!(translate(&update(topic), -1), Incoming::Ignore));
    }

    #[test]
    fn anonymous_admins_of_the_staff_group_are_staff_other_bots_are_not() {
        let mut anonymous = serde_json::json!({
            "message_id": 9, "date": 1_700_000_000, "message_thread_id": 3, "is_topic_message": true,
            "chat": {"id": STAFF, "type": "supergroup", "title": "Team", "is_forum": true},
            "sender_chat": {"id": STAFF, "type": "supergroup", "title": "Team", "is_forum": true},
            "from": {"id": 1_087_968_824_u64, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"},
            "author_signature": "Head of support",
            "text": "/merge #1002"
        });
        let Incoming::Staff(post) = translate(&update(anonymous.clone()), STAFF) else {
            panic!("expected a staff post");
        };
        assert!(post.anonymous_admin);
        assert_eq!(post.agent.display_name, "Head of support");
        anonymous["from"] = serde_json::json!({"id": 99, "is_bot": true, "first_name": "Other", "username": "other_bot"});
        assert!(matches!(
            translate(&update(anonymous), STAFF),
            Incoming::Ignore
        ));
    }

    #[test]
    fn photos_keep_the_caption_and_the_largest_file() {
        let mut m = private("");
        m.as_object_mut().expect("object").remove("text");
        m["caption"] = "broken".into();
        m["photo"] = serde_json::json!([
            {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
            {"file_id": "big", "file_unique_id": "b", "width": 800, "height": 800, "file_size": 99}
        ]);
        let Incoming::Customer(c) = translate(&update(m), STAFF) else {
            panic!("expected a customer message");
        };
        assert_eq!(c.text, "broken");
        assert_eq!(c.attachments.len(), 1);
        assert_eq!(c.attachments[0].platform_ref.as_deref(), Some("big"));
        assert_eq!(c.attachments[0].kind, "photo");
    }
}
