//! The Telegram channel end to end: the real teloxide client in the real adapter, the whole
//! process (`spawn_app_with`), and the loopback Bot API server in `relaydesk_tests::telegram_fake`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::telegram::{
    KeepFiles, TelegramChannel, TelegramConfig, TelegramMode, TelegramOptions, OUTSIDE_TOPIC,
    SECRET_HEADER,
};
use relaydesk::texts;
use relaydesk_desk::catalogue::help_text;
use relaydesk_desk::{Language, CATALOGUE};
use relaydesk_storage::{FakeClock, Platform, Role, SystemClock};
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::telegram_fake::{Fault, TelegramFake, TgUser};

/// The staff supergroup.
const STAFF: i64 = -1_001_234_567_890;
/// Longest wait for something to happen before a test gives up (a hang guard only).
const LIMIT: Duration = Duration::from_secs(30);

fn config(fake: &TelegramFake) -> Config {
    let mut config = Config::default();
    config.outbox.poll = Duration::from_millis(100);
    config.telegram = TelegramConfig {
        token: Some(fake.token().to_string()),
        api_url: fake.url().to_string(),
        staff_chat_id: Some(STAFF),
        // Telegram's 20 a minute into one group would make these tests wait minutes; pacing
        // has tests of its own.
        group_messages_per_minute: 10_000,
        topics_per_minute: 10_000,
        ..TelegramConfig::default()
    };
    config
}

fn fast_options() -> TelegramOptions {
    TelegramOptions {
        long_poll: Duration::from_secs(1),
        request_timeout: Duration::from_secs(5),
        ..TelegramOptions::default()
    }
}

async fn start(db: TestDb, config: Config) -> TestApp {
    let channel = TelegramChannel::from_config(&config.telegram, fast_options())
        .expect("valid Telegram configuration")
        .expect("the Telegram channel is on");
    spawn_app_with(Spawn {
        db,
        config,
        channels: vec![Arc::new(channel)],
        ..Spawn::default()
    })
    .await
}

async fn started(fake: &TelegramFake) -> TestApp {
    start(TestDb::sqlite(), config(fake)).await
}

fn anna() -> TgUser {
    TgUser::new(1001, "Anna").last_name("K.").language("de")
}

fn bo() -> TgUser {
    TgUser::new(2001, "Bo").username("bo")
}

/// The topic of ticket `number`, once created.
async fn topic_of(fake: &TelegramFake, number: i64) -> i64 {
    // `#1001 · Anna K. · …`, or `#1001 [team] · …` for a ticket of a team.
    let prefixes = [format!("#{number} · "), format!("#{number} [")];
    let find = |f: &TelegramFake| {
        f.topics(STAFF)
            .into_iter()
            .find(|(_, name, _)| {
                let name = name.trim_start_matches("✅ ");
                prefixes.iter().any(|p| name.starts_with(p.as_str()))
            })
            .map(|t| t.0)
    };
    fake.wait_until(&format!("a topic for ticket #{number}"), LIMIT, |f| {
        find(f).is_some()
    })
    .await;
    find(fake).expect("the topic exists")
}

/// A message's text without the ticket card that heads a topic's first post.
fn post(text: &str) -> &str {
    match text.strip_prefix("🎫 Ticket #") {
        Some(_) => text
            .find("\n\n💬 ")
            .or_else(|| text.find("\n\n📝 "))
            .map_or(text, |at| &text[at + 2..]),
        None => text,
    }
}

/// Waits until the bot sent `text` (exactly, after any card) to `chat`/`topic`.
async fn sent(fake: &TelegramFake, chat: i64, topic: Option<i64>, text: &str) {
    fake.wait_until(&format!("`{text}` sent to {chat}/{topic:?}"), LIMIT, |f| {
        f.texts_to(chat, topic).iter().any(|t| post(t) == text)
    })
    .await;
}

/// Waits until the bot sent a text containing `part` to `chat`/`topic`.
async fn sent_containing(fake: &TelegramFake, chat: i64, topic: Option<i64>, part: &str) {
    fake.wait_until(
        &format!("text with `{part}` sent to {chat}/{topic:?}"),
        LIMIT,
        |f| f.texts_to(chat, topic).iter().any(|t| t.contains(part)),
    )
    .await;
}

fn count(texts: &[String], text: &str) -> usize {
    texts.iter().filter(|t| post(t) == text).count()
}

/// A customer opens ticket #1001; returns its topic once the first message is in it.
async fn opened(fake: &TelegramFake, customer: &TgUser, text: &str) -> i64 {
    fake.push_private_text(customer, text);
    let topic = topic_of(fake, 1001).await;
    sent(fake, STAFF, Some(topic), &format!("💬 Anna K.:\n{text}")).await;
    topic
}

/// Anna's two open tickets: her second message split off #1001 into #1002. Returns their
/// topics.
async fn anna_has_two_tickets(fake: &TelegramFake) -> (i64, i64) {
    let first = opened(fake, &anna(), "invoice wrong").await;
    fake.push_private_text(&anna(), "and the delivery is late");
    sent(
        fake,
        STAFF,
        Some(first),
        "💬 Anna K.:\nand the delivery is late",
    )
    .await;
    fake.push_topic_text(STAFF, first, &bo(), "/split 2");
    let second = topic_of(fake, 1002).await;
    sent_containing(fake, STAFF, Some(second), "and the delivery is late").await;
    (first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dm_opens_a_topic_with_the_card_and_the_message_as_plain_text() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let text = "printer won't print <b>now</b> *please* [x](http://e.org)";
    fake.push_private_text(&anna(), text);
    let topic = topic_of(&fake, 1001).await;
    sent(&fake, STAFF, Some(topic), &format!("💬 Anna K.:\n{text}")).await;

    let (name, closed) = fake.topic(STAFF, topic).expect("topic");
    assert_eq!(name, format!("#1001 · Anna K. · {text}"));
    assert!(!closed);
    // The card and the first message are one post, the card first.
    let in_topic = fake.texts_to(STAFF, Some(topic));
    assert_eq!(in_topic.len(), 1, "{in_topic:?}");
    assert!(in_topic[0].starts_with("🎫 Ticket #1001") && in_topic[0].contains("Anna K."));
    assert!(in_topic[0].ends_with(&format!("\n\n💬 Anna K.:\n{text}")));
    assert!(in_topic[0].contains("Priority: normal") && in_topic[0].contains("unassigned"));
    // No SLA policy is configured: nothing is due.
    assert!(in_topic[0].contains("\nSLA due: –\n"), "{}", in_topic[0]);
    // The acknowledgement, in the customer's language.
    sent(&fake, 1001, None, &texts::ticket_opened(Some("de"), 1001)).await;
    // Markup is data: nothing is ever sent with a parse_mode.
    assert!(fake
        .calls()
        .iter()
        .all(|c| c.params.get("parse_mode").is_none()));
    assert_eq!(fake.calls_of("createForumTopic").len(), 1);
    // The staff chat's menu is the catalogue, in every language: the default one in English.
    let menus = fake.calls_of("setMyCommands");
    for language in Language::ALL {
        let code = (language != Language::En).then_some(language.code());
        let menu = menus
            .iter()
            .find(|c| c.ok() && c.str("language_code") == code)
            .unwrap_or_else(|| panic!("no {language:?} menu: {menus:#?}"));
        assert_eq!(menu.params["scope"]["chat_id"].as_i64(), Some(STAFF));
        let listed: Vec<(String, String)> = menu.params["commands"]
            .as_array()
            .expect("commands")
            .iter()
            .map(|c| {
                let field = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                (field("command"), field("description"))
            })
            .collect();
        let catalogue: Vec<(String, String)> = CATALOGUE
            .iter()
            .map(|spec| (spec.name.to_string(), spec.help.get(language).to_string()))
            .collect();
        assert_eq!(listed, catalogue, "{language:?}");
    }
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn start_greets_in_the_customers_language_without_a_ticket() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let mika = TgUser::new(1002, "Mika").language("fi");
    fake.push_private_text(&mika, "/start");
    sent(&fake, 1002, None, &texts::greeting(Some("fi"))).await;
    fake.wait_until("the update confirmed", LIMIT, |f| f.pending_updates() == 0)
        .await;
    assert!(fake.calls_of("createForumTopic").is_empty());
    let mut tx = app.store.begin().await.expect("tx");
    assert!(tx.ticket_by_number(1001).await.expect("query").is_none());
    drop(tx);
    app.stop().await.expect("clean stop");
}

/// The staff group's pace holds back only the staff group: while the topic's first post waits
/// for the group's next slot (30 s away at 2 a minute), an agent's reply written in the new
/// topic reaches the customer's private chat at once, and the post follows in its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_saturated_staff_group_does_not_hold_back_replies_to_customers() {
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.telegram.group_messages_per_minute = 2;
    let app = start(TestDb::sqlite(), config).await;
    fake.push_private_text(&anna(), "help");
    let topic = topic_of(&fake, 1001).await;
    // The topic took the group's slot: its first post (card and "help") waits for the next.
    fake.push_topic_text(STAFF, topic, &bo(), "On it, one moment.");
    sent(&fake, 1001, None, "On it, one moment.").await;
    assert!(
        fake.texts_to(STAFF, Some(topic)).is_empty(),
        "the reply went out before the group's next slot: {:?}",
        fake.texts_to(STAFF, Some(topic))
    );
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    let waiting = tx.outbox_for_ticket(ticket.id).await.expect("outbox");
    drop(tx);
    assert!(
        waiting
            .iter()
            .any(|row| row.status == relaydesk_storage::OutboxStatus::Pending
                && row.last_error.as_deref() == Some("waiting for a send slot")),
        "the first post waits in the outbox for its slot, not in a worker"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_replies_reach_the_customer_and_get_marked_notes_stay_internal() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let topic = opened(&fake, &anna(), "help").await;

    let reply = fake.push_topic_text(STAFF, topic, &bo(), "Did you try <i>restarting</i>?");
    sent(&fake, 1001, None, "Did you try <i>restarting</i>?").await;
    fake.wait_until("the reply marked delivered", LIMIT, |f| {
        f.calls_of("setMessageReaction").iter().any(|c| {
            c.ok() && c.int("chat_id") == Some(STAFF) && c.int("message_id") == Some(reply)
        })
    })
    .await;
    let mark = fake.calls_of("setMessageReaction");
    assert_eq!(mark[0].params["reaction"][0]["emoji"], "👍");

    fake.push_topic_text(STAFF, topic, &bo(), "// she sounds upset");
    fake.push_topic_text(STAFF, topic, &bo(), "/note check the warranty");
    fake.push_topic_text(STAFF, topic, &bo(), "It is fixed now.");
    sent(&fake, 1001, None, "It is fixed now.").await;
    let to_customer = fake.texts_to(1001, None);
    assert!(
        to_customer
            .iter()
            .all(|t| !t.contains("upset") && !t.contains("warranty")),
        "{to_customer:?}"
    );
    // The notes are stored, as internal messages.
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    let messages = tx.messages(ticket.id).await.expect("messages");
    let internal: Vec<&str> = messages
        .iter()
        .filter(|m| m.internal)
        .map(|m| m.body.as_str())
        .collect();
    assert_eq!(internal, vec!["she sounds upset", "check the warranty"]);
    drop(tx);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_in_a_topic_work_and_answer_in_the_topic() {
    commands_in_a_topic(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_in_a_topic_work_and_answer_in_the_topic_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        commands_in_a_topic(db).await;
    }
}

async fn commands_in_a_topic(db: TestDb) {
    let fake = TelegramFake::start().await;
    let app = start(db, config(&fake)).await;
    let topic = opened(&fake, &anna(), "printer jam").await;
    let say = |text: &str| fake.push_topic_text(STAFF, topic, &bo(), text);

    say("/claim");
    sent(&fake, STAFF, Some(topic), "#1001 claimed by bo.").await;
    say("/priority high");
    sent(
        &fake,
        STAFF,
        Some(topic),
        "#1001 priority set to high by bo.",
    )
    .await;
    say("/tag billing");
    sent(&fake, STAFF, Some(topic), "#1001 tagged billing.").await;
    say("/untag billing");
    sent(&fake, STAFF, Some(topic), "#1001 untagged billing.").await;
    say("/unassign");
    sent(&fake, STAFF, Some(topic), "#1001 unassigned by bo.").await;
    say("/assign @bo");
    sent(&fake, STAFF, Some(topic), "#1001 assigned to bo by bo.").await;
    say("/status");
    sent_containing(&fake, STAFF, Some(topic), "priority high · bo · tags: none").await;
    say("/team billing");
    sent_containing(
        &fake,
        STAFF,
        Some(topic),
        "There is no team called billing: no teams are set up",
    )
    .await;
    let mut tx = app.store.begin().await.expect("tx");
    let billing = tx.ensure_team("Billing", 0).await.expect("team");
    tx.commit().await.expect("commit");
    say("/team billing");
    sent(
        &fake,
        STAFF,
        Some(topic),
        "#1001 moved to team Billing by bo.",
    )
    .await;
    say("/team sales");
    sent(
        &fake,
        STAFF,
        Some(topic),
        "There is no team called sales. Teams: Billing.",
    )
    .await;
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    assert_eq!(ticket.team_id, Some(billing));
    drop(tx);
    // Merging needs an admin; Bo is not one of the group's administrators.
    say("/merge #1001");
    sent(&fake, STAFF, Some(topic), "Only admins can use /merge.").await;
    say("/priority whenever");
    sent_containing(&fake, STAFF, Some(topic), "is not a priority").await;

    say("/close fixed");
    sent(&fake, STAFF, Some(topic), "#1001 closed by bo: fixed.").await;
    sent(&fake, 1001, None, &texts::ticket_closed(Some("de"), 1001)).await;
    fake.wait_until("the topic renamed and closed", LIMIT, |f| {
        f.topic(STAFF, topic).is_some_and(|(name, closed)| {
            // The ticket is with team Billing by now: its title says so.
            closed && name.starts_with("✅ #1001 [Billing] · Anna K.")
        })
    })
    .await;
    assert!(fake
        .calls_of("editForumTopic")
        .iter()
        .any(|c| c.ok() && c.str("name").is_some_and(|n| n.starts_with("✅ "))));
    assert!(fake
        .calls_of("closeForumTopic")
        .iter()
        .any(|c| c.ok() && c.int("message_thread_id") == Some(topic)));

    say("/reopen");
    sent(&fake, STAFF, Some(topic), "#1001 reopened by bo.").await;
    fake.wait_until("the topic reopened", LIMIT, |f| {
        f.topic(STAFF, topic)
            .is_some_and(|(name, closed)| !closed && name.starts_with("#1001 [Billing] · "))
    })
    .await;

    say("/sla");
    sent_containing(&fake, STAFF, Some(topic), "#1001").await;
    say("/help");
    sent(&fake, STAFF, Some(topic), &help_text(Language::En)).await;

    // Outside any topic: ticket commands get a short answer, /help works, in the agent's
    // language.
    fake.push_group_text(STAFF, &bo(), "/claim");
    sent(&fake, STAFF, None, OUTSIDE_TOPIC).await;
    fake.push_group_text(STAFF, &bo().language("sv"), "/help@relaydesk_bot");
    sent(&fake, STAFF, None, &help_text(Language::Sv)).await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn split_moves_a_message_and_the_customers_later_ones_into_a_new_ticket_and_topic() {
    split_story(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn split_moves_messages_into_a_new_ticket_and_topic_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        split_story(db).await;
    }
}

async fn split_story(db: TestDb) {
    let fake = TelegramFake::start().await;
    let app = start(db, config(&fake)).await;
    let topic = opened(&fake, &anna(), "My printer is broken").await;
    let say = |topic: i64, text: &str| fake.push_topic_text(STAFF, topic, &bo(), text);
    say(topic, "Try turning it off and on");
    sent(&fake, 1001, None, "Try turning it off and on").await;
    for text in ["Also, my invoice is wrong", "It was charged twice"] {
        fake.push_private_text(&anna(), text);
        sent_containing(&fake, STAFF, Some(topic), text).await;
    }

    // `/split` alone lists the customer's messages with their numbers.
    say(topic, "/split");
    sent_containing(
        &fake,
        STAFF,
        Some(topic),
        "\n3 · Also, my invoice is wrong\n4 · It was charged twice",
    )
    .await;
    say(topic, "/split 2");
    sent_containing(
        &fake,
        STAFF,
        Some(topic),
        "Message 2 of #1001 is not the customer's",
    )
    .await;
    say(topic, "/split 1");
    sent_containing(
        &fake,
        STAFF,
        Some(topic),
        "is the customer's first in #1001",
    )
    .await;
    say(topic, "/split 9");
    sent_containing(
        &fake,
        STAFF,
        Some(topic),
        "#1001 has no message 9 (it has 4)",
    )
    .await;

    say(topic, "/split 3");
    sent(
        &fake,
        STAFF,
        Some(topic),
        "#1001: messages 3, 4 split off into #1002 by bo.",
    )
    .await;
    let second = topic_of(&fake, 1002).await;
    assert_ne!(second, topic);
    sent_containing(&fake, STAFF, Some(second), "Split from #1001 by bo.").await;
    for text in ["Also, my invoice is wrong", "It was charged twice"] {
        sent_containing(&fake, STAFF, Some(second), text).await;
    }
    let timeline = topic_timeline(&fake, second);
    assert!(
        !timeline
            .iter()
            .any(|t| t.contains("printer") || t.contains("turning it off")),
        "the new topic holds only the moved messages: {timeline:?}"
    );

    // An answer in the new topic reaches the customer; the customer's next message goes to
    // the ticket that was not split off.
    say(second, "A refund is on its way");
    sent(&fake, 1001, None, "A refund is on its way").await;
    fake.push_private_text(&anna(), "The printer works now");
    sent_containing(&fake, STAFF, Some(topic), "The printer works now").await;

    let mut tx = app.store.begin().await.expect("tx");
    let first = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("#1001");
    let split = tx
        .ticket_by_number(1002)
        .await
        .expect("query")
        .expect("#1002");
    assert_eq!(split.split_from, Some(first.id));
    assert_eq!(split.customer_id, first.customer_id);
    assert_eq!(split.subject, "Also, my invoice is wrong");
    assert!(split.status.is_active() && first.status.is_active());
    let bodies = |messages: Vec<relaydesk_storage::Message>| -> Vec<String> {
        messages
            .into_iter()
            .filter(|m| !m.body.starts_with('/'))
            .map(|m| m.body)
            .collect()
    };
    assert_eq!(
        bodies(tx.messages(first.id).await.expect("messages")),
        [
            "My printer is broken",
            "Try turning it off and on",
            "The printer works now"
        ]
    );
    assert_eq!(
        bodies(tx.messages(split.id).await.expect("messages")),
        [
            "Also, my invoice is wrong",
            "It was charged twice",
            "A refund is on its way"
        ]
    );
    assert_eq!(tx.split_off(first.id).await.expect("split off"), [1002]);
    let trail = tx.audit_trail(first.id).await.expect("audit");
    assert!(
        trail
            .iter()
            .any(|e| e.action == "split" && e.detail == "messages 3, 4 → #1002"),
        "{trail:?}"
    );
    drop(tx);
    app.stop().await.expect("clean stop");
}

async fn add_canned(app: &TestApp, name: &str, language: Option<&str>, text: &str) {
    relaydesk::cli::canned::run(
        &app.store,
        &SystemClock,
        relaydesk::cli::canned::CannedCommand::Add {
            name: name.into(),
            text: text.into(),
            language: language.map(str::to_string),
        },
    )
    .await
    .expect("canned reply added");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_canned_reply_reaches_the_customer_in_their_language_with_their_name() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    add_canned(
        &app,
        "greeting",
        None,
        "Hello {customer.first_name}, {agent.name} here about #{ticket.number}.",
    )
    .await;
    add_canned(
        &app,
        "greeting",
        Some("de"),
        "Hallo {customer.first_name}, hier ist {agent.name} zu #{ticket.number} ({team.name}).",
    )
    .await;
    add_canned(&app, "refund", None, "Your refund is on its way.").await;
    let topic = opened(&fake, &anna(), "printer jam").await;
    let say = |text: &str| fake.push_topic_text(STAFF, topic, &bo(), text);

    // Anna writes in German: she gets the German text, with her first name; the ticket has
    // no team, so {team.name} goes out as typed and the agent is warned.
    say("/canned greeting");
    let german = "Hallo Anna, hier ist bo zu #1001 ({team.name}).";
    sent(&fake, 1001, None, german).await;
    sent_containing(&fake, STAFF, Some(topic), "Canned reply “greeting” sent:").await;
    sent_containing(
        &fake,
        STAFF,
        Some(topic),
        "Warning: {team.name} had no value here",
    )
    .await;

    // A mistyped name answers with the closest ones and sends nothing.
    say("/canned greting");
    sent(
        &fake,
        STAFF,
        Some(topic),
        "There is no canned reply “greting”. Did you mean: greeting?",
    )
    .await;
    // Alone, it lists the names and their languages.
    say("/canned");
    sent(
        &fake,
        STAFF,
        Some(topic),
        "Canned replies (send one with /canned NAME):\n• greeting (de)\n• refund",
    )
    .await;
    // The customer got exactly the one canned reply, stored as the agent's reply.
    let to_customer = fake.texts_to(1001, None);
    assert_eq!(count(&to_customer, german), 1, "{to_customer:?}");
    assert!(
        to_customer.iter().all(|t| !t.contains("Hello")),
        "{to_customer:?}"
    );
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    let replies: Vec<String> = tx
        .messages(ticket.id)
        .await
        .expect("messages")
        .into_iter()
        .filter(|m| m.agent_id.is_some() && !m.internal)
        .map(|m| m.body)
        .collect();
    assert_eq!(replies, vec![german.to_string()]);
    drop(tx);
    app.stop().await.expect("clean stop");
}

/// Waits until the bot answered button press `query_id`; returns the popup text.
async fn button_answer(fake: &TelegramFake, query_id: &str) -> String {
    fake.wait_until(&format!("answer to {query_id}"), LIMIT, |f| {
        f.calls_of("answerCallbackQuery")
            .iter()
            .any(|c| c.ok() && c.str("callback_query_id") == Some(query_id))
    })
    .await;
    fake.calls_of("answerCallbackQuery")
        .iter()
        .find(|c| c.str("callback_query_id") == Some(query_id))
        .and_then(|c| c.str("text").map(str::to_string))
        .unwrap_or_default()
}

/// A transaction and the id of ticket `number`, which must exist.
async fn ticket_tx(app: &TestApp, number: i64) -> (relaydesk_storage::Tx, i64) {
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(number)
        .await
        .expect("query")
        .expect("ticket");
    (tx, ticket.id)
}

/// Every stored message of ticket `number`, in order.
async fn stored_messages(app: &TestApp, number: i64) -> Vec<relaydesk_storage::Message> {
    let (mut tx, ticket_id) = ticket_tx(app, number).await;
    tx.messages(ticket_id).await.expect("messages")
}

async fn stored_rating(app: &TestApp, number: i64) -> Option<u8> {
    let (mut tx, ticket_id) = ticket_tx(app, number).await;
    tx.ticket_csat(ticket_id)
        .await
        .expect("csat")
        .and_then(|s| s.rating)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closing_asks_for_a_rating_with_buttons_and_only_the_customer_can_answer() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let topic = opened(&fake, &anna(), "printer jam").await;
    fake.push_topic_text(STAFF, topic, &bo(), "/close fixed");
    fake.wait_until("the survey at the customer", LIMIT, |f| {
        !f.keyboards_to(1001).is_empty()
    })
    .await;
    let (survey_message, question, buttons) = fake.keyboards_to(1001)[0].clone();
    assert!(
        question.starts_with("Wie waren wir bei Ticket #1001?"),
        "{question}"
    );
    assert_eq!(buttons.len(), 5, "{buttons:?}");
    let data = |rating: usize| buttons[rating - 1].clone();

    // Someone else's press (a forged callback) is refused and stores nothing.
    let forged = fake.press_button(&bo(), 1001, survey_message, &data(1));
    assert_eq!(
        button_answer(&fake, &forged).await,
        "This survey is for someone else."
    );
    assert_eq!(stored_rating(&app, 1001).await, None);

    let pressed = fake.press_button(&anna(), 1001, survey_message, &data(4));
    assert_eq!(
        button_answer(&fake, &pressed).await,
        "Danke für Ihre Bewertung: 4/5!"
    );
    sent(&fake, STAFF, Some(topic), "★★★★☆ Anna K. rated #1001: 4/5").await;
    assert_eq!(stored_rating(&app, 1001).await, Some(4));
    // The same press again (a double tap) tells no one; a new one counts.
    let again = fake.press_button(&anna(), 1001, survey_message, &data(4));
    button_answer(&fake, &again).await;
    let changed = fake.press_button(&anna(), 1001, survey_message, &data(5));
    button_answer(&fake, &changed).await;
    sent(
        &fake,
        STAFF,
        Some(topic),
        "★★★★★ Anna K. changed their rating of #1001: 5/5",
    )
    .await;
    let notices = fake
        .texts_to(STAFF, Some(topic))
        .iter()
        .filter(|t| t.contains("rated #1001") || t.contains("rating of #1001"))
        .count();
    assert_eq!(notices, 2);
    assert_eq!(stored_rating(&app, 1001).await, Some(5));

    // The first rating's request for a comment reaches the customer. (It waits its turn behind
    // the ticket's earlier notices to the chat, each paced; once a newer survey exists it is
    // moot and not sent, so the test lets it go out before closing the ticket again.)
    fake.wait_until("the first request for a comment", LIMIT, |f| {
        f.reply_requests_to(1001).len() == 1
    })
    .await;

    // Reopened and closed again: a new survey; the old one is answered politely.
    fake.push_topic_text(STAFF, topic, &bo(), "/reopen");
    sent(&fake, STAFF, Some(topic), "#1001 reopened by bo.").await;
    fake.push_topic_text(STAFF, topic, &bo(), "/close");
    fake.wait_until("a second survey", LIMIT, |f| {
        f.keyboards_to(1001).len() == 2
    })
    .await;
    let old = fake.press_button(&anna(), 1001, survey_message, &data(1));
    assert_eq!(
        button_answer(&fake, &old).await,
        "Danke! Diese Umfrage ist nicht mehr aktuell."
    );
    assert_eq!(stored_rating(&app, 1001).await, Some(5));

    // The rating is on the ticket in the API.
    let token = relaydesk::cli::token::run(
        &app.store,
        &SystemClock,
        relaydesk::cli::token::TokenCommand::Create {
            name: "reader".into(),
            agent: "bo".into(),
        },
    )
    .await
    .expect("token")
    .out;
    let detail: serde_json::Value = reqwest::Client::new()
        .get(app.url("/api/v1/tickets/1001"))
        .bearer_auth(token.trim())
        .send()
        .await
        .expect("API answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(detail["csat"]["rating"], 5, "{detail}");

    // Rating the new survey brings a message to reply to with a comment (Telegram has no
    // forms); the reply is the comment.
    let (second, _, second_buttons) = fake
        .keyboards_to(1001)
        .into_iter()
        .find(|(id, _, _)| *id != survey_message)
        .expect("the second survey");
    let pressed = fake.press_button(&anna(), 1001, second, &second_buttons[2]);
    button_answer(&fake, &pressed).await;
    fake.wait_until("the request for a comment", LIMIT, |f| {
        f.reply_requests_to(1001).len() == 2
    })
    .await;
    // One request per survey (its first rating; changing it asks nothing more).
    let requests = fake.reply_requests_to(1001);
    assert_eq!(requests.len(), 2, "{requests:?}");
    let (ask, ask_text) = requests[1].clone();
    // The request's message id is recorded the moment Telegram answers; a person cannot reply
    // faster than that, this test can: it waits.
    let reference = format!("1001:{ask}");
    for _ in 0..100 {
        let mut tx = app.store.begin().await.expect("tx");
        let known = tx
            .delivered_payload(relaydesk_storage::Platform::Telegram, &reference)
            .await
            .expect("query");
        drop(tx);
        if known.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        ask_text,
        "Möchten Sie noch etwas hinzufügen? Antworten Sie auf diese Nachricht (optional)."
    );
    fake.reply_private_text(&anna(), ask, "Sehr schnell, danke!");
    sent(&fake, 1001, None, "Danke für Ihren Kommentar!").await;
    sent(
        &fake,
        STAFF,
        Some(topic),
        "💬 Anna K. commented on their rating of #1001: “Sehr schnell, danke!”",
    )
    .await;
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx.ticket_by_number(1001).await.expect("q").expect("t");
    let survey = tx
        .ticket_csat(ticket.id)
        .await
        .expect("csat")
        .expect("rated");
    drop(tx);
    assert_eq!(survey.rating, Some(3));
    assert_eq!(survey.comment.as_deref(), Some("Sehr schnell, danke!"));
    // A reply to any other message of ours is an ordinary message: it reopens the ticket.
    fake.reply_private_text(&anna(), second, "one more thing");
    sent_containing(&fake, STAFF, Some(topic), "one more thing").await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_tickets_transcript_reaches_the_log_channel_and_downloads_from_the_api() {
    const LOG: i64 = -100_555;
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.transcripts.telegram_chat_id = Some(LOG);
    let app = start(TestDb::sqlite(), config).await;
    let topic = opened(&fake, &anna(), "printer <jam>").await;
    fake.push_topic_text(STAFF, topic, &bo(), "Fixed it <b>for you</b>");
    sent(&fake, 1001, None, "Fixed it <b>for you</b>").await;
    fake.push_topic_text(STAFF, topic, &bo(), "// she was rude");
    fake.push_topic_text(STAFF, topic, &bo(), "/close");
    fake.wait_until("the transcript in the log channel", LIMIT, |f| {
        !f.uploads_to(LOG).is_empty()
    })
    .await;
    let uploads = fake.uploads_to(LOG);
    assert_eq!(uploads.len(), 1);
    let (file_name, html, caption) = &uploads[0];
    assert_eq!(file_name, "ticket-1001.html");
    assert!(
        caption.starts_with("📄 Transcript of #1001 · Anna K."),
        "{caption}"
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("printer &lt;jam&gt;"), "{html}");
    assert!(
        html.contains("Fixed it &lt;b&gt;for you&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>for you</b>") && !html.contains("<script"));
    // The log channel is staff's: notes are in it, marked.
    assert!(html.contains("internal note") && html.contains("she was rude"));

    // The API gives the customer's copy unless notes are asked for.
    let token = relaydesk::cli::token::run(
        &app.store,
        &SystemClock,
        relaydesk::cli::token::TokenCommand::Create {
            name: "reader".into(),
            agent: "bo".into(),
        },
    )
    .await
    .expect("token")
    .out;
    let http = reqwest::Client::new();
    let get = |query: &'static str| {
        http.get(app.url(&format!("/api/v1/tickets/1001/transcript{query}")))
            .bearer_auth(token.trim())
            .send()
    };
    let text = get("?format=txt").await.expect("answer");
    assert_eq!(text.status(), reqwest::StatusCode::OK);
    assert_eq!(
        text.headers()["content-disposition"],
        "attachment; filename=\"ticket-1001.txt\""
    );
    let text = text.text().await.expect("body");
    assert!(text.contains("Fixed it <b>for you</b>"), "{text}");
    assert!(!text.contains("she was rude"), "{text}");
    let staff = get("?format=html&notes=true").await.expect("answer");
    assert!(staff.headers()["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/html")));
    assert!(staff.text().await.expect("body").contains("she was rude"));
    assert_eq!(
        get("?format=pdf").await.expect("answer").status(),
        reqwest::StatusCode::UNPROCESSABLE_ENTITY
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_faq_answer_can_solve_a_ticket_before_any_agent_sees_it() {
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.faq.wait_seconds = 2;
    let app = start(TestDb::sqlite(), config).await;
    for (language, keywords, question, answer) in [
        (
            None,
            "refund, money back",
            "How do refunds work?",
            "Refunds reach you within 5 days.",
        ),
        (
            Some("de"),
            "geld zurück, erstattung",
            "Wie funktionieren Erstattungen?",
            "Erstattungen kommen innerhalb von 5 Tagen.",
        ),
    ] {
        relaydesk::cli::faq::run(
            &app.store,
            &SystemClock,
            relaydesk::cli::faq::FaqCommand::Add {
                name: "refund".into(),
                question: question.into(),
                keywords: keywords.into(),
                answer: answer.into(),
                language: language.map(str::to_string),
            },
        )
        .await
        .expect("FAQ entry added");
    }
    let cleo = TgUser::new(3001, "Cleo");
    let dan = TgUser::new(3002, "Dan");

    // Anna asks in German: the German answer with two buttons, and no topic yet.
    fake.push_private_text(&anna(), "Ich will mein Geld zurück");
    fake.wait_until("the FAQ answer", LIMIT, |f| {
        !f.keyboards_to(1001).is_empty()
    })
    .await;
    let (offer, text, buttons) = fake.keyboards_to(1001)[0].clone();
    assert!(
        text.starts_with("Wie funktionieren Erstattungen?\n\nErstattungen kommen"),
        "{text}"
    );
    assert!(text.ends_with("Hat das Ihre Frage beantwortet?"), "{text}");
    assert_eq!(buttons.len(), 2, "{buttons:?}");
    // Someone else's press changes nothing; hers closes the ticket as self-served.
    let forged = fake.press_button(&bo(), 1001, offer, &buttons[0]);
    assert_eq!(
        button_answer(&fake, &forged).await,
        "This answer is for someone else."
    );
    let solved = fake.press_button(&anna(), 1001, offer, &buttons[0]);
    assert_eq!(
        button_answer(&fake, &solved).await,
        "Schön, dass es geholfen hat! Ticket #1001 ist geschlossen."
    );
    let again = fake.press_button(&anna(), 1001, offer, &buttons[1]);
    assert_eq!(
        button_answer(&fake, &again).await,
        "Danke, Ihre Antwort haben wir schon."
    );

    // Cleo still needs help: her ticket reaches the team at once, with her message.
    fake.push_private_text(&cleo, "I want a refund");
    fake.wait_until("Cleo's FAQ answer", LIMIT, |f| {
        !f.keyboards_to(3001).is_empty()
    })
    .await;
    let (offer, _, buttons) = fake.keyboards_to(3001)[0].clone();
    let help = fake.press_button(&cleo, 3001, offer, &buttons[1]);
    assert_eq!(
        button_answer(&fake, &help).await,
        texts::ticket_opened(None, 1002)
    );
    sent(&fake, 3001, None, &texts::ticket_opened(None, 1002)).await;
    let cleos_topic = topic_of(&fake, 1002).await;
    sent(&fake, STAFF, Some(cleos_topic), "💬 Cleo:\nI want a refund").await;

    // Dan says nothing: after faq.wait_seconds his ticket reaches the team anyway.
    fake.push_private_text(&dan, "money back please");
    fake.wait_until("Dan's FAQ answer", LIMIT, |f| {
        !f.keyboards_to(3002).is_empty()
    })
    .await;
    let dans_topic = topic_of(&fake, 1003).await;
    sent(&fake, STAFF, Some(dans_topic), "💬 Dan:\nmoney back please").await;

    // Anna's ticket never reached the team, even after the wait: closed, self-served.
    let topics = fake.topics(STAFF);
    assert!(
        topics.iter().all(|(_, name, _)| !name.contains("#1001")),
        "{topics:?}"
    );
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx.ticket_by_number(1001).await.expect("q").expect("ticket");
    assert_eq!(ticket.status, relaydesk_storage::TicketStatus::Closed);
    assert_eq!(
        ticket.close_reason.as_deref(),
        Some(relaydesk::hub::SELF_SERVED)
    );
    drop(tx);
    // No satisfaction survey for a self-served ticket.
    assert_eq!(fake.keyboards_to(1001).len(), 1);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tickets_are_routed_to_teams_and_assigned_round_robin_skipping_who_is_away() {
    use relaydesk::routing::{RoutingDefaultSettings, RoutingRuleSettings, TeamSettings};
    use relaydesk_desk::routing::Assignment;
    let fake = TelegramFake::start().await;
    let db = TestDb::sqlite();
    let store = db.store().await;
    let agents = [("anna", 5001), ("ben", 5002), ("cara", 5003)];
    for (name, telegram_id) in agents {
        agent::add(
            &store,
            &SystemClock,
            name,
            &format!("{name}@example.com"),
            false,
            Some("a long password"),
        )
        .await
        .expect("agent");
        agent::link(&store, name, Platform::Telegram, &telegram_id.to_string())
            .await
            .expect("link");
    }
    let mut config = config(&fake);
    config.teams = vec![
        TeamSettings {
            name: "billing".into(),
            members: vec!["anna".into(), "ben".into(), "cara".into()],
            assignment: Assignment::RoundRobin,
            max_open_per_agent: Some(25),
            ..TeamSettings::default()
        },
        TeamSettings {
            name: "support".into(),
            members: vec!["ben".into()],
            assignment: Assignment::Manual,
            max_open_per_agent: None,
            ..TeamSettings::default()
        },
    ];
    config.routing = vec![RoutingRuleSettings {
        keywords: vec!["refund".into(), "invoice".into()],
        channels: vec!["telegram".into()],
        languages: Vec::new(),
        team: "billing".into(),
        priority: Some("high".into()),
        tags: vec!["refund".into()],
    }];
    config.routing_default = Some(RoutingDefaultSettings {
        team: "support".into(),
    });
    let app = start(db, config).await;
    let staff = |id: i64, name: &str| TgUser::new(id, name);

    // Cara is away: round robin passes her by.
    fake.push_group_text(STAFF, &staff(5003, "Cara"), "/away");
    sent_containing(&fake, STAFF, None, "cara is away").await;

    let customers = [
        (TgUser::new(7001, "Uma"), "I want a refund", 1001),
        (TgUser::new(7002, "Vic"), "Refund please!", 1002),
        (TgUser::new(7003, "Wes"), "where is my invoice", 1003),
        (TgUser::new(7004, "Xia"), "hello there", 1004),
    ];
    for (customer, text, number) in &customers {
        fake.push_private_text(customer, text);
        topic_of(&fake, *number).await;
    }
    let first = topic_of(&fake, 1001).await;
    sent(
        &fake,
        STAFF,
        Some(first),
        "ℹ️ #1001 → team billing (routing rule 1) · priority high · tags refund · assigned to anna",
    )
    .await;
    // The topic's title and the card show the team.
    let title = fake
        .topics(STAFF)
        .into_iter()
        .find(|(id, _, _)| *id == first)
        .map(|t| t.1)
        .expect("the topic");
    assert!(title.starts_with("#1001 [billing] · Uma"), "{title}");
    sent_containing(&fake, STAFF, Some(first), "\nTeam: billing\nAssignee: anna").await;
    let last = topic_of(&fake, 1004).await;
    sent(
        &fake,
        STAFF,
        Some(last),
        "ℹ️ #1004 → team support (the default route)",
    )
    .await;

    let mut tx = app.store.begin().await.expect("tx");
    let mut seen = Vec::new();
    for (_, _, number) in &customers {
        let ticket = tx
            .ticket_by_number(*number)
            .await
            .expect("q")
            .expect("ticket");
        let team = match ticket.team_id {
            Some(id) => tx.team_name(id).await.expect("team"),
            None => None,
        };
        let assignee = match ticket.assignee_id {
            Some(id) => Some(tx.agent(id).await.expect("agent").name),
            None => None,
        };
        let tags = tx.tags(ticket.id).await.expect("tags");
        seen.push((*number, team, ticket.priority.to_string(), assignee, tags));
    }
    drop(tx);
    let expect = |n: i64, team: &str, priority: &str, assignee: Option<&str>, tags: &[&str]| {
        (
            n,
            Some(team.to_string()),
            priority.to_string(),
            assignee.map(str::to_string),
            tags.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        seen,
        vec![
            expect(1001, "billing", "high", Some("anna"), &["refund"]),
            expect(1002, "billing", "high", Some("ben"), &["refund"]),
            expect(1003, "billing", "high", Some("anna"), &["refund"]),
            expect(1004, "support", "normal", None, &[]),
        ]
    );

    // /queue answers anywhere in the staff group, with links to the topics.
    fake.push_group_text(STAFF, &staff(5002, "Ben"), "/queue unassigned");
    sent_containing(&fake, STAFF, None, "Queue unassigned (1):").await;
    let answer = fake
        .texts_to(STAFF, None)
        .into_iter()
        .find(|t| t.starts_with("Queue unassigned"))
        .expect("the queue");
    assert!(answer.contains("#1004 · normal"), "{answer}");
    assert!(
        answer.contains(&format!("https://t.me/c/1234567890/{last}")),
        "{answer}"
    );
    assert!(
        !answer.contains("#1001") && !answer.contains("#1002"),
        "{answer}"
    );
    fake.push_group_text(STAFF, &staff(5001, "Anna"), "/queue mine");
    sent_containing(&fake, STAFF, None, "Queue mine (2):").await;
    fake.push_group_text(STAFF, &staff(5001, "Anna"), "/queue sideways");
    sent_containing(&fake, STAFF, None, "is not a view").await;

    // The same views from the REST API.
    let token = relaydesk::cli::token::run(
        &app.store,
        &SystemClock,
        relaydesk::cli::token::TokenCommand::Create {
            name: "anna-api".into(),
            agent: "anna".into(),
        },
    )
    .await
    .expect("token")
    .out;
    let http = reqwest::Client::new();
    let numbers = |view: &'static str| {
        let request = http
            .get(app.url(&format!("/api/v1/tickets?view={view}&sort=activity")))
            .bearer_auth(token.trim())
            .send();
        async move {
            let response = request.await.expect("API answers");
            let status = response.status();
            let body: serde_json::Value = response.json().await.expect("JSON");
            let mut numbers: Vec<i64> = body["tickets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["number"].as_i64())
                .collect();
            numbers.sort_unstable();
            (status, numbers, body)
        }
    };
    assert_eq!(numbers("unassigned").await.1, vec![1004]);
    assert_eq!(numbers("mine").await.1, vec![1001, 1003]);
    assert_eq!(numbers("team").await.1, vec![1001, 1002, 1003]);
    let (status, _, body) = numbers("sideways").await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "view");

    // Back on duty, Cara is next after Anna.
    fake.push_group_text(STAFF, &staff(5003, "Cara"), "/back");
    sent_containing(&fake, STAFF, None, "Welcome back, cara").await;
    fake.push_private_text(&TgUser::new(7005, "Yan"), "invoice wrong");
    let topic = topic_of(&fake, 1005).await;
    sent_containing(&fake, STAFF, Some(topic), "assigned to ben").await;
    fake.push_private_text(&TgUser::new(7006, "Zed"), "refund");
    let topic = topic_of(&fake, 1006).await;
    sent_containing(&fake, STAFF, Some(topic), "assigned to cara").await;

    // Moved by hand, then /reroute: the rules decide again (#1004 matches none: the default).
    fake.push_topic_text(STAFF, last, &staff(5002, "Ben"), "/team billing");
    sent_containing(
        &fake,
        STAFF,
        Some(last),
        "#1004 moved to team billing by ben",
    )
    .await;
    fake.push_topic_text(STAFF, last, &staff(5002, "Ben"), "/reroute");
    sent_containing(
        &fake,
        STAFF,
        Some(last),
        "#1004 → team support (the default route) (rerouted by ben)",
    )
    .await;
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx.ticket_by_number(1004).await.expect("q").expect("ticket");
    let team = tx
        .team_name(ticket.team_id.expect("a team"))
        .await
        .expect("q");
    drop(tx);
    assert_eq!(team.as_deref(), Some("support"));
    // The thread's title follows.
    fake.wait_until("the title with the team", LIMIT, |f| {
        f.topics(STAFF)
            .iter()
            .any(|(id, name, _)| *id == last && name.starts_with("#1004 [support]"))
    })
    .await;

    // Anna goes away: her open billing tickets go to the next members on duty, each told
    // with a mention of them alone.
    fake.push_group_text(STAFF, &staff(5001, "Anna"), "/away");
    sent_containing(&fake, STAFF, None, "2 open tickets went to teammates").await;
    sent_containing(
        &fake,
        STAFF,
        Some(first),
        "#1001 assigned to ben: anna is away.",
    )
    .await;
    let third = topic_of(&fake, 1003).await;
    sent_containing(
        &fake,
        STAFF,
        Some(third),
        "#1003 assigned to cara: anna is away.",
    )
    .await;
    let told = fake
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| {
            c.str("text")
                .is_some_and(|t| t.contains("#1001 assigned to ben"))
        })
        .expect("the notice");
    let entities = told.params["entities"].clone();
    let entities: serde_json::Value = match entities {
        serde_json::Value::String(s) => serde_json::from_str(&s).expect("entities"),
        other => other,
    };
    assert_eq!(entities.as_array().map(Vec::len), Some(1), "{entities}");
    assert_eq!(entities[0]["type"], "text_mention", "{entities}");
    assert_eq!(entities[0]["user"]["id"], 5002, "{entities}");
    let mut tx = app.store.begin().await.expect("tx");
    let owners: Vec<Option<i64>> = {
        let mut owners = Vec::new();
        for n in [1001, 1003] {
            owners.push(
                tx.ticket_by_number(n)
                    .await
                    .expect("q")
                    .expect("t")
                    .assignee_id,
            );
        }
        owners
    };
    let ben = tx.agent_by_name("ben").await.expect("q").expect("ben").id;
    let cara = tx.agent_by_name("cara").await.expect("q").expect("cara").id;
    drop(tx);
    assert_eq!(owners, vec![Some(ben), Some(cara)]);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_made_in_the_cli_stays_admin_when_the_group_shows_a_plain_member() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    // Dana is an admin in Relaydesk but a plain member of the staff group.
    let dana = TgUser::new(3002, "Dana").username("dana");
    agent::add(
        &app.store,
        &SystemClock,
        "dana",
        "dana@example.com",
        true,
        Some("a long password 1"),
    )
    .await
    .expect("agent added");
    agent::link(&app.store, "dana", Platform::Telegram, "3002")
        .await
        .expect("identity linked");
    let (first, _) = anna_has_two_tickets(&fake).await;

    fake.push_topic_text(STAFF, first, &dana, "/claim");
    sent(&fake, STAFF, Some(first), "#1001 claimed by dana.").await;
    fake.push_topic_text(STAFF, first, &dana, "/merge #1002");
    sent_containing(&fake, STAFF, Some(first), "#1001 merged into #1002 by dana").await;
    let mut tx = app.store.begin().await.expect("tx");
    let stored = tx
        .agent_by_name("dana")
        .await
        .expect("query")
        .expect("dana");
    assert_eq!(
        stored.role,
        Role::Admin,
        "a chat message changed the stored role"
    );
    tx.rollback().await.expect("rollback");

    // The other way round: a group administrator is an admin for their messages there, but
    // that is not written to the store.
    let cleo = TgUser::new(3001, "Cleo").username("cleo");
    fake.add_admin(STAFF, &cleo);
    let second = topic_of(&fake, 1002).await;
    fake.push_topic_text(STAFF, second, &cleo, "/claim");
    sent(&fake, STAFF, Some(second), "#1002 claimed by cleo.").await;
    let mut tx = app.store.begin().await.expect("tx");
    let cleo_agent = tx
        .agent_by_name("cleo")
        .await
        .expect("query")
        .expect("cleo");
    assert_eq!(cleo_agent.role, Role::Agent);
    tx.rollback().await.expect("rollback");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn administrators_of_the_staff_group_can_merge() {
    let fake = TelegramFake::start().await;
    let cleo = TgUser::new(3001, "Cleo").username("cleo");
    fake.add_admin(STAFF, &cleo);
    let app = started(&fake).await;
    let (first, second) = anna_has_two_tickets(&fake).await;
    // Ben's ticket is another customer's: refused, even for an admin.
    fake.push_private_text(&TgUser::new(1003, "Ben"), "a different problem");
    let bens = topic_of(&fake, 1003).await;
    // Commands go in once the topic is the ticket's (its first post is there).
    sent_containing(&fake, STAFF, Some(bens), "a different problem").await;
    fake.push_topic_text(STAFF, bens, &cleo, "/merge #1002");
    sent_containing(&fake, STAFF, Some(bens), "different customers").await;

    fake.push_topic_text(STAFF, first, &cleo, "/merge #1002");
    sent_containing(&fake, STAFF, Some(first), "#1001 merged into #1002 by cleo").await;
    sent(
        &fake,
        STAFF,
        Some(second),
        "ℹ️ #1001 was merged into this ticket by cleo.",
    )
    .await;
    fake.wait_until("the merged topic closed", LIMIT, |f| {
        f.topic(STAFF, first).is_some_and(|(_, closed)| closed)
    })
    .await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_429_storm_delays_but_delivers_everything_once_in_order() {
    let fake = TelegramFake::start().await;
    fake.inject("sendMessage", std::iter::repeat_n(Fault::RetryAfter(1), 8));
    fake.inject(
        "createForumTopic",
        [Fault::RetryAfter(1), Fault::RetryAfter(1)],
    );
    let app = started(&fake).await;
    let customers: Vec<TgUser> = (0..3)
        .map(|i| TgUser::new(5000 + i, &format!("C{i}")))
        .collect();
    for round in 0..3 {
        for customer in &customers {
            fake.push_private_text(
                customer,
                &format!("{} message {round}", customer.first_name),
            );
        }
    }
    for (i, customer) in customers.iter().enumerate() {
        let number = i64::try_from(i).expect("small") + 1001;
        let topic = topic_of(&fake, number).await;
        let name = &customer.first_name;
        let expected: Vec<String> = (0..3)
            .map(|round| format!("{name} message {round}"))
            .collect();
        // Messages that queued up behind the 429s may share a post.
        let header = format!("💬 {name}:\n");
        let relayed = |f: &TelegramFake| -> Vec<String> {
            f.texts_to(STAFF, Some(topic))
                .iter()
                .filter_map(|t| post(t).strip_prefix(&header))
                .flat_map(|body| body.split('\n').map(str::to_string))
                .collect()
        };
        fake.wait_until(&format!("ticket #{number}'s messages"), LIMIT, |f| {
            relayed(f).len() >= 3
        })
        .await;
        assert_eq!(relayed(&fake), expected, "ticket #{number}");
        sent(
            &fake,
            customer.id,
            None,
            &texts::ticket_opened(None, number),
        )
        .await;
        assert_eq!(
            count(
                &fake.texts_to(customer.id, None),
                &texts::ticket_opened(None, number)
            ),
            1
        );
    }
    assert_eq!(fake.topics(STAFF).len(), 3);
    let limited = fake.calls().iter().filter(|c| c.status == 429).count();
    assert_eq!(limited, 10, "every injected 429 was met and retried");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_with_pending_updates_loses_nothing_and_doubles_nothing() {
    restart_with_pending_updates(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_with_pending_updates_loses_nothing_and_doubles_nothing_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        restart_with_pending_updates(db).await;
    }
}

async fn restart_with_pending_updates(db: TestDb) {
    let fake = TelegramFake::start().await;
    let mut first = start(db, config(&fake)).await;
    let topic = opened(&fake, &anna(), "first").await;
    let reply = fake.push_topic_text(STAFF, topic, &bo(), "reply one");
    sent(&fake, 1001, None, "reply one").await;
    fake.wait_until("reply one marked", LIMIT, |f| {
        f.calls_of("setMessageReaction")
            .iter()
            .any(|c| c.ok() && c.int("message_id") == Some(reply))
    })
    .await;
    let db = std::mem::replace(&mut first.db, TestDb::sqlite());
    first.stop().await.expect("clean stop");

    // Telegram serves everything again (as if no offset had been confirmed), plus what
    // arrived while we were down.
    fake.replay_from(1);
    fake.push_private_text(&anna(), "second, while down");
    fake.push_topic_text(STAFF, topic, &bo(), "reply two");
    let second = start(db, config(&fake)).await;
    sent(&fake, STAFF, Some(topic), "💬 Anna K.:\nsecond, while down").await;
    sent(&fake, 1001, None, "reply two").await;
    fake.wait_until("all updates confirmed", LIMIT, |f| f.pending_updates() == 0)
        .await;

    let in_topic = fake.texts_to(STAFF, Some(topic));
    assert_eq!(count(&in_topic, "💬 Anna K.:\nfirst"), 1, "{in_topic:?}");
    assert_eq!(count(&in_topic, "💬 Anna K.:\nsecond, while down"), 1);
    let to_customer = fake.texts_to(1001, None);
    assert_eq!(count(&to_customer, "reply one"), 1, "{to_customer:?}");
    assert_eq!(count(&to_customer, "reply two"), 1);
    assert_eq!(
        count(&to_customer, &texts::ticket_opened(Some("de"), 1001)),
        1
    );
    assert_eq!(fake.calls_of("createForumTopic").len(), 1);
    second.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_refuses_a_wrong_secret_and_answers_200_only_after_commit() {
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.telegram.mode = TelegramMode::Webhook;
    config.telegram.webhook_url = Some("https://relaydesk.example/telegram/updates".into());
    config.telegram.webhook_secret = Some("s3cret-token".into());
    let app = start(TestDb::sqlite(), config).await;
    fake.wait_until("setWebhook", LIMIT, |f| {
        f.calls_of("setWebhook").iter().any(|c| {
            c.ok()
                && c.str("url") == Some("https://relaydesk.example/telegram/updates")
                && c.str("secret_token") == Some("s3cret-token")
        })
    })
    .await;
    fake.push_private_text(&anna(), "hello by webhook");
    let updates = fake.take_pending_updates();
    assert_eq!(updates.len(), 1);
    let client = reqwest::Client::new();
    let post = |secret: Option<&str>| {
        let mut request = client.post(app.url("/telegram/updates")).json(&updates[0]);
        if let Some(secret) = secret {
            request = request.header(SECRET_HEADER, secret);
        }
        request.send()
    };

    for wrong in [Some("guess"), None] {
        let answer = post(wrong).await.expect("answer");
        assert_eq!(answer.status(), 401);
    }
    let mut tx = app.store.begin().await.expect("tx");
    assert!(tx.ticket_by_number(1001).await.expect("query").is_none());
    drop(tx);

    let answer = post(Some("s3cret-token")).await.expect("answer");
    assert_eq!(answer.status(), 200);
    // 200 came after the commit: the ticket is there now.
    let mut tx = app.store.begin().await.expect("tx");
    assert!(tx.ticket_by_number(1001).await.expect("query").is_some());
    drop(tx);
    // Telegram retrying the same update stores nothing twice.
    let again = post(Some("s3cret-token")).await.expect("answer");
    assert_eq!(again.status(), 200);
    let topic = topic_of(&fake, 1001).await;
    sent(&fake, STAFF, Some(topic), "💬 Anna K.:\nhello by webhook").await;
    assert!(fake.calls_of("getUpdates").is_empty());
    app.stop().await.expect("clean stop");
    let in_topic = fake.texts_to(STAFF, Some(topic));
    assert_eq!(count(&in_topic, "💬 Anna K.:\nhello by webhook"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_texts_are_split_at_4096_in_order_both_ways() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let long: String = (0..1200).map(|i| format!("w{i:04} ")).collect();
    fake.push_private_text(&anna(), &long);
    let topic = topic_of(&fake, 1001).await;
    let expected = format!("💬 Anna K.:\n{long}");
    fake.wait_until("the long message in the topic", LIMIT, |f| {
        post(&f.texts_to(STAFF, Some(topic)).concat()) == expected
    })
    .await;
    let parts = fake.texts_to(STAFF, Some(topic));
    assert_eq!(
        parts.len(),
        2,
        "the card with the first part, then the second"
    );
    assert!(parts[0].starts_with("🎫 Ticket #1001"));
    assert!(parts.iter().all(|p| p.chars().count() <= 4096));

    let answer: String = (0..1800).map(|i| format!("r{i:04} ")).collect();
    fake.push_topic_text(STAFF, topic, &bo(), &answer);
    fake.wait_until("the long answer at the customer", LIMIT, |f| {
        f.texts_to(1001, None)
            .iter()
            .skip(1)
            .cloned()
            .collect::<String>()
            == answer
    })
    .await;
    let to_customer = fake.texts_to(1001, None);
    assert_eq!(to_customer.len(), 1 + 3, "acknowledgement and three parts");
    assert!(to_customer.iter().all(|p| p.chars().count() <= 4096));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_to_a_customer_who_blocked_the_bot_warns_the_topic() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let topic = opened(&fake, &anna(), "hi").await;
    sent(&fake, 1001, None, &texts::ticket_opened(Some("de"), 1001)).await;
    fake.block(1001);
    fake.push_topic_text(STAFF, topic, &bo(), "are you there?");
    sent_containing(
        &fake,
        STAFF,
        Some(topic),
        "could not be delivered to the customer",
    )
    .await;
    assert!(fake.calls_of("setMessageReaction").is_empty());
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn photos_and_documents_reach_the_topic_by_file_id_with_the_caption() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    fake.push_private(
        &anna(),
        serde_json::json!({
            "caption": "the error screen",
            "photo": [
                {"file_id": "small-id", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
                {"file_id": "big-id", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 900}
            ]
        }),
    );
    let topic = topic_of(&fake, 1001).await;
    sent(&fake, STAFF, Some(topic), "💬 Anna K.:\nthe error screen").await;
    fake.wait_until("the photo in the topic", LIMIT, |f| {
        f.calls_of("sendPhoto").iter().any(|c| {
            c.ok() && c.str("photo") == Some("big-id") && c.int("message_thread_id") == Some(topic)
        })
    })
    .await;
    app.stop().await.expect("clean stop");
}

/// A customer's photo is fetched from Telegram and kept, so the console shows it inline at a
/// path of this server; a file that is neither image nor PDF, and one larger than
/// `web.max_attachment_bytes`, are not kept (and the too-large one is not even fetched). The
/// messages all arrive either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customers_images_are_kept_for_the_console_and_other_files_are_not() {
    let fake = TelegramFake::start().await;
    let png = b"\x89PNG\r\n\x1a\nthe rest of the picture".to_vec();
    fake.put_file("screen-id", &png);
    fake.put_file("script-id", b"#!/bin/sh\nrm -rf /");
    let app = started(&fake).await;
    let photo_message = serde_json::json!({
        "caption": "the error screen",
        "photo": [{"file_id": "screen-id", "file_unique_id": "s", "width": 800, "height": 600, "file_size": png.len()}]
    });
    let photo_id = fake.push_private(&anna(), photo_message.clone());
    let topic = topic_of(&fake, 1001).await;
    fake.push_private(
        &anna(),
        serde_json::json!({
            "document": {"file_id": "script-id", "file_unique_id": "x", "file_name": "fix.sh", "file_size": 20}
        }),
    );
    fake.push_private(
        &anna(),
        serde_json::json!({
            "caption": "the whole log",
            "document": {"file_id": "huge-id", "file_unique_id": "h", "file_name": "log.pdf", "file_size": 50_000_000}
        }),
    );
    sent(&fake, STAFF, Some(topic), "💬 Anna K.:\nthe whole log").await;

    let messages = stored_messages(&app, 1001).await;
    let files: Vec<_> = messages
        .iter()
        .flat_map(|m| m.attachments.clone())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let photo = &files[0];
    let url = photo.url.as_deref().expect("the photo was kept");
    assert!(url.starts_with("/widget/files/"), "{url}");
    assert_eq!(photo.platform_ref.as_deref(), Some("screen-id"));
    let served = reqwest::get(app.url(url)).await.expect("the kept file");
    assert_eq!(served.status(), 200);
    assert_eq!(
        served.headers()["content-type"].to_str().ok(),
        Some("image/png")
    );
    assert_eq!(served.bytes().await.expect("bytes").to_vec(), png);
    // Kept for good with its message: deleting every file no message took leaves it.
    let mut tx = app.store.begin().await.expect("tx");
    tx.prune_unattached_files(i64::MAX).await.expect("prune");
    tx.commit().await.expect("commit");
    let served = reqwest::get(app.url(url)).await.expect("the kept file");
    assert_eq!(served.status(), 200, "the photo's file was attached");
    assert_eq!(files[1].url, None, "a shell script is not kept");
    // Telegram sends the photo message again (same message id): it is not fetched again.
    let mut repeat = photo_message;
    repeat["message_id"] = serde_json::json!(photo_id);
    fake.push_private(&anna(), repeat);
    fake.push_private_text(&anna(), "after the repeat");
    sent(&fake, STAFF, Some(topic), "💬 Anna K.:\nafter the repeat").await;
    let fetched = fake
        .calls_of("getFile")
        .iter()
        .filter(|c| c.str("file_id") == Some("screen-id"))
        .count();
    assert_eq!(fetched, 1, "the photo was fetched once");
    assert_eq!(files[2].url, None, "too large to keep");
    assert!(
        !fake
            .calls_of("getFile")
            .iter()
            .any(|c| c.str("file_id") == Some("huge-id")),
        "a file over the limit is not fetched"
    );
    app.stop().await.expect("clean stop");
}

/// With the file store full (`web.max_upload_storage_mb`), a customer's photo is not kept; the
/// message and its Telegram file still reach the topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_file_store_keeps_no_more_files_and_loses_no_message() {
    let fake = TelegramFake::start().await;
    fake.put_file("screen-id", b"\x89PNG\r\n\x1a\nthe picture");
    let config = config(&fake);
    let options = TelegramOptions {
        keep_files: KeepFiles {
            max_total_bytes: 10,
            ..KeepFiles::default()
        },
        ..fast_options()
    };
    let channel = TelegramChannel::from_config(&config.telegram, options)
        .expect("valid Telegram configuration")
        .expect("the Telegram channel is on");
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        channels: vec![Arc::new(channel)],
        ..Spawn::default()
    })
    .await;
    fake.push_private(
        &anna(),
        serde_json::json!({
            "caption": "the error screen",
            "photo": [{"file_id": "screen-id", "file_unique_id": "s", "width": 800, "height": 600, "file_size": 20}]
        }),
    );
    let topic = topic_of(&fake, 1001).await;
    fake.wait_until("the photo in the topic", LIMIT, |f| {
        f.calls_of("sendPhoto").iter().any(|c| {
            c.ok()
                && c.str("photo") == Some("screen-id")
                && c.int("message_thread_id") == Some(topic)
        })
    })
    .await;
    let messages = stored_messages(&app, 1001).await;
    let photo = &messages[0].attachments[0];
    assert_eq!(photo.url, None, "not kept: the store is full");
    assert_eq!(photo.platform_ref.as_deref(), Some("screen-id"));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_error_and_a_hung_request_are_retried_until_delivered_once() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let topic = opened(&fake, &anna(), "hello").await;
    // The next reply to the customer meets a request that never answers (the client gives up
    // after its timeout), then a 500.
    fake.inject(
        "sendMessage",
        [Fault::Hang(Duration::from_secs(30)), Fault::ServerError],
    );
    fake.push_topic_text(STAFF, topic, &bo(), "we are on it");
    sent(&fake, 1001, None, "we are on it").await;
    let statuses: Vec<u16> = fake
        .calls_of("sendMessage")
        .iter()
        .map(|c| c.status)
        .filter(|s| *s != 200)
        .collect();
    assert_eq!(statuses, vec![504, 500], "the hang, then the server error");
    assert_eq!(count(&fake.texts_to(1001, None), "we are on it"), 1);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_writing_soon_after_close_reopens_the_topic() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let topic = opened(&fake, &anna(), "broken again").await;
    fake.push_topic_text(STAFF, topic, &bo(), "/close");
    fake.wait_until("the topic closed", LIMIT, |f| {
        f.topic(STAFF, topic).is_some_and(|(_, closed)| closed)
    })
    .await;
    fake.push_private_text(&anna(), "still broken");
    sent(&fake, STAFF, Some(topic), "💬 Anna K.:\nstill broken").await;
    sent(
        &fake,
        STAFF,
        Some(topic),
        "ℹ️ Reopened: the customer wrote again.",
    )
    .await;
    fake.wait_until("the topic reopened", LIMIT, |f| {
        f.topic(STAFF, topic)
            .is_some_and(|(name, closed)| !closed && name.starts_with("#1001 · "))
    })
    .await;
    assert_eq!(fake.topics(STAFF).len(), 1);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_writing_after_the_reopen_window_gets_a_new_ticket_and_topic() {
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.tickets.reopen_window = Duration::ZERO;
    let app = start(TestDb::sqlite(), config).await;
    let topic = opened(&fake, &anna(), "first problem").await;
    fake.push_topic_text(STAFF, topic, &bo(), "/close");
    sent(&fake, 1001, None, &texts::ticket_closed(Some("de"), 1001)).await;
    fake.push_private_text(&anna(), "a new problem");
    let second = topic_of(&fake, 1002).await;
    assert_ne!(second, topic);
    sent(&fake, STAFF, Some(second), "💬 Anna K.:\na new problem").await;
    sent(&fake, 1001, None, &texts::ticket_opened(Some("de"), 1002)).await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_anonymous_administrator_of_the_staff_group_counts_as_an_admin() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    let (first, _) = anna_has_two_tickets(&fake).await;
    fake.push_anonymous_admin_text(STAFF, first, "Head of support", "/merge #1002");
    sent_containing(
        &fake,
        STAFF,
        Some(first),
        "#1001 merged into #1002 by Head of support",
    )
    .await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sends_held_back_by_a_429_at_shutdown_go_out_once_after_the_restart() {
    let fake = TelegramFake::start().await;
    let mut first = start(TestDb::sqlite(), config(&fake)).await;
    let topic = opened(&fake, &anna(), "first").await;
    sent(&fake, 1001, None, &texts::ticket_opened(Some("de"), 1001)).await;
    fake.inject("sendMessage", [Fault::RetryAfter(5)]);
    fake.push_topic_text(STAFF, topic, &bo(), "reply while limited");
    fake.wait_until("the reply refused with 429", LIMIT, |f| {
        f.calls_of("sendMessage").iter().any(|c| c.status == 429)
    })
    .await;
    let db = std::mem::replace(&mut first.db, TestDb::sqlite());
    first.stop().await.expect("clean stop");
    assert!(fake
        .texts_to(1001, None)
        .iter()
        .all(|t| t != "reply while limited"));

    let second = start(db, config(&fake)).await;
    sent(&fake, 1001, None, "reply while limited").await;
    assert_eq!(count(&fake.texts_to(1001, None), "reply while limited"), 1);
    second.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_card_shows_when_the_first_response_is_due() {
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    // A 4-hour first response on the default 24/7 calendar.
    config.sla = serde_json::from_value(serde_json::json!({
        "policy": [{ "name": "standard", "first_response": "4h" }],
    }))
    .expect("a valid [sla] section");
    let opened_at = Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap();
    let channel = TelegramChannel::from_config(&config.telegram, fast_options())
        .expect("valid Telegram configuration")
        .expect("the Telegram channel is on");
    let app = spawn_app_with(Spawn {
        config,
        clock: Arc::new(FakeClock::at(opened_at)),
        channels: vec![Arc::new(channel)],
        ..Spawn::default()
    })
    .await;
    let topic = opened(&fake, &anna(), "printer on fire").await;

    let card = fake.texts_to(STAFF, Some(topic)).remove(0);
    assert!(card.starts_with("🎫 Ticket #1001"), "{card}");
    assert!(card.contains("\nSLA due: 2026-05-04 14:00 UTC\n"), "{card}");
    app.stop().await.expect("clean stop");
}

/// The bot's posts in a topic and its files sent there, in the order they were sent: texts as
/// they are, files as `[file <id>]`.
fn topic_timeline(fake: &TelegramFake, topic: i64) -> Vec<String> {
    fake.calls()
        .into_iter()
        .filter(|c| c.ok() && c.int("chat_id") == Some(STAFF))
        .filter(|c| c.int("message_thread_id") == Some(topic))
        .filter_map(|c| match c.method.as_str() {
            "sendMessage" => c.str("text").map(str::to_string),
            "sendPhoto" => c.str("photo").map(|id| format!("[file {id}]")),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_while_rate_limited_goes_out_in_fewer_posts_whole_in_order_and_within_4096() {
    burst_while_rate_limited(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_while_rate_limited_goes_out_in_fewer_posts_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        burst_while_rate_limited(db).await;
    }
}

async fn burst_while_rate_limited(db: TestDb) {
    let fake = TelegramFake::start().await;
    let app = start(db, config(&fake)).await;
    let topic = opened(&fake, &anna(), "first").await;
    // Texts of many lengths (up to ~1,400 characters), so that joining them must respect the
    // limit; a photo in the middle.
    let texts: Vec<String> = (0..40)
        .map(|i| format!("text {i} {}", "x".repeat(i * 211 % 1400)))
        .collect();
    fake.inject("sendMessage", std::iter::repeat_n(Fault::RetryAfter(1), 3));
    for text in &texts[..20] {
        fake.push_private_text(&anna(), text);
    }
    fake.push_private(
        &anna(),
        serde_json::json!({
            "caption": "the error screen",
            "photo": [{"file_id": "screen-id", "file_unique_id": "s", "width": 90, "height": 90}]
        }),
    );
    for text in &texts[20..] {
        fake.push_private_text(&anna(), text);
    }
    let last = texts[39].clone();
    fake.wait_until("the last text in the topic", LIMIT, |f| {
        f.texts_to(STAFF, Some(topic))
            .iter()
            .any(|t| t.ends_with(&format!("\n{last}")))
    })
    .await;

    let header = "💬 Anna K.:\n";
    let timeline = topic_timeline(&fake, topic);
    let burst: Vec<&String> = timeline
        .iter()
        .skip_while(|t| post(t) != format!("{header}first"))
        .skip(1)
        .collect();
    let mut seen = Vec::new();
    for post in &burst {
        assert!(post.chars().count() <= 4096, "a post over 4,096 characters");
        match post.strip_prefix(header) {
            Some(body) => seen.extend(body.split('\n').map(str::to_string)),
            None => seen.push(post.to_string()),
        }
    }
    let mut expected: Vec<String> = texts[..20].to_vec();
    expected.push("the error screen".into());
    expected.push("[file screen-id]".into());
    expected.extend(texts[20..].iter().cloned());
    assert_eq!(
        seen, expected,
        "every text once, whole, in order; the photo in its place"
    );
    let posts = burst.iter().filter(|p| p.starts_with(header)).count();
    assert!(
        posts < 41,
        "{posts} posts for 41 customer messages: nothing was joined"
    );
    let limited = fake.calls().iter().filter(|c| c.status == 429).count();
    assert_eq!(limited, 3, "the rate limit was met");
    app.stop().await.expect("clean stop");
}

/// A 10-minute first response, warnings to the team's alert group (no summaries).
fn alerting(fake: &TelegramFake) -> Config {
    let mut config = config(fake);
    config.sla = serde_json::from_value(serde_json::json!({
        "scan_interval": "1s",
        "policy": [{ "name": "quick", "first_response": "10m" }],
        "team": [{ "name": "support", "telegram_chat": ALERTS.to_string(), "summary_cron": "", "report_cron": "" }],
    }))
    .expect("a valid [sla] section");
    config
}

/// The team's alert group.
const ALERTS: i64 = -1_009_999;

async fn start_at(config: Config, clock: &FakeClock) -> TestApp {
    let channel = TelegramChannel::from_config(&config.telegram, fast_options())
        .expect("valid Telegram configuration")
        .expect("the Telegram channel is on");
    spawn_app_with(Spawn {
        config,
        clock: Arc::new(clock.clone()),
        channels: vec![Arc::new(channel)],
        ..Spawn::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_breach_warning_mentions_the_assignee_and_says_unassigned_otherwise() {
    let fake = TelegramFake::start().await;
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap());
    let app = start_at(alerting(&fake), &clock).await;
    let topic = opened(&fake, &anna(), "printer on fire").await;
    let cy = TgUser::new(1002, "Cy");
    fake.push_private_text(&cy, "no one answers");
    topic_of(&fake, 1002).await;
    fake.push_topic_text(STAFF, topic, &bo(), "/claim");
    fake.wait_until("the claim shown on the card", LIMIT, |f| {
        f.calls_of("editMessageText")
            .iter()
            .any(|c| c.ok() && c.str("text").is_some_and(|t| t.contains("Assignee: bo")))
    })
    .await;

    clock.advance(chrono::Duration::minutes(11));
    let breach = |f: &TelegramFake, number: i64| {
        f.calls_of("sendMessage").into_iter().find(|c| {
            c.ok()
                && c.int("chat_id") == Some(ALERTS)
                && c.str("text")
                    .is_some_and(|t| t.starts_with(&format!("SLA breached: #{number} ")))
        })
    };
    fake.wait_until("both breach warnings", LIMIT, |f| {
        breach(f, 1001).is_some() && breach(f, 1002).is_some()
    })
    .await;

    let claimed = breach(&fake, 1001).expect("a warning for #1001");
    let text = claimed.str("text").expect("text").to_string();
    assert!(text.contains("Assignee: bo · "), "{text}");
    assert!(claimed.str("parse_mode").is_none(), "sent as plain text");
    let before = &text[..text.find("Assignee: bo").expect("named") + "Assignee: ".len()];
    let entities = claimed.params["entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 1, "{entities:?}");
    assert_eq!(entities[0]["type"], "text_mention");
    assert_eq!(entities[0]["user"]["id"], bo().id);
    assert_eq!(
        entities[0]["offset"],
        before.encode_utf16().count(),
        "the entity covers the name"
    );
    assert_eq!(entities[0]["length"], 2);

    let unassigned = breach(&fake, 1002).expect("a warning for #1002");
    let text = unassigned.str("text").expect("text");
    assert!(text.contains("Assignee: unassigned · "), "{text}");
    assert!(
        unassigned.params.get("entities").is_none(),
        "nobody to mention"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_priority_change_that_moves_the_due_time_redraws_the_card() {
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.sla = serde_json::from_value(serde_json::json!({
        "policy": [
            { "name": "urgent", "priority": "urgent", "first_response": "1h" },
            { "name": "standard", "first_response": "4h" },
        ],
    }))
    .expect("a valid [sla] section");
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap());
    let app = start_at(config, &clock).await;
    let topic = opened(&fake, &anna(), "printer on fire").await;
    let card = fake.texts_to(STAFF, Some(topic)).remove(0);
    assert!(card.contains("\nSLA due: 2026-05-04 14:00 UTC\n"), "{card}");

    fake.push_topic_text(STAFF, topic, &bo(), "/priority urgent");
    let edit = |f: &TelegramFake| {
        f.calls_of("editMessageText").into_iter().find(|c| {
            c.ok()
                && c.str("text")
                    .is_some_and(|t| t.contains("\nSLA due: 2026-05-04 11:00 UTC\n"))
        })
    };
    fake.wait_until("the card redrawn with the new due time", LIMIT, |f| {
        edit(f).is_some()
    })
    .await;
    let edit = edit(&fake).expect("an edit");
    assert_eq!(edit.int("chat_id"), Some(STAFF));
    let message = edit.int("message_id").expect("a message id");
    let now = fake.message_text(STAFF, message).expect("the card exists");
    assert!(
        now.starts_with("🎫 Ticket #1001"),
        "the card was edited: {now}"
    );
    assert!(now.contains("\nPriority: urgent\n"), "{now}");
    assert!(now.contains("\nSLA due: 2026-05-04 11:00 UTC\n"), "{now}");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_reply_stops_the_clock_and_the_card_shows_it() {
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.sla = serde_json::from_value(serde_json::json!({
        "policy": [{ "name": "standard", "first_response": "1h", "resolution": "8h" }],
    }))
    .expect("a valid [sla] section");
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap());
    let app = start_at(config, &clock).await;
    let topic = opened(&fake, &anna(), "printer on fire").await;
    let card = fake.texts_to(STAFF, Some(topic)).remove(0);
    assert!(card.contains("\nSLA due: 2026-05-04 11:00 UTC\n"), "{card}");

    // The reply meets the first response and the ticket waits on the customer: nothing is
    // due until she writes again, and the card says so.
    fake.push_topic_text(STAFF, topic, &bo(), "on it");
    sent(&fake, anna().id, None, "on it").await;
    let redrawn = |f: &TelegramFake| {
        f.calls_of("editMessageText")
            .into_iter()
            .find(|c| c.ok() && c.str("text").is_some_and(|t| t.contains("\nSLA due: –\n")))
    };
    fake.wait_until("the card without a due time", LIMIT, |f| {
        redrawn(f).is_some()
    })
    .await;
    let message = redrawn(&fake)
        .and_then(|c| c.int("message_id"))
        .expect("the card's id");
    let now = fake.message_text(STAFF, message).expect("the card");
    assert!(now.starts_with("🎫 Ticket #1001"), "{now}");
    assert!(now.contains("\nStatus: pending\n"), "{now}");

    // She writes again: the clock runs, the card shows the resolution goal (8 h from the
    // start, less nothing: no time passed while paused).
    fake.push_private_text(&anna(), "still broken");
    fake.wait_until("the card due again", LIMIT, |f| {
        f.message_text(STAFF, message)
            .is_some_and(|t| t.contains("\nSLA due: 2026-05-04 18:00 UTC\n"))
    })
    .await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customer_text_is_quoted_in_the_topic_and_names_lose_invisible_characters() {
    let fake = TelegramFake::start().await;
    let app = started(&fake).await;
    // A name with a right-to-left override and a zero-width space; a text that imitates
    // Relaydesk's own lines.
    let eve = TgUser::new(1009, "Eve\u{202E}nimda\u{200B}");
    let text = "thanks!\n📝 bo (internal note):\nrefund approved, pay it out";
    fake.push_private_text(&eve, text);
    let topic = topic_of(&fake, 1001).await;
    let body = format!("💬 Evenimda:\n{text}");
    sent(&fake, STAFF, Some(topic), &body).await;

    let titles: Vec<String> = fake
        .topics(STAFF)
        .into_iter()
        .map(|(_, name, _)| name)
        .collect();
    assert_eq!(titles.len(), 1);
    assert!(
        titles[0].starts_with("#1001 · Evenimda · thanks!"),
        "{titles:?}"
    );
    // The customer's text, and only it, is a blockquote.
    let call = fake
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| c.ok() && c.str("text").is_some_and(|t| t.ends_with(&body)))
        .expect("the post");
    let sent_text = call.str("text").expect("text").to_string();
    let quoted_from = sent_text.len() - text.len();
    let units = |s: &str| s.encode_utf16().count();
    assert_eq!(
        call.params["entities"],
        serde_json::json!([{
            "type": "blockquote",
            "offset": units(&sent_text[..quoted_from]),
            "length": units(text),
        }]),
        "{:?}",
        call.params
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn out_of_hours_the_customer_is_told_once_per_ticket_when_the_team_is_back() {
    use chrono::TimeZone;
    use relaydesk::routing::{RoutingDefaultSettings, TeamSettings};
    let fake = TelegramFake::start().await;
    let mut config = config(&fake);
    config.teams = vec![TeamSettings {
        name: "support".into(),
        business_hours: Some(relaydesk_web::config::BusinessHoursConfig {
            time_zone: "Europe/Berlin".into(),
            mon: vec!["09:00-17:00".into()],
            tue: vec!["09:00-17:00".into()],
            wed: vec!["09:00-17:00".into()],
            thu: vec!["09:00-17:00".into()],
            fri: vec!["09:00-17:00".into()],
            sat: vec![],
            sun: vec![],
            holidays: vec![],
        }),
        ..TeamSettings::default()
    }];
    config.routing_default = Some(RoutingDefaultSettings {
        team: "support".into(),
    });
    // Friday 2026-12-04, 18:00 in Berlin.
    let clock = Arc::new(relaydesk_storage::FakeClock::at(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 4, 17, 0, 0)
            .single()
            .expect("time"),
    ));
    let channel = TelegramChannel::from_config(&config.telegram, fast_options())
        .expect("valid Telegram configuration")
        .expect("the Telegram channel is on");
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        clock: clock.clone(),
        channels: vec![Arc::new(channel)],
    })
    .await;
    let expected = "Danke für Ihre Nachricht! Wir sind gerade nicht da und ab 2026-12-07 09:00 \
                    (Europe/Berlin) wieder erreichbar. Wir antworten dann.";
    fake.push_private_text(&anna(), "Hallo, ist jemand da?");
    sent(&fake, 1001, None, expected).await;
    fake.push_private_text(&anna(), "Noch jemand?");
    let topic = topic_of(&fake, 1001).await;
    sent_containing(&fake, STAFF, Some(topic), "Noch jemand?").await;
    let told = fake
        .texts_to(1001, None)
        .iter()
        .filter(|t| t.as_str() == expected)
        .count();
    assert_eq!(told, 1, "once per ticket");

    // On Monday morning nobody is told anything.
    clock.set(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 7, 9, 30, 0)
            .single()
            .expect("time"),
    );
    let bo_customer = TgUser::new(1002, "Cem").language("en");
    fake.push_private_text(&bo_customer, "Good morning");
    let topic = topic_of(&fake, 1002).await;
    sent_containing(&fake, STAFF, Some(topic), "Good morning").await;
    assert!(
        fake.texts_to(1002, None)
            .iter()
            .all(|t| !t.contains("away right now")),
        "{:?}",
        fake.texts_to(1002, None)
    );
    app.stop().await.expect("clean stop");
}

/// One `getUpdates` answer with several chats' messages interleaved: the chats are handled side
/// by side, so each chat's messages must still be stored once each, in the order sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_answer_with_many_chats_keeps_each_chats_order() {
    let fake = TelegramFake::start().await;
    let customers: Vec<TgUser> = (0..6)
        .map(|c| TgUser::new(3000 + c, &format!("Cust{c}")))
        .collect();
    // Queued before the bot polls: the first answer carries all of them.
    for m in 0..4 {
        for (c, customer) in customers.iter().enumerate() {
            fake.push_private_text(customer, &format!("c{c} m{m}"));
        }
    }
    let app = started(&fake).await;
    fake.wait_until("every update taken", LIMIT, |f| f.pending_updates() == 0)
        .await;
    let mut stored: Vec<Vec<String>> = Vec::new();
    for _ in 0..300 {
        stored.clear();
        for number in 1001..=1006 {
            let mut tx = app.store.begin().await.expect("tx");
            let Some(ticket) = tx.ticket_by_number(number).await.expect("query") else {
                continue;
            };
            let texts = tx.messages(ticket.id).await.expect("messages");
            stored.push(texts.into_iter().map(|m| m.body).collect());
        }
        if stored.iter().map(Vec::len).sum::<usize>() == 24 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stored.sort();
    let expected: Vec<Vec<String>> = (0..6)
        .map(|c| (0..4).map(|m| format!("c{c} m{m}")).collect())
        .collect();
    assert_eq!(
        stored, expected,
        "one ticket per chat, its messages once each, in order"
    );
    app.stop().await.expect("clean stop");
}
