//! What customers read, in their language. The texts live in `locales/<language>.ftl`
//! (Fluent), embedded in the binary: adding a language is adding a file. A language without a
//! file, or a key missing from one, falls back to English; a test fails when a file lacks a
//! key English has.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use include_dir::{include_dir, Dir};
use unic_langid::LanguageIdentifier;

static LOCALES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/locales");

/// The language every other falls back to.
pub const FALLBACK: &str = "en";

type Bundle = FluentBundle<FluentResource>;

/// Every `locales/*.ftl` file, parsed once: language code → bundle.
fn bundles() -> &'static HashMap<String, Bundle> {
    static BUNDLES: OnceLock<HashMap<String, Bundle>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        let mut bundles = HashMap::new();
        for file in LOCALES.files() {
            let path = file.path();
            if path.extension().and_then(|e| e.to_str()) != Some("ftl") {
                continue;
            }
            let Some(code) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Ok(id) = code.parse::<LanguageIdentifier>() else {
                continue;
            };
            let source = file.contents_utf8().unwrap_or_default().to_string();
            // A file with a broken entry keeps its other entries (a test checks none break).
            let resource = FluentResource::try_new(source).unwrap_or_else(|(partial, _)| partial);
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Customer texts are plain text: no Unicode isolation marks around values.
            bundle.set_use_isolating(false);
            // A key defined twice keeps its first definition.
            let _ = bundle.add_resource(resource);
            bundles.insert(code.to_ascii_lowercase(), bundle);
        }
        bundles
    })
}

/// The languages there are texts for, sorted.
pub fn languages() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = bundles().keys().map(String::as_str).collect();
    codes.sort_unstable();
    codes
}

/// The language texts are shown in for a platform language code: the code itself (`pt-br`),
/// its primary language (`de` for `de-AT`), or English.
pub fn language(code: Option<&str>) -> &'static str {
    let bundles = bundles();
    let code = code.map(|c| c.trim().to_ascii_lowercase().replace('_', "-"));
    let primary = code
        .as_deref()
        .and_then(|c| c.split('-').next())
        .map(str::to_string);
    code.into_iter()
        .chain(primary)
        .find_map(|c| bundles.get_key_value(&c).map(|(k, _)| k.as_str()))
        .unwrap_or(FALLBACK)
}

/// The text `key` in the language for `code`, with `args` filled in; English when that
/// language lacks it; the key itself (never an empty text) when English lacks it too.
pub fn text(code: Option<&str>, key: &str, args: Option<&FluentArgs>) -> String {
    let bundles = bundles();
    for language in [language(code), FALLBACK] {
        let Some(bundle) = bundles.get(language) else {
            continue;
        };
        if let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle
                .format_pattern(pattern, args, &mut errors)
                .into_owned();
        }
    }
    key.to_string()
}

fn with_number(code: Option<&str>, key: &str, number: i64) -> String {
    let mut args = FluentArgs::new();
    args.set("number", number);
    text(code, key, Some(&args))
}

pub fn greeting(code: Option<&str>) -> String {
    text(code, "greeting", None)
}

pub fn ticket_opened(code: Option<&str>, number: i64) -> String {
    with_number(code, "ticket-opened", number)
}

pub fn ticket_closed(code: Option<&str>, number: i64) -> String {
    with_number(code, "ticket-closed", number)
}

pub fn csat_question(code: Option<&str>, number: i64) -> String {
    with_number(code, "csat-question", number)
}

pub fn csat_thanks(code: Option<&str>, rating: u8) -> String {
    let mut args = FluentArgs::new();
    args.set("rating", rating);
    text(code, "csat-thanks", Some(&args))
}

/// The invitation to add a comment after rating.
pub fn csat_comment_ask(code: Option<&str>) -> String {
    text(code, "csat-comment-ask", None)
}

/// Outside business hours: when the team is back (`opens`, e.g. `2026-12-07 09:00
/// (Europe/Berlin)`).
pub fn out_of_hours(code: Option<&str>, opens: &str) -> String {
    let mut args = FluentArgs::new();
    args.set("opens", opens.to_string());
    text(code, "out-of-hours", Some(&args))
}

/// The invitation to comment by replying (chats without forms).
pub fn csat_comment_reply(code: Option<&str>) -> String {
    text(code, "csat-comment-reply", None)
}

/// The button that sends the comment.
pub fn csat_comment_send(code: Option<&str>) -> String {
    text(code, "csat-comment-send", None)
}

pub fn csat_comment_thanks(code: Option<&str>) -> String {
    text(code, "csat-comment-thanks", None)
}

/// A press on a survey that a newer one replaced.
pub fn csat_stale(code: Option<&str>) -> String {
    text(code, "csat-stale", None)
}

/// A press on someone else's survey.
pub fn csat_not_yours(code: Option<&str>) -> String {
    text(code, "csat-not-yours", None)
}

/// A press on an FAQ answer meant for someone else.
pub fn faq_not_yours(code: Option<&str>) -> String {
    text(code, "faq-not-yours", None)
}

/// An FAQ answer offered to a new ticket: the entry's question and answer, then the ask.
pub fn faq_offer(code: Option<&str>, question: &str, answer: &str) -> String {
    let ask = text(code, "faq-offer-ask", None);
    format!("{question}\n\n{answer}\n\n{ask}")
}

pub fn faq_solved_button(code: Option<&str>) -> String {
    text(code, "faq-solved-button", None)
}

pub fn faq_help_button(code: Option<&str>) -> String {
    text(code, "faq-help-button", None)
}

/// After "That solved it".
pub fn faq_solved(code: Option<&str>, number: i64) -> String {
    with_number(code, "faq-solved", number)
}

/// A press on an FAQ answer that was settled before.
pub fn faq_settled(code: Option<&str>) -> String {
    text(code, "faq-settled", None)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use fluent_syntax::ast::Entry;

    use super::*;

    fn keys_of(code: &str) -> BTreeSet<String> {
        let file = LOCALES
            .get_file(format!("{code}.ftl"))
            .unwrap_or_else(|| panic!("locales/{code}.ftl"));
        let source = file.contents_utf8().expect("UTF-8");
        let resource = fluent_syntax::parser::parse(source)
            .unwrap_or_else(|(_, errors)| panic!("{code}.ftl does not parse: {errors:?}"));
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_language_file_parses_and_has_exactly_the_english_keys() {
        let english = keys_of(FALLBACK);
        assert!(english.len() > 10, "{english:?}");
        let languages = languages();
        for expected in ["de", "en", "fi", "ru", "sv"] {
            assert!(languages.contains(&expected), "{languages:?}");
        }
        for code in languages {
            let keys = keys_of(code);
            let missing: Vec<_> = english.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&english).collect();
            assert!(missing.is_empty(), "{code}.ftl lacks {missing:?}");
            assert!(
                extra.is_empty(),
                "{code}.ftl has keys English lacks: {extra:?}"
            );
        }
    }

    #[test]
    fn texts_are_filled_in_and_fall_back_to_english() {
        assert_eq!(
            ticket_opened(Some("de-AT"), 1042),
            "Danke! Wir haben Ihre Nachricht erhalten. Ihre Ticketnummer ist #1042."
        );
        assert_eq!(
            ticket_opened(Some("pt-BR"), 7),
            "Thanks! We received your message. Your ticket number is #7."
        );
        assert_eq!(csat_thanks(Some("sv"), 4), "Tack för ditt betyg: 4/5!");
        assert_eq!(language(Some("ru")), "ru");
        assert_eq!(language(Some("FI_fi")), "fi");
        assert_eq!(language(None), "en");
        assert_eq!(text(Some("de"), "no-such-key", None), "no-such-key");
        assert!(ticket_closed(Some("ru"), 7).contains("#7"));
    }
}
