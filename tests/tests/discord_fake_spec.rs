//! The loopback Discord answers with the shapes Discord's OpenAPI document requires, so the
//! channel tests exercise serenity on realistic payloads.

use std::path::PathBuf;

use relaydesk_tests::discord_fake::{payloads, FakeDiscord, GUILD_ID, STAFF_CHANNEL_ID, TOKEN};
use serde_json::{json, Value};

/// `shared/specs/discord-openapi.json` beside the repository (the main checkout or a worktree
/// one level further down).
fn spec() -> Option<Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = ["../../shared/specs", "../../../shared/specs"]
        .iter()
        .map(|p| root.join(p).join("discord-openapi.json"))
        .find(|p| p.exists());
    let Some(path) = found else {
        eprintln!("note: Discord OpenAPI document not found beside the repository; skipped");
        return None;
    };
    let text = std::fs::read_to_string(path).expect("read the OpenAPI document");
    Some(serde_json::from_str(&text).expect("the OpenAPI document is JSON"))
}

fn assert_shape(spec: &Value, schema: &str, value: &Value) {
    let required = spec["components"]["schemas"][schema]["required"]
        .as_array()
        .unwrap_or_else(|| panic!("schema {schema} has a required list"));
    let missing: Vec<&str> = required
        .iter()
        .filter_map(Value::as_str)
        .filter(|key| value.get(*key).is_none())
        .collect();
    assert!(missing.is_empty(), "{schema} lacks {missing:?}: {value}");
}

#[tokio::test]
async fn fake_answers_carry_every_required_field() {
    let Some(spec) = spec() else { return };
    let fake = FakeDiscord::start().await;
    let client = reqwest::Client::new();
    let api = format!("{}/api/v10", fake.api_url());
    let auth = format!("Bot {TOKEN}");
    let get = |path: &str| {
        client
            .get(format!("{api}{path}"))
            .header("authorization", &auth)
            .send()
    };
    let post = |path: &str, body: Value| {
        client
            .post(format!("{api}{path}"))
            .header("authorization", &auth)
            .json(&body)
            .send()
    };
    let json = |r: reqwest::Response| async move {
        assert!(r.status().is_success(), "{}", r.status());
        r.json::<Value>().await.expect("JSON answer")
    };
    assert_shape(
        &spec,
        "GatewayResponse",
        &json(get("/gateway").await.expect("call")).await,
    );
    assert_shape(
        &spec,
        "GatewayBotResponse",
        &json(get("/gateway/bot").await.expect("call")).await,
    );
    assert_shape(
        &spec,
        "UserResponse",
        &json(get("/users/@me").await.expect("call")).await,
    );
    let dm = json(
        post("/users/@me/channels", json!({"recipient_id": "42"}))
            .await
            .expect("call"),
    )
    .await;
    assert_shape(&spec, "PrivateChannelResponse", &dm);
    let thread = json(
        post(
            &format!("/channels/{STAFF_CHANNEL_ID}/threads"),
            json!({"name": "#1 · test", "type": 12}),
        )
        .await
        .expect("call"),
    )
    .await;
    assert_shape(&spec, "ThreadResponse", &thread);
    let thread_id = thread["id"].as_str().expect("thread id");
    let message = json(
        post(
            &format!("/channels/{thread_id}/messages"),
            json!({"content": "hello", "allowed_mentions": {"parse": []}}),
        )
        .await
        .expect("call"),
    )
    .await;
    assert_shape(&spec, "MessageResponse", &message);

    // What the gateway dispatches is built from the same documented objects.
    let user = payloads::user(7, "anna", false);
    assert_shape(&spec, "UserResponse", &user);
    assert_shape(&spec, "GuildMemberResponse", &payloads::member(&user, &[1]));
    assert_shape(
        &spec,
        "MessageResponse",
        &payloads::message(9, 10, Some(GUILD_ID), &user, Some(&[1]), "hi"),
    );
}

#[tokio::test]
async fn fake_refuses_what_discord_refuses() {
    let fake = FakeDiscord::start().await;
    let client = reqwest::Client::new();
    let api = format!("{}/api/v10", fake.api_url());
    let too_long = "x".repeat(2001);
    let answer = client
        .post(format!("{api}/channels/{STAFF_CHANNEL_ID}/messages"))
        .json(&json!({"content": too_long}))
        .send()
        .await
        .expect("call");
    assert_eq!(answer.status(), 400);
    let answer = client
        .post(format!("{api}/channels/{STAFF_CHANNEL_ID}/threads"))
        .json(&json!({"name": "n".repeat(101), "type": 12}))
        .send()
        .await
        .expect("call");
    assert_eq!(answer.status(), 400);
    let answer = client
        .post(format!("{api}/channels/999/messages"))
        .json(&json!({"content": "hello"}))
        .send()
        .await
        .expect("call");
    assert_eq!(answer.status(), 404);
    assert!(fake.messages_in(STAFF_CHANNEL_ID).is_empty());
}

#[test]
fn gateway_payloads_are_understood_by_serenity() {
    use serenity::all::{Guild, Interaction, Message};
    let bot = payloads::user(800, "relaydesk", true);
    let staff = payloads::channel(STAFF_CHANNEL_ID, 0, GUILD_ID, "staff", None, false, false);
    let guild: Guild = serde_json::from_value(payloads::guild_create(vec![staff], &bot))
        .expect("GUILD_CREATE parses");
    assert_eq!(guild.roles.len(), 3);
    assert_eq!(guild.channels.len(), 1);
    let user = payloads::user(7, "anna", false);
    let message: Message = serde_json::from_value(payloads::message(
        9,
        10,
        Some(GUILD_ID),
        &user,
        Some(&[700]),
        "hi",
    ))
    .expect("MESSAGE_CREATE parses");
    assert_eq!(message.member.expect("member").roles.len(), 1);
    let member = payloads::member(&user, &[700]);
    let data = json!({"id": "900", "name": "claim", "type": 1, "options": [], "resolved": {}});
    let interaction: Interaction = serde_json::from_value(payloads::interaction(
        11, 2, 10, GUILD_ID, &member, data, None,
    ))
    .expect("INTERACTION_CREATE parses");
    let Interaction::Command(command) = interaction else {
        panic!("an application command");
    };
    assert_eq!(command.user.name, "anna", "the user comes from the member");
    assert_eq!(command.data.name, "claim");
}
