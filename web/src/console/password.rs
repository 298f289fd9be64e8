//! Changing one's own password (the one printed by `relaydesk agent add` is meant to be
//! replaced at first sign-in).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout;
use super::session::{csrf_refused, Session, SIGN_IN_PATH};
use crate::client_address::client_address;
use crate::secrets::{hash_password, verify_password, SecretError, MIN_PASSWORD_CHARS};
use crate::{AppState, WebError};

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

fn page(session: &Session, note: Option<(&str, &str)>) -> Markup {
    let body = html! {
        h1 { "Change your password" }
        @if session.agent.must_change_password && note.is_none() {
            p.flash.error role="alert" { "Your password was set by an admin: choose your own before you go on." }
        }
        @if let Some((class, text)) = note {
            p class={ "flash " (class) } role="alert" { (text) }
        }
        form.panel method="post" action="/console/password" {
            input type="hidden" name="csrf" value=(session.csrf);
            p { label { "Current password " input type="password" name="current" autocomplete="current-password" required; } }
            p { label { "New password " input type="password" name="new" autocomplete="new-password" minlength=(MIN_PASSWORD_CHARS) required; } }
            p { label { "New password again " input type="password" name="repeat" autocomplete="new-password" required; } }
            button type="submit" { "Change password" }
        }
    };
    layout::page("Password", &session.agent, &session.csrf, body)
}

/// GET /console/password
pub async fn show(session: Session) -> Response {
    page(&session, None).into_response()
}

/// POST /console/password
pub async fn change(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(input): Form<PasswordForm>,
) -> Result<Response, WebError> {
    if !session.csrf_ok(&input.csrf) {
        return Ok(csrf_refused());
    }
    let refuse = |status: StatusCode, text: &str| {
        Ok((status, page(&session, Some(("error", text)))).into_response())
    };
    if input.new != input.repeat {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The new passwords differ.",
        );
    }
    let email = session.agent.email.clone().unwrap_or_default();
    let mut tx = state.store.begin().await?;
    let stored = tx
        .agent_credentials(&email)
        .await?
        .and_then(|c| c.password_hash);
    tx.commit().await?;
    let Some(stored) = stored else {
        return refuse(
            StatusCode::FORBIDDEN,
            "This account has no password to change.",
        );
    };
    let (current, new) = (input.current.clone(), input.new.clone());
    let checked = tokio::task::spawn_blocking(move || {
        if verify_password(&stored, &current) {
            Some(hash_password(&new))
        } else {
            None
        }
    })
    .await
    .ok()
    .flatten();
    let hash = match checked {
        None => {
            // A wrong current password counts as a failed sign-in: a borrowed session cannot
            // be used to guess the password. At the limit the session ends.
            let address = client_address(peer.ip(), &headers, &state.settings.web.trusted_proxies);
            let mut tx = state.store.begin().await?;
            let locked = tx
                .record_sign_in_failure(
                    &email,
                    &address.to_string(),
                    &state.settings.console.sign_in_limits(),
                    state.clock.now_ms(),
                )
                .await?;
            if locked {
                tx.delete_console_session(&session.token_hash, state.clock.now_ms())
                    .await?;
            }
            tx.commit().await?;
            if locked {
                tracing::info!(agent = %session.agent.name, "signed out after wrong current passwords");
                state.sessions_ended.notify_waiters();
                return Ok(Redirect::to(SIGN_IN_PATH).into_response());
            }
            return refuse(StatusCode::FORBIDDEN, "The current password is wrong.");
        }
        Some(Err(SecretError::TooShort)) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SecretError::TooShort.to_string(),
            )
        }
        Some(Err(e)) => {
            tracing::error!(error = %e, "cannot hash a new password");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong; try again.",
            );
        }
        Some(Ok(hash)) => hash,
    };
    let mut tx = state.store.begin().await?;
    tx.set_agent_password(session.agent.id, &hash, false)
        .await?;
    // Whoever knew the old password is signed out everywhere else.
    tx.end_console_sessions(session.agent.id, Some(&session.token_hash))
        .await?;
    tx.commit().await?;
    state.sessions_ended.notify_waiters();
    tracing::info!(agent = %session.agent.name, "console password changed");
    Ok(page(&session, Some(("done", "Your password is changed."))).into_response())
}
