//! Administration commands of the `relaydesk` binary that work on the store directly.

pub mod token;
