//! The daily summary: figures from the store, laid out as plain text.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use relaydesk_storage::sla::{percentile, Scope, SummaryFacts};
use relaydesk_storage::{StorageError, Tx};

use super::rules::{SlaRules, Team};
use super::text::{human_duration, local_time};

/// A summary ready to print or post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Team name, or `all tickets`.
    pub title: String,
    pub zone: Tz,
    pub since: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub next: DateTime<Utc>,
    pub facts: SummaryFacts,
}

/// Reads the figures for `team` (every ticket when `None`) over `[since, now]`.
pub async fn build_summary(
    tx: &mut Tx,
    rules: &SlaRules,
    team: Option<&Team>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    next: DateTime<Utc>,
) -> Result<Summary, StorageError> {
    let scope = match team {
        None => Scope::All,
        Some(team) => Scope::Team {
            team_id: tx.team_id_by_name(&team.name).await?,
            with_unteamed: rules.is_default_team(team),
        },
    };
    let facts = tx.sla_summary(scope, since, now, next).await?;
    Ok(Summary {
        title: team.map_or_else(|| "all tickets".to_string(), |t| t.name.clone()),
        zone: team.map_or(Tz::UTC, |t| t.zone),
        since,
        now,
        next,
        facts,
    })
}

/// The summary as posted and printed.
pub fn format_summary(s: &Summary) -> String {
    let f = &s.facts;
    let window = human_duration(s.now - s.since);
    let mut out = format!(
        "SLA summary · {} · {}\n",
        s.title,
        local_time(s.now, s.zone)
    );
    let open: i64 = f.open_by_priority.iter().map(|(_, n)| n).sum();
    let by_priority: Vec<String> = f
        .open_by_priority
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    if by_priority.is_empty() {
        out.push_str("Open tickets: 0\n");
    } else {
        out.push_str(&format!(
            "Open tickets: {open} ({})\n",
            by_priority.join(", ")
        ));
    }
    out.push_str(&format!("Breached in the last {window}: {}\n", f.breached));
    out.push_str(&format!(
        "Due before the next summary ({}): {}\n",
        local_time(s.next, s.zone),
        f.due_before_next
    ));
    let stats = |name: &str, values: &[chrono::Duration]| match (
        percentile(values, 50),
        percentile(values, 90),
    ) {
        (Some(median), Some(p90)) => format!(
            "{name} ({} in the last {window}): median {}, 90th percentile {}\n",
            values.len(),
            human_duration(median),
            human_duration(p90)
        ),
        _ => format!("{name}: none in the last {window}\n"),
    };
    out.push_str(&stats("First response", &f.first_response));
    out.push_str(&stats("Resolution", &f.resolution));
    out.push_str(&format!("Closed in the last {window}: {}\n", f.closed));
    if f.oldest_open.is_empty() {
        out.push_str("Oldest open tickets: none");
    } else {
        out.push_str("Oldest open tickets:");
        for t in &f.oldest_open {
            out.push_str(&format!(
                "\n  #{} · {} · {} · {} · {} · open for {}",
                t.number,
                t.customer,
                t.subject,
                t.priority,
                t.status,
                human_duration(s.now - t.created_at)
            ));
        }
    }
    out
}
