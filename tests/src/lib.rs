//! Shared pieces of Relaydesk's end-to-end tests: fresh databases on both backends, a running
//! app on a random port, and loopback stand-ins for the platforms we talk to.

pub mod api_agent;
pub mod app;
pub mod bench;
pub mod binary;
pub mod browser;
pub mod console_client;
pub mod db;
pub mod discord_fake;
pub mod imap_fake;
pub mod recorder;
pub mod seed;
pub mod smtp_sink;
pub mod telegram_fake;
pub mod webhook_receiver;
pub mod widget_visitor;
