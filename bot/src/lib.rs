//! The Relaydesk process: the hub (ingest, commands, permissions), the outbox workers that
//! deliver to platforms, configuration, and the `serve` supervisor the binary runs.

pub mod channel;
pub mod cli;
pub mod config;
pub mod console_channel;
pub mod desk;
pub mod discord;
pub mod email;
pub mod group_commit;
pub mod housekeeping;
pub mod hub;
pub mod live;
pub mod logging;
pub mod outbox;
pub mod routing;
pub mod serve;
pub mod sla;
pub mod telegram;
pub mod texts;
pub mod webhooks;
pub mod widget_channel;

pub use hub::{Hub, HubConfig, HubError};
