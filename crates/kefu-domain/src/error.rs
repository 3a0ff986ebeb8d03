//! Domain errors are user mistakes: the caller asked for something the rules forbid.
//! Internal faults (a broken database) never appear here.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A value failed validation; `field` names the input, `reason` says why.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The status change is not allowed by the ticket lifecycle.
    #[error("cannot change status from {from} to {to}")]
    IllegalTransition {
        from: &'static str,
        to: &'static str,
    },
    /// The ticket is closed and can no longer change.
    #[error("ticket is closed and read-only")]
    TicketClosed,
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
