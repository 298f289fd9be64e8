//! Every page of the console in a real headless Chromium, signed in as an admin, at desktop
//! (1280 px) and phone (390 px) width: nothing scrolls sideways on a phone, and axe-core
//! (vendored) finds no serious or critical accessibility problem at either width. With
//! `RELAYDESK_SCREENSHOTS=<dir>` each page is saved as `<dir>/<page>-desktop.png` and
//! `<dir>/<page>-phone.png` (the pictures of docs/console.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::widget_channel::WidgetChannel;
use relaydesk_storage::{FaqEntry, SystemClock};
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::browser::Browser;
use relaydesk_tests::db::TestDb;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(15);

/// axe-core, vendored (see tests/vendor/README.md).
const AXE: &str = include_str!("../vendor/axe.min.js");

/// The rules axe reports as serious or critical on the page open in the browser.
async fn serious_violations(browser: &Browser) -> Vec<String> {
    let c = &browser.client;
    c.execute(AXE, vec![]).await.expect("load axe-core");
    let found = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']}).then(function (r) {
               done(r.violations
                 .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                 .map(function (v) { return v.id + ': ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); }));
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .expect("run axe-core");
    serde_json::from_value(found).unwrap_or_else(|e| vec![format!("unreadable axe result: {e}")])
}

/// (document width, window width).
async fn widths(browser: &Browser) -> (i64, i64) {
    let widths = browser
        .client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("measure");
    (
        widths[0].as_i64().unwrap_or(i64::MAX),
        widths[1].as_i64().unwrap_or(0),
    )
}

async fn screenshot(browser: &Browser, name: &str) {
    let Some(dir) = std::env::var_os("RELAYDESK_SCREENSHOTS") else {
        return;
    };
    let png = browser.client.screenshot().await.expect("screenshot");
    let path = std::path::Path::new(&dir).join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
}

/// A visitor says `text` in the widget (over its websocket, as the widget script does);
/// returns the ticket's number.
async fn visitor_says(app: &TestApp, text: &str) -> i64 {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/widget/ws", app.addr))
        .await
        .expect("widget socket");
    let hello = json!({"type": "hello", "name": "Vera Visitor", "language": "en"});
    socket
        .send(Message::text(hello.to_string()))
        .await
        .expect("hello");
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let Some(Ok(Message::Text(frame))) = socket.next().await else {
            continue;
        };
        let frame: Value = serde_json::from_str(frame.as_str()).expect("JSON frame");
        if frame["type"] == "welcome" {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_console_page_fits_a_phone_and_passes_axe_at_both_widths() {
    if !Browser::available() {
        return;
    }
    let config = Config::default();
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
    // Something on every page: a ticket with a long unbroken word, a team, a canned reply, an
    // FAQ entry and an API token.
    let ticket_number = visitor_says(
        &app,
        &format!("My order never arrived: {}", "x".repeat(120)),
    )
    .await;
    {
        let now = Utc::now().timestamp_millis();
        let mut tx = app.store.begin().await.expect("begin");
        tx.ensure_team("billing", now).await.expect("team");
        tx.put_canned_reply("thanks", None, "Thanks {customer.first_name}!", now)
            .await
            .expect("canned reply");
        tx.put_faq_entry(
            &FaqEntry {
                name: "refund-policy".into(),
                language: None,
                keywords: vec!["refund".into()],
                question: "How do refunds work?".into(),
                answer: "Within 30 days, no questions asked.".into(),
                updated_at: Utc::now(),
            },
            now,
        )
        .await
        .expect("faq entry");
        tx.commit().await.expect("commit");
    }
    relaydesk_web::tokens::create(&app.store, &SystemClock, "crm-sync", "anna")
        .await
        .expect("token");

    let browser = Browser::start().await;
    let c = &browser.client;
    browser
        .console_sign_in(&app.url(""), "anna@example.com", "correct horse battery")
        .await;
    browser.wait_css("nav.views", WAIT).await;
    let ticket = format!("/console/tickets/{ticket_number}");
    let pages = [
        ("list", "/console/tickets?view=all"),
        ("ticket", ticket.as_str()),
        ("alerts", "/console/alerts"),
        ("canned", "/console/canned"),
        ("faq", "/console/faq"),
        ("teams", "/console/teams"),
        ("reports", "/console/reports"),
        ("agents", "/console/agents"),
        ("channels", "/console/channels"),
        ("webhooks", "/console/webhooks"),
        ("tokens", "/console/tokens"),
        ("password", "/console/password"),
    ];
    let mut problems = Vec::new();
    for (width, height, label) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        c.set_window_size(width, height).await.expect("window size");
        for (name, path) in pages {
            c.goto(&app.url(path)).await.expect("open the page");
            browser.wait_css("main#content h1", WAIT).await;
            let (document, window) = widths(&browser).await;
            if label == "phone" && document > window {
                problems.push(format!(
                    "{name} at {width} px: {document} px wide, scrolls sideways"
                ));
            }
            for found in serious_violations(&browser).await {
                problems.push(format!("{name} at {width} px: {found}"));
            }
            screenshot(&browser, &format!("{name}-{label}")).await;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    browser.close().await;
    app.stop().await.expect("clean stop");
}
