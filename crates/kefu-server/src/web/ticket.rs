//! The agent's ticket page (conversation, reply form, properties, SLA clocks, history,
//! customer sidebar) and its two forms: reply / internal note, and update properties.
//! The SLA panel and its "re-apply policy" form are `super::sla`'s.
//!
//! The properties form carries the values it was rendered with (`orig_*` fields); only
//! fields the agent actually changed go into the patch, so saving the form never
//! reverts a change another agent made in the meantime.
//!
//! Email messages are shown through `mail_view`; `?remote=1` loads the remote images
//! held back in them and widens this one response's CSP to images from anywhere.

use super::{
    form::{FormData, domain_message, hint, parse_id, saved_existing},
    i18n::Tr,
    mail_view::MailOpts,
    page::{Chrome, WebError, WebResult, ago, render_with, stamp},
    session::AgentCtx,
    sla::SlaPanel,
    views::{
        ContactView, EventView, MessageView, Names, Opt, TicketRow, contacts, event_view,
        message_view, priority_opts, status_opts, ticket_row, tier_opts, type_opts,
    },
};
use crate::{AppState, auth, idempotency};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect},
};
use kefu_domain::{
    Actor, AgentId, CustomerId, Priority, Status, TeamId, Ticket, TicketId, TicketPatch,
    TicketType, Tier, Timestamp, authz::Permission, parse_body, parse_tags,
};
use kefu_store::{NewMessage, TicketFilter};
use std::collections::HashMap;

/// The values the properties form was rendered with.
pub struct Orig {
    pub status: String,
    pub priority: String,
    pub ticket_type: String,
    pub assignee: String,
    pub team: String,
    pub tier: String,
    pub tags: String,
}

pub struct Sidebar {
    pub id: i64,
    pub name: String,
    pub contact: ContactView,
    pub organization: Option<String>,
    pub segment: &'static str,
    pub segment_label: &'static str,
    pub others: Vec<TicketRow>,
}

#[derive(Template)]
#[template(path = "agent/ticket.html")]
struct TicketPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    number: i64,
    subject: String,
    status: &'static str,
    status_label: &'static str,
    priority: &'static str,
    priority_label: &'static str,
    channel: &'static str,
    created: String,
    created_title: String,
    closed: bool,
    /// The closed ticket this one follows up: (id, number).
    follow_up_of: Option<(i64, i64)>,
    can_write: bool,
    error: Option<String>,
    messages: Vec<MessageView>,
    events: Vec<EventView>,
    reply_body: String,
    reply_note: bool,
    idem: String,
    submit_as: Vec<Opt>,
    statuses: Vec<Opt>,
    priorities: Vec<Opt>,
    types: Vec<Opt>,
    assignees: Vec<Opt>,
    teams: Vec<Opt>,
    tiers: Vec<Opt>,
    tags: String,
    orig: Orig,
    customer: Option<Sidebar>,
    sla: SlaPanel,
}

/// What the page shows besides the stored state: a message, the reply being edited, and
/// whether the agent asked for remote images in emails (`?remote=1`).
#[derive(Default)]
struct Draft {
    error: Option<String>,
    body: String,
    note: bool,
    remote: bool,
}

/// The page's CSP when the agent asked for remote images: the default one (see
/// `page::pages`) with images from anywhere. Scripts stay `'self'` only.
const REMOTE_IMAGES_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https: http:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

async fn ticket_page(
    state: &AppState,
    a: &AgentCtx,
    t: Ticket,
    draft: Draft,
    status: StatusCode,
) -> WebResult {
    let tr = a.ctx.tr;
    let s = &state.store;
    let mine = TicketFilter {
        requester_id: Some(t.requester_id),
        ..Default::default()
    };
    let (messages, events, agents, teams, requester, others, sla) = tokio::join!(
        s.list_messages(t.id, true),
        s.list_events(t.id),
        s.list_agents(),
        s.list_teams(),
        s.get_customer(t.requester_id),
        s.list_tickets(&mine, None, 11),
        s.ticket_sla(t.id),
    );
    let (messages, events, agents, teams, requester, sla) =
        (messages?, events?, agents?, teams?, requester?, sla?);
    // Other customers who wrote on the ticket (organization colleagues), in one batch.
    let mut ids: Vec<CustomerId> = messages
        .iter()
        .map(|m| m.author)
        .chain(events.iter().map(|e| e.actor))
        .filter_map(|a| match a {
            Actor::Customer(c) if c != t.requester_id => Some(c),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    let mut customers = if ids.is_empty() {
        Vec::new()
    } else {
        s.customers_by_ids(&ids).await?
    };
    let follow_up_of = match t.follow_up_of {
        Some(f) => s.get_ticket(f).await?.map(|f| (f.id.0, f.number)),
        None => None,
    };
    let org = match requester.as_ref().and_then(|c| c.organization_id) {
        Some(o) => s.get_organization(o).await?,
        None => None,
    };
    customers.extend(requester.clone());
    let names = Names::new(&agents, &customers, &teams);
    let now = Timestamp::now();
    let sla = super::sla::panel(state, a, sla, now).await?;
    let remote_href = format!("/agent/tickets/{}?remote=1", t.id);
    let mail_opts = MailOpts {
        staff: true,
        load_remote: draft.remote,
        remote_href: Some(&remote_href),
    };
    let customer = requester.map(|c| Sidebar {
        id: c.id.0,
        name: c.name.clone(),
        contact: contacts(&c),
        organization: org.map(|o| o.name),
        segment: c.segment.as_str(),
        segment_label: tr.segment(c.segment),
        others: others
            .map(|p| p.items)
            .unwrap_or_default()
            .iter()
            .filter(|o| o.id != t.id)
            .take(10)
            .map(|o| ticket_row(tr, o, &names, now, false))
            .collect(),
    });
    let id_opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut assignees = vec![Opt::new(
        "",
        tr.t("ticket.unassigned"),
        t.assignee_id.is_none(),
    )];
    assignees.extend(
        agents
            .iter()
            .filter(|ag| ag.active || Some(ag.id) == t.assignee_id)
            .map(|ag| {
                Opt::new(
                    ag.id.to_string(),
                    ag.name.clone(),
                    Some(ag.id) == t.assignee_id,
                )
            }),
    );
    let mut team_opts = vec![Opt::new("", tr.t("ticket.no_team"), t.team_id.is_none())];
    team_opts.extend(
        teams
            .iter()
            .map(|tm| Opt::new(tm.id.to_string(), tm.name.clone(), Some(tm.id) == t.team_id)),
    );
    let mut submit_as = vec![Opt::new("", tr.t("reply.keep_status"), true)];
    submit_as.extend(
        [Status::Open, Status::Pending, Status::Hold, Status::Solved]
            .iter()
            .map(|st| {
                Opt::new(
                    st.as_str(),
                    tr.f("reply.submit_as", &[("status", tr.status(*st))]),
                    false,
                )
            }),
    );
    let tags = t
        .tags
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let page = TicketPage {
        tr,
        chrome: a
            .ctx
            .chrome(format!("#{} {}", t.number, t.subject), "agent"),
        id: t.id.0,
        number: t.number,
        subject: t.subject.clone(),
        status: t.status.as_str(),
        status_label: tr.status(t.status),
        priority: t.priority.as_str(),
        priority_label: tr.priority(t.priority),
        channel: tr.t(&format!("channel.{}", t.channel)),
        created: ago(tr, t.created_at, now),
        created_title: stamp(t.created_at),
        closed: t.status == Status::Closed,
        follow_up_of,
        can_write: a.may(Permission::WriteTickets),
        error: draft.error,
        messages: messages
            .iter()
            .map(|m| message_view(tr, m, &names, now, mail_opts))
            .collect(),
        events: events
            .iter()
            .rev()
            .map(|e| event_view(tr, e, &names, now))
            .collect(),
        reply_body: draft.body,
        reply_note: draft.note,
        idem: auth::new_secret(""),
        submit_as,
        statuses: status_opts(tr, t.status),
        priorities: priority_opts(tr, t.priority),
        types: type_opts(tr, t.ticket_type),
        assignees,
        teams: team_opts,
        tiers: tier_opts(t.tier.get()),
        orig: Orig {
            status: t.status.to_string(),
            priority: t.priority.to_string(),
            ticket_type: t.ticket_type.to_string(),
            assignee: id_opt(t.assignee_id.map(|a| a.0)),
            team: id_opt(t.team_id.map(|a| a.0)),
            tier: t.tier.get().to_string(),
            tags: tags.clone(),
        },
        tags,
        customer,
        sla,
    };
    render_with(status, &page)
}

async fn load(state: &AppState, id: &str) -> WebResult<Ticket> {
    let id = TicketId(parse_id(id)?);
    state
        .store
        .get_ticket(id)
        .await?
        .ok_or_else(WebError::not_found)
}

pub async fn show(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    a.require(Permission::ReadWorkspace)?;
    let t = load(&state, &id).await?;
    let remote = q.get("remote").is_some_and(|v| v == "1");
    let draft = Draft {
        remote,
        ..Default::default()
    };
    let mut res = ticket_page(&state, &a, t, draft, StatusCode::OK).await?;
    if remote {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(REMOTE_IMAGES_CSP),
        );
    }
    Ok(res)
}

pub async fn reply(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::WriteTickets)?;
    let tr = a.ctx.tr;
    let t = load(&state, &id).await?;
    let note = form.get("visibility") == "note";
    let retry = |error: String, t: Ticket| {
        let draft = Draft {
            error: Some(error),
            body: form.get("body").to_string(),
            note,
            remote: false,
        };
        ticket_page(&state, &a, t, draft, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let body = match parse_body(form.get("body")) {
        Ok(b) => b,
        Err(e) => return retry(domain_message(tr, &e), t).await,
    };
    let status_after = match form.get("status") {
        "" => None,
        s => match Status::parse(s) {
            Ok(s) => Some(s),
            Err(_) => return retry(hint(tr, "status"), t).await,
        },
    };
    let mut msg = NewMessage {
        author: a.actor(),
        public: !note,
        body_text: body,
        body_html: None,
        attachments: form.files.clone(),
        status_after,
        idempotency: None,
        mail: None,
    };
    let idem = form.get("idem");
    if !idem.is_empty() {
        let scope = format!("web-agent:{}", a.agent.id);
        let key = idem.chars().take(100).collect();
        msg.idempotency = Some(idempotency::message_key(scope, key, t.id, &msg));
    }
    if !note {
        msg.mail = crate::mail::outbound::reply_mail(state.store.as_ref(), &t).await?;
    }
    match saved_existing(tr, state.store.add_message(t.id, &msg).await)? {
        Ok((_, m)) => {
            Ok(Redirect::to(&format!("/agent/tickets/{}#message-{}", t.id, m.id)).into_response())
        }
        Err(msg) => retry(msg, t).await,
    }
}

/// The patch of fields whose submitted value differs from the rendered one.
fn patch_from(tr: Tr, form: &FormData) -> Result<TicketPatch, String> {
    let changed = |name: &str| {
        let v = form.get(name).trim();
        (v != form.get(&format!("orig_{name}")).trim()).then_some(v)
    };
    let dm = |e: kefu_domain::DomainError| domain_message(tr, &e);
    let opt_id = |v: &str| -> Result<Option<i64>, String> {
        if v.is_empty() {
            Ok(None)
        } else {
            v.parse().map(Some).map_err(|_| hint(tr, "generic"))
        }
    };
    let mut p = TicketPatch::default();
    if let Some(v) = changed("status") {
        p.status = Some(Status::parse(v).map_err(dm)?);
    }
    if let Some(v) = changed("priority") {
        p.priority = Some(Priority::parse(v).map_err(dm)?);
    }
    if let Some(v) = changed("type") {
        p.ticket_type = Some(TicketType::parse(v).map_err(dm)?);
    }
    if let Some(v) = changed("assignee") {
        p.assignee_id = Some(opt_id(v)?.map(AgentId));
    }
    if let Some(v) = changed("team") {
        p.team_id = Some(opt_id(v)?.map(TeamId));
    }
    if let Some(v) = changed("tier") {
        p.tier = Some(Tier::new(v.parse().unwrap_or(0)).map_err(dm)?);
    }
    let split = |s: &str| -> Vec<String> {
        s.split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect()
    };
    let tags = parse_tags(&split(form.get("tags"))).map_err(dm)?;
    let orig = parse_tags(&split(form.get("orig_tags"))).unwrap_or_default();
    if tags != orig {
        p.tags = Some(tags);
    }
    Ok(p)
}

pub async fn update(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::WriteTickets)?;
    let tr = a.ctx.tr;
    let t = load(&state, &id).await?;
    let back = Redirect::to(&format!("/agent/tickets/{}", t.id)).into_response();
    let retry = |error: String, t: Ticket| {
        ticket_page(
            &state,
            &a,
            t,
            Draft {
                error: Some(error),
                ..Default::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let patch = match patch_from(tr, &form) {
        Ok(p) if p.is_empty() => return Ok(back),
        Ok(p) => p,
        Err(msg) => return retry(msg, t).await,
    };
    match saved_existing(tr, state.store.update_ticket(t.id, &patch, a.actor()).await)? {
        Ok(_) => Ok(back),
        Err(msg) => retry(msg, t).await,
    }
}
