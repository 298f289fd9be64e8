//! The REST API through the whole process on a random port with a fresh database: every
//! endpoint, authentication and permission refusals, validation, idempotent creates, cursor
//! pagination, rate limiting, and the OpenAPI document.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use relaydesk::cli::token::{run as token_command, TokenCommand};
use relaydesk::config::Config;
use relaydesk_storage::{Platform, Role, Store, SystemClock};
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::recorder::{Recorder, RecordingChannel};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// Creates an agent and an API token acting as them (through the `token create` command).
async fn token_for(store: &Store, agent: &str, role: Role) -> String {
    let mut tx = store.begin().await.expect("begin");
    if tx.agent_by_name(agent).await.expect("look up").is_none() {
        tx.create_agent(agent, None, role, 0).await.expect("agent");
    }
    tx.commit().await.expect("commit");
    let printed = token_command(
        store,
        &SystemClock,
        TokenCommand::Create {
            name: format!("{agent}-{}", uuid::Uuid::new_v4().simple()),
            agent: agent.to_string(),
        },
    )
    .await
    .expect("token create");
    let token = printed.out;
    assert!(token.starts_with("rdk_") && token.len() == 68, "{token}");
    assert!(printed
        .note
        .expect("advice")
        .contains("shown only this once"));
    token
}

struct Api {
    app: TestApp,
    http: Client,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }
}

async fn spawn(db: TestDb, config: Config, recorder: Option<&Recorder>) -> Api {
    let channels: Vec<Arc<dyn relaydesk::channel::Channel>> = match recorder {
        Some(r) => vec![Arc::new(RecordingChannel(r.clone()))],
        None => Vec::new(),
    };
    let app = spawn_app_with(Spawn {
        db,
        config,
        channels,
        ..Spawn::default()
    })
    .await;
    Api {
        app,
        http: Client::new(),
    }
}

fn error_of(body: &Value) -> (&str, Option<&str>) {
    (
        body["error"]["code"].as_str().unwrap_or("<no code>"),
        body["error"]["field"].as_str(),
    )
}

async fn wait_for(recorder: &Recorder, text: &str) -> bool {
    for _ in 0..200 {
        if recorder.texts().iter().any(|t| t == text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn new_message(customer: &str, text: &str, external_id: Option<&str>) -> Value {
    json!({
        "customer": {"id": customer, "name": format!("Customer {customer}"), "email": format!("{customer}@example.com")},
        "text": text,
        "external_id": external_id,
    })
}

/// The core story on one backend: create, read, reply, note, commands, filters, search,
/// pagination, customers, and the refusals.
async fn core_story(db: TestDb) {
    let recorder = Recorder::new(Platform::Discord);
    let api = spawn(db, Config::default(), Some(&recorder)).await;
    let store = api.app.store.clone();
    let admin = token_for(&store, "anna", Role::Admin).await;
    let agent = token_for(&store, "bruno", Role::Agent).await;

    // Create: a new ticket, then the same external id again is the same message.
    let (status, created) = api
        .post(
            "/api/v1/tickets",
            &admin,
            new_message("u-1", "My printer is on fire", Some("msg-1")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["new_ticket"], true);
    assert_eq!(created["duplicate"], false);
    assert_eq!(created["ticket"]["origin"], "api");
    assert_eq!(created["ticket"]["status"], "open");
    let number = created["ticket"]["number"].as_i64().expect("a number");
    let first_message = created["message_id"].as_i64().expect("a message id");
    assert!(
        wait_for(&recorder, "My printer is on fire").await,
        "the customer's message reached the staff thread"
    );

    let (status, again) = api
        .post(
            "/api/v1/tickets",
            &admin,
            new_message("u-1", "My printer is on fire", Some("msg-1")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["ticket"]["number"], number);
    assert_eq!(again["message_id"], first_message);
    let (status, reused) = api
        .post(
            "/api/v1/tickets",
            &admin,
            new_message("u-1", "Something else", Some("msg-1")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{reused}");
    assert_eq!(error_of(&reused).0, "conflict");

    // A second message of the same conversation joins the open ticket.
    let (status, second) = api
        .post(
            "/api/v1/tickets",
            &admin,
            new_message("u-1", "It is still burning", None),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["new_ticket"], false);
    assert_eq!(second["ticket"]["number"], number);

    // Reply, note and commands.
    let path = format!("/api/v1/tickets/{number}");
    let (status, replied) = api
        .post(
            &format!("{path}/reply"),
            &agent,
            json!({"text": "/not a command, just text <b>"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{replied}");
    assert!(replied["message_id"].is_i64());
    assert!(
        wait_for(&recorder, "/not a command, just text <b>").await,
        "the API reply reached the ticket's staff thread: {:?}",
        recorder.texts()
    );
    let (status, noted) = api
        .post(
            &format!("{path}/notes"),
            &agent,
            json!({"text": "customer sounds upset"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{noted}");
    for command in ["/priority urgent", "/tag vip", "/assign bruno"] {
        let (status, done) = api
            .post(
                &format!("{path}/commands"),
                &agent,
                json!({"command": command}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{command}: {done}");
        assert_eq!(done["ticket_number"], number);
        assert!(done["text"].is_string());
    }

    // Read it back.
    let (status, detail) = api.get(&path, &agent).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["number"], number);
    assert_eq!(detail["priority"], "urgent");
    assert_eq!(detail["tags"], json!(["vip"]));
    assert_eq!(detail["assignee"]["name"], "bruno");
    assert_eq!(detail["customer"]["name"], "Customer u-1");
    assert_eq!(detail["customer_profile"]["email"], "u-1@example.com");
    assert_eq!(
        detail["customer_profile"]["identities"][0]["platform"],
        "api"
    );
    assert_eq!(
        detail["customer_profile"]["identities"][0]["external_id"],
        "u-1"
    );
    let messages = detail["messages"].as_array().expect("messages");
    let bodies: Vec<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
    assert!(bodies.contains(&"My printer is on fire"));
    assert!(bodies.contains(&"It is still burning"));
    assert!(
        bodies.contains(&"/not a command, just text <b>"),
        "the reply is stored as text"
    );
    let note = messages
        .iter()
        .find(|m| m["body"] == "customer sounds upset")
        .expect("the note");
    assert_eq!(note["internal"], true);
    assert_eq!(
        messages
            .iter()
            .filter(|m| m["body"] == "My printer is on fire")
            .count(),
        1,
        "the duplicate create stored nothing"
    );

    // More tickets, for filters, search and pages.
    let mut numbers = BTreeSet::from([number]);
    for i in 0..11 {
        let (status, made) = api
            .post(
                "/api/v1/tickets",
                &admin,
                new_message(&format!("bulk-{i}"), &format!("bulk question {i}"), None),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        numbers.insert(made["ticket"]["number"].as_i64().expect("number"));
    }
    let only = |body: &Value| -> Vec<i64> {
        body["tickets"]
            .as_array()
            .expect("tickets")
            .iter()
            .filter_map(|t| t["number"].as_i64())
            .collect()
    };
    for query in [
        "priority=urgent",
        "tag=vip",
        "assignee=me",
        "assignee=bruno",
        "q=burning",
        "q=u-1%40example.com",
        "status=active&unassigned=false&origin=api",
    ] {
        let (status, found) = api.get(&format!("/api/v1/tickets?{query}"), &agent).await;
        assert_eq!(status, StatusCode::OK, "{query}: {found}");
        let found = only(&found);
        if query.starts_with("status") {
            assert_eq!(found.len(), 12, "{query}");
        } else {
            assert_eq!(found, vec![number], "{query}");
        }
    }
    let (_, unassigned) = api.get("/api/v1/tickets?unassigned=true", &agent).await;
    assert_eq!(only(&unassigned).len(), 11);

    for sort in ["activity", "priority", "due"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/tickets?sort={sort}&limit=5");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, page) = api.get(&path, &agent).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let page_numbers = only(&page);
            assert!(page_numbers.len() <= 5);
            seen.extend(page_numbers);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), numbers.len(), "{sort}: each ticket once");
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), numbers, "{sort}");
        if sort == "priority" {
            let (_, first) = api
                .get("/api/v1/tickets?sort=priority&limit=1", &agent)
                .await;
            assert_eq!(only(&first), vec![number], "urgent first");
        }
    }

    // Customers.
    let customer_id = detail["customer"]["id"].as_i64().expect("customer id");
    let (status, customer) = api
        .get(&format!("/api/v1/customers/{customer_id}"), &agent)
        .await;
    assert_eq!(status, StatusCode::OK, "{customer}");
    assert_eq!(customer["name"], "Customer u-1");
    let (status, theirs) = api
        .get(&format!("/api/v1/customers/{customer_id}/tickets"), &agent)
        .await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert_eq!(only(&theirs), vec![number]);

    // Permissions: merging is for admins.
    let other = *numbers
        .iter()
        .find(|n| **n != number)
        .expect("another ticket");
    let merge = json!({"command": format!("/merge #{number}")});
    let (status, refused) = api
        .post(
            &format!("/api/v1/tickets/{other}/commands"),
            &agent,
            merge.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(error_of(&refused).0, "forbidden");
    // Another customer's ticket: refused even for an admin (409), nothing moves.
    let (status, across) = api
        .post(&format!("/api/v1/tickets/{other}/commands"), &admin, merge)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{across}");
    assert_eq!(error_of(&across).0, "conflict");
    let (_, still) = api.get(&format!("/api/v1/tickets/{other}"), &agent).await;
    assert_eq!(still["status"], "open");
    // A ticket split off this customer's conversation merges back.
    let (status, split) = api
        .post(
            &format!("/api/v1/tickets/{number}/commands"),
            &admin,
            json!({"name": "split", "message": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{split}");
    let split_number = numbers.iter().max().expect("tickets") + 1;
    let (status, merged) = api
        .post(
            &format!("/api/v1/tickets/{split_number}/commands"),
            &admin,
            json!({"command": format!("/merge #{number}")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    let (_, gone) = api
        .get(&format!("/api/v1/tickets/{split_number}"), &agent)
        .await;
    assert_eq!(gone["status"], "merged");
    assert_eq!(gone["merged_into"], number);

    // Typed commands: the same commands by name with their argument as a field.
    let typed = |body: Value| {
        let api = &api;
        let agent = &agent;
        let path = format!("{path}/commands");
        async move { api.post(&path, agent, body).await }
    };
    let (status, tagged) = typed(json!({"name": "tag", "tag": "Refund"})).await;
    assert_eq!(status, StatusCode::OK, "{tagged}");
    assert_eq!(tagged["text"], format!("#{number} tagged refund."));
    let (status, urgent) = typed(json!({"name": "priority", "priority": "urgent"})).await;
    assert_eq!(status, StatusCode::OK, "{urgent}");
    let (_, now) = api.get(&path, &agent).await;
    assert_eq!(now["priority"], "urgent");
    let (status, wrong) = typed(json!({"name": "priority", "priority": "soonish"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
    assert_eq!(error_of(&wrong).1, Some("priority"));
    let (status, wrong) = typed(json!({"name": "assign", "user": "anna"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
    assert_eq!(error_of(&wrong).1, Some("user"), "{wrong}");
    let (status, wrong) =
        typed(json!({"name": "assign", "agent": "anna", "command": "/claim"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
    let (status, help) = typed(json!({"name": "help"})).await;
    assert_eq!(status, StatusCode::OK, "{help}");
    assert_eq!(
        help["text"],
        relaydesk_desk::catalogue::help_text(relaydesk_desk::Language::En)
    );
    // A state that does not allow it is a conflict, by either grammar.
    let (status, reopened) = typed(json!({"name": "reopen"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reopened}");
    assert_eq!(error_of(&reopened).0, "conflict");

    // A closed ticket takes no reply until reopened.
    let (status, _) = api
        .post(
            &format!("{path}/commands"),
            &agent,
            json!({"command": "/close solved"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, late) = api
        .post(
            &format!("{path}/reply"),
            &agent,
            json!({"text": "one more thing"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{late}");
    let (_, closed) = api.get(&path, &agent).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["close_reason"], "solved");

    // Not found.
    for (method, path) in [
        (Method::GET, "/api/v1/tickets/999999".to_string()),
        (Method::POST, "/api/v1/tickets/999999/reply".to_string()),
        (Method::POST, "/api/v1/tickets/999999/commands".to_string()),
        (Method::GET, "/api/v1/customers/999999".to_string()),
        (Method::GET, "/api/v1/customers/999999/tickets".to_string()),
    ] {
        let body = match method {
            Method::POST if path.ends_with("reply") => Some(json!({"text": "hi"})),
            Method::POST => Some(json!({"command": "/claim"})),
            _ => None,
        };
        let (status, answer) = api.call(method, &path, Some(&agent), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        assert_eq!(error_of(&answer).0, "not_found");
    }

    // Validation names the field.
    let invalid: Vec<(Method, &str, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"customer": {"id": "x", "name": "X"}})),
            "text",
        ),
        (
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"customer": {"id": "x", "name": " "}, "text": "hi"})),
            "customer.name",
        ),
        (
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"customer": {"id": "x", "name": "X", "email": "nope"}, "text": "hi"})),
            "customer.email",
        ),
        (
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"customer": {"id": 5, "name": "X"}, "text": "hi"})),
            "customer.id",
        ),
        (
            Method::GET,
            "/api/v1/tickets?status=sleeping",
            None,
            "status",
        ),
        (Method::GET, "/api/v1/tickets?limit=0", None, "limit"),
        (Method::GET, "/api/v1/tickets?sort=random", None, "sort"),
        (Method::GET, "/api/v1/tickets?cursor=abc", None, "cursor"),
        (Method::GET, "/api/v1/tickets?sla=whenever", None, "sla"),
        (
            Method::GET,
            "/api/v1/tickets?assignee=nobody-here",
            None,
            "assignee",
        ),
        (
            Method::POST,
            "/api/v1/tickets/1/commands",
            Some(json!({"command": "close"})),
            "command",
        ),
    ];
    for (method, path, body, field) in invalid {
        let (status, answer) = api.call(method, path, Some(&agent), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert_eq!(error_of(&answer), ("invalid", Some(field)), "{path}");
    }
    let (status, unknown) = api
        .post(
            &format!("{path}/commands"),
            &agent,
            json!({"command": "/frobnicate"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{unknown}");
    assert_eq!(error_of(&unknown), ("invalid", Some("command")));

    // Bodies that are not JSON, or too large.
    let response = api
        .http
        .post(api.app.url("/api/v1/tickets"))
        .bearer_auth(&agent)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer: Value = response.json().await.expect("JSON error");
    assert_eq!(error_of(&answer), ("invalid_json", Some("body")));
    let response = api
        .http
        .post(api.app.url("/api/v1/tickets"))
        .bearer_auth(&agent)
        .body("text=hi")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = "x".repeat(300 * 1024);
    let (status, answer) = api
        .post("/api/v1/tickets", &agent, new_message("big", &huge, None))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(error_of(&answer).0, "too_large");

    // Unknown API paths answer in the API's JSON too.
    let (status, answer) = api.get("/api/v1/nothing/here", &agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&answer).0, "not_found");

    // Authentication: none, unknown, revoked.
    let (status, answer) = api.call(Method::GET, "/api/v1/tickets", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(&answer).0, "unauthorized");
    let (status, _) = api.get("/api/v1/tickets", "rdk_0000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = api
        .http
        .get(api.app.url("/api/v1/tickets"))
        .header("authorization", format!("Basic {agent}"))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let listed = token_command(&store, &SystemClock, TokenCommand::List)
        .await
        .expect("token list")
        .out;
    let bruno_token = listed
        .lines()
        .find(|l| l.starts_with("bruno-"))
        .and_then(|l| l.split_whitespace().next())
        .expect("bruno's token is listed")
        .to_string();
    token_command(
        &store,
        &SystemClock,
        TokenCommand::Revoke {
            name: bruno_token.clone(),
        },
    )
    .await
    .expect("revoke");
    let (status, answer) = api.get("/api/v1/tickets", &agent).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked: {answer}");
    let listed = token_command(&store, &SystemClock, TokenCommand::List)
        .await
        .expect("token list")
        .out;
    let line = listed
        .lines()
        .find(|l| l.starts_with(&bruno_token))
        .expect("still listed");
    assert!(!line.trim_end().ends_with('-'), "shown as revoked: {line}");
    let (status, _) = api.get("/api/v1/tickets", &admin).await;
    assert_eq!(status, StatusCode::OK, "other tokens still work");

    api.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn core_story_sqlite() {
    core_story(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn core_story_postgres() {
    if let Some(db) = TestDb::postgres().await {
        core_story(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_token_has_its_own_request_budget() {
    let mut config = Config::default();
    config.web.api_requests_per_minute = Some(3);
    let api = spawn(TestDb::sqlite(), config, None).await;
    let first = token_for(&api.app.store, "anna", Role::Agent).await;
    let second = token_for(&api.app.store, "anna", Role::Agent).await;
    for _ in 0..3 {
        let (status, _) = api.get("/api/v1/tickets", &first).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = api
        .http
        .get(api.app.url("/api/v1/tickets"))
        .bearer_auth(&first)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(error_of(&body).0, "rate_limited");
    let (status, _) = api.get("/api/v1/tickets", &second).await;
    assert_eq!(status, StatusCode::OK, "another token is not limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_commands_refuse_what_cannot_work() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let create = |name: &str, agent: &str| TokenCommand::Create {
        name: name.to_string(),
        agent: agent.to_string(),
    };
    let missing = token_command(&store, &SystemClock, create("ci", "nobody"))
        .await
        .expect_err("no such agent");
    assert!(
        missing.to_string().contains("relaydesk agent add"),
        "says how to add one: {missing}"
    );
    let empty = token_command(&store, &SystemClock, TokenCommand::List)
        .await
        .expect("list");
    assert!(empty.out.is_empty());
    assert!(empty.note.expect("advice").contains("token create"));

    token_for(&store, "anna", Role::Agent).await;
    token_command(&store, &SystemClock, create("ci", "ANNA"))
        .await
        .expect("agent names are matched without regard to case");
    let taken = token_command(&store, &SystemClock, create("ci", "anna"))
        .await
        .expect_err("names are unique");
    assert!(taken.to_string().contains("already exists"), "{taken}");
    token_command(
        &store,
        &SystemClock,
        TokenCommand::Revoke { name: "ci".into() },
    )
    .await
    .expect("revoke");
    let again = token_command(
        &store,
        &SystemClock,
        TokenCommand::Revoke { name: "ci".into() },
    )
    .await
    .expect_err("already revoked");
    assert!(again.to_string().contains("no live token"), "{again}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_openapi_document_describes_every_route() {
    let api = spawn(TestDb::sqlite(), Config::default(), None).await;
    let response = reqwest::get(api.app.url("/api/v1/openapi.json"))
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("JSON");
    assert_eq!(
        doc,
        relaydesk_web::api::openapi_json(),
        "served as generated"
    );

    // It is an OpenAPI 3 document.
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let _typed: utoipa::openapi::OpenApi =
        serde_json::from_value(doc.clone()).expect("reads back as an OpenAPI document");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every reference resolves.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "unresolved {r}");
    }

    // The command body lists exactly the catalogue's commands, and the priority choices.
    let typed = doc["components"]["schemas"]["CommandBody"]["oneOf"]
        .as_array()
        .and_then(|forms| forms.iter().find(|f| f["properties"]["name"].is_object()))
        .unwrap_or_else(|| {
            panic!(
                "a typed command form: {}",
                doc["components"]["schemas"]["CommandBody"]
            )
        })
        .clone();
    let names: Vec<&str> = typed["properties"]["name"]["enum"]
        .as_array()
        .expect("an enum of command names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let catalogue: Vec<&str> = relaydesk_desk::CATALOGUE.iter().map(|s| s.name).collect();
    assert_eq!(names, catalogue);
    assert_eq!(
        typed["properties"]["priority"]["enum"],
        json!(["low", "normal", "high", "urgent"])
    );

    // The routes the issue asks for are all there.
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("GET", "/api/v1/tickets"),
        ("POST", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets/{number}"),
        ("GET", "/api/v1/tickets/{number}/transcript"),
        ("POST", "/api/v1/tickets/{number}/reply"),
        ("POST", "/api/v1/tickets/{number}/notes"),
        ("POST", "/api/v1/tickets/{number}/commands"),
        ("GET", "/api/v1/customers/{id}"),
        ("GET", "/api/v1/customers/{id}/tickets"),
        ("GET", "/api/v1/canned"),
        ("PUT", "/api/v1/canned/{name}"),
        ("DELETE", "/api/v1/canned/{name}"),
        ("GET", "/api/v1/teams"),
        ("PUT", "/api/v1/teams/{name}"),
        ("DELETE", "/api/v1/teams/{name}"),
        ("PUT", "/api/v1/teams/{name}/members/{agent}"),
        ("DELETE", "/api/v1/teams/{name}/members/{agent}"),
        ("GET", "/api/v1/faq"),
        ("PUT", "/api/v1/faq/{name}"),
        ("DELETE", "/api/v1/faq/{name}"),
        ("GET", "/api/v1/reports"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(documented, expected);

    // Every documented operation is served: without a token each answers 401 with a JSON
    // error (an unrouted path would be a bare 404 or 405), the document itself 200.
    for (method, path) in &documented {
        let url = api.app.url(
            &path
                .replace("{number}", "1")
                .replace("{id}", "1")
                .replace("{name}", "x"),
        );
        let method: Method = method.parse().expect("method");
        let response = api
            .http
            .request(method.clone(), url)
            .json(&json!({}))
            .send()
            .await
            .expect("answer");
        if path.ends_with("openapi.json") {
            assert_eq!(response.status(), StatusCode::OK);
            continue;
        }
        if path == "/api/v1" {
            assert_eq!(response.status(), StatusCode::OK);
            let index: Value = response.json().await.expect("JSON");
            assert_eq!(index["openapi"], "/api/v1/openapi.json");
            assert_eq!(index["version"], env!("CARGO_PKG_VERSION"));
            continue;
        }
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let body: Value = response.json().await.expect("JSON error");
        assert_eq!(error_of(&body).0, "unauthorized", "{method} {path}");
        let op = &doc["paths"][path][method.as_str().to_lowercase()];
        assert!(
            ["200", "201", "204"]
                .iter()
                .any(|status| op["responses"][status].is_object()),
            "{method} {path} documents its success"
        );
        assert!(
            op["responses"]["401"].is_object(),
            "{method} {path} documents 401"
        );
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// An agent's reply shows how its send to the customer stands: sent, or failed with the
/// platform's reason (after which the send can be queued again from the CLI).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_shows_whether_it_reached_the_customer() {
    use relaydesk::cli::outbox::{run as outbox_command, OutboxCommand};
    use relaydesk::hub::{CustomerMessage, DeliveryError, Hub, HubConfig, Inbound, PlatformUser};

    let recorder = Recorder::new(Platform::Discord);
    let api = spawn(TestDb::sqlite(), Config::default(), Some(&recorder)).await;
    let store = api.app.store.clone();
    let agent = token_for(&store, "bruno", Role::Agent).await;
    // A Discord customer writes (through a hub on the same store, as the gateway would).
    let hub = Hub::new(
        store.clone(),
        Arc::new(SystemClock),
        HubConfig {
            staff_platforms: vec![Platform::Discord],
            customer_platforms: vec![Platform::Discord],
            ..HubConfig::default()
        },
    );
    hub.ingest(Inbound::Customer(CustomerMessage {
        platform: Platform::Discord,
        external_message_id: Some("dm-1".into()),
        customer: PlatformUser {
            external_id: "anna".into(),
            display_name: "Anna".into(),
            language: None,
        },
        conversation: "dm-anna".into(),
        subject: None,
        text: "hello?".into(),
        attachments: Vec::new(),
    }))
    .await
    .expect("ingest");
    assert!(wait_for(&recorder, "hello?").await, "the ticket is open");

    let path = "/api/v1/tickets/1001";
    let reply = |text: &'static str| {
        let api = &api;
        let agent = &agent;
        async move {
            let (status, body) = api
                .post(&format!("{path}/reply"), agent, json!({ "text": text }))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["message_id"].as_i64().expect("a message id")
        }
    };
    let delivery_of = |id: i64| {
        let api = &api;
        let agent = &agent;
        async move {
            for _ in 0..200 {
                let (_, ticket) = api.get(path, agent).await;
                let message = ticket["messages"]
                    .as_array()
                    .expect("messages")
                    .iter()
                    .find(|m| m["id"] == id)
                    .cloned()
                    .expect("the reply is in the conversation");
                if message["delivery"]["state"] != "queued" {
                    return message["delivery"].clone();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("the reply's send never settled");
        }
    };

    let sent = reply("try this").await;
    let delivery = delivery_of(sent).await;
    assert_eq!(delivery["state"], "sent", "{delivery}");
    assert_eq!(delivery["platform"], "discord");

    // Once nothing else is on its way (the first reply's delivered mark), the next reply's
    // sends fail: its copy in the staff thread and its send to the customer.
    for _ in 0..200 {
        let mut tx = store.begin().await.expect("tx");
        let pending = tx
            .count_outbox(relaydesk_storage::OutboxStatus::Pending)
            .await
            .expect("count");
        drop(tx);
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let blocked = || DeliveryError::Permanent("the user blocked the bot".into());
    recorder.fail_next([blocked(), blocked()]);
    let failed = reply("and this").await;
    let delivery = delivery_of(failed).await;
    assert_eq!(delivery["state"], "failed", "{delivery}");
    assert!(
        delivery["reason"]
            .as_str()
            .is_some_and(|r| r.contains("blocked")),
        "{delivery}"
    );
    // Notes and customer messages carry no delivery state.
    let (_, ticket) = api.get(path, &agent).await;
    let first = &ticket["messages"][0];
    assert_eq!(first["body"], "hello?");
    assert!(first.get("delivery").is_none(), "{first}");

    // The operator sees it in `relaydesk outbox failed` and queues it again.
    let listed = outbox_command(&store, &SystemClock, OutboxCommand::Failed { limit: 10 })
        .await
        .expect("list");
    assert!(listed.contains("reply to customer"), "{listed}");
    assert!(listed.contains("blocked"), "{listed}");
    let id: i64 = listed
        .lines()
        .find(|l| l.contains("reply to customer"))
        .and_then(|l| l.split('\t').next())
        .and_then(|id| id.parse().ok())
        .expect("a failed send's id");
    outbox_command(&store, &SystemClock, OutboxCommand::Retry { id })
        .await
        .expect("retry");
    assert_eq!(delivery_of(failed).await["state"], "sent");
    let again = outbox_command(&store, &SystemClock, OutboxCommand::Retry { id }).await;
    assert!(again.is_err(), "only a failed send can be queued again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_search_of_a_thousand_words_is_refused_with_the_limit() {
    let api = spawn(TestDb::sqlite(), Config::default(), None).await;
    let agent = token_for(&api.app.store, "anna", Role::Agent).await;
    let words = vec!["printer"; 1000].join("+");
    let (status, body) = api.get(&format!("/api/v1/tickets?q={words}"), &agent).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_of(&body), ("invalid", Some("q")));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&relaydesk_storage::MAX_SEARCH_WORDS.to_string())),
        "{body}"
    );
    let long = "x".repeat(relaydesk_storage::MAX_SEARCH_CHARS + 1);
    let (status, _) = api.get(&format!("/api/v1/tickets?q={long}"), &agent).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let most = ["printer"; relaydesk_storage::MAX_SEARCH_WORDS].join("+");
    let (status, body) = api.get(&format!("/api/v1/tickets?q={most}"), &agent).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Teams through the API: admins add them and their members, every agent reads them.
async fn teams_story(db: TestDb) {
    let api = spawn(db, Config::default(), None).await;
    let store = api.app.store.clone();
    let admin = token_for(&store, "anna", Role::Admin).await;
    let agent = token_for(&store, "bruno", Role::Agent).await;

    let (status, body) = api.put("/api/v1/teams/billing", &admin, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!({"name": "billing", "members": []}));
    let (status, _) = api.put("/api/v1/teams/Billing", &admin, json!({})).await;
    assert_eq!(status, StatusCode::OK, "the same team whatever the case");
    let (status, body) = api
        .put("/api/v1/teams/billing/members/bruno", &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["members"], json!(["bruno"]));
    let (status, body) = api.get("/api/v1/teams", &agent).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["items"],
        json!([{"name": "billing", "members": ["bruno"]}])
    );

    // Refusals: a plain agent, an unknown agent or team, a name of nothing.
    let (status, body) = api.put("/api/v1/teams/sales", &agent, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = api
        .put("/api/v1/teams/billing/members/ghost", &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = api.delete("/api/v1/teams/sales", &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = api.put("/api/v1/teams/%20", &admin, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, body) = api
        .delete("/api/v1/teams/billing/members/bruno", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["members"], json!([]));
    let (status, _) = api.delete("/api/v1/teams/billing", &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = api.get("/api/v1/teams", &agent).await;
    assert_eq!(body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn teams_are_managed_over_the_api_on_sqlite() {
    teams_story(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn teams_are_managed_over_the_api_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        teams_story(db).await;
    }
}

/// Canned replies through the API: admins manage them, agents list and send them.
async fn canned_story(db: TestDb) {
    let recorder = Recorder::new(Platform::Discord);
    let api = spawn(db, Config::default(), Some(&recorder)).await;
    let store = api.app.store.clone();
    let admin = token_for(&store, "anna", Role::Admin).await;
    let agent = token_for(&store, "bruno", Role::Agent).await;
    let text = "Hello {customer.first_name}, {agent.name} here about #{ticket.number}.";

    let (status, added) = api
        .put("/api/v1/canned/Greeting", &admin, json!({"text": text}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["name"], "greeting");
    assert_eq!(added["language"], Value::Null);
    let (status, replaced) = api
        .put("/api/v1/canned/greeting", &admin, json!({"text": text}))
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let (status, german) = api
        .put(
            "/api/v1/canned/greeting",
            &admin,
            json!({"text": "Hallo {customer.first_name}!", "language": "DE"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{german}");
    assert_eq!(german["language"], "de");

    // Refusals: a plain agent, a bad name, an empty text, a bad language, an unknown field.
    let (status, body) = api
        .put("/api/v1/canned/greeting", &agent, json!({"text": "x"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = api
        .put("/api/v1/canned/two%20words", &admin, json!({"text": "x"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_of(&body), ("invalid", Some("name")));
    let (status, body) = api
        .put("/api/v1/canned/empty", &admin, json!({"text": "  "}))
        .await;
    assert_eq!(
        error_of(&body),
        ("invalid", Some("text")),
        "{status} {body}"
    );
    let (status, body) = api
        .put(
            "/api/v1/canned/x",
            &admin,
            json!({"text": "x", "language": "klingon language"}),
        )
        .await;
    assert_eq!(
        error_of(&body),
        ("invalid", Some("language")),
        "{status} {body}"
    );
    let (status, body) = api
        .put(
            "/api/v1/canned/x",
            &admin,
            json!({"text": "x", "lang": "de"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = api
        .put(
            "/api/v1/canned/long",
            &admin,
            json!({"text": "x".repeat(3_501)}),
        )
        .await;
    assert_eq!(
        error_of(&body),
        ("invalid", Some("text")),
        "{status} {body}"
    );

    // Every agent can list them.
    let (status, list) = api.get("/api/v1/canned", &agent).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed: Vec<(Value, Value)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["name"].clone(), i["language"].clone()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (json!("greeting"), Value::Null),
            (json!("greeting"), json!("de"))
        ]
    );

    // An agent sends one as a typed command: it is their reply, filled in.
    let (status, created) = api
        .post(
            "/api/v1/tickets",
            &admin,
            new_message("u-9", "Where is my parcel?", None),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let number = created["ticket"]["number"].as_i64().expect("a number");
    let path = format!("/api/v1/tickets/{number}");
    let (status, sent) = api
        .post(
            &format!("{path}/commands"),
            &agent,
            json!({"name": "canned", "canned": "greeting"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let expected = format!("Hello Customer, bruno here about #{number}.");
    assert!(
        wait_for(&recorder, &expected).await,
        "{:?}",
        recorder.texts()
    );
    let (_, detail) = api.get(&path, &agent).await;
    let bodies: Vec<&str> = detail["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(bodies.contains(&expected.as_str()), "{bodies:?}");
    let (status, missing) = api
        .post(
            &format!("{path}/commands"),
            &agent,
            json!({"command": "/canned greetings"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert!(
        missing["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Did you mean: greeting?")),
        "{missing}"
    );

    // Removing one language, then the rest.
    let (status, _) = api
        .delete("/api/v1/canned/greeting?language=de", &agent)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api
        .delete("/api/v1/canned/greeting?language=de", &admin)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api
        .delete("/api/v1/canned/greeting?language=de", &admin)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = api.delete("/api/v1/canned/greeting", &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = api.get("/api/v1/canned", &agent).await;
    assert_eq!(list["items"], json!([]));
    api.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn canned_replies_are_managed_by_admins_and_sent_by_agents() {
    canned_story(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn canned_replies_are_managed_by_admins_and_sent_by_agents_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        canned_story(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faq_entries_are_managed_by_admins_through_the_api() {
    let api = spawn(TestDb::sqlite(), Config::default(), None).await;
    let store = api.app.store.clone();
    let admin = token_for(&store, "anna", Role::Admin).await;
    let agent = token_for(&store, "bruno", Role::Agent).await;
    let entry = json!({
        "keywords": ["Refund", "money back"],
        "question": "How do refunds work?",
        "answer": "Within 5 days.",
    });
    let (status, added) = api.put("/api/v1/faq/Refund", &admin, entry.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["name"], "refund");
    assert_eq!(added["keywords"], json!(["refund", "money back"]));
    let (status, _) = api.put("/api/v1/faq/refund", &admin, entry.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.put("/api/v1/faq/refund", &agent, entry.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = api
        .put(
            "/api/v1/faq/empty",
            &admin,
            json!({"keywords": [" "], "question": "q", "answer": "a"}),
        )
        .await;
    assert_eq!(
        error_of(&body),
        ("invalid", Some("keywords")),
        "{status} {body}"
    );
    let (status, body) = api
        .put(
            "/api/v1/faq/noanswer",
            &admin,
            json!({"keywords": ["x"], "question": "q", "answer": ""}),
        )
        .await;
    assert_eq!(
        error_of(&body),
        ("invalid", Some("answer")),
        "{status} {body}"
    );
    let (status, list) = api.get("/api/v1/faq", &agent).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    let (status, _) = api.delete("/api/v1/faq/refund", &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.delete("/api/v1/faq/refund", &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    api.app.stop().await.expect("clean stop");
}
