//! What a ticket looks like on Discord: the thread name, the ticket card that opens the
//! thread, and the text of relayed posts.

use relaydesk_storage::Attachment;
use serenity::all::{
    ActionRowComponent, ButtonStyle, CreateActionRow, CreateButton, CreateEmbed, CreateInputText,
    CreateModal, InputTextStyle, ModalInteractionData,
};

use super::THREAD_NAME_LIMIT;
use crate::hub::TicketView;

/// `custom_id` of the card's Claim button.
pub const CLAIM_BUTTON: &str = "relaydesk:claim";
/// `custom_id` of the card's Close button.
pub const CLOSE_BUTTON: &str = "relaydesk:close";

/// Embed text limits (Discord: field values 1,024, descriptions 4,096 characters).
const FIELD_LIMIT: usize = 1024;
const DESCRIPTION_LIMIT: usize = 4096;

pub fn thread_name(ticket: &TicketView) -> String {
    ticket.title(THREAD_NAME_LIMIT)
}

/// Name of the card's field with the SLA due time (absent when no goal is running).
pub const SLA_DUE_FIELD: &str = "SLA due";

/// The ticket card: customer, channel, priority, assignee, tags, and when the SLA is due.
pub fn ticket_card(ticket: &TicketView) -> CreateEmbed {
    let cut = crate::hub::text::truncate_chars;
    let tags = if ticket.tags.is_empty() {
        "none".to_string()
    } else {
        ticket.tags.join(", ")
    };
    let card = CreateEmbed::new()
        .title(format!("Ticket #{}", ticket.number))
        .description(cut(&ticket.subject, DESCRIPTION_LIMIT))
        .field("Customer", cut(&ticket.customer_name, FIELD_LIMIT), true)
        .field("Channel", ticket.origin.to_string(), true)
        .field("Status", ticket.status.to_string(), true)
        .field("Priority", ticket.priority.to_string(), true)
        .field(
            "Assignee",
            cut(
                ticket.assignee.as_deref().unwrap_or("unassigned"),
                FIELD_LIMIT,
            ),
            true,
        )
        .field("Tags", cut(&tags, FIELD_LIMIT), true);
    let card = match ticket.team.as_deref() {
        Some(team) => card.field("Team", cut(team, FIELD_LIMIT), true),
        None => card,
    };
    match ticket.sla_due {
        // Discord shows the moment in each reader's zone, and how far away it is.
        Some(due) => card.field(SLA_DUE_FIELD, sla_due_markup(due), true),
        None => card,
    }
}

/// `<t:UNIX:f> (<t:UNIX:R>)`: date and time, then "in 2 hours".
pub fn sla_due_markup(due: chrono::DateTime<chrono::Utc>) -> String {
    let unix = due.timestamp();
    format!("<t:{unix}:f> (<t:{unix}:R>)")
}

pub fn card_buttons() -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(CLAIM_BUTTON)
            .label("Claim")
            .style(ButtonStyle::Primary),
        CreateButton::new(CLOSE_BUTTON)
            .label("Close")
            .style(ButtonStyle::Danger),
    ])]
}

/// The survey's buttons: one per rating, `csat:<survey>:<rating>` as custom id.
pub fn survey_buttons(survey_id: i64) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(
        crate::hub::RATINGS
            .iter()
            .map(|r| {
                CreateButton::new(crate::hub::Rating::button_data(survey_id, *r))
                    .label(format!("{r} ⭐"))
                    .style(ButtonStyle::Secondary)
            })
            .collect(),
    )]
}

/// The text input of a survey's comment form.
const COMMENT_FIELD: &str = "comment";
/// Discord's limit on a modal's title and a text input's label.
const FORM_LABEL_LIMIT: usize = 45;

/// After a rating: `thanks` as the form's title and an optional comment box labelled `ask`.
pub fn comment_form(survey_id: i64, thanks: &str, ask: &str) -> CreateModal {
    let title = crate::hub::text::truncate_chars(thanks, FORM_LABEL_LIMIT);
    let label = crate::hub::text::truncate_chars(ask, FORM_LABEL_LIMIT);
    CreateModal::new(crate::hub::comment_form_id(survey_id), title).components(vec![
        CreateActionRow::InputText(
            CreateInputText::new(InputTextStyle::Paragraph, label, COMMENT_FIELD)
                .max_length(u16::try_from(crate::hub::MAX_COMMENT_CHARS).unwrap_or(1000))
                .required(false),
        ),
    ])
}

/// The comment typed into a submitted comment form (empty when none).
pub fn comment_value(data: &ModalInteractionData) -> String {
    data.components
        .iter()
        .flat_map(|row| row.components.iter())
        .find_map(|component| match component {
            ActionRowComponent::InputText(input) if input.custom_id == COMMENT_FIELD => {
                input.value.clone()
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// An FAQ answer's two buttons.
pub fn faq_buttons(ticket_id: i64, solved_label: &str, help_label: &str) -> Vec<CreateActionRow> {
    use crate::hub::FaqPress;
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(FaqPress::button_data(ticket_id, true))
            .label(solved_label)
            .style(ButtonStyle::Success),
        CreateButton::new(FaqPress::button_data(ticket_id, false))
            .label(help_label)
            .style(ButtonStyle::Secondary),
    ])]
}

/// A relayed message in the staff thread: who wrote it, then the text as written, then links
/// to its files.
pub fn thread_post(author: &str, internal: bool, text: &str, attachments: &[Attachment]) -> String {
    let header = if internal {
        format!("🔒 {author} (internal note):")
    } else {
        format!("💬 {author}:")
    };
    let mut out = header;
    if !text.is_empty() {
        out.push('\n');
        out.push_str(text);
    }
    out.push_str(&attachment_links(attachments));
    out
}

/// Longest quoted line: long lines are wrapped so that any cut of a long post into
/// 2,000-character messages falls at a line break and every part stays framed.
const QUOTED_LINE_CHARS: usize = 900;

/// A customer's text framed as a quote (`> ` before each line, long lines wrapped) with the
/// brackets of masked links escaped: it cannot pass for Relaydesk's own lines, and a link
/// shows where it goes.
pub fn quoted(text: &str) -> String {
    text.split('\n')
        .flat_map(|line| {
            let line = line.replace('[', "\\[").replace(']', "\\]");
            let pieces = crate::hub::text::split_for_limit(&line, QUOTED_LINE_CHARS);
            if pieces.is_empty() {
                return vec!["> ".to_string()];
            }
            pieces
                .iter()
                .map(|piece| format!("> {}", piece.trim_end()))
                .collect()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per attachment, `📎 name: url`.
pub fn attachment_links(attachments: &[Attachment]) -> String {
    attachments
        .iter()
        .map(|a| {
            let name = a.file_name.as_deref().unwrap_or(&a.kind);
            match &a.url {
                Some(url) => format!("\n📎 {name}: {url}"),
                None => format!("\n📎 {name} (not available on Discord)"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use relaydesk_storage::{Platform, Priority, TicketStatus};

    fn view(status: TicketStatus) -> TicketView {
        TicketView {
            id: 1,
            number: 1042,
            subject: "printer won't print ".repeat(10),
            customer_name: "Anna K.".into(),
            origin: Platform::Discord,
            status,
            priority: Priority::High,
            assignee: None,
            team: None,
            tags: vec![],
            sla_due: None,
        }
    }

    #[test]
    fn thread_names_fit_discord_and_mark_closed_tickets() {
        let open = thread_name(&view(TicketStatus::Open));
        assert!(open.starts_with("#1042 · Anna K. · printer"));
        assert!(open.chars().count() <= THREAD_NAME_LIMIT);
        let closed = thread_name(&view(TicketStatus::Closed));
        assert!(closed.starts_with("✅ #1042"));
        assert!(closed.chars().count() <= THREAD_NAME_LIMIT);
    }

    #[test]
    fn the_due_time_is_discord_timestamp_markup() {
        let due = chrono::DateTime::from_timestamp(1_777_903_200, 0).expect("valid time");
        assert_eq!(sla_due_markup(due), "<t:1777903200:f> (<t:1777903200:R>)");
    }

    #[test]
    fn posts_name_the_author_and_link_files() {
        let files = [Attachment {
            kind: "file".into(),
            file_name: Some("log.txt".into()),
            mime_type: None,
            size: Some(3),
            platform_ref: None,
            url: Some("https://cdn.example/log.txt".into()),
        }];
        let post = thread_post("Anna", false, "hi @everyone", &files);
        assert_eq!(
            post,
            "💬 Anna:\nhi @everyone\n📎 log.txt: https://cdn.example/log.txt"
        );
        assert!(thread_post("Bob", true, "x", &[]).starts_with("🔒 Bob (internal note):"));
    }

    #[test]
    fn customer_text_is_quoted_and_masked_links_do_not_render() {
        assert_eq!(
            quoted("hi\n🔒 Bob (internal note):\n[docs](https://evil.example)"),
            "> hi\n> 🔒 Bob (internal note):\n> \\[docs\\](https://evil.example)"
        );
        let long = "word ".repeat(1000);
        let framed = quoted(&long);
        assert!(framed
            .lines()
            .all(|l| l.starts_with("> ") && l.chars().count() <= QUOTED_LINE_CHARS + 2));
        let words: Vec<&str> = framed
            .lines()
            .flat_map(|l| l[2..].split_whitespace())
            .collect();
        assert_eq!(words.len(), 1000);
        assert_eq!(quoted("a\n\nb"), "> a\n> \n> b");
    }
}
