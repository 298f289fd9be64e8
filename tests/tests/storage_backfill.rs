//! `Tx::backfill_cursors`: which conversations and staff threads a platform reads back after
//! an outage, and from which message on; the same on SQLite and PostgreSQL.

use relaydesk_storage::{
    AuthorKind, BackfillCursor, NewMessage, NewTicket, Platform, Priority, Store, TicketStatus, Tx,
};
use relaydesk_tests::both_backends;

const DAY: i64 = 24 * 3600 * 1000;

async fn ticket(tx: &mut Tx, conversation: &str, platform: Platform, now: i64) -> i64 {
    let customer = tx
        .customer_for_identity(platform, conversation, "Anna", None, now)
        .await
        .expect("customer");
    tx.open_ticket(
        &NewTicket {
            subject: "help",
            customer_id: customer.id,
            origin: platform,
            conversation,
            priority: Priority::Normal,
            team_id: None,
            previous_ticket_id: None,
        },
        now,
    )
    .await
    .expect("open")
    .expect("a new ticket")
    .id
}

async fn message(tx: &mut Tx, ticket_id: i64, kind: AuthorKind, external: &str, now: i64) {
    let (customer_id, agent_id) = match kind {
        AuthorKind::Agent => {
            let agent = tx
                .agent_for_identity(Platform::Discord, "bob", "Bob", now)
                .await
                .expect("agent");
            (None, Some(agent.id))
        }
        _ => (None, None),
    };
    tx.append_message(
        &NewMessage {
            ticket_id,
            author_kind: kind,
            customer_id,
            agent_id,
            author_name: "someone",
            body: "text",
            attachments: &[],
            internal: false,
            platform: Platform::Discord,
            external_id: Some(external),
        },
        now,
    )
    .await
    .expect("append")
    .expect("stored");
}

both_backends!(
    cursors_name_the_last_stored_message_per_channel,
    |store: Store| async move {
        let now = 100 * DAY;
        let mut tx = store.begin().await.expect("tx");
        // An active DM ticket with a staff thread.
        let active = ticket(&mut tx, "dm-1", Platform::Discord, now).await;
        message(&mut tx, active, AuthorKind::Customer, "m1", now).await;
        message(&mut tx, active, AuthorKind::Customer, "m2", now).await;
        tx.bind_thread(active, Platform::Discord, "thread-1", now)
            .await
            .expect("bind");
        message(&mut tx, active, AuthorKind::Agent, "a1", now).await;
        // A ticket closed long ago is not read back; a recently closed one is.
        let old = ticket(&mut tx, "dm-2", Platform::Discord, now - 30 * DAY).await;
        tx.set_status(old, TicketStatus::Closed, None, now - 30 * DAY)
            .await
            .expect("close");
        let recent = ticket(&mut tx, "dm-3", Platform::Discord, now - DAY).await;
        tx.set_status(recent, TicketStatus::Closed, None, now - DAY)
            .await
            .expect("close");
        tx.bind_thread(recent, Platform::Discord, "thread-3", now)
            .await
            .expect("bind");
        // Another platform's ticket is not Discord's business.
        ticket(&mut tx, "chat-9", Platform::Telegram, now).await;

        let mut cursors = tx
            .backfill_cursors(Platform::Discord, now - 7 * DAY)
            .await
            .expect("cursors");
        cursors.sort_by(|a, b| (a.staff, &a.channel).cmp(&(b.staff, &b.channel)));
        let cursor = |channel: &str, staff: bool, after: Option<&str>| BackfillCursor {
            channel: channel.into(),
            staff,
            after: after.map(str::to_string),
        };
        assert_eq!(
            cursors,
            vec![
                cursor("dm-1", false, Some("m2")),
                cursor("dm-3", false, None),
                cursor("thread-1", true, Some("a1")),
                cursor("thread-3", true, None),
            ]
        );
    }
);
