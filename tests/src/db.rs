//! A fresh database per test: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `RELAYDESK_TEST_POSTGRES_URL` (dropped afterwards).

use std::io::Write;
use std::sync::Once;

use relaydesk_storage::{Backend, Store, StoreOptions};
use sqlx::{Connection, Executor};

/// The environment variable that enables the PostgreSQL leg.
pub const POSTGRES_URL_VAR: &str = "RELAYDESK_TEST_POSTGRES_URL";

/// A database that lives as long as this value.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("url", &self.url).finish()
    }
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("relaydesk.db").display()
        );
        Self {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            drop_pg: None,
        }
    }

    /// A new, empty PostgreSQL database, or `None` (with a note on stderr) when
    /// `RELAYDESK_TEST_POSTGRES_URL` is not set.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            static NOTE: Once = Once::new();
            NOTE.call_once(|| {
                // Written past the test harness's capture so it shows in every run.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: PostgreSQL leg skipped: set {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres to run it"
                );
            });
            return None;
        };
        let name = format!("relaydesk_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to the PostgreSQL test server");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let url = replace_database(&admin_url, &name);
        Some(Self {
            url,
            backend: Backend::Postgres,
            _dir: None,
            drop_pg: Some((admin_url, name)),
        })
    }

    /// Opens the store (migrations applied).
    pub async fn store(&self) -> Store {
        Store::open(&self.url, &StoreOptions::default())
            .await
            .expect("open the test store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.drop_pg.take() else {
            return;
        };
        // Dropping needs a runtime of its own: the test's may be shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("RELAYDESK_TEST_POSTGRES_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// Runs an async test body against a fresh SQLite store and, when enabled, a fresh PostgreSQL
/// store: `both_backends!(name, |store| async move { … })` makes `name_sqlite` and `name_postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::db::TestDb::sqlite();
                let store = db.store().await;
                ($body)(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = $crate::db::TestDb::postgres().await else {
                    return;
                };
                let store = db.store().await;
                ($body)(store.clone()).await;
                store.close().await;
            }
        }
    };
}
