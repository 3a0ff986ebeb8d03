//! Wire types for tickets, messages and events, and their conversion from domain types.
//!
//! Domain types are not serializable (STYLE.md §2): outputs are built here with `From`,
//! inputs are parsed into domain values in the handlers with each type's `parse`, so an
//! unknown enum value yields `invalid_input` listing the allowed spellings.
//! Closed vocabularies appear in the OpenAPI document with their values taken from the
//! domain's `ALL` lists, so the document cannot drift from the code.

use crate::api::constraints::{BodyText, EmailAddress, SubjectText, TagText};
use crate::api::extract::int;
use crate::error::ErrorCode;
use kefu_domain::{Actor, Change, Ticket, Timestamp};
use kefu_store::{Attachment, Event, Message};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A string schema whose allowed values come from a domain vocabulary.
macro_rules! vocabulary {
    ($($name:ident => $values:expr, $doc:literal;)*) => {$(
        #[doc = $doc]
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($doc))
                    .enum_values(Some($values.iter().map(|v| v.as_str())))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

vocabulary! {
    StatusName => kefu_domain::Status::ALL, "Ticket status.";
    PriorityName => kefu_domain::Priority::ALL, "Ticket priority.";
    TypeName => kefu_domain::TicketType::ALL, "Ticket type.";
    ChannelName => kefu_domain::Channel::ALL, "Where a ticket came from.";
    RoleName => kefu_domain::Role::ALL, "Agent role.";
    SegmentName => kefu_domain::Segment::ALL, "Customer segment.";
    LangName => kefu_domain::Lang::ALL, "Language tag.";
    IdentityKindName => kefu_domain::IdentityKind::ALL, "Kind of customer identity.";
    ActorKindName => kefu_domain::ActorKind::ALL, "Who caused something.";
    ErrorCodeName => ErrorCode::ALL, "Stable error code.";
}

pub fn ts(t: Timestamp) -> String {
    t.to_string()
}

/// Every error response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(value_type = ErrorCodeName)]
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketDto {
    pub id: i64,
    /// Human-facing ticket number, shown as `#number`.
    pub number: i64,
    pub subject: String,
    #[schema(value_type = StatusName)]
    pub status: String,
    #[schema(value_type = PriorityName)]
    pub priority: String,
    #[serde(rename = "type")]
    #[schema(value_type = TypeName)]
    pub ticket_type: String,
    #[schema(value_type = ChannelName)]
    pub channel: String,
    pub requester_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Support tier 1–4.
    pub tier: u8,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub custom_fields: serde_json::Value,
    pub follow_up_of: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub solved_at: Option<String>,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
}

impl From<&Ticket> for TicketDto {
    fn from(t: &Ticket) -> Self {
        let custom_fields = serde_json::from_str(&t.custom_fields).unwrap_or_else(|e| {
            tracing::warn!(ticket = t.id.0, error = %e, "stored custom_fields are not JSON");
            serde_json::json!({})
        });
        TicketDto {
            id: t.id.0,
            number: t.number,
            subject: t.subject.clone(),
            status: t.status.to_string(),
            priority: t.priority.to_string(),
            ticket_type: t.ticket_type.to_string(),
            channel: t.channel.to_string(),
            requester_id: t.requester_id.0,
            organization_id: t.organization_id.map(|o| o.0),
            assignee_id: t.assignee_id.map(|a| a.0),
            team_id: t.team_id.map(|t| t.0),
            tier: t.tier.get(),
            tags: t.tags.iter().map(|t| t.as_str().to_string()).collect(),
            custom_fields,
            follow_up_of: t.follow_up_of.map(|t| t.0),
            created_at: ts(t.created_at),
            updated_at: ts(t.updated_at),
            solved_at: t.solved_at.map(ts),
            closed_at: t.closed_at.map(ts),
        }
    }
}

/// Pages of a list: `next_cursor` is opaque; pass it back as `cursor` for the next page.
macro_rules! page {
    ($($name:ident of $item:ty;)*) => {$(
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub next_cursor: Option<String>,
        }
    )*};
}
page! {
    TicketPage of TicketDto;
    CustomerPage of crate::api::dto_people::CustomerDto;
    OrganizationPage of crate::api::dto_people::OrganizationDto;
    AgentPage of crate::api::dto_people::AgentDto;
    TeamPage of crate::api::dto_people::TeamDto;
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequesterInput {
    #[schema(value_type = EmailAddress)]
    pub email: String,
    #[schema(value_type = Option<crate::api::constraints::DisplayName>)]
    pub name: Option<String>,
}

/// A new ticket. Give `requester` (found or created by email) or `requester_id`.
/// For customers (portal session) the requester is always the caller, the channel is
/// `portal`, and agent-only fields (assignee, team, tier, tags, channel) are ignored.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    #[schema(value_type = SubjectText)]
    pub subject: String,
    /// Plain-text body of the first message.
    #[schema(value_type = BodyText)]
    pub body: String,
    /// Optional HTML body; it is sanitised before it is stored.
    pub body_html: Option<String>,
    pub requester: Option<RequesterInput>,
    /// An existing customer.
    #[serde(default, deserialize_with = "int::opt")]
    pub requester_id: Option<i64>,
    #[schema(value_type = Option<PriorityName>)]
    pub priority: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<TypeName>)]
    pub ticket_type: Option<String>,
    #[schema(value_type = Option<Vec<TagText>>, max_items = 50)]
    pub tags: Option<Vec<String>>,
    /// Defaults to `api`.
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
    /// An existing agent.
    #[serde(default, deserialize_with = "int::opt")]
    pub assignee_id: Option<i64>,
    /// An existing team.
    #[serde(default, deserialize_with = "int::opt")]
    pub team_id: Option<i64>,
    /// Support tier 1–4 (default 1).
    #[serde(default, deserialize_with = "int::opt")]
    #[schema(minimum = 1, maximum = 4)]
    pub tier: Option<i64>,
    /// A JSON object, at most 64 KiB serialized.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Value>,
}

/// A partial update: absent fields stay; `null` clears `assignee_id` and `team_id`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTicketRequest {
    #[schema(value_type = Option<SubjectText>)]
    pub subject: Option<String>,
    #[schema(value_type = Option<StatusName>)]
    pub status: Option<String>,
    #[schema(value_type = Option<PriorityName>)]
    pub priority: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<TypeName>)]
    pub ticket_type: Option<String>,
    /// An existing agent, or `null` to unassign.
    #[serde(default, deserialize_with = "int::nullable")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// An existing team, or `null`.
    #[serde(default, deserialize_with = "int::nullable")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    /// Support tier 1–4.
    #[serde(default, deserialize_with = "int::opt")]
    #[schema(minimum = 1, maximum = 4)]
    pub tier: Option<i64>,
    /// Replaces the ticket's tags.
    #[schema(value_type = Option<Vec<TagText>>, max_items = 50)]
    pub tags: Option<Vec<String>>,
    /// A JSON object, at most 64 KiB serialized; replaces the ticket's custom fields.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Value>,
}

/// A reply or internal note. Also accepted as `multipart/form-data` with the fields
/// `body`, `body_html`, `public`, `status` and file parts named `attachments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessageRequest {
    #[schema(value_type = BodyText)]
    pub body: String,
    pub body_html: Option<String>,
    /// `false` makes an internal note (agents only). Default `true`.
    pub public: Option<bool>,
    /// Submit as: the status the ticket takes with this reply (agents only).
    #[schema(value_type = Option<StatusName>)]
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActorDto {
    #[schema(value_type = ActorKindName)]
    pub kind: String,
    pub id: Option<i64>,
}

impl From<Actor> for ActorDto {
    fn from(a: Actor) -> Self {
        ActorDto {
            kind: a.kind().to_string(),
            id: a.id(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentDto {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// Download URL (same authentication as the API).
    pub url: String,
}

impl From<&Attachment> for AttachmentDto {
    fn from(a: &Attachment) -> Self {
        AttachmentDto {
            id: a.id.0,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            url: format!("/api/v1/attachments/{}", a.id.0),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessageDto {
    pub id: i64,
    pub ticket_id: i64,
    pub author: ActorDto,
    pub public: bool,
    pub body: String,
    /// Sanitised HTML, if the message had HTML.
    pub body_html: Option<String>,
    pub attachments: Vec<AttachmentDto>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Set for messages that came or went by email (agents only).
    pub email: Option<MessageEmailDto>,
}

/// The email side of a message.
#[derive(Serialize, ToSchema)]
pub struct MessageEmailDto {
    /// `Message-ID` header, without angle brackets.
    pub message_id: String,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Outgoing mail: `queued`, `sent`, `failed` or `bounced`; `null` for received mail.
    pub delivery_status: Option<String>,
    /// Why a send failed or bounced.
    pub delivery_detail: Option<String>,
    /// Problems met while reading a received mail.
    pub parse_warning: Option<String>,
    /// An automatic mail (out-of-office, list mail): it changed nothing on the ticket.
    pub automatic: bool,
    /// Where the original received mail can be downloaded (`null` for outgoing mail).
    pub raw_url: Option<String>,
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> Self {
        MessageDto {
            id: m.id.0,
            ticket_id: m.ticket_id.0,
            author: m.author.into(),
            public: m.public,
            body: m.body_text.clone(),
            body_html: m.body_html.clone(),
            attachments: m.attachments.iter().map(AttachmentDto::from).collect(),
            created_at: ts(m.created_at),
            email: m.email.as_ref().map(|e| MessageEmailDto {
                message_id: e.message_id.clone(),
                from: e.from.clone(),
                to: e.to.clone(),
                cc: e.cc.clone(),
                delivery_status: e.delivery.map(|d| d.to_string()),
                delivery_detail: e.delivery_detail.clone(),
                parse_warning: e.parse_warning.clone(),
                automatic: e.automatic,
                raw_url: e
                    .inbound_id
                    .map(|_| format!("/api/v1/messages/{}/raw", m.id.0)),
            }),
        }
    }
}

/// One entry of a ticket's event log.
#[derive(Serialize, ToSchema)]
pub struct EventDto {
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: ActorDto,
    /// `created`, `field`, `message` or `sla`. An `sla` event has the metric in `field`
    /// (none for the policy itself and for escalations), the transition in `from` (`apply`,
    /// `activate`, `pause`, `resume`, `fulfil`, `warn`, `breach`, `cancel`, `escalate`) and
    /// a detail in `to` (a target, a percentage, a time).
    pub kind: String,
    /// For `field` events: which field changed.
    pub field: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// For `message` events: the message added.
    pub message_id: Option<i64>,
    /// For `message` events: whether the message is public.
    pub public: Option<bool>,
}

impl From<&Event> for EventDto {
    fn from(e: &Event) -> Self {
        let mut dto = EventDto {
            id: e.id.0,
            at: ts(e.at),
            actor: e.actor.into(),
            kind: String::new(),
            field: None,
            from: None,
            to: None,
            message_id: None,
            public: None,
        };
        match &e.change {
            Change::Created => dto.kind = "created".into(),
            Change::Field { field, from, to } => {
                dto.kind = "field".into();
                dto.field = Some(field.to_string());
                dto.from = from.clone();
                dto.to = to.clone();
            }
            Change::Message { message_id, public } => {
                dto.kind = "message".into();
                dto.message_id = Some(message_id.0);
                dto.public = Some(*public);
            }
            Change::Sla {
                metric,
                transition,
                detail,
            } => {
                dto.kind = "sla".into();
                dto.field = metric.map(|m| m.to_string());
                dto.from = Some(transition.to_string());
                dto.to = Some(detail.clone());
            }
        }
        dto
    }
}

#[derive(Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok` or `unavailable`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}
