//! Business calendars: when a support team works, and business-time arithmetic over it.
//!
//! Owns: the calendar a team keeps (an IANA time zone, weekly working intervals,
//! holidays, and *make-up workdays*: China's public-holiday shifts, where a weekend date
//! becomes a working day), its validation, and the three questions the SLA clock asks:
//! "when is this target due" ([`Calendar::add`]), "how much business time passed"
//! ([`Calendar::between`]) and "are we open" ([`Calendar::is_open`],
//! [`Calendar::next_open`]).
//!
//! Never does: IO, async, serialization, reading the clock. The only outside lookup is the
//! zone name in [`CalendarSpec::build`], through jiff's time zone database (which jiff
//! loads once and caches).
//!
//! # Semantics
//!
//! - A day's plan is, in this order: its make-up workday intervals if the date has any
//!   (they override both the weekly schedule and any holiday covering the date); nothing if
//!   a holiday covers it; else the weekly intervals for its weekday.
//! - Intervals are half-open, `[start, end)`, in local wall-clock time. `24:00` is the end
//!   of the day, the same instant as the next day's `00:00`, so `mon 18:00–24:00` and
//!   `tue 00:00–06:00` form one continuous span.
//! - Wall-clock times become instants with jiff's *compatible* disambiguation: a time in a
//!   DST gap moves forward by the gap's length, a time in a fold takes the earlier instant.
//!   So `01:00–03:00` is 1 real hour on a spring-forward day and 3 on a fall-back day in
//!   America/New_York. Each date owns the instants from its `00:00` to the next date's
//!   `00:00` (both converted the same way); a converted interval is clipped to its date's
//!   share and dropped if that leaves nothing (e.g. `02:30–03:15` on a spring-forward day
//!   where 02:00 jumps to 03:00: `02:30` becomes 03:30, after `03:15`). Overlaps created
//!   by a gap are merged.
//! - `add(start, 0)` is `start`, open or not (a 0-minute target is due at once). For
//!   `d > 0`, `add` returns the *earliest* instant by which `d` of business time has passed
//!   since `start`: counting begins at the next opening, and a target that uses up a span
//!   exactly is due at the span's end (18:00), not at the next morning's opening.
//! - Everything is exact to the nanosecond: `between(start, add(start, d)) == d`.
//! - A calendar with no working time for 5 years after some instant makes `add` fail and
//!   `next_open` return `None` (e.g. every working weekday falls in holidays).

mod engine;

use std::fmt;
use std::sync::Arc;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::DomainError;
use engine::{Inner, Plan, epoch_day};

/// At most this many weekly intervals, holidays, and make-up workdays (each list).
pub const MAX_ENTRIES: usize = 1000;
/// A holiday range covers at most this many days.
pub const MAX_HOLIDAY_DAYS: i32 = 366;
/// A calendar closed this long is treated as never opening again.
pub const HORIZON_DAYS: i32 = 5 * 366;

const DAY_SECS: i64 = 86_400;

/// Where a working interval ends: a wall-clock time, or 24:00 (the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LocalEnd {
    At(Time),
    EndOfDay,
}

impl LocalEnd {
    /// The wall-clock time, or `None` for 24:00 (which cannot start an interval).
    pub fn time(self) -> Option<Time> {
        match self {
            LocalEnd::At(t) => Some(t),
            LocalEnd::EndOfDay => None,
        }
    }

    fn seconds(self) -> i64 {
        match self {
            LocalEnd::At(t) => time_seconds(t),
            LocalEnd::EndOfDay => DAY_SECS,
        }
    }
}

impl From<Time> for LocalEnd {
    fn from(t: Time) -> Self {
        LocalEnd::At(t)
    }
}

impl fmt::Display for LocalEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fmt_seconds(self.seconds()))
    }
}

/// One working interval of the weekly schedule, in the calendar's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyInterval {
    pub day: Weekday,
    pub start: Time,
    pub end: LocalEnd,
}

impl WeeklyInterval {
    /// Parses `("mon", "09:00", "12:00")`-style text, as forms and config files write it.
    pub fn parse(day: &str, start: &str, end: &str) -> Result<WeeklyInterval, DomainError> {
        Ok(WeeklyInterval {
            day: parse_weekday(day)?,
            start: parse_start(start)?,
            end: parse_local_time(end)?,
        })
    }
}

/// Closed days: `date..=end_date` (a single day when both are equal). Holidays may
/// overlap one another; a make-up workday inside one is still a working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub end_date: Date,
    pub name: String,
}

/// A working interval on a date that overrides the weekly schedule and any holiday.
/// Several entries on one date give that date several intervals (e.g. a lunch break).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakeupDay {
    pub date: Date,
    pub start: Time,
    pub end: LocalEnd,
    pub name: String,
}

/// A business calendar as an administrator writes it; [`CalendarSpec::build`] checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSpec {
    pub name: String,
    pub time_zone: String,
    pub weekly: Vec<WeeklyInterval>,
    pub holidays: Vec<Holiday>,
    pub workdays: Vec<MakeupDay>,
}

impl CalendarSpec {
    /// Validates the spec and builds an immutable [`Calendar`].
    ///
    /// Errors are [`DomainError::Invalid`] whose `field` is the top-level key (`name`,
    /// `time_zone`, `weekly`, `holidays`, `workdays`) and whose reason starts with the
    /// exact path, e.g. `weekly[2].end must be later than its start 09:00`.
    pub fn build(&self) -> Result<Calendar, DomainError> {
        let name = crate::parse_name("name", &self.name)?;
        let tz = zone(&self.time_zone)?;

        if self.weekly.len() > MAX_ENTRIES {
            return Err(too_many("weekly", "weekly intervals"));
        }
        let mut by_day: [Vec<Entry>; 7] = Default::default();
        for (i, w) in self.weekly.iter().enumerate() {
            let (start, end) = interval("weekly", i, w.start, w.end)?;
            by_day[w.day.to_monday_zero_offset() as usize].push(Entry { i, start, end });
        }
        let mut weekly: [Plan; 7] = Default::default();
        for (slot, entries) in weekly.iter_mut().zip(&mut by_day) {
            *slot = plan("weekly", entries)?;
        }

        if self.holidays.len() > MAX_ENTRIES {
            return Err(too_many("holidays", "holidays"));
        }
        let mut holidays = Vec::with_capacity(self.holidays.len());
        for (i, h) in self.holidays.iter().enumerate() {
            label("holidays", i, &h.name)?;
            let (first, last) = (epoch_day(h.date), epoch_day(h.end_date));
            if last < first {
                return Err(DomainError::invalid(
                    "holidays",
                    format!(
                        "holidays[{i}].end_date {} must not be before its date {}",
                        h.end_date, h.date
                    ),
                ));
            }
            if last - first + 1 > MAX_HOLIDAY_DAYS {
                return Err(DomainError::invalid(
                    "holidays",
                    format!(
                        "holidays[{i}] spans {} days; at most {MAX_HOLIDAY_DAYS}",
                        last - first + 1
                    ),
                ));
            }
            holidays.push((first, last));
        }

        if self.workdays.len() > MAX_ENTRIES {
            return Err(too_many("workdays", "make-up workdays"));
        }
        let mut dated = Vec::with_capacity(self.workdays.len());
        for (i, m) in self.workdays.iter().enumerate() {
            label("workdays", i, &m.name)?;
            let (start, end) = interval("workdays", i, m.start, m.end)?;
            dated.push((epoch_day(m.date), Entry { i, start, end }));
        }
        dated.sort_by_key(|&(day, e)| (day, e.start));
        let mut workdays = Vec::new();
        for group in dated.chunk_by(|a, b| a.0 == b.0) {
            let mut entries: Vec<Entry> = group.iter().map(|&(_, e)| e).collect();
            workdays.push((group[0].0, plan("workdays", &mut entries)?));
        }

        if weekly.iter().all(Plan::is_empty) && workdays.is_empty() {
            return Err(DomainError::invalid(
                "weekly",
                "needs at least one working interval (or a make-up workday)",
            ));
        }
        Ok(Calendar(Arc::new(Inner::new(
            name, tz, weekly, holidays, workdays,
        ))))
    }
}

/// A validated business calendar. Cheap to clone and share across threads.
#[derive(Clone)]
pub struct Calendar(Arc<Inner>);

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("name", &self.0.name)
            .field("time_zone", &self.0.tz.iana_name().unwrap_or("?"))
            .finish_non_exhaustive()
    }
}

impl Calendar {
    pub fn name(&self) -> &str {
        &self.0.name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.0.tz
    }

    /// True when every instant is working time (24×7 with no holidays), so business time
    /// equals elapsed time.
    pub fn is_always_open(&self) -> bool {
        self.0.always
    }

    /// The earliest instant by which `d` of business time has passed since `start`.
    ///
    /// `d == 0` returns `start` unchanged. Fails for a negative `d`, for a calendar with
    /// no working time for [`HORIZON_DAYS`] on the way, and past the year 9999.
    pub fn add(&self, start: Timestamp, d: SignedDuration) -> Result<Timestamp, DomainError> {
        if d.is_negative() {
            return Err(DomainError::invalid("duration", "must not be negative"));
        }
        if d.is_zero() {
            return Ok(start);
        }
        self.0.add(start.as_nanosecond(), d.as_nanos())
    }

    /// Business time from `start` to `end`; negative when `end < start`, so that
    /// `between(a, b) == -between(b, a)`.
    pub fn between(&self, start: Timestamp, end: Timestamp) -> SignedDuration {
        let (a, b) = (start.as_nanosecond(), end.as_nanosecond());
        if a <= b {
            nanos_to_duration(self.0.between(a, b))
        } else {
            -nanos_to_duration(self.0.between(b, a))
        }
    }

    pub fn is_open(&self, at: Timestamp) -> bool {
        self.0.is_open(at.as_nanosecond())
    }

    /// The first instant at or after `at` when the calendar is open; `None` if it stays
    /// closed for [`HORIZON_DAYS`].
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        let t = self.0.next_open(at.as_nanosecond())?;
        Timestamp::from_nanosecond(t).ok()
    }
}

/// A 24×7 calendar in UTC: business time is elapsed time (calendar-hour SLA targets).
pub fn always_open() -> Calendar {
    let full = || Plan::from_segments(vec![(0, DAY_SECS)]);
    let weekly = [full(), full(), full(), full(), full(), full(), full()];
    Calendar(Arc::new(Inner::new(
        "24×7".to_string(),
        TimeZone::UTC,
        weekly,
        Vec::new(),
        Vec::new(),
    )))
}

/// Parses a local time such as `9:00`, `09:00`, `17:30:15`, or `24:00` (end of day).
pub fn parse_local_time(s: &str) -> Result<LocalEnd, DomainError> {
    let text = s.trim();
    let bad = |why: &str| {
        DomainError::invalid(
            "time",
            format!("{text:?} is not a time like 09:00 or 24:00{why}"),
        )
    };
    let parts: Vec<&str> = text.split([':', '：']).collect();
    let digits =
        |p: &str, min: usize| (min..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    let ok = match parts.as_slice() {
        [h, m] => digits(h, 1) && digits(m, 2),
        [h, m, sec] => digits(h, 1) && digits(m, 2) && digits(sec, 2),
        _ => false,
    };
    if !ok {
        return Err(bad(""));
    }
    let num = |p: &str| p.parse::<i8>().unwrap_or(i8::MAX);
    let (h, m) = (num(parts[0]), num(parts[1]));
    let sec = parts.get(2).map_or(0, |p| num(p));
    if h == 24 && m == 0 && sec == 0 {
        return Ok(LocalEnd::EndOfDay);
    }
    if h > 23 {
        return Err(bad(
            ": hours go from 00 to 23, and 24:00 means the end of the day",
        ));
    }
    if m > 59 || sec > 59 {
        return Err(bad(": minutes and seconds go from 00 to 59"));
    }
    Time::new(h, m, sec, 0)
        .map(LocalEnd::At)
        .map_err(|_| bad(""))
}

/// Parses a day name: `mon` … `sun`, full English names, or `周一`/`星期一` … `周日`.
pub fn parse_weekday(s: &str) -> Result<Weekday, DomainError> {
    use Weekday::*;
    let day = match s.trim().to_lowercase().as_str() {
        "mon" | "monday" | "周一" | "星期一" => Monday,
        "tue" | "tues" | "tuesday" | "周二" | "星期二" => Tuesday,
        "wed" | "wednesday" | "周三" | "星期三" => Wednesday,
        "thu" | "thur" | "thurs" | "thursday" | "周四" | "星期四" => Thursday,
        "fri" | "friday" | "周五" | "星期五" => Friday,
        "sat" | "saturday" | "周六" | "星期六" => Saturday,
        "sun" | "sunday" | "周日" | "周天" | "星期日" | "星期天" => Sunday,
        _ => {
            return Err(DomainError::invalid(
                "day",
                format!("{:?} is not a day name (mon, tue, … sun)", s.trim()),
            ));
        }
    };
    Ok(day)
}

/// The short English name used in messages and forms: `mon` … `sun`.
pub fn weekday_name(day: Weekday) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.to_monday_zero_offset() as usize]
}

fn parse_start(s: &str) -> Result<Time, DomainError> {
    parse_local_time(s)?
        .time()
        .ok_or_else(|| DomainError::invalid("time", "24:00 can end an interval but not start one"))
}

fn zone(name: &str) -> Result<TimeZone, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("time_zone", "is required"));
    }
    TimeZone::get(name).map_err(|_| {
        DomainError::invalid(
            "time_zone",
            format!("{name:?} is not a known IANA time zone (like Asia/Shanghai)"),
        )
    })
}

/// One validated interval with the index it came from (for error messages).
#[derive(Debug, Clone, Copy)]
struct Entry {
    i: usize,
    start: i64,
    end: i64,
}

fn interval(
    field: &'static str,
    i: usize,
    start: Time,
    end: LocalEnd,
) -> Result<(i64, i64), DomainError> {
    let whole = |t: Time, what: &str| {
        if t.subsec_nanosecond() == 0 {
            Ok(())
        } else {
            Err(DomainError::invalid(
                field,
                format!("{field}[{i}].{what} must be a whole second"),
            ))
        }
    };
    whole(start, "start")?;
    if let LocalEnd::At(t) = end {
        whole(t, "end")?;
    }
    let (s, e) = (time_seconds(start), end.seconds());
    if e <= s {
        return Err(DomainError::invalid(
            field,
            format!(
                "{field}[{i}].end {} must be later than its start {}",
                fmt_seconds(e),
                fmt_seconds(s)
            ),
        ));
    }
    Ok((s, e))
}

/// Sorts one day's intervals, rejects overlaps, merges touching ones.
fn plan(field: &'static str, entries: &mut [Entry]) -> Result<Plan, DomainError> {
    entries.sort_by_key(|e| (e.start, e.i));
    let mut segments: Vec<(i64, i64)> = Vec::with_capacity(entries.len());
    for pair in entries.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.start < a.end {
            let (first, second) = if a.i < b.i { (a, b) } else { (b, a) };
            return Err(DomainError::invalid(
                field,
                format!(
                    "{field}[{}] ({}–{}) overlaps {field}[{}] ({}–{})",
                    second.i,
                    fmt_seconds(second.start),
                    fmt_seconds(second.end),
                    first.i,
                    fmt_seconds(first.start),
                    fmt_seconds(first.end),
                ),
            ));
        }
    }
    for e in entries.iter() {
        match segments.last_mut() {
            Some(last) if last.1 == e.start => last.1 = e.end,
            _ => segments.push((e.start, e.end)),
        }
    }
    Ok(Plan::from_segments(segments))
}

fn label(field: &'static str, i: usize, name: &str) -> Result<(), DomainError> {
    if name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            format!("{field}[{i}].name must be at most 120 printable characters"),
        ));
    }
    Ok(())
}

fn too_many(field: &'static str, what: &str) -> DomainError {
    DomainError::invalid(field, format!("at most {MAX_ENTRIES} {what}"))
}

fn time_seconds(t: Time) -> i64 {
    i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
}

fn fmt_seconds(s: i64) -> String {
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    }
}

fn nanos_to_duration(ns: i128) -> SignedDuration {
    const NS: i128 = 1_000_000_000;
    // Business time between two valid timestamps fits in i64 seconds by a wide margin.
    SignedDuration::new((ns / NS) as i64, (ns % NS) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;

    #[test]
    fn local_times_parse_with_or_without_a_leading_zero() {
        assert_eq!(
            parse_local_time("9:00").unwrap(),
            LocalEnd::At(time(9, 0, 0, 0))
        );
        assert_eq!(
            parse_local_time(" 09:30 ").unwrap(),
            LocalEnd::At(time(9, 30, 0, 0))
        );
        assert_eq!(
            parse_local_time("17:30:15").unwrap(),
            LocalEnd::At(time(17, 30, 15, 0))
        );
        assert_eq!(
            parse_local_time("18：00").unwrap(),
            LocalEnd::At(time(18, 0, 0, 0))
        );
        assert_eq!(parse_local_time("24:00").unwrap(), LocalEnd::EndOfDay);
        assert_eq!(parse_local_time("24:00").unwrap().to_string(), "24:00");
        assert_eq!(parse_local_time("7:05").unwrap().to_string(), "07:05");
    }

    #[test]
    fn impossible_local_times_are_rejected() {
        for bad in [
            "",
            "25:00",
            "24:01",
            "12:60",
            "12:5",
            "123:00",
            "9",
            "9h",
            "-1:00",
            "09:00:61",
            "0x:00",
            "12:00:00:00",
        ] {
            let err = parse_local_time(bad).unwrap_err();
            assert!(
                matches!(err, DomainError::Invalid { field: "time", .. }),
                "{bad}"
            );
        }
        assert!(
            parse_local_time("25:00")
                .unwrap_err()
                .to_string()
                .contains("24:00 means the end of the day")
        );
    }

    #[test]
    fn day_names_parse_in_english_and_chinese() {
        assert_eq!(parse_weekday("mon").unwrap(), Weekday::Monday);
        assert_eq!(parse_weekday("Thursday").unwrap(), Weekday::Thursday);
        assert_eq!(parse_weekday("SUN").unwrap(), Weekday::Sunday);
        assert_eq!(parse_weekday("星期天").unwrap(), Weekday::Sunday);
        assert_eq!(parse_weekday("周三").unwrap(), Weekday::Wednesday);
        assert!(matches!(
            parse_weekday("funday"),
            Err(DomainError::Invalid { field: "day", .. })
        ));
        for d in [Weekday::Monday, Weekday::Saturday, Weekday::Sunday] {
            assert_eq!(parse_weekday(weekday_name(d)).unwrap(), d);
        }
    }

    #[test]
    fn an_interval_cannot_start_at_24_00() {
        assert!(WeeklyInterval::parse("mon", "24:00", "24:00").is_err());
        let w = WeeklyInterval::parse("mon", "18:00", "24:00").unwrap();
        assert_eq!(w.end, LocalEnd::EndOfDay);
    }
}
