use thiserror::Error;

/// Everything that can go wrong in the store.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open the SQLite database at `{path}`: {source}")]
    SqliteOpen { path: String, source: sqlx::Error },
    #[error("cannot connect to the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error(
        "another relaydesk process is already serving the SQLite database `{0}`; stop it first \
         (one SQLite file serves one process: run several instances on PostgreSQL)"
    )]
    AlreadyServed(String),
    #[error("cannot lock `{path}`: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
}

impl StorageError {
    /// True when the database refused the write because of a uniqueness constraint.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StorageError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StorageError::Conflict(_) => true,
            _ => false,
        }
    }
}
