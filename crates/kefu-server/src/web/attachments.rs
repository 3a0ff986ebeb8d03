//! Attachment downloads for signed-in users (`GET /attachments/{id}`).
//!
//! Agents may download any attachment. Customers only those of public messages on a
//! ticket they can see (the attachment's message must be public). Anything else is a 404,
//! so ids reveal nothing. Files are always served as downloads (`Content-Disposition: attachment`,
//! `nosniff`, a sandboxing CSP), never rendered inline.

use super::{
    form::{parse_id, url_encode},
    page::{WebError, WebResult},
    portal::customer_may_see,
    session::Ctx,
};
use crate::AppState;
use axum::{
    extract::{Path, State},
    http::{HeaderValue, Uri, header},
    response::{IntoResponse, Response},
};
use kefu_domain::{AttachmentId, authz::Principal};

/// `GET /attachments/{id}`: agents may download any attachment; customers only
/// attachments of public messages on a ticket they can see. Always served as a download,
/// never rendered inline.
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<String>,
) -> WebResult {
    let Some(caller) = &ctx.caller else {
        let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return Err(WebError::Redirect(format!(
            "/login?next={}",
            url_encode(next)
        )));
    };
    let id = AttachmentId(parse_id(&id)?);
    let Some((att, data)) = state.store.get_attachment(id).await? else {
        return Err(WebError::not_found());
    };
    if let Principal::Customer { .. } = caller.principal {
        let customer = caller.customer.as_ref().ok_or_else(WebError::not_found)?;
        let message = state
            .store
            .get_message(att.message_id)
            .await?
            .filter(|m| m.public)
            .ok_or_else(WebError::not_found)?;
        let ticket = state
            .store
            .get_ticket(message.ticket_id)
            .await?
            .ok_or_else(WebError::not_found)?;
        if !customer_may_see(&state, customer, &ticket).await? {
            return Err(WebError::not_found());
        }
    }
    Ok(send_file(&att.filename, &att.content_type, data))
}

fn send_file(filename: &str, content_type: &str, data: Vec<u8>) -> Response {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        url_encode(filename)
    );
    let mut res = data.into_response();
    let h = res.headers_mut();
    let ct = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ct);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}
