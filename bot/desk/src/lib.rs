//! What every edge of Relaydesk shares: the command language, the one catalogue it is declared
//! in, who may run what, and the [`Desk`] the web server and chat adapters hand work to.
//!
//! Chat text (`/assign @anna`), Discord slash options, console forms and REST bodies are each
//! parsed once, at their edge, into a [`Command`]; the hub runs it and answers with effects.
//! Nothing here touches a platform or the database.

pub mod access;
pub mod canned;
pub mod catalogue;
mod command;
mod desk;
mod error;
pub mod faq;
pub mod health;
mod language;
pub mod reports;
pub mod routing;
mod staff;
pub mod texts;

pub use access::{check, effective_role};
pub use catalogue::{ArgKind, ArgSpec, CommandSpec, Scope, CATALOGUE};
pub use command::{Command, Value};
pub use desk::{CommandOutcome, CustomerAccepted, CustomerAnswer, CustomerInput, Desk};
pub use error::DeskError;
pub use health::{ChannelHealth, ChannelState};
pub use language::Language;
pub use staff::{parse_staff_text, RelayMode, StaffInput};
