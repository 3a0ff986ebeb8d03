//! Administration of business calendars (admins only, `Permission::Administer`): the list
//! with a form for a new calendar, and an edit page for each with a "try it" box (a due
//! time for a start and a number of business minutes, computed with the saved calendar).
//!
//! The editor needs no script: the weekly hours are a table of start/end inputs per
//! weekday (as many interval columns as the calendar has on its busiest day, at least
//! two), holidays and make-up days are lines of text. Saving goes through the API's
//! validation (`api::calendars::normalise` and `validate`), so both store the same
//! normalised definition; its error paths (`weekly[3]`, `holidays[0]`) are shown as the
//! day and column or the line they came from.

use super::{
    form::{FormData, hint, parse_id, saved},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, form_status, render_with},
    session::AgentCtx,
};
use crate::AppState;
use crate::api::calendars::{
    Definition, HolidayInput, Invalid, WeeklyHours, WorkdayInput, definition, normalise, validate,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect},
};
use kefu_domain::CalendarId;
use kefu_domain::authz::Permission;
use kefu_domain::calendar::{LocalEnd, parse_local_time};
use kefu_store::CalendarRecord;
use std::collections::HashMap;

/// Offered in the time zone field (any IANA name may be typed).
pub const COMMON_ZONES: [&str; 10] = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Interval columns in the weekly table at least, and at most (the API allows 70
/// intervals in all, so 10 per day fits any calendar the API accepts on one day).
const MIN_SLOTS: usize = 2;
const MAX_SLOTS: usize = 70;

/// One start/end pair of inputs in the weekly table.
pub struct Slot {
    pub start_name: String,
    pub end_name: String,
    pub start: String,
    pub end: String,
    pub start_label: String,
    pub end_label: String,
}

pub struct DayRow {
    pub key: &'static str,
    pub label: &'static str,
    pub slots: Vec<Slot>,
}

/// The editor's fields, from a stored calendar or from a submitted form.
pub struct Editor {
    pub name: String,
    pub time_zone: String,
    pub slots: usize,
    /// The table's column headings ("Hours 1", …), one per interval.
    pub columns: Vec<String>,
    pub days: Vec<DayRow>,
    pub holidays: String,
    pub workdays: String,
    pub copy_monday: bool,
}

/// Text typed into the weekly table: `day` → intervals (start, end) by column.
type Hours = Vec<(&'static str, Vec<(String, String)>)>;

fn editor(
    tr: Tr,
    name: String,
    time_zone: String,
    hours: Hours,
    holidays: String,
    workdays: String,
    copy_monday: bool,
) -> Editor {
    let slots = hours
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0)
        .clamp(MIN_SLOTS, MAX_SLOTS);
    let days = hours
        .into_iter()
        .map(|(key, mut v)| {
            v.resize(slots, (String::new(), String::new()));
            let label = tr.t(&format!("day.{key}"));
            DayRow {
                key,
                label,
                slots: v
                    .into_iter()
                    .enumerate()
                    .map(|(i, (start, end))| {
                        let n = (i + 1).to_string();
                        let args = [("day", label), ("n", n.as_str())];
                        Slot {
                            start_name: format!("{key}_start{n}"),
                            end_name: format!("{key}_end{n}"),
                            start,
                            end,
                            start_label: tr.f("calendar.slot_start", &args),
                            end_label: tr.f("calendar.slot_end", &args),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Editor {
        name,
        time_zone,
        slots,
        columns: (1..=slots)
            .map(|n| tr.f("calendar.hours_n", &[("n", &n.to_string())]))
            .collect(),
        days,
        holidays,
        workdays,
        copy_monday,
    }
}

/// The editor for a new calendar: Monday to Friday 09:00–12:00 and 13:00–18:00.
fn blank_editor(tr: Tr) -> Editor {
    let hours = DAYS
        .iter()
        .map(|&d| {
            let v = if DAYS[..5].contains(&d) {
                vec![
                    ("09:00".to_string(), "12:00".to_string()),
                    ("13:00".to_string(), "18:00".to_string()),
                ]
            } else {
                vec![]
            };
            (d, v)
        })
        .collect();
    editor(
        tr,
        String::new(),
        "Asia/Shanghai".into(),
        hours,
        String::new(),
        String::new(),
        false,
    )
}

/// `2026-10-01..2026-10-07 National Day`, or `2026-05-01 Labour Day` for one day.
fn holiday_lines(def: &Definition) -> String {
    def.holidays
        .iter()
        .map(|h| {
            let dates = if h.end_date == h.date {
                h.date.clone()
            } else {
                format!("{}..{}", h.date, h.end_date)
            };
            format!("{dates} {}", h.name).trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `2026-10-10 09:00-18:00 make-up day`.
fn workday_lines(def: &Definition) -> String {
    def.workdays
        .iter()
        .map(|w| {
            format!("{} {}-{} {}", w.date, w.start, w.end, w.name)
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn stored_editor(tr: Tr, c: &CalendarRecord, def: &Definition) -> Editor {
    let hours = DAYS
        .iter()
        .map(|&d| {
            let v = def
                .weekly
                .iter()
                .filter(|w| w.day == d)
                .map(|w| (w.start.clone(), w.end.clone()))
                .collect();
            (d, v)
        })
        .collect();
    editor(
        tr,
        c.name.clone(),
        c.time_zone.clone(),
        hours,
        holiday_lines(def),
        workday_lines(def),
        false,
    )
}

/// The weekly table as submitted (`slots` columns), with "copy Monday" applied.
fn form_hours(form: &FormData) -> Hours {
    let slots = form
        .get("slots")
        .parse::<usize>()
        .unwrap_or(MIN_SLOTS)
        .clamp(1, MAX_SLOTS);
    let mut hours: Hours = DAYS
        .iter()
        .map(|&d| {
            let v = (1..=slots)
                .map(|n| {
                    (
                        form.get(&format!("{d}_start{n}")).trim().to_string(),
                        form.get(&format!("{d}_end{n}")).trim().to_string(),
                    )
                })
                .collect();
            (d, v)
        })
        .collect();
    if form.checked("copy_monday") {
        let monday = hours[0].1.clone();
        for day in &mut hours[1..5] {
            day.1 = monday.clone();
        }
    }
    hours
}

fn form_editor(tr: Tr, form: &FormData) -> Editor {
    editor(
        tr,
        form.get("name").to_string(),
        form.get("time_zone").to_string(),
        form_hours(form),
        form.get("holidays").to_string(),
        form.get("workdays").to_string(),
        false,
    )
}

/// What each entry handed to the validation came from, to name it in messages.
#[derive(Default)]
struct Origins {
    weekly: Vec<String>,
    holidays: Vec<String>,
    workdays: Vec<String>,
}

impl Origins {
    /// Replaces every `weekly[i]`, `holidays[i]`, `workdays[i]` in `text` by its origin.
    fn describe(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        'scan: while !rest.is_empty() {
            for (key, names) in [
                ("weekly[", &self.weekly),
                ("holidays[", &self.holidays),
                ("workdays[", &self.workdays),
            ] {
                if let Some(after) = rest.strip_prefix(key)
                    && let Some((index, tail)) = after.split_once(']')
                    && let Some(name) = index.parse::<usize>().ok().and_then(|i| names.get(i))
                {
                    out.push_str(name);
                    // The field inside the entry (`.start`) is said by the reason.
                    rest = [".date", ".end_date", ".name", ".start", ".end", ".day"]
                        .iter()
                        .find_map(|f| {
                            tail.strip_prefix(f).filter(|t| {
                                !t.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                            })
                        })
                        .unwrap_or(tail);
                    continue 'scan;
                }
            }
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

/// A time typed into the table or a make-up line: `9:00`, `09:00`, `18：00`, `24:00`
/// become `HH:MM`; seconds must be zero.
fn form_time(s: &str, end: bool) -> Option<String> {
    let t = parse_local_time(s).ok()?;
    match t {
        LocalEnd::EndOfDay if end => Some("24:00".into()),
        LocalEnd::EndOfDay => None,
        LocalEnd::At(t) if t.second() == 0 && t.subsec_nanosecond() == 0 => {
            Some(format!("{:02}:{:02}", t.hour(), t.minute()))
        }
        LocalEnd::At(_) => None,
    }
}

/// Reads the form into the API's input types, with the origin of every entry.
fn read_form(tr: Tr, form: &FormData) -> Result<(Definition, Origins), String> {
    let mut origins = Origins::default();
    let mut weekly = Vec::new();
    for (d, intervals) in form_hours(form) {
        let label = tr.t(&format!("day.{d}"));
        for (i, (start, end)) in intervals.into_iter().enumerate() {
            if start.is_empty() && end.is_empty() {
                continue;
            }
            let n = (i + 1).to_string();
            let origin = tr.f("calendar.origin_weekly", &[("day", label), ("n", &n)]);
            let bad = || tr.f("calendar.bad_time", &[("where", &origin)]);
            weekly.push(WeeklyHours {
                day: d.to_string(),
                start: form_time(&start, false).ok_or_else(bad)?,
                end: form_time(&end, true).ok_or_else(bad)?,
            });
            origins.weekly.push(origin);
        }
    }
    let mut holidays = Vec::new();
    for (line_no, line) in lines(form.get("holidays")) {
        let origin = tr.f("calendar.origin_holiday", &[("n", &line_no.to_string())]);
        let (dates, name) = split_word(line);
        let (first, last) = match dates.split_once("..") {
            Some((a, b)) => (a.to_string(), Some(b.to_string())),
            None => (dates.to_string(), None),
        };
        holidays.push(HolidayInput {
            date: first,
            end_date: last,
            name: Some(name.to_string()),
        });
        origins.holidays.push(origin);
    }
    let mut workdays = Vec::new();
    for (line_no, line) in lines(form.get("workdays")) {
        let origin = tr.f("calendar.origin_workday", &[("n", &line_no.to_string())]);
        let bad = || tr.f("calendar.bad_workday", &[("where", &origin)]);
        let (date, rest) = split_word(line);
        let (span, name) = split_word(rest);
        let (start, end) = span.split_once(['-', '–']).ok_or_else(bad)?;
        workdays.push(WorkdayInput {
            date: date.to_string(),
            start: form_time(start, false).ok_or_else(bad)?,
            end: form_time(end, true).ok_or_else(bad)?,
            name: Some(name.to_string()),
        });
        origins.workdays.push(origin);
    }
    let def = normalise(&weekly, &holidays, &workdays).map_err(|e| message(tr, &origins, &e))?;
    Ok((def, origins))
}

/// Non-blank lines that are not `#` comments, numbered from 1.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// The first whitespace-separated word and the trimmed rest.
fn split_word(s: &str) -> (&str, &str) {
    match s.trim().split_once(char::is_whitespace) {
        Some((a, b)) => (a, b.trim()),
        None => (s.trim(), ""),
    }
}

/// A validation error in the user's words where we have them.
fn message(tr: Tr, origins: &Origins, e: &Invalid) -> String {
    match e.path.as_str() {
        "name" => hint(tr, "name"),
        "time_zone" => tr.t("calendar.bad_zone").to_string(),
        _ => tr.f(
            "calendar.invalid",
            &[("detail", &origins.describe(&e.to_string()))],
        ),
    }
}

/// Checks a submitted editor: the calendar to store, or the message to show.
fn submitted(tr: Tr, form: &FormData) -> Result<kefu_store::NewCalendar, String> {
    let (def, origins) = read_form(tr, form)?;
    validate(form.get("name"), form.get("time_zone"), def)
        .map(|(new, _)| new)
        .map_err(|e| message(tr, &origins, &e))
}

pub struct CalendarRow {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    /// e.g. "Mon 09:00–12:00, 13:00–18:00 · Tue …".
    pub hours: String,
    pub holidays: usize,
    pub workdays: usize,
    pub version: i64,
}

/// The weekly hours in one line.
fn hours_summary(tr: Tr, def: &Definition) -> String {
    DAYS.iter()
        .filter_map(|&d| {
            let spans: Vec<String> = def
                .weekly
                .iter()
                .filter(|w| w.day == d)
                .map(|w| format!("{}–{}", w.start, w.end))
                .collect();
            (!spans.is_empty())
                .then(|| format!("{} {}", tr.t(&format!("day.{d}")), spans.join(", ")))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A stored definition, or an internal-error page if it cannot be read back.
fn stored(c: &CalendarRecord) -> WebResult<Definition> {
    definition(c).map_err(|_| WebError::internal())
}

#[derive(Template)]
#[template(path = "admin/calendars.html")]
struct CalendarsPage {
    tr: Tr,
    chrome: Chrome,
    rows: Vec<CalendarRow>,
    editor: Editor,
    zones: &'static [&'static str],
    error: Option<String>,
}

async fn calendars_page(
    state: &AppState,
    a: &AgentCtx,
    editor: Editor,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let mut rows = Vec::new();
    for c in state.store.list_calendars().await? {
        let def = stored(&c)?;
        rows.push(CalendarRow {
            id: c.id.0,
            hours: hours_summary(tr, &def),
            holidays: def.holidays.len(),
            workdays: def.workdays.len(),
            name: c.name,
            time_zone: c.time_zone,
            version: c.version,
        });
    }
    let page = CalendarsPage {
        tr,
        chrome: a.ctx.chrome(tr.t("admin.calendars"), "admin"),
        rows,
        editor,
        zones: &COMMON_ZONES,
        error,
    };
    render_with(form_status(&page.error), &page)
}

pub async fn calendars(State(state): State<AppState>, a: AgentCtx) -> WebResult {
    a.require(Permission::Administer)?;
    calendars_page(&state, &a, blank_editor(a.ctx.tr), None).await
}

pub async fn create_calendar(
    State(state): State<AppState>,
    a: AgentCtx,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let outcome = match submitted(tr, &form) {
        Ok(new) => saved(tr, state.store.create_calendar(&new).await)?,
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(c) => Ok(Redirect::to(&format!("/admin/calendars/{}", c.id)).into_response()),
        Err(msg) => calendars_page(&state, &a, form_editor(tr, &form), Some(msg)).await,
    }
}

/// The "try it" box: a start (local time in the calendar's zone) and minutes.
#[derive(Default)]
pub struct Trial {
    pub start: String,
    pub minutes: String,
    /// "Due 2026-10-08 10:00 (Asia/Shanghai) · 2026-10-08T02:00:00Z".
    pub result: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/calendar_edit.html")]
struct CalendarEditPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    /// "Version 3".
    version_label: String,
    editor: Editor,
    zones: &'static [&'static str],
    error: Option<String>,
    trial: Trial,
}

async fn load(state: &AppState, id: &str) -> WebResult<CalendarRecord> {
    state
        .store
        .get_calendar(CalendarId(parse_id(id)?))
        .await?
        .ok_or_else(WebError::not_found)
}

/// Runs the "try it" box against the saved calendar.
fn trial(tr: Tr, c: &CalendarRecord, q: &HashMap<String, String>) -> WebResult<Trial> {
    let mut t = Trial {
        start: q
            .get("start")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        minutes: q
            .get("minutes")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    if t.start.is_empty() && t.minutes.is_empty() {
        return Ok(t);
    }
    let calendar = crate::api::calendars::calendar(c).map_err(|_| WebError::internal())?;
    let zone = calendar.time_zone().clone();
    let start = t
        .start
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(zone.clone()).ok())
        .map(|z| z.timestamp());
    let minutes = t
        .minutes
        .parse::<i64>()
        .ok()
        .filter(|m| (0..=crate::api::calendars::MAX_MINUTES).contains(m));
    match (start, minutes) {
        (None, _) => t.error = Some(tr.t("calendar.try_bad_start").to_string()),
        (_, None) => t.error = Some(tr.t("calendar.try_bad_minutes").to_string()),
        (Some(start), Some(m)) => match calendar.add(start, jiff::SignedDuration::from_mins(m)) {
            Ok(due) => {
                let local = due.to_zoned(zone).strftime("%Y-%m-%d %H:%M").to_string();
                t.result = Some(tr.f(
                    "calendar.try_due",
                    &[
                        ("local", &local),
                        ("zone", &c.time_zone),
                        ("utc", &due.to_string()),
                    ],
                ));
            }
            Err(_) => t.error = Some(tr.t("calendar.try_never").to_string()),
        },
    }
    Ok(t)
}

async fn edit_page(
    a: &AgentCtx,
    c: &CalendarRecord,
    editor: Editor,
    error: Option<String>,
    trial: Trial,
) -> WebResult {
    let tr = a.ctx.tr;
    let page = CalendarEditPage {
        tr,
        chrome: a.ctx.chrome(c.name.clone(), "admin"),
        id: c.id.0,
        version_label: tr.f("calendar.version_n", &[("n", &c.version.to_string())]),
        editor,
        zones: &COMMON_ZONES,
        error,
        trial,
    };
    render_with(form_status(&page.error), &page)
}

pub async fn calendar_form(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let c = load(&state, &id).await?;
    let def = stored(&c)?;
    let t = trial(tr, &c, &q)?;
    edit_page(&a, &c, stored_editor(tr, &c, &def), None, t).await
}

pub async fn update_calendar(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let c = load(&state, &id).await?;
    let outcome = match submitted(tr, &form) {
        Ok(new) => match saved(tr, state.store.update_calendar(c.id, &new).await)? {
            Ok(Some(_)) => Ok(()),
            Ok(None) => return Err(WebError::not_found()),
            Err(msg) => Err(msg),
        },
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/admin/calendars/{}", c.id)).into_response()),
        Err(msg) => edit_page(&a, &c, form_editor(tr, &form), Some(msg), Trial::default()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::{Lang, Timestamp};

    fn form(fields: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(fields)
    }

    #[test]
    fn the_form_reads_into_the_apis_definition() {
        let tr = Tr(Lang::En);
        let f = form(&[
            ("mon_start1", "9:00"),
            ("mon_end1", "12：00"),
            ("mon_start2", "13:00"),
            ("mon_end2", "24:00"),
            ("copy_monday", "1"),
            ("sat_start1", ""),
            ("sat_end1", ""),
            (
                "holidays",
                "# National Day\n2026-10-01..2026-10-07 National Day\n\n2026-05-01",
            ),
            ("workdays", "2026-10-10 09:00-18:00 make-up day"),
        ]);
        let (def, origins) = read_form(tr, &f).unwrap();
        assert_eq!(def.weekly.len(), 10, "Monday copied to Tuesday–Friday");
        assert_eq!(
            def.weekly[1],
            WeeklyHours {
                day: "mon".into(),
                start: "13:00".into(),
                end: "24:00".into()
            }
        );
        assert_eq!(def.weekly[0].end, "12:00");
        assert_eq!(def.holidays[0].end_date, "2026-10-07");
        assert_eq!(def.holidays[0].name, "National Day");
        assert_eq!(def.holidays[1].end_date, "2026-05-01");
        assert_eq!(def.workdays[0].start, "09:00");
        assert_eq!(origins.holidays, ["holidays, line 2", "holidays, line 4"]);
        assert_eq!(origins.weekly[3], "Tuesday, hours 2");
        assert_eq!(
            holiday_lines(&def),
            "2026-10-01..2026-10-07 National Day\n2026-05-01"
        );
        assert_eq!(workday_lines(&def), "2026-10-10 09:00-18:00 make-up day");
    }

    #[test]
    fn mistakes_name_the_day_or_line() {
        let tr = Tr(Lang::En);
        let err = |fields: &[(&str, &str)]| {
            // `FormData::get` takes the first value: the test's fields win.
            let mut all = fields.to_vec();
            all.extend_from_slice(&[("name", "Office"), ("time_zone", "Asia/Shanghai")]);
            submitted(tr, &form(&all)).unwrap_err()
        };
        assert!(err(&[("mon_start1", "9"), ("mon_end1", "12:00")]).contains("Monday, hours 1"));
        assert!(err(&[("mon_start1", "09:00:30"), ("mon_end1", "12:00")]).contains("Monday"));
        let overlap = err(&[
            ("wed_start1", "09:00"),
            ("wed_end1", "12:00"),
            ("wed_start2", "11:00"),
            ("wed_end2", "13:00"),
        ]);
        assert!(
            overlap.contains("Wednesday, hours 2") && overlap.contains("Wednesday, hours 1"),
            "{overlap}"
        );
        let holiday = err(&[
            ("mon_start1", "09:00"),
            ("mon_end1", "12:00"),
            ("holidays", "\n2026-10-07..2026-10-01 x"),
        ]);
        assert!(holiday.contains("holidays, line 2"), "{holiday}");
        assert!(
            err(&[
                ("fri_start1", "09:00"),
                ("fri_end1", "12:00"),
                ("workdays", "2026-10-10 9-18")
            ])
            .contains("make-up days, line 1")
        );
        assert_eq!(
            err(&[
                ("mon_start1", "09:00"),
                ("mon_end1", "12:00"),
                ("time_zone", "Mars/Base")
            ]),
            tr.t("calendar.bad_zone")
        );
        assert!(err(&[]).contains("needs at least one working interval"));
    }

    #[test]
    fn a_day_with_many_intervals_gets_enough_columns() {
        let tr = Tr(Lang::En);
        let def = Definition {
            weekly: ["08:00", "10:00", "12:00"]
                .iter()
                .map(|s| WeeklyHours {
                    day: "thu".into(),
                    start: s.to_string(),
                    end: format!("{}:30", &s[..2]),
                })
                .collect(),
            ..Default::default()
        };
        let c = CalendarRecord {
            id: CalendarId(1),
            name: "x".into(),
            time_zone: "UTC".into(),
            definition: String::new(),
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let e = stored_editor(tr, &c, &def);
        assert_eq!(e.slots, 3);
        assert!(e.days.iter().all(|d| d.slots.len() == 3));
        assert_eq!(e.days[3].slots[2].start, "12:00");
        assert_eq!(e.days[3].slots[2].end_name, "thu_end3");
    }
}
