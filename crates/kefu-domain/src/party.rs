//! The people and groups around a ticket: customers, organizations, agents, teams.

use crate::{
    AgentId, CustomerId, Email, IdentityKind, Lang, OrganizationId, Role, Segment, TeamId, Tier,
    Timestamp,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub domains: Vec<String>,
    pub segment: Segment,
    /// Members of the organization see each other's tickets in the portal.
    pub shares_tickets: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewOrganization {
    pub name: String,
    pub domains: Vec<String>,
    pub segment: Segment,
    pub shares_tickets: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub organization_id: Option<OrganizationId>,
    pub segment: Segment,
    pub language: Lang,
    pub time_zone: String,
    pub identities: Vec<Identity>,
    pub created_at: Timestamp,
}

impl Customer {
    pub fn primary_email(&self) -> Option<&str> {
        self.identities
            .iter()
            .filter(|i| i.kind == IdentityKind::Email)
            .max_by_key(|i| i.primary)
            .map(|i| i.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCustomer {
    pub name: String,
    pub email: Option<Email>,
    pub phones: Vec<String>,
    pub external_ids: Vec<String>,
    pub organization_id: Option<OrganizationId>,
    pub segment: Segment,
    pub language: Lang,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub tier: Tier,
    pub teams: Vec<TeamId>,
    pub language: Option<Lang>,
    pub active: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAgent {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub tier: Tier,
    pub teams: Vec<TeamId>,
    pub password_hash: String,
}

/// Partial update of an agent by an admin; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub tier: Option<Tier>,
    pub teams: Option<Vec<TeamId>>,
    pub language: Option<Option<Lang>>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}
