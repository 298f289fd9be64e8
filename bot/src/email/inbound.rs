//! `POST /api/v1/inbound/email`: a mail provider's inbound webhook, the raw mail
//! (`Content-Type: message/rfc822`) as the body. Authenticated by an API token
//! (`Authorization: Bearer …`) or, for providers that cannot send headers, by
//! `[email] inbound_secret` as the last path segment.
//!
//! The answer is 200 only once the mail is stored (or recognised as stored before, or set
//! apart as automatic): anything else makes the provider send it again, and a mail sent
//! twice is stored once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use relaydesk_web::api::{bearer_agent, ApiError};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::receive::{receive, Received};
use super::EmailSettings;
use crate::hub::Hub;

#[derive(Clone)]
struct Inbound {
    hub: Hub,
    settings: Arc<EmailSettings>,
}

pub fn routes(hub: Hub, settings: Arc<EmailSettings>) -> Router {
    let limit = settings.max_mail_bytes;
    Router::new()
        .route("/api/v1/inbound/email", post(with_token))
        .route("/api/v1/inbound/email/{secret}", post(with_secret))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(Inbound { hub, settings })
}

async fn with_token(State(inbound): State<Inbound>, headers: HeaderMap, body: Bytes) -> Response {
    let now = inbound.hub.clock().now_ms();
    if let Err(refused) = bearer_agent(inbound.hub.store(), now, &headers).await {
        return refused.into_response();
    }
    take(&inbound, &headers, &body).await
}

async fn with_secret(
    State(inbound): State<Inbound>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let known = inbound
        .settings
        .inbound_secret
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(secret.as_bytes())));
    if !known {
        return ApiError::not_found("there is no such API route; see /api/v1/openapi.json")
            .into_response();
    }
    take(&inbound, &headers, &body).await
}

async fn take(inbound: &Inbound, headers: &HeaderMap, body: &[u8]) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.as_deref() != Some("message/rfc822") {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the raw mail with Content-Type: message/rfc822",
        )
        .into_response();
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return ApiError::invalid("body", "the mail is empty").into_response();
    }
    match receive(&inbound.hub, &inbound.settings, body, None).await {
        Ok(Received::Stored { number, new_ticket }) => Json(json!({
            "result": "stored",
            "ticket": number,
            "new_ticket": new_ticket,
        }))
        .into_response(),
        Ok(Received::Duplicate) => Json(json!({ "result": "duplicate" })).into_response(),
        Ok(Received::Bounce { deliveries }) => {
            Json(json!({ "result": "bounce", "deliveries": deliveries })).into_response()
        }
        Ok(Received::Ignored(why)) => {
            Json(json!({ "result": "ignored", "reason": why })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "a mail was not stored; the sender should try again");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_stored",
                "the mail was not stored; send it again",
            )
            .into_response()
        }
    }
}
