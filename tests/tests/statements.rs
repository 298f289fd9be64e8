//! How many SQL statements the hot paths cost: one customer message into an open ticket, a
//! first message (a new ticket), an agent's reply from a staff thread, and one delivery by the
//! outbox worker. Counted from sqlx's own statement log (`sqlx::query` events, one per
//! statement executed, `BEGIN`/`COMMIT` included where the driver runs them as statements),
//! so a change that adds a round trip to these paths fails here.
//!
//! One test function measures everything in turn: the counter is process-wide.
//! `SHOW_STATEMENTS=1 cargo test -p relaydesk-tests --test statements -- --nocapture` prints
//! the SQL of each step.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use relaydesk::hub::{
    CustomerMessage, Hub, HubConfig, Inbound, Ingested, PlatformUser, StaffMessage,
};
use relaydesk::outbox::{OutboxWorker, WorkerOptions};
use relaydesk_storage::{Platform, Role, Store, SystemClock};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::recorder::Recorder;
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

/// Counts sqlx's per-statement log events, whatever thread runs the statement.
struct CountStatements;

impl<S: Subscriber> Layer<S> for CountStatements {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.target() == "sqlx::query" {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target() == "sqlx::query"
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
            if showing() {
                struct Show;
                impl tracing::field::Visit for Show {
                    fn record_debug(
                        &mut self,
                        field: &tracing::field::Field,
                        value: &dyn std::fmt::Debug,
                    ) {
                        if field.name() == "db.statement" || field.name() == "summary" {
                            eprintln!("  {}: {:?}", field.name(), value);
                        }
                    }
                }
                event.record(&mut Show);
            }
        }
    }
}

fn showing() -> bool {
    std::env::var_os("SHOW_STATEMENTS").is_some()
}

/// With `SHOW_STATEMENTS=1`, each statement's SQL is printed under the step it belongs to.
fn show_step(name: &str) {
    if showing() {
        eprintln!("--- {name}");
    }
}

async fn counted<T>(work: impl std::future::Future<Output = T>) -> (T, usize) {
    let before = STATEMENTS.load(Ordering::SeqCst);
    let out = work.await;
    (out, STATEMENTS.load(Ordering::SeqCst) - before)
}

fn customer(id: &str, text: &str) -> Inbound {
    customer_of("1", id, text)
}

/// A message from customer `who` in their own chat.
fn customer_of(who: &str, id: &str, text: &str) -> Inbound {
    Inbound::Customer(CustomerMessage {
        platform: Platform::Telegram,
        external_message_id: Some(id.into()),
        customer: PlatformUser {
            external_id: format!("c-{who}"),
            display_name: "Carla".into(),
            language: None,
        },
        conversation: format!("chat-{who}"),
        subject: None,
        text: text.into(),
        attachments: Vec::new(),
    })
}

/// Statements of each step, for the report and the budget.
#[derive(Debug)]
struct Counts {
    first_message: usize,
    next_message: usize,
    duplicate: usize,
    agent_reply: usize,
    delivery: usize,
    forty_at_once: usize,
    forty_delivered: usize,
}

async fn measure(store: Store) -> Counts {
    let hub = Hub::new(
        store.clone(),
        Arc::new(SystemClock),
        HubConfig {
            staff_platforms: vec![Platform::Discord],
            customer_platforms: vec![Platform::Telegram],
            ..HubConfig::default()
        },
    );
    let staff = Recorder::new(Platform::Discord);
    let customers = Recorder::new(Platform::Telegram);
    let staff_worker = OutboxWorker::new(hub.clone(), staff.as_deliver(), WorkerOptions::default());
    let customer_worker = OutboxWorker::new(
        hub.clone(),
        customers.as_deliver(),
        WorkerOptions::default(),
    );

    let (first, first_message) = counted(hub.ingest(customer("m-1", "hello"))).await;
    assert!(matches!(
        first.expect("first"),
        Ingested::Customer {
            new_ticket: true,
            ..
        }
    ));
    // Open the thread and deliver everything queued so far.
    while staff_worker.run_once().await.expect("staff pass") > 0
        || customer_worker.run_once().await.expect("customer pass") > 0
    {}
    let ticket_number = staff
        .sent()
        .iter()
        .find_map(|sent| match sent {
            relaydesk::hub::Outbound::OpenThread { ticket } => Some(ticket.number),
            _ => None,
        })
        .expect("a thread was opened");
    // The recorder names a thread after its ticket.
    let thread = format!("thread-{ticket_number}");

    show_step("next message");
    let (next, next_message) = counted(hub.ingest(customer("m-2", "more detail"))).await;
    assert!(matches!(
        next.expect("next"),
        Ingested::Customer {
            new_ticket: false,
            ..
        }
    ));
    let (duplicate, duplicate_count) = counted(hub.ingest(customer("m-2", "more detail"))).await;
    assert_eq!(duplicate.expect("duplicate"), Ingested::Duplicate);
    // The one delivery queued by the second message: lease, send, record.
    show_step("delivery");
    let (handled, delivery) = counted(staff_worker.run_once()).await;
    assert_eq!(handled.expect("delivery pass"), 1);

    show_step("agent reply");
    let (reply, agent_reply) = counted(hub.ingest(Inbound::Staff(StaffMessage {
        platform: Platform::Discord,
        external_message_id: Some("s-1".into()),
        thread_ref: thread,
        agent: PlatformUser {
            external_id: "a-1".into(),
            display_name: "Anna".into(),
            language: None,
        },
        role: Role::Agent,
        text: "On it.".into(),
        attachments: Vec::new(),
    })))
    .await;
    reply.expect("agent reply");

    // Forty messages into the open ticket at once: they are stored in a few groups, each one
    // transaction of a fixed number of statements, not forty transactions of five.
    show_step("forty at once");
    let (stored, forty_at_once) = counted(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..40 {
            let hub = hub.clone();
            tasks.spawn(async move { hub.ingest(customer(&format!("g-{i}"), "at once")).await });
        }
        let mut stored = 0;
        while let Some(done) = tasks.join_next().await {
            if matches!(
                done.expect("task").expect("ingest"),
                Ingested::Customer { .. }
            ) {
                stored += 1;
            }
        }
        stored
    })
    .await;
    assert_eq!(stored, 40);
    while staff_worker.run_once().await.expect("staff pass") > 0 {}

    // Forty tickets with a message each for their staff threads: one pass sends them side by
    // side, and the sends that finish together are recorded together (one statement for all
    // their confirmations), not in forty transactions.
    for i in 0..40 {
        let who = format!("n-{i}");
        hub.ingest(customer_of(&who, &format!("{who}-1"), "hello"))
            .await
            .expect("first message");
    }
    while staff_worker.run_once().await.expect("staff pass") > 0
        || customer_worker.run_once().await.expect("customer pass") > 0
    {}
    for i in 0..40 {
        let who = format!("n-{i}");
        hub.ingest(customer_of(&who, &format!("{who}-2"), "more"))
            .await
            .expect("next message");
    }
    show_step("forty delivered");
    let (delivered, forty_delivered) = counted(staff_worker.run_once()).await;
    assert_eq!(delivered.expect("staff pass"), 40);
    Counts {
        first_message,
        next_message,
        duplicate: duplicate_count,
        agent_reply,
        delivery,
        forty_at_once,
        forty_delivered,
    }
}

/// Upper bounds: what the paths cost now. Lower them when a change saves a statement. SQLite's
/// `BEGIN`/`COMMIT` are not statements of the log there; PostgreSQL's `COMMIT` and `ROLLBACK`
/// are. PostgreSQL's notifications to other instances are not: they are sent after the
/// commit, batched, on a connection of their own (`relaydesk_storage::notify`).
fn check(backend: &str, counts: &Counts, budget: &Counts) {
    eprintln!("{backend}: {counts:?}");
    assert!(counts.next_message > 0, "the counter sees statements");
    let pairs = [
        ("first message", counts.first_message, budget.first_message),
        ("next message", counts.next_message, budget.next_message),
        ("duplicate", counts.duplicate, budget.duplicate),
        ("agent reply", counts.agent_reply, budget.agent_reply),
        ("delivery", counts.delivery, budget.delivery),
        ("forty at once", counts.forty_at_once, budget.forty_at_once),
        (
            "forty delivered",
            counts.forty_delivered,
            budget.forty_delivered,
        ),
    ];
    for (what, got, most) in pairs {
        assert!(
            got <= most,
            "{backend}: {what} took {got} statements, more than its budget of {most}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hot_paths_stay_within_their_statement_budgets() {
    let subscriber = tracing_subscriber::registry().with(CountStatements);
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let sqlite = TestDb::sqlite();
    let counts = measure(sqlite.store().await).await;
    check(
        "sqlite",
        &counts,
        &Counts {
            // The FAQ entries are read when a ticket opens; the conversation is first looked
            // up for a group (see `hub/together.rs`), its outbox rows go in one statement.
            first_message: 12,
            next_message: 5,
            duplicate: 3,
            agent_reply: 11,
            delivery: 4,
            // Two groups in the runs made (five statements each); one message at a time
            // would be 200. The groups' sizes depend on timing: up to four are allowed.
            forty_at_once: 20,
            // Lease, the pass's reads, then the confirmations of the sends that finished
            // together (6 in the run made); one transaction per send would be over 43.
            forty_delivered: 12,
        },
    );
    if let Some(db) = TestDb::postgres().await {
        let store = db.store().await;
        let counts = measure(store.clone()).await;
        store.close().await;
        check(
            "postgres",
            &counts,
            &Counts {
                first_message: 14, // as on SQLite, and the group's ROLLBACK and COMMIT
                next_message: 6,
                duplicate: 4, // its ROLLBACK counts here now, not in a later step
                agent_reply: 12,
                delivery: 7,
                // Up to four groups run side by side here, so there are more, smaller groups
                // (35 statements in the run made); 280 one at a time.
                forty_at_once: 70,
                // Up to four groups record side by side here (15 in the run made); one
                // transaction per send would be over 80 (each with its COMMIT).
                forty_delivered: 30,
            },
        );
    }
}
