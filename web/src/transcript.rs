//! A ticket's conversation as a file: plain text or a self-contained HTML page (escaped, no
//! scripts, no external resources, readable offline). The customer's copy never holds
//! internal notes; staff copies may.

use chrono::{DateTime, Utc};
use maud::{html, PreEscaped, DOCTYPE};
use relaydesk_storage::{AuthorKind, Message, StorageError, Store, Ticket};

/// Which messages a transcript holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// What the customer saw: no internal notes.
    Customer,
    /// Everything, internal notes marked as such.
    Staff,
}

/// A ticket's conversation, read once, ready to render.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub ticket: Ticket,
    pub customer_name: String,
    pub messages: Vec<Message>,
}

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Text,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Option<Format> {
        match raw.unwrap_or("html") {
            "html" => Some(Format::Html),
            "txt" | "text" => Some(Format::Text),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
        }
    }

    /// `ticket-1042.html`
    pub fn file_name(self, number: i64) -> String {
        match self {
            Format::Html => format!("ticket-{number}.html"),
            Format::Text => format!("ticket-{number}.txt"),
        }
    }
}

impl Transcript {
    /// Reads ticket `number`'s conversation; `None` when there is no such ticket.
    pub async fn load(store: &Store, number: i64) -> Result<Option<Transcript>, StorageError> {
        let mut tx = store.begin().await?;
        let Some(ticket) = tx.ticket_by_number(number).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let customer_name = tx.customer(ticket.customer_id).await?.display_name;
        let messages = tx.messages(ticket.id).await?;
        tx.rollback().await?;
        Ok(Some(Transcript {
            ticket,
            customer_name,
            messages,
        }))
    }

    fn shown(&self, audience: Audience) -> impl Iterator<Item = &Message> {
        self.messages
            .iter()
            .filter(move |m| audience == Audience::Staff || !m.internal)
    }

    fn author<'a>(&'a self, message: &'a Message) -> &'a str {
        match message.author_kind {
            AuthorKind::Customer => &self.customer_name,
            _ => &message.author_name,
        }
    }

    pub fn render(&self, format: Format, audience: Audience) -> String {
        match format {
            Format::Html => self.html(audience),
            Format::Text => self.text(audience),
        }
    }

    /// Plain text: a heading, then each message with its time and author.
    pub fn text(&self, audience: Audience) -> String {
        let ticket = &self.ticket;
        let mut out = format!(
            "Ticket #{} · {} · {}\nOpened {} · {}\n\n",
            ticket.number,
            self.customer_name,
            ticket.subject,
            stamp(ticket.created_at),
            ticket.status
        );
        for message in self.shown(audience) {
            let note = if message.internal {
                " (internal note)"
            } else {
                ""
            };
            out.push_str(&format!(
                "[{}] {}{note}:\n{}\n",
                stamp(message.created_at),
                self.author(message),
                message.body
            ));
            for file in &message.attachments {
                out.push_str(&format!(
                    "  (file: {}{})\n",
                    file.file_name.as_deref().unwrap_or("attachment"),
                    file.url
                        .as_deref()
                        .map(|u| format!(" {u}"))
                        .unwrap_or_default()
                ));
            }
            out.push('\n');
        }
        out
    }

    /// One HTML page with its style inline; every text escaped.
    pub fn html(&self, audience: Audience) -> String {
        let ticket = &self.ticket;
        let title = format!("Ticket #{} · {}", ticket.number, ticket.subject);
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    h1 { (title) }
                    p.meta {
                        (self.customer_name) " · " (ticket.origin) " · opened " (stamp(ticket.created_at))
                        " · " (ticket.status)
                    }
                    @for message in self.shown(audience) {
                        div class={ "message " (message.author_kind.as_str()) @if message.internal { " internal" } } {
                            div.who {
                                (self.author(message))
                                @if message.internal { " · internal note" }
                                " · " time datetime=(message.created_at.to_rfc3339()) { (stamp(message.created_at)) }
                            }
                            div.body { (message.body) }
                            @for file in &message.attachments {
                                div.file {
                                    "📎 " (file.file_name.as_deref().unwrap_or("attachment"))
                                    @if let Some(url) = &file.url { " — " (url) }
                                }
                            }
                        }
                    }
                }
            }
        }
        .into_string()
    }
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}\
h1{font-size:1.3rem}.meta{color:#5b6272}\
.message{border:1px solid #d6dbe5;border-radius:6px;padding:.5rem .75rem;margin:.6rem 0}\
.message.agent{background:#f1f5fd}.message.internal{background:#fff8e1;border-style:dashed}\
.who{font-size:.85rem;color:#5b6272;margin-bottom:.2rem}.body{white-space:pre-wrap;overflow-wrap:anywhere}\
.file{font-size:.85rem;overflow-wrap:anywhere}";

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
