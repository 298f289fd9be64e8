//! `spawn_app`: the whole Relaydesk process (web server, channels, outbox workers) on a random
//! port with a fresh database, stopped when the returned value is dropped.

use std::net::SocketAddr;
use std::sync::Arc;

use relaydesk::channel::Channel;
use relaydesk::config::Config;
use relaydesk_storage::{Clock, Store, SystemClock};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::TestDb;

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    pub db: TestDb,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), relaydesk::serve::ServeError>>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the app and waits until it has stopped.
    pub async fn stop(mut self) -> Result<(), relaydesk::serve::ServeError> {
        self.shutdown.cancel();
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl TestApp {
    /// Waits until the app stops by itself (a fatal error), without asking it to.
    pub async fn ended(mut self) -> Result<(), relaydesk::serve::ServeError> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Options for [`spawn_app_with`].
pub struct Spawn {
    pub db: TestDb,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub channels: Vec<Arc<dyn Channel>>,
}

impl Default for Spawn {
    fn default() -> Self {
        Self {
            db: TestDb::sqlite(),
            config: Config::default(),
            clock: Arc::new(SystemClock),
            channels: Vec::new(),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Spawn::default()).await
}

pub async fn spawn_app_with(spawn: Spawn) -> TestApp {
    let mut config = spawn.config;
    config.database_url = spawn.db.url.clone();
    let store = spawn.db.store().await;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    config.listen = addr;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relaydesk::serve::run_with(
        config,
        store.clone(),
        listener,
        spawn.clock,
        spawn.channels,
        shutdown.clone(),
    ));
    TestApp {
        addr,
        store,
        db: spawn.db,
        shutdown,
        task: Some(task),
    }
}
