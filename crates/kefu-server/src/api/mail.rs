//! The email channel over the API: support mailboxes (admins), the mail log of received
//! mails (admins and supervisors), and the raw bytes of a received mail (agents who can
//! read the workspace). IMAP URLs hold passwords: they are accepted but only ever shown
//! redacted (`imaps://user:***@host/INBOX`).

use crate::api::constraints::{DisplayName, EmailAddress};
use crate::api::dto::{ErrorBody, ts};
use crate::api::extract::{ApiJson, ApiPath, ApiQuery, int, nullable};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, download};
use axum::{Json, extract::State, http::StatusCode, response::Response};
use kefu_domain::authz::Permission;
use kefu_domain::mail::{redact_url, validate_mailbox};
use kefu_domain::*;
use kefu_store::{InboundMail, InboundQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct MailboxDto {
    pub id: i64,
    pub address: String,
    pub name: String,
    pub team_id: Option<i64>,
    /// The IMAP mailbox polled for this address, password redacted; `null` if mail only
    /// arrives through kefu's SMTP/LMTP listener.
    pub imap_url: Option<String>,
    /// New tickets get an acknowledgement by email.
    pub auto_ack: bool,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Mailbox> for MailboxDto {
    fn from(m: &Mailbox) -> Self {
        MailboxDto {
            id: m.id.0,
            address: m.address.as_str().to_string(),
            name: m.name.clone(),
            team_id: m.team_id.map(|t| t.0),
            imap_url: m.imap_url.as_deref().map(redact_url),
            auto_ack: m.auto_ack,
            active: m.active,
            created_at: ts(m.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MailboxListDto {
    pub items: Vec<MailboxDto>,
}

/// A new support mailbox.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMailboxRequest {
    #[schema(value_type = EmailAddress)]
    pub address: String,
    /// Display name in `From:` of replies; defaults to the address.
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    /// An existing team that gets the mailbox's new tickets.
    #[serde(default, deserialize_with = "int::opt")]
    pub team_id: Option<i64>,
    /// Also poll this IMAP mailbox: `imaps://user:password@host[:port][/folder]` (TLS) or
    /// `imap://…` (STARTTLS).
    #[schema(max_length = 2000)]
    pub imap_url: Option<String>,
    /// Acknowledge new tickets by email (default true).
    pub auto_ack: Option<bool>,
    /// Default true.
    pub active: Option<bool>,
}

/// Changes some fields of a mailbox: absent fields stay; `null` clears `team_id` and
/// `imap_url`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMailboxRequest {
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "int::nullable")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub imap_url: Option<Option<String>>,
    pub auto_ack: Option<bool>,
    pub active: Option<bool>,
}

fn imap_url(url: Option<&str>) -> ApiResult<Option<String>> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if url.chars().count() > 2000 {
        return Err(ApiError::invalid("imap_url: at most 2000 characters"));
    }
    validate_mailbox("", Some(url))?;
    kefu_mail::imap::ImapSource::parse(url)
        .map_err(|e| ApiError::invalid(format!("imap_url: {e}")))?;
    Ok(Some(url.to_string()))
}

async fn team(state: &AppState, id: Option<i64>) -> ApiResult<Option<TeamId>> {
    match id {
        None => Ok(None),
        Some(id) => match state.store.get_team(TeamId(id)).await? {
            Some(t) => Ok(Some(t.id)),
            None => Err(ApiError::invalid("team_id: team does not exist")),
        },
    }
}

#[utoipa::path(get, path = "/api/v1/mailboxes", tag = "email", summary = "List support mailboxes (admins)",
    responses((status = 200, body = MailboxListDto), (status = 403, body = ErrorBody)))]
pub async fn list_mailboxes(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<MailboxListDto>> {
    caller.require(Permission::Administer)?;
    let items = state.store.list_mailboxes().await?;
    Ok(Json(MailboxListDto {
        items: items.iter().map(MailboxDto::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/mailboxes", tag = "email", summary = "Add a support mailbox (admins)",
    request_body = CreateMailboxRequest,
    responses((status = 201, body = MailboxDto), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateMailboxRequest>,
) -> ApiResult<(StatusCode, Json<MailboxDto>)> {
    caller.require(Permission::Administer)?;
    let address = Email::parse(&req.address)?;
    let name = match req.name.as_deref() {
        Some(n) => parse_name("name", n)?,
        None => address.as_str().to_string(),
    };
    let imap_url = imap_url(req.imap_url.as_deref())?;
    let team_id = team(&state, req.team_id).await?;
    let m = state
        .store
        .create_mailbox(&NewMailbox {
            address,
            name,
            team_id,
            imap_url,
            auto_ack: req.auto_ack.unwrap_or(true),
            active: req.active.unwrap_or(true),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(MailboxDto::from(&m))))
}

#[utoipa::path(get, path = "/api/v1/mailboxes/{id}", tag = "email", summary = "Get a support mailbox (admins)",
    params(("id" = i64, Path, description = "Mailbox id")),
    responses((status = 200, body = MailboxDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<MailboxDto>> {
    caller.require(Permission::Administer)?;
    let m = state
        .store
        .get_mailbox(MailboxId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("mailbox"))?;
    Ok(Json(MailboxDto::from(&m)))
}

#[utoipa::path(patch, path = "/api/v1/mailboxes/{id}", tag = "email", summary = "Change a support mailbox (admins)",
    params(("id" = i64, Path, description = "Mailbox id")),
    request_body = PatchMailboxRequest,
    responses((status = 200, body = MailboxDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<PatchMailboxRequest>,
) -> ApiResult<Json<MailboxDto>> {
    caller.require(Permission::Administer)?;
    let not_found = || ApiError::not_found("mailbox");
    state
        .store
        .get_mailbox(MailboxId(id))
        .await?
        .ok_or_else(not_found)?;
    let patch = MailboxPatch {
        name: req
            .name
            .as_deref()
            .map(|n| parse_name("name", n))
            .transpose()?,
        team_id: match req.team_id {
            Some(t) => Some(team(&state, t).await?),
            None => None,
        },
        imap_url: match req.imap_url {
            Some(u) => Some(imap_url(u.as_deref())?),
            None => None,
        },
        auto_ack: req.auto_ack,
        active: req.active,
    };
    let m = state
        .store
        .update_mailbox(MailboxId(id), &patch)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(MailboxDto::from(&m)))
}

/// One received mail in the mail log.
#[derive(Serialize, ToSchema)]
pub struct InboundMailDto {
    pub id: i64,
    pub mailbox_id: Option<i64>,
    pub message_id: Option<String>,
    pub envelope_from: Option<String>,
    pub envelope_to: Vec<String>,
    /// `smtp`, `lmtp` or `imap`.
    pub source: String,
    pub from: Option<String>,
    pub subject: String,
    pub size: i64,
    /// `received` (stored, not yet processed), `ticketed`, `threaded`, `bounce`, `loop`,
    /// `rate_limited` or `automatic`.
    #[schema(value_type = InboundStateName)]
    pub state: String,
    pub ticket_id: Option<i64>,
    pub message_id_in_ticket: Option<i64>,
    /// Why a mail was dropped or kept without a ticket, or the bounce's diagnostic.
    pub note: Option<String>,
    #[schema(format = DateTime)]
    pub received_at: String,
}

impl From<&InboundMail> for InboundMailDto {
    fn from(m: &InboundMail) -> Self {
        InboundMailDto {
            id: m.id.0,
            mailbox_id: m.mailbox_id.map(|x| x.0),
            message_id: m.message_id.clone(),
            envelope_from: m.envelope_from.clone(),
            envelope_to: m.envelope_to.clone(),
            source: m.source.clone(),
            from: m.from.clone(),
            subject: m.subject.clone(),
            size: m.size,
            state: m.state.to_string(),
            ticket_id: m.ticket_id.map(|x| x.0),
            message_id_in_ticket: m.message_row_id.map(|x| x.0),
            note: m.note.clone(),
            received_at: ts(m.received_at),
        }
    }
}

/// The state of a received mail.
#[derive(ToSchema)]
#[schema(as = InboundStateName)]
#[allow(dead_code)]
pub enum InboundStateName {
    #[schema(rename = "received")]
    Received,
    #[schema(rename = "ticketed")]
    Ticketed,
    #[schema(rename = "threaded")]
    Threaded,
    #[schema(rename = "bounce")]
    Bounce,
    #[schema(rename = "loop")]
    Loop,
    #[schema(rename = "rate_limited")]
    RateLimited,
    #[schema(rename = "automatic")]
    Automatic,
}

#[derive(Serialize, ToSchema)]
pub struct InboundMailPage {
    pub items: Vec<InboundMailDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboundMailParams {
    /// Only mails in this state.
    #[param(value_type = Option<InboundStateName>)]
    pub state: Option<String>,
    /// Only mails received by this mailbox.
    pub mailbox_id: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = crate::api::tickets::ticket_cursor_schema)]
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/inbound-mail", tag = "email",
    summary = "The mail log: received mails and what became of them (admins and supervisors)",
    params(InboundMailParams),
    responses((status = 200, body = InboundMailPage),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_inbound(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<InboundMailParams>,
) -> ApiResult<Json<InboundMailPage>> {
    caller.require(Permission::ManageOrganizations)?;
    let limit = match p.limit {
        None => 50,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid("limit: expected a number from 1 to 100")),
    };
    let cursor = p.cursor.as_deref().map(|c| c.trim().to_string());
    let page = state
        .store
        .list_inbound(&InboundQuery {
            state: p
                .state
                .as_deref()
                .map(|s| InboundState::parse(s.trim()))
                .transpose()?,
            mailbox_id: p.mailbox_id.map(MailboxId),
            cursor,
            limit,
        })
        .await?;
    Ok(Json(InboundMailPage {
        items: page.items.iter().map(InboundMailDto::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/inbound-mail/{id}", tag = "email",
    summary = "One received mail (admins and supervisors)",
    params(("id" = i64, Path, description = "Inbound mail id")),
    responses((status = 200, body = InboundMailDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_inbound(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<InboundMailDto>> {
    caller.require(Permission::ManageOrganizations)?;
    let m = state
        .store
        .get_inbound(InboundMailId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("inbound mail"))?;
    Ok(Json(InboundMailDto::from(&m)))
}

#[utoipa::path(get, path = "/api/v1/inbound-mail/{id}/raw", tag = "email",
    summary = "The raw bytes of a received mail, as received (admins and supervisors)",
    params(("id" = i64, Path, description = "Inbound mail id")),
    responses((status = 200, description = "The mail as `message/rfc822`, a download", content_type = "message/rfc822"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn inbound_raw(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    caller.require(Permission::ManageOrganizations)?;
    let raw = state
        .store
        .inbound_raw(InboundMailId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("inbound mail"))?;
    Ok(download::attachment(
        &format!("mail-{id}.eml"),
        "message/rfc822",
        raw,
    ))
}

#[utoipa::path(get, path = "/api/v1/messages/{id}/raw", tag = "email",
    summary = "The original email of a message that came in by email (agents)",
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 200, description = "The mail as `message/rfc822`, a download", content_type = "message/rfc822"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn message_raw(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    // Agents only: customers are told "not found" rather than "forbidden".
    if !caller.principal.may(Permission::ReadWorkspace) {
        return Err(ApiError::not_found("message"));
    }
    let not_found = || ApiError::not_found("raw email for this message");
    let m = state
        .store
        .get_message(MessageId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    let inbound = m.email.and_then(|e| e.inbound_id).ok_or_else(not_found)?;
    let raw = state
        .store
        .inbound_raw(inbound)
        .await?
        .ok_or_else(not_found)?;
    Ok(download::attachment(
        &format!("message-{id}.eml"),
        "message/rfc822",
        raw,
    ))
}
