//! The REST routes Relaydesk uses, answered as Discord's documentation describes.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::payloads;
use super::state::{Call, FakeChannel, Fault};
use super::{Shared, APPLICATION_ID, BOT_USER_ID, GUILD_ID};

type S = State<Arc<Shared>>;

pub(super) fn routes(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/gateway", get(gateway))
        .route("/gateway/bot", get(gateway_bot))
        .route("/users/@me", get(me))
        .route("/oauth2/applications/@me", get(application))
        .route("/users/@me/channels", post(open_dm))
        .route("/channels/{channel}", patch(edit_channel).get(get_channel))
        .route(
            "/channels/{channel}/messages",
            post(create_message).get(channel_messages),
        )
        .route(
            "/channels/{channel}/messages/{message}",
            patch(edit_message),
        )
        .route("/channels/{channel}/threads", post(create_thread))
        .route("/channels/{channel}/thread-members/{user}", put(no_content))
        .route(
            "/channels/{channel}/messages/{message}/reactions/{emoji}/@me",
            put(react),
        )
        .route(
            "/applications/{app}/guilds/{guild}/commands",
            put(set_commands),
        )
        .route(
            "/interactions/{id}/{token}/callback",
            post(interaction_callback),
        )
        .route("/guilds/{guild}/threads/active", get(active_threads))
        .route("/guilds/{guild}/members/{user}", get(guild_member))
        .route("/guilds/{guild}/roles", get(guild_roles));
    Router::new()
        .nest("/api/v10", api)
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

/// Records every call and answers with a queued fault instead, when one matches.
async fn record(State(shared): S, request: axum::extract::Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri: Uri = request.uri().clone();
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 24)
        .await
        .unwrap_or_default();
    let body_json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let call = Call {
        method: method.to_string(),
        path: uri.path().to_string(),
        body: body_json,
    };
    let line = call.line();
    let fault = {
        let mut inner = shared.lock();
        inner.calls.push(call);
        inner.take_fault(&line)
    };
    match fault {
        Some(Fault::RateLimited {
            retry_after,
            global,
        }) => {
            let mut headers = HeaderMap::new();
            let secs = format!("{retry_after:.3}");
            let put = |h: &mut HeaderMap, k: &'static str, v: &str| {
                if let Ok(v) = HeaderValue::from_str(v) {
                    h.insert(k, v);
                }
            };
            put(
                &mut headers,
                "retry-after",
                &format!("{}", retry_after.ceil() as u64),
            );
            put(&mut headers, "x-ratelimit-limit", "5");
            put(&mut headers, "x-ratelimit-remaining", "0");
            put(&mut headers, "x-ratelimit-reset-after", &secs);
            put(&mut headers, "x-ratelimit-bucket", "fakebucket");
            put(
                &mut headers,
                "x-ratelimit-scope",
                if global { "global" } else { "user" },
            );
            if global {
                put(&mut headers, "x-ratelimit-global", "true");
            }
            let body = json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": global,
                "code": 0,
            });
            (StatusCode::TOO_MANY_REQUESTS, headers, Json(body)).into_response()
        }
        Some(Fault::Refused { status, code }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            Json(json!({"message": "Refused by the test", "code": code})),
        )
            .into_response(),
        Some(Fault::AnswerLost) => {
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            drop(next.run(request).await);
            (
                StatusCode::BAD_GATEWAY,
                Json(json!({"message": "Bad Gateway", "code": 0})),
            )
                .into_response()
        }
        Some(Fault::ServerError(status)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Json(json!({"message": "Internal Server Error", "code": 0})),
        )
            .into_response(),
        None => {
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            let mut response = next.run(request).await;
            if method != Method::GET {
                let h = response.headers_mut();
                h.insert("x-ratelimit-limit", HeaderValue::from_static("5"));
                h.insert("x-ratelimit-remaining", HeaderValue::from_static("4"));
                h.insert("x-ratelimit-reset-after", HeaderValue::from_static("1.000"));
            }
            response
        }
    }
}

fn error(status: StatusCode, code: u64, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

fn parse_id(raw: &str) -> Option<u64> {
    raw.parse().ok()
}

async fn gateway(State(shared): S) -> Json<Value> {
    Json(json!({"url": shared.ws_url()}))
}

async fn gateway_bot(State(shared): S) -> Json<Value> {
    Json(json!({
        "url": shared.ws_url(),
        "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
    }))
}

async fn me() -> Json<Value> {
    Json(payloads::user(BOT_USER_ID, "relaydesk", true))
}

async fn application() -> Json<Value> {
    Json(json!({
        "id": APPLICATION_ID.to_string(),
        "name": "Relaydesk",
        "icon": null,
        "description": "",
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "00",
        "team": null,
        "flags": 0,
    }))
}

async fn open_dm(State(shared): S, Json(body): Json<Value>) -> Response {
    let Some(user) = body["recipient_id"].as_str().and_then(parse_id) else {
        return error(
            StatusCode::BAD_REQUEST,
            50035,
            "Invalid Form Body: recipient_id",
        );
    };
    let mut inner = shared.lock();
    if shared.dm_closed(user) {
        return error(
            StatusCode::FORBIDDEN,
            50007,
            "Cannot send messages to this user",
        );
    }
    let existing = inner
        .channels
        .values()
        .find(|c| {
            c.kind == 1
                && c.recipient
                    .as_ref()
                    .and_then(|r| r["id"].as_str())
                    .and_then(|id| id.parse::<u64>().ok())
                    == Some(user)
        })
        .map(|c| c.id);
    let recipient = payloads::user(user, &format!("user{user}"), false);
    let id = match existing {
        Some(id) => id,
        None => {
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
                    recipient: Some(recipient.clone()),
                },
            );
            id
        }
    };
    Json(payloads::dm_channel(id, &recipient)).into_response()
}

/// List Active Guild Threads: every unarchived thread of the guild, with the bot's thread
/// members (it is in each thread it made).
async fn active_threads(State(shared): S, Path(guild): Path<String>) -> Response {
    if parse_id(&guild) != Some(GUILD_ID) {
        return error(StatusCode::NOT_FOUND, 10004, "Unknown Guild");
    }
    let inner = shared.lock();
    let mut threads: Vec<&FakeChannel> = inner
        .channels
        .values()
        .filter(|c| c.parent.is_some() && !c.archived)
        .collect();
    threads.sort_by_key(|c| c.id);
    let members: Vec<Value> = threads
        .iter()
        .map(|c| {
            json!({
                "id": c.id.to_string(),
                "user_id": BOT_USER_ID.to_string(),
                "join_timestamp": payloads::TIMESTAMP,
                "flags": 0,
            })
        })
        .collect();
    Json(json!({
        "threads": threads.into_iter().map(channel_json).collect::<Vec<_>>(),
        "members": members,
    }))
    .into_response()
}

fn channel_json(c: &FakeChannel) -> Value {
    match &c.recipient {
        Some(r) => payloads::dm_channel(c.id, r),
        None => payloads::channel(
            c.id, c.kind, GUILD_ID, &c.name, c.parent, c.archived, c.locked,
        ),
    }
}

async fn get_channel(State(shared): S, Path(channel): Path<String>) -> Response {
    let inner = shared.lock();
    match parse_id(&channel).and_then(|id| inner.channels.get(&id)) {
        Some(c) => Json(channel_json(c)).into_response(),
        None => error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"),
    }
}

async fn edit_channel(
    State(shared): S,
    Path(channel): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut inner = shared.lock();
    let Some(c) = parse_id(&channel).and_then(|id| inner.channels.get_mut(&id)) else {
        return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if let Some(name) = body["name"].as_str() {
        if name.is_empty() || name.chars().count() > 100 {
            return error(
                StatusCode::BAD_REQUEST,
                50035,
                "Invalid Form Body: name must be 1-100 characters",
            );
        }
        c.name = name.to_string();
    }
    if let Some(archived) = body["archived"].as_bool() {
        c.archived = archived;
    }
    if let Some(locked) = body["locked"].as_bool() {
        c.locked = locked;
    }
    Json(channel_json(c)).into_response()
}

async fn create_thread(
    State(shared): S,
    Path(channel): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut inner = shared.lock();
    let Some(parent) = parse_id(&channel).filter(|id| inner.channels.contains_key(id)) else {
        return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    let name = body["name"].as_str().unwrap_or_default().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return error(
            StatusCode::BAD_REQUEST,
            50035,
            "Invalid Form Body: name must be 1-100 characters",
        );
    }
    let active = inner
        .channels
        .values()
        .filter(|c| c.parent.is_some() && !c.archived)
        .count();
    if inner.thread_cap.is_some_and(|cap| active >= cap) {
        return error(
            StatusCode::BAD_REQUEST,
            160_006,
            "Maximum number of active threads reached",
        );
    }
    let forum = inner.channels[&parent].kind == 15;
    if forum && !body["message"].is_object() {
        return error(
            StatusCode::BAD_REQUEST,
            50035,
            "Invalid Form Body: message is required in a forum channel",
        );
    }
    // Posts in a forum are public threads; elsewhere the requested type (private by default).
    let kind = if forum {
        11
    } else {
        body["type"].as_u64().unwrap_or(12)
    };
    let id = inner.snowflake();
    if forum {
        // The post's first message has the thread's id.
        let bot = payloads::user(BOT_USER_ID, "relaydesk", true);
        let first = &body["message"];
        let content = first["content"].as_str().unwrap_or_default();
        let mut message = payloads::message(id, id, Some(GUILD_ID), &bot, None, content);
        message["embeds"] = first["embeds"].clone();
        message["components"] = first["components"].clone();
        inner.history.entry(id).or_default().push(message.clone());
        message["allowed_mentions"] = first["allowed_mentions"].clone();
        inner.messages.entry(id).or_default().push(message);
    }
    let thread = FakeChannel {
        id,
        kind,
        name,
        parent: Some(parent),
        archived: false,
        locked: false,
        recipient: None,
    };
    let answer = channel_json(&thread);
    inner.channels.insert(id, thread);
    drop(inner);
    shared.dispatch("THREAD_CREATE", {
        let mut t = answer.clone();
        t["newly_created"] = json!(true);
        t
    });
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// A Create Message body: JSON, or (with files, as Discord's "Uploading Files" describes)
/// `multipart/form-data` whose `payload_json` part is the JSON and whose `files[n]` parts are
/// the files, each named in the JSON's `attachments` by `id` n.
async fn message_body(request: axum::extract::Request) -> Result<(Value, Vec<Value>), Response> {
    use axum::extract::FromRequest;
    let multipart = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bad = |what: &str| {
        error(
            StatusCode::BAD_REQUEST,
            50035,
            &format!("Invalid Form Body: {what}"),
        )
    };
    if !multipart {
        let Json(body) = Json::<Value>::from_request(request, &())
            .await
            .map_err(|_| bad("not JSON"))?;
        return Ok((body, Vec::new()));
    }
    let mut form = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|_| bad("not multipart"))?;
    let mut body = Value::Null;
    let mut files = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| bad("broken multipart"))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|_| bad("broken part"))?;
        if name == "payload_json" {
            body = serde_json::from_slice(&bytes).map_err(|_| bad("payload_json is not JSON"))?;
        } else if let Some(n) = name
            .strip_prefix("files[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            files.push(json!({
                "id": n,
                "filename": file_name.unwrap_or_else(|| "file".into()),
                "size": bytes.len(),
                "data": String::from_utf8_lossy(&bytes),
            }));
        } else {
            return Err(bad(&format!("unexpected part `{name}`")));
        }
    }
    for file in &files {
        let named = body["attachments"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == file["id"]));
        if !named {
            return Err(bad("a file is not in attachments"));
        }
    }
    Ok((body, files))
}

async fn create_message(
    State(shared): S,
    Path(channel): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (body, files) = match message_body(request).await {
        Ok(parsed) => parsed,
        Err(refused) => return refused,
    };
    let mut inner = shared.lock();
    let Some(channel) = parse_id(&channel).filter(|id| inner.channels.contains_key(id)) else {
        return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    let content = body["content"].as_str().unwrap_or_default();
    let embeds = body["embeds"].as_array().map_or(0, Vec::len);
    if content.is_empty() && embeds == 0 && files.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        );
    }
    if content.chars().count() > 2000 {
        return error(
            StatusCode::BAD_REQUEST,
            50035,
            "Invalid Form Body: content must be 2000 or fewer in length",
        );
    }
    let thread = &inner.channels[&channel];
    if thread.locked && thread.archived {
        return error(StatusCode::BAD_REQUEST, 50083, "Thread is archived");
    }
    let nonce = body["nonce"].as_str().map(str::to_string);
    if body["enforce_nonce"].as_bool() == Some(true) {
        if let Some(existing) = nonce
            .as_ref()
            .and_then(|n| inner.nonces.get(&(channel, n.clone())))
        {
            return Json(existing.clone()).into_response();
        }
    }
    let id = inner.snowflake();
    let guild = inner.channels[&channel]
        .recipient
        .is_none()
        .then_some(GUILD_ID);
    let bot = payloads::user(BOT_USER_ID, "relaydesk", true);
    let mut message = payloads::message(id, channel, guild, &bot, None, content);
    message["embeds"] = body["embeds"].clone();
    if !body["components"].is_null() {
        message["components"] = body["components"].clone();
    }
    if let Some(n) = &nonce {
        message["nonce"] = json!(n);
        inner.nonces.insert((channel, n.clone()), message.clone());
    }
    inner
        .history
        .entry(channel)
        .or_default()
        .push(message.clone());
    let mut stored = message.clone();
    stored["allowed_mentions"] = body["allowed_mentions"].clone();
    if !files.is_empty() {
        // The stored copy keeps each file's text ("data") for tests to read.
        stored["attachments"] = Value::Array(files);
    }
    inner.messages.entry(channel).or_default().push(stored);
    Json(message).into_response()
}

/// Edit Message: the bot's own message gets the fields sent (content, embeds, components,
/// allowed_mentions); the others stay. An archived thread's messages cannot be edited.
async fn edit_message(
    State(shared): S,
    Path((channel, message)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut inner = shared.lock();
    let Some(channel) = parse_id(&channel).filter(|id| inner.channels.contains_key(id)) else {
        return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if body["content"]
        .as_str()
        .is_some_and(|c| c.chars().count() > 2000)
    {
        return error(
            StatusCode::BAD_REQUEST,
            50035,
            "Invalid Form Body: content must be 2000 or fewer in length",
        );
    }
    if inner.channels[&channel].archived {
        return error(StatusCode::BAD_REQUEST, 50083, "Thread is archived");
    }
    let Some(stored) = inner
        .messages
        .get_mut(&channel)
        .and_then(|all| all.iter_mut().find(|m| m["id"] == json!(message)))
    else {
        return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    };
    for field in ["content", "embeds", "components", "allowed_mentions"] {
        if !body[field].is_null() {
            stored[field] = body[field].clone();
        }
    }
    stored["edited_timestamp"] = json!(payloads::TIMESTAMP);
    let mut answer = stored.clone();
    if let Some(object) = answer.as_object_mut() {
        object.remove("allowed_mentions");
    }
    if let Some(shown) = inner
        .history
        .get_mut(&channel)
        .and_then(|all| all.iter_mut().find(|m| m["id"] == json!(message)))
    {
        shown.clone_from(&answer);
    }
    Json(answer).into_response()
}

#[derive(serde::Deserialize)]
struct HistoryQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// Messages after `after`, newest first, at most `limit` (default 50, at most 100).
async fn channel_messages(
    State(shared): S,
    Path(channel): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HistoryQuery>,
) -> Response {
    let inner = shared.lock();
    let Some(channel) = parse_id(&channel).filter(|id| inner.channels.contains_key(id)) else {
        return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    let after = query.after.as_deref().and_then(parse_id).unwrap_or(0);
    let limit = query.limit.unwrap_or(50).clamp(1, 100);
    let id = |m: &Value| m["id"].as_str().and_then(parse_id).unwrap_or(0);
    let mut found: Vec<Value> = inner
        .history
        .get(&channel)
        .map(|all| all.iter().filter(|m| id(m) > after).cloned().collect())
        .unwrap_or_default();
    found.sort_by_key(|m| id(m));
    found.truncate(limit);
    found.reverse();
    Json(Value::Array(found)).into_response()
}

async fn react(
    State(shared): S,
    Path((channel, message, emoji)): Path<(String, String, String)>,
) -> Response {
    let mut inner = shared.lock();
    let (Some(channel), Some(message)) = (parse_id(&channel), parse_id(&message)) else {
        return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    };
    inner.reactions.push((channel, message, emoji));
    StatusCode::NO_CONTENT.into_response()
}

async fn no_content() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn set_commands(State(shared): S, Json(body): Json<Value>) -> Response {
    let mut inner = shared.lock();
    let Some(list) = body.as_array() else {
        return error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
    };
    if let Some(problem) = list.iter().find_map(command_problem) {
        return error(
            StatusCode::BAD_REQUEST,
            50035,
            &format!("Invalid Form Body: {problem}"),
        );
    }
    let mut out = Vec::new();
    for command in list {
        let mut c = command.clone();
        c["id"] = json!(inner.snowflake().to_string());
        c["application_id"] = json!(APPLICATION_ID.to_string());
        c["guild_id"] = json!(GUILD_ID.to_string());
        c["version"] = json!("1");
        c["default_member_permissions"] = Value::Null;
        c["type"] = json!(1);
        out.push(c);
    }
    inner.commands = out.clone();
    Json(Value::Array(out)).into_response()
}

async fn interaction_callback(
    State(shared): S,
    Path((id, _token)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(problem) = callback_problem(&body) {
        return error(
            StatusCode::BAD_REQUEST,
            50035,
            &format!("Invalid Form Body: {problem}"),
        );
    }
    let mut inner = shared.lock();
    inner
        .interaction_responses
        .push((parse_id(&id).unwrap_or_default(), body));
    StatusCode::NO_CONTENT.into_response()
}

async fn guild_member(State(shared): S, Path((_guild, user)): Path<(String, String)>) -> Response {
    let inner = shared.lock();
    let known = parse_id(&user).and_then(|id| inner.member_roles.get(&id).map(|r| (id, r)));
    match known {
        Some((id, roles)) => Json(payloads::member(
            &payloads::user(id, &format!("user{id}"), false),
            roles,
        ))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, 10007, "Unknown Member"),
    }
}

async fn guild_roles() -> Json<Value> {
    Json(json!([]))
}

/// What is wrong with an interaction response by the documented limits (Receiving and
/// Responding: Interaction Callback Type; Autocomplete: at most 25 choices of 1-100
/// characters).
fn callback_problem(body: &Value) -> Option<String> {
    let kind = body["type"].as_u64()?;
    if ![1, 4, 5, 6, 7, 8, 9, 10, 12].contains(&kind) {
        return Some(format!("type {kind}"));
    }
    if kind == 9 {
        // Modal: a title of 1-45 characters, 1-5 rows of text inputs labelled with 1-45.
        let title = body["data"]["title"].as_str().unwrap_or_default();
        if !(1..=45).contains(&title.chars().count()) {
            return Some("data.title: 1-45 characters".into());
        }
        let rows = body["data"]["components"].as_array()?;
        if rows.is_empty() || rows.len() > 5 {
            return Some("data.components: 1-5 rows".into());
        }
        for input in rows
            .iter()
            .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
        {
            let label = input["label"].as_str().unwrap_or_default();
            if !(1..=45).contains(&label.chars().count()) {
                return Some("data.components: a label of 1-45 characters".into());
            }
        }
    }
    if kind == 8 {
        let choices = body["data"]["choices"].as_array()?;
        if choices.len() > 25 {
            return Some("data.choices: more than 25".into());
        }
        for choice in choices {
            let name = choice["name"].as_str().unwrap_or_default().chars().count();
            if !(1..=100).contains(&name) || choice.get("value").is_none() {
                return Some("data.choices: name or value".into());
            }
        }
    }
    None
}

/// Discord's locales for `*_localizations` (Application Commands: Locales).
const LOCALES: &[&str] = &[
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th",
    "zh-CN", "ja", "zh-TW", "ko",
];

/// What is wrong with a chat-input command (or option) by the documented limits: names of
/// 1-32 lower-case letters, digits, `-` or `_`; descriptions of 1-100 characters, also when
/// localized; at most 25 options and 25 choices.
fn command_problem(command: &Value) -> Option<String> {
    let name = command["name"].as_str().unwrap_or_default();
    let name_ok = (1..=32).contains(&name.chars().count())
        && name.chars().all(|c| {
            c == '-' || c == '_' || c.is_numeric() || (c.is_alphabetic() && !c.is_uppercase())
        });
    if !name_ok {
        return Some(format!("name `{name}`"));
    }
    let description_ok =
        |d: &Value| (1..=100).contains(&d.as_str().unwrap_or_default().chars().count());
    if !description_ok(&command["description"]) {
        return Some(format!("{name}: description"));
    }
    if let Some(localized) = command["description_localizations"].as_object() {
        for (locale, text) in localized {
            if !LOCALES.contains(&locale.as_str()) || !description_ok(text) {
                return Some(format!("{name}: description_localizations.{locale}"));
            }
        }
    }
    let options = command["options"].as_array().cloned().unwrap_or_default();
    if options.len() > 25 {
        return Some(format!("{name}: more than 25 options"));
    }
    if command["choices"].as_array().is_some_and(|c| c.len() > 25) {
        return Some(format!("{name}: more than 25 choices"));
    }
    if command["autocomplete"] == json!(true)
        && command["choices"].as_array().is_some_and(|c| !c.is_empty())
    {
        return Some(format!("{name}: autocomplete together with choices"));
    }
    options.iter().find_map(command_problem)
}
