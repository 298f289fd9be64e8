//! Opening the database, migrations, readiness.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};

use crate::{Result, StorageError, Tx};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`Store`] talks to. The SQL is shared; the few places that differ ask this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL. A plain file path (`relaydesk.db`,
    /// `/var/lib/relaydesk/desk.db`) is an SQLite file.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") || is_plain_path(url) {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl(redact(url)))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections for PostgreSQL. SQLite always uses one writer connection: SQLite admits one
    /// writer at a time anyway, and a single connection rules out `SQLITE_BUSY` on upgrade.
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The ticket store: a connection pool plus the backend it speaks to.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Kept for the PostgreSQL notification listener, which needs a connection of its own.
    url: std::sync::Arc<str>,
    /// Tells this process's notifications from other instances'.
    instance: u64,
    /// The webhook endpoints events are written for.
    webhooks: crate::events::Subscriptions,
    /// Tells the other instances what committed transactions changed (PostgreSQL).
    announcer: Option<crate::notify::Announcer>,
}

impl Store {
    /// Connects without running migrations.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = &with_sqlite_create(&as_url(url), backend);
        let connect_options = AnyConnectOptions::from_str(url)
            .map_err(|_| StorageError::UnsupportedUrl(redact(url)))?;
        let max = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => options.max_connections.max(1),
        };
        // One direct connection first: a pool reports only "timed out", this says why.
        let probe = tokio::time::timeout(
            options.connect_timeout,
            AnyConnection::connect_with(&connect_options),
        )
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut));
        let open_error = |source| match backend {
            Backend::Sqlite => StorageError::SqliteOpen {
                path: sqlite_path(url),
                source,
            },
            Backend::Postgres => StorageError::Connect {
                url: redact(url),
                source,
            },
        };
        probe
            .map_err(open_error)?
            .close()
            .await
            .map_err(open_error)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(options.connect_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect_options)
            .await
            .map_err(open_error)?;
        let url: std::sync::Arc<str> = url.as_str().into();
        let instance = rand::random();
        let announcer = (backend == Backend::Postgres)
            .then(|| crate::notify::Announcer::start(url.clone(), instance));
        Ok(Self {
            pool,
            backend,
            url,
            instance,
            webhooks: crate::events::Subscriptions::default(),
            announcer,
        })
    }

    /// Connects and applies every pending migration.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self> {
        let store = Self::connect(url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        self.backend.migrator().run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction. Everything that must happen together goes through one.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx::new(
            self.pool.begin().await?,
            self.backend,
            &self.webhooks,
            self.announcer.as_ref(),
        ))
    }

    /// From now on every transaction (of every clone of this store) writes webhook deliveries
    /// for these endpoints' events.
    pub fn subscribe_webhooks(&self, subscriptions: Vec<crate::Subscription>) {
        self.webhooks.set(subscriptions);
    }

    /// Woken when a transaction of this process has queued webhook deliveries.
    pub fn webhooks_queued(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.webhooks.queued()
    }

    /// Ready = the database answers and every migration this build knows is applied.
    pub async fn check_ready(&self) -> Result<()> {
        let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(&self.pool)
            .await;
        let rows = match (rows, self.backend) {
            (Ok(rows), _) => rows,
            // SQLite keeps booleans as integers.
            (Err(_), Backend::Sqlite) => {
                sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = 1")
                    .fetch_all(&self.pool)
                    .await?
            }
            (Err(e), Backend::Postgres) => return Err(e.into()),
        };
        let applied: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("version"))
            .collect::<Result<_, _>>()?;
        for migration in self.backend.migrator().iter() {
            if !applied.contains(&migration.version) {
                return Err(StorageError::NotFound(format!(
                    "migration {} ({})",
                    migration.version, migration.description
                )));
            }
        }
        Ok(())
    }

    /// On PostgreSQL, a listener that hears when another instance queued outbox rows or changed
    /// tickets; `None` on SQLite (one process owns the file, and its hub tells its own workers
    /// and views).
    pub async fn change_listener(&self) -> Result<Option<crate::ChangeListener>> {
        match self.backend {
            Backend::Sqlite => Ok(None),
            Backend::Postgres => Ok(Some(
                crate::ChangeListener::connect(&self.url, self.instance).await?,
            )),
        }
    }

    /// Closes every connection (waits for checked-out ones to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A SQLite URL that names no `mode` opens read-write and creates the file when missing, as
/// one expects of an embedded database (SQLite alone would refuse a missing file with "unable
/// to open database file"). A `mode` given in the URL is kept.
/// Whether `url` is a file path rather than a URL (it names no scheme).
fn is_plain_path(url: &str) -> bool {
    let url = url.trim();
    !url.is_empty()
        && !url.contains("://")
        && !url.starts_with("sqlite:")
        && !url.contains('@')
        && !url.starts_with("postgres")
}

/// `sqlite://PATH` for a plain file path; any other URL as it is.
fn as_url(url: &str) -> String {
    if is_plain_path(url) {
        format!("sqlite://{}", url.trim())
    } else {
        url.to_string()
    }
}

fn with_sqlite_create(url: &str, backend: Backend) -> String {
    if backend != Backend::Sqlite
        || url
            .split('?')
            .nth(1)
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("mode=")))
    {
        return url.to_string();
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}mode=rwc")
}

/// The file path inside a SQLite URL, for error messages.
fn sqlite_path(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or(rest).to_string()
}

/// Held while a process serves a SQLite database: an exclusive lock on `<file>.lock`, let go
/// when dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub struct ServeLock {
    _file: std::fs::File,
}

impl ServeLock {
    /// For a SQLite database file: takes its serving lock, or refuses with
    /// [`StorageError::AlreadyServed`] when another process holds it. `None` for PostgreSQL
    /// (any number of instances may share it) and in-memory SQLite.
    pub fn take(url: &str) -> Result<Option<ServeLock>, StorageError> {
        let url = as_url(url);
        if Backend::from_url(&url)? != Backend::Sqlite {
            return Ok(None);
        }
        let path = sqlite_path(&url);
        if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
            return Ok(None);
        }
        let lock_path = format!("{path}.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StorageError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ServeLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Err(StorageError::AlreadyServed(path)),
            Err(std::fs::TryLockError::Error(source)) => Err(StorageError::Lock {
                path: lock_path,
                source,
            }),
        }
    }
}

/// A URL safe to print: the password, if any, is replaced.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_file_is_served_by_one_process_at_a_time() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("desk.db").display());
        let first = ServeLock::take(&url)
            .expect("first lock")
            .expect("a SQLite file");
        let second = ServeLock::take(&url);
        assert!(
            matches!(second, Err(StorageError::AlreadyServed(_))),
            "{second:?}"
        );
        drop(first);
        assert!(ServeLock::take(&url).expect("free again").is_some());
        assert!(ServeLock::take("postgres://u@h/db")
            .expect("no lock")
            .is_none());
        assert!(ServeLock::take("sqlite::memory:")
            .expect("no lock")
            .is_none());
    }

    #[test]
    fn backend_is_chosen_by_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://x.db?mode=rwc").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
        assert_eq!(Backend::from_url("relaydesk.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("/var/lib/relaydesk/desk.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(as_url("desk.db"), "sqlite://desk.db");
        assert_eq!(as_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn sqlite_urls_without_a_mode_create_the_file() {
        let s = Backend::Sqlite;
        assert_eq!(
            with_sqlite_create("sqlite://x.db", s),
            "sqlite://x.db?mode=rwc"
        );
        assert_eq!(
            with_sqlite_create("sqlite://x.db?cache=shared", s),
            "sqlite://x.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            with_sqlite_create("sqlite://x.db?mode=ro", s),
            "sqlite://x.db?mode=ro"
        );
        let pg = "postgres://u@h/db";
        assert_eq!(with_sqlite_create(pg, Backend::Postgres), pg);
    }

    #[tokio::test]
    async fn a_new_sqlite_file_is_created_without_mode_in_the_url() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("fresh.db");
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url, &StoreOptions::default())
            .await
            .expect("a missing file is created");
        store.check_ready().await.expect("migrated");
        store.close().await;
        assert!(path.exists());
    }

    #[tokio::test]
    async fn a_sqlite_file_in_a_missing_directory_names_the_path() {
        let url = "sqlite:///nonexistent-relaydesk-dir/sub/r.db";
        let error = Store::open(url, &StoreOptions::default())
            .await
            .expect_err("no such directory");
        assert!(
            error
                .to_string()
                .contains("/nonexistent-relaydesk-dir/sub/r.db"),
            "{error}"
        );
    }

    #[test]
    fn paths_and_passwords_are_printed_safely() {
        assert_eq!(sqlite_path("sqlite://data/r.db?mode=rwc"), "data/r.db");
        assert_eq!(sqlite_path("sqlite:r.db"), "r.db");
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
