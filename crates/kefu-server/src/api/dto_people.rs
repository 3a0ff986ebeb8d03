//! Wire types for customers, organizations, agents and teams, and their conversion from
//! domain types. Secrets (password hashes) never appear in any output type.

use crate::api::dto::{IdentityKindName, LangName, RoleName, SegmentName, ts};
use crate::api::extract::nullable;
use kefu_domain::{Agent, Customer, Identity, Organization, Team};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct IdentityDto {
    #[schema(value_type = IdentityKindName)]
    pub kind: String,
    pub value: String,
    pub primary: bool,
}

impl From<&Identity> for IdentityDto {
    fn from(i: &Identity) -> Self {
        IdentityDto {
            kind: i.kind.to_string(),
            value: i.value.clone(),
            primary: i.primary,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CustomerDto {
    pub id: i64,
    pub name: String,
    /// Primary email, if the customer has one.
    pub email: Option<String>,
    pub organization_id: Option<i64>,
    #[schema(value_type = SegmentName)]
    pub segment: String,
    #[schema(value_type = LangName)]
    pub language: String,
    pub time_zone: String,
    pub identities: Vec<IdentityDto>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Customer> for CustomerDto {
    fn from(c: &Customer) -> Self {
        CustomerDto {
            id: c.id.0,
            name: c.name.clone(),
            email: c.primary_email().map(str::to_string),
            organization_id: c.organization_id.map(|o| o.0),
            segment: c.segment.to_string(),
            language: c.language.to_string(),
            time_zone: c.time_zone.clone(),
            identities: c.identities.iter().map(IdentityDto::from).collect(),
            created_at: ts(c.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerRequest {
    pub name: String,
    pub email: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub external_ids: Vec<String>,
    pub organization_id: Option<i64>,
    /// Default `standard`.
    #[schema(value_type = Option<SegmentName>)]
    pub segment: Option<String>,
    /// Default `en`.
    #[schema(value_type = Option<LangName>)]
    pub language: Option<String>,
    /// IANA time zone, default `UTC`.
    pub time_zone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    #[schema(value_type = IdentityKindName)]
    pub kind: String,
    pub value: String,
}

/// Partial update; `organization_id: null` removes the customer from their organization.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCustomerRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub organization_id: Option<Option<i64>>,
    #[schema(value_type = Option<SegmentName>)]
    pub segment: Option<String>,
    #[schema(value_type = Option<LangName>)]
    pub language: Option<String>,
    pub time_zone: Option<String>,
    /// Identities to add; existing ones are kept.
    #[serde(default)]
    pub add_identities: Vec<IdentityInput>,
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationDto {
    pub id: i64,
    pub name: String,
    /// Email domains whose senders belong to this organization.
    pub domains: Vec<String>,
    #[schema(value_type = SegmentName)]
    pub segment: String,
    /// Members see each other's tickets in the portal.
    pub shares_tickets: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Organization> for OrganizationDto {
    fn from(o: &Organization) -> Self {
        OrganizationDto {
            id: o.id.0,
            name: o.name.clone(),
            domains: o.domains.clone(),
            segment: o.segment.to_string(),
            shares_tickets: o.shares_tickets,
            created_at: ts(o.created_at),
        }
    }
}

/// Creates an organization (POST) or changes some of its fields (PATCH: absent fields
/// stay; `name` is then optional too).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRequest {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    #[schema(value_type = Option<SegmentName>)]
    pub segment: Option<String>,
    pub shares_tickets: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct AgentDto {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
    pub tier: u8,
    pub teams: Vec<i64>,
    #[schema(value_type = Option<LangName>)]
    pub language: Option<String>,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Agent> for AgentDto {
    fn from(a: &Agent) -> Self {
        AgentDto {
            id: a.id.0,
            email: a.email.clone(),
            name: a.name.clone(),
            role: a.role.to_string(),
            tier: a.tier.get(),
            teams: a.teams.iter().map(|t| t.0).collect(),
            language: a.language.map(|l| l.to_string()),
            active: a.active,
            created_at: ts(a.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    pub email: String,
    pub name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
    /// Default 1.
    pub tier: Option<i64>,
    #[serde(default)]
    pub teams: Vec<i64>,
    /// At least 8 characters.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAgentRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<RoleName>)]
    pub role: Option<String>,
    pub tier: Option<i64>,
    pub teams: Option<Vec<i64>>,
    /// `null` falls back to the browser's language.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<LangName>)]
    pub language: Option<Option<String>>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamDto {
    pub id: i64,
    pub name: String,
    pub description: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Team> for TeamDto {
    fn from(t: &Team) -> Self {
        TeamDto {
            id: t.id.0,
            name: t.name.clone(),
            description: t.description.clone(),
            created_at: ts(t.created_at),
        }
    }
}

/// Creates a team (POST; `name` required) or changes some of its fields (PATCH).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// The caller: an agent or a portal customer.
#[derive(Serialize, ToSchema)]
pub struct MeDto {
    /// `agent` or `customer`.
    pub kind: String,
    pub agent: Option<AgentDto>,
    pub customer: Option<CustomerDto>,
}
