//! SLA in the agent workspace: the clocks panel of the ticket page (with "re-apply
//! policy"), the SLA cell of ticket lists, and the supervisor page of upcoming breaches
//! (`/agent/sla`: a team × tier matrix and the list grouped by team and tier).
//!
//! Countdowns ("due in 1 h 20 min", "overdue by 12 min") are rendered here and refreshed
//! in the browser every 30 s by `static/app.js`, which reads the `data-due` instant (RFC
//! 3339) of each countdown and the words of the page's `#sla-words` element, and formats
//! the same way as [`span`]. A countdown is wall-clock time until the due instant, also
//! for clocks counted in business hours (that is when they breach).
//!
//! Who may: every agent sees clocks; the supervisor page and re-applying a policy are for
//! supervisors and admins ([`may_supervise`]), others get 403.
//!
//! Performance: a ticket list costs one `tickets_sla` query for the whole page (plus
//! `list_calendars` only when a running clock counts business hours); the supervisor page
//! one `upcoming_breaches` query, teams and agents.

use super::{
    form::{FormData, parse_id},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, render, stamp},
    session::AgentCtx,
    views::Opt,
};
use crate::AppState;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect},
};
use jiff::SignedDuration;
use kefu_domain::sla::{SlaClock, TicketSla};
use kefu_domain::{
    Calendar, CalendarId, ClockState, Metric, TeamId, Ticket, TicketId, Timestamp,
    authz::Permission,
};
use std::collections::{HashMap, HashSet};

/// Supervisors and admins watch SLAs and re-apply policies (`Permission::Supervise`).
pub fn may_supervise(a: &AgentCtx) -> bool {
    a.may(Permission::Supervise)
}

fn require_supervisor(a: &AgentCtx) -> Result<(), WebError> {
    if may_supervise(a) {
        Ok(())
    } else {
        Err(WebError::forbidden())
    }
}

/// A duration in words, by whole minutes: "less than 1 min", "12 min", "1 h 20 min",
/// "2 d 3 h". `static/app.js` formats the same way.
pub fn span(tr: Tr, secs: i64) -> String {
    let m = secs.max(0) / 60;
    let n = |v: i64| v.to_string();
    match m {
        0 => tr.t("sla.dur.lt_min").to_string(),
        m if m < 60 => tr.f("sla.dur.m", &[("n", &n(m))]),
        m if m < 1440 && m % 60 == 0 => tr.f("sla.dur.h", &[("h", &n(m / 60))]),
        m if m < 1440 => tr.f("sla.dur.hm", &[("h", &n(m / 60)), ("m", &n(m % 60))]),
        m if m % 1440 / 60 == 0 => tr.f("sla.dur.d", &[("d", &n(m / 1440))]),
        m => tr.f(
            "sla.dur.dh",
            &[("d", &n(m / 1440)), ("h", &n(m % 1440 / 60))],
        ),
    }
}

/// "due in 1 h 20 min" or "overdue by 12 min", from `now` to `due`.
fn countdown(tr: Tr, due: Timestamp, now: Timestamp) -> String {
    let secs = due.duration_since(now).as_secs();
    if secs >= 0 {
        tr.f("sla.due_in", &[("t", &span(tr, secs))])
    } else {
        tr.f("sla.overdue", &[("t", &span(tr, -secs))])
    }
}

/// An instant as RFC 3339 in UTC, for `data-due`.
fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// How urgent a clock looks: `red` (breached and not fulfilled, or past its due time
/// before the timer recorded the breach), `amber` (due within an hour or at least 75 % of
/// the target used), `neutral`, or `done` (fulfilled).
fn urgency(c: &SlaClock, now: Timestamp, cal: Option<&Calendar>) -> &'static str {
    let overdue = c.is_running() && c.due.is_some_and(|d| d <= now);
    if (c.breached_at.is_some() || overdue) && !c.is_finished() {
        return "red";
    }
    if c.is_finished() {
        return "done";
    }
    let used = c.elapsed_at(now, cal);
    let soon = c
        .due
        .is_some_and(|d| d.duration_since(now) <= SignedDuration::from_mins(60));
    if soon || used.as_secs() * 100 >= c.target.as_secs() * 75 {
        "amber"
    } else {
        "neutral"
    }
}

/// One clock on the ticket page.
#[derive(Debug, Clone)]
pub struct ClockView {
    pub metric: &'static str,
    pub label: &'static str,
    /// `active`, `paused`, `achieved` or `breached` (the badge's class).
    pub state: &'static str,
    pub state_label: &'static str,
    /// "Target 4 h (business hours)".
    pub target: String,
    /// The countdown, or how long it took.
    pub text: String,
    /// RFC 3339 due instant of a running clock (refreshed by the browser).
    pub due: Option<String>,
    pub title: String,
    pub urgency: &'static str,
}

fn clock_view(tr: Tr, c: &SlaClock, now: Timestamp, cal: Option<&Calendar>) -> ClockView {
    let target = span(tr, c.target.as_secs());
    let text = if c.is_finished() {
        tr.f("sla.took", &[("t", &span(tr, c.elapsed.as_secs()))])
    } else if let Some(due) = c.due {
        countdown(tr, due, now)
    } else if c.is_running() {
        tr.t("sla.no_due").to_string()
    } else {
        let left = (c.target - c.elapsed).as_secs();
        if left >= 0 {
            tr.f("sla.paused_left", &[("t", &span(tr, left))])
        } else {
            tr.f("sla.paused_over", &[("t", &span(tr, -left))])
        }
    };
    ClockView {
        metric: c.metric.as_str(),
        label: tr.t(&format!("sla.metric.{}", c.metric)),
        state: c.state.as_str(),
        state_label: tr.t(&format!("sla.state.{}", c.state)),
        target: if c.business {
            tr.f("sla.target_business", &[("t", &target)])
        } else {
            tr.f("sla.target", &[("t", &target)])
        },
        text,
        due: c.due.filter(|_| c.is_running()).map(rfc3339),
        title: c.due.map(stamp).unwrap_or_default(),
        urgency: urgency(c, now, cal),
    }
}

/// The business calendars of the running clocks among `clocks` (for "75 % used").
async fn calendars_for<'a>(
    state: &AppState,
    clocks: impl Iterator<Item = &'a SlaClock>,
) -> WebResult<HashMap<CalendarId, Calendar>> {
    let needed: HashSet<CalendarId> = clocks
        .filter(|c| c.business && c.is_running())
        .filter_map(|c| c.calendar_id)
        .collect();
    let mut out = HashMap::new();
    if needed.is_empty() {
        return Ok(out);
    }
    for rec in state.store.list_calendars().await? {
        if !needed.contains(&rec.id) {
            continue;
        }
        match kefu_store::sla_json::calendar_from_record(&rec) {
            Ok(cal) => {
                out.insert(rec.id, cal);
            }
            // Measured in calendar time instead; the page still shows.
            Err(e) => tracing::warn!(calendar = rec.id.0, error = %e, "calendar does not build"),
        }
    }
    Ok(out)
}

/// The SLA panel of the ticket page.
#[derive(Debug, Clone, Default)]
pub struct SlaPanel {
    /// "Standard support · version 2".
    pub policy: Option<String>,
    /// Set when the policy has a newer version than the one the ticket runs under.
    pub outdated: Option<String>,
    pub clocks: Vec<ClockView>,
    pub can_reapply: bool,
}

pub async fn panel(
    state: &AppState,
    a: &AgentCtx,
    sla: Option<TicketSla>,
    now: Timestamp,
) -> WebResult<SlaPanel> {
    let tr = a.ctx.tr;
    let sla = sla.unwrap_or_default();
    let mut p = SlaPanel {
        can_reapply: may_supervise(a),
        ..Default::default()
    };
    if let Some((id, version)) = sla.policy {
        let record = state.store.get_sla_policy(id).await?;
        let name = record
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_else(|| tr.f("sla.policy_unknown", &[("id", &id.0.to_string())]));
        p.policy = Some(tr.f(
            "sla.policy_version",
            &[("name", &name), ("n", &version.to_string())],
        ));
        p.outdated = record
            .filter(|r| r.version != version)
            .map(|r| tr.f("sla.policy_outdated", &[("n", &r.version.to_string())]));
    }
    let cals = calendars_for(state, sla.clocks.iter()).await?;
    p.clocks = sla
        .clocks
        .iter()
        .map(|c| clock_view(tr, c, now, c.calendar_id.and_then(|id| cals.get(&id))))
        .collect();
    Ok(p)
}

/// `POST /agent/tickets/{id}/sla/reapply`: the matching policy's current version.
pub async fn reapply(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    require_supervisor(&a)?;
    let id = TicketId(parse_id(&id)?);
    match state.store.reapply_sla(id, a.actor()).await? {
        Some(_) => Ok(Redirect::to(&format!("/agent/tickets/{id}#sla-panel")).into_response()),
        None => Err(WebError::not_found()),
    }
}

/// The SLA column of a ticket list: the soonest running clock (not `tier_time`).
#[derive(Debug, Clone)]
pub struct SlaCell {
    pub text: String,
    pub metric_label: &'static str,
    pub due: Option<String>,
    pub title: String,
    pub urgency: &'static str,
}

fn cell(
    tr: Tr,
    clocks: &[SlaClock],
    now: Timestamp,
    cals: &HashMap<CalendarId, Calendar>,
) -> Option<SlaCell> {
    let promises = || clocks.iter().filter(|c| c.metric != Metric::TierTime);
    if let Some(c) = promises()
        .filter(|c| c.is_running() && c.due.is_some())
        .min_by_key(|c| c.due)
    {
        let v = clock_view(tr, c, now, c.calendar_id.and_then(|id| cals.get(&id)));
        return Some(SlaCell {
            text: v.text,
            metric_label: v.label,
            due: v.due,
            title: v.title,
            urgency: v.urgency,
        });
    }
    // Nothing running: a breach still waiting for its answer, else a paused clock.
    let (c, urgency) = match promises().find(|c| c.breached_at.is_some() && !c.is_finished()) {
        Some(c) => (c, "red"),
        None => (
            promises().find(|c| c.state == ClockState::Paused)?,
            "neutral",
        ),
    };
    Some(SlaCell {
        text: tr.t(&format!("sla.state.{}", c.state)).to_string(),
        metric_label: tr.t(&format!("sla.metric.{}", c.metric)),
        due: None,
        title: String::new(),
        urgency,
    })
}

/// SLA cells for a page of tickets, in one query.
pub async fn cells(
    state: &AppState,
    tr: Tr,
    tickets: &[Ticket],
    now: Timestamp,
) -> WebResult<HashMap<TicketId, SlaCell>> {
    if tickets.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
    let clocks = state.store.tickets_sla(&ids).await?;
    let cals = calendars_for(state, clocks.values().flatten()).await?;
    Ok(clocks
        .iter()
        .filter_map(|(t, c)| cell(tr, c, now, &cals).map(|cell| (*t, cell)))
        .collect())
}

// ---- the supervisor page ----

/// Hours ahead the page can look.
const WINDOWS: [i64; 3] = [1, 4, 24];
/// At most this many clocks on the page.
const LIMIT: u32 = 500;

pub struct MatrixCell {
    pub tier: u8,
    pub count: usize,
    /// 0 (none) to 4 (the busiest cell): the heat class.
    pub heat: usize,
    pub anchor: String,
    pub label: String,
}

pub struct MatrixRow {
    pub team: String,
    pub cells: Vec<MatrixCell>,
    pub total: usize,
    /// Width of the total's bar, 0–100.
    pub bar: usize,
}

pub struct BreachItem {
    pub ticket_id: i64,
    pub number: i64,
    pub subject: String,
    pub metric_label: &'static str,
    pub assignee: String,
    pub text: String,
    pub due: String,
    pub title: String,
    pub urgency: &'static str,
}

pub struct TierGroup {
    pub label: String,
    pub anchor: String,
    pub items: Vec<BreachItem>,
}

pub struct TeamGroup {
    pub team: String,
    pub count: usize,
    pub tiers: Vec<TierGroup>,
}

#[derive(Template)]
#[template(path = "agent/sla.html")]
struct SupervisorPage {
    tr: Tr,
    chrome: Chrome,
    windows: Vec<Opt>,
    summary: String,
    tier_heads: Vec<String>,
    matrix: Vec<MatrixRow>,
    tier_totals: Vec<usize>,
    total: usize,
    groups: Vec<TeamGroup>,
    truncated: Option<String>,
}

fn heat(count: usize, max: usize) -> usize {
    if count == 0 || max == 0 {
        0
    } else {
        (count * 4).div_ceil(max).clamp(1, 4)
    }
}

/// `GET /agent/sla?hours=1|4|24`: clocks due within the window, by team and tier.
pub async fn supervisor(
    State(state): State<AppState>,
    a: AgentCtx,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    require_supervisor(&a)?;
    let tr = a.ctx.tr;
    let hours = q
        .get("hours")
        .and_then(|h| h.parse::<i64>().ok())
        .filter(|h| WINDOWS.contains(h))
        .unwrap_or(4);
    let now = Timestamp::now();
    let before = now + SignedDuration::from_hours(hours);
    let s = &state.store;
    let any = kefu_store::UpcomingFilter::default();
    let (list, teams, agents) = tokio::join!(
        s.upcoming_breaches(before, &any, LIMIT),
        s.list_teams(),
        s.list_agents()
    );
    let (list, teams, agents) = (list?, teams?, agents?);
    let agent_names: HashMap<_, _> = agents.iter().map(|x| (x.id, x.name.clone())).collect();
    let cals = calendars_for(&state, list.iter().map(|b| &b.clock)).await?;

    // Rows: every team in the store's order, then "no team" (and teams that are gone).
    let mut keys: Vec<Option<TeamId>> = teams.iter().map(|t| Some(t.id)).collect();
    keys.push(None);
    for b in &list {
        if !keys.contains(&b.ticket.team_id) {
            keys.push(b.ticket.team_id);
        }
    }
    let team_name = |k: Option<TeamId>| match k {
        Some(id) => teams
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| format!("#{id}")),
        None => tr.t("ticket.no_team").to_string(),
    };
    let anchor = |k: Option<TeamId>, tier: u8| {
        format!(
            "g-{}-{tier}",
            k.map(|t| t.0.to_string()).unwrap_or("none".into())
        )
    };
    let count = |k: Option<TeamId>, tier: u8| {
        list.iter()
            .filter(|b| b.ticket.team_id == k && b.ticket.tier.get() == tier)
            .count()
    };
    let max_cell = keys
        .iter()
        .flat_map(|k| (1..=4).map(|tier| count(*k, tier)))
        .max()
        .unwrap_or(0);
    let max_row = keys
        .iter()
        .map(|k| list.iter().filter(|b| b.ticket.team_id == *k).count())
        .max()
        .unwrap_or(0);
    let matrix: Vec<MatrixRow> = keys
        .iter()
        .filter(|k| k.is_some() || list.iter().any(|b| b.ticket.team_id.is_none()))
        .map(|&k| {
            let team = team_name(k);
            let cells: Vec<MatrixCell> = (1..=4u8)
                .map(|tier| {
                    let n = count(k, tier);
                    MatrixCell {
                        tier,
                        count: n,
                        heat: heat(n, max_cell),
                        anchor: anchor(k, tier),
                        label: tr.f(
                            "sla.board.cell",
                            &[
                                ("team", &team),
                                ("tier", &tier.to_string()),
                                ("n", &n.to_string()),
                            ],
                        ),
                    }
                })
                .collect();
            let total: usize = cells.iter().map(|c| c.count).sum();
            MatrixRow {
                bar: (total * 100).checked_div(max_row).unwrap_or(0),
                team,
                cells,
                total,
            }
        })
        .collect();
    let tier_totals = (1..=4u8)
        .map(|tier| list.iter().filter(|b| b.ticket.tier.get() == tier).count())
        .collect();

    let groups = keys
        .iter()
        .filter_map(|&k| {
            let tiers: Vec<TierGroup> = (1..=4u8)
                .filter_map(|tier| {
                    let items: Vec<BreachItem> = list
                        .iter()
                        .filter(|b| b.ticket.team_id == k && b.ticket.tier.get() == tier)
                        .map(|b| {
                            let c = &b.clock;
                            let v =
                                clock_view(tr, c, now, c.calendar_id.and_then(|id| cals.get(&id)));
                            BreachItem {
                                ticket_id: b.ticket.id.0,
                                number: b.ticket.number,
                                subject: b.ticket.subject.clone(),
                                metric_label: v.label,
                                assignee: match b.ticket.assignee_id {
                                    Some(id) => agent_names
                                        .get(&id)
                                        .cloned()
                                        .unwrap_or_else(|| format!("#{id}")),
                                    None => tr.t("ticket.unassigned").to_string(),
                                },
                                text: v.text,
                                due: v.due.unwrap_or_default(),
                                title: v.title,
                                urgency: v.urgency,
                            }
                        })
                        .collect();
                    (!items.is_empty()).then(|| TierGroup {
                        label: tr.f("sla.tier_n", &[("n", &tier.to_string())]),
                        anchor: anchor(k, tier),
                        items,
                    })
                })
                .collect();
            (!tiers.is_empty()).then(|| TeamGroup {
                team: team_name(k),
                count: tiers.iter().map(|t| t.items.len()).sum(),
                tiers,
            })
        })
        .collect();

    let page = SupervisorPage {
        tr,
        chrome: a.ctx.chrome(tr.t("sla.board.title"), "sla"),
        windows: WINDOWS
            .iter()
            .map(|h| {
                Opt::new(
                    h.to_string(),
                    tr.t(&format!("sla.board.next_{h}")),
                    *h == hours,
                )
            })
            .collect(),
        summary: tr.f("sla.board.count", &[("n", &list.len().to_string())]),
        tier_heads: (1..=4)
            .map(|n| tr.f("sla.tier_n", &[("n", &n.to_string())]))
            .collect(),
        matrix,
        tier_totals,
        total: list.len(),
        groups,
        truncated: (list.len() >= LIMIT as usize)
            .then(|| tr.f("sla.board.truncated", &[("n", &LIMIT.to_string())])),
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::Lang;

    #[test]
    fn every_key_built_at_run_time_exists() {
        let tr = Tr(Lang::ZhTw);
        let mut keys: Vec<String> = WINDOWS
            .iter()
            .map(|h| format!("sla.board.next_{h}"))
            .collect();
        keys.extend(Metric::ALL.iter().map(|m| format!("sla.metric.{m}")));
        keys.extend(ClockState::ALL.iter().map(|s| format!("sla.state.{s}")));
        for k in keys {
            assert_ne!(tr.t(&k), k, "missing {k}");
        }
    }

    #[test]
    fn durations_read_as_minutes_hours_and_days() {
        let en = Tr(Lang::En);
        assert_eq!(span(en, 30), "less than 1 min");
        assert_eq!(span(en, 12 * 60 + 59), "12 min");
        assert_eq!(span(en, 80 * 60), "1 h 20 min");
        assert_eq!(span(en, 120 * 60), "2 h");
        assert_eq!(span(en, (2 * 1440 + 3 * 60) * 60), "2 d 3 h");
        assert_eq!(span(en, 1440 * 60), "1 d");
        assert_eq!(span(Tr(Lang::ZhCn), 80 * 60), "1 小时 20 分钟");
        assert_eq!(span(Tr(Lang::ZhTw), 80 * 60), "1 小時 20 分鐘");
    }

    fn running(target_min: i64, elapsed_min: i64, due_in_min: i64, now: Timestamp) -> SlaClock {
        SlaClock {
            metric: Metric::FirstReply,
            state: ClockState::Active,
            target: SignedDuration::from_mins(target_min),
            business: false,
            calendar_id: None,
            warn_at: vec![],
            started_at: now,
            elapsed: SignedDuration::from_mins(elapsed_min),
            since: Some(now),
            due: Some(now + SignedDuration::from_mins(due_in_min)),
            warned: 0,
            breached_at: None,
            fulfilled_at: None,
            next_fire: None,
        }
    }

    #[test]
    fn countdowns_colour_by_time_left_and_share_used() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let en = Tr(Lang::En);
        let c = running(600, 0, 600, now);
        let v = clock_view(en, &c, now, None);
        assert_eq!(v.text, "due in 10 h");
        assert_eq!(v.urgency, "neutral");
        assert_eq!(v.due.as_deref(), Some("2023-11-15T08:13:20Z"));
        assert_eq!(urgency(&running(600, 0, 59, now), now, None), "amber");
        assert_eq!(urgency(&running(600, 450, 150, now), now, None), "amber");
        let late = running(60, 72, -12, now);
        assert_eq!(
            urgency(&late, now, None),
            "red",
            "past due, timer not yet run"
        );
        let mut late = late;
        late.state = ClockState::Breached;
        late.breached_at = Some(now);
        let v = clock_view(en, &late, now, None);
        assert_eq!((v.text.as_str(), v.urgency), ("overdue by 12 min", "red"));
        let mut paused = running(60, 25, 0, now);
        paused.since = None;
        paused.due = None;
        paused.state = ClockState::Paused;
        let v = clock_view(en, &paused, now, None);
        assert_eq!(v.text, "paused — 35 min left");
        assert!(v.due.is_none());
        let mut done = paused.clone();
        done.state = ClockState::Achieved;
        done.fulfilled_at = Some(now);
        assert_eq!(clock_view(en, &done, now, None).text, "took 25 min");
    }

    #[test]
    fn the_list_cell_shows_the_soonest_running_promise() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let en = Tr(Lang::En);
        let mut tier = running(10, 0, 5, now);
        tier.metric = Metric::TierTime;
        let mut resolution = running(600, 0, 300, now);
        resolution.metric = Metric::Resolution;
        let first = running(120, 0, 90, now);
        let c = cell(en, &[tier, resolution, first], now, &HashMap::new()).unwrap();
        assert_eq!(c.metric_label, "First reply");
        assert_eq!(c.text, "due in 1 h 30 min");
        assert!(cell(en, &[], now, &HashMap::new()).is_none());
        assert_eq!(heat(0, 5), 0);
        assert_eq!(heat(1, 5), 1);
        assert_eq!(heat(5, 5), 4);
    }
}
