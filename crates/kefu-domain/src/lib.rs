//! kefu's domain core: the words of the product as types, and the rules over them.
//!
//! Owns: ids, enums (status, priority, type, channel, role, tier), validated values
//! (email, subject, tag), the ticket state machine, ticket patches and the changes
//! they produce (which become event-log rows), authorization rules, the sign-in
//! rate-limit policy (`ratelimit`), the email channel's rules (`mail`) and business
//! calendars (`calendar`: business-time arithmetic for SLA clocks).
//!
//! Never does: IO, async, SQL, HTTP, serialization. Everything here is a plain
//! function over values; time comes in as an argument.

pub mod authz;
pub mod calendar;
pub mod error;
pub mod ids;
pub mod kinds;
pub mod mail;
pub mod party;
pub mod ratelimit;
pub mod sla;
pub mod ticket;
pub mod values;

pub use calendar::{Calendar, CalendarSpec, Holiday, LocalEnd, MakeupDay, WeeklyInterval};
pub use error::DomainError;
pub use ids::*;
pub use kinds::*;
pub use mail::{AutoKind, Mailbox, MailboxPatch, NewMailbox, ThreadedBy, Threading};
pub use party::*;
pub use ticket::*;
pub use values::*;

/// Time as the domain sees it.
pub type Timestamp = jiff::Timestamp;
