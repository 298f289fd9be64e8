//! Signing in and out: email and password against the argon2 hash, locks after repeated
//! failures (per email, per client address and per pair), the session cookie on success.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::extract::{ConnectInfo, Form, State};
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
use crate::client_address::client_address;
use crate::secrets::{hash_password, new_token, token_hash, verify_password};
use crate::{AppState, WebError};

const SIGN_IN_FORM_SECS: i64 = 3600;

const WRONG: &str = "Wrong email or password.";
const LOCKED: &str =
    "Too many failed sign-ins: sign-in is locked for this email or from this network for a while. Try again later, or ask an admin to unlock your account.";

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

/// Checks the password; on success starts a session and goes to the console. Failures are
/// counted per email, per client address and per pair; an email nobody has is counted and
/// answered exactly like a known one, after the same password check.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(input): Form<SignInForm>,
) -> Result<Response, WebError> {
    let expected = cookie_value(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_secret(&expected, &input.csrf) {
        return Ok(csrf_refused());
    }
    let config = &state.settings.console;
    let address = client_address(peer.ip(), &headers, &state.settings.web.trusted_proxies);
    let address = address.to_string();
    // No address is longer than 254 characters; a longer one is counted by its start.
    let email: String = input.email.trim().chars().take(254).collect();
    let email = email.as_str();
    let now = state.clock.now_ms();
    let refuse =
        |problem: &str, status| fresh_form(&state, &headers, &input.email, Some(problem), status);
    let mut tx = state.store.begin().await?;
    let locked = tx.sign_in_locked_until(email, &address, now).await?;
    let found = tx.agent_credentials(email).await?;
    tx.commit().await?;
    if locked.is_some() {
        return Ok(refuse(LOCKED, StatusCode::TOO_MANY_REQUESTS));
    }
    let (agent, hash) = match found {
        Some(AgentCredentials {
            agent,
            password_hash: Some(hash),
        }) => (Some(agent), Some(hash)),
        _ => (None, None),
    };
    let password = input.password.clone();
    let matches = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&hash, &password),
        // The same work as for a real account, so that time does not tell which emails exist.
        None => {
            let _ = stand_in_hash().map(|hash| verify_password(hash, &password));
            false
        }
    })
    .await
    .unwrap_or(false);
    let mut tx = state.store.begin().await?;
    let Some(agent) = agent.filter(|_| matches) else {
        let now_locked = tx
            .record_sign_in_failure(email, &address, &config.sign_in_limits(), now)
            .await?;
        tx.commit().await?;
        tracing::info!(%address, now_locked, "console sign-in failed");
        // The lock shows from the next try on, the same for known and unknown emails.
        return Ok(refuse(WRONG, StatusCode::UNAUTHORIZED));
    };
    tx.clear_sign_in_failures(email, &address).await?;
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
    state.sessions_ended.notify_waiters();
    let gone = set_cookie(&state.settings.console, SESSION_COOKIE, "", CONSOLE_PATH, 0);
    Ok(([gone], Redirect::to(SIGN_IN_PATH)).into_response())
}
