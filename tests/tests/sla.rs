//! The SLA engine against real databases: warnings posted once each (also after a restart and
//! with two schedulers on one database), the clock stopped while waiting on the customer, and
//! the summary's figures against a hand-built data set.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use relaydesk::hub::{
    Actor, Command, CustomerMessage, Hub, HubConfig, Inbound, Ingested, Outbound, PlatformUser,
    TicketRef,
};
use relaydesk::outbox::{OutboxWorker, WorkerOptions};
use relaydesk::sla::{build_summary, format_summary, SchedulerOptions, SlaConfig, SlaScheduler};
use relaydesk_storage::sla::{AlertKey, Goal, Level, OpenTicket, TicketSla};
use relaydesk_storage::{
    Clock, FakeClock, NewTicket, Platform, Priority, Role, Store, TicketStatus,
};
use relaydesk_tests::both_backends;
use relaydesk_tests::db::TestDb;
use relaydesk_tests::recorder::Recorder;

/// Monday 2026-11-23 10:00 UTC (12:00 in Helsinki).
fn monday_ten() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

/// A 10-minute first response (due soon with 2 minutes left), 10-minute next response, one
/// team posting to a Discord channel, summaries at 09:00 Helsinki time on weekdays.
fn config() -> SlaConfig {
    serde_json::from_value(serde_json::json!({
        "scan_interval": "1s",
        "policy": [{
            "name": "quick",
            "first_response": "10m",
            "next_response": "10m",
        }],
        "team": [{
            "name": "support",
            "time_zone": "Europe/Helsinki",
            "discord_channel": "alerts",
        }],
    }))
    .expect("a valid [sla] section")
}

fn hub(store: &Store, clock: &FakeClock) -> Hub {
    let rules = config().rules().expect("valid rules");
    Hub::new(
        store.clone(),
        Arc::new(clock.clone()),
        HubConfig {
            sla: Arc::new(rules),
            ..HubConfig::default()
        },
    )
}

fn scheduler(hub: &Hub) -> SlaScheduler {
    SlaScheduler::new(hub.clone(), SchedulerOptions::default())
}

async fn customer_writes(hub: &Hub, who: &str, id: &str) -> i64 {
    let outcome = hub
        .ingest(Inbound::Customer(CustomerMessage {
            platform: Platform::Telegram,
            external_message_id: Some(id.to_string()),
            customer: PlatformUser {
                external_id: who.to_string(),
                display_name: format!("{who} customer"),
                language: None,
            },
            conversation: format!("chat-{who}"),
            subject: None,
            text: "my printer is on fire".into(),
            attachments: Vec::new(),
        }))
        .await
        .expect("ingest");
    match outcome {
        Ingested::Customer { ticket_id, .. } => ticket_id,
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// Delivers every queued Discord row and returns the channel posts (channel, text).
async fn delivered_posts(hub: &Hub, discord: &Recorder) -> Vec<(String, String)> {
    let worker = OutboxWorker::new(hub.clone(), discord.as_deliver(), WorkerOptions::default());
    while worker.run_once().await.expect("outbox pass") > 0 {}
    discord
        .sent()
        .into_iter()
        .filter_map(|o| match o {
            Outbound::ChannelPost { channel, text, .. } => Some((channel, text)),
            _ => None,
        })
        .collect()
}

async fn stored_sla(store: &Store, ticket_id: i64) -> TicketSla {
    let mut tx = store.begin().await.expect("begin");
    let sla = tx.ticket_sla(ticket_id).await.expect("query").expect("row");
    tx.commit().await.expect("commit");
    sla
}

both_backends!(
    unanswered_ticket_warns_once_then_breaches_once,
    |store: Store| async move {
        let clock = FakeClock::at(monday_ten());
        let hub = hub(&store, &clock);
        let discord = Recorder::new(Platform::Discord);
        let ticket_id = customer_writes(&hub, "anna", "m1").await;

        let sla = stored_sla(&store, ticket_id).await;
        assert_eq!(sla.policy.as_deref(), Some("quick"));
        assert_eq!(
            sla.first_response.due_at,
            Some(monday_ten() + Duration::minutes(10))
        );
        assert_eq!(
            sla.first_response.warn_at,
            Some(monday_ten() + Duration::minutes(8))
        );
        assert_eq!(sla.next_due_at, Some(monday_ten() + Duration::minutes(8)));

        let first = scheduler(&hub);
        assert_eq!(first.pass().await.expect("pass").alerts, 0);
        clock.advance(Duration::minutes(7));
        assert_eq!(first.pass().await.expect("pass").alerts, 0);
        clock.advance(Duration::minutes(1));
        assert_eq!(
            first.pass().await.expect("pass").alerts,
            1,
            "due soon at 8 minutes"
        );
        assert_eq!(first.pass().await.expect("pass").alerts, 0, "posted once");
        assert_eq!(
            stored_sla(&store, ticket_id).await.next_due_at,
            Some(monday_ten() + Duration::minutes(10))
        );
        clock.advance(Duration::minutes(1));
        assert_eq!(
            first.pass().await.expect("pass").tickets,
            0,
            "nothing due: not even looked at"
        );
        clock.advance(Duration::minutes(1));
        assert_eq!(
            first.pass().await.expect("pass").alerts,
            1,
            "breach at 10 minutes"
        );
        clock.advance(Duration::hours(5));
        assert_eq!(first.pass().await.expect("pass").alerts, 0);
        assert_eq!(stored_sla(&store, ticket_id).await.next_due_at, None);

        // A restart: a new hub and scheduler on the same database post nothing again.
        let restarted = hub_restarted(&store, &clock);
        assert_eq!(scheduler(&restarted).pass().await.expect("pass").alerts, 0);

        let posts = delivered_posts(&hub, &discord).await;
        assert_eq!(posts.len(), 2, "{posts:?}");
        assert!(posts.iter().all(|(channel, _)| channel == "alerts"));
        let (due_soon, breach) = (&posts[0].1, &posts[1].1);
        let number = {
            let mut tx = store.begin().await.expect("begin");
            let t = tx.ticket(ticket_id).await.expect("ticket");
            tx.commit().await.expect("commit");
            t.number
        };
        assert!(
            due_soon.starts_with(&format!("SLA due soon: #{number} first response due in 2m")),
            "{due_soon}"
        );
        assert!(
            due_soon.contains("Customer: anna customer · Assignee: unassigned"),
            "{due_soon}"
        );
        assert!(
            breach.starts_with(&format!(
                "SLA breached: #{number} first response overdue by <1m"
            )),
            "{breach}"
        );
    }
);

fn hub_restarted(store: &Store, clock: &FakeClock) -> Hub {
    hub(store, clock)
}

both_backends!(
    waiting_on_the_customer_stops_the_clock,
    |store: Store| async move {
        let clock = FakeClock::at(monday_ten());
        let hub = hub(&store, &clock);
        let ticket_id = customer_writes(&hub, "bert", "b1").await;
        let agent = {
            let mut tx = store.begin().await.expect("begin");
            let agent = tx
                .create_agent("carla", None, Role::Agent, clock.now_ms())
                .await
                .expect("agent");
            tx.commit().await.expect("commit");
            agent
        };
        clock.advance(Duration::minutes(5));
        hub.execute(
            &Actor::Agent(agent.id),
            &TicketRef::Id(ticket_id),
            Command::Reply("have you tried turning it off?".into()),
        )
        .await
        .expect("reply");
        // First response met; the ticket waits on the customer: nothing runs.
        let sla = stored_sla(&store, ticket_id).await;
        assert_eq!(sla.first_response.due_at, None);
        assert_eq!(sla.next_response.due_at, None);
        assert_eq!(sla.next_due_at, None);
        clock.advance(Duration::hours(6));
        assert_eq!(scheduler(&hub).pass().await.expect("pass").alerts, 0);

        // The customer answers: the next-response clock runs from that message.
        customer_writes(&hub, "bert", "b2").await;
        let answered_at = clock.now();
        let sla = stored_sla(&store, ticket_id).await;
        assert_eq!(sla.waiting_since, Some(answered_at));
        assert_eq!(
            sla.next_response.due_at,
            Some(answered_at + Duration::minutes(10))
        );
        // A second customer message does not move the clock.
        clock.advance(Duration::minutes(3));
        customer_writes(&hub, "bert", "b3").await;
        let sla = stored_sla(&store, ticket_id).await;
        assert_eq!(
            sla.next_response.due_at,
            Some(answered_at + Duration::minutes(10))
        );

        clock.advance(Duration::minutes(5));
        let reply = hub
            .execute(
                &Actor::Agent(agent.id),
                &TicketRef::Id(ticket_id),
                Command::Sla,
            )
            .await
            .expect("/sla");
        assert!(reply.text.contains("(quick)"), "{}", reply.text);
        assert!(reply.text.contains("first response: met"), "{}", reply.text);
        assert!(
            reply.text.contains("next response: due soon, due in 2m"),
            "{}",
            reply.text
        );
        assert_eq!(scheduler(&hub).pass().await.expect("pass").alerts, 1);

        // Answered in time: the round ends, nothing more is due.
        hub.execute(
            &Actor::Agent(agent.id),
            &TicketRef::Id(ticket_id),
            Command::Reply("on my way".into()),
        )
        .await
        .expect("reply");
        assert_eq!(stored_sla(&store, ticket_id).await.next_due_at, None);
        clock.advance(Duration::hours(1));
        assert_eq!(scheduler(&hub).pass().await.expect("pass").alerts, 0);

        let mut tx = store.begin().await.expect("begin");
        let alerts = tx.sla_alerts(ticket_id).await.expect("alerts");
        tx.commit().await.expect("commit");
        assert_eq!(
            alerts,
            vec![AlertKey {
                goal: Goal::NextResponse,
                round: answered_at.timestamp_millis(),
                level: Level::DueSoon,
            }]
        );
    }
);

/// Two schedulers post each warning and each summary tick once: on PostgreSQL as two
/// instances with their own connection pools; on SQLite (one instance per database file) as
/// two schedulers sharing the process's store.
async fn two_schedulers_post_once(store_a: Store, store_b: Store) {
    let clock = FakeClock::at(monday_ten());
    let (hub_a, hub_b) = (hub(&store_a, &clock), hub(&store_b, &clock));
    let mut tickets = Vec::new();
    for i in 0..5 {
        tickets.push(customer_writes(&hub_a, &format!("c{i}"), &format!("m{i}")).await);
    }
    let (a, b) = (scheduler(&hub_a), scheduler(&hub_b));
    let mut alerts = 0;
    for _ in 0..12 {
        clock.advance(Duration::minutes(1));
        let (ra, rb) = tokio::join!(a.pass(), b.pass());
        alerts += ra.expect("pass a").alerts + rb.expect("pass b").alerts;
    }
    assert_eq!(
        alerts, 10,
        "one due soon and one breach for each of 5 tickets"
    );

    // Summary at Tuesday 09:00 Helsinki (07:00 UTC): both claim the tick, one posts.
    clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 30).unwrap());
    let (ra, rb) = tokio::join!(a.summaries(), b.summaries());
    assert_eq!(ra.expect("a") + rb.expect("b"), 1);
    let (ra, rb) = tokio::join!(a.summaries(), b.summaries());
    assert_eq!(ra.expect("a") + rb.expect("b"), 0);

    let discord = Recorder::new(Platform::Discord);
    let posts = delivered_posts(&hub_a, &discord).await;
    assert_eq!(posts.len(), 11, "10 warnings and 1 summary");
    assert_eq!(
        posts
            .iter()
            .filter(|(_, t)| t.starts_with("SLA summary · support"))
            .count(),
        1
    );
    store_a.close().await;
    store_b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_post_once_sqlite() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    two_schedulers_post_once(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_post_once_postgres() {
    if let Some(db) = TestDb::postgres().await {
        two_schedulers_post_once(db.store().await, db.store().await).await;
    }
}

/// Opens a ticket at `at` for a web customer `name` (also its conversation).
async fn open_at(store: &Store, name: &str, priority: Priority, at: DateTime<Utc>) -> i64 {
    let mut tx = store.begin().await.expect("begin");
    let customer = tx
        .customer_for_identity(Platform::Web, name, name, None, at.timestamp_millis())
        .await
        .expect("customer");
    let ticket = tx
        .open_ticket(
            &NewTicket {
                subject: &format!("{name}'s problem"),
                customer_id: customer.id,
                origin: Platform::Web,
                conversation: name,
                priority,
                team_id: None,
                previous_ticket_id: None,
            },
            at.timestamp_millis(),
        )
        .await
        .expect("open")
        .expect("new ticket");
    tx.commit().await.expect("commit");
    ticket.id
}

both_backends!(
    summary_figures_match_a_hand_built_day,
    |store: Store| async move {
        // Summary time: Tuesday 2026-11-24 09:00 Helsinki = 07:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 7, 0, 0).unwrap();
        let clock = FakeClock::at(now);
        let hub = hub(&store, &clock);
        let h = |hours_ago: i64| now - Duration::hours(hours_ago);
        let m = Duration::minutes;

        // Closed within the day: first replies after 10, 20, 30, 40 min; closed after 1, 2, 3, 5 h.
        for (i, (reply, close)) in [(10, 1), (20, 2), (30, 3), (40, 5)].into_iter().enumerate() {
            let opened = h(10 + i as i64);
            let id = open_at(&store, &format!("closed{i}"), Priority::Normal, opened).await;
            let mut tx = store.begin().await.expect("begin");
            tx.note_agent_reply(id, (opened + m(reply)).timestamp_millis())
                .await
                .expect("reply");
            tx.set_status(
                id,
                TicketStatus::Closed,
                None,
                (opened + Duration::hours(close)).timestamp_millis(),
            )
            .await
            .expect("close");
            tx.commit().await.expect("commit");
        }
        // Closed two days ago: outside the window.
        let old = open_at(&store, "old", Priority::Normal, h(60)).await;
        let mut tx = store.begin().await.expect("begin");
        tx.note_agent_reply(old, h(59).timestamp_millis())
            .await
            .expect("reply");
        tx.set_status(old, TicketStatus::Closed, None, h(50).timestamp_millis())
            .await
            .expect("close");
        tx.commit().await.expect("commit");
        // Still open: one urgent (oldest), two normal, one low; one of them pending.
        let urgent = open_at(&store, "urgent", Priority::Urgent, h(30)).await;
        let normal_a = open_at(&store, "normal-a", Priority::Normal, h(20)).await;
        let normal_b = open_at(&store, "normal-b", Priority::Normal, h(3)).await;
        let low = open_at(&store, "low", Priority::Low, now - m(5)).await;
        let mut tx = store.begin().await.expect("begin");
        tx.note_agent_reply(normal_b, (h(3) + m(50)).timestamp_millis())
            .await
            .expect("reply");
        // Breaches: one in the window, one before it (counted once per ticket).
        for (ticket, goal, due) in [
            (urgent, Goal::FirstResponse, h(29)),
            (normal_a, Goal::FirstResponse, h(19)),
            (normal_a, Goal::Resolution, h(2)),
        ] {
            let key = AlertKey {
                goal,
                round: 0,
                level: Level::Breach,
            };
            assert!(tx
                .record_sla_alert(ticket, key, due, true, now.timestamp_millis())
                .await
                .expect("alert"));
        }
        tx.commit().await.expect("commit");
        // Due times: the new low ticket's first response (10 min policy) falls before the next summary.
        for id in [urgent, normal_a, normal_b, low] {
            let mut tx = store.begin().await.expect("begin");
            relaydesk::sla::refresh(&mut tx, &hub.config().sla, id, now)
                .await
                .expect("refresh");
            tx.commit().await.expect("commit");
        }

        let rules = &hub.config().sla;
        let team = &rules.teams[0];
        let next = team.next_tick(now).expect("next tick");
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 25, 7, 0, 0).unwrap());
        let mut tx = store.begin().await.expect("begin");
        let summary = build_summary(
            &mut tx,
            rules,
            Some(team),
            now - Duration::hours(24),
            now,
            next,
        )
        .await
        .expect("summary");
        tx.commit().await.expect("commit");
        let f = &summary.facts;
        assert_eq!(
            f.open_by_priority,
            vec![
                (Priority::Urgent, 1),
                (Priority::Normal, 2),
                (Priority::Low, 1)
            ]
        );
        assert_eq!(f.breached, 1);
        assert_eq!(f.due_before_next, 1);
        assert_eq!(f.closed, 4);
        let mut first: Vec<_> = f.first_response.clone();
        first.sort();
        assert_eq!(first, vec![m(10), m(20), m(30), m(40), m(50)]);
        let mut resolution: Vec<_> = f.resolution.clone();
        resolution.sort();
        assert_eq!(
            resolution,
            vec![
                Duration::hours(1),
                Duration::hours(2),
                Duration::hours(3),
                Duration::hours(5)
            ]
        );
        let oldest: Vec<&OpenTicket> = f.oldest_open.iter().collect();
        assert_eq!(
            oldest
                .iter()
                .map(|t| t.customer.as_str())
                .collect::<Vec<_>>(),
            vec!["urgent", "normal-a", "normal-b", "low"]
        );
        assert_eq!(oldest[2].status, TicketStatus::Pending);

        let text = format_summary(&summary);
        for line in [
            "SLA summary · support · Tue 24 Nov 09:00 EET",
            "Open tickets: 4 (urgent 1, normal 2, low 1)",
            "Breached in the last 1d: 1",
            "Due before the next summary (Wed 25 Nov 09:00 EET): 1",
            "First response (5 in the last 1d): median 30m, 90th percentile 50m",
            "Resolution (4 in the last 1d): median 2h, 90th percentile 5h",
            "Closed in the last 1d: 4",
            "#",
        ] {
            assert!(text.contains(line), "missing `{line}` in\n{text}");
        }
        assert!(
            text.contains("urgent · urgent's problem · urgent · open · open for 1d 6h"),
            "{text}"
        );

        // `relaydesk sla report` prints the same figures, for one team or for every ticket.
        let for_team = relaydesk::sla::report(
            &store,
            rules,
            Some("support"),
            now - Duration::hours(24),
            now,
        )
        .await
        .expect("report");
        assert_eq!(for_team, text);
        let everything =
            relaydesk::sla::report(&store, rules, None, now - Duration::hours(24), now)
                .await
                .expect("report");
        assert!(
            everything.starts_with("SLA summary · all tickets · Tue 24 Nov 07:00 UTC"),
            "{everything}"
        );
        assert!(
            everything.contains("Open tickets: 4 (urgent 1, normal 2, low 1)"),
            "{everything}"
        );
        let week = relaydesk::sla::report(&store, rules, None, now - Duration::days(7), now)
            .await
            .expect("report");
        assert!(week.contains("Closed in the last 7d: 5"), "{week}");
        let err = relaydesk::sla::report(&store, rules, Some("sales"), now, now)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "--team: no [[sla.team]] is called `sales`");

        // The scheduler posts exactly this at the cron time, once.
        let discord = Recorder::new(Platform::Discord);
        let sched = scheduler(&hub);
        clock.set(now - Duration::seconds(1));
        assert_eq!(
            sched.summaries().await.expect("summaries"),
            0,
            "not yet 09:00"
        );
        clock.set(now);
        assert_eq!(sched.summaries().await.expect("summaries"), 1);
        assert_eq!(sched.summaries().await.expect("summaries"), 0);
        let posts = delivered_posts(&hub, &discord).await;
        assert_eq!(posts, vec![("alerts".to_string(), text)]);
    }
);

/// A channel that only delivers (team alerts), recording what it is asked to send.
struct AlertChannel(Recorder);

#[async_trait::async_trait]
impl relaydesk::channel::Channel for AlertChannel {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    fn has_staff_side(&self) -> bool {
        false
    }

    fn has_customer_side(&self) -> bool {
        false
    }

    fn deliverer(&self) -> Arc<dyn relaydesk::hub::Deliver> {
        self.0.as_deliver()
    }

    async fn run(
        self: Arc<Self>,
        _hub: Hub,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Result<(), relaydesk::channel::ChannelError> {
        shutdown.cancelled().await;
        Ok(())
    }
}

/// Channel posts the recorder got, waiting (up to 20 s) until there are at least `n`.
async fn wait_for_posts(recorder: &Recorder, n: usize) -> Vec<String> {
    for _ in 0..2000 {
        let posts: Vec<String> = recorder
            .sent()
            .into_iter()
            .filter_map(|o| match o {
                Outbound::ChannelPost { text, .. } => Some(text),
                _ => None,
            })
            .collect();
        if posts.len() >= n {
            return posts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "fewer than {n} channel posts arrived: {:?}",
        recorder.sent()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_running_process_posts_one_warning_and_one_breach_to_the_team_channel() {
    let clock = FakeClock::at(monday_ten());
    let recorder = Recorder::new(Platform::Discord);
    let mut config = relaydesk::config::Config {
        sla: config_with_scan(std::time::Duration::from_millis(20)),
        ..Default::default()
    };
    config.discord.guild_id = Some("111".into());
    let app = relaydesk_tests::app::spawn_app_with(relaydesk_tests::app::Spawn {
        db: TestDb::sqlite(),
        config,
        clock: Arc::new(clock.clone()),
        channels: vec![Arc::new(AlertChannel(recorder.clone()))],
    })
    .await;
    // A ticket as the hub stores it, due times included.
    let outside = hub(&app.store, &clock);
    let ticket_id = customer_writes(&outside, "dora", "d1").await;
    assert!(stored_sla(&app.store, ticket_id)
        .await
        .next_due_at
        .is_some());
    let mut tx = app.store.begin().await.expect("begin");
    tx.bind_thread(ticket_id, Platform::Discord, "998877", clock.now_ms())
        .await
        .expect("bind");
    tx.commit().await.expect("commit");

    clock.advance(Duration::minutes(8));
    let posts = wait_for_posts(&recorder, 1).await;
    assert!(posts[0].contains("first response due in 2m"), "{posts:?}");
    assert!(
        posts[0].contains("Thread: https://discord.com/channels/111/998877"),
        "the warning links to the ticket's thread: {posts:?}"
    );
    clock.advance(Duration::minutes(2));
    let posts = wait_for_posts(&recorder, 2).await;
    assert!(posts[1].contains("first response overdue by"), "{posts:?}");
    clock.advance(Duration::hours(2));
    // Later passes find nothing due: the ticket's next due moment is cleared.
    for _ in 0..2000 {
        if stored_sla(&app.store, ticket_id)
            .await
            .next_due_at
            .is_none()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(stored_sla(&app.store, ticket_id).await.next_due_at, None);
    assert_eq!(wait_for_posts(&recorder, 2).await.len(), 2);
    app.stop().await.expect("clean stop");
}

fn config_with_scan(scan: std::time::Duration) -> SlaConfig {
    SlaConfig {
        scan_interval: scan,
        ..config()
    }
}

both_backends!(
    a_priority_change_moves_the_due_times,
    |store: Store| async move {
        let clock = FakeClock::at(monday_ten());
        let mut sla = config();
        sla.policy = serde_json::from_value(serde_json::json!([
            { "name": "normal", "first_response": "4h" },
            { "name": "urgent", "priority": "urgent", "first_response": "15m" },
        ]))
        .expect("policies");
        let hub = Hub::new(
            store.clone(),
            Arc::new(clock.clone()),
            HubConfig {
                sla: Arc::new(sla.rules().expect("rules")),
                ..HubConfig::default()
            },
        );
        let ticket_id = customer_writes(&hub, "emil", "e1").await;
        let before = stored_sla(&store, ticket_id).await;
        assert_eq!(before.policy.as_deref(), Some("normal"));
        assert_eq!(
            before.first_response.due_at,
            Some(monday_ten() + Duration::hours(4))
        );

        let agent = {
            let mut tx = store.begin().await.expect("begin");
            let agent = tx
                .create_agent("fia", None, Role::Agent, clock.now_ms())
                .await
                .expect("agent");
            tx.commit().await.expect("commit");
            agent
        };
        clock.advance(Duration::minutes(5));
        hub.execute(
            &Actor::Agent(agent.id),
            &TicketRef::Id(ticket_id),
            Command::Priority(Priority::Urgent),
        )
        .await
        .expect("/priority urgent");
        let after = stored_sla(&store, ticket_id).await;
        assert_eq!(after.policy.as_deref(), Some("urgent"));
        assert_eq!(
            after.first_response.due_at,
            Some(monday_ten() + Duration::minutes(15))
        );
        assert_eq!(
            after.next_due_at,
            Some(monday_ten() + Duration::minutes(12))
        );

        // Closing stops every clock; the scheduler finds nothing to post.
        hub.execute(
            &Actor::Agent(agent.id),
            &TicketRef::Id(ticket_id),
            Command::Close(None),
        )
        .await
        .expect("/close");
        assert_eq!(stored_sla(&store, ticket_id).await.next_due_at, None);
        clock.advance(Duration::hours(1));
        assert_eq!(scheduler(&hub).pass().await.expect("pass").alerts, 0);
    }
);

both_backends!(
    warnings_go_to_the_ticket_team_and_its_policy,
    |store: Store| async move {
        let clock = FakeClock::at(monday_ten());
        let sla: SlaConfig = serde_json::from_value(serde_json::json!({
        "policy": [
            { "name": "default", "first_response": "1h" },
            { "name": "billing", "team": "billing", "first_response": "10m" },
        ],
        "team": [
            { "name": "support", "discord_channel": "support-alerts" },
            { "name": "billing", "discord_channel": "billing-alerts", "telegram_chat": "-100:7" },
        ],
    }))
    .expect("valid settings");
        let hub = Hub::new(
            store.clone(),
            Arc::new(clock.clone()),
            HubConfig {
                sla: Arc::new(sla.rules().expect("rules")),
                ..HubConfig::default()
            },
        );
        let unteamed = customer_writes(&hub, "gus", "g1").await;
        let billed = customer_writes(&hub, "hana", "h1").await;
        let mut tx = store.begin().await.expect("begin");
        let billing = tx
            .ensure_team("billing", clock.now_ms())
            .await
            .expect("team");
        assert_eq!(
            tx.ensure_team("billing", clock.now_ms())
                .await
                .expect("team"),
            billing
        );
        tx.set_team(billed, Some(billing), clock.now_ms())
            .await
            .expect("set team");
        relaydesk::sla::refresh(&mut tx, &hub.config().sla, billed, clock.now())
            .await
            .expect("refresh");
        tx.commit().await.expect("commit");
        assert_eq!(
            stored_sla(&store, billed).await.policy.as_deref(),
            Some("billing")
        );
        assert_eq!(
            stored_sla(&store, unteamed).await.policy.as_deref(),
            Some("default")
        );

        clock.advance(Duration::hours(2));
        assert_eq!(
            scheduler(&hub).pass().await.expect("pass").alerts,
            2,
            "one breach each"
        );
        let discord = Recorder::new(Platform::Discord);
        let telegram = Recorder::new(Platform::Telegram);
        let mut posts = delivered_posts(&hub, &discord).await;
        posts.sort();
        assert_eq!(posts.len(), 2, "{posts:?}");
        assert_eq!(posts[0].0, "billing-alerts");
        assert!(
            posts[0].1.contains("Customer: hana customer"),
            "{}",
            posts[0].1
        );
        assert_eq!(posts[1].0, "support-alerts");
        assert!(
            posts[1].1.contains("Customer: gus customer"),
            "{}",
            posts[1].1
        );
        let worker =
            OutboxWorker::new(hub.clone(), telegram.as_deliver(), WorkerOptions::default());
        while worker.run_once().await.expect("outbox pass") > 0 {}
        assert!(matches!(
            telegram.sent().as_slice(),
            [Outbound::ChannelPost { channel, text, .. }] if channel == "-100:7" && text.contains("hana")
        ));
    }
);

both_backends!(
    breaches_met_between_scans_are_counted_but_not_posted,
    |store: Store| async move {
        let clock = FakeClock::at(monday_ten());
        let hub = hub(&store, &clock);
        let ticket_id = customer_writes(&hub, "ivan", "i1").await;
        let agent = {
            let mut tx = store.begin().await.expect("begin");
            let agent = tx
                .create_agent("jo", None, Role::Agent, clock.now_ms())
                .await
                .expect("agent");
            tx.commit().await.expect("commit");
            agent
        };
        let (actor, target) = (Actor::Agent(agent.id), TicketRef::Id(ticket_id));
        let reply = |text: &str| hub.execute(&actor, &target, Command::Reply(text.to_string()));
        // First reply at 12 minutes (due at 10), before any scan ran.
        clock.advance(Duration::minutes(12));
        reply("sorry for the wait").await.expect("reply");
        // The customer answers; the next reply comes 11 minutes later (due after 10).
        clock.advance(Duration::minutes(1));
        customer_writes(&hub, "ivan", "i2").await;
        let waited_from = clock.now();
        clock.advance(Duration::minutes(11));
        reply("done").await.expect("reply");

        let mut tx = store.begin().await.expect("begin");
        let mut alerts = tx.sla_alerts(ticket_id).await.expect("alerts");
        tx.commit().await.expect("commit");
        alerts.sort();
        assert_eq!(
            alerts,
            vec![
                AlertKey {
                    goal: Goal::FirstResponse,
                    round: 0,
                    level: Level::Breach
                },
                AlertKey {
                    goal: Goal::NextResponse,
                    round: waited_from.timestamp_millis(),
                    level: Level::Breach
                },
            ]
        );
        // Nothing is posted after the fact, and a scan has nothing to do.
        assert_eq!(scheduler(&hub).pass().await.expect("pass").alerts, 0);
        let discord = Recorder::new(Platform::Discord);
        assert!(delivered_posts(&hub, &discord).await.is_empty());
        // The summary counts the ticket as breached.
        let rules = &hub.config().sla;
        let now = clock.now();
        let mut tx = store.begin().await.expect("begin");
        let summary = build_summary(&mut tx, rules, None, now - Duration::hours(24), now, now)
            .await
            .expect("summary");
        tx.commit().await.expect("commit");
        assert_eq!(summary.facts.breached, 1);
        assert_eq!(summary.facts.first_response, vec![Duration::minutes(12)]);
    }
);

/// Delivers every queued Discord row and returns the channel posts with their mentions.
async fn delivered_mentions(
    hub: &Hub,
    discord: &Recorder,
) -> Vec<(String, Option<relaydesk::hub::Mention>)> {
    let worker = OutboxWorker::new(hub.clone(), discord.as_deliver(), WorkerOptions::default());
    while worker.run_once().await.expect("outbox pass") > 0 {}
    discord
        .sent()
        .into_iter()
        .filter_map(|o| match o {
            Outbound::ChannelPost { text, mention, .. } => Some((text, mention)),
            _ => None,
        })
        .collect()
}

both_backends!(
    warnings_mention_an_assignee_linked_on_the_platform_and_name_the_others,
    |store: Store| async move {
        let clock = FakeClock::at(monday_ten());
        let hub = hub(&store, &clock);
        let discord = Recorder::new(Platform::Discord);
        let linked = customer_writes(&hub, "ann", "a1").await;
        let unlinked = customer_writes(&hub, "ben", "b1").await;
        customer_writes(&hub, "cy", "c1").await;
        let (dana, eli) = {
            let mut tx = store.begin().await.expect("begin");
            let dana = tx
                .create_agent("dana", None, Role::Agent, clock.now_ms())
                .await
                .expect("agent");
            tx.link_agent_identity(dana.id, Platform::Discord, "4242", "Dana")
                .await
                .expect("link");
            // Known on Telegram only: nothing to mention on Discord.
            let eli = tx
                .create_agent("eli", None, Role::Agent, clock.now_ms())
                .await
                .expect("agent");
            tx.link_agent_identity(eli.id, Platform::Telegram, "77", "Eli")
                .await
                .expect("link");
            tx.commit().await.expect("commit");
            (dana, eli)
        };
        for (agent, ticket) in [(&dana, linked), (&eli, unlinked)] {
            hub.execute(
                &Actor::Agent(agent.id),
                &TicketRef::Id(ticket),
                Command::Claim,
            )
            .await
            .expect("claim");
        }
        clock.advance(Duration::minutes(11));
        assert_eq!(scheduler(&hub).pass().await.expect("pass").alerts, 3);

        let posts = delivered_mentions(&hub, &discord).await;
        let warning = |number: &str| {
            posts
                .iter()
                .find(|(text, _)| text.starts_with(&format!("SLA breached: #{number} ")))
                .cloned()
                .unwrap_or_else(|| panic!("a warning for #{number}: {posts:?}"))
        };
        let (text, mention) = warning("1001");
        let mention = mention.expect("dana is mentioned");
        assert_eq!(
            (mention.user.as_str(), mention.name.as_str()),
            ("4242", "dana")
        );
        assert_eq!(
            mention
                .split(&text)
                .map(|(before, _)| before.ends_with("Assignee: ")),
            Some(true),
            "{text}"
        );
        let (text, mention) = warning("1002");
        assert!(text.contains("Assignee: eli · "), "{text}");
        assert_eq!(mention, None, "eli has no Discord identity");
        let (text, mention) = warning("1003");
        assert!(text.contains("Assignee: unassigned · "), "{text}");
        assert_eq!(mention, None);
    }
);

/// Monday 09:00 in the team's zone, the team channel gets the week's report once, whatever
/// the number of passes or schedulers; `report_cron = ""` turns it off.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_weekly_report_is_posted_once_on_monday_morning() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let clock = FakeClock::at(monday_ten());
    let hub = hub(&store, &clock);
    customer_writes(&hub, "wendy", "w1").await;
    customer_writes(&hub, "walt", "w2").await;
    let sched = scheduler(&hub);
    assert_eq!(
        sched.weekly_reports().await.expect("reports"),
        0,
        "not Monday 09:00 yet"
    );

    // Monday 30 November, 09:00:30 in Helsinki.
    clock.set(Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 30).unwrap());
    assert_eq!(sched.weekly_reports().await.expect("reports"), 1);
    assert_eq!(sched.weekly_reports().await.expect("reports"), 0);
    assert_eq!(scheduler(&hub).weekly_reports().await.expect("reports"), 0);
    let discord = Recorder::new(Platform::Discord);
    let posts = delivered_posts(&hub, &discord).await;
    let reports: Vec<&(String, String)> = posts
        .iter()
        .filter(|(_, t)| {
            t.starts_with("📊 Weekly report for support: Mon 23 Nov 09:00 – Mon 30 Nov 09:00 EET")
        })
        .collect();
    assert_eq!(reports.len(), 1, "{posts:#?}");
    let (channel, text) = reports[0];
    assert_eq!(channel, "alerts");
    assert!(
        text.contains("tickets of no team\nOpened 2 · closed 0 · reopened 0 · open at the end 2"),
        "{text}"
    );

    let mut quiet = config();
    quiet.team[0].report_cron = String::new();
    let quiet_hub = Hub::new(
        store.clone(),
        Arc::new(clock.clone()),
        HubConfig {
            sla: Arc::new(quiet.rules().expect("rules")),
            ..HubConfig::default()
        },
    );
    clock.set(Utc.with_ymd_and_hms(2026, 12, 7, 7, 0, 30).unwrap());
    assert_eq!(
        scheduler(&quiet_hub)
            .weekly_reports()
            .await
            .expect("reports"),
        0
    );
}

/// Office hours 09:00–17:00 on weekdays in Helsinki, one policy on them.
fn office_hours_config() -> SlaConfig {
    serde_json::from_value(serde_json::json!({
        "scan_interval": "1s",
        "calendar": [{
            "name": "office",
            "time_zone": "Europe/Helsinki",
            "mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
            "thu": ["09:00-17:00"], "fri": ["09:00-17:00"],
        }],
        "policy": [{
            "name": "office",
            "calendar": "office",
            "first_response": "8h",
            "resolution": "3d",
        }],
    }))
    .expect("a valid [sla] section")
}

both_backends!(
    reports_give_business_hours_beside_wall_clock_time,
    |store: Store| async move {
        // Friday 2026-11-27 16:00 in Helsinki (14:00 UTC): one office hour left that day.
        let opened = Utc.with_ymd_and_hms(2026, 11, 27, 14, 0, 0).unwrap();
        let clock = FakeClock::at(opened);
        let hub = Hub::new(
            store.clone(),
            Arc::new(clock.clone()),
            HubConfig {
                sla: Arc::new(office_hours_config().rules().expect("valid rules")),
                ..HubConfig::default()
            },
        );
        let ticket_id = customer_writes(&hub, "fay", "f1").await;
        let agent = {
            let mut tx = store.begin().await.expect("begin");
            let agent = tx
                .create_agent("gus", None, Role::Agent, clock.now_ms())
                .await
                .expect("agent");
            tx.commit().await.expect("commit");
            agent
        };
        // Answered on Monday at 10:00 (66 hours later, two of them office hours) and closed at
        // 11:00 (67 hours, three office hours).
        clock.advance(Duration::hours(66));
        hub.execute(
            &Actor::Agent(agent.id),
            &TicketRef::Id(ticket_id),
            Command::Reply("it works again".into()),
        )
        .await
        .expect("reply");
        let sla = stored_sla(&store, ticket_id).await;
        assert_eq!(sla.first_response_business_ms, Some(2 * 3_600_000));
        assert_eq!(sla.resolution_business_ms, None, "still open");
        clock.advance(Duration::hours(1));
        hub.execute(
            &Actor::Agent(agent.id),
            &TicketRef::Id(ticket_id),
            Command::Close(None),
        )
        .await
        .expect("close");

        let week = relaydesk_storage::Period {
            start_ms: opened.timestamp_millis() - 86_400_000,
            end_ms: clock.now_ms() + 1,
        };
        let mut tx = store.begin().await.expect("begin");
        let rows = tx
            .report(&[week], relaydesk_storage::ReportGroup::All)
            .await
            .expect("report");
        tx.commit().await.expect("commit");
        let figures = rows[0].figures;
        let hour = Some(3_600_000);
        assert_eq!(figures.first_response.median_ms, hour.map(|h| 66 * h));
        assert_eq!(figures.resolution.median_ms, hour.map(|h| 67 * h));
        assert_eq!(figures.first_response_business.count, 1);
        assert_eq!(
            figures.first_response_business.median_ms,
            hour.map(|h| 2 * h)
        );
        assert_eq!(figures.resolution_business.median_ms, hour.map(|h| 3 * h));
        assert_eq!(figures.resolution_business.p90_ms, hour.map(|h| 3 * h));

        // Reopened, the resolution is no longer a resolution.
        hub.execute(
            &Actor::Agent(agent.id),
            &TicketRef::Id(ticket_id),
            Command::Reopen,
        )
        .await
        .expect("reopen");
        assert_eq!(
            stored_sla(&store, ticket_id).await.resolution_business_ms,
            None
        );
    }
);

both_backends!(
    a_teams_warnings_go_to_the_channel_its_teams_entry_names,
    |store: Store| async move {
        use relaydesk::routing::TeamSettings;
        let clock = FakeClock::at(monday_ten());
        let mut config = relaydesk::config::Config {
            sla: serde_json::from_value(serde_json::json!({
                "scan_interval": "1s",
                "policy": [{"name": "quick", "first_response": "10m"}],
            }))
            .expect("[sla]"),
            ..Default::default()
        };
        config.teams = vec![
            TeamSettings {
                name: "billing".into(),
                discord_channel_id: Some("701".into()),
                ..TeamSettings::default()
            },
            TeamSettings {
                name: "support".into(),
                discord_channel_id: Some("702".into()),
                time_zone: Some("Europe/Helsinki".into()),
                ..TeamSettings::default()
            },
        ];
        let rules = config.sla_rules().expect("valid");
        assert_eq!(rules.teams.len(), 2);
        let hub = Hub::new(
            store.clone(),
            Arc::new(clock.clone()),
            HubConfig {
                sla: Arc::new(rules),
                ..HubConfig::default()
            },
        );
        let support_ticket = customer_writes(&hub, "sam", "s1").await;
        let billing_ticket = customer_writes(&hub, "bea", "b1").await;
        let mut tx = store.begin().await.expect("begin");
        for (ticket, team) in [(support_ticket, "support"), (billing_ticket, "billing")] {
            let team = tx.ensure_team(team, clock.now_ms()).await.expect("team");
            tx.set_team(ticket, Some(team), clock.now_ms())
                .await
                .expect("set team");
        }
        tx.commit().await.expect("commit");
        let discord = Recorder::new(Platform::Discord);
        clock.advance(Duration::minutes(9));
        assert_eq!(scheduler(&hub).pass().await.expect("pass").alerts, 2);
        let posts = delivered_posts(&hub, &discord).await;
        let to = |channel: &str| {
            posts
                .iter()
                .filter(|(c, _)| c == channel)
                .map(|(_, t)| t.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(to("701").len(), 1, "{posts:?}");
        assert!(to("701")[0].contains("bea"), "{posts:?}");
        assert_eq!(to("702").len(), 1, "{posts:?}");
        assert!(to("702")[0].contains("sam"), "{posts:?}");

        // Channels in both [[teams]] and [[sla.team]] are refused, naming the team.
        config.sla.team = vec![serde_json::from_value(serde_json::json!({
            "name": "billing", "discord_channel": "9",
        }))
        .expect("[[sla.team]]")];
        let refused = config.sla_rules().expect_err("twice");
        assert!(refused.contains("teams[0] (billing)"), "{refused}");
    }
);

both_backends!(
    a_breach_escalates_once_by_the_teams_on_breach,
    |store: Store| async move {
        use relaydesk::routing::{OnBreachSettings, RoutingDefaultSettings, TeamSettings};
        use relaydesk_desk::routing::Assignment;
        let clock = FakeClock::at(monday_ten());
        let mut tx = store.begin().await.expect("begin");
        for name in ["anna", "ben", "lena"] {
            let agent = tx
                .create_agent(name, None, Role::Agent, clock.now_ms())
                .await
                .expect("agent");
            tx.link_agent_identity(agent.id, Platform::Discord, &format!("{name}-id"), name)
                .await
                .expect("link");
        }
        tx.commit().await.expect("commit");
        let teams = vec![TeamSettings {
            name: "billing".into(),
            members: vec!["anna".into(), "ben".into()],
            assignment: Assignment::RoundRobin,
            on_breach: Some(OnBreachSettings {
                priority: Some("urgent".into()),
                notify: vec!["lena".into()],
                reassign: true,
            }),
            ..TeamSettings::default()
        }];
        let default = RoutingDefaultSettings {
            team: "billing".into(),
        };
        let routing = relaydesk::routing::prepare(&store, &clock, &teams, &[], Some(&default))
            .await
            .expect("routing");
        let hub = Hub::new(
            store.clone(),
            Arc::new(clock.clone()),
            HubConfig {
                sla: Arc::new(config().rules().expect("rules")),
                routing: Arc::new(routing),
                staff_platforms: vec![Platform::Discord],
                ..HubConfig::default()
            },
        );
        let ticket_id = customer_writes(&hub, "cleo", "c1").await;
        let mut tx = store.begin().await.expect("begin");
        tx.bind_thread(ticket_id, Platform::Discord, "998877", clock.now_ms())
            .await
            .expect("bind");
        let anna = tx.agent_by_name("anna").await.expect("q").expect("anna").id;
        let ben = tx.agent_by_name("ben").await.expect("q").expect("ben").id;
        assert_eq!(
            tx.ticket(ticket_id).await.expect("t").assignee_id,
            Some(anna)
        );
        tx.commit().await.expect("commit");

        clock.advance(Duration::minutes(11));
        scheduler(&hub).pass().await.expect("pass");
        let mut tx = store.begin().await.expect("begin");
        let ticket = tx.ticket(ticket_id).await.expect("t");
        tx.commit().await.expect("commit");
        assert_eq!(ticket.priority, Priority::Urgent);
        assert_eq!(ticket.assignee_id, Some(ben), "another member took it");

        let discord = Recorder::new(Platform::Discord);
        let worker = OutboxWorker::new(hub.clone(), discord.as_deliver(), WorkerOptions::default());
        while worker.run_once().await.expect("outbox pass") > 0 {}
        let notices: Vec<(String, Option<String>)> = discord
            .sent()
            .into_iter()
            .filter_map(|o| match o {
                Outbound::ThreadNotice { text, mention, .. } => {
                    Some((text, mention.map(|m| m.user)))
                }
                _ => None,
            })
            .collect();
        assert!(
            notices.contains(&(
                format!("#{} assigned to ben after an SLA breach.", ticket.number),
                Some("ben-id".into())
            )),
            "{notices:?}"
        );
        assert!(
            notices.contains(&(
                format!(
                    "⚠️ #{} breached its SLA: priority urgent, assigned to ben. lena, please take a look.",
                    ticket.number
                ),
                Some("lena-id".into())
            )),
            "{notices:?}"
        );

        // Once per ticket: later passes change nothing more.
        clock.advance(Duration::hours(1));
        scheduler(&hub).pass().await.expect("pass");
        let mut tx = store.begin().await.expect("begin");
        let escalations = tx
            .audit_trail(ticket_id)
            .await
            .expect("trail")
            .iter()
            .filter(|e| e.action == "escalate")
            .count();
        assert_eq!(
            tx.ticket(ticket_id).await.expect("t").assignee_id,
            Some(ben)
        );
        tx.commit().await.expect("commit");
        assert_eq!(escalations, 1);
    }
);
