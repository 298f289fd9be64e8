//! Every page of the console in a real headless Chromium, signed in as an admin, at desktop
//! (1280 px) and phone (390 px) width: nothing scrolls sideways on a phone, and axe-core
//! (vendored) finds no serious or critical accessibility problem at either width. With
//! `RELAYDESK_SCREENSHOTS=<dir>` each page is saved as `<dir>/<page>-desktop.png` and
//! `<dir>/<page>-phone.png` (the pictures of docs/console.md).

use std::time::Duration;

use chrono::Utc;
use relaydesk::config::Config;
use relaydesk_storage::{FaqEntry, SystemClock};
use relaydesk_tests::browser::Browser;
use relaydesk_tests::widget_visitor::{console_with_admin, visitor_says};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_console_page_fits_a_phone_and_passes_axe_at_both_widths() {
    if !Browser::available() {
        return;
    }
    let app = console_with_admin(Config::default()).await;
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
            let (document, window) = browser.widths().await;
            if label == "phone" && document > window {
                problems.push(format!(
                    "{name} at {width} px: {document} px wide, scrolls sideways"
                ));
            }
            for found in browser.serious_violations().await {
                problems.push(format!("{name} at {width} px: {found}"));
            }
            browser.screenshot(&format!("{name}-{label}")).await;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    browser.close().await;
    app.stop().await.expect("clean stop");
}
