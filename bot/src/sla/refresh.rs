//! Keeping a ticket's SLA row current: after anything that changes a ticket, in the same
//! transaction, its clock pauses are brought in line with its status and its goals recomputed.

use chrono::{DateTime, Utc};
use relaydesk_storage::sla::{
    business_time_between, evaluate, AlertKey, ClockInput, Goal, GoalState, GoalStatus, Level,
    TicketSla,
};
use relaydesk_storage::{StorageError, Ticket, TicketStatus, Tx};

use super::rules::SlaRules;

/// A ticket's goals as of one moment.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub ticket: Ticket,
    pub team: Option<String>,
    pub policy: Option<String>,
    pub goals: Vec<GoalStatus>,
    /// The row to store (due times filled from `goals`).
    pub sla: TicketSla,
    /// Warnings recorded so far.
    pub recorded: Vec<AlertKey>,
}

/// Computes where the ticket's goals stand at `now` from what is stored. Writes the clock
/// pause bookkeeping (a ticket not open has its clock stopped) and records, without a post,
/// breaches of goals that were met late before any scan noticed them (so summaries count
/// them); does not write the SLA row.
pub async fn evaluate_ticket(
    tx: &mut Tx,
    rules: &SlaRules,
    ticket: &Ticket,
    now: DateTime<Utc>,
) -> Result<Evaluation, StorageError> {
    let now_ms = now.timestamp_millis();
    if ticket.status == TicketStatus::Open {
        tx.resume_sla(ticket.id, now_ms).await?;
    } else {
        tx.pause_sla(ticket.id, now_ms).await?;
    }
    let stored = tx.ticket_sla(ticket.id).await?;
    let team = match ticket.team_id {
        Some(id) => tx.team_name(id).await?,
        None => None,
    };
    let waiting = ticket.status == TicketStatus::Open
        && ticket.first_agent_reply_at.is_some()
        && match (ticket.last_customer_message_at, ticket.last_agent_reply_at) {
            (Some(customer), Some(agent)) => customer > agent,
            _ => false,
        };
    let waiting_since = if waiting {
        let last_reply = ticket.last_agent_reply_at;
        stored
            .as_ref()
            .and_then(|s| s.waiting_since)
            .filter(|since| Some(*since) > last_reply)
            .or(ticket.last_customer_message_at)
    } else {
        None
    };
    let policy = rules
        .policies
        .for_ticket(ticket.priority, ticket.origin, team.as_deref());
    let resolved_at = match ticket.status {
        TicketStatus::Closed | TicketStatus::Merged => {
            Some(ticket.closed_at.unwrap_or(ticket.updated_at))
        }
        TicketStatus::Open | TicketStatus::Pending => None,
    };
    let (goals, mut recorded) = match policy {
        Some(policy) => {
            let pauses = tx.sla_pauses(ticket.id).await?;
            let input = ClockInput {
                created_at: ticket.created_at,
                first_reply_at: ticket.first_agent_reply_at,
                waiting_since,
                resolved_at,
                pauses: &pauses,
            };
            (
                evaluate(policy, &input, now),
                tx.sla_alerts(ticket.id).await?,
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    if let Some(previous) = &stored {
        for (key, due_at) in missed_breaches(previous, &goals, ticket, waiting_since, resolved_at) {
            if !recorded.contains(&key)
                && tx
                    .record_sla_alert(ticket.id, key, due_at, false, now_ms)
                    .await?
            {
                recorded.push(key);
            }
        }
    }
    let business = |end: Option<DateTime<Utc>>| {
        policy.zip(end).map(|(policy, end)| {
            business_time_between(&policy.calendar, ticket.created_at, end).num_milliseconds()
        })
    };
    let mut sla = TicketSla {
        ticket_id: ticket.id,
        policy: policy.map(|p| p.name.clone()),
        waiting_since,
        first_response_business_ms: business(ticket.first_agent_reply_at),
        resolution_business_ms: business(
            resolved_at.filter(|_| ticket.status == TicketStatus::Closed),
        ),
        ..TicketSla::default()
    };
    sla.fill(&goals, &recorded);
    Ok(Evaluation {
        ticket: ticket.clone(),
        team,
        policy: policy.map(|p| p.name.clone()),
        goals,
        sla,
        recorded,
    })
}

/// Goals that were due (per the stored row) before they were met: their breach happened
/// between two scans.
fn missed_breaches(
    previous: &TicketSla,
    goals: &[GoalStatus],
    ticket: &Ticket,
    waiting_since: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
) -> Vec<(AlertKey, DateTime<Utc>)> {
    let breach = |goal, round| AlertKey {
        goal,
        round,
        level: Level::Breach,
    };
    let mut missed = Vec::new();
    for goal in goals {
        if let GoalState::Met { at, late: true } = goal.state {
            if let Some(due) = previous.due(goal.goal).due_at.filter(|d| *d < at) {
                missed.push((breach(goal.goal, goal.round), due));
            }
        }
    }
    if let (Some(since), Some(due)) = (previous.waiting_since, previous.next_response.due_at) {
        if waiting_since != Some(since) {
            let ended = ticket
                .last_agent_reply_at
                .filter(|reply| *reply >= since)
                .or(resolved_at);
            if ended.is_some_and(|ended| due < ended) {
                missed.push((breach(Goal::NextResponse, since.timestamp_millis()), due));
            }
        }
    }
    missed
}

/// When the ticket is next due, as its ticket card shows it: the earliest due moment among its
/// running goals (met, paused and idle goals have none), not the due-soon warning moment.
pub fn card_due(sla: &TicketSla) -> Option<DateTime<Utc>> {
    [sla.first_response, sla.next_response, sla.resolution]
        .iter()
        .filter_map(|due| due.due_at)
        .min()
}

/// Recomputes and stores the ticket's SLA row. Does nothing when no SLA is configured.
pub async fn refresh(
    tx: &mut Tx,
    rules: &SlaRules,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    if rules.policies.is_empty() {
        return Ok(());
    }
    let ticket = tx.ticket(ticket_id).await?;
    let evaluation = evaluate_ticket(tx, rules, &ticket, now).await?;
    tx.save_ticket_sla(&evaluation.sla, now.timestamp_millis())
        .await
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use relaydesk_storage::sla::Due;

    use super::*;

    #[test]
    fn the_card_shows_the_earliest_running_goal_not_its_warning() {
        let at = |h| Utc.with_ymd_and_hms(2026, 5, 4, h, 0, 0).unwrap();
        let due = |h| Due {
            warn_at: Some(at(h) - Duration::minutes(30)),
            due_at: Some(at(h)),
        };
        let mut sla = TicketSla {
            first_response: due(14),
            resolution: due(18),
            ..TicketSla::default()
        };
        assert_eq!(card_due(&sla), Some(at(14)));
        // First response met: resolution is next.
        sla.first_response = Due::default();
        assert_eq!(card_due(&sla), Some(at(18)));
        sla.next_response = due(12);
        assert_eq!(card_due(&sla), Some(at(12)));
        assert_eq!(card_due(&TicketSla::default()), None);
    }
}
