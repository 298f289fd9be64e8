//! Canned replies as the desk sees them: their names, which text a customer gets, the
//! variables filled into it, and the names offered when one is mistyped. Storing them is the
//! store's business; sending one is `/canned NAME`.

use std::collections::BTreeMap;

use relaydesk_storage::CannedReply;

use crate::DeskError;

/// The longest name.
pub const MAX_NAME_CHARS: usize = 50;
/// The longest text: Telegram's 4,096-character message limit leaves room for what the
/// variables add.
pub const MAX_TEXT_CHARS: usize = 3_500;

/// Checks a canned reply's name (`Greeting` → `greeting`): 1–50 letters, digits, `-` or `_`,
/// stored lower-case.
pub fn name(raw: &str) -> Result<String, DeskError> {
    let name = raw.trim().to_lowercase();
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(name)
    } else {
        Err(DeskError::Invalid(format!(
            "`{raw}` is not a canned reply name: one word of letters, digits, - or _, up to {MAX_NAME_CHARS} characters"
        )))
    }
}

/// Checks a language tag (`de`, `pt-BR` → `pt-br`).
pub fn language(raw: &str) -> Result<String, DeskError> {
    let tag = raw.trim().to_lowercase();
    let mut parts = tag.split(['-', '_']);
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Ok(tag.replace('_', "-"))
    } else {
        Err(DeskError::Invalid(format!(
            "`{raw}` is not a language code such as de, fi or pt-br"
        )))
    }
}

/// Checks a canned reply's text.
pub fn text(raw: &str) -> Result<String, DeskError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(DeskError::Invalid("a canned reply needs a text".into()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(DeskError::Invalid(format!(
            "a canned reply's text may have up to {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

/// The text for a customer speaking `customer_language`: that language's own, else its
/// primary language's (`de` for `de-at`), else the text for every language, else English,
/// else the first there is.
pub fn pick<'a>(
    variants: &'a [CannedReply],
    customer_language: Option<&str>,
) -> Option<&'a CannedReply> {
    pick_language(variants, customer_language, |v| v.language.as_deref())
}

/// [`pick`] for anything stored per language (canned replies, FAQ entries).
pub fn pick_language<'a, T>(
    variants: &'a [T],
    customer_language: Option<&str>,
    language_of: impl Fn(&T) -> Option<&str>,
) -> Option<&'a T> {
    let wanted = customer_language.map(str::to_lowercase);
    let of = |code: &str| variants.iter().find(|v| language_of(v) == Some(code));
    let primary = wanted
        .as_deref()
        .and_then(|w| w.split(['-', '_']).next())
        .map(str::to_string);
    wanted
        .as_deref()
        .and_then(of)
        .or_else(|| primary.as_deref().and_then(of))
        .or_else(|| variants.iter().find(|v| language_of(v).is_none()))
        .or_else(|| of("en"))
        .or_else(|| variants.first())
}

/// What the variables of a canned reply stand for on one ticket. A value that is `None` (no
/// team yet) leaves its variable as typed.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    values: BTreeMap<&'static str, Option<String>>,
}

/// Every variable a canned reply may use.
pub const VARIABLES: [&str; 5] = [
    "customer.name",
    "customer.first_name",
    "ticket.number",
    "agent.name",
    "team.name",
];

impl Variables {
    pub fn new(
        customer_name: &str,
        ticket_number: i64,
        agent_name: &str,
        team_name: Option<&str>,
    ) -> Self {
        let first_name = customer_name.split_whitespace().next().map(str::to_string);
        let values = BTreeMap::from([
            (
                "customer.name",
                Some(customer_name.trim().to_string()).filter(|n| !n.is_empty()),
            ),
            ("customer.first_name", first_name),
            ("ticket.number", Some(ticket_number.to_string())),
            ("agent.name", Some(agent_name.to_string())),
            ("team.name", team_name.map(str::to_string)),
        ]);
        Self { values }
    }
}

/// A canned reply with its variables filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub text: String,
    /// Variables left as typed: unknown ones and those without a value on this ticket.
    pub left_as_typed: Vec<String>,
}

/// Fills `{customer.first_name}` and the other [`VARIABLES`] into `template`. Anything else in
/// braces stays as typed and is reported, so an agent never sends an empty gap unawares.
pub fn fill(template: &str, variables: &Variables) -> Filled {
    let mut text = String::with_capacity(template.len());
    let mut left_as_typed = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').filter(|&close| {
            let inner = &after[..close];
            !inner.is_empty()
                && inner.len() <= 40
                && inner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        });
        match close {
            Some(close) => {
                let key = &after[..close];
                match variables.values.get(key) {
                    Some(Some(value)) => text.push_str(value),
                    _ => {
                        text.push('{');
                        text.push_str(key);
                        text.push('}');
                        if !left_as_typed.iter().any(|k| k == key) {
                            left_as_typed.push(key.to_string());
                        }
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    Filled {
        text,
        left_as_typed,
    }
}

/// The braced words in `template` that are not [`VARIABLES`]: they would be sent as typed.
pub fn unknown_variables(template: &str) -> Vec<String> {
    fill(template, &Variables::default())
        .left_as_typed
        .into_iter()
        .filter(|key| !VARIABLES.contains(&key.as_str()))
        .collect()
}

/// Up to three names like `wanted`, closest first: for "no canned reply `greting`; did you
/// mean …".
pub fn closest<'a>(wanted: &str, names: &'a [String]) -> Vec<&'a str> {
    let wanted = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .iter()
        .map(|n| {
            let score = if n.starts_with(&wanted) || n.contains(&wanted) {
                1.0
            } else {
                strsim::jaro_winkler(&wanted, n)
            };
            (score, n.as_str())
        })
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn variant(language: Option<&str>, text: &str) -> CannedReply {
        CannedReply {
            name: "greeting".into(),
            language: language.map(str::to_string),
            text: text.into(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn names_are_one_lower_case_word() {
        assert_eq!(name(" Greeting ").unwrap(), "greeting");
        assert_eq!(name("refund-policy_2").unwrap(), "refund-policy_2");
        assert!(name("two words").is_err());
        assert!(name("").is_err());
        assert!(name("{x}").is_err());
        assert!(name(&"a".repeat(51)).is_err());
    }

    #[test]
    fn language_codes_are_checked() {
        assert_eq!(language("DE").unwrap(), "de");
        assert_eq!(language("pt_BR").unwrap(), "pt-br");
        assert!(language("german language").is_err());
        assert!(language("d").is_err());
    }

    #[test]
    fn the_customers_language_wins_then_the_default() {
        let variants = [
            variant(None, "Hello"),
            variant(Some("de"), "Hallo"),
            variant(Some("fi"), "Hei"),
        ];
        assert_eq!(pick(&variants, Some("de")).unwrap().text, "Hallo");
        assert_eq!(pick(&variants, Some("de-AT")).unwrap().text, "Hallo");
        assert_eq!(pick(&variants, Some("sv")).unwrap().text, "Hello");
        assert_eq!(pick(&variants, None).unwrap().text, "Hello");
        let only_languages = [variant(Some("fi"), "Hei"), variant(Some("en"), "Hi")];
        assert_eq!(pick(&only_languages, Some("ru")).unwrap().text, "Hi");
        assert!(pick(&[], Some("en")).is_none());
    }

    #[test]
    fn variables_are_filled_and_unknown_ones_stay_visible() {
        let vars = Variables::new("Maria Schmidt", 1042, "anna", None);
        let filled = fill(
            "Hi {customer.first_name}, #{ticket.number} is with {agent.name} of {team.name}; {oops} {not a var} {",
            &vars,
        );
        assert_eq!(
            filled.text,
            "Hi Maria, #1042 is with anna of {team.name}; {oops} {not a var} {"
        );
        assert_eq!(filled.left_as_typed, vec!["team.name", "oops"]);
        let filled = fill(
            "{customer.name}",
            &Variables::new("Maria Schmidt", 1, "a", Some("billing")),
        );
        assert_eq!(filled.text, "Maria Schmidt");
        assert!(filled.left_as_typed.is_empty());
        assert_eq!(
            unknown_variables("{customer.name} {team.name} {custmer.name}"),
            vec!["custmer.name"]
        );
    }

    #[test]
    fn mistyped_names_get_the_closest() {
        let names: Vec<String> = ["greeting", "refund", "refund-policy", "shipping"]
            .map(String::from)
            .to_vec();
        assert_eq!(closest("greting", &names), vec!["greeting"]);
        assert_eq!(closest("refund", &names)[..2], ["refund", "refund-policy"]);
        assert!(closest("zzz", &names).is_empty());
    }
}
