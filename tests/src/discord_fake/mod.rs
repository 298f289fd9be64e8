//! A loopback Discord, written from Discord's developer documentation: the REST routes
//! Relaydesk uses and a gateway websocket, on 127.0.0.1. It records every REST call, keeps the
//! channels, threads and messages it was asked to create, dispatches gateway events on
//! demand, and can answer with 429s, 5xx errors or drop the gateway connection.

mod gateway;
pub mod payloads;
mod rest;
mod state;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::routing::get;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use state::{Call, FakeChannel, Fault};
use state::{Frame, Inner, QueuedFault};

pub const GUILD_ID: u64 = 500;
pub const STAFF_CHANNEL_ID: u64 = 600;
pub const SUPPORT_CHANNEL_ID: u64 = 601;
/// A text channel for transcripts and other logs.
pub const LOG_CHANNEL_ID: u64 = 602;
pub const AGENT_ROLE_ID: u64 = 700;
pub const ADMIN_ROLE_ID: u64 = 701;
pub const BOT_USER_ID: u64 = 800;
pub const APPLICATION_ID: u64 = 801;
pub const TOKEN: &str = "fake-bot-token";
const SESSION_ID: &str = "fake-session";

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    addr: SocketAddr,
    closed_dms: Mutex<HashSet<u64>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn ws_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    fn dm_closed(&self, user: u64) -> bool {
        self.closed_dms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&user)
    }

    /// Sends a dispatch (op 0) with the next sequence number; kept for RESUME.
    fn dispatch(&self, event: &str, d: Value) {
        let mut inner = self.lock();
        inner.seq += 1;
        let seq = inner.seq;
        let text = json!({"op": 0, "t": event, "s": seq, "d": d}).to_string();
        inner.dispatched.push((seq, text.clone()));
        if let Some(connection) = &inner.connection {
            let _ = connection.send(Frame::Text(text));
        }
    }
}

/// The running fake. Stops when dropped.
pub struct FakeDiscord {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// How long `wait_for` waits before failing the test.
const PATIENCE: Duration = Duration::from_secs(30);

impl FakeDiscord {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Discord");
        let addr = listener.local_addr().expect("fake Discord address");
        let mut inner = Inner {
            next_id: 1_000_000_000_000,
            ..Inner::default()
        };
        for (id, name) in [
            (STAFF_CHANNEL_ID, "staff"),
            (SUPPORT_CHANNEL_ID, "support"),
            (LOG_CHANNEL_ID, "transcripts"),
        ] {
            inner.channels.insert(
                id,
                FakeChannel {
                    id,
                    kind: 0,
                    name: name.into(),
                    parent: None,
                    archived: false,
                    locked: false,
                    recipient: None,
                },
            );
        }
        let shared = Arc::new(Shared {
            inner: Mutex::new(inner),
            addr,
            closed_dms: Mutex::default(),
        });
        let app = rest::routes(shared.clone()).merge(
            axum::Router::new()
                .route("/gateway", get(gateway::upgrade))
                .with_state(shared.clone()),
        );
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        Self {
            addr,
            shared,
            shutdown,
        }
    }

    /// The `api_url` to configure.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.lock()
    }

    /// A fresh id, larger than every id handed out before.
    pub fn snowflake(&self) -> u64 {
        self.lock().snowflake()
    }

    /// Every REST call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Messages the bot created in a channel, in order (each with the `allowed_mentions` it
    /// was sent with).
    pub fn messages_in(&self, channel: u64) -> Vec<Value> {
        self.lock()
            .messages
            .get(&channel)
            .cloned()
            .unwrap_or_default()
    }

    pub fn channel(&self, id: u64) -> Option<FakeChannel> {
        self.lock().channels.get(&id).cloned()
    }

    /// Threads created under the staff channel, in creation order.
    pub fn threads(&self) -> Vec<FakeChannel> {
        let mut threads: Vec<_> = self
            .lock()
            .channels
            .values()
            .filter(|c| c.parent == Some(STAFF_CHANNEL_ID))
            .cloned()
            .collect();
        threads.sort_by_key(|c| c.id);
        threads
    }

    /// `(channel, message, emoji)` of every reaction the bot added.
    pub fn reactions(&self) -> Vec<(u64, u64, String)> {
        self.lock().reactions.clone()
    }

    pub fn commands(&self) -> Vec<Value> {
        self.lock().commands.clone()
    }

    /// Interaction callbacks: `(interaction id, body)`.
    pub fn interaction_responses(&self) -> Vec<(u64, Value)> {
        self.lock().interaction_responses.clone()
    }

    /// How many IDENTIFYs and RESUMEs the gateway received.
    pub fn sessions(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.identifies, inner.resumes)
    }

    /// The next `times` calls whose `METHOD path` contains `matching` get `fault`.
    pub fn inject(&self, matching: &str, fault: Fault, times: usize) {
        self.lock().faults.push_back(QueuedFault {
            matching: matching.to_string(),
            fault,
            times,
        });
    }

    /// Caps the guild's active (unarchived) threads as Discord does (at 1,000): creating one
    /// more is refused with code 160006.
    pub fn cap_active_threads(&self, cap: usize) {
        self.lock().thread_cap = Some(cap);
    }

    /// Unarchives a thread as a moderator posting in it would (it stays locked).
    pub fn unarchive(&self, thread: u64) {
        if let Some(c) = self.lock().channels.get_mut(&thread) {
            c.archived = false;
        }
    }

    /// Turns a channel into a forum channel (type 15).
    pub fn make_forum(&self, channel: u64) {
        if let Some(c) = self.lock().channels.get_mut(&channel) {
            c.kind = 15;
        }
    }

    /// Forgets every queued fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Opening a DM with this user fails with 403 (the user closed their DMs).
    pub fn close_dms_of(&self, user: u64) {
        self.shared
            .closed_dms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user);
    }

    /// Drops the gateway connection without a close frame; dispatches sent meanwhile are
    /// kept for the RESUME.
    pub fn drop_gateway(&self) {
        let mut inner = self.lock();
        if let Some(connection) = inner.connection.take() {
            let _ = connection.send(Frame::Drop);
        }
    }

    /// Sends a gateway dispatch.
    pub fn dispatch(&self, event: &str, d: Value) {
        self.shared.dispatch(event, d);
    }

    /// A customer's DM channel with the bot (as Discord has it once they wrote).
    pub fn dm_channel_for(&self, user: u64, name: &str) -> u64 {
        let mut inner = self.lock();
        let id = inner.snowflake();
        inner.channels.insert(
            id,
            FakeChannel {
                id,
                kind: 1,
                name: String::new(),
                parent: None,
                archived: false,
                locked: false,
                recipient: Some(payloads::user(user, name, false)),
            },
        );
        id
    }

    /// Keeps a message in the channel's history (what `GET …/messages` returns).
    fn remember(&self, channel: u64, message: &Value) {
        let mut rest_view = message.clone();
        if let Some(m) = rest_view.as_object_mut() {
            // REST message objects carry neither the guild id nor the member.
            m.remove("guild_id");
            m.remove("member");
        }
        self.lock()
            .history
            .entry(channel)
            .or_default()
            .push(rest_view);
    }

    fn dm_payload(&self, channel: u64, user: u64, name: &str, text: &str) -> (u64, Value) {
        let id = self.snowflake();
        let author = payloads::user(user, name, false);
        let message = payloads::message(id, channel, None, &author, None, text);
        self.remember(channel, &message);
        (id, message)
    }

    fn member_payload(
        &self,
        channel: u64,
        (user, name): (u64, &str),
        roles: &[u64],
        text: &str,
    ) -> (u64, Value) {
        let id = self.snowflake();
        self.lock().member_roles.insert(user, roles.to_vec());
        let author = payloads::user(user, name, false);
        let message = payloads::message(id, channel, Some(GUILD_ID), &author, Some(roles), text);
        self.remember(channel, &message);
        (id, message)
    }

    /// A customer writes a DM; returns the message id.
    pub fn customer_dm(&self, channel: u64, user: u64, name: &str, text: &str) -> u64 {
        let (id, message) = self.dm_payload(channel, user, name, text);
        self.dispatch("MESSAGE_CREATE", message);
        id
    }

    /// A customer sends a DM with files (attachment objects); returns the message id.
    pub fn customer_dm_with_files(
        &self,
        channel: u64,
        (user, name): (u64, &str),
        text: &str,
        files: Vec<Value>,
    ) -> u64 {
        let id = self.snowflake();
        let author = payloads::user(user, name, false);
        let mut message = payloads::message(id, channel, None, &author, None, text);
        message["attachments"] = Value::Array(files);
        self.remember(channel, &message);
        self.dispatch("MESSAGE_CREATE", message);
        id
    }

    /// A customer writes a DM while the bot has no gateway session: it is only in the history.
    pub fn customer_dm_unseen(&self, channel: u64, user: u64, name: &str, text: &str) -> u64 {
        self.dm_payload(channel, user, name, text).0
    }

    /// A guild member writes in a channel or thread of the guild; returns the message id.
    pub fn member_message(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        roles: &[u64],
        text: &str,
    ) -> u64 {
        let (id, message) = self.member_payload(channel, (user, name), roles, text);
        self.dispatch("MESSAGE_CREATE", message);
        id
    }

    /// A member writes while the bot has no gateway session: it is only in the history.
    pub fn member_message_unseen(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        roles: &[u64],
        text: &str,
    ) -> u64 {
        self.member_payload(channel, (user, name), roles, text).0
    }

    /// Ends the gateway session for good: the connection drops and the RESUME that follows is
    /// refused (op 9), so the client must IDENTIFY afresh.
    pub fn end_session(&self) {
        let mut inner = self.lock();
        inner.resume_refused = true;
        if let Some(connection) = inner.connection.take() {
            let _ = connection.send(Frame::Drop);
        }
    }

    /// A member runs a slash command in `channel`; returns the interaction id.
    /// `options` are the command's options as Discord sends them.
    pub fn slash_command(
        &self,
        channel: u64,
        (user, name): (u64, &str),
        roles: &[u64],
        command: &str,
        options: Value,
        resolved: Value,
    ) -> u64 {
        let id = self.snowflake();
        let member = payloads::member(&payloads::user(user, name, false), roles);
        let data = json!({
            "id": "900",
            "name": command,
            "type": 1,
            "options": options,
            "resolved": resolved,
            "guild_id": GUILD_ID.to_string(),
        });
        self.dispatch_interaction(
            user,
            payloads::interaction(id, 2, channel, GUILD_ID, &member, data, None),
        );
        id
    }

    /// From now on `user`'s interactions carry `locale` (Discord's default here is `en-US`).
    pub fn set_locale(&self, user: u64, locale: &str) {
        self.shared.lock().locales.insert(user, locale.to_string());
    }

    fn dispatch_interaction(&self, user: u64, mut interaction: Value) {
        if let Some(locale) = self.shared.lock().locales.get(&user) {
            interaction["locale"] = json!(locale);
        }
        self.dispatch("INTERACTION_CREATE", interaction);
    }

    /// A member is typing an option Discord completes (`"focused": true` in `options`);
    /// returns the interaction id. The bot answers with a type 8 callback.
    pub fn autocomplete(
        &self,
        channel: u64,
        (user, name): (u64, &str),
        roles: &[u64],
        command: &str,
        options: Value,
    ) -> u64 {
        let id = self.snowflake();
        let member = payloads::member(&payloads::user(user, name, false), roles);
        let data = json!({
            "id": "900",
            "name": command,
            "type": 1,
            "options": options,
            "guild_id": GUILD_ID.to_string(),
        });
        self.dispatch_interaction(
            user,
            payloads::interaction(id, 4, channel, GUILD_ID, &member, data, None),
        );
        id
    }

    /// `user` presses a button on the bot's message in their DM `channel`: an interaction
    /// with `user` (no member, no guild) as documented for DMs; returns the interaction id.
    pub fn press_dm_button(
        &self,
        channel: u64,
        user: (u64, &str),
        locale: &str,
        message: Value,
        custom_id: &str,
    ) -> u64 {
        let data = json!({"custom_id": custom_id, "component_type": 2});
        self.dm_interaction(3, channel, user, locale, data, Some(message))
    }

    /// `user` submits a form (modal) the bot showed in their DM `channel`, with
    /// `(custom_id, value)` text inputs; returns the interaction id.
    pub fn submit_dm_form(
        &self,
        channel: u64,
        user: (u64, &str),
        locale: &str,
        custom_id: &str,
        values: &[(&str, &str)],
    ) -> u64 {
        let rows: Vec<Value> = values
            .iter()
            .map(|(field, value)| {
                json!({"type": 1, "components": [{"type": 4, "custom_id": field, "value": value}]})
            })
            .collect();
        let data = json!({"custom_id": custom_id, "components": rows});
        self.dm_interaction(5, channel, user, locale, data, None)
    }

    /// An interaction of `kind` in the DM `channel` of `user` (no member, no guild).
    fn dm_interaction(
        &self,
        kind: u64,
        channel: u64,
        (user, name): (u64, &str),
        locale: &str,
        data: Value,
        message: Option<Value>,
    ) -> u64 {
        let id = self.snowflake();
        let mut interaction =
            payloads::interaction(id, kind, channel, GUILD_ID, &Value::Null, data, message);
        if let Some(fields) = interaction.as_object_mut() {
            fields.remove("member");
            fields.remove("guild_id");
            fields.remove("guild_locale");
            fields.insert("user".into(), payloads::user(user, name, false));
            fields.insert(
                "channel".into(),
                json!({"id": channel.to_string(), "type": 1}),
            );
            fields.insert("context".into(), json!(1));
            fields.insert("locale".into(), json!(locale));
            fields.insert(
                "authorizing_integration_owners".into(),
                json!({"0": GUILD_ID.to_string()}),
            );
        }
        self.dispatch("INTERACTION_CREATE", interaction);
        id
    }

    /// A member presses a button on a bot message; returns the interaction id.
    pub fn press_button(
        &self,
        channel: u64,
        message: Value,
        user: u64,
        name: &str,
        roles: &[u64],
        custom_id: &str,
    ) -> u64 {
        let id = self.snowflake();
        let member = payloads::member(&payloads::user(user, name, false), roles);
        let data = json!({"custom_id": custom_id, "component_type": 2});
        self.dispatch_interaction(
            user,
            payloads::interaction(id, 3, channel, GUILD_ID, &member, data, Some(message)),
        );
        id
    }

    /// A member submits a form (modal) with `(custom_id, value)` text inputs; returns the
    /// interaction id.
    pub fn submit_form(
        &self,
        channel: u64,
        (user, name): (u64, &str),
        custom_id: &str,
        values: &[(&str, &str)],
    ) -> u64 {
        let id = self.snowflake();
        let member = payloads::member(&payloads::user(user, name, false), &[]);
        let rows: Vec<Value> = values
            .iter()
            .map(|(field, value)| {
                json!({"type": 1, "components": [{"type": 4, "custom_id": field, "value": value}]})
            })
            .collect();
        let data = json!({"custom_id": custom_id, "components": rows});
        self.dispatch_interaction(
            user,
            payloads::interaction(id, 5, channel, GUILD_ID, &member, data, None),
        );
        id
    }

    /// Threads created under `parent`, in creation order.
    pub fn threads_in(&self, parent: u64) -> Vec<FakeChannel> {
        let mut threads: Vec<_> = self
            .lock()
            .channels
            .values()
            .filter(|c| c.parent == Some(parent))
            .cloned()
            .collect();
        threads.sort_by_key(|c| c.id);
        threads
    }

    /// Waits until `check` gives a value; fails the test after a generous while.
    pub async fn wait_for<T>(&self, what: &str, check: impl Fn(&FakeDiscord) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(value) = check(self) {
                return value;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "gave up waiting for: {what}\ncalls: {:#?}",
                    self.calls().iter().map(Call::line).collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
