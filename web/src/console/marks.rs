//! Small marks the lists and the ticket page share: a customer's avatar (initials on a colour
//! of their own), a channel's icon, and a chip for where a ticket's SLA clock stands.

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use relaydesk_storage::{Attachment, Platform};

use super::layout::moment;

/// Avatar colours (CSS classes `hue-0` … `hue-7` in the console's stylesheet); white initials
/// on each meet WCAG AA.
const HUES: u64 = 8;

/// Up to two initials of a name: the first letter of its first two words, in upper case.
pub fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_string()
    } else {
        letters
    }
}

/// A customer's avatar: their initials on a colour that stays the same for them.
pub fn avatar(customer_id: i64, name: &str) -> Markup {
    let hue = customer_id.unsigned_abs() % HUES;
    html! {
        span class={ "avatar hue-" (hue) } aria-hidden="true" { (initials(name)) }
    }
}

/// The 16×16 outline of a channel's icon.
fn icon_path(platform: Platform) -> &'static str {
    match platform {
        // A paper plane.
        Platform::Telegram => "M1.5 7.6 14.5 2 12 14 8.3 10.9 6.2 13 6 9.4 12.3 4 4.9 8.6Z",
        // A speech bubble.
        Platform::Discord => "M2 3h12v8H7.5L4.5 14v-3H2Z",
        // A globe.
        Platform::Web => {
            "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M1.5 8h13M8 1.5c2.6 2.6 2.6 10.4 0 13M8 1.5c-2.6 2.6-2.6 10.4 0 13"
        }
        // An envelope.
        Platform::Email => "M1.5 3.5h13v9h-13ZM1.5 3.5 8 9l6.5-5.5",
        // Brackets.
        Platform::Api => "M5.5 3.5 1.5 8l4 4.5M10.5 3.5l4 4.5-4 4.5",
        // A screen.
        Platform::Console => "M1.5 2.5h13v8.5h-13ZM5 14h6M8 11v3",
    }
}

/// A channel's icon with its name for screen readers and on hover.
pub fn channel(platform: Platform) -> Markup {
    html! {
        span.channel title=(platform) {
            svg.icon viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false" {
                path d=(icon_path(platform)) {}
            }
            span.visually-hidden { (platform) }
        }
    }
}

/// Where an SLA clock stands at `now_ms`: breached (red), past its warning (amber) or running.
pub fn sla(due: Option<DateTime<Utc>>, warn: Option<DateTime<Utc>>, now_ms: i64) -> Markup {
    let Some(due) = due else {
        return html! { span.chip.sla-none { "no SLA" } };
    };
    if due.timestamp_millis() <= now_ms {
        html! { span.chip.sla-breached data-sla="breached" { "breached " (moment(due)) } }
    } else if warn.is_some_and(|w| w.timestamp_millis() <= now_ms) {
        html! { span.chip.sla-soon data-sla="soon" { "due " (moment(due)) } }
    } else {
        html! { span.chip.sla-running data-sla="running" { "due " (moment(due)) } }
    }
}

/// Hosts whose images the console shows inline (Discord's file servers; the console's
/// Content-Security-Policy names the same).
pub const IMAGE_HOSTS: [&str; 2] = ["cdn.discordapp.com", "media.discordapp.net"];

/// Where an attachment opens from the console, and whether it is shown as an image there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentLink {
    pub href: String,
    pub image: bool,
}

/// How the console links an attachment: a visitor's file by its path on this server, a file
/// on the web by its `http(s)` address (any other scheme is not linked), images inline when
/// they come from this server or [`IMAGE_HOSTS`]. `None`: nothing to link (a Telegram file is
/// known by its handle alone).
pub fn attachment_link(a: &Attachment) -> Option<AttachmentLink> {
    let raw = a.url.as_deref()?;
    let is_image = a.kind == "photo"
        || a.mime_type
            .as_deref()
            .is_some_and(|m| m.starts_with("image/"));
    // A visitor's file: served by this server under an unguessable key.
    if let Some((_, key)) = raw.rsplit_once("/widget/files/") {
        if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(AttachmentLink {
                href: format!("/widget/files/{key}"),
                image: is_image,
            });
        }
    }
    let url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let trusted_host =
        url.scheme() == "https" && url.host_str().is_some_and(|h| IMAGE_HOSTS.contains(&h));
    Some(AttachmentLink {
        href: url.to_string(),
        image: is_image && trusted_host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_letter_of_two_words() {
        assert_eq!(initials("anna smith"), "AS");
        assert_eq!(initials("  Zoë  "), "Z");
        assert_eq!(initials("jean-luc picard riker"), "JP");
        assert_eq!(initials("🙂 ülrich"), "Ü");
        assert_eq!(initials(""), "?");
        assert_eq!(initials("!!! ???"), "?");
    }

    fn file(kind: &str, url: &str) -> Attachment {
        Attachment {
            kind: kind.into(),
            file_name: Some("x.png".into()),
            mime_type: None,
            size: None,
            platform_ref: None,
            url: Some(url.into()),
        }
    }

    #[test]
    fn attachments_link_safely() {
        let key = "ab".repeat(32);
        let widget = attachment_link(&file(
            "photo",
            &format!("https://help.example/widget/files/{key}"),
        ));
        assert_eq!(
            widget,
            Some(AttachmentLink {
                href: format!("/widget/files/{key}"),
                image: true
            })
        );
        let discord = attachment_link(&file(
            "photo",
            "https://cdn.discordapp.com/attachments/1/2/x.png",
        ));
        assert!(discord.is_some_and(|l| l.image));
        let elsewhere = attachment_link(&file("photo", "https://tracker.example/pixel.png"));
        assert_eq!(
            elsewhere,
            Some(AttachmentLink {
                href: "https://tracker.example/pixel.png".into(),
                image: false
            }),
            "images from other hosts are links, never loaded by the console"
        );
        assert_eq!(
            attachment_link(&file("document", "javascript:alert(1)")),
            None
        );
        assert_eq!(
            attachment_link(&file("document", "data:text/html,hi")),
            None
        );
        let mut telegram = file("photo", "");
        telegram.url = None;
        assert_eq!(attachment_link(&telegram), None);
    }
}
