//! The customer portal: the customer's requests (and their organization's, when it
//! shares tickets), submitting a request, reading and replying to one.
//!
//! Invariant: customers never see internal notes — the conversation is loaded with
//! `list_messages(id, false)` and filtered to public messages again — and a ticket they
//! may not see is a 404, indistinguishable from one that does not exist.

use super::{
    agent::{PAGE_SIZE, rows},
    form::{FormData, domain_message, parse_id, saved, saved_existing, url_encode},
    i18n::Tr,
    mail_view::MailOpts,
    page::{Chrome, WebError, WebResult, ago, form_status, render, render_with, stamp},
    session::CustomerCtx,
    views::{MessageView, Names, TicketRow, message_view},
};
use crate::{
    AppState, auth, follow_up, idempotency,
    visibility::{customer_filter, customer_may_see},
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
};
use kefu_domain::{
    Actor, Channel, DomainError, Priority, Status, Subject, Ticket, TicketDraft, TicketId,
    TicketType, Tier, Timestamp, parse_body,
};
use kefu_store::{NewMessage, NewTicket, RequesterRef, StoreError, TicketFilter};
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "portal/requests.html")]
struct RequestsPage {
    tr: Tr,
    chrome: Chrome,
    shared: bool,
    rows: Vec<TicketRow>,
    next_href: Option<String>,
}

pub async fn requests(
    State(state): State<AppState>,
    c: CustomerCtx,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    let tr = c.ctx.tr;
    let visible_to = customer_filter(&state, c.customer.id, c.customer.organization_id).await?;
    let filter = TicketFilter {
        visible_to: Some(visible_to),
        ..Default::default()
    };
    let cursor = q
        .get("cursor")
        .filter(|s| !s.is_empty())
        .map(String::as_str);
    let page = state.store.list_tickets(&filter, cursor, PAGE_SIZE).await?;
    let p = RequestsPage {
        tr,
        chrome: c.ctx.chrome(tr.t("portal.title"), "portal"),
        shared: visible_to.1.is_some(),
        rows: rows(&state, tr, &page.items, true).await?,
        next_href: page
            .next_cursor
            .map(|n| format!("/portal?cursor={}", url_encode(&n))),
    };
    render(&p)
}

#[derive(Template)]
#[template(path = "portal/new.html")]
struct NewRequestPage {
    tr: Tr,
    chrome: Chrome,
    error: Option<String>,
    subject: String,
    body: String,
    idem: String,
}

fn new_page(c: &CustomerCtx, error: Option<String>, subject: &str, body: &str) -> NewRequestPage {
    NewRequestPage {
        tr: c.ctx.tr,
        chrome: c.ctx.chrome(c.ctx.tr.t("portal.new_title"), "portal"),
        error,
        subject: subject.to_string(),
        body: body.to_string(),
        idem: auth::new_secret(""),
    }
}

pub async fn new_form(c: CustomerCtx) -> WebResult {
    render(&new_page(&c, None, "", ""))
}

pub async fn create(State(state): State<AppState>, c: CustomerCtx, form: FormData) -> WebResult {
    c.ctx.check_csrf(&form)?;
    let tr = c.ctx.tr;
    let invalid = |msg: String| {
        render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &new_page(&c, Some(msg), form.get("subject"), form.get("body")),
        )
    };
    let subject = match Subject::parse(form.get("subject")) {
        Ok(s) => s,
        Err(e) => return invalid(domain_message(tr, &e)),
    };
    let body = match parse_body(form.get("body")) {
        Ok(b) => b,
        Err(e) => return invalid(domain_message(tr, &e)),
    };
    let mut new = NewTicket {
        draft: TicketDraft {
            subject,
            priority: Priority::Normal,
            ticket_type: TicketType::Question,
            channel: Channel::Portal,
            assignee_id: None,
            team_id: None,
            tier: Tier::FRONTLINE,
            tags: Vec::new(),
            custom_fields: "{}".into(),
        },
        requester: RequesterRef::Existing(c.customer.id),
        actor: c.actor(),
        first_message_by_actor: false,
        body_text: body,
        body_html: None,
        attachments: form.files.clone(),
        idempotency: None,
        follow_up_of: None,
        mail: None,
    };
    new.idempotency = form_key(&c, form.get("idem"))
        .map(|(scope, key)| idempotency::ticket_key(scope, key, &new));
    match saved(tr, state.store.create_ticket(&new).await)? {
        Ok(t) => Ok(Redirect::to(&format!("/portal/tickets/{}", t.id)).into_response()),
        Err(msg) => invalid(msg),
    }
}

/// The scope and one-time key of a submitted form (rendered with a fresh `idem` value, so
/// a double submit creates one resource), if it has one.
fn form_key(c: &CustomerCtx, idem: &str) -> Option<(String, String)> {
    (!idem.is_empty()).then(|| {
        (
            format!("web-customer:{}", c.customer.id),
            idem.chars().take(100).collect(),
        )
    })
}

#[derive(Template)]
#[template(path = "portal/ticket.html")]
struct PortalTicketPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    number: i64,
    subject: String,
    status: &'static str,
    status_label: &'static str,
    created: String,
    created_title: String,
    closed: bool,
    messages: Vec<MessageView>,
    error: Option<String>,
    reply_body: String,
    idem: String,
}

async fn load_visible(state: &AppState, c: &CustomerCtx, id: &str) -> WebResult<Ticket> {
    let id = TicketId(parse_id(id)?);
    let t = state
        .store
        .get_ticket(id)
        .await?
        .ok_or_else(WebError::not_found)?;
    if customer_may_see(state, c.customer.id, c.customer.organization_id, &t).await? {
        Ok(t)
    } else {
        Err(WebError::not_found())
    }
}

async fn ticket_page(
    state: &AppState,
    c: &CustomerCtx,
    t: Ticket,
    error: Option<String>,
    body: &str,
) -> WebResult {
    let tr = c.ctx.tr;
    let messages: Vec<_> = state
        .store
        .list_messages(t.id, false)
        .await?
        .into_iter()
        .filter(|m| m.public)
        .collect();
    // Names: the customer's side by name; agents by their display name.
    let mut ids: Vec<_> = messages
        .iter()
        .filter_map(|m| match m.author {
            Actor::Customer(id) => Some(id),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    let customers = if ids.is_empty() {
        Vec::new()
    } else {
        state.store.customers_by_ids(&ids).await?
    };
    let agents = if messages.iter().any(|m| matches!(m.author, Actor::Agent(_))) {
        state.store.list_agents().await?
    } else {
        Vec::new()
    };
    let names = Names::new(&agents, &customers, &[]);
    let now = Timestamp::now();
    let page = PortalTicketPage {
        tr,
        chrome: c
            .ctx
            .chrome(format!("#{} {}", t.number, t.subject), "portal"),
        id: t.id.0,
        number: t.number,
        subject: t.subject.clone(),
        status: t.status.as_str(),
        status_label: tr.customer_status(t.status),
        created: ago(tr, t.created_at, now),
        created_title: stamp(t.created_at),
        closed: t.status == Status::Closed,
        messages: messages
            .iter()
            .map(|m| message_view(tr, m, &names, now, MailOpts::CUSTOMER))
            .collect(),
        error,
        reply_body: body.to_string(),
        idem: auth::new_secret(""),
    };
    render_with(form_status(&page.error), &page)
}

pub async fn show(
    State(state): State<AppState>,
    c: CustomerCtx,
    Path(id): Path<String>,
) -> WebResult {
    let t = load_visible(&state, &c, &id).await?;
    ticket_page(&state, &c, t, None, "").await
}

pub async fn reply(
    State(state): State<AppState>,
    c: CustomerCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    c.ctx.check_csrf(&form)?;
    let tr = c.ctx.tr;
    let t = load_visible(&state, &c, &id).await?;
    let retry =
        |error: String, t: Ticket| ticket_page(&state, &c, t, Some(error), form.get("body"));
    let body = match parse_body(form.get("body")) {
        Ok(b) => b,
        Err(e) => return retry(domain_message(tr, &e), t).await,
    };
    let mut msg = NewMessage {
        author: c.actor(),
        public: true,
        body_text: body,
        body_html: None,
        attachments: form.files.clone(),
        status_after: None,
        idempotency: None,
        mail: None,
    };
    let t = if t.status == Status::Closed {
        t
    } else {
        msg.idempotency = form_key(&c, form.get("idem"))
            .map(|(scope, key)| idempotency::message_key(scope, key, t.id, &msg));
        match state.store.add_message(t.id, &msg).await {
            // Closed since the page was loaded: the message opens a follow-up after all.
            Err(StoreError::Domain(DomainError::TicketClosed)) => {
                load_visible(&state, &c, &id).await?
            }
            r => {
                return match saved_existing(tr, r)? {
                    Ok((_, m)) => Ok(Redirect::to(&format!(
                        "/portal/tickets/{}#message-{}",
                        t.id, m.id
                    ))
                    .into_response()),
                    Err(msg) => retry(msg, t).await,
                };
            }
        }
    };
    // A closed ticket is final: the message opens a follow-up linked to it.
    let mut new = match follow_up::new_follow_up(&t, c.customer.id, Channel::Portal, msg) {
        Ok(new) => new,
        Err(e) => return retry(domain_message(tr, &e), t).await,
    };
    new.idempotency = form_key(&c, form.get("idem"))
        .map(|(scope, key)| idempotency::ticket_key(scope, key, &new));
    match saved(tr, state.store.create_ticket(&new).await)? {
        Ok(f) => Ok(Redirect::to(&format!("/portal/tickets/{}", f.id)).into_response()),
        Err(msg) => retry(msg, t).await,
    }
}
