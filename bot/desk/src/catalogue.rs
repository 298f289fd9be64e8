//! Every staff command, declared once. The chat parser, Telegram's command menu, Discord's
//! application commands, `/help`, the console's action controls and the REST API's OpenAPI
//! description are all derived from [`CATALOGUE`]; adding a command means adding a
//! [`CommandSpec`] here, a [`crate::Command`] variant, and its function in the hub.

use relaydesk_storage::Role;

use crate::language::{Language, Translated};

/// What an argument holds; decides how each edge asks for it and how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// An agent: their name, or their chat handle (`@anna`). Discord offers a user picker.
    Agent,
    /// Free text, several lines allowed.
    Text,
    /// A ticket number, `1042` or `#1042`.
    Ticket,
    /// One of [`PRIORITIES`].
    Priority,
    /// One word, up to 50 characters, stored lower-case.
    Tag,
    /// A canned reply's name (one word). Discord completes it as it is typed; the console
    /// offers a picker.
    Canned,
    /// One of [`QUEUE_VIEWS`].
    QueueView,
    /// A message's number in its ticket (1 for the first), as the console shows it and
    /// `/split` alone lists.
    Message,
}

/// The views `/queue` shows, in order; the first is the default.
pub const QUEUE_VIEWS: [&str; 5] = ["unassigned", "mine", "team", "breaching", "all"];

/// The priorities `/priority` accepts, in order.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// A command's argument. Commands take at most one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    /// Its name in Discord options, REST bodies and forms (`agent`, `reason`, `ticket`, …).
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
    pub help: Translated,
}

impl ArgSpec {
    /// The fixed values it accepts, if any (for menus and the OpenAPI enum).
    pub fn choices(&self) -> &'static [&'static str] {
        match self.kind {
            ArgKind::Priority => &PRIORITIES,
            ArgKind::QueueView => &QUEUE_VIEWS,
            _ => &[],
        }
    }
}

/// Where a command makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On one ticket: in its staff thread, or on its page in the console and API.
    Ticket,
    /// Anywhere staff can write: the staff chat, any ticket thread, the console and the API.
    Staff,
}

/// One command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// The word after the slash; lower case, valid on Telegram and Discord.
    pub name: &'static str,
    /// Other words that run it in chat (`/ticket-info`).
    pub aliases: &'static [&'static str],
    pub arg: Option<ArgSpec>,
    /// One line, as Telegram's menu and `/help` show it.
    pub help: Translated,
    /// The least role that may run it.
    pub role: Role,
    pub scope: Scope,
    /// Only shows something (`/status`, `/sla`, `/help`) and changes nothing; the console has
    /// these on its pages instead of as actions.
    pub shows_only: bool,
}

impl CommandSpec {
    /// How to write it: `/assign <agent>`, `/close [reason]`.
    pub fn usage(&self) -> String {
        match &self.arg {
            Some(arg) if arg.required => format!("/{} <{}>", self.name, arg.name),
            Some(arg) => format!("/{} [{}]", self.name, arg.name),
            None => format!("/{}", self.name),
        }
    }

    /// Whether `word` (without the slash, any case) names this command.
    pub fn answers_to(&self, word: &str) -> bool {
        self.name.eq_ignore_ascii_case(word)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    }
}

/// The command `word` names, if any.
pub fn find(word: &str) -> Option<&'static CommandSpec> {
    CATALOGUE.iter().find(|spec| spec.answers_to(word))
}

/// `/help`: every command with its usage and one line, in `language`.
pub fn help_text(language: Language) -> String {
    let mut text = String::from(match language {
        Language::En => "Commands:",
        Language::De => "Befehle:",
        Language::Fi => "Komennot:",
        Language::Sv => "Kommandon:",
        Language::Ru => "Команды:",
    });
    for spec in CATALOGUE {
        text.push('\n');
        text.push_str(&spec.usage());
        text.push_str(" — ");
        text.push_str(spec.help.get(language));
    }
    text
}

const fn t(
    en: &'static str,
    de: &'static str,
    fi: &'static str,
    sv: &'static str,
    ru: &'static str,
) -> Translated {
    Translated { en, de, fi, sv, ru }
}

const fn on_ticket(name: &'static str, arg: Option<ArgSpec>, help: Translated) -> CommandSpec {
    CommandSpec {
        name,
        aliases: &[],
        arg,
        help,
        role: Role::Agent,
        scope: Scope::Ticket,
        shows_only: false,
    }
}

const fn arg(
    name: &'static str,
    kind: ArgKind,
    required: bool,
    help: Translated,
) -> Option<ArgSpec> {
    Some(ArgSpec {
        name,
        kind,
        required,
        help,
    })
}

const TAG_HELP: Translated = t(
    "The tag (one word)",
    "Das Schlagwort (ein Wort)",
    "Tunniste (yksi sana)",
    "Taggen (ett ord)",
    "Тег (одно слово)",
);

/// Every staff command, in the order menus and `/help` list them.
pub const CATALOGUE: &[CommandSpec] = &[
    on_ticket(
        "claim",
        None,
        t(
            "Assign this ticket to yourself",
            "Ticket selbst übernehmen",
            "Ota tiketti itsellesi",
            "Ta ärendet själv",
            "Взять обращение себе",
        ),
    ),
    on_ticket(
        "assign",
        arg(
            "agent",
            ArgKind::Agent,
            true,
            t(
                "The agent (name or @handle)",
                "Der Agent (Name oder @Handle)",
                "Agentti (nimi tai @tunnus)",
                "Agenten (namn eller @användarnamn)",
                "Агент (имя или @ник)",
            ),
        ),
        t(
            "Assign this ticket to an agent",
            "Ticket einem Agenten zuweisen",
            "Anna tiketti agentille",
            "Tilldela ärendet till en agent",
            "Назначить обращение агенту",
        ),
    ),
    on_ticket(
        "unassign",
        None,
        t(
            "Remove the ticket's assignee",
            "Zuweisung aufheben",
            "Poista tiketin käsittelijä",
            "Ta bort ärendets handläggare",
            "Снять назначение",
        ),
    ),
    on_ticket(
        "close",
        arg(
            "reason",
            ArgKind::Text,
            false,
            t(
                "Why it is closed",
                "Warum es geschlossen wird",
                "Miksi se suljetaan",
                "Varför det stängs",
                "Причина закрытия",
            ),
        ),
        t(
            "Close this ticket (the customer is told)",
            "Ticket schließen (der Kunde wird informiert)",
            "Sulje tiketti (asiakkaalle ilmoitetaan)",
            "Stäng ärendet (kunden meddelas)",
            "Закрыть обращение (клиент получит уведомление)",
        ),
    ),
    on_ticket(
        "reopen",
        None,
        t(
            "Reopen this closed ticket",
            "Geschlossenes Ticket wieder öffnen",
            "Avaa suljettu tiketti uudelleen",
            "Öppna det stängda ärendet igen",
            "Снова открыть закрытое обращение",
        ),
    ),
    on_ticket(
        "priority",
        arg(
            "priority",
            ArgKind::Priority,
            true,
            t(
                "low, normal, high or urgent",
                "low, normal, high oder urgent",
                "low, normal, high tai urgent",
                "low, normal, high eller urgent",
                "low, normal, high или urgent",
            ),
        ),
        t(
            "Set the ticket's priority",
            "Priorität des Tickets setzen",
            "Aseta tiketin prioriteetti",
            "Sätt ärendets prioritet",
            "Задать приоритет обращения",
        ),
    ),
    on_ticket(
        "tag",
        arg("tag", ArgKind::Tag, true, TAG_HELP),
        t(
            "Add a tag",
            "Schlagwort hinzufügen",
            "Lisää tunniste",
            "Lägg till en tagg",
            "Добавить тег",
        ),
    ),
    on_ticket(
        "untag",
        arg("tag", ArgKind::Tag, true, TAG_HELP),
        t(
            "Remove a tag",
            "Schlagwort entfernen",
            "Poista tunniste",
            "Ta bort en tagg",
            "Удалить тег",
        ),
    ),
    CommandSpec {
        role: Role::Admin,
        ..on_ticket(
            "merge",
            arg(
                "ticket",
                ArgKind::Ticket,
                true,
                t(
                    "Number of the ticket to merge into",
                    "Nummer des Ziel-Tickets",
                    "Kohdetiketin numero",
                    "Numret på målärendet",
                    "Номер целевого обращения",
                ),
            ),
            t(
                "Merge this ticket into another (admins)",
                "Ticket mit einem anderen zusammenführen (Admins)",
                "Yhdistä tiketti toiseen (ylläpitäjät)",
                "Slå ihop ärendet med ett annat (administratörer)",
                "Объединить с другим обращением (админы)",
            ),
        )
    },
    on_ticket(
        "note",
        arg(
            "text",
            ArgKind::Text,
            true,
            t(
                "The note",
                "Die Notiz",
                "Muistiinpano",
                "Anteckningen",
                "Заметка",
            ),
        ),
        t(
            "Internal note, not sent to the customer (or start with //)",
            "Interne Notiz, geht nicht an den Kunden (oder mit // beginnen)",
            "Sisäinen muistiinpano, ei lähde asiakkaalle (tai aloita //)",
            "Intern anteckning, skickas inte till kunden (eller börja med //)",
            "Внутренняя заметка, клиент её не видит (или начните с //)",
        ),
    ),
    on_ticket(
        "reply",
        arg(
            "text",
            ArgKind::Text,
            true,
            t("The reply", "Die Antwort", "Vastaus", "Svaret", "Ответ"),
        ),
        t(
            "Reply to the customer",
            "Dem Kunden antworten",
            "Vastaa asiakkaalle",
            "Svara kunden",
            "Ответить клиенту",
        ),
    ),
    on_ticket(
        "team",
        arg(
            "team",
            ArgKind::Text,
            true,
            t(
                "The team's name",
                "Name des Teams",
                "Tiimin nimi",
                "Teamets namn",
                "Название команды",
            ),
        ),
        t(
            "Move this ticket to a team",
            "Ticket einem Team übergeben",
            "Siirrä tiketti tiimille",
            "Flytta ärendet till ett team",
            "Передать обращение команде",
        ),
    ),
    on_ticket(
        "reroute",
        None,
        t(
            "Apply the routing rules to this ticket again (team, priority, tags, assignee)",
            "Die Routing-Regeln erneut auf dieses Ticket anwenden (Team, Priorität, Tags, Zuweisung)",
            "Sovella reitityssääntöjä tähän tikettiin uudelleen (tiimi, prioriteetti, tagit, käsittelijä)",
            "Tillämpa routningsreglerna på ärendet igen (team, prioritet, taggar, handläggare)",
            "Снова применить правила маршрутизации (команда, приоритет, теги, исполнитель)",
        ),
    ),
    on_ticket(
        "split",
        arg(
            "message",
            ArgKind::Message,
            false,
            t(
                "Number of the first message to move",
                "Nummer der ersten Nachricht, die umzieht",
                "Ensimmäisen siirrettävän viestin numero",
                "Numret på det första meddelandet som flyttas",
                "Номер первого переносимого сообщения",
            ),
        ),
        t(
            "Move a message and the customer's later ones to a new ticket (alone: list them)",
            "Eine Nachricht und die späteren des Kunden in ein neues Ticket verschieben (ohne Nummer: Liste)",
            "Siirrä viesti ja asiakkaan myöhemmät viestit uuteen tikettiin (ilman numeroa: luettelo)",
            "Flytta ett meddelande och kundens senare till ett nytt ärende (utan nummer: lista)",
            "Перенести сообщение и последующие сообщения клиента в новое обращение (без номера: список)",
        ),
    ),
    on_ticket(
        "canned",
        arg(
            "canned",
            ArgKind::Canned,
            false,
            t(
                "The canned reply's name",
                "Name der Textvorlage",
                "Valmisvastauksen nimi",
                "Svarsmallens namn",
                "Название шаблона ответа",
            ),
        ),
        t(
            "Send a canned reply (alone: list them)",
            "Textvorlage senden (ohne Namen: alle anzeigen)",
            "Lähetä valmisvastaus (ilman nimeä: luettelo)",
            "Skicka en svarsmall (utan namn: lista dem)",
            "Отправить шаблон ответа (без названия: список)",
        ),
    ),
    CommandSpec {
        aliases: &["ticket-info", "info"],
        shows_only: true,
        ..on_ticket(
            "status",
            None,
            t(
                "Show this ticket's state",
                "Status des Tickets anzeigen",
                "Näytä tiketin tila",
                "Visa ärendets status",
                "Показать состояние обращения",
            ),
        )
    },
    CommandSpec {
        shows_only: true,
        ..on_ticket(
            "sla",
            None,
            t(
                "Show this ticket's SLA goals",
                "SLA-Ziele des Tickets anzeigen",
                "Näytä tiketin SLA-tavoitteet",
                "Visa ärendets SLA-mål",
                "Показать SLA-цели обращения",
            ),
        )
    },
    CommandSpec {
        scope: Scope::Staff,
        shows_only: true,
        ..on_ticket(
            "queue",
            arg(
                "view",
                ArgKind::QueueView,
                false,
                t(
                    "unassigned, mine, team, breaching or all",
                    "unassigned, mine, team, breaching oder all",
                    "unassigned, mine, team, breaching tai all",
                    "unassigned, mine, team, breaching eller all",
                    "unassigned, mine, team, breaching или all",
                ),
            ),
            t(
                "List up to 15 open tickets (default: unassigned)",
                "Bis zu 15 offene Tickets auflisten (Standard: unassigned)",
                "Näytä enintään 15 avointa tikettiä (oletus: unassigned)",
                "Lista upp till 15 öppna ärenden (standard: unassigned)",
                "Показать до 15 открытых обращений (по умолчанию: unassigned)",
            ),
        )
    },
    CommandSpec {
        scope: Scope::Staff,
        ..on_ticket(
            "away",
            None,
            t(
                "Mark yourself away: no tickets are assigned to you",
                "Als abwesend markieren: keine Zuweisungen",
                "Merkitse itsesi poissaolevaksi: ei uusia tikettejä",
                "Markera dig som borta: inga ärenden tilldelas dig",
                "Отметить себя отсутствующим: обращения не назначаются",
            ),
        )
    },
    CommandSpec {
        scope: Scope::Staff,
        ..on_ticket(
            "back",
            None,
            t(
                "Mark yourself back on duty",
                "Wieder im Dienst",
                "Merkitse itsesi takaisin töihin",
                "Markera dig som tillbaka",
                "Отметить, что вы снова на месте",
            ),
        )
    },
    CommandSpec {
        scope: Scope::Staff,
        shows_only: true,
        ..on_ticket(
            "help",
            None,
            t(
                "List the commands",
                "Befehle auflisten",
                "Näytä komennot",
                "Lista kommandona",
                "Список команд",
            ),
        )
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_valid_on_every_platform() {
        let mut seen = std::collections::HashSet::new();
        for spec in CATALOGUE {
            for word in std::iter::once(&spec.name).chain(spec.aliases) {
                assert!(seen.insert(*word), "{word} declared twice");
                assert!(!word.is_empty() && word.len() <= 32, "{word}");
                assert!(
                    word.chars().all(|c| c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || c == '-'
                        || c == '_'),
                    "{word}"
                );
            }
            // Telegram menu entries allow only letters, digits and underscores.
            assert!(!spec.name.contains('-'), "{}", spec.name);
            for language in Language::ALL {
                let help = spec.help.get(language);
                // Discord: descriptions of 1 to 100 characters.
                assert!((1..=100).contains(&help.chars().count()), "{help}");
                if let Some(arg) = &spec.arg {
                    assert!((1..=100).contains(&arg.help.get(language).chars().count()));
                }
            }
        }
    }

    #[test]
    fn help_lists_every_command_with_usage() {
        let help = help_text(Language::De);
        assert!(help.starts_with("Befehle:"));
        for spec in CATALOGUE {
            assert!(help.contains(&spec.usage()), "{} missing", spec.name);
        }
        assert!(help.contains("/assign <agent>"));
        assert!(help.contains("/close [reason]"));
        assert_eq!(find("TICKET-INFO").map(|s| s.name), Some("status"));
        assert!(find("frobnicate").is_none());
    }
}
