//! Which conversation a mail belongs to, and the Message-IDs we send.
//!
//! An email conversation is the customer's address plus a thread token: the token of the
//! first mail of the thread (a hash of its Message-ID). Every mail we send carries the token
//! in its own Message-ID, so a reply that names one of ours in `In-Reply-To`/`References`
//! finds its conversation; a reply that only names the customer's earlier mail finds it by
//! that mail's hash. The address is part of the conversation: a mail naming someone else's
//! thread opens a conversation of its own sender and never joins another customer's ticket.

use std::fmt;

use sha2::{Digest, Sha256};

/// Characters of a thread token (hex of SHA-256).
const TOKEN_CHARS: usize = 20;

/// What our Message-IDs start with: `<rd.{token}.{key}@{domain}>`.
const OURS: &str = "rd.";

/// The customer-side address of an email conversation, as stored in `tickets.conversation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailThread {
    /// The customer's address, lowercased.
    pub address: String,
    pub token: String,
}

impl MailThread {
    /// The thread whose first mail had `message_id`.
    pub fn started_by(address: &str, message_id: &str) -> Self {
        Self {
            address: normalise_address(address),
            token: token_of(message_id),
        }
    }

    /// Reads a stored conversation; `None` when it is not an email conversation.
    pub fn parse(conversation: &str) -> Option<Self> {
        let (address, token) = conversation.rsplit_once(' ')?;
        (is_token(token) && address.contains('@')).then(|| Self {
            address: address.to_string(),
            token: token.to_string(),
        })
    }

    /// The conversation `address` would have in the thread of each id `ids` names: the
    /// token an id of ours carries, else the hash of the id (a customer's earlier mail).
    pub fn candidates<'a>(
        address: &'a str,
        ids: impl IntoIterator<Item = &'a str> + 'a,
    ) -> impl Iterator<Item = MailThread> + 'a {
        ids.into_iter().map(move |id| match our_token(id) {
            Some(token) => MailThread {
                address: normalise_address(address),
                token: token.to_string(),
            },
            None => MailThread::started_by(address, id),
        })
    }

    /// The Message-ID of a mail we send in this thread: `key` is the same for every attempt
    /// of one send, so a retried send has the same id (and mail clients show it once).
    pub fn message_id(&self, key: &str, domain: &str) -> String {
        let key: String = key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("<{OURS}{}.{key}@{domain}>", self.token)
    }
}

impl fmt::Display for MailThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.address, self.token)
    }
}

/// Addresses compare without case (the local part is case-sensitive by the letter of RFC
/// 5321, but no mail provider treats it so).
pub fn normalise_address(address: &str) -> String {
    address.trim().to_lowercase()
}

/// The thread token of a Message-ID (with or without its angle brackets).
fn token_of(message_id: &str) -> String {
    let id = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let digest = Sha256::digest(id.as_bytes());
    hex::encode(digest)[..TOKEN_CHARS].to_string()
}

fn is_token(s: &str) -> bool {
    s.len() == TOKEN_CHARS && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The token in one of our Message-IDs.
fn our_token(message_id: &str) -> Option<&str> {
    let id = message_id.trim().trim_start_matches('<');
    let rest = id.strip_prefix(OURS)?;
    let token = rest.get(..TOKEN_CHARS)?;
    (is_token(token) && rest[TOKEN_CHARS..].starts_with('.')).then_some(token)
}

/// Every Message-ID of ours in `text` (a bounce quotes the mail it returns).
pub fn our_ids_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&format!("<{OURS}")) {
        let tail = &rest[start..];
        match tail.find('>') {
            Some(end) if end < 200 => {
                let id = &tail[..=end];
                if our_token(id).is_some() && !found.iter().any(|f| f == id) {
                    found.push(id.to_string());
                }
                rest = &tail[end..];
            }
            _ => break,
        }
    }
    found
}

/// The ticket number in a subject: `[#1042]`.
pub fn ticket_number_in(subject: &str) -> Option<i64> {
    let start = subject.find("[#")?;
    let rest = &subject[start + 2..];
    let end = rest.find(']')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The subject of a mail we send about ticket `number`.
pub fn reply_subject(subject: &str, number: i64) -> String {
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let subject = subject.trim();
    let tag = format!("[#{number}]");
    let base = if subject.contains(&tag) {
        subject.to_string()
    } else {
        format!("{subject} {tag}")
    };
    let lower = base.to_lowercase();
    if lower.starts_with("re:") {
        base
    } else {
        format!("Re: {base}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_reads_back_as_written() {
        let thread = MailThread::started_by("Ann@Example.COM", "<abc@mail.example>");
        assert_eq!(thread.address, "ann@example.com");
        let text = thread.to_string();
        assert_eq!(MailThread::parse(&text), Some(thread.clone()));
        assert_eq!(MailThread::parse("12345"), None);
        assert_eq!(MailThread::parse("someone 12345"), None);
        // Brackets or not, one mail is one thread.
        assert_eq!(
            MailThread::started_by("ann@example.com", "abc@mail.example"),
            thread
        );
    }

    #[test]
    fn replies_find_the_thread_by_our_ids_or_the_customers() {
        let thread = MailThread::started_by("ann@example.com", "<first@mail.example>");
        let ours = thread.message_id("41+2", "desk.example");
        assert!(ours.starts_with("<rd.") && ours.ends_with("@desk.example>"));
        assert!(!ours.contains('+'));
        let found: Vec<MailThread> =
            MailThread::candidates("ANN@example.com", [ours.as_str()]).collect();
        assert_eq!(found, vec![thread.clone()]);
        let found: Vec<MailThread> =
            MailThread::candidates("ann@example.com", ["<first@mail.example>"]).collect();
        assert_eq!(found, vec![thread.clone()]);
        // Someone else naming Ann's thread gets a conversation of their own.
        let other: Vec<MailThread> =
            MailThread::candidates("eve@example.com", [ours.as_str()]).collect();
        assert_ne!(other[0], thread);
        assert_eq!(other[0].token, thread.token);
    }

    #[test]
    fn bounces_name_our_ids() {
        let thread = MailThread::started_by("ann@example.com", "<first@mail.example>");
        let ours = thread.message_id("77", "desk.example");
        let bounce = format!(
            "Reporting-MTA: dns; mx.example\r\n\r\nMessage-ID: {ours}\r\nIn-Reply-To: <rd.zz@x>\r\n"
        );
        assert_eq!(our_ids_in(&bounce), vec![ours]);
        assert!(our_ids_in("no ids <rd.short@x> here").is_empty());
    }

    #[test]
    fn subjects_carry_the_ticket_number() {
        assert_eq!(ticket_number_in("Re: Printer [#1042]"), Some(1042));
        assert_eq!(ticket_number_in("[#] [#abc] nothing"), None);
        assert_eq!(ticket_number_in("no number"), None);
        assert_eq!(reply_subject("Printer", 7), "Re: Printer [#7]");
        assert_eq!(reply_subject("RE: Printer [#7]", 7), "RE: Printer [#7]");
        assert_eq!(reply_subject("a\r\nBcc: x", 7), "Re: aBcc: x [#7]");
    }
}
