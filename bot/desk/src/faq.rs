//! FAQ answers as the desk sees them: checking an entry, and finding the one a new ticket's
//! first message asks about. Keywords match whole words, case-insensitively, in any script.

use relaydesk_storage::FaqEntry;

use crate::canned::pick_language;
use crate::DeskError;

/// The most keywords one entry may have.
pub const MAX_KEYWORDS: usize = 30;
/// The longest keyword (a word or a short phrase).
pub const MAX_KEYWORD_CHARS: usize = 60;
/// The longest question or answer.
pub const MAX_TEXT_CHARS: usize = 3_500;

/// The words of `text`, lower-case: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Checks a comma-separated keyword list (`refund, Invoice, money back`): 1–30 keywords of
/// letters and digits, each up to 60 characters; stored lower-case, in words.
pub fn keywords(raw: &str) -> Result<Vec<String>, DeskError> {
    let mut out: Vec<String> = Vec::new();
    for keyword in raw.split(',') {
        let keyword = keyword.trim();
        if keyword.is_empty() {
            continue;
        }
        let normal = words(keyword).join(" ");
        if normal.is_empty() || keyword.chars().count() > MAX_KEYWORD_CHARS {
            return Err(DeskError::Invalid(format!(
                "`{keyword}` is not a keyword: letters and digits, up to {MAX_KEYWORD_CHARS} characters"
            )));
        }
        if !out.contains(&normal) {
            out.push(normal);
        }
    }
    if out.is_empty() {
        return Err(DeskError::Invalid(
            "an FAQ entry needs keywords, e.g. \"refund, invoice\"".into(),
        ));
    }
    if out.len() > MAX_KEYWORDS {
        return Err(DeskError::Invalid(format!(
            "an FAQ entry may have up to {MAX_KEYWORDS} keywords"
        )));
    }
    Ok(out)
}

/// Checks a question or answer text.
pub fn text(field: &str, raw: &str) -> Result<String, DeskError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(DeskError::Invalid(format!("an FAQ entry needs a {field}")));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(DeskError::Invalid(format!(
            "an FAQ {field} may have up to {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

/// Whether `message` (its words) holds `keyword` (one or more words) as whole words in a row.
fn holds(message: &[String], keyword: &str) -> bool {
    let keyword: Vec<&str> = keyword.split(' ').collect();
    !keyword.is_empty()
        && message
            .windows(keyword.len())
            .any(|window| window.iter().zip(&keyword).all(|(a, b)| a == b))
}

/// The entry text to offer for a first message: the entry whose keywords (in any of its
/// languages) the message holds most of (ties: the first name), in the customer's language.
pub fn best_match<'a>(
    message: &str,
    entries: &'a [FaqEntry],
    customer_language: Option<&str>,
) -> Option<&'a FaqEntry> {
    let message = words(message);
    let mut best: Option<(usize, &str)> = None;
    for entry in entries {
        let score = entry.keywords.iter().filter(|k| holds(&message, k)).count();
        let better = match best {
            None => score > 0,
            Some((top, name)) => score > top || (score == top && entry.name.as_str() < name),
        };
        if better {
            best = Some((score, &entry.name));
        }
    }
    let (_, name) = best?;
    let variants: Vec<&FaqEntry> = entries.iter().filter(|e| e.name == name).collect();
    pick_language(&variants, customer_language, |e| e.language.as_deref()).copied()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn entry(name: &str, language: Option<&str>, keywords: &str, answer: &str) -> FaqEntry {
        FaqEntry {
            name: name.into(),
            language: language.map(str::to_string),
            keywords: super::keywords(keywords).unwrap(),
            question: format!("About {name}"),
            answer: answer.into(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn keywords_are_checked_and_normalised() {
        assert_eq!(
            keywords(" Refund, INVOICE ,money-back,, refund").unwrap(),
            vec!["refund", "invoice", "money back"]
        );
        assert!(keywords(" , ").is_err());
        assert!(keywords("???").is_err());
        assert!(keywords(&"a,".repeat(40)).is_ok(), "duplicates count once");
        let many: Vec<String> = (0..31).map(|i| format!("k{i}")).collect();
        assert!(keywords(&many.join(",")).is_err());
    }

    #[test]
    fn whole_words_in_any_script_match_and_the_language_is_picked() {
        let entries = [
            entry("refund", None, "refund, money back", "Refunds take 5 days."),
            entry(
                "refund",
                Some("de"),
                "rückerstattung, geld zurück",
                "Erstattungen dauern 5 Tage.",
            ),
            entry("shipping", None, "parcel, shipping", "Parcels take 2 days."),
            entry(
                "password",
                Some("ru"),
                "пароль",
                "Сбросьте пароль в настройках.",
            ),
        ];
        let found = |text: &str, lang: Option<&str>| {
            best_match(text, &entries, lang).map(|e| e.answer.as_str())
        };
        assert_eq!(
            found("I want my MONEY back!", None),
            Some("Refunds take 5 days.")
        );
        assert_eq!(
            found("Ich will mein Geld zurück", Some("de")),
            Some("Erstattungen dauern 5 Tage.")
        );
        assert_eq!(
            found("refund please", Some("de-AT")),
            Some("Erstattungen dauern 5 Tage.")
        );
        assert_eq!(
            found("Забыл пароль", Some("ru")),
            Some("Сбросьте пароль в настройках.")
        );
        assert_eq!(found("refundable items?", None), None, "whole words only");
        assert_eq!(found("hello", None), None);
        // The entry with more of its keywords in the message wins.
        assert_eq!(
            found("my parcel shipping was a refund", None),
            Some("Parcels take 2 days.")
        );
    }
}
