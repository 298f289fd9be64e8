//! Plain-text helpers shared by adapters: cutting to a platform's length limit without
//! breaking characters, splitting long text into ordered parts, and names and titles reduced
//! to visible text.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// One line of visible text: control characters and line breaks become spaces, invisible
/// formatting characters (bidi overrides and isolates, zero-width spaces and joiners, the
/// byte-order mark) are removed, runs of spaces shrink to one. A customer's name or a topic
/// title then cannot hide text, reorder what stands around it, or pass for another line.
pub fn visible_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c.general_category() {
            GeneralCategory::Control
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator => out.push(' '),
            GeneralCategory::Format => {}
            _ => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, with `…` at the end when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits `text` into parts of at most `limit` characters (Discord 2,000, Telegram 4,096),
/// preferring to cut after a newline, then after a space. Concatenated, the parts give back the
/// text exactly; order is kept. Empty text gives no parts.
pub fn split_for_limit(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some((hard_cut, _)) = rest.char_indices().nth(limit) else {
            parts.push(rest.to_string());
            break;
        };
        let window = &rest[..hard_cut];
        let cut = window
            .rfind('\n')
            .or_else(|| window.rfind(' '))
            .map(|i| i + 1)
            .filter(|&i| i > hard_cut / 2)
            .unwrap_or(hard_cut);
        parts.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_every_character_in_order_within_the_limit() {
        let text = "word ".repeat(1000) + &"ä".repeat(5000) + "\nend";
        for limit in [1, 7, 2000, 4096] {
            let parts = split_for_limit(&text, limit);
            assert_eq!(parts.concat(), text);
            assert!(parts
                .iter()
                .all(|p| p.chars().count() <= limit && !p.is_empty()));
        }
        assert!(split_for_limit("", 10).is_empty());
        assert_eq!(split_for_limit("short", 2000), vec!["short"]);
    }

    #[test]
    fn split_prefers_line_then_word_boundaries() {
        let parts = split_for_limit("aaaa bbbb\ncccc dddd", 12);
        assert_eq!(parts, vec!["aaaa bbbb\n", "cccc dddd"]);
        let parts = split_for_limit("aaaa bbbb cccc", 12);
        assert_eq!(parts, vec!["aaaa bbbb ", "cccc"]);
    }

    #[test]
    fn visible_lines_lose_bidi_zero_width_and_control_characters() {
        // "Anna" then a right-to-left override that would show "txt.exe" as "exe.txt".
        assert_eq!(visible_line("Anna\u{202E}txt.exe"), "Annatxt.exe");
        assert_eq!(visible_line("Bo\u{200B}b\u{2066}\u{FEFF}"), "Bob");
        assert_eq!(
            visible_line("line one\n📝 note\u{2028}x\t y"),
            "line one 📝 note x y"
        );
        assert_eq!(visible_line("Zoë 李"), "Zoë 李");
        assert_eq!(visible_line("\u{200D}\u{200E}"), "");
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate_chars("printer won't print", 10), "printer w…");
        assert_eq!(truncate_chars("short", 10), "short");
    }
}
