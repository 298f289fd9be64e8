//! Email as a channel, end to end: raw mail posted to the inbound endpoint as a mail
//! provider does, agents answering through the REST API, replies caught by a real SMTP
//! exchange (the test sink) and read back with a MIME parser.

use std::sync::Arc;
use std::time::Duration;

use mail_parser::MessageParser;
use relaydesk::config::Config;
use relaydesk::email::EmailChannel;
use relaydesk::telegram::{TelegramChannel, TelegramConfig, TelegramOptions};
use relaydesk_storage::{AuthorKind, Platform, TicketStatus};
use relaydesk_tests::api_agent::ApiAgent as Agent;
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::imap_fake::ImapFake;
use relaydesk_tests::smtp_sink::{Mail, SmtpSink};
use relaydesk_tests::telegram_fake::{TelegramFake, TgUser};
use relaydesk_web::ImapConfig;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
const SECRET: &str = "inbound-secret-0123456789abcdef";

async fn start(db: TestDb, sink: &SmtpSink, max_mail_mb: usize) -> TestApp {
    let mut config = Config::default();
    config.email.smtp_url = Some(sink.url());
    config.email.from = Some("ACME Support <support@acme.example>".into());
    config.email.inbound_secret = Some(SECRET.into());
    config.email.max_mail_mb = max_mail_mb;
    config.web.public_url = Some("https://desk.acme.example".into());
    let email = EmailChannel::from_config(
        &config.email,
        config.web.max_attachment_bytes,
        config.web.public_url.clone(),
    )
    .expect("valid email settings")
    .expect("email is on");
    spawn_app_with(Spawn {
        db,
        config,
        channels: vec![Arc::new(email)],
        ..Spawn::default()
    })
    .await
}

/// Posts a raw mail to the inbound endpoint with the agent's token; the status and JSON.
async fn post_mail(app: &TestApp, token: &str, raw: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(token)
        .header("content-type", "message/rfc822")
        .body(raw.to_string())
        .send()
        .await
        .expect("inbound call");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn mail(from: &str, id: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@acme.example\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n\
         Date: Thu, 3 Dec 2026 10:00:00 +0000\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

fn stored(answer: &(u16, Value)) -> (i64, bool) {
    assert_eq!(answer.0, 200, "{:?}", answer.1);
    assert_eq!(answer.1["result"], "stored", "{:?}", answer.1);
    (
        answer.1["ticket"].as_i64().expect("ticket number"),
        answer.1["new_ticket"].as_bool().expect("new_ticket"),
    )
}

/// A header of a mail the sink received.
fn header(mail: &Mail, name: &str) -> String {
    let parsed = MessageParser::default()
        .parse(mail.data.as_bytes())
        .expect("a mail");
    parsed
        .header_raw(name)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn text_of(mail: &Mail) -> String {
    let parsed = MessageParser::default()
        .parse(mail.data.as_bytes())
        .expect("a mail");
    parsed
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default()
}

async fn customer_texts(app: &TestApp, number: i64) -> Vec<String> {
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(number)
        .await
        .expect("read")
        .expect("ticket");
    let messages = tx.messages(ticket.id).await.expect("messages");
    tx.rollback().await.expect("rollback");
    messages
        .into_iter()
        .filter(|m| m.author_kind == AuthorKind::Customer)
        .map(|m| m.body)
        .collect()
}

async fn conversation_round_trip(db: TestDb) {
    let sink = SmtpSink::start().await;
    let app = start(db, &sink, 32).await;
    let agent = Agent::new(&app, "ben").await;

    // A mail opens a ticket; the provider sending it again changes nothing.
    let first = mail(
        "Ann Lee <ann@customer.example>",
        "<m1@customer.example>",
        "Printer on fire",
        "",
        "My printer is on fire.\r\n-- \r\nAnn Lee, ACME customer since 2019",
    );
    let (number, new_ticket) = stored(&post_mail(&app, agent.token(), &first).await);
    assert!(new_ticket);
    assert_eq!(
        post_mail(&app, agent.token(), &first).await.1["result"],
        "duplicate"
    );
    assert_eq!(
        customer_texts(&app, number).await,
        vec!["My printer is on fire."]
    );
    {
        let mut tx = app.store.begin().await.expect("begin");
        let ticket = tx
            .ticket_by_number(number)
            .await
            .expect("read")
            .expect("ticket");
        tx.rollback().await.expect("rollback");
        assert_eq!(ticket.origin, Platform::Email);
        assert_eq!(ticket.subject, "Printer on fire");
    }

    // The agent's answer is a mail in the customer's thread.
    agent
        .command(number, "/reply Please step away from the printer.")
        .await;
    let reply = &mail_saying(&sink, "step away").await;
    assert_eq!(reply.to, vec!["ann@customer.example".to_string()]);
    assert_eq!(
        header(reply, "Subject"),
        format!("Re: Printer on fire [#{number}]")
    );
    assert_eq!(header(reply, "In-Reply-To"), "<m1@customer.example>");
    assert!(header(reply, "References").contains("<m1@customer.example>"));
    let ours = header(reply, "Message-ID");
    assert!(ours.ends_with("@acme.example>"), "{ours}");
    let parsed = MessageParser::default()
        .parse(reply.data.as_bytes())
        .expect("a mail");
    let from = parsed.from().and_then(|a| a.first()).expect("a sender");
    assert_eq!(from.address(), Some("support@acme.example"));
    assert_eq!(from.name(), Some("ben from ACME Support"));
    assert_eq!(header(reply, "Auto-Submitted"), "", "a person's reply");
    // The acknowledgement that came first is marked automatic, so no auto-responder answers.
    let ack = sink
        .mails()
        .into_iter()
        .find(|m| !text_of(m).contains("step away"))
        .expect("an acknowledgement");
    assert!(
        text_of(&ack).contains(&format!("#{number}")),
        "{}",
        text_of(&ack)
    );
    assert_eq!(header(&ack, "Auto-Submitted"), "auto-replied");
    assert!(
        reply.data.contains("text/html"),
        "plain text and HTML: {}",
        reply.data
    );

    // Ann's answer to it joins the ticket, without the quoted conversation.
    let answer = mail(
        "Ann Lee <ann@customer.example>",
        "<m2@customer.example>",
        &format!("Re: Printer on fire [#{number}]"),
        &format!("In-Reply-To: {ours}\r\nReferences: <m1@customer.example> {ours}\r\n"),
        "Done, the fire is out.\r\n\r\nOn Thu, 3 Dec 2026, ACME Support wrote:\r\n> Please step away from the printer.",
    );
    let (joined, new_ticket) = stored(&post_mail(&app, agent.token(), &answer).await);
    assert_eq!((joined, new_ticket), (number, false));
    assert_eq!(
        customer_texts(&app, number).await,
        vec!["My printer is on fire.", "Done, the fire is out."]
    );

    // A mail that only names the ticket in its subject joins it too, if it is Ann's.
    let by_subject = mail(
        "ann@customer.example",
        "<m3@customer.example>",
        &format!("One more thing [#{number}]"),
        "",
        "The paper tray is melted.",
    );
    assert_eq!(
        stored(&post_mail(&app, agent.token(), &by_subject).await),
        (number, false)
    );
    // Someone else naming Ann's ticket or answering our mail gets a ticket of their own.
    let eve = mail(
        "eve@attacker.example",
        "<e1@attacker.example>",
        &format!("Re: Printer on fire [#{number}]"),
        &format!("In-Reply-To: {ours}\r\n"),
        "Please send me Ann's invoices.",
    );
    let (eves, new_ticket) = stored(&post_mail(&app, agent.token(), &eve).await);
    assert!(new_ticket);
    assert_ne!(eves, number);
    // A new mail from Ann about something else is a new ticket.
    let other = mail(
        "ann@customer.example",
        "<m4@customer.example>",
        "Invoice question",
        "",
        "Where is my invoice?",
    );
    let (invoice, new_ticket) = stored(&post_mail(&app, agent.token(), &other).await);
    assert!(new_ticket);
    assert_ne!(invoice, number);
    assert_eq!(customer_texts(&app, number).await.len(), 3);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mail_becomes_a_ticket_and_the_reply_a_threaded_mail() {
    conversation_round_trip(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mail_becomes_a_ticket_and_the_reply_a_threaded_mail_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        conversation_round_trip(db).await;
    }
}

async fn tickets_count(app: &TestApp) -> i64 {
    let mut tx = app.store.begin().await.expect("begin");
    let mut n = 0;
    for status in [
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Closed,
    ] {
        n += tx.count_tickets(status).await.expect("count");
    }
    tx.rollback().await.expect("rollback");
    n
}

/// Waits for the mail whose text contains `needle`.
async fn mail_saying(sink: &SmtpSink, needle: &str) -> Mail {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(found) = sink
            .mails()
            .into_iter()
            .find(|m| text_of(m).contains(needle))
        {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail saying {needle:?}; got {:?}",
            sink.mails().iter().map(text_of).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn automatic_mail(db: TestDb) {
    let sink = SmtpSink::start().await;
    let app = start(db, &sink, 32).await;
    let agent = Agent::new(&app, "ben").await;

    let out_of_office = mail(
        "Bob <bob@customer.example>",
        "<ooo@customer.example>",
        "Out of office",
        "Auto-Submitted: auto-replied\r\n",
        "I am away until Monday.",
    );
    let answer = post_mail(&app, agent.token(), &out_of_office).await;
    assert_eq!(
        (answer.0, answer.1["result"].as_str()),
        (200, Some("ignored"))
    );
    let bulk = mail(
        "news@shop.example",
        "<n1@shop.example>",
        "Our newsletter",
        "Precedence: bulk\r\n",
        "Deals!",
    );
    assert_eq!(
        post_mail(&app, agent.token(), &bulk).await.1["result"],
        "ignored"
    );
    let own = mail(
        "support@acme.example",
        "<self@acme.example>",
        "Loop",
        "",
        "from ourselves",
    );
    assert_eq!(
        post_mail(&app, agent.token(), &own).await.1["result"],
        "ignored"
    );
    assert_eq!(
        tickets_count(&app).await,
        0,
        "automatic mail opened a ticket"
    );

    // A reply that bounces is marked failed where the agents look.
    let first = mail(
        "carl@gone.example",
        "<c1@gone.example>",
        "Hello",
        "",
        "Is this the right address?",
    );
    let (number, _) = stored(&post_mail(&app, agent.token(), &first).await);
    agent.command(number, "/reply Yes it is.").await;
    let reply = &mail_saying(&sink, "Yes it is").await;
    let ours = header(reply, "Message-ID");
    let bounce = format!(
        "From: MAILER-DAEMON@mx.gone.example\r\nTo: support@acme.example\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@mx.gone.example>\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\n550 5.1.1 carl@gone.example: mailbox unknown\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ours}\r\nSubject: Re: Hello\r\n--B--\r\n"
    );
    let answer = post_mail(&app, agent.token(), &bounce).await;
    assert_eq!(answer.1["result"], "bounce", "{:?}", answer.1);
    assert_eq!(answer.1["deliveries"], 1);
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(number)
        .await
        .expect("read")
        .expect("ticket");
    let deliveries = tx.reply_deliveries(ticket.id).await.expect("deliveries");
    tx.rollback().await.expect("rollback");
    assert!(
        deliveries.iter().any(|d| d.state().0 == "failed"
            && d.state().1.is_some_and(|e| e.contains("mailbox unknown"))),
        "the bounced reply shows as failed: {deliveries:?}"
    );
    assert_eq!(tickets_count(&app).await, 1, "the bounce opened a ticket");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn automatic_mail_opens_nothing_and_a_bounce_marks_the_reply_failed() {
    automatic_mail(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn automatic_mail_opens_nothing_and_a_bounce_marks_the_reply_failed_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        automatic_mail(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_inbound_endpoint_takes_only_authenticated_raw_mail_within_its_limit() {
    let sink = SmtpSink::start().await;
    let app = start(TestDb::sqlite(), &sink, 1).await;
    let agent = Agent::new(&app, "ben").await;
    let client = reqwest::Client::new();
    let raw = mail("ann@customer.example", "<a1@c.example>", "Hi", "", "hello");
    let post = |url: String, token: Option<&str>, content_type: &str, body: String| {
        let mut request = client
            .post(url)
            .header("content-type", content_type.to_string())
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    let url = app.url("/api/v1/inbound/email");
    assert_eq!(
        status(
            post(url.clone(), None, "message/rfc822", raw.clone())
                .await
                .expect("call")
        ),
        401
    );
    assert_eq!(
        status(
            post(
                url.clone(),
                Some("rdk_forged"),
                "message/rfc822",
                raw.clone()
            )
            .await
            .expect("call")
        ),
        401
    );
    assert_eq!(
        status(
            post(
                url.clone(),
                Some(agent.token()),
                "application/json",
                raw.clone()
            )
            .await
            .expect("call")
        ),
        415
    );
    let wrong = app.url("/api/v1/inbound/email/not-the-secret-0123456789");
    assert_eq!(
        status(
            post(wrong, None, "message/rfc822", raw.clone())
                .await
                .expect("call")
        ),
        404
    );
    let with_secret = app.url(&format!("/api/v1/inbound/email/{SECRET}"));
    assert_eq!(
        status(
            post(with_secret.clone(), None, "message/rfc822", raw.clone())
                .await
                .expect("call")
        ),
        200
    );
    let huge = mail(
        "ann@customer.example",
        "<a2@c.example>",
        "Huge",
        "",
        &"x".repeat(2 * 1024 * 1024),
    );
    assert_eq!(
        status(
            post(with_secret, None, "message/rfc822", huge)
                .await
                .expect("call")
        ),
        413
    );
    assert_eq!(tickets_count(&app).await, 1);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_mail_is_kept_as_far_as_the_limits_allow() {
    let sink = SmtpSink::start().await;
    let app = start(TestDb::sqlite(), &sink, 32).await;
    let agent = Agent::new(&app, "ben").await;

    // 500 attachments: 20 kept, the rest named in the thread.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let mut many = String::from(
        "From: ann@customer.example\r\nSubject: Photos\r\nMessage-ID: <p1@c.example>\r\n\
         Content-Type: multipart/mixed; boundary=\"X\"\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nall the photos\r\n",
    );
    for i in 0..500 {
        many.push_str(&format!(
            "--X\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"p{i}.png\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n"
        ));
    }
    many.push_str("--X--\r\n");
    let (number, _) = stored(&post_mail(&app, agent.token(), &many).await);
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .ticket_by_number(number)
        .await
        .expect("read")
        .expect("ticket");
    let messages = tx.messages(ticket.id).await.expect("messages");
    tx.rollback().await.expect("rollback");
    let message = &messages[0];
    assert!(
        message.body.starts_with("all the photos"),
        "{}",
        message.body
    );
    assert!(
        message
            .body
            .contains("480 files beyond the first 20 attachments"),
        "{}",
        message.body
    );
    // 20 photos and the original mail.
    assert_eq!(message.attachments.len(), 21);
    let photo = &message.attachments[0];
    assert_eq!(photo.mime_type.as_deref(), Some("image/png"));
    let url = photo.url.as_deref().expect("a link");
    let path = url.trim_start_matches("https://desk.acme.example");
    let served = reqwest::get(app.url(path)).await.expect("download");
    assert_eq!(served.status().as_u16(), 200);
    assert!(served.bytes().await.expect("bytes").starts_with(b"\x89PNG"));

    // An HTML bomb, an unknown charset and broken MIME are stored, not crashed on.
    let bomb = format!(
        "From: bomb@x.example\r\nSubject: Bomb\r\nMessage-ID: <h1@x.example>\r\nContent-Type: text/html\r\n\r\n{}boom{}",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let (bombed, _) = stored(&post_mail(&app, agent.token(), &bomb).await);
    assert!(customer_texts(&app, bombed).await[0].contains("boom"));
    let charset = "From: c@x.example\r\nSubject: Charset\r\nMessage-ID: <u1@x.example>\r\n\
                   Content-Type: text/plain; charset=x-unknown-9\r\n\r\nplain words\r\n";
    let (odd, _) = stored(&post_mail(&app, agent.token(), charset).await);
    assert!(customer_texts(&app, odd).await[0].contains("plain words"));
    let broken = "From: d@x.example\r\nSubject: Broken\r\nMessage-ID: <k1@x.example>\r\n\
                  Content-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n--never-closed\r\n\
                  Content-Type: text/plain\r\n\r\nhalf a mail";
    let (half, _) = stored(&post_mail(&app, agent.token(), broken).await);
    let texts = customer_texts(&app, half).await;
    assert!(texts[0].contains("half a mail"), "{texts:?}");
    app.stop().await.expect("clean stop");
}

async fn start_with_mailbox(db: TestDb, sink: &SmtpSink, imap: &ImapFake) -> TestApp {
    let mut config = Config::default();
    config.email.max_mail_mb = 1;
    config.email.smtp_url = Some(sink.url());
    config.email.from = Some("ACME Support <support@acme.example>".into());
    config.email.imap = Some(ImapConfig {
        url: imap.url(),
        move_to: None,
        poll_seconds: 5,
    });
    let email = EmailChannel::from_config(&config.email, config.web.max_attachment_bytes, None)
        .expect("valid email settings")
        .expect("email is on");
    spawn_app_with(Spawn {
        db,
        config,
        channels: vec![Arc::new(email)],
        ..Spawn::default()
    })
    .await
}

/// Waits until ticket `number` has `n` customer messages; returns their texts.
async fn until_customer_texts(app: &TestApp, number: i64, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let texts = customer_texts(app, number).await;
        if texts.len() >= n {
            return texts;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ticket {number} has {texts:?}, waiting for {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `n` tickets exist.
async fn until_tickets(app: &TestApp, n: i64) {
    let deadline = std::time::Instant::now() + WAIT;
    while tickets_count(app).await < n {
        assert!(
            std::time::Instant::now() < deadline,
            "waiting for {n} tickets"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn until_seen(imap: &ImapFake, uid: u32) {
    let deadline = std::time::Instant::now() + WAIT;
    while !imap.mails().iter().any(|m| m.uid == uid && m.seen) {
        assert!(
            std::time::Instant::now() < deadline,
            "mail {uid} was never flagged seen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn mailbox_story(db: TestDb) {
    let sink = SmtpSink::start().await;
    let imap = ImapFake::start().await;
    let app = start_with_mailbox(db, &sink, &imap).await;
    let agent = Agent::new(&app, "ben").await;

    // A mail arriving in the mailbox opens a ticket (the reader is idling: it hears at once).
    let first = imap.deliver(&mail(
        "Ann Lee <ann@customer.example>",
        "<i1@customer.example>",
        "Login broken",
        "",
        "I cannot log in.",
    ));
    until_seen(&imap, first).await;
    until_tickets(&app, 1).await;
    let number = {
        let mut tx = app.store.begin().await.expect("begin");
        let rows = tx
            .tickets_with_status(TicketStatus::Open, 10)
            .await
            .expect("tickets");
        tx.rollback().await.expect("rollback");
        rows[0].number
    };
    agent
        .command(number, "/reply Try resetting your password.")
        .await;
    let reply = mail_saying(&sink, "resetting your password").await;
    let ours = header(&reply, "Message-ID");

    // The reader is cut off after fetching Ann's answer, before marking it read: after the
    // reconnection the mail is read again and stored once.
    imap.drop_next_stores(1);
    let answer = imap.deliver(&mail(
        "ann@customer.example",
        "<i2@customer.example>",
        &format!("Re: Login broken [#{number}]"),
        &format!("In-Reply-To: {ours}\r\nReferences: <i1@customer.example> {ours}\r\n"),
        "That worked, thanks!\r\n\r\n> Try resetting your password.",
    ));
    until_seen(&imap, answer).await;
    // And cut off before the fetch is answered: nothing is stored until it is read whole.
    imap.drop_next_fetches(1);
    let later = imap.deliver(&mail(
        "ann@customer.example",
        "<i3@customer.example>",
        &format!("Re: Login broken [#{number}]"),
        &format!("In-Reply-To: {ours}\r\n"),
        "One more question.",
    ));
    until_seen(&imap, later).await;
    let texts = until_customer_texts(&app, number, 3).await;
    assert_eq!(
        texts,
        vec![
            "I cannot log in.",
            "That worked, thanks!",
            "One more question."
        ]
    );
    assert!(imap.logins() >= 3, "the reader reconnected after each cut");

    // An out-of-office reply is read, marked read, and opens nothing.
    let ooo = imap.deliver(&mail(
        "bob@customer.example",
        "<i4@customer.example>",
        "Automatic reply: Login broken",
        "Auto-Submitted: auto-replied\r\n",
        "Away.",
    ));
    until_seen(&imap, ooo).await;
    assert_eq!(tickets_count(&app).await, 1);
    assert_eq!(customer_texts(&app, number).await.len(), 3);

    // A mail over the 1 MB limit is read up to it, stored, and the thread says it was cut.
    let huge = imap.deliver(&mail(
        "ann@customer.example",
        "<i5@customer.example>",
        &format!("Re: Login broken [#{number}]"),
        &format!("In-Reply-To: {ours}\r\n"),
        &format!("Logs follow.\r\n{}", "x".repeat(1_500_000)),
    ));
    until_seen(&imap, huge).await;
    let texts = until_customer_texts(&app, number, 4).await;
    assert!(texts[3].starts_with("Logs follow."), "{}", &texts[3][..40]);
    assert!(
        texts[3].contains("more than the limit"),
        "the cut is said: …{}",
        &texts[3][texts[3].len().saturating_sub(300)..]
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mailbox_read_over_imap_loses_and_doubles_nothing_when_cut_off() {
    mailbox_story(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mailbox_read_over_imap_loses_and_doubles_nothing_when_cut_off_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        mailbox_story(db).await;
    }
}

async fn survey_by_mail(db: TestDb) {
    let sink = SmtpSink::start().await;
    let app = start(db, &sink, 32).await;
    let agent = Agent::new(&app, "ben").await;
    let first = mail(
        "Dana <dana@customer.example>",
        "<s1@customer.example>",
        "Refund",
        "",
        "Please refund order 7.",
    );
    let (number, _) = stored(&post_mail(&app, agent.token(), &first).await);
    agent.command(number, "/reply Refunded.").await;
    agent.command(number, "/close refunded").await;
    let survey = mail_saying(&sink, "4/5:").await;
    assert_eq!(survey.to, vec!["dana@customer.example".to_string()]);
    let text = text_of(&survey);
    let link = text
        .lines()
        .find(|l| l.contains("4/5:"))
        .and_then(|l| l.split_whitespace().last())
        .expect("a link for 4")
        .to_string();
    let path = link
        .strip_prefix("https://desk.acme.example")
        .expect("an absolute link to this server")
        .to_string();
    let client = reqwest::Client::new();
    let rating_of = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            let mut tx = store.begin().await.expect("begin");
            let ticket = tx
                .ticket_by_number(number)
                .await
                .expect("read")
                .expect("ticket");
            let survey = tx
                .latest_csat_survey(ticket.id)
                .await
                .expect("read")
                .expect("a survey");
            tx.rollback().await.expect("rollback");
            survey.rating
        }
    };

    // Opening the link (as a mail scanner would) rates nothing; it asks to confirm.
    let page = client.get(app.url(&path)).send().await.expect("open link");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page
        .text()
        .await
        .expect("page")
        .contains("Send this rating"));
    assert_eq!(rating_of(&app).await, None);
    // A forged link (another rating under the same signature) is refused.
    let forged = path.replace("/4/", "/5/");
    let refused = client.post(app.url(&forged)).send().await.expect("post");
    assert_eq!(refused.status().as_u16(), 404);
    // The customer's press rates.
    let pressed = client.post(app.url(&path)).send().await.expect("post");
    assert_eq!(pressed.status().as_u16(), 200);
    assert_eq!(rating_of(&app).await, Some(4));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_survey_by_mail_is_answered_through_its_signed_links() {
    survey_by_mail(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_survey_by_mail_is_answered_through_its_signed_links_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        survey_by_mail(db).await;
    }
}

/// The staff supergroup of the Telegram leg.
const STAFF: i64 = -1_001_234_567_890;

/// An email customer with the team on Telegram: the mail opens a topic, the agent answers in
/// it, the customer gets a mail; a note stays in the topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agents_answer_a_mail_from_their_telegram_topic() {
    let sink = SmtpSink::start().await;
    let fake = TelegramFake::start().await;
    let mut config = Config::default();
    config.outbox.poll = Duration::from_millis(100);
    config.telegram = TelegramConfig {
        token: Some(fake.token().to_string()),
        api_url: fake.url().to_string(),
        staff_chat_id: Some(STAFF),
        group_messages_per_minute: 10_000,
        topics_per_minute: 10_000,
        ..TelegramConfig::default()
    };
    config.email.smtp_url = Some(sink.url());
    config.email.from = Some("ACME Support <support@acme.example>".into());
    let telegram = TelegramChannel::from_config(
        &config.telegram,
        TelegramOptions {
            long_poll: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            ..TelegramOptions::default()
        },
    )
    .expect("valid Telegram configuration")
    .expect("Telegram is on");
    let email = EmailChannel::from_config(&config.email, config.web.max_attachment_bytes, None)
        .expect("valid email settings")
        .expect("email is on");
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        channels: vec![Arc::new(telegram), Arc::new(email)],
        ..Spawn::default()
    })
    .await;
    let agent = Agent::new(&app, "ben").await;
    let (number, _) = stored(
        &post_mail(
            &app,
            agent.token(),
            &mail(
                "Ann Lee <ann@customer.example>",
                "<t1@customer.example>",
                "Scanner jam",
                "",
                "The scanner is jammed.\r\n\r\nOn Wed, Support wrote:\r\n> old",
            ),
        )
        .await,
    );
    let prefix = format!("#{number} · ");
    let find_topic = |f: &TelegramFake| {
        f.topics(STAFF)
            .into_iter()
            .find(|(_, name, _)| name.starts_with(&prefix))
            .map(|t| t.0)
    };
    fake.wait_until("a topic for the mail's ticket", WAIT, |f| {
        find_topic(f).is_some()
    })
    .await;
    let topic = find_topic(&fake).expect("topic");
    fake.wait_until("the mail's text in the topic", WAIT, |f| {
        f.texts_to(STAFF, Some(topic))
            .iter()
            .any(|t| t.contains("Ann Lee:\nThe scanner is jammed."))
    })
    .await;
    let bo = TgUser::new(2001, "Bo").username("bo");
    fake.push_topic_text(STAFF, topic, &bo, "/note she called too");
    fake.push_topic_text(
        STAFF,
        topic,
        &bo,
        "Open the side panel and pull the sheet out.",
    );
    let reply = mail_saying(&sink, "side panel").await;
    assert_eq!(reply.to, vec!["ann@customer.example".to_string()]);
    assert_eq!(header(&reply, "In-Reply-To"), "<t1@customer.example>");
    assert_eq!(
        header(&reply, "Subject"),
        format!("Re: Scanner jam [#{number}]")
    );
    assert!(
        sink.mails()
            .iter()
            .all(|m| !text_of(m).contains("called too")),
        "a note was mailed"
    );
    app.stop().await.expect("clean stop");
}
