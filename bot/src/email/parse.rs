//! A raw mail (RFC 5322 / MIME) read once into what the desk needs of it.
//!
//! Parsing is lenient (mail-parser decodes character sets and encoded words and reduces HTML
//! to text); what cannot be kept within the limits is dropped and said so in
//! [`InboundMail::dropped`], never refused as a whole.

use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use super::trim::reply_part;

/// How much of one mail is kept.
#[derive(Debug, Clone, Copy)]
pub struct MailLimits {
    /// Files kept per mail; the rest are dropped (and named in the thread).
    pub max_attachments: usize,
    /// Bytes of one kept file.
    pub max_attachment_bytes: usize,
    /// Bytes of text posted to the thread (the full mail stays downloadable).
    pub max_text_bytes: usize,
}

/// Why a mail is automatic: such mail never opens a ticket and is never answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Automatic {
    /// A delivery status notification (bounce); the ids of our mails it quotes.
    Bounce { ours: Vec<String>, reason: String },
    /// An auto-reply, a list or bulk mail: the header that says so.
    AutoReply(String),
}

/// A file of the mail that is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    pub name: String,
    pub mime_type: &'static str,
    pub data: Vec<u8>,
}

/// One mail, parsed.
#[derive(Debug, Clone)]
pub struct InboundMail {
    /// With angle brackets; a hash of the raw mail when it has none (so the same mail
    /// stored twice is still one message).
    pub message_id: String,
    /// The sender's address and name, if the mail says.
    pub from: Option<(String, Option<String>)>,
    pub subject: String,
    /// Ids this mail answers, nearest first: `In-Reply-To`, then `References` from the end.
    pub answers: Vec<String>,
    /// The new part of the text: quoted conversation and signature cut off.
    pub text: String,
    /// Whether anything was cut from the text.
    pub trimmed: bool,
    pub automatic: Option<Automatic>,
    pub files: Vec<MailFile>,
    /// What was not kept, one line each, for a note in the thread.
    pub dropped: Vec<String>,
}

/// Reads `raw`. Never fails: a mail that is not MIME at all is read as plain text.
pub fn parse(raw: &[u8], limits: MailLimits) -> InboundMail {
    let Some(message) = MessageParser::default().parse(raw) else {
        return unreadable(raw, limits);
    };
    let message_id = message
        .message_id()
        .map(|id| format!("<{}>", id.trim_matches(['<', '>', ' '])))
        .filter(|id| id.len() > 2 && id.len() <= 250)
        .unwrap_or_else(|| hashed_id(raw));
    let from = message.from().and_then(|a| a.first()).and_then(|addr| {
        let address = addr.address()?.trim();
        (address.contains('@') && address.len() <= 254).then(|| {
            (
                address.to_string(),
                addr.name()
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty()),
            )
        })
    });
    let subject = message
        .subject()
        .map(|s| s.chars().filter(|c| !c.is_control()).take(200).collect())
        .unwrap_or_default();
    let mut answers: Vec<String> = Vec::new();
    let mut add = |id: &str| {
        let id = format!("<{}>", id.trim_matches(['<', '>', ' ']));
        if id.len() > 2 && id.len() <= 250 && !answers.contains(&id) && answers.len() < 50 {
            answers.push(id);
        }
    };
    for id in ids(message.in_reply_to()) {
        add(&id);
    }
    for id in ids(message.references()).iter().rev() {
        add(id);
    }

    let automatic = automatic(&message, raw);
    let mut dropped = Vec::new();
    let mut full = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let mut text_part = None;
    if full.trim().is_empty() {
        // Broken MIME (a multipart never closed, say) can leave no text body: the first
        // unnamed text part is the text, else the raw text after the headers.
        text_part = message.attachments().position(|part| {
            part.attachment_name().is_none()
                && part.text_contents().is_some_and(|t| !t.trim().is_empty())
        });
        if let Some(text) = text_part
            .and_then(|i| message.attachments().nth(i))
            .and_then(|part| part.text_contents())
        {
            full = text.to_string();
        } else if message.attachment_count() == 0 {
            let body = raw_body(raw);
            if !body.trim().is_empty() {
                dropped
                    .push("the mail's structure could not be read; its raw text is shown".into());
                full = body;
            }
        }
    }
    let (text, trimmed) = reply_part(&full);
    let text = cap_text(text, limits.max_text_bytes, &mut dropped);

    let mut files = Vec::new();
    let mut refused_type = Vec::new();
    let mut too_large = Vec::new();
    let mut over_count = 0usize;
    for (i, part) in message.attachments().enumerate() {
        if text_part == Some(i) {
            continue;
        }
        let name = part
            .attachment_name()
            .map(|n| {
                n.chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect::<String>()
            })
            .unwrap_or_else(|| "attachment".to_string());
        let data = part.contents();
        if files.len() >= limits.max_attachments {
            over_count += 1;
            continue;
        }
        if data.len() > limits.max_attachment_bytes {
            too_large.push(name);
            continue;
        }
        let Some(mime_type) = relaydesk_web::sniff_file(data) else {
            refused_type.push(name);
            continue;
        };
        files.push(MailFile {
            name: relaydesk_web::clean_file_name(&name, mime_type),
            mime_type,
            data: data.to_vec(),
        });
    }
    if !too_large.is_empty() {
        dropped.push(format!(
            "{} over {} KB: {}",
            files_word(too_large.len()),
            limits.max_attachment_bytes / 1024,
            some_names(&too_large)
        ));
    }
    if !refused_type.is_empty() {
        dropped.push(format!(
            "{} of a type not kept (only images and PDFs are): {}",
            files_word(refused_type.len()),
            some_names(&refused_type)
        ));
    }
    if over_count > 0 {
        dropped.push(format!(
            "{} beyond the first {} attachments",
            files_word(over_count),
            limits.max_attachments
        ));
    }
    InboundMail {
        message_id,
        from,
        subject,
        answers,
        text,
        trimmed,
        automatic,
        files,
        dropped,
    }
}

/// A mail mail-parser could make nothing of: its bytes as text.
fn unreadable(raw: &[u8], limits: MailLimits) -> InboundMail {
    let mut dropped = vec!["the mail's structure could not be read; its raw text is shown".into()];
    let text = cap_text(
        String::from_utf8_lossy(raw).into_owned(),
        limits.max_text_bytes,
        &mut dropped,
    );
    InboundMail {
        message_id: hashed_id(raw),
        from: None,
        subject: String::new(),
        answers: Vec::new(),
        text,
        trimmed: false,
        automatic: None,
        files: Vec::new(),
        dropped,
    }
}

/// The bytes after the header block, as text.
fn raw_body(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let start = text
        .find("\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| text.find("\n\n").map(|i| i + 2))
        .unwrap_or(0);
    text[start..].to_string()
}

fn hashed_id(raw: &[u8]) -> String {
    format!("<{}@relaydesk.invalid>", hex::encode(Sha256::digest(raw)))
}

fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(id) => vec![id.to_string()],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Cuts `text` to `max` bytes (at a character boundary), noting it.
fn cap_text(mut text: String, max: usize, dropped: &mut Vec<String>) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        dropped.push(format!(
            "the text after its first {} KB (the full mail is attached)",
            max / 1024
        ));
        text.truncate(end);
    }
    text
}

fn files_word(n: usize) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

/// The first few names, and how many more.
fn some_names(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// Whether the mail was sent by a machine (RFC 3834 `Auto-Submitted`, `Precedence`, the
/// de-facto auto-reply headers) or is a delivery status notification (RFC 3464).
fn automatic(message: &mail_parser::Message<'_>, raw: &[u8]) -> Option<Automatic> {
    let report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    let daemon = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .is_some_and(|a| {
            let local = a.split('@').next().unwrap_or_default().to_lowercase();
            local == "mailer-daemon" || local == "postmaster"
        });
    if report || daemon {
        let text = String::from_utf8_lossy(raw);
        let reason = message
            .body_text(0)
            .map(|t| {
                t.lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>()
            })
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "the mail was returned as undeliverable".to_string());
        return Some(Automatic::Bounce {
            ours: super::thread::our_ids_in(&text),
            reason,
        });
    }
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(value) = header("Auto-Submitted").filter(|v| !v.starts_with("no")) {
        return Some(Automatic::AutoReply(format!("Auto-Submitted: {value}")));
    }
    if let Some(value) = header("Precedence")
        .filter(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
    {
        return Some(Automatic::AutoReply(format!("Precedence: {value}")));
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Auto-Reply"] {
        if header(name).is_some() {
            return Some(Automatic::AutoReply(name.to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MailLimits = MailLimits {
        max_attachments: 3,
        max_attachment_bytes: 1024,
        max_text_bytes: 4096,
    };

    #[test]
    fn a_plain_mail_is_read_with_its_threading_headers() {
        let raw = b"From: Ann Lee <Ann@Example.com>\r\nTo: support@desk.example\r\n\
Subject: =?UTF-8?B?RHJ1Y2tlciBrYXB1dHQg8J+WqA==?=\r\nMessage-ID: <m2@mail.example>\r\n\
In-Reply-To: <rd.x@desk.example>\r\nReferences: <m1@mail.example> <rd.x@desk.example>\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Gr=FC=DFe, still broken.\r\n\r\nOn Mon, 1 Dec 2026 Support wrote:\r\n> earlier\r\n";
        let mail = parse(raw, LIMITS);
        assert_eq!(mail.message_id, "<m2@mail.example>");
        assert_eq!(
            mail.from,
            Some(("Ann@Example.com".to_string(), Some("Ann Lee".to_string())))
        );
        assert_eq!(mail.subject, "Drucker kaputt 🖨");
        assert_eq!(
            mail.answers,
            vec!["<rd.x@desk.example>", "<m1@mail.example>"]
        );
        assert_eq!(mail.text, "Grüße, still broken.");
        assert!(mail.trimmed);
        assert_eq!(mail.automatic, None);
    }

    #[test]
    fn html_only_mail_becomes_text_without_markup() {
        let raw = b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n\
<html><body><p>Hello <b>there</b></p><script>alert(1)</script><img src=x onerror=y></body></html>";
        let mail = parse(raw, LIMITS);
        assert!(mail.text.contains("Hello"), "{}", mail.text);
        assert!(!mail.text.contains('<'), "{}", mail.text);
        assert!(!mail.text.contains("onerror"), "{}", mail.text);
    }

    #[test]
    fn automatic_mail_is_told_apart() {
        let ooo = b"From: a@b.example\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway";
        assert!(matches!(
            parse(ooo, LIMITS).automatic,
            Some(Automatic::AutoReply(_))
        ));
        let bulk = b"From: a@b.example\r\nPrecedence: bulk\r\nSubject: News\r\n\r\nHi";
        assert!(matches!(
            parse(bulk, LIMITS).automatic,
            Some(Automatic::AutoReply(_))
        ));
        let human = b"From: a@b.example\r\nAuto-Submitted: no\r\nSubject: Hi\r\n\r\nHi";
        assert_eq!(parse(human, LIMITS).automatic, None);
        let bounce = b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nMailbox unavailable\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
Message-ID: <rd.0123456789abcdef0123.55@desk.example>\r\n--b--\r\n";
        match parse(bounce, LIMITS).automatic {
            Some(Automatic::Bounce { ours, reason }) => {
                assert_eq!(ours, vec!["<rd.0123456789abcdef0123.55@desk.example>"]);
                assert_eq!(reason, "Mailbox unavailable");
            }
            other => panic!("not a bounce: {other:?}"),
        }
    }

    #[test]
    fn files_beyond_the_limits_are_dropped_and_named() {
        let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
        let mut raw = String::from(
            "From: a@b.example\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n",
        );
        for i in 0..5 {
            raw.push_str(&format!(
                "--b\r\nContent-Type: image/png; name=\"p{i}.png\"\r\nContent-Disposition: attachment; filename=\"p{i}.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{png}\r\n"
            ));
        }
        raw.push_str("--b\r\nContent-Type: application/octet-stream; name=\"run.exe\"\r\nContent-Disposition: attachment; filename=\"run.exe\"\r\n\r\nMZ\x00\r\n--b--\r\n");
        let mail = parse(raw.as_bytes(), LIMITS);
        assert_eq!(mail.text, "see attached");
        assert_eq!(mail.files.len(), 3);
        assert_eq!(mail.files[0].name, "p0.png");
        assert_eq!(mail.files[0].mime_type, "image/png");
        assert_eq!(mail.dropped.len(), 1, "{:?}", mail.dropped);
        assert!(
            mail.dropped[0].contains("3 files beyond the first 3"),
            "{:?}",
            mail.dropped
        );
    }

    #[test]
    fn broken_and_huge_mail_is_kept_as_far_as_the_limits_allow() {
        let mail = parse(b"\x00\x01garbage without headers", LIMITS);
        assert!(mail.message_id.ends_with("@relaydesk.invalid>"));
        let long = format!(
            "From: a@b.example\r\nSubject: long\r\n\r\n{}",
            "é".repeat(10_000)
        );
        let mail = parse(long.as_bytes(), LIMITS);
        assert!(mail.text.len() <= 4096);
        assert!(mail.dropped.iter().any(|d| d.contains("first 4 KB")));
        // The same mail without a Message-ID is the same message twice.
        assert_eq!(parse(long.as_bytes(), LIMITS).message_id, mail.message_id);
    }
}
