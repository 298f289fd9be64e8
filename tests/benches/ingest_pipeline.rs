//! Throughput of the whole inbound path: `Hub::ingest` (messages that arrive together share a
//! committed transaction) → outbox → a delivery worker with a no-op platform, on SQLite and on
//! PostgreSQL.
//!
//! cargo bench -p relaydesk-tests --bench ingest_pipeline
//!
//! Environment: BENCH_MESSAGES (default 100000), BENCH_TICKETS (default 1000), BENCH_PRODUCERS
//! (concurrent ingesting tasks, default 32), BENCH_DELIVER_AFTER (1: the worker starts once
//! every message is in, so ingest is measured alone), RELAYDESK_TEST_POSTGRES_URL (PostgreSQL
//! leg).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use relaydesk::hub::{
    CustomerMessage, Deliver, Delivered, DeliveryError, Hub, HubConfig, Inbound, Outbound,
    PlatformUser,
};
use relaydesk::outbox::{OutboxWorker, WorkerOptions};
use relaydesk_storage::{OutboxStatus, Platform, Store, SystemClock};
use relaydesk_tests::bench::env_number;
use relaydesk_tests::db::TestDb;
use tokio_util::sync::CancellationToken;

/// A platform that accepts everything instantly, answering with fresh ids.
#[derive(Default)]
struct NoOp {
    next_id: AtomicU64,
}

#[async_trait]
impl Deliver for NoOp {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    async fn deliver(&self, _: &Outbound) -> Result<Delivered, DeliveryError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        Ok(Delivered::with_ref(id.to_string()))
    }
}

struct Report {
    backend: &'static str,
    messages: usize,
    ingest_secs: f64,
    total_secs: f64,
    p50: Duration,
    p99: Duration,
}

async fn run(
    store: Store,
    backend: &'static str,
    messages: usize,
    tickets: usize,
    producers: usize,
) -> Report {
    let hub = Hub::new(
        store.clone(),
        Arc::new(SystemClock),
        HubConfig {
            staff_platforms: vec![Platform::Discord],
            ..HubConfig::default()
        },
    );
    let shutdown = CancellationToken::new();
    let worker = OutboxWorker::new(
        hub.clone(),
        Arc::new(NoOp::default()),
        WorkerOptions {
            batch: 256,
            ..WorkerOptions::default()
        },
    );
    // `BENCH_DELIVER_AFTER=1`: the worker starts once every message is in, so the ingest
    // figure is ingest alone (the database is not shared with the deliveries meanwhile).
    let deliver_after = env_number("BENCH_DELIVER_AFTER", 0) == 1;
    let mut worker = Some(worker);
    let mut worker_task = None;
    if !deliver_after {
        worker_task = worker.take().map(|w| tokio::spawn(w.run(shutdown.clone())));
    }

    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for producer in 0..producers {
        let hub = hub.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = producer;
            while i < messages {
                let ticket = i % tickets;
                let message = CustomerMessage {
                    platform: Platform::Telegram,
                    external_message_id: Some(format!("{ticket}:{i}")),
                    customer: PlatformUser {
                        external_id: ticket.to_string(),
                        display_name: format!("Customer {ticket}"),
                        language: None,
                    },
                    conversation: ticket.to_string(),
                    subject: None,
                    text: format!("message {i} about the printer that will not print"),
                    attachments: Vec::new(),
                };
                let t = Instant::now();
                hub.ingest(Inbound::Customer(message))
                    .await
                    .expect("ingest");
                latencies.push(t.elapsed());
                i += producers;
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(messages);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.expect("producer"));
    }
    let ingest_secs = start.elapsed().as_secs_f64();
    eprintln!("{backend}: ingested {messages} in {ingest_secs:.2}s");
    if let Some(worker) = worker.take() {
        worker_task = Some(tokio::spawn(worker.run(shutdown.clone())));
    }
    loop {
        let mut tx = store.begin().await.expect("begin");
        if tx.count_outbox(OutboxStatus::Pending).await.expect("count") == 0 {
            break;
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total_secs = start.elapsed().as_secs_f64();
    shutdown.cancel();
    if let Some(task) = worker_task {
        let _ = task.await;
    }
    let mut tx = store.begin().await.expect("begin");
    let delivered = tx
        .count_outbox(OutboxStatus::Delivered)
        .await
        .expect("count");
    assert_eq!(
        delivered as usize,
        messages + tickets,
        "every message and thread delivered once"
    );
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Report {
        backend,
        messages,
        ingest_secs,
        total_secs,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn main() {
    let messages = env_number("BENCH_MESSAGES", 100_000);
    let tickets = env_number("BENCH_TICKETS", 1_000);
    let producers = env_number("BENCH_PRODUCERS", 32);
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut reports = Vec::new();
        let sqlite = TestDb::sqlite();
        reports.push(run(sqlite.store().await, "SQLite", messages, tickets, producers).await);
        match TestDb::postgres().await {
            Some(pg) => {
                let store = pg.store().await;
                reports.push(run(store.clone(), "PostgreSQL", messages, tickets, producers).await);
                store.close().await;
            }
            None => println!("PostgreSQL leg skipped (set RELAYDESK_TEST_POSTGRES_URL)"),
        }
        println!("| backend | messages | tickets | producers | ingest msg/s | end-to-end msg/s | ingest p50 | ingest p99 |");
        println!("|---|---|---|---|---|---|---|---|");
        for r in reports {
            println!(
                "| {} | {} | {} | {} | {:.0} | {:.0} | {:.2} ms | {:.2} ms |",
                r.backend,
                r.messages,
                tickets,
                producers,
                r.messages as f64 / r.ingest_secs,
                r.messages as f64 / r.total_secs,
                r.p50.as_secs_f64() * 1000.0,
                r.p99.as_secs_f64() * 1000.0,
            );
        }
    });
}
