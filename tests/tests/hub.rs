//! The hub and the outbox end to end, on both backends: a recording platform stands in for
//! Telegram (customer side) and Discord (staff side) behind the `Deliver` trait.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use relaydesk::hub::{
    Actor, Command, CustomerMessage, DeliveryError, Hub, HubConfig, HubError, Inbound, Ingested,
    Outbound, PlatformUser, StaffMessage, StaffOutcome, TicketRef,
};
use relaydesk::outbox::{OutboxWorker, WorkerOptions};
use relaydesk_desk::DeskError;
use relaydesk_storage::{
    Clock, FakeClock, OutboxStatus, Platform, Role, Store, StoreOptions, TicketStatus,
};
use relaydesk_tests::both_backends;
use relaydesk_tests::recorder::Recorder;

struct Desk {
    hub: Hub,
    clock: FakeClock,
    staff: Recorder,
    customer: Recorder,
    workers: Vec<OutboxWorker>,
}

fn new_desk(store: Store) -> Desk {
    let clock = FakeClock::at(chrono::Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap());
    let hub = Hub::new(
        store,
        Arc::new(clock.clone()),
        HubConfig {
            staff_platforms: vec![Platform::Discord],
            customer_platforms: vec![Platform::Telegram],
            ..HubConfig::default()
        },
    );
    let staff = Recorder::new(Platform::Discord);
    let customer = Recorder::new(Platform::Telegram);
    let workers = vec![
        OutboxWorker::new(hub.clone(), staff.as_deliver(), WorkerOptions::default()),
        OutboxWorker::new(hub.clone(), customer.as_deliver(), WorkerOptions::default()),
    ];
    Desk {
        hub,
        clock,
        staff,
        customer,
        workers,
    }
}

impl Desk {
    /// Runs the workers until nothing is due now.
    async fn drain(&self) {
        for _ in 0..200 {
            let mut handled = 0;
            for worker in &self.workers {
                handled += worker.run_once().await.expect("outbox pass");
            }
            if handled == 0 {
                return;
            }
        }
        panic!("the outbox did not settle");
    }

    /// Lets time pass (for retries), then drains.
    async fn later(&self, by: Duration) {
        self.clock.advance(chrono::Duration::from_std(by).unwrap());
        self.drain().await;
    }

    async fn customer_says(&self, who: &str, id: &str, text: &str) -> Result<Ingested, HubError> {
        self.hub
            .ingest(Inbound::Customer(customer_message(who, id, text)))
            .await
    }

    async fn agent_says(&self, thread: &str, id: &str, text: &str) -> Result<Ingested, HubError> {
        self.hub
            .ingest(Inbound::Staff(StaffMessage {
                platform: Platform::Discord,
                external_message_id: Some(id.to_string()),
                thread_ref: thread.to_string(),
                agent: user("agent-1", "Bob"),
                role: Role::Agent,
                text: text.to_string(),
                attachments: Vec::new(),
            }))
            .await
    }
}

fn user(id: &str, name: &str) -> PlatformUser {
    PlatformUser {
        external_id: id.to_string(),
        display_name: name.to_string(),
        language: Some("de".to_string()),
    }
}

fn customer_message(who: &str, id: &str, text: &str) -> CustomerMessage {
    CustomerMessage {
        platform: Platform::Telegram,
        external_message_id: Some(id.to_string()),
        customer: user(who, &format!("Customer {who}")),
        conversation: format!("chat-{who}"),
        subject: None,
        text: text.to_string(),
        attachments: Vec::new(),
    }
}

fn admin() -> Actor {
    Actor::Staff {
        platform: Platform::Discord,
        user: user("admin-1", "Ada"),
        role: Role::Admin,
    }
}

fn ticket_id_of(ingested: &Ingested) -> i64 {
    match ingested {
        Ingested::Customer { ticket_id, .. } => *ticket_id,
        other => panic!("expected a customer message, got {other:?}"),
    }
}

fn ticket_number(ingested: &Ingested) -> i64 {
    match ingested {
        Ingested::Customer { ticket_number, .. } => *ticket_number,
        other => panic!("expected a customer message, got {other:?}"),
    }
}

both_backends!(
    the_same_platform_message_twice_is_one_message,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let first = desk
            .customer_says("anna", "m-1", "printer broken")
            .await
            .unwrap();
        assert!(matches!(
            first,
            Ingested::Customer {
                new_ticket: true,
                ..
            }
        ));
        let again = desk
            .customer_says("anna", "m-1", "printer broken")
            .await
            .unwrap();
        assert_eq!(again, Ingested::Duplicate);
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_messages().await.unwrap(), 1);
        assert_eq!(tx.count_tickets(TicketStatus::Open).await.unwrap(), 1);
    }
);

both_backends!(
    concurrent_first_messages_open_one_ticket_per_customer,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..1000 {
            let hub = desk.hub.clone();
            tasks.spawn(async move {
                let who = format!("c{}", i % 50);
                hub.ingest(Inbound::Customer(customer_message(
                    &who,
                    &format!("m{i}"),
                    "hello",
                )))
                .await
            });
        }
        let mut new_tickets = 0;
        while let Some(done) = tasks.join_next().await {
            if let Ingested::Customer {
                new_ticket: true, ..
            } = done.unwrap().unwrap()
            {
                new_tickets += 1;
            }
        }
        assert_eq!(new_tickets, 50);
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_tickets(TicketStatus::Open).await.unwrap(), 50);
        assert_eq!(tx.count_messages().await.unwrap(), 1000);
    }
);

both_backends!(
    a_conversation_reaches_both_sides,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let n = ticket_number(
            &desk
                .customer_says("anna", "m-1", "printer won't print <b>@everyone</b>")
                .await
                .unwrap(),
        );
        desk.drain().await;
        let staff = desk.staff.sent();
        assert!(matches!(&staff[0], Outbound::OpenThread { ticket } if ticket.number == n));
        assert!(
            matches!(&staff[1], Outbound::ThreadPost { text, thread, .. }
        if text == "printer won't print <b>@everyone</b>" && *thread == format!("thread-{n}"))
        );
        assert_eq!(
            desk.customer.texts(),
            vec![format!(
                "Danke! Wir haben Ihre Nachricht erhalten. Ihre Ticketnummer ist #{n}."
            )]
        );

        let thread = format!("thread-{n}");
        let relayed = desk
            .agent_says(&thread, "a-1", "Have you tried turning it off and on?")
            .await
            .unwrap();
        assert!(matches!(
            relayed,
            Ingested::Staff(StaffOutcome::Relayed { .. })
        ));
        let noted = desk
            .agent_says(&thread, "a-2", "// customer sounds annoyed")
            .await
            .unwrap();
        assert!(matches!(noted, Ingested::Staff(StaffOutcome::Noted { .. })));
        desk.drain().await;
        let to_customer = desk.customer.texts();
        assert_eq!(
            to_customer.len(),
            2,
            "the note is not relayed: {to_customer:?}"
        );
        assert_eq!(to_customer[1], "Have you tried turning it off and on?");
        // Once delivered, the agent's message is marked in the staff thread.
        assert!(desk.staff.sent().iter().any(
            |o| matches!(o, Outbound::MarkDelivered { message_ref, .. } if message_ref == "a-1")
        ));

        let mut tx = store.begin().await.unwrap();
        let ticket = tx.ticket_by_number(n).await.unwrap().unwrap();
        assert_eq!(ticket.status, TicketStatus::Pending);
        assert!(ticket.first_agent_reply_at.is_some());
        let messages = tx.messages(ticket.id).await.unwrap();
        assert_eq!(messages.len(), 3);
        assert!(messages[2].internal);
    }
);

both_backends!(
    work_committed_before_a_crash_is_delivered_once_after_restart,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let n = ticket_number(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        desk.customer_says("anna", "m-2", "anyone?").await.unwrap();
        // A worker leased the first rows and died before sending or recording anything.
        let mut tx = store.begin().await.unwrap();
        let lost = tx
            .lease(
                Platform::Discord,
                "crashed-worker",
                desk.clock.now_ms(),
                60_000,
                10,
            )
            .await
            .unwrap();
        assert_eq!(lost.len(), 1);
        tx.commit().await.unwrap();
        drop(desk);

        // "Restart": a new hub and new workers on the same database.
        let restarted = new_desk(store.clone());
        restarted.drain().await;
        assert!(
            restarted.staff.sent().is_empty(),
            "the crashed worker's lease still holds the lane"
        );
        restarted.later(Duration::from_secs(61)).await;
        let staff = restarted.staff.sent();
        assert_eq!(staff.len(), 3, "thread, then both messages: {staff:?}");
        assert!(matches!(&staff[0], Outbound::OpenThread { ticket } if ticket.number == n));
        assert_eq!(restarted.staff.texts(), vec!["hello", "anyone?"]);
        restarted.later(Duration::from_secs(3600)).await;
        assert_eq!(restarted.staff.sent().len(), 3, "nothing is sent twice");
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_outbox(OutboxStatus::Pending).await.unwrap(), 0);
    }
);

both_backends!(retries_keep_per_ticket_order, |store: Store| async move {
    let desk = new_desk(store.clone());
    desk.staff.fail_next([
        DeliveryError::RetryAfter(Duration::from_secs(2)),
        DeliveryError::Transient("502 bad gateway".into()),
        DeliveryError::Transient("connection reset".into()),
    ]);
    for i in 1..=5 {
        desk.customer_says("anna", &format!("m-{i}"), &format!("message {i}"))
            .await
            .unwrap();
    }
    desk.drain().await;
    assert!(desk.staff.sent().is_empty());
    for _ in 0..10 {
        desk.later(Duration::from_secs(30)).await;
    }
    let texts = desk.staff.texts();
    assert_eq!(
        texts,
        (1..=5).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
});

both_backends!(
    an_undeliverable_reply_warns_the_staff_thread,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let n = ticket_number(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        desk.drain().await;
        desk.customer.fail_next([DeliveryError::Permanent(
            "Forbidden: bot was blocked by the user".into(),
        )]);
        desk.agent_says(&format!("thread-{n}"), "a-1", "hi there")
            .await
            .unwrap();
        desk.drain().await;
        let staff = desk.staff.texts();
        assert!(
            staff
                .iter()
                .any(|t| t.contains("could not be delivered") && t.contains("blocked")),
            "{staff:?}"
        );
        assert!(!desk
            .staff
            .sent()
            .iter()
            .any(|o| matches!(o, Outbound::MarkDelivered { .. })));
    }
);

both_backends!(
    customers_cannot_run_commands_and_agents_cannot_merge,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let n = ticket_number(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        let customer = Actor::Customer {
            platform: Platform::Telegram,
            user: user("anna", "Anna"),
        };
        let refused = desk
            .hub
            .execute(&customer, &TicketRef::Number(n), Command::Close(None))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, HubError::Refused(DeskError::Forbidden(_))),
            "{refused:?}"
        );
        let agent = Actor::Staff {
            platform: Platform::Discord,
            user: user("agent-1", "Bob"),
            role: Role::Agent,
        };
        let other = ticket_number(&desk.customer_says("carl", "m-2", "hi").await.unwrap());
        let refused = desk
            .hub
            .execute(&agent, &TicketRef::Number(n), Command::Merge(other))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, HubError::Refused(DeskError::Forbidden(_))),
            "{refused:?}"
        );
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.ticket_by_number(n).await.unwrap().unwrap().status,
            TicketStatus::Open
        );
    }
);

both_backends!(
    merge_moves_messages_and_is_refused_across_closed_or_merged,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        // Anna has two open tickets: her third message split off into a ticket of its own.
        let a = ticket_number(&desk.customer_says("anna", "m-1", "one").await.unwrap());
        desk.customer_says("anna", "m-2", "two").await.unwrap();
        desk.customer_says("anna", "m-3", "three").await.unwrap();
        desk.hub
            .execute(&admin(), &TicketRef::Number(a), Command::Split(Some(3)))
            .await
            .unwrap();
        let b = a + 1;
        let c = ticket_number(&desk.customer_says("dora", "m-4", "four").await.unwrap());
        desk.hub
            .execute(&admin(), &TicketRef::Number(c), Command::Close(None))
            .await
            .unwrap();
        let d = ticket_number(&desk.customer_says("carl", "m-6", "five").await.unwrap());

        // Another customer's open ticket: refused, nothing moves.
        let refused = desk
            .hub
            .execute(&admin(), &TicketRef::Number(a), Command::Merge(d))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, HubError::Refused(DeskError::Conflict(ref why)) if why.contains("different customers")),
            "{refused:?}"
        );

        let refused = desk
            .hub
            .execute(&admin(), &TicketRef::Number(a), Command::Merge(c))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("closed"), "{refused}");
        let refused = desk
            .hub
            .execute(&admin(), &TicketRef::Number(a), Command::Merge(a))
            .await
            .unwrap_err();
        assert!(matches!(refused, HubError::Refused(DeskError::Invalid(_))));

        let merged = desk
            .hub
            .execute(&admin(), &TicketRef::Number(a), Command::Merge(b))
            .await
            .unwrap();
        assert!(merged.text.contains("2 messages moved"), "{}", merged.text);
        let refused = desk
            .hub
            .execute(&admin(), &TicketRef::Number(a), Command::Merge(b))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("merged"), "{refused}");

        let mut tx = store.begin().await.unwrap();
        let target = tx.ticket_by_number(b).await.unwrap().unwrap();
        let bodies: Vec<String> = tx
            .messages(target.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        assert_eq!(bodies, vec!["one", "two", "three"]);
        let source = tx.ticket_by_number(a).await.unwrap().unwrap();
        assert_eq!(source.status, TicketStatus::Merged);
        assert_eq!(source.merged_into, Some(target.id));
        drop(tx);
        // The merged ticket's customer keeps writing: it lands in the target.
        let next = desk
            .customer_says("anna", "m-5", "still there?")
            .await
            .unwrap();
        assert_eq!(ticket_number(&next), b);
    }
);

both_backends!(
    commands_change_the_ticket_and_tell_everyone,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let n = ticket_number(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        desk.drain().await;
        let thread = format!("thread-{n}");
        let at = TicketRef::Thread {
            platform: Platform::Discord,
            thread_ref: thread.clone(),
        };
        let claimed = desk.agent_says(&thread, "a-1", "/claim").await.unwrap();
        assert!(
            matches!(claimed, Ingested::Staff(StaffOutcome::Command(ref r)) if r.text.contains("claimed by Bob"))
        );
        desk.hub
            .execute(
                &admin(),
                &at,
                Command::Priority(relaydesk_storage::Priority::Urgent),
            )
            .await
            .unwrap();
        desk.hub
            .execute(&admin(), &at, Command::Tag("billing".into()))
            .await
            .unwrap();
        let status = desk
            .hub
            .execute(&admin(), &at, Command::Status)
            .await
            .unwrap();
        assert!(
            status.text.contains("urgent")
                && status.text.contains("Bob")
                && status.text.contains("billing"),
            "{}",
            status.text
        );
        desk.hub
            .execute(&admin(), &at, Command::Assign("ada".into()))
            .await
            .unwrap();
        let missing = desk
            .hub
            .execute(&admin(), &at, Command::Assign("nobody".into()))
            .await
            .unwrap_err();
        assert!(matches!(missing, HubError::Refused(DeskError::NotFound(_))));
        desk.hub
            .execute(&admin(), &at, Command::Close(Some("fixed".into())))
            .await
            .unwrap();
        let twice = desk
            .hub
            .execute(&admin(), &at, Command::Close(None))
            .await
            .unwrap_err();
        assert!(twice.to_string().contains("closed"));
        desk.drain().await;
        assert!(desk.customer.texts().iter().any(|t| t == &format!("Ihr Ticket #{n} wurde geschlossen. Schreiben Sie uns einfach, falls noch etwas offen ist.")));
        let last_sync = desk.staff.sent().into_iter().rev().find_map(|o| match o {
            Outbound::SyncThread { ticket, .. } => Some(ticket),
            _ => None,
        });
        let last_sync = last_sync.expect("the thread was synced");
        assert_eq!(last_sync.status, TicketStatus::Closed);
        assert!(last_sync.title(100).starts_with(&format!("✅ #{n}")));
        assert_eq!(last_sync.assignee.as_deref(), Some("Ada"));

        desk.hub
            .execute(&admin(), &at, Command::Reopen)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let ticket = tx.ticket_by_number(n).await.unwrap().unwrap();
        assert_eq!(ticket.status, TicketStatus::Open);
        let actions: Vec<String> = tx
            .audit_trail(ticket.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for expected in [
            "open", "claim", "priority", "tag", "status", "assign", "close", "reopen",
        ] {
            assert!(
                actions.iter().any(|a| a == expected),
                "audit misses {expected}: {actions:?}"
            );
        }
    }
);

both_backends!(
    a_closed_ticket_reopens_within_the_window_else_a_new_one_links_it,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let first = ticket_number(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        desk.hub
            .execute(&admin(), &TicketRef::Number(first), Command::Close(None))
            .await
            .unwrap();
        desk.clock.advance(chrono::Duration::days(2));
        let again = desk
            .customer_says("anna", "m-2", "it broke again")
            .await
            .unwrap();
        assert!(matches!(
            again,
            Ingested::Customer {
                reopened: true,
                new_ticket: false,
                ..
            }
        ));
        assert_eq!(ticket_number(&again), first);

        desk.hub
            .execute(&admin(), &TicketRef::Number(first), Command::Close(None))
            .await
            .unwrap();
        desk.clock.advance(chrono::Duration::days(8));
        let later = desk
            .customer_says("anna", "m-3", "new problem")
            .await
            .unwrap();
        assert!(matches!(
            later,
            Ingested::Customer {
                new_ticket: true,
                ..
            }
        ));
        let mut tx = store.begin().await.unwrap();
        let newer = tx
            .ticket_by_number(ticket_number(&later))
            .await
            .unwrap()
            .unwrap();
        let older = tx.ticket_by_number(first).await.unwrap().unwrap();
        assert_eq!(newer.previous_ticket_id, Some(older.id));
        assert_eq!(newer.subject, "new problem");
    }
);

both_backends!(
    an_oversized_message_is_refused_whole,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let huge = "x".repeat(64 * 1024 + 1);
        let refused = desk.customer_says("anna", "m-1", &huge).await.unwrap_err();
        assert!(
            matches!(refused, HubError::Refused(DeskError::TooLarge { size, limit }) if size == huge.len() && limit == 64 * 1024)
        );
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_messages().await.unwrap(), 0);
        assert_eq!(tx.count_tickets(TicketStatus::Open).await.unwrap(), 0);
    }
);

#[tokio::test]
async fn a_restarted_store_on_the_same_sqlite_file_keeps_everything() {
    let db = relaydesk_tests::db::TestDb::sqlite();
    let store = db.store().await;
    let desk = new_desk(store.clone());
    desk.customer_says("anna", "m-1", "hello").await.unwrap();
    drop(desk);
    store.close().await;
    let reopened = Store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    let desk = new_desk(reopened.clone());
    desk.drain().await;
    assert_eq!(desk.staff.texts(), vec!["hello"]);
    assert_eq!(
        desk.customer_says("anna", "m-1", "hello").await.unwrap(),
        Ingested::Duplicate
    );
}

both_backends!(
    a_redelivered_command_is_applied_once,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let n = ticket_number(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        desk.drain().await;
        let thread = format!("thread-{n}");
        let first = desk.agent_says(&thread, "a-9", "/close").await.unwrap();
        assert!(matches!(first, Ingested::Staff(StaffOutcome::Command(_))));
        desk.hub
            .execute(&admin(), &TicketRef::Number(n), Command::Reopen)
            .await
            .unwrap();
        // The platform hands the same /close over again (e.g. after a restart).
        let again = desk.agent_says(&thread, "a-9", "/close").await.unwrap();
        assert_eq!(again, Ingested::Duplicate);
        desk.drain().await;
        let closed_notices = desk
            .customer
            .texts()
            .iter()
            .filter(|t| t.contains("geschlossen"))
            .count();
        assert_eq!(closed_notices, 1);
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.ticket_by_number(n).await.unwrap().unwrap().status,
            TicketStatus::Open
        );
    }
);

both_backends!(
    concurrent_copies_of_one_message_store_it_once,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..40 {
            let hub = desk.hub.clone();
            // Half the calls carry the same platform message, interleaved with distinct ones, so
            // copies land in one group commit as well as in different ones.
            let id = if i % 2 == 0 {
                "same".to_string()
            } else {
                format!("m{i}")
            };
            tasks.spawn(async move {
                hub.ingest(Inbound::Customer(customer_message("anna", &id, "hi")))
                    .await
            });
        }
        let mut stored = 0;
        let mut duplicates = 0;
        while let Some(done) = tasks.join_next().await {
            match done.unwrap().unwrap() {
                Ingested::Duplicate => duplicates += 1,
                Ingested::Customer { .. } => stored += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((stored, duplicates), (21, 19));
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_messages().await.unwrap(), 21);
        assert_eq!(tx.count_tickets(TicketStatus::Open).await.unwrap(), 1);
    }
);

both_backends!(
    a_change_written_outside_the_hub_reaches_live_views_at_the_next_sweep,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let ticket_id = ticket_id_of(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        let mut watch = desk.hub.feed().watch();
        watch.add(ticket_id);
        // Another tool closes the ticket straight in the store: no hub hears of it.
        desk.clock.advance(chrono::Duration::seconds(1));
        let mut tx = store.begin().await.unwrap();
        tx.set_status(ticket_id, TicketStatus::Closed, None, desk.clock.now_ms())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            !woken(&watch, 300).await,
            "nothing announced the change yet"
        );
        let shutdown = tokio_util::sync::CancellationToken::new();
        let sweep = tokio::spawn(relaydesk::live::retell_recent_changes(
            desk.hub.clone(),
            Duration::from_millis(100),
            shutdown.clone(),
        ));
        assert!(woken(&watch, 5000).await, "the sweep told the view");
        shutdown.cancel();
        sweep.await.unwrap();
    }
);

/// Whether the watch wakes within `ms` milliseconds.
async fn woken(watch: &relaydesk_storage::TicketWatch, ms: u64) -> bool {
    tokio::time::timeout(Duration::from_millis(ms), watch.changed())
        .await
        .is_ok()
}

both_backends!(
    a_reply_reaching_the_customer_wakes_the_views_of_its_ticket,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let ticket_id = ticket_id_of(&desk.customer_says("anna", "m-1", "hello").await.unwrap());
        desk.drain().await;
        let mut watch = desk.hub.feed().watch();
        watch.add(ticket_id);
        let thread = desk.staff.sent().iter().find_map(|o| match o {
            Outbound::OpenThread { ticket } => Some(format!("thread-{}", ticket.number)),
            _ => None,
        });
        desk.agent_says(&thread.expect("a thread"), "s-1", "On it.")
            .await
            .unwrap();
        assert!(woken(&watch, 5000).await, "the reply itself is a change");
        assert!(!woken(&watch, 300).await, "nothing else happened yet");
        // The send to the customer settles the reply's delivery state, which views show.
        desk.drain().await;
        assert!(woken(&watch, 5000).await, "the delivery woke the view");
    }
);

both_backends!(
    after_a_merge_replies_reach_each_conversation_of_the_customer,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        // Anna writes in her private chat and, as the same person, in another chat.
        let a = ticket_number(&desk.customer_says("anna", "m-1", "one").await.unwrap());
        let other_chat = CustomerMessage {
            conversation: "chat-anna-second".to_string(),
            ..customer_message("anna", "m-2", "two")
        };
        let b = ticket_number(
            &desk
                .hub
                .ingest(Inbound::Customer(other_chat))
                .await
                .unwrap(),
        );
        assert_ne!(a, b);
        desk.hub
            .execute(&admin(), &TicketRef::Number(b), Command::Merge(a))
            .await
            .unwrap();
        desk.drain().await;
        let before = desk.customer.sent().len();

        desk.hub
            .execute(
                &admin(),
                &TicketRef::Number(a),
                Command::Reply("both of you".into()),
            )
            .await
            .unwrap();
        desk.drain().await;
        let mut reached: Vec<String> = desk.customer.sent()[before..]
            .iter()
            .filter_map(|o| match o {
                Outbound::CustomerPost {
                    conversation, text, ..
                } if text == "both of you" => Some(conversation.clone()),
                _ => None,
            })
            .collect();
        reached.sort();
        assert_eq!(reached, ["chat-anna", "chat-anna-second"]);
    }
);

both_backends!(
    messages_arriving_together_are_each_stored_once_in_order,
    |store: Store| async move {
        let desk = new_desk(store.clone());
        let regulars: Vec<String> = (0..6).map(|c| format!("cust{c}")).collect();
        let mut tickets = Vec::new();
        for who in &regulars {
            let first = desk.customer_says(who, &format!("{who}-0"), "first").await;
            tickets.push(ticket_id_of(&first.unwrap()));
        }
        desk.drain().await;
        // The first ticket waits on its customer: a message sets it open again.
        let thread = desk
            .staff
            .sent()
            .iter()
            .find_map(|o| match o {
                Outbound::OpenThread { ticket } if ticket.id == tickets[0] => {
                    Some(format!("thread-{}", ticket.number))
                }
                _ => None,
            })
            .expect("the first ticket's thread");
        desk.agent_says(&thread, "agent-1", "Which order?")
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.ticket(tickets[0]).await.unwrap().status,
            TicketStatus::Pending
        );
        tx.commit().await.unwrap();

        // Each regular sends ten messages one after another, all at the same time as each
        // other; meanwhile messages already stored come again and a newcomer writes first.
        let mut tasks = tokio::task::JoinSet::new();
        for who in regulars.clone() {
            let hub = desk.hub.clone();
            tasks.spawn(async move {
                let mut answers = Vec::new();
                for i in 1..=10 {
                    let message =
                        customer_message(&who, &format!("{who}-{i}"), &format!("{who} {i}"));
                    answers.push(hub.ingest(Inbound::Customer(message)).await.unwrap());
                }
                answers
            });
        }
        for who in regulars.clone() {
            let hub = desk.hub.clone();
            tasks.spawn(async move {
                let again = customer_message(&who, &format!("{who}-0"), "first");
                vec![hub.ingest(Inbound::Customer(again)).await.unwrap()]
            });
        }
        let hub = desk.hub.clone();
        tasks.spawn(async move {
            let mut answers = Vec::new();
            for i in 0..3 {
                let message =
                    customer_message("newcomer", &format!("new-{i}"), &format!("new {i}"));
                answers.push(hub.ingest(Inbound::Customer(message)).await.unwrap());
            }
            answers
        });
        let mut answers = Vec::new();
        while let Some(done) = tasks.join_next().await {
            answers.extend(done.unwrap());
        }
        let duplicates = answers
            .iter()
            .filter(|a| **a == Ingested::Duplicate)
            .count();
        assert_eq!(
            duplicates,
            regulars.len(),
            "each repeated first message is a duplicate"
        );
        let mut ids: Vec<i64> = answers
            .iter()
            .filter_map(|a| match a {
                Ingested::Customer { message_id, .. } => Some(*message_id),
                _ => None,
            })
            .collect();
        assert_eq!(ids.len(), 63);
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 63, "every message got its own row");

        let mut tx = store.begin().await.unwrap();
        for (who, ticket_id) in regulars.iter().zip(&tickets) {
            let stored: Vec<String> = tx
                .messages(*ticket_id)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.author_kind == relaydesk_storage::AuthorKind::Customer)
                .map(|m| m.body)
                .collect();
            let mut expected = vec!["first".to_string()];
            expected.extend((1..=10).map(|i| format!("{who} {i}")));
            assert_eq!(
                stored, expected,
                "{who}: each message once, in the order sent"
            );
        }
        let reopened = tx.ticket(tickets[0]).await.unwrap();
        assert_eq!(reopened.status, TicketStatus::Open);
        assert_eq!(reopened.last_customer_message_at, Some(desk.clock.now()));
        tx.commit().await.unwrap();

        // The staff threads get each message once, in order.
        desk.drain().await;
        for (who, ticket_id) in regulars.iter().zip(&tickets) {
            let posted: Vec<String> = desk
                .staff
                .sent()
                .into_iter()
                .filter_map(|o| match o {
                    Outbound::ThreadPost {
                        ticket,
                        text,
                        customer: true,
                        ..
                    } if ticket.id == *ticket_id => Some(text),
                    _ => None,
                })
                .collect();
            let mut expected = vec!["first".to_string()];
            expected.extend((1..=10).map(|i| format!("{who} {i}")));
            assert_eq!(posted, expected, "{who}'s thread");
        }
        let newcomer: Vec<String> = desk
            .staff
            .sent()
            .into_iter()
            .filter_map(|o| match o {
                Outbound::ThreadPost { text, .. } if text.starts_with("new ") => Some(text),
                _ => None,
            })
            .collect();
        assert_eq!(newcomer, vec!["new 0", "new 1", "new 2"]);
    }
);
