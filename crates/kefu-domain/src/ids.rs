//! Typed ids: a `TicketId` can never be passed where an `AgentId` is expected.

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    TicketId,
    MessageId,
    AttachmentId,
    CustomerId,
    OrganizationId,
    AgentId,
    TeamId,
    EventId,
    MailboxId,
    InboundMailId,
    JobId,
    CalendarId,
    SlaPolicyId
);

// In-app notifications of agents.
id_type!(NotificationId);
