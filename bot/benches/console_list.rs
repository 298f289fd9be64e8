//! How long the console takes to answer a ticket list (one page of 50, with every view's
//! count and the unread marks) over 1,000,000 stored tickets, on SQLite and PostgreSQL.
//!
//! The store is filled as for the reports benchmark (`support/fill.rs`: 5 % of the tickets
//! open); the real server runs on a loopback port, every view is asked for four times to warm
//! it, then an agent's session asks for each view seven times; the first answer is not counted.
//!
//! ```text
//! cargo bench -p relaydesk --bench console_list --profile dev
//! RELAYDESK_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p relaydesk --bench console_list --profile dev
//! ```
//! `RELAYDESK_BENCH_TICKETS` changes the number of tickets.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/fill.rs"]
mod fill;

use std::sync::Arc;
use std::time::{Duration, Instant};

use relaydesk::config::Config;
use relaydesk_storage::SystemClock;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const SPAN_DAYS: i64 = 180;

fn main() {
    backends::each_with_tickets(1_000_000, |backend, url, total| async move {
        run(backend, &url, total).await
    });
}

async fn run(backend: &str, url: &str, total: i64) {
    let store = backends::open(url).await;
    let now = chrono::Utc::now().timestamp_millis();
    let started = Instant::now();
    fill::fill(url, total, now - SPAN_DAYS * 24 * 3600 * 1000, SPAN_DAYS).await;
    println!(
        "{backend}: {total} tickets stored in {:.1?}",
        started.elapsed()
    );
    // agent-1's console session.
    let token = "rds_console_list_bench";
    let mut tx = store.begin().await.expect("begin");
    tx.create_console_session(
        &relaydesk_web::secrets::token_hash(token),
        1,
        "csrf",
        now,
        now + 3_600_000,
    )
    .await
    .expect("session");
    tx.commit().await.expect("commit");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("address");
    let config = Config {
        database_url: url.to_string(),
        listen: addr,
        ..Config::default()
    };
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(relaydesk::serve::run_with(
        config,
        store.clone(),
        listener,
        Arc::new(SystemClock),
        Vec::new(),
        shutdown.clone(),
    ));
    let client = reqwest::Client::new();
    let views = ["unassigned", "mine", "open", "due", "closed", "all"];
    // A running server has its database connections warm: one pass over every view, on each
    // of the pool's connections, before anything is timed.
    for _ in 0..4 {
        for view in views {
            client
                .get(format!("http://{addr}/console/tickets?view={view}"))
                .header("cookie", format!("relaydesk_console={token}"))
                .send()
                .await
                .expect("the list");
        }
    }
    for view in views {
        let mut times = Vec::new();
        for round in 0..7 {
            let t = Instant::now();
            let answer = client
                .get(format!("http://{addr}/console/tickets?view={view}"))
                .header("cookie", format!("relaydesk_console={token}"))
                .send()
                .await
                .expect("the list");
            assert!(answer.status().is_success(), "{view}: {}", answer.status());
            let body = answer.text().await.expect("the page");
            let elapsed = t.elapsed();
            assert!(body.contains("nav"), "{view}: not a list page");
            if round > 0 {
                times.push(elapsed);
            }
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        println!(
            "{backend}: view {view}: median {:.1?} (min {:.1?}, max {:.1?}; mean {:.1?})",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            mean
        );
    }
    shutdown.cancel();
    let _ = server.await;
    store.close().await;
}
