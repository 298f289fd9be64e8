//! The loopback Bot API server answers the way the Bot API documentation says, so the
//! end-to-end tests that rely on it mean something.

use relaydesk_tests::telegram_fake::{Fault, TelegramFake, TgUser};
use serde_json::{json, Value};

async fn call(fake: &TelegramFake, method: &str, params: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/bot{}/{method}", fake.url(), fake.token()))
        .json(&params)
        .send()
        .await
        .expect("the fake answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("a JSON envelope"))
}

#[tokio::test]
async fn envelopes_method_names_and_documented_errors() {
    let fake = TelegramFake::start().await;
    // Method names are case-insensitive; results come in {"ok":true,"result":…}.
    for name in ["getMe", "GetMe", "getme"] {
        let (status, body) = call(&fake, name, json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(body["ok"], true);
        assert_eq!(body["result"]["is_bot"], true);
        assert_eq!(body["result"]["has_main_web_app"], false);
    }
    // A missing required parameter is a 400 with error_code and description.
    let (status, body) = call(&fake, "sendMessage", json!({"chat_id": 5})).await;
    assert_eq!(status, 400);
    assert_eq!(body["ok"], false);
    assert_eq!(body["error_code"], 400);
    assert!(body["description"]
        .as_str()
        .expect("description")
        .starts_with("Bad Request"));
    // A wrong token is 401, an unknown method 404.
    let wrong = reqwest::Client::new()
        .post(format!("{}/bot1:wrong/getMe", fake.url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status(), 401);
    let (status, _) = call(&fake, "launchRocket", json!({})).await;
    assert_eq!(status, 404);
    // Too long texts are refused, as Telegram does.
    let (status, _) = call(
        &fake,
        "sendMessage",
        json!({"chat_id": 5, "text": "x".repeat(4097)}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn injected_faults_use_the_documented_shapes_once_each() {
    let fake = TelegramFake::start().await;
    fake.inject("sendMessage", [Fault::RetryAfter(3), Fault::ServerError]);
    let params = json!({"chat_id": 5, "text": "hi"});
    let (status, body) = call(&fake, "sendMessage", params.clone()).await;
    assert_eq!(status, 429);
    assert_eq!(body["error_code"], 429);
    assert_eq!(body["parameters"]["retry_after"], 3);
    let (status, body) = call(&fake, "sendMessage", params.clone()).await;
    assert_eq!((status, body["error_code"].clone()), (500, json!(500)));
    let (status, body) = call(&fake, "sendMessage", params).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["text"], "hi");
    assert_eq!(body["result"]["chat"]["id"], 5);
    let statuses: Vec<u16> = fake
        .calls_of("sendMessage")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, vec![429, 500, 200]);
}

#[tokio::test]
async fn get_updates_confirms_by_offset_and_conflicts_with_a_webhook() {
    let fake = TelegramFake::start().await;
    let anna = TgUser::new(42, "Anna");
    fake.push_private_text(&anna, "one");
    fake.push_private_text(&anna, "two");
    let (_, body) = call(&fake, "getUpdates", json!({})).await;
    let updates = body["result"].as_array().expect("updates").clone();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["message"]["text"], "one");
    let first = updates[0]["update_id"].as_i64().expect("id");
    // Without a higher offset nothing is confirmed.
    let (_, body) = call(&fake, "getUpdates", json!({"offset": first})).await;
    assert_eq!(body["result"].as_array().expect("updates").len(), 2);
    // offset = id + 1 confirms that update.
    let (_, body) = call(&fake, "getUpdates", json!({"offset": first + 1})).await;
    let rest = body["result"].as_array().expect("updates");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["message"]["text"], "two");
    let (_, body) = call(
        &fake,
        "getUpdates",
        json!({"offset": first + 2, "timeout": 0}),
    )
    .await;
    assert_eq!(body["result"], json!([]));
    assert_eq!(fake.pending_updates(), 0);

    let (status, _) = call(&fake, "setWebhook", json!({"url": "https://x.example/tg"})).await;
    assert_eq!(status, 200);
    let (status, body) = call(&fake, "getUpdates", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(body["error_code"], 409);
    let (_, info) = call(&fake, "getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["url"], "https://x.example/tg");
}

#[tokio::test]
async fn forum_topics_open_rename_close_and_reopen() {
    let fake = TelegramFake::start().await;
    let chat = -1_005;
    let (_, body) = call(
        &fake,
        "createForumTopic",
        json!({"chat_id": chat, "name": "#1 · A"}),
    )
    .await;
    let topic = body["result"]["message_thread_id"]
        .as_i64()
        .expect("topic id");
    let (status, _) = call(
        &fake,
        "sendMessage",
        json!({"chat_id": chat, "message_thread_id": topic, "text": "in topic"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &fake,
        "sendMessage",
        json!({"chat_id": chat, "message_thread_id": topic + 100, "text": "nowhere"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = call(
        &fake,
        "createForumTopic",
        json!({"chat_id": chat, "name": "x".repeat(129)}),
    )
    .await;
    assert_eq!(status, 400);
    let thread = json!({"chat_id": chat, "message_thread_id": topic});
    assert_eq!(call(&fake, "reopenForumTopic", thread.clone()).await.0, 400);
    assert_eq!(call(&fake, "closeForumTopic", thread.clone()).await.0, 200);
    assert_eq!(fake.topic(chat, topic), Some(("#1 · A".to_string(), true)));
    assert_eq!(call(&fake, "closeForumTopic", thread.clone()).await.0, 400);
    assert_eq!(call(&fake, "reopenForumTopic", thread).await.0, 200);
    let (status, _) = call(
        &fake,
        "editForumTopic",
        json!({"chat_id": chat, "message_thread_id": topic, "name": "✅ #1 · A"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        fake.topic(chat, topic),
        Some(("✅ #1 · A".to_string(), false))
    );
}
