//! The agents' console: server-rendered pages (maud), a session cookie after email and
//! password sign-in, a CSRF token on every form, and live updates of an open ticket over
//! server-sent events. Reads go to the store; every change goes through the desk as the
//! signed-in agent.

mod actions;
mod agents;
mod alerts;
mod availability;
mod canned;
mod channels;
mod events;
mod faq;
mod layout;
mod marks;
mod password;
mod reports;
mod script;
mod session;
mod sign_in;
mod teams;
mod ticket;
mod tokens;
mod views;
mod webhooks;

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub use actions::command_of;
pub use session::{SESSION_COOKIE, SIGN_IN_COOKIE};

use crate::AppState;

/// The console's routes, under `/console`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/tickets") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/tickets") }),
        )
        .route("/console/sign-in", get(sign_in::show).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route(
            "/console/password",
            get(password::show).post(password::change),
        )
        .route("/console/tickets", get(views::list))
        .route("/console/alerts", get(alerts::show))
        .route("/console/canned", get(canned::show).post(canned::change))
        .route("/console/availability", post(availability::set))
        .route("/console/faq", get(faq::show).post(faq::change))
        .route("/console/teams", get(teams::show).post(teams::change))
        .route("/console/tokens", get(tokens::show).post(tokens::change))
        .route(
            "/console/webhooks",
            get(webhooks::show).post(webhooks::retry),
        )
        .route("/console/reports", get(reports::show))
        .route("/console/reports.csv", get(reports::csv))
        .route("/console/tickets/{number}", get(ticket::show))
        .route(
            "/console/tickets/{number}/conversation",
            get(ticket::conversation_fragment),
        )
        .route(
            "/console/tickets/{number}/events",
            get(events::ticket_events),
        )
        .route("/console/tickets/{number}/actions", post(actions::run))
        .route("/console/tickets/bulk", post(actions::bulk))
        .route(
            "/console/tickets/{number}/transcript",
            get(ticket::transcript),
        )
        .route(
            layout::STYLE_PATH,
            get(|| async { asset("text/css; charset=utf-8", layout::STYLE) }),
        )
        .route(
            layout::LIVE_SCRIPT_PATH,
            get(|| async { asset("text/javascript; charset=utf-8", layout::LIVE_SCRIPT) }),
        )
        .route(
            script::SCRIPT_PATH,
            get(|| async { asset("text/javascript; charset=utf-8", script::SCRIPT) }),
        )
        .route("/console/events", get(events::list_events))
        .route("/console/agents", get(agents::show).post(agents::change))
        .route(
            "/console/channels",
            get(channels::show).post(channels::retry),
        )
        .layer(middleware::from_fn(protect))
}

/// What every console answer carries: no framing, no sniffing, no referrer to other sites, no
/// script or style but the console's own files, and nothing kept in caches (pages show
/// tickets).
const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https://cdn.discordapp.com https://media.discordapp.net; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

async fn protect(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}
