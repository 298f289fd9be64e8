//! Delivering the outbox: one worker per platform adapter leases due rows (only the head of
//! each lane, so per-ticket order holds), resolves them into [`crate::hub::Outbound`] sends,
//! and records the outcome: delivered with the platform's id, retried with backoff, or failed
//! with a warning in the staff thread.

mod backoff;
mod coalesce;
mod resolve;
mod worker;

pub use backoff::RetryPolicy;
pub use worker::{OutboxError, OutboxWorker, WorkerOptions};
