//! The real binary's logs: `RELAYDESK_LOG_FORMAT=json` writes one JSON object per line, and
//! every line about one relayed message (its arrival, the post in the staff topic, the agent's
//! answer, its delivery) names the ticket; plain text has no colour codes off a terminal.

use std::path::Path;
use std::time::Duration;

use relaydesk_tests::binary::{self, KillOnDrop};
use relaydesk_tests::telegram_fake::{TelegramFake, TgUser};
use serde_json::Value;

const STAFF: i64 = -100_777;
const LIMIT: Duration = Duration::from_secs(60);

/// Starts `relaydesk serve` on SQLite against the fake, logging in `format` to `log`.
fn serve(dir: &Path, fake: &TelegramFake, format: &str, log: &Path) -> KillOnDrop {
    let config = dir.join("relaydesk.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"sqlite://{}\"\nlisten = \"127.0.0.1:0\"\n\n\
             [outbox]\npoll = \"100ms\"\n\n\
             [telegram]\napi_url = \"{}\"\nstaff_chat_id = {STAFF}\n\
             messages_per_second = 1000\ngroup_messages_per_minute = 1000\ntopics_per_minute = 1000\n",
            dir.join("desk.db").display(),
            fake.url(),
        ),
    )
    .expect("write the configuration");
    let mut command = std::process::Command::new(binary::relaydesk());
    command
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RELAYDESK_") {
            command.env_remove(key);
        }
    }
    command
        .env("RELAYDESK_TELEGRAM_TOKEN", fake.token())
        .env("RELAYDESK_LOG_FORMAT", format)
        .env_remove("NO_COLOR");
    KillOnDrop::spawn(command, log, format).expect("start the relaydesk binary")
}

/// A customer writes, the topic opens, an agent answers, the answer reaches the customer.
async fn relay_one_message(fake: &TelegramFake) -> i64 {
    let customer = TgUser::new(5001, "Carla");
    let message = fake.push_private_text(&customer, "my parcel is lost");
    fake.wait_until("the ticket's topic", LIMIT, |f| !f.topics(STAFF).is_empty())
        .await;
    let topic = fake.topics(STAFF)[0].0;
    fake.push_topic_text(STAFF, topic, &TgUser::new(6001, "Bo"), "We are on it.");
    fake.wait_until("the answer at the customer", LIMIT, |f| {
        f.texts_to(5001, None).iter().any(|t| t == "We are on it.")
    })
    .await;
    message
}

/// The lines the process wrote (not the harness's start markers).
fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .expect("read the log")
        .lines()
        .filter(|l| !l.starts_with("===== "))
        .map(str::to_string)
        .collect()
}

/// The value of `field` in the innermost span of `line` that has it.
fn span_field<'a>(line: &'a Value, field: &str) -> Option<&'a Value> {
    line["spans"]
        .as_array()?
        .iter()
        .rev()
        .find_map(|span| span.get(field))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn json_logs_name_the_ticket_on_every_line_about_a_relayed_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fake = TelegramFake::start().await;
    let log = dir.path().join("json.log");
    let mut process = serve(dir.path(), &fake, "json", &log);
    let message = relay_one_message(&fake).await;
    // The answer's delivery is recorded after the send returns; give the line a moment.
    let delivered_to_customer = |lines: &[Value]| {
        lines.iter().any(|l| {
            l["fields"]["message"] == "delivered" && span_field(l, "ticket") == Some(&1001.into())
        })
    };
    for _ in 0..100 {
        let parsed: Vec<Value> = lines(&log)
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if delivered_to_customer(&parsed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    process.kill();

    let raw = lines(&log);
    assert!(!raw.is_empty());
    let parsed: Vec<Value> = raw
        .iter()
        .map(|l| {
            let value: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {l}"));
            assert!(value.is_object(), "{l}");
            assert!(
                value["level"].is_string() && value["timestamp"].is_string(),
                "{l}"
            );
            value
        })
        .collect();

    // The customer's message: every line logged while it was handled names ticket #1001.
    let external_id = format!("5001:{message}");
    let about_it: Vec<&Value> = parsed
        .iter()
        .filter(|l| span_field(l, "external_id") == Some(&external_id.clone().into()))
        .collect();
    assert!(
        about_it
            .iter()
            .any(|l| l["fields"]["message"] == "customer message stored"),
        "{about_it:#?}"
    );
    for line in &about_it {
        assert_eq!(span_field(line, "ticket"), Some(&1001.into()), "{line}");
        assert_eq!(
            span_field(line, "platform"),
            Some(&"telegram".into()),
            "{line}"
        );
    }
    // Its post in the topic, the agent's answer, and the answer's delivery say so too.
    let deliveries: Vec<&Value> = parsed
        .iter()
        .filter(|l| l["fields"]["message"] == "delivered")
        .collect();
    assert!(deliveries.len() >= 2, "{deliveries:#?}");
    for line in &deliveries {
        assert_eq!(span_field(line, "ticket"), Some(&1001.into()), "{line}");
        assert!(
            span_field(line, "delivery").is_some_and(Value::is_i64),
            "{line}"
        );
    }
    // The agent's answer, relayed (perhaps after being held until the topic was linked).
    let relayed: Vec<&Value> = parsed
        .iter()
        .filter(|l| {
            l["fields"]["message"] == "staff message handled"
                && l["fields"]["outcome"]
                    .as_str()
                    .is_some_and(|o| o.starts_with("Relayed"))
        })
        .collect();
    assert_eq!(relayed.len(), 1, "{parsed:#?}");
    assert_eq!(span_field(relayed[0], "ticket"), Some(&1001.into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn text_logs_have_no_colour_codes_off_a_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fake = TelegramFake::start().await;
    let log = dir.path().join("text.log");
    let mut process = serve(dir.path(), &fake, "text", &log);
    relay_one_message(&fake).await;
    process.kill();
    let text = lines(&log).join("\n");
    assert!(text.contains("customer message stored"), "{text}");
    assert!(text.contains("ticket=1001"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "ANSI escape codes in a log file:\n{text}"
    );
}
