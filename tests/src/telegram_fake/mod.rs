//! A loopback Telegram Bot API server, written from the official Bot API documentation
//! (<https://core.telegram.org/bots/api>, also `shared/specs/telegram-bot-api.json`).
//!
//! It serves `POST /bot<token>/<method>` (method names case-insensitive, as the real server
//! treats them) with JSON, form or multipart parameters, answers with the real envelopes
//! (`{"ok":true,"result":…}` / `{"ok":false,"error_code":…,"description":…,"parameters":…}`),
//! keeps the state the methods imply (messages per chat, forum topics, webhook, pending
//! updates), records every call, and can be told to fail calls (429 with `retry_after`, 5xx,
//! a hang). Tests push updates in with the `push_*` helpers.

mod methods;
mod server;
mod state;

pub use server::TelegramFake;
pub use state::{Call, Fault, NewTopic, TgUser};
