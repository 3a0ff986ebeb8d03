//! Ticket endpoints: create, read, update, list (with filters and cursor pagination).
//!
//! Visibility: agents see every ticket; a customer sees only tickets
//! `authz::customer_can_see` allows, and any other ticket is a 404 (never a 403), so
//! ticket ids do not leak. Status changes go through the domain's state machine inside
//! the store; this module only parses input into domain values.

use crate::api::constraints;
use crate::api::dto::{CreateTicketRequest, ErrorBody, PatchTicketRequest, TicketDto, TicketPage};
use crate::api::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKeyHeader, page_limit};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, idempotency, sanitize::sanitize_html, visibility};
use axum::{Json, extract::State, http::StatusCode};
use kefu_domain::authz::{Permission, Principal};
use kefu_domain::*;
use kefu_store::{AssigneeFilter, NewTicket, RequesterRef, TicketFilter};
use serde::Deserialize;
use utoipa::IntoParams;

/// Largest accepted `custom_fields` object, serialized.
const MAX_CUSTOM_FIELDS_BYTES: usize = 64 * 1024;

/// The ticket if the caller may see it; otherwise `not_found`, whether it exists or not.
pub(crate) async fn visible_ticket(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<Ticket> {
    let not_found = || ApiError::not_found("ticket");
    let ticket = state
        .store
        .get_ticket(TicketId(id))
        .await?
        .ok_or_else(not_found)?;
    match caller.principal {
        Principal::Agent { .. } => {
            caller.require(Permission::ReadWorkspace)?;
            Ok(ticket)
        }
        Principal::Customer {
            id,
            organization_id,
        } => {
            if visibility::customer_may_see(state, id, organization_id, &ticket).await? {
                Ok(ticket)
            } else {
                Err(not_found())
            }
        }
    }
}

pub(crate) fn custom_fields_text(v: Option<serde_json::Value>) -> ApiResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(v @ serde_json::Value::Object(_)) => {
            let s = v.to_string();
            if s.len() > MAX_CUSTOM_FIELDS_BYTES {
                return Err(ApiError::invalid("custom_fields: must be at most 64 KiB"));
            }
            Ok(Some(s))
        }
        Some(_) => Err(ApiError::invalid("custom_fields: must be a JSON object")),
    }
}

fn requester_of(req: &CreateTicketRequest) -> ApiResult<RequesterRef> {
    match (&req.requester, req.requester_id) {
        (Some(r), None) => Ok(RequesterRef::ByEmail {
            email: Email::parse(&r.email)?,
            name: r
                .name
                .as_deref()
                .map(|n| parse_name("requester.name", n))
                .transpose()?,
            language: None,
        }),
        (None, Some(id)) => Ok(RequesterRef::Existing(CustomerId(id))),
        (None, None) => Err(ApiError::invalid(
            "requester: give requester {email, name} or requester_id",
        )),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "requester: give either requester or requester_id, not both",
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets",
    summary = "Create a ticket with its first message",
    request_body = CreateTicketRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first ticket")),
    responses((status = 201, body = TicketDto), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    caller: Caller,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(req): ApiJson<CreateTicketRequest>,
) -> ApiResult<(StatusCode, Json<TicketDto>)> {
    let subject = Subject::parse(&req.subject)?;
    let body_text = parse_body(&req.body)?;
    let body_html = req.body_html.as_deref().map(sanitize_html);
    let priority = req
        .priority
        .as_deref()
        .map(Priority::parse)
        .transpose()?
        .unwrap_or(Priority::Normal);
    let ticket_type = req
        .ticket_type
        .as_deref()
        .map(TicketType::parse)
        .transpose()?
        .unwrap_or(TicketType::Question);
    let custom_fields =
        custom_fields_text(req.custom_fields.clone())?.unwrap_or_else(|| "{}".into());
    let mut draft = TicketDraft {
        subject,
        priority,
        ticket_type,
        channel: Channel::Portal,
        assignee_id: None,
        team_id: None,
        tier: Tier::FRONTLINE,
        tags: Vec::new(),
        custom_fields,
    };
    let requester = match caller.principal {
        // Customers always ask for themselves, through the portal.
        Principal::Customer { id, .. } => RequesterRef::Existing(id),
        Principal::Agent { .. } => {
            caller.require(Permission::WriteTickets)?;
            draft.channel = req
                .channel
                .as_deref()
                .map(Channel::parse)
                .transpose()?
                .unwrap_or(Channel::Api);
            draft.assignee_id = req.assignee_id.map(AgentId);
            draft.team_id = req.team_id.map(TeamId);
            draft.tier = req
                .tier
                .map(Tier::new)
                .transpose()?
                .unwrap_or(Tier::FRONTLINE);
            draft.tags = parse_tags(req.tags.as_deref().unwrap_or_default())?;
            requester_of(&req)?
        }
    };
    let mut new = NewTicket {
        draft,
        requester,
        actor: caller.actor(),
        first_message_by_actor: false,
        body_text,
        body_html,
        attachments: Vec::new(),
        idempotency: None,
        follow_up_of: None,
        mail: None,
    };
    new.idempotency = key.map(|key| idempotency::ticket_key(caller.scope(), key, &new));
    let ticket = state.store.create_ticket(&new).await?;
    Ok((StatusCode::CREATED, Json(TicketDto::from(&ticket))))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", summary = "Get a ticket",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketDto>> {
    let ticket = visible_ticket(&state, &caller, id).await?;
    Ok(Json(TicketDto::from(&ticket)))
}

#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets",
    summary = "Change a ticket (agents only)",
    description = "Status changes follow the lifecycle: nothing returns to `new`, and `closed` \
        is reached only by automation from `solved`. A closed ticket is read-only.",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PatchTicketRequest,
    responses((status = 200, body = TicketDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_ticket(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<PatchTicketRequest>,
) -> ApiResult<Json<TicketDto>> {
    caller.require(Permission::WriteTickets)?;
    let patch = TicketPatch {
        subject: req.subject.as_deref().map(Subject::parse).transpose()?,
        status: req.status.as_deref().map(Status::parse).transpose()?,
        priority: req.priority.as_deref().map(Priority::parse).transpose()?,
        ticket_type: req
            .ticket_type
            .as_deref()
            .map(TicketType::parse)
            .transpose()?,
        assignee_id: req.assignee_id.map(|a| a.map(AgentId)),
        team_id: req.team_id.map(|t| t.map(TeamId)),
        tier: req.tier.map(Tier::new).transpose()?,
        tags: req.tags.as_deref().map(parse_tags).transpose()?,
        custom_fields: custom_fields_text(req.custom_fields)?,
    };
    let ticket = state
        .store
        .update_ticket(TicketId(id), &patch, caller.actor())
        .await?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok(Json(TicketDto::from(&ticket)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketListQuery {
    /// Comma-separated statuses, e.g. `new,open`.
    #[param(schema_with = status_list_schema)]
    pub status: Option<String>,
    /// `me`, `none` (unassigned) or an agent id.
    #[param(schema_with = assignee_schema)]
    pub assignee: Option<String>,
    /// Team id.
    pub team: Option<i64>,
    /// Requester (customer) id.
    pub requester: Option<i64>,
    /// Organization id.
    pub organization: Option<i64>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = ticket_cursor_schema)]
    pub cursor: Option<String>,
    /// Only tickets with an SLA clock at risk (`at_risk`: running and due within
    /// `sla_within_minutes`) or `breached` (and not yet fulfilled). Agents only.
    #[param(schema_with = crate::api::sla::ticket_filter_schema)]
    pub sla: Option<String>,
    /// For `sla=at_risk`: how many minutes from now count as at risk (default 60).
    #[param(minimum = 0, maximum = 527040)]
    pub sla_within_minutes: Option<u32>,
}

fn status_list_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    constraints::string(
        "Comma-separated statuses, or blank for all.",
        constraints::list_of(&names),
    )
}

fn assignee_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    constraints::schema(serde_json::json!({
        "anyOf": [
            {"type": "string", "enum": ["me", "none"]},
            {"type": "integer", "format": "int64"},
        ]
    }))
}

pub(crate) fn ticket_cursor_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    constraints::string(
        "Opaque: the `next_cursor` of the previous page.",
        constraints::ticket_cursor(),
    )
}

fn assignee_filter(caller: &Caller, s: &str) -> ApiResult<AssigneeFilter> {
    match (s, caller.principal) {
        ("me", Principal::Agent { id, .. }) => Ok(AssigneeFilter::Agent(id)),
        ("none", _) => Ok(AssigneeFilter::Unassigned),
        (s, _) => s
            .parse::<i64>()
            .map(|id| AssigneeFilter::Agent(AgentId(id)))
            .map_err(|_| ApiError::invalid("assignee: expected `me`, `none` or an agent id")),
    }
}

/// Lists tickets matching `f` as the caller may see them.
pub(crate) async fn list_visible(
    state: &AppState,
    caller: &Caller,
    mut f: TicketFilter,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> ApiResult<TicketPage> {
    let limit = page_limit(limit)?;
    let cursor = cursor.map(str::trim);
    match caller.principal {
        Principal::Agent { .. } => caller.require(Permission::ReadWorkspace)?,
        Principal::Customer {
            id,
            organization_id,
        } => {
            f.visible_to = Some(visibility::customer_filter(state, id, organization_id).await?);
        }
    }
    let page = state.store.list_tickets(&f, cursor, limit).await?;
    Ok(TicketPage {
        items: page.items.iter().map(TicketDto::from).collect(),
        next_cursor: page.next_cursor,
    })
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets",
    summary = "List tickets, most recently updated first",
    params(TicketListQuery),
    responses((status = 200, body = TicketPage), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TicketListQuery>,
) -> ApiResult<Json<TicketPage>> {
    let statuses = match q.status.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(s) => s
            .split(',')
            .map(|s| Status::parse(s.trim()))
            .collect::<Result<_, _>>()?,
    };
    let f = TicketFilter {
        statuses,
        assignee: q
            .assignee
            .as_deref()
            .map(|a| assignee_filter(&caller, a))
            .transpose()?,
        team_id: q.team.map(TeamId),
        requester_id: q.requester.map(CustomerId),
        organization_id: q.organization.map(OrganizationId),
        visible_to: None,
        sla: crate::api::sla::ticket_filter(&caller, q.sla.as_deref(), q.sla_within_minutes)?,
    };
    Ok(Json(
        list_visible(&state, &caller, f, q.cursor.as_deref(), q.limit).await?,
    ))
}
