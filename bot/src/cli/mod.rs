//! Administration commands of the `relaydesk` binary that work on the store directly (agents,
//! teams, API tokens, canned replies, FAQ entries, the outbox, webhook deliveries), kept apart from `main.rs` so they can be tested against a temporary database.

pub mod agent;
pub mod canned;
pub mod config_check;
pub mod faq;
pub mod healthcheck;
pub mod outbox;
pub mod report;
pub mod team;
pub mod token;
pub mod webhooks;
