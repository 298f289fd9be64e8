//! Several instances on one PostgreSQL database: work queued by one is delivered by another
//! at once (LISTEN/NOTIFY), not at its next poll.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;

use relaydesk::config::Config;
use relaydesk::hub::{CustomerMessage, Hub, HubConfig, Inbound, PlatformUser};
use relaydesk_storage::{Platform, Store, StoreOptions, SystemClock};
use relaydesk_tests::app::{spawn_app_with, Spawn};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::recorder::{Recorder, RecordingChannel};

fn message(id: &str, text: &str) -> Inbound {
    Inbound::Customer(CustomerMessage {
        platform: Platform::Discord,
        external_message_id: Some(id.into()),
        customer: PlatformUser {
            external_id: "anna".into(),
            display_name: "Anna".into(),
            language: None,
        },
        conversation: "dm-anna".into(),
        subject: None,
        text: text.into(),
        attachments: Vec::new(),
    })
}

async fn wait_for(recorder: &Recorder, text: &str) -> bool {
    for _ in 0..150 {
        if recorder.texts().iter().any(|t| t == text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn work_queued_by_one_instance_wakes_the_workers_of_another() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    let recorder = Recorder::new(Platform::Discord);
    let mut config = Config::default();
    // Instance B would otherwise look for work only once an hour.
    config.outbox.poll = Duration::from_secs(3600);
    let instance_b = spawn_app_with(Spawn {
        db,
        config,
        channels: vec![Arc::new(RecordingChannel(recorder.clone()))],
        ..Spawn::default()
    })
    .await;
    let ready = reqwest::get(instance_b.url("/readyz"))
        .await
        .expect("instance B answers");
    assert_eq!(ready.status(), 200);

    // Instance A: another process's hub on the same database, with no workers of its own.
    let store_a = Store::open(&url, &StoreOptions::default())
        .await
        .expect("open");
    let hub_a = Hub::new(
        store_a.clone(),
        Arc::new(SystemClock),
        HubConfig {
            staff_platforms: vec![Platform::Discord],
            ..HubConfig::default()
        },
    );
    hub_a.ingest(message("m-1", "first")).await.expect("ingest");
    assert!(
        wait_for(&recorder, "first").await,
        "instance B delivered work queued by A"
    );
    // B is idle now, in its hour-long wait: only a notification can wake it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    hub_a
        .ingest(message("m-2", "second"))
        .await
        .expect("ingest");
    assert!(
        wait_for(&recorder, "second").await,
        "the notification woke instance B"
    );
    // The server drops A's notification connection: A's next commit is still told.
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect");
    let dropped: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(relaydesk_storage::ANNOUNCER_NAME)
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    // B's store announces too (it queued nothing yet, so it may not have connected).
    assert!(
        !dropped.is_empty() && dropped.iter().all(|(done,)| *done),
        "A's notification connection was dropped: {dropped:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    hub_a.ingest(message("m-3", "third")).await.expect("ingest");
    assert!(
        wait_for(&recorder, "third").await,
        "A reconnected and its notification woke instance B"
    );
    assert_eq!(recorder.texts(), vec!["first", "second", "third"]);
    admin.close().await.expect("close");
    store_a.close().await;
    instance_b.stop().await.expect("clean stop");
}

/// Reads widget frames until one matches `pick`.
async fn widget_frame(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    wait: Duration,
    pick: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let next = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        if let Ok(tokio_tungstenite::tungstenite::Message::Text(text)) = next {
            let frame: serde_json::Value = serde_json::from_str(text.as_str()).ok()?;
            if pick(&frame) {
                return Some(frame);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_written_on_one_instance_is_pushed_to_a_widget_on_another() {
    use futures_util::SinkExt;
    use relaydesk_desk::{Command, Desk};
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    let config = Config::default();
    let widget = Arc::new(relaydesk::widget_channel::WidgetChannel::new(
        config.email.clone(),
    ));
    let instance_b = spawn_app_with(Spawn {
        db,
        config,
        channels: vec![widget],
        ..Spawn::default()
    })
    .await;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/widget/ws", instance_b.addr))
            .await
            .expect("widget socket on instance B");
    let send =
        |frame: serde_json::Value| tokio_tungstenite::tungstenite::Message::text(frame.to_string());
    socket
        .send(send(serde_json::json!({"type": "hello", "name": "Wanda"})))
        .await
        .expect("hello");
    socket
        .send(send(
            serde_json::json!({"type": "send", "id": "w-1", "text": "is anyone there?"}),
        ))
        .await
        .expect("send");
    let ack = widget_frame(&mut socket, Duration::from_secs(15), |f| f["type"] == "ack")
        .await
        .expect("ack");
    let number = ack["ticket"].as_i64().expect("ticket number");

    // Instance A: another process's hub on the same database answers the ticket.
    let store_a = Store::open(&url, &StoreOptions::default())
        .await
        .expect("open");
    let mut tx = store_a.begin().await.expect("begin");
    let agent = tx
        .create_agent("anna", None, relaydesk_storage::Role::Agent, 0)
        .await
        .expect("agent");
    tx.commit().await.expect("commit");
    let desk_a = relaydesk::desk::HubDesk::new(Hub::new(
        store_a.clone(),
        Arc::new(SystemClock),
        HubConfig {
            customer_platforms: vec![Platform::Web],
            ..HubConfig::default()
        },
    ));
    desk_a
        .execute(agent.id, number, Command::Reply("Yes, Anna here.".into()))
        .await
        .expect("reply on instance A");
    // Instance B's sockets read nothing unless told: its periodic sweep is 30 s away, so the
    // frame arriving well before that is the notification's doing.
    let reply = widget_frame(&mut socket, Duration::from_secs(10), |f| {
        f["type"] == "message" && f["from"] == "agent"
    })
    .await
    .expect("the reply reached the widget on instance B");
    assert_eq!(reply["text"], "Yes, Anna here.");
    store_a.close().await;
    instance_b.stop().await.expect("clean stop");
}
