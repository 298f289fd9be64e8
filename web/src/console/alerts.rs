//! The console's team channel: SLA warnings and daily summaries posted to a team whose
//! `console_channel` is set, newest first.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout;
use super::session::Session;
use crate::{AppState, WebError};

/// How many posts the page shows.
const SHOWN: i64 = 200;

/// GET /console/alerts
pub async fn show(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    let mut tx = state.store.begin().await?;
    let posts = tx.console_posts(SHOWN).await?;
    tx.commit().await?;
    let body = html! {
        h1 { "Alerts" }
        p.count { "SLA warnings and daily summaries for teams whose alert channel is the console." }
        @if posts.is_empty() {
            p { "Nothing posted yet." }
        }
        div.conversation {
            @for post in &posts {
                div.message.alert {
                    div.meta { "#" (post.channel) " · " (layout::when(post.created_at)) }
                    div.body { (post.text) }
                }
            }
        }
    };
    Ok(layout::page("Alerts", &session.agent, &session.csrf, body).into_response())
}
