//! SLA policies: which goals apply to a ticket and how long each may take.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::Duration;

use super::calendar::Calendar;
use crate::{Platform, Priority};

/// The three clocks of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Goal {
    /// From the ticket's creation to the first agent reply.
    FirstResponse,
    /// From a customer message that waits on us (after an earlier agent reply) to the next reply.
    NextResponse,
    /// From creation to close.
    Resolution,
}

impl Goal {
    pub const ALL: [Goal; 3] = [Goal::FirstResponse, Goal::NextResponse, Goal::Resolution];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Goal::FirstResponse => "first_response",
            Goal::NextResponse => "next_response",
            Goal::Resolution => "resolution",
        }
    }

    /// How people read it.
    pub fn label(self) -> &'static str {
        match self {
            Goal::FirstResponse => "first response",
            Goal::NextResponse => "next response",
            Goal::Resolution => "resolution",
        }
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// When a running goal counts as "due soon".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueSoon {
    /// When this percentage of the goal's time (1–99) is left.
    Percent(u8),
    /// When this much business time is left (capped at the goal itself).
    Left(Duration),
}

impl DueSoon {
    /// Business time left at which the warning is due, for a goal of `limit`.
    pub fn threshold(self, limit: Duration) -> Duration {
        match self {
            DueSoon::Percent(p) => limit * i32::from(p) / 100,
            DueSoon::Left(d) => d.min(limit),
        }
    }
}

impl Default for DueSoon {
    fn default() -> Self {
        DueSoon::Percent(20)
    }
}

/// Why a due-soon threshold does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a due-soon threshold: use a percentage of the goal (`20%`) or a duration (`10m`)"
)]
pub struct BadThreshold(pub String);

impl FromStr for DueSoon {
    type Err = BadThreshold;

    /// `20%` or a duration: `90s`, `15m`, `2h`, `1d` (or combinations like `1h30m`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadThreshold(s.to_string());
        let text = s.trim();
        if let Some(p) = text.strip_suffix('%') {
            let p: u8 = p.trim().parse().map_err(|_| bad())?;
            return if (1..=99).contains(&p) {
                Ok(DueSoon::Percent(p))
            } else {
                Err(bad())
            };
        }
        let d = parse_duration(text).ok_or_else(bad)?;
        if d <= Duration::zero() {
            return Err(bad());
        }
        Ok(DueSoon::Left(d))
    }
}

/// `1h30m`, `15m`, `90s`, `2d`: whole numbers with units s, m, h, d.
fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::zero();
    let mut number = String::new();
    if text.is_empty() {
        return None;
    }
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        total += match c {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            _ => return None,
        };
    }
    number.is_empty().then_some(total)
}

/// One goal of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Business time allowed.
    pub limit: Duration,
    pub due_soon: DueSoon,
}

/// Goals for the tickets a policy matches. Criteria left empty match anything.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub priority: Option<Priority>,
    /// The ticket's origin channel.
    pub channel: Option<Platform>,
    pub team: Option<String>,
    pub calendar: Arc<Calendar>,
    pub first_response: Option<Target>,
    pub next_response: Option<Target>,
    pub resolution: Option<Target>,
}

impl Policy {
    pub fn target(&self, goal: Goal) -> Option<Target> {
        match goal {
            Goal::FirstResponse => self.first_response,
            Goal::NextResponse => self.next_response,
            Goal::Resolution => self.resolution,
        }
    }

    /// How many criteria it names, if it matches; `None` when it does not.
    fn specificity(&self, priority: Priority, channel: Platform, team: Option<&str>) -> Option<u8> {
        let mut score = 0;
        if let Some(p) = self.priority {
            if p != priority {
                return None;
            }
            score += 1;
        }
        if let Some(c) = self.channel {
            if c != channel {
                return None;
            }
            score += 1;
        }
        if let Some(t) = &self.team {
            if Some(t.as_str()) != team {
                return None;
            }
            score += 1;
        }
        Some(score)
    }
}

/// Every configured policy, in configuration order.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: Vec<Policy>,
}

impl PolicySet {
    pub fn new(policies: Vec<Policy>) -> Self {
        Self { policies }
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The policy for a ticket: the matching one naming the most criteria; among equally
    /// specific ones, the first configured.
    pub fn for_ticket(
        &self,
        priority: Priority,
        channel: Platform,
        team: Option<&str>,
    ) -> Option<&Policy> {
        let mut best: Option<(u8, &Policy)> = None;
        for policy in &self.policies {
            if let Some(score) = policy.specificity(priority, channel, team) {
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, policy));
                }
            }
        }
        best.map(|(_, p)| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(
        name: &str,
        priority: Option<Priority>,
        channel: Option<Platform>,
        team: Option<&str>,
    ) -> Policy {
        Policy {
            name: name.into(),
            priority,
            channel,
            team: team.map(String::from),
            calendar: Arc::new(Calendar::Always),
            first_response: Some(Target {
                limit: Duration::hours(4),
                due_soon: DueSoon::default(),
            }),
            next_response: None,
            resolution: None,
        }
    }

    #[test]
    fn the_most_specific_matching_policy_wins() {
        let set = PolicySet::new(vec![
            policy("all", None, None, None),
            policy("urgent", Some(Priority::Urgent), None, None),
            policy(
                "urgent-telegram",
                Some(Priority::Urgent),
                Some(Platform::Telegram),
                None,
            ),
            policy("billing", None, None, Some("billing")),
            policy("urgent-again", Some(Priority::Urgent), None, None),
        ]);
        let name = |p, c, t| set.for_ticket(p, c, t).map(|p| p.name.clone());
        assert_eq!(
            name(Priority::Normal, Platform::Discord, None).as_deref(),
            Some("all")
        );
        assert_eq!(
            name(Priority::Urgent, Platform::Discord, None).as_deref(),
            Some("urgent")
        );
        assert_eq!(
            name(Priority::Urgent, Platform::Telegram, None).as_deref(),
            Some("urgent-telegram")
        );
        assert_eq!(
            name(Priority::Low, Platform::Web, Some("billing")).as_deref(),
            Some("billing")
        );
        // Two criteria beat one.
        assert_eq!(
            name(Priority::Urgent, Platform::Telegram, Some("billing")).as_deref(),
            Some("urgent-telegram")
        );
        let narrow = PolicySet::new(vec![policy("urgent", Some(Priority::Urgent), None, None)]);
        assert!(narrow
            .for_ticket(Priority::Low, Platform::Web, None)
            .is_none());
    }

    #[test]
    fn due_soon_thresholds_parse_and_scale() {
        assert_eq!("20%".parse::<DueSoon>(), Ok(DueSoon::Percent(20)));
        assert_eq!(
            "10m".parse::<DueSoon>(),
            Ok(DueSoon::Left(Duration::minutes(10)))
        );
        assert_eq!(
            "1h30m".parse::<DueSoon>(),
            Ok(DueSoon::Left(Duration::minutes(90)))
        );
        for bad in ["0%", "100%", "soon", "", "10", "5x", "0m"] {
            assert!(bad.parse::<DueSoon>().is_err(), "{bad}");
        }
        assert_eq!(
            DueSoon::Percent(25).threshold(Duration::hours(4)),
            Duration::hours(1)
        );
        assert_eq!(
            DueSoon::Left(Duration::hours(2)).threshold(Duration::minutes(30)),
            Duration::minutes(30)
        );
    }
}
