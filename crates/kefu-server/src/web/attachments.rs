//! Attachment downloads for signed-in users (`GET /attachments/{id}`).
//!
//! Agents may download any attachment. Customers only those of public messages on a
//! ticket they can see (the attachment's message must be public). Anything else is a 404,
//! so ids reveal nothing. Files are always served as downloads (`Content-Disposition: attachment`,
//! `nosniff`, a sandboxing CSP), never rendered inline.

use super::{
    form::{parse_id, url_encode},
    page::{WebError, WebResult},
    session::Ctx,
};
use crate::{AppState, download, visibility::customer_may_see};
use axum::{
    extract::{Path, State},
    http::Uri,
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
        if !customer_may_see(&state, customer.id, customer.organization_id, &ticket).await? {
            return Err(WebError::not_found());
        }
    }
    Ok(download::attachment(&att.filename, &att.content_type, data))
}
