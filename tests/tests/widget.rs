//! The web chat widget's server side over a real websocket: the whole process on a random
//! port, a real database (SQLite and, when configured, PostgreSQL), a tungstenite client.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use relaydesk::config::Config;
use relaydesk::widget_channel::WidgetChannel;
use relaydesk_storage::{AuthorKind, Platform, TicketStatus};
use relaydesk_tests::api_agent::ApiAgent as Agent;
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::smtp_sink::SmtpSink;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(15);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn start(db: TestDb, config: Config) -> TestApp {
    let widget = Arc::new(WidgetChannel::new(config.email.clone()));
    spawn_app_with(Spawn {
        db,
        config,
        channels: vec![widget],
        ..Spawn::default()
    })
    .await
}

async fn connect_with_origin(app: &TestApp, origin: Option<&str>) -> Result<Socket, String> {
    let url = format!("ws://{}/widget/ws", app.addr);
    let mut request = url.into_client_request().expect("request");
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).expect("origin"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(format!("HTTP {}", response.status().as_u16()))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A socket opened as if through a proxy that says the client is `forwarded_for`.
async fn connect_forwarded(app: &TestApp, forwarded_for: &str) -> Result<Socket, String> {
    let url = format!("ws://{}/widget/ws", app.addr);
    let mut request = url.into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert(
        "origin",
        HeaderValue::from_str(&format!("http://{}", app.addr)).expect("origin"),
    );
    headers.insert(
        "x-forwarded-for",
        HeaderValue::from_str(forwarded_for).expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(format!("HTTP {}", response.status().as_u16()))
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn connect(app: &TestApp) -> Socket {
    connect_with_origin(app, Some(&format!("http://{}", app.addr)))
        .await
        .expect("widget socket")
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::text(frame.to_string()))
        .await
        .expect("send a frame");
}

/// The next JSON frame, or `None` when the server closed the socket.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a frame in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                return Some(serde_json::from_str(text.as_str()).expect("JSON frame"))
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads frames until one matches `pick`; fails on close.
async fn until(socket: &mut Socket, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = next(socket).await.expect("the socket to stay open");
        if pick(&frame) {
            return frame;
        }
    }
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |f: &Value| f["type"] == kind
}

async fn hello(socket: &mut Socket, frame: Value) -> Value {
    send(socket, frame).await;
    until(socket, is("welcome")).await
}

async fn open_send_resume(db: TestDb) {
    let app = start(db, Config::default()).await;
    let agent = Agent::new(&app, "anna").await;
    let mut socket = connect(&app).await;
    let welcome = hello(
        &mut socket,
        json!({"type": "hello", "name": "Vera Visitor", "email": "vera@example.com", "language": "en"}),
    )
    .await;
    let token = welcome["token"].as_str().expect("token").to_string();
    assert_eq!(welcome["name"], "Vera Visitor");
    assert_eq!(welcome["offline"], false, "anna is on duty");

    send(
        &mut socket,
        json!({"type": "send", "id": "c-1", "text": "my printer is on fire"}),
    )
    .await;
    let ack = until(&mut socket, is("ack")).await;
    assert_eq!(ack["id"], "c-1");
    assert_eq!(ack["new_ticket"], true);
    let number = ack["ticket"].as_i64().expect("ticket number");
    let echo = until(&mut socket, is("message")).await;
    assert_eq!(echo["client_id"], "c-1");
    assert_eq!(echo["from"], "visitor");
    assert_eq!(echo["text"], "my printer is on fire");

    // The ticket is a web ticket like any other; the agent answers it.
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(number)
        .await
        .expect("read")
        .expect("ticket");
    tx.rollback().await.expect("rollback");
    assert_eq!(ticket.origin, Platform::Web);
    assert_eq!(ticket.status, TicketStatus::Open);
    agent.command(number, "/reply Unplug it, please.").await;
    let reply = until(&mut socket, |f| {
        f["type"] == "message" && f["from"] == "agent"
    })
    .await;
    assert_eq!(reply["text"], "Unplug it, please.");
    assert_eq!(reply["author"], "anna");
    // Internal notes never reach the visitor.
    agent.command(number, "/note customer seems calm").await;
    socket.close(None).await.expect("close");

    // Coming back later with the token: same conversation, whole history, no note.
    let mut again = connect(&app).await;
    let welcome = hello(&mut again, json!({"type": "hello", "token": token})).await;
    assert_eq!(
        welcome["name"], "Visitor",
        "the name is the browser's to keep"
    );
    let first = until(&mut again, is("message")).await;
    let second = until(&mut again, is("message")).await;
    assert_eq!(first["text"], "my printer is on fire");
    assert_eq!(first["client_id"], "c-1");
    assert_eq!(second["text"], "Unplug it, please.");
    send(
        &mut again,
        json!({"type": "send", "id": "c-2", "text": "done, thanks"}),
    )
    .await;
    let ack = until(&mut again, is("ack")).await;
    assert_eq!(ack["ticket"], number, "the same ticket goes on");
    assert_eq!(ack["new_ticket"], false);
    let echo = until(&mut again, is("message")).await;
    assert_eq!(echo["text"], "done, thanks", "no note in between");

    // A token that was tampered with starts a fresh conversation.
    let mut forged = connect(&app).await;
    let mut bad = token.clone();
    bad.insert(3, 'x');
    let welcome = hello(
        &mut forged,
        json!({"type": "hello", "token": bad, "name": "Mallory"}),
    )
    .await;
    assert_ne!(welcome["token"], json!(token));
    send(
        &mut forged,
        json!({"type": "send", "id": "c-1", "text": "hi"}),
    )
    .await;
    let ack = until(&mut forged, is("ack")).await;
    assert_ne!(ack["ticket"], number);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_chats_and_resumes_with_history_on_sqlite() {
    open_send_resume(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_chats_and_resumes_with_history_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        open_send_resume(db).await;
    }
}

async fn resend_is_idempotent(db: TestDb) {
    let app = start(db, Config::default()).await;
    let mut socket = connect(&app).await;
    let welcome = hello(&mut socket, json!({"type": "hello", "name": "Rita"})).await;
    let token = welcome["token"].as_str().expect("token").to_string();
    send(
        &mut socket,
        json!({"type": "send", "id": "r-1", "text": "first"}),
    )
    .await;
    let first = until(&mut socket, is("ack")).await;
    // The connection drops before the browser saw the ack; it sends again on reconnect.
    drop(socket);
    let mut socket = connect(&app).await;
    hello(
        &mut socket,
        json!({"type": "hello", "token": token, "name": "Rita"}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "send", "id": "r-1", "text": "first"}),
    )
    .await;
    let again = until(&mut socket, is("ack")).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(again["ticket"], first["ticket"]);
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(first["ticket"].as_i64().expect("number"))
        .await
        .expect("read")
        .expect("ticket");
    let customer_messages = tx
        .messages(ticket.id)
        .await
        .expect("messages")
        .into_iter()
        .filter(|m| m.author_kind == AuthorKind::Customer)
        .count();
    tx.rollback().await.expect("rollback");
    assert_eq!(customer_messages, 1, "stored once");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resent_message_is_stored_once_on_sqlite() {
    resend_is_idempotent(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resent_message_is_stored_once_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        resend_is_idempotent(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sites_not_allowed_are_refused() {
    let mut config = Config::default();
    config.web.allowed_origins = vec!["https://shop.example.com".into()];
    let app = start(TestDb::sqlite(), config).await;
    let refused = connect_with_origin(&app, Some("https://evil.example.net")).await;
    assert_eq!(refused.err().as_deref(), Some("HTTP 403"));
    let mut allowed = connect_with_origin(&app, Some("https://shop.example.com"))
        .await
        .expect("an allowed site");
    hello(&mut allowed, json!({"type": "hello", "name": "Shopper"})).await;
    // CORS answers name only allowed origins.
    let client = reqwest::Client::new();
    let response = client
        .get(app.url("/widget.js"))
        .header("origin", "https://shop.example.com")
        .send()
        .await
        .expect("widget.js");
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"https://shop.example.com"[..])
    );
    let response = client
        .get(app.url("/widget.js"))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .expect("widget.js");
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identities_need_the_sites_signature() {
    let mut config = Config::default();
    config.web.identity_secret = Some("site-secret".into());
    let app = start(TestDb::sqlite(), config).await;

    // A customer known from Telegram with the same address.
    let mut tx = app.store.begin().await.expect("begin");
    let known = tx
        .customer_for_identity(Platform::Telegram, "777", "Tom T.", None, 1)
        .await
        .expect("customer");
    tx.set_customer_email(known.id, Some("tom@example.com"), true)
        .await
        .expect("email");
    tx.commit().await.expect("commit");

    // A wrong hash is refused and the socket closed.
    let mut socket = connect(&app).await;
    send(
        &mut socket,
        json!({"type": "hello", "user": {"id": "42", "name": "Tom", "email": "tom@example.com",
               "hash": relaydesk_web::widget::identity_hash("guessed", "42")}}),
    )
    .await;
    let refused = next(&mut socket).await.expect("an error frame");
    assert_eq!(refused["code"], "identity_refused");
    assert!(
        next(&mut socket).await.is_none(),
        "closed after the refusal"
    );

    // An unverified visitor typing the same address stays a separate customer.
    let mut stranger = connect(&app).await;
    hello(
        &mut stranger,
        json!({"type": "hello", "name": "Tom?", "email": "tom@example.com"}),
    )
    .await;
    send(
        &mut stranger,
        json!({"type": "send", "id": "s-1", "text": "I am Tom, honest"}),
    )
    .await;
    let ack = until(&mut stranger, is("ack")).await;
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(ack["ticket"].as_i64().expect("number"))
        .await
        .expect("read")
        .expect("ticket");
    tx.rollback().await.expect("rollback");
    assert_ne!(ticket.customer_id, known.id);

    // A site user signed only by id (their own, id 66) who claims Tom's address is verified
    // as user 66 but not linked to Tom, and cannot put the address on Tom's record.
    let mut mallory = connect(&app).await;
    let welcome = hello(
        &mut mallory,
        json!({"type": "hello", "user": {"id": "66", "name": "Mal", "email": "tom@example.com",
               "hash": relaydesk_web::widget::identity_hash("site-secret", "66")}}),
    )
    .await;
    assert_eq!(welcome["verified"], true);
    send(
        &mut mallory,
        json!({"type": "profile", "email": "mallory@example.com"}),
    )
    .await;
    send(
        &mut mallory,
        json!({"type": "send", "id": "m-1", "text": "send me Tom's history"}),
    )
    .await;
    let ack = until(&mut mallory, is("ack")).await;
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(ack["ticket"].as_i64().expect("number"))
        .await
        .expect("read")
        .expect("ticket");
    assert_ne!(ticket.customer_id, known.id, "linked on an unsigned email");
    let tom = tx.customer(known.id).await.expect("tom");
    assert_eq!(tom.email.as_deref(), Some("tom@example.com"));
    tx.rollback().await.expect("rollback");

    // A hash over id and email links the visitor to the customer with that address, and the
    // signed address cannot be changed from the browser.
    let mut socket = connect(&app).await;
    let welcome = hello(
        &mut socket,
        json!({"type": "hello", "user": {"id": "42", "name": "Tom", "email": "tom@example.com",
               "hash": relaydesk_web::widget::identity_email_hash("site-secret", "42", "tom@example.com")}}),
    )
    .await;
    assert_eq!(welcome["verified"], true);
    send(
        &mut socket,
        json!({"type": "profile", "email": "elsewhere@example.com"}),
    )
    .await;
    let refused = until(&mut socket, is("error")).await;
    assert_eq!(refused["code"], "signed_field");
    send(
        &mut socket,
        json!({"type": "send", "id": "v-1", "text": "hello from the site"}),
    )
    .await;
    let ack = until(&mut socket, is("ack")).await;
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(ack["ticket"].as_i64().expect("number"))
        .await
        .expect("read")
        .expect("ticket");
    tx.rollback().await.expect("rollback");
    assert_eq!(ticket.customer_id, known.id, "linked by the signed email");
    assert_eq!(ticket.conversation, "user:42");
    let mut tx = app.store.begin().await.expect("begin");
    let tom = tx.customer(known.id).await.expect("tom");
    tx.rollback().await.expect("rollback");
    assert_eq!(tom.email.as_deref(), Some("tom@example.com"));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn too_many_messages_are_refused_with_a_clear_error() {
    let mut config = Config::default();
    config.web.session_messages_per_minute = 2;
    let app = start(TestDb::sqlite(), config).await;
    let mut socket = connect(&app).await;
    hello(&mut socket, json!({"type": "hello", "name": "Speedy"})).await;
    for id in ["a", "b"] {
        send(
            &mut socket,
            json!({"type": "send", "id": id, "text": "quick"}),
        )
        .await;
        assert_eq!(until(&mut socket, is("ack")).await["id"], id);
    }
    send(
        &mut socket,
        json!({"type": "send", "id": "c", "text": "quick"}),
    )
    .await;
    let error = until(&mut socket, is("error")).await;
    assert_eq!(error["code"], "rate_limited");
    assert_eq!(error["id"], "c");
    assert!(error["message"]
        .as_str()
        .expect("text")
        .contains("too fast"));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_oversized_frame_ends_only_its_own_socket() {
    let mut config = Config::default();
    config.web.max_attachment_bytes = 1024;
    let app = start(TestDb::sqlite(), config).await;
    let mut calm = connect(&app).await;
    hello(&mut calm, json!({"type": "hello", "name": "Calm"})).await;
    let mut big = connect(&app).await;
    hello(&mut big, json!({"type": "hello", "name": "Big"})).await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let _ = big
        .send(Message::text(
            json!({"type": "send", "id": "h", "text": huge}).to_string(),
        ))
        .await;
    assert!(
        next(&mut big).await.is_none(),
        "the oversized frame's socket is closed"
    );
    send(
        &mut calm,
        json!({"type": "send", "id": "ok", "text": "still here"}),
    )
    .await;
    assert_eq!(until(&mut calm, is("ack")).await["id"], "ok");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn images_and_pdfs_are_accepted_other_files_refused() {
    let app = start(TestDb::sqlite(), Config::default()).await;
    let mut socket = connect(&app).await;
    hello(&mut socket, json!({"type": "hello", "name": "Pia"})).await;
    let png = b"\x89PNG\r\n\x1a\n-not-really-pixels-";
    send(
        &mut socket,
        json!({"type": "send", "id": "f-1", "text": "see attached",
               "file": {"name": "../screen shot.png", "data": STANDARD.encode(png)}}),
    )
    .await;
    until(&mut socket, is("ack")).await;
    let echo = until(&mut socket, is("message")).await;
    let file = &echo["files"][0];
    assert_eq!(file["mime_type"], "image/png");
    assert_eq!(file["name"], "screen shot.png");
    let url = file["url"].as_str().expect("url");
    let response = reqwest::get(app.url(url)).await.expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.expect("body").as_ref(), png);

    send(
        &mut socket,
        json!({"type": "send", "id": "f-2", "text": "",
               "file": {"name": "invoice.pdf", "data": STANDARD.encode(b"MZ\x90\x00 a program")}}),
    )
    .await;
    let error = until(&mut socket, is("error")).await;
    assert_eq!(error["code"], "file_type");
    assert_eq!(error["id"], "f-2");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_agents_on_duty_the_widget_asks_for_an_email() {
    let app = start(TestDb::sqlite(), Config::default()).await;
    let mut socket = connect(&app).await;
    let welcome = hello(&mut socket, json!({"type": "hello", "name": "Night Owl"})).await;
    assert_eq!(welcome["offline"], true);
    assert_eq!(welcome["has_email"], false);
    send(
        &mut socket,
        json!({"type": "send", "id": "n-1", "text": "anyone?"}),
    )
    .await;
    let ack = until(&mut socket, is("ack")).await;
    assert_eq!(ack["new_ticket"], true, "the ticket is opened anyway");
    send(
        &mut socket,
        json!({"type": "profile", "email": "owl@example.com"}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "send", "id": "n-2", "text": "my email is set"}),
    )
    .await;
    until(&mut socket, is("ack")).await;
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(ack["ticket"].as_i64().expect("number"))
        .await
        .expect("read")
        .expect("ticket");
    let customer = tx
        .customer_of_identity(Platform::Web, &ticket.conversation)
        .await
        .expect("read")
        .expect("customer");
    let customer = tx.customer(customer).await.expect("customer");
    tx.rollback().await.expect("rollback");
    assert_eq!(customer.email.as_deref(), Some("owl@example.com"));
    app.stop().await.expect("clean stop");
}

async fn transcript_by_email(db: TestDb) {
    let sink = SmtpSink::start().await;
    let mut config = Config::default();
    config.email.smtp_url = Some(sink.url());
    config.email.from = Some("Support <support@example.com>".into());
    config.web.identity_secret = Some("site-secret".into());
    let app = start(db, config).await;
    let agent = Agent::new(&app, "ben").await;

    // A visitor who only typed an address gets no transcript: it could be anyone's.
    let mut typed = connect(&app).await;
    hello(
        &mut typed,
        json!({"type": "hello", "name": "Mallory", "email": "victim@example.com"}),
    )
    .await;
    send(
        &mut typed,
        json!({"type": "send", "id": "m-1", "text": "hi"}),
    )
    .await;
    let unverified = until(&mut typed, is("ack")).await["ticket"]
        .as_i64()
        .expect("number");
    agent.command(unverified, "/close").await;
    until(&mut typed, |f| f["type"] == "status" && f["closed"] == true).await;

    // The site signed Carla's address.
    let mut socket = connect(&app).await;
    hello(
        &mut socket,
        json!({"type": "hello", "user": {"id": "7", "name": "Carla", "email": "carla@example.com",
               "hash": relaydesk_web::widget::identity_email_hash("site-secret", "7", "carla@example.com")}}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "send", "id": "t-1", "text": "where is my order <b>42</b>?"}),
    )
    .await;
    let number = until(&mut socket, is("ack")).await["ticket"]
        .as_i64()
        .expect("number");
    agent.command(number, "/reply It ships today.").await;
    agent.command(number, "/note VIP customer").await;
    agent.command(number, "/close shipped").await;
    let status = until(&mut socket, |f| {
        f["type"] == "status" && f["closed"] == true
    })
    .await;
    assert_eq!(status["ticket"], number);
    let mails = sink.wait_for(1, WAIT).await;
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["carla@example.com".to_string()]);
    assert!(
        sink.mails()
            .iter()
            .all(|m| m.to != vec!["victim@example.com".to_string()]),
        "a typed address got a transcript"
    );
    assert_eq!(mail.from, "support@example.com");
    let data = mail.data.replace("=\r\n", "");
    assert!(data.contains(&format!("ticket #{number}")), "{data}");
    assert!(data.contains("where is my order <b>42</b>?"), "{data}");
    assert!(data.contains("It ships today."), "{data}");
    assert!(
        !data.contains("VIP customer"),
        "internal notes stay inside: {data}"
    );
    // Exactly once per close, however often the outbox asks.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails().len(), 1);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_conversation_is_mailed_as_a_transcript_on_sqlite() {
    transcript_by_email(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_conversation_is_mailed_as_a_transcript_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        transcript_by_email(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_page_and_script_are_served() {
    let app = start(TestDb::sqlite(), Config::default()).await;
    let page = reqwest::get(app.url("/")).await.expect("demo page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<script src="/widget.js" data-relaydesk async></script>"#));
    let script = reqwest::get(app.url("/widget.js")).await.expect("script");
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/javascript"));
    let js = script.text().await.expect("js");
    assert!(js.contains("attachShadow"));
    assert!(
        !js.contains("innerHTML"),
        "visitor and agent text is never parsed as HTML"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn out_of_business_hours_the_widget_says_so() {
    use chrono::TimeZone;
    let mut config = Config::default();
    config.web.business_hours = Some(relaydesk_web::config::BusinessHoursConfig {
        time_zone: "Europe/Helsinki".into(),
        mon: vec!["09:00-17:00".into()],
        tue: vec!["09:00-17:00".into()],
        wed: vec!["09:00-17:00".into()],
        thu: vec!["09:00-17:00".into()],
        fri: vec!["09:00-17:00".into()],
        sat: vec![],
        sun: vec![],
        holidays: vec!["2026-12-24".into()],
    });
    let clock = Arc::new(relaydesk_storage::FakeClock::at(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 23, 10, 0, 0)
            .single()
            .expect("time"),
    ));
    let widget = Arc::new(WidgetChannel::new(config.email.clone()));
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        clock: clock.clone(),
        channels: vec![widget],
    })
    .await;
    Agent::new(&app, "anna").await;
    // Wednesday noon in Helsinki: open, and anna is on duty.
    let mut socket = connect(&app).await;
    let welcome = hello(&mut socket, json!({"type": "hello", "name": "Day"})).await;
    assert_eq!(welcome["offline"], false);
    // Christmas Eve is a holiday.
    clock.set(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 24, 10, 0, 0)
            .single()
            .expect("time"),
    );
    let mut socket = connect(&app).await;
    let welcome = hello(&mut socket, json!({"type": "hello", "name": "Eve"})).await;
    assert_eq!(welcome["offline"], true);
    send(
        &mut socket,
        json!({"type": "send", "id": "e-1", "text": "anyone?"}),
    )
    .await;
    let ack = until(&mut socket, is("ack")).await;
    assert_eq!(ack["new_ticket"], true);
    let number = ack["ticket"].as_i64().expect("number");
    // Told once, beside the conversation, when someone is back (Christmas Day is no holiday
    // here).
    let notice = until(&mut socket, is("prompt")).await;
    assert_eq!(notice["kind"], "notice", "{notice}");
    assert_eq!(
        notice["text"],
        "Thanks for your message! We are away right now and back on 2026-12-25 09:00 \
         (Europe/Helsinki). We will answer then."
    );
    assert_eq!(notice["buttons"], json!([]));
    send(
        &mut socket,
        json!({"type": "send", "id": "e-2", "text": "hello?"}),
    )
    .await;
    until(&mut socket, |f| f["type"] == "ack" && f["id"] == "e-2").await;
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(number)
        .await
        .expect("q")
        .expect("ticket");
    let told = tx
        .audit_trail(ticket.id)
        .await
        .expect("trail")
        .iter()
        .filter(|e| e.action == "out-of-hours")
        .count();
    drop(tx);
    assert_eq!(told, 1, "once per ticket");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_session_starts_a_new_conversation() {
    use chrono::TimeZone;
    let mut config = Config::default();
    config.web.session_ttl_hours = 24;
    let clock = Arc::new(relaydesk_storage::FakeClock::at(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
            .single()
            .expect("time"),
    ));
    let widget = Arc::new(WidgetChannel::new(config.email.clone()));
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        clock: clock.clone(),
        channels: vec![widget],
    })
    .await;
    let mut socket = connect(&app).await;
    let token = hello(&mut socket, json!({"type": "hello", "name": "Old"})).await["token"].clone();
    send(
        &mut socket,
        json!({"type": "send", "id": "o-1", "text": "before"}),
    )
    .await;
    let first = until(&mut socket, is("ack")).await["ticket"].clone();

    // Within the lifetime the token resumes the conversation.
    clock.advance(chrono::Duration::hours(23));
    let mut socket = connect(&app).await;
    let renewed = hello(
        &mut socket,
        json!({"type": "hello", "token": token, "name": "Old"}),
    )
    .await["token"]
        .clone();
    assert_eq!(until(&mut socket, is("message")).await["text"], "before");

    // Past it, the old token is worth nothing; the renewed one still works.
    clock.advance(chrono::Duration::hours(2));
    let mut socket = connect(&app).await;
    hello(
        &mut socket,
        json!({"type": "hello", "token": token, "name": "Old"}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "send", "id": "o-2", "text": "after"}),
    )
    .await;
    let ack = until(&mut socket, is("ack")).await;
    assert_ne!(ack["ticket"], first, "a new conversation");
    let mut socket = connect(&app).await;
    hello(
        &mut socket,
        json!({"type": "hello", "token": renewed, "name": "Old"}),
    )
    .await;
    assert_eq!(until(&mut socket, is("message")).await["text"], "before");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_cannot_open_endless_sessions() {
    let mut config = Config::default();
    config.web.ip_requests_per_minute = 2;
    let app = start(TestDb::sqlite(), config).await;
    let _first = connect(&app).await;
    let _second = connect(&app).await;
    let third = connect_with_origin(&app, None).await;
    assert_eq!(third.err().as_deref(), Some("HTTP 429"));
    let body = reqwest::Client::new()
        .get(app.url("/widget/ws"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("request");
    assert_eq!(body.status(), 429);
    let error: Value = body.json().await.expect("JSON error");
    assert_eq!(error["error"]["code"], "rate_limited");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sockets_beyond_the_servers_cap_are_refused_until_one_closes() {
    let mut config = Config::default();
    config.web.max_widget_sockets = 2;
    let app = start(TestDb::sqlite(), config).await;
    let first = connect(&app).await;
    let _second = connect(&app).await;
    let origin = format!("http://{}", app.addr);
    let third = connect_with_origin(&app, Some(&origin)).await;
    assert_eq!(third.err().as_deref(), Some("HTTP 503"));
    drop(first);
    let mut reopened = None;
    for _ in 0..100 {
        if let Ok(socket) = connect_with_origin(&app, Some(&origin)).await {
            reopened = Some(socket);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(reopened.is_some(), "a closed socket frees its place");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_a_trusted_proxy_each_visitor_has_their_own_budget() {
    // Not configured: the header is the client's word and changes nothing.
    let mut config = Config::default();
    config.web.ip_requests_per_minute = 2;
    let app = start(TestDb::sqlite(), config.clone()).await;
    for n in 1..=2 {
        connect_forwarded(&app, &format!("198.51.100.{n}"))
            .await
            .expect("within the budget");
    }
    let third = connect_forwarded(&app, "198.51.100.3").await;
    assert_eq!(third.err().as_deref(), Some("HTTP 429"));
    app.stop().await.expect("clean stop");

    // The proxy (here 127.0.0.1) is trusted: each forwarded address has its own budget, and a
    // client cannot escape its own by adding addresses of its choosing on the left.
    config.web.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    let app = start(TestDb::sqlite(), config).await;
    for _ in 0..2 {
        connect_forwarded(&app, "198.51.100.1")
            .await
            .expect("within the budget");
    }
    let spent = connect_forwarded(&app, "203.0.113.50, 198.51.100.1").await;
    assert_eq!(spent.err().as_deref(), Some("HTTP 429"));
    connect_forwarded(&app, "198.51.100.2")
        .await
        .expect("another visitor's own budget");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_may_hold_only_so_many_sockets_and_profile_changes() {
    let mut config = Config::default();
    config.web.max_widget_sockets_per_address = 2;
    config.web.max_profile_frames = 2;
    let app = start(TestDb::sqlite(), config).await;
    // A socket takes its place once upgraded, which happens after the handshake answer: each
    // is greeted before the next connects, so which one is over the cap is certain.
    let mut first = connect(&app).await;
    hello(&mut first, json!({"type": "hello", "name": "First"})).await;
    let mut second = connect(&app).await;
    hello(&mut second, json!({"type": "hello", "name": "Pat"})).await;
    let mut third = connect(&app).await;
    let refused = next(&mut third).await.expect("an error frame");
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "too_many_sockets");
    assert!(next(&mut third).await.is_none(), "closed after the refusal");
    // A closed socket gives its place back.
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        let mut socket = connect(&app).await;
        send(&mut socket, json!({"type": "hello", "name": "Back"})).await;
        let frame = next(&mut socket).await.expect("a frame");
        if frame["type"] == "welcome" {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "the place of the closed socket came back");

    for name in ["Pat A", "Pat B"] {
        send(&mut second, json!({"type": "profile", "name": name})).await;
    }
    send(&mut second, json!({"type": "profile", "name": "Pat C"})).await;
    let refused = until(&mut second, is("error")).await;
    assert_eq!(refused["code"], "too_many_profiles");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_signed_in_visitors_session_is_not_resumed_by_a_page_without_their_identity() {
    let mut config = Config::default();
    config.web.identity_secret = Some("site-secret".into());
    let app = start(TestDb::sqlite(), config).await;
    let user = json!({"id": "42", "name": "Tom",
        "hash": relaydesk_web::widget::identity_hash("site-secret", "42")});
    let mut tom = connect(&app).await;
    let welcome = hello(&mut tom, json!({"type": "hello", "user": user})).await;
    assert_eq!(welcome["verified"], true);
    let token = welcome["token"].as_str().expect("a token").to_string();
    send(
        &mut tom,
        json!({"type": "send", "id": "t-1", "text": "my account number is 12345"}),
    )
    .await;
    until(&mut tom, is("ack")).await;
    drop(tom);

    // Tom signed out of the site; the next person at this browser still has the token.
    let mut next_person = connect(&app).await;
    let welcome = hello(
        &mut next_person,
        json!({"type": "hello", "token": token, "name": "Someone"}),
    )
    .await;
    assert_eq!(welcome["verified"], false, "{welcome}");
    assert_ne!(welcome["token"], token);
    // Nothing of Tom's conversation reaches them.
    let quiet = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            match next(&mut next_person).await {
                Some(frame) if frame["type"] == "message" => return frame,
                Some(_) => {}
                None => std::future::pending::<()>().await,
            }
        }
    })
    .await;
    assert!(
        quiet.is_err(),
        "another visitor saw Tom's messages: {quiet:?}"
    );

    // Tom, signed in again, gets his conversation back by his signed id.
    let mut again = connect(&app).await;
    hello(&mut again, json!({"type": "hello", "user": user})).await;
    let history = until(&mut again, is("message")).await;
    assert_eq!(history["text"], "my account number is 12345");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn an_idle_widget_socket_is_closed_with_a_clear_frame() {
    let mut config = Config::default();
    config.web.widget_idle_seconds = 1;
    let app = start(TestDb::sqlite(), config).await;
    let mut socket = connect(&app).await;
    hello(&mut socket, json!({"type": "hello", "name": "Ida"})).await;
    // Activity keeps it open past the idle time.
    for i in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        send(
            &mut socket,
            json!({"type": "profile", "name": format!("Ida {i}")}),
        )
        .await;
    }
    let closed = until(&mut socket, is("error")).await;
    assert_eq!(closed["code"], "idle");
    assert!(next(&mut socket).await.is_none(), "closed after the notice");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_have_byte_budgets_a_storage_cap_and_unattached_files_are_deleted() {
    let clock = relaydesk_storage::FakeClock::at(chrono::Utc::now());
    let mut config = Config::default();
    config.web.session_upload_mb_per_hour = 1;
    config.web.max_upload_storage_mb = 2;
    config.tickets.max_message_bytes = 100;
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        channels: vec![Arc::new(WidgetChannel::new(config.email.clone()))],
        config,
        clock: Arc::new(clock.clone()),
    })
    .await;
    let png = |kib: usize| {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.resize(kib * 1024, 7);
        STANDARD.encode(bytes)
    };
    let upload = |id: &str, text: &str, kib: usize| {
        json!({"type": "send", "id": id, "text": text,
               "file": {"name": "shot.png", "data": png(kib)}})
    };
    let stored_bytes = || async {
        let mut tx = app.store.begin().await.expect("begin");
        let bytes = tx.widget_file_bytes().await.expect("sum");
        tx.rollback().await.expect("rollback");
        bytes
    };

    // One session: 700 KiB fit its 1 MB an hour, the next 700 KiB do not.
    let mut pia = connect(&app).await;
    hello(&mut pia, json!({"type": "hello", "name": "Pia"})).await;
    send(&mut pia, upload("p-1", "first", 700)).await;
    until(&mut pia, is("ack")).await;
    send(&mut pia, upload("p-2", "second", 700)).await;
    let refused = until(&mut pia, is("error")).await;
    assert_eq!(refused["code"], "upload_budget", "{refused}");
    assert_eq!(refused["id"], "p-2");

    // Another session's file fits (1.4 MB kept of 2 MB).
    let mut ola = connect(&app).await;
    hello(&mut ola, json!({"type": "hello", "name": "Ola"})).await;
    send(&mut ola, upload("o-1", "mine", 700)).await;
    until(&mut ola, is("ack")).await;

    // A message refused after its file arrived leaves the file unattached (1.9 MB now).
    let mut ula = connect(&app).await;
    hello(&mut ula, json!({"type": "hello", "name": "Ula"})).await;
    send(&mut ula, upload("u-1", &"x".repeat(200), 500)).await;
    let refused = until(&mut ula, is("error")).await;
    assert_eq!(refused["code"], "too_large", "{refused}");
    assert_eq!(stored_bytes().await, 1900 * 1024);

    // Full: the next file is refused with a clear error.
    let mut vic = connect(&app).await;
    hello(&mut vic, json!({"type": "hello", "name": "Vic"})).await;
    send(&mut vic, upload("v-1", "hello", 500)).await;
    let refused = until(&mut vic, is("error")).await;
    assert_eq!(refused["code"], "storage_full", "{refused}");

    // Ten minutes on, the unattached file is gone and the same upload fits.
    clock.advance(chrono::Duration::minutes(11));
    send(&mut vic, upload("v-2", "hello again", 500)).await;
    until(&mut vic, is("ack")).await;
    assert_eq!(
        stored_bytes().await,
        1900 * 1024,
        "Ula's file left, Vic's came"
    );
    app.stop().await.expect("clean stop");
}

/// Surveys and FAQ answers in the widget: a visitor whose first message matches an FAQ entry
/// gets the answer with two buttons and "That solved it" closes the ticket as self-served;
/// after an agent's close the visitor gets five stars, a press is stored once, shown to staff
/// and the API, and a comment follows. Another visitor cannot answer someone else's prompts.
async fn prompts_story(db: TestDb) {
    let app = start(db, Config::default()).await;
    let agent = Agent::new(&app, "ben").await;
    relaydesk::cli::faq::run(
        &app.store,
        &relaydesk_storage::SystemClock,
        relaydesk::cli::faq::FaqCommand::Add {
            name: "refund".into(),
            question: "How do refunds work?".into(),
            keywords: "refund".into(),
            answer: "Refunds reach you within 5 days.".into(),
            language: None,
        },
    )
    .await
    .expect("FAQ entry added");

    let mut ann = connect(&app).await;
    let token = hello(&mut ann, json!({"type": "hello", "name": "Ann"})).await["token"]
        .as_str()
        .expect("token")
        .to_string();
    send(
        &mut ann,
        json!({"type": "send", "id": "a-1", "text": "How do I get a refund?"}),
    )
    .await;
    let faq = until(&mut ann, is("prompt")).await;
    assert_eq!(faq["kind"], "faq", "{faq}");
    assert!(
        faq["text"]
            .as_str()
            .is_some_and(|t| t.contains("Refunds reach you within 5 days.")),
        "{faq}"
    );
    let labels: Vec<&str> = faq["buttons"]
        .as_array()
        .expect("buttons")
        .iter()
        .map(|b| b["label"].as_str().expect("label"))
        .collect();
    assert_eq!(labels, ["That solved it", "I still need help"]);
    assert_eq!(faq["chosen"], Value::Null);
    let faq_id = faq["id"].as_i64().expect("prompt id");
    let faq_ticket = faq["ticket"].as_i64().expect("ticket");

    // Mallory, in a chat of her own, cannot press Ann's buttons.
    let mut mallory = connect(&app).await;
    hello(&mut mallory, json!({"type": "hello", "name": "Mallory"})).await;
    send(
        &mut mallory,
        json!({"type": "answer", "prompt": faq_id, "value": "solved"}),
    )
    .await;
    let refused = until(&mut mallory, is("error")).await;
    assert_eq!(refused["code"], "no_prompt", "{refused}");
    send(
        &mut ann,
        json!({"type": "answer", "prompt": faq_id, "value": "maybe"}),
    )
    .await;
    assert_eq!(until(&mut ann, is("error")).await["code"], "bad_frame");
    let ticket = agent
        .get_json(&format!("/api/v1/tickets/{faq_ticket}"), &[])
        .await
        .1;
    assert_eq!(ticket["status"], "open", "nothing changed: {ticket}");

    send(
        &mut ann,
        json!({"type": "answer", "prompt": faq_id, "value": "solved"}),
    )
    .await;
    let answered = until(&mut ann, is("answered")).await;
    assert_eq!(answered["chosen"], "solved");
    assert!(
        answered["text"]
            .as_str()
            .is_some_and(|t| t.contains("Glad it helped")),
        "{answered}"
    );
    until(&mut ann, |f| f["type"] == "status" && f["closed"] == true).await;
    let ticket = agent
        .get_json(&format!("/api/v1/tickets/{faq_ticket}"), &[])
        .await
        .1;
    assert_eq!(ticket["status"], "closed", "{ticket}");
    assert_eq!(ticket["close_reason"], "self-served", "{ticket}");

    // Writing again reopens it for the team (no FAQ answer this time); the agent closes it.
    send(
        &mut ann,
        json!({"type": "send", "id": "a-2", "text": "My parcel never came."}),
    )
    .await;
    let number = until(&mut ann, |f| f["type"] == "ack" && f["id"] == "a-2").await["ticket"]
        .as_i64()
        .expect("number");
    agent.command(number, "/reply Sending another today.").await;
    agent.command(number, "/close").await;
    let survey = until(&mut ann, |f| f["type"] == "prompt" && f["kind"] == "survey").await;
    assert_eq!(survey["ticket"], number, "{survey}");
    assert!(
        survey["text"]
            .as_str()
            .is_some_and(|t| t.contains("How did we do")),
        "{survey}"
    );
    assert_eq!(survey["buttons"].as_array().map(Vec::len), Some(5));
    let survey_id = survey["id"].as_i64().expect("prompt id");

    send(
        &mut mallory,
        json!({"type": "answer", "prompt": survey_id, "value": "1"}),
    )
    .await;
    assert_eq!(until(&mut mallory, is("error")).await["code"], "no_prompt");
    // A comment before any rating is not taken.
    send(
        &mut ann,
        json!({"type": "comment", "prompt": survey_id, "text": "too early"}),
    )
    .await;
    let early = until(&mut ann, |f| {
        f["type"] == "answered" || f["type"] == "error"
    })
    .await;
    assert_eq!(early["code"], "bad_frame", "{early}");

    send(
        &mut ann,
        json!({"type": "answer", "prompt": survey_id, "value": "4"}),
    )
    .await;
    let rated = until(&mut ann, is("answered")).await;
    assert_eq!(rated["chosen"], "4");
    assert!(
        rated["text"].as_str().is_some_and(|t| t.contains("4/5")),
        "{rated}"
    );
    send(
        &mut ann,
        json!({"type": "comment", "prompt": survey_id, "text": "Quick, thanks!\u{202e}"}),
    )
    .await;
    let commented = until(&mut ann, is("answered")).await;
    assert_eq!(commented["commented"], true, "{commented}");

    let ticket = agent
        .get_json(&format!("/api/v1/tickets/{number}"), &[])
        .await
        .1;
    assert_eq!(ticket["csat"]["rating"], 4, "{ticket}");
    assert_eq!(ticket["csat"]["comment"], "Quick, thanks!", "{ticket}");
    let mut tx = app.store.begin().await.expect("tx");
    let id = tx
        .ticket_by_number(number)
        .await
        .expect("ticket")
        .expect("found")
        .id;
    let survey = tx
        .latest_csat_survey(id)
        .await
        .expect("survey")
        .expect("one");
    tx.rollback().await.expect("rollback");
    assert_eq!(survey.rating, Some(4));

    // Back later: the prompts show as they stand.
    let mut again = connect(&app).await;
    hello(&mut again, json!({"type": "hello", "token": token})).await;
    let faq = until(&mut again, |f| f["type"] == "prompt" && f["kind"] == "faq").await;
    assert_eq!(faq["chosen"], "solved", "{faq}");
    let survey = until(&mut again, |f| {
        f["type"] == "prompt" && f["kind"] == "survey"
    })
    .await;
    assert_eq!(
        (&survey["chosen"], &survey["commented"]),
        (&json!("4"), &json!(true))
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn surveys_and_faq_answers_have_buttons_in_the_widget_on_sqlite() {
    prompts_story(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn surveys_and_faq_answers_have_buttons_in_the_widget_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        prompts_story(db).await;
    }
}
