//! Tickets opened from the guild: the support panel (a message with an "Open a ticket" button
//! that asks for subject and description in a form) and `/ticket subject`. Each such ticket is
//! answered in a private thread of the support channel holding only the customer and the bot.

use serenity::all::{
    ActionRowComponent, ButtonStyle, ChannelId, ChannelType, CreateActionRow,
    CreateAllowedMentions, CreateButton, CreateInputText, CreateMessage, CreateModal, CreateThread,
    GetMessages, InputTextStyle, ModalInteractionData, User, UserId,
};
use serenity::http::Http;

use super::THREAD_NAME_LIMIT;
use crate::hub::text::truncate_chars;

/// `custom_id` of the panel's button.
pub const OPEN_BUTTON: &str = "relaydesk:open";
/// `custom_id` of the form it opens.
pub const OPEN_FORM: &str = "relaydesk:open-form";
const SUBJECT_FIELD: &str = "subject";
const DESCRIPTION_FIELD: &str = "description";

const PANEL_TEXT: &str = "Need help? Press the button to open a ticket: you will get a private \
thread with the support team.";

/// Posts the panel in the support channel unless the bot already has one among the latest
/// messages there.
pub async fn ensure_panel(
    http: &Http,
    support: ChannelId,
    bot: UserId,
) -> Result<(), serenity::Error> {
    let recent = support.messages(http, GetMessages::new().limit(50)).await?;
    let has_panel = recent.iter().any(|m| {
        m.author.id == bot
            && m.components.iter().any(|row| {
                row.components.iter().any(|c| {
                    matches!(c, ActionRowComponent::Button(b)
                        if matches!(&b.data, serenity::all::ButtonKind::NonLink { custom_id, .. } if custom_id == OPEN_BUTTON))
                })
            })
    });
    if has_panel {
        return Ok(());
    }
    let panel = CreateMessage::new()
        .content(PANEL_TEXT)
        .allowed_mentions(CreateAllowedMentions::new())
        .components(vec![CreateActionRow::Buttons(vec![CreateButton::new(
            OPEN_BUTTON,
        )
        .label("Open a ticket")
        .style(ButtonStyle::Primary)])]);
    support.send_message(http, panel).await?;
    Ok(())
}

/// The form the panel button opens.
pub fn form() -> CreateModal {
    CreateModal::new(OPEN_FORM, "Open a ticket").components(vec![
        CreateActionRow::InputText(
            CreateInputText::new(InputTextStyle::Short, "Subject", SUBJECT_FIELD)
                .max_length(100)
                .required(true),
        ),
        CreateActionRow::InputText(
            CreateInputText::new(
                InputTextStyle::Paragraph,
                "What happened?",
                DESCRIPTION_FIELD,
            )
            .max_length(4000)
            .required(true),
        ),
    ])
}

/// Subject and description from a submitted form.
pub fn form_values(data: &ModalInteractionData) -> (String, String) {
    let mut subject = String::new();
    let mut description = String::new();
    for component in data.components.iter().flat_map(|row| row.components.iter()) {
        if let ActionRowComponent::InputText(input) = component {
            let value = input.value.clone().unwrap_or_default();
            match input.custom_id.as_str() {
                SUBJECT_FIELD => subject = value,
                DESCRIPTION_FIELD => description = value,
                _ => {}
            }
        }
    }
    (subject, description)
}

/// A private thread in the support channel for `customer`, who is added to it.
pub async fn customer_thread(
    http: &Http,
    support: ChannelId,
    customer: &User,
) -> Result<ChannelId, serenity::Error> {
    let name = truncate_chars(
        &format!("Ticket · {}", customer.display_name()),
        THREAD_NAME_LIMIT,
    );
    let thread = support
        .create_thread(
            http,
            CreateThread::new(name)
                .kind(ChannelType::PrivateThread)
                .invitable(false),
        )
        .await?;
    thread.id.add_thread_member(http, customer.id).await?;
    Ok(thread.id)
}
