//! The ticket-list contract shared by the console and the REST API: filters, search, sort
//! orders, cursor pagination and counts, on SQLite and (with RELAYDESK_TEST_POSTGRES_URL set)
//! PostgreSQL, each in a fresh database.

use std::collections::BTreeSet;

use relaydesk_storage::clock::from_ms;
use relaydesk_storage::sla::{Due, TicketSla};
use relaydesk_storage::{
    AuthorKind, Cursor, NewMessage, NewTicket, Platform, Priority, Role, SlaFilter, StatusFilter,
    Store, TicketFilter, TicketRow, TicketSort, TicketStatus, Tx,
};
use relaydesk_tests::both_backends;

const T0: i64 = 1_780_000_000_000;
const MINUTE: i64 = 60_000;

/// Opens a ticket for a new customer with a first message; returns the ticket id.
async fn ticket(
    tx: &mut Tx,
    platform: Platform,
    who: &str,
    subject: &str,
    body: &str,
    at: i64,
) -> i64 {
    let customer = tx
        .customer_for_identity(platform, who, who, None, at)
        .await
        .expect("customer");
    let ticket = tx
        .open_ticket(
            &NewTicket {
                subject,
                customer_id: customer.id,
                origin: platform,
                conversation: who,
                priority: Priority::Normal,
                team_id: None,
                previous_ticket_id: None,
            },
            at,
        )
        .await
        .expect("open")
        .expect("a new conversation opens a ticket");
    tx.append_message(
        &NewMessage {
            ticket_id: ticket.id,
            author_kind: AuthorKind::Customer,
            customer_id: Some(customer.id),
            agent_id: None,
            author_name: who,
            body,
            attachments: &[],
            internal: false,
            platform,
            external_id: None,
        },
        at,
    )
    .await
    .expect("message");
    ticket.id
}

fn numbers(rows: &[TicketRow]) -> Vec<i64> {
    rows.iter().map(|r| r.number).collect()
}

async fn list(tx: &mut Tx, filter: TicketFilter) -> Vec<String> {
    let page = tx
        .list_tickets(&filter, TicketSort::Activity, None, 100)
        .await
        .expect("list");
    assert!(page.next_cursor.is_none(), "one page holds everything here");
    let count = tx.count_tickets_by(&filter).await.expect("count");
    assert_eq!(
        count,
        page.tickets.len() as i64,
        "count agrees with the list"
    );
    page.tickets.into_iter().map(|r| r.subject).collect()
}

fn set(subjects: &[&str]) -> BTreeSet<String> {
    subjects.iter().map(|s| s.to_string()).collect()
}

fn as_set(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

both_backends!(
    filters_narrow_the_list_and_counts_agree,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let printer = ticket(
            &mut tx,
            Platform::Telegram,
            "anna",
            "Printer jammed",
            "paper stuck",
            T0,
        )
        .await;
        let refund = ticket(
            &mut tx,
            Platform::Discord,
            "bob",
            "Refund please",
            "I want 50% back",
            T0 + MINUTE,
        )
        .await;
        let login = ticket(
            &mut tx,
            Platform::Web,
            "carol",
            "Cannot log in",
            "password reset mail never came",
            T0 + 2 * MINUTE,
        )
        .await;
        let old = ticket(
            &mut tx,
            Platform::Api,
            "dave",
            "Old question",
            "thanks",
            T0 + 3 * MINUTE,
        )
        .await;

        let agent = tx
            .create_agent("Zoe", Some("zoe@example.com"), Role::Agent, T0)
            .await
            .unwrap();
        tx.set_assignee(refund, Some(agent.id), T0 + 4 * MINUTE)
            .await
            .unwrap();
        let billing = tx.ensure_team("billing", T0).await.unwrap();
        tx.set_team(refund, Some(billing), T0 + 4 * MINUTE)
            .await
            .unwrap();
        tx.set_priority(login, Priority::Urgent, T0 + 5 * MINUTE)
            .await
            .unwrap();
        tx.add_tag(printer, "hardware").await.unwrap();
        tx.add_tag(printer, "vip").await.unwrap();
        tx.set_status(old, TicketStatus::Closed, Some("answered"), T0 + 6 * MINUTE)
            .await
            .unwrap();
        tx.set_status(refund, TicketStatus::Pending, None, T0 + 7 * MINUTE)
            .await
            .unwrap();

        let all = list(&mut tx, TicketFilter::default()).await;
        assert_eq!(all.len(), 4);

        let active = TicketFilter {
            status: Some(StatusFilter::Active),
            ..Default::default()
        };
        assert_eq!(
            as_set(list(&mut tx, active.clone()).await),
            set(&["Printer jammed", "Refund please", "Cannot log in"])
        );
        let closed = TicketFilter {
            status: Some(StatusFilter::Only(TicketStatus::Closed)),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, closed).await, vec!["Old question"]);
        let pending = TicketFilter {
            status: Some(StatusFilter::Only(TicketStatus::Pending)),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, pending).await, vec!["Refund please"]);

        let unassigned_active = TicketFilter {
            unassigned: true,
            ..active.clone()
        };
        assert_eq!(
            as_set(list(&mut tx, unassigned_active).await),
            set(&["Printer jammed", "Cannot log in"])
        );
        let mine = TicketFilter {
            assignee_id: Some(agent.id),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, mine).await, vec!["Refund please"]);
        let team = TicketFilter {
            team_id: Some(billing),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, team).await, vec!["Refund please"]);
        let from_web = TicketFilter {
            origin: Some(Platform::Web),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, from_web).await, vec!["Cannot log in"]);
        let urgent = TicketFilter {
            priority: Some(Priority::Urgent),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, urgent).await, vec!["Cannot log in"]);
        let tagged = TicketFilter {
            tag: Some("#VIP".into()),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, tagged).await, vec!["Printer jammed"]);

        // What a row carries.
        let refund_number = tx.ticket(refund).await.unwrap().number;
        let row = tx
            .ticket_row(refund_number)
            .await
            .unwrap()
            .expect("the row of a ticket");
        assert_eq!(row.assignee_name.as_deref(), Some("Zoe"));
        assert_eq!(row.team_name.as_deref(), Some("billing"));
        assert_eq!(row.customer_name, "bob");
        assert_eq!(row.origin, Platform::Discord);
        assert_eq!(row.status, TicketStatus::Pending);
        assert_eq!(row.updated_at, from_ms(T0 + 7 * MINUTE));
        let printer_number = tx.ticket(printer).await.unwrap().number;
        let printer_row = tx.ticket_row(printer_number).await.unwrap().unwrap();
        assert_eq!(printer_row.tags, vec!["hardware", "vip"]);
        assert!(tx.ticket_row(999_999).await.unwrap().is_none());

        // Combined filters narrow further; an impossible combination shows nothing.
        let nothing = TicketFilter {
            origin: Some(Platform::Telegram),
            assignee_id: Some(agent.id),
            ..Default::default()
        };
        assert!(list(&mut tx, nothing).await.is_empty());
        tx.commit().await.unwrap();
    }
);

both_backends!(
    closed_and_merged_counts_follow_every_change_and_folding,
    |store: Store| async move {
        let status = |s: TicketStatus| TicketFilter {
            status: Some(StatusFilter::Only(s)),
            ..Default::default()
        };
        // (closed, merged, every ticket), each checked against the rows themselves by `list`.
        let counts = |store: Store| async move {
            let mut tx = store.begin().await.unwrap();
            let closed = list(&mut tx, status(TicketStatus::Closed)).await.len();
            let merged = list(&mut tx, status(TicketStatus::Merged)).await.len();
            let all = list(&mut tx, TicketFilter::default()).await.len();
            tx.commit().await.unwrap();
            (closed, merged, all)
        };
        let fold = |store: Store| async move {
            let mut tx = store.begin().await.unwrap();
            tx.fold_ticket_counts().await.unwrap();
            tx.commit().await.unwrap();
        };
        let mut tx = store.begin().await.unwrap();
        let a = ticket(&mut tx, Platform::Telegram, "anna", "A", "a", T0).await;
        let b = ticket(&mut tx, Platform::Discord, "bob", "B", "b", T0).await;
        let c = ticket(&mut tx, Platform::Web, "carol", "C", "c", T0).await;
        tx.set_status(a, TicketStatus::Closed, None, T0 + MINUTE)
            .await
            .unwrap();
        tx.merge_tickets(b, c, T0 + MINUTE).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(counts(store.clone()).await, (1, 1, 3));

        fold(store.clone()).await;
        assert_eq!(
            counts(store.clone()).await,
            (1, 1, 3),
            "a fold keeps the sums"
        );

        let mut tx = store.begin().await.unwrap();
        tx.set_status(a, TicketStatus::Open, None, T0 + 2 * MINUTE)
            .await
            .unwrap();
        tx.set_status(c, TicketStatus::Closed, None, T0 + 2 * MINUTE)
            .await
            .unwrap();
        // Closing a closed ticket again changes no count.
        tx.set_status(c, TicketStatus::Closed, None, T0 + 3 * MINUTE)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(counts(store.clone()).await, (1, 1, 3));

        // A change rolled back leaves the counts as they were.
        let mut tx = store.begin().await.unwrap();
        tx.set_status(a, TicketStatus::Closed, None, T0 + 4 * MINUTE)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        fold(store.clone()).await;
        fold(store.clone()).await;
        assert_eq!(counts(store.clone()).await, (1, 1, 3));
    }
);

both_backends!(
    search_looks_at_number_subject_messages_and_customer,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let printer = ticket(
            &mut tx,
            Platform::Telegram,
            "Anna Smith",
            "Printer jammed",
            "Paper is STUCK in tray 2",
            T0,
        )
        .await;
        ticket(
            &mut tx,
            Platform::Discord,
            "bob",
            "Refund please",
            "I want 50% back",
            T0 + MINUTE,
        )
        .await;
        let carol = ticket(
            &mut tx,
            Platform::Web,
            "carol",
            "Cannot log in",
            "reset mail never came",
            T0 + 2 * MINUTE,
        )
        .await;
        set_email(&mut tx, carol, "carol@Example.org").await;
        let printer_number = tx.ticket(printer).await.unwrap().number;

        let search = |q: &str| TicketFilter {
            query: Some(q.to_string()),
            ..Default::default()
        };
        assert_eq!(
            list(&mut tx, search("printer")).await,
            vec!["Printer jammed"]
        );
        assert_eq!(list(&mut tx, search("stuck")).await, vec!["Printer jammed"]);
        assert_eq!(
            list(&mut tx, search("smith")).await,
            vec!["Printer jammed"],
            "customer name"
        );
        assert_eq!(
            list(&mut tx, search("example.ORG")).await,
            vec!["Cannot log in"],
            "customer email"
        );
        assert_eq!(
            list(&mut tx, search(&format!("#{printer_number}"))).await,
            vec!["Printer jammed"],
            "ticket number"
        );
        assert_eq!(
            list(&mut tx, search("50%")).await,
            vec!["Refund please"],
            "a % in the query is a literal percent sign"
        );
        assert!(
            list(&mut tx, search("5_%")).await.is_empty(),
            "_ is literal too"
        );
        assert_eq!(
            list(&mut tx, search("tray paper")).await,
            vec!["Printer jammed"],
            "every word must match"
        );
        assert!(list(&mut tx, search("tray refund")).await.is_empty());
        assert!(list(&mut tx, search("nothing-like-this")).await.is_empty());
        tx.commit().await.unwrap();
    }
);

/// Gives the customer of a ticket an email address.
async fn set_email(tx: &mut Tx, ticket_id: i64, email: &str) {
    let customer_id = tx.ticket(ticket_id).await.unwrap().customer_id;
    tx.set_customer_email(customer_id, Some(email), false)
        .await
        .unwrap();
}

both_backends!(
    every_sort_order_pages_through_every_ticket_exactly_once,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let priorities = [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ];
        let mut ids = Vec::new();
        for i in 0..23_i64 {
            // Several tickets share a last-activity time, to exercise the tie-breaks.
            let at = T0 + (i / 3) * MINUTE;
            let id = ticket(
                &mut tx,
                Platform::Web,
                &format!("visitor-{i}"),
                &format!("question {i}"),
                "hello",
                at,
            )
            .await;
            tx.set_priority(id, priorities[(i % 4) as usize], at)
                .await
                .unwrap();
            if i % 2 == 0 {
                // Some tickets have a running SLA clock, some share a due time.
                let due = T0 + 60 * MINUTE + (i % 5) * MINUTE;
                tx.save_ticket_sla(
                    &TicketSla {
                        ticket_id: id,
                        policy: Some("default".into()),
                        waiting_since: None,
                        first_response: Due {
                            warn_at: Some(from_ms(due - 10 * MINUTE)),
                            due_at: Some(from_ms(due)),
                        },
                        next_response: Due::default(),
                        resolution: Due {
                            warn_at: None,
                            due_at: Some(from_ms(due + 5 * MINUTE)),
                        },
                        next_due_at: Some(from_ms(due - 10 * MINUTE)),
                        ..TicketSla::default()
                    },
                    at,
                )
                .await
                .unwrap();
            }
            ids.push(id);
        }

        for sort in TicketSort::ALL {
            let mut seen = Vec::new();
            let mut rows: Vec<TicketRow> = Vec::new();
            let mut cursor: Option<Cursor> = None;
            loop {
                let page = tx
                    .list_tickets(&TicketFilter::default(), *sort, cursor.as_ref(), 4)
                    .await
                    .unwrap();
                assert!(page.tickets.len() <= 4);
                seen.extend(page.tickets.iter().map(|r| r.id));
                rows.extend(page.tickets);
                match page.next_cursor {
                    Some(next) => {
                        cursor = Some(Cursor::decode(&next, *sort).expect("our own cursor"))
                    }
                    None => break,
                }
            }
            let unique: BTreeSet<i64> = seen.iter().copied().collect();
            assert_eq!(seen.len(), 23, "{sort}: no ticket twice");
            assert_eq!(
                unique,
                ids.iter().copied().collect(),
                "{sort}: every ticket"
            );

            // The whole walk is in the promised order.
            let one_page = tx
                .list_tickets(&TicketFilter::default(), *sort, None, 100)
                .await
                .unwrap();
            assert_eq!(numbers(&one_page.tickets), numbers(&rows), "{sort}");
            for pair in rows.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                match sort {
                    TicketSort::Activity => assert!(
                        (a.updated_at, a.id) > (b.updated_at, b.id),
                        "activity order"
                    ),
                    TicketSort::Priority => assert!(
                        (a.priority, a.updated_at, a.id) > (b.priority, b.updated_at, b.id),
                        "priority order"
                    ),
                    TicketSort::Due => {
                        let key = |r: &TicketRow| {
                            (
                                r.next_due_at.map_or(i64::MAX, |t| t.timestamp_millis()),
                                r.id,
                            )
                        };
                        assert!(key(a) < key(b), "due order");
                    }
                }
            }
            if *sort == TicketSort::Due {
                // The earliest running goal is shown: first response before resolution.
                assert_eq!(rows[0].next_due_at, Some(from_ms(T0 + 60 * MINUTE)));
                assert!(rows.last().unwrap().next_due_at.is_none());
            }
        }

        // A cursor of one sort order is refused by another.
        let page = tx
            .list_tickets(&TicketFilter::default(), TicketSort::Priority, None, 2)
            .await
            .unwrap();
        let next = page.next_cursor.expect("more pages");
        assert!(Cursor::decode(&next, TicketSort::Activity).is_err());
        assert!(Cursor::decode("not a cursor", TicketSort::Activity).is_err());
        tx.commit().await.unwrap();
    }
);

both_backends!(
    due_soon_and_breached_follow_the_sla_columns,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let now = T0 + 100 * MINUTE;
        let specs: [(&str, Option<i64>, Option<i64>); 4] = [
            ("calm", Some(now + 10 * MINUTE), Some(now + 20 * MINUTE)),
            ("soon", Some(now - MINUTE), Some(now + 5 * MINUTE)),
            ("late", Some(now - 20 * MINUTE), Some(now - MINUTE)),
            ("no clock", None, None),
        ];
        for (i, (subject, warn, due)) in specs.iter().enumerate() {
            let id = ticket(
                &mut tx,
                Platform::Telegram,
                &format!("c{i}"),
                subject,
                "hi",
                T0,
            )
            .await;
            tx.save_ticket_sla(
                &TicketSla {
                    ticket_id: id,
                    policy: None,
                    waiting_since: None,
                    first_response: Due::default(),
                    next_response: Due {
                        warn_at: warn.map(from_ms),
                        due_at: due.map(from_ms),
                    },
                    resolution: Due::default(),
                    next_due_at: warn.map(from_ms),
                    ..TicketSla::default()
                },
                T0,
            )
            .await
            .unwrap();
        }
        let soon = TicketFilter {
            sla: Some(SlaFilter::DueSoon { now_ms: now }),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, soon).await, vec!["soon"]);
        let breached = TicketFilter {
            sla: Some(SlaFilter::Breached { now_ms: now }),
            ..Default::default()
        };
        assert_eq!(list(&mut tx, breached).await, vec!["late"]);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    customers_their_identities_and_their_tickets,
    |store: Store| async move {
        let mut tx = store.begin().await.unwrap();
        let first = ticket(&mut tx, Platform::Telegram, "anna", "first", "hi", T0).await;
        let customer_id = tx.ticket(first).await.unwrap().customer_id;
        tx.set_status(first, TicketStatus::Closed, None, T0 + MINUTE)
            .await
            .unwrap();
        // The same person writes again, later.
        let second = tx
            .open_ticket(
                &NewTicket {
                    subject: "second",
                    customer_id,
                    origin: Platform::Telegram,
                    conversation: "anna",
                    priority: Priority::High,
                    team_id: None,
                    previous_ticket_id: Some(first),
                },
                T0 + 2 * MINUTE,
            )
            .await
            .unwrap()
            .unwrap();
        ticket(&mut tx, Platform::Web, "someone else", "other", "hi", T0).await;

        let theirs = tx.customer_tickets(customer_id).await.unwrap();
        assert_eq!(
            theirs.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![second.id, first],
            "newest activity first, only this customer's"
        );
        let profile = tx
            .customer_profile(customer_id)
            .await
            .unwrap()
            .expect("the customer");
        assert_eq!(profile.customer.display_name, "anna");
        assert_eq!(profile.identities.len(), 1);
        assert_eq!(profile.identities[0].platform, Platform::Telegram);
        assert_eq!(profile.identities[0].external_id, "anna");
        assert!(tx.customer_profile(424_242).await.unwrap().is_none());

        tx.create_agent("yuri", None, Role::Admin, T0)
            .await
            .unwrap();
        tx.create_agent("anders", None, Role::Agent, T0)
            .await
            .unwrap();
        let names: Vec<String> = tx
            .agents()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, vec!["anders", "yuri"]);
        tx.ensure_team("support", T0).await.unwrap();
        tx.ensure_team("billing", T0).await.unwrap();
        let teams: Vec<String> = tx
            .teams()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(teams, vec!["billing", "support"]);
        tx.commit().await.unwrap();
    }
);
