//! Log output: human-readable text (colours only on a terminal) or one JSON object per line
//! for machines, each line carrying the fields of the spans it happened in (platform, ticket
//! number, message or delivery id).

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines are written (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `fields.message`, the current `span`
    /// and all enclosing `spans`.
    Json,
}

/// Installs the global subscriber. `RELAYDESK_LOG` filters (`info` by default, e.g.
/// `relaydesk=debug,sqlx=warn`).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("RELAYDESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}
