//! `GET /metrics` through the whole process: valid Prometheus text (read back with a parser),
//! with the counters of what happened, the figures read from the store, and the token check.

use std::time::Duration;

use relaydesk::config::Config;
use relaydesk_storage::Role;
use relaydesk_tests::app::{spawn_app_with, Spawn};
use serde_json::json;

const TOKEN: &str = "scrape-me-0123456789";

fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(k).is_some_and(|l| l == *v))
        })
        .and_then(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_are_valid_prometheus_text_with_what_happened() {
    let mut config = Config::default();
    config.metrics.token = Some(TOKEN.into());
    let app = spawn_app_with(Spawn {
        config,
        ..Spawn::default()
    })
    .await;
    let mut tx = app.store.begin().await.expect("tx");
    tx.create_agent("integration", None, Role::Admin, 0)
        .await
        .expect("agent");
    tx.commit().await.expect("commit");
    let token = relaydesk::cli::token::run(
        &app.store,
        &relaydesk_storage::SystemClock,
        relaydesk::cli::token::TokenCommand::Create {
            name: "metrics-test".into(),
            agent: "integration".into(),
        },
    )
    .await
    .expect("token")
    .out;
    let http = reqwest::Client::new();
    let created = http
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&token)
        .json(&json!({"customer": {"id": "m-1", "name": "Mia"}, "text": "Where is my order?"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);

    let refused = http.get(app.url("/metrics")).send().await.expect("scrape");
    assert_eq!(refused.status(), 401, "a token is configured");
    let wrong = http
        .get(app.url("/metrics"))
        .bearer_auth("scrape-me-0123456788")
        .send()
        .await
        .expect("scrape");
    assert_eq!(wrong.status(), 401);

    let scrape = http
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("scrape");
    assert_eq!(scrape.status(), 200);
    assert!(scrape
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
    let text = scrape.text().await.expect("body");
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("valid Prometheus text");

    assert_eq!(
        value(
            &parsed,
            "relaydesk_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        value(
            &parsed,
            "relaydesk_messages_ingested_total",
            &[("platform", "api"), ("from", "customer")]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        value(
            &parsed,
            "relaydesk_http_requests_total",
            &[
                ("route", "/api/v1/tickets"),
                ("method", "POST"),
                ("status", "201")
            ]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        value(
            &parsed,
            "relaydesk_http_requests_total",
            &[("route", "/metrics"), ("status", "401")]
        )
        .is_some_and(|n| n >= 2.0),
        "{text}"
    );
    assert!(
        parsed
            .samples
            .iter()
            .any(|s| s.metric == "relaydesk_http_request_duration_seconds"
                && matches!(s.value, prometheus_parse::Value::Histogram(_))),
        "{text}"
    );
    assert_eq!(
        value(&parsed, "relaydesk_open_tickets", &[("priority", "normal")]),
        Some(1.0),
        "{text}"
    );
    assert!(value(
        &parsed,
        "relaydesk_outbox_pending",
        &[("platform", "telegram")]
    )
    .is_some());
    assert_eq!(
        value(&parsed, "relaydesk_webhook_deliveries_failed", &[]),
        Some(0.0)
    );
    // Route patterns, never raw paths: one series per route, not per ticket.
    assert!(!text.contains("route=\"/api/v1/tickets/1001"), "{text}");
}
