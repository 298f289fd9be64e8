//! The agents' console: server-rendered pages (maud), a session cookie after email and
//! password sign-in, a CSRF token on every form, and live updates of an open ticket over
//! server-sent events. Reads go to the store; every change goes through the desk as the
//! signed-in agent.

mod actions;
mod alerts;
mod events;
mod layout;
mod password;
mod session;
mod sign_in;
mod ticket;
mod views;

use axum::response::Redirect;
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
}
