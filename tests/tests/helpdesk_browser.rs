//! The newcomer's helpdesk with no chat channel configured, in two real Chromium windows: a
//! visitor writes from the demo page's widget, an agent signs in to the console, answers, and
//! the answer appears in the visitor's open widget.

use std::sync::Arc;
use std::time::Duration;

use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::widget_channel::WidgetChannel;
use relaydesk_storage::SystemClock;
use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::browser::{Browser, WIDGET_ROOT};
use relaydesk_tests::db::TestDb;

const WAIT: Duration = Duration::from_secs(20);

const ROOT: &str = WIDGET_ROOT;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_in_the_widget_is_answered_from_the_console_in_chromium() {
    if !Browser::available() {
        return;
    }
    let config = Config::default();
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        channels: vec![Arc::new(WidgetChannel::new(config.email.clone()))],
        config,
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

    // The visitor opens the widget on the demo page and writes.
    let visitor = Browser::start().await;
    visitor.client.goto(&app.url("/")).await.expect("demo page");
    visitor.wait_for_widget(WAIT).await;
    visitor
        .widget_say("Vera", "My order #77 has not arrived")
        .await;
    visitor
        .wait_js(
            &format!(
                "Array.from({ROOT}.querySelectorAll('.msg.system')).some(e => e.textContent.includes('#'))"
            ),
            WAIT,
        )
        .await;

    // The agent signs in to the console and finds the ticket among the unassigned ones.
    let desk = Browser::start().await;
    desk.console_sign_in(&app.url(""), "anna@example.com", "correct horse battery")
        .await;
    let link = desk.wait_css("tr[data-ticket] a", WAIT).await;
    link.click().await.expect("open the ticket");
    desk.wait_js(
        "document.getElementById('conversation').textContent.includes('My order #77 has not arrived')",
        WAIT,
    )
    .await;
    desk.console_reply("Sorry Vera, it ships today.").await;

    // The visitor's open widget shows the answer.
    visitor
        .wait_js(
            &format!(
                "Array.from({ROOT}.querySelectorAll('.msg.agent .body')).some(e => e.textContent.includes('Sorry Vera, it ships today.'))"
            ),
            WAIT,
        )
        .await;
    desk.close().await;
    visitor.close().await;
    app.stop().await.expect("clean stop");
}
