//! Agent administration end to end: a reset password must be changed at the next sign-in and
//! signs the agent out elsewhere; a disabled agent is signed out and refused in the console,
//! through their API token and in chat, until enabled again.

use std::sync::Arc;

use relaydesk::cli::agent;
use relaydesk::hub::{
    Actor, Command, CustomerMessage, Hub, HubConfig, HubError, Inbound, Ingested, PlatformUser,
    TicketRef,
};
use relaydesk_desk::DeskError;
use relaydesk_storage::{Platform, Role, SystemClock};
use relaydesk_tests::app::spawn_app;
use relaydesk_tests::console_client::ConsoleClient;
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_password_must_be_changed_and_a_disabled_agent_is_refused_everywhere() {
    let app = spawn_app().await;
    let store = &app.store;
    agent::add(
        store,
        &SystemClock,
        "carla",
        "carla@example.com",
        false,
        Some(PASSWORD),
    )
    .await
    .expect("agent added");
    // An agent added with a generated password must change it too.
    let added = agent::add(store, &SystemClock, "dora", "dora@example.com", false, None)
        .await
        .expect("agent added");
    let mut tx = store.begin().await.expect("tx");
    let dora = tx.agent(added.agent.id).await.expect("agent");
    tx.rollback().await.expect("rollback");
    assert!(
        dora.must_change_password,
        "a generated password is a one-time password"
    );

    let mut old_session = ConsoleClient::new(&app.url(""));
    old_session.sign_in("carla@example.com", PASSWORD).await;
    assert_eq!(
        old_session.get("/console/tickets").await.status,
        StatusCode::OK
    );

    // Reset: the old session ends; the one-time password signs in, but only to change it.
    let (_, one_time) = agent::reset_password(store, "carla").await.expect("reset");
    assert_ne!(
        old_session.get("/console/tickets").await.status,
        StatusCode::OK
    );
    let mut console = ConsoleClient::new(&app.url(""));
    let signed = console.sign_in("carla@example.com", PASSWORD).await;
    assert_eq!(
        signed.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let signed = console.sign_in("carla@example.com", &one_time).await;
    assert_eq!(signed.location.as_deref(), Some("/console/password"));
    let elsewhere = console.get("/console/tickets").await;
    assert_eq!(elsewhere.location.as_deref(), Some("/console/password"));
    let page = console.get("/console/password").await;
    assert!(page.body.contains("choose your own"), "{}", page.body);
    let csrf = page.csrf().expect("csrf");
    let changed = console
        .post(
            "/console/password",
            &[
                ("csrf", &csrf),
                ("current", &one_time),
                ("new", "a brand new secret"),
                ("repeat", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(console.get("/console/tickets").await.status, StatusCode::OK);

    // Disable: the session ends, sign-in, the API token and chat commands are refused.
    let token = relaydesk::cli::token::run(
        store,
        &SystemClock,
        relaydesk::cli::token::TokenCommand::Create {
            name: "carla-token".into(),
            agent: "carla".into(),
        },
    )
    .await
    .expect("token")
    .out;
    let http = reqwest::Client::new();
    let api = |token: String| {
        let http = http.clone();
        let url = app.url("/api/v1/tickets");
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("API")
                .status()
        }
    };
    assert_eq!(api(token.clone()).await, StatusCode::OK);
    let mut tx = store.begin().await.expect("tx");
    let carla = tx
        .agent_by_name("carla")
        .await
        .expect("query")
        .expect("carla");
    tx.link_agent_identity(carla.id, Platform::Discord, "555", "carla")
        .await
        .expect("link");
    tx.commit().await.expect("commit");

    agent::set_disabled(store, "carla", true)
        .await
        .expect("disable");
    assert_eq!(
        console.get("/console/tickets").await.location.as_deref(),
        Some("/console/sign-in")
    );
    let mut again = ConsoleClient::new(&app.url(""));
    let refused = again
        .sign_in("carla@example.com", "a brand new secret")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("disabled"), "{}", refused.body);
    assert_eq!(api(token.clone()).await, StatusCode::UNAUTHORIZED);

    let hub = Hub::new(store.clone(), Arc::new(SystemClock), HubConfig::default());
    let number = match hub
        .ingest(Inbound::Customer(CustomerMessage {
            platform: Platform::Telegram,
            external_message_id: Some("m-1".into()),
            customer: PlatformUser {
                external_id: "9".into(),
                display_name: "Nia".into(),
                language: None,
            },
            conversation: "chat-9".into(),
            subject: None,
            text: "hello".into(),
            attachments: Vec::new(),
        }))
        .await
        .expect("stored")
    {
        Ingested::Customer { ticket_number, .. } => ticket_number,
        other => panic!("{other:?}"),
    };
    let staff = Actor::Staff {
        platform: Platform::Discord,
        user: PlatformUser {
            external_id: "555".into(),
            display_name: "carla".into(),
            language: None,
        },
        role: Role::Agent,
    };
    let refused = hub
        .execute(&staff, &TicketRef::Number(number), Command::Claim)
        .await
        .expect_err("a disabled agent runs no command");
    assert!(
        matches!(refused, HubError::Refused(DeskError::Forbidden(ref why)) if why.contains("disabled")),
        "{refused:?}"
    );

    let listed = agent::list(store).await.expect("list");
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("carla\tcarla@example.com\tagent\tdisabled")),
        "{listed}"
    );
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("dora\t") && l.contains("must change password")),
        "{listed}"
    );

    // Enabled again: everything works.
    agent::set_disabled(store, "carla", false)
        .await
        .expect("enable");
    assert_eq!(api(token).await, StatusCode::OK);
    hub.execute(&staff, &TicketRef::Number(number), Command::Claim)
        .await
        .expect("claimed");
    let mut back = ConsoleClient::new(&app.url(""));
    let signed = back
        .sign_in("carla@example.com", "a brand new secret")
        .await;
    assert_eq!(signed.location.as_deref(), Some("/console"));
}
