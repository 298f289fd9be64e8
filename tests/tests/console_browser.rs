//! A real headless Chromium signs in to the console, opens a ticket, sees a customer message
//! arrive live, and replies; the reply reaches the customer's channel.

use std::sync::Arc;
use std::time::Duration;

use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::hub::{CustomerMessage, Hub, HubConfig, Inbound, Ingested, Outbound, PlatformUser};
use relaydesk_storage::{Platform, SystemClock};
use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::browser::Browser;
use relaydesk_tests::db::TestDb;
use relaydesk_tests::recorder::{Recorder, RecordingChannel};

const WAIT: Duration = Duration::from_secs(15);

fn customer(text: &str, id: &str) -> Inbound {
    Inbound::Customer(CustomerMessage {
        platform: Platform::Telegram,
        external_message_id: Some(id.to_string()),
        customer: PlatformUser {
            external_id: "777".into(),
            display_name: "Carla".into(),
            language: None,
        },
        conversation: "chat-777".into(),
        subject: None,
        text: text.into(),
        attachments: Vec::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_answers_a_customer_from_the_console_in_chromium() {
    if !Browser::available() {
        return;
    }
    let recorder = Recorder::new(Platform::Telegram);
    let mut config = Config::default();
    config.console.refresh_seconds = 1;
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        channels: vec![Arc::new(RecordingChannel(recorder.clone()))],
        ..Spawn::default()
    })
    .await;
    agent::add(
        &app.store,
        &SystemClock,
        "anna",
        "anna@example.com",
        false,
        Some("correct horse battery"),
    )
    .await
    .expect("agent added");
    let hub = Hub::new(
        app.store.clone(),
        Arc::new(SystemClock),
        HubConfig {
            staff_platforms: vec![Platform::Telegram],
            customer_platforms: vec![Platform::Telegram],
            ..HubConfig::default()
        },
    );
    let number = match hub
        .ingest(customer("Where is my parcel?", "m-1"))
        .await
        .expect("stored")
    {
        Ingested::Customer { ticket_number, .. } => ticket_number,
        other => panic!("not a customer message: {other:?}"),
    };

    let browser = Browser::start().await;
    let c = &browser.client;
    browser
        .console_sign_in(&app.url(""), "anna@example.com", "correct horse battery")
        .await;

    let link = browser
        .wait_css(&format!("tr[data-ticket='{number}'] a"), WAIT)
        .await;
    link.click().await.expect("open the ticket");
    browser.wait_css("#conversation .message", WAIT).await;
    browser
        .wait_js(
            "document.getElementById('conversation').textContent.includes('Where is my parcel?')",
            WAIT,
        )
        .await;

    // The customer writes again (through another hub): the open page shows it without a reload.
    c.execute("window.__stillHere = true;", vec![])
        .await
        .expect("mark the page");
    hub.ingest(customer("It was due yesterday", "m-2"))
        .await
        .expect("stored");
    browser
        .wait_js(
            "window.__stillHere && document.getElementById('conversation').textContent.includes('It was due yesterday')",
            WAIT,
        )
        .await;

    browser
        .console_reply("It leaves the warehouse today <b>promise</b>")
        .await;
    browser
        .wait_js(
            "document.getElementById('conversation').textContent.includes('It leaves the warehouse today <b>promise</b>')",
            WAIT,
        )
        .await;

    let mut delivered = false;
    for _ in 0..100 {
        delivered = recorder.sent().iter().any(|o| {
            matches!(o, Outbound::CustomerPost { text, .. }
                if text == "It leaves the warehouse today <b>promise</b>")
        });
        if delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        delivered,
        "the reply reached the customer: {:?}",
        recorder.sent()
    );
    browser.close().await;
    app.stop().await.expect("clean stop");
}

/// An admin opens the Reports page in Chromium: the chart is drawn (its bars have height), the
/// table has the day's figures, and changing the split reloads with rows per channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_sees_the_reports_page_with_a_chart_in_chromium() {
    if !Browser::available() {
        return;
    }
    let app = spawn_app_with(Spawn::default()).await;
    agent::add(
        &app.store,
        &SystemClock,
        "root",
        "root@example.com",
        true,
        Some("correct horse battery"),
    )
    .await
    .expect("admin added");
    let hub = Hub::new(
        app.store.clone(),
        Arc::new(SystemClock),
        HubConfig::default(),
    );
    hub.ingest(customer("Where is my parcel?", "m-1"))
        .await
        .expect("stored");

    let browser = Browser::start().await;
    let c = &browser.client;
    browser
        .console_sign_in(&app.url(""), "root@example.com", "correct horse battery")
        .await;
    c.goto(&app.url("/console/reports?time_zone=UTC"))
        .await
        .expect("open the reports page");
    browser.wait_css("svg.chart rect.opened", WAIT).await;
    browser
        .wait_js(
            "[...document.querySelectorAll('svg.chart rect.opened')].some(r => r.getBBox().height > 50)",
            WAIT,
        )
        .await;
    browser
        .wait_js(
            "document.querySelector('table.report tbody tr td:nth-child(3)').textContent === '1'",
            WAIT,
        )
        .await;
    let by = browser.wait_css("select[name=by]", WAIT).await;
    by.select_by_value("channel").await.expect("choose channel");
    browser
        .wait_css("form.filters button[type=submit]", WAIT)
        .await
        .click()
        .await
        .expect("show");
    browser
        .wait_js(
            "[...document.querySelectorAll('table.report tbody td')].some(td => td.textContent === 'telegram')",
            WAIT,
        )
        .await;
    browser.close().await;
    app.stop().await.expect("clean stop");
}
