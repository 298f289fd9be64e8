//! Webhook mode: Telegram posts each update to our web server. The secret header is checked
//! first (401 and nothing stored on mismatch); 200 is answered only after the hub committed the
//! update, so Telegram sends it again otherwise.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use subtle::ConstantTimeEq;
use teloxide::types::Update;

use super::receive::Receiver;

/// The header Telegram sends with the `secret_token` given to `setWebhook`.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Debug, Clone)]
struct Endpoint {
    receiver: Arc<Receiver>,
    secret: Arc<str>,
}

pub fn routes(path: &str, secret: &str, receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route(path, post(take_update))
        .with_state(Endpoint {
            receiver,
            secret: secret.into(),
        })
}

async fn take_update(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let given = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !bool::from(given.as_bytes().ct_eq(endpoint.secret.as_bytes())) {
        tracing::warn!("webhook call with a wrong secret token refused");
        return (StatusCode::UNAUTHORIZED, "wrong secret token");
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(e) => {
            tracing::warn!(error = %e, "webhook body is not a Telegram update");
            return (StatusCode::BAD_REQUEST, "not a Telegram update");
        }
    };
    match endpoint.receiver.handle(&update).await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "update not stored; Telegram will send it again");
            (StatusCode::INTERNAL_SERVER_ERROR, "not stored")
        }
    }
}
