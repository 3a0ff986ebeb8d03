//! Administration: agents and teams (admins only, `Permission::Administer`) and
//! organizations (admins and supervisors, `Permission::ManageOrganizations`).
//!
//! Guard: an admin cannot remove their own admin role or deactivate themselves, so a
//! workspace always keeps at least the admin who is editing it.

use super::{
    form::{FormData, hint, parse_id, saved, saved_existing},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, form_status, render_with},
    session::AgentCtx,
    views::{Opt, tier_opts},
};
use crate::{AppState, auth};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect},
};
use kefu_domain::{
    AgentId, AgentPatch, Email, NewAgent, Role, Segment, TeamId, Tier, authz::Permission,
    check_password, parse_name,
};

fn role_opts(tr: Tr, current: Role) -> Vec<Opt> {
    Role::ALL
        .iter()
        .map(|r| Opt::new(r.as_str(), tr.role(*r), *r == current))
        .collect()
}

pub fn segment_opts(tr: Tr, current: Segment) -> Vec<Opt> {
    Segment::ALL
        .iter()
        .map(|s| Opt::new(s.as_str(), tr.segment(*s), *s == current))
        .collect()
}

pub async fn home(a: AgentCtx) -> WebResult {
    a.require(Permission::Administer)?;
    Ok(Redirect::to("/admin/agents").into_response())
}

pub struct AgentRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role_label: &'static str,
    pub tier: u8,
    pub teams: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/agents.html")]
struct AgentsPage {
    tr: Tr,
    chrome: Chrome,
    rows: Vec<AgentRow>,
    error: Option<String>,
    email: String,
    name: String,
    roles: Vec<Opt>,
    tiers: Vec<Opt>,
    teams: Vec<Opt>,
}

async fn agents_page(
    state: &AppState,
    a: &AgentCtx,
    form: Option<&FormData>,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let (agents, teams) = tokio::join!(state.store.list_agents(), state.store.list_teams());
    let (agents, teams) = (agents?, teams?);
    let team_name = |id: &TeamId| {
        teams
            .iter()
            .find(|t| t.id == *id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let rows = agents
        .iter()
        .map(|ag| AgentRow {
            id: ag.id.0,
            name: ag.name.clone(),
            email: ag.email.clone(),
            role_label: tr.role(ag.role),
            tier: ag.tier.get(),
            teams: ag
                .teams
                .iter()
                .map(team_name)
                .collect::<Vec<_>>()
                .join(", "),
            active: ag.active,
        })
        .collect();
    let get = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    let chosen: Vec<String> = form
        .map(|f| f.all("teams").map(String::from).collect())
        .unwrap_or_default();
    let page = AgentsPage {
        tr,
        chrome: a.ctx.chrome(tr.t("admin.agents"), "admin"),
        rows,
        email: get("email"),
        name: get("name"),
        roles: role_opts(tr, Role::parse(&get("role")).unwrap_or(Role::Agent)),
        tiers: tier_opts(get("tier").parse().unwrap_or(1)),
        teams: teams
            .iter()
            .map(|t| {
                Opt::new(
                    t.id.to_string(),
                    t.name.clone(),
                    chosen.contains(&t.id.to_string()),
                )
            })
            .collect(),
        error,
    };
    render_with(form_status(&page.error), &page)
}

pub async fn agents(State(state): State<AppState>, a: AgentCtx) -> WebResult {
    a.require(Permission::Administer)?;
    agents_page(&state, &a, None, None).await
}

fn team_ids(form: &FormData) -> Vec<TeamId> {
    form.all("teams")
        .filter_map(|v| v.parse().ok())
        .map(TeamId)
        .collect()
}

fn parse_tier(tr: Tr, form: &FormData) -> Result<Tier, String> {
    Tier::new(form.get("tier").parse().unwrap_or(0)).map_err(|_| hint(tr, "tier"))
}

pub async fn create_agent(State(state): State<AppState>, a: AgentCtx, form: FormData) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let parsed = (|| {
        let email = Email::parse(form.get("email")).map_err(|_| hint(tr, "email"))?;
        let name = parse_name("name", form.get("name")).map_err(|_| hint(tr, "name"))?;
        let role = Role::parse(form.get("role")).map_err(|_| hint(tr, "role"))?;
        let tier = parse_tier(tr, &form)?;
        check_password(form.get("password")).map_err(|_| hint(tr, "password"))?;
        Ok::<_, String>((email, name, role, tier))
    })();
    let (email, name, role, tier) = match parsed {
        Ok(p) => p,
        Err(msg) => return agents_page(&state, &a, Some(&form), Some(msg)).await,
    };
    let password_hash = auth::hash_password(form.get("password").to_string()).await?;
    let new = NewAgent {
        email,
        name,
        role,
        tier,
        teams: team_ids(&form),
        password_hash,
    };
    match saved(tr, state.store.create_agent(&new).await)? {
        Ok(_) => Ok(Redirect::to("/admin/agents").into_response()),
        Err(msg) => agents_page(&state, &a, Some(&form), Some(msg)).await,
    }
}

#[derive(Template)]
#[template(path = "admin/agent_edit.html")]
struct AgentEditPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    email: String,
    name: String,
    active: bool,
    error: Option<String>,
    roles: Vec<Opt>,
    tiers: Vec<Opt>,
    teams: Vec<Opt>,
}

async fn agent_edit(state: &AppState, a: &AgentCtx, id: &str, error: Option<String>) -> WebResult {
    let tr = a.ctx.tr;
    let ag = state
        .store
        .get_agent(AgentId(parse_id(id)?))
        .await?
        .ok_or_else(WebError::not_found)?;
    let teams = state.store.list_teams().await?;
    let page = AgentEditPage {
        tr,
        chrome: a.ctx.chrome(ag.name.clone(), "admin"),
        id: ag.id.0,
        email: ag.email.clone(),
        active: ag.active,
        error,
        roles: role_opts(tr, ag.role),
        tiers: tier_opts(ag.tier.get()),
        teams: teams
            .iter()
            .map(|t| Opt::new(t.id.to_string(), t.name.clone(), ag.teams.contains(&t.id)))
            .collect(),
        name: ag.name,
    };
    render_with(form_status(&page.error), &page)
}

pub async fn agent_form(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
) -> WebResult {
    a.require(Permission::Administer)?;
    agent_edit(&state, &a, &id, None).await
}

pub async fn update_agent(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let agent_id = AgentId(parse_id(&id)?);
    let parsed = (|| {
        let name = parse_name("name", form.get("name")).map_err(|_| hint(tr, "name"))?;
        let role = Role::parse(form.get("role")).map_err(|_| hint(tr, "role"))?;
        let tier = parse_tier(tr, &form)?;
        let active = form.checked("active");
        if agent_id == a.agent.id && (role != Role::Admin || !active) {
            return Err(tr.t("admin.self_lockout").to_string());
        }
        let password = form.get("password");
        let password = if password.is_empty() {
            None
        } else {
            check_password(password).map_err(|_| hint(tr, "password"))?;
            Some(password.to_string())
        };
        Ok::<_, String>((name, role, tier, active, password))
    })();
    let (name, role, tier, active, password) = match parsed {
        Ok(p) => p,
        Err(msg) => return agent_edit(&state, &a, &id, Some(msg)).await,
    };
    let password_hash = match password {
        Some(p) => Some(auth::hash_password(p).await?),
        None => None,
    };
    let patch = AgentPatch {
        name: Some(name),
        role: Some(role),
        tier: Some(tier),
        teams: Some(team_ids(&form)),
        language: None,
        active: Some(active),
        password_hash,
    };
    match saved_existing(tr, state.store.update_agent(agent_id, &patch).await)? {
        Ok(_) => Ok(Redirect::to("/admin/agents").into_response()),
        Err(msg) => agent_edit(&state, &a, &id, Some(msg)).await,
    }
}

pub use super::admin_orgs::{
    create_org, create_team, org_form, orgs, team_form, teams, update_org, update_team,
};
