//! Messages (public replies and internal notes), attachments, and the event log of a ticket.
//!
//! Invariant: a customer never receives an internal note, an attachment of one, or an
//! event that names one. Messages are accepted as JSON or as `multipart/form-data` with
//! file parts; attachment bytes are served with `nosniff` and as downloads only.

use crate::api::dto::{CreateMessageRequest, ErrorBody, EventDto, MessageDto};
use crate::api::extract::{ApiJson, ApiPath, IdempotencyKeyHeader};
use crate::api::tickets::visible_ticket;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::{AppState, download, follow_up, idempotency, sanitize::sanitize_html};
use axum::{
    Json,
    extract::{FromRequest, Multipart, Request, State, multipart::MultipartError},
    http::{StatusCode, header},
    response::Response,
};
use kefu_domain::authz::{Permission, Principal};
use kefu_domain::*;
use kefu_store::{Attachment, MAX_ATTACHMENT_BYTES, NewAttachment, NewMessage, StoreError};

/// At most this many files per message.
const MAX_ATTACHMENTS: usize = 20;

/// A message to add, read from JSON or from a multipart form.
pub struct MessageInput {
    pub req: CreateMessageRequest,
    pub attachments: Vec<NewAttachment>,
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "request body is larger than the limit",
        )
    } else {
        ApiError::invalid(e.body_text())
    }
}

/// Keeps the last path segment, drops control characters, bounds the length.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let s = s.trim();
    if s.is_empty() || s == "." || s == ".." {
        "attachment".into()
    } else {
        s.to_string()
    }
}

fn parse_bool(field: &'static str, s: &str) -> ApiResult<bool> {
    match s.trim() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        _ => Err(ApiError::invalid(format!(
            "{field}: expected true or false"
        ))),
    }
}

async fn read_multipart(mut mp: Multipart) -> ApiResult<MessageInput> {
    let mut req = CreateMessageRequest {
        body: String::new(),
        body_html: None,
        public: None,
        status: None,
    };
    let mut attachments = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "attachments" | "attachments[]" => {
                if attachments.len() == MAX_ATTACHMENTS {
                    return Err(ApiError::invalid(
                        "attachments: at most 20 files per message",
                    ));
                }
                let filename = clean_filename(field.file_name().unwrap_or_default());
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let data = field.bytes().await.map_err(multipart_error)?;
                if data.len() > MAX_ATTACHMENT_BYTES {
                    return Err(ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        "attachment is larger than 20 MiB",
                    ));
                }
                attachments.push(NewAttachment {
                    filename,
                    content_type,
                    data: data.to_vec(),
                });
            }
            "body" | "body_html" | "public" | "status" => {
                let text = field.text().await.map_err(multipart_error)?;
                match name.as_str() {
                    "body" => req.body = text,
                    "body_html" => req.body_html = Some(text),
                    "public" => req.public = Some(parse_bool("public", &text)?),
                    _ => req.status = Some(text),
                }
            }
            other => return Err(ApiError::invalid(format!("unknown form field {other:?}"))),
        }
    }
    Ok(MessageInput { req, attachments })
}

impl FromRequest<AppState> for MessageInput {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            });
        if multipart {
            let mp = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::invalid(e.body_text()))?;
            read_multipart(mp).await
        } else {
            let ApiJson(req) = ApiJson::<CreateMessageRequest>::from_request(req, state).await?;
            Ok(MessageInput {
                req,
                attachments: Vec::new(),
            })
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", tag = "messages",
    summary = "List a ticket's messages, oldest first (customers get public ones only)",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = Vec<MessageDto>), (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<MessageDto>>> {
    let ticket = visible_ticket(&state, &caller, id).await?;
    let agent = matches!(caller.principal, Principal::Agent { .. });
    let messages = state.store.list_messages(ticket.id, agent).await?;
    // Belt and braces: the store was asked for public messages only for customers.
    let out = messages
        .iter()
        .filter(|m| agent || m.public)
        .map(|m| {
            let mut dto = MessageDto::from(m);
            if !agent {
                // Delivery details and original-mail links are for agents.
                dto.email = None;
            }
            dto
        })
        .collect();
    Ok(Json(out))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", tag = "messages",
    summary = "Reply or add an internal note",
    description = "JSON, or `multipart/form-data` with fields `body`, `body_html`, `public`, \
        `status` and file parts named `attachments`. Customers may only post public replies.\n\n\
        A closed ticket is read-only: an agent's reply or note is 422 `ticket_closed`. A \
        customer's reply on a closed ticket they can see opens a *follow-up* ticket instead \
        (same requester, priority, type, team, tier and tags; subject prefixed `Re: `; status \
        `new`; its `follow_up_of` is the closed ticket's id) with the reply as its first \
        message. The response is then that message, so its `ticket_id` is the follow-up's id \
        and differs from the `id` in the path. A retry with the same `Idempotency-Key` \
        returns the same follow-up's message.",
    params(("id" = i64, Path, description = "Ticket id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first message")),
    request_body(content(
        (CreateMessageRequest = "application/json"),
        (CreateMessageRequest = "multipart/form-data"))),
    responses((status = 201, body = MessageDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_message(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    input: MessageInput,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    let public = input.req.public.unwrap_or(true);
    let status_after = input.req.status.as_deref().map(Status::parse).transpose()?;
    // A customer's reply on a closed ticket opens a follow-up: (the closed ticket, author).
    let mut closed = None;
    match caller.principal {
        Principal::Agent { .. } => caller.require(Permission::WriteTickets)?,
        Principal::Customer { id: customer, .. } => {
            // Check visibility first so that an invisible ticket is a 404 either way.
            let t = visible_ticket(&state, &caller, id).await?;
            if !public || status_after.is_some() {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "customers may only post public replies without a status",
                ));
            }
            if t.status == Status::Closed {
                closed = Some((t, customer));
            }
        }
    }
    let body_text = parse_body(&input.req.body)?;
    let mut new = NewMessage {
        author: caller.actor(),
        public,
        body_text,
        body_html: input.req.body_html.as_deref().map(sanitize_html),
        attachments: input.attachments,
        status_after,
        idempotency: None,
        mail: None,
    };
    if let Some((t, author)) = closed {
        return open_follow_up(&state, &caller, key, &t, author, new).await;
    }
    let ticket = TicketId(id);
    new.idempotency = key
        .clone()
        .map(|key| idempotency::message_key(caller.scope(), key, ticket, &new));
    // An agent's public reply on an email ticket is also sent by email (queued in the
    // same transaction). Set after the idempotency fingerprint: its Message-ID is new
    // on every try.
    if public
        && matches!(caller.principal, Principal::Agent { .. })
        && let Some(t) = state.store.get_ticket(ticket).await?
    {
        new.mail = crate::mail::outbound::reply_mail(state.store.as_ref(), &t).await?;
    }
    let message = match state.store.add_message(ticket, &new).await {
        // Closed since we looked (the auto-close job ran meanwhile): a customer's reply
        // still opens a follow-up.
        Err(StoreError::Domain(DomainError::TicketClosed)) => match caller.principal {
            Principal::Customer { id: author, .. } => {
                let t = visible_ticket(&state, &caller, id).await?;
                return open_follow_up(&state, &caller, key, &t, author, new).await;
            }
            Principal::Agent { .. } => return Err(DomainError::TicketClosed.into()),
        },
        r => r?.ok_or_else(|| ApiError::not_found("ticket"))?.1,
    };
    Ok((StatusCode::CREATED, Json(MessageDto::from(&message))))
}

/// Opens the follow-up of the `closed` ticket with `author`'s message `m` as its first
/// message, and answers with that message (whose `ticket_id` is the follow-up's).
async fn open_follow_up(
    state: &AppState,
    caller: &Caller,
    key: Option<String>,
    closed: &Ticket,
    author: CustomerId,
    m: NewMessage,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    let mut new = follow_up::new_follow_up(closed, author, Channel::Portal, m)?;
    new.idempotency = key.map(|key| idempotency::ticket_key(caller.scope(), key, &new));
    let ticket = state.store.create_ticket(&new).await?;
    let messages = state.store.list_messages(ticket.id, false).await?;
    let first = messages.first().ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(MessageDto::from(first))))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", tag = "messages",
    summary = "A ticket's event log, oldest first",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = Vec<EventDto>), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<EventDto>>> {
    let ticket = visible_ticket(&state, &caller, id).await?;
    let agent = matches!(caller.principal, Principal::Agent { .. });
    let events = state.store.list_events(ticket.id).await?;
    let out = events
        .iter()
        // Customers see neither internal notes nor the SLA's internal bookkeeping.
        .filter(|e| {
            agent
                || !matches!(
                    e.change,
                    Change::Message { public: false, .. } | Change::Sla { .. }
                )
        })
        .map(EventDto::from)
        .collect();
    Ok(Json(out))
}

/// Whether a customer may download `att`: it belongs to a public message of a ticket they
/// can see.
async fn customer_may_download(
    state: &AppState,
    caller: &Caller,
    att: &Attachment,
) -> ApiResult<bool> {
    let Some(message) = state.store.get_message(att.message_id).await? else {
        return Ok(false);
    };
    if !message.public {
        return Ok(false);
    }
    match visible_ticket(state, caller, message.ticket_id.0).await {
        Ok(_) => Ok(true),
        Err(e) if e.code == ErrorCode::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "messages",
    summary = "Download an attachment",
    params(("id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The file as a download, with the content type it was uploaded with", content_type = "*/*"),
        (status = 404, body = ErrorBody)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("attachment");
    let (att, data) = state
        .store
        .get_attachment(AttachmentId(id))
        .await?
        .ok_or_else(not_found)?;
    match caller.principal {
        Principal::Agent { .. } => caller.require(Permission::ReadWorkspace)?,
        Principal::Customer { .. } => {
            if !customer_may_download(&state, &caller, &att).await? {
                return Err(not_found());
            }
        }
    }
    Ok(download::attachment(&att.filename, &att.content_type, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\报告.pdf"), "报告.pdf");
        assert_eq!(clean_filename("a\u{0}b\n.txt"), "ab.txt");
        assert_eq!(clean_filename(".."), "attachment");
    }
}
