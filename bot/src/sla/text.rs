//! The texts of SLA warnings and of `/sla`. Plain text: channels send it without markup.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use relaydesk_storage::sla::{Goal, GoalState, GoalStatus, Level};

/// `2d 3h`, `1h 5m`, `12m`, `<1m`: at most two units.
pub fn human_duration(d: Duration) -> String {
    let minutes = d.num_minutes().abs();
    if minutes < 1 {
        return "<1m".to_string();
    }
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// `Mon 23 Nov 14:05 EET`.
pub fn local_time(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .format("%a %d %b %H:%M %Z")
        .to_string()
}

/// What a warning says about its ticket.
#[derive(Debug, Clone)]
pub struct AlertSubject<'a> {
    pub number: i64,
    pub subject: &'a str,
    pub customer: &'a str,
    pub assignee: Option<&'a str>,
    pub priority: relaydesk_storage::Priority,
    /// Links (or references) to the ticket's staff threads.
    pub threads: &'a [String],
}

/// One due-soon or breach warning.
pub fn alert_text(
    ticket: &AlertSubject<'_>,
    goal: Goal,
    level: Level,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: Tz,
) -> String {
    let headline = match level {
        Level::DueSoon => format!(
            "SLA due soon: #{} {} due in {} ({})",
            ticket.number,
            goal.label(),
            human_duration(due_at - now),
            local_time(due_at, zone)
        ),
        Level::Breach => format!(
            "SLA breached: #{} {} overdue by {} (was due {})",
            ticket.number,
            goal.label(),
            human_duration(now - due_at),
            local_time(due_at, zone)
        ),
    };
    let assignee = ticket.assignee.unwrap_or("unassigned");
    let mut text = format!(
        "{headline}\nCustomer: {} · Assignee: {assignee} · Priority: {}\nSubject: {}",
        ticket.customer, ticket.priority, ticket.subject
    );
    for thread in ticket.threads {
        text.push_str(&format!("\nThread: {thread}"));
    }
    text
}

/// One line per goal, for `/sla`.
pub fn goal_lines(goals: &[GoalStatus], now: DateTime<Utc>, zone: Tz) -> Vec<String> {
    goals
        .iter()
        .map(|g| {
            let state = match g.state {
                GoalState::Ok | GoalState::DueSoon => {
                    let due = g.due_at.map_or_else(
                        || "not within the calendar's hours".to_string(),
                        |d| {
                            format!(
                                "due in {} ({})",
                                human_duration(d - now),
                                local_time(d, zone)
                            )
                        },
                    );
                    let soon = if g.state == GoalState::DueSoon {
                        "due soon, "
                    } else {
                        ""
                    };
                    format!("{soon}{due}")
                }
                GoalState::Breached => match g.due_at {
                    Some(d) => format!(
                        "breached, overdue by {} (was due {})",
                        human_duration(now - d),
                        local_time(d, zone)
                    ),
                    None => "breached".to_string(),
                },
                GoalState::Paused { left } => {
                    format!(
                        "paused (waiting on the customer), {} left",
                        human_duration(left)
                    )
                }
                GoalState::Met { at, late } => format!(
                    "met {}{}",
                    local_time(at, zone),
                    if late { " (late)" } else { "" }
                ),
                GoalState::Idle => "not running (nothing waits on us)".to_string(),
            };
            format!("{}: {state}", g.goal.label())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::seconds(20)), "<1m");
        assert_eq!(human_duration(Duration::minutes(12)), "12m");
        assert_eq!(human_duration(Duration::minutes(65)), "1h 5m");
        assert_eq!(human_duration(Duration::hours(3)), "3h");
        assert_eq!(human_duration(Duration::hours(51)), "2d 3h");
        assert_eq!(human_duration(Duration::hours(48)), "2d");
        assert_eq!(human_duration(Duration::minutes(-12)), "12m");
    }

    #[test]
    fn a_breach_warning_names_ticket_customer_assignee_goal_and_overdue_time() {
        let due = Utc.with_ymd_and_hms(2026, 11, 23, 12, 5, 0).unwrap();
        let threads = vec!["https://discord.com/channels/111/998877".to_string()];
        let subject = AlertSubject {
            number: 1042,
            subject: "printer on fire",
            customer: "Anna K.",
            assignee: None,
            priority: relaydesk_storage::Priority::Urgent,
            threads: &threads,
        };
        let zone: Tz = "Europe/Helsinki".parse().unwrap();
        let text = alert_text(
            &subject,
            Goal::FirstResponse,
            Level::Breach,
            due,
            due + Duration::minutes(7),
            zone,
        );
        assert_eq!(
            text,
            "SLA breached: #1042 first response overdue by 7m (was due Mon 23 Nov 14:05 EET)\n\
             Customer: Anna K. · Assignee: unassigned · Priority: urgent\n\
             Subject: printer on fire\nThread: https://discord.com/channels/111/998877"
        );
    }
}
