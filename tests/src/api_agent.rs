//! An agent acting through the running app's REST API, as an integration would: the app's own
//! hub applies the command, so its live views (widget sockets, console pages) hear of it.

use relaydesk::cli::token::{run as token_command, TokenCommand};
use relaydesk_storage::{Role, SystemClock};
use serde_json::json;

use crate::app::TestApp;

pub struct ApiAgent {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl ApiAgent {
    /// Creates the agent and an API token acting as them.
    pub async fn new(app: &TestApp, name: &str) -> Self {
        let mut tx = app.store.begin().await.expect("begin");
        tx.create_agent(
            name,
            None,
            Role::Agent,
            chrono::Utc::now().timestamp_millis(),
        )
        .await
        .expect("agent");
        tx.commit().await.expect("commit");
        let printed = token_command(
            &app.store,
            &SystemClock,
            TokenCommand::Create {
                name: format!("{name}-test"),
                agent: name.to_string(),
            },
        )
        .await
        .expect("token create");
        Self {
            base: app.url(""),
            token: printed.out.trim().to_string(),
            client: reqwest::Client::new(),
        }
    }

    /// The API token acting as this agent.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Runs a chat command (`/reply …`, `/note …`, `/close …`) on ticket `number`.
    pub async fn command(&self, number: i64, command: &str) {
        let response = self
            .client
            .post(format!("{}/api/v1/tickets/{number}/commands", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "command": command }))
            .send()
            .await
            .expect("API call");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{command}: {status} {body}");
    }

    /// `GET path?query` as this agent: the status and the body as JSON (`null` when it is not).
    pub async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let (status, text) = self.get_text(path, query).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// `GET path?query` as this agent: the status and the body.
    pub async fn get_text(&self, path: &str, query: &[(&str, &str)]) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("API call");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}
