//! The Relaydesk web server.
//!
//! [`router`] builds the axum application; [`serve`] runs it on a listener until a shutdown
//! future resolves, so the binary and the tests start it the same way.

mod error;
mod health;

use std::future::Future;

use axum::Router;
use relaydesk_storage::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::WebError;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(WebError::Serve)
}
