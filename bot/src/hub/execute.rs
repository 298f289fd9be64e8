//! `Hub::execute`: one command, permission checked here, applied in one transaction.

use relaydesk_storage::{
    Agent, Attachment, AuthorKind, NewMessage, Platform, Role, Ticket, TicketStatus, Tx,
};
use serde::Serialize;

use super::effects::Effects;
use super::{Command, Delivery, Hub, HubError, PlatformUser};
use crate::texts;

/// Who runs a command.
#[derive(Debug, Clone)]
pub enum Actor {
    /// Someone the platform vouches for as staff (posts in the staff group, has an agent role).
    /// Known by their chat identity; an agent record is created on first use.
    Staff {
        platform: Platform,
        user: PlatformUser,
        role: Role,
    },
    /// A known agent (console session, API token).
    Agent(i64),
    /// Anyone else: customers, guild members without a staff role. May run no command.
    Customer {
        platform: Platform,
        user: PlatformUser,
    },
}

/// Which ticket a command is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketRef {
    Id(i64),
    Number(i64),
    /// The ticket whose staff thread this is.
    Thread {
        platform: Platform,
        thread_ref: String,
    },
}

/// The answer for whoever ran the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandReply {
    pub ticket_number: i64,
    pub text: String,
    /// For replies and notes: the stored message id and whether it is internal.
    #[serde(skip)]
    pub stored_message: Option<(i64, bool)>,
}

/// Where a command came from, for what it stores.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ApplyContext<'a> {
    /// The staff platform it was typed on (its thread needs no copy); `None` for console/API.
    pub platform: Option<Platform>,
    pub external_message_id: Option<&'a str>,
    pub attachments: &'a [Attachment],
}

impl Hub {
    /// Runs a command on a ticket. Fails with [`HubError::Forbidden`] when the actor may not.
    pub async fn execute(
        &self,
        actor: &Actor,
        ticket: &TicketRef,
        command: Command,
    ) -> Result<CommandReply, HubError> {
        let now = self.clock.now_ms();
        let tx = self.store.begin().await?;
        let context = ApplyContext {
            platform: match actor {
                Actor::Staff { platform, .. } => Some(*platform),
                _ => None,
            },
            ..ApplyContext::default()
        };
        self.apply_and_commit(tx, actor, ticket, command, &context, now)
            .await
    }

    /// Applies a command in `tx`, keeps the ticket's SLA row current, queues what follows and
    /// commits.
    pub(super) async fn apply_and_commit(
        &self,
        mut tx: Tx,
        actor: &Actor,
        ticket: &TicketRef,
        command: Command,
        context: &ApplyContext<'_>,
        now: i64,
    ) -> Result<CommandReply, HubError> {
        let mut effects = Effects::default();
        let reply = self
            .apply(&mut tx, actor, ticket, command, context, now, &mut effects)
            .await?;
        self.refresh_sla_number(&mut tx, reply.ticket_number, now, &mut effects)
            .await?;
        self.commit(tx, &effects, now).await?;
        Ok(reply)
    }

    async fn agent_for(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        command: &Command,
        now: i64,
    ) -> Result<Agent, HubError> {
        let agent = match actor {
            Actor::Customer { .. } => {
                return Err(HubError::Forbidden(format!(
                    "Only agents can use /{}.",
                    command.name()
                )));
            }
            Actor::Agent(id) => tx.agent(*id).await?,
            Actor::Staff {
                platform,
                user,
                role,
            } => {
                tx.agent_for_identity(*platform, &user.external_id, &user.display_name, *role, now)
                    .await?
            }
        };
        if command.requires_admin() && agent.role != Role::Admin {
            return Err(HubError::Forbidden(format!(
                "Only admins can use /{}.",
                command.name()
            )));
        }
        Ok(agent)
    }

    async fn resolve_ticket(&self, tx: &mut Tx, ticket: &TicketRef) -> Result<Ticket, HubError> {
        let found = match ticket {
            TicketRef::Id(id) => Some(tx.ticket(*id).await?),
            TicketRef::Number(n) => tx.ticket_by_number(*n).await?,
            TicketRef::Thread {
                platform,
                thread_ref,
            } => match tx.ticket_id_by_thread(*platform, thread_ref).await? {
                Some(id) => Some(tx.ticket(id).await?),
                None => {
                    return Err(HubError::Invalid(
                        "This is not a ticket thread: use commands inside a ticket's thread."
                            .into(),
                    ));
                }
            },
        };
        found.ok_or_else(|| match ticket {
            TicketRef::Number(n) => HubError::NotFound(format!("There is no ticket #{n}.")),
            _ => HubError::NotFound("No such ticket.".into()),
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        ticket_ref: &TicketRef,
        command: Command,
        context: &ApplyContext<'_>,
        now: i64,
        effects: &mut Effects,
    ) -> Result<CommandReply, HubError> {
        let agent = self.agent_for(tx, actor, &command, now).await?;
        let ticket = self.resolve_ticket(tx, ticket_ref).await?;
        effects.touch(ticket.id);
        let n = ticket.number;
        let reply = |text: String| CommandReply {
            ticket_number: n,
            text,
            stored_message: None,
        };
        let others = |effects: &mut Effects, text: String| {
            self.notice_other_threads(effects, &ticket, context.platform, text)
        };
        let audit_actor = format!("agent:{}", agent.id);
        tx.audit(
            Some(ticket.id),
            &audit_actor,
            command.name(),
            &format!("{command:?}"),
            now,
        )
        .await?;

        match command {
            Command::Status => {
                let assignee = match ticket.assignee_id {
                    Some(id) => tx.agent(id).await?.name,
                    None => "unassigned".to_string(),
                };
                let tags = tx.tags(ticket.id).await?;
                let tags = if tags.is_empty() {
                    "none".to_string()
                } else {
                    tags.join(", ")
                };
                Ok(reply(format!(
                    "#{n} · {} · priority {} · {assignee} · tags: {tags} · from {}",
                    ticket.status, ticket.priority, ticket.origin
                )))
            }
            Command::Sla => Ok(reply(self.sla_text(tx, &ticket, now).await?)),
            Command::Claim => {
                ensure_active(&ticket)?;
                if ticket.assignee_id == Some(agent.id) {
                    return Ok(reply(format!("#{n} is already yours.")));
                }
                tx.set_assignee(ticket.id, Some(agent.id), now).await?;
                let text = format!("#{n} claimed by {}.", agent.name);
                others(effects, text.clone());
                self.sync_threads(effects, &ticket);
                Ok(reply(text))
            }
            Command::Assign(name) => {
                ensure_active(&ticket)?;
                let assignee = tx.agent_by_name(&name).await?.ok_or_else(|| {
                    HubError::NotFound(format!("There is no agent called {name}."))
                })?;
                tx.set_assignee(ticket.id, Some(assignee.id), now).await?;
                let text = format!("#{n} assigned to {} by {}.", assignee.name, agent.name);
                others(effects, text.clone());
                self.sync_threads(effects, &ticket);
                Ok(reply(text))
            }
            Command::Unassign => {
                if ticket.assignee_id.is_none() {
                    return Ok(reply(format!("#{n} is not assigned.")));
                }
                tx.set_assignee(ticket.id, None, now).await?;
                let text = format!("#{n} unassigned by {}.", agent.name);
                others(effects, text.clone());
                self.sync_threads(effects, &ticket);
                Ok(reply(text))
            }
            Command::Close(reason) => {
                ensure_active(&ticket)?;
                tx.set_status(ticket.id, TicketStatus::Closed, reason.as_deref(), now)
                    .await?;
                if self.can_reach_customer(ticket.origin) {
                    let customer = tx.customer(ticket.customer_id).await?;
                    let text = texts::ticket_closed(customer.language.as_deref(), n);
                    effects.customer(ticket.id, ticket.origin, Delivery::CustomerNotice { text });
                }
                let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
                let text = format!("#{n} closed by {}{why}.", agent.name);
                others(effects, text.clone());
                self.sync_threads(effects, &ticket);
                Ok(reply(text))
            }
            Command::Reopen => {
                if ticket.status != TicketStatus::Closed {
                    return Err(HubError::Invalid(format!(
                        "#{n} is {}, not closed.",
                        ticket.status
                    )));
                }
                tx.set_status(ticket.id, TicketStatus::Open, None, now)
                    .await?;
                let text = format!("#{n} reopened by {}.", agent.name);
                others(effects, text.clone());
                self.sync_threads(effects, &ticket);
                Ok(reply(text))
            }
            Command::Merge(target_number) => {
                let target = tx.ticket_by_number(target_number).await?.ok_or_else(|| {
                    HubError::NotFound(format!("There is no ticket #{target_number}."))
                })?;
                if target.id == ticket.id {
                    return Err(HubError::Invalid(
                        "A ticket cannot be merged into itself.".into(),
                    ));
                }
                for t in [&ticket, &target] {
                    if !t.status.is_active() {
                        return Err(HubError::Invalid(format!(
                            "Cannot merge: #{} is {}.",
                            t.number, t.status
                        )));
                    }
                }
                let moved = tx.merge_tickets(ticket.id, target.id, now).await?;
                let text = format!(
                    "#{n} merged into #{target_number} by {} ({moved} messages moved).",
                    agent.name
                );
                others(effects, text.clone());
                self.sync_threads(effects, &ticket);
                for &platform in &self.config.staff_platforms {
                    effects.staff(
                        target.id,
                        platform,
                        Delivery::StaffNotice {
                            text: format!("#{n} was merged into this ticket by {}.", agent.name),
                        },
                    );
                }
                Ok(reply(text))
            }
            Command::Priority(priority) => {
                tx.set_priority(ticket.id, priority, now).await?;
                let text = format!("#{n} priority set to {priority} by {}.", agent.name);
                others(effects, text.clone());
                self.sync_threads(effects, &ticket);
                Ok(reply(text))
            }
            Command::Tag(tag) => {
                let added = tx.add_tag(ticket.id, &tag).await?;
                let text = if added {
                    format!("#{n} tagged {tag}.")
                } else {
                    format!("#{n} already has tag {tag}.")
                };
                if added {
                    others(effects, text.clone());
                }
                Ok(reply(text))
            }
            Command::Untag(tag) => {
                let removed = tx.remove_tag(ticket.id, &tag).await?;
                let text = if removed {
                    format!("#{n} untagged {tag}.")
                } else {
                    format!("#{n} has no tag {tag}.")
                };
                if removed {
                    others(effects, text.clone());
                }
                Ok(reply(text))
            }
            Command::Note(text) => {
                let id = self
                    .store_agent_message(tx, &ticket, &agent, &text, true, context, now)
                    .await?;
                self.copy_to_other_threads(effects, &ticket, context.platform, id);
                Ok(CommandReply {
                    ticket_number: n,
                    text: "Note saved.".into(),
                    stored_message: Some((id, true)),
                })
            }
            Command::Reply(text) => {
                if !ticket.status.is_active() {
                    return Err(HubError::Invalid(format!(
                        "#{n} is {}: nothing was sent. Use /reopen first.",
                        ticket.status
                    )));
                }
                let id = self
                    .store_agent_message(tx, &ticket, &agent, &text, false, context, now)
                    .await?;
                tx.note_agent_reply(ticket.id, now).await?;
                if self.can_reach_customer(ticket.origin) {
                    effects.customer(
                        ticket.id,
                        ticket.origin,
                        Delivery::CustomerMessage { message_id: id },
                    );
                }
                self.copy_to_other_threads(effects, &ticket, context.platform, id);
                Ok(CommandReply {
                    ticket_number: n,
                    text: "Reply queued.".into(),
                    stored_message: Some((id, false)),
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_agent_message(
        &self,
        tx: &mut Tx,
        ticket: &Ticket,
        agent: &Agent,
        text: &str,
        internal: bool,
        context: &ApplyContext<'_>,
        now: i64,
    ) -> Result<i64, HubError> {
        let stored = tx
            .append_message(
                &NewMessage {
                    ticket_id: ticket.id,
                    author_kind: AuthorKind::Agent,
                    customer_id: None,
                    agent_id: Some(agent.id),
                    author_name: &agent.name,
                    body: text,
                    attachments: context.attachments,
                    internal,
                    platform: context.platform.unwrap_or(Platform::Console),
                    external_id: context.external_message_id,
                },
                now,
            )
            .await?
            .ok_or_else(|| HubError::Invalid("This message was already stored.".into()))?;
        Ok(stored.id)
    }

    fn notice_other_threads(
        &self,
        effects: &mut Effects,
        ticket: &Ticket,
        except: Option<Platform>,
        text: String,
    ) {
        for &platform in &self.config.staff_platforms {
            if Some(platform) != except {
                effects.staff(
                    ticket.id,
                    platform,
                    Delivery::StaffNotice { text: text.clone() },
                );
            }
        }
    }

    fn copy_to_other_threads(
        &self,
        effects: &mut Effects,
        ticket: &Ticket,
        except: Option<Platform>,
        message_id: i64,
    ) {
        for &platform in &self.config.staff_platforms {
            if Some(platform) != except {
                effects.staff(ticket.id, platform, Delivery::StaffMessage { message_id });
            }
        }
    }

    fn sync_threads(&self, effects: &mut Effects, ticket: &Ticket) {
        for &platform in &self.config.staff_platforms {
            effects.staff(ticket.id, platform, Delivery::SyncThread);
        }
    }
}

fn ensure_active(ticket: &Ticket) -> Result<(), HubError> {
    if ticket.status.is_active() {
        Ok(())
    } else {
        Err(HubError::Invalid(format!(
            "#{} is {}.",
            ticket.number, ticket.status
        )))
    }
}
