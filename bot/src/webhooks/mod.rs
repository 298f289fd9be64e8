//! Outbound webhooks: every change to a ticket is written as a delivery in the transaction
//! that made it (see `relaydesk_storage::Subscription`), and [`WebhookWorker`] posts each one,
//! signed, to its endpoint — in order per ticket, retried until it is answered or its time is
//! up.

mod settings;
mod sign;
mod worker;

pub use settings::{endpoints, Endpoint, WebhookSettings, MIN_SECRET_CHARS};
pub use sign::{sign, signature_header, verify};
pub use worker::{WebhookError, WebhookOptions, WebhookWorker};
