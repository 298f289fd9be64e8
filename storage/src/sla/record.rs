//! What the store keeps about a ticket's SLA and the warnings posted for it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::policy::Goal;
use super::state::GoalStatus;
use crate::StorageError;

/// A warning's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    DueSoon,
    Breach,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::DueSoon => "due_soon",
            Level::Breach => "breach",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "due_soon" => Ok(Level::DueSoon),
            "breach" => Ok(Level::Breach),
            other => Err(StorageError::Corrupt(format!(
                "`{other}` is not an SLA level"
            ))),
        }
    }
}

impl FromStr for Goal {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Goal::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| StorageError::Corrupt(format!("`{s}` is not an SLA goal")))
    }
}

/// One warning: a level of one occurrence of a goal of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub goal: Goal,
    pub round: i64,
    pub level: Level,
}

/// A ticket's stored SLA row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketSla {
    pub ticket_id: i64,
    /// The policy that applied when it was computed; `None` when none matched.
    pub policy: Option<String>,
    /// The first customer message still waiting on a reply, once the ticket has had one.
    pub waiting_since: Option<DateTime<Utc>>,
    pub first_response: Due,
    pub next_response: Due,
    pub resolution: Due,
    /// The earliest warning or breach not yet recorded: the scheduler looks again then.
    pub next_due_at: Option<DateTime<Utc>>,
    /// Opening to first agent reply in the policy's business hours, once replied.
    pub first_response_business_ms: Option<i64>,
    /// Opening to close in the policy's business hours, while closed.
    pub resolution_business_ms: Option<i64>,
}

/// A running goal's due-soon and due moments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Due {
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

impl TicketSla {
    pub fn due(&self, goal: Goal) -> Due {
        match goal {
            Goal::FirstResponse => self.first_response,
            Goal::NextResponse => self.next_response,
            Goal::Resolution => self.resolution,
        }
    }

    /// Fills the due columns from evaluated goals, and `next_due_at` from the ones whose
    /// warnings are not in `recorded` yet.
    pub fn fill(&mut self, statuses: &[GoalStatus], recorded: &[AlertKey]) {
        self.first_response = Due::default();
        self.next_response = Due::default();
        self.resolution = Due::default();
        self.next_due_at = None;
        for status in statuses {
            let due = Due {
                warn_at: status.warn_at,
                due_at: status.due_at,
            };
            match status.goal {
                Goal::FirstResponse => self.first_response = due,
                Goal::NextResponse => self.next_response = due,
                Goal::Resolution => self.resolution = due,
            }
            for (level, at) in [
                (Level::DueSoon, status.warn_at),
                (Level::Breach, status.due_at),
            ] {
                let Some(at) = at else { continue };
                let key = AlertKey {
                    goal: status.goal,
                    round: status.round,
                    level,
                };
                if !recorded.contains(&key) && self.next_due_at.is_none_or(|n| at < n) {
                    self.next_due_at = Some(at);
                }
            }
        }
    }
}
