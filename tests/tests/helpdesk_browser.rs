//! The newcomer's helpdesk with no chat channel configured, in two real Chromium windows: a
//! visitor writes from the demo page's widget, an agent signs in to the console, answers, and
//! the answer appears in the visitor's open widget.

use std::sync::Arc;
use std::time::Duration;

use fantoccini::Locator;
use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::widget_channel::WidgetChannel;
use relaydesk_storage::SystemClock;
use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::browser::Browser;
use relaydesk_tests::db::TestDb;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// JavaScript reaching into the widget's shadow root.
const ROOT: &str = "document.getElementById('relaydesk-widget').shadowRoot";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_in_the_widget_is_answered_from_the_console_in_chromium() {
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
    visitor
        .wait_js(
            &format!(
                "document.getElementById('relaydesk-widget') && {ROOT}.querySelector('.launcher')"
            ),
            WAIT,
        )
        .await;
    visitor
        .client
        .execute(
            &format!(
                "const r = {ROOT};
                 r.querySelector('.launcher').click();
                 r.querySelector('input.name').value = 'Vera';
                 r.querySelector('form.intro').requestSubmit();
                 r.querySelector('textarea.text').value = arguments[0];
                 r.querySelector('form.compose').requestSubmit();"
            ),
            vec![json!("My order #77 has not arrived")],
        )
        .await
        .expect("type and send");
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
    let c = &desk.client;
    c.goto(&app.url("/console")).await.expect("console");
    desk.wait_css("form.sign-in", WAIT).await;
    for (field, value) in [
        ("input[name=email]", "anna@example.com"),
        ("input[name=password]", "correct horse battery"),
    ] {
        c.find(Locator::Css(field))
            .await
            .expect("sign-in field")
            .send_keys(value)
            .await
            .expect("type");
    }
    c.find(Locator::Css("form.sign-in button[type=submit]"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("sign in");
    let link = desk.wait_css("tr[data-ticket] a", WAIT).await;
    link.click().await.expect("open the ticket");
    desk.wait_js(
        "document.getElementById('conversation').textContent.includes('My order #77 has not arrived')",
        WAIT,
    )
    .await;
    c.find(Locator::Css("form[data-action=reply] textarea"))
        .await
        .expect("reply box")
        .send_keys("Sorry Vera, it ships today.")
        .await
        .expect("type the reply");
    c.find(Locator::Css("form[data-action=reply] button[type=submit]"))
        .await
        .expect("send button")
        .click()
        .await
        .expect("send");

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
