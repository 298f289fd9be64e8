//! A web visitor as the widget script is one: over the widget's websocket.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::app::TestApp;

const WAIT: Duration = Duration::from_secs(15);

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
