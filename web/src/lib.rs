//! The Relaydesk web server.
//!
//! [`router`] builds the axum application; [`serve`] runs it on a listener until a shutdown
//! future resolves, so the binary and the tests start it the same way.

pub mod accounts;
pub mod api;
pub mod client_address;
pub mod config;
pub mod console;
pub mod email;
mod error;
mod health;
pub mod metrics;
pub mod reports;
pub mod secrets;
pub mod teams;
pub mod tokens;
pub mod transcript;
pub mod widget;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use relaydesk_storage::{Clock, Store};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use config::{ConsoleConfig, EmailConfig, ImapConfig, MetricsConfig, WebConfig, WebSettings};
pub use error::{desk_status, WebError};
pub use relaydesk_desk::{
    CommandOutcome, CustomerAccepted, CustomerAnswer, CustomerInput, Desk, DeskError,
};
pub use widget::{clean_file_name, file_attachment, sniff_file};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The helpdesk core: every change to a ticket goes through it.
    pub desk: Arc<dyn Desk>,
    pub settings: Arc<WebSettings>,
    /// Whether each channel is connected, for `/readyz`.
    pub channels: relaydesk_desk::ChannelHealth,
    /// Woken whenever console sessions may have ended here (sign-out, password change,
    /// disabled agent): live event streams check that theirs still holds.
    pub sessions_ended: Arc<tokio::sync::Notify>,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    metrics::install();
    Router::new()
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(console::routes())
        .merge(api::routes(&state))
        .merge(widget::routes(&state))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Becomes true when the server is shutting down.
#[derive(Debug, Clone)]
pub(crate) struct Stopping(pub(crate) tokio::sync::watch::Receiver<bool>);

/// Serves `app` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    // Long-lived connections (widget websockets) are not waited for by the graceful
    // shutdown: they hear it here and close, so their browsers reconnect elsewhere.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let app = app.layer(axum::Extension(Stopping(stopping)));
    let shutdown = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    // Peer addresses are known to handlers (the widget's per-IP limits).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(WebError::Serve)
}
