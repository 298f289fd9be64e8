//! `/api/v1/teams`: teams and their members. Every agent may read them; admins change them
//! (the rules are [`crate::teams`], shared with `relaydesk team …`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::ApiAgent;
use super::error::{ApiError, ErrorBody};
use crate::teams::{self, TeamError, TeamView};
use crate::AppState;

/// Every team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    pub items: Vec<TeamView>,
}

impl From<TeamError> for ApiError {
    fn from(e: TeamError) -> Self {
        match e {
            TeamError::BadName => ApiError::invalid("name", e.to_string()),
            TeamError::UnknownTeam(_)
            | TeamError::UnknownAgent(_)
            | TeamError::NotAMember { .. } => ApiError::not_found(e.to_string()),
            TeamError::Storage(e) => e.into(),
        }
    }
}

/// List every team with its members.
#[utoipa::path(
    get,
    path = "/api/v1/teams",
    tag = "teams",
    responses(
        (status = 200, description = "Every team", body = TeamList),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _who: ApiAgent,
) -> Result<Json<TeamList>, ApiError> {
    Ok(Json(TeamList {
        items: teams::list(&state.store).await?,
    }))
}

/// Add a team (admins). 201 when new, 200 when it exists.
#[utoipa::path(
    put,
    path = "/api/v1/teams/{name}",
    tag = "teams",
    params(("name" = String, Path, description = "The team's name (1-50 characters)")),
    responses(
        (status = 200, description = "It exists", body = TeamView),
        (status = 201, description = "Added", body = TeamView),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent is not an admin", body = ErrorBody),
        (status = 422, description = "The name is invalid", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    who.require_admin("change teams")?;
    let (team, new) = teams::add(&state.store, state.clock.as_ref(), &name).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(team)))
}

/// Remove a team (admins); its tickets keep no team.
#[utoipa::path(
    delete,
    path = "/api/v1/teams/{name}",
    tag = "teams",
    params(("name" = String, Path, description = "The team's name")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent is not an admin", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require_admin("change teams")?;
    teams::remove(&state.store, state.clock.as_ref(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make an agent a member of the team (admins).
#[utoipa::path(
    put,
    path = "/api/v1/teams/{name}/members/{agent}",
    tag = "teams",
    params(
        ("name" = String, Path, description = "The team's name"),
        ("agent" = String, Path, description = "The agent's name"),
    ),
    responses(
        (status = 200, description = "The team with its members", body = TeamView),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent is not an admin", body = ErrorBody),
        (status = 404, description = "No such team or agent", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn add_member(
    State(state): State<AppState>,
    who: ApiAgent,
    Path((name, agent)): Path<(String, String)>,
) -> Result<Json<TeamView>, ApiError> {
    who.require_admin("change teams")?;
    Ok(Json(teams::add_member(&state.store, &name, &agent).await?))
}

/// Take an agent out of the team (admins).
#[utoipa::path(
    delete,
    path = "/api/v1/teams/{name}/members/{agent}",
    tag = "teams",
    params(
        ("name" = String, Path, description = "The team's name"),
        ("agent" = String, Path, description = "The agent's name"),
    ),
    responses(
        (status = 200, description = "The team with its members", body = TeamView),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent is not an admin", body = ErrorBody),
        (status = 404, description = "No such team or agent, or not a member", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn remove_member(
    State(state): State<AppState>,
    who: ApiAgent,
    Path((name, agent)): Path<(String, String)>,
) -> Result<Json<TeamView>, ApiError> {
    who.require_admin("change teams")?;
    Ok(Json(
        teams::remove_member(&state.store, &name, &agent).await?,
    ))
}
