//! Business calendars over the API: working hours per weekday, holidays and make-up
//! working days in a time zone (admins write, every agent reads), and the two sums SLA
//! timers are made of: a due time after N business minutes (`add`) and the business
//! minutes between two instants (`between`).
//!
//! The request is checked twice: its shape here (the same patterns the OpenAPI document
//! states), then its meaning by `kefu_domain::calendar::CalendarSpec::build` (known time
//! zone, intervals that end after they start and do not overlap, …). What is stored is
//! the normalised [`Definition`] (sorted, trimmed, every optional field filled in); the
//! admin pages (`web/admin_calendars.rs`) go through the same [`validate`].

use crate::AppState;
use crate::api::constraints::{CC, DisplayName, TimeZoneName, WS, schema};
use crate::api::dto::{ErrorBody, ts};
use crate::api::extract::{ApiJson, ApiPath, int};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use axum::{Json, extract::State, http::StatusCode};
use kefu_domain::authz::Permission;
use kefu_domain::calendar::{self as cal, Calendar, CalendarSpec};
use kefu_domain::{CalendarId, DomainError, Timestamp, parse_name};
use kefu_store::{CalendarRecord, NewCalendar};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, schema::Schema};

/// The most business minutes one `add` may ask for: ten years of minutes.
pub const MAX_MINUTES: i64 = 5_256_000;
/// Limits on the lists of one calendar (shape limits; the domain checks meaning).
pub const MAX_WEEKLY: usize = 70;
pub const MAX_DAYS: usize = 1000;
/// Longest holiday or make-up day name.
pub const MAX_LABEL: usize = 120;

// ---------- wire schemas of the text fields ----------

/// `HH:MM` from 00:00 to 23:59, optionally surrounded by whitespace.
fn clock_time() -> String {
    format!(r"^[{WS}]*(?:[01][0-9]|2[0-3]):[0-5][0-9][{WS}]*$")
}

/// `HH:MM` from 00:00 to 23:59, or `24:00` (the end of the day).
fn clock_end() -> String {
    format!(r"^[{WS}]*(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)[{WS}]*$")
}

/// `YYYY-MM-DD` (whether the day exists in that month is checked by the handler).
fn civil_date() -> String {
    format!(r"^[{WS}]*[0-9]{{4}}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[{WS}]*$")
}

/// 0–`MAX_LABEL` characters after trimming, no control characters.
fn label() -> String {
    format!(
        r"^[{WS}]*(?:[^{WS}{CC}](?:[^{CC}]{{0,{inner}}}[^{WS}{CC}])?)?[{WS}]*$",
        inner = MAX_LABEL - 2
    )
}

macro_rules! named_schema {
    ($($name:ident => $schema:expr;)*) => {$(
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

named_schema! {
    DayName => schema(json!({
        "type": "string", "enum": DAYS,
        "description": "A weekday: `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`."
    }));
    ClockTime => schema(json!({
        "type": "string", "pattern": clock_time(),
        "description": "A local time `HH:MM`, 00:00–23:59.", "example": "09:00"
    }));
    ClockEnd => schema(json!({
        "type": "string", "pattern": clock_end(),
        "description": "A local end time `HH:MM`, 00:00–23:59, or `24:00` for the end of the day.",
        "example": "18:00"
    }));
    CivilDate => schema(json!({
        "type": "string", "pattern": civil_date(),
        "description": "A date `YYYY-MM-DD` that exists in the calendar.", "example": "2026-10-01"
    }));
    DayLabel => schema(json!({
        "type": "string", "pattern": label(),
        "description": "A name: at most 120 characters after trimming, no control characters; may be empty."
    }));
}

// ---------- wire types ----------

/// Working hours on one weekday: `start` until `end`, local time. A day may have several
/// intervals (e.g. morning and afternoon); days without any are closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[schema(value_type = DayName)]
    pub day: String,
    #[schema(value_type = ClockTime)]
    pub start: String,
    #[schema(value_type = ClockEnd)]
    pub end: String,
}

/// Days off: `date` through `end_date` (inclusive; a single day without it).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayInput {
    #[schema(value_type = CivilDate)]
    pub date: String,
    /// Last day of the holiday (inclusive); defaults to `date`.
    #[schema(value_type = Option<CivilDate>)]
    pub end_date: Option<String>,
    #[schema(value_type = Option<DayLabel>)]
    pub name: Option<String>,
}

/// A make-up working day (调休): a date that is worked from `start` to `end`, whatever
/// its weekday or a holiday says.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkdayInput {
    #[schema(value_type = CivilDate)]
    pub date: String,
    #[schema(value_type = ClockTime)]
    pub start: String,
    #[schema(value_type = ClockEnd)]
    pub end: String,
    #[schema(value_type = Option<DayLabel>)]
    pub name: Option<String>,
}

/// A whole calendar, for creating one or replacing one in full.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarRequest {
    #[schema(value_type = DisplayName)]
    pub name: String,
    /// The IANA time zone the hours and dates are read in.
    #[schema(value_type = TimeZoneName)]
    pub time_zone: String,
    #[schema(max_items = 70)]
    pub weekly: Vec<WeeklyHours>,
    /// Default: none.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub holidays: Vec<HolidayInput>,
    /// Default: none.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub workdays: Vec<WorkdayInput>,
}

/// A holiday as stored and returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Holiday {
    #[schema(format = Date)]
    pub date: String,
    /// Inclusive.
    #[schema(format = Date)]
    pub end_date: String,
    /// Empty if none was given.
    pub name: String,
}

/// A make-up working day as stored and returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Workday {
    #[schema(format = Date)]
    pub date: String,
    pub start: String,
    pub end: String,
    /// Empty if none was given.
    pub name: String,
}

/// The normalised calendar body, stored as JSON in `calendars.definition`: weekly hours
/// ordered by weekday and start, holidays and make-up days by date; text trimmed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub weekly: Vec<WeeklyHours>,
    pub holidays: Vec<Holiday>,
    pub workdays: Vec<Workday>,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDto {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    /// 1 when created, +1 with every replacement.
    pub version: i64,
    /// Ordered by weekday, then start.
    pub weekly: Vec<WeeklyHours>,
    /// Ordered by date.
    pub holidays: Vec<Holiday>,
    /// Ordered by date, then start.
    pub workdays: Vec<Workday>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarListDto {
    pub items: Vec<CalendarDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    /// When the clock starts (RFC 3339, any offset).
    #[schema(format = DateTime)]
    pub start: String,
    /// Business minutes to add, 0 to 5,256,000 (ten years).
    #[serde(default, deserialize_with = "int::opt")]
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 5256000)]
    pub minutes: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AddResult {
    /// The instant `minutes` business minutes after `start` (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub due: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BetweenRequest {
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
}

#[derive(Serialize, ToSchema)]
pub struct BetweenResult {
    /// Whole business minutes from `start` to `end`, rounded toward zero; negative if
    /// `end` is before `start`.
    pub minutes: i64,
}

// ---------- validation (shared with the admin pages) ----------

/// Why a calendar was refused: where (`weekly[2].end`) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub path: String,
    pub reason: String,
}

impl Invalid {
    fn at(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::invalid(e.to_string())
    }
}

/// The domain's errors name the top-level field and start their reason with the exact
/// path (`weekly[2].end must be later …`); that path is kept.
impl From<DomainError> for Invalid {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, reason } => match reason.split_once(' ') {
                Some((path, rest)) if path.starts_with(field) => Invalid::at(path, rest),
                _ => Invalid::at(field, reason),
            },
            other => Invalid::at("calendar", other.to_string()),
        }
    }
}

fn matches_time(s: &str, allow_24: bool) -> bool {
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return false;
    }
    let (h, m) = (&s[..2], &s[3..]);
    (h < "24" && m < "60") || (allow_24 && s == "24:00")
}

fn time(path: String, s: &str, allow_24: bool) -> Result<String, Invalid> {
    let s = s.trim();
    if !matches_time(s, allow_24) {
        let expected = if allow_24 {
            "expected HH:MM from 00:00 to 24:00"
        } else {
            "expected HH:MM from 00:00 to 23:59"
        };
        return Err(Invalid::at(path, expected));
    }
    Ok(s.to_string())
}

fn date(path: String, s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(Invalid::at(path, "expected a date YYYY-MM-DD"));
    }
    s.parse::<jiff::civil::Date>()
        .map_err(|_| Invalid::at(path, "no such date"))?;
    Ok(s.to_string())
}

fn day_label(path: String, s: Option<&str>) -> Result<String, Invalid> {
    let s = s.unwrap_or_default().trim();
    if s.chars().count() > MAX_LABEL || s.chars().any(char::is_control) {
        return Err(Invalid::at(
            path,
            "must be at most 120 printable characters",
        ));
    }
    Ok(s.to_string())
}

fn day_index(day: &str) -> usize {
    DAYS.iter().position(|d| *d == day).unwrap_or(DAYS.len())
}

/// Checks the shape of a calendar and normalises its text (trimmed, defaults filled in),
/// keeping the order of the request so that error paths point into it.
pub fn normalise(
    weekly: &[WeeklyHours],
    holidays: &[HolidayInput],
    workdays: &[WorkdayInput],
) -> Result<Definition, Invalid> {
    if weekly.len() > MAX_WEEKLY {
        return Err(Invalid::at(
            "weekly",
            format!("at most {MAX_WEEKLY} intervals"),
        ));
    }
    if holidays.len() > MAX_DAYS {
        return Err(Invalid::at(
            "holidays",
            format!("at most {MAX_DAYS} entries"),
        ));
    }
    if workdays.len() > MAX_DAYS {
        return Err(Invalid::at(
            "workdays",
            format!("at most {MAX_DAYS} entries"),
        ));
    }
    let mut def = Definition::default();
    for (i, w) in weekly.iter().enumerate() {
        if !DAYS.contains(&w.day.as_str()) {
            return Err(Invalid::at(
                format!("weekly[{i}].day"),
                "expected mon, tue, wed, thu, fri, sat or sun",
            ));
        }
        def.weekly.push(WeeklyHours {
            day: w.day.clone(),
            start: time(format!("weekly[{i}].start"), &w.start, false)?,
            end: time(format!("weekly[{i}].end"), &w.end, true)?,
        });
    }
    for (i, h) in holidays.iter().enumerate() {
        let first = date(format!("holidays[{i}].date"), &h.date)?;
        let last = match &h.end_date {
            Some(d) => date(format!("holidays[{i}].end_date"), d)?,
            None => first.clone(),
        };
        def.holidays.push(Holiday {
            date: first,
            end_date: last,
            name: day_label(format!("holidays[{i}].name"), h.name.as_deref())?,
        });
    }
    for (i, w) in workdays.iter().enumerate() {
        def.workdays.push(Workday {
            date: date(format!("workdays[{i}].date"), &w.date)?,
            start: time(format!("workdays[{i}].start"), &w.start, false)?,
            end: time(format!("workdays[{i}].end"), &w.end, true)?,
            name: day_label(format!("workdays[{i}].name"), w.name.as_deref())?,
        });
    }
    Ok(def)
}

/// The order a calendar is stored and shown in: weekly hours by weekday and start,
/// holidays and make-up days by date.
fn sort(def: &mut Definition) {
    def.weekly.sort_by(|a, b| {
        (day_index(&a.day), &a.start, &a.end).cmp(&(day_index(&b.day), &b.start, &b.end))
    });
    def.holidays
        .sort_by(|a, b| (&a.date, &a.end_date).cmp(&(&b.date, &b.end_date)));
    def.workdays
        .sort_by(|a, b| (&a.date, &a.start, &a.end).cmp(&(&b.date, &b.start, &b.end)));
}

/// The domain's view of a definition whose text [`normalise`] has checked.
pub fn spec(name: &str, time_zone: &str, def: &Definition) -> Result<CalendarSpec, Invalid> {
    let at = |path: String| move |e: DomainError| Invalid::at(path, reason(e));
    let start = |path: String, s: &str| {
        cal::parse_local_time(s)
            .map_err(at(path.clone()))?
            .time()
            .ok_or_else(|| Invalid::at(path, "24:00 can end an interval but not start one"))
    };
    let day = |path: String, s: &str| {
        s.parse::<jiff::civil::Date>()
            .map_err(|_| Invalid::at(path, "no such date"))
    };
    let mut weekly = Vec::with_capacity(def.weekly.len());
    for (i, w) in def.weekly.iter().enumerate() {
        weekly.push(cal::WeeklyInterval {
            day: cal::parse_weekday(&w.day).map_err(at(format!("weekly[{i}].day")))?,
            start: start(format!("weekly[{i}].start"), &w.start)?,
            end: cal::parse_local_time(&w.end).map_err(at(format!("weekly[{i}].end")))?,
        });
    }
    let mut holidays = Vec::with_capacity(def.holidays.len());
    for (i, h) in def.holidays.iter().enumerate() {
        holidays.push(cal::Holiday {
            date: day(format!("holidays[{i}].date"), &h.date)?,
            end_date: day(format!("holidays[{i}].end_date"), &h.end_date)?,
            name: h.name.clone(),
        });
    }
    let mut workdays = Vec::with_capacity(def.workdays.len());
    for (i, w) in def.workdays.iter().enumerate() {
        workdays.push(cal::MakeupDay {
            date: day(format!("workdays[{i}].date"), &w.date)?,
            start: start(format!("workdays[{i}].start"), &w.start)?,
            end: cal::parse_local_time(&w.end).map_err(at(format!("workdays[{i}].end")))?,
            name: w.name.clone(),
        });
    }
    Ok(CalendarSpec {
        name: name.to_string(),
        time_zone: time_zone.to_string(),
        weekly,
        holidays,
        workdays,
    })
}

/// The reason of a domain error, without its field name.
fn reason(e: DomainError) -> String {
    match e {
        DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// A calendar fit to store: the name and time zone checked, the definition (as
/// [`normalise`] returned it, in request order) accepted by [`CalendarSpec::build`], then
/// sorted.
pub fn validate(
    name: &str,
    time_zone: &str,
    mut def: Definition,
) -> Result<(NewCalendar, Calendar), Invalid> {
    let name = parse_name("name", name)?;
    let time_zone = time_zone.trim();
    if time_zone.is_empty()
        || time_zone.len() > 64
        || !time_zone.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Invalid::at(
            "time_zone",
            "expected an IANA time zone name such as Asia/Shanghai",
        ));
    }
    let calendar = spec(&name, time_zone, &def)?.build()?;
    sort(&mut def);
    let definition = serde_json::to_string(&def).expect("a definition serializes");
    Ok((
        NewCalendar {
            name,
            time_zone: time_zone.to_string(),
            definition,
        },
        calendar,
    ))
}

/// The stored definition of a calendar. A definition the server wrote but cannot read
/// back is a fault (500), not the caller's mistake.
pub fn definition(r: &CalendarRecord) -> ApiResult<Definition> {
    serde_json::from_str(&r.definition).map_err(|e| {
        tracing::error!(calendar = r.id.0, error = %e, "stored calendar definition is unreadable");
        ApiError::internal()
    })
}

/// The stored calendar, ready to compute with.
pub fn calendar(r: &CalendarRecord) -> ApiResult<Calendar> {
    let def = definition(r)?;
    let built = spec(&r.name, &r.time_zone, &def).and_then(|s| Ok(s.build()?));
    built.map_err(|e| {
        tracing::error!(calendar = r.id.0, error = %e, "stored calendar no longer builds");
        ApiError::internal()
    })
}

fn dto(r: &CalendarRecord) -> ApiResult<CalendarDto> {
    let def = definition(r)?;
    Ok(CalendarDto {
        id: r.id.0,
        name: r.name.clone(),
        time_zone: r.time_zone.clone(),
        version: r.version,
        weekly: def.weekly,
        holidays: def.holidays,
        workdays: def.workdays,
        created_at: ts(r.created_at),
        updated_at: ts(r.updated_at),
    })
}

fn from_request(req: &CalendarRequest) -> Result<NewCalendar, Invalid> {
    let def = normalise(&req.weekly, &req.holidays, &req.workdays)?;
    Ok(validate(&req.name, &req.time_zone, def)?.0)
}

async fn load(state: &AppState, id: i64) -> ApiResult<CalendarRecord> {
    state
        .store
        .get_calendar(CalendarId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("calendar"))
}

/// An RFC 3339 instant. The few at the very end of the year 9999 (after
/// 9999-12-30T22:00Z, where some offset could take them past the year) are out of range.
fn instant(field: &str, s: &str) -> ApiResult<Timestamp> {
    s.parse::<Timestamp>().map_err(|_| {
        ApiError::invalid(format!(
            "{field}: expected an RFC 3339 timestamp from 0001-01-01 to 9999-12-30"
        ))
    })
}

// ---------- handlers ----------

#[utoipa::path(get, path = "/api/v1/calendars", tag = "calendars",
    summary = "List business calendars (agents)",
    responses((status = 200, body = CalendarListDto), (status = 403, body = ErrorBody)))]
pub async fn list_calendars(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<CalendarListDto>> {
    caller.require(Permission::ReadWorkspace)?;
    let items = state.store.list_calendars().await?;
    Ok(Json(CalendarListDto {
        items: items.iter().map(dto).collect::<ApiResult<_>>()?,
    }))
}

#[utoipa::path(post, path = "/api/v1/calendars", tag = "calendars",
    summary = "Create a business calendar (admins)",
    request_body = CalendarRequest,
    responses((status = 201, body = CalendarDto), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CalendarRequest>,
) -> ApiResult<(StatusCode, Json<CalendarDto>)> {
    caller.require(Permission::Administer)?;
    let new = from_request(&req)?;
    let c = state.store.create_calendar(&new).await?;
    Ok((StatusCode::CREATED, Json(dto(&c)?)))
}

#[utoipa::path(get, path = "/api/v1/calendars/{id}", tag = "calendars",
    summary = "Get a business calendar (agents)",
    params(("id" = i64, Path, description = "Calendar id")),
    responses((status = 200, body = CalendarDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CalendarDto>> {
    caller.require(Permission::ReadWorkspace)?;
    Ok(Json(dto(&load(&state, id).await?)?))
}

#[utoipa::path(put, path = "/api/v1/calendars/{id}", tag = "calendars",
    summary = "Replace a business calendar in full (admins); its version grows by one",
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = CalendarRequest,
    responses((status = 200, body = CalendarDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CalendarRequest>,
) -> ApiResult<Json<CalendarDto>> {
    caller.require(Permission::Administer)?;
    load(&state, id).await?;
    let new = from_request(&req)?;
    let c = state
        .store
        .update_calendar(CalendarId(id), &new)
        .await?
        .ok_or_else(|| ApiError::not_found("calendar"))?;
    Ok(Json(dto(&c)?))
}

#[utoipa::path(post, path = "/api/v1/calendars/{id}/add", tag = "calendars",
    summary = "The instant a number of business minutes after a start (agents)",
    description = "Counts only working time: weekly hours, minus holidays, plus make-up days. \
        A calendar without any working time after `start` cannot get there, and neither can a \
        sum past the year 9999 (or a `start` after 9999-12-30T22:00Z): 422.",
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = AddRequest,
    responses((status = 200, body = AddResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AddRequest>,
) -> ApiResult<Json<AddResult>> {
    caller.require(Permission::ReadWorkspace)?;
    let start = instant("start", &req.start)?;
    let minutes = match req.minutes {
        Some(m @ 0..=MAX_MINUTES) => m,
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "minutes: expected 0 to {MAX_MINUTES}"
            )));
        }
        None => return Err(ApiError::invalid("minutes: is required")),
    };
    let calendar = calendar(&load(&state, id).await?)?;
    let due = calendar.add(start, jiff::SignedDuration::from_mins(minutes))?;
    Ok(Json(AddResult { due: ts(due) }))
}

#[utoipa::path(post, path = "/api/v1/calendars/{id}/between", tag = "calendars",
    summary = "Business minutes between two instants (agents)",
    description = "Instants are RFC 3339 timestamps up to 9999-12-30T22:00Z; later ones are 422.",
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = BetweenRequest,
    responses((status = 200, body = BetweenResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn between(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<BetweenRequest>,
) -> ApiResult<Json<BetweenResult>> {
    caller.require(Permission::ReadWorkspace)?;
    let start = instant("start", &req.start)?;
    let end = instant("end", &req.end)?;
    let calendar = calendar(&load(&state, id).await?)?;
    let d = calendar.between(start, end);
    Ok(Json(BetweenResult {
        minutes: d.as_secs() / 60,
    }))
}
