//! What Relaydesk writes into staff topics: the ticket card and the author line of a post.

use crate::hub::TicketView;

/// Longest forum topic name Telegram accepts.
pub const TOPIC_NAME_CHARS: usize = 128;

/// The first message of a ticket's topic.
pub fn ticket_card(ticket: &TicketView) -> String {
    let assignee = ticket.assignee.as_deref().unwrap_or("unassigned");
    let tags = if ticket.tags.is_empty() {
        "none".to_string()
    } else {
        ticket.tags.join(", ")
    };
    let sla_due = match ticket.sla_due {
        Some(due) => due.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => "–".to_string(),
    };
    // The team line only for tickets that have one.
    let team = ticket
        .team
        .as_deref()
        .map(|t| format!("Team: {t}\n"))
        .unwrap_or_default();
    format!(
        "🎫 Ticket #{number}\n\
         Customer: {customer}\n\
         Channel: {origin}\n\
         Subject: {subject}\n\
         Status: {status}\n\
         Priority: {priority}\n\
         {team}\
         Assignee: {assignee}\n\
         Tags: {tags}\n\
         SLA due: {sla_due}\n\
         \n\
         Write here to answer the customer. //text or /note text stays internal. \
         Commands: /claim, /assign @user, /close [reason], /priority, /tag, /status.",
        number = ticket.number,
        customer = ticket.customer_name,
        origin = ticket.origin,
        subject = ticket.subject,
        status = ticket.status,
        priority = ticket.priority,
    )
}

/// The plain-text line above a relayed post: who wrote it.
pub fn author_line(author: &str, internal: bool) -> String {
    if internal {
        format!("📝 {author} (internal note):")
    } else {
        format!("💬 {author}:")
    }
}

#[cfg(test)]
mod tests {
    use relaydesk_storage::{Platform, Priority, TicketStatus};

    use super::*;

    #[test]
    fn card_names_customer_channel_priority_and_assignee() {
        let view = TicketView {
            id: 1,
            number: 1042,
            subject: "printer won't print".into(),
            customer_name: "Anna K.".into(),
            origin: Platform::Telegram,
            status: TicketStatus::Open,
            priority: Priority::High,
            assignee: None,
            team: None,
            tags: vec!["refund".into()],
            sla_due: None,
        };
        let card = ticket_card(&view);
        for part in [
            "#1042",
            "Anna K.",
            "telegram",
            "high",
            "unassigned",
            "refund",
        ] {
            assert!(card.contains(part), "{part} missing from {card}");
        }
        assert_eq!(author_line("bo", true), "📝 bo (internal note):");
        assert!(card.contains("\nSLA due: –\n"), "{card}");
        let due = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 5, 4, 14, 0, 0).unwrap();
        let card = ticket_card(&TicketView {
            sla_due: Some(due),
            ..view.clone()
        });
        assert!(card.contains("\nSLA due: 2026-05-04 14:00 UTC\n"), "{card}");
        assert!(!card.contains("Team:"), "no team, no line: {card}");
        let card = ticket_card(&TicketView {
            team: Some("billing".into()),
            ..view.clone()
        });
        assert!(card.contains("\nTeam: billing\nAssignee:"), "{card}");
        let titled = TicketView {
            team: Some("billing".into()),
            ..view
        };
        assert_eq!(
            titled.title(128),
            "#1042 [billing] · Anna K. · printer won't print"
        );
    }
}
