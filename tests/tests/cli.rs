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
}
