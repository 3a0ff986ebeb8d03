//! Administration of SLA policies (admins only, `Permission::Administer`): the list in
//! the order policies are tried, and one form for a new policy (`/admin/sla/new`) and for
//! each existing one (`/admin/sla/{id}`).
//!
//! The editor needs no script. Its fields:
//! - `name`, `position` (empty: last on create, unchanged on update), `active`,
//!   `description`, `calendar` (a calendar id or empty);
//! - conditions: checkbox groups `cond_priority`, `cond_type`, `cond_channel`,
//!   `cond_segment`, multi-selects `cond_team` and `cond_org`, and `cond_tags` (text);
//! - targets: `t_<metric>_<priority>` (minutes, empty for none) for the seven promises
//!   (`kefu_domain::sla::PROMISES`), and `tb_<metric>` (count business hours) per row;
//! - pauses: `pause_<metric>` checkboxes (new/open/pending/hold) for every metric, with
//!   `pauses_form=1` marking that they were on the form (a post without it keeps the
//!   defaults); only pauses that differ from `default_pauses` are stored;
//! - `warn_at`: percentages ("75, 90");
//! - ladders: per kind (default, complaint, vip) and tier 1–4, `l_<kind>_<tier>_max`,
//!   `_business`, `_warn` / `_breach` (checkboxes: notify_assignee,
//!   notify_team_supervisors, notify_supervisors, raise_tier, raise_priority),
//!   `_warn_team` / `_breach_team` (assign to a team) and `_warn_tag` / `_breach_tag`
//!   (tags to add). A tier left blank has no step; a ladder without steps is not stored.
//!
//! Saving goes through the store, which validates with `SlaPolicyDef::validate` and
//! checks references; a changed definition becomes a new version. Mistakes come back as
//! the form as typed (422) with a message naming the cell.

mod input;

use super::{
    form::{FormData, parse_id},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, form_status, render, render_with},
    session::AgentCtx,
    views::Opt,
};
use crate::AppState;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect},
};
use input::{ActionInput, FLAGS, Input, PAUSABLE, ladder_label, metric_label, step_label};
use kefu_domain::sla::{LadderKind, PROMISES};
use kefu_domain::{
    Channel, DomainError, Metric, Priority, Segment, SlaPolicyId, TicketType, authz::Permission,
};
use kefu_store::{SlaPolicyRecord, StoreError};
use std::collections::HashMap;

/// A message for what the store refused, or an internal fault.
fn store_message(tr: Tr, e: StoreError) -> WebResult<String> {
    Ok(match e {
        StoreError::Domain(DomainError::Invalid { field, reason }) => match field {
            "calendar_id" => tr.t("sla.err.calendar").to_string(),
            "warn_at" => tr.t("sla.err.warn_at").to_string(),
            "name" => tr.t("sla.err.name").to_string(),
            _ => tr.f("sla.err.invalid", &[("detail", &reason)]),
        },
        StoreError::Domain(other) => tr.f("sla.err.invalid", &[("detail", &other.to_string())]),
        StoreError::InvalidReference(_) => tr.t("error.reference").to_string(),
        StoreError::Conflict(_) => tr.t("error.conflict").to_string(),
        other => return Err(other.into()),
    })
}

// ---- what the template shows ----

/// A checkbox (or the name and id of another input).
pub struct Check {
    pub id: String,
    pub name: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct CheckGroup {
    pub id: &'static str,
    pub legend: &'static str,
    pub checks: Vec<Check>,
}

/// A text or number input.
pub struct Field {
    pub id: String,
    pub name: String,
    pub value: String,
    pub label: String,
}

pub struct TargetRow {
    pub metric: &'static str,
    pub label: &'static str,
    pub cells: Vec<Field>,
    pub business: Check,
}

pub struct PauseRow {
    pub metric: &'static str,
    pub label: &'static str,
    pub checks: Vec<Check>,
}

pub struct ActionsView {
    pub checks: Vec<Check>,
    pub team: Field,
    pub teams: Vec<Opt>,
    pub tag: Field,
}

pub struct StepView {
    pub tier: u8,
    pub max: Field,
    pub business: Check,
    pub warn: ActionsView,
    pub breach: ActionsView,
}

pub struct LadderView {
    pub kind: &'static str,
    pub label: &'static str,
    /// Shown unfolded (the default ladder, and any ladder with steps).
    pub open: bool,
    pub steps: Vec<StepView>,
}

pub struct Editor {
    pub name: String,
    pub position: String,
    pub active: bool,
    pub description: String,
    pub calendars: Vec<Opt>,
    pub groups: Vec<CheckGroup>,
    pub teams: Vec<Opt>,
    pub orgs: Vec<Opt>,
    pub tags: String,
    pub priority_heads: Vec<&'static str>,
    pub targets: Vec<TargetRow>,
    pub status_heads: Vec<&'static str>,
    pub pauses: Vec<PauseRow>,
    pub warn_at: String,
    pub ladders: Vec<LadderView>,
}

/// Teams, organizations and calendars to choose from: (id, name).
struct Choices {
    calendars: Vec<(i64, String)>,
    teams: Vec<(i64, String)>,
    orgs: Vec<(i64, String)>,
}

async fn choices(state: &AppState) -> WebResult<Choices> {
    let s = &state.store;
    let (cals, teams, orgs) =
        tokio::join!(s.list_calendars(), s.list_teams(), s.list_organizations());
    Ok(Choices {
        calendars: cals?.into_iter().map(|c| (c.id.0, c.name)).collect(),
        teams: teams?.into_iter().map(|t| (t.id.0, t.name)).collect(),
        orgs: orgs?.into_iter().map(|o| (o.id.0, o.name)).collect(),
    })
}

fn check(id: String, name: String, value: &str, label: impl Into<String>, checked: bool) -> Check {
    Check {
        id,
        name,
        value: value.to_string(),
        label: label.into(),
        checked,
    }
}

fn editor(tr: Tr, input: &Input, ch: &Choices) -> Editor {
    let group = |key: &'static str,
                 legend: &'static str,
                 values: Vec<(&'static str, &'static str)>,
                 chosen: &[String]| CheckGroup {
        id: key,
        legend: tr.t(legend),
        checks: values
            .into_iter()
            .map(|(v, label)| {
                check(
                    format!("{}-{v}", key.replace('_', "-")),
                    key.to_string(),
                    v,
                    label,
                    chosen.iter().any(|c| c == v),
                )
            })
            .collect(),
    };
    let opts = |items: &[(i64, String)], chosen: &[String]| -> Vec<Opt> {
        items
            .iter()
            .map(|(id, name)| {
                let v = id.to_string();
                let sel = chosen.contains(&v);
                Opt::new(v, name.clone(), sel)
            })
            .collect()
    };
    let mut calendars = vec![Opt::new(
        "",
        tr.t("sla.calendar_none"),
        input.calendar.is_empty(),
    )];
    calendars.extend(opts(&ch.calendars, std::slice::from_ref(&input.calendar)));
    let groups = vec![
        group(
            "cond_priority",
            "sla.cond.priorities",
            Priority::ALL
                .iter()
                .map(|p| (p.as_str(), tr.priority(*p)))
                .collect(),
            &input.priorities,
        ),
        group(
            "cond_type",
            "sla.cond.types",
            TicketType::ALL
                .iter()
                .map(|t| (t.as_str(), tr.ticket_type(*t)))
                .collect(),
            &input.types,
        ),
        group(
            "cond_channel",
            "sla.cond.channels",
            Channel::ALL
                .iter()
                .map(|c| (c.as_str(), tr.t(&format!("channel.{c}"))))
                .collect(),
            &input.channels,
        ),
        group(
            "cond_segment",
            "sla.cond.segments",
            Segment::ALL
                .iter()
                .map(|s| (s.as_str(), tr.segment(*s)))
                .collect(),
            &input.segments,
        ),
    ];
    let targets = PROMISES
        .iter()
        .map(|&m| {
            let label = metric_label(tr, m);
            TargetRow {
                metric: m.as_str(),
                label,
                cells: Priority::ALL
                    .iter()
                    .map(|p| Field {
                        id: format!("t-{m}-{p}"),
                        name: format!("t_{m}_{p}"),
                        value: input.targets.get(&(m, *p)).cloned().unwrap_or_default(),
                        label: tr.f(
                            "sla.target_cell",
                            &[("metric", label), ("priority", tr.priority(*p))],
                        ),
                    })
                    .collect(),
                business: check(
                    format!("tb-{m}"),
                    format!("tb_{m}"),
                    "1",
                    tr.f("sla.business_cell", &[("metric", label)]),
                    input.business.contains(&m),
                ),
            }
        })
        .collect();
    let pauses = Metric::ALL
        .iter()
        .map(|&m| {
            let chosen = input.pauses.get(&m).cloned().unwrap_or_default();
            let label = metric_label(tr, m);
            PauseRow {
                metric: m.as_str(),
                label,
                checks: PAUSABLE
                    .iter()
                    .map(|s| {
                        check(
                            format!("pause-{m}-{s}"),
                            format!("pause_{m}"),
                            s.as_str(),
                            tr.f(
                                "sla.pause_cell",
                                &[("metric", label), ("status", tr.status(*s))],
                            ),
                            chosen.iter().any(|c| c == s.as_str()),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let ladders = LadderKind::ALL
        .iter()
        .map(|&k| {
            let steps: Vec<StepView> = (1..=4u8)
                .map(|tier| {
                    let s = input.steps.get(&(k, tier)).cloned().unwrap_or_default();
                    let place = step_label(tr, k, tier);
                    let p = format!("l_{}_{tier}", k.as_str());
                    let id = p.replace('_', "-");
                    let field = |suffix: &str, value: String, what: &str| Field {
                        id: format!("{id}-{}", suffix.replace('_', "-")),
                        name: format!("{p}_{suffix}"),
                        value,
                        label: tr.f(
                            "sla.field_label",
                            &[("where", &place), ("what", tr.t(what))],
                        ),
                    };
                    let actions = |what: &str, a: &ActionInput| {
                        let mut teams =
                            vec![Opt::new("", tr.t("sla.action.no_team"), a.team.is_empty())];
                        teams.extend(opts(&ch.teams, std::slice::from_ref(&a.team)));
                        ActionsView {
                            checks: FLAGS
                                .iter()
                                .map(|f| {
                                    check(
                                        format!("{id}-{what}-{}", f.replace('_', "-")),
                                        format!("{p}_{what}"),
                                        f,
                                        tr.t(&format!("sla.action.{f}")),
                                        a.flags.iter().any(|x| x == f),
                                    )
                                })
                                .collect(),
                            team: field(
                                &format!("{what}_team"),
                                a.team.clone(),
                                "sla.action.assign_team",
                            ),
                            teams,
                            tag: field(&format!("{what}_tag"), a.tag.clone(), "sla.action.add_tag"),
                        }
                    };
                    StepView {
                        tier,
                        max: field("max", s.max.clone(), "sla.step.max"),
                        business: check(
                            format!("{id}-business"),
                            format!("{p}_business"),
                            "1",
                            tr.f(
                                "sla.field_label",
                                &[("where", &place), ("what", tr.t("sla.business_hours"))],
                            ),
                            s.business,
                        ),
                        warn: actions("warn", &s.warn),
                        breach: actions("breach", &s.breach),
                    }
                })
                .collect();
            LadderView {
                kind: k.as_str(),
                label: ladder_label(tr, k),
                open: k == LadderKind::Default
                    || (1..=4u8).any(|t| input.steps.get(&(k, t)).is_some_and(|s| !s.is_blank())),
                steps,
            }
        })
        .collect();
    Editor {
        name: input.name.clone(),
        position: input.position.clone(),
        active: input.active,
        description: input.description.clone(),
        calendars,
        groups,
        teams: opts(&ch.teams, &input.teams),
        orgs: opts(&ch.orgs, &input.orgs),
        tags: input.tags.clone(),
        priority_heads: Priority::ALL.iter().map(|p| tr.priority(*p)).collect(),
        targets,
        status_heads: PAUSABLE.iter().map(|s| tr.status(*s)).collect(),
        pauses,
        warn_at: input.warn_at.clone(),
        ladders,
    }
}

// ---- pages ----

pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub position: i64,
    pub active: bool,
    pub version: i64,
    pub targets: usize,
    pub calendar: String,
}

#[derive(Template)]
#[template(path = "admin/sla.html")]
struct PoliciesPage {
    tr: Tr,
    chrome: Chrome,
    rows: Vec<PolicyRow>,
}

pub async fn policies(State(state): State<AppState>, a: AgentCtx) -> WebResult {
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let (list, cals) = tokio::join!(
        state.store.list_sla_policies(),
        state.store.list_calendars()
    );
    let cals: HashMap<_, _> = cals?.into_iter().map(|c| (c.id, c.name)).collect();
    let rows = list?
        .into_iter()
        .map(|p| PolicyRow {
            id: p.id.0,
            position: p.position,
            active: p.active,
            version: p.version,
            targets: p.def.targets.len(),
            calendar: p
                .def
                .calendar_id
                .map(|c| cals.get(&c).cloned().unwrap_or_else(|| format!("#{c}")))
                .unwrap_or_default(),
            name: p.name,
        })
        .collect();
    render(&PoliciesPage {
        tr,
        chrome: a.ctx.chrome(tr.t("admin.sla"), "admin"),
        rows,
    })
}

#[derive(Template)]
#[template(path = "admin/sla_edit.html")]
struct EditPage {
    tr: Tr,
    chrome: Chrome,
    /// Where the form posts.
    action: String,
    heading: String,
    /// "Version 3" for a stored policy.
    version_label: Option<String>,
    saved: Option<String>,
    error: Option<String>,
    editor: Editor,
    /// Offered when open tickets run under older versions.
    reapply: Option<ReapplyOffer>,
}

struct ReapplyOffer {
    action: String,
    text: String,
}

async fn edit_page(
    state: &AppState,
    a: &AgentCtx,
    stored: Option<&SlaPolicyRecord>,
    input: &Input,
    saved: Option<String>,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let ch = choices(state).await?;
    let heading = match stored {
        Some(p) => p.name.clone(),
        None => tr.t("admin.new_sla").to_string(),
    };
    let reapply = match stored {
        Some(p) => {
            let n = state
                .store
                .count_sla_tickets_behind(p.id, p.version)
                .await?;
            (n > 0).then(|| ReapplyOffer {
                action: format!("/admin/sla/{}/reapply", p.id),
                text: tr.f("sla.behind", &[("n", &n.to_string())]),
            })
        }
        None => None,
    };
    let page = EditPage {
        reapply,
        tr,
        chrome: a.ctx.chrome(heading.clone(), "admin"),
        action: match stored {
            Some(p) => format!("/admin/sla/{}", p.id),
            None => "/admin/sla/new".into(),
        },
        heading,
        version_label: stored.map(|p| tr.f("calendar.version_n", &[("n", &p.version.to_string())])),
        saved,
        error,
        editor: editor(tr, input, &ch),
    };
    render_with(form_status(&page.error), &page)
}

pub async fn new_form(State(state): State<AppState>, a: AgentCtx) -> WebResult {
    a.require(Permission::Administer)?;
    edit_page(&state, &a, None, &Input::blank(), None, None).await
}

pub async fn create(State(state): State<AppState>, a: AgentCtx, form: FormData) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let input = Input::from_form(&form);
    let outcome = match input.to_policy(tr) {
        Ok(p) => match state.store.create_sla_policy(&p).await {
            Ok(r) => Ok(r),
            Err(e) => Err(store_message(tr, e)?),
        },
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(p) => Ok(Redirect::to(&format!("/admin/sla/{}?saved=1", p.id)).into_response()),
        Err(msg) => edit_page(&state, &a, None, &input, None, Some(msg)).await,
    }
}

async fn load(state: &AppState, id: &str) -> WebResult<SlaPolicyRecord> {
    state
        .store
        .get_sla_policy(SlaPolicyId(parse_id(id)?))
        .await?
        .ok_or_else(WebError::not_found)
}

pub async fn edit_form(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let p = load(&state, &id).await?;
    let saved = match (q.get("saved"), q.get("reapplied")) {
        (Some(v), _) if v == "1" => Some(tr.f("sla.saved", &[("n", &p.version.to_string())])),
        (_, Some(n)) if n.parse::<u64>().is_ok() => Some(tr.f(
            "sla.reapply_queued",
            &[("n", n), ("v", &p.version.to_string())],
        )),
        _ => None,
    };
    edit_page(&state, &a, Some(&p), &Input::from_record(&p), saved, None).await
}

pub async fn update(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let p = load(&state, &id).await?;
    let input = Input::from_form(&form);
    let outcome = match input.to_policy(tr) {
        Ok(new) => match state.store.update_sla_policy(p.id, &new).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => return Err(WebError::not_found()),
            Err(e) => Err(store_message(tr, e)?),
        },
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/admin/sla/{}?saved=1", p.id)).into_response()),
        Err(msg) => edit_page(&state, &a, Some(&p), &input, None, Some(msg)).await,
    }
}

/// `POST /admin/sla/{id}/reapply`: queues the bulk re-apply of the current version
/// (`sla_timers::queue_reapply`) and comes back to the policy with how many tickets.
pub async fn reapply(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let p = load(&state, &id).await?;
    let n =
        crate::sla_timers::queue_reapply(state.store.as_ref(), p.id, p.version, a.agent.id).await?;
    Ok(Redirect::to(&format!("/admin/sla/{}?reapplied={n}", p.id)).into_response())
}
