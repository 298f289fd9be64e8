//! Console sessions: the session cookie, the signed-in agent as an extractor, and the CSRF
//! token every form carries.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use relaydesk_storage::Agent;
use subtle::ConstantTimeEq;

use crate::secrets::token_hash;
use crate::{AppState, ConsoleConfig, WebError};

/// The session cookie: a random token whose SHA-256 is the session's key in the store.
pub const SESSION_COOKIE: &str = "relaydesk_console";
/// The sign-in form's CSRF cookie (double submit: the form carries the same value).
pub const SIGN_IN_COOKIE: &str = "relaydesk_sign_in";
pub const CONSOLE_PATH: &str = "/console";
pub const SIGN_IN_PATH: &str = "/console/sign-in";
pub const SIGN_OUT_PATH: &str = "/console/sign-out";
/// Where an agent changes their password (and must, first, after an admin set it).
pub const PASSWORD_PATH: &str = "/console/password";

/// The agent behind a request's session cookie. Requests without a valid session are sent to
/// the sign-in page.
#[derive(Debug, Clone)]
pub struct Session {
    pub agent: Agent,
    /// Every form of this session carries it; POSTs without it are refused.
    pub csrf: String,
    pub token_hash: String,
}

impl Session {
    /// Whether a POSTed form carries this session's token (refuse with [`csrf_refused`]).
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        same_secret(&self.csrf, submitted)
    }
}

/// The response to a form without the right CSRF token.
pub fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        super::layout::bare_page(
            "Refused",
            "This form is out of date or was not sent from the console. Go back, reload the \
             page and try again.",
        ),
    )
        .into_response()
}

/// Whether two secrets are equal, in time that does not depend on where they differ. An empty
/// secret never matches.
pub fn same_secret(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| Cookie::split_parse(header.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value for a console cookie (HttpOnly, SameSite=Lax, Secure when configured).
/// `max_age_secs` 0 removes it.
pub fn set_cookie(
    config: &ConsoleConfig,
    name: &'static str,
    value: &str,
    path: &'static str,
    max_age_secs: i64,
) -> (axum::http::HeaderName, HeaderValue) {
    let cookie = Cookie::build((name, value.to_string()))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.secure_cookie)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    let value =
        HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""));
    (SET_COOKIE, value)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to(SIGN_IN_PATH).into_response());
        };
        let hash = token_hash(&token);
        match lookup(state, &hash).await {
            Ok(Some((agent, _))) if agent.disabled => {
                Err(Redirect::to(SIGN_IN_PATH).into_response())
            }
            // A password set by an admin is changed before anything else.
            Ok(Some((agent, _)))
                if agent.must_change_password
                    && !matches!(parts.uri.path(), PASSWORD_PATH | SIGN_OUT_PATH) =>
            {
                Err(Redirect::to(PASSWORD_PATH).into_response())
            }
            Ok(Some((agent, csrf))) => Ok(Session {
                agent,
                csrf,
                token_hash: hash,
            }),
            Ok(None) => Err(Redirect::to(SIGN_IN_PATH).into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl Session {
    /// Whether this session still holds (not signed out, expired, or its agent disabled).
    pub async fn still_holds(&self, state: &AppState) -> bool {
        matches!(lookup(state, &self.token_hash).await, Ok(Some((agent, _))) if !agent.disabled)
    }
}

async fn lookup(state: &AppState, hash: &str) -> Result<Option<(Agent, String)>, WebError> {
    let mut tx = state.store.begin().await?;
    let found = tx.console_session(hash, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole_and_empty_never_matches() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; relaydesk_console=tok; b=2"),
        );
        assert_eq!(
            cookie_value(&headers, SESSION_COOKIE).as_deref(),
            Some("tok")
        );
        assert_eq!(cookie_value(&headers, SIGN_IN_COOKIE), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_same_site() {
        let config = ConsoleConfig {
            secure_cookie: true,
            ..ConsoleConfig::default()
        };
        let (_, value) = set_cookie(&config, SESSION_COOKIE, "tok", CONSOLE_PATH, 60);
        let text = value.to_str().expect("ascii");
        assert!(text.contains("HttpOnly"));
        assert!(text.contains("SameSite=Lax"));
        assert!(text.contains("Secure"));
        assert!(text.contains("Path=/console"));
    }
}
