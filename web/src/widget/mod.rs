//! The web chat widget: one script tag on any site (`/widget.js`), a websocket per visitor
//! (`/widget/ws`), visitors' files (`/widget/files/{key}`) and a demo page at `/`.
//!
//! Visitor messages go through [`crate::Desk`] like every other customer message; what the
//! visitor sees is read back from the store (the store is the bus), so a reply written by any
//! instance reaches the socket.

mod assets;
mod files;
mod limits;
mod open_sockets;
mod protocol;
pub mod session;

pub use files::{
    attachment as file_attachment, clean_name as clean_file_name, sniff as sniff_file,
};
mod socket;

use std::sync::Arc;

use axum::http::{HeaderValue, Method};
use axum::routing::get;
use axum::{Extension, Router};
use relaydesk_storage::sla::Calendar;
use tokio::sync::OnceCell;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::AppState;
pub use session::{
    identity_email_hash, identity_hash, identity_verified, Claims, SessionKey, TokenError,
};

/// The name under which a generated session key is kept in the database.
const SESSION_SECRET_NAME: &str = "widget_session_key";

/// Shared state of the widget's handlers (beside [`AppState`]).
pub(crate) struct WidgetRuntime {
    key: OnceCell<SessionKey>,
    limits: limits::Limits,
    /// `[web.business_hours]`; always open when unset.
    hours: Option<Calendar>,
    /// One permit per open socket, `[web] max_widget_sockets` in all.
    sockets: Arc<tokio::sync::Semaphore>,
    /// Open sockets per client address, `[web] max_widget_sockets_per_address` each.
    by_address: Arc<open_sockets::OpenSockets>,
}

impl WidgetRuntime {
    fn new(state: &AppState) -> Self {
        let hours = state
            .settings
            .web
            .business_hours
            .as_ref()
            .and_then(|h| match h.calendar() {
                Ok(calendar) => Some(calendar),
                Err(e) => {
                    // The binary refuses such a configuration before starting.
                    tracing::error!(error = %e, "business hours ignored");
                    None
                }
            });
        Self {
            key: OnceCell::new(),
            limits: limits::Limits::new(&state.settings.web),
            hours,
            sockets: Arc::new(tokio::sync::Semaphore::new(
                state.settings.web.max_widget_sockets,
            )),
            by_address: Arc::default(),
        }
    }

    /// Whether `now` is within business hours.
    pub(crate) fn open_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.hours
            .as_ref()
            .is_none_or(|calendar| calendar.is_open_at(now))
    }

    /// The session signing key: configured, or generated once and kept in the database.
    async fn key(&self, state: &AppState) -> Result<&SessionKey, crate::WebError> {
        self.key
            .get_or_try_init(|| async {
                if let Some(secret) = state.settings.web.session_secret.as_deref() {
                    if !secret.trim().is_empty() {
                        return Ok(SessionKey::new(secret));
                    }
                }
                let mut tx = state.store.begin().await?;
                let candidate = crate::secrets::new_token("");
                let secret = tx
                    .web_secret(SESSION_SECRET_NAME, &candidate, state.clock.now_ms())
                    .await?;
                tx.commit().await?;
                Ok(SessionKey::new(&secret))
            })
            .await
    }
}

/// The widget's routes.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let runtime = Arc::new(WidgetRuntime::new(state));
    let origins: Vec<HeaderValue> = state
        .settings
        .web
        .allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET]);
    Router::new()
        .route("/", get(assets::demo_page))
        .route("/widget.js", get(assets::script))
        .route("/widget/ws", get(socket::upgrade))
        .route("/widget/files/{key}", get(files::download))
        .layer(cors)
        .layer(Extension(runtime))
}

/// Whether a browser page at `origin` may use the widget: one of `allowed_origins`, or this
/// server's own origin (the demo page). `host` is the request's `Host` header.
pub(crate) fn origin_allowed(allowed: &[String], origin: &str, host: Option<&str>) -> bool {
    let origin = origin.trim_end_matches('/');
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    match host {
        Some(host) => {
            origin.eq_ignore_ascii_case(&format!("http://{host}"))
                || origin.eq_ignore_ascii_case(&format!("https://{host}"))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::origin_allowed;

    #[test]
    fn only_listed_origins_and_the_own_one_are_allowed() {
        let allowed = vec!["https://www.example.com".to_string()];
        assert!(origin_allowed(&allowed, "https://www.example.com", None));
        assert!(origin_allowed(&allowed, "https://WWW.example.com/", None));
        assert!(!origin_allowed(&allowed, "https://evil.example", None));
        assert!(!origin_allowed(
            &allowed,
            "https://www.example.com.evil",
            None
        ));
        assert!(origin_allowed(
            &[],
            "http://127.0.0.1:8080",
            Some("127.0.0.1:8080")
        ));
        assert!(!origin_allowed(
            &[],
            "http://127.0.0.1:9",
            Some("127.0.0.1:8080")
        ));
    }
}
