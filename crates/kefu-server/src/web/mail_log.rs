//! The mail log (`/admin/mail`): every received email, newest first, with what became of
//! it, and the download of its raw bytes (`/admin/mail/{id}/raw`).
//!
//! For admins and supervisors (`Permission::ManageOrganizations`, the permission both
//! roles share): they answer "did my mail arrive?" and see dropped mail (loops, bounces,
//! rate limits) that never became a ticket.

use super::{
    agent::PAGE_SIZE,
    form::{parse_id, url_encode},
    i18n::Tr,
    mail_view::eml,
    page::{Chrome, WebError, WebResult, render, stamp},
    session::AgentCtx,
    views::Opt,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use kefu_domain::{InboundMailId, InboundState, TicketId, authz::Permission};
use kefu_store::InboundQuery;
use std::collections::HashMap;

/// The localized name of a mail's state.
pub fn state_label(tr: Tr, s: InboundState) -> &'static str {
    tr.t(&format!("inbound.{s}"))
}

pub struct MailRow {
    pub id: i64,
    pub received: String,
    pub from: String,
    pub subject: String,
    pub mailbox: String,
    pub state: &'static str,
    pub state_label: &'static str,
    /// (id, number) of the ticket it opened or joined.
    pub ticket: Option<(i64, i64)>,
    pub note: String,
}

#[derive(Template)]
#[template(path = "admin/mail_log.html")]
struct MailLogPage {
    tr: Tr,
    chrome: Chrome,
    /// Admins see the admin-only tabs too.
    admin: bool,
    states: Vec<Opt>,
    rows: Vec<MailRow>,
    next_href: Option<String>,
    first_href: Option<String>,
}

pub async fn mail_log(
    State(state): State<AppState>,
    a: AgentCtx,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    a.require(Permission::ManageOrganizations)?;
    let tr = a.ctx.tr;
    // An unknown state shows everything rather than an error page.
    let filter = q.get("state").and_then(|s| InboundState::parse(s).ok());
    let cursor = q.get("cursor").cloned().filter(|c| !c.is_empty());
    let query = InboundQuery {
        state: filter,
        mailbox_id: None,
        cursor: cursor.clone(),
        limit: PAGE_SIZE,
    };
    let (page, mailboxes) = tokio::join!(
        state.store.list_inbound(&query),
        state.store.list_mailboxes()
    );
    let (page, mailboxes) = (page?, mailboxes?);
    // Ticket numbers for the links, one lookup per distinct ticket on the page.
    let mut numbers: HashMap<TicketId, i64> = HashMap::new();
    for id in page.items.iter().filter_map(|m| m.ticket_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = numbers.entry(id)
            && let Some(t) = state.store.get_ticket(id).await?
        {
            e.insert(t.number);
        }
    }
    let rows = page
        .items
        .into_iter()
        .map(|m| MailRow {
            id: m.id.0,
            received: stamp(m.received_at),
            from: m
                .from
                .clone()
                .or(m.envelope_from.clone())
                .unwrap_or_default(),
            subject: m.subject,
            mailbox: m
                .mailbox_id
                .and_then(|id| mailboxes.iter().find(|mb| mb.id == id))
                .map(|mb| mb.address.as_str().to_string())
                .unwrap_or_default(),
            state: m.state.as_str(),
            state_label: state_label(tr, m.state),
            ticket: m
                .ticket_id
                .and_then(|id| numbers.get(&id).map(|n| (id.0, *n))),
            note: m.note.unwrap_or_default(),
        })
        .collect();
    let key = filter.map(|s| s.as_str()).unwrap_or("");
    let mut states = vec![Opt::new("", tr.t("maillog.all"), filter.is_none())];
    states.extend(
        InboundState::ALL
            .iter()
            .map(|s| Opt::new(s.as_str(), state_label(tr, *s), Some(*s) == filter)),
    );
    let p = MailLogPage {
        tr,
        chrome: a.ctx.chrome(tr.t("admin.mail_log"), "admin"),
        admin: a.may(Permission::Administer),
        states,
        rows,
        next_href: page
            .next_cursor
            .map(|c| format!("/admin/mail?state={key}&cursor={}", url_encode(&c))),
        first_href: cursor.map(|_| format!("/admin/mail?state={key}")),
    };
    render(&p)
}

/// `GET /admin/mail/{id}/raw`: the stored bytes as `mail-{id}.eml`, always a download.
pub async fn mail_raw(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
) -> WebResult {
    a.require(Permission::ManageOrganizations)?;
    let id = InboundMailId(parse_id(&id)?);
    let raw = state
        .store
        .inbound_raw(id)
        .await?
        .ok_or_else(WebError::not_found)?;
    Ok(eml(id, raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::Lang;

    #[test]
    fn every_state_has_a_label_in_every_language() {
        for l in Lang::ALL {
            for s in InboundState::ALL {
                let label = state_label(Tr(*l), *s);
                assert!(!label.starts_with("inbound."), "{s} lacks a label");
            }
        }
    }
}
