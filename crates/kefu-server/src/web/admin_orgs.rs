//! Administration of groups: teams (admins only) and organizations (admins and
//! supervisors). Lists with a create form, and an edit page for each.

use super::{
    admin::segment_opts,
    form::{FormData, hint, parse_id, saved, saved_existing},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, form_status, render_with},
    session::AgentCtx,
    views::Opt,
};
use crate::AppState;
use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect},
};
use kefu_domain::{
    NewOrganization, OrganizationId, Segment, TeamId, authz::Permission, parse_name,
};

pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub members: usize,
}

#[derive(Template)]
#[template(path = "admin/teams.html")]
struct TeamsPage {
    tr: Tr,
    chrome: Chrome,
    rows: Vec<TeamRow>,
    error: Option<String>,
    name: String,
    description: String,
}

async fn teams_page(
    state: &AppState,
    a: &AgentCtx,
    form: Option<&FormData>,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let (teams, agents) = tokio::join!(state.store.list_teams(), state.store.list_agents());
    let (teams, agents) = (teams?, agents?);
    let rows = teams
        .into_iter()
        .map(|t| TeamRow {
            id: t.id.0,
            members: agents.iter().filter(|a| a.teams.contains(&t.id)).count(),
            name: t.name,
            description: t.description,
        })
        .collect();
    let get = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    let page = TeamsPage {
        tr,
        chrome: a.ctx.chrome(tr.t("admin.teams"), "admin"),
        rows,
        error,
        name: get("name"),
        description: get("description"),
    };
    render_with(form_status(&page.error), &page)
}

pub async fn teams(State(state): State<AppState>, a: AgentCtx) -> WebResult {
    a.require(Permission::Administer)?;
    teams_page(&state, &a, None, None).await
}

fn team_input(tr: Tr, form: &FormData) -> Result<(String, String), String> {
    let name = parse_name("name", form.get("name")).map_err(|_| hint(tr, "name"))?;
    let description: String = form.get("description").trim().chars().take(500).collect();
    Ok((name, description))
}

pub async fn create_team(State(state): State<AppState>, a: AgentCtx, form: FormData) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let outcome = match team_input(tr, &form) {
        Ok((name, description)) => saved(tr, state.store.create_team(&name, &description).await)?,
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/admin/teams").into_response()),
        Err(msg) => teams_page(&state, &a, Some(&form), Some(msg)).await,
    }
}

#[derive(Template)]
#[template(path = "admin/team_edit.html")]
struct TeamEditPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    name: String,
    description: String,
    error: Option<String>,
}

async fn team_edit(
    state: &AppState,
    a: &AgentCtx,
    id: &str,
    form: Option<&FormData>,
    error: Option<String>,
) -> WebResult {
    let team = state
        .store
        .get_team(TeamId(parse_id(id)?))
        .await?
        .ok_or_else(WebError::not_found)?;
    let page = TeamEditPage {
        tr: a.ctx.tr,
        chrome: a.ctx.chrome(team.name.clone(), "admin"),
        id: team.id.0,
        name: form.map(|f| f.get("name").to_string()).unwrap_or(team.name),
        description: form
            .map(|f| f.get("description").to_string())
            .unwrap_or(team.description),
        error,
    };
    render_with(form_status(&page.error), &page)
}

pub async fn team_form(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
) -> WebResult {
    a.require(Permission::Administer)?;
    team_edit(&state, &a, &id, None, None).await
}

pub async fn update_team(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let team_id = TeamId(parse_id(&id)?);
    let outcome = match team_input(tr, &form) {
        Ok((name, description)) => {
            let r = state.store.update_team(team_id, &name, &description).await;
            saved_existing(tr, r)?
        }
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/admin/teams").into_response()),
        Err(msg) => team_edit(&state, &a, &id, Some(&form), Some(msg)).await,
    }
}

pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub domains: String,
    pub segment: &'static str,
    pub segment_label: &'static str,
    pub shares_tickets: bool,
}

#[derive(Template)]
#[template(path = "admin/orgs.html")]
struct OrgsPage {
    tr: Tr,
    chrome: Chrome,
    /// Admins see the agents/teams tabs too.
    admin: bool,
    rows: Vec<OrgRow>,
    error: Option<String>,
    name: String,
    domains: String,
    segments: Vec<Opt>,
    shares: bool,
}

async fn orgs_page(
    state: &AppState,
    a: &AgentCtx,
    form: Option<&FormData>,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let rows = state
        .store
        .list_organizations()
        .await?
        .into_iter()
        .map(|o| OrgRow {
            id: o.id.0,
            name: o.name,
            domains: o.domains.join(", "),
            segment: o.segment.as_str(),
            segment_label: tr.segment(o.segment),
            shares_tickets: o.shares_tickets,
        })
        .collect();
    let get = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    let page = OrgsPage {
        tr,
        chrome: a.ctx.chrome(tr.t("admin.organizations"), "admin"),
        admin: a.may(Permission::Administer),
        rows,
        error,
        name: get("name"),
        domains: get("domains"),
        segments: segment_opts(
            tr,
            Segment::parse(&get("segment")).unwrap_or(Segment::Standard),
        ),
        shares: form.is_some_and(|f| f.checked("shares_tickets")),
    };
    render_with(form_status(&page.error), &page)
}

pub async fn orgs(State(state): State<AppState>, a: AgentCtx) -> WebResult {
    a.require(Permission::ManageOrganizations)?;
    orgs_page(&state, &a, None, None).await
}

fn org_input(tr: Tr, form: &FormData) -> Result<NewOrganization, String> {
    let name = parse_name("name", form.get("name")).map_err(|_| hint(tr, "name"))?;
    let domains: Vec<String> = form
        .get("domains")
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_start_matches('@').to_ascii_lowercase())
        .collect();
    if domains.len() > 50
        || domains
            .iter()
            .any(|d| !d.contains('.') || d.len() > 253 || d.contains('@'))
    {
        return Err(tr.t("hint.domains").to_string());
    }
    let segment = Segment::parse(form.get("segment")).map_err(|_| hint(tr, "segment"))?;
    Ok(NewOrganization {
        name,
        domains,
        segment,
        shares_tickets: form.checked("shares_tickets"),
    })
}

pub async fn create_org(State(state): State<AppState>, a: AgentCtx, form: FormData) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::ManageOrganizations)?;
    let tr = a.ctx.tr;
    let outcome = match org_input(tr, &form) {
        Ok(org) => saved(tr, state.store.create_organization(&org).await)?,
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/admin/organizations").into_response()),
        Err(msg) => orgs_page(&state, &a, Some(&form), Some(msg)).await,
    }
}

#[derive(Template)]
#[template(path = "admin/org_edit.html")]
struct OrgEditPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    name: String,
    domains: String,
    segments: Vec<Opt>,
    shares: bool,
    error: Option<String>,
}

async fn org_edit(
    state: &AppState,
    a: &AgentCtx,
    id: &str,
    form: Option<&FormData>,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let org = state
        .store
        .get_organization(OrganizationId(parse_id(id)?))
        .await?
        .ok_or_else(WebError::not_found)?;
    let seg = form
        .and_then(|f| Segment::parse(f.get("segment")).ok())
        .unwrap_or(org.segment);
    let page = OrgEditPage {
        tr,
        chrome: a.ctx.chrome(org.name.clone(), "admin"),
        id: org.id.0,
        name: form.map(|f| f.get("name").to_string()).unwrap_or(org.name),
        domains: form
            .map(|f| f.get("domains").to_string())
            .unwrap_or(org.domains.join(", ")),
        segments: segment_opts(tr, seg),
        shares: form
            .map(|f| f.checked("shares_tickets"))
            .unwrap_or(org.shares_tickets),
        error,
    };
    render_with(form_status(&page.error), &page)
}

pub async fn org_form(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
) -> WebResult {
    a.require(Permission::ManageOrganizations)?;
    org_edit(&state, &a, &id, None, None).await
}

pub async fn update_org(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::ManageOrganizations)?;
    let tr = a.ctx.tr;
    let org_id = OrganizationId(parse_id(&id)?);
    let outcome = match org_input(tr, &form) {
        Ok(org) => saved_existing(tr, state.store.update_organization(org_id, &org).await)?,
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/admin/organizations").into_response()),
        Err(msg) => org_edit(&state, &a, &id, Some(&form), Some(msg)).await,
    }
}
