//! The store contract: every test runs on SQLite and, with RELAYDESK_TEST_POSTGRES_URL set, on
//! PostgreSQL, each in a fresh database.

use relaydesk_storage::{
    AuthorKind, NewMessage, NewTicket, OutboxStatus, Platform, Priority, Role, Store, TicketStatus,
    Tx,
};
use relaydesk_tests::both_backends;

const T0: i64 = 1_780_000_000_000;

async fn customer_ticket(tx: &mut Tx, who: &str) -> (i64, i64) {
    ticket_on(tx, Platform::Telegram, who).await
}

/// A customer writing from `platform` as `who`, and the ticket their conversation opened.
async fn ticket_on(tx: &mut Tx, platform: Platform, who: &str) -> (i64, i64) {
    let customer = tx
        .customer_for_identity(platform, who, who, Some("en"), T0)
        .await
        .unwrap();
    let ticket = tx
        .open_ticket(
            &NewTicket {
                subject: "printer",
                customer_id: customer.id,
                origin: platform,
                conversation: who,
                priority: Priority::Normal,
                team_id: None,
                previous_ticket_id: None,
            },
            T0,
        )
        .await
        .unwrap()
        .expect("a new conversation opens a ticket");
    (customer.id, ticket.id)
}

fn customer_message<'a>(
    ticket_id: i64,
    customer_id: i64,
    body: &'a str,
    external: Option<&'a str>,
) -> NewMessage<'a> {
    NewMessage {
        ticket_id,
        author_kind: AuthorKind::Customer,
        customer_id: Some(customer_id),
        agent_id: None,
        author_name: "Anna",
        body,
        attachments: &[],
        internal: false,
        platform: Platform::Telegram,
        external_id: external,
    }
}

both_backends!(
    migrations_are_applied_and_reported_ready,
    |store: Store| async move {
        store.check_ready().await.expect("ready after open");
        store.migrate().await.expect("migrating twice is harmless");
    }
);

both_backends!(an_identity_is_one_customer, |store: Store| async move {
    let mut tx = store.begin().await.unwrap();
    let a = tx
        .customer_for_identity(Platform::Telegram, "42", "Anna", None, T0)
        .await
        .unwrap();
    let again = tx
        .customer_for_identity(Platform::Telegram, "42", "Anna K.", Some("de"), T0)
        .await
        .unwrap();
    let other = tx
        .customer_for_identity(Platform::Discord, "42", "Anna", None, T0)
        .await
        .unwrap();
    assert_eq!(a.id, again.id);
    assert_ne!(a.id, other.id, "identities are per platform");
    tx.commit().await.unwrap();
});

both_backends!(
    active_tickets_of_several_conversations,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (_, c3) = customer_ticket(&mut tx, "c3").await;
        let (_, c1) = customer_ticket(&mut tx, "c1").await;
        let (_, closed) = customer_ticket(&mut tx, "c2").await;
        tx.set_status(closed, TicketStatus::Closed, Some("solved"), T0)
            .await
            .unwrap();
        // Same conversation name on another platform: not this origin's.
        ticket_on(&mut tx, Platform::Discord, "c1").await;
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let found = tx
            .active_tickets(Platform::Telegram, &["c1", "c2", "c3", "nobody"])
            .await
            .unwrap();
        let found: Vec<(i64, &str)> = found
            .iter()
            .map(|t| (t.id, t.conversation.as_str()))
            .collect();
        // Only active tickets of the origin, in id order (the order their locks are taken).
        assert_eq!(found, vec![(c3, "c3"), (c1, "c1")]);
        assert!(tx
            .active_tickets(Platform::Telegram, &[])
            .await
            .unwrap()
            .is_empty());
        tx.rollback().await.unwrap();
    }
);

both_backends!(
    one_active_ticket_per_conversation,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (customer, ticket) = customer_ticket(&mut tx, "c1").await;
        let second = tx
            .open_ticket(
                &NewTicket {
                    subject: "again",
                    customer_id: customer,
                    origin: Platform::Telegram,
                    conversation: "c1",
                    priority: Priority::High,
                    team_id: None,
                    previous_ticket_id: None,
                },
                T0,
            )
            .await
            .unwrap();
        assert!(
            second.is_none(),
            "a second active ticket for one conversation is refused"
        );
        let active = tx
            .active_ticket(Platform::Telegram, "c1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(active.id, ticket);
        assert_eq!(active.status, TicketStatus::Open);
        tx.set_status(ticket, TicketStatus::Closed, Some("done"), T0 + 1)
            .await
            .unwrap();
        assert!(tx
            .active_ticket(Platform::Telegram, "c1")
            .await
            .unwrap()
            .is_none());
        let closed = tx
            .latest_ticket(Platform::Telegram, "c1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.close_reason.as_deref(), Some("done"));
        assert_eq!(closed.closed_at.unwrap().timestamp_millis(), T0 + 1);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    ticket_numbers_are_unique_and_human,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let mut numbers = Vec::new();
        for who in ["a", "b", "c"] {
            let (_, id) = customer_ticket(&mut tx, who).await;
            numbers.push(tx.ticket(id).await.unwrap().number);
        }
        assert!(numbers.iter().all(|n| *n > 1000));
        numbers.dedup();
        assert_eq!(numbers.len(), 3);
        let found = tx.ticket_by_number(numbers[1]).await.unwrap().unwrap();
        assert_eq!(found.number, numbers[1]);
        assert!(tx.ticket_by_number(999_999).await.unwrap().is_none());
        tx.commit().await.unwrap();
    }
);

both_backends!(
    a_platform_message_is_stored_once,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (customer, ticket) = customer_ticket(&mut tx, "c").await;
        let first = tx
            .append_message(&customer_message(ticket, customer, "hi", Some("c:1")), T0)
            .await
            .unwrap();
        assert!(first.is_some());
        let again = tx
            .append_message(&customer_message(ticket, customer, "hi", Some("c:1")), T0)
            .await
            .unwrap();
        assert!(
            again.is_none(),
            "same (platform, external id) is one message"
        );
        let mut other_platform = customer_message(ticket, customer, "hi", Some("c:1"));
        other_platform.platform = Platform::Discord;
        assert!(tx
            .append_message(&other_platform, T0)
            .await
            .unwrap()
            .is_some());
        // Messages without a platform id (console, API) are never deduplicated.
        assert!(tx
            .append_message(&customer_message(ticket, customer, "x", None), T0)
            .await
            .unwrap()
            .is_some());
        assert!(tx
            .append_message(&customer_message(ticket, customer, "x", None), T0)
            .await
            .unwrap()
            .is_some());
        assert_eq!(tx.messages(ticket).await.unwrap().len(), 4);
        let found = tx
            .message_by_external(Platform::Telegram, "c:1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.body, "hi");
        tx.commit().await.unwrap();
    }
);

both_backends!(
    attachments_and_flags_round_trip,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (customer, ticket) = customer_ticket(&mut tx, "c").await;
        let attachment = relaydesk_storage::Attachment {
            kind: "photo".into(),
            file_name: Some("p.jpg".into()),
            mime_type: Some("image/jpeg".into()),
            size: Some(1234),
            platform_ref: Some("AgAD".into()),
            url: None,
        };
        let mut message = customer_message(ticket, customer, "see photo", Some("m1"));
        let attachments = [attachment.clone()];
        message.attachments = &attachments;
        message.internal = true;
        let stored = tx.append_message(&message, T0).await.unwrap().unwrap();
        let read = tx.message(stored.id).await.unwrap();
        assert_eq!(read.attachments, vec![attachment]);
        assert!(read.internal);
        assert_eq!(read.author_kind, AuthorKind::Customer);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    sla_timestamps_follow_the_conversation,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (_, ticket) = customer_ticket(&mut tx, "c").await;
        tx.note_customer_message(ticket, T0 + 10).await.unwrap();
        tx.note_agent_reply(ticket, T0 + 20).await.unwrap();
        let t = tx.ticket(ticket).await.unwrap();
        assert_eq!(
            t.status,
            TicketStatus::Pending,
            "an agent reply waits on the customer"
        );
        assert_eq!(t.first_agent_reply_at.unwrap().timestamp_millis(), T0 + 20);
        tx.note_agent_reply(ticket, T0 + 30).await.unwrap();
        tx.note_customer_message(ticket, T0 + 40).await.unwrap();
        let t = tx.ticket(ticket).await.unwrap();
        assert_eq!(
            t.status,
            TicketStatus::Open,
            "a customer message waits on us"
        );
        assert_eq!(
            t.first_agent_reply_at.unwrap().timestamp_millis(),
            T0 + 20,
            "first reply is kept"
        );
        assert_eq!(t.last_agent_reply_at.unwrap().timestamp_millis(), T0 + 30);
        assert_eq!(
            t.last_customer_message_at.unwrap().timestamp_millis(),
            T0 + 40
        );
        tx.commit().await.unwrap();
    }
);

both_backends!(
    merge_moves_messages_and_marks_the_source,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (c1, source) = customer_ticket(&mut tx, "s").await;
        let (_, target) = customer_ticket(&mut tx, "t").await;
        for i in 0..3 {
            let body = format!("m{i}");
            tx.append_message(&customer_message(source, c1, &body, None), T0)
                .await
                .unwrap();
        }
        assert_eq!(tx.merge_tickets(source, target, T0 + 5).await.unwrap(), 3);
        assert_eq!(tx.messages(target).await.unwrap().len(), 3);
        assert!(tx.messages(source).await.unwrap().is_empty());
        let s = tx.ticket(source).await.unwrap();
        assert_eq!(s.status, TicketStatus::Merged);
        assert_eq!(s.merged_into, Some(target));
        tx.commit().await.unwrap();
    }
);

both_backends!(tags_threads_and_audit, |store: Store| async move {
    let mut tx = store.begin().await.unwrap();
    let (_, ticket) = customer_ticket(&mut tx, "c").await;
    assert!(tx.add_tag(ticket, "billing").await.unwrap());
    assert!(!tx.add_tag(ticket, "billing").await.unwrap());
    assert!(tx.add_tag(ticket, "vip").await.unwrap());
    assert!(tx.remove_tag(ticket, "vip").await.unwrap());
    assert!(!tx.remove_tag(ticket, "vip").await.unwrap());
    assert_eq!(tx.tags(ticket).await.unwrap(), vec!["billing"]);

    tx.bind_thread(ticket, Platform::Discord, "thread-9", T0)
        .await
        .unwrap();
    assert_eq!(
        tx.thread_of(ticket, Platform::Discord)
            .await
            .unwrap()
            .as_deref(),
        Some("thread-9")
    );
    assert_eq!(
        tx.ticket_id_by_thread(Platform::Discord, "thread-9")
            .await
            .unwrap(),
        Some(ticket)
    );
    assert!(tx
        .thread_of(ticket, Platform::Telegram)
        .await
        .unwrap()
        .is_none());

    tx.audit(Some(ticket), "agent:1", "close", "done", T0)
        .await
        .unwrap();
    let trail = tx.audit_trail(ticket).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "close");
    tx.commit().await.unwrap();
});

both_backends!(
    agents_have_names_roles_and_identities,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let anna = tx
            .create_agent("Anna", Some("anna@example.com"), Role::Admin, T0)
            .await
            .unwrap();
        let clash = tx
            .create_agent("Anna", None, Role::Agent, T0)
            .await
            .unwrap_err();
        assert!(clash.is_unique_violation());
        tx.link_agent_identity(anna.id, Platform::Discord, "111", "anna_k")
            .await
            .unwrap();
        assert_eq!(
            tx.agent_by_identity(Platform::Discord, "111")
                .await
                .unwrap()
                .unwrap()
                .id,
            anna.id
        );
        assert_eq!(tx.agent_by_name("ANNA").await.unwrap().unwrap().id, anna.id);
        assert_eq!(
            tx.agent_by_name("anna_k").await.unwrap().unwrap().id,
            anna.id
        );
        assert!(tx.agent_by_name("nobody").await.unwrap().is_none());

        let bob = tx
            .agent_for_identity(Platform::Telegram, "7", "Bob", T0)
            .await
            .unwrap();
        assert_eq!(bob.role, Role::Agent, "first sight makes a plain agent");
        tx.set_agent_role(bob.id, Role::Admin).await.unwrap();
        let bob_again = tx
            .agent_for_identity(Platform::Telegram, "7", "Bob", T0)
            .await
            .unwrap();
        assert_eq!(bob.id, bob_again.id);
        assert_eq!(
            bob_again.role,
            Role::Admin,
            "the stored role is kept: chat identities never change it"
        );
        let other_anna = tx
            .agent_for_identity(Platform::Telegram, "8", "Anna", T0)
            .await
            .unwrap();
        assert_ne!(other_anna.id, anna.id, "a name clash gets a distinct agent");
        tx.commit().await.unwrap();
    }
);

both_backends!(
    outbox_leases_only_lane_heads_in_order,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (_, ticket) = customer_ticket(&mut tx, "c").await;
        let a1 = tx
            .enqueue(Some(ticket), "lane-a", Platform::Telegram, "a1", T0)
            .await
            .unwrap();
        let a2 = tx
            .enqueue(Some(ticket), "lane-a", Platform::Telegram, "a2", T0)
            .await
            .unwrap();
        let b1 = tx
            .enqueue(Some(ticket), "lane-b", Platform::Telegram, "b1", T0)
            .await
            .unwrap();
        let d1 = tx
            .enqueue(None, "lane-d", Platform::Discord, "d1", T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let leased = tx
            .lease(Platform::Telegram, "w1", T0, 1000, 10)
            .await
            .unwrap();
        assert_eq!(
            leased.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![a1, b1],
            "one head per lane"
        );
        assert!(leased.iter().all(|i| i.attempts == 1));
        let again = tx
            .lease(Platform::Telegram, "w2", T0, 1000, 10)
            .await
            .unwrap();
        assert!(
            again.is_empty(),
            "leased rows and rows behind them are not handed out twice"
        );
        assert!(
            !tx.mark_delivered(a1, "w2", Some("x"), T0).await.unwrap(),
            "only the lease owner records"
        );
        assert!(tx.mark_delivered(a1, "w1", Some("tg:1"), T0).await.unwrap());
        let next = tx
            .lease(Platform::Telegram, "w2", T0, 1000, 10)
            .await
            .unwrap();
        assert_eq!(next.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a2]);
        assert_eq!(
            tx.outbox_row(a1)
                .await
                .unwrap()
                .unwrap()
                .external_ref
                .as_deref(),
            Some("tg:1")
        );

        // A retry later keeps its lane blocked until then; b1 is still leased to w1.
        assert!(tx
            .reschedule(a2, "w2", T0 + 5_000, "busy", true)
            .await
            .unwrap());
        assert!(tx
            .lease(Platform::Telegram, "w3", T0 + 999, 1000, 10)
            .await
            .unwrap()
            .is_empty());
        // w1 died holding b1: once its lease runs out the row is handed out again.
        let expired = tx
            .lease(Platform::Telegram, "w4", T0 + 1_001, 1000, 10)
            .await
            .unwrap();
        assert_eq!(
            expired
                .iter()
                .map(|i| (i.id, i.attempts))
                .collect::<Vec<_>>(),
            vec![(b1, 2)]
        );
        // Several confirmations at once: only the rows whose lease the recorder holds are
        // marked (a2 waits for its retry, leased to nobody).
        let marked = tx
            .mark_delivered_many(&[(b1, None), (a2, Some("stale"))], "w4", T0 + 1_002)
            .await
            .unwrap();
        assert_eq!(marked, std::collections::HashSet::from([b1]));
        assert_eq!(
            tx.outbox_row(a2).await.unwrap().unwrap().status,
            OutboxStatus::Pending
        );
        let retried = tx
            .lease(Platform::Telegram, "w3", T0 + 5_000, 1000, 10)
            .await
            .unwrap();
        assert_eq!(
            retried
                .iter()
                .map(|i| (i.id, i.attempts))
                .collect::<Vec<_>>(),
            vec![(a2, 2)]
        );
        assert_eq!(tx.next_due(Platform::Discord).await.unwrap(), Some(T0));

        let discord = tx
            .lease(Platform::Discord, "d", T0, 1000, 10)
            .await
            .unwrap();
        assert_eq!(discord.len(), 1);
        assert_eq!(discord[0].ticket_id, None);
        assert!(tx.mark_failed(d1, "d", "gone", T0).await.unwrap());
        assert_eq!(tx.count_outbox(OutboxStatus::Failed).await.unwrap(), 1);
        assert_eq!(tx.count_outbox(OutboxStatus::Delivered).await.unwrap(), 2);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    rate_limited_retries_do_not_count_as_attempts,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let (_, ticket) = customer_ticket(&mut tx, "c").await;
        let id = tx
            .enqueue(Some(ticket), "lane", Platform::Discord, "p", T0)
            .await
            .unwrap();
        for round in 0..5 {
            let leased = tx
                .lease(Platform::Discord, "w", T0 + round, 1000, 10)
                .await
                .unwrap();
            assert_eq!(
                leased[0].attempts, 1,
                "round {round}: a 429 gave its attempt back"
            );
            assert!(tx
                .reschedule(id, "w", T0 + round + 1, "rate limited", false)
                .await
                .unwrap());
        }
        let leased = tx
            .lease(Platform::Discord, "w", T0 + 10, 1000, 10)
            .await
            .unwrap();
        assert!(tx.reschedule(id, "w", T0 + 11, "502", true).await.unwrap());
        assert_eq!(leased[0].attempts, 1);
        let leased = tx
            .lease(Platform::Discord, "w", T0 + 11, 1000, 10)
            .await
            .unwrap();
        assert_eq!(leased[0].attempts, 2, "a real failure counts");
    }
);

both_backends!(
    an_inbound_event_is_remembered_once,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .remember_event(Platform::Telegram, "-100:7", T0)
            .await
            .unwrap());
        assert!(!tx
            .remember_event(Platform::Telegram, "-100:7", T0)
            .await
            .unwrap());
        assert!(tx
            .remember_event(Platform::Discord, "-100:7", T0)
            .await
            .unwrap());
        tx.commit().await.unwrap();
    }
);

#[tokio::test]
async fn a_plain_file_path_opens_and_creates_an_sqlite_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("plain.db");
    let store = relaydesk_storage::Store::open(
        path.to_str().expect("a UTF-8 path"),
        &relaydesk_storage::StoreOptions::default(),
    )
    .await
    .expect("a plain path opens");
    assert_eq!(store.backend(), relaydesk_storage::Backend::Sqlite);
    store.check_ready().await.expect("migrated");
    store.close().await;
    assert!(path.exists(), "the file was created");
}

both_backends!(
    a_lease_has_one_holder_until_it_runs_out,
    |store: Store| async move {
        let hold = |owner: &'static str, now: i64| {
            let store = store.clone();
            async move {
                let mut tx = store.begin().await.expect("begin");
                let held = tx
                    .hold_lease("telegram.polling", owner, now, 60_000)
                    .await
                    .expect("lease");
                tx.commit().await.expect("commit");
                held
            }
        };
        assert!(hold("a", T0).await, "a free lease is taken");
        assert!(!hold("b", T0 + 1_000).await, "held by a");
        assert!(hold("a", T0 + 30_000).await, "a keeps it");
        assert!(
            !hold("b", T0 + 80_000).await,
            "a renewed it until T0 + 90 s"
        );
        assert!(
            hold("b", T0 + 91_000).await,
            "a let it run out: b takes over"
        );
        assert!(!hold("a", T0 + 92_000).await, "now b holds it");
        let mut tx = store.begin().await.expect("begin");
        tx.release_lease("telegram.polling", "b")
            .await
            .expect("release");
        tx.commit().await.expect("commit");
        assert!(
            hold("a", T0 + 93_000).await,
            "a released lease is free at once"
        );
    }
);

/// PostgreSQL: the lookup of a group's tickets stays an index lookup on (origin, conversation)
/// while `tickets` has no statistics (a new database, or a server with autovacuum off). An
/// `IN` list there was planned as a scan of every active ticket of the origin, filtered row by
/// row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_lookups_are_index_lookups_without_statistics_on_postgres() {
    use sqlx::{Connection, Executor};
    let Some(db) = relaydesk_tests::db::TestDb::postgres().await else {
        return;
    };
    let store = db.store().await;
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    // Nothing may gather statistics behind the test's back.
    for table in ["tickets", "customer_identities", "customers"] {
        admin
            .execute(format!("ALTER TABLE {table} SET (autovacuum_enabled = false)").as_str())
            .await
            .unwrap();
    }
    let mut tx = store.begin().await.unwrap();
    for n in 0..300 {
        customer_ticket(&mut tx, &format!("c{n}")).await;
    }
    tx.commit().await.unwrap();
    let reltuples: f32 =
        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'tickets'")
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert!(reltuples < 0.0, "tickets has no statistics yet");
    // The plan the pool's prepared statement settles on after a few runs.
    admin
        .execute("SET plan_cache_mode = force_generic_plan")
        .await
        .unwrap();
    let sql = relaydesk_storage::active_tickets_sql(relaydesk_storage::Backend::Postgres, 3);
    let plan = generic_plan(&mut admin, "lookup", &sql).await;
    assert_index_lookups(&plan, "conversation", "conversation", "tickets");
    // The group's lookup of its customers, likewise.
    let sql = relaydesk_storage::known_customers_sql(relaydesk_storage::Backend::Postgres, 3);
    let plan = generic_plan(&mut admin, "customers", &sql).await;
    assert_index_lookups(&plan, "external_id", "identity", "customers");
    admin.close().await.unwrap();
    store.close().await;
}

/// The plan of `sql` (platform, then three listed keys) run as the prepared statement `name`
/// for Telegram's `c7`, `c70` and `c200`, as `EXPLAIN (ANALYZE, BUFFERS)` prints it.
async fn generic_plan(admin: &mut sqlx::PgConnection, name: &str, sql: &str) -> String {
    use sqlx::{Executor, Row};
    admin
        .execute(format!("PREPARE {name} (text, text, text, text) AS {sql}").as_str())
        .await
        .unwrap();
    let explain =
        format!("EXPLAIN (ANALYZE, BUFFERS) EXECUTE {name} ('telegram', 'c7', 'c70', 'c200')");
    let rows = sqlx::query(&explain).fetch_all(&mut *admin).await.unwrap();
    rows.iter()
        .map(|row| row.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `plan` looks each listed key up in an index on `column` (`what` names the key), filters no
/// row by it, and finds the three `found`.
fn assert_index_lookups(plan: &str, column: &str, what: &str, found: &str) {
    assert!(
        plan.lines()
            .any(|l| l.contains("Index Cond") && l.contains(column)),
        "the {what} is part of the index condition:\n{plan}"
    );
    assert!(
        !plan
            .lines()
            .any(|l| l.contains("Filter") && l.contains(column)),
        "no {what} is filtered row by row:\n{plan}"
    );
    assert!(
        plan.contains("rows=3 loops=1"),
        "the three {found} are found:\n{plan}"
    );
}

/// Two transactions that lock several tickets must take the locks in one order, or each can
/// hold what the other waits for. The group lookup locks in id order whatever order its
/// conversations are listed in: here "a" is listed first but its ticket was opened second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_lookup_locks_tickets_in_id_order_on_postgres() {
    use sqlx::Connection;
    let Some(db) = relaydesk_tests::db::TestDb::postgres().await else {
        return;
    };
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    let (_, first) = customer_ticket(&mut tx, "b").await;
    let (_, second) = customer_ticket(&mut tx, "a").await;
    tx.commit().await.unwrap();
    assert!(first < second);

    // One transaction holds the first ticket, as an agent's reply to it would.
    let mut holder = store.begin().await.unwrap();
    holder.note_agent_reply(first, T0).await.unwrap();
    let group = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tx = store.begin().await?;
            let found = tx.active_tickets(Platform::Telegram, &["a", "b"]).await?;
            tx.commit().await?;
            Ok::<_, relaydesk_storage::StorageError>(found)
        }
    });
    // Wait until the group lookup waits for the first ticket.
    let mut watcher = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let waiting = someone_waits_for_a_lock(&mut watcher).await;
    assert!(waiting, "the group lookup waits for the held ticket");
    // The holder then takes the second ticket: free, since the lookup holds nothing yet. Had
    // the lookup locked the second ticket first, this would be a deadlock and one of the two
    // transactions would be cancelled.
    holder
        .note_agent_reply(second, T0)
        .await
        .expect("the second ticket is not held by the waiting lookup");
    holder.commit().await.unwrap();
    let found = group
        .await
        .unwrap()
        .expect("the lookup goes on once the holder commits");
    let ids: Vec<i64> = found.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![first, second]);
    watcher.close().await.unwrap();
    store.close().await;
}

/// A ticket closed while a group lookup waited for its lock is not returned: the lookup
/// answers with what the ticket is once locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_lookup_drops_a_ticket_closed_while_it_waited_on_postgres() {
    use sqlx::Connection;
    let Some(db) = relaydesk_tests::db::TestDb::postgres().await else {
        return;
    };
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    let (_, closing) = customer_ticket(&mut tx, "closing").await;
    let (_, staying) = customer_ticket(&mut tx, "staying").await;
    tx.commit().await.unwrap();

    let mut closer = store.begin().await.unwrap();
    closer
        .set_status(closing, TicketStatus::Closed, None, T0)
        .await
        .unwrap();
    let group = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tx = store.begin().await?;
            let found = tx
                .active_tickets(Platform::Telegram, &["closing", "staying"])
                .await?;
            tx.commit().await?;
            Ok::<_, relaydesk_storage::StorageError>(found)
        }
    });
    let mut watcher = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let waiting = someone_waits_for_a_lock(&mut watcher).await;
    assert!(
        waiting,
        "the group lookup waits for the ticket being closed"
    );
    closer.commit().await.unwrap();
    let found = group.await.unwrap().unwrap();
    let ids: Vec<i64> = found.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![staying], "only the ticket still active");
    watcher.close().await.unwrap();
    store.close().await;
}

/// Whether a session of the watched database comes to wait for a row lock within 4 s.
async fn someone_waits_for_a_lock(watcher: &mut sqlx::PgConnection) -> bool {
    for _ in 0..200 {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *watcher)
        .await
        .unwrap();
        if count > 0 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

both_backends!(
    a_customer_message_moves_the_activity_order_by_steps,
    |store: Store| async move {
        use relaydesk_storage::ACTIVITY_STEP_MS;
        let mut tx = store.begin().await.unwrap();
        let (_, id) = customer_ticket(&mut tx, "anna").await;
        let half = ACTIVITY_STEP_MS / 2;
        tx.note_customer_messages(&[id], T0 + half).await.unwrap();
        let ticket = tx.ticket(id).await.unwrap();
        assert_eq!(ticket.updated_at.timestamp_millis(), T0, "within a step");
        assert_eq!(
            ticket
                .last_customer_message_at
                .map(|t| t.timestamp_millis()),
            Some(T0 + half),
            "the message's own time is exact"
        );
        tx.note_customer_message(id, T0 + ACTIVITY_STEP_MS)
            .await
            .unwrap();
        let ticket = tx.ticket(id).await.unwrap();
        assert_eq!(
            ticket.updated_at.timestamp_millis(),
            T0 + ACTIVITY_STEP_MS,
            "a step later the list order moves"
        );
        tx.note_customer_message(id, T0 + ACTIVITY_STEP_MS + half)
            .await
            .unwrap();
        // The last message came after this moment, though `updated_at` is older.
        let since = T0 + ACTIVITY_STEP_MS + 1;
        assert!(tx.tickets_changed_since(since).await.unwrap().contains(&id));
        assert!(!tx
            .tickets_changed_since(T0 + 3 * ACTIVITY_STEP_MS)
            .await
            .unwrap()
            .contains(&id));
        tx.commit().await.unwrap();
    }
);

/// Customer messages within a step change no indexed column of their ticket: PostgreSQL
/// updates the row in place (HOT), adding no entry to any of the ticket's indexes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_messages_update_their_ticket_in_place_on_postgres() {
    use sqlx::Connection;
    let Some(db) = relaydesk_tests::db::TestDb::postgres().await else {
        return;
    };
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    let (_, id) = customer_ticket(&mut tx, "anna").await;
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for n in 1..=20 {
        tx.note_customer_messages(&[id], T0 + n * 10).await.unwrap();
    }
    tx.commit().await.unwrap();
    store.close().await;
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    // The counts reach the statistics views once the writing session has reported them: when
    // it ends, or when it has been idle a while (up to 10 s).
    let mut counts = (0, 0);
    for _ in 0..300 {
        counts = sqlx::query_as(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'tickets'",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if counts.0 >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (updates, in_place): (i64, i64) = counts;
    assert_eq!(updates, 20, "twenty updates of the ticket");
    assert_eq!(in_place, 20, "each one in place");
    admin.close().await.unwrap();
}
