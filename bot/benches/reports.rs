//! How long reports take over 1,000,000 stored tickets, on SQLite and PostgreSQL.
//!
//! The store holds `RELAYDESK_BENCH_TICKETS` tickets (default 1,000,000) opened over 180 days,
//! spread over 20 agents, 5 teams, 3 channels and 4 priorities; 97 % answered (first reply
//! 1–120 minutes after opening) and 95 % closed (1–48 hours after opening), with a
//! satisfaction survey on every tenth. Each report shape is run three times and timed.
//!
//! ```text
//! cargo bench -p relaydesk --bench reports --profile dev
//! RELAYDESK_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p relaydesk --bench reports --profile dev
//! ```
//! Without `RELAYDESK_BENCH_POSTGRES_URL` only SQLite runs. The PostgreSQL leg creates and
//! drops a database of its own.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/fill.rs"]
mod fill;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use relaydesk_desk::reports::{Granularity, Request};
use relaydesk_storage::ReportGroup;

const DAY_MS: i64 = 24 * 3600 * 1000;
const SPAN_DAYS: i64 = 180;

fn main() {
    backends::each_with_tickets(1_000_000, |backend, url, total| async move {
        run(backend, &url, total).await
    });
}

async fn run(backend: &str, url: &str, total: i64) {
    let store = backends::open(url).await;
    let end = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let started = Instant::now();
    fill::fill(
        url,
        total,
        end.timestamp_millis() - SPAN_DAYS * DAY_MS,
        SPAN_DAYS,
    )
    .await;
    println!(
        "{backend}: {total} tickets stored in {:.1?}",
        started.elapsed()
    );
    let shapes = [
        ("30 days by day", 30, Granularity::Day, ReportGroup::All),
        (
            "30 days by day and agent",
            30,
            Granularity::Day,
            ReportGroup::Agent,
        ),
        (
            "90 days by week and team",
            90,
            Granularity::Week,
            ReportGroup::Team,
        ),
        (
            "180 days by month and channel",
            180,
            Granularity::Month,
            ReportGroup::Channel,
        ),
    ];
    for (name, days, granularity, by) in shapes {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..3 {
            let request = Request::new(
                by,
                granularity,
                chrono_tz::UTC,
                end - chrono::Duration::days(days),
                end,
            )
            .expect("a valid request");
            let t = Instant::now();
            let mut tx = store.begin().await.expect("begin");
            rows = tx.report(&request.periods, by).await.expect("report").len();
            tx.rollback().await.expect("rollback");
            times.push(t.elapsed());
        }
        times.sort();
        let opened_check = times.iter().sum::<Duration>() / 3;
        println!(
            "{backend}: {name}: {rows} rows, median {:.2?} (min {:.2?}, max {:.2?}; mean {:.2?})",
            times[1], times[0], times[2], opened_check
        );
    }
    store.close().await;
}
