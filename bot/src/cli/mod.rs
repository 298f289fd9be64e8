//! Subcommands of the `relaydesk` binary that manage the store (agents, tokens), kept apart
//! from `main.rs` so they can be tested against a temporary database.

pub mod agent;
