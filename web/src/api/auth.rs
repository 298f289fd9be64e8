//! Bearer-token authentication and the per-token rate limit.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use relaydesk_storage::Agent;

use super::error::ApiError;
use crate::secrets::token_hash;
use crate::AppState;

/// Requests per minute one token may make when `[web] api_requests_per_minute` is unset.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 300;

/// The per-token request budget, shared by every API route of this process.
#[derive(Debug, Clone)]
pub struct RateLimits {
    limiter: Arc<DefaultKeyedRateLimiter<i64>>,
    clock: DefaultClock,
}

impl RateLimits {
    /// `per_minute` requests a minute, all of which may come at once.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a request of token `token_id`; refuses it with the wait when over budget.
    fn check(&self, token_id: i64) -> Result<(), ApiError> {
        self.limiter.check_key(&token_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::rate_limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        })
    }
}

/// The agent a request's bearer token acts as.
#[derive(Debug, Clone)]
pub struct ApiAgent {
    pub agent: Agent,
}

impl ApiAgent {
    /// Refuses (403) unless the token's agent is an admin; `what` says what is refused.
    pub fn require_admin(&self, what: &str) -> Result<(), ApiError> {
        if self.agent.role == relaydesk_storage::Role::Admin {
            Ok(())
        } else {
            Err(crate::DeskError::Forbidden(format!("only admins {what}")).into())
        }
    }
}

/// The agent a request's `Authorization: Bearer <API token>` acts as (the token's last use is
/// recorded). Refuses a missing, unknown or revoked token and a disabled agent's.
pub async fn bearer_agent(
    store: &relaydesk_storage::Store,
    now_ms: i64,
    headers: &axum::http::HeaderMap,
) -> Result<(i64, Agent), ApiError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <API token>"))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <API token>"))?;
    let mut tx = store.begin().await?;
    let found = tx.use_api_token(&token_hash(token), now_ms).await?;
    tx.commit().await?;
    let (token, agent) =
        found.ok_or_else(|| ApiError::unauthorized("the API token is unknown or revoked"))?;
    if agent.disabled {
        return Err(ApiError::unauthorized("the API token's agent is disabled"));
    }
    Ok((token.id, agent))
}

impl FromRequestParts<AppState> for ApiAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now_ms = state.clock.now().timestamp_millis();
        let (token_id, agent) = bearer_agent(&state.store, now_ms, &parts.headers).await?;
        let limits = parts
            .extensions
            .get::<RateLimits>()
            .ok_or_else(|| {
                tracing::error!("the API router is missing its rate limits");
                ApiError::internal()
            })?
            .clone();
        limits.check(token_id)?;
        Ok(ApiAgent { agent })
    }
}
