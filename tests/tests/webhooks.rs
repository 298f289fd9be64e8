//! Outbound webhooks through the whole process: a receiver gets each event once, in order per
//! ticket, signed; gets what happened while it was down once it is back; internal notes only
//! where asked for; and a delivery that keeps failing is marked failed after its `retry_for`.

use std::time::Duration;

use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::webhooks::{verify, WebhookSettings};
use relaydesk_storage::{OutboxStatus, Role, Store, SystemClock};
use relaydesk_tests::api_agent::ApiAgent;
use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::console_client::ConsoleClient;
use relaydesk_tests::db::TestDb;
use relaydesk_tests::webhook_receiver::{Received, WebhookReceiver};
use serde_json::{json, Value};

const SECRET: &str = "whsec_0123456789abcdef";
const NOTES_SECRET: &str = "another-secret-for-notes";
const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(30);

fn endpoint(name: &str, url: String, secret: &str) -> WebhookSettings {
    WebhookSettings {
        name: Some(name.into()),
        url,
        secret: Some(secret.into()),
        secret_env: None,
        events: None,
        include_notes: false,
        retry_for: Duration::from_secs(24 * 3600),
        timeout: Duration::from_secs(5),
    }
}

/// Every request's signature checks out under `secret`, and the body names the same event
/// and delivery as the headers.
fn assert_signed(received: &[Received], secret: &str) {
    let now = chrono::Utc::now().timestamp();
    for r in received {
        assert!(
            verify(secret, &r.signature, &r.body, now, 300),
            "signature of {} {}",
            r.event,
            r.delivery
        );
        assert!(!verify(
            "not-the-secret-at-all",
            &r.signature,
            &r.body,
            now,
            300
        ));
        let body = r.json();
        assert_eq!(body["event"], r.event.as_str());
        assert_eq!(body["id"], r.delivery.as_str());
    }
}

fn events(received: &[Received]) -> Vec<String> {
    received.iter().map(|r| r.event.clone()).collect()
}

async fn customer_writes(app_url: &str, token: &str, text: &str) -> i64 {
    let response = reqwest::Client::new()
        .post(format!("{app_url}/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({
            "customer": {"id": "cust-1", "name": "Ada Lovelace"},
            "text": text,
        }))
        .send()
        .await
        .expect("create");
    assert!(response.status().is_success(), "{}", response.status());
    let body: Value = response.json().await.expect("json");
    body["ticket"]["number"].as_i64().expect("number")
}

async fn token_of(store: &Store, name: &str) -> String {
    let mut tx = store.begin().await.expect("begin");
    tx.create_agent(name, None, Role::Admin, 0)
        .await
        .expect("agent");
    tx.commit().await.expect("commit");
    relaydesk::cli::token::run(
        store,
        &SystemClock,
        relaydesk::cli::token::TokenCommand::Create {
            name: format!("{name}-token"),
            agent: name.into(),
        },
    )
    .await
    .expect("token")
    .out
}

async fn story(db: TestDb) {
    let mut crm = WebhookReceiver::start().await;
    let notes = WebhookReceiver::start().await;
    let mut notes_only = endpoint("notes", notes.url("/notes"), NOTES_SECRET);
    notes_only.events = Some(vec!["message.created".into()]);
    notes_only.include_notes = true;
    let config = Config {
        webhooks: vec![endpoint("crm", crm.url("/hook"), SECRET), notes_only],
        ..Config::default()
    };
    let app = spawn_app_with(Spawn {
        db,
        config,
        ..Spawn::default()
    })
    .await;
    let integration = token_of(&app.store, "integration").await;
    let agent = ApiAgent::new(&app, "bruno").await;

    // A ticket's life: opened by a customer, answered, noted, closed.
    let number = customer_writes(&app.url(""), &integration, "My printer is on fire").await;
    agent.command(number, "/reply Unplug it, please.").await;
    agent.command(number, "/note Customer sounded calm").await;
    agent.command(number, "/close fixed").await;

    let got = crm.wait_for_ok(4, WAIT).await;
    assert_eq!(
        events(&got),
        [
            "ticket.created",
            "message.created",
            "message.created",
            "ticket.closed"
        ],
        "{got:#?}"
    );
    assert_signed(&got, SECRET);
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    assert_eq!(bodies[0]["ticket"]["number"], number);
    assert_eq!(bodies[0]["ticket"]["customer"]["name"], "Ada Lovelace");
    assert_eq!(bodies[1]["message"]["body"], "My printer is on fire");
    assert_eq!(bodies[1]["message"]["author_kind"], "customer");
    assert_eq!(bodies[2]["message"]["body"], "Unplug it, please.");
    assert_eq!(bodies[2]["message"]["author_kind"], "agent");
    assert_eq!(bodies[3]["ticket"]["status"], "closed");
    assert!(
        !got.iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains("sounded calm")),
        "an internal note reached an endpoint that did not ask for notes"
    );

    // The endpoint that asked for notes and messages only: three messages, the note included.
    let noted = notes.wait_for_ok(3, WAIT).await;
    assert_eq!(events(&noted), ["message.created"; 3]);
    assert_signed(&noted, NOTES_SECRET);
    assert_eq!(noted[2].json()["message"]["internal"], true);
    assert_eq!(noted[2].json()["message"]["body"], "Customer sounded calm");

    // The receiver goes down; the customer writes again (the ticket reopens) and an agent
    // tags it. Nothing is lost: once it is back, it gets those events once each, in order.
    crm.stop().await;
    customer_writes(&app.url(""), &integration, "It is burning again").await;
    agent.command(number, "/tag fire").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let waiting = {
        let mut tx = app.store.begin().await.expect("begin");
        tx.recent_webhook_deliveries(Some("crm"), 10)
            .await
            .expect("deliveries")
    };
    let pending: Vec<_> = waiting
        .iter()
        .filter(|d| d.status == OutboxStatus::Pending)
        .collect();
    assert!(!pending.is_empty(), "{waiting:#?}");
    assert!(
        pending.iter().any(|d| d.attempts >= 2
            && d.last_error
                .as_deref()
                .unwrap_or("")
                .contains("could not post")),
        "the head was tried and failed while the receiver was down: {pending:#?}"
    );
    crm.restart().await;
    let got = crm.wait_for_ok(7, WAIT).await;
    assert_eq!(
        events(&got[4..]),
        ["ticket.updated", "message.created", "ticket.updated"],
        "{got:#?}"
    );
    assert_signed(&got, SECRET);
    assert_eq!(got[4].json()["ticket"]["status"], "open");
    assert_eq!(got[5].json()["message"]["body"], "It is burning again");
    assert_eq!(got[6].json()["ticket"]["tags"], json!(["fire"]));
    // Once each: no delivery id twice, and nothing more arrives.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = crm.received();
    let mut ids: Vec<&str> = all
        .iter()
        .filter(|r| r.answered == 200)
        .map(|r| r.delivery.as_str())
        .collect();
    assert_eq!(ids.len(), 7);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 7, "a delivery arrived twice");
    let mut tx = app.store.begin().await.expect("begin");
    let done = tx
        .recent_webhook_deliveries(None, 100)
        .await
        .expect("deliveries");
    tx.rollback().await.expect("rollback");
    assert!(
        done.iter().all(|d| d.status == OutboxStatus::Delivered),
        "{done:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_event_reaches_the_receiver_once_in_order_signed_even_after_it_was_down() {
    story(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_event_reaches_the_receiver_once_in_order_signed_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        story(db).await;
    }
}

/// A receiver that keeps answering 500: the delivery is retried until its `retry_for` has
/// passed, then marked failed with the answer, and the ticket's next event goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_that_keeps_failing_is_marked_failed_and_the_next_one_goes() {
    let broken = WebhookReceiver::start().await;
    broken.answer(500);
    let mut settings = endpoint("broken", broken.url("/hook"), SECRET);
    settings.events = Some(vec!["ticket.created".into(), "ticket.closed".into()]);
    settings.retry_for = Duration::from_secs(2);
    let config = Config {
        webhooks: vec![settings],
        ..Config::default()
    };
    let app = spawn_app_with(Spawn {
        config,
        ..Spawn::default()
    })
    .await;
    let integration = token_of(&app.store, "integration").await;
    let agent = ApiAgent::new(&app, "bruno").await;
    let number = customer_writes(&app.url(""), &integration, "Hello").await;
    agent.command(number, "/close done").await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let deliveries = loop {
        let mut tx = app.store.begin().await.expect("begin");
        let rows = tx
            .recent_webhook_deliveries(Some("broken"), 10)
            .await
            .expect("deliveries");
        tx.rollback().await.expect("rollback");
        if rows.len() == 2 && rows.iter().all(|d| d.status == OutboxStatus::Failed) {
            break rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not given up: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for d in &deliveries {
        assert_eq!(d.response_status, Some(500));
        assert!(
            d.last_error.as_deref().unwrap_or("").contains("HTTP 500"),
            "{d:?}"
        );
    }
    let create = deliveries
        .iter()
        .find(|d| d.event.as_str() == "ticket.created")
        .expect("the create's delivery");
    assert!(create.attempts >= 2, "retried before giving up: {create:?}");
    // The same delivery id on every attempt, and the close went out after the create failed.
    let received = broken.received();
    let created: Vec<&Received> = received
        .iter()
        .filter(|r| r.event == "ticket.created")
        .collect();
    assert!(created.len() >= 2);
    assert!(created.iter().all(|r| r.delivery == created[0].delivery));
    let first_close = received
        .iter()
        .position(|r| r.event == "ticket.closed")
        .expect("the close was tried");
    let last_create = received
        .iter()
        .rposition(|r| r.event == "ticket.created")
        .expect("the create was tried");
    assert!(last_create < first_close, "in order per ticket");

    // An agent does not see the deliveries; an admin does, and queues the failed create again
    // once the receiver is mended: it is delivered, with the same id.
    for (name, admin) in [("carla", false), ("dora", true)] {
        agent::add(
            &app.store,
            &SystemClock,
            name,
            &format!("{name}@example.com"),
            admin,
            Some(PASSWORD),
        )
        .await
        .expect("agent added");
    }
    let mut console = ConsoleClient::new(&app.url(""));
    console.sign_in("carla@example.com", PASSWORD).await;
    let refused = console.get("/console/webhooks").await;
    assert_eq!(refused.status, reqwest::StatusCode::FORBIDDEN);
    assert!(!refused.body.contains(&created[0].delivery));
    let mut console = ConsoleClient::new(&app.url(""));
    console.sign_in("dora@example.com", PASSWORD).await;
    let page = console.get("/console/webhooks").await;
    assert_eq!(page.status, reqwest::StatusCode::OK);
    assert!(
        page.body.contains(&format!(
            "data-delivery=\"{}\" data-status=\"failed\"",
            create.delivery
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("HTTP 500"));
    assert!(page
        .body
        .contains(&format!("href=\"/console/tickets/{number}\"")));
    broken.answer(200);
    let csrf = page.csrf().expect("a form");
    let id = create.id.to_string();
    let pressed = console
        .post("/console/webhooks", &[("csrf", &csrf), ("id", &id)])
        .await;
    assert_eq!(
        pressed.status,
        reqwest::StatusCode::SEE_OTHER,
        "{}",
        pressed.body
    );
    let again = console
        .post("/console/webhooks", &[("csrf", &csrf), ("id", &id)])
        .await;
    assert_eq!(
        again.status,
        reqwest::StatusCode::CONFLICT,
        "a second press finds nothing failed"
    );
    let failed_create = create;
    let ok = broken.wait_for_ok(1, WAIT).await;
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].delivery, failed_create.delivery);
    let listed = relaydesk::cli::webhooks::run(
        &app.store,
        relaydesk::cli::webhooks::WebhooksCommand::Deliveries {
            endpoint: Some("broken".into()),
            limit: 10,
        },
    )
    .await
    .expect("list");
    assert!(
        listed.contains("delivered") && listed.contains("failed"),
        "{listed}"
    );
    let refused = relaydesk::cli::webhooks::run(
        &app.store,
        relaydesk::cli::webhooks::WebhooksCommand::Retry {
            id: failed_create.id,
        },
    )
    .await
    .expect_err("no such failed delivery");
    assert!(
        refused.to_string().contains("no failed delivery"),
        "{refused}"
    );
}
