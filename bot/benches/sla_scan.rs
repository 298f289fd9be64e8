//! How long an SLA scan takes with 1,000,000 stored tickets, on SQLite and PostgreSQL.
//!
//! The store holds 980,000 closed tickets and 20,000 open ones whose due-soon moments are one
//! second apart. The fake clock then moves so that 0, 100 and 1,000 tickets are due, and each
//! scan (all passes until nothing is due) is timed. The cost should follow the tickets due,
//! not the tickets stored.
//!
//! ```text
//! cargo bench -p relaydesk --bench sla_scan
//! RELAYDESK_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p relaydesk --bench sla_scan
//! ```
//! Without `RELAYDESK_BENCH_POSTGRES_URL` only SQLite runs. The PostgreSQL leg creates and
//! drops a database of its own. `RELAYDESK_BENCH_TICKETS` changes the number of tickets.

#[path = "support/backends.rs"]
mod backends;

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use relaydesk::hub::{Hub, HubConfig};
use relaydesk::sla::{SchedulerOptions, SlaConfig, SlaScheduler};
use relaydesk_storage::FakeClock;
use sqlx::{Connection, Executor};

const OPEN: i64 = 20_000;
/// The goal: a first response within a day; due soon with 20 % left, after 19 h 12 min.
const GOAL_MS: i64 = 24 * 3600 * 1000;
const WARN_MS: i64 = GOAL_MS * 8 / 10;

fn main() {
    backends::each_with_tickets(1_000_000, |backend, url, total| async move {
        run(backend, &url, total).await
    });
}

async fn run(backend: &str, url: &str, total: i64) {
    let store = backends::open(url).await;
    let base = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
    let started = Instant::now();
    fill(url, total, base.timestamp_millis()).await;
    println!(
        "{backend}: {total} tickets stored ({OPEN} open) in {:.1?}",
        started.elapsed()
    );

    let clock = FakeClock::at(base + chrono::Duration::milliseconds(WARN_MS));
    let sla: SlaConfig = serde_json::from_value(serde_json::json!({
        "policy": [{ "name": "bench", "first_response": "24h" }],
        "team": [{ "name": "support", "console_channel": "alerts" }],
    }))
    .expect("valid SLA settings");
    let hub = Hub::new(
        store.clone(),
        Arc::new(clock.clone()),
        HubConfig {
            sla: Arc::new(sla.rules().expect("valid rules")),
            ..HubConfig::default()
        },
    );
    let scheduler = SlaScheduler::new(hub, SchedulerOptions::default());

    let mut idle = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let (tickets, _) = scheduler.scan().await.expect("scan");
        idle.push(t.elapsed());
        assert_eq!(tickets, 0);
    }
    idle.sort();
    println!(
        "{backend}: scan with 0 due: median {:.2?} (min {:.2?}, max {:.2?}, 20 scans)",
        idle[idle.len() / 2],
        idle[0],
        idle[idle.len() - 1]
    );
    for due in [100, 1000] {
        clock.advance(chrono::Duration::seconds(due));
        let t = Instant::now();
        let mut seen = 0;
        let mut posted = 0;
        loop {
            let (tickets, alerts) = scheduler.scan().await.expect("scan");
            seen += tickets;
            posted += alerts;
            if tickets < 200 {
                break;
            }
        }
        let took = t.elapsed();
        assert_eq!(posted as i64, due, "every due ticket warned once");
        println!(
            "{backend}: scan with {seen} due: {took:.2?} ({:.2?} per ticket, warnings queued: {posted})",
            took / u32::try_from(seen.max(1)).unwrap_or(1)
        );
    }
    store.close().await;
}

/// One customer, `total` tickets (the first `OPEN` open, created a second apart from `base`,
/// the rest closed) and their SLA rows, written with set-based SQL.
async fn fill(url: &str, total: i64, base: i64) {
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
    conn.execute(
        format!(
            "INSERT INTO customers (display_name, created_at) VALUES ('Bench Customer', {base})"
        )
        .as_str(),
    )
    .await
    .expect("customer");
    let statements = [
        format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {total}) \
             INSERT INTO tickets (number, subject, customer_id, origin, conversation, status, priority, \
             created_at, updated_at, closed_at) \
             SELECT 1000 + i, 'bench ticket', 1, 'web', 'conversation-' || i, \
             CASE WHEN i <= {OPEN} THEN 'open' ELSE 'closed' END, 'normal', \
             CASE WHEN i <= {OPEN} THEN {base} + CAST(i AS BIGINT) * 1000 ELSE {base} - CAST(i AS BIGINT) * 1000 END, \
             {base}, CASE WHEN i <= {OPEN} THEN NULL ELSE {base} END FROM s"
        ),
        format!(
            "INSERT INTO ticket_sla (ticket_id, policy, first_response_due, first_response_warn, \
             next_due_at, updated_at) \
             SELECT id, 'bench', CASE WHEN status = 'open' THEN created_at + {GOAL_MS} END, \
             CASE WHEN status = 'open' THEN created_at + {WARN_MS} END, \
             CASE WHEN status = 'open' THEN created_at + {WARN_MS} END, {base} FROM tickets"
        ),
        "ANALYZE".to_string(),
    ];
    for sql in statements {
        conn.execute(sql.as_str()).await.expect("bulk insert");
    }
    conn.close().await.ok();
}
