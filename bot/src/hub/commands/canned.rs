//! `/canned NAME`: a saved answer, in the customer's language with their name filled in, sent
//! as the agent's reply. `/canned` alone lists the names.

use relaydesk_desk::canned::{self, Variables};

use super::{messages, CommandReply, Run};
use crate::hub::{Hub, HubError};

impl Hub {
    /// Canned reply names starting with (else containing) `typed`, for completing a name as
    /// it is typed.
    pub async fn canned_names(&self, typed: &str) -> Result<Vec<String>, HubError> {
        let mut tx = self.store.begin().await?;
        let names = tx.canned_reply_names().await?;
        tx.rollback().await?;
        let typed = typed.trim().to_lowercase();
        let (mut starting, containing): (Vec<String>, Vec<String>) = names
            .into_iter()
            .filter(|n| n.contains(&typed))
            .partition(|n| n.starts_with(&typed));
        starting.extend(containing);
        Ok(starting)
    }
}

pub(super) async fn canned(
    run: &mut Run<'_>,
    name: Option<String>,
) -> Result<CommandReply, HubError> {
    let Some(name) = name else {
        return list(run).await;
    };
    let variants = run.tx.canned_reply_variants(&name).await?;
    let customer = run.tx.customer(run.ticket.customer_id).await?;
    let Some(chosen) = canned::pick(&variants, customer.language.as_deref()) else {
        let names = run.tx.canned_reply_names().await?;
        let close = canned::closest(&name, &names);
        return Err(HubError::not_found(if close.is_empty() {
            format!("There is no canned reply “{name}”. /canned lists them.")
        } else {
            format!(
                "There is no canned reply “{name}”. Did you mean: {}?",
                close.join(", ")
            )
        }));
    };
    let team = match run.ticket.team_id {
        Some(id) => run.tx.team_name(id).await?,
        None => None,
    };
    let variables = Variables::new(
        &customer.display_name,
        run.ticket.number,
        &run.agent.name,
        team.as_deref(),
    );
    let filled = canned::fill(&chosen.text, &variables);
    let sent = messages::reply(run, &filled.text).await?;
    let mut text = format!("Canned reply “{name}” sent:\n{}", filled.text);
    if !filled.left_as_typed.is_empty() {
        let braced: Vec<String> = filled
            .left_as_typed
            .iter()
            .map(|key| format!("{{{key}}}"))
            .collect();
        text.push_str(&format!(
            "\nWarning: {} had no value here and went out as typed.",
            braced.join(", ")
        ));
    }
    Ok(CommandReply { text, ..sent })
}

async fn list(run: &mut Run<'_>) -> Result<CommandReply, HubError> {
    let mut replies: Vec<(String, Vec<String>)> = Vec::new();
    for reply in run.tx.canned_replies().await? {
        if replies.last().is_none_or(|(name, _)| *name != reply.name) {
            replies.push((reply.name.clone(), Vec::new()));
        }
        if let (Some(language), Some((_, languages))) = (reply.language, replies.last_mut()) {
            languages.push(language);
        }
    }
    if replies.is_empty() {
        return Ok(run.reply(
            "There are no canned replies yet. An admin adds them in the console or with `relaydesk canned add`."
                .into(),
        ));
    }
    let mut text = String::from("Canned replies (send one with /canned NAME):");
    for (name, languages) in replies {
        text.push_str(&format!("\n• {name}"));
        if !languages.is_empty() {
            text.push_str(&format!(" ({})", languages.join(", ")));
        }
    }
    Ok(run.reply(text))
}
