//! Runs a benchmark on SQLite (a temporary file) and, with `RELAYDESK_BENCH_POSTGRES_URL` set,
//! on a PostgreSQL database created for the run and dropped after it.

use std::future::Future;

use sqlx::{Connection, Executor};

/// `RELAYDESK_BENCH_TICKETS`, or `default`.
pub fn tickets(default: i64) -> i64 {
    std::env::var("RELAYDESK_BENCH_TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs a benchmark of `tickets(default)` stored tickets: `run(backend name, database URL,
/// number of tickets)` for each backend.
pub fn each_with_tickets<F, Fut>(default: i64, run: F)
where
    F: Fn(&'static str, String, i64) -> Fut,
    Fut: Future<Output = ()>,
{
    let total = tickets(default);
    each(|backend, url| run(backend, url, total));
}

/// The store at `url`, migrated.
pub async fn open(url: &str) -> relaydesk_storage::Store {
    relaydesk_storage::Store::open(url, &relaydesk_storage::StoreOptions::default())
        .await
        .expect("open the store")
}

/// Calls `run(backend name, database URL)` for each backend, one after the other.
pub fn each<F, Fut>(run: F)
where
    F: Fn(&'static str, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        run("SQLite", url).await;
        let Ok(admin) = std::env::var("RELAYDESK_BENCH_POSTGRES_URL") else {
            println!("PostgreSQL skipped: set RELAYDESK_BENCH_POSTGRES_URL");
            return;
        };
        let name = format!("relaydesk_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to PostgreSQL");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the bench database");
        let mut parsed = url::Url::parse(&admin).expect("a URL");
        parsed.set_path(&format!("/{name}"));
        run("PostgreSQL", parsed.to_string()).await;
        conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
            .await
            .expect("drop the bench database");
    });
}
