//! The Discord channel end to end: the real serenity gateway client and our REST delivery
//! against the loopback Discord in `relaydesk_tests::discord_fake`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use relaydesk::config::{Config, DiscordConfig};
use relaydesk::discord::DiscordChannel;
use relaydesk_storage::{FakeClock, SystemClock, TicketStatus};
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::discord_fake::{
    payloads, FakeDiscord, Fault, ADMIN_ROLE_ID, AGENT_ROLE_ID, GUILD_ID, LOG_CHANNEL_ID,
    STAFF_CHANNEL_ID, SUPPORT_CHANNEL_ID, TOKEN,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const ANNA: u64 = 4001;
const BOB: u64 = 4002;
const CARL: u64 = 4003;
const MALLORY: u64 = 4004;
const ADA: u64 = 4005;

fn config(fake: &FakeDiscord) -> Config {
    let discord = DiscordConfig {
        token: Some(TOKEN.into()),
        api_url: fake.api_url(),
        guild_id: Some(GUILD_ID.to_string()),
        staff_channel_id: Some(STAFF_CHANNEL_ID.to_string()),
        support_channel_id: Some(SUPPORT_CHANNEL_ID.to_string()),
        agent_role_ids: vec![AGENT_ROLE_ID.to_string()],
        admin_role_ids: vec![ADMIN_ROLE_ID.to_string()],
    };
    let mut config = Config {
        discord,
        ..Config::default()
    };
    config.outbox.poll = Duration::from_millis(100);
    config
}

fn channel(config: &Config) -> Arc<dyn relaydesk::channel::Channel> {
    Arc::new(
        DiscordChannel::from_config(&config.discord)
            .expect("valid discord settings")
            .expect("discord is on"),
    )
}

async fn start(fake: &FakeDiscord, db: TestDb) -> TestApp {
    let config = config(fake);
    let channels = vec![channel(&config)];
    let app = spawn_app_with(Spawn {
        db,
        config,
        channels,
        ..Spawn::default()
    })
    .await;
    connected(fake).await;
    app
}

/// Waits until the bot identified and registered its slash commands.
async fn connected(fake: &FakeDiscord) {
    fake.wait_for("slash commands registered", |f| {
        (!f.commands().is_empty()).then_some(())
    })
    .await;
}

fn content(message: &Value) -> String {
    message["content"].as_str().unwrap_or_default().to_string()
}

/// A customer's text as the staff thread shows it: under the author line, each line quoted,
/// masked-link brackets escaped.
fn relayed(author: &str, text: &str) -> String {
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| format!("> {}", l.replace('[', "\\[").replace(']', "\\]")))
        .collect();
    format!("💬 {author}:\n{}", lines.join("\n"))
}

/// Anna's texts relayed into `thread`, in order: texts queued together may share a post.
fn annas_texts(fake: &FakeDiscord, thread: u64) -> Vec<String> {
    fake.messages_in(thread)
        .iter()
        .map(content)
        .filter_map(|post| {
            post.strip_prefix("💬 Anna K.:\n").map(|body| {
                body.split('\n')
                    .map(|line| line.strip_prefix("> ").unwrap_or(line).to_string())
                    .collect::<Vec<_>>()
            })
        })
        .flatten()
        .collect()
}

/// Waits until `thread` has at least `n` of Anna's texts; returns them.
async fn annas_texts_at_least(fake: &FakeDiscord, thread: u64, n: usize) -> Vec<String> {
    fake.wait_for(&format!("{n} of Anna's texts"), |f| {
        let texts = annas_texts(f, thread);
        (texts.len() >= n).then_some(texts)
    })
    .await
}

/// The thread of the n-th ticket, once it has its card and `posts` further messages.
async fn thread_with(fake: &FakeDiscord, index: usize, posts: usize) -> u64 {
    let thread = fake
        .wait_for("ticket thread", |f| f.threads().get(index).map(|t| t.id))
        .await;
    fake.wait_for("thread posts", |f| {
        (f.messages_in(thread).len() > posts).then_some(())
    })
    .await;
    thread
}

/// Anna opens a ticket by DM; returns (dm channel, thread).
async fn anna_opens_ticket(fake: &FakeDiscord, text: &str) -> (u64, u64) {
    let dm = fake.dm_channel_for(ANNA, "Anna K.");
    fake.customer_dm(dm, ANNA, "Anna K.", text);
    let thread = thread_with(fake, 0, 0).await;
    (dm, thread)
}

async fn dm_opens_a_thread_with_card_and_message(db: TestDb) {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, db).await;
    let text = "Printer won't print @everyone <@&700> please";
    assert_eq!(
        fake.sessions(),
        (1, 0),
        "one session: READY and GUILD_CREATE were understood"
    );
    let (dm, thread) = anna_opens_ticket(&fake, text).await;

    let created = fake.channel(thread).expect("thread exists");
    assert_eq!(created.kind, 12, "a private thread");
    assert_eq!(created.parent, Some(STAFF_CHANNEL_ID));
    assert!(
        created
            .name
            .starts_with("#1001 · Anna K. · Printer won't print"),
        "{}",
        created.name
    );
    let posts = fake.messages_in(thread);
    let card = &posts[0];
    assert_eq!(card["embeds"][0]["title"], "Ticket #1001");
    let fields: Vec<&str> = card["embeds"][0]["fields"]
        .as_array()
        .expect("card fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(
        fields.contains(&"Customer") && fields.contains(&"Assignee"),
        "{fields:?}"
    );
    // No SLA policy is configured: the card has no due time.
    assert!(!fields.contains(&"SLA due"), "{fields:?}");
    let buttons = &card["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], "relaydesk:claim");
    assert_eq!(buttons[1]["custom_id"], "relaydesk:close");

    // The card and the first message are one post.
    let first = &posts[0];
    assert_eq!(content(first), relayed("Anna K.", text));
    assert_eq!(first["allowed_mentions"]["parse"], json!([]));
    assert_eq!(first["allowed_mentions"]["roles"], json!([]));
    assert_eq!(first["allowed_mentions"]["users"], json!([]));

    // The customer is told their ticket number in the DM.
    let ack = fake
        .wait_for("acknowledgement DM", |f| f.messages_in(dm).first().cloned())
        .await;
    assert!(content(&ack).contains("#1001"), "{}", content(&ack));

    // A second DM lands in the same thread, not a new one.
    fake.customer_dm(dm, ANNA, "Anna K.", "still broken");
    fake.wait_for("second post", |f| {
        (f.messages_in(thread).len() == 2).then_some(())
    })
    .await;
    assert_eq!(fake.threads().len(), 1);
    assert_eq!(
        content(&fake.messages_in(thread)[1]),
        relayed("Anna K.", "still broken")
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dm_opens_a_thread_with_card_and_message_sqlite() {
    dm_opens_a_thread_with_card_and_message(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dm_opens_a_thread_with_card_and_message_postgres() {
    if let Some(db) = TestDb::postgres().await {
        dm_opens_a_thread_with_card_and_message(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_card_shows_when_the_first_response_is_due() {
    let fake = FakeDiscord::start().await;
    let mut config = config(&fake);
    // A 4-hour first response on the default 24/7 calendar.
    config.sla = serde_json::from_value(json!({
        "policy": [{ "name": "standard", "first_response": "4h" }],
    }))
    .expect("a valid [sla] section");
    let opened_at = Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap();
    let channels = vec![channel(&config)];
    let app = spawn_app_with(Spawn {
        config,
        clock: Arc::new(FakeClock::at(opened_at)),
        channels,
        ..Spawn::default()
    })
    .await;
    connected(&fake).await;
    let (_, thread) = anna_opens_ticket(&fake, "printer on fire").await;

    let card = &fake.messages_in(thread)[0];
    assert_eq!(card["embeds"][0]["title"], "Ticket #1001");
    let due = card["embeds"][0]["fields"]
        .as_array()
        .expect("card fields")
        .iter()
        .find(|f| f["name"] == "SLA due")
        .expect("an SLA due field")["value"]
        .clone();
    let unix = (opened_at + chrono::Duration::hours(4)).timestamp();
    assert_eq!(due, json!(format!("<t:{unix}:f> (<t:{unix}:R>)")));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_customer_text_is_split_in_order() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let long: String = (0..900).map(|i| format!("w{i} ")).collect();
    let (_, thread) = anna_opens_ticket(&fake, &long).await;
    let parts = fake
        .wait_for("all parts", |f| {
            let posts = f.messages_in(thread);
            (posts.len() >= 3).then_some(posts)
        })
        .await;
    // The card heads the first part.
    assert_eq!(parts[0]["embeds"][0]["title"], "Ticket #1001");
    let joined: String = parts.iter().map(content).collect();
    let body = joined
        .strip_prefix("💬 Anna K.:\n")
        .expect("the author line");
    assert!(body.lines().all(|l| l.starts_with("> ")), "{body}");
    let words: Vec<&str> = body
        .lines()
        .flat_map(|l| l["> ".len()..].split_whitespace())
        .collect();
    assert_eq!(words, long.split_whitespace().collect::<Vec<_>>());
    assert!(
        parts[1..].iter().all(|p| content(p).starts_with("> ")),
        "every part of the customer's text is framed"
    );
    assert!(parts.iter().all(|p| content(p).chars().count() <= 2000));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_reply_reaches_the_customer_and_is_marked_delivered() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (dm, thread) = anna_opens_ticket(&fake, "help").await;
    fake.wait_for("ack", |f| f.messages_in(dm).first().cloned())
        .await;

    let reply = fake.member_message(
        thread,
        BOB,
        "Bob",
        &[AGENT_ROLE_ID],
        "Try turning it off and on",
    );
    let sent = fake
        .wait_for("reply DM", |f| {
            f.messages_in(dm)
                .iter()
                .find(|m| content(m) == "Try turning it off and on")
                .cloned()
        })
        .await;
    assert_eq!(sent["allowed_mentions"]["parse"], json!([]));
    let reaction = fake
        .wait_for("✅ reaction", |f| f.reactions().first().cloned())
        .await;
    assert_eq!(reaction, (thread, reply, "✅".to_string()));

    // Internal notes stay internal; a member without a staff role is not relayed.
    fake.member_message(
        thread,
        BOB,
        "Bob",
        &[AGENT_ROLE_ID],
        "// customer seems upset",
    );
    fake.member_message(thread, MALLORY, "Mallory", &[], "hello from a stranger");
    let marker = fake.member_message(thread, BOB, "Bob", &[AGENT_ROLE_ID], "second answer");
    fake.wait_for("second reply DM", |f| {
        f.messages_in(dm)
            .iter()
            .any(|m| content(m) == "second answer")
            .then_some(())
    })
    .await;
    fake.wait_for("second ✅", |f| {
        f.reactions().iter().any(|r| r.1 == marker).then_some(())
    })
    .await;
    let dms: Vec<String> = fake.messages_in(dm).iter().map(content).collect();
    assert!(
        !dms.iter()
            .any(|t| t.contains("upset") || t.contains("stranger")),
        "{dms:?}"
    );

    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    let messages = tx.messages(ticket.id).await.expect("messages");
    let note = messages
        .iter()
        .find(|m| m.body.contains("customer seems upset"))
        .expect("note stored");
    assert!(note.internal);
    assert!(!messages.iter().any(|m| m.body.contains("stranger")));
    drop(tx);

    // A stranger's command is refused in the thread.
    fake.member_message(thread, MALLORY, "Mallory", &[], "/close");
    fake.wait_for("refusal", |f| {
        f.messages_in(thread)
            .iter()
            .any(|m| content(m).contains("Only agents"))
            .then_some(())
    })
    .await;
    let mut tx = app.store.begin().await.expect("tx");
    assert!(tx
        .ticket(ticket.id)
        .await
        .expect("ticket")
        .status
        .is_active());
    drop(tx);
    app.stop().await.expect("clean stop");
}

/// Runs a slash command and returns the interaction response body.
async fn slash(
    fake: &FakeDiscord,
    channel: u64,
    user: (u64, &str),
    roles: &[u64],
    command: &str,
    options: Value,
    resolved: Value,
) -> Value {
    let id = fake.slash_command(channel, user, roles, command, options, resolved);
    fake.wait_for(&format!("answer to /{command}"), |f| {
        f.interaction_responses()
            .into_iter()
            .find(|(i, _)| *i == id)
            .map(|(_, body)| body)
    })
    .await
}

fn answer_text(body: &Value) -> String {
    body["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn is_ephemeral(body: &Value) -> bool {
    body["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slash_commands_drive_the_ticket_and_refuse_non_agents() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    // Every catalogue command is registered, typed, with its argument as an option.
    let registered = fake.commands();
    for spec in relaydesk_desk::CATALOGUE {
        let command = registered
            .iter()
            .find(|c| c["name"] == spec.name)
            .unwrap_or_else(|| panic!("/{} not registered: {registered:#?}", spec.name));
        assert_eq!(command["description"], spec.help.en);
        assert_eq!(
            command["description_localizations"]["de"], spec.help.de,
            "{command}"
        );
        let options = command["options"].as_array().cloned().unwrap_or_default();
        match &spec.arg {
            None => assert!(options.is_empty(), "{command}"),
            Some(arg) => {
                assert_eq!(options.len(), 1, "{command}");
                assert_eq!(options[0]["name"], arg.name);
                assert_eq!(options[0]["required"], arg.required);
                let choices: Vec<&str> = options[0]["choices"]
                    .as_array()
                    .map(|c| c.iter().filter_map(|c| c["value"].as_str()).collect())
                    .unwrap_or_default();
                assert_eq!(choices, arg.choices(), "{command}");
            }
        }
    }
    let (dm, thread) = anna_opens_ticket(&fake, "need help").await;
    let bob = (BOB, "Bob");
    let agent = &[AGENT_ROLE_ID];
    let none = json!([]);
    let empty = json!({});

    let refused = slash(
        &fake,
        thread,
        (MALLORY, "Mallory"),
        &[],
        "claim",
        none.clone(),
        empty.clone(),
    )
    .await;
    assert!(is_ephemeral(&refused));
    assert!(answer_text(&refused).contains("Only agents"), "{refused}");

    let outside = slash(
        &fake,
        STAFF_CHANNEL_ID,
        bob,
        agent,
        "claim",
        none.clone(),
        empty.clone(),
    )
    .await;
    assert!(is_ephemeral(&outside));
    assert!(
        answer_text(&outside).contains("not a ticket thread"),
        "{outside}"
    );

    let claimed = slash(
        &fake,
        thread,
        bob,
        agent,
        "claim",
        none.clone(),
        empty.clone(),
    )
    .await;
    assert!(!is_ephemeral(&claimed));
    assert!(
        answer_text(&claimed).contains("claimed by Bob"),
        "{claimed}"
    );

    let assign_options = json!([{"name": "agent", "type": 6, "value": BOB.to_string()}]);
    let resolved = json!({"users": {BOB.to_string(): {"id": BOB.to_string(), "username": "Bob", "discriminator": "0", "global_name": "Bob", "avatar": null}}});
    let assigned = slash(
        &fake,
        thread,
        (CARL, "Carl"),
        agent,
        "assign",
        assign_options,
        resolved,
    )
    .await;
    assert!(
        answer_text(&assigned).contains("assigned to Bob by Carl"),
        "{assigned}"
    );
    let unassigned = slash(
        &fake,
        thread,
        bob,
        agent,
        "unassign",
        none.clone(),
        empty.clone(),
    )
    .await;
    assert!(
        answer_text(&unassigned).contains("unassigned"),
        "{unassigned}"
    );

    let priority = slash(
        &fake,
        thread,
        bob,
        agent,
        "priority",
        json!([{"name": "priority", "type": 3, "value": "high"}]),
        empty.clone(),
    )
    .await;
    assert!(
        answer_text(&priority).contains("priority set to high"),
        "{priority}"
    );
    let tag = slash(
        &fake,
        thread,
        bob,
        agent,
        "tag",
        json!([{"name": "tag", "type": 3, "value": "billing"}]),
        empty.clone(),
    )
    .await;
    assert!(answer_text(&tag).contains("tagged billing"), "{tag}");
    let note = slash(
        &fake,
        thread,
        bob,
        agent,
        "note",
        json!([{"name": "text", "type": 3, "value": "checked the logs"}]),
        empty.clone(),
    )
    .await;
    assert!(answer_text(&note).contains("checked the logs"), "{note}");
    let info = slash(
        &fake,
        thread,
        bob,
        agent,
        "status",
        none.clone(),
        empty.clone(),
    )
    .await;
    assert!(
        answer_text(&info).contains("priority high") && answer_text(&info).contains("billing"),
        "{info}"
    );
    let untag = slash(
        &fake,
        thread,
        bob,
        agent,
        "untag",
        json!([{"name": "tag", "type": 3, "value": "billing"}]),
        empty.clone(),
    )
    .await;
    assert!(answer_text(&untag).contains("untagged billing"), "{untag}");

    // Merging needs an admin.
    let merge = json!([{"name": "ticket", "type": 4, "value": 1001}]);
    let not_admin = slash(
        &fake,
        thread,
        bob,
        agent,
        "merge",
        merge.clone(),
        empty.clone(),
    )
    .await;
    assert!(
        is_ephemeral(&not_admin) && answer_text(&not_admin).contains("Only admins"),
        "{not_admin}"
    );
    let into_itself = slash(
        &fake,
        thread,
        (ADA, "Ada"),
        &[ADMIN_ROLE_ID],
        "merge",
        merge,
        empty.clone(),
    )
    .await;
    assert!(
        answer_text(&into_itself).contains("cannot be merged into itself"),
        "{into_itself}"
    );

    // Close: the customer is told, the thread is renamed, archived and locked.
    let closed = slash(
        &fake,
        thread,
        bob,
        agent,
        "close",
        json!([{"name": "reason", "type": 3, "value": "fixed"}]),
        empty.clone(),
    )
    .await;
    assert!(
        answer_text(&closed).contains("closed by Bob: fixed"),
        "{closed}"
    );
    let archived = fake
        .wait_for("thread archived", |f| {
            f.channel(thread).filter(|c| c.archived)
        })
        .await;
    assert!(archived.locked);
    assert!(archived.name.starts_with("✅ #1001 ·"), "{}", archived.name);
    let dms = fake.messages_in(dm);
    assert!(dms.len() >= 2, "acknowledgement and close notice: {dms:?}");

    let reopened = slash(
        &fake,
        thread,
        bob,
        agent,
        "reopen",
        none.clone(),
        empty.clone(),
    )
    .await;
    assert!(
        answer_text(&reopened).contains("reopened by Bob"),
        "{reopened}"
    );
    let open = fake
        .wait_for("thread unarchived", |f| {
            f.channel(thread).filter(|c| !c.archived)
        })
        .await;
    assert!(!open.locked);
    assert!(open.name.starts_with("#1001 ·"), "{}", open.name);

    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    assert_eq!(ticket.status, TicketStatus::Open);
    drop(tx);

    // Anna's next message is split off into a second ticket of hers, #1002.
    fake.customer_dm(dm, ANNA, "Anna K.", "one more thing");
    let position = loop {
        let mut tx = app.store.begin().await.expect("tx");
        let ticket = tx
            .ticket_by_number(1001)
            .await
            .expect("query")
            .expect("ticket");
        let messages = tx.messages(ticket.id).await.expect("messages");
        drop(tx);
        if let Some(i) = messages.iter().position(|m| m.body == "one more thing") {
            break i64::try_from(i).expect("few") + 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    slash(
        &fake,
        thread,
        bob,
        agent,
        "split",
        json!([{"name": "message", "type": 4, "value": position}]),
        empty.clone(),
    )
    .await;
    let second = thread_with(&fake, 1, 0).await;
    // Another customer's ticket is never merged in, even by an admin.
    let dora_dm = fake.dm_channel_for(4006, "Dora");
    fake.customer_dm(dora_dm, 4006, "Dora", "same problem");
    thread_with(&fake, 2, 0).await;
    let across = slash(
        &fake,
        second,
        (ADA, "Ada"),
        &[ADMIN_ROLE_ID],
        "merge",
        json!([{"name": "ticket", "type": 4, "value": 1003}]),
        empty.clone(),
    )
    .await;
    assert!(
        is_ephemeral(&across) && answer_text(&across).contains("different customers"),
        "{across}"
    );
    // An admin merges #1001 into Anna's other ticket: its thread is closed like a close.
    let merge = json!([{"name": "ticket", "type": 4, "value": 1002}]);
    let merged = slash(
        &fake,
        thread,
        (ADA, "Ada"),
        &[ADMIN_ROLE_ID],
        "merge",
        merge,
        empty.clone(),
    )
    .await;
    assert!(
        answer_text(&merged).contains("merged into #1002 by Ada"),
        "{merged}"
    );
    let archived = fake
        .wait_for("merged thread archived", |f| {
            f.channel(thread).filter(|c| c.archived)
        })
        .await;
    assert!(archived.name.starts_with("✅ #1001"), "{}", archived.name);
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    assert_eq!(ticket.status, TicketStatus::Merged);
    drop(tx);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn canned_names_complete_for_staff_and_a_canned_reply_reaches_the_customer() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    for (name, text) in [
        (
            "greeting",
            "Hello {customer.first_name}, this is {agent.name}.",
        ),
        ("green-light", "You are good to go."),
        ("refund", "Your refund is on its way."),
    ] {
        relaydesk::cli::canned::run(
            &app.store,
            &SystemClock,
            relaydesk::cli::canned::CannedCommand::Add {
                name: name.into(),
                text: text.into(),
                language: None,
            },
        )
        .await
        .expect("canned reply added");
    }
    let registered = fake.commands();
    let canned = registered
        .iter()
        .find(|c| c["name"] == "canned")
        .expect("/canned registered");
    assert_eq!(canned["options"][0]["autocomplete"], true, "{canned}");
    let (dm, thread) = anna_opens_ticket(&fake, "need help").await;

    let typing = json!([{"type": 3, "name": "canned", "value": "gre", "focused": true}]);
    let id = fake.autocomplete(
        thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "canned",
        typing.clone(),
    );
    let offered = answer_to(&fake, id).await;
    assert_eq!(offered["type"], 8, "{offered}");
    let names: Vec<&str> = offered["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(|c| c["value"].as_str())
        .collect();
    assert_eq!(names, vec!["green-light", "greeting"]);
    // Someone without a staff role learns nothing.
    let id = fake.autocomplete(thread, (MALLORY, "Mallory"), &[], "canned", typing);
    let offered = answer_to(&fake, id).await;
    assert_eq!(offered["data"]["choices"], json!([]), "{offered}");

    let answer = slash(
        &fake,
        thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "canned",
        json!([{"type": 3, "name": "canned", "value": "greeting"}]),
        json!({}),
    )
    .await;
    assert!(
        answer_text(&answer).starts_with("Canned reply “greeting” sent:"),
        "{answer}"
    );
    let expected = "Hello Anna, this is Bob.";
    fake.wait_for("the canned reply in Anna's DMs", |f| {
        f.messages_in(dm)
            .iter()
            .any(|m| content(m) == expected)
            .then_some(())
    })
    .await;
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_ticket_asks_for_a_rating_with_buttons_in_the_dm() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (dm, thread) = anna_opens_ticket(&fake, "need help").await;
    let closed = slash(
        &fake,
        thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "close",
        json!([]),
        json!({}),
    )
    .await;
    assert!(answer_text(&closed).contains("closed"), "{closed}");
    let survey = fake
        .wait_for("the survey in Anna's DMs", |f| {
            f.messages_in(dm)
                .into_iter()
                .find(|m| m["components"][0]["components"].as_array().is_some())
        })
        .await;
    assert!(
        content(&survey).starts_with("How did we do with ticket #1001?"),
        "{survey}"
    );
    let buttons: Vec<String> = survey["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(buttons.len(), 5, "{buttons:?}");

    // Someone else pressing it changes nothing.
    let id = fake.press_dm_button(
        dm,
        (MALLORY, "Mallory"),
        "en-US",
        survey.clone(),
        &buttons[0],
    );
    let refused = answer_to(&fake, id).await;
    assert_eq!(answer_text(&refused), "This survey is for someone else.");
    assert!(is_ephemeral(&refused));

    // Anna rates: thanks, in a form that offers an optional comment.
    let id = fake.press_dm_button(dm, (ANNA, "Anna K."), "de", survey.clone(), &buttons[2]);
    let thanks = answer_to(&fake, id).await;
    assert_eq!(thanks["type"], 9, "a modal: {thanks}");
    assert_eq!(thanks["data"]["title"], "Danke für Ihre Bewertung: 3/5!");
    let form_id = thanks["data"]["custom_id"]
        .as_str()
        .expect("form id")
        .to_string();
    let input = &thanks["data"]["components"][0]["components"][0];
    assert_eq!(
        input["label"],
        "Möchten Sie noch etwas hinzufügen? (optional)"
    );
    assert_eq!(input["required"], false);

    // Mallory cannot comment on it; Anna can.
    let id = fake.submit_dm_form(
        dm,
        (MALLORY, "Mallory"),
        "en-US",
        &form_id,
        &[("comment", "terrible")],
    );
    let refused = answer_to(&fake, id).await;
    assert_eq!(answer_text(&refused), "This survey is for someone else.");
    let id = fake.submit_dm_form(
        dm,
        (ANNA, "Anna K."),
        "de",
        &form_id,
        &[("comment", "Schnell, danke!")],
    );
    let noted = answer_to(&fake, id).await;
    assert_eq!(answer_text(&noted), "Danke für Ihren Kommentar!");
    assert!(is_ephemeral(&noted));
    fake.wait_for("the comment in the thread", |f| {
        f.messages_in(thread)
            .iter()
            .any(|m| {
                content(m).contains("Anna K. commented on their rating of #1001: “Schnell, danke!”")
            })
            .then_some(())
    })
    .await;
    fake.wait_for("the rating in the thread", |f| {
        f.messages_in(thread)
            .iter()
            .any(|m| content(m).contains("★★★☆☆ Anna K. rated #1001: 3/5"))
            .then_some(())
    })
    .await;
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    let rating = tx.ticket_csat(ticket.id).await.expect("csat");
    drop(tx);
    assert_eq!(rating.as_ref().and_then(|r| r.rating), Some(3));
    assert_eq!(
        rating.and_then(|r| r.comment).as_deref(),
        Some("Schnell, danke!")
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_tickets_transcript_is_uploaded_to_the_log_channel() {
    let fake = FakeDiscord::start().await;
    let mut config = config(&fake);
    config.transcripts.discord_channel_id = Some(LOG_CHANNEL_ID.to_string());
    let channels = vec![channel(&config)];
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        channels,
        ..Spawn::default()
    })
    .await;
    connected(&fake).await;
    let (dm, thread) =
        anna_opens_ticket(&fake, "printer <jam> [click](https://evil.example)").await;
    fake.member_message(
        thread,
        BOB,
        "Bob",
        &[AGENT_ROLE_ID],
        "Fixed it <b>for you</b>",
    );
    fake.wait_for("the reply in Anna's DMs", |f| {
        f.messages_in(dm)
            .iter()
            .any(|m| content(m).contains("Fixed it"))
            .then_some(())
    })
    .await;
    slash(
        &fake,
        thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "note",
        json!([{"name": "text", "type": 3, "value": "she was rude"}]),
        json!({}),
    )
    .await;
    slash(
        &fake,
        thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "close",
        json!([]),
        json!({}),
    )
    .await;
    let post = fake
        .wait_for("the transcript in the log channel", |f| {
            f.messages_in(LOG_CHANNEL_ID)
                .into_iter()
                .find(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
        })
        .await;
    assert!(
        content(&post).starts_with("📄 Transcript of #1001 · Anna K."),
        "{post}"
    );
    assert_eq!(post["allowed_mentions"]["parse"], json!([]), "{post}");
    let file = &post["attachments"][0];
    assert_eq!(file["filename"], "ticket-1001.html");
    let html = file["data"].as_str().expect("the file's text");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("printer &lt;jam&gt;"), "{html}");
    assert!(
        html.contains("Fixed it &lt;b&gt;for you&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>for you</b>") && !html.contains("<script"));
    assert!(html.contains("internal note") && html.contains("she was rude"));
    // Once, however the outbox runs.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let uploads = fake
        .messages_in(LOG_CHANNEL_ID)
        .iter()
        .filter(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
        .count();
    assert_eq!(uploads, 1);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_whose_discord_speaks_german_is_answered_in_german_also_in_dms() {
    let fake = FakeDiscord::start().await;
    let _app = start(&fake, TestDb::sqlite()).await;
    fake.set_locale(ANNA, "de");
    let id = fake.slash_command(
        SUPPORT_CHANNEL_ID,
        (ANNA, "Anna K."),
        &[],
        "ticket",
        json!([{"type": 3, "name": "subject", "value": "Anmeldung kaputt"}]),
        json!({}),
    );
    answer_to(&fake, id).await;
    let customer_thread = fake
        .wait_for("customer thread", |f| {
            f.threads_in(SUPPORT_CHANNEL_ID).first().cloned()
        })
        .await;
    let german = "Danke! Wir haben Ihre Nachricht erhalten. Ihre Ticketnummer ist #1001.";
    fake.wait_for("the German acknowledgement", |f| {
        f.messages_in(customer_thread.id)
            .iter()
            .any(|m| content(m) == german)
            .then_some(())
    })
    .await;
    // Her DMs carry no locale: the one she showed is kept with her.
    let staff_thread = thread_with(&fake, 0, 0).await;
    slash(
        &fake,
        staff_thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "close",
        json!([]),
        json!({}),
    )
    .await;
    let dm = fake.dm_channel_for(ANNA, "Anna K.");
    fake.customer_dm(dm, ANNA, "Anna K.", "noch eine Frage");
    let second = "Danke! Wir haben Ihre Nachricht erhalten. Ihre Ticketnummer ist #1002.";
    fake.wait_for("a German acknowledgement in the DM", |f| {
        f.messages_in(dm)
            .iter()
            .any(|m| content(m) == second)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_faq_answer_in_the_dm_solves_a_ticket_without_a_staff_thread() {
    let fake = FakeDiscord::start().await;
    let mut config = config(&fake);
    config.faq.wait_seconds = 1;
    let channels = vec![channel(&config)];
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        channels,
        ..Spawn::default()
    })
    .await;
    connected(&fake).await;
    relaydesk::cli::faq::run(
        &app.store,
        &SystemClock,
        relaydesk::cli::faq::FaqCommand::Add {
            name: "password".into(),
            question: "Forgot your password?".into(),
            keywords: "password, log in".into(),
            answer: "Use “Reset password” on the sign-in page.".into(),
            language: None,
        },
    )
    .await
    .expect("FAQ entry added");
    let dm = fake.dm_channel_for(ANNA, "Anna K.");
    fake.customer_dm(dm, ANNA, "Anna K.", "I cannot log in");
    let offer = fake
        .wait_for("the FAQ answer in the DM", |f| {
            f.messages_in(dm)
                .into_iter()
                .find(|m| m["components"][0]["components"].as_array().is_some())
        })
        .await;
    assert!(
        content(&offer).starts_with("Forgot your password?"),
        "{offer}"
    );
    let buttons: Vec<String> = offer["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(buttons.len(), 2);
    let id = fake.press_dm_button(dm, (ANNA, "Anna K."), "en-US", offer.clone(), &buttons[0]);
    let answer = answer_to(&fake, id).await;
    assert_eq!(
        answer_text(&answer),
        "Glad it helped! Ticket #1001 is closed."
    );
    // Well past faq.wait_seconds, no staff thread was opened.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(fake.threads().is_empty(), "{:?}", fake.threads());
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn card_buttons_claim_and_close() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (_, thread) = anna_opens_ticket(&fake, "button test").await;
    let card = fake.messages_in(thread)[0].clone();
    let id = fake.press_button(
        thread,
        card.clone(),
        BOB,
        "Bob",
        &[AGENT_ROLE_ID],
        "relaydesk:claim",
    );
    let answer = fake
        .wait_for("claim answer", |f| {
            f.interaction_responses()
                .into_iter()
                .find(|(i, _)| *i == id)
                .map(|(_, b)| b)
        })
        .await;
    assert!(answer_text(&answer).contains("claimed by Bob"), "{answer}");
    let id = fake.press_button(thread, card, MALLORY, "Mallory", &[], "relaydesk:close");
    let refused = fake
        .wait_for("close refusal", |f| {
            f.interaction_responses()
                .into_iter()
                .find(|(i, _)| *i == id)
                .map(|(_, b)| b)
        })
        .await;
    assert!(
        is_ephemeral(&refused) && answer_text(&refused).contains("Only agents"),
        "{refused}"
    );
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    assert!(ticket.status.is_active());
    assert!(ticket.assignee_id.is_some());
    drop(tx);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_storm_delivers_everything_once_in_order() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (dm, thread) = anna_opens_ticket(&fake, "first").await;
    fake.inject("/messages", Fault::ServerError(502), 1);
    fake.inject(
        "/messages",
        Fault::RateLimited {
            retry_after: 0.2,
            global: false,
        },
        6,
    );
    fake.inject(
        "/messages",
        Fault::RateLimited {
            retry_after: 0.1,
            global: true,
        },
        2,
    );
    let texts: Vec<String> = (1..=6).map(|i| format!("message {i}")).collect();
    for text in &texts {
        fake.customer_dm(dm, ANNA, "Anna K.", text);
    }
    let relayed = annas_texts_at_least(&fake, thread, 1 + texts.len()).await;
    let mut expected = vec!["first".to_string()];
    expected.extend(texts.iter().cloned());
    assert_eq!(relayed, expected, "each once, in order");
    let posts = fake.messages_in(thread);
    let limited = fake
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/messages"))
        .count();
    assert!(
        limited > posts.len(),
        "the faults were hit: {limited} calls"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_undeliverable_reply_gets_a_warning_in_the_thread() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (dm, thread) = anna_opens_ticket(&fake, "hi").await;
    fake.wait_for("ack", |f| f.messages_in(dm).first().cloned())
        .await;
    // Anna closed her DMs: Discord refuses with 403 / 50007.
    fake.inject(
        &format!("POST /api/v10/channels/{dm}/messages"),
        Fault::Refused {
            status: 403,
            code: 50007,
        },
        1,
    );
    fake.member_message(thread, BOB, "Bob", &[AGENT_ROLE_ID], "answer");
    let warning = fake
        .wait_for("warning in the thread", |f| {
            f.messages_in(thread)
                .into_iter()
                .find(|m| content(m).contains("could not be delivered"))
        })
        .await;
    assert!(
        content(&warning).contains("does not accept direct messages")
            && content(&warning).contains("403"),
        "{}",
        content(&warning)
    );
    assert!(
        fake.reactions().is_empty(),
        "no ✅ for an undelivered reply"
    );
    assert_eq!(
        fake.messages_in(dm).len(),
        1,
        "only the acknowledgement reached Anna"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_answer_does_not_post_twice() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (dm, thread) = anna_opens_ticket(&fake, "first").await;
    fake.inject(
        &format!("POST /api/v10/channels/{thread}/messages"),
        Fault::AnswerLost,
        1,
    );
    fake.customer_dm(dm, ANNA, "Anna K.", "second");
    fake.customer_dm(dm, ANNA, "Anna K.", "third");
    // The lost post is on Discord already; the row is retried under the same nonce.
    let calls = |f: &FakeDiscord| {
        f.calls()
            .iter()
            .filter(|c| c.path == format!("/api/v10/channels/{thread}/messages"))
            .count()
    };
    fake.wait_for("the lost answer retried", |f| {
        (calls(f) > f.messages_in(thread).len()).then_some(())
    })
    .await;
    // Rows of a lane go out in order: once this one is in, the retry is settled.
    fake.customer_dm(dm, ANNA, "Anna K.", "fourth");
    let relayed = fake
        .wait_for("the text after the retry", |f| {
            let texts = annas_texts(f, thread);
            texts.iter().any(|t| t == "fourth").then_some(texts)
        })
        .await;
    assert_eq!(
        relayed,
        vec!["first", "second", "third", "fourth"],
        "each once, in order"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gateway_drop_resumes_and_loses_nothing() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (dm, thread) = anna_opens_ticket(&fake, "before the drop").await;
    fake.drop_gateway();
    fake.customer_dm(dm, ANNA, "Anna K.", "during the drop");
    fake.wait_for("resumed", |f| (f.sessions().1 >= 1).then_some(()))
        .await;
    fake.customer_dm(dm, ANNA, "Anna K.", "after the drop");
    let relayed = annas_texts_at_least(&fake, thread, 3).await;
    assert_eq!(
        relayed,
        vec!["before the drop", "during the drop", "after the drop"]
    );
    app.stop().await.expect("clean stop");
}

/// Runs the process on `db` until `stop` is cancelled.
fn run(
    fake: &FakeDiscord,
    url: &str,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<Result<(), relaydesk::serve::ServeError>> {
    let mut config = config(fake);
    config.database_url = url.to_string();
    let channels = vec![channel(&config)];
    tokio::spawn(async move {
        let store = relaydesk::serve::open_store(&config).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        relaydesk::serve::run_with(
            config,
            store,
            listener,
            Arc::new(SystemClock),
            channels,
            stop,
        )
        .await
    })
}

fn thread_posts(fake: &FakeDiscord, thread: u64) -> usize {
    fake.calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path == format!("/api/v10/channels/{thread}/messages"))
        .count()
}

fn command_registrations(fake: &FakeDiscord) -> usize {
    fake.calls()
        .iter()
        .filter(|c| c.method == "PUT" && c.path.ends_with("/commands"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restart_with_pending_sends_loses_nothing_and_doubles_nothing() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let stop = CancellationToken::new();
    let first = run(&fake, &db.url, stop.clone());
    connected(&fake).await;
    let (dm, thread) = anna_opens_ticket(&fake, "one").await;
    fake.wait_for("ack", |f| f.messages_in(dm).first().cloned())
        .await;
    // Discord fails thread posts: the sends stay in the outbox.
    fake.inject(
        &format!("POST /api/v10/channels/{thread}/messages"),
        Fault::ServerError(500),
        10_000,
    );
    let before = thread_posts(&fake, thread);
    fake.customer_dm(dm, ANNA, "Anna K.", "two");
    fake.customer_dm(dm, ANNA, "Anna K.", "three");
    fake.wait_for("a failed attempt", |f| {
        (thread_posts(f, thread) > before).then_some(())
    })
    .await;
    stop.cancel();
    first.await.expect("join").expect("clean stop");
    // Anna writes while no process runs.
    fake.customer_dm_unseen(dm, ANNA, "Anna K.", "while stopped");

    // Discord is back; a new process picks up where the old one stopped.
    fake.clear_faults();
    let registrations = command_registrations(&fake);
    let stop = CancellationToken::new();
    let second = run(&fake, &db.url, stop.clone());
    fake.wait_for("second process connected", |f| {
        (command_registrations(f) > registrations).then_some(())
    })
    .await;
    annas_texts_at_least(&fake, thread, 4).await;
    // The same ticket, nothing lost, nothing twice.
    fake.customer_dm(dm, ANNA, "Anna K.", "four");
    let relayed = annas_texts_at_least(&fake, thread, 5).await;
    assert_eq!(
        relayed,
        vec!["one", "two", "three", "while stopped", "four"]
    );
    assert_eq!(
        fake.threads().len(),
        1,
        "no second thread for the same ticket"
    );
    assert_eq!(fake.messages_in(dm).len(), 1, "one acknowledgement only");
    stop.cancel();
    second.await.expect("join").expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_session_is_backfilled_once_sqlite() {
    a_lost_session_is_backfilled_once(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_session_is_backfilled_once_postgres() {
    if let Some(db) = TestDb::postgres().await {
        a_lost_session_is_backfilled_once(db).await;
    }
}

async fn a_lost_session_is_backfilled_once(db: TestDb) {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, db).await;
    let (dm, thread) = anna_opens_ticket(&fake, "before").await;
    fake.member_message(thread, BOB, "Bob", &[AGENT_ROLE_ID], "first answer");
    fake.wait_for("first answer DM", |f| {
        f.messages_in(dm)
            .iter()
            .any(|m| content(m) == "first answer")
            .then_some(())
    })
    .await;

    fake.end_session();
    fake.customer_dm_unseen(dm, ANNA, "Anna K.", "written during the outage");
    fake.member_message_unseen(
        thread,
        BOB,
        "Bob",
        &[AGENT_ROLE_ID],
        "answer during the outage",
    );
    fake.member_message_unseen(thread, BOB, "Bob", &[AGENT_ROLE_ID], "/close");
    fake.member_message_unseen(
        thread,
        MALLORY,
        "Mallory",
        &[],
        "stranger during the outage",
    );
    fake.wait_for("a fresh IDENTIFY", |f| (f.sessions().0 >= 2).then_some(()))
        .await;
    fake.wait_for("the customer's missed message in the thread", |f| {
        f.messages_in(thread)
            .iter()
            .any(|m| content(m).contains("written during the outage"))
            .then_some(())
    })
    .await;
    fake.wait_for("the agent's missed answer in the DM", |f| {
        f.messages_in(dm)
            .iter()
            .any(|m| content(m) == "answer during the outage")
            .then_some(())
    })
    .await;
    // Live again: a new message after the backfill comes after it, and nothing twice.
    fake.customer_dm(dm, ANNA, "Anna K.", "after");
    let posts = fake
        .wait_for("the message after the outage", |f| {
            let posts = f.messages_in(thread);
            posts
                .iter()
                .any(|m| content(m).ends_with("\n> after"))
                .then_some(posts)
        })
        .await;
    let annas: Vec<String> = posts
        .iter()
        .map(content)
        .filter(|t| t.starts_with("💬 Anna K."))
        .collect();
    assert_eq!(
        annas,
        vec![
            relayed("Anna K.", "before"),
            relayed("Anna K.", "written during the outage"),
            relayed("Anna K.", "after")
        ]
    );
    let to_anna: Vec<String> = fake.messages_in(dm).iter().map(content).collect();
    assert_eq!(
        to_anna
            .iter()
            .filter(|t| *t == "answer during the outage")
            .count(),
        1
    );
    assert!(
        !to_anna.iter().any(|t| t.contains("stranger")),
        "{to_anna:?}"
    );
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    assert!(
        ticket.status.is_active(),
        "a command written during the outage is not run afterwards"
    );
    drop(tx);
    app.stop().await.expect("clean stop");
}

fn panel(fake: &FakeDiscord) -> Option<Value> {
    fake.messages_in(SUPPORT_CHANNEL_ID)
        .into_iter()
        .find(|m| m["components"][0]["components"][0]["custom_id"] == "relaydesk:open")
}

async fn answer_to(fake: &FakeDiscord, id: u64) -> Value {
    fake.wait_for("interaction answer", |f| {
        f.interaction_responses()
            .into_iter()
            .find(|(i, _)| *i == id)
            .map(|(_, b)| b)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn panel_form_and_ticket_command_open_private_customer_threads() {
    const DORA: u64 = 4006;
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let panel_message = fake.wait_for("support panel", panel).await;

    // The button opens a form.
    let id = fake.press_button(
        SUPPORT_CHANNEL_ID,
        panel_message,
        ANNA,
        "Anna K.",
        &[],
        "relaydesk:open",
    );
    let form = answer_to(&fake, id).await;
    assert_eq!(form["type"], 9, "a modal: {form}");
    assert_eq!(form["data"]["custom_id"], "relaydesk:open-form");

    // Submitting it opens a private thread for Anna and a ticket.
    let id = fake.submit_form(
        SUPPORT_CHANNEL_ID,
        (ANNA, "Anna K."),
        "relaydesk:open-form",
        &[
            ("subject", "Login broken"),
            ("description", "I cannot log in since Monday"),
        ],
    );
    let opened = answer_to(&fake, id).await;
    assert!(is_ephemeral(&opened));
    let customer_thread = fake
        .wait_for("customer thread", |f| {
            f.threads_in(SUPPORT_CHANNEL_ID).first().cloned()
        })
        .await;
    assert_eq!(customer_thread.kind, 12, "a private thread");
    assert!(
        answer_text(&opened).contains(&format!("<#{}>", customer_thread.id)),
        "{opened}"
    );
    assert!(fake.calls().iter().any(|c| c.method == "PUT"
        && c.path
            == format!(
                "/api/v10/channels/{}/thread-members/{ANNA}",
                customer_thread.id
            )));

    let staff_thread = thread_with(&fake, 0, 0).await;
    let name = fake.channel(staff_thread).expect("staff thread").name;
    assert!(name.starts_with("#1001 · Anna K. · Login broken"), "{name}");
    assert_eq!(
        content(&fake.messages_in(staff_thread)[0]),
        relayed("Anna K.", "I cannot log in since Monday")
    );
    let ack = fake
        .wait_for("acknowledgement in the customer thread", |f| {
            f.messages_in(customer_thread.id).first().cloned()
        })
        .await;
    assert!(content(&ack).contains("#1001"), "{}", content(&ack));

    // Anna writes in her thread; Bob answers from the staff thread.
    fake.member_message(customer_thread.id, ANNA, "Anna K.", &[], "more details");
    fake.wait_for("Anna's follow-up in the staff thread", |f| {
        f.messages_in(staff_thread)
            .iter()
            .any(|m| content(m) == relayed("Anna K.", "more details"))
            .then_some(())
    })
    .await;
    fake.member_message(staff_thread, BOB, "Bob", &[AGENT_ROLE_ID], "On it");
    fake.wait_for("Bob's answer in Anna's thread", |f| {
        f.messages_in(customer_thread.id)
            .iter()
            .any(|m| content(m) == "On it")
            .then_some(())
    })
    .await;

    // `/ticket subject` does the same without the form.
    let answer = slash(
        &fake,
        SUPPORT_CHANNEL_ID,
        (DORA, "Dora"),
        &[],
        "ticket",
        json!([{"name": "subject", "type": 3, "value": "Refund please"}]),
        json!({}),
    )
    .await;
    assert!(
        answer_text(&answer).contains("Your ticket is open"),
        "{answer}"
    );
    let staff_thread = thread_with(&fake, 1, 0).await;
    let name = fake
        .channel(staff_thread)
        .expect("second staff thread")
        .name;
    assert!(name.starts_with("#1002 · Dora · Refund please"), "{name}");
    assert_eq!(fake.threads_in(SUPPORT_CHANNEL_ID).len(), 2);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customer_files_are_linked_in_the_thread() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let dm = fake.dm_channel_for(ANNA, "Anna K.");
    let file = payloads::attachment(fake.snowflake(), "error.png", "image/png", 2048);
    let url = file["url"].as_str().expect("url").to_string();
    fake.customer_dm_with_files(dm, (ANNA, "Anna K."), "see screenshot", vec![file]);
    let thread = thread_with(&fake, 0, 0).await;
    assert_eq!(
        content(&fake.messages_in(thread)[0]),
        format!(
            "{}\n📎 error.png: {url}",
            relayed("Anna K.", "see screenshot")
        )
    );
    let mut tx = app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(1001)
        .await
        .expect("query")
        .expect("ticket");
    let stored = tx.messages(ticket.id).await.expect("messages");
    let attachment = &stored[0].attachments[0];
    assert_eq!(attachment.kind, "photo");
    assert_eq!(attachment.size, Some(2048));
    assert_eq!(attachment.mime_type.as_deref(), Some("image/png"));
    drop(tx);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn team_channel_posts_reach_the_channel_without_pings() {
    use relaydesk::hub::Delivery;
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let channel = STAFF_CHANNEL_ID.to_string();
    let text = "⚠️ SLA: #1001 is due in 10 minutes @here".to_string();
    let payload = serde_json::to_string(&Delivery::ChannelPost {
        channel: channel.clone(),
        text: text.clone(),
        mention: None,
    })
    .expect("payload");
    let mut tx = app.store.begin().await.expect("tx");
    tx.enqueue(
        None,
        &Delivery::channel_lane(relaydesk_storage::Platform::Discord, &channel),
        relaydesk_storage::Platform::Discord,
        &payload,
        0,
    )
    .await
    .expect("enqueue");
    tx.commit().await.expect("commit");
    let post = fake
        .wait_for("channel post", |f| {
            f.messages_in(STAFF_CHANNEL_ID).first().cloned()
        })
        .await;
    assert_eq!(content(&post), text);
    assert_eq!(post["allowed_mentions"]["parse"], json!([]));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forum_staff_channel_gets_one_post_per_ticket() {
    let fake = FakeDiscord::start().await;
    fake.make_forum(STAFF_CHANNEL_ID);
    let app = start(&fake, TestDb::sqlite()).await;
    let (_, post) = anna_opens_ticket(&fake, "forum please").await;
    // A forum post opens with its card; the message follows it.
    thread_with(&fake, 0, 1).await;
    let created = fake.channel(post).expect("forum post");
    assert_eq!(created.kind, 11, "a forum post is a public thread");
    assert!(
        created.name.starts_with("#1001 · Anna K."),
        "{}",
        created.name
    );
    let messages = fake.messages_in(post);
    assert_eq!(
        messages[0]["id"],
        json!(post.to_string()),
        "the card opens the post"
    );
    assert_eq!(messages[0]["embeds"][0]["title"], "Ticket #1001");
    assert_eq!(content(&messages[1]), relayed("Anna K.", "forum please"));
    let create = fake
        .calls()
        .into_iter()
        .find(|c| c.line() == format!("POST /api/v10/channels/{STAFF_CHANNEL_ID}/threads"))
        .expect("thread creation call");
    assert_eq!(
        create.body["message"]["allowed_mentions"]["parse"],
        json!([])
    );
    app.stop().await.expect("clean stop");
}

#[test]
fn the_discord_channel_is_on_only_with_a_token() {
    let mut config = Config::default();
    let chat_channels = |config: &Config| -> Vec<_> {
        relaydesk::serve::channels_from_config(config)
            .expect("channels")
            .into_iter()
            // The web widget is always on.
            .filter(|c| c.platform() != relaydesk_storage::Platform::Web)
            .collect()
    };
    assert!(chat_channels(&config).is_empty());
    config.discord = DiscordConfig {
        token: Some(TOKEN.into()),
        guild_id: Some(GUILD_ID.to_string()),
        staff_channel_id: Some(STAFF_CHANNEL_ID.to_string()),
        agent_role_ids: vec![AGENT_ROLE_ID.to_string()],
        ..DiscordConfig::default()
    };
    let channels = chat_channels(&config);
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0].platform(), relaydesk_storage::Platform::Discord);
    assert!(channels[0].has_staff_side() && channels[0].has_customer_side());
}

async fn start_at(fake: &FakeDiscord, db: TestDb, config: Config, clock: &FakeClock) -> TestApp {
    let channels = vec![channel(&config)];
    let app = spawn_app_with(Spawn {
        db,
        config,
        clock: Arc::new(clock.clone()),
        channels,
    })
    .await;
    connected(fake).await;
    app
}

/// The card's "SLA due" field value.
fn card_due(card: &Value) -> Value {
    card["embeds"][0]["fields"]
        .as_array()
        .expect("card fields")
        .iter()
        .find(|f| f["name"] == "SLA due")
        .expect("an SLA due field")["value"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_breach_warning_pings_only_the_assignee_and_says_unassigned_otherwise() {
    breach_warning_pings_the_assignee(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_breach_warning_pings_only_the_assignee_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        breach_warning_pings_the_assignee(db).await;
    }
}

async fn breach_warning_pings_the_assignee(db: TestDb) {
    let fake = FakeDiscord::start().await;
    let mut config = config(&fake);
    config.sla = serde_json::from_value(json!({
        "scan_interval": "1s",
        "policy": [{ "name": "quick", "first_response": "10m" }],
        "team": [{
            "name": "support",
            "discord_channel": SUPPORT_CHANNEL_ID.to_string(),
            "summary_cron": "",
            "report_cron": "",
        }],
    }))
    .expect("a valid [sla] section");
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap());
    let app = start_at(&fake, db, config, &clock).await;
    let (_, thread) = anna_opens_ticket(&fake, "printer on fire").await;
    let carl_dm = fake.dm_channel_for(CARL, "Carl");
    fake.customer_dm(carl_dm, CARL, "Carl", "no one answers");
    thread_with(&fake, 1, 0).await;
    let claimed = slash(
        &fake,
        thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "claim",
        json!([]),
        json!({}),
    )
    .await;
    assert!(
        answer_text(&claimed).contains("claimed by Bob"),
        "{claimed}"
    );

    clock.advance(chrono::Duration::minutes(11));
    let breach = |f: &FakeDiscord, number: i64| {
        f.messages_in(SUPPORT_CHANNEL_ID)
            .into_iter()
            .find(|m| content(m).starts_with(&format!("SLA breached: #{number} ")))
    };
    let (claimed, unassigned) = fake
        .wait_for("both breach warnings", |f| {
            Some((breach(f, 1001)?, breach(f, 1002)?))
        })
        .await;

    let text = content(&claimed);
    assert!(text.contains(&format!("Assignee: <@{BOB}> · ")), "{text}");
    let allowed = &claimed["allowed_mentions"];
    assert_eq!(
        allowed["parse"],
        json!([]),
        "no @everyone, no roles by name"
    );
    assert_eq!(
        allowed["users"],
        json!([BOB.to_string()]),
        "only the assignee"
    );
    assert!(
        allowed["roles"].as_array().is_none_or(Vec::is_empty),
        "{allowed}"
    );
    let text = content(&unassigned);
    assert!(text.contains("Assignee: unassigned · "), "{text}");
    assert_eq!(unassigned["allowed_mentions"]["parse"], json!([]));
    assert!(
        unassigned["allowed_mentions"]["users"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "nobody pinged: {}",
        unassigned["allowed_mentions"]
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_priority_change_that_moves_the_due_time_redraws_the_card() {
    priority_change_redraws_the_card(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_priority_change_redraws_the_card_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        priority_change_redraws_the_card(db).await;
    }
}

async fn priority_change_redraws_the_card(db: TestDb) {
    let fake = FakeDiscord::start().await;
    let mut config = config(&fake);
    config.sla = serde_json::from_value(json!({
        "policy": [
            { "name": "urgent", "priority": "urgent", "first_response": "1h" },
            { "name": "standard", "first_response": "4h" },
        ],
    }))
    .expect("a valid [sla] section");
    let opened_at = Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap();
    let clock = FakeClock::at(opened_at);
    let app = start_at(&fake, db, config, &clock).await;
    let (_, thread) = anna_opens_ticket(&fake, "printer on fire").await;
    let unix = |hours| (opened_at + chrono::Duration::hours(hours)).timestamp();
    let card_id = fake.messages_in(thread)[0]["id"].clone();
    assert_eq!(
        card_due(&fake.messages_in(thread)[0]),
        json!(format!("<t:{0}:f> (<t:{0}:R>)", unix(4)))
    );

    slash(
        &fake,
        thread,
        (BOB, "Bob"),
        &[AGENT_ROLE_ID],
        "priority",
        json!([{"name": "priority", "type": 3, "value": "urgent"}]),
        json!({}),
    )
    .await;
    let sooner = json!(format!("<t:{0}:f> (<t:{0}:R>)", unix(1)));
    let card = fake
        .wait_for("the card redrawn with the new due time", |f| {
            let card = f.messages_in(thread).into_iter().next()?;
            (card_due(&card) == sooner).then_some(card)
        })
        .await;
    assert_eq!(card["id"], card_id, "the same card, edited");
    let priority = card["embeds"][0]["fields"]
        .as_array()
        .expect("card fields")
        .iter()
        .find(|f| f["name"] == "Priority")
        .expect("a priority field")["value"]
        .clone();
    assert_eq!(priority, "urgent");
    assert!(
        fake.calls().iter().any(|c| c.method == "PATCH"
            && c.path
                .ends_with(&format!("/messages/{}", card_id.as_str().expect("an id")))),
        "edited with PATCH on the message"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joined_post_whose_answer_was_lost_is_retried_as_the_same_post() {
    joined_post_retried_as_the_same_post(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joined_post_whose_answer_was_lost_is_retried_as_the_same_post_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        joined_post_retried_as_the_same_post(db).await;
    }
}

async fn joined_post_retried_as_the_same_post(db: TestDb) {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, db).await;
    let (dm, thread) = anna_opens_ticket(&fake, "first").await;
    let posts_to_thread = format!("POST /api/v10/channels/{thread}/messages");
    // The first try is rate limited, so the texts queue up and go out joined; that post is
    // made but its answer lost.
    fake.inject(
        &posts_to_thread,
        Fault::RateLimited {
            retry_after: 1.0,
            global: false,
        },
        1,
    );
    fake.inject(&posts_to_thread, Fault::AnswerLost, 1);
    for text in ["a", "b", "c"] {
        fake.customer_dm(dm, ANNA, "Anna K.", text);
    }
    let joined = fake
        .wait_for("the joined post", |f| {
            f.messages_in(thread)
                .into_iter()
                .find(|m| content(m).starts_with("💬 Anna K.:\n> a\n"))
        })
        .await;
    // More texts arrive before the retry: they must not change what is retried.
    for text in ["d", "e"] {
        fake.customer_dm(dm, ANNA, "Anna K.", text);
    }
    let relayed = fake
        .wait_for("every text", |f| {
            let texts = annas_texts(f, thread);
            texts.iter().any(|t| t == "e").then_some(texts)
        })
        .await;
    assert_eq!(
        relayed,
        vec!["first", "a", "b", "c", "d", "e"],
        "each once, in order"
    );
    let nonce = joined["nonce"]
        .as_str()
        .expect("sent with a nonce")
        .to_string();
    let same_nonce = fake
        .calls()
        .iter()
        .filter(|c| c.line() == posts_to_thread && c.body["nonce"] == json!(nonce))
        .count();
    assert!(
        same_nonce >= 2,
        "the retry was the same post under the same nonce"
    );
    app.stop().await.expect("clean stop");
}

/// With the guild at Discord's cap of active threads (code 160006), opening a ticket's thread
/// is retried, not given up, and the staff channel is told why the ticket waits: once a thread
/// can be created, the ticket gets it and the customer's message arrives in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_guild_delays_a_new_thread_but_does_not_lose_it() {
    let fake = FakeDiscord::start().await;
    fake.inject(
        &format!("POST /api/v10/channels/{STAFF_CHANNEL_ID}/threads"),
        Fault::Refused {
            status: 400,
            code: 160_006,
        },
        2,
    );
    let app = start(&fake, TestDb::sqlite()).await;
    let (_, thread) = anna_opens_ticket(&fake, "is anyone there?").await;
    assert_eq!(
        content(&fake.messages_in(thread)[0]),
        relayed("Anna K.", "is anyone there?")
    );
    let tries = fake
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with(&format!("{STAFF_CHANNEL_ID}/threads")))
        .count();
    assert_eq!(tries, 3, "two refusals, then the thread");
    assert_eq!(fake.threads().len(), 1);
    // The team was told once, in the staff channel, why the ticket waited.
    let warnings: Vec<String> = fake
        .messages_in(STAFF_CHANNEL_ID)
        .iter()
        .map(content)
        .filter(|c| c.contains("as many active threads as Discord allows"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("ticket #1001"), "{}", warnings[0]);
    app.stop().await.expect("clean stop");
}

/// At Discord's cap of active threads, the threads of closed tickets that were unarchived
/// since (a moderator posting in one does that; they stay locked) are archived again to make
/// room, and the new ticket gets its thread at once, without a warning to the team.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_the_thread_cap_closed_tickets_threads_are_archived_to_make_room() {
    let fake = FakeDiscord::start().await;
    let app = start(&fake, TestDb::sqlite()).await;
    let (_, first) = anna_opens_ticket(&fake, "first question").await;
    fake.member_message(first, BOB, "Bob", &[AGENT_ROLE_ID], "/close");
    fake.wait_for("the first ticket's thread archived and locked", |f| {
        f.channel(first).filter(|c| c.archived && c.locked)
    })
    .await;
    // A moderator's post unarchives the closed ticket's thread; the guild is now at its cap.
    fake.unarchive(first);
    fake.cap_active_threads(1);

    let dm = fake.dm_channel_for(ANNA, "Anna K.");
    fake.customer_dm(dm, ANNA, "Anna K.", "second question");
    let second = thread_with(&fake, 1, 0).await;
    assert_ne!(second, first);
    let first_now = fake.channel(first).expect("the first thread");
    assert!(
        first_now.archived && first_now.locked,
        "the closed ticket's thread was archived again: {first_now:?}"
    );
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.method == "GET" && c.path.ends_with("/threads/active")),
        "the active threads were listed"
    );
    assert!(
        !fake
            .messages_in(STAFF_CHANNEL_ID)
            .iter()
            .any(|m| content(m).contains("as many active threads as Discord allows")),
        "room was made, so nobody is warned"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn out_of_hours_a_dm_is_told_once_when_the_desk_is_back() {
    use chrono::TimeZone;
    let fake = FakeDiscord::start().await;
    let mut config = config(&fake);
    // The desk's hours ([web.business_hours]) for tickets of no team.
    config.web.business_hours = Some(relaydesk_web::config::BusinessHoursConfig {
        time_zone: "Europe/Helsinki".into(),
        mon: vec!["08:00-16:00".into()],
        tue: vec!["08:00-16:00".into()],
        wed: vec!["08:00-16:00".into()],
        thu: vec!["08:00-16:00".into()],
        fri: vec!["08:00-16:00".into()],
        sat: vec![],
        sun: vec![],
        holidays: vec!["2026-12-07".into()],
    });
    // Saturday 2026-12-05, noon in Helsinki; Monday is a holiday.
    let clock = Arc::new(relaydesk_storage::FakeClock::at(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 5, 10, 0, 0)
            .single()
            .expect("time"),
    ));
    let channels = vec![channel(&config)];
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        clock,
        channels,
    })
    .await;
    connected(&fake).await;
    let expected = "Thanks for your message! We are away right now and back on 2026-12-08 08:00 \
                    (Europe/Helsinki). We will answer then.";
    let (dm, thread) = anna_opens_ticket(&fake, "is anyone there?").await;
    fake.wait_for("the notice in Anna's DMs", |f| {
        f.messages_in(dm)
            .iter()
            .any(|m| content(m) == expected)
            .then_some(())
    })
    .await;
    fake.customer_dm(dm, ANNA, "Anna K.", "hello?");
    annas_texts_at_least(&fake, thread, 2).await;
    let told = fake
        .messages_in(dm)
        .iter()
        .filter(|m| content(m) == expected)
        .count();
    assert_eq!(told, 1, "once per ticket");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_teams_sla_warnings_reach_its_own_channel() {
    use relaydesk::routing::{RoutingDefaultSettings, RoutingRuleSettings, TeamSettings};
    let fake = FakeDiscord::start().await;
    let mut config = config(&fake);
    config.sla = serde_json::from_value(json!({
        "scan_interval": "1s",
        "policy": [{ "name": "quick", "first_response": "10m" }],
    }))
    .expect("a valid [sla] section");
    config.teams = vec![
        TeamSettings {
            name: "billing".into(),
            discord_channel_id: Some(LOG_CHANNEL_ID.to_string()),
            summary_cron: Some(String::new()),
            report_cron: Some(String::new()),
            ..TeamSettings::default()
        },
        TeamSettings {
            name: "support".into(),
            discord_channel_id: Some(SUPPORT_CHANNEL_ID.to_string()),
            summary_cron: Some(String::new()),
            report_cron: Some(String::new()),
            ..TeamSettings::default()
        },
    ];
    config.routing = vec![RoutingRuleSettings {
        keywords: vec!["refund".into()],
        channels: Vec::new(),
        languages: Vec::new(),
        team: "billing".into(),
        priority: None,
        tags: Vec::new(),
    }];
    config.routing_default = Some(RoutingDefaultSettings {
        team: "support".into(),
    });
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap());
    let app = start_at(&fake, TestDb::sqlite(), config, &clock).await;
    anna_opens_ticket(&fake, "I want a refund").await;
    let carl_dm = fake.dm_channel_for(CARL, "Carl");
    fake.customer_dm(carl_dm, CARL, "Carl", "my printer is on fire");
    thread_with(&fake, 1, 0).await;

    clock.advance(chrono::Duration::minutes(11));
    let breaches = |f: &FakeDiscord, channel: u64| -> Vec<String> {
        f.messages_in(channel)
            .iter()
            .map(content)
            .filter(|c| c.starts_with("SLA breached: #"))
            .collect()
    };
    let (billing, support) = fake
        .wait_for("a breach warning in each team's channel", |f| {
            let billing = breaches(f, LOG_CHANNEL_ID);
            let support = breaches(f, SUPPORT_CHANNEL_ID);
            (!billing.is_empty() && !support.is_empty()).then_some((billing, support))
        })
        .await;
    assert_eq!(billing.len(), 1, "{billing:?}");
    assert!(
        billing[0].starts_with("SLA breached: #1001 "),
        "{billing:?}"
    );
    assert_eq!(support.len(), 1, "{support:?}");
    assert!(
        support[0].starts_with("SLA breached: #1002 "),
        "{support:?}"
    );
    app.stop().await.expect("clean stop");
}
