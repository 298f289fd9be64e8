//! `/api/v1/customers/{id}`: a customer with their identities, and their tickets.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::Json;

use super::auth::ApiAgent;
use super::error::{ApiError, ErrorBody};
use super::tickets::{list_request, params, ListParams};
use super::views::{CustomerView, TicketList};
use crate::AppState;

fn customer_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::invalid("id", format!("`{raw}` is not a customer id")))
}

fn no_customer(id: i64) -> ApiError {
    ApiError::not_found(format!("there is no customer {id}"))
}

/// Read a customer and the identities they wrote from.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}",
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The customer", body = CustomerView),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _who: ApiAgent,
    Path(id): Path<String>,
) -> Result<Json<CustomerView>, ApiError> {
    let id = customer_id(&id)?;
    let mut tx = state.store.begin().await?;
    let profile = tx
        .customer_profile(id)
        .await?
        .ok_or_else(|| no_customer(id))?;
    tx.rollback().await?;
    Ok(Json(profile.into()))
}

/// List a customer's tickets, with the same filters, order and pages as the ticket list.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}/tickets",
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id"), ListParams),
    responses(
        (status = 200, description = "A page of the customer's tickets", body = TicketList),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 422, description = "A filter is invalid (`field` names it)", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn tickets(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<TicketList>, ApiError> {
    let id = customer_id(&id)?;
    let p: ListParams = params(&uri)?;
    let now_ms = state.clock.now().timestamp_millis();
    let mut tx = state.store.begin().await?;
    if tx.customer_profile(id).await?.is_none() {
        return Err(no_customer(id));
    }
    let (mut filter, sort, cursor, limit) = list_request(&mut tx, &who, &p, now_ms).await?;
    filter.customer_id = Some(id);
    let page = tx
        .list_tickets(&filter, sort, cursor.as_ref(), limit)
        .await?;
    tx.rollback().await?;
    Ok(Json(page.into()))
}
