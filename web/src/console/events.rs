//! Live updates of an open ticket page: a server-sent event `changed` whenever the ticket
//! changes. Changes arrive from the desk's change feed at once (made here or, on PostgreSQL,
//! by another instance; a reply's delivery settling counts as a change); the page also
//! re-reads the ticket now and then (`console.refresh_seconds`) as a safety net. A stream ends
//! as soon as its session does (signed out here at once; elsewhere within a re-read).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use relaydesk_storage::TicketWatch;

use super::session::Session;
use crate::{AppState, WebError};

/// What tells one version of a ticket from the next: last change and last message.
type Fingerprint = (i64, Option<i64>);

struct Watch {
    state: AppState,
    session: Session,
    ticket_id: i64,
    number: i64,
    changes: TicketWatch,
    tick: tokio::time::Interval,
    seen: Option<Fingerprint>,
}

/// GET /console/tickets/{number}/events
pub async fn ticket_events(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<i64>,
) -> Result<Response, WebError> {
    let mut tx = state.store.begin().await?;
    let ticket = tx.ticket_by_number(number).await?;
    tx.commit().await?;
    let Some(ticket) = ticket else {
        return Ok(axum::http::StatusCode::NOT_FOUND.into_response());
    };
    let every = Duration::from_secs(u64::from(state.settings.console.refresh_seconds.max(1)));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut changes = state.desk.watch();
    changes.add(ticket.id);
    let watch = Watch {
        changes,
        seen: fingerprint(&state, ticket.id).await.ok(),
        state,
        session,
        ticket_id: ticket.id,
        number,
        tick,
    };
    Ok(Sse::new(changed_events(watch))
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn changed_events(watch: Watch) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(watch, |mut w| async move {
        loop {
            let ended = w.state.sessions_ended.clone();
            let heard = tokio::select! {
                () = w.changes.changed() => true,
                () = ended.notified() => false,
                _ = w.tick.tick() => {
                    let now = fingerprint(&w.state, w.ticket_id).await.ok();
                    now.is_some() && now != w.seen
                }
            };
            // A signed-out session hears nothing more: the stream ends.
            if !w.session.still_holds(&w.state).await {
                return None;
            }
            if heard {
                w.seen = fingerprint(&w.state, w.ticket_id).await.ok();
                let event = Event::default().event("changed").data(w.number.to_string());
                return Some((Ok(event), w));
            }
        }
    })
}

async fn fingerprint(state: &AppState, ticket_id: i64) -> Result<Fingerprint, WebError> {
    let mut tx = state.store.begin().await?;
    let ticket = tx.ticket(ticket_id).await?;
    let last = tx.messages(ticket_id).await?.last().map(|m| m.id);
    tx.commit().await?;
    Ok((ticket.updated_at.timestamp_millis(), last))
}

/// What a ticket list watches: any ticket changing.
struct ListWatch {
    state: AppState,
    session: Session,
    changes: TicketWatch,
    tick: tokio::time::Interval,
    /// When the store was last looked at for changes the feed may not have told of.
    checked_ms: i64,
}

/// GET /console/events: `changed` whenever any ticket changes (lists and their counts).
pub async fn list_events(State(state): State<AppState>, session: Session) -> Response {
    let every = Duration::from_secs(u64::from(state.settings.console.refresh_seconds.max(1)));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut changes = state.desk.watch();
    changes.add_every_ticket();
    let watch = ListWatch {
        checked_ms: state.clock.now_ms(),
        state,
        session,
        changes,
        tick,
    };
    Sse::new(list_changed_events(watch))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn list_changed_events(watch: ListWatch) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(watch, |mut w| async move {
        loop {
            let ended = w.state.sessions_ended.clone();
            let heard = tokio::select! {
                () = w.changes.changed() => true,
                () = ended.notified() => false,
                _ = w.tick.tick() => {
                    // The safety net: a change the feed missed still shows within a tick.
                    let since = w.checked_ms;
                    w.checked_ms = w.state.clock.now_ms();
                    changed_since(&w.state, since).await
                }
            };
            if !w.session.still_holds(&w.state).await {
                return None;
            }
            if heard {
                // EventSource drops an event without data: say which list it is about.
                return Some((Ok(Event::default().event("changed").data("tickets")), w));
            }
        }
    })
}

async fn changed_since(state: &AppState, since_ms: i64) -> bool {
    let changed = async {
        let mut tx = state.store.begin().await?;
        let ids = tx.tickets_changed_since(since_ms).await?;
        tx.commit().await?;
        Ok::<_, WebError>(!ids.is_empty())
    };
    changed.await.unwrap_or(false)
}
