//! The widget in a real headless Chromium: the demo page, a visitor's message, an agent's
//! reply arriving live, history after a reload, and markup typed by the visitor shown as text.

use std::sync::Arc;
use std::time::Duration;

use relaydesk::config::Config;
use relaydesk::desk::HubDesk;
use relaydesk::hub::{Hub, HubConfig};
use relaydesk::widget_channel::WidgetChannel;
use relaydesk_storage::{Platform, Role, SystemClock};
use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::browser::Browser;
use relaydesk_tests::db::TestDb;
use relaydesk_web::Desk;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// JavaScript reaching into the widget's shadow root.
const ROOT: &str = "document.getElementById('relaydesk-widget').shadowRoot";

fn texts_of(selector: &str) -> String {
    format!("Array.from({ROOT}.querySelectorAll('{selector}')).map(e => e.textContent)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_chats_from_the_demo_page() {
    let config = Config::default();
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        channels: vec![Arc::new(WidgetChannel::new(config.email.clone()))],
        config,
        ..Spawn::default()
    })
    .await;
    let mut tx = app.store.begin().await.expect("begin");
    let agent = tx
        .create_agent(
            "anna",
            None,
            Role::Agent,
            chrono::Utc::now().timestamp_millis(),
        )
        .await
        .expect("agent");
    tx.commit().await.expect("commit");
    let desk = HubDesk::new(Hub::new(
        app.store.clone(),
        Arc::new(SystemClock),
        HubConfig {
            customer_platforms: vec![Platform::Web],
            ..HubConfig::default()
        },
    ));

    let browser = Browser::start().await;
    browser.client.goto(&app.url("/")).await.expect("demo page");
    browser
        .wait_js(
            &format!(
                "document.getElementById('relaydesk-widget') && {ROOT}.querySelector('.launcher')"
            ),
            WAIT,
        )
        .await;

    // Open the widget, give a name, send a message with markup in it.
    let typed = "<script>window.__pwned = 1</script><b>bold?</b> my order is late";
    browser
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
            vec![json!(typed)],
        )
        .await
        .expect("type and send");
    // Acknowledged by the server: the ticket number line appears.
    browser
        .wait_js(
            &format!("{}.some(t => t.includes('#'))", texts_of(".msg.system")),
            WAIT,
        )
        .await;
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .tickets_with_status(relaydesk_storage::TicketStatus::Open, 10)
        .await
        .expect("tickets")
        .into_iter()
        .next()
        .expect("the visitor's ticket");
    tx.rollback().await.expect("rollback");
    assert_eq!(ticket.origin, Platform::Web);

    // The agent answers; the reply shows up in the open widget.
    desk.agent_command(agent.id, ticket.number, "We are on it <i>now</i>.")
        .await
        .expect("reply");
    browser
        .wait_js(
            &format!(
                "{}.some(t => t.includes('We are on it <i>now</i>.'))",
                texts_of(".msg.agent .body")
            ),
            WAIT,
        )
        .await;

    // The visitor's markup is text: no element was created from it and no script ran.
    let check = browser
        .client
        .execute(
            &format!(
                "const r = {ROOT};
                 return [r.querySelectorAll('.msg b, .msg script, .msg i').length,
                         window.__pwned === undefined,
                         Array.from(r.querySelectorAll('.msg.visitor .body')).map(e => e.textContent)];"
            ),
            vec![],
        )
        .await
        .expect("inspect");
    assert_eq!(check[0], json!(0), "no elements from typed markup");
    assert_eq!(check[1], json!(true), "no script ran");
    assert_eq!(check[2], json!([typed]));

    // A reload resumes the conversation with its history.
    browser.client.refresh().await.expect("reload");
    browser
        .wait_js(
            &format!(
                "document.getElementById('relaydesk-widget') && {}.some(t => t.includes('We are on it'))",
                texts_of(".msg.agent .body")
            ),
            WAIT,
        )
        .await;
    let history = browser
        .client
        .execute(&format!("return {};", texts_of(".msg .body")), vec![])
        .await
        .expect("history");
    assert_eq!(history, json!([typed, "We are on it <i>now</i>."]));
    browser.close().await;
    app.stop().await.expect("clean stop");
}
