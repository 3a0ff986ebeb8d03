//! The signed-in agent's notifications page (`/agent/notifications`): their in-app
//! notifications (SLA warnings and breaches, escalations, …) newest first, unread ones
//! highlighted, each linking to its ticket; a filter for unread ones; marking one or all
//! read (`POST /agent/notifications/read`, CSRF-checked).
//!
//! Every agent role has an inbox, read-only agents too (marking one's own notifications
//! read changes no ticket). The store scopes every query to the signed-in agent, so no
//! form can reach another agent's notifications.
//!
//! Performance: one list query per page, plus the unread count the page context makes for
//! the navigation's badge (reused here).

use super::{
    agent::PAGE_SIZE,
    form::{FormData, url_encode},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, ago, render, stamp},
    session::AgentCtx,
};
use crate::AppState;
use askama::Template;
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect},
};
use kefu_domain::{NotificationId, Timestamp, authz::Permission};
use kefu_store::Notification;
use std::collections::HashMap;

pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    /// `/agent/tickets/{id}` when it is about a ticket.
    pub href: Option<String>,
    /// `#1234` of that ticket.
    pub ticket_label: Option<String>,
    pub unread: bool,
    /// Relative ("3 min ago"), with the absolute time as its tooltip.
    pub created: String,
    pub created_title: String,
}

fn row(tr: Tr, n: &Notification, now: Timestamp) -> NotificationRow {
    NotificationRow {
        id: n.id.0,
        kind: n.kind.clone(),
        title: n.title.clone(),
        body: n.body.clone(),
        href: n.ticket_id.map(|t| format!("/agent/tickets/{t}")),
        ticket_label: n.ticket_number.map(|num| format!("#{num}")),
        unread: n.read_at.is_none(),
        created: ago(tr, n.created_at, now),
        created_title: stamp(n.created_at),
    }
}

#[derive(Template)]
#[template(path = "agent/notifications.html")]
struct NotificationsPage {
    tr: Tr,
    chrome: Chrome,
    unread_only: bool,
    /// All of the agent's unread notifications (not just this page's).
    unread: i64,
    rows: Vec<NotificationRow>,
    next_href: Option<String>,
    first_href: Option<String>,
}

pub async fn notifications(
    State(state): State<AppState>,
    a: AgentCtx,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    a.require(Permission::ReadWorkspace)?;
    let tr = a.ctx.tr;
    let unread_only = q.get("unread").is_some_and(|v| v == "1");
    let cursor = q.get("cursor").map(|c| c.trim()).filter(|c| !c.is_empty());
    let me = a.agent.id;
    let s = &state.store;
    let page = s
        .list_notifications(me, unread_only, cursor, PAGE_SIZE)
        .await?;
    // The navigation's badge counted them already for this GET.
    let unread = match a.ctx.unread {
        Some(n) => n,
        None => s.count_unread_notifications(me).await?,
    };
    let base = if unread_only {
        "/agent/notifications?unread=1&"
    } else {
        "/agent/notifications?"
    };
    let now = Timestamp::now();
    let p = NotificationsPage {
        tr,
        chrome: a.ctx.chrome(tr.t("notifications.title"), "agent"),
        unread_only,
        unread,
        rows: page.items.iter().map(|n| row(tr, n, now)).collect(),
        next_href: page
            .next_cursor
            .map(|c| format!("{base}cursor={}", url_encode(&c))),
        first_href: cursor.map(|_| base.trim_end_matches(['?', '&']).to_string()),
    };
    render(&p)
}

/// Marks the notification named by the form's `id` read, or all unread ones without an
/// `id`; back to the list the form was on.
pub async fn mark_read(State(state): State<AppState>, a: AgentCtx, form: FormData) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::ReadWorkspace)?;
    let id = match form.get("id") {
        "" => None,
        id => Some(NotificationId(
            id.trim().parse().map_err(|_| WebError::invalid())?,
        )),
    };
    let ids = id.map(|i| [i]);
    state
        .store
        .mark_notifications_read(a.agent.id, ids.as_ref().map(|i| &i[..]))
        .await?;
    let back = if form.get("unread") == "1" {
        "/agent/notifications?unread=1"
    } else {
        "/agent/notifications"
    };
    Ok(Redirect::to(back).into_response())
}
