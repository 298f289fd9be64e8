//! The widget in a real headless Chromium: the demo page, a visitor's message, an agent's
//! reply arriving live, history after a reload, and markup typed by the visitor shown as text.

use std::sync::Arc;
use std::time::Duration;

use relaydesk::config::Config;
use relaydesk::widget_channel::WidgetChannel;
use relaydesk_storage::{Platform, SystemClock};
use relaydesk_tests::api_agent::ApiAgent;
use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::browser::{Browser, WIDGET_ROOT};
use relaydesk_tests::db::TestDb;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

const ROOT: &str = WIDGET_ROOT;

fn texts_of(selector: &str) -> String {
    format!("Array.from({ROOT}.querySelectorAll('{selector}')).map(e => e.textContent)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_chats_from_the_demo_page() {
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
    let agent = ApiAgent::new(&app, "anna").await;

    let browser = Browser::start().await;
    browser.client.goto(&app.url("/")).await.expect("demo page");
    browser.wait_for_widget(WAIT).await;

    // Open the widget, give a name, send a message with markup in it.
    let typed = "<script>window.__pwned = 1</script><b>bold?</b> my order is late";
    browser.widget_say("Vera", typed).await;
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
    agent
        .command(ticket.number, "/reply We are on it <i>now</i>.")
        .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sites_sign_out_and_another_identity_start_a_new_conversation() {
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
    let browser = Browser::start().await;
    let stored = "return Object.keys(localStorage).filter(k => k.startsWith('relaydesk:')).sort();";
    let history_shown = format!(
        "{}.some(t => t.includes('card declined'))",
        texts_of(".msg.visitor .body")
    );
    let chat = |who: &'static str| {
        let browser = &browser;
        let app = &app;
        async move {
            browser.client.goto(&app.url("/")).await.expect("demo page");
            browser.wait_for_widget(WAIT).await;
            browser.widget_say(who, "my card declined").await;
            browser
                .wait_js(
                    &format!("{}.some(t => t.includes('#'))", texts_of(".msg.system")),
                    WAIT,
                )
                .await;
        }
    };

    // Vera chats; the site signs her out with Relaydesk.logout().
    chat("Vera").await;
    browser
        .client
        .execute("window.Relaydesk.logout();", vec![])
        .await
        .expect("logout");
    let after = browser
        .client
        .execute(
            &format!(
                "const r = {ROOT}; return [r.querySelectorAll('.msg').length,
                 r.querySelector('.frame').classList.contains('open'),
                 r.querySelector('.form.intro').style.display];"
            ),
            vec![],
        )
        .await
        .expect("inspect");
    assert_eq!(
        after,
        json!([0, false, "flex"]),
        "the panel is emptied, closed and asks for a name again"
    );
    let keys = browser
        .client
        .execute(stored, vec![])
        .await
        .expect("storage");
    assert_eq!(keys, json!([]), "nothing of Vera's session is kept");
    // The next person at this browser starts from the name form, without Vera's history.
    browser.client.refresh().await.expect("reload");
    browser.wait_for_widget(WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = browser
        .client
        .execute(&format!("return {history_shown};"), vec![])
        .await
        .expect("inspect");
    assert_eq!(
        seen,
        json!(false),
        "Vera's conversation is gone from this browser"
    );

    // A conversation begun for one identity is dropped when the page names another.
    chat("Walt").await;
    browser
        .client
        .execute(
            "localStorage.setItem(Object.keys(localStorage).find(k => k.endsWith(':user')), 'id:someone-else');",
            vec![],
        )
        .await
        .expect("storage");
    browser.client.refresh().await.expect("reload");
    browser.wait_for_widget(WAIT).await;
    let keys = browser
        .client
        .execute(stored, vec![])
        .await
        .expect("storage");
    assert_eq!(
        keys,
        json!([]),
        "the other identity's session was forgotten"
    );
    browser.close().await;
    app.stop().await.expect("clean stop");
}

/// Runs the whole process on `listener` until the returned token is cancelled.
async fn run_on(
    db: &TestDb,
    listener: tokio::net::TcpListener,
) -> (
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<Result<(), relaydesk::serve::ServeError>>,
) {
    let config = Config {
        database_url: db.url.clone(),
        listen: listener.local_addr().expect("address"),
        ..Config::default()
    };
    let store = db.store().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(relaydesk::serve::run_with(
        config.clone(),
        store,
        listener,
        Arc::new(SystemClock),
        vec![Arc::new(WidgetChannel::new(config.email.clone()))],
        shutdown.clone(),
    ));
    (shutdown, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_written_while_the_server_is_away_arrives_once_it_is_back() {
    if !Browser::available() {
        return;
    }
    let db = TestDb::sqlite();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("address");
    let (stop, task) = run_on(&db, listener).await;

    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("http://{addr}/"))
        .await
        .expect("demo page");
    browser.wait_for_widget(WAIT).await;
    let submit = |text: &str| {
        format!(
            "{ROOT}.querySelector('textarea.text').value = {};
             {ROOT}.querySelector('form.compose').requestSubmit();",
            serde_json::to_string(text).expect("json")
        )
    };
    browser
        .client
        .execute(
            &format!(
                "const r = {ROOT};
                 r.querySelector('.launcher').click();
                 r.querySelector('input.name').value = 'Otto';
                 r.querySelector('form.intro').requestSubmit();
                 {}",
                submit("first, while online")
            ),
            vec![],
        )
        .await
        .expect("send");
    browser
        .wait_js(
            &format!("{}.some(t => t.includes('#'))", texts_of(".msg.system")),
            WAIT,
        )
        .await;

    // The server goes away; the visitor writes anyway.
    stop.cancel();
    task.await.expect("join").expect("clean stop");
    browser
        .wait_js(
            &format!("getComputedStyle({ROOT}.querySelector('.banner')).display === 'block'"),
            WAIT,
        )
        .await;
    browser
        .client
        .execute(&submit("second, while offline"), vec![])
        .await
        .expect("send offline");

    // Back on the same address: the widget reconnects and sends what was waiting, once.
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("the same port again");
    let (stop, task) = run_on(&db, listener).await;
    browser
        .wait_js(
            &format!(
                "getComputedStyle({ROOT}.querySelector('.banner')).display === 'none' &&
                 Array.from({ROOT}.querySelectorAll('.msg.visitor .state')).every(s => s.textContent === '')"
            ),
            WAIT,
        )
        .await;
    let store = db.store().await;
    let mut tx = store.begin().await.expect("begin");
    let ticket = tx
        .tickets_with_status(relaydesk_storage::TicketStatus::Open, 10)
        .await
        .expect("tickets")
        .into_iter()
        .next()
        .expect("the ticket");
    let bodies: Vec<String> = tx
        .messages(ticket.id)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| m.body)
        .collect();
    tx.rollback().await.expect("rollback");
    assert_eq!(bodies, vec!["first, while online", "second, while offline"]);
    browser.close().await;
    stop.cancel();
    task.await.expect("join").expect("clean stop");
}

/// Clicks the first element of the widget matching `selector` (in its shadow root).
async fn click(browser: &Browser, selector: &str) {
    browser
        .client
        .execute(
            &format!("{ROOT}.querySelector(\"{selector}\").click(); return true;"),
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faq_buttons_stars_and_a_comment_in_the_widget() {
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
    let agent = ApiAgent::new(&app, "anna").await;
    relaydesk::cli::faq::run(
        &app.store,
        &SystemClock,
        relaydesk::cli::faq::FaqCommand::Add {
            name: "refund".into(),
            question: "How do refunds work?".into(),
            keywords: "refund".into(),
            answer: "Refunds reach you within 5 days.".into(),
            language: None,
        },
    )
    .await
    .expect("FAQ entry");

    let browser = Browser::start().await;
    browser.client.goto(&app.url("/")).await.expect("demo page");
    browser.wait_for_widget(WAIT).await;
    browser.widget_say("Vera", "I want a refund").await;

    // The FAQ answer with its two buttons; "I still need help" brings it to the team.
    browser
        .wait_js(
            &format!(
                "{}.some(t => t.includes('Refunds reach you within 5 days.'))",
                texts_of(".prompt .body")
            ),
            WAIT,
        )
        .await;
    let labels = browser
        .client
        .execute(
            &format!("return {};", texts_of(".choices.faq button")),
            vec![],
        )
        .await
        .expect("labels");
    assert_eq!(labels, json!(["That solved it", "I still need help"]));
    click(&browser, ".choices.faq button[value=help]").await;
    browser
        .wait_js(
            &format!(
                "{}.some(t => t.includes('#')) && {ROOT}.querySelectorAll('.choices.faq button:disabled').length === 2",
                texts_of(".prompt .said")
            ),
            WAIT,
        )
        .await;

    // The agent closes it: five stars; the fourth rates 4 and opens a comment box.
    let mut tx = app.store.begin().await.expect("begin");
    let ticket = tx
        .tickets_with_status(relaydesk_storage::TicketStatus::Open, 10)
        .await
        .expect("tickets")
        .into_iter()
        .next()
        .expect("the visitor's ticket");
    tx.rollback().await.expect("rollback");
    agent.command(ticket.number, "/close").await;
    browser
        .wait_js(
            &format!("{ROOT}.querySelectorAll('.choices.survey button').length === 5"),
            WAIT,
        )
        .await;
    click(&browser, ".choices.survey button[value='4']").await;
    browser
        .wait_js(
            &format!(
                "{ROOT}.querySelectorAll('.choices.survey button.on').length === 4 && {ROOT}.querySelector('.prompt textarea') !== null"
            ),
            WAIT,
        )
        .await;
    browser
        .client
        .execute(
            &format!(
                "const r = {ROOT}; r.querySelector('.prompt textarea').value = 'Quick and kind';
                 r.querySelector('.prompt form button').click(); return true;"
            ),
            vec![],
        )
        .await
        .expect("comment");
    browser
        .wait_js(
            &format!(
                "{}.includes('Thank you for your comment!') && {ROOT}.querySelector('.prompt textarea') === null",
                texts_of(".prompt .said")
            ),
            WAIT,
        )
        .await;
    let mut tx = app.store.begin().await.expect("begin");
    let survey = tx
        .ticket_csat(ticket.id)
        .await
        .expect("csat")
        .expect("rated");
    tx.rollback().await.expect("rollback");
    assert_eq!(survey.rating, Some(4));
    assert_eq!(survey.comment.as_deref(), Some("Quick and kind"));

    // After a reload the stars show the rating and no comment box.
    browser.client.refresh().await.expect("reload");
    browser
        .wait_js(
            &format!(
                "document.getElementById('relaydesk-widget') && {ROOT}.querySelectorAll('.choices.survey button.on').length === 4 && {ROOT}.querySelector('.prompt textarea') === null"
            ),
            WAIT,
        )
        .await;
    browser.close().await;
    app.stop().await.expect("clean stop");
}
