//! Property tests for business calendars: random zones (several with DST, one that
//! skipped a whole day, some that change at midnight), random weekly intervals on a
//! quarter-hour grid (so they hit DST gaps and folds), random holidays and make-up days.
//!
//! Besides the algebra (`between(s, add(s, d)) == d`, monotonicity, additivity), every
//! answer is checked against a slow oracle that converts every date of the window with
//! jiff directly, following the rules in `kefu_domain::calendar`'s module docs.

use jiff::civil::{Date, Time, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kefu_domain::{Calendar, CalendarSpec, Holiday, LocalEnd, MakeupDay, WeeklyInterval};
use proptest::prelude::*;

const ZONES: [&str; 10] = [
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe", // 30-minute DST
    "America/Santiago",    // changes at midnight
    "America/Havana",      // changes at midnight
    "Pacific/Apia",        // skipped 2011-12-30 entirely
    "America/St_Johns",    // until 2011: 00:01 → 23:01 the day before, a fold across midnight
    "Asia/Kolkata",
];
/// Windows of this many days starting at 2010-09-01 (St. John's 00:01 changes, the Apia
/// skip) or 2026-01-01.
const WINDOW_DAYS: i64 = 500;
const NS: i128 = 1_000_000_000;

#[derive(Debug, Clone)]
struct Case {
    spec: CalendarSpec,
    window: Date,
}

fn quarter(q: u32) -> LocalEnd {
    if q == 96 {
        LocalEnd::EndOfDay
    } else {
        LocalEnd::At(Time::new((q / 4) as i8, (q % 4 * 15) as i8, 0, 0).unwrap())
    }
}

/// Sorted distinct quarter-hour points, paired up: non-overlapping intervals. Half the
/// points are near midnight or in the 01:00–04:00 hours where DST changes happen.
fn day_intervals() -> impl Strategy<Value = Vec<(u32, u32)>> {
    let point = prop_oneof![
        0u32..=96,
        prop::sample::select(vec![
            0u32, 1, 2, 4, 6, 8, 9, 10, 11, 12, 13, 14, 16, 92, 94, 96
        ]),
    ];
    prop::collection::btree_set(point, 0..=6).prop_map(|points| {
        let points: Vec<u32> = points.into_iter().collect();
        points.chunks_exact(2).map(|p| (p[0], p[1])).collect()
    })
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(ZONES.to_vec()),
        prop::bool::ANY,
        prop::collection::vec(day_intervals(), 7),
        prop::collection::vec((0i64..WINDOW_DAYS, 1i64..30), 0..4),
        prop::collection::btree_map(0i64..WINDOW_DAYS, day_intervals(), 0..4),
        0u32..8,
    )
        .prop_map(|(zone, old, weekly, holidays, workdays, shape)| {
            let window = if old {
                date(2010, 9, 1)
            } else {
                date(2026, 1, 1)
            };
            let day = |n: i64| window.checked_add(jiff::Span::new().days(n)).unwrap();
            let mut spec = CalendarSpec {
                name: "prop".into(),
                time_zone: zone.into(),
                weekly: Vec::new(),
                holidays: holidays
                    .into_iter()
                    .map(|(first, len)| Holiday {
                        date: day(first),
                        end_date: day(first + len - 1),
                        name: String::new(),
                    })
                    .collect(),
                workdays: Vec::new(),
            };
            for (i, intervals) in weekly.into_iter().enumerate() {
                for (s, e) in intervals {
                    spec.weekly.push(WeeklyInterval {
                        day: Weekday::from_monday_zero_offset(i as i8).unwrap(),
                        start: quarter(s).time().unwrap(),
                        end: quarter(e),
                    });
                }
            }
            for (n, intervals) in workdays {
                for (s, e) in intervals {
                    spec.workdays.push(MakeupDay {
                        date: day(n),
                        start: quarter(s).time().unwrap(),
                        end: quarter(e),
                        name: String::new(),
                    });
                }
            }
            match shape {
                // Sometimes a plain office, sometimes 24×7, else whatever came out.
                0 => spec.weekly.retain(|w| w.day.to_monday_zero_offset() < 5),
                1 => {
                    spec.weekly = (0..7)
                        .map(|i| WeeklyInterval {
                            day: Weekday::from_monday_zero_offset(i).unwrap(),
                            start: Time::midnight(),
                            end: LocalEnd::EndOfDay,
                        })
                        .collect()
                }
                _ => {}
            }
            if spec.weekly.is_empty() && spec.workdays.is_empty() {
                spec.weekly
                    .push(WeeklyInterval::parse("mon", "09:00", "17:00").unwrap());
            }
            Case { spec, window }
        })
}

/// The slow reference: every date converted with jiff, clipped to the date's share,
/// then merged.
struct Oracle {
    spans: Vec<(i128, i128)>,
}

impl Oracle {
    fn new(case: &Case) -> Oracle {
        let spec = &case.spec;
        let tz = TimeZone::get(&spec.time_zone).unwrap();
        let midnight = |d: Date| tz.to_timestamp(d.at(0, 0, 0, 0)).unwrap().as_nanosecond();
        let mut spans = Vec::new();
        let mut d = case.window.checked_sub(jiff::Span::new().days(5)).unwrap();
        let last = case
            .window
            .checked_add(jiff::Span::new().days(WINDOW_DAYS + 5))
            .unwrap();
        while d <= last {
            let made_up: Vec<(Time, LocalEnd)> = spec
                .workdays
                .iter()
                .filter(|m| m.date == d)
                .map(|m| (m.start, m.end))
                .collect();
            let plan = if !made_up.is_empty() {
                made_up
            } else if spec.holidays.iter().any(|h| h.date <= d && d <= h.end_date) {
                Vec::new()
            } else {
                spec.weekly
                    .iter()
                    .filter(|w| w.day == d.weekday())
                    .map(|w| (w.start, w.end))
                    .collect()
            };
            let next = d.tomorrow().unwrap();
            let (lo, hi) = (midnight(d), midnight(next));
            let hi = hi.max(lo);
            for (s, e) in plan {
                let a = tz.to_timestamp(d.to_datetime(s)).unwrap().as_nanosecond();
                let b = match e {
                    LocalEnd::EndOfDay => hi,
                    LocalEnd::At(t) => tz.to_timestamp(d.to_datetime(t)).unwrap().as_nanosecond(),
                };
                let (a, b) = (a.clamp(lo, hi), b.clamp(lo, hi));
                if a < b {
                    spans.push((a, b));
                }
            }
            d = next;
        }
        spans.sort();
        let mut merged: Vec<(i128, i128)> = Vec::new();
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Oracle { spans: merged }
    }

    fn between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        let (a, b) = (a.as_nanosecond(), b.as_nanosecond());
        let total: i128 = self
            .spans
            .iter()
            .map(|&(s, e)| (e.min(b) - s.max(a)).max(0))
            .sum();
        SignedDuration::new((total / NS) as i64, (total % NS) as i32)
    }

    fn is_open(&self, t: Timestamp) -> bool {
        let t = t.as_nanosecond();
        self.spans.iter().any(|&(s, e)| s <= t && t < e)
    }
}

/// An instant in the case's window: uniform, or within a few hours of a zone transition
/// (where the interesting things happen).
fn instant(
    case: &Case,
    cal: &Calendar,
    (near, index, secs, nanos): (bool, usize, i64, i32),
) -> Timestamp {
    let tz = cal.time_zone();
    let start = tz.to_timestamp(case.window.at(0, 0, 0, 0)).unwrap();
    let end = start + SignedDuration::from_hours(24 * WINDOW_DAYS);
    let transitions: Vec<Timestamp> = tz
        .following(start)
        .map(|t| t.timestamp())
        .take_while(|&t| t < end - SignedDuration::from_hours(24))
        .collect();
    let t = if near && !transitions.is_empty() {
        transitions[index % transitions.len()] + SignedDuration::from_secs(secs % (6 * 3600))
    } else {
        start + SignedDuration::from_secs(secs.rem_euclid(24 * 3600 * (WINDOW_DAYS - 1)))
    };
    t + SignedDuration::from_nanos(i64::from(nanos))
}

fn arb_instant() -> impl Strategy<Value = (bool, usize, i64, i32)> {
    (
        prop::bool::weighted(0.4),
        0usize..64,
        -(6 * 3600i64)..(WINDOW_DAYS * 86_400),
        prop_oneof![Just(0), 0i32..1_000_000_000],
    )
}

fn arb_duration() -> impl Strategy<Value = SignedDuration> {
    prop_oneof![
        Just(SignedDuration::ZERO),
        (0i64..60).prop_map(SignedDuration::from_mins),
        (0i64..(300 * 3600)).prop_map(SignedDuration::from_secs),
        (0i64..(300 * 3600), 0i32..1_000_000_000).prop_map(|(s, n)| SignedDuration::new(s, n)),
    ]
}

const ONE_NS: SignedDuration = SignedDuration::from_nanos(1);

proptest! {
    // Shrunk failures are printed; they are not written into the source tree.
    #![proptest_config(ProptestConfig {
        cases: 1500,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn add_and_between_agree_with_each_other_and_the_oracle(
        case in arb_case(),
        s in arb_instant(),
        t in arb_instant(),
        u in arb_instant(),
        d in arb_duration(),
        d2 in arb_duration(),
    ) {
        let cal = case.spec.build().expect("generated specs are valid");
        let oracle = Oracle::new(&case);
        let (a, b, c) = (instant(&case, &cal, s), instant(&case, &cal, t), instant(&case, &cal, u));

        // add: the earliest instant with exactly d of business time behind it.
        let has_weekly = !case.spec.weekly.is_empty();
        match cal.add(a, d) {
            Ok(r) => {
                prop_assert!(r >= a);
                prop_assert_eq!(cal.between(a, r), d);
                if d.is_zero() {
                    prop_assert_eq!(r, a);
                } else {
                    prop_assert!(cal.is_open(r - ONE_NS), "open just before {r}");
                    prop_assert_eq!(cal.between(a, r - ONE_NS), d - ONE_NS);
                    prop_assert!(cal.next_open(a).is_some_and(|o| o < r));
                }
                if let Ok(r2) = cal.add(a, d2) {
                    prop_assert_eq!(d <= d2, r <= r2, "monotone: {} {} → {} {}", d, d2, r, r2);
                }
            }
            Err(e) => prop_assert!(!has_weekly, "add failed: {e}"),
        }

        // between: additive, antisymmetric, bounded by elapsed time, equal to the oracle.
        prop_assert_eq!(cal.between(a, b) + cal.between(b, c), cal.between(a, c));
        prop_assert_eq!(cal.between(b, a), -cal.between(a, b));
        let (lo, hi) = (a.min(b), a.max(b));
        let inside = cal.between(lo, hi);
        prop_assert!(SignedDuration::ZERO <= inside && inside <= hi.duration_since(lo));
        prop_assert_eq!(inside, oracle.between(lo, hi));
        if cal.is_always_open() {
            prop_assert_eq!(inside, hi.duration_since(lo));
        }

        // is_open: the oracle's answer, and one nanosecond of business time.
        for x in [a, b, c] {
            let open = cal.is_open(x);
            prop_assert_eq!(open, oracle.is_open(x), "is_open({})", x);
            let tick = if open { ONE_NS } else { SignedDuration::ZERO };
            prop_assert_eq!(cal.between(x, x + ONE_NS), tick);
            match cal.next_open(x) {
                Some(o) => {
                    prop_assert!(o >= x && cal.is_open(o));
                    prop_assert_eq!(cal.between(x, o), SignedDuration::ZERO);
                    prop_assert_eq!(open, o == x);
                }
                None => prop_assert!(!has_weekly),
            }
        }
    }

    #[test]
    fn a_start_is_moved_to_the_next_opening(case in arb_case(), s in arb_instant(), d in arb_duration()) {
        if d.is_zero() {
            return Ok(()); // due at `start` itself, open or not
        }
        let cal = case.spec.build().unwrap();
        let a = instant(&case, &cal, s);
        if let Some(open) = cal.next_open(a) {
            prop_assert_eq!(cal.add(a, d).ok(), cal.add(open, d).ok());
        }
    }
}

#[test]
fn timing_of_add_and_between_is_printed_not_asserted() {
    // A quick look at the cost per call; the benchmark harness measures it for real.
    // `cargo test --release -p kefu-domain --test calendar_props timing -- --nocapture`
    let mut spec = CalendarSpec {
        name: "Shanghai".into(),
        time_zone: "Asia/Shanghai".into(),
        weekly: Vec::new(),
        holidays: vec![Holiday {
            date: date(2026, 10, 1),
            end_date: date(2026, 10, 7),
            name: "国庆节".into(),
        }],
        workdays: Vec::new(),
    };
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        spec.weekly
            .push(WeeklyInterval::parse(day, "09:00", "12:00").unwrap());
        spec.weekly
            .push(WeeklyInterval::parse(day, "13:00", "18:00").unwrap());
    }
    for zone in ["Asia/Shanghai", "America/New_York"] {
        spec.time_zone = zone.into();
        let cal = spec.build().unwrap();
        let start: Timestamp = "2026-01-05T01:00:00Z".parse().unwrap();
        let n = 20_000i64;
        let clock = std::time::Instant::now();
        let mut sink = 0i64;
        for i in 0..n {
            let from = start + SignedDuration::from_secs(i * 1571);
            let d = SignedDuration::from_mins(30 + (i % 97) * 30); // 0.5h..48.5h
            let due = cal.add(from, d).unwrap();
            sink ^= due.as_second();
        }
        let add = clock.elapsed() / n as u32;
        let clock = std::time::Instant::now();
        for i in 0..n {
            let from = start + SignedDuration::from_secs(i * 1571);
            let to = from + SignedDuration::from_hours(1 + i % 100);
            sink ^= cal.between(from, to).as_secs();
        }
        let between = clock.elapsed() / n as u32;
        let clock = std::time::Instant::now();
        for i in 0..n / 10 {
            let from = start + SignedDuration::from_secs(i * 1571);
            sink ^= cal
                .add(from, SignedDuration::from_hours(200))
                .unwrap()
                .as_second();
            sink ^= cal
                .between(from, from + SignedDuration::from_hours(24 * 365))
                .as_secs();
        }
        let long = clock.elapsed() / (n / 10) as u32;
        println!(
            "{zone}: add {add:?}/call, between {between:?}/call; \
             add 200h + between over a year {long:?} ({sink})"
        );
    }
}

#[test]
fn generated_cases_cover_transitions() {
    // The strategy's "near a transition" instants only mean something if the windows
    // hold transitions for the DST zones.
    let tz = TimeZone::get("Pacific/Apia").unwrap();
    let from = tz.to_timestamp(date(2011, 9, 1).at(0, 0, 0, 0)).unwrap();
    let skip: Vec<_> = tz.following(from).take(3).map(|t| t.timestamp()).collect();
    assert!(
        skip.iter().any(|t| t.to_string().starts_with("2011-12-30")),
        "{skip:?}"
    );
}
