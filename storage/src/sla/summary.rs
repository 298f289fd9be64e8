//! The figures of a team summary, as read from the store, and the statistics over them.

use chrono::{DateTime, Duration, Utc};

use crate::{Priority, TicketStatus};

/// Which tickets a summary covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every ticket.
    #[default]
    All,
    /// Tickets of one team (by id, if the team has a row), and optionally tickets of no team.
    Team {
        team_id: Option<i64>,
        with_unteamed: bool,
    },
}

/// An open ticket in the "oldest" list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTicket {
    pub number: i64,
    pub subject: String,
    pub customer: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub created_at: DateTime<Utc>,
}

/// Figures over a window `[since, now]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SummaryFacts {
    /// Active (open or pending) tickets per priority, highest first; priorities with none left out.
    pub open_by_priority: Vec<(Priority, i64)>,
    /// Tickets with a breach recorded in the window.
    pub breached: i64,
    /// Tickets with a running goal due between now and the next summary.
    pub due_before_next: i64,
    /// Creation to first agent reply, for first replies in the window.
    pub first_response: Vec<Duration>,
    /// Creation to close, for tickets closed in the window.
    pub resolution: Vec<Duration>,
    pub closed: i64,
    /// The five oldest active tickets.
    pub oldest_open: Vec<OpenTicket>,
}

/// The `p`-th percentile (nearest rank: the smallest value with at least `p` % of the values
/// at or below it). `None` for no values.
pub fn percentile(values: &[Duration], p: u32) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let n = sorted.len();
    let rank = (usize::try_from(p).unwrap_or(100) * n)
        .div_ceil(100)
        .clamp(1, n);
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let minutes = |v: &[i64]| v.iter().map(|m| Duration::minutes(*m)).collect::<Vec<_>>();
        assert_eq!(percentile(&[], 50), None);
        let ten = minutes(&[10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
        assert_eq!(percentile(&ten, 50), Some(Duration::minutes(5)));
        assert_eq!(percentile(&ten, 90), Some(Duration::minutes(9)));
        let three = minutes(&[30, 10, 20]);
        assert_eq!(percentile(&three, 50), Some(Duration::minutes(20)));
        assert_eq!(percentile(&three, 90), Some(Duration::minutes(30)));
        assert_eq!(percentile(&minutes(&[7]), 90), Some(Duration::minutes(7)));
    }
}
