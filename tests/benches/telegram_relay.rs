//! Relaying through the real Telegram adapter (teloxide) and the whole process (hub, outbox,
//! SQLite) against the loopback Bot API fake, in two legs:
//!
//! * **unpaced** (every send limit off): `BENCH_CUSTOMERS` customers each write
//!   `BENCH_MESSAGES` private messages at once; then an agent answers each of them
//!   `BENCH_MESSAGES` times in their topics at once. Reported: messages a second and the
//!   latency from the update's arrival at the fake until the bot's `sendMessage` carrying that
//!   text (customer → topic, agent → customer).
//! * **paced** (the default limits: 30 a second, 20 a minute into the group, 20 topics a
//!   minute): a backlog of new customers keeps the staff group saturated for
//!   `BENCH_PACED_SECONDS`; meanwhile an agent answers one customer once a second. Reported:
//!   the group sends in the window against what 20 a minute allows, and the latency of those
//!   replies to the customer.
//!
//! cargo bench -p relaydesk-tests --bench telegram_relay
//!
//! `BENCH_LEG=unpaced` or `BENCH_LEG=paced` runs one leg only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use relaydesk::config::Config;
use relaydesk::telegram::{TelegramChannel, TelegramConfig, TelegramOptions};
use relaydesk_tests::app::{spawn_app_with, Spawn, TestApp};
use relaydesk_tests::bench::{env_number, percentile};
use relaydesk_tests::db::TestDb;
use relaydesk_tests::telegram_fake::{Call, TelegramFake, TgUser};

const STAFF: i64 = -1_001_000_000_001;
const AGENT: i64 = 9_000_001;

fn customer(i: usize) -> TgUser {
    TgUser::new(1_000 + i as i64, &format!("Cust{i:03}"))
}

async fn start(fake: &TelegramFake, paced: bool) -> TestApp {
    let mut config = Config::default();
    config.outbox.poll = Duration::from_millis(200);
    let mut telegram = TelegramConfig {
        token: Some(fake.token().to_string()),
        api_url: fake.url().to_string(),
        staff_chat_id: Some(STAFF),
        ..TelegramConfig::default()
    };
    if !paced {
        telegram.messages_per_second = 0;
        telegram.group_messages_per_minute = 0;
        telegram.topics_per_minute = 0;
    }
    config.telegram = telegram;
    let options = TelegramOptions {
        long_poll: Duration::from_secs(1),
        request_timeout: Duration::from_secs(10),
        ..TelegramOptions::default()
    };
    let channel = TelegramChannel::from_config(&config.telegram, options)
        .expect("valid Telegram configuration")
        .expect("the Telegram channel is on");
    spawn_app_with(Spawn {
        db: TestDb::sqlite(),
        config,
        channels: vec![Arc::new(channel)],
        ..Spawn::default()
    })
    .await
}

/// Successful `sendMessage` calls to `chat`.
fn sends_to(fake: &TelegramFake, chat: i64) -> Vec<Call> {
    fake.calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.ok() && c.int("chat_id") == Some(chat))
        .collect()
}

/// When each text first went out in a `sendMessage` to `chat` (a post may carry several).
fn first_sent(
    fake: &TelegramFake,
    chat: Option<i64>,
    texts: &[String],
) -> HashMap<String, Instant> {
    let calls: Vec<Call> = fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.ok() && chat.is_none_or(|chat| c.int("chat_id") == Some(chat)))
        .collect();
    let mut found = HashMap::new();
    for text in texts {
        if let Some(call) = calls
            .iter()
            .find(|c| c.str("text").is_some_and(|t| t.lines().any(|l| l == text)))
        {
            found.insert(text.clone(), call.at);
        }
    }
    found
}

/// Waits until every text has gone out; returns when each did.
async fn wait_sent(
    fake: &TelegramFake,
    chat: Option<i64>,
    texts: &[String],
    limit: Duration,
) -> HashMap<String, Instant> {
    let deadline = Instant::now() + limit;
    loop {
        let found = first_sent(fake, chat, texts);
        if found.len() == texts.len() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {} messages went out within {limit:?}",
            found.len(),
            texts.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The topic of each customer, by the name the bot gave it (`#1001 · Cust007 · …`).
fn topics_by_customer(fake: &TelegramFake) -> HashMap<usize, i64> {
    fake.topics(STAFF)
        .into_iter()
        .filter_map(|(topic, name, _)| {
            let owner = name
                .split(" · ")
                .nth(1)?
                .strip_prefix("Cust")?
                .parse()
                .ok()?;
            Some((owner, topic))
        })
        .collect()
}

struct Latencies(Vec<Duration>);

impl Latencies {
    fn of(pushed: &HashMap<String, Instant>, sent: &HashMap<String, Instant>) -> Self {
        let mut all: Vec<Duration> = pushed
            .iter()
            .filter_map(|(text, at)| sent.get(text).map(|s| s.saturating_duration_since(*at)))
            .collect();
        all.sort();
        Self(all)
    }

    fn pick(&self, p: f64) -> f64 {
        percentile(&self.0, p).as_secs_f64() * 1000.0
    }

    fn line(&self) -> String {
        format!(
            "p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            self.pick(50.0),
            self.pick(99.0),
            self.pick(100.0)
        )
    }
}

fn rate(count: usize, from: Instant, sent: &HashMap<String, Instant>) -> f64 {
    let last = sent.values().max().copied().unwrap_or(from);
    count as f64 / last.saturating_duration_since(from).as_secs_f64().max(1e-3)
}

async fn unpaced(customers: usize, messages: usize) {
    let fake = TelegramFake::start().await;
    let app = start(&fake, false).await;
    let agent = TgUser::new(AGENT, "Agnes");
    let started = Instant::now();
    let mut pushed = HashMap::new();
    for k in 0..messages {
        for i in 0..customers {
            let text = format!("c{i:03} m{k:02}");
            fake.push_private_text(&customer(i), &text);
            pushed.insert(text, Instant::now());
        }
    }
    let texts: Vec<String> = pushed.keys().cloned().collect();
    let sent = wait_sent(&fake, Some(STAFF), &texts, Duration::from_secs(600)).await;
    let inbound = Latencies::of(&pushed, &sent);
    let inbound_rate = rate(texts.len(), started, &sent);
    let topics = topics_by_customer(&fake);
    assert_eq!(topics.len(), customers, "one topic per customer");

    let started = Instant::now();
    let mut replies = HashMap::new();
    for k in 0..messages {
        for (i, topic) in &topics {
            let text = format!("r{i:03} k{k:02}");
            fake.push_topic_text(STAFF, *topic, &agent, &text);
            replies.insert(text, Instant::now());
        }
    }
    let texts: Vec<String> = replies.keys().cloned().collect();
    let sent = wait_sent(&fake, None, &texts, Duration::from_secs(600)).await;
    let outbound = Latencies::of(&replies, &sent);
    let outbound_rate = rate(texts.len(), started, &sent);
    println!("## unpaced: {customers} customers × {messages} messages, then as many replies");
    println!("| direction | messages | msgs/s | latency |");
    println!("|---|---|---|---|");
    println!(
        "| customer → topic | {} | {inbound_rate:.0} | {} |",
        pushed.len(),
        inbound.line()
    );
    println!(
        "| agent → customer | {} | {outbound_rate:.0} | {} |",
        replies.len(),
        outbound.line()
    );
    app.stop().await.expect("clean stop");
}

async fn paced(backlog: usize, seconds: u64) {
    let fake = TelegramFake::start().await;
    let app = start(&fake, true).await;
    let agent = TgUser::new(AGENT, "Agnes");
    // The customer the agent will answer writes first, so their topic opens first.
    fake.push_private_text(&customer(0), "first customer");
    let topic = loop {
        if let Some(topic) = topics_by_customer(&fake).get(&0) {
            break *topic;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The backlog: more new customers than the group can take in the window.
    for i in 1..=backlog {
        fake.push_private_text(&customer(i), &format!("c{i:03} needs help"));
    }
    // Give the backlog a few seconds to reach the outbox, then measure.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let window_start = Instant::now();
    let mut replies = HashMap::new();
    let mut k = 0;
    while window_start.elapsed() < Duration::from_secs(seconds) {
        let text = format!("paced reply {k:03}");
        fake.push_topic_text(STAFF, topic, &agent, &text);
        replies.insert(text, Instant::now());
        k += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let window_end = Instant::now();
    let texts: Vec<String> = replies.keys().cloned().collect();
    let sent = wait_sent(&fake, Some(customer(0).id), &texts, Duration::from_secs(60)).await;
    let latency = Latencies::of(&replies, &sent);
    // Group sends in the window: messages into the staff group and topics created there.
    let in_window = |c: &Call| c.at >= window_start && c.at < window_end;
    let posts = sends_to(&fake, STAFF)
        .iter()
        .filter(|c| in_window(c))
        .count();
    let topics = fake
        .calls_of("createForumTopic")
        .iter()
        .filter(|c| c.ok() && in_window(c))
        .count();
    let window = window_end.duration_since(window_start).as_secs_f64();
    let allowed = 20.0 * window / 60.0;
    let used = (posts + topics) as f64;
    let rejected = fake.calls().iter().filter(|c| c.status == 429).count();
    println!("## paced (defaults): {backlog} new customers waiting, {window:.0} s window");
    println!(
        "| group sends in window | allowed (20 a minute) | share used | 429s from the fake | replies | reply → customer |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {used:.0} ({posts} posts, {topics} topics) | {allowed:.1} | {:.0} % | {rejected} | {} | {} |",
        used / allowed * 100.0,
        replies.len(),
        latency.line()
    );
    app.stop().await.expect("clean stop");
}

#[tokio::main]
async fn main() {
    let customers = env_number("BENCH_CUSTOMERS", 50);
    let messages = env_number("BENCH_MESSAGES", 20);
    let backlog = env_number("BENCH_BACKLOG", 60);
    let seconds = env_number("BENCH_PACED_SECONDS", 120) as u64;
    let leg = std::env::var("BENCH_LEG").unwrap_or_default();
    if leg.is_empty() || leg == "unpaced" {
        unpaced(customers, messages).await;
    }
    if leg.is_empty() || leg == "paced" {
        paced(backlog, seconds).await;
    }
}
