//! The administration commands through the real binary, as an operator types them: what they
//! print, what they refuse, and that the answer is in the database the server uses.

use std::path::Path;
use std::process::{Command, Output};

use relaydesk_tests::binary;

/// Runs `relaydesk --config <dir>/relaydesk.toml ARGS` with no RELAYDESK_* variables.
fn relaydesk(dir: &Path, args: &[&str]) -> Output {
    let config = dir.join("relaydesk.toml");
    if !config.exists() {
        std::fs::write(
            &config,
            format!(
                "database_url = \"sqlite://{}\"\n",
                dir.join("desk.db").display()
            ),
        )
        .expect("write the configuration");
    }
    let mut command = Command::new(binary::relaydesk());
    command
        .arg("--config")
        .arg(&config)
        .args(args)
        .current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RELAYDESK_") {
            command.env_remove(key);
        }
    }
    command.output().expect("run the relaydesk binary")
}

fn out(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn err(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn canned_replies_are_added_listed_replaced_and_removed() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();

    let added = relaydesk(
        dir,
        &[
            "canned",
            "add",
            "Greeting",
            "--text",
            "Hello {customer.first_name}, {agent.name} here.",
        ],
    );
    assert!(added.status.success(), "{}", err(&added));
    assert!(
        err(&added).contains(&format!(
            "database: sqlite://{}",
            dir.join("desk.db").display()
        )),
        "the command says which database it opened: {}",
        err(&added)
    );
    assert_eq!(
        out(&added).trim(),
        "canned reply `greeting` (every language) added"
    );
    let german = relaydesk(
        dir,
        &[
            "canned",
            "add",
            "greeting",
            "--lang",
            "de",
            "--text",
            "Hallo {customer.firstname}!",
        ],
    );
    assert!(german.status.success(), "{}", err(&german));
    assert!(
        out(&german).contains("warning: {customer.firstname} is not a variable"),
        "{}",
        out(&german)
    );
    let replaced = relaydesk(
        dir,
        &[
            "canned",
            "add",
            "greeting",
            "--lang",
            "de",
            "--text",
            "Hallo {customer.first_name}!",
        ],
    );
    assert_eq!(
        out(&replaced).trim(),
        "canned reply `greeting` (de) replaced"
    );

    let listed = out(&relaydesk(dir, &["canned", "list"]));
    let lines: Vec<&str> = listed.lines().map(str::trim_end).collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(
        lines[1].starts_with("greeting")
            && lines[1].ends_with("Hello {customer.first_name}, {agent.name} here.")
    );
    assert!(lines[2].contains(" de ") && lines[2].ends_with("Hallo {customer.first_name}!"));

    // Bad input is refused with the reason and a failing exit status.
    let bad = relaydesk(dir, &["canned", "add", "two words", "--text", "x"]);
    assert!(!bad.status.success());
    assert!(
        err(&bad).contains("is not a canned reply name"),
        "{}",
        err(&bad)
    );
    let empty = relaydesk(dir, &["canned", "add", "blank", "--text", "   "]);
    assert!(!empty.status.success());
    assert!(err(&empty).contains("needs a text"), "{}", err(&empty));
    let missing = relaydesk(dir, &["canned", "remove", "nothing"]);
    assert!(!missing.status.success());
    assert!(
        err(&missing).contains("there is no canned reply `nothing`"),
        "{}",
        err(&missing)
    );

    let removed = relaydesk(dir, &["canned", "remove", "greeting", "--lang", "de"]);
    assert_eq!(
        out(&removed).trim(),
        "canned reply `greeting` removed (1 text(s))"
    );
    let removed = relaydesk(dir, &["canned", "remove", "greeting"]);
    assert!(removed.status.success(), "{}", err(&removed));
    assert!(out(&relaydesk(dir, &["canned", "list"])).starts_with("no canned replies"));
}

/// Writes `relaydesk.toml` with `extra` after the database line.
fn configure(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("relaydesk.toml"),
        format!(
            "database_url = \"sqlite://{}\"\nlisten = \"127.0.0.1:0\"\n{extra}",
            dir.join("desk.db").display()
        ),
    )
    .expect("write the configuration");
}

#[test]
fn bad_teams_and_routing_stop_the_start_naming_the_key() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();

    configure(
        dir,
        "[[teams]]\nname = \"billing\"\n\n[[routing]]\nkeywords = [\"refund\"]\nteam = \"sales\"\n",
    );
    let unknown_team = relaydesk(dir, &["serve"]);
    assert!(!unknown_team.status.success());
    assert!(
        err(&unknown_team).contains("routing[0].team: no team named `sales`"),
        "{}",
        err(&unknown_team)
    );

    configure(
        dir,
        "[[teams]]\nname = \"billing\"\n\n[[routing]]\nchannels = [\"fax\"]\nteam = \"billing\"\n",
    );
    let bad_channel = relaydesk(dir, &["serve"]);
    assert!(err(&bad_channel).contains("routing[0].channels: `fax` is not a channel"));

    configure(
        dir,
        "[[teams]]\nname = \"billing\"\nmembers = [\"ghost\"]\nassignment = \"round_robin\"\n",
    );
    let unknown_agent = relaydesk(dir, &["serve"]);
    assert!(!unknown_agent.status.success());
    assert!(
        err(&unknown_agent).contains("teams[0].members[0]: no agent named `ghost`"),
        "{}",
        err(&unknown_agent)
    );

    configure(
        dir,
        "[[teams]]\nname = \"billing\"\nassignment = \"lottery\"\n",
    );
    let bad_assignment = relaydesk(dir, &["serve"]);
    assert!(!bad_assignment.status.success());
    assert!(
        err(&bad_assignment).contains("lottery"),
        "{}",
        err(&bad_assignment)
    );

    for (team, named) in [
        (
            "time_zone = \"Mars/Olympus\"",
            "teams[0].time_zone: `Mars/Olympus` is not an IANA time zone",
        ),
        (
            "discord_channel_id = \"general\"",
            "teams[0].discord_channel_id: `general` is not a Discord channel id",
        ),
        (
            "on_breach = { priority = \"asap\" }",
            "teams[0].on_breach.priority: `asap` is not low, normal, high or urgent",
        ),
        (
            "business_hours = { time_zone = \"Europe/Berlin\", mon = [\"9-5\"] }",
            "teams[0].business_hours",
        ),
    ] {
        configure(dir, &format!("[[teams]]\nname = \"billing\"\n{team}\n"));
        let refused = relaydesk(dir, &["serve"]);
        assert!(!refused.status.success(), "{team}");
        assert!(err(&refused).contains(named), "{team}: {}", err(&refused));
    }
}

#[test]
fn teams_are_added_given_members_listed_and_removed() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let added = relaydesk(
        dir,
        &["agent", "add", "anna", "--email", "anna@example.com"],
    );
    assert!(added.status.success(), "{}", err(&added));

    let team = relaydesk(dir, &["team", "add", "billing"]);
    assert!(team.status.success(), "{}", err(&team));
    assert_eq!(out(&team).trim(), "team billing added");
    let again = relaydesk(dir, &["team", "add", "Billing"]);
    assert_eq!(out(&again).trim(), "team billing exists already");
    let joined = relaydesk(dir, &["team", "add-member", "billing", "anna"]);
    assert!(joined.status.success(), "{}", err(&joined));
    assert_eq!(out(&joined).trim(), "team billing: anna");
    assert_eq!(
        out(&relaydesk(dir, &["team", "list"])).trim(),
        "billing: anna"
    );
    let ghost = relaydesk(dir, &["team", "add-member", "billing", "ghost"]);
    assert!(!ghost.status.success());
    assert!(
        err(&ghost).contains("no agent named `ghost`"),
        "{}",
        err(&ghost)
    );
    let left = relaydesk(dir, &["team", "remove-member", "billing", "anna"]);
    assert_eq!(out(&left).trim(), "team billing: no members");
    let not_in = relaydesk(dir, &["team", "remove-member", "billing", "anna"]);
    assert!(
        err(&not_in).contains("anna is not in team billing"),
        "{}",
        err(&not_in)
    );
    let blank = relaydesk(dir, &["team", "add", "   "]);
    assert!(!blank.status.success());
    assert!(
        err(&blank).contains("a team name needs 1 to 50"),
        "{}",
        err(&blank)
    );
    let removed = relaydesk(dir, &["team", "remove", "billing"]);
    assert!(removed.status.success(), "{}", err(&removed));
    assert_eq!(out(&relaydesk(dir, &["team", "list"])).trim(), "no teams");
    let unknown = relaydesk(dir, &["team", "remove", "billing"]);
    assert!(
        err(&unknown).contains("there is no team `billing`"),
        "{}",
        err(&unknown)
    );
}

/// Opens two tickets on 1 and 2 December 2026 (UTC) in the database the binary uses: a
/// Telegram one answered after 5 minutes and closed after an hour, a web one still open.
fn seed_two_tickets(dir: &Path) {
    use relaydesk_storage::{Platform, Store, StoreOptions, TicketStatus};
    use relaydesk_tests::seed::ticket_with_message;
    const DEC_1: i64 = 1_796_083_200_000;
    const MINUTE: i64 = 60_000;
    let url = format!("sqlite://{}?mode=rwc", dir.join("desk.db").display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::open(&url, &StoreOptions::default())
            .await
            .expect("store");
        let mut tx = store.begin().await.expect("tx");
        for (who, origin, at) in [
            ("ada", Platform::Telegram, DEC_1 + 60 * MINUTE),
            ("bo", Platform::Web, DEC_1 + 1_440 * MINUTE + 30 * MINUTE),
        ] {
            let ticket = ticket_with_message(&mut tx, who, origin, at, None).await;
            if origin == Platform::Telegram {
                tx.note_agent_reply(ticket, at + 5 * MINUTE)
                    .await
                    .expect("reply");
                tx.set_status(ticket, TicketStatus::Closed, None, at + 60 * MINUTE)
                    .await
                    .expect("close");
            }
        }
        tx.commit().await.expect("commit");
        store.close().await;
    });
}

#[test]
fn a_report_prints_as_a_table_csv_and_json_and_refuses_bad_options() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let migrated = relaydesk(dir, &["migrate"]);
    assert!(migrated.status.success(), "{}", err(&migrated));
    seed_two_tickets(dir);
    let span = ["--since", "2026-12-01", "--until", "2026-12-03"];

    let csv = relaydesk(
        dir,
        &[&["report", "--by", "channel", "--format", "csv"][..], &span].concat(),
    );
    assert!(csv.status.success(), "{}", err(&csv));
    let csv = out(&csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("period,group,opened,closed,reopened,backlog,first_responses,first_response_median_seconds"), "{csv}");
    assert!(
        lines.contains(&"2026-12-01,telegram,1,1,0,0,1,300,300,1,3600,3600,,,,,0,0,0,0,0,,0,0,,,0"),
        "{csv}"
    );
    assert!(
        lines.contains(&"2026-12-02,web,1,0,0,1,0,,,0,,,,,,,0,0,0,0,0,,0,0,,,0"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");

    let json = relaydesk(dir, &[&["report", "--format", "json"][..], &span].concat());
    assert!(json.status.success(), "{}", err(&json));
    let rows: serde_json::Value = serde_json::from_str(&out(&json)).expect("JSON");
    assert_eq!(rows[0]["period"], "2026-12-01");
    assert_eq!(rows[0]["group"], "all");
    assert_eq!(rows[0]["first_response_median_seconds"], 300);
    assert_eq!(rows[1]["backlog"], 1);

    let table = relaydesk(dir, &[&["report"][..], &span].concat());
    assert!(table.status.success(), "{}", err(&table));
    assert!(out(&table).contains("5m / 5m"), "{}", out(&table));

    let bad = relaydesk(dir, &["report", "--period", "fortnight"]);
    assert!(!bad.status.success());
    assert!(
        err(&bad).contains("use day, week or month"),
        "{}",
        err(&bad)
    );
    let bad = relaydesk(dir, &["report", "--time-zone", "Mars/Olympus"]);
    assert!(err(&bad).contains("not an IANA time zone"), "{}", err(&bad));
    let bad = relaydesk(dir, &["report", "--by", "weather"]);
    assert!(
        err(&bad).contains("agent, team, channel, priority"),
        "{}",
        err(&bad)
    );
    let bad = relaydesk(dir, &["report", "--until", "yesterday-ish"]);
    assert!(err(&bad).contains("--until"), "{}", err(&bad));
}

#[test]
fn healthcheck_is_0_while_serving_and_1_after_stopping_and_one_server_per_sqlite_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    std::fs::write(
        dir.join("relaydesk.toml"),
        format!(
            "database_url = \"sqlite://{}\"\nlisten = \"127.0.0.1:{port}\"\n",
            dir.join("desk.db").display()
        ),
    )
    .expect("write the configuration");
    let before = relaydesk(dir, &["healthcheck"]);
    assert_eq!(before.status.code(), Some(1), "nothing is serving yet");
    assert!(err(&before).contains("unhealthy"), "{}", err(&before));

    let mut serve = Command::new(binary::relaydesk());
    serve
        .arg("--config")
        .arg(dir.join("relaydesk.toml"))
        .arg("serve")
        .current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RELAYDESK_") {
            serve.env_remove(key);
        }
    }
    let server = binary::KillOnDrop::spawn(serve, &dir.join("serve.log"), "serve")
        .expect("start relaydesk serve");
    let mut healthy = None;
    for _ in 0..300 {
        let check = relaydesk(dir, &["healthcheck"]);
        if check.status.success() {
            healthy = Some(check);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let healthy = healthy.unwrap_or_else(|| {
        panic!(
            "never healthy:\n{}",
            binary::tail(&dir.join("serve.log"), 30)
        )
    });
    assert!(
        out(&healthy).contains("\"status\":\"ready\""),
        "{}",
        out(&healthy)
    );

    // A second server on the same SQLite file is refused, and says why.
    let second = relaydesk(dir, &["serve"]);
    assert!(!second.status.success(), "a second server started");
    assert!(
        err(&second).contains("another relaydesk process is already serving the SQLite database"),
        "{}",
        err(&second)
    );
    // Commands still work beside the server.
    let listed = relaydesk(dir, &["agent", "list"]);
    assert!(listed.status.success(), "{}", err(&listed));

    drop(server);
    let after = relaydesk(dir, &["healthcheck"]);
    assert_eq!(after.status.code(), Some(1), "{}", out(&after));
    assert!(
        err(&after).contains(&format!("http://127.0.0.1:{port}/readyz")),
        "{}",
        err(&after)
    );
}

#[test]
fn config_check_accepts_the_example_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../relaydesk.example.toml");
    std::fs::copy(&example, dir.join("relaydesk.toml")).expect("copy the example");
    let checked = relaydesk(dir, &["config", "check"]);
    assert!(checked.status.success(), "{}", err(&checked));
    assert!(
        out(&checked).contains("listen = \"127.0.0.1:8080\""),
        "{}",
        out(&checked)
    );
    assert!(
        err(&checked).contains("configuration is valid: database sqlite"),
        "{}",
        err(&checked)
    );

    std::fs::write(
        dir.join("relaydesk.toml"),
        "[telegram]\ntoken = \"123456:very-secret\"\nstaff_chat_id = -1001\n\n[[webhooks]]\nurl = \"ftp://x\"\nsecret = \"0123456789abcdef\"\n",
    )
    .expect("write");
    let bad = relaydesk(dir, &["config", "check"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(err(&bad).contains("webhooks[0].url"), "{}", err(&bad));
    std::fs::write(
        dir.join("relaydesk.toml"),
        "[telegram]\ntoken = \"123456:very-secret\"\nstaff_chat_id = -1001\n",
    )
    .expect("write");
    let masked = relaydesk(dir, &["config", "check"]);
    assert!(masked.status.success(), "{}", err(&masked));
    assert!(out(&masked).contains("token = \"***\""), "{}", out(&masked));
    assert!(!out(&masked).contains("very-secret"));
}
