//! The web server answers health and readiness on both backends.

use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::db::TestDb;

async fn check(db: TestDb) {
    let backend = db.backend.name();
    let app = spawn_app_with(Spawn {
        db,
        ..Spawn::default()
    })
    .await;
    let client = reqwest::Client::new();
    let health = client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz answers");
    assert_eq!(health.status(), 200);
    let ready = client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz answers");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("readyz is JSON");
    assert_eq!(body["database"], backend);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn healthy_and_ready_on_sqlite() {
    check(TestDb::sqlite()).await;
}

#[tokio::test]
async fn healthy_and_ready_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        check(db).await;
    }
}

#[tokio::test]
async fn not_ready_when_the_database_is_gone() {
    let app = spawn_app_with(Spawn::default()).await;
    app.store.close().await;
    let ready = reqwest::get(app.url("/readyz"))
        .await
        .expect("readyz answers");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "not_ready");
}

/// `/readyz` names a channel that cannot reach its platform, and why; a channel that can
/// shows as connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readiness_names_a_channel_that_is_not_connected() {
    use relaydesk::config::Config;
    use relaydesk::telegram::{TelegramChannel, TelegramConfig, TelegramOptions};
    use relaydesk_tests::telegram_fake::{Fault, TelegramFake};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let fake = TelegramFake::start().await;
    let start = |token: String| {
        let fake_url = fake.url().to_string();
        async move {
            let config = Config {
                telegram: TelegramConfig {
                    token: Some(token),
                    api_url: fake_url,
                    staff_chat_id: Some(-1_001_234_567_890),
                    ..TelegramConfig::default()
                },
                ..Config::default()
            };
            let telegram = TelegramChannel::from_config(
                &config.telegram,
                TelegramOptions {
                    long_poll: Duration::from_secs(1),
                    request_timeout: Duration::from_secs(5),
                    ..TelegramOptions::default()
                },
            )
            .expect("valid Telegram configuration")
            .expect("Telegram is on");
            spawn_app_with(Spawn {
                config,
                channels: vec![Arc::new(telegram)],
                ..Spawn::default()
            })
            .await
        }
    };
    let client = reqwest::Client::new();
    let telegram_state = |app: &relaydesk_tests::app::TestApp, wanted: &'static str| {
        let url = app.url("/readyz");
        let client = client.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let answer = client.get(&url).send().await.expect("readyz answers");
                assert_eq!(answer.status(), 200, "the database is fine: still ready");
                let body: serde_json::Value = answer.json().await.expect("JSON");
                if body["channels"]["telegram"]["state"] == wanted {
                    return body;
                }
                assert!(Instant::now() < deadline, "never {wanted}: {body}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };

    // A token the Bot API refuses is fatal: the process stops by itself with the reason.
    let refused = start("123456:not-the-token".to_string()).await;
    let stopped = tokio::time::timeout(Duration::from_secs(20), refused.ended())
        .await
        .expect("the process stops by itself");
    assert!(
        stopped
            .as_ref()
            .is_err_and(|e| e.to_string().contains("telegram.token")),
        "{stopped:?}"
    );

    // A platform that fails for a while: readiness names the channel and why, then shows it
    // connected once the platform answers.
    fake.inject("getMe", [Fault::ServerError, Fault::ServerError]);
    let flaky = start(fake.token().to_string()).await;
    let body = telegram_state(&flaky, "not_connected").await;
    assert_eq!(body["channels_down"][0], "telegram", "{body}");
    assert!(
        body["channels"]["telegram"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    telegram_state(&flaky, "connected").await;
    flaky.stop().await.expect("clean stop");

    let working = start(fake.token().to_string()).await;
    let body = telegram_state(&working, "connected").await;
    assert_eq!(body["channels_down"], serde_json::json!([]), "{body}");
    working.stop().await.expect("clean stop");
}
