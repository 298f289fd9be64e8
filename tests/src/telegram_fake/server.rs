//! The HTTP side of the fake: routing, parameter decoding, envelopes, faults; and the handle
//! tests use to push updates and read what the bot sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Path, Request, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

use super::methods::{self, Answer};
use super::state::{Call, Fault, NewTopic, State, TgUser};

/// The fake's bot: what `getMe` answers.
pub const BOT_ID: i64 = 777_000_111;
pub const BOT_USERNAME: &str = "relaydesk_test_bot";

#[derive(Debug)]
pub(crate) struct Shared {
    pub state: Mutex<State>,
    /// Rung on every change (new update, new call).
    pub changed: Notify,
    pub token: String,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// A running fake Bot API on 127.0.0.1; stops when dropped.
#[derive(Debug, Clone)]
pub struct TelegramFake {
    shared: Arc<Shared>,
    url: String,
    _task: Arc<AbortOnDrop>,
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl TelegramFake {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            token: "123456:TEST-token_for-the-fake".to_string(),
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(call).get(call))
            .route("/file/{bot}/{*path}", axum::routing::get(download))
            .fallback(any(not_found))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Bot API");
        let addr = listener.local_addr().expect("fake address");
        let task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, app).await;
        });
        Self {
            shared,
            url: format!("http://{addr}"),
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    /// The base URL to give the bot as `api_url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Makes `user` an administrator of `chat` (for `getChatAdministrators`/`getChatMember`).
    pub fn add_admin(&self, chat: i64, user: &TgUser) {
        self.shared
            .lock()
            .admins
            .entry(chat)
            .or_default()
            .push(user.clone());
    }

    /// A file a user sent, for `getFile` and its download.
    pub fn put_file(&self, file_id: &str, data: &[u8]) {
        self.shared
            .lock()
            .files
            .insert(file_id.to_string(), data.to_vec());
    }

    /// The user of `chat` blocked the bot: sends there fail with 403.
    pub fn block(&self, chat: i64) {
        self.shared.lock().blocked.insert(chat);
    }

    /// The next calls of `method` fail with these faults, one each, in order.
    pub fn inject(&self, method: &str, faults: impl IntoIterator<Item = Fault>) {
        let name = methods::canonical(method).unwrap_or(method).to_string();
        self.shared
            .lock()
            .faults
            .entry(name)
            .or_default()
            .extend(faults);
    }

    /// A customer writes to the bot in their private chat. Returns the message id.
    pub fn push_private_text(&self, user: &TgUser, text: &str) -> i64 {
        self.push_private(user, json!({ "text": text }))
    }

    /// A private message with any content fields (`photo`, `document`, `caption`, …).
    pub fn push_private(&self, user: &TgUser, content: Value) -> i64 {
        let mut state = self.shared.lock();
        let id = state.next_message_id(user.id);
        let mut chat = json!({"id": user.id, "type": "private", "first_name": user.first_name});
        if let Some(last) = &user.last_name {
            chat["last_name"] = last.clone().into();
        }
        let mut message = json!({
            "message_id": id, "date": now(), "chat": chat, "from": user.json(),
        });
        merge(&mut message, content);
        state.push_update(message);
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    /// The customer replies, in their private chat, to the bot's message `to` (its text as
    /// the bot last set it): a message with `reply_to_message`. Returns the message id.
    pub fn reply_private_text(&self, user: &TgUser, to: i64, text: &str) -> i64 {
        let replied = {
            let state = self.shared.lock();
            let body = state.texts.get(&(user.id, to)).cloned().unwrap_or_default();
            json!({
                "message_id": to, "date": now(),
                "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
                "from": super::methods::bot_user(), "text": body,
            })
        };
        self.push_private(user, json!({ "text": text, "reply_to_message": replied }))
    }

    /// The bot's messages to `chat` that ask for a reply (`ForceReply`): (message id, text).
    pub fn reply_requests_to(&self, chat: i64) -> Vec<(i64, String)> {
        self.shared
            .lock()
            .reply_requests
            .iter()
            .filter(|((c, _), _)| *c == chat)
            .map(|((_, id), text)| (*id, text.clone()))
            .collect()
    }

    /// `user` presses the inline button with `data` on the bot's message `message_id` in
    /// `chat`: a `callback_query` update as documented. Returns the query id. Panics when that
    /// message has no such button (Telegram would not send it).
    pub fn press_button(&self, user: &TgUser, chat: i64, message_id: i64, data: &str) -> String {
        let mut state = self.shared.lock();
        let message = state
            .keyboards
            .get(&(chat, message_id))
            .cloned()
            .unwrap_or_else(|| panic!("message {chat}/{message_id} has no inline keyboard"));
        let on_a_button = message["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .any(|b| b["callback_data"] == data);
        assert!(on_a_button, "no button with data `{data}` on {message}");
        let query_id = format!("cq-{}-{}", user.id, state.next_update_id + 1);
        state.push_update_of(
            "callback_query",
            json!({
                "id": query_id, "from": user.json(), "message": message,
                "chat_instance": format!("ci-{chat}"), "data": data,
            }),
        );
        drop(state);
        self.shared.changed.notify_waiters();
        query_id
    }

    /// Files uploaded (not sent by `file_id`) to `chat`, in order: (file name, content,
    /// caption).
    pub fn uploads_to(&self, chat: i64) -> Vec<(String, String, String)> {
        self.shared
            .lock()
            .uploads
            .iter()
            .filter(|u| u.0 == chat)
            .map(|u| (u.1.clone(), u.2.clone(), u.3.clone()))
            .collect()
    }

    /// The bot's messages with an inline keyboard sent to `chat`, in order: (message id,
    /// text, the buttons' callback data).
    pub fn keyboards_to(&self, chat: i64) -> Vec<(i64, String, Vec<String>)> {
        let state = self.shared.lock();
        let mut found: Vec<(i64, String, Vec<String>)> = state
            .keyboards
            .iter()
            .filter(|((c, _), _)| *c == chat)
            .map(|((_, id), message)| {
                let data = message["reply_markup"]["inline_keyboard"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_array)
                    .flatten()
                    .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
                    .collect();
                (
                    *id,
                    message["text"].as_str().unwrap_or_default().to_string(),
                    data,
                )
            })
            .collect();
        found.sort_by_key(|(id, _, _)| *id);
        found
    }

    /// Someone writes in a forum topic of `chat`. Returns the message id.
    pub fn push_topic_text(&self, chat: i64, topic: i64, user: &TgUser, text: &str) -> i64 {
        self.push_group(chat, Some(topic), user, text)
    }

    /// Someone writes in `chat` outside any topic (the General topic). Returns the message id.
    pub fn push_group_text(&self, chat: i64, user: &TgUser, text: &str) -> i64 {
        self.push_group(chat, None, user, text)
    }

    /// An administrator posts anonymously (as the group) in a topic of `chat`, as documented:
    /// `from` is @GroupAnonymousBot, `sender_chat` the group, `author_signature` their title.
    pub fn push_anonymous_admin_text(
        &self,
        chat: i64,
        topic: i64,
        signature: &str,
        text: &str,
    ) -> i64 {
        let mut state = self.shared.lock();
        let id = state.next_message_id(chat);
        let group =
            json!({"id": chat, "type": "supergroup", "title": "Support team", "is_forum": true});
        let message = json!({
            "message_id": id, "date": now(), "chat": group.clone(), "sender_chat": group,
            "from": {"id": 1_087_968_824_i64, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"},
            "author_signature": signature, "message_thread_id": topic, "is_topic_message": true,
            "text": text,
        });
        state.push_update(message);
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    fn push_group(&self, chat: i64, topic: Option<i64>, user: &TgUser, text: &str) -> i64 {
        let mut state = self.shared.lock();
        let id = state.next_message_id(chat);
        let mut message = json!({
            "message_id": id, "date": now(),
            "chat": {"id": chat, "type": "supergroup", "title": "Support team", "is_forum": true},
            "from": user.json(), "text": text,
        });
        if let Some(topic) = topic {
            message["message_thread_id"] = topic.into();
            message["is_topic_message"] = true.into();
        }
        state.push_update(message);
        drop(state);
        self.shared.changed.notify_waiters();
        id
    }

    /// The update a webhook would receive for the last pushed update (for webhook tests).
    pub fn take_pending_updates(&self) -> Vec<Value> {
        self.shared.lock().updates.drain(..).collect()
    }

    /// Serves every update from `update_id` on again, as Telegram does when a bot stopped
    /// before its next `getUpdates` confirmed them.
    pub fn replay_from(&self, update_id: i64) {
        let mut state = self.shared.lock();
        let queued: Vec<i64> = state
            .updates
            .iter()
            .filter_map(|u| u["update_id"].as_i64())
            .collect();
        let mut again: Vec<Value> = state
            .history
            .iter()
            .filter(|u| {
                u["update_id"]
                    .as_i64()
                    .is_some_and(|id| id >= update_id && !queued.contains(&id))
            })
            .cloned()
            .collect();
        again.extend(state.updates.drain(..));
        again.sort_by_key(|u| u["update_id"].as_i64());
        state.updates = again.into();
        drop(state);
        self.shared.changed.notify_waiters();
    }

    /// The forum topics of `chat`: id, name, closed; in creation order.
    pub fn topics(&self, chat: i64) -> Vec<(i64, String, bool)> {
        let mut topics: Vec<(i64, String, bool)> = self
            .shared
            .lock()
            .topics
            .iter()
            .filter(|((c, _), _)| *c == chat)
            .map(|((_, id), t)| (*id, t.name.clone(), t.closed))
            .collect();
        topics.sort_by_key(|t| t.0);
        topics
    }

    /// From now on, every forum topic the bot creates is told to the returned receiver, at the
    /// moment the fake creates it: before the bot has the answer to `createForumTopic` (as
    /// members of the group see a new topic while the bot's request is still on its way back).
    pub fn watch_topics(&self) -> tokio::sync::mpsc::UnboundedReceiver<NewTopic> {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        self.shared.lock().topic_watchers.push(sender);
        receiver
    }

    /// The messages the bot sent (any `send*` method answered 200) to `chat`: into topic
    /// `topic`, or outside any topic for `None`; by message id, each with its current text
    /// (after any edits; empty for messages without text).
    pub fn bot_messages(&self, chat: i64, topic: Option<i64>) -> Vec<(i64, String)> {
        let state = self.shared.lock();
        state
            .sent
            .iter()
            .filter(|((c, _), t)| *c == chat && **t == topic)
            .map(|((c, id), _)| {
                let text = state.texts.get(&(*c, *id)).cloned().unwrap_or_default();
                (*id, text)
            })
            .collect()
    }

    /// Updates not yet confirmed by `getUpdates`.
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.len()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// The calls of one method (as documented, e.g. `sendMessage`), in order.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// Texts the bot sent (`sendMessage`, answered 200) to `chat`: into topic `topic`, or
    /// outside any topic for `None`; in order.
    pub fn texts_to(&self, chat: i64, topic: Option<i64>) -> Vec<String> {
        self.calls_of("sendMessage")
            .iter()
            .filter(|c| c.ok() && c.int("chat_id") == Some(chat))
            .filter(|c| c.int("message_thread_id") == topic)
            .filter_map(|c| c.str("text").map(str::to_string))
            .collect()
    }

    /// The current text of a message the bot sent (after any edits).
    pub fn message_text(&self, chat: i64, message: i64) -> Option<String> {
        self.shared.lock().texts.get(&(chat, message)).cloned()
    }

    /// Topic names and whether they are closed, by topic id.
    pub fn topic(&self, chat: i64, topic: i64) -> Option<(String, bool)> {
        self.shared
            .lock()
            .topics
            .get(&(chat, topic))
            .map(|t| (t.name.clone(), t.closed))
    }

    /// Waits until `check` holds over the recorded calls, or panics after `limit` with `what`.
    /// (A guard against hanging, not a timing assertion.)
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        check: impl Fn(&TelegramFake) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.shared.changed.notified();
            if check(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() && !check(self) {
                panic!(
                    "gave up waiting for: {what}\ncalls: {:#?}",
                    self.calls()
                        .iter()
                        .map(|c| format!("{} {}", c.method, c.params))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

/// A file a user sent, as `getFile`'s `file_path` names it (`photos/<file_id>.bin`).
async fn download(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    if bot.strip_prefix("bot") != Some(shared.token.as_str()) {
        return error(401, "Unauthorized", None);
    }
    let id = path
        .strip_prefix("photos/")
        .and_then(|p| p.strip_suffix(".bin"))
        .unwrap_or_default();
    match shared.lock().files.get(id) {
        Some(data) => data.clone().into_response(),
        None => error(404, "Not Found", None),
    }
}

async fn not_found() -> Response {
    error(404, "Not Found", None)
}

/// `{"ok":false,…}` with the HTTP status equal to `error_code`, as Telegram answers.
pub(crate) fn error(code: u16, description: &str, retry_after: Option<u32>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(seconds) = retry_after {
        body["parameters"] = json!({ "retry_after": seconds });
    }
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}

async fn call(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    if bot.strip_prefix("bot") != Some(shared.token.as_str()) {
        return error(401, "Unauthorized", None);
    }
    let Some(method) = methods::canonical(&method) else {
        return error(404, "Not Found: method not found", None);
    };
    let params = match read_params(request).await {
        Ok(params) => params,
        Err(why) => return error(400, &format!("Bad Request: {why}"), None),
    };
    let fault = shared
        .lock()
        .faults
        .get_mut(method)
        .and_then(|f| f.pop_front());
    let response = match fault {
        Some(Fault::RetryAfter(seconds)) => error(
            429,
            &format!("Too Many Requests: retry after {seconds}"),
            Some(seconds),
        ),
        Some(Fault::ServerError) => error(500, "Internal Server Error", None),
        Some(Fault::Hang(wait)) => {
            // Recorded now: the client usually gives up (and drops this handler) first.
            shared.lock().calls.push(Call {
                method: method.to_string(),
                params,
                status: 504,
                at: std::time::Instant::now(),
                peer,
            });
            shared.changed.notify_waiters();
            tokio::time::sleep(wait).await;
            return error(504, "Gateway Timeout", None);
        }
        None => match methods::answer(&shared, method, &params).await {
            Answer::Ok(result) => Json(json!({"ok": true, "result": result})).into_response(),
            Answer::Err(code, description) => error(code, &description, None),
        },
    };
    shared.lock().calls.push(Call {
        method: method.to_string(),
        params,
        status: response.status().as_u16(),
        at: std::time::Instant::now(),
        peer,
    });
    shared.changed.notify_waiters();
    response
}

/// Parameters as one JSON object, from a query string, JSON, form or multipart body (the four
/// ways the Bot API accepts them).
async fn read_params(request: Request) -> Result<Value, String> {
    let mut params = Map::new();
    if let Some(query) = request.uri().query() {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, &())
            .await
            .map_err(|e| format!("bad multipart body: {e}"))?;
        while let Some(field) = form.next_field().await.map_err(|e| e.to_string())? {
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().map(str::to_string);
            let text = field.text().await.map_err(|e| e.to_string())?;
            // An uploaded file: its name is kept beside its content.
            if let Some(file_name) = file_name {
                params.insert(format!("{name}.file_name"), Value::String(file_name));
            }
            params.insert(name, Value::String(text));
        }
    } else {
        let body = Bytes::from_request(request, &())
            .await
            .map_err(|e| e.to_string())?;
        if content_type.starts_with("application/json") && !body.is_empty() {
            let value: Value =
                serde_json::from_slice(&body).map_err(|e| format!("can't parse JSON: {e}"))?;
            match value {
                Value::Object(map) => params.extend(map),
                _ => return Err("parameters must be a JSON object".into()),
            }
        } else if !body.is_empty() {
            for (k, v) in url::form_urlencoded::parse(&body) {
                params.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    Ok(Value::Object(params))
}
