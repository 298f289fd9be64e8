//! The SLA engine around the pure maths in `relaydesk_storage::sla`: configuration into rules,
//! keeping each ticket's due times current, the scheduler that posts due-soon and breach
//! warnings and the daily summaries to team channels, and the texts of both.

mod config;
mod refresh;
mod report;
mod rules;
mod scheduler;
mod summary;
mod text;

pub use config::{
    CalendarConfig, Holiday, PolicyConfig, SlaConfig, TeamConfig, DEFAULT_REPORT_CRON,
    DEFAULT_SUMMARY_CRON,
};
pub use refresh::{card_due, evaluate_ticket, refresh, Evaluation};
pub use report::{parse_since, report, ReportError};
pub use rules::{SlaRules, Team, ThreadLinks};
pub use scheduler::Pass;
pub use scheduler::{SchedulerOptions, SlaScheduler};
pub use summary::{build_summary, format_summary, Summary};
pub use text::{alert_text, goal_lines, human_duration, local_time, AlertSubject};

use relaydesk_storage::StorageError;

/// Why an SLA pass failed.
#[derive(Debug, thiserror::Error)]
pub enum SlaError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("could not encode an outbox payload: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("a ticket check stopped unexpectedly: {0}")]
    Task(String),
    #[error("escalating a breach: {0}")]
    Escalation(#[from] crate::hub::HubError),
}
