//! The business-time walk behind [`super::Calendar`].
//!
//! Time is handled as plain integers: instants as nanoseconds (i128) or seconds (i64)
//! since the Unix epoch, dates as epoch days (i32), wall-clock times as "local seconds"
//! (`epoch_day * 86400 + seconds since midnight`, what a UTC clock would read).
//!
//! A walk visits local dates in order. Each date owns the instants from its 00:00 to the
//! next date's 00:00 (converted with compatible disambiguation), so the dates' open spans
//! come out sorted and disjoint. Converting a date's intervals is pure arithmetic while
//! the zone's offset is fixed ([`Regime`]); only dates within a few days of an offset
//! change ask jiff to disambiguate each endpoint.

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use super::{DAY_SECS as DAY, HORIZON_DAYS};
use crate::DomainError;

const NS: i128 = 1_000_000_000;
/// Offsets differ by less than 52 hours (jiff bounds them to ±25:59:59), so a wall-clock
/// time whose instant is this far from any transition is neither in a gap nor in a fold.
const MARGIN: i64 = 3 * DAY;
/// Dates we walk: jiff's timestamp range (years -9999..=9999) less a few days each side.
const MIN_DAY: i32 = days_from_civil(-9999, 1, 1) + 3;
const MAX_DAY: i32 = days_from_civil(9999, 12, 31) - 3;

/// One date's working intervals: sorted, disjoint, non-touching local seconds after
/// midnight, `0 <= start < end <= 86400`.
#[derive(Debug, Clone, Default)]
pub(super) struct Plan {
    segments: Box<[(i64, i64)]>,
}

impl Plan {
    pub(super) fn from_segments(segments: Vec<(i64, i64)>) -> Plan {
        Plan {
            segments: segments.into_boxed_slice(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    fn is_full_day(&self) -> bool {
        *self.segments == [(0, DAY)]
    }
}

pub(super) struct Inner {
    pub(super) name: String,
    pub(super) tz: TimeZone,
    /// Monday first.
    weekly: [Plan; 7],
    /// Sorted, disjoint and non-adjacent inclusive epoch-day ranges.
    holidays: Vec<(i32, i32)>,
    /// Sorted by epoch day, one entry per date.
    workdays: Vec<(i32, Plan)>,
    weekly_empty: bool,
    pub(super) always: bool,
}

impl Inner {
    pub(super) fn new(
        name: String,
        tz: TimeZone,
        weekly: [Plan; 7],
        mut holidays: Vec<(i32, i32)>,
        workdays: Vec<(i32, Plan)>,
    ) -> Inner {
        holidays.sort_unstable();
        let mut merged: Vec<(i32, i32)> = Vec::with_capacity(holidays.len());
        for (first, last) in holidays {
            match merged.last_mut() {
                Some(prev) if first <= prev.1 + 1 => prev.1 = prev.1.max(last),
                _ => merged.push((first, last)),
            }
        }
        let weekly_empty = weekly.iter().all(Plan::is_empty);
        let always = merged.is_empty()
            && weekly.iter().all(Plan::is_full_day)
            && workdays.iter().all(|(_, p)| p.is_full_day());
        Inner {
            name,
            tz,
            weekly,
            holidays: merged,
            workdays,
            weekly_empty,
            always,
        }
    }

    fn plan(&self, day: i32) -> &[(i64, i64)] {
        if !(MIN_DAY..=MAX_DAY).contains(&day) {
            return &[];
        }
        if let Ok(i) = self.workdays.binary_search_by_key(&day, |w| w.0) {
            return &self.workdays[i].1.segments;
        }
        if self.holiday_containing(day).is_some() {
            return &[];
        }
        // 1970-01-01 was a Thursday (Monday-zero offset 3).
        &self.weekly[(day + 3).rem_euclid(7) as usize].segments
    }

    fn holiday_containing(&self, day: i32) -> Option<(i32, i32)> {
        let i = self.holidays.partition_point(|h| h.1 < day);
        self.holidays.get(i).copied().filter(|h| h.0 <= day)
    }

    /// The next date after `day` that may have working time; `None` if none ever does.
    fn next_day(&self, day: i32) -> Option<i32> {
        let next = day.checked_add(1).filter(|&d| d <= MAX_DAY)?;
        let i = self.workdays.partition_point(|w| w.0 < next);
        let workday = self.workdays.get(i).map(|w| w.0);
        if self.weekly_empty {
            return workday;
        }
        match self.holiday_containing(next) {
            Some((_, last)) => Some(match workday {
                Some(w) if w <= last => w,
                _ => (last + 1).min(MAX_DAY),
            }),
            None => Some(next),
        }
    }

    /// The instant (epoch seconds) of local seconds `local`, compatible disambiguation.
    fn compatible(&self, local: i64) -> i64 {
        let Ok(ts) = Timestamp::from_second(local) else {
            return local;
        };
        let dt: DateTime = Offset::UTC.to_datetime(ts);
        match self.tz.to_ambiguous_timestamp(dt).compatible() {
            Ok(t) => t.as_second(),
            Err(_) => local,
        }
    }

    pub(super) fn add(&self, start: i128, d: i128) -> Result<Timestamp, DomainError> {
        let done = |t: i128| {
            Timestamp::from_nanosecond(t)
                .map_err(|_| DomainError::invalid("duration", "reaches beyond the supported years"))
        };
        if self.always {
            return done(start + d);
        }
        let mut walk = Walk::new(self, start);
        let mut day = walk.day;
        let mut last_open = day;
        let mut rem = d;
        loop {
            walk.spans(day);
            for &(a, b) in &walk.buf {
                let (a, b) = ((a as i128 * NS).max(start), b as i128 * NS);
                if b <= a {
                    continue;
                }
                if rem <= b - a {
                    return done(a + rem);
                }
                rem -= b - a;
                last_open = day;
            }
            match self.next_day(day) {
                Some(next) if next - last_open <= HORIZON_DAYS => day = next,
                Some(_) => {
                    return Err(DomainError::invalid(
                        "calendar",
                        format!(
                            "{:?} has no working time for 5 years from {}",
                            self.name,
                            civil_date(last_open)
                        ),
                    ));
                }
                None => {
                    return Err(DomainError::invalid(
                        "calendar",
                        format!(
                            "{:?} has no working time after {}",
                            self.name,
                            civil_date(last_open)
                        ),
                    ));
                }
            }
        }
    }

    /// Business nanoseconds in `[start, end)`; `start <= end`.
    pub(super) fn between(&self, start: i128, end: i128) -> i128 {
        if self.always || start == end {
            return end - start;
        }
        let mut walk = Walk::new(self, start);
        let mut day = walk.day;
        let mut total = 0;
        loop {
            let (lo, hi) = walk.spans(day);
            if lo as i128 * NS >= end {
                return total;
            }
            for &(a, b) in &walk.buf {
                let (a, b) = ((a as i128 * NS).max(start), (b as i128 * NS).min(end));
                if a < b {
                    total += b - a;
                }
            }
            if hi as i128 * NS >= end {
                return total;
            }
            match self.next_day(day) {
                Some(next) => day = next,
                None => return total,
            }
        }
    }

    pub(super) fn is_open(&self, at: i128) -> bool {
        if self.always {
            return true;
        }
        let mut walk = Walk::new(self, at);
        walk.spans(walk.day);
        walk.buf
            .iter()
            .any(|&(a, b)| a as i128 * NS <= at && at < b as i128 * NS)
    }

    pub(super) fn next_open(&self, at: i128) -> Option<i128> {
        if self.always {
            return Some(at);
        }
        let mut walk = Walk::new(self, at);
        let first = walk.day;
        let mut day = first;
        loop {
            walk.spans(day);
            if let Some(&(a, _)) = walk.buf.iter().find(|&&(_, b)| b as i128 * NS > at) {
                return Some((a as i128 * NS).max(at));
            }
            day = self.next_day(day).filter(|&d| d - first <= HORIZON_DAYS)?;
        }
    }
}

/// A stretch of instants `[lo, hi)` (epoch seconds) with one UTC offset.
#[derive(Debug, Clone, Copy)]
struct Regime {
    lo: i64,
    hi: i64,
    offset: i64,
}

impl Regime {
    fn at(tz: &TimeZone, t: i64) -> Regime {
        let t = t.clamp(
            Timestamp::MIN.as_second() + DAY,
            Timestamp::MAX.as_second() - DAY,
        );
        let ts = Timestamp::from_second(t).unwrap_or(Timestamp::UNIX_EPOCH);
        let next = ts + SignedDuration::from_secs(1);
        Regime {
            lo: tz
                .preceding(next)
                .next()
                .map_or(i64::MIN, |tr| tr.timestamp().as_second()),
            hi: tz
                .following(ts)
                .next()
                .map_or(i64::MAX, |tr| tr.timestamp().as_second()),
            offset: i64::from(tz.to_offset(ts).seconds()),
        }
    }

    fn contains(&self, t: i64) -> bool {
        self.lo <= t && t < self.hi
    }

    /// The instant of `day`'s 00:00 when the whole date is far from any transition.
    fn fast(&self, day: i32) -> Option<i64> {
        let base = i64::from(day) * DAY - self.offset;
        (base.saturating_sub(self.lo) >= MARGIN && self.hi.saturating_sub(base + DAY) >= MARGIN)
            .then_some(base)
    }
}

/// One walk over dates; `buf` holds the open spans (epoch seconds) of the last date asked.
struct Walk<'a> {
    cal: &'a Inner,
    regime: Regime,
    /// The date owning the instant the walk started from.
    day: i32,
    buf: Vec<(i64, i64)>,
}

impl<'a> Walk<'a> {
    fn new(cal: &'a Inner, at: i128) -> Walk<'a> {
        let secs = at.div_euclid(NS).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        let regime = Regime::at(&cal.tz, secs);
        let local = secs.saturating_add(regime.offset);
        let mut day = local
            .div_euclid(DAY)
            .clamp(i64::from(MIN_DAY), i64::from(MAX_DAY)) as i32;
        if regime.fast(day).is_none() {
            // Near a transition the date on the wall and the date owning the instant can
            // differ (a gap or fold across midnight).
            for _ in 0..4 {
                if secs < cal.compatible(i64::from(day) * DAY) && day > MIN_DAY {
                    day -= 1;
                } else if secs >= cal.compatible(i64::from(day + 1) * DAY) && day < MAX_DAY {
                    day += 1;
                } else {
                    break;
                }
            }
        }
        Walk {
            cal,
            regime,
            day,
            buf: Vec::new(),
        }
    }

    /// Fills `buf` with `day`'s open spans; returns the instants the date owns, `[lo, hi)`.
    fn spans(&mut self, day: i32) -> (i64, i64) {
        self.buf.clear();
        let segments = self.cal.plan(day);
        if let Some(base) = self.regime.fast(day) {
            self.buf
                .extend(segments.iter().map(|&(s, e)| (base + s, base + e)));
            return (base, base + DAY);
        }
        let midnight = i64::from(day) * DAY;
        let lo = self.cal.compatible(midnight);
        if !self.regime.contains(lo) {
            self.regime = Regime::at(&self.cal.tz, lo);
            if let Some(base) = self.regime.fast(day) {
                self.buf
                    .extend(segments.iter().map(|&(s, e)| (base + s, base + e)));
                return (base, base + DAY);
            }
        }
        let hi = self.cal.compatible(midnight + DAY).max(lo);
        for &(s, e) in segments {
            let a = self.cal.compatible(midnight + s).clamp(lo, hi);
            let b = self.cal.compatible(midnight + e).clamp(lo, hi);
            if a < b {
                self.buf.push((a, b));
            }
        }
        // A gap can push an interval's start past a later interval's start.
        self.buf.sort_unstable();
        self.buf.dedup_by(|next, prev| {
            if next.0 <= prev.1 {
                prev.1 = prev.1.max(next.1);
                true
            } else {
                false
            }
        });
        (lo, hi)
    }
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
const fn days_from_civil(y: i32, m: i32, d: i32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(super) fn epoch_day(date: Date) -> i32 {
    days_from_civil(
        i32::from(date.year()),
        i32::from(date.month()),
        i32::from(date.day()),
    )
}

fn civil_date(day: i32) -> Date {
    Timestamp::from_second(i64::from(day) * DAY)
        .map(|ts| Offset::UTC.to_datetime(ts).date())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn epoch_days_match_jiff() {
        for d in [
            date(1970, 1, 1),
            date(1969, 12, 31),
            date(2000, 2, 29),
            date(2026, 10, 1),
            date(2028, 2, 29),
            date(1600, 3, 1),
            date(-44, 3, 15),
        ] {
            assert_eq!(civil_date(epoch_day(d)), d, "{d}");
        }
        assert_eq!(epoch_day(date(1970, 1, 2)), 1);
        assert_eq!(epoch_day(date(1969, 12, 31)), -1);
    }

    #[test]
    fn epoch_day_weekdays_line_up() {
        let d = date(2026, 9, 27); // a Sunday
        assert_eq!((epoch_day(d) + 3).rem_euclid(7), 6);
    }
}
