//! Prometheus metrics at `GET /metrics`: counters and histograms recorded where things happen
//! (with the `metrics` macros: messages ingested, sends delivered, retried and failed, rate
//! limits, webhook deliveries, SLA warnings, HTTP requests), plus figures read from the store
//! at each scrape (outbox backlog and its oldest row's age, open tickets by priority, pending
//! and failed webhook deliveries, live views). With `[metrics] token` set, a scrape must send
//! it as a bearer token.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use subtle::ConstantTimeEq;

use crate::{AppState, WebError};

/// The process's recorder, installed on first use (one per process, shared by every server
/// the process runs).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
                .map_err(|e| tracing::warn!(error = %e, "metrics buckets refused"))
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    metrics::gauge!("relaydesk_build_info", "version" => env!("CARGO_PKG_VERSION"))
                        .set(1.0);
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "another metrics recorder is installed; /metrics is off");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder, so counters recorded before the first scrape are kept.
pub fn install() {
    let _ = handle();
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    if let Some(token) = state.settings.metrics.token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return Ok((StatusCode::UNAUTHORIZED, "a metrics token is required\n").into_response());
        }
    }
    let Some(handle) = handle() else {
        return Ok((StatusCode::SERVICE_UNAVAILABLE, "metrics are off\n").into_response());
    };
    let mut tx = state.store.begin().await?;
    let gauges = tx.gauges().await?;
    tx.rollback().await?;
    let now = state.clock.now_ms();
    for backlog in &gauges.outbox {
        let platform = backlog.platform.clone();
        metrics::gauge!("relaydesk_outbox_pending", "platform" => platform.clone())
            .set(backlog.pending as f64);
        let age = backlog
            .oldest_ms
            .map_or(0, |t| now.saturating_sub(t).max(0));
        metrics::gauge!("relaydesk_outbox_oldest_pending_seconds", "platform" => platform)
            .set(age as f64 / 1000.0);
    }
    for platform in ["telegram", "discord", "web", "console", "api"] {
        if !gauges.outbox.iter().any(|b| b.platform == platform) {
            metrics::gauge!("relaydesk_outbox_pending", "platform" => platform).set(0.0);
            metrics::gauge!("relaydesk_outbox_oldest_pending_seconds", "platform" => platform)
                .set(0.0);
        }
    }
    for priority in ["low", "normal", "high", "urgent"] {
        let open = gauges
            .open_tickets
            .iter()
            .find(|(p, _)| p == priority)
            .map_or(0, |(_, n)| *n);
        metrics::gauge!("relaydesk_open_tickets", "priority" => priority).set(open as f64);
    }
    metrics::gauge!("relaydesk_webhook_deliveries_pending").set(gauges.webhooks_pending as f64);
    metrics::gauge!("relaydesk_webhook_deliveries_failed").set(gauges.webhooks_failed as f64);
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// Counts every request by route pattern (never the raw path: `/tickets/{number}`, not one
/// series per ticket), method and status, and times it.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "relaydesk_http_requests_total",
        "route" => route.clone(),
        "method" => method,
        "status" => status
    )
    .increment(1);
    metrics::histogram!("relaydesk_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
