//! The gateway websocket: HELLO, IDENTIFY → READY (+ GUILD_CREATE), heartbeats, RESUME, and
//! dispatches with increasing sequence numbers. Frames are text (JSON).

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::state::Frame;
use super::{payloads, Shared, APPLICATION_ID, BOT_USER_ID, GUILD_ID, SESSION_ID};

pub(super) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(shared, socket))
}

fn frame(op: u64, d: Value) -> Message {
    Message::Text(
        json!({"op": op, "d": d, "s": null, "t": null})
            .to_string()
            .into(),
    )
}

async fn session(shared: Arc<Shared>, mut socket: WebSocket) {
    if socket
        .send(frame(10, json!({"heartbeat_interval": 41250})))
        .await
        .is_err()
    {
        return;
    }
    let (sender, mut frames) = mpsc::unbounded_channel();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                let text = match message {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                match payload["op"].as_u64() {
                    Some(1) => {
                        let acked = socket.send(frame(11, Value::Null)).await;
                        if acked.is_err() {
                            break;
                        }
                    }
                    Some(2) => identify(&shared, &sender),
                    Some(6) => resume(&shared, &sender, payload["d"]["seq"].as_u64().unwrap_or(0)),
                    _ => {}
                }
            }
            out = frames.recv() => match out {
                Some(Frame::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() { break; }
                }
                Some(Frame::Drop) | None => return,
            }
        }
    }
}

fn identify(shared: &Arc<Shared>, sender: &mpsc::UnboundedSender<Frame>) {
    {
        let mut inner = shared.lock();
        inner.identifies += 1;
        inner.resume_refused = false;
        // A new session: what the old one was sent is not replayed.
        inner.dispatched.clear();
        inner.connection = Some(sender.clone());
    }
    shared.dispatch(
        "READY",
        json!({
            "v": 10,
            "user": payloads::user(BOT_USER_ID, "relaydesk", true),
            "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
            "session_id": SESSION_ID,
            "resume_gateway_url": shared.ws_url(),
            "shard": [0, 1],
            "application": {"id": APPLICATION_ID.to_string(), "flags": 0},
        }),
    );
    let channels: Vec<Value> = {
        let inner = shared.lock();
        let mut guild_channels: Vec<_> = inner
            .channels
            .values()
            .filter(|c| c.kind == 0)
            .map(|c| payloads::channel(c.id, c.kind, GUILD_ID, &c.name, None, false, false))
            .collect();
        guild_channels.sort_by_key(|c| c["id"].as_str().map(str::to_string));
        guild_channels
    };
    let bot = payloads::user(BOT_USER_ID, "relaydesk", true);
    shared.dispatch("GUILD_CREATE", payloads::guild_create(channels, &bot));
}

fn resume(shared: &Arc<Shared>, sender: &mpsc::UnboundedSender<Frame>, after: u64) {
    let mut inner = shared.lock();
    inner.resumes += 1;
    if inner.resume_refused {
        // The session is gone: the client must IDENTIFY afresh (and has missed what was sent).
        let _ = sender.send(Frame::Text(
            json!({"op": 9, "d": false, "s": null, "t": null}).to_string(),
        ));
        return;
    }
    for (seq, text) in inner.dispatched.iter() {
        if *seq > after {
            let _ = sender.send(Frame::Text(text.clone()));
        }
    }
    inner.seq += 1;
    let seq = inner.seq;
    let resumed = json!({"op": 0, "t": "RESUMED", "s": seq, "d": {}}).to_string();
    inner.dispatched.push((seq, resumed.clone()));
    let _ = sender.send(Frame::Text(resumed));
    inner.connection = Some(sender.clone());
}
