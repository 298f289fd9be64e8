//! The agents' console through a real HTTP server on a random port with a fresh database:
//! sign-in, lockout, CSRF, sessions, views, the ticket page, every action, live updates, and a
//! reply that reaches the customer's channel.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use relaydesk::cli::agent;
use relaydesk::config::Config;
use relaydesk::hub::{CustomerMessage, Hub, HubConfig, Inbound, Ingested, Outbound, PlatformUser};
use relaydesk_storage::{Attachment, Clock, FakeClock, Platform, Store, SystemClock};
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::console_client::ConsoleClient;
use relaydesk_tests::db::TestDb;
use relaydesk_tests::recorder::{Recorder, RecordingChannel};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

struct Desk {
    app: TestApp,
    recorder: Recorder,
    hub: Hub,
}

async fn start(db: TestDb, config: Config, clock: Arc<dyn Clock>) -> Desk {
    let recorder = Recorder::new(Platform::Telegram);
    let app = spawn_app_with(Spawn {
        db,
        config,
        clock: clock.clone(),
        channels: vec![Arc::new(RecordingChannel(recorder.clone()))],
    })
    .await;
    // Customers write through a hub of their own on the same store, as another instance would.
    let hub = Hub::new(
        app.store.clone(),
        clock,
        HubConfig {
            staff_platforms: vec![Platform::Telegram],
            customer_platforms: vec![Platform::Telegram, Platform::Discord],
            ..HubConfig::default()
        },
    );
    Desk { app, recorder, hub }
}

async fn start_sqlite() -> Desk {
    start(TestDb::sqlite(), Config::default(), Arc::new(SystemClock)).await
}

async fn add_agent(store: &Store, name: &str, admin: bool) -> i64 {
    agent::add(
        store,
        &SystemClock,
        name,
        &format!("{name}@example.com"),
        admin,
        Some(PASSWORD),
    )
    .await
    .expect("agent added")
    .agent
    .id
}

/// A customer writes; returns the ticket number.
async fn customer_writes(hub: &Hub, platform: Platform, who: &str, text: &str) -> i64 {
    let ingested = hub
        .ingest(Inbound::Customer(CustomerMessage {
            platform,
            external_message_id: Some(uuid::Uuid::new_v4().to_string()),
            customer: PlatformUser {
                external_id: format!("id-{who}"),
                display_name: who.to_string(),
                language: None,
            },
            conversation: format!("chat-{who}"),
            subject: None,
            text: text.to_string(),
            attachments: Vec::new(),
        }))
        .await
        .expect("customer message stored");
    match ingested {
        Ingested::Customer { ticket_number, .. } => ticket_number,
        other => panic!("not a customer message: {other:?}"),
    }
}

async fn signed_in(app: &TestApp, name: &str) -> ConsoleClient {
    let mut console = ConsoleClient::new(&app.url(""));
    let page = console
        .sign_in(&format!("{name}@example.com"), PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    console
}

async fn customer_posts(recorder: &Recorder) -> Vec<String> {
    recorder
        .sent()
        .into_iter()
        .filter_map(|o| match o {
            Outbound::CustomerPost { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

async fn wait_for_customer_post(recorder: &Recorder, text: &str) -> bool {
    for _ in 0..100 {
        if customer_posts(recorder).await.iter().any(|t| t == text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn an_agent_added_from_the_command_line_signs_in_and_out() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut console = ConsoleClient::new(&desk.app.url(""));

    let before = console.get("/console/tickets").await;
    assert_eq!(before.status, StatusCode::SEE_OTHER);
    assert_eq!(before.location.as_deref(), Some("/console/sign-in"));

    let wrong = console
        .sign_in("anna@example.com", "not the password")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong email or password"));
    let unknown = console.sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(!console.cookies.contains_key("relaydesk_console"));

    let ok = console.sign_in("ANNA@example.com", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_deref(), Some("/console"));
    let session_cookie = ok
        .set_cookies
        .iter()
        .find(|c| c.starts_with("relaydesk_console="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(!session_cookie.contains("Secure"), "{session_cookie}");

    let home = console.get("/console").await;
    assert_eq!(home.location.as_deref(), Some("/console/tickets"));
    let list = console.get("/console/tickets").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("anna"));
    assert!(list.body.contains("Unassigned"));

    let csrf = list.csrf().expect("token");
    let out = console.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/console/sign-in"));
    let after = console.get("/console/tickets").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session ended");
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_configured() {
    let mut config = Config::default();
    config.console.secure_cookie = true;
    let desk = start(TestDb::sqlite(), config, Arc::new(SystemClock)).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut console = ConsoleClient::new(&desk.app.url(""));
    let ok = console.sign_in("anna@example.com", PASSWORD).await;
    let cookie = ok
        .set_cookies
        .iter()
        .find(|c| c.starts_with("relaydesk_console="))
        .expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let clock = FakeClock::at(Utc::now());
    let mut config = Config::default();
    config.console.max_failed_sign_ins = 3;
    config.console.lockout_minutes = 15;
    let desk = start(TestDb::sqlite(), config, Arc::new(clock.clone())).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut console = ConsoleClient::new(&desk.app.url(""));
    for _ in 0..3 {
        let wrong = console
            .sign_in("anna@example.com", "guess guess guess")
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = console.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("locked"));
    assert!(!console.cookies.contains_key("relaydesk_console"));

    clock.advance(chrono::Duration::minutes(14));
    let still = console.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);

    clock.advance(chrono::Duration::minutes(2));
    let ok = console.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let mut tx = desk.app.store.begin().await.expect("tx");
    let lock = tx
        .sign_in_locked_until("anna@example.com", "127.0.0.1", clock.now_ms())
        .await
        .expect("query");
    assert_eq!(lock, None);
    tx.rollback().await.expect("rollback");

    // Locked again, an admin lifts the lock at once.
    let mut console = ConsoleClient::new(&desk.app.url(""));
    for _ in 0..3 {
        console
            .sign_in("anna@example.com", "guess guess guess")
            .await;
    }
    let locked = console.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    agent::unlock(&desk.app.store, "anna")
        .await
        .expect("unlocked");
    let ok = console.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert!(matches!(
        agent::unlock(&desk.app.store, "nobody").await,
        Err(agent::AgentCliError::UnknownAgent(_))
    ));
}

/// A desk behind a proxy at 127.0.0.1 that reports each client's address.
async fn start_behind_proxy(mut config: Config) -> Desk {
    config.web.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    start(TestDb::sqlite(), config, Arc::new(SystemClock)).await
}

#[tokio::test]
async fn one_address_guessing_does_not_lock_the_agent_out_elsewhere() {
    let mut config = Config::default();
    config.console.max_failed_sign_ins = 3;
    let desk = start_behind_proxy(config).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut attacker = ConsoleClient::new(&desk.app.url("")).from_address("203.0.113.5");
    for _ in 0..3 {
        attacker
            .sign_in("anna@example.com", "guess guess guess")
            .await;
    }
    let refused = attacker.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the guesser is locked"
    );

    let mut anna = ConsoleClient::new(&desk.app.url("")).from_address("198.51.100.7");
    let ok = anna.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(
        ok.status,
        StatusCode::SEE_OTHER,
        "anna elsewhere: {}",
        ok.body
    );
}

#[tokio::test]
async fn guessing_from_many_addresses_locks_the_account_until_an_admin_unlocks_it() {
    let mut config = Config::default();
    config.console.max_failed_sign_ins = 3;
    config.console.max_failed_sign_ins_per_account = 4;
    let desk = start_behind_proxy(config).await;
    add_agent(&desk.app.store, "anna", false).await;
    add_agent(&desk.app.store, "root", true).await;
    for address in ["203.0.113.1", "203.0.113.2"] {
        let mut attacker = ConsoleClient::new(&desk.app.url("")).from_address(address);
        for _ in 0..2 {
            let wrong = attacker
                .sign_in("anna@example.com", "guess guess guess")
                .await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        }
    }
    let mut anna = ConsoleClient::new(&desk.app.url("")).from_address("198.51.100.7");
    let locked = anna.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );

    // An admin lifts it on the Agents page.
    let mut admin = ConsoleClient::new(&desk.app.url("")).from_address("198.51.100.9");
    let signed = admin.sign_in("root@example.com", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let csrf = admin.session_csrf().await;
    let unlocked = admin
        .post(
            "/console/agents",
            &[("csrf", &csrf), ("action", "unlock"), ("name", "anna")],
        )
        .await;
    assert_eq!(unlocked.status, StatusCode::OK, "{}", unlocked.body);
    let ok = anna.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn one_address_trying_many_accounts_is_locked() {
    let mut config = Config::default();
    config.console.max_failed_sign_ins_per_address = 4;
    let desk = start_behind_proxy(config).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut sprayer = ConsoleClient::new(&desk.app.url("")).from_address("203.0.113.8");
    for who in ["a", "b", "c", "d"] {
        sprayer
            .sign_in(&format!("{who}@example.com"), "Winter2026!")
            .await;
    }
    let refused = sprayer.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    let mut other = ConsoleClient::new(&desk.app.url("")).from_address("203.0.113.9");
    let ok = other.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn unknown_and_known_emails_get_the_same_answers() {
    let mut config = Config::default();
    config.console.max_failed_sign_ins = 2;
    let desk = start_behind_proxy(config).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut answers = Vec::new();
    for (email, address) in [
        ("anna@example.com", "203.0.113.20"),
        ("nobody@example.com", "203.0.113.21"),
    ] {
        let mut client = ConsoleClient::new(&desk.app.url("")).from_address(address);
        let mut seen = Vec::new();
        for _ in 0..3 {
            let page = client.sign_in(email, "guess guess guess").await;
            // The form echoes the email typed and carries this browser's form token; apart
            // from those the pages must be the same.
            let mut body = page.body.replace(email, "EMAIL");
            if let Some(token) = page.csrf() {
                body = body.replace(&token, "TOKEN");
            }
            seen.push((page.status, body));
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1]);
    let statuses: Vec<_> = answers[0].iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn wrong_current_passwords_on_a_password_change_end_the_session() {
    let mut config = Config::default();
    config.console.max_failed_sign_ins = 3;
    let desk = start(TestDb::sqlite(), config, Arc::new(SystemClock)).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut console = signed_in(&desk.app, "anna").await;
    let csrf = console.session_csrf().await;
    let change = |current: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("current", current.to_string()),
            ("new", "a brand new passphrase".to_string()),
            ("repeat", "a brand new passphrase".to_string()),
        ]
    };
    for _ in 0..2 {
        let form = change("guess guess guess");
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let wrong = console.post("/console/password", &fields).await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.body);
    }
    let form = change("guess guess guess");
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let third = console.post("/console/password", &fields).await;
    assert_eq!(third.status, StatusCode::SEE_OTHER);
    assert_eq!(third.location.as_deref(), Some("/console/sign-in"));
    let after = console.get("/console/tickets").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session ended");
    // The password is unchanged, and signing in again from here waits for the lock.
    let again = console.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn signing_out_ends_the_live_event_stream() {
    let mut config = Config::default();
    // The safety-net re-read is far away: only the sign-out can end the stream in time.
    config.console.refresh_seconds = 600;
    let desk = start(TestDb::sqlite(), config, Arc::new(SystemClock)).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut console = signed_in(&desk.app, "anna").await;
    let mut stream = console.open("/console/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    let csrf = console.session_csrf().await;
    let out = console.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while stream.chunk().await.expect("the stream reads").is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream ended with the session");
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_are_refused() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let number = customer_writes(&desk.hub, Platform::Telegram, "Carla", "help please").await;

    // Sign-in itself: no token, or a token that is not the form's cookie.
    let mut console = ConsoleClient::new(&desk.app.url(""));
    let bare = console
        .post(
            "/console/sign-in",
            &[("email", "anna@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    console.get("/console/sign-in").await;
    let forged = console
        .post(
            "/console/sign-in",
            &[
                ("email", "anna@example.com"),
                ("password", PASSWORD),
                ("csrf", "0000"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let mut console = signed_in(&desk.app, "anna").await;
    let path = format!("/console/tickets/{number}/actions");
    let missing = console
        .post(&path, &[("action", "reply"), ("text", "sneaky")])
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = console
        .post(
            &path,
            &[("csrf", "not-it"), ("action", "reply"), ("text", "sneaky")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let out = console.post("/console/sign-out", &[("csrf", "")]).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN);

    let mut tx = desk.app.store.begin().await.expect("tx");
    let ticket = tx
        .ticket_by_number(number)
        .await
        .expect("query")
        .expect("ticket");
    let messages = tx.messages(ticket.id).await.expect("messages");
    assert!(
        messages.iter().all(|m| m.body != "sneaky"),
        "nothing was sent"
    );
    drop(tx);
    assert_eq!(
        console.get("/console/tickets").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn every_page_needs_a_session() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let number = customer_writes(&desk.hub, Platform::Telegram, "Carla", "hello").await;
    let mut stranger = ConsoleClient::new(&desk.app.url(""));
    stranger
        .cookies
        .insert("relaydesk_console".into(), "rds_forged".into());
    for path in [
        "/console/tickets".to_string(),
        "/console/tickets?view=all".to_string(),
        format!("/console/tickets/{number}"),
        format!("/console/tickets/{number}/conversation"),
        format!("/console/tickets/{number}/events"),
        format!("/console/tickets/{number}/transcript?format=txt"),
        "/console/canned".to_string(),
    ] {
        let page = stranger.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location.as_deref(), Some("/console/sign-in"), "{path}");
        assert!(!page.body.contains("hello"), "{path}");
    }
    let post = stranger
        .post(
            &format!("/console/tickets/{number}/actions"),
            &[("csrf", "x"), ("action", "close"), ("text", "")],
        )
        .await;
    assert_eq!(post.status, StatusCode::SEE_OTHER);
    let mut tx = desk.app.store.begin().await.expect("tx");
    let ticket = tx.ticket_by_number(number).await.expect("q").expect("t");
    assert!(ticket.status.is_active(), "the ticket was not closed");
}

async fn reply_reaches_the_customer(db: TestDb) {
    let desk = start(db, Config::default(), Arc::new(SystemClock)).await;
    add_agent(&desk.app.store, "anna", false).await;
    let number = customer_writes(
        &desk.hub,
        Platform::Telegram,
        "Carla <b>",
        "My <script>alert(1)</script> order is late",
    )
    .await;
    let mut console = signed_in(&desk.app, "anna").await;

    let list = console.get("/console/tickets?view=unassigned").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list
        .body
        .contains(&format!("href=\"/console/tickets/{number}\"")));
    assert!(list.body.contains("Carla &lt;b&gt;"), "names are text");

    let page = console.get(&format!("/console/tickets/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("My &lt;script&gt;alert(1)&lt;/script&gt; order is late"),
        "customer text is escaped: {}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(
        page.body
            .contains("<span class=\"visually-hidden\">telegram</span></span> Carla &lt;b&gt;"),
        "identities, each with its channel: {}",
        page.body
    );

    let reply = console.action(number, "reply", "On its way today").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        reply.location.as_deref(),
        Some(format!("/console/tickets/{number}").as_str())
    );
    assert!(
        wait_for_customer_post(&desk.recorder, "On its way today").await,
        "the reply reached the customer's Telegram chat: {:?}",
        desk.recorder.sent()
    );

    let note = console.action(number, "note", "VIP customer").await;
    assert_eq!(note.status, StatusCode::SEE_OTHER);
    let fragment = console
        .get(&format!("/console/tickets/{number}/conversation"))
        .await;
    assert_eq!(fragment.status, StatusCode::OK);
    let reply_at = fragment.body.find("On its way today").expect("reply shown");
    let note_at = fragment.body.find("VIP customer").expect("note shown");
    let customer_at = fragment.body.find("order is late").expect("customer shown");
    assert!(customer_at < reply_at && reply_at < note_at, "in order");
    assert!(fragment.body.contains("message note"));
    assert!(fragment.body.contains("Internal note"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !customer_posts(&desk.recorder)
            .await
            .iter()
            .any(|t| t.contains("VIP customer")),
        "notes never reach the customer"
    );
    desk.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_console_reply_reaches_the_customer_on_sqlite() {
    reply_reaches_the_customer(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_console_reply_reaches_the_customer_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        reply_reaches_the_customer(db).await;
    }
}

async fn ticket_state(store: &Store, number: i64) -> relaydesk_storage::Ticket {
    let mut tx = store.begin().await.expect("tx");
    tx.ticket_by_number(number)
        .await
        .expect("query")
        .expect("ticket")
}

async fn actions_as_the_signed_in_agent(db: TestDb) {
    let desk = start(db, Config::default(), Arc::new(SystemClock)).await;
    let anna = add_agent(&desk.app.store, "anna", false).await;
    let bert = add_agent(&desk.app.store, "bert", false).await;
    add_agent(&desk.app.store, "root", true).await;
    let first = customer_writes(&desk.hub, Platform::Telegram, "Carla", "first problem").await;
    let second = customer_writes(&desk.hub, Platform::Discord, "Dave", "second problem").await;
    let mut console = signed_in(&desk.app, "anna").await;
    let store = &desk.app.store;

    let ok = |page: relaydesk_tests::console_client::Page| {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    };
    // Without canned replies there is no canned-reply picker.
    let page = console.get(&format!("/console/tickets/{first}")).await;
    assert!(!page.body.contains("data-action=\"canned\""));
    relaydesk::cli::canned::run(
        store,
        &SystemClock,
        relaydesk::cli::canned::CannedCommand::Add {
            name: "thanks".into(),
            text: "Thanks, {customer.first_name}!".into(),
            language: None,
        },
    )
    .await
    .expect("canned reply added");

    // Carla writes about a second problem: now /split has a message to start from.
    assert_eq!(
        customer_writes(
            &desk.hub,
            Platform::Telegram,
            "Carla",
            "Also, my invoice is wrong"
        )
        .await,
        first
    );
    // The page offers a form for every catalogue command that changes an open, unassigned
    // ticket, each with its argument's field; /untag sits beside tags, /unassign and /reopen
    // show when they apply, and the commands that only show something are on the page already.
    let page = console.get(&format!("/console/tickets/{first}")).await;
    assert!(page
        .body
        .contains("<option value=\"thanks\">thanks</option>"));
    assert!(page
        .body
        .contains("<option value=\"2\">2 · Also, my invoice is wrong</option>"));
    for spec in relaydesk_desk::CATALOGUE {
        let form = format!("data-action=\"{}\"", spec.name);
        let expected = !spec.shows_only
            && spec.scope == relaydesk_desk::Scope::Ticket
            && !["untag", "unassign", "reopen"].contains(&spec.name);
        assert_eq!(page.body.contains(&form), expected, "/{}", spec.name);
        if let (true, Some(arg)) = (expected, spec.arg) {
            let at = page.body.find(&form).expect("form");
            let end = page.body[at..].find("</form>").expect("form end") + at;
            assert!(
                page.body[at..end].contains(&format!("name=\"{}\"", arg.name)),
                "/{} has no {} field",
                spec.name,
                arg.name
            );
        }
    }

    ok(console.action(first, "claim", "").await);
    assert_eq!(ticket_state(store, first).await.assignee_id, Some(anna));
    let mine = console.get("/console/tickets?view=mine").await;
    assert!(mine
        .body
        .contains(&format!("href=\"/console/tickets/{first}\"")));
    assert!(!mine
        .body
        .contains(&format!("href=\"/console/tickets/{second}\"")));

    ok(console.action(first, "assign", "bert").await);
    assert_eq!(ticket_state(store, first).await.assignee_id, Some(bert));
    ok(console.action(first, "unassign", "").await);
    assert_eq!(ticket_state(store, first).await.assignee_id, None);

    ok(console.action(first, "priority", "urgent").await);
    assert_eq!(
        ticket_state(store, first).await.priority,
        relaydesk_storage::Priority::Urgent
    );

    ok(console.action(first, "canned", "thanks").await);
    assert!(wait_for_customer_post(&desk.recorder, "Thanks, Carla!").await);
    let unknown_canned = console.action(first, "canned", "thank").await;
    assert_eq!(unknown_canned.status, StatusCode::NOT_FOUND);
    assert!(unknown_canned.body.contains("Did you mean: thanks?"));

    ok(console.action(first, "tag", "billing").await);
    let page = console.get(&format!("/console/tickets/{first}")).await;
    assert!(page
        .body
        .contains("<span class=\"badge tag\">billing</span>"));
    ok(console.action(first, "untag", "billing").await);
    let id = ticket_state(store, first).await.id;
    let mut tx = store.begin().await.expect("tx");
    assert!(tx.tags(id).await.expect("tags").is_empty());
    drop(tx);

    ok(console.action(first, "close", "solved").await);
    let closed = ticket_state(store, first).await;
    assert_eq!(closed.status, relaydesk_storage::TicketStatus::Closed);
    assert_eq!(closed.close_reason.as_deref(), Some("solved"));
    let closed_view = console.get("/console/tickets?view=closed").await;
    assert!(closed_view
        .body
        .contains(&format!("href=\"/console/tickets/{first}\"")));
    let transcript = console
        .get(&format!("/console/tickets/{first}/transcript?format=txt"))
        .await;
    assert_eq!(transcript.status, StatusCode::OK);
    assert!(
        transcript.body.contains("first problem"),
        "{}",
        transcript.body
    );
    assert!(
        transcript.body.contains("Thanks, Carla!"),
        "{}",
        transcript.body
    );
    ok(console.action(first, "reopen", "").await);
    assert!(ticket_state(store, first).await.status.is_active());

    // Splitting at message 2 opens a new ticket with it; each page links to the other.
    ok(console.action(first, "split", "2").await);
    let split = first.max(second) + 1;
    let page = console.get(&format!("/console/tickets/{first}")).await;
    assert!(page
        .body
        .contains(&format!("split off: <a href=\"/console/tickets/{split}\">")));
    let moved = "<div class=\"body\">Also, my invoice is wrong</div>";
    assert!(!page.body.contains(moved), "the message left #{first}");
    let page = console.get(&format!("/console/tickets/{split}")).await;
    assert!(page
        .body
        .contains(&format!("split from <a href=\"/console/tickets/{first}\">")));
    assert!(page.body.contains(moved));
    let refused = console.action(first, "split", "1").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Merging is for admins: refused for anna, with the reason on the page.
    let refused = console.action(second, "merge", &first.to_string()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("role=\"alert\""));
    assert!(ticket_state(store, second).await.status.is_active());

    let bad = console.action(first, "assign", "").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = console.action(first, "explode", "").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = console.action(first, "assign", "nobody-at-all").await;
    assert!(nobody.status.is_client_error(), "{}", nobody.status);
    let missing = console.action(99_999, "claim", "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        console.get("/console/tickets/99999").await.status,
        StatusCode::NOT_FOUND
    );

    let mut admin = signed_in(&desk.app, "root").await;
    // Another customer's ticket is never merged in, even by an admin.
    let across = admin.action(second, "merge", &first.to_string()).await;
    assert_eq!(across.status, StatusCode::CONFLICT, "{}", across.body);
    assert!(
        across.body.contains("different customers"),
        "{}",
        across.body
    );
    assert!(ticket_state(store, second).await.status.is_active());
    // The ticket split off Carla's conversation goes back into it.
    let merged = admin.action(split, "merge", &first.to_string()).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    assert_eq!(
        ticket_state(store, split).await.status,
        relaydesk_storage::TicketStatus::Merged
    );
    let source = admin.get(&format!("/console/tickets/{split}")).await;
    assert!(
        source.body.contains(&format!(
            "merged into <a href=\"/console/tickets/{first}\">#{first}</a>"
        )),
        "{}",
        source.body
    );
    let target = admin.get(&format!("/console/tickets/{first}")).await;
    assert!(target.body.contains(moved), "merged conversation");
    desk.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_runs_as_the_signed_in_agent_on_sqlite() {
    actions_as_the_signed_in_agent(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_runs_as_the_signed_in_agent_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        actions_as_the_signed_in_agent(db).await;
    }
}

fn count_of(body: &str, view: &str) -> i64 {
    let marker = format!("data-view=\"{view}\"");
    let at = body.find(&marker).expect("view link");
    let rest = &body[at..];
    let start = rest.find("class=\"count\">").expect("count") + "class=\"count\">".len();
    let end = rest[start..].find('<').expect("count end") + start;
    rest[start..end].parse().expect("a number")
}

fn shows(body: &str, number: i64) -> bool {
    body.contains(&format!("data-ticket=\"{number}\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn views_count_filter_sort_and_search() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let a = customer_writes(&desk.hub, Platform::Telegram, "Alice", "printer on fire").await;
    let b = customer_writes(&desk.hub, Platform::Discord, "Bob", "refund for order 77").await;
    let c = customer_writes(&desk.hub, Platform::Telegram, "Cleo", "password reset").await;
    let mut console = signed_in(&desk.app, "anna").await;
    let ok = |page: relaydesk_tests::console_client::Page| {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    };
    ok(console.action(b, "claim", "").await);
    ok(console.action(b, "priority", "urgent").await);
    ok(console.action(c, "tag", "account").await);
    ok(console.action(c, "close", "").await);
    // Anna is in the billing team; ticket a belongs to it.
    agent::join_team(&desk.app.store, &SystemClock, "anna", "billing")
        .await
        .expect("joined");
    let mut tx = desk.app.store.begin().await.expect("tx");
    let billing = tx.ensure_team("billing", 0).await.expect("team");
    let ticket_a = tx.ticket_by_number(a).await.expect("q").expect("a");
    tx.set_team(ticket_a.id, Some(billing), SystemClock.now_ms())
        .await
        .expect("team set");
    tx.commit().await.expect("commit");

    let list = console.get("/console/tickets").await;
    assert_eq!(count_of(&list.body, "unassigned"), 1);
    assert_eq!(count_of(&list.body, "mine"), 1);
    assert_eq!(count_of(&list.body, "teams"), 1);
    assert_eq!(count_of(&list.body, "open"), 2);
    assert_eq!(count_of(&list.body, "due"), 0);
    assert_eq!(count_of(&list.body, "closed"), 1);
    assert_eq!(count_of(&list.body, "all"), 3);
    assert!(shows(&list.body, a) && !shows(&list.body, b) && !shows(&list.body, c));

    let teams = console.get("/console/tickets?view=teams").await;
    assert!(shows(&teams.body, a) && !shows(&teams.body, b));

    let by_channel = console
        .get("/console/tickets?view=open&channel=discord")
        .await;
    assert!(shows(&by_channel.body, b) && !shows(&by_channel.body, a));
    let by_priority = console
        .get("/console/tickets?view=open&priority=urgent")
        .await;
    assert!(shows(&by_priority.body, b) && !shows(&by_priority.body, a));
    let by_tag = console.get("/console/tickets?view=all&tag=account").await;
    assert!(shows(&by_tag.body, c) && !shows(&by_tag.body, a));
    let mut tx = desk.app.store.begin().await.expect("tx");
    let anna = tx
        .agent_by_email("anna@example.com")
        .await
        .expect("q")
        .expect("anna");
    drop(tx);
    let by_assignee = console
        .get(&format!("/console/tickets?view=all&assignee={}", anna.id))
        .await;
    assert!(shows(&by_assignee.body, b) && !shows(&by_assignee.body, c));

    let by_priority_sort = console
        .get("/console/tickets?view=open&sort=priority")
        .await;
    let (pos_a, pos_b) = (
        by_priority_sort
            .body
            .find(&format!("data-ticket=\"{a}\""))
            .expect("a"),
        by_priority_sort
            .body
            .find(&format!("data-ticket=\"{b}\""))
            .expect("b"),
    );
    assert!(pos_b < pos_a, "urgent first");
    let by_due = console.get("/console/tickets?view=open&sort=due").await;
    assert_eq!(by_due.status, StatusCode::OK);

    let by_text = console.get("/console/tickets?view=all&q=printer").await;
    assert!(shows(&by_text.body, a) && !shows(&by_text.body, b));
    let by_name = console.get("/console/tickets?view=all&q=cleo").await;
    assert!(shows(&by_name.body, c) && !shows(&by_name.body, a));
    let by_number = console
        .get(&format!("/console/tickets?view=all&q=%23{b}"))
        .await;
    assert!(shows(&by_number.body, b) && !shows(&by_number.body, a));

    for bad in [
        "/console/tickets?view=everything",
        "/console/tickets?sort=random",
        "/console/tickets?channel=fax",
        "/console/tickets?priority=meh",
        "/console/tickets?cursor=zz",
    ] {
        assert_eq!(
            console.get(bad).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

/// Reads the event stream until a `changed` event arrives.
async fn next_changed(response: &mut reqwest::Response) -> bool {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(15), response.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                seen.push_str(&String::from_utf8_lossy(&bytes));
                if seen.contains("event: changed") {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_open_ticket_hears_about_changes() {
    let mut config = Config::default();
    config.console.refresh_seconds = 1;
    let desk = start(TestDb::sqlite(), config, Arc::new(SystemClock)).await;
    add_agent(&desk.app.store, "anna", false).await;
    let number = customer_writes(&desk.hub, Platform::Telegram, "Carla", "hello").await;
    let mut console = signed_in(&desk.app, "anna").await;
    let cookie = format!(
        "relaydesk_console={}",
        console.cookies.get("relaydesk_console").expect("session")
    );
    let http = reqwest::Client::new();
    let open = || async {
        http.get(desk.app.url(&format!("/console/tickets/{number}/events")))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("events answer")
    };

    // A change made through this process arrives on the change feed.
    let mut events = open().await;
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream")));
    let reply = console.action(number, "reply", "live reply").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(next_changed(&mut events).await, "heard the console reply");

    // A customer message stored by another instance is noticed by the periodic re-read.
    let mut events = open().await;
    customer_writes(&desk.hub, Platform::Telegram, "Carla", "are you there?").await;
    assert!(next_changed(&mut events).await, "heard the other instance");
    let fragment = console
        .get(&format!("/console/tickets/{number}/conversation"))
        .await;
    assert!(fragment.body.contains("are you there?"));
    let page = console.get(&format!("/console/tickets/{number}")).await;
    assert!(page.body.contains("src=\"/console/assets/live.js\""));
    let script = console.get("/console/assets/live.js").await;
    assert!(script.body.contains("new EventSource(box.dataset.events)"));
}

async fn save_sla(store: &Store, number: i64, warn_min: i64, due_min: i64) {
    use relaydesk_storage::sla::{Due, TicketSla};
    let now = Utc::now();
    let mut tx = store.begin().await.expect("tx");
    let ticket = tx.ticket_by_number(number).await.expect("q").expect("t");
    let due_at = now + chrono::Duration::minutes(due_min);
    let sla = TicketSla {
        ticket_id: ticket.id,
        policy: Some("standard".into()),
        waiting_since: Some(ticket.created_at),
        first_response: Due {
            warn_at: Some(now + chrono::Duration::minutes(warn_min)),
            due_at: Some(due_at),
        },
        next_response: Due::default(),
        resolution: Due::default(),
        next_due_at: Some(due_at),
        ..TicketSla::default()
    };
    tx.save_ticket_sla(&sla, now.timestamp_millis())
        .await
        .expect("saved");
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_due_view_shows_breached_and_due_soon_tickets() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let late = customer_writes(&desk.hub, Platform::Telegram, "Lena", "still waiting").await;
    let soon = customer_writes(&desk.hub, Platform::Telegram, "Sam", "any news").await;
    let calm = customer_writes(&desk.hub, Platform::Telegram, "Cal", "no rush").await;
    save_sla(&desk.app.store, late, -60, -10).await;
    save_sla(&desk.app.store, soon, -5, 20).await;
    save_sla(&desk.app.store, calm, 60, 120).await;
    let mut console = signed_in(&desk.app, "anna").await;

    let due = console.get("/console/tickets?view=due").await;
    assert_eq!(due.status, StatusCode::OK);
    assert_eq!(count_of(&due.body, "due"), 2);
    assert!(shows(&due.body, late) && shows(&due.body, soon) && !shows(&due.body, calm));
    let by_due = console.get("/console/tickets?view=open&sort=due").await;
    let at = |n: i64| {
        by_due
            .body
            .find(&format!("data-ticket=\"{n}\""))
            .expect("listed")
    };
    assert!(
        at(late) < at(soon) && at(soon) < at(calm),
        "earliest due first"
    );
    // Each row carries its SLA chip, the customer's avatar and the channel's icon.
    let row = |n: i64| {
        let start = at(n);
        let end = by_due.body[start..]
            .find("</tr>")
            .map_or(by_due.body.len(), |e| start + e);
        by_due.body[start..end].to_string()
    };
    assert!(row(late).contains("data-sla=\"breached\""), "{}", row(late));
    assert!(row(soon).contains("data-sla=\"soon\""), "{}", row(soon));
    assert!(row(calm).contains("data-sla=\"running\""), "{}", row(calm));
    assert!(row(late).contains(">L</span>Lena"), "{}", row(late));
    assert!(row(late).contains("class=\"avatar hue-"), "{}", row(late));
    assert!(row(late).contains("class=\"channel\" title=\"telegram\""));

    let page = console.get(&format!("/console/tickets/{late}")).await;
    assert!(page.body.contains("First response"));
    assert!(page.body.contains("badge breached"), "{}", page.body);
    let page = console.get(&format!("/console/tickets/{soon}")).await;
    assert!(page.body.contains("badge due-soon"));
    let page = console.get(&format!("/console/tickets/{calm}")).await;
    assert!(page.body.contains("badge on-time"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_views_page_on_with_a_cursor() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut numbers = Vec::new();
    for i in 0..55 {
        let who = format!("customer{i}");
        numbers.push(customer_writes(&desk.hub, Platform::Telegram, &who, "hello").await);
    }
    let mut console = signed_in(&desk.app, "anna").await;
    let first = console.get("/console/tickets?view=open").await;
    assert_eq!(count_of(&first.body, "open"), 55);
    let on_first: Vec<i64> = numbers
        .iter()
        .copied()
        .filter(|n| shows(&first.body, *n))
        .collect();
    assert_eq!(on_first.len(), 50);
    let marker = "rel=\"next\"";
    let at = first.body.find(marker).expect("a next-page link");
    let href_start = first.body[..at].rfind("href=\"").expect("href") + "href=\"".len();
    let href_end = first.body[href_start..].find('"').expect("end") + href_start;
    let next = first.body[href_start..href_end].replace("&amp;", "&");
    let second = console.get(&next).await;
    assert_eq!(second.status, StatusCode::OK, "{next}");
    let on_second: Vec<i64> = numbers
        .iter()
        .copied()
        .filter(|n| shows(&second.body, *n))
        .collect();
    assert_eq!(on_second.len(), 5);
    assert!(on_second.iter().all(|n| !on_first.contains(n)));
    assert!(!second.body.contains(marker), "the last page");
}

async fn change_password(
    console: &mut ConsoleClient,
    csrf: &str,
    (current, new, repeat): (&str, &str, &str),
) -> relaydesk_tests::console_client::Page {
    console
        .post(
            "/console/password",
            &[
                ("csrf", csrf),
                ("current", current),
                ("new", new),
                ("repeat", repeat),
            ],
        )
        .await
}

#[tokio::test]
async fn an_agent_changes_the_one_time_password() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut console = signed_in(&desk.app, "anna").await;
    let form = console.get("/console/password").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.csrf().expect("token");
    let no_token = console
        .post(
            "/console/password",
            &[
                ("current", PASSWORD),
                ("new", "a new long password"),
                ("repeat", "a new long password"),
            ],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let wrong = change_password(
        &mut console,
        &csrf,
        (
            "not it at all",
            "a new long password",
            "a new long password",
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let differ = change_password(
        &mut console,
        &csrf,
        (PASSWORD, "a new long password", "another long one"),
    )
    .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = change_password(&mut console, &csrf, (PASSWORD, "short", "short")).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = change_password(
        &mut console,
        &csrf,
        (PASSWORD, "a new long password", "a new long password"),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Your password is changed."));

    let mut fresh = ConsoleClient::new(&desk.app.url(""));
    let old = fresh.sign_in("anna@example.com", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = fresh
        .sign_in("anna@example.com", "a new long password")
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

/// Polls the alerts page until it shows `n` posts.
async fn alerts_shown(console: &mut ConsoleClient, n: usize) -> String {
    for _ in 0..500 {
        let page = console.get("/console/alerts").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if page.body.matches("class=\"message alert\"").count() >= n {
            return page.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the alerts page never showed {n} posts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sla_warnings_for_a_console_team_show_on_the_alerts_page() {
    use chrono::TimeZone;
    let clock = FakeClock::at(
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .single()
            .expect("a valid moment"),
    );
    let sla: relaydesk::sla::SlaConfig = serde_json::from_value(serde_json::json!({
        "scan_interval": "20ms",
        "policy": [{ "name": "quick", "first_response": "10m" }],
        "team": [{ "name": "support", "console_channel": "alerts", "summary_cron": "", "report_cron": "" }],
    }))
    .expect("a valid [sla] section");
    let rules = sla.rules().expect("valid rules");
    let config = Config {
        sla,
        ..Config::default()
    };
    // No chat channel at all: the console is the team's only channel.
    let app = spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        clock: Arc::new(clock.clone()),
        channels: Vec::new(),
    })
    .await;
    add_agent(&app.store, "anna", false).await;
    let customers = Hub::new(
        app.store.clone(),
        Arc::new(clock.clone()),
        HubConfig {
            sla: Arc::new(rules),
            ..HubConfig::default()
        },
    );
    let number = customer_writes(&customers, Platform::Api, "olga", "<b>help</b>").await;
    let mut console = signed_in(&app, "anna").await;
    let page = console.get("/console/alerts").await;
    assert!(page.body.contains("Nothing posted yet."), "{}", page.body);

    clock.advance(chrono::Duration::minutes(8));
    let body = alerts_shown(&mut console, 1).await;
    assert!(body.contains(&format!("#{number}")), "{body}");
    assert!(body.contains("first response due in 2m"), "{body}");
    clock.advance(chrono::Duration::minutes(3));
    let body = alerts_shown(&mut console, 2).await;
    assert!(body.contains("first response overdue by"), "{body}");
    // Each warning is posted once: later scans add nothing.
    clock.advance(chrono::Duration::minutes(30));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let page = console.get("/console/alerts").await;
    assert_eq!(page.body.matches("class=\"message alert\"").count(), 2);
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_console_answer_forbids_framing_sniffing_caching_and_foreign_code() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let number = customer_writes(&desk.hub, Platform::Telegram, "Alice", "printer on fire").await;
    let mut stranger = ConsoleClient::new(&desk.app.url(""));
    let sign_in = stranger.get("/console/sign-in").await;
    let mut console = signed_in(&desk.app, "anna").await;
    let mut pages = vec![("/console/sign-in".to_string(), sign_in)];
    for path in [
        "/console/tickets".to_string(),
        format!("/console/tickets/{number}"),
        format!("/console/tickets/{number}/conversation"),
        "/console/alerts".to_string(),
        "/console/password".to_string(),
        "/console/assets/console.css".to_string(),
        "/console/assets/live.js".to_string(),
    ] {
        let page = console.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        pages.push((path, page));
    }
    for (path, page) in &pages {
        let header = |name: &str| {
            page.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_string()
        };
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert_eq!(header("cache-control"), "no-store", "{path}");
        // The CSP allows no inline code: the pages carry none.
        if header("content-type").starts_with("text/html") {
            assert!(!page.body.contains("<style"), "{path}: inline style");
            assert!(
                !page.body.contains(" style=\""),
                "{path}: inline style attribute"
            );
            for (at, _) in page.body.match_indices("<script") {
                let tag_end = page.body[at..].find('>').expect("tag end") + at;
                assert!(
                    page.body[at..tag_end].contains(" src=\""),
                    "{path}: inline script"
                );
                assert!(
                    page.body[tag_end..].starts_with("></script>"),
                    "{path}: inline script"
                );
            }
        }
    }
    let ticket = &pages[2].1;
    assert!(ticket
        .body
        .contains("<script src=\"/console/assets/live.js\""));
    assert!(ticket
        .body
        .contains(&format!("data-events=\"/console/tickets/{number}/events\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_search_of_a_thousand_words_is_refused_with_the_limit() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut console = signed_in(&desk.app, "anna").await;
    let words = vec!["printer"; 1000].join("+");
    let page = console
        .get(&format!("/console/tickets?view=all&q={words}"))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(
        page.body.contains("A search may have at most 10 words."),
        "{}",
        page.body
    );
}

/// Submits the canned replies page's save form.
async fn save_canned(
    console: &mut ConsoleClient,
    csrf: &str,
    name: &str,
    language: &str,
    text: &str,
) -> relaydesk_tests::console_client::Page {
    console
        .post(
            "/console/canned",
            &[
                ("csrf", csrf),
                ("action", "save"),
                ("name", name),
                ("language", language),
                ("text", text),
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_manage_canned_replies_and_agents_read_them() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "root", true).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut admin = signed_in(&desk.app, "root").await;
    let csrf = admin.session_csrf().await;
    let page = admin.get("/console/canned").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No canned replies yet."));
    assert!(page.body.contains("data-action=\"save\""));

    let added = save_canned(
        &mut admin,
        &csrf,
        "Greeting",
        "",
        "Hello <b>{customer.first_name}</b>",
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let german = save_canned(
        &mut admin,
        &csrf,
        "greeting",
        "de",
        "Hallo {customer.first_name}",
    )
    .await;
    assert_eq!(german.status, StatusCode::SEE_OTHER, "{}", german.body);
    let bad = save_canned(&mut admin, &csrf, "two words", "", "x").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("is not a canned reply name"),
        "{}",
        bad.body
    );
    let empty = save_canned(&mut admin, &csrf, "blank", "", "  ").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Shown escaped, to every agent; only admins get the forms.
    let mut anna = signed_in(&desk.app, "anna").await;
    let listed = anna.get("/console/canned").await;
    assert!(listed
        .body
        .contains("Hello &lt;b&gt;{customer.first_name}&lt;/b&gt;"));
    assert!(listed.body.contains("Hallo {customer.first_name}"));
    assert!(!listed.body.contains("data-action=\"save\""));
    assert!(!listed.body.contains("data-remove="));
    let anna_csrf = anna.session_csrf().await;
    let refused = save_canned(&mut anna, &anna_csrf, "sneaky", "", "x").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let forged = save_canned(&mut admin, "forged", "sneaky", "", "x").await;
    assert!(forged.status.is_client_error());

    // Removing the German text leaves the other.
    let removed = admin
        .post(
            "/console/canned",
            &[
                ("csrf", csrf.as_str()),
                ("action", "remove"),
                ("name", "greeting"),
                ("language", "de"),
            ],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let mut tx = desk.app.store.begin().await.expect("tx");
    let left = tx.canned_replies().await.expect("canned replies");
    drop(tx);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].language, None);
    assert!(!left.iter().any(|r| r.name == "sneaky"));
    desk.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_marks_themselves_away_and_back_from_the_header() {
    let desk = start_sqlite().await;
    let anna = add_agent(&desk.app.store, "anna", false).await;
    let mut console = signed_in(&desk.app, "anna").await;
    let on_duty = |store: Store| async move {
        let mut tx = store.begin().await.expect("tx");
        let agent = tx.agent(anna).await.expect("agent");
        drop(tx);
        agent.on_duty
    };
    let page = console.get("/console/tickets").await;
    assert!(page.body.contains(">On duty</button>"), "{}", page.body);
    let forged = console
        .post(
            "/console/availability",
            &[("csrf", "forged"), ("on_duty", "false")],
        )
        .await;
    assert!(forged.status.is_client_error());
    assert!(on_duty(desk.app.store.clone()).await);

    let csrf = console.session_csrf().await;
    let away = console
        .post(
            "/console/availability",
            &[("csrf", &csrf), ("on_duty", "false")],
        )
        .await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert!(!on_duty(desk.app.store.clone()).await);
    assert!(console
        .get("/console/tickets")
        .await
        .body
        .contains(">Away</button>"));
    let back = console
        .post(
            "/console/availability",
            &[("csrf", &csrf), ("on_duty", "true")],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert!(on_duty(desk.app.store.clone()).await);
    desk.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_manage_faq_entries_and_agents_read_them() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "root", true).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut admin = signed_in(&desk.app, "root").await;
    let csrf = admin.session_csrf().await;
    let save = |keywords: &'static str, answer: &'static str| {
        vec![
            ("action", "save"),
            ("name", "Refund"),
            ("language", ""),
            ("keywords", keywords),
            ("question", "How do <refunds> work?"),
            ("answer", answer),
        ]
    };
    let mut form = save("refund, money back", "Within 5 days.");
    form.push(("csrf", csrf.as_str()));
    let saved = admin.post("/console/faq", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let mut bad = save(" , ", "Within 5 days.");
    bad.push(("csrf", csrf.as_str()));
    let refused = admin.post("/console/faq", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("needs keywords"), "{}", refused.body);

    let mut anna = signed_in(&desk.app, "anna").await;
    let page = anna.get("/console/faq").await;
    assert!(
        page.body.contains("How do &lt;refunds&gt; work?"),
        "{}",
        page.body
    );
    assert!(page.body.contains("refund, money back"));
    assert!(!page.body.contains("data-action=\"save\""));
    let anna_csrf = anna.session_csrf().await;
    let mut sneaky = save("x", "y");
    sneaky.push(("csrf", anna_csrf.as_str()));
    assert_eq!(
        anna.post("/console/faq", &sneaky).await.status,
        StatusCode::FORBIDDEN
    );

    let removed = admin
        .post(
            "/console/faq",
            &[
                ("csrf", csrf.as_str()),
                ("action", "remove"),
                ("name", "refund"),
                ("language", ""),
            ],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let mut tx = desk.app.store.begin().await.expect("tx");
    assert!(tx.faq_entries().await.expect("entries").is_empty());
    drop(tx);
    desk.app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn only_admins_manage_agents_and_the_rules_hold_through_the_page() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", true).await;
    add_agent(&desk.app.store, "bo", false).await;

    let mut plain = signed_in(&desk.app, "bo").await;
    assert_eq!(
        plain.get("/console/agents").await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = plain.session_csrf().await;
    let refused = plain
        .post(
            "/console/agents",
            &[("csrf", &csrf), ("action", "make-admin"), ("name", "bo")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut admin = signed_in(&desk.app, "anna").await;
    let page = admin.get("/console/agents").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf().expect("token");
    for (action, name, email, expected) in [
        (
            "create",
            "cleo",
            "not-an-address",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("create", "bo", "bo2@example.com", StatusCode::CONFLICT),
        ("disable", "anna", "", StatusCode::UNPROCESSABLE_ENTITY),
        ("disable", "nobody", "", StatusCode::NOT_FOUND),
        ("make-admin", "bo", "", StatusCode::OK),
    ] {
        let answer = admin
            .post(
                "/console/agents",
                &[
                    ("csrf", &csrf),
                    ("action", action),
                    ("name", name),
                    ("email", email),
                ],
            )
            .await;
        assert_eq!(answer.status, expected, "{action} {name}: {}", answer.body);
    }
    let mut tx = desk.app.store.begin().await.expect("begin");
    let bo = tx.agent_by_name("bo").await.expect("read").expect("bo");
    tx.rollback().await.expect("rollback");
    assert_eq!(bo.role, relaydesk_storage::Role::Admin);
    // Without the form's token nothing changes.
    let forged = admin
        .post(
            "/console/agents",
            &[("csrf", "forged"), ("action", "disable"), ("name", "bo")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn ticked_tickets_are_tagged_and_closed_together() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let a = customer_writes(&desk.hub, Platform::Telegram, "Ada", "printer").await;
    let b = customer_writes(&desk.hub, Platform::Discord, "Bert", "scanner").await;
    let c = customer_writes(&desk.hub, Platform::Telegram, "Cleo", "fax").await;
    let mut console = signed_in(&desk.app, "anna").await;
    let list = console.get("/console/tickets?view=all").await;
    assert!(
        list.body.contains("form=\"bulk\""),
        "the list has boxes to tick"
    );
    let csrf = list.csrf().expect("token");
    let (a_text, b_text) = (a.to_string(), b.to_string());
    let tagged = console
        .post(
            "/console/tickets/bulk",
            &[
                ("csrf", &csrf),
                ("action", "tag"),
                ("value", "hardware"),
                ("ticket", &a_text),
                ("ticket", &b_text),
            ],
        )
        .await;
    assert_eq!(tagged.status, StatusCode::OK, "{}", tagged.body);
    let closed = console
        .post(
            "/console/tickets/bulk",
            &[
                ("csrf", &csrf),
                ("action", "close"),
                ("ticket", &a_text),
                ("ticket", &b_text),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    for n in [a, b] {
        let ticket = ticket_state(&desk.app.store, n).await;
        assert_eq!(ticket.status, relaydesk_storage::TicketStatus::Closed);
        let mut tx = desk.app.store.begin().await.expect("begin");
        assert_eq!(tx.tags(ticket.id).await.expect("tags"), vec!["hardware"]);
        tx.rollback().await.expect("rollback");
    }
    assert_eq!(
        ticket_state(&desk.app.store, c).await.status,
        relaydesk_storage::TicketStatus::Open,
        "an unticked ticket is left alone"
    );
    // Closing them again: each refusal is named, nothing else changes.
    let again = console
        .post(
            "/console/tickets/bulk",
            &[("csrf", &csrf), ("action", "close"), ("ticket", &a_text)],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("0 done, 1 not done"), "{}", again.body);
    // Only the list's actions, and only with the form's token.
    let odd = console
        .post(
            "/console/tickets/bulk",
            &[
                ("csrf", &csrf),
                ("action", "merge"),
                ("value", "1"),
                ("ticket", &a_text),
            ],
        )
        .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    let c_text = c.to_string();
    let forged = console
        .post(
            "/console/tickets/bulk",
            &[("csrf", "forged"), ("action", "close"), ("ticket", &c_text)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        ticket_state(&desk.app.store, c).await.status,
        relaydesk_storage::TicketStatus::Open
    );
}

#[tokio::test]
async fn admins_see_channels_and_send_a_failed_send_again() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", true).await;
    add_agent(&desk.app.store, "bo", false).await;
    // The staff thread cannot be opened: the send is given up.
    desk.recorder
        .fail_next([relaydesk::hub::DeliveryError::Permanent(
            "the bot lacks a permission".into(),
        )]);
    customer_writes(&desk.hub, Platform::Telegram, "Ada", "printer").await;
    let mut failed = Vec::new();
    for _ in 0..100 {
        let mut tx = desk.app.store.begin().await.expect("begin");
        failed = tx.failed_outbox(10).await.expect("failed sends");
        tx.rollback().await.expect("rollback");
        if failed
            .iter()
            .any(|r| r.last_error.as_deref() == Some("the bot lacks a permission"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = failed
        .iter()
        .find(|r| r.last_error.as_deref() == Some("the bot lacks a permission"))
        .expect("the failed send");

    let mut plain = signed_in(&desk.app, "bo").await;
    assert_eq!(
        plain.get("/console/channels").await.status,
        StatusCode::FORBIDDEN
    );

    let mut admin = signed_in(&desk.app, "anna").await;
    let page = admin.get("/console/channels").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-channel=\"telegram\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("the bot lacks a permission"),
        "{}",
        page.body
    );
    let csrf = page.csrf().expect("token");
    let id = row.id.to_string();
    let again = admin
        .post("/console/channels", &[("csrf", &csrf), ("id", &id)])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    // It is queued (or sent) now: not failed, so not again.
    let twice = admin
        .post("/console/channels", &[("csrf", &csrf), ("id", &id)])
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    // Sent the second time round (the recorder failed only once): the thread is opened, and
    // the customer's message that failed for want of it goes out behind it.
    let mut settled = false;
    for _ in 0..100 {
        let mut tx = desk.app.store.begin().await.expect("begin");
        let failed_now = tx.failed_outbox(10).await.expect("failed sends");
        tx.rollback().await.expect("rollback");
        let sent = desk.recorder.sent();
        if failed_now.is_empty()
            && sent
                .iter()
                .any(|o| matches!(o, Outbound::OpenThread { .. }))
            && sent
                .iter()
                .any(|o| matches!(o, Outbound::ThreadPost { text, .. } if text.contains("printer")))
        {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut tx = desk.app.store.begin().await.expect("begin");
    let failed_now = tx.failed_outbox(10).await.expect("failed sends");
    tx.rollback().await.expect("rollback");
    assert!(
        settled,
        "{:?} row {:?} failed now {:?}",
        desk.recorder.sent(),
        row,
        failed_now
    );
}

/// Submits one of the teams page's forms.
async fn team_form(
    console: &mut ConsoleClient,
    csrf: &str,
    action: &str,
    team: &str,
    agent: &str,
) -> relaydesk_tests::console_client::Page {
    console
        .post(
            "/console/teams",
            &[
                ("csrf", csrf),
                ("action", action),
                ("team", team),
                ("agent", agent),
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_manage_teams_and_members_and_agents_see_them() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "root", true).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut admin = signed_in(&desk.app, "root").await;
    let csrf = admin.session_csrf().await;
    let page = admin.get("/console/teams").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No teams yet."), "{}", page.body);

    let added = team_form(&mut admin, &csrf, "add", "billing", "").await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let joined = team_form(&mut admin, &csrf, "add-member", "billing", "anna").await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    let ghost = team_form(&mut admin, &csrf, "add-member", "billing", "ghost").await;
    assert_eq!(ghost.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        ghost.body.contains("no agent named `ghost`"),
        "{}",
        ghost.body
    );

    // Every agent sees it; only admins get the forms and may change it.
    let mut anna = signed_in(&desk.app, "anna").await;
    let listed = anna.get("/console/teams").await;
    assert!(
        listed.body.contains("data-team=\"billing\""),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("anna"), "{}", listed.body);
    assert!(!listed.body.contains("data-action=\"add\""));
    let anna_csrf = anna.session_csrf().await;
    let refused = anna
        .post(
            "/console/teams",
            &[
                ("csrf", anna_csrf.as_str()),
                ("action", "add"),
                ("team", "sneaky"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let left = team_form(&mut admin, &csrf, "remove-member", "billing", "anna").await;
    assert_eq!(left.status, StatusCode::SEE_OTHER);
    let removed = team_form(&mut admin, &csrf, "remove", "billing", "").await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let mut tx = desk.app.store.begin().await.expect("tx");
    let teams = tx.teams().await.expect("teams");
    drop(tx);
    assert!(teams.is_empty(), "{teams:?}");
}

/// Submits one of the API tokens page's forms.
async fn token_form(
    console: &mut ConsoleClient,
    csrf: &str,
    fields: &[(&str, &str)],
) -> relaydesk_tests::console_client::Page {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    console.post("/console/tokens", &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_make_and_revoke_api_tokens_that_the_api_honours() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "root", true).await;
    add_agent(&desk.app.store, "anna", false).await;
    let mut admin = signed_in(&desk.app, "root").await;
    let csrf = admin.session_csrf().await;
    let page = admin.get("/console/tokens").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No API tokens yet."), "{}", page.body);

    let made = token_form(
        &mut admin,
        &csrf,
        &[
            ("action", "create"),
            ("name", "crm-sync"),
            ("agent", "anna"),
        ],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let start = made
        .body
        .find("value=\"rdk_")
        .expect("the token, shown once")
        + 7;
    let token: String = made.body[start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    assert_eq!(token.len(), 4 + 64, "{token}");

    // The token acts as anna on the API.
    let client = reqwest::Client::new();
    let api = |token: &str| {
        client
            .get(desk.app.url("/api/v1/tickets"))
            .bearer_auth(token.to_string())
            .send()
    };
    assert_eq!(api(&token).await.expect("answer").status(), StatusCode::OK);

    // Listed with its agent; never shown again.
    let listed = admin.get("/console/tokens").await;
    assert!(
        listed.body.contains("data-token=\"crm-sync\""),
        "{}",
        listed.body
    );
    assert!(!listed.body.contains(&token));

    // Bad input is named; a second token of the same name is refused.
    for (name, agent, problem) in [
        ("crm-sync", "anna", "already exists"),
        ("   ", "anna", "needs a name"),
        ("other", "ghost", "no agent named `ghost`"),
    ] {
        let refused = token_form(
            &mut admin,
            &csrf,
            &[("action", "create"), ("name", name), ("agent", agent)],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(refused.body.contains(problem), "{}", refused.body);
    }

    // A plain agent neither sees nor makes tokens; a form without the session's CSRF token
    // changes nothing.
    let mut anna = signed_in(&desk.app, "anna").await;
    assert_eq!(
        anna.get("/console/tokens").await.status,
        StatusCode::FORBIDDEN
    );
    let anna_csrf = anna.session_csrf().await;
    let refused = token_form(
        &mut anna,
        &anna_csrf,
        &[("action", "revoke"), ("name", "crm-sync")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let forged = token_form(
        &mut admin,
        "not-the-token",
        &[("action", "revoke"), ("name", "crm-sync")],
    )
    .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
    assert_eq!(api(&token).await.expect("answer").status(), StatusCode::OK);

    // Revoked: the API refuses it from now on.
    let revoked = token_form(
        &mut admin,
        &csrf,
        &[("action", "revoke"), ("name", "crm-sync")],
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert_eq!(
        api(&token).await.expect("answer").status(),
        StatusCode::UNAUTHORIZED
    );
    let again = token_form(
        &mut admin,
        &csrf,
        &[("action", "revoke"), ("name", "crm-sync")],
    )
    .await;
    assert!(again.body.contains("no live token"), "{}", again.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn images_show_inline_and_other_files_as_safe_links() {
    let desk = start_sqlite().await;
    add_agent(&desk.app.store, "anna", false).await;
    let key = "c0ffee".repeat(10) + "c0fe";
    let file = |kind: &str, name: &str, url: Option<String>| Attachment {
        kind: kind.to_string(),
        file_name: Some(name.to_string()),
        mime_type: None,
        size: Some(1234),
        platform_ref: None,
        url,
    };
    let ingested = desk
        .hub
        .ingest(Inbound::Customer(CustomerMessage {
            platform: Platform::Discord,
            external_message_id: Some("m-1".into()),
            customer: PlatformUser {
                external_id: "id-dora".into(),
                display_name: "Dora".into(),
                language: None,
            },
            conversation: "chat-dora".into(),
            subject: None,
            text: "see attached".into(),
            attachments: vec![
                file(
                    "photo",
                    "screen.png",
                    Some(format!("https://help.example/widget/files/{key}")),
                ),
                file(
                    "photo",
                    "cdn.png",
                    Some("https://cdn.discordapp.com/attachments/1/2/cdn.png".into()),
                ),
                file(
                    "photo",
                    "pixel.png",
                    Some("https://tracker.example/pixel.png".into()),
                ),
                file("document", "evil.html", Some("javascript:alert(1)".into())),
                file("document", "invoice.pdf", None),
            ],
        }))
        .await
        .expect("stored");
    let Ingested::Customer { ticket_number, .. } = ingested else {
        panic!("not a customer message: {ingested:?}");
    };
    let mut console = signed_in(&desk.app, "anna").await;
    let page = console
        .get(&format!("/console/tickets/{ticket_number}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(
        body.contains(&format!(
            "<img class=\"inline-image\" src=\"/widget/files/{key}\" alt=\"screen.png\""
        )),
        "a visitor's image from this server: {body}"
    );
    assert!(
        body.contains(
            "<img class=\"inline-image\" src=\"https://cdn.discordapp.com/attachments/1/2/cdn.png\""
        ),
        "a Discord image: {body}"
    );
    assert!(!body.contains("src=\"https://tracker.example"), "{body}");
    assert!(
        body.contains("href=\"https://tracker.example/pixel.png\""),
        "{body}"
    );
    assert!(!body.contains("javascript:"), "{body}");
    assert!(body.contains("document: evil.html"), "{body}");
    assert!(body.contains("document: invoice.pdf"), "{body}");
}
