//! Where each goal of a ticket stands: its due time, its due-soon time and its state, from the
//! ticket's timestamps and the intervals during which its clock was stopped.

use chrono::{DateTime, Duration, Utc};

use super::calendar::{add_business_time, business_time_between, Calendar};
use super::policy::{Goal, Policy};

/// An interval during which the clock stood still (the ticket waited on the customer or was
/// closed). `end` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// What the clocks are computed from.
#[derive(Debug, Clone, Copy)]
pub struct ClockInput<'a> {
    pub created_at: DateTime<Utc>,
    pub first_reply_at: Option<DateTime<Utc>>,
    /// The first customer message still waiting on an agent reply, once the ticket has had one.
    pub waiting_since: Option<DateTime<Utc>>,
    /// When the ticket was closed (or merged), if it is.
    pub resolved_at: Option<DateTime<Utc>>,
    /// In start order.
    pub pauses: &'a [Pause],
}

/// Where one goal stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalState {
    /// Running, more than the due-soon threshold left.
    Ok,
    DueSoon,
    Breached,
    /// The clock is stopped with this much business time left.
    Paused {
        left: Duration,
    },
    /// Reached at `at`; `late` when after its due time.
    Met {
        at: DateTime<Utc>,
        late: bool,
    },
    /// The goal does not apply now (no next-response wait going on).
    Idle,
}

/// One goal of one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoalStatus {
    pub goal: Goal,
    /// Which occurrence of the goal: the next-response wait it belongs to (its start in ms),
    /// 0 for the goals a ticket has once.
    pub round: i64,
    /// Set while the clock runs.
    pub due_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub state: GoalState,
}

/// How a clock started at some moment ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// The business time runs out at this instant.
    At(DateTime<Utc>),
    /// The clock is stopped (an open pause) with this much left.
    Stopped(Duration),
    /// The calendar never gets there.
    Never,
}

/// Where a clock started at `start` with `limit` of business time runs out, skipping pauses.
pub fn walk(calendar: &Calendar, start: DateTime<Utc>, limit: Duration, pauses: &[Pause]) -> Walk {
    let mut left = limit;
    let mut cursor = start;
    for pause in pauses {
        let end = pause.end;
        if end.is_some_and(|e| e <= cursor) {
            continue;
        }
        if pause.start > cursor {
            let running = business_time_between(calendar, cursor, pause.start);
            if running >= left {
                return add_business_time(calendar, cursor, left).map_or(Walk::Never, Walk::At);
            }
            left -= running;
        }
        match end {
            Some(e) => cursor = cursor.max(e),
            None => return Walk::Stopped(left),
        }
    }
    add_business_time(calendar, cursor, left).map_or(Walk::Never, Walk::At)
}

/// Every goal the policy sets, evaluated at `now`.
pub fn evaluate(policy: &Policy, input: &ClockInput<'_>, now: DateTime<Utc>) -> Vec<GoalStatus> {
    let calendar = policy.calendar.as_ref();
    let mut out = Vec::new();
    for goal in Goal::ALL {
        let Some(target) = policy.target(goal) else {
            continue;
        };
        let (start, met, round) = match goal {
            Goal::FirstResponse => (input.created_at, input.first_reply_at, 0),
            Goal::Resolution => (input.created_at, input.resolved_at, 0),
            Goal::NextResponse => match input.waiting_since {
                Some(since) if input.resolved_at.is_none() => {
                    (since, None, since.timestamp_millis())
                }
                _ => {
                    out.push(GoalStatus {
                        goal,
                        round: 0,
                        due_at: None,
                        warn_at: None,
                        state: GoalState::Idle,
                    });
                    continue;
                }
            },
        };
        let due = walk(calendar, start, target.limit, input.pauses);
        if let Some(at) = met {
            let late = matches!(due, Walk::At(d) if at > d);
            out.push(GoalStatus {
                goal,
                round,
                due_at: None,
                warn_at: None,
                state: GoalState::Met { at, late },
            });
            continue;
        }
        let warn_limit = target.limit - target.due_soon.threshold(target.limit);
        let warn = walk(calendar, start, warn_limit, input.pauses);
        let status = match (due, warn) {
            (Walk::At(due_at), warn) => {
                let warn_at = match warn {
                    Walk::At(w) => w,
                    _ => due_at,
                };
                let state = if now >= due_at {
                    GoalState::Breached
                } else if now >= warn_at {
                    GoalState::DueSoon
                } else {
                    GoalState::Ok
                };
                GoalStatus {
                    goal,
                    round,
                    due_at: Some(due_at),
                    warn_at: Some(warn_at),
                    state,
                }
            }
            (Walk::Stopped(left), _) => GoalStatus {
                goal,
                round,
                due_at: None,
                warn_at: None,
                state: GoalState::Paused { left },
            },
            (Walk::Never, _) => GoalStatus {
                goal,
                round,
                due_at: None,
                warn_at: None,
                state: GoalState::Ok,
            },
        };
        out.push(status);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::Tz;

    use super::*;
    use crate::sla::calendar::{BusinessHours, Span};
    use crate::sla::policy::{DueSoon, Target};
    use crate::{Clock, FakeClock};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
    }

    fn policy(calendar: Calendar) -> Policy {
        let target = |minutes| {
            Some(Target {
                limit: Duration::minutes(minutes),
                due_soon: DueSoon::Percent(20),
            })
        };
        Policy {
            name: "test".into(),
            priority: None,
            channel: None,
            team: None,
            calendar: Arc::new(calendar),
            first_response: target(15),
            next_response: target(30),
            resolution: target(240),
        }
    }

    fn state_of(statuses: &[GoalStatus], goal: Goal) -> GoalStatus {
        *statuses
            .iter()
            .find(|s| s.goal == goal)
            .expect("goal present")
    }

    #[test]
    fn first_response_goes_ok_then_due_soon_then_breached_as_the_clock_moves() {
        let p = policy(Calendar::Always);
        let clock = FakeClock::at(at(10, 0));
        let input = ClockInput {
            created_at: at(10, 0),
            first_reply_at: None,
            waiting_since: None,
            resolved_at: None,
            pauses: &[],
        };
        let first = |now| state_of(&evaluate(&p, &input, now), Goal::FirstResponse);
        assert_eq!(first(clock.now()).state, GoalState::Ok);
        assert_eq!(first(clock.now()).due_at, Some(at(10, 15)));
        assert_eq!(first(clock.now()).warn_at, Some(at(10, 12)));
        clock.advance(Duration::minutes(12));
        assert_eq!(first(clock.now()).state, GoalState::DueSoon);
        clock.advance(Duration::minutes(3));
        assert_eq!(first(clock.now()).state, GoalState::Breached);
        // No next-response wait yet.
        assert_eq!(
            state_of(&evaluate(&p, &input, clock.now()), Goal::NextResponse).state,
            GoalState::Idle
        );
    }

    #[test]
    fn a_reply_meets_first_response_and_late_replies_are_marked() {
        let p = policy(Calendar::Always);
        let mut input = ClockInput {
            created_at: at(10, 0),
            first_reply_at: Some(at(10, 10)),
            waiting_since: None,
            resolved_at: None,
            pauses: &[],
        };
        let s = state_of(&evaluate(&p, &input, at(11, 0)), Goal::FirstResponse);
        assert_eq!(
            s.state,
            GoalState::Met {
                at: at(10, 10),
                late: false
            }
        );
        assert_eq!(s.due_at, None);
        input.first_reply_at = Some(at(10, 20));
        let s = state_of(&evaluate(&p, &input, at(11, 0)), Goal::FirstResponse);
        assert_eq!(
            s.state,
            GoalState::Met {
                at: at(10, 20),
                late: true
            }
        );
    }

    #[test]
    fn next_response_runs_from_the_waiting_customer_message_in_its_own_round() {
        let p = policy(Calendar::Always);
        let input = ClockInput {
            created_at: at(9, 0),
            first_reply_at: Some(at(9, 5)),
            waiting_since: Some(at(10, 0)),
            resolved_at: None,
            pauses: &[Pause {
                start: at(9, 5),
                end: Some(at(10, 0)),
            }],
        };
        let s = state_of(&evaluate(&p, &input, at(10, 25)), Goal::NextResponse);
        assert_eq!(s.due_at, Some(at(10, 30)));
        assert_eq!(s.warn_at, Some(at(10, 24)));
        assert_eq!(s.state, GoalState::DueSoon);
        assert_eq!(s.round, at(10, 0).timestamp_millis());
        // Resolution skipped the 55 minutes waiting on the customer: 13:00 + 0:55.
        let r = state_of(&evaluate(&p, &input, at(10, 25)), Goal::Resolution);
        assert_eq!(r.due_at, Some(at(13, 55)));
    }

    #[test]
    fn pending_stops_the_clock_and_a_customer_reply_restarts_it() {
        let p = policy(Calendar::Always);
        let open_pause = [Pause {
            start: at(10, 5),
            end: None,
        }];
        let input = ClockInput {
            created_at: at(10, 0),
            first_reply_at: None,
            waiting_since: None,
            resolved_at: None,
            pauses: &open_pause,
        };
        let s = state_of(&evaluate(&p, &input, at(15, 0)), Goal::FirstResponse);
        assert_eq!(
            s.state,
            GoalState::Paused {
                left: Duration::minutes(10)
            }
        );
        assert_eq!(s.due_at, None);
        let closed_pause = [Pause {
            start: at(10, 5),
            end: Some(at(14, 0)),
        }];
        let input = ClockInput {
            pauses: &closed_pause,
            ..input
        };
        let s = state_of(&evaluate(&p, &input, at(14, 0)), Goal::FirstResponse);
        assert_eq!(s.due_at, Some(at(14, 10)));
        assert_eq!(s.state, GoalState::Ok);
        // A pause that starts after the goal was already breached does not undo the breach.
        let late_pause = [Pause {
            start: at(10, 30),
            end: Some(at(12, 0)),
        }];
        let input = ClockInput {
            pauses: &late_pause,
            ..input
        };
        let s = state_of(&evaluate(&p, &input, at(12, 0)), Goal::FirstResponse);
        assert_eq!(s.due_at, Some(at(10, 15)));
        assert_eq!(s.state, GoalState::Breached);
    }

    #[test]
    fn business_hours_and_pauses_combine_across_a_weekend_in_two_zones() {
        for zone in ["Europe/Helsinki", "America/New_York"] {
            let tz: Tz = zone.parse().unwrap();
            let local = |d, h, m| {
                tz.with_ymd_and_hms(2026, 11, d, h, m, 0)
                    .unwrap()
                    .with_timezone(&Utc)
            };
            let day = || vec![Span::parse("09:00-17:00").unwrap()];
            let holiday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
            let calendar = Calendar::Business(
                BusinessHours::new(
                    zone,
                    [day(), day(), day(), day(), day(), vec![], vec![]],
                    [holiday],
                )
                .unwrap(),
            );
            let mut p = policy(calendar);
            p.resolution = Some(Target {
                limit: Duration::hours(4),
                due_soon: DueSoon::Left(Duration::minutes(30)),
            });
            // Opened Friday 15:00, pending 15:30–16:30 the same day; Monday is a holiday.
            let pauses = [Pause {
                start: local(20, 15, 30),
                end: Some(local(20, 16, 30)),
            }];
            let input = ClockInput {
                created_at: local(20, 15, 0),
                first_reply_at: Some(local(20, 15, 30)),
                waiting_since: None,
                resolved_at: None,
                pauses: &pauses,
            };
            let clock = FakeClock::at(local(23, 12, 0));
            let r = state_of(&evaluate(&p, &input, clock.now()), Goal::Resolution);
            // 30 min + 30 min on Friday, 3 h left → Tuesday 12:00.
            assert_eq!(r.due_at, Some(local(24, 12, 0)), "{zone}");
            assert_eq!(r.warn_at, Some(local(24, 11, 30)), "{zone}");
            assert_eq!(r.state, GoalState::Ok, "{zone}");
            clock.set(local(24, 11, 45));
            let r = state_of(&evaluate(&p, &input, clock.now()), Goal::Resolution);
            assert_eq!(r.state, GoalState::DueSoon, "{zone}");
        }
    }

    #[test]
    fn closing_meets_resolution_and_ends_the_next_response_wait() {
        let p = policy(Calendar::Always);
        let input = ClockInput {
            created_at: at(9, 0),
            first_reply_at: Some(at(9, 5)),
            waiting_since: Some(at(10, 0)),
            resolved_at: Some(at(10, 10)),
            pauses: &[Pause {
                start: at(10, 10),
                end: None,
            }],
        };
        let all = evaluate(&p, &input, at(18, 0));
        assert_eq!(
            state_of(&all, Goal::Resolution).state,
            GoalState::Met {
                at: at(10, 10),
                late: false
            }
        );
        assert_eq!(state_of(&all, Goal::NextResponse).state, GoalState::Idle);
        assert!(all.iter().all(|s| s.due_at.is_none()));
    }
}
