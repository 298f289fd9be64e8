//! The console as an inbox, in a real headless Chromium: a visitor's widget message appears in
//! the open list without a reload and is marked unread; the agent drives the ticket from the
//! keyboard (`j`, `Enter`, `a`, `r` with a canned reply, `c`); the pages fit a 390 px phone
//! without sideways scrolling; an admin creates an agent whose first sign-in must set a new
//! password; axe-core (vendored) finds no serious accessibility problem on the way.

use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::Locator;
use relaydesk::config::Config;
use relaydesk_tests::browser::Browser;
use relaydesk_tests::widget_visitor::{console_with_admin, visitor_says};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_works_the_inbox_live_from_the_keyboard_and_on_a_phone_and_an_admin_adds_an_agent()
{
    if !Browser::available() {
        return;
    }
    let mut config = Config::default();
    config.console.refresh_seconds = 30;
    let app = console_with_admin(config).await;
    {
        let mut tx = app.store.begin().await.expect("begin");
        tx.put_canned_reply(
            "thanks",
            None,
            "Thanks {customer.first_name}, we are on it.",
            0,
        )
        .await
        .expect("canned reply");
        tx.commit().await.expect("commit");
    }

    let browser = Browser::start().await;
    let c = &browser.client;
    browser
        .console_sign_in(&app.url(""), "anna@example.com", "correct horse battery")
        .await;
    browser.wait_css("nav.views", WAIT).await;
    c.goto(&app.url("/console/tickets?view=all"))
        .await
        .expect("open the list of all open tickets");
    browser.wait_css("nav.views", WAIT).await;
    c.execute("window.__stillHere = true;", vec![])
        .await
        .expect("mark the page");

    // A visitor writes: the open list shows the ticket, unread, without a reload.
    let said = Instant::now();
    let number = visitor_says(&app, "My order never arrived").await;
    browser
        .wait_js(
            &format!(
                "window.__stillHere && !!document.querySelector(\"tr.unread[data-ticket='{number}']\") \
                 && document.title.indexOf('(1)') === 0"
            ),
            WAIT,
        )
        .await;
    eprintln!(
        "the widget message showed in the open list {} ms after it was sent",
        said.elapsed().as_millis()
    );
    browser.screenshot("list-desktop").await;

    // j picks it, Enter opens it.
    let body = c.find(Locator::Css("body")).await.expect("body");
    body.send_keys("j").await.expect("press j");
    browser.wait_css("tr.picked", WAIT).await;
    c.active_element()
        .await
        .expect("focus")
        .send_keys(&Key::Enter.to_string())
        .await
        .expect("press Enter");
    browser.wait_css("#conversation .message", WAIT).await;
    browser
        .wait_js(
            "document.getElementById('conversation').textContent.includes('My order never arrived')",
            WAIT,
        )
        .await;

    // a: assign to me.
    let body = c.find(Locator::Css("body")).await.expect("body");
    body.send_keys("a").await.expect("press a");
    browser
        .wait_js(
            "!!document.querySelector('aside') && document.querySelector('aside').textContent.includes('anna')",
            WAIT,
        )
        .await;

    // r, then the canned reply from the picker, then send.
    let body = c.find(Locator::Css("body")).await.expect("body");
    body.send_keys("r").await.expect("press r");
    browser
        .wait_js(
            "document.activeElement && document.activeElement.id === 'reply-text'",
            WAIT,
        )
        .await;
    c.find(Locator::Css("select[data-insert] option[value^='Thanks']"))
        .await
        .expect("the canned reply in the picker")
        .click()
        .await
        .expect("pick it");
    browser
        .wait_js(
            "document.getElementById('reply-text').value === 'Thanks Vera, we are on it.'",
            WAIT,
        )
        .await;
    c.find(Locator::Css("form[data-action=reply] button[type=submit]"))
        .await
        .expect("send button")
        .click()
        .await
        .expect("send");
    browser
        .wait_js(
            "document.getElementById('conversation').textContent.includes('Thanks Vera, we are on it.')",
            WAIT,
        )
        .await;

    browser.screenshot("ticket-desktop").await;
    let problems = browser.serious_violations().await;
    assert!(problems.is_empty(), "ticket page: {problems:#?}");

    // c: close.
    let body = c.find(Locator::Css("body")).await.expect("body");
    body.send_keys("c").await.expect("press c");
    browser
        .wait_js(
            "!!document.querySelector('.badge.status') && document.querySelector('.badge.status').textContent === 'closed'",
            WAIT,
        )
        .await;

    // On a phone: nothing scrolls sideways.
    c.set_window_size(390, 844).await.expect("phone width");
    c.refresh().await.expect("reload the ticket");
    browser.wait_css("#conversation", WAIT).await;
    let (scroll, width) = browser.widths().await;
    assert!(scroll <= width, "ticket page at 390 px: {scroll} > {width}");
    browser.screenshot("ticket-phone").await;
    c.goto(&app.url("/console/tickets?view=closed"))
        .await
        .expect("list");
    browser.wait_css("tr[data-ticket]", WAIT).await;
    let (scroll, width) = browser.widths().await;
    assert!(scroll <= width, "list at 390 px: {scroll} > {width}");
    browser.screenshot("list-phone").await;

    c.set_window_size(1280, 900).await.expect("desktop width");
    c.refresh().await.expect("reload the list");
    browser.wait_css("tr[data-ticket]", WAIT).await;
    let problems = browser.serious_violations().await;
    assert!(problems.is_empty(), "list page: {problems:#?}");

    // The admin creates an agent; the one-time password is shown once, and the new agent's
    // first sign-in must choose a password of their own.
    c.goto(&app.url("/console/agents"))
        .await
        .expect("agents page");
    let form = browser.wait_css("form[data-action=create]", WAIT).await;
    for (field, value) in [
        ("input[name=name]", "ben"),
        ("input[name=email]", "ben@example.com"),
    ] {
        form.find(Locator::Css(field))
            .await
            .expect("a field of the new agent form")
            .send_keys(value)
            .await
            .expect("type");
    }
    form.find(Locator::Css("button[type=submit]"))
        .await
        .expect("create button")
        .click()
        .await
        .expect("create");
    let password = browser
        .wait_css("#one-time-password", WAIT)
        .await
        .text()
        .await
        .expect("the one-time password");
    assert!(password.len() >= 12, "{password}");
    browser.screenshot("agents-desktop").await;
    let problems = browser.serious_violations().await;
    assert!(problems.is_empty(), "agents page: {problems:#?}");

    // The admin makes an API token for ben; it is shown once, and the page passes axe.
    c.goto(&app.url("/console/tokens"))
        .await
        .expect("tokens page");
    let form = browser.wait_css("form[data-action=create]", WAIT).await;
    form.find(Locator::Css("input[name=name]"))
        .await
        .expect("the name field")
        .send_keys("crm-sync")
        .await
        .expect("type");
    form.find(Locator::Css("select[name=agent] option[value=ben]"))
        .await
        .expect("ben in the agent picker")
        .click()
        .await
        .expect("pick ben");
    form.find(Locator::Css("button[type=submit]"))
        .await
        .expect("make button")
        .click()
        .await
        .expect("make the token");
    let token = browser
        .wait_css("#new-token", WAIT)
        .await
        .prop("value")
        .await
        .expect("the token")
        .unwrap_or_default();
    assert!(token.starts_with("rdk_"), "{token}");
    browser.wait_css("tr[data-token=crm-sync]", WAIT).await;
    browser.screenshot("tokens-desktop").await;
    let problems = browser.serious_violations().await;
    assert!(problems.is_empty(), "tokens page: {problems:#?}");
    c.find(Locator::Css(
        "header form[action='/console/sign-out'] button",
    ))
    .await
    .expect("sign-out button")
    .click()
    .await
    .expect("sign out");
    browser
        .console_sign_in(&app.url(""), "ben@example.com", &password)
        .await;
    browser
        .wait_js(
            "location.pathname === '/console/password' && document.body.textContent.includes('choose your own')",
            WAIT,
        )
        .await;
    for (field, value) in [
        ("input[name=current]", password.as_str()),
        ("input[name=new]", "bens own long password"),
        ("input[name=repeat]", "bens own long password"),
    ] {
        c.find(Locator::Css(field))
            .await
            .expect("a password field")
            .send_keys(value)
            .await
            .expect("type");
    }
    c.find(Locator::Css(
        "form[action='/console/password'] button[type=submit]",
    ))
    .await
    .expect("change button")
    .click()
    .await
    .expect("change the password");
    browser
        .wait_js(
            "!document.body.textContent.includes('choose your own')",
            WAIT,
        )
        .await;
    c.goto(&app.url("/console/tickets?view=closed"))
        .await
        .expect("the console");
    browser.wait_css("nav.views", WAIT).await;

    browser.close().await;
    app.stop().await.expect("clean stop");
}
