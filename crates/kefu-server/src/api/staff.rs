//! Agents, teams and the caller (`/me`).
//!
//! Every agent may read agents and teams; only admins create or change them. Password
//! hashes never leave the store, and an admin cannot demote or deactivate themselves
//! (which could leave a workspace without an admin).

use crate::AppState;
use crate::api::dto::{AgentPage, ErrorBody, TeamPage};
use crate::api::dto_people::*;
use crate::api::extract::{ApiJson, ApiPath};
use crate::auth::{Caller, hash_password};
use crate::error::{ApiError, ApiResult};
use axum::{Json, extract::State, http::StatusCode};
use kefu_domain::authz::{Permission, Principal};
use kefu_domain::*;

fn team_ids(ids: &[i64]) -> Vec<TeamId> {
    let mut v: Vec<TeamId> = ids.iter().copied().map(TeamId).collect();
    v.sort();
    v.dedup();
    v
}

#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", summary = "List agents",
    responses((status = 200, body = AgentPage), (status = 403, body = ErrorBody)))]
pub async fn list_agents(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AgentPage>> {
    caller.require(Permission::ReadWorkspace)?;
    let agents = state.store.list_agents().await?;
    Ok(Json(AgentPage {
        items: agents.iter().map(AgentDto::from).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", summary = "Create an agent (admins)",
    request_body = CreateAgentRequest,
    responses((status = 201, body = AgentDto), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateAgentRequest>,
) -> ApiResult<(StatusCode, Json<AgentDto>)> {
    caller.require(Permission::Administer)?;
    let email = Email::parse(&req.email)?;
    let name = parse_name("name", &req.name)?;
    let role = Role::parse(&req.role)?;
    let tier = req
        .tier
        .map(Tier::new)
        .transpose()?
        .unwrap_or(Tier::FRONTLINE);
    check_password(&req.password)?;
    let new = NewAgent {
        email,
        name,
        role,
        tier,
        teams: team_ids(&req.teams),
        password_hash: hash_password(req.password).await?,
    };
    let agent = state.store.create_agent(&new).await?;
    Ok((StatusCode::CREATED, Json(AgentDto::from(&agent))))
}

#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", summary = "Get an agent",
    params(("id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = AgentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AgentDto>> {
    caller.require(Permission::ReadWorkspace)?;
    let agent = state
        .store
        .get_agent(AgentId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(Json(AgentDto::from(&agent)))
}

#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", summary = "Change an agent (admins)",
    params(("id" = i64, Path, description = "Agent id")),
    request_body = PatchAgentRequest,
    responses((status = 200, body = AgentDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<PatchAgentRequest>,
) -> ApiResult<Json<AgentDto>> {
    caller.require(Permission::Administer)?;
    let role = req.role.as_deref().map(Role::parse).transpose()?;
    if let Principal::Agent { id: me, .. } = caller.principal
        && me.0 == id
        && (role.is_some_and(|r| r != Role::Admin) || req.active == Some(false))
    {
        return Err(ApiError::invalid(
            "you cannot demote or deactivate yourself",
        ));
    }
    let password_hash = match req.password {
        Some(p) => {
            check_password(&p)?;
            Some(hash_password(p).await?)
        }
        None => None,
    };
    let patch = AgentPatch {
        name: req
            .name
            .as_deref()
            .map(|n| parse_name("name", n))
            .transpose()?,
        role,
        tier: req.tier.map(Tier::new).transpose()?,
        teams: req.teams.as_deref().map(team_ids),
        language: req
            .language
            .map(|l| l.as_deref().map(Lang::parse).transpose())
            .transpose()?,
        active: req.active,
        password_hash,
    };
    let agent = state.store.update_agent(AgentId(id), &patch).await?;
    Ok(Json(AgentDto::from(
        &agent.ok_or_else(|| ApiError::not_found("agent"))?,
    )))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "agents", summary = "List teams",
    responses((status = 200, body = TeamPage), (status = 403, body = ErrorBody)))]
pub async fn list_teams(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<TeamPage>> {
    caller.require(Permission::ReadWorkspace)?;
    let teams = state.store.list_teams().await?;
    Ok(Json(TeamPage {
        items: teams.iter().map(TeamDto::from).collect(),
        next_cursor: None,
    }))
}

fn description(s: Option<&str>) -> ApiResult<Option<String>> {
    match s.map(str::trim) {
        Some(d) if d.chars().count() > 1000 => {
            Err(ApiError::invalid("description: at most 1000 characters"))
        }
        other => Ok(other.map(str::to_string)),
    }
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "agents", summary = "Create a team (admins)",
    request_body = CreateTeamRequest,
    responses((status = 201, body = TeamDto), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateTeamRequest>,
) -> ApiResult<(StatusCode, Json<TeamDto>)> {
    caller.require(Permission::Administer)?;
    let name = parse_name("name", &req.name)?;
    let description = description(req.description.as_deref())?.unwrap_or_default();
    let team = state.store.create_team(&name, &description).await?;
    Ok((StatusCode::CREATED, Json(TeamDto::from(&team))))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "agents", summary = "Get a team",
    params(("id" = i64, Path, description = "Team id")),
    responses((status = 200, body = TeamDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TeamDto>> {
    caller.require(Permission::ReadWorkspace)?;
    let team = state
        .store
        .get_team(TeamId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("team"))?;
    Ok(Json(TeamDto::from(&team)))
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "agents", summary = "Change a team (admins)",
    params(("id" = i64, Path, description = "Team id")),
    request_body = TeamRequest,
    responses((status = 200, body = TeamDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_team(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TeamRequest>,
) -> ApiResult<Json<TeamDto>> {
    caller.require(Permission::Administer)?;
    let not_found = || ApiError::not_found("team");
    let team = state
        .store
        .get_team(TeamId(id))
        .await?
        .ok_or_else(not_found)?;
    let name = req
        .name
        .as_deref()
        .map(|n| parse_name("name", n))
        .transpose()?
        .unwrap_or(team.name);
    let description = description(req.description.as_deref())?.unwrap_or(team.description);
    let team = state
        .store
        .update_team(team.id, &name, &description)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(TeamDto::from(&team)))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "agents", summary = "The caller: an agent or a portal customer",
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Json<MeDto> {
    let kind = match caller.principal {
        Principal::Agent { .. } => "agent",
        Principal::Customer { .. } => "customer",
    };
    Json(MeDto {
        kind: kind.into(),
        agent: caller.agent.as_ref().map(AgentDto::from),
        customer: caller.customer.as_ref().map(CustomerDto::from),
    })
}
