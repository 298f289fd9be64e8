//! Satisfaction surveys by mail: the mail carries five signed links (1–5); a link opens a page
//! that asks to confirm (mail scanners open links; only the customer's press of the button
//! rates), and the press is a rating like a button press on a chat platform.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hmac::{Hmac, Mac};
use relaydesk_storage::Platform;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::thread::MailThread;
use super::EmailError;
use crate::hub::{Hub, Rating, RATINGS};

/// Name of the stored key that signs rating links (the same for every instance).
const KEY_NAME: &str = "email_rating_links";

/// Hex characters of a link's signature.
const SIGNATURE_CHARS: usize = 32;

/// The key rating links are signed with, made once and kept in the store.
async fn link_key(hub: &Hub) -> Result<String, EmailError> {
    let candidate = hex::encode(rand::random::<[u8; 32]>());
    let mut tx = hub.store().begin().await?;
    let key = tx
        .web_secret(KEY_NAME, &candidate, hub.clock().now_ms())
        .await?;
    tx.commit().await?;
    Ok(key)
}

fn signature(key: &str, survey_id: i64, rating: u8) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("csat:{survey_id}:{rating}").as_bytes());
    hex::encode(mac.finalize().into_bytes())[..SIGNATURE_CHARS].to_string()
}

/// The survey's text with one link per rating, or the question alone (and a warning) when
/// the server's public address is unknown.
pub async fn survey_text(
    hub: &Hub,
    public_url: Option<&str>,
    survey_id: i64,
    question: &str,
) -> Result<String, EmailError> {
    let Some(base) = public_url.map(|u| u.trim_end_matches('/')) else {
        tracing::warn!("set [web] public_url to mail rating links with surveys");
        return Ok(question.to_string());
    };
    let key = link_key(hub).await?;
    let mut text = format!("{question}\n");
    for rating in RATINGS {
        let stars: String = RATINGS
            .iter()
            .map(|r| if *r <= rating { '★' } else { '☆' })
            .collect();
        text.push_str(&format!(
            "\n{stars} {rating}/5: {base}/email/rate/{survey_id}/{rating}/{}",
            signature(&key, survey_id, rating)
        ));
    }
    Ok(text)
}

pub fn routes(hub: Hub) -> Router {
    Router::new()
        .route(
            "/email/rate/{survey}/{rating}/{signature}",
            get(confirm).post(rate),
        )
        .with_state(hub)
}

/// A link's survey and rating, if its signature holds.
async fn checked(hub: &Hub, survey: i64, rating: u8, given: &str) -> Option<(i64, u8)> {
    if !RATINGS.contains(&rating) {
        return None;
    }
    let key = link_key(hub).await.ok()?;
    let expected = signature(&key, survey, rating);
    bool::from(expected.as_bytes().ct_eq(given.as_bytes())).then_some((survey, rating))
}

fn page(title: &str, body: maud::Markup) -> Response {
    Html(
        maud::html! {
            (maud::DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    style { "body{font-family:sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem;line-height:1.5}button{font-size:1.1rem;padding:.5rem 1.2rem}" }
                }
                body { (body) }
            }
        }
        .into_string(),
    )
    .into_response()
}

fn unknown_link() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        page(
            "Link not valid",
            maud::html! { p { "This rating link is not valid." } },
        ),
    )
        .into_response()
}

/// `GET`: asks to confirm, so that a link opened by a mail scanner rates nothing.
async fn confirm(
    State(hub): State<Hub>,
    Path((survey, rating, given)): Path<(i64, u8, String)>,
) -> Response {
    let Some((_, rating)) = checked(&hub, survey, rating, &given).await else {
        return unknown_link();
    };
    let stars: String = RATINGS
        .iter()
        .map(|r| if *r <= rating { '★' } else { '☆' })
        .collect();
    page(
        "Rate our support",
        maud::html! {
            h1 { "How did we do?" }
            form method="post" {
                p { "Your rating: " span aria-label=(format!("{rating} of 5")) { (stars) } " (" (rating) "/5)" }
                button type="submit" { "Send this rating" }
            }
        },
    )
}

/// `POST`: the customer's rating, as a button press on their channel would be.
async fn rate(
    State(hub): State<Hub>,
    Path((survey, rating, given)): Path<(i64, u8, String)>,
) -> Response {
    let Some((survey, rating)) = checked(&hub, survey, rating, &given).await else {
        return unknown_link();
    };
    let address = async {
        let mut tx = hub.store().begin().await?;
        let found = tx.csat_survey(survey).await?;
        let address = match found {
            Some(s) => {
                let ticket = tx.ticket(s.ticket_id).await?;
                (ticket.origin == Platform::Email)
                    .then(|| MailThread::parse(&ticket.conversation))
                    .flatten()
                    .map(|t| t.address)
            }
            None => None,
        };
        tx.rollback().await?;
        Ok::<_, relaydesk_storage::StorageError>(address)
    }
    .await;
    let answer = match address {
        Ok(Some(address)) => {
            hub.rate(&Rating {
                platform: Platform::Email,
                user: address,
                survey_id: survey,
                rating,
                language: None,
            })
            .await
        }
        Ok(None) => return unknown_link(),
        Err(e) => Err(e.into()),
    };
    match answer {
        Ok(text) => page("Thank you", maud::html! { p { (text) } }),
        Err(e) => {
            tracing::error!(error = %e, survey, "a mailed rating was not stored");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                page(
                    "Try again",
                    maud::html! { p { "Your rating could not be stored just now; please try again in a minute." } },
                ),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_survey_and_rating() {
        let a = signature("k", 7, 5);
        assert_eq!(a.len(), SIGNATURE_CHARS);
        assert_ne!(a, signature("k", 7, 4));
        assert_ne!(a, signature("k", 8, 5));
        assert_ne!(a, signature("other", 7, 5));
    }
}
