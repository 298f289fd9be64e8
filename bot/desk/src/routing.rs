//! Routing and assignment as the desk decides them, apart from where the rules come from:
//! which rule a new ticket matches (first match wins), and which member of a team gets it.

use relaydesk_storage::{Platform, Priority};

use crate::faq::words;

/// One routing rule: a ticket matches when every condition it sets holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// Lower-case words or phrases; any of them in the first message (whole words). Empty:
    /// any message.
    pub keywords: Vec<String>,
    /// Empty: every channel.
    pub channels: Vec<Platform>,
    /// Primary language codes (`de`); empty: every language.
    pub languages: Vec<String>,
    pub team: String,
    pub priority: Option<Priority>,
    pub tags: Vec<String>,
}

/// What routing knows about a new ticket.
#[derive(Debug, Clone, Copy)]
pub struct NewTicketFacts<'a> {
    pub text: &'a str,
    pub channel: Platform,
    pub language: Option<&'a str>,
}

impl Rule {
    pub fn matches(&self, facts: &NewTicketFacts<'_>) -> bool {
        let channel_ok = self.channels.is_empty() || self.channels.contains(&facts.channel);
        let language_ok = self.languages.is_empty()
            || facts.language.is_some_and(|code| {
                let primary = code
                    .split(['-', '_'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                self.languages.contains(&primary)
            });
        let keywords_ok = self.keywords.is_empty() || {
            let message = words(facts.text);
            self.keywords.iter().any(|keyword| {
                let keyword: Vec<&str> = keyword.split(' ').collect();
                message
                    .windows(keyword.len())
                    .any(|w| w.iter().zip(&keyword).all(|(a, b)| a == b))
            })
        };
        channel_ok && language_ok && keywords_ok
    }
}

/// The first rule the ticket matches, with its position (for the audit trail).
pub fn route<'a>(rules: &'a [Rule], facts: &NewTicketFacts<'_>) -> Option<(usize, &'a Rule)> {
    rules
        .iter()
        .enumerate()
        .find(|(_, rule)| rule.matches(facts))
}

/// How a team hands out its tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    /// Nobody is assigned until someone claims it.
    #[default]
    Manual,
    /// The next member after the one assigned last.
    RoundRobin,
    /// The member with the fewest open tickets (ties: the first listed).
    LeastLoaded,
}

/// A team member as assignment sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: i64,
    /// On duty and not away.
    pub available: bool,
    /// Open and pending tickets assigned to them.
    pub open_tickets: i64,
}

/// Who gets the next ticket: among available members under `max_open`, by the team's rule.
/// `members` are in the team's order; `last` is the member assigned last (round robin).
pub fn pick(
    assignment: Assignment,
    members: &[Candidate],
    last: Option<i64>,
    max_open: Option<i64>,
) -> Option<i64> {
    let eligible = |c: &&Candidate| c.available && max_open.is_none_or(|max| c.open_tickets < max);
    match assignment {
        Assignment::Manual => None,
        Assignment::LeastLoaded => members
            .iter()
            .filter(eligible)
            .min_by_key(|c| c.open_tickets)
            .map(|c| c.agent_id),
        Assignment::RoundRobin => {
            let start = last
                .and_then(|last| members.iter().position(|c| c.agent_id == last))
                .map_or(0, |at| at + 1);
            (0..members.len())
                .map(|i| &members[(start + i) % members.len()])
                .find(eligible)
                .map(|c| c.agent_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        text: &'a str,
        channel: Platform,
        language: Option<&'a str>,
    ) -> NewTicketFacts<'a> {
        NewTicketFacts {
            text,
            channel,
            language,
        }
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let rules = [
            Rule {
                keywords: vec!["refund".into(), "invoice".into()],
                channels: vec![Platform::Telegram, Platform::Web],
                team: "billing".into(),
                ..Rule::default()
            },
            Rule {
                languages: vec!["de".into()],
                team: "dach".into(),
                ..Rule::default()
            },
        ];
        let team = |f: NewTicketFacts<'_>| route(&rules, &f).map(|(_, r)| r.team.as_str());
        assert_eq!(
            team(facts("I need a REFUND", Platform::Telegram, None)),
            Some("billing")
        );
        assert_eq!(
            team(facts("refund bitte", Platform::Discord, Some("de-AT"))),
            Some("dach")
        );
        assert_eq!(team(facts("refunded?", Platform::Telegram, None)), None);
        assert_eq!(team(facts("hello", Platform::Web, Some("en"))), None);
    }

    fn member(agent_id: i64, available: bool, open_tickets: i64) -> Candidate {
        Candidate {
            agent_id,
            available,
            open_tickets,
        }
    }

    #[test]
    fn round_robin_goes_around_skipping_the_away_and_the_full() {
        let team = [member(1, true, 0), member(2, true, 0), member(3, false, 0)];
        assert_eq!(pick(Assignment::RoundRobin, &team, None, None), Some(1));
        assert_eq!(pick(Assignment::RoundRobin, &team, Some(1), None), Some(2));
        assert_eq!(pick(Assignment::RoundRobin, &team, Some(2), None), Some(1));
        let full = [member(1, true, 5), member(2, true, 1)];
        assert_eq!(
            pick(Assignment::RoundRobin, &full, Some(2), Some(5)),
            Some(2)
        );
        assert_eq!(
            pick(Assignment::RoundRobin, &[member(1, false, 0)], None, None),
            None
        );
        assert_eq!(pick(Assignment::Manual, &team, None, None), None);
    }

    #[test]
    fn least_loaded_takes_the_fewest_open() {
        let team = [member(1, true, 3), member(2, true, 1), member(3, true, 1)];
        assert_eq!(pick(Assignment::LeastLoaded, &team, None, None), Some(2));
        assert_eq!(pick(Assignment::LeastLoaded, &team, None, Some(1)), None);
    }
}
