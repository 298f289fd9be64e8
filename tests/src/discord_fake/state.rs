//! What the fake Discord knows and remembers: channels, messages, every REST call, queued
//! faults, and the gateway session.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;
use tokio::sync::mpsc;

/// One REST call as it arrived.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: Value,
}

impl Call {
    /// `POST /api/v10/channels/1/messages`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A failure to answer instead of the real thing.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `retry_after` (seconds) in the body and the rate-limit headers.
    RateLimited { retry_after: f64, global: bool },
    /// A 5xx answer.
    ServerError(u16),
    /// A 4xx answer with Discord's JSON error (`code`, `message`), e.g. 403 / 50007 "Cannot
    /// send messages to this user".
    Refused { status: u16, code: u64 },
    /// The call is carried out, but the answer is lost (502): a retry must not repeat it.
    AnswerLost,
}

#[derive(Debug, Clone)]
pub(super) struct QueuedFault {
    /// Applies to calls whose `METHOD path` contains this.
    pub matching: String,
    pub fault: Fault,
    pub times: usize,
}

#[derive(Debug, Clone)]
pub struct FakeChannel {
    pub id: u64,
    pub kind: u64,
    pub name: String,
    pub parent: Option<u64>,
    pub archived: bool,
    pub locked: bool,
    /// For DM channels: the other person.
    pub recipient: Option<Value>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub calls: Vec<Call>,
    /// Users whose interactions carry a locale other than `en-US`.
    pub locales: HashMap<u64, String>,
    pub next_id: u64,
    pub channels: HashMap<u64, FakeChannel>,
    /// Messages created through REST, per channel, in order.
    pub messages: HashMap<u64, Vec<Value>>,
    pub nonces: HashMap<(u64, String), Value>,
    pub reactions: Vec<(u64, u64, String)>,
    pub commands: Vec<Value>,
    pub interaction_responses: Vec<(u64, Value)>,
    pub faults: VecDeque<QueuedFault>,
    /// Gateway: every dispatch sent, with its sequence number, for RESUME.
    pub dispatched: Vec<(u64, String)>,
    pub seq: u64,
    pub connection: Option<mpsc::UnboundedSender<Frame>>,
    pub identifies: usize,
    pub resumes: usize,
    /// Whether a RESUME is accepted; when not, the gateway answers op 9 (invalid session).
    pub resume_refused: bool,
    /// Every message of every channel (written by anyone), for history reads.
    pub history: HashMap<u64, Vec<Value>>,
    /// Guild members' roles, as last seen.
    pub member_roles: HashMap<u64, Vec<u64>>,
    /// Most active (unarchived) threads the guild may have; Discord's is 1,000. `None`: no cap.
    pub thread_cap: Option<usize>,
}

/// What the gateway task is told to do.
#[derive(Debug)]
pub(super) enum Frame {
    Text(String),
    /// Drop the TCP connection without a close frame.
    Drop,
}

impl Inner {
    pub fn snowflake(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Takes the first queued fault that matches this call.
    pub fn take_fault(&mut self, line: &str) -> Option<Fault> {
        let index = self
            .faults
            .iter()
            .position(|f| line.contains(&f.matching))?;
        let queued = &mut self.faults[index];
        let fault = queued.fault.clone();
        queued.times -= 1;
        if queued.times == 0 {
            self.faults.remove(index);
        }
        Some(fault)
    }
}
