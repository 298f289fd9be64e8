//! Report figures on a seeded set of tickets, exact, on SQLite and (with
//! RELAYDESK_TEST_POSTGRES_URL set) PostgreSQL: opened, closed, reopened, first response and
//! resolution (median, 90th percentile), SLA goals met and missed, satisfaction, self-served,
//! backlog — per day, and per agent and team.

use relaydesk_storage::sla::{AlertKey, Goal, Level, TicketSla};
use relaydesk_storage::{
    clock::from_ms, Figures, Period, Platform, ReportGroup, ReportRow, Role, Store, TicketStatus,
    Tx,
};
use relaydesk_tests::both_backends;
use relaydesk_tests::seed::ticket_with_message;

/// A Monday, 00:00 UTC.
const T0: i64 = 1_780_272_000_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Puts the ticket under a policy, with its durations in business hours (first response,
/// resolution) as the SLA engine would have stored them.
async fn under_policy(tx: &mut Tx, ticket: i64, at: i64, business: (Option<i64>, Option<i64>)) {
    tx.save_ticket_sla(
        &TicketSla {
            ticket_id: ticket,
            policy: Some("standard".into()),
            first_response_business_ms: business.0,
            resolution_business_ms: business.1,
            ..TicketSla::default()
        },
        at,
    )
    .await
    .expect("sla row");
}

async fn breach(tx: &mut Tx, ticket: i64, goal: Goal, due: i64) {
    let key = AlertKey {
        goal,
        round: 0,
        level: Level::Breach,
    };
    tx.record_sla_alert(ticket, key, from_ms(due), true, due)
        .await
        .expect("alert");
}

/// Day 1: A (Telegram, anna, billing, SLA) answered in 10 min, closed after 2 h, rated 5;
/// B (Discord, anna, billing, SLA) answered in 30 min after a first-response breach at 20 min;
/// C (web, bert) answered in 60 min. Day 2: B closed (24 h, survey unanswered); C reopened;
/// D (Telegram, nobody) solved by an FAQ answer and closed a minute after opening.
async fn seed(store: &Store) {
    let mut tx = store.begin().await.expect("tx");
    let anna = tx
        .create_agent("anna", None, Role::Agent, T0)
        .await
        .expect("anna")
        .id;
    let bert = tx
        .create_agent("bert", None, Role::Agent, T0)
        .await
        .expect("bert")
        .id;
    let billing = tx.ensure_team("billing", T0).await.expect("team");

    let a = ticket_with_message(&mut tx, "ada", Platform::Telegram, T0 + HOUR, Some(billing)).await;
    tx.set_assignee(a, Some(anna), T0 + HOUR)
        .await
        .expect("assign");
    under_policy(&mut tx, a, T0 + HOUR, (Some(5 * MINUTE), Some(HOUR))).await;
    tx.note_agent_reply(a, T0 + HOUR + 10 * MINUTE)
        .await
        .expect("reply");
    tx.set_status(a, TicketStatus::Closed, None, T0 + 3 * HOUR)
        .await
        .expect("close");
    let survey = tx
        .create_csat_survey(a, T0 + 3 * HOUR)
        .await
        .expect("survey");
    tx.rate_csat_survey(survey, 5, T0 + 4 * HOUR)
        .await
        .expect("rate");

    let b = ticket_with_message(
        &mut tx,
        "bob",
        Platform::Discord,
        T0 + 2 * HOUR,
        Some(billing),
    )
    .await;
    tx.set_assignee(b, Some(anna), T0 + 2 * HOUR)
        .await
        .expect("assign");
    under_policy(
        &mut tx,
        b,
        T0 + 2 * HOUR,
        (Some(30 * MINUTE), Some(8 * HOUR)),
    )
    .await;
    breach(&mut tx, b, Goal::FirstResponse, T0 + 2 * HOUR + 20 * MINUTE).await;
    tx.note_agent_reply(b, T0 + 2 * HOUR + 30 * MINUTE)
        .await
        .expect("reply");

    let c = ticket_with_message(&mut tx, "cid", Platform::Web, T0 + 5 * HOUR, None).await;
    tx.set_assignee(c, Some(bert), T0 + 5 * HOUR)
        .await
        .expect("assign");
    tx.note_agent_reply(c, T0 + 6 * HOUR).await.expect("reply");

    // Day 2.
    tx.set_status(b, TicketStatus::Closed, None, T0 + DAY + 2 * HOUR)
        .await
        .expect("close");
    tx.create_csat_survey(b, T0 + DAY + 2 * HOUR)
        .await
        .expect("survey");
    tx.audit(
        Some(c),
        "customer",
        "reopen",
        "customer wrote again",
        T0 + DAY + HOUR,
    )
    .await
    .expect("audit");
    let d = ticket_with_message(
        &mut tx,
        "dee",
        Platform::Telegram,
        T0 + DAY + 3 * HOUR,
        None,
    )
    .await;
    tx.offer_faq(d, "refund", T0 + DAY + 3 * HOUR)
        .await
        .expect("offer");
    tx.settle_faq_offer(d, "solved", T0 + DAY + 3 * HOUR + MINUTE)
        .await
        .expect("solved");
    tx.set_status(d, TicketStatus::Closed, None, T0 + DAY + 3 * HOUR + MINUTE)
        .await
        .expect("close");
    tx.commit().await.expect("commit");
}

const DAYS: [Period; 2] = [
    Period {
        start_ms: T0,
        end_ms: T0 + DAY,
    },
    Period {
        start_ms: T0 + DAY,
        end_ms: T0 + 2 * DAY,
    },
];

fn find<'r>(rows: &'r [ReportRow], period: usize, group: &str) -> &'r Figures {
    &rows
        .iter()
        .find(|r| r.period == period && r.group == group)
        .unwrap_or_else(|| panic!("no row for period {period}, {group}: {rows:#?}"))
        .figures
}

both_backends!(figures_per_day_are_exact, |store: Store| async move {
    seed(&store).await;
    let mut tx = store.begin().await.expect("tx");
    let rows = tx.report(&DAYS, ReportGroup::All).await.expect("report");
    assert_eq!(rows.len(), 2, "{rows:#?}");

    let day1 = find(&rows, 0, "all");
    assert_eq!((day1.opened, day1.closed, day1.reopened), (3, 1, 0));
    assert_eq!(day1.first_response.count, 3);
    assert_eq!(day1.first_response.median_ms, Some(30 * MINUTE));
    assert_eq!(day1.first_response.p90_ms, Some(60 * MINUTE));
    assert_eq!(day1.resolution.count, 1);
    assert_eq!(day1.resolution.median_ms, Some(2 * HOUR));
    assert_eq!(day1.resolution.p90_ms, Some(2 * HOUR));
    // In business hours: A and B are under a policy, C is not.
    assert_eq!(day1.first_response_business.count, 2);
    assert_eq!(day1.first_response_business.median_ms, Some(5 * MINUTE));
    assert_eq!(day1.first_response_business.p90_ms, Some(30 * MINUTE));
    assert_eq!(day1.resolution_business.count, 1);
    assert_eq!(day1.resolution_business.median_ms, Some(HOUR));
    assert_eq!(
        (day1.first_response_met, day1.first_response_missed),
        (1, 1)
    );
    assert_eq!((day1.resolution_met, day1.resolution_missed), (1, 0));
    assert_eq!(day1.sla_hit_rate(), Some(2.0 / 3.0));
    assert_eq!((day1.csat_sent, day1.csat_answered), (1, 1));
    assert_eq!(day1.csat_average(), Some(5.0));
    assert_eq!(day1.self_served, 0);
    assert_eq!(day1.backlog, 2, "B and C were open at the end of day 1");

    let day2 = find(&rows, 1, "all");
    assert_eq!((day2.opened, day2.closed, day2.reopened), (1, 2, 1));
    assert_eq!(day2.first_response.count, 0);
    assert_eq!(day2.resolution.count, 2);
    assert_eq!(day2.resolution.median_ms, Some(MINUTE));
    assert_eq!(day2.resolution.p90_ms, Some(DAY));
    assert_eq!(day2.resolution_business.count, 1, "B; D is under no policy");
    assert_eq!(day2.resolution_business.median_ms, Some(8 * HOUR));
    assert_eq!((day2.resolution_met, day2.resolution_missed), (1, 0));
    assert_eq!((day2.csat_sent, day2.csat_answered), (1, 0));
    assert_eq!(day2.csat_average(), None);
    assert_eq!(day2.csat_response_rate(), Some(0.0));
    assert_eq!(day2.self_served, 1);
    assert_eq!(day2.backlog, 1, "C");

    // Starting at day 2: the backlog counts what was open at its start (B and C).
    let rows = tx
        .report(&DAYS[1..], ReportGroup::All)
        .await
        .expect("report");
    assert_eq!(find(&rows, 0, "all").backlog, 1);
    assert_eq!(find(&rows, 0, "all").opened, 1);
});

both_backends!(
    figures_per_agent_and_team_are_exact,
    |store: Store| async move {
        seed(&store).await;
        let mut tx = store.begin().await.expect("tx");
        let rows = tx.report(&DAYS, ReportGroup::Agent).await.expect("report");
        let anna = find(&rows, 0, "anna");
        assert_eq!((anna.opened, anna.closed), (2, 1));
        assert_eq!(anna.first_response.count, 2);
        assert_eq!(anna.first_response.median_ms, Some(10 * MINUTE));
        assert_eq!(anna.first_response.p90_ms, Some(30 * MINUTE));
        assert_eq!(
            (anna.first_response_met, anna.first_response_missed),
            (1, 1)
        );
        assert_eq!(anna.csat_average(), Some(5.0));
        let bert = find(&rows, 0, "bert");
        assert_eq!(
            (bert.opened, bert.first_response.median_ms),
            (1, Some(HOUR))
        );
        assert_eq!(find(&rows, 1, "anna").resolution.median_ms, Some(DAY));
        assert_eq!(find(&rows, 1, "bert").reopened, 1);
        assert_eq!(find(&rows, 1, "bert").backlog, 1);
        let nobody = find(&rows, 1, "(unassigned)");
        assert_eq!(
            (nobody.opened, nobody.closed, nobody.self_served),
            (1, 1, 1)
        );

        let rows = tx.report(&DAYS, ReportGroup::Team).await.expect("report");
        let billing = find(&rows, 0, "billing");
        assert_eq!((billing.opened, billing.first_response.count), (2, 2));
        assert_eq!(billing.csat_average(), Some(5.0));
        assert_eq!(find(&rows, 0, "(no team)").opened, 1);
        assert_eq!(find(&rows, 1, "billing").closed, 1);
        assert_eq!(find(&rows, 1, "(no team)").self_served, 1);

        let rows = tx
            .report(&DAYS, ReportGroup::Channel)
            .await
            .expect("report");
        assert_eq!(find(&rows, 0, "telegram").opened, 1);
        assert_eq!(find(&rows, 0, "discord").opened, 1);
        assert_eq!(find(&rows, 0, "web").opened, 1);
        assert_eq!(find(&rows, 1, "telegram").self_served, 1);

        let rows = tx
            .report(&DAYS, ReportGroup::Priority)
            .await
            .expect("report");
        assert_eq!(find(&rows, 0, "normal").opened, 3);
        assert!(tx
            .report(&[], ReportGroup::All)
            .await
            .expect("empty")
            .is_empty());
    }
);

/// The same figures through `GET /api/v1/reports`, as JSON and CSV, and its refusals.
async fn api_story(db: relaydesk_tests::db::TestDb) {
    let app = relaydesk_tests::app::spawn_app_with(relaydesk_tests::app::Spawn {
        db,
        ..Default::default()
    })
    .await;
    seed(&app.store).await;
    let agent = relaydesk_tests::api_agent::ApiAgent::new(&app, "reader").await;
    let from = from_ms(T0).to_rfc3339();
    let to = from_ms(T0 + 2 * DAY).to_rfc3339();
    let query = [
        ("by", "agent"),
        ("from", &from),
        ("to", &to),
        ("time_zone", "UTC"),
    ];

    let (status, body) = agent.get_json("/api/v1/reports", &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["by"], "agent");
    assert_eq!(body["period"], "day");
    let rows = body["rows"].as_array().expect("rows");
    let anna = rows
        .iter()
        .find(|r| r["period"] == "2026-06-01" && r["group"] == "anna")
        .unwrap_or_else(|| panic!("{body:#}"));
    assert_eq!(anna["opened"], 2);
    assert_eq!(anna["first_response_median_seconds"], 600);
    assert_eq!(anna["first_response_p90_seconds"], 1800);
    assert_eq!(anna["first_response_business_median_seconds"], 300);
    assert_eq!(anna["first_response_business_p90_seconds"], 1800);
    assert_eq!(anna["resolution_business_median_seconds"], 3600);
    assert_eq!(anna["sla_first_response_missed"], 1);
    assert_eq!(anna["csat_average"], 5.0);

    let csv_query = [&query[..], &[("format", "csv")]].concat();
    let (status, csv) = agent.get_text("/api/v1/reports", &csv_query).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("period,group,opened,"), "{csv}");
    assert!(
        csv.contains("\n2026-06-01,anna,2,1,0,1,2,600,1800,"),
        "{csv}"
    );

    for (field, value) in [
        ("by", "weather"),
        ("period", "fortnight"),
        ("time_zone", "Mars/Olympus"),
        ("from", "last tuesday"),
        ("format", "xml"),
    ] {
        let (status, body) = agent.get_json("/api/v1/reports", &[(field, value)]).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let (status, body) = agent
        .get_json(
            "/api/v1/reports",
            &[("from", "2020-01-01"), ("to", "2026-01-01")],
        )
        .await;
    assert_eq!(status, 422, "too many days: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_gives_the_report_as_json_and_csv() {
    api_story(relaydesk_tests::db::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_gives_the_report_as_json_and_csv_on_postgres() {
    if let Some(db) = relaydesk_tests::db::TestDb::postgres().await {
        api_story(db).await;
    }
}

/// The console's Reports page and CSV, for admins only, with the chart and the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_shows_admins_the_report_with_a_chart_and_a_csv() {
    use relaydesk_tests::console_client::ConsoleClient;
    const PASSWORD: &str = "correct horse battery";
    let app = relaydesk_tests::app::spawn_app().await;
    seed(&app.store).await;
    for (name, admin) in [("carla", false), ("dora", true)] {
        relaydesk::cli::agent::add(
            &app.store,
            &relaydesk_storage::SystemClock,
            name,
            &format!("{name}@example.com"),
            admin,
            Some(PASSWORD),
        )
        .await
        .expect("agent added");
    }
    let mut agent = ConsoleClient::new(&app.url(""));
    agent.sign_in("carla@example.com", PASSWORD).await;
    assert_eq!(agent.get("/console/reports").await.status, 403);
    assert_eq!(agent.get("/console/reports.csv").await.status, 403);

    let mut admin = ConsoleClient::new(&app.url(""));
    admin.sign_in("dora@example.com", PASSWORD).await;
    let query = "by=team&from=2026-06-01&to=2026-06-03&time_zone=UTC";
    let page = admin.get(&format!("/console/reports?{query}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg class=\"chart\""), "{}", page.body);
    assert_eq!(page.body.matches("<rect class=\"opened\"").count(), 2);
    assert!(
        page.body
            .contains("<td>2026-06-01</td><td>billing</td><td>2</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("10m / 30m"), "billing's first responses");
    assert!(page.body.contains(&format!(
        "href=\"/console/reports.csv?{}\"",
        query.replace('&', "&amp;")
    )));
    let csv = admin.get(&format!("/console/reports.csv?{query}")).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body
            .contains("\n2026-06-01,billing,2,1,0,1,2,600,1800,"),
        "{}",
        csv.body
    );
    let bad = admin.get("/console/reports?period=fortnight").await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("period: `fortnight` is not a period"),
        "{}",
        bad.body
    );
}
