//! The agent workspace outside a single ticket: the inbox with its views and counts,
//! the new-ticket form, the customer list and the customer page.
//!
//! Performance: the inbox costs one list query, one count per view, one batched
//! `customers_by_ids` for requester names, one `list_agents` for assignee names and one
//! `tickets_sla` for the SLA column, whatever the number of tickets (no per-row queries).
//!
//! Views: `mine`, `unassigned`, `open`, `pending`, `solved`, and the SLA views `at_risk`
//! (a running clock due within the next hour, or already past due) and `breached` (a
//! breached clock not yet fulfilled).

use super::{
    form::{FormData, domain_message, hint, saved, url_encode},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, render, render_with},
    session::AgentCtx,
    views::{ContactView, Names, Opt, TicketRow, contacts, priority_opts, ticket_row, type_opts},
};
use crate::AppState;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
};
use kefu_domain::Ticket;
use kefu_domain::{
    Actor, Channel, CustomerId, Email, Priority, Status, Subject, TicketDraft, TicketType, Tier,
    Timestamp, authz::Permission, parse_body,
};
use kefu_store::{AssigneeFilter, CustomerQuery, NewTicket, RequesterRef, SlaFilter, TicketFilter};
use std::collections::HashMap;

pub const PAGE_SIZE: u32 = 50;

/// The inbox views, in navigation order.
const VIEWS: [&str; 7] = [
    "mine",
    "unassigned",
    "open",
    "pending",
    "solved",
    "at_risk",
    "breached",
];

/// "At risk": a running clock due within this many minutes (or already past due).
const AT_RISK_MINUTES: i64 = 60;

fn view_filter(view: &str, me: kefu_domain::AgentId, now: Timestamp) -> TicketFilter {
    use Status::*;
    let sla = match view {
        "at_risk" => Some(SlaFilter::DueBefore(
            now + jiff::SignedDuration::from_mins(AT_RISK_MINUTES),
        )),
        "breached" => Some(SlaFilter::Breached),
        _ => None,
    };
    if sla.is_some() {
        return TicketFilter {
            sla,
            ..Default::default()
        };
    }
    let (statuses, assignee) = match view {
        "mine" => (vec![New, Open], Some(AssigneeFilter::Agent(me))),
        "unassigned" => (
            vec![New, Open, Pending, Hold],
            Some(AssigneeFilter::Unassigned),
        ),
        "pending" => (vec![Pending, Hold], None),
        "solved" => (vec![Solved], None),
        _ => (vec![New, Open], None),
    };
    TicketFilter {
        statuses,
        assignee,
        ..Default::default()
    }
}

pub struct ViewLink {
    pub key: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "agent/inbox.html")]
struct InboxPage {
    tr: Tr,
    chrome: Chrome,
    views: Vec<ViewLink>,
    title: &'static str,
    can_write: bool,
    rows: Vec<TicketRow>,
    next_href: Option<String>,
    first_href: Option<String>,
}

/// Turns tickets into rows with one batched customer lookup and the agents list.
pub async fn rows(
    state: &AppState,
    tr: Tr,
    tickets: &[Ticket],
    customer_view: bool,
) -> WebResult<Vec<TicketRow>> {
    let mut ids: Vec<CustomerId> = tickets.iter().map(|t| t.requester_id).collect();
    ids.sort();
    ids.dedup();
    let customers = if ids.is_empty() {
        Vec::new()
    } else {
        state.store.customers_by_ids(&ids).await?
    };
    let agents = if customer_view || tickets.iter().all(|t| t.assignee_id.is_none()) {
        Vec::new()
    } else {
        state.store.list_agents().await?
    };
    let names = Names::new(&agents, &customers, &[]);
    let now = Timestamp::now();
    let mut sla = if customer_view {
        HashMap::new()
    } else {
        super::sla::cells(state, tr, tickets, now).await?
    };
    Ok(tickets
        .iter()
        .map(|t| {
            let mut row = ticket_row(tr, t, &names, now, customer_view);
            row.sla = sla.remove(&t.id);
            row
        })
        .collect())
}

pub async fn inbox(
    State(state): State<AppState>,
    a: AgentCtx,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    let tr = a.ctx.tr;
    let view = q
        .get("view")
        .map(String::as_str)
        .filter(|v| VIEWS.contains(v))
        .unwrap_or("mine");
    let cursor = q.get("cursor").filter(|c| !c.is_empty());
    let now = Timestamp::now();
    let f: Vec<TicketFilter> = VIEWS
        .iter()
        .map(|v| view_filter(v, a.agent.id, now))
        .collect();
    let s = &state.store;
    let current = view_filter(view, a.agent.id, now);
    // Eight independent queries, issued concurrently.
    let (page, c0, c1, c2, c3, c4, c5, c6) = tokio::join!(
        s.list_tickets(&current, cursor.map(String::as_str), PAGE_SIZE),
        s.count_tickets(&f[0]),
        s.count_tickets(&f[1]),
        s.count_tickets(&f[2]),
        s.count_tickets(&f[3]),
        s.count_tickets(&f[4]),
        s.count_tickets(&f[5]),
        s.count_tickets(&f[6]),
    );
    let page = page?;
    let counts = [c0?, c1?, c2?, c3?, c4?, c5?, c6?];
    let views = VIEWS
        .iter()
        .zip(counts)
        .map(|(v, count)| ViewLink {
            key: v,
            label: tr.t(&format!("view.{v}")),
            count,
            active: *v == view,
        })
        .collect();
    let p = InboxPage {
        tr,
        chrome: a.ctx.chrome(tr.t(&format!("view.{view}")), "agent"),
        views,
        title: tr.t(&format!("view.{view}")),
        can_write: a.may(Permission::WriteTickets),
        rows: rows(&state, tr, &page.items, false).await?,
        next_href: page
            .next_cursor
            .map(|c| format!("/agent?view={view}&cursor={}", url_encode(&c))),
        first_href: cursor.map(|_| format!("/agent?view={view}")),
    };
    render(&p)
}

#[derive(Template)]
#[template(path = "agent/new_ticket.html")]
struct NewTicketPage {
    tr: Tr,
    chrome: Chrome,
    error: Option<String>,
    requester: String,
    requester_name: String,
    subject: String,
    body: String,
    priorities: Vec<Opt>,
    types: Vec<Opt>,
}

fn new_ticket_page(a: &AgentCtx, form: Option<&FormData>, error: Option<String>) -> NewTicketPage {
    let tr = a.ctx.tr;
    let get = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    NewTicketPage {
        tr,
        chrome: a.ctx.chrome(tr.t("new_ticket.title"), "agent"),
        error,
        requester: get("requester"),
        requester_name: get("requester_name"),
        subject: get("subject"),
        body: get("body"),
        priorities: priority_opts(
            tr,
            Priority::parse(&get("priority")).unwrap_or(Priority::Normal),
        ),
        types: type_opts(
            tr,
            TicketType::parse(&get("type")).unwrap_or(TicketType::Question),
        ),
    }
}

pub async fn new_ticket_form(a: AgentCtx, Query(q): Query<HashMap<String, String>>) -> WebResult {
    a.require(Permission::WriteTickets)?;
    let mut p = new_ticket_page(&a, None, None);
    p.requester = q.get("email").cloned().unwrap_or_default();
    render(&p)
}

pub async fn create_ticket(
    State(state): State<AppState>,
    a: AgentCtx,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::WriteTickets)?;
    let tr = a.ctx.tr;
    let invalid = |msg: String| {
        render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &new_ticket_page(&a, Some(&form), Some(msg)),
        )
    };
    let draft = (|| {
        let email = Email::parse(form.get("requester")).map_err(|_| hint(tr, "email"))?;
        let subject = Subject::parse(form.get("subject")).map_err(|e| domain_message(tr, &e))?;
        let body = parse_body(form.get("body")).map_err(|e| domain_message(tr, &e))?;
        let priority = Priority::parse(form.get("priority")).map_err(|e| domain_message(tr, &e))?;
        let ticket_type =
            TicketType::parse(form.get("type")).map_err(|e| domain_message(tr, &e))?;
        let name = form.get("requester_name").trim();
        let name = (!name.is_empty()).then(|| name.chars().take(120).collect::<String>());
        Ok::<_, String>((email, name, subject, body, priority, ticket_type))
    })();
    let (email, name, subject, body, priority, ticket_type) = match draft {
        Ok(d) => d,
        Err(msg) => return invalid(msg),
    };
    let new = NewTicket {
        draft: TicketDraft {
            subject,
            priority,
            ticket_type,
            channel: Channel::Web,
            assignee_id: None,
            team_id: None,
            tier: Tier::FRONTLINE,
            tags: Vec::new(),
            custom_fields: "{}".into(),
        },
        requester: RequesterRef::ByEmail {
            email,
            name,
            language: None,
        },
        actor: Actor::Agent(a.agent.id),
        first_message_by_actor: true,
        body_text: body,
        body_html: None,
        attachments: form.files.clone(),
        idempotency: None,
        follow_up_of: None,
        mail: None,
    };
    match saved(tr, state.store.create_ticket(&new).await)? {
        Ok(t) => Ok(Redirect::to(&format!("/agent/tickets/{}", t.id)).into_response()),
        Err(msg) => invalid(msg),
    }
}

pub struct CustomerRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub segment: &'static str,
    pub segment_label: &'static str,
}

#[derive(Template)]
#[template(path = "agent/customers.html")]
struct CustomersPage {
    tr: Tr,
    chrome: Chrome,
    q: String,
    rows: Vec<CustomerRow>,
    next_href: Option<String>,
}

pub async fn customers(
    State(state): State<AppState>,
    a: AgentCtx,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    a.require(Permission::ReadWorkspace)?;
    let tr = a.ctx.tr;
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let query = CustomerQuery {
        q: (!text.is_empty()).then(|| text.clone()),
        organization_id: None,
        cursor: q.get("cursor").cloned().filter(|c| !c.is_empty()),
        limit: PAGE_SIZE,
    };
    let page = state.store.list_customers(&query).await?;
    let rows = page
        .items
        .iter()
        .map(|c| CustomerRow {
            id: c.id.0,
            name: c.name.clone(),
            email: c.primary_email().unwrap_or("").to_string(),
            segment: c.segment.as_str(),
            segment_label: tr.segment(c.segment),
        })
        .collect();
    let next_href = page.next_cursor.map(|c| {
        format!(
            "/agent/customers?q={}&cursor={}",
            url_encode(&text),
            url_encode(&c)
        )
    });
    let p = CustomersPage {
        tr,
        chrome: a.ctx.chrome(tr.t("customers.title"), "agent"),
        q: text,
        rows,
        next_href,
    };
    render(&p)
}

#[derive(Template)]
#[template(path = "agent/customer.html")]
struct CustomerPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    name: String,
    contact: ContactView,
    organization: Option<String>,
    segment: &'static str,
    segment_label: &'static str,
    language: &'static str,
    time_zone: String,
    since: String,
    can_write: bool,
    new_ticket_href: String,
    rows: Vec<TicketRow>,
    next_href: Option<String>,
}

pub async fn customer(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    a.require(Permission::ReadWorkspace)?;
    let tr = a.ctx.tr;
    let id = CustomerId(super::form::parse_id(&id)?);
    let c = state
        .store
        .get_customer(id)
        .await?
        .ok_or_else(WebError::not_found)?;
    let org = match c.organization_id {
        Some(o) => state.store.get_organization(o).await?,
        None => None,
    };
    let filter = TicketFilter {
        requester_id: Some(id),
        ..Default::default()
    };
    let cursor = q
        .get("cursor")
        .filter(|s| !s.is_empty())
        .map(String::as_str);
    let page = state.store.list_tickets(&filter, cursor, PAGE_SIZE).await?;
    let email = c.primary_email().unwrap_or("").to_string();
    let p = CustomerPage {
        tr,
        chrome: a.ctx.chrome(c.name.clone(), "agent"),
        id: c.id.0,
        contact: contacts(&c),
        organization: org.map(|o| o.name),
        segment: c.segment.as_str(),
        segment_label: tr.segment(c.segment),
        language: super::i18n::Tr::lang_name(c.language),
        time_zone: c.time_zone.clone(),
        since: c.created_at.strftime("%Y-%m-%d").to_string(),
        can_write: a.may(Permission::WriteTickets),
        new_ticket_href: format!("/agent/tickets/new?email={}", url_encode(&email)),
        rows: rows(&state, tr, &page.items, false).await?,
        next_href: page
            .next_cursor
            .map(|n| format!("/agent/customers/{}?cursor={}", c.id, url_encode(&n))),
        name: c.name,
    };
    render(&p)
}
