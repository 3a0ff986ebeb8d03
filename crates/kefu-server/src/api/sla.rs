//! SLA over the API: policies (admins write, every agent reads; a changed definition is a
//! new version), a ticket's clocks (agents), re-applying the matching policy to a ticket
//! and the list of breaches coming up (supervisors and admins), and the `sla` filter of
//! the ticket list.
//!
//! A policy on the wire is its record (`id`, `name`, `position`, `active`, `version`,
//! timestamps) plus its definition in the one JSON shape of `kefu_store::sla_json` (the
//! shape it is stored in): requests are read by `policy_from_json`, whose errors name the
//! path of the mistake (`targets[2].metric`), and responses are written by
//! `policy_to_json`. The OpenAPI schemas below describe that same shape, so that every
//! request they allow is read and every one they forbid is refused; what depends on more
//! than one field (a second target for one metric and priority, business time without a
//! calendar, references to records that must exist) is a 422 with the path.
//!
//! Clocks are shown as the store keeps them, with the time counted so far measured now
//! (business clocks in their calendar) for running clocks.
//!
//! Never does: SLA rules (`kefu_domain::sla`), SQL, or firing timers (`crate::sla_timers`).

use crate::AppState;
use crate::api::constraints::{DisplayName, TagText};
use crate::api::dto::{ChannelName, ErrorBody, PriorityName, SegmentName, TypeName, ts};
use crate::api::extract::{ApiJson, ApiPath, ApiQuery, int};
use crate::api::tickets::visible_ticket;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use axum::{Json, extract::State, http::StatusCode};
use jiff::{SignedDuration, Timestamp};
use kefu_domain::authz::Permission;
use kefu_domain::sla::{MAX_TARGET_MINUTES, PROMISES, SlaClock, TicketSla};
use kefu_domain::{
    Calendar, CalendarId, ClockState, DomainError, Metric, SlaPolicyId, Status, TeamId, TicketId,
    Tier, parse_name,
};
use kefu_store::sla_json::{policy_from_json, policy_to_json};
use kefu_store::{NewSlaPolicy, SlaFilter, SlaPolicyRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The longest look-ahead of `within_minutes` and `sla_within_minutes`: a year, the
/// longest target a policy accepts.
pub const MAX_WITHIN_MINUTES: u32 = MAX_TARGET_MINUTES;
/// Longest policy description (before trimming; the domain counts after).
pub const MAX_DESCRIPTION: usize = 2000;
/// Policy positions: small enough that "after the last" never overflows.
pub const MAX_POSITION: i64 = 1_000_000;
/// Most items one page of upcoming breaches holds (the store's own limit).
pub const MAX_UPCOMING: u32 = 1000;

/// Statuses that may pause a clock (`solved` and `closed` stop every clock).
const PAUSE_STATUSES: [Status; 4] = [Status::New, Status::Open, Status::Pending, Status::Hold];

// ---------- OpenAPI ----------

#[derive(OpenApi)]
#[openapi(
    paths(list_policies, create_policy, get_policy, replace_policy, reapply_policy, ticket_sla, reapply, upcoming),
    components(schemas(
        SlaMetricName, ClockStateName, SlaConditions, SlaTargetSpec, SlaPauses, SlaLadder,
        SlaLadderStep, SlaAction, SlaPolicyRequest, SlaPolicy, SlaPolicyList, DisplayName,
        TagText, PriorityName, TypeName, ChannelName, SegmentName,
    )),
    tags((name = "sla", description = "SLA policies (targets, pauses, warnings, escalation \
        ladders), the clocks of a ticket, and breaches coming up")),
)]
pub struct SlaApiDoc;

macro_rules! named_schema {
    ($($(#[$m:meta])* $name:ident => $schema:expr;)*) => {$(
        $(#[$m])*
        pub struct $name;
        impl $name {
            /// The schema as JSON.
            pub fn json() -> Value {
                $schema
            }
        }
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                crate::api::constraints::schema(Self::json())
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

fn to(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// `schema` or `null` (null means the default).
fn or_null(schema: Value) -> Value {
    json!({"oneOf": [schema, {"type": "null"}]})
}

/// An array of `items` (at most `max`), or `null` (none).
fn list(items: Value, max: Option<usize>) -> Value {
    let mut v = json!({"type": ["array", "null"], "items": items});
    if let Some(max) = max {
        v["maxItems"] = json!(max);
    }
    v
}

fn id_list() -> Value {
    list(json!({"type": "integer", "format": "int64"}), None)
}

fn minutes() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_TARGET_MINUTES})
}

fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

/// The definition's fields, as a request sends them and a response returns them.
fn definition_properties() -> Map<String, Value> {
    let v = json!({
        "description": {
            "type": ["string", "null"], "maxLength": MAX_DESCRIPTION,
            "description": "Free text, at most 2000 characters (default empty)."
        },
        "calendar_id": {
            "type": ["integer", "null"], "format": "int64",
            "description": "The business calendar of targets and ladder steps with `business: true` (required if there is one)."
        },
        "conditions": or_null(to("SlaConditions")),
        "targets": list(to("SlaTargetSpec"), Some(200)),
        "pauses": or_null(to("SlaPauses")),
        "warn_at": list(json!({"type": "integer", "minimum": 1, "maximum": 99}), Some(10)),
        "ladders": list(to("SlaLadder"), Some(3)),
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!("a JSON object"),
    }
}

fn policy_request_schema() -> Value {
    let mut props = definition_properties();
    props.insert("name".into(), to("DisplayName"));
    props.insert(
        "position".into(),
        json!({"type": ["integer", "null"], "minimum": 0, "maximum": MAX_POSITION,
            "description": "Policies are tried by ascending position (then id); the first whose \
                conditions match applies. Default: after the last (create), unchanged (replace)."}),
    );
    props.insert(
        "active".into(),
        json!({"type": "boolean", "description": "Default true. Inactive policies are never chosen."}),
    );
    json!({
        "type": "object", "additionalProperties": false, "required": ["name"],
        "description": "A whole policy, to create one or replace one in full. Fields left out \
            take their defaults.",
        "properties": props,
    })
}

fn policy_schema() -> Value {
    let mut props = definition_properties();
    for (k, v) in [
        ("id", json!({"type": "integer", "format": "int64"})),
        ("name", json!({"type": "string"})),
        ("position", json!({"type": "integer", "format": "int64"})),
        ("active", json!({"type": "boolean"})),
        (
            "version",
            json!({"type": "integer", "format": "int64",
                "description": "1 when created, +1 whenever the definition changes. Tickets keep the version they started with until re-applied."}),
        ),
        (
            "created_at",
            json!({"type": "string", "format": "date-time"}),
        ),
        (
            "updated_at",
            json!({"type": "string", "format": "date-time"}),
        ),
    ] {
        props.insert(k.into(), v);
    }
    let required: Vec<String> = props.keys().cloned().collect();
    json!({"type": "object", "properties": props, "required": required})
}

fn action_schema() -> Value {
    let variant = |action: Value, extra: Option<(&str, Value)>| {
        let mut props = json!({"action": action});
        let mut required = vec!["action"];
        if let Some((k, v)) = extra {
            props[k] = v;
            required.push(k);
        }
        json!({"type": "object", "additionalProperties": false, "required": required,
            "properties": props})
    };
    let recipients = names(&kefu_domain::sla::Recipient::ALL, |r| r.as_str());
    json!({
        "description": "One thing an escalation step does: `notify` (`to`), `assign_team` \
            (`team_id`; unassigns the agent), `raise_tier` (up to 4), `raise_priority` (up to \
            urgent), `add_tag` (`tag`).",
        "oneOf": [
            variant(json!({"type": "string", "enum": ["notify"]}), Some(("to", json!({"type": "string", "enum": recipients})))),
            variant(json!({"type": "string", "enum": ["assign_team"]}), Some(("team_id", json!({"type": "integer", "format": "int64"})))),
            variant(json!({"type": "string", "enum": ["raise_tier", "raise_priority"]}), None),
            variant(json!({"type": "string", "enum": ["add_tag"]}), Some(("tag", to("TagText")))),
        ]
    })
}

named_schema! {
    /// Every SLA metric.
    SlaMetricName => json!({
        "type": "string", "enum": names(kefu_domain::Metric::ALL, Metric::as_str),
        "description": "What an SLA clock measures. `tier_time` is the processing time at the \
            ticket's tier (set by ladder steps' `max_minutes`), not a promise to the customer."
    });
    /// Where a clock stands.
    ClockStateName => json!({
        "type": "string", "enum": names(ClockState::ALL, ClockState::as_str),
        "description": "`active` (running), `paused`, `achieved` (fulfilled in time) or \
            `breached` (stays breached when later fulfilled)."
    });
    SlaConditions => json!({
        "type": "object", "additionalProperties": false,
        "description": "Which tickets a policy applies to. An empty or missing list means any; \
            every non-empty list must match (`tags`: the ticket has one of them; `segments`: the \
            requester's segment or their organization's).",
        "properties": {
            "priorities": list(to("PriorityName"), None),
            "types": list(to("TypeName"), None),
            "channels": list(to("ChannelName"), None),
            "segments": list(to("SegmentName"), None),
            "organization_ids": id_list(),
            "team_ids": id_list(),
            "tags": list(to("TagText"), None),
        }
    });
    SlaTargetSpec => json!({
        "type": "object", "additionalProperties": false,
        "required": ["metric", "priority", "minutes"],
        "description": "A promise: `metric` for tickets of `priority` within `minutes`, counted \
            in the policy's business calendar if `business` (default false: around the clock). \
            At most one target per metric and priority.",
        "properties": {
            "metric": {"type": "string", "enum": names(&PROMISES, Metric::as_str)},
            "priority": to("PriorityName"),
            "minutes": minutes(),
            "business": {"type": ["boolean", "null"]},
        }
    });
    SlaPauses => {
        let statuses = json!({"type": "array",
            "items": {"type": "string", "enum": names(&PAUSE_STATUSES, Status::as_str)}});
        let props: Map<String, Value> = kefu_domain::Metric::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), statuses.clone()))
            .collect();
        json!({
            "type": "object", "additionalProperties": false, "properties": props,
            "description": "Per metric, the statuses that pause it (an empty list: none); \
                metrics left out keep their defaults (pending pauses `requester_wait` and \
                `tier_time`; pending and hold pause `agent_work` and `pausable_update`)."
        })
    };
    SlaLadder => json!({
        "type": "object", "additionalProperties": false,
        "description": "What happens at each tier: `default`, or for `complaint` tickets, or \
            for `vip` requesters (VIP or key-account segment). At most one ladder per kind.",
        "properties": {
            "kind": {"type": ["string", "null"], "enum": ["default", "complaint", "vip", null]},
            "steps": list(to("SlaLadderStep"), Some(4)),
        }
    });
    SlaLadderStep => json!({
        "type": "object", "additionalProperties": false, "required": ["tier"],
        "description": "One tier of a ladder (one step per tier): the longest a ticket may stay \
            at it (the `tier_time` clock), and what runs on a warning or a breach there. At most \
            20 actions per step.",
        "properties": {
            "tier": {"type": "integer", "minimum": 1, "maximum": 4},
            "max_minutes": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TARGET_MINUTES},
            "business": {"type": ["boolean", "null"]},
            "on_warn": list(to("SlaAction"), Some(20)),
            "on_breach": list(to("SlaAction"), Some(20)),
        }
    });
    SlaAction => action_schema();
    SlaPolicyRequest => policy_request_schema();
    SlaPolicy => policy_schema();
    SlaPolicyList => json!({
        "type": "object", "required": ["items"],
        "properties": {"items": {"type": "array", "items": to("SlaPolicy"),
            "description": "In the order they are tried: position, then id."}}
    });
}

// ---------- wire types of clocks ----------

/// The policy a ticket's clocks run under.
#[derive(Serialize, ToSchema)]
pub struct SlaPolicyRef {
    pub id: i64,
    /// The version the ticket runs under (policies may have newer ones).
    pub version: i64,
    /// The policy's current name.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct SlaClockDto {
    #[schema(value_type = SlaMetricName)]
    pub metric: String,
    #[schema(value_type = ClockStateName)]
    pub state: String,
    pub target_minutes: i64,
    /// Counted in the policy's business calendar.
    pub business: bool,
    /// When this instance started (e.g. the customer message awaiting a reply).
    #[schema(format = DateTime)]
    pub started_at: String,
    /// When it breaches (or breached) if it keeps running; null while paused or finished.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    /// Time counted so far (business time for business clocks), measured now.
    pub elapsed_seconds: i64,
    /// `due_at` minus now for running clocks (negative once overdue); null otherwise.
    pub remaining_seconds: Option<i64>,
    #[schema(format = DateTime)]
    pub breached_at: Option<String>,
    #[schema(format = DateTime)]
    pub fulfilled_at: Option<String>,
    /// How many of the policy's warning percentages have fired.
    pub warnings_fired: u8,
}

#[derive(Serialize, ToSchema)]
pub struct TicketSlaDto {
    /// Null if no policy applies to the ticket.
    pub policy: Option<SlaPolicyRef>,
    /// Ordered by metric; `tier_time` included.
    pub clocks: Vec<SlaClockDto>,
}

#[derive(Serialize, ToSchema)]
pub struct UpcomingBreachDto {
    pub ticket_id: i64,
    pub number: i64,
    pub subject: String,
    #[schema(value_type = PriorityName)]
    pub priority: String,
    pub team_id: Option<i64>,
    pub tier: u8,
    pub assignee_id: Option<i64>,
    #[schema(value_type = SlaMetricName)]
    pub metric: String,
    #[schema(format = DateTime)]
    pub due_at: String,
    /// Negative once overdue.
    pub remaining_seconds: i64,
}

#[derive(Serialize, ToSchema)]
pub struct UpcomingBreachList {
    /// Soonest first.
    pub items: Vec<UpcomingBreachDto>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpcomingQuery {
    /// Clocks due within this many minutes from now (default 240). Overdue clocks whose
    /// breach has not been recorded yet are included.
    #[param(minimum = 0, maximum = 527040)]
    pub within_minutes: Option<u32>,
    /// Only tickets of this team.
    pub team: Option<i64>,
    /// Only tickets at this tier (1–4).
    #[param(minimum = 1, maximum = 4)]
    pub tier: Option<i64>,
    /// At most this many clocks, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

// ---------- conversions ----------

/// The domain's errors name the top-level field and start their reason with the exact
/// path (`targets[0].metric : unknown value …`); the message is `path: reason`.
fn invalid(e: DomainError) -> ApiError {
    match e {
        DomainError::Invalid { field, reason } => {
            let message = match reason.split_once(' ') {
                Some((path, rest)) if path.starts_with(field) => format!(
                    "{}: {}",
                    path.trim_end_matches(':'),
                    rest.trim_start_matches(':').trim_start()
                ),
                _ => format!("{field}: {reason}"),
            };
            ApiError::invalid(message)
        }
        other => other.into(),
    }
}

/// A store error of a policy write: references that must exist name the field they are in.
fn store_error(e: kefu_store::StoreError) -> ApiError {
    use kefu_store::StoreError;
    match e {
        StoreError::Domain(d) => invalid(d),
        StoreError::InvalidReference(what) => ApiError::invalid(match what {
            "calendar" => "calendar_id: calendar does not exist".to_string(),
            "team" => {
                "conditions.team_ids or an assign_team action: team does not exist".to_string()
            }
            "organization" => {
                "conditions.organization_ids: organization does not exist".to_string()
            }
            other => format!("{other} does not exist"),
        }),
        other => other.into(),
    }
}

/// Reads a policy request: the record's fields here, the definition by `policy_from_json`.
fn new_policy(mut body: Map<String, Value>) -> ApiResult<NewSlaPolicy> {
    // A response has these; a request may not set them.
    if let Some(k) = ["id", "version", "created_at", "updated_at"]
        .into_iter()
        .find(|k| body.contains_key(*k))
    {
        return Err(ApiError::invalid(format!(
            "{k}: is set by the server; leave it out"
        )));
    }
    let name = match body.remove("name") {
        Some(Value::String(s)) => parse_name("name", &s)?,
        None => return Err(ApiError::invalid("name: is required")),
        Some(_) => return Err(ApiError::invalid("name: must be a string")),
    };
    let position = match body.remove("position") {
        None => None,
        Some(v) => match int::opt(v) {
            Ok(None) => None,
            Ok(Some(p @ 0..=MAX_POSITION)) => Some(p),
            _ => {
                return Err(ApiError::invalid(format!(
                    "position: must be an integer from 0 to {MAX_POSITION}"
                )));
            }
        },
    };
    let active = match body.remove("active") {
        None => true,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(ApiError::invalid("active: must be true or false")),
    };
    if let Some(Value::String(d)) = body.get("description")
        && d.chars().count() > MAX_DESCRIPTION
    {
        return Err(ApiError::invalid(format!(
            "description: must be at most {MAX_DESCRIPTION} characters"
        )));
    }
    let fields = definition_properties();
    if let Some(k) = body.keys().find(|k| !fields.contains_key(*k)) {
        let known: Vec<&str> = ["name", "position", "active"]
            .into_iter()
            .chain(fields.keys().map(String::as_str))
            .collect();
        return Err(ApiError::invalid(format!(
            "{k}: unknown field; expected {}",
            known.join(", ")
        )));
    }
    let mut body = Value::Object(body);
    integral_numbers(&mut body);
    let def = policy_from_json(&body).map_err(invalid)?;
    Ok(NewSlaPolicy {
        name,
        position,
        active,
        def,
    })
}

/// JSON Schema's `integer` admits integral numbers written with a fraction (`60.0`), and so
/// does the rest of the API (`extract::int`); the stored shape reads integers only.
fn integral_numbers(v: &mut Value) {
    // 2^63 is exactly representable; every integral f64 below it fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && (-LIMIT..LIMIT).contains(&f)
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(m) => m.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// A policy as the API returns it: the record's fields and the definition.
fn policy_json(p: &SlaPolicyRecord) -> Value {
    let mut v = policy_to_json(&p.def);
    for (k, x) in [
        ("id", json!(p.id.0)),
        ("name", json!(p.name)),
        ("position", json!(p.position)),
        ("active", json!(p.active)),
        ("version", json!(p.version)),
        ("created_at", json!(ts(p.created_at))),
        ("updated_at", json!(ts(p.updated_at))),
    ] {
        v[k] = x;
    }
    v
}

fn seconds(d: SignedDuration) -> i64 {
    d.as_secs()
}

fn clock_dto(c: &SlaClock, now: Timestamp, cal: Option<&Calendar>) -> SlaClockDto {
    SlaClockDto {
        metric: c.metric.to_string(),
        state: c.state.to_string(),
        target_minutes: c.target.as_secs() / 60,
        business: c.business,
        started_at: ts(c.started_at),
        due_at: c.due.map(ts),
        elapsed_seconds: seconds(c.elapsed_at(now, cal)),
        remaining_seconds: c
            .due
            .filter(|_| c.is_running())
            .map(|due| seconds(due.duration_since(now))),
        breached_at: c.breached_at.map(ts),
        fulfilled_at: c.fulfilled_at.map(ts),
        warnings_fired: c.warned,
    }
}

/// The calendars the running business clocks count in (a calendar that no longer exists
/// is left out: its clocks are then measured around the clock).
async fn calendars_of(
    state: &AppState,
    clocks: &[SlaClock],
) -> ApiResult<HashMap<CalendarId, Calendar>> {
    let mut out = HashMap::new();
    for id in clocks
        .iter()
        .filter(|c| c.business && c.is_running())
        .filter_map(|c| c.calendar_id)
    {
        if out.contains_key(&id) {
            continue;
        }
        if let Some(r) = state.store.get_calendar(id).await? {
            out.insert(id, crate::api::calendars::calendar(&r)?);
        }
    }
    Ok(out)
}

async fn ticket_sla_dto(state: &AppState, sla: &TicketSla) -> ApiResult<TicketSlaDto> {
    let policy = match sla.policy {
        Some((id, version)) => {
            let name = state
                .store
                .get_sla_policy(id)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            Some(SlaPolicyRef {
                id: id.0,
                version,
                name,
            })
        }
        None => None,
    };
    let calendars = calendars_of(state, &sla.clocks).await?;
    let now = Timestamp::now();
    let clocks = sla
        .clocks
        .iter()
        .map(|c| clock_dto(c, now, c.calendar_id.and_then(|id| calendars.get(&id))))
        .collect();
    Ok(TicketSlaDto { policy, clocks })
}

async fn load(state: &AppState, id: i64) -> ApiResult<SlaPolicyRecord> {
    state
        .store
        .get_sla_policy(SlaPolicyId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("SLA policy"))
}

fn within(field: &str, minutes: Option<u32>, default: u32) -> ApiResult<SignedDuration> {
    match minutes.unwrap_or(default) {
        m @ 0..=MAX_WITHIN_MINUTES => Ok(SignedDuration::from_mins(i64::from(m))),
        _ => Err(ApiError::invalid(format!(
            "{field}: must be 0 to {MAX_WITHIN_MINUTES}"
        ))),
    }
}

/// The ticket list's `sla` filter: `at_risk` (a running clock due within
/// `sla_within_minutes`, default 60) or `breached`. Agents only.
pub(crate) fn ticket_filter(
    caller: &Caller,
    sla: Option<&str>,
    within_minutes: Option<u32>,
) -> ApiResult<Option<SlaFilter>> {
    let window = within("sla_within_minutes", within_minutes, 60)?;
    let Some(sla) = sla else { return Ok(None) };
    caller.require(Permission::ReadWorkspace)?;
    match sla {
        "at_risk" => Ok(Some(SlaFilter::DueBefore(Timestamp::now() + window))),
        "breached" => Ok(Some(SlaFilter::Breached)),
        _ => Err(ApiError::invalid("sla: expected `at_risk` or `breached`")),
    }
}

/// The OpenAPI schema of the ticket list's `sla` parameter.
pub(crate) fn ticket_filter_schema() -> RefOr<Schema> {
    crate::api::constraints::schema(json!({
        "type": "string", "enum": ["at_risk", "breached"],
        "description": "`at_risk`: a running SLA clock is due within `sla_within_minutes`; \
            `breached`: an SLA clock breached and is not yet fulfilled. Agents only."
    }))
}

// ---------- handlers ----------

#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "sla",
    summary = "List SLA policies in the order they are tried (agents)",
    responses((status = 200, body = SlaPolicyList), (status = 403, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::ReadWorkspace)?;
    let items: Vec<Value> = state
        .store
        .list_sla_policies()
        .await?
        .iter()
        .map(policy_json)
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(post, path = "/api/v1/sla-policies", tag = "sla",
    summary = "Create an SLA policy (admins)",
    description = "Errors name the path of the mistake (`targets[0].metric: …`). A second \
        target for one metric and priority, business time without `calendar_id`, and a \
        calendar, team or organization that does not exist are 422 too.",
    request_body = SlaPolicyRequest,
    responses((status = 201, body = SlaPolicy), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Permission::Administer)?;
    let new = new_policy(body)?;
    let p = state
        .store
        .create_sla_policy(&new)
        .await
        .map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(policy_json(&p))))
}

#[utoipa::path(get, path = "/api/v1/sla-policies/{id}", tag = "sla",
    summary = "Get an SLA policy at its current version (agents)",
    params(("id" = i64, Path, description = "SLA policy id")),
    responses((status = 200, body = SlaPolicy), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::ReadWorkspace)?;
    Ok(Json(policy_json(&load(&state, id).await?)))
}

#[utoipa::path(put, path = "/api/v1/sla-policies/{id}", tag = "sla",
    summary = "Replace an SLA policy in full (admins)",
    description = "A changed definition becomes a new version; tickets keep the version they \
        run under until their SLA is re-applied. Name, position and the active flag change \
        without a new version.",
    params(("id" = i64, Path, description = "SLA policy id")),
    request_body = SlaPolicyRequest,
    responses((status = 200, body = SlaPolicy), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    caller.require(Permission::Administer)?;
    load(&state, id).await?;
    let new = new_policy(body)?;
    let p = state
        .store
        .update_sla_policy(SlaPolicyId(id), &new)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found("SLA policy"))?;
    Ok(Json(policy_json(&p)))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/sla", tag = "sla",
    summary = "A ticket's SLA policy and clocks (agents)",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketSlaDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn ticket_sla(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketSlaDto>> {
    // SLA is internal: customers never see it, whether the ticket is theirs or not.
    caller.require(Permission::ReadWorkspace)?;
    let ticket = visible_ticket(&state, &caller, id).await?;
    let sla = state.store.ticket_sla(ticket.id).await?.unwrap_or_default();
    Ok(Json(ticket_sla_dto(&state, &sla).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/sla/reapply", tag = "sla",
    summary = "Re-apply the matching SLA policy's current version to a ticket (supervisors, admins)",
    description = "Chooses the policy again (the first active one whose conditions match) and \
        moves the ticket to its current version; time already counted is kept.",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketSlaDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn reapply(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketSlaDto>> {
    caller.require(Permission::Supervise)?;
    let sla = state
        .store
        .reapply_sla(TicketId(id), caller.actor())
        .await?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok(Json(ticket_sla_dto(&state, &sla).await?))
}

/// A bulk re-apply, queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyReapply {
    pub policy_id: i64,
    /// The version the tickets move to: the policy's current one.
    pub version: i64,
    /// Open tickets under older versions when it was queued; 0 queues nothing.
    pub tickets_behind: i64,
}

#[utoipa::path(post, path = "/api/v1/sla-policies/{id}/reapply", tag = "sla",
    summary = "Move every open ticket under an older version of this policy to its current version (admins)",
    description = "Queued as a durable job that any node runs, a slice of tickets at a time; \
        each ticket is re-applied as by `POST /api/v1/tickets/{id}/sla/reapply` (the policy \
        is chosen again, time already counted is kept) and the history names the admin. \
        Answers 202 with how many tickets were behind; repeating it is harmless.",
    params(("id" = i64, Path, description = "SLA policy id")),
    responses((status = 202, body = PolicyReapply), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn reapply_policy(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<PolicyReapply>)> {
    caller.require(Permission::Administer)?;
    let p = load(&state, id).await?;
    let Some(agent) = caller.agent.as_ref() else {
        return Err(ApiError::forbidden());
    };
    let behind =
        crate::sla_timers::queue_reapply(state.store.as_ref(), p.id, p.version, agent.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PolicyReapply {
            policy_id: p.id.0,
            version: p.version,
            tickets_behind: behind,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/sla/upcoming", tag = "sla",
    summary = "Running SLA clocks due soon, soonest first (supervisors, admins)",
    params(UpcomingQuery),
    responses((status = 200, body = UpcomingBreachList), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn upcoming(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UpcomingQuery>,
) -> ApiResult<Json<UpcomingBreachList>> {
    caller.require(Permission::Supervise)?;
    let window = within("within_minutes", q.within_minutes, 240)?;
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=MAX_UPCOMING) => n,
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "limit: must be between 1 and {MAX_UPCOMING}"
            )));
        }
    };
    let tier = q.tier.map(Tier::new).transpose()?;
    let team = q.team.map(TeamId);
    let now = Timestamp::now();
    let filter = kefu_store::UpcomingFilter { team, tier };
    let found = state
        .store
        .upcoming_breaches(now + window, &filter, limit)
        .await?;
    let items = found
        .iter()
        .filter_map(|b| {
            let due = b.clock.due?;
            Some(UpcomingBreachDto {
                ticket_id: b.ticket.id.0,
                number: b.ticket.number,
                subject: b.ticket.subject.clone(),
                priority: b.ticket.priority.to_string(),
                team_id: b.ticket.team_id.map(|t| t.0),
                tier: b.ticket.tier.get(),
                assignee_id: b.ticket.assignee_id.map(|a| a.0),
                metric: b.clock.metric.to_string(),
                due_at: ts(due),
                remaining_seconds: seconds(due.duration_since(now)),
            })
        })
        .collect();
    Ok(Json(UpcomingBreachList { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_become_path_messages() {
        let e = policy_from_json(
            &json!({"targets": [{"metric": "nope", "priority": "low", "minutes": 5}]}),
        )
        .unwrap_err();
        let m = invalid(e).message;
        assert!(m.starts_with("targets[0].metric: "), "{m}");
        let e = policy_from_json(
            &json!({"targets": [{"metric": "first_reply", "priority": "low", "minutes": 5, "business": true}]}),
        )
        .unwrap_err();
        assert!(invalid(e).message.starts_with("calendar_id: "));
    }

    #[test]
    fn the_hand_written_schemas_pass_through_utoipa_unchanged() {
        for (name, v) in [
            ("SlaMetricName", SlaMetricName::json()),
            ("ClockStateName", ClockStateName::json()),
            ("SlaConditions", SlaConditions::json()),
            ("SlaTargetSpec", SlaTargetSpec::json()),
            ("SlaPauses", SlaPauses::json()),
            ("SlaLadder", SlaLadder::json()),
            ("SlaLadderStep", SlaLadderStep::json()),
            ("SlaAction", SlaAction::json()),
            ("SlaPolicyRequest", SlaPolicyRequest::json()),
            ("SlaPolicy", SlaPolicy::json()),
            ("SlaPolicyList", SlaPolicyList::json()),
        ] {
            let s: Result<RefOr<Schema>, _> = serde_json::from_value(v.clone());
            let s = s.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(serde_json::to_value(&s).unwrap(), v, "{name}");
        }
    }

    #[test]
    fn the_request_schema_lists_every_definition_field_the_store_reads() {
        let def = policy_to_json(&Default::default());
        let props = definition_properties();
        for k in def.as_object().unwrap().keys() {
            assert!(props.contains_key(k), "{k} missing from the schema");
        }
        assert_eq!(props.len(), def.as_object().unwrap().len());
    }
}
