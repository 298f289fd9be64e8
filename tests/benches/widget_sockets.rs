//! Idle widget sockets on the real `relaydesk` binary (SQLite): the server's memory and CPU with
//! many sockets open and nothing happening, and how long an agent's reply takes to reach the
//! visitor's socket as a frame.
//!
//! cargo bench -p relaydesk-tests --bench widget_sockets
//!
//! Environment: BENCH_SOCKETS (default 10000), BENCH_REPLIES (default 200; each goes to its
//! own visitor, one after another), BENCH_IDLE_SECONDS (CPU sampling window, default 30).
//! Every figure is read from the server process: resident memory from `/proc/PID/status`
//! (`VmRSS`), CPU time from `/proc/PID/stat` (user + system) over the idle window.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use relaydesk::cli::token::{run as token_command, TokenCommand};
use relaydesk_storage::{Role, Store, StoreOptions, SystemClock};
use relaydesk_tests::bench::{env_number, percentile};
use relaydesk_tests::binary::{self, KillOnDrop};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// CPU time of `pid` (user + system) in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// One open socket: frames it receives arrive on `frames`.
struct Visitor {
    frames: mpsc::UnboundedReceiver<Value>,
    send: mpsc::UnboundedSender<Value>,
}

async fn open_socket(addr: &str, talk: Option<usize>) -> (Visitor, Option<i64>) {
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/widget/ws"))
        .await
        .expect("widget socket");
    let (mut sink, mut stream) = socket.split();
    let (frame_tx, frames) = mpsc::unbounded_channel::<Value>();
    let (send, mut outgoing) = mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                next = stream.next() => match next {
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) {
                            let _ = frame_tx.send(frame);
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                },
                Some(frame) = outgoing.recv() => {
                    if sink.send(Message::text(frame.to_string())).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    send.send(json!({"type": "hello", "name": "Visitor"}))
        .expect("hello");
    let mut visitor = Visitor { frames, send };
    wait_for(&mut visitor, |f| f["type"] == "welcome").await;
    let mut ticket = None;
    if let Some(i) = talk {
        visitor
            .send
            .send(json!({"type": "send", "id": format!("b-{i}"), "text": "hello?"}))
            .expect("send");
        let ack = wait_for(&mut visitor, |f| f["type"] == "ack").await;
        ticket = ack["ticket"].as_i64();
    }
    (visitor, ticket)
}

async fn wait_for(visitor: &mut Visitor, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), visitor.frames.recv())
            .await
            .expect("a frame within a minute")
            .expect("socket open");
        if pick(&frame) {
            return frame;
        }
    }
}

async fn prepare(url: &str) -> String {
    let store = Store::open(url, &StoreOptions::default())
        .await
        .expect("open the database");
    let mut tx = store.begin().await.expect("begin");
    tx.create_agent("anna", None, Role::Agent, 0)
        .await
        .expect("agent");
    tx.commit().await.expect("commit");
    let printed = token_command(
        &store,
        &SystemClock,
        TokenCommand::Create {
            name: "bench".into(),
            agent: "anna".into(),
        },
    )
    .await
    .expect("token");
    store.close().await;
    printed.out.trim().to_string()
}

fn start_server(dir: &Path, url: &str, addr: &str, sockets: usize) -> KillOnDrop {
    let mut command = std::process::Command::new(binary::relaydesk());
    command.arg("serve").current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RELAYDESK_") {
            command.env_remove(key);
        }
    }
    command
        .env("RELAYDESK_DATABASE_URL", url)
        .env("RELAYDESK_LISTEN", addr)
        .env("RELAYDESK_WEB_IP_REQUESTS_PER_MINUTE", "100000000")
        .env("RELAYDESK_WEB_API_REQUESTS_PER_MINUTE", "100000000")
        .env(
            "RELAYDESK_WEB_MAX_WIDGET_SOCKETS",
            (sockets + 100).to_string(),
        )
        .env("RELAYDESK_LOG", "warn")
        .env("NO_COLOR", "1");
    KillOnDrop::spawn(command, &dir.join("server.log"), "widget bench").expect("start relaydesk")
}

#[tokio::main]
async fn main() {
    let sockets = env_number("BENCH_SOCKETS", 10_000);
    let replies = env_number("BENCH_REPLIES", 200).min(sockets);
    let idle_seconds = env_number("BENCH_IDLE_SECONDS", 30) as u64;
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/relaydesk.db?mode=rwc", dir.path().display());
    let token = prepare(&url).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let server = start_server(dir.path(), &url, &addr, sockets);
    let pid = server.id().expect("server pid");
    let http = reqwest::Client::new();
    let ready = async {
        loop {
            if let Ok(r) = http.get(format!("http://{addr}/readyz")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), ready)
        .await
        .expect("the server became ready");
    let rss_start = rss_kib(pid);

    // The first `replies` visitors write once (so each has a ticket); the rest only say hello.
    let opened = Instant::now();
    let mut visitors = Vec::with_capacity(sockets);
    let mut tickets = Vec::with_capacity(replies);
    let mut talkers = std::collections::HashMap::new();
    let mut batch = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < sockets || !batch.is_empty() {
        while next < sockets && batch.len() < 200 {
            let addr = addr.clone();
            let talk = (next < replies).then_some(next);
            batch.spawn(async move { (talk, open_socket(&addr, talk).await) });
            next += 1;
        }
        if let Some(done) = batch.join_next().await {
            let (talk, (visitor, ticket)) = done.expect("socket task");
            if let (Some(i), Some(ticket)) = (talk, ticket) {
                tickets.push((i, ticket));
                talkers.insert(i, visitors.len());
            }
            visitors.push((talk, visitor));
        }
    }
    let open_time = opened.elapsed();
    // Let the server settle (outbox, allocator) before sampling.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_open = rss_kib(pid);
    let ticks_before = cpu_ticks(pid);
    let idle_started = Instant::now();
    tokio::time::sleep(Duration::from_secs(idle_seconds)).await;
    let ticks_after = cpu_ticks(pid);
    let idle_elapsed = idle_started.elapsed().as_secs_f64();
    let cpu_percent =
        (ticks_after - ticks_before) as f64 / clock_ticks_per_second() as f64 / idle_elapsed
            * 100.0;

    // Replies, one at a time: from the API call until the frame is on the visitor's socket.
    let mut latencies = Vec::with_capacity(replies);
    for (i, number) in &tickets {
        let visitor = &mut visitors[talkers[i]].1;
        let text = format!("reply {i}");
        let started = Instant::now();
        let response = http
            .post(format!("http://{addr}/api/v1/tickets/{number}/reply"))
            .bearer_auth(&token)
            .json(&json!({ "text": text }))
            .send()
            .await
            .expect("reply call");
        assert!(
            response.status().is_success(),
            "reply: {}",
            response.status()
        );
        wait_for(visitor, |f| f["type"] == "message" && f["text"] == text).await;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let rss_end = rss_kib(pid);
    println!(
        "| sockets | open time | RSS at start | RSS with sockets open | RSS after replies | idle CPU | replies | reply → frame p50 | p99 | max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {sockets} | {:.1} s | {:.1} MB | {:.1} MB | {:.1} MB | {cpu_percent:.2} % of one core over {idle_elapsed:.0} s | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
        open_time.as_secs_f64(),
        rss_start as f64 / 1024.0,
        rss_open as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        latencies.len(),
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    drop(visitors);
    drop(server);
}
