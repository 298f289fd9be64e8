//! What customers read, in their language: the Fluent catalogue of `relaydesk-desk`
//! (`bot/desk/locales/*.ftl`).

pub use relaydesk_desk::texts::*;
