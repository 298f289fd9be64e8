//! What the fake Bot API remembers.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use serde_json::{json, Value};

/// One recorded Bot API call: the method as documented (`sendMessage`) and its parameters.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
    /// The HTTP status the fake answered with (200, 400, 429, …).
    pub status: u16,
    /// When the fake answered (for a hang: when the call came in).
    pub at: std::time::Instant,
    /// The caller's end of the connection the call came on: calls from one process share its
    /// connections, a restarted process opens new ones.
    pub peer: std::net::SocketAddr,
}

impl Call {
    pub fn ok(&self) -> bool {
        self.status == 200
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.params.get(key).and_then(Value::as_str)
    }

    /// An integer parameter, whether sent as a JSON number or a string (form, multipart).
    pub fn int(&self, key: &str) -> Option<i64> {
        as_i64(self.params.get(key)?)
    }
}

pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// A failure to answer the next call of a method with.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 Too Many Requests with `parameters.retry_after` seconds.
    RetryAfter(u32),
    /// 500 Internal Server Error.
    ServerError,
    /// No answer for this long (the client's timeout should fire first).
    Hang(Duration),
}

/// A Telegram user as the fake describes them in updates.
#[derive(Debug, Clone)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl TgUser {
    pub fn new(id: i64, first_name: &str) -> Self {
        Self {
            id,
            first_name: first_name.to_string(),
            last_name: None,
            username: None,
            language_code: None,
        }
    }

    pub fn last_name(mut self, name: &str) -> Self {
        self.last_name = Some(name.to_string());
        self
    }

    pub fn username(mut self, name: &str) -> Self {
        self.username = Some(name.to_string());
        self
    }

    pub fn language(mut self, code: &str) -> Self {
        self.language_code = Some(code.to_string());
        self
    }

    pub fn json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(v) = &self.last_name {
            user["last_name"] = v.clone().into();
        }
        if let Some(v) = &self.username {
            user["username"] = v.clone().into();
        }
        if let Some(v) = &self.language_code {
            user["language_code"] = v.clone().into();
        }
        user
    }
}

/// A forum topic the bot just created, as told to [`super::TelegramFake::watch_topics`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    pub chat: i64,
    /// The topic's `message_thread_id`.
    pub topic: i64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Topic {
    pub name: String,
    pub closed: bool,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub calls: Vec<Call>,
    /// Files users sent, by `file_id`, for `getFile` and downloads.
    pub files: HashMap<String, Vec<u8>>,
    /// Updates not yet confirmed by a `getUpdates` offset past them.
    pub updates: VecDeque<Value>,
    /// Every update ever queued, for replays.
    pub history: Vec<Value>,
    pub next_update_id: i64,
    /// Last message id per chat.
    pub message_ids: HashMap<i64, i64>,
    /// Messages that exist, per chat (ids), for reactions.
    pub messages: HashSet<(i64, i64)>,
    /// The current text of each text message, by (chat, message id).
    pub texts: HashMap<(i64, i64), String>,
    pub topics: HashMap<(i64, i64), Topic>,
    /// Administrators of each group chat.
    pub admins: HashMap<i64, Vec<TgUser>>,
    /// Chats whose user blocked the bot (403).
    pub blocked: HashSet<i64>,
    pub webhook: Option<(String, Option<String>)>,
    /// Uploaded files: (chat, file name, content, caption).
    pub uploads: Vec<(i64, String, String, String)>,
    /// Sent messages with an inline keyboard, as sent, by (chat, message id).
    pub keyboards: HashMap<(i64, i64), Value>,
    /// Messages sent with a `ForceReply` markup: (chat, message id) → text.
    pub reply_requests: BTreeMap<(i64, i64), String>,
    /// The update types `getUpdates` last asked for; empty: the default set.
    pub allowed_updates: Vec<String>,
    pub faults: HashMap<String, VecDeque<Fault>>,
    /// Every message the bot sent (any `send*` method), by (chat, message id): the topic it
    /// went to, `None` outside topics.
    pub sent: BTreeMap<(i64, i64), Option<i64>>,
    /// Told about every topic `createForumTopic` creates, before the bot gets the answer.
    pub topic_watchers: Vec<tokio::sync::mpsc::UnboundedSender<NewTopic>>,
}

impl State {
    pub fn next_message_id(&mut self, chat: i64) -> i64 {
        let id = self.message_ids.entry(chat).or_insert(0);
        *id += 1;
        self.messages.insert((chat, *id));
        *id
    }

    pub fn push_update(&mut self, message: Value) -> i64 {
        self.push_update_of("message", message)
    }

    /// Queues an update of `kind` (`message`, `callback_query`, …).
    pub fn push_update_of(&mut self, kind: &str, payload: Value) -> i64 {
        self.next_update_id += 1;
        let id = self.next_update_id;
        let mut update = json!({"update_id": id});
        update[kind] = payload;
        self.history.push(update.clone());
        self.updates.push_back(update);
        id
    }
}
