//! Customers (with their identities and tickets) and organizations.
//!
//! Agents read them; agents (not read-only) create and change customers; supervisors and
//! admins manage organizations. Customers (portal sessions) get 403 on all of these: they
//! see themselves through `/api/v1/me`.

use crate::api::dto::{CustomerPage, ErrorBody, OrganizationPage, TicketPage};
use crate::api::dto_people::*;
use crate::api::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKeyHeader, page_limit};
use crate::api::tickets::list_visible;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, idempotency};
use axum::{Json, extract::State, http::StatusCode};
use kefu_domain::authz::Permission;
use kefu_domain::*;
use kefu_store::{CustomerPatch, CustomerQuery, TicketFilter};
use serde::Deserialize;
use utoipa::IntoParams;

fn time_zone(s: &str) -> ApiResult<String> {
    let s = s.trim();
    let ok = (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(s.to_string())
    } else {
        Err(ApiError::invalid(
            "time_zone: expected an IANA name such as Asia/Shanghai",
        ))
    }
}

fn short_values(field: &'static str, values: &[String]) -> ApiResult<Vec<String>> {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| {
            if v.chars().count() <= 200 && !v.chars().any(char::is_control) {
                Ok(v.to_string())
            } else {
                Err(ApiError::invalid(format!(
                    "{field}: each value must be at most 200 printable characters"
                )))
            }
        })
        .collect()
}

async fn customer_or_404(state: &AppState, id: i64) -> ApiResult<Customer> {
    state
        .store
        .get_customer(CustomerId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))
}

async fn org_or_404(state: &AppState, id: i64) -> ApiResult<Organization> {
    state
        .store
        .get_organization(OrganizationId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerListQuery {
    /// Substring of the name or of any identity (email, phone, external id).
    pub q: Option<String>,
    /// Organization id.
    pub organization: Option<i64>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = customer_cursor_schema)]
    pub cursor: Option<String>,
}

fn customer_cursor_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::api::constraints::string(
        "Opaque: the `next_cursor` of the previous page.",
        crate::api::constraints::id_cursor(),
    )
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", summary = "List or search customers",
    params(CustomerListQuery),
    responses((status = 200, body = CustomerPage), (status = 403, body = ErrorBody)))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CustomerListQuery>,
) -> ApiResult<Json<CustomerPage>> {
    caller.require(Permission::ReadWorkspace)?;
    let query = CustomerQuery {
        q: q.q.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        organization_id: q.organization.map(OrganizationId),
        cursor: q.cursor.map(|c| c.trim().to_string()),
        limit: page_limit(q.limit)?,
    };
    let page = state.store.list_customers(&query).await?;
    Ok(Json(CustomerPage {
        items: page.items.iter().map(CustomerDto::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", summary = "Create a customer",
    request_body = CreateCustomerRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first customer")),
    responses((status = 201, body = CustomerDto), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(req): ApiJson<CreateCustomerRequest>,
) -> ApiResult<(StatusCode, Json<CustomerDto>)> {
    caller.require(Permission::WriteTickets)?;
    let new = NewCustomer {
        name: parse_name("name", &req.name)?,
        email: req.email.as_deref().map(Email::parse).transpose()?,
        phones: short_values("phones", &req.phones)?,
        external_ids: short_values("external_ids", &req.external_ids)?,
        organization_id: req.organization_id.map(OrganizationId),
        segment: req
            .segment
            .as_deref()
            .map(Segment::parse)
            .transpose()?
            .unwrap_or(Segment::Standard),
        language: req
            .language
            .as_deref()
            .map(Lang::parse)
            .transpose()?
            .unwrap_or(Lang::En),
        time_zone: req
            .time_zone
            .as_deref()
            .map(time_zone)
            .transpose()?
            .unwrap_or_else(|| "UTC".into()),
    };
    let key = key.map(|key| idempotency::customer_key(caller.scope(), key, &new));
    let customer = state.store.create_customer(&new, key.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(CustomerDto::from(&customer))))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", summary = "Get a customer",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomerDto>> {
    caller.require(Permission::ReadWorkspace)?;
    Ok(Json(CustomerDto::from(&customer_or_404(&state, id).await?)))
}

#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", summary = "Change a customer",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = PatchCustomerRequest,
    responses((status = 200, body = CustomerDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_customer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<PatchCustomerRequest>,
) -> ApiResult<Json<CustomerDto>> {
    caller.require(Permission::WriteTickets)?;
    let mut add_identities = Vec::new();
    for i in &req.add_identities {
        let kind = IdentityKind::parse(&i.kind)?;
        let value = match kind {
            IdentityKind::Email => Email::parse(&i.value)?.as_str().to_string(),
            _ => short_values("add_identities", std::slice::from_ref(&i.value))?
                .pop()
                .ok_or_else(|| ApiError::invalid("add_identities: value is required"))?,
        };
        add_identities.push((kind, value));
    }
    let patch = CustomerPatch {
        name: req
            .name
            .as_deref()
            .map(|n| parse_name("name", n))
            .transpose()?,
        organization_id: req.organization_id.map(|o| o.map(OrganizationId)),
        segment: req.segment.as_deref().map(Segment::parse).transpose()?,
        language: req.language.as_deref().map(Lang::parse).transpose()?,
        time_zone: req.time_zone.as_deref().map(time_zone).transpose()?,
        add_identities,
    };
    let c = state.store.update_customer(CustomerId(id), &patch).await?;
    Ok(Json(CustomerDto::from(
        &c.ok_or_else(|| ApiError::not_found("customer"))?,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = crate::api::tickets::ticket_cursor_schema)]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/tickets", tag = "customers",
    summary = "Tickets requested by a customer",
    params(("id" = i64, Path, description = "Customer id"), PageQuery),
    responses((status = 200, body = TicketPage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn customer_tickets(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<TicketPage>> {
    caller.require(Permission::ReadWorkspace)?;
    let c = customer_or_404(&state, id).await?;
    let f = TicketFilter {
        requester_id: Some(c.id),
        ..Default::default()
    };
    Ok(Json(
        list_visible(&state, &caller, f, q.cursor.as_deref(), q.limit).await?,
    ))
}

fn parse_domains(domains: &[String]) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    for d in domains {
        let d = d.trim().trim_start_matches('@').to_lowercase();
        let ok = d.contains('.')
            && d.len() <= 253
            && !d.starts_with('.')
            && !d.ends_with('.')
            && d.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if !ok {
            return Err(ApiError::invalid(format!(
                "domains: {d:?} is not a domain name"
            )));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", summary = "List organizations",
    responses((status = 200, body = OrganizationPage), (status = 403, body = ErrorBody)))]
pub async fn list_organizations(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<OrganizationPage>> {
    caller.require(Permission::ReadWorkspace)?;
    let orgs = state.store.list_organizations().await?;
    Ok(Json(OrganizationPage {
        items: orgs.iter().map(OrganizationDto::from).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations",
    summary = "Create an organization (supervisors and admins)",
    request_body = CreateOrganizationRequest,
    responses((status = 201, body = OrganizationDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_organization(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateOrganizationRequest>,
) -> ApiResult<(StatusCode, Json<OrganizationDto>)> {
    caller.require(Permission::ManageOrganizations)?;
    let new = NewOrganization {
        name: parse_name("name", &req.name)?,
        domains: parse_domains(req.domains.as_deref().unwrap_or_default())?,
        segment: req
            .segment
            .as_deref()
            .map(Segment::parse)
            .transpose()?
            .unwrap_or(Segment::Standard),
        shares_tickets: req.shares_tickets.unwrap_or(false),
    };
    let org = state.store.create_organization(&new).await?;
    Ok((StatusCode::CREATED, Json(OrganizationDto::from(&org))))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", summary = "Get an organization",
    params(("id" = i64, Path, description = "Organization id")),
    responses((status = 200, body = OrganizationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_organization(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrganizationDto>> {
    caller.require(Permission::ReadWorkspace)?;
    Ok(Json(OrganizationDto::from(&org_or_404(&state, id).await?)))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations",
    summary = "Change an organization (supervisors and admins)",
    params(("id" = i64, Path, description = "Organization id")),
    request_body = OrganizationRequest,
    responses((status = 200, body = OrganizationDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_organization(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<OrganizationRequest>,
) -> ApiResult<Json<OrganizationDto>> {
    caller.require(Permission::ManageOrganizations)?;
    let org = org_or_404(&state, id).await?;
    let new = NewOrganization {
        name: req
            .name
            .as_deref()
            .map(|n| parse_name("name", n))
            .transpose()?
            .unwrap_or(org.name),
        domains: req
            .domains
            .as_deref()
            .map(parse_domains)
            .transpose()?
            .unwrap_or(org.domains),
        segment: req
            .segment
            .as_deref()
            .map(Segment::parse)
            .transpose()?
            .unwrap_or(org.segment),
        shares_tickets: req.shares_tickets.unwrap_or(org.shares_tickets),
    };
    let org = state
        .store
        .update_organization(org.id, &new)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    Ok(Json(OrganizationDto::from(&org)))
}
