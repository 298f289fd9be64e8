//! Service-level goals: business calendars, policies, and where each goal of a ticket stands.
//! Pure functions of their inputs (no clock, no SQL); the store keeps what they compute.

pub mod calendar;
pub mod policy;
pub mod record;
pub mod state;
pub mod summary;

pub use calendar::{
    add_business_time, business_time_between, BusinessHours, Calendar, CalendarError, Span,
};
pub use policy::{BadThreshold, DueSoon, Goal, Policy, PolicySet, Target};
pub use record::{AlertKey, Due, Level, TicketSla};
pub use state::{evaluate, walk, ClockInput, GoalState, GoalStatus, Pause, Walk};
pub use summary::{percentile, OpenTicket, Scope, SummaryFacts};
