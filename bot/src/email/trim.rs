//! The new part of a mail's text: what the sender wrote above the quoted conversation and
//! their signature. What is cut stays in the full mail, which the thread links to.

/// The text up to the first quote header, quoted block or signature delimiter, and whether
/// anything was cut. Text that would be empty after cutting is kept whole.
pub fn reply_part(text: &str) -> (String, bool) {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if starts_quoted_part(line, lines.get(i + 1).copied()) {
            end = i;
            break;
        }
    }
    let kept = lines[..end].join("\n");
    let kept = kept.trim();
    if kept.is_empty() {
        return (text.trim().to_string(), false);
    }
    let trimmed = kept.len() < text.trim().len();
    (kept.to_string(), trimmed)
}

fn starts_quoted_part(line: &str, next: Option<&str>) -> bool {
    let trimmed = line.trim();
    // RFC 3676 signature delimiter, and the same without its space.
    if line == "-- " || trimmed == "--" {
        return true;
    }
    if trimmed.starts_with('>') {
        return true;
    }
    let lower = trimmed.to_lowercase();
    if lower.starts_with("-----original message-----")
        || lower.starts_with("-------- original message")
        || lower.starts_with("-------- forwarded message")
        || lower.starts_with("________________________________")
    {
        return true;
    }
    // "On Mon, 1 Dec 2026, Ann <a@b> wrote:" (possibly wrapped onto the next line).
    let header = |l: &str| {
        let l = l.to_lowercase();
        (l.starts_with("on ") && l.ends_with("wrote:"))
            || (l.starts_with("am ") && l.contains(" schrieb") && l.ends_with(':'))
            || (l.starts_with("le ") && l.ends_with("a écrit :"))
            || (l.starts_with("el ") && l.ends_with("escribió:"))
    };
    if header(trimmed) {
        return true;
    }
    if let Some(next) = next {
        let joined = format!("{trimmed} {}", next.trim());
        if trimmed.to_lowercase().starts_with("on ") && header(&joined) {
            return true;
        }
    }
    // Outlook's header block: "From: …" followed by "Sent: …" or "Date: …".
    if lower.starts_with("from:") {
        if let Some(next) = next {
            let next = next.trim().to_lowercase();
            return next.starts_with("sent:") || next.starts_with("date:");
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_signatures_are_cut() {
        let (text, cut) = reply_part(
            "Thanks, it works.\n\nOn Tue, 2 Dec 2026 at 10:00, Support <s@d> wrote:\n> Try again\n",
        );
        assert_eq!(text, "Thanks, it works.");
        assert!(cut);
        let (text, _) = reply_part("Hi\nOn Tue, 2 Dec 2026 at 10:00, Support\n<s@d> wrote:\n> x");
        assert_eq!(text, "Hi");
        let (text, _) = reply_part("Hello\n-- \nAnn Lee\nACME Corp");
        assert_eq!(text, "Hello");
        let (text, _) = reply_part("Yes\n\nFrom: Support <s@d>\nSent: Monday\nTo: Ann\n\nold");
        assert_eq!(text, "Yes");
        let (text, _) = reply_part("Ja\n\nAm 1. Dez. 2026 um 10:00 schrieb Support:\n> alt");
        assert_eq!(text, "Ja");
    }

    #[test]
    fn text_without_quotes_is_kept_whole() {
        let (text, cut) = reply_part("line one\nfrom: here on\nline three");
        assert_eq!(text, "line one\nfrom: here on\nline three");
        assert!(!cut);
        // All quote: nothing new was written, so the whole text is shown.
        let (text, cut) = reply_part("> only a quote\n> more");
        assert_eq!(text, "> only a quote\n> more");
        assert!(!cut);
    }
}
