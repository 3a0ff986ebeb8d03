//! Who may do what. Handlers ask these functions; they never compare roles themselves.

use crate::{AgentId, CustomerId, OrganizationId, Role, Ticket};

/// The authenticated party behind a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Agent {
        id: AgentId,
        role: Role,
    },
    Customer {
        id: CustomerId,
        organization_id: Option<OrganizationId>,
    },
}

/// Classes of operation, each checked per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read tickets, customers, organizations, teams, agents.
    ReadWorkspace,
    /// Create and change tickets, reply, add notes, create customers.
    WriteTickets,
    /// Create/update organizations (supervisors and admins).
    ManageOrganizations,
    /// Watch the SLA board (upcoming breaches) and re-apply a ticket's SLA policy
    /// (supervisors and admins).
    Supervise,
    /// Manage agents, teams, settings.
    Administer,
}

pub fn agent_may(role: Role, p: Permission) -> bool {
    use Permission::*;
    match p {
        ReadWorkspace => true,
        WriteTickets => role != Role::ReadOnly,
        ManageOrganizations | Supervise => matches!(role, Role::Admin | Role::Supervisor),
        Administer => role == Role::Admin,
    }
}

impl Principal {
    pub fn may(&self, p: Permission) -> bool {
        match self {
            Principal::Agent { role, .. } => agent_may(*role, p),
            Principal::Customer { .. } => false,
        }
    }
}

/// A customer sees their own tickets, and tickets of their organization when the
/// organization shares tickets among its members.
pub fn customer_can_see(
    customer: CustomerId,
    customer_org: Option<OrganizationId>,
    org_shares_tickets: bool,
    ticket: &Ticket,
) -> bool {
    ticket.requester_id == customer
        || (org_shares_tickets && customer_org.is_some() && ticket.organization_id == customer_org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_agents_cannot_write_and_only_admins_administer() {
        assert!(!agent_may(Role::ReadOnly, Permission::WriteTickets));
        assert!(agent_may(Role::ReadOnly, Permission::ReadWorkspace));
        assert!(agent_may(Role::Agent, Permission::WriteTickets));
        assert!(!agent_may(Role::Agent, Permission::ManageOrganizations));
        assert!(agent_may(Role::Supervisor, Permission::ManageOrganizations));
        assert!(!agent_may(Role::Supervisor, Permission::Administer));
        assert!(agent_may(Role::Admin, Permission::Administer));
    }
}
