//! A small IMAP server on 127.0.0.1:0 holding one mailbox, written from RFC 9051 (IMAP4rev2)
//! and RFC 2177 (IDLE): enough for a client that logs in, selects INBOX, searches unseen
//! mail, fetches it by UID (whole or the first bytes), flags or moves it, and idles.
//!
//! Faults for the tests: drop the connection instead of answering the next FETCH or the next
//! STORE (a crash between reading a mail and marking it read).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One stored mail.
#[derive(Debug, Clone)]
pub struct StoredMail {
    pub uid: u32,
    pub data: Vec<u8>,
    pub seen: bool,
}

#[derive(Default)]
struct Mailbox {
    mails: Vec<StoredMail>,
    next_uid: u32,
    /// Mail moved out of INBOX: (folder, mail).
    moved: Vec<(String, StoredMail)>,
}

#[derive(Default)]
struct Shared {
    mailbox: Mutex<Mailbox>,
    arrived: Notify,
    drop_next_fetch: AtomicUsize,
    drop_next_store: AtomicUsize,
    logins: AtomicUsize,
    fetches: AtomicUsize,
}

pub struct ImapFake {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

pub const USER: &str = "support@acme.example";
pub const PASSWORD: &str = "mailbox-password";

impl ImapFake {
    pub async fn start() -> ImapFake {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the IMAP fake");
        let addr = listener.local_addr().expect("IMAP fake address");
        let shared = Arc::new(Shared::default());
        shared.mailbox.lock().expect("mailbox").next_uid = 1;
        let accepted = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, accepted.clone()));
            }
        });
        ImapFake { addr, shared, task }
    }

    /// `imap://…@127.0.0.1:PORT/INBOX` for `[email.imap] url`.
    pub fn url(&self) -> String {
        format!(
            "imap://{}:{PASSWORD}@{}/INBOX",
            USER.replace('@', "%40"),
            self.addr
        )
    }

    /// Delivers a mail into INBOX, unseen; returns its UID.
    pub fn deliver(&self, raw: &str) -> u32 {
        let uid = {
            let mut mailbox = self.shared.mailbox.lock().expect("mailbox");
            let uid = mailbox.next_uid;
            mailbox.next_uid += 1;
            mailbox.mails.push(StoredMail {
                uid,
                data: raw.as_bytes().to_vec(),
                seen: false,
            });
            uid
        };
        self.shared.arrived.notify_waiters();
        uid
    }

    pub fn mails(&self) -> Vec<StoredMail> {
        self.shared.mailbox.lock().expect("mailbox").mails.clone()
    }

    pub fn moved(&self) -> Vec<(String, StoredMail)> {
        self.shared.mailbox.lock().expect("mailbox").moved.clone()
    }

    /// Drops the connection instead of answering the next `n` FETCH commands.
    pub fn drop_next_fetches(&self, n: usize) {
        self.shared.drop_next_fetch.store(n, Ordering::SeqCst);
    }

    /// Drops the connection instead of answering the next `n` STORE commands.
    pub fn drop_next_stores(&self, n: usize) {
        self.shared.drop_next_store.store(n, Ordering::SeqCst);
    }

    pub fn logins(&self) -> usize {
        self.shared.logins.load(Ordering::SeqCst)
    }

    pub fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for ImapFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Takes one from a fault counter; true when the fault fires.
fn fire(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// The words of a command line, honouring "quoted strings".
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let greet = write
        .write_all(b"* OK [CAPABILITY IMAP4rev1 IDLE MOVE] ImapFake ready\r\n")
        .await;
    if greet.is_err() {
        return;
    }
    let mut logged_in = false;
    while let Ok(Some(line)) = lines.next_line().await {
        let parts = words(&line);
        let Some(tag) = parts.first().cloned() else {
            continue;
        };
        let command = parts
            .get(1)
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_default();
        let mut out = String::new();
        match command.as_str() {
            "CAPABILITY" => {
                out.push_str("* CAPABILITY IMAP4rev1 IDLE MOVE\r\n");
                out.push_str(&format!("{tag} OK CAPABILITY completed\r\n"));
            }
            "LOGIN" => {
                if parts.get(2).map(String::as_str) == Some(USER)
                    && parts.get(3).map(String::as_str) == Some(PASSWORD)
                {
                    logged_in = true;
                    shared.logins.fetch_add(1, Ordering::SeqCst);
                    out.push_str(&format!("{tag} OK LOGIN completed\r\n"));
                } else {
                    out.push_str(&format!(
                        "{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"
                    ));
                }
            }
            "NOOP" => out.push_str(&format!("{tag} OK NOOP completed\r\n")),
            "LOGOUT" => {
                out.push_str("* BYE logging out\r\n");
                out.push_str(&format!("{tag} OK LOGOUT completed\r\n"));
                let _ = write.write_all(out.as_bytes()).await;
                return;
            }
            _ if !logged_in => out.push_str(&format!("{tag} NO not logged in\r\n")),
            "SELECT" => {
                let mailbox = shared.mailbox.lock().expect("mailbox");
                out.push_str("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n");
                out.push_str(&format!("* {} EXISTS\r\n", mailbox.mails.len()));
                out.push_str("* OK [UIDVALIDITY 1] UIDs valid\r\n");
                out.push_str(&format!("* OK [UIDNEXT {}] next UID\r\n", mailbox.next_uid));
                out.push_str(&format!("{tag} OK [READ-WRITE] SELECT completed\r\n"));
            }
            "IDLE" => {
                if write.write_all(b"+ idling\r\n").await.is_err() {
                    return;
                }
                let mut known = shared.mailbox.lock().expect("mailbox").mails.len();
                loop {
                    let arrived = shared.arrived.notified();
                    let now = shared.mailbox.lock().expect("mailbox").mails.len();
                    let told = now == known
                        || write
                            .write_all(format!("* {now} EXISTS\r\n").as_bytes())
                            .await
                            .is_ok();
                    if !told {
                        return;
                    }
                    known = now;
                    tokio::select! {
                        _ = arrived => continue,
                        next = lines.next_line() => {
                            match next {
                                Ok(Some(done)) if done.trim().eq_ignore_ascii_case("DONE") => break,
                                _ => return,
                            }
                        }
                    }
                }
                out.push_str(&format!("{tag} OK IDLE terminated\r\n"));
            }
            "UID" => {
                let sub = parts
                    .get(2)
                    .map(|c| c.to_ascii_uppercase())
                    .unwrap_or_default();
                let uid: Option<u32> = parts.get(3).and_then(|u| u.parse().ok());
                match sub.as_str() {
                    "SEARCH" => {
                        let mailbox = shared.mailbox.lock().expect("mailbox");
                        let unseen: Vec<String> = mailbox
                            .mails
                            .iter()
                            .filter(|m| !m.seen)
                            .map(|m| m.uid.to_string())
                            .collect();
                        if unseen.is_empty() {
                            out.push_str("* SEARCH\r\n");
                        } else {
                            out.push_str(&format!("* SEARCH {}\r\n", unseen.join(" ")));
                        }
                        out.push_str(&format!("{tag} OK SEARCH completed\r\n"));
                    }
                    "FETCH" => {
                        if fire(&shared.drop_next_fetch) {
                            return;
                        }
                        shared.fetches.fetch_add(1, Ordering::SeqCst);
                        let query = parts[4..].join(" ").to_ascii_uppercase();
                        let limit = query
                            .split("<0.")
                            .nth(1)
                            .and_then(|rest| rest.split('>').next())
                            .and_then(|n| n.parse::<usize>().ok());
                        let found = {
                            let mailbox = shared.mailbox.lock().expect("mailbox");
                            mailbox
                                .mails
                                .iter()
                                .enumerate()
                                .find(|(_, m)| Some(m.uid) == uid)
                                .map(|(i, m)| (i + 1, m.clone()))
                        };
                        if let Some((seq, mail)) = found {
                            let body = match limit {
                                Some(n) if n < mail.data.len() => &mail.data[..n],
                                _ => &mail.data[..],
                            };
                            let section = if limit.is_some() {
                                "BODY[]<0>"
                            } else {
                                "BODY[]"
                            };
                            let head = format!(
                                "* {seq} FETCH (UID {} RFC822.SIZE {} {section} {{{}}}\r\n",
                                mail.uid,
                                mail.data.len(),
                                body.len()
                            );
                            let mut bytes = head.into_bytes();
                            bytes.extend_from_slice(body);
                            bytes.extend_from_slice(b")\r\n");
                            if write.write_all(&bytes).await.is_err() {
                                return;
                            }
                        }
                        out.push_str(&format!("{tag} OK FETCH completed\r\n"));
                    }
                    "STORE" => {
                        if fire(&shared.drop_next_store) {
                            return;
                        }
                        let mut mailbox = shared.mailbox.lock().expect("mailbox");
                        if let Some((i, mail)) = mailbox
                            .mails
                            .iter_mut()
                            .enumerate()
                            .find(|(_, m)| Some(m.uid) == uid)
                        {
                            mail.seen = true;
                            out.push_str(&format!(
                                "* {} FETCH (UID {} FLAGS (\\Seen))\r\n",
                                i + 1,
                                mail.uid
                            ));
                        }
                        out.push_str(&format!("{tag} OK STORE completed\r\n"));
                    }
                    "MOVE" => {
                        let folder = parts.get(4).cloned().unwrap_or_default();
                        let mut mailbox = shared.mailbox.lock().expect("mailbox");
                        if let Some(i) = mailbox.mails.iter().position(|m| Some(m.uid) == uid) {
                            let mail = mailbox.mails.remove(i);
                            mailbox.moved.push((folder, mail));
                            out.push_str(&format!("* {} EXPUNGE\r\n", i + 1));
                        }
                        out.push_str(&format!("{tag} OK MOVE completed\r\n"));
                    }
                    _ => out.push_str(&format!("{tag} BAD unknown UID command\r\n")),
                }
            }
            _ => out.push_str(&format!("{tag} BAD unknown command\r\n")),
        }
        if write.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}
