//! The header's availability toggle: away agents get no tickets by auto-assignment (as
//! `/away` and `/back` in chat).

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{csrf_refused, Session};
use crate::{AppState, WebError};

/// POST /console/availability with `on_duty` = `true` or `false`.
pub async fn set(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if !session.csrf_ok(field("csrf")) {
        return Ok(csrf_refused());
    }
    let on_duty = field("on_duty") == "true";
    let mut tx = state.store.begin().await?;
    tx.set_on_duty(session.agent.id, on_duty).await?;
    tx.commit().await?;
    Ok(Redirect::to("/console/tickets").into_response())
}
