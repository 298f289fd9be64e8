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
