//! `Hub::execute`: one command, checked by the one permission module, applied in one
//! transaction by its own small function. The functions return what to say; what follows
//! (deliveries, thread updates) goes into [`Effects`] and is queued at commit.

mod assignment;
mod canned;
mod info;
mod labels;
mod lifecycle;
mod merge;
mod messages;
mod split;
mod staff;

use relaydesk_desk::{access, Command, Language, Scope};
use relaydesk_storage::{Agent, Attachment, Platform, Role, Ticket, Tx};
use serde::Serialize;

use super::effects::Effects;
use super::{Delivery, Hub, HubError, PlatformUser};

/// Who runs a command.
#[derive(Debug, Clone)]
pub enum Actor {
    /// Someone the platform vouches for as staff (posts in the staff group, has an agent role).
    /// Known by their chat identity; an agent record is created on first use. `role` is what
    /// the platform shows now: it can raise the stored role for this command, never lower or
    /// change it.
    Staff {
        platform: Platform,
        user: PlatformUser,
        role: Role,
    },
    /// A known agent (console session, API token), with their stored role.
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
    /// None: typed in the staff chat outside any ticket thread. Only commands of
    /// [`Scope::Staff`] run there.
    None,
}

/// The answer for whoever ran the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandReply {
    /// The ticket it ran on; `None` for commands that need none (`/help`).
    pub ticket_number: Option<i64>,
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

/// One command being applied to one ticket: what each command's function works with.
pub(super) struct Run<'a> {
    hub: &'a Hub,
    tx: &'a mut Tx,
    /// Who runs it.
    agent: Agent,
    ticket: Ticket,
    context: &'a ApplyContext<'a>,
    now: i64,
    effects: &'a mut Effects,
}

impl Run<'_> {
    fn number(&self) -> i64 {
        self.ticket.number
    }

    fn reply(&self, text: String) -> CommandReply {
        CommandReply {
            ticket_number: Some(self.ticket.number),
            text,
            stored_message: None,
        }
    }

    /// Tells the ticket's other staff threads (not the one the command was typed in).
    fn tell_other_threads(&mut self, text: &str) {
        for &platform in &self.hub.config.staff_platforms {
            if Some(platform) != self.context.platform {
                self.effects.staff(
                    self.ticket.id,
                    platform,
                    Delivery::StaffNotice {
                        text: text.to_string(),
                    },
                );
            }
        }
    }

    /// Brings every staff thread's title and card up to date.
    fn sync_threads(&mut self) {
        for &platform in &self.hub.config.staff_platforms {
            self.effects
                .staff(self.ticket.id, platform, Delivery::SyncThread);
        }
    }

    /// Tells the other threads and refreshes every thread: the ending of most changes.
    fn announce(&mut self, text: String) -> CommandReply {
        self.tell_other_threads(&text);
        self.sync_threads();
        self.reply(text)
    }

    fn ensure_active(&self) -> Result<(), HubError> {
        if self.ticket.status.is_active() {
            Ok(())
        } else {
            Err(HubError::conflict(format!(
                "#{} is {}.",
                self.ticket.number, self.ticket.status
            )))
        }
    }
}

impl Hub {
    /// Runs a command on a ticket. Fails with a [`relaydesk_desk::DeskError::Forbidden`]
    /// refusal when the actor may not.
    ///
    /// Runs in a `command` span naming the command, where it came from and, once known, the
    /// ticket number.
    #[tracing::instrument(
        name = "command",
        skip_all,
        fields(
            command = command.name(),
            platform = %match actor {
                Actor::Staff { platform, .. } | Actor::Customer { platform, .. } => *platform,
                Actor::Agent(_) => Platform::Console,
            },
            ticket = tracing::field::Empty,
        )
    )]
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
        let reply = self
            .apply_and_commit(tx, actor, ticket, command, &context, now)
            .await?;
        tracing::info!(reply = %reply.text, "command done");
        Ok(reply)
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
        if let Some(number) = reply.ticket_number {
            tracing::Span::current().record("ticket", number);
            self.refresh_sla_number(&mut tx, number, now, &mut effects)
                .await?;
        }
        self.commit(tx, &effects, now).await?;
        Ok(reply)
    }

    /// The agent running the command and the role they have for it.
    async fn agent_for(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        command: &Command,
        now: i64,
    ) -> Result<Agent, HubError> {
        let (agent, seen_on_platform) = match actor {
            Actor::Customer { .. } => return Err(access::not_staff(command).into()),
            Actor::Agent(id) => (tx.agent(*id).await?, None),
            Actor::Staff {
                platform,
                user,
                role,
            } => (
                tx.agent_for_identity(*platform, &user.external_id, &user.display_name, now)
                    .await?,
                Some(*role),
            ),
        };
        if agent.disabled {
            return Err(HubError::Refused(relaydesk_desk::DeskError::Forbidden(
                "Your agent account is disabled; ask an admin.".into(),
            )));
        }
        access::check(
            Some(access::effective_role(agent.role, seen_on_platform)),
            command,
        )?;
        Ok(agent)
    }

    async fn resolve_ticket(&self, tx: &mut Tx, ticket: &TicketRef) -> Result<Ticket, HubError> {
        let found = match ticket {
            TicketRef::Id(id) => Some(tx.ticket(*id).await?),
            TicketRef::Number(n) => tx.ticket_by_number(*n).await?,
            TicketRef::None => None,
            TicketRef::Thread {
                platform,
                thread_ref,
            } => match tx.ticket_id_by_thread(*platform, thread_ref).await? {
                Some(id) => Some(tx.ticket(id).await?),
                None => {
                    return Err(HubError::invalid(
                        "This is not a ticket thread: use commands inside a ticket's thread.",
                    ));
                }
            },
        };
        found.ok_or_else(|| match ticket {
            TicketRef::None => HubError::invalid(
                "Commands work inside a ticket's thread: open the ticket's thread and type the command there.",
            ),
            TicketRef::Number(n) => HubError::not_found(format!("There is no ticket #{n}.")),
            _ => HubError::not_found("No such ticket."),
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
        if command.spec().scope == Scope::Staff {
            let language = match actor {
                Actor::Staff { user, .. } => Language::from_code(user.language.as_deref()),
                _ => Language::En,
            };
            return match command {
                Command::Away => staff::away(self, tx, &agent, now, effects).await,
                Command::Back => staff::back(tx, &agent).await,
                Command::Queue(view) => {
                    staff::queue(self, tx, &agent, context.platform, view, now).await
                }
                _ => Ok(info::help(language)),
            };
        }
        let ticket = self.resolve_ticket(tx, ticket_ref).await?;
        effects.touch(ticket.id);
        tx.audit(
            Some(ticket.id),
            &format!("agent:{}", agent.id),
            command.name(),
            &format!("{command:?}"),
            now,
        )
        .await?;
        let mut run = Run {
            hub: self,
            tx,
            agent,
            ticket,
            context,
            now,
            effects,
        };
        match command {
            Command::Status => info::status(&mut run).await,
            Command::Sla => info::sla(&mut run).await,
            Command::Help => Ok(info::help(Language::En)),
            Command::Claim => assignment::claim(&mut run).await,
            Command::Assign(name) => assignment::assign(&mut run, &name).await,
            Command::Unassign => assignment::unassign(&mut run).await,
            Command::Close(reason) => lifecycle::close(&mut run, reason).await,
            Command::Reopen => lifecycle::reopen(&mut run).await,
            Command::Merge(target) => merge::merge(&mut run, target).await,
            Command::Split(from) => split::split(&mut run, from).await,
            Command::Team(name) => assignment::team(&mut run, &name).await,
            Command::Reroute => assignment::reroute(&mut run).await,
            Command::Priority(priority) => labels::priority(&mut run, priority).await,
            Command::Tag(tag) => labels::tag(&mut run, &tag).await,
            Command::Untag(tag) => labels::untag(&mut run, &tag).await,
            Command::Note(text) => messages::note(&mut run, &text).await,
            Command::Reply(text) => messages::reply(&mut run, &text).await,
            Command::Canned(name) => canned::canned(&mut run, name).await,
            // Commands of `Scope::Staff` were answered above, before a ticket was looked up.
            Command::Queue(_) | Command::Away | Command::Back => {
                Err(HubError::Refused(relaydesk_desk::DeskError::Internal(
                    "a staff command reached the ticket commands".into(),
                )))
            }
        }
    }
}
