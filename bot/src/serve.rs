//! `relaydesk serve`: the store, the hub, the web server and one outbox worker per enabled
//! channel, supervised together. The first part to fail stops the rest.

use std::sync::Arc;

use relaydesk_storage::{Clock, Platform, Store, StoreOptions, SystemClock};
use relaydesk_web::AppState;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::channel::{Channel, ChannelError};
use crate::config::Config;
use crate::console_channel::ConsoleChannel;
use crate::desk::HubDesk;
use crate::hub::{Hub, HubConfig};
use crate::outbox::{OutboxWorker, RetryPolicy, WorkerOptions};
use crate::sla::{SchedulerOptions, SlaScheduler};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Storage(#[from] relaydesk_storage::StorageError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Web(#[from] relaydesk_web::WebError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error("channel configuration: {0}")]
    ChannelConfig(String),
    #[error("invalid configuration: {0}")]
    SlaConfig(String),
    #[error(transparent)]
    Routing(#[from] crate::routing::RoutingError),
    #[error("invalid configuration: {0}")]
    WebhookConfig(String),
    #[error(transparent)]
    Webhook(#[from] crate::webhooks::WebhookError),
}

/// Opens the store named by the configuration and applies its migrations.
pub async fn open_store(config: &Config) -> Result<Store, ServeError> {
    Ok(Store::open(&config.database_url, &StoreOptions::default()).await?)
}

/// The hub settings that follow from the configuration and the enabled channels.
pub fn hub_config(config: &Config, channels: &[Arc<dyn Channel>]) -> HubConfig {
    let side = |staff: bool| {
        channels
            .iter()
            .filter(|c| {
                if staff {
                    c.has_staff_side()
                } else {
                    c.has_customer_side()
                }
            })
            .map(|c| c.platform())
            .collect()
    };
    HubConfig {
        staff_platforms: side(true),
        customer_platforms: side(false),
        relay_mode: config.relay_mode,
        reopen_window: config.tickets.reopen_window,
        max_message_bytes: config.tickets.max_message_bytes,
        csat_delay: config
            .csat
            .enabled
            .then(|| std::time::Duration::from_secs(config.csat.delay_seconds)),
        faq_wait: std::time::Duration::from_secs(config.faq.wait_seconds),
        desk_hours: config
            .web
            .business_hours
            .as_ref()
            .and_then(|hours| hours.calendar().ok())
            .map(Arc::new),
        transcript_channels: [
            (
                Platform::Telegram,
                config.transcripts.telegram_chat_id.map(|c| c.to_string()),
            ),
            (
                Platform::Discord,
                config.transcripts.discord_channel_id.clone(),
            ),
        ]
        .into_iter()
        .filter_map(|(platform, channel)| {
            channel
                .filter(|_| channels.iter().any(|c| c.platform() == platform))
                .map(|channel| (platform, channel))
        })
        .collect(),
        ..HubConfig::default()
    }
}

/// The zone reports are cut in by default: the first team's with channels, else UTC.
pub fn report_time_zone(config: &Config) -> String {
    config
        .sla_config()
        .ok()
        .and_then(|sla| sla.team.first().map(|t| t.time_zone.clone()))
        .unwrap_or_else(|| "UTC".to_string())
}

/// The web server's sections of the configuration.
pub fn web_settings(config: &Config) -> relaydesk_web::WebSettings {
    relaydesk_web::WebSettings {
        web: config.web.clone(),
        console: config.console.clone(),
        email: config.email.clone(),
        report_time_zone: report_time_zone(config),
        metrics: config.metrics.clone(),
    }
}

pub fn worker_options(config: &Config) -> WorkerOptions {
    WorkerOptions {
        poll: config.outbox.poll,
        retry: RetryPolicy {
            max_attempts: config.outbox.max_attempts,
            ..RetryPolicy::default()
        },
        ..WorkerOptions::default()
    }
}

/// Runs Relaydesk until `shutdown` is cancelled (or a part fails).
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let channels = channels_from_config(&config)?;
    // One process per SQLite file: a second would poll the same bot and race for its rows.
    let _serving = relaydesk_storage::ServeLock::take(&config.database_url)?;
    let store = open_store(&config).await?;
    tracing::info!(database = store.backend().name(), "database ready");
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    run_with(
        config,
        store,
        listener,
        Arc::new(SystemClock),
        channels,
        shutdown,
    )
    .await
}

/// The channels whose tokens are configured.
pub fn channels_from_config(config: &Config) -> Result<Vec<Arc<dyn Channel>>, ServeError> {
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    if let Some(telegram) = crate::telegram::TelegramChannel::from_config(
        &config.telegram,
        crate::telegram::TelegramOptions {
            instance: format!("{}:{}", crate::telegram::host_name(), config.listen),
            keep_files: crate::telegram::KeepFiles {
                max_bytes: config.web.max_attachment_bytes,
                public_url: config.web.public_url.clone(),
                max_total_bytes: i64::try_from(
                    config.web.max_upload_storage_mb.saturating_mul(1024 * 1024),
                )
                .unwrap_or(i64::MAX),
            },
            ..crate::telegram::TelegramOptions::default()
        },
    )
    .map_err(ServeError::ChannelConfig)?
    {
        channels.push(Arc::new(telegram));
    }
    if let Some(discord) = crate::discord::DiscordChannel::from_config(&config.discord)
        .map_err(|e| ServeError::ChannelConfig(e.to_string()))?
    {
        channels.push(Arc::new(discord));
    }
    channels.push(Arc::new(crate::widget_channel::WidgetChannel::new(
        config.email.clone(),
    )));
    if let Some(email) = crate::email::EmailChannel::from_config(
        &config.email,
        config.web.max_attachment_bytes,
        config.web.public_url.clone(),
    )
    .map_err(|e| ServeError::ChannelConfig(e.to_string()))?
    {
        channels.push(Arc::new(email));
    }
    Ok(channels)
}

/// Runs Relaydesk on an open store and a bound listener, with the given channels.
pub async fn run_with(
    config: Config,
    store: Store,
    listener: TcpListener,
    clock: Arc<dyn Clock>,
    channels: Vec<Arc<dyn Channel>>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let mut settings = hub_config(&config, &channels);
    let mut sla = config.sla_rules().map_err(ServeError::SlaConfig)?;
    sla.thread_links = crate::sla::ThreadLinks {
        discord_guild_id: config.discord.guild_id.clone(),
        telegram_staff_chat_id: config.telegram.staff_chat_id,
    };
    settings.sla = Arc::new(sla);
    settings.routing = Arc::new(
        crate::routing::prepare(
            &store,
            clock.as_ref(),
            &config.teams,
            &config.routing,
            config.routing_default.as_ref(),
        )
        .await?,
    );
    // Before anything can change a ticket: every change from now on has its events written.
    let endpoints =
        crate::webhooks::endpoints(&config.webhooks).map_err(ServeError::WebhookConfig)?;
    store.subscribe_webhooks(endpoints.iter().map(|e| e.subscription()).collect());
    let hub = Hub::new(store.clone(), clock, settings);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "web server listening");
    }
    let mut app = relaydesk_web::router(AppState {
        store: store.clone(),
        clock: hub.clock().clone(),
        desk: Arc::new(HubDesk::new(hub.clone())),
        settings: Arc::new(web_settings(&config)),
        channels: hub.channel_health().clone(),
        sessions_ended: Arc::default(),
    });
    let mut workers = tokio::task::JoinSet::new();
    let mut receivers = tokio::task::JoinSet::new();
    if let Some(listener) = store.change_listener().await? {
        workers.spawn(crate::live::hear_other_instances(
            listener,
            hub.clone(),
            shutdown.child_token(),
        ));
    }
    workers.spawn(crate::live::retell_recent_changes(
        hub.clone(),
        crate::live::SWEEP_EVERY,
        shutdown.child_token(),
    ));
    workers.spawn(crate::housekeeping::run(
        store.clone(),
        hub.clock().clone(),
        crate::housekeeping::FOLD_EVERY,
        shutdown.child_token(),
    ));
    let mut channels = channels;
    if !channels
        .iter()
        .any(|c| c.platform() == relaydesk_storage::Platform::Console)
    {
        // Teams may name the console as their alert channel; it is always there.
        channels.push(Arc::new(ConsoleChannel::new(
            store.clone(),
            hub.clock().clone(),
        )));
    }
    for channel in channels {
        let platform = channel.platform();
        tracing::info!(%platform, "channel enabled");
        let worker = OutboxWorker::new(hub.clone(), channel.deliverer(), worker_options(&config));
        workers.spawn(worker.run(shutdown.child_token()));
        if let Some(routes) = channel.routes(hub.clone()) {
            app = app.merge(routes);
        }
        let token = shutdown.child_token();
        let hub = hub.clone();
        // Chat and mail channels report whether they reach their platform; the widget and
        // the console are the web server itself.
        let reports = matches!(
            platform,
            Platform::Telegram | Platform::Discord | Platform::Email
        );
        if reports {
            hub.channel_health()
                .set(platform.as_str(), relaydesk_desk::ChannelState::Connecting);
        }
        receivers.spawn(async move {
            let health = hub.channel_health().clone();
            let ran = channel.run(hub, token).await;
            if let (Err(e), true) = (&ran, reports) {
                health.set(
                    platform.as_str(),
                    relaydesk_desk::ChannelState::NotConnected {
                        reason: e.to_string(),
                    },
                );
            }
            ran.map_err(|e| (platform, e.to_string()))
        });
    }
    if !endpoints.is_empty() {
        let worker = crate::webhooks::WebhookWorker::new(
            store.clone(),
            endpoints,
            crate::webhooks::WebhookOptions::default(),
        )?;
        workers.spawn(worker.run(shutdown.child_token()));
    }
    if hub.config().sla.is_active() {
        let scheduler = SlaScheduler::new(hub.clone(), SchedulerOptions::default());
        workers.spawn(scheduler.run(shutdown.child_token()));
    }
    let web_shutdown = shutdown.clone();
    let web = relaydesk_web::serve(listener, app, async move { web_shutdown.cancelled().await });
    let result = tokio::select! {
        result = web => result.map_err(ServeError::from),
        Some(stopped) = receivers.join_next() => match stopped {
            Ok(Ok(())) => Ok(()),
            Ok(Err((platform, message))) => Err(ServeError::Channel(ChannelError { platform, message })),
            Err(e) => Err(ServeError::ChannelConfig(format!("a channel's receive task failed: {e}"))),
        },
        _ = shutdown.cancelled() => Ok(()),
    };
    shutdown.cancel();
    while receivers.join_next().await.is_some() {}
    while workers.join_next().await.is_some() {}
    store.close().await;
    tracing::info!("stopped");
    result
}
