//! The SLA scheduler: every few seconds it looks at the tickets whose next warning moment has
//! passed (an indexed query, so the cost follows tickets due, not tickets stored), posts
//! due-soon and breach warnings to the team channels through the outbox, and posts each team's
//! summary on its cron schedule. Several instances on one database post each warning and each
//! summary tick once: the insert into `sla_alerts` / `scheduled_runs` decides who posts.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use relaydesk_storage::sla::{AlertKey, Level};
use relaydesk_storage::{Figures, Period, Platform, ReportGroup, Tx};
use tokio_util::sync::CancellationToken;

use super::refresh::evaluate_ticket;
use super::summary::{build_summary, format_summary};
use super::text::{alert_text, AlertSubject};
use super::{SlaError, Team};
use crate::hub::{Delivery, Hub, Mention};

/// How the scheduler works through its queue.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Tickets looked at per pass; more wait for the next pass (which follows at once).
    pub batch: i64,
    /// Due tickets checked at once, each in its own transaction on its own connection
    /// (PostgreSQL; SQLite has one connection and takes them in turn).
    pub parallel: usize,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            batch: 200,
            parallel: 8,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Tickets looked at.
    pub tickets: usize,
    /// Warnings posted (one per warning, whatever the number of channels).
    pub alerts: usize,
    /// Summaries posted.
    pub summaries: usize,
    /// Weekly reports posted.
    pub reports: usize,
}

/// Posts SLA warnings and summaries. Uses the hub's store, clock and SLA rules.
#[derive(Debug, Clone)]
pub struct SlaScheduler {
    hub: Hub,
    options: SchedulerOptions,
}

impl SlaScheduler {
    pub fn new(hub: Hub, options: SchedulerOptions) -> Self {
        Self { hub, options }
    }

    /// Runs passes every `sla.scan_interval` until `shutdown`. A failed pass is logged and
    /// retried at the next interval.
    pub async fn run(self, shutdown: CancellationToken) {
        let interval = self
            .hub
            .config()
            .sla
            .scan_interval
            .max(Duration::from_millis(10));
        tracing::info!(?interval, "SLA scheduler started");
        let rules = &self.hub.config().sla;
        if rules.teams.is_empty() && !rules.policies.is_empty() {
            tracing::warn!(
                "SLA policies are set but no [[sla.team]] is: warnings are recorded, not posted"
            );
        }
        loop {
            let full = match self.pass().await {
                Ok(pass) => pass.tickets as i64 >= self.options.batch,
                Err(e) => {
                    tracing::error!(error = %e, "SLA pass failed; retrying");
                    false
                }
            };
            if full && !shutdown.is_cancelled() {
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(interval) => {}
            }
        }
        tracing::info!("SLA scheduler stopped");
    }

    /// One pass: due warnings, then summaries.
    pub async fn pass(&self) -> Result<Pass, SlaError> {
        let (tickets, alerts) = self.scan().await?;
        let summaries = self.summaries().await?;
        let reports = self.weekly_reports().await?;
        Ok(Pass {
            tickets,
            alerts,
            summaries,
            reports,
        })
    }

    /// Looks at every ticket whose next warning moment has passed. Returns (tickets, alerts).
    pub async fn scan(&self) -> Result<(usize, usize), SlaError> {
        let now = self.hub.clock().now();
        let due = {
            let mut tx = self.hub.store().begin().await?;
            let ids = tx
                .sla_due_tickets(now.timestamp_millis(), self.options.batch)
                .await?;
            tx.commit().await?;
            ids
        };
        // Tickets are independent (each locks only its own rows), so several are checked at
        // once; a failure stops the pass, and the unfinished tickets stay due for the next.
        let mut alerts = 0;
        let mut pending = due.iter().copied();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < self.options.parallel.max(1) {
                let Some(ticket_id) = pending.next() else {
                    break;
                };
                let scheduler = self.clone();
                running.spawn(async move { scheduler.check_ticket(ticket_id, now).await });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            alerts += done.map_err(|e| SlaError::Task(e.to_string()))??;
        }
        Ok((due.len(), alerts))
    }

    /// One ticket, in its own transaction (ticket row locked first, as the hub does).
    async fn check_ticket(&self, ticket_id: i64, now: DateTime<Utc>) -> Result<usize, SlaError> {
        let rules = &self.hub.config().sla;
        let now_ms = now.timestamp_millis();
        let mut tx = self.hub.store().begin().await?;
        let ticket = tx.ticket(ticket_id).await?;
        let mut evaluation = evaluate_ticket(&mut tx, rules, &ticket, now).await?;
        let team = rules.team_for(evaluation.team.as_deref());
        let mut posted = 0;
        let mut woken = BTreeSet::new();
        let mut breached_now = false;
        for goal in &evaluation.goals {
            let (Some(warn_at), Some(due_at)) = (goal.warn_at, goal.due_at) else {
                continue;
            };
            let breached = now >= due_at;
            for (level, at) in [(Level::DueSoon, warn_at), (Level::Breach, due_at)] {
                if now < at {
                    continue;
                }
                let key = AlertKey {
                    goal: goal.goal,
                    round: goal.round,
                    level,
                };
                // A due-soon overtaken by its breach is recorded but not posted.
                let post = level == Level::Breach || !breached;
                let post = post && team.is_some();
                if !tx
                    .record_sla_alert(ticket.id, key, at, post, now_ms)
                    .await?
                {
                    continue;
                }
                evaluation.recorded.push(key);
                breached_now |= level == Level::Breach;
                metrics::counter!("relaydesk_sla_alerts_total", "level" => level.as_str())
                    .increment(1);
                let Some(team) = team.filter(|_| post) else {
                    continue;
                };
                let (text, assignee) = self
                    .alert(&mut tx, &ticket, key, due_at, now, team.zone)
                    .await?;
                for (platform, channel) in &team.targets {
                    let mention = match &assignee {
                        Some((id, name)) => tx
                            .agent_user_on(*id, *platform)
                            .await?
                            .and_then(|user| Mention::find(&text, ASSIGNEE, name, &user)),
                        None => None,
                    };
                    let post = Post {
                        ticket_id: Some(ticket.id),
                        platform: *platform,
                        channel,
                        text: &text,
                        mention,
                    };
                    enqueue_post(&mut tx, post, now_ms).await?;
                    woken.insert(*platform);
                }
                posted += 1;
            }
        }
        evaluation.sla.fill(&evaluation.goals, &evaluation.recorded);
        tx.save_ticket_sla(&evaluation.sla, now_ms).await?;
        if breached_now {
            woken.extend(self.hub.escalate(&mut tx, ticket.id, now_ms).await?);
        }
        tx.commit().await?;
        self.hub.wakers().wake(woken);
        Ok(posted)
    }

    /// The warning's text, and the assignee (id and name as written in it) if any.
    async fn alert(
        &self,
        tx: &mut Tx,
        ticket: &relaydesk_storage::Ticket,
        key: AlertKey,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
        zone: chrono_tz::Tz,
    ) -> Result<(String, Option<(i64, String)>), SlaError> {
        let customer = tx.customer(ticket.customer_id).await?;
        let assignee = match ticket.assignee_id {
            Some(id) => Some((id, tx.agent(id).await?.name)),
            None => None,
        };
        let links = &self.hub.config().sla.thread_links;
        let threads: Vec<String> = tx
            .threads_of(ticket.id)
            .await?
            .into_iter()
            .map(|(platform, thread)| links.link(platform, &thread))
            .collect();
        let subject = AlertSubject {
            number: ticket.number,
            subject: &ticket.subject,
            customer: &customer.display_name,
            assignee: assignee.as_ref().map(|(_, name)| name.as_str()),
            priority: ticket.priority,
            threads: &threads,
        };
        let text = alert_text(&subject, key.goal, key.level, due_at, now, zone);
        Ok((text, assignee))
    }

    /// Posts each team's summary for its latest cron tick, if no instance has yet.
    pub async fn summaries(&self) -> Result<usize, SlaError> {
        let rules = &self.hub.config().sla;
        let now = self.hub.clock().now();
        let now_ms = now.timestamp_millis();
        let mut posted = 0;
        for team in &rules.teams {
            let Some(tick) = team.last_tick(now, rules.summary_catch_up) else {
                continue;
            };
            let next = team
                .next_tick(now)
                .unwrap_or(now + chrono::Duration::days(1));
            let mut tx = self.hub.store().begin().await?;
            let job = format!("summary:{}", team.name);
            if !tx
                .claim_scheduled_run(&job, tick.timestamp_millis(), now_ms)
                .await?
            {
                continue;
            }
            let summary = build_summary(
                &mut tx,
                rules,
                Some(team),
                now - chrono::Duration::hours(24),
                now,
                next,
            )
            .await?;
            let text = format_summary(&summary);
            self.post_to_team(tx, team, &text, now_ms).await?;
            posted += 1;
        }
        Ok(posted)
    }

    /// Queues `text` for every channel of `team` in `tx`, commits and wakes those channels.
    async fn post_to_team(
        &self,
        mut tx: Tx,
        team: &Team,
        text: &str,
        now_ms: i64,
    ) -> Result<(), SlaError> {
        for (platform, channel) in &team.targets {
            let post = Post {
                ticket_id: None,
                platform: *platform,
                channel,
                text,
                mention: None,
            };
            enqueue_post(&mut tx, post, now_ms).await?;
        }
        tx.commit().await?;
        self.hub.wakers().wake(team.targets.iter().map(|(p, _)| *p));
        Ok(())
    }

    /// Posts each team's weekly report (the seven days before its latest report tick), if no
    /// instance has yet. The first team's report also counts tickets of no team.
    pub async fn weekly_reports(&self) -> Result<usize, SlaError> {
        let rules = &self.hub.config().sla;
        let now = self.hub.clock().now();
        let now_ms = now.timestamp_millis();
        let mut posted = 0;
        for team in &rules.teams {
            let Some(tick) = team.last_report_tick(now, rules.summary_catch_up) else {
                continue;
            };
            let mut tx = self.hub.store().begin().await?;
            let job = format!("report:{}", team.name);
            if !tx
                .claim_scheduled_run(&job, tick.timestamp_millis(), now_ms)
                .await?
            {
                continue;
            }
            let from = tick - chrono::Duration::days(7);
            let week = Period {
                start_ms: from.timestamp_millis(),
                end_ms: tick.timestamp_millis(),
            };
            let rows = tx.report(&[week], ReportGroup::Team).await?;
            let figures_of = |group: &str| {
                rows.iter()
                    .find(|row| row.group == group)
                    .map(|row| row.figures)
                    .unwrap_or_default()
            };
            let mut sections = vec![(team.name.clone(), figures_of(&team.name))];
            if rules.is_default_team(team) {
                let unteamed = figures_of(NO_TEAM);
                if unteamed != Figures::default() {
                    sections.push(("tickets of no team".to_string(), unteamed));
                }
            }
            let title = format!(
                "Weekly report for {}: {} – {}",
                team.name,
                from.with_timezone(&team.zone).format("%a %d %b %H:%M"),
                tick.with_timezone(&team.zone).format("%a %d %b %H:%M %Z"),
            );
            let text = relaydesk_desk::reports::weekly_text(&title, &sections);
            self.post_to_team(tx, team, &text, now_ms).await?;
            posted += 1;
        }
        Ok(posted)
    }
}

/// How reports name tickets of no team.
const NO_TEAM: &str = "(no team)";

/// Where an alert's text names the assignee.
const ASSIGNEE: &str = "Assignee: ";

/// One post to a team channel.
struct Post<'a> {
    ticket_id: Option<i64>,
    platform: Platform,
    channel: &'a str,
    text: &'a str,
    mention: Option<Mention>,
}

async fn enqueue_post(tx: &mut Tx, post: Post<'_>, now_ms: i64) -> Result<(), SlaError> {
    let delivery = Delivery::ChannelPost {
        channel: post.channel.to_string(),
        text: post.text.to_string(),
        mention: post.mention,
    };
    let payload = serde_json::to_string(&delivery)?;
    tx.enqueue(
        post.ticket_id,
        &Delivery::channel_lane(post.platform, post.channel),
        post.platform,
        &payload,
        now_ms,
    )
    .await?;
    Ok(())
}
