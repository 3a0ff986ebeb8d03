//! Wire types for customers, organizations, agents and teams, and their conversion from
//! domain types. Secrets (password hashes) never appear in any output type.

use crate::api::constraints::{
    self, DisplayName, DomainName, EmailAddress, Password, ShortValue, TimeZoneName,
};
use crate::api::dto::{IdentityKindName, LangName, RoleName, SegmentName, ts};
use crate::api::extract::{int, nullable};
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
    #[schema(value_type = DisplayName)]
    pub name: String,
    #[schema(value_type = Option<EmailAddress>)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<ShortValue>)]
    pub phones: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<ShortValue>)]
    pub external_ids: Vec<String>,
    /// An existing organization.
    #[serde(default, deserialize_with = "int::opt")]
    pub organization_id: Option<i64>,
    /// Default `standard`.
    #[schema(value_type = Option<SegmentName>)]
    pub segment: Option<String>,
    /// Default `en`.
    #[schema(value_type = Option<LangName>)]
    pub language: Option<String>,
    /// IANA time zone, default `UTC`.
    #[schema(value_type = Option<TimeZoneName>)]
    pub time_zone: Option<String>,
}

/// An identity to add: an email address, or a phone number or external id (1–200
/// printable characters).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    pub kind: String,
    pub value: String,
}

impl utoipa::PartialSchema for IdentityInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use kefu_domain::IdentityKind;
        let others: Vec<&str> = IdentityKind::ALL
            .iter()
            .filter(|k| **k != IdentityKind::Email)
            .map(|k| k.as_str())
            .collect();
        let one = |kind: serde_json::Value, value: serde_json::Value| {
            serde_json::json!({
                "type": "object", "additionalProperties": false, "required": ["kind", "value"],
                "properties": {"kind": kind, "value": value},
            })
        };
        constraints::schema(serde_json::json!({
            "description": "An identity to add: an email address, or a phone number or external id \
                (1–200 printable characters).",
            "oneOf": [
                one(
                    serde_json::json!({"type": "string", "enum": [IdentityKind::Email.as_str()]}),
                    serde_json::json!({"type": "string", "maxLength": 254, "pattern": constraints::email()}),
                ),
                one(
                    serde_json::json!({"type": "string", "enum": others}),
                    serde_json::json!({"type": "string", "pattern": constraints::printable(200)}),
                ),
            ],
        }))
    }
}

impl ToSchema for IdentityInput {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("IdentityInput")
    }
}

/// Partial update; `organization_id: null` removes the customer from their organization.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCustomerRequest {
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    /// An existing organization, or `null`.
    #[serde(default, deserialize_with = "int::nullable")]
    #[schema(value_type = Option<i64>)]
    pub organization_id: Option<Option<i64>>,
    #[schema(value_type = Option<SegmentName>)]
    pub segment: Option<String>,
    #[schema(value_type = Option<LangName>)]
    pub language: Option<String>,
    #[schema(value_type = Option<TimeZoneName>)]
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

/// A new organization.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    #[schema(value_type = DisplayName)]
    pub name: String,
    #[schema(value_type = Option<Vec<DomainName>>)]
    pub domains: Option<Vec<String>>,
    /// Default `standard`.
    #[schema(value_type = Option<SegmentName>)]
    pub segment: Option<String>,
    /// Default `false`.
    pub shares_tickets: Option<bool>,
}

/// Changes some fields of an organization: absent (or `null`) fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRequest {
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    /// Replaces the organization's domains.
    #[schema(value_type = Option<Vec<DomainName>>)]
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
    #[schema(value_type = EmailAddress)]
    pub email: String,
    #[schema(value_type = DisplayName)]
    pub name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
    /// Support tier 1–4, default 1.
    #[serde(default, deserialize_with = "int::opt")]
    #[schema(minimum = 1, maximum = 4)]
    pub tier: Option<i64>,
    /// Existing teams.
    #[serde(default, deserialize_with = "int::vec")]
    pub teams: Vec<i64>,
    #[schema(value_type = Password)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAgentRequest {
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    /// Admins cannot demote themselves.
    #[schema(value_type = Option<RoleName>)]
    pub role: Option<String>,
    /// Support tier 1–4.
    #[serde(default, deserialize_with = "int::opt")]
    #[schema(minimum = 1, maximum = 4)]
    pub tier: Option<i64>,
    /// Existing teams; replaces the agent's teams.
    #[serde(default, deserialize_with = "int::opt_vec")]
    pub teams: Option<Vec<i64>>,
    /// `null` falls back to the browser's language.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<LangName>)]
    pub language: Option<Option<String>>,
    /// Admins cannot deactivate themselves.
    pub active: Option<bool>,
    #[schema(value_type = Option<Password>)]
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

/// A new team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamRequest {
    #[schema(value_type = DisplayName)]
    pub name: String,
    /// At most 1000 characters after trimming.
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

/// Changes some fields of a team: absent (or `null`) fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    /// At most 1000 characters after trimming.
    #[schema(max_length = 1000)]
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
