//! The `relaydesk` command.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use relaydesk::config::{Config, ENVIRONMENT_HELP};
use relaydesk::logging::{self, LogFormat};
use relaydesk::{cli, serve, sla};
use relaydesk_storage::{Platform, Role, SystemClock};
use tokio_util::sync::CancellationToken;

/// Relaydesk: a chat-ops helpdesk. Customers write from Telegram, Discord or the web widget;
/// every conversation is a ticket with its own thread in the team's chat.
#[derive(Debug, Parser)]
#[command(name = "relaydesk", version, about, after_help = ENVIRONMENT_HELP, term_width = 0)]
struct Cli {
    /// Configuration file (TOML). Without it, ./relaydesk.toml is read if present.
    #[arg(
        long,
        short,
        global = true,
        env = "RELAYDESK_CONFIG",
        value_name = "PATH"
    )]
    config: Option<PathBuf>,

    /// Log lines as text, or as one JSON object per line.
    #[arg(
        long,
        global = true,
        env = "RELAYDESK_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server, the enabled channels and the delivery workers (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// The configuration: `config check` prints the effective one (secrets masked) or the
    /// exact error.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Exit 0 when the running server's /readyz answers 200, 1 otherwise.
    Healthcheck {
        /// Ask this URL instead of /readyz at the configured `listen` address.
        #[arg(long)]
        url: Option<String>,
    },
    /// Console agents: add one, link chat identities.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Figures per day, week or month and per agent, team, channel or priority.
    Report(relaydesk::cli::report::ReportArgs),
    /// Service-level goals.
    Sla {
        #[command(subcommand)]
        command: SlaCommand,
    },
    /// REST API tokens.
    Token {
        #[command(subcommand)]
        command: relaydesk::cli::token::TokenCommand,
    },
    /// Teams and their members.
    Team {
        #[command(subcommand)]
        command: relaydesk::cli::team::TeamCommand,
    },
    /// Canned replies agents send with `/canned NAME`.
    Canned {
        #[command(subcommand)]
        command: relaydesk::cli::canned::CannedCommand,
    },
    /// FAQ answers offered to new tickets.
    Faq {
        #[command(subcommand)]
        command: relaydesk::cli::faq::FaqCommand,
    },
    /// Sends given up for good: list them, queue one again.
    Outbox {
        #[command(subcommand)]
        command: relaydesk::cli::outbox::OutboxCommand,
    },
    /// Outbound webhook deliveries: list them, queue a failed one again.
    Webhooks {
        #[command(subcommand)]
        command: relaydesk::cli::webhooks::WebhooksCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Load the configuration (defaults, the file, RELAYDESK_* variables) and print it, secrets
    /// masked; exit 1 with the error when it is invalid.
    Check,
}

#[derive(Debug, Subcommand)]
enum SlaCommand {
    /// Print the SLA summary: open tickets by priority, breaches, due soon, response and
    /// resolution times (median, 90th percentile), closed tickets, oldest open tickets.
    Report {
        /// Start of the window: a duration back from now (24h, 7days), a date (2026-11-20)
        /// or an RFC 3339 time.
        #[arg(long, default_value = "24h", value_name = "WHEN")]
        since: String,
        /// Only this [[sla.team]]'s tickets (tickets of no team count for the first team).
        #[arg(long, value_name = "NAME")]
        team: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Create an agent who can sign in to the console; prints a one-time password unless
    /// --password-stdin is given.
    Add {
        name: String,
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// May merge tickets and run admin commands.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make the agent an admin (may merge tickets) or a plain agent. Chat platforms never
    /// change this: a group or guild administrator is an admin for that message only.
    Role {
        name: String,
        #[arg(value_parser = ["admin", "agent"])]
        role: String,
    },
    /// Lift the agent's console sign-in lock (after too many wrong passwords).
    Unlock { name: String },
    /// Every agent: name, email, role, state (disabled, must change password, away).
    List,
    /// Sign the agent out and refuse their sign-in, API tokens and chat commands.
    Disable { name: String },
    /// Let a disabled agent work again.
    Enable { name: String },
    /// Print a new one-time password for the agent, to be changed at their next sign-in; ends
    /// their console sessions.
    ResetPassword { name: String },
    /// Make the agent a member of a team (created if new); the console's "My teams' open" view
    /// shows that team's tickets.
    Join {
        name: String,
        #[arg(long, value_name = "TEAM")]
        team: String,
    },
    /// Tie a Telegram or Discord user id to the agent, so work there counts for the same person.
    Link {
        name: String,
        #[arg(
            long,
            value_name = "USER_ID",
            required_unless_present = "discord",
            conflicts_with = "discord"
        )]
        telegram: Option<String>,
        #[arg(long, value_name = "USER_ID")]
        discord: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let shutdown = CancellationToken::new();
                tokio::spawn(stop_on_signal(shutdown.clone()));
                serve::run(config, shutdown).await?;
            }
            Command::Migrate => {
                let store = open_for_command(&config).await?;
                println!("migrations applied ({})", store.backend().name());
                store.close().await;
            }
            Command::Config {
                command: ConfigCommand::Check,
            } => {
                print!("{}", cli::config_check::render(&config)?);
                let endpoints =
                    relaydesk::webhooks::endpoints(&config.webhooks).map_err(anyhow::Error::msg)?;
                eprintln!(
                    "configuration is valid: database {}, {} webhook endpoint(s)",
                    relaydesk_storage::Backend::from_url(&config.database_url)?.name(),
                    endpoints.len()
                );
            }
            Command::Healthcheck { url } => {
                let url = url.unwrap_or_else(|| cli::healthcheck::readyz_url(config.listen));
                match cli::healthcheck::check(&url, std::time::Duration::from_secs(3)).await {
                    Ok(body) => println!("healthy: {}", body.trim()),
                    Err(e) => {
                        eprintln!("unhealthy: {e}");
                        std::process::exit(1);
                    }
                }
            }
            Command::Agent { command } => agent(&config, command).await?,
            Command::Sla {
                command: SlaCommand::Report { since, team },
            } => {
                let rules = config.sla_rules().map_err(anyhow::Error::msg)?;
                let now = chrono::Utc::now();
                let since = sla::parse_since(&since, now)?;
                let store = open_for_command(&config).await?;
                let text = sla::report(&store, &rules, team.as_deref(), since, now).await;
                store.close().await;
                println!("{}", text?);
            }
            Command::Report(args) => {
                let zone = serve::report_time_zone(&config);
                let store = open_for_command(&config).await?;
                let printed = cli::report::run(&store, &args, chrono::Utc::now(), &zone).await;
                store.close().await;
                println!("{}", printed?);
            }
            Command::Token { command } => {
                let store = open_for_command(&config).await?;
                let printed =
                    relaydesk::cli::token::run(&store, &relaydesk_storage::SystemClock, command)
                        .await;
                store.close().await;
                let printed = printed?;
                if let Some(note) = printed.note {
                    eprintln!("{note}");
                }
                if !printed.out.is_empty() {
                    println!("{}", printed.out);
                }
            }
            Command::Team { command } => {
                let store = open_for_command(&config).await?;
                let printed = cli::team::run(&store, &SystemClock, command).await;
                store.close().await;
                println!("{}", printed?);
            }
            Command::Canned { command } => {
                let store = open_for_command(&config).await?;
                let printed = cli::canned::run(&store, &SystemClock, command).await;
                store.close().await;
                println!("{}", printed?);
            }
            Command::Faq { command } => {
                let store = open_for_command(&config).await?;
                let printed = cli::faq::run(&store, &SystemClock, command).await;
                store.close().await;
                println!("{}", printed?);
            }
            Command::Outbox { command } => {
                let store = open_for_command(&config).await?;
                let printed = cli::outbox::run(&store, &SystemClock, command).await;
                store.close().await;
                println!("{}", printed?);
            }
            Command::Webhooks { command } => {
                let store = open_for_command(&config).await?;
                let printed = cli::webhooks::run(&store, command).await;
                store.close().await;
                println!("{}", printed?);
            }
        }
        Ok(())
    })
}

/// Opens the configured database for a command, saying on stderr which one it is (so a
/// command run in the wrong directory or with the wrong `--config` is noticed).
async fn open_for_command(config: &Config) -> anyhow::Result<relaydesk_storage::Store> {
    let store = serve::open_store(config).await?;
    eprintln!(
        "database: {} ({})",
        relaydesk_storage::redact_url(&config.database_url),
        store.backend().name()
    );
    Ok(store)
}

async fn agent(config: &Config, command: AgentCommand) -> anyhow::Result<()> {
    let store = open_for_command(config).await?;
    let done = match command {
        AgentCommand::Add {
            name,
            email,
            admin,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read the password")?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            cli::agent::add(
                &store,
                &SystemClock,
                &name,
                &email,
                admin,
                password.as_deref(),
            )
            .await
            .map(|added| match added.generated_password {
                Some(password) => println!(
                    "agent {} added; one-time password: {password}",
                    added.agent.name
                ),
                None => println!("agent {} added", added.agent.name),
            })
        }
        AgentCommand::Role { name, role } => {
            let role = if role == "admin" {
                Role::Admin
            } else {
                Role::Agent
            };
            cli::agent::set_role(&store, &name, role)
                .await
                .map(|agent| println!("agent {} is now {}", agent.name, agent.role))
        }
        AgentCommand::List => cli::agent::list(&store).await.map(|text| println!("{text}")),
        AgentCommand::Disable { name } => cli::agent::set_disabled(&store, &name, true)
            .await
            .map(|agent| println!("agent {} is disabled and signed out", agent.name)),
        AgentCommand::Enable { name } => cli::agent::set_disabled(&store, &name, false)
            .await
            .map(|agent| println!("agent {} may work again", agent.name)),
        AgentCommand::ResetPassword { name } => {
            cli::agent::reset_password(&store, &name)
                .await
                .map(|(agent, password)| {
                    println!("{password}");
                    eprintln!(
                        "one-time password for {}: shown only this once; they choose their own at the next sign-in",
                        agent.name
                    );
                })
        }
        AgentCommand::Unlock { name } => cli::agent::unlock(&store, &name)
            .await
            .map(|agent| println!("agent {} may sign in again", agent.name)),
        AgentCommand::Join { name, team } => {
            cli::agent::join_team(&store, &SystemClock, &name, &team)
                .await
                .map(|agent| println!("agent {} joined team {}", agent.name, team.trim()))
        }
        AgentCommand::Link {
            name,
            telegram,
            discord,
        } => {
            let (platform, id) = match (telegram, discord) {
                (Some(id), _) => (Platform::Telegram, id),
                (None, Some(id)) => (Platform::Discord, id),
                (None, None) => anyhow::bail!("give --telegram ID or --discord ID"),
            };
            cli::agent::link(&store, &name, platform, &id)
                .await
                .map(|agent| println!("{platform} user {id} linked to agent {}", agent.name))
        }
    };
    store.close().await;
    Ok(done?)
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}

/// The error and its causes on one line, leaving out causes its text already includes.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
