//! A web visitor as the widget script is one (over the widget's websocket), and an app for
//! the console's browser suites: the widget on, and an admin to sign in as.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use std::sync::Arc;

use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::widget_channel::WidgetChannel;
use relaydesk_storage::SystemClock;

use crate::app::{spawn_app_with, Spawn, TestApp};
use crate::db::TestDb;

const WAIT: Duration = Duration::from_secs(15);

/// An app on SQLite with the widget channel and the admin `anna@example.com` (password
/// `correct horse battery`).
pub async fn console_with_admin(config: Config) -> TestApp {
    let widget = Arc::new(WidgetChannel::new(config.email.clone()));
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        channels: vec![widget],
        ..Spawn::default()
    })
    .await;
    agent::add(
        &app.store,
        &SystemClock,
        "anna",
        "anna@example.com",
        true,
        Some("correct horse battery"),
    )
    .await
    .expect("agent added");
    app
}

/// Vera Visitor says `text` in the widget (hello, then send, as the widget script does);
/// returns the number of the ticket the acknowledgement names.
pub async fn visitor_says(app: &TestApp, text: &str) -> i64 {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/widget/ws", app.addr))
        .await
        .expect("widget socket");
    let hello = json!({"type": "hello", "name": "Vera Visitor", "language": "en"});
    socket
        .send(Message::text(hello.to_string()))
        .await
        .expect("hello");
    let mut welcomed = false;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let Some(Ok(Message::Text(frame))) = socket.next().await else {
            continue;
        };
        let frame: Value = serde_json::from_str(frame.as_str()).expect("JSON frame");
        if !welcomed && frame["type"] == "welcome" {
            welcomed = true;
            let send = json!({"type": "send", "id": "w-1", "text": text});
            socket
                .send(Message::text(send.to_string()))
                .await
                .expect("send");
        } else if frame["type"] == "ack" {
            return frame["ticket"].as_i64().expect("ticket number");
        }
    }
    panic!("the widget message was not acknowledged");
}
