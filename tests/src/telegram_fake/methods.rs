//! The Bot API methods the fake serves, each checked against its documented required
//! parameters and answered with the documented result type.

use std::time::Duration;

use serde_json::{json, Value};

use super::server::{Shared, BOT_ID, BOT_USERNAME};
use super::state::{as_i64, NewTopic, Topic};

/// Each served method as documented; the real server matches names case-insensitively.
const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "copyMessage",
    "sendPhoto",
    "sendDocument",
    "sendVoice",
    "sendVideo",
    "sendSticker",
    "sendAudio",
    "sendAnimation",
    "sendVideoNote",
    "createForumTopic",
    "editForumTopic",
    "closeForumTopic",
    "reopenForumTopic",
    "getChatMember",
    "getChatAdministrators",
    "setMyCommands",
    "setMessageReaction",
    "answerCallbackQuery",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "getFile",
];

/// Required parameters, from the Bot API documentation.
fn required(method: &str) -> &'static [&'static str] {
    match method {
        "sendMessage" => &["chat_id", "text"],
        // chat_id and message_id are required unless inline_message_id is given; the bot
        // never edits inline messages, so the fake requires them.
        "editMessageText" => &["chat_id", "message_id", "text"],
        "copyMessage" => &["chat_id", "from_chat_id", "message_id"],
        "sendPhoto" => &["chat_id", "photo"],
        "sendDocument" => &["chat_id", "document"],
        "sendVoice" => &["chat_id", "voice"],
        "sendVideo" => &["chat_id", "video"],
        "sendSticker" => &["chat_id", "sticker"],
        "sendAudio" => &["chat_id", "audio"],
        "sendAnimation" => &["chat_id", "animation"],
        "sendVideoNote" => &["chat_id", "video_note"],
        "createForumTopic" => &["chat_id", "name"],
        "editForumTopic" | "closeForumTopic" | "reopenForumTopic" => {
            &["chat_id", "message_thread_id"]
        }
        "getChatMember" => &["chat_id", "user_id"],
        "getFile" => &["file_id"],
        "getChatAdministrators" => &["chat_id"],
        "setMyCommands" => &["commands"],
        "setMessageReaction" => &["chat_id", "message_id"],
        "answerCallbackQuery" => &["callback_query_id"],
        "setWebhook" => &["url"],
        _ => &[],
    }
}

pub(crate) fn canonical(name: &str) -> Option<&'static str> {
    METHODS
        .iter()
        .copied()
        .find(|m| m.eq_ignore_ascii_case(name))
}

pub(crate) enum Answer {
    Ok(Value),
    Err(u16, String),
}

fn bad(description: &str) -> Answer {
    Answer::Err(400, format!("Bad Request: {description}"))
}

fn int(params: &Value, key: &str) -> Option<i64> {
    params.get(key).and_then(as_i64)
}

fn text(params: &Value, key: &str) -> Option<String> {
    params.get(key).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

/// A JSON-typed parameter, sent as JSON or as a JSON string (form, multipart).
fn structured(params: &Value, key: &str) -> Option<Value> {
    match params.get(key)? {
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

fn chat_json(id: i64) -> Value {
    if id > 0 {
        json!({"id": id, "type": "private", "first_name": "Customer"})
    } else {
        json!({"id": id, "type": "supergroup", "title": "Support team", "is_forum": true})
    }
}

pub(super) fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Relaydesk", "username": BOT_USERNAME})
}

pub(crate) async fn answer(shared: &Shared, method: &str, params: &Value) -> Answer {
    for key in required(method) {
        if params.get(*key).is_none_or(Value::is_null) {
            return bad(&format!("parameter \"{key}\" is required"));
        }
    }
    match method {
        "getMe" => Answer::Ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Relaydesk", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": true,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false,
        })),
        "getUpdates" => get_updates(shared, params).await,
        // A File object; the file is then at `/file/bot<token>/<file_path>`.
        "getFile" => {
            let id = text(params, "file_id").unwrap_or_default();
            match shared.lock().files.get(&id) {
                Some(data) => Answer::Ok(json!({
                    "file_id": id,
                    "file_unique_id": format!("u-{id}"),
                    "file_size": data.len(),
                    "file_path": format!("photos/{id}.bin"),
                })),
                None => bad("invalid file_id"),
            }
        }
        "setWebhook" => {
            let url = text(params, "url").unwrap_or_default();
            let mut state = shared.lock();
            state.webhook = if url.is_empty() {
                None
            } else {
                Some((url, text(params, "secret_token")))
            };
            Answer::Ok(json!(true))
        }
        "deleteWebhook" => {
            shared.lock().webhook = None;
            Answer::Ok(json!(true))
        }
        "getWebhookInfo" => {
            let state = shared.lock();
            let url = state
                .webhook
                .as_ref()
                .map(|w| w.0.clone())
                .unwrap_or_default();
            Answer::Ok(json!({
                "url": url, "has_custom_certificate": false,
                "pending_update_count": state.updates.len(),
            }))
        }
        "setMyCommands" => match structured(params, "commands") {
            // BotCommand: `command` 1-32 of a-z, 0-9 and _; `description` 1-256 characters.
            Some(Value::Array(commands))
                if commands.len() <= 100 && commands.iter().all(bot_command_ok) =>
            {
                match params.get("language_code").and_then(Value::as_str) {
                    Some(code)
                        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) =>
                    {
                        bad("language_code must be a two-letter ISO 639-1 code")
                    }
                    _ => Answer::Ok(json!(true)),
                }
            }
            _ => bad("commands must be an array of BotCommand"),
        },
        "answerCallbackQuery" => {
            if text(params, "text").is_some_and(|t| t.chars().count() > 200) {
                return bad("answerCallbackQuery text is longer than 200 characters");
            }
            Answer::Ok(json!(true))
        }
        "getChatAdministrators" => {
            let chat = int(params, "chat_id").unwrap_or_default();
            let state = shared.lock();
            let admins = state.admins.get(&chat).cloned().unwrap_or_default();
            Answer::Ok(Value::Array(
                admins.iter().map(|u| administrator(&u.json())).collect(),
            ))
        }
        "getChatMember" => {
            let chat = int(params, "chat_id").unwrap_or_default();
            let user = int(params, "user_id").unwrap_or_default();
            let state = shared.lock();
            let admin = state
                .admins
                .get(&chat)
                .and_then(|a| a.iter().find(|u| u.id == user));
            Answer::Ok(match admin {
                Some(u) => administrator(&u.json()),
                None => {
                    json!({"status": "member", "user": {"id": user, "is_bot": false, "first_name": "Member"}})
                }
            })
        }
        "createForumTopic" => {
            let chat = int(params, "chat_id").unwrap_or_default();
            let name = text(params, "name").unwrap_or_default();
            if chat > 0 {
                return bad("chat is not a forum");
            }
            let length = name.chars().count();
            if length == 0 || length > 128 {
                return bad("TOPIC_NAME_INVALID");
            }
            let mut state = shared.lock();
            let id = state.next_message_id(chat);
            state.topics.insert(
                (chat, id),
                Topic {
                    name: name.clone(),
                    closed: false,
                },
            );
            let created = NewTopic {
                chat,
                topic: id,
                name: name.clone(),
            };
            state
                .topic_watchers
                .retain(|watcher| watcher.send(created.clone()).is_ok());
            Answer::Ok(json!({"message_thread_id": id, "name": name, "icon_color": 7_322_096}))
        }
        "editForumTopic" | "closeForumTopic" | "reopenForumTopic" => {
            topic_change(shared, method, params)
        }
        "setMessageReaction" => {
            let chat = int(params, "chat_id").unwrap_or_default();
            let message = int(params, "message_id").unwrap_or_default();
            if !shared.lock().messages.contains(&(chat, message)) {
                return bad("message to react not found");
            }
            Answer::Ok(json!(true))
        }
        "copyMessage" => {
            let chat = int(params, "chat_id").unwrap_or_default();
            if let Err(answer) = can_send(shared, chat, params) {
                return answer;
            }
            let id = shared.lock().next_message_id(chat);
            Answer::Ok(json!({ "message_id": id }))
        }
        "sendMessage" => {
            let chat = int(params, "chat_id").unwrap_or_default();
            let body = text(params, "text").unwrap_or_default();
            if body.trim().is_empty() {
                return bad("message text is empty");
            }
            if body.chars().count() > 4096 {
                return bad("message is too long");
            }
            let mut content = json!({ "text": body });
            match structured(params, "entities") {
                None => {}
                Some(entities) => match checked_entities(&body, &entities) {
                    Ok(()) => content["entities"] = entities,
                    Err(why) => return bad(&why),
                },
            }
            match structured(params, "reply_markup") {
                None => {}
                Some(markup) => match checked_reply_markup(&markup) {
                    Ok(()) => content["reply_markup"] = markup,
                    Err(why) => return bad(&why),
                },
            }
            let answer = send(shared, chat, params, content);
            if let Answer::Ok(message) = &answer {
                if let Some(id) = message["message_id"].as_i64() {
                    let mut state = shared.lock();
                    state.texts.insert((chat, id), body.clone());
                    if message["reply_markup"].get("inline_keyboard").is_some() {
                        state.keyboards.insert((chat, id), message.clone());
                    }
                    if message["reply_markup"]["force_reply"] == Value::Bool(true) {
                        state.reply_requests.insert((chat, id), body.clone());
                    }
                }
            }
            answer
        }
        "editMessageText" => edit_text(shared, params),
        file_method => {
            // sendPhoto, sendDocument, …: the file is a file_id, URL or upload.
            let chat = int(params, "chat_id").unwrap_or_default();
            let field = required(file_method).get(1).copied().unwrap_or("document");
            let mut file = text(params, field).unwrap_or_default();
            // An upload is a multipart part: under the parameter's own name, or under any name
            // the parameter points to with `attach://<name>`.
            let part = file.strip_prefix("attach://").unwrap_or(field).to_string();
            if part != field {
                file = text(params, &part).unwrap_or_default();
            }
            let caption = text(params, "caption");
            if caption.as_ref().is_some_and(|c| c.chars().count() > 1024) {
                return bad("message caption is too long");
            }
            let upload = text(params, &format!("{part}.file_name"));
            let mut content = json!({});
            content[field] = match &upload {
                Some(name) => {
                    json!({"file_id": format!("upload-{name}"), "file_unique_id": format!("u-{name}"), "file_name": name})
                }
                None => json!({"file_id": file, "file_unique_id": format!("u-{file}")}),
            };
            if let Some(caption) = &caption {
                content["caption"] = caption.clone().into();
            }
            let answer = send(shared, chat, params, content);
            if let (Answer::Ok(_), Some(name)) = (&answer, upload) {
                shared
                    .lock()
                    .uploads
                    .push((chat, name, file, caption.unwrap_or_default()));
            }
            answer
        }
    }
}

fn administrator(user: &Value) -> Value {
    json!({
        "status": "administrator", "user": user, "can_be_edited": false, "is_anonymous": false,
        "can_manage_chat": true, "can_delete_messages": true, "can_manage_video_chats": true,
        "can_restrict_members": true, "can_promote_members": false, "can_change_info": true,
        "can_invite_users": true, "can_post_stories": false, "can_edit_stories": false,
        "can_delete_stories": false, "can_pin_messages": true, "can_manage_topics": true,
    })
}

/// 403 for a chat that blocked the bot, 400 for an unknown topic.
fn can_send(shared: &Shared, chat: i64, params: &Value) -> Result<(), Answer> {
    let state = shared.lock();
    if state.blocked.contains(&chat) {
        return Err(Answer::Err(
            403,
            "Forbidden: bot was blocked by the user".into(),
        ));
    }
    if let Some(topic) = int(params, "message_thread_id") {
        if !state.topics.contains_key(&(chat, topic)) {
            return Err(bad("message thread not found"));
        }
    }
    Ok(())
}

fn send(shared: &Shared, chat: i64, params: &Value, content: Value) -> Answer {
    if let Err(answer) = can_send(shared, chat, params) {
        return answer;
    }
    let id = {
        let mut state = shared.lock();
        let id = state.next_message_id(chat);
        let topic = int(params, "message_thread_id");
        state.sent.insert((chat, id), topic);
        id
    };
    let mut message = json!({
        "message_id": id, "date": 1_700_000_000, "chat": chat_json(chat), "from": bot_user(),
    });
    if let Some(topic) = int(params, "message_thread_id") {
        message["message_thread_id"] = topic.into();
        message["is_topic_message"] = true.into();
    }
    if let (Some(message), Value::Object(content)) = (message.as_object_mut(), content) {
        message.extend(content);
    }
    Answer::Ok(message)
}

/// `reply_markup` of sendMessage: an inline keyboard, or a `ForceReply` as documented
/// (`force_reply` true; an optional `input_field_placeholder` of 1-64 characters).
fn checked_reply_markup(markup: &Value) -> Result<(), String> {
    if markup.get("force_reply").is_none() {
        return checked_inline_keyboard(markup);
    }
    if markup["force_reply"] != Value::Bool(true) {
        return Err("force_reply must be true".into());
    }
    if let Some(placeholder) = markup.get("input_field_placeholder") {
        let len = placeholder.as_str().map_or(0, |p| p.chars().count());
        if !(1..=64).contains(&len) {
            return Err("input_field_placeholder must be 1-64 characters".into());
        }
    }
    Ok(())
}

/// An `InlineKeyboardMarkup` as documented: `inline_keyboard` is an array of rows of
/// buttons, each with a `text` and exactly one action; `callback_data` is 1-64 bytes.
fn checked_inline_keyboard(markup: &Value) -> Result<(), String> {
    let Some(rows) = markup["inline_keyboard"].as_array() else {
        return Err("reply_markup: only inline_keyboard is expected here".into());
    };
    for row in rows {
        let Some(buttons) = row.as_array() else {
            return Err("inline_keyboard rows must be arrays".into());
        };
        for button in buttons {
            if button["text"].as_str().is_none_or(str::is_empty) {
                return Err("an inline keyboard button needs a text".into());
            }
            let actions = ["url", "callback_data", "switch_inline_query", "pay"]
                .iter()
                .filter(|k| button.get(**k).is_some())
                .count();
            if actions != 1 {
                return Err("an inline keyboard button needs exactly one action".into());
            }
            if let Some(data) = button.get("callback_data") {
                let len = data.as_str().map_or(0, str::len);
                if !(1..=64).contains(&len) {
                    return Err("BUTTON_DATA_INVALID".into());
                }
            }
        }
    }
    Ok(())
}

/// Entities as documented: offsets and lengths in UTF-16 code units within the text, a
/// `text_mention` with the user it mentions, a `text_link` with its URL.
fn checked_entities(text: &str, entities: &Value) -> Result<(), String> {
    let Value::Array(entities) = entities else {
        return Err("entities must be an array of MessageEntity".into());
    };
    let units = text.encode_utf16().count();
    for entity in entities {
        let offset = entity["offset"].as_u64();
        let length = entity["length"].as_u64();
        let (Some(offset), Some(length)) = (offset, length) else {
            return Err("an entity needs offset and length".into());
        };
        let end = usize::try_from(offset + length).unwrap_or(usize::MAX);
        if length == 0 || end > units {
            return Err("entity beyond the end of the text".into());
        }
        match entity["type"].as_str() {
            Some("text_mention") if entity["user"]["id"].as_i64().is_some() => {}
            Some("text_link") if entity["url"].is_string() => {}
            Some("text_mention" | "text_link") | None => {
                return Err("can't parse entities: entity is incomplete".into())
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Replaces a text message's text; as documented, the same text again is an error.
fn edit_text(shared: &Shared, params: &Value) -> Answer {
    let chat = int(params, "chat_id").unwrap_or_default();
    let id = int(params, "message_id").unwrap_or_default();
    let body = text(params, "text").unwrap_or_default();
    if body.trim().is_empty() {
        return bad("message text is empty");
    }
    if body.chars().count() > 4096 {
        return bad("MESSAGE_TOO_LONG");
    }
    let mut state = shared.lock();
    let Some(current) = state.texts.get_mut(&(chat, id)) else {
        return bad("message to edit not found");
    };
    if *current == body {
        return bad(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        );
    }
    current.clone_from(&body);
    Answer::Ok(json!({
        "message_id": id, "date": 1_700_000_000, "edit_date": 1_700_000_001,
        "chat": chat_json(chat), "from": bot_user(), "text": body,
    }))
}

fn topic_change(shared: &Shared, method: &str, params: &Value) -> Answer {
    let chat = int(params, "chat_id").unwrap_or_default();
    let id = int(params, "message_thread_id").unwrap_or_default();
    let mut state = shared.lock();
    let Some(topic) = state.topics.get_mut(&(chat, id)) else {
        return bad("TOPIC_ID_INVALID");
    };
    match method {
        "editForumTopic" => {
            let Some(name) = text(params, "name") else {
                return Answer::Ok(json!(true));
            };
            if name.chars().count() > 128 || name.is_empty() {
                return bad("TOPIC_NAME_INVALID");
            }
            if name == topic.name {
                return bad("TOPIC_NOT_MODIFIED");
            }
            topic.name = name;
        }
        "closeForumTopic" => {
            if topic.closed {
                return bad("TOPIC_NOT_MODIFIED");
            }
            topic.closed = true;
        }
        _ => {
            if !topic.closed {
                return bad("TOPIC_NOT_MODIFIED");
            }
            topic.closed = false;
        }
    }
    Answer::Ok(json!(true))
}

/// Long polling: confirms updates below `offset`, answers at once when there are updates, else
/// waits up to `timeout` seconds for one. 409 while a webhook is set, as documented.
async fn get_updates(shared: &Shared, params: &Value) -> Answer {
    if shared.lock().webhook.is_some() {
        return Answer::Err(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first".into(),
        );
    }
    // "If not specified, the previous setting will be used"; an empty list means every type
    // but chat_member, message_reaction and message_reaction_count; the default is that too.
    if let Some(Value::Array(kinds)) = structured(params, "allowed_updates") {
        shared.lock().allowed_updates = kinds
            .iter()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
    }
    let offset = int(params, "offset");
    let limit = int(params, "limit").unwrap_or(100).clamp(1, 100);
    let timeout = int(params, "timeout").unwrap_or(0).max(0);
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(u64::try_from(timeout).unwrap_or(0));
    loop {
        let changed = shared.changed.notified();
        {
            let mut state = shared.lock();
            if let Some(offset) = offset {
                while state
                    .updates
                    .front()
                    .and_then(|u| u["update_id"].as_i64())
                    .is_some_and(|id| id < offset)
                {
                    state.updates.pop_front();
                }
            }
            // Updates of a type the bot did not ask for are dropped, as Telegram does.
            let allowed = state.allowed_updates.clone();
            state.updates.retain(|u| {
                allowed.is_empty()
                    || u.as_object()
                        .is_some_and(|o| o.keys().any(|k| allowed.contains(k)))
            });
            if !state.updates.is_empty() {
                let batch: Vec<Value> = state
                    .updates
                    .iter()
                    .take(usize::try_from(limit).unwrap_or(100))
                    .cloned()
                    .collect();
                return Answer::Ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return Answer::Ok(json!([]));
        }
    }
}

/// A BotCommand as the Bot API documents it.
fn bot_command_ok(command: &Value) -> bool {
    let name = command["command"].as_str().unwrap_or_default();
    let description = command["description"].as_str().unwrap_or_default();
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && (1..=256).contains(&description.chars().count())
}
