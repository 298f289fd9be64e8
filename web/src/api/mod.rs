//! The REST API under `/api/v1`: JSON in and out, bearer tokens acting as agents, errors as
//! `{"error": {"code", "message", "field"?}}`, and an OpenAPI 3 document generated from the
//! handlers at `/api/v1/openapi.json`.
//!
//! Reads go straight to the store; everything that changes a ticket goes through the
//! [`crate::Desk`], so API replies and commands behave exactly like the chat's.

mod auth;
mod body;
mod canned;
mod commands;
mod customers;
mod error;
mod events;
mod faq;
mod reports;
mod teams;
mod tickets;
mod transcripts;
mod views;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Json, Router};
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{bearer_agent, RateLimits, DEFAULT_REQUESTS_PER_MINUTE};
pub use error::ApiError;
pub use events::{event_body, EventBody};
pub use transcripts::file_response as transcript_file;

use crate::AppState;

/// Largest request body the API reads (bytes); larger ones get 413.
pub const MAX_BODY: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Relaydesk REST API",
        description = "Tickets, messages and chat commands of a Relaydesk helpdesk. \
            Authenticate with `Authorization: Bearer <token>`; create tokens with \
            `relaydesk token create NAME --agent AGENT_NAME`. A token acts as its agent: \
            commands are allowed or refused as they would be for that agent in chat."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "tickets", description = "Tickets and their conversation"),
        (name = "customers", description = "The people who write to the helpdesk"),
        (name = "canned", description = "Saved replies agents send with `/canned NAME`"),
        (name = "teams", description = "Teams and their members"),
        (name = "faq", description = "Answers offered to new tickets whose first message matches"),
        (name = "reports", description = "Figures per period and per agent, team, channel or priority"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json"))
)]
async fn openapi(Extension(doc): Extension<Arc<serde_json::Value>>) -> Json<serde_json::Value> {
    Json(doc.as_ref().clone())
}

/// What `GET /api/v1` answers: which API this is and where its description is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiIndex {
    #[schema(example = "Relaydesk REST API")]
    pub name: &'static str,
    /// The Relaydesk version serving it.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    #[schema(example = "/api/v1/openapi.json")]
    pub openapi: &'static str,
}

/// Which API this is, its version and where its OpenAPI document is (no token needed).
#[utoipa::path(
    get,
    path = "/api/v1",
    tag = "meta",
    responses((status = 200, description = "The API's name, version and description", body = ApiIndex))
)]
async fn index() -> Json<ApiIndex> {
    Json(ApiIndex {
        name: "Relaydesk REST API",
        version: env!("CARGO_PKG_VERSION"),
        openapi: "/api/v1/openapi.json",
    })
}

/// Any other path under `/api/v1`: a JSON 404 like the rest of the API.
async fn no_route() -> ApiError {
    ApiError::not_found("there is no such API route; see /api/v1/openapi.json")
}

/// Every route of the API and its OpenAPI document, built from the same handler list.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tickets::list, tickets::create))
        .routes(routes!(tickets::get))
        .routes(routes!(transcripts::transcript))
        .routes(routes!(commands::reply))
        .routes(routes!(commands::note))
        .routes(routes!(commands::command))
        .routes(routes!(customers::get))
        .routes(routes!(customers::tickets))
        .routes(routes!(canned::list))
        .routes(routes!(canned::put, canned::remove))
        .routes(routes!(teams::list))
        .routes(routes!(teams::put, teams::remove))
        .routes(routes!(teams::add_member, teams::remove_member))
        .routes(routes!(faq::list))
        .routes(routes!(faq::put, faq::remove))
        .routes(routes!(reports::report))
        .routes(routes!(openapi))
        .routes(routes!(index))
        .split_for_parts()
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> serde_json::Value {
    serde_json::to_value(parts().1).unwrap_or_default()
}

/// The API's routes, to merge into the application router.
pub fn routes(state: &AppState) -> Router<AppState> {
    let per_minute = state
        .settings
        .web
        .api_requests_per_minute
        .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE);
    let (router, doc) = parts();
    let doc = serde_json::to_value(doc).unwrap_or_default();
    router
        .route("/api/v1/{*rest}", axum::routing::any(no_route))
        .layer(Extension(Arc::new(doc)))
        .layer(Extension(RateLimits::per_minute(per_minute)))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}
