//! Signing in and out: email and password against the argon2 hash, a lock after repeated
//! failures, the session cookie on success.

use std::sync::OnceLock;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use relaydesk_storage::AgentCredentials;
use serde::Deserialize;

use super::layout;
use super::session::{
    cookie_value, csrf_refused, same_secret, set_cookie, Session, CONSOLE_PATH, PASSWORD_PATH,
    SESSION_COOKIE, SIGN_IN_COOKIE, SIGN_IN_PATH,
};
use crate::secrets::{hash_password, new_token, token_hash, verify_password};
use crate::{AppState, WebError};

const SIGN_IN_FORM_SECS: i64 = 3600;

/// A hash checked when there is no account (or no password), so that answering takes as long
/// as for a real account and does not tell which emails exist.
fn stand_in_hash() -> Option<&'static str> {
    static HASH: OnceLock<Option<String>> = OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_token("")).ok())
        .as_deref()
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

fn form(csrf: &str, email: &str, problem: Option<&str>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            form.sign-in method="post" action=(SIGN_IN_PATH) {
                h1 { "Relaydesk console" }
                @if let Some(problem) = problem {
                    p.flash.error role="alert" { (problem) }
                }
                input type="hidden" name="csrf" value=(csrf);
                label { "Email" input type="email" name="email" value=(email) autocomplete="username" required autofocus; }
                label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// The sign-in form, with a fresh CSRF cookie.
pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    fresh_form(&state, &headers, "", None, StatusCode::OK)
}

fn fresh_form(
    state: &AppState,
    headers: &HeaderMap,
    email: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = cookie_value(headers, SIGN_IN_COOKIE)
        .filter(|t| t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| new_token(""));
    let cookie = set_cookie(
        &state.settings.console,
        SIGN_IN_COOKIE,
        &token,
        SIGN_IN_PATH,
        SIGN_IN_FORM_SECS,
    );
    (status, [cookie], form(&token, email, problem)).into_response()
}

/// Checks the password; on success starts a session and goes to the console.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(input): Form<SignInForm>,
) -> Result<Response, WebError> {
    let expected = cookie_value(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_secret(&expected, &input.csrf) {
        return Ok(csrf_refused());
    }
    let config = &state.settings.console;
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    let found = tx.agent_credentials(input.email.trim()).await?;
    tx.commit().await?;
    let refuse =
        |problem: &str, status| fresh_form(&state, &headers, &input.email, Some(problem), status);
    let wrong = "Wrong email or password.";
    let Some(AgentCredentials {
        agent,
        password_hash: Some(hash),
        locked_until_ms,
        ..
    }) = found
    else {
        let password = input.password.clone();
        let _ = tokio::task::spawn_blocking(move || {
            stand_in_hash().is_some_and(|hash| verify_password(hash, &password))
        })
        .await;
        return Ok(refuse(wrong, StatusCode::UNAUTHORIZED));
    };
    if locked_until_ms.is_some_and(|until| until > now) {
        return Ok(refuse(
            "Too many failed sign-ins: this account is locked for a while. Try again later.",
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let password = input.password.clone();
    let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let mut tx = state.store.begin().await?;
    if !matches {
        let lock_ms = i64::from(config.lockout_minutes) * 60_000;
        let failures = tx
            .record_login_failure(
                agent.id,
                i64::from(config.max_failed_sign_ins.max(1)),
                lock_ms,
                now,
            )
            .await?;
        tx.commit().await?;
        tracing::info!(agent = %agent.name, failures, "console sign-in failed");
        return Ok(refuse(wrong, StatusCode::UNAUTHORIZED));
    }
    tx.reset_login_failures(agent.id).await?;
    if agent.disabled {
        tx.commit().await?;
        tracing::info!(agent = %agent.name, "console sign-in of a disabled agent refused");
        return Ok(refuse(
            "This account is disabled. Ask an admin.",
            StatusCode::FORBIDDEN,
        ));
    }
    let token = new_token("rds_");
    let csrf = new_token("");
    let lifetime_secs = i64::from(config.session_hours.max(1)) * 3600;
    tx.create_console_session(
        &token_hash(&token),
        agent.id,
        &csrf,
        now,
        now + lifetime_secs * 1000,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(agent = %agent.name, "console sign-in");
    let session = set_cookie(config, SESSION_COOKIE, &token, CONSOLE_PATH, lifetime_secs);
    let spent = set_cookie(config, SIGN_IN_COOKIE, "", SIGN_IN_PATH, 0);
    Ok((
        axum::response::AppendHeaders([session, spent]),
        Redirect::to(if agent.must_change_password {
            PASSWORD_PATH
        } else {
            CONSOLE_PATH
        }),
    )
        .into_response())
}

/// Ends the session.
pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    Form(input): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    if !session.csrf_ok(&input.csrf) {
        return Ok(csrf_refused());
    }
    let mut tx = state.store.begin().await?;
    tx.delete_console_session(&session.token_hash, state.clock.now_ms())
        .await?;
    tx.commit().await?;
    let gone = set_cookie(&state.settings.console, SESSION_COOKIE, "", CONSOLE_PATH, 0);
    Ok(([gone], Redirect::to(SIGN_IN_PATH)).into_response())
}
