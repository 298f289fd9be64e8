//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers and every
//! migration is applied).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    state.store.check_ready().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        WebError::NotReady("database not reachable or not migrated".to_string())
    })?;
    Ok(Json(json!({
        "status": "ready",
        "database": state.store.backend().name(),
        "channels": state.channels.snapshot(),
        "channels_down": state.channels.down(),
    })))
}
