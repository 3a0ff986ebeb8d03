//! Golden cases for business calendars: a Shanghai office around National Day and the
//! Spring Festival, DST in New York and Berlin, 24:00 adjacency, leap days, validation.

use jiff::civil::{Date, DateTime, Time, Weekday, date, time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kefu_domain::calendar::{always_open, parse_local_time};
use kefu_domain::{
    Calendar, CalendarSpec, DomainError, Holiday, LocalEnd, MakeupDay, WeeklyInterval,
};

fn weekly(days: &[Weekday], hours: &[(&str, &str)]) -> Vec<WeeklyInterval> {
    let mut out = Vec::new();
    for &day in days {
        for &(start, end) in hours {
            out.push(WeeklyInterval {
                day,
                start: parse_local_time(start).unwrap().time().unwrap(),
                end: parse_local_time(end).unwrap(),
            });
        }
    }
    out
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];
const ALL_DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn holiday(first: Date, last: Date, name: &str) -> Holiday {
    Holiday {
        date: first,
        end_date: last,
        name: name.to_string(),
    }
}

fn makeup(on: Date, start: Time, end: LocalEnd) -> MakeupDay {
    MakeupDay {
        date: on,
        start,
        end,
        name: "调休".to_string(),
    }
}

fn spec(zone: &str, weekly: Vec<WeeklyInterval>) -> CalendarSpec {
    CalendarSpec {
        name: "Support".to_string(),
        time_zone: zone.to_string(),
        weekly,
        holidays: Vec::new(),
        workdays: Vec::new(),
    }
}

/// The Shanghai office: Mon–Fri 09:00–12:00 and 13:00–18:00, National Day 2026 closed
/// 10-01..10-07 with make-up workdays Sun 09-27 and Sat 10-10 (09:00–18:00), and an
/// illustrative Spring Festival 2027 closed 02-06..02-13 with a make-up Sat 02-20.
/// (The real 2027 schedule is the State Council's to publish; these dates are examples.)
fn shanghai() -> Calendar {
    let mut s = spec(
        "Asia/Shanghai",
        weekly(&WEEKDAYS, &[("09:00", "12:00"), ("13:00", "18:00")]),
    );
    s.holidays = vec![
        holiday(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
        holiday(date(2027, 2, 6), date(2027, 2, 13), "春节"),
    ];
    let nine_to_six = |d| makeup(d, time(9, 0, 0, 0), LocalEnd::At(time(18, 0, 0, 0)));
    s.workdays = vec![
        nine_to_six(date(2026, 9, 27)),
        nine_to_six(date(2026, 10, 10)),
        nine_to_six(date(2027, 2, 20)),
    ];
    s.build().unwrap()
}

fn at(cal: &Calendar, s: &str) -> Timestamp {
    let dt: DateTime = s.parse().unwrap();
    cal.time_zone().to_timestamp(dt).unwrap()
}

fn local(cal: &Calendar, t: Timestamp) -> String {
    t.to_zoned(cal.time_zone().clone())
        .strftime("%Y-%m-%d %H:%M %:z")
        .to_string()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// `add` with the result shown as local time, plus the round trip through `between`.
fn due(cal: &Calendar, start: &str, d: SignedDuration) -> String {
    let from = at(cal, start);
    let to = cal.add(from, d).unwrap();
    assert_eq!(cal.between(from, to), d, "round trip from {start}");
    local(cal, to)
}

#[test]
fn eight_hours_from_friday_five_pm_lands_on_the_sunday_make_up_day() {
    let cal = shanghai();
    // 1h on Fri 09-25, Sat closed, Sun 09-27 is a make-up workday 09:00–18:00: +7h.
    assert_eq!(
        due(&cal, "2026-09-25 17:00", hours(8)),
        "2026-09-27 16:00 +08:00"
    );
}

#[test]
fn the_national_day_week_is_skipped() {
    let cal = shanghai();
    // Wed 09-30: 7h left of the day; Thu 10-01..Wed 10-07 closed; Thu 10-08 8h; Fri 10-09 +1h.
    assert_eq!(
        due(&cal, "2026-09-30 10:00", hours(16)),
        "2026-10-09 10:00 +08:00"
    );
    // Another 8h goes into Sat 10-10, the second make-up day.
    assert_eq!(
        due(&cal, "2026-09-30 10:00", hours(24)),
        "2026-10-10 10:00 +08:00"
    );
    // Exactly the make-up day's 9h: due at its 18:00, not on Monday morning.
    assert_eq!(
        due(&cal, "2026-10-10 09:00", hours(9)),
        "2026-10-10 18:00 +08:00"
    );
    let week = cal.between(at(&cal, "2026-09-28 00:00"), at(&cal, "2026-10-12 00:00"));
    // Mon 09-28..Wed 09-30 (3 × 8h) + Thu 10-08, Fri 10-09 (2 × 8h) + Sat 10-10 (9h).
    assert_eq!(week, hours(49));
}

#[test]
fn the_lunch_break_is_not_business_time() {
    let cal = shanghai();
    let (a, b) = (at(&cal, "2026-09-21 11:00"), at(&cal, "2026-09-21 14:00"));
    assert_eq!(cal.between(a, b), hours(2));
    assert_eq!(cal.between(b, a), -hours(2));
    assert_eq!(
        due(&cal, "2026-09-21 11:30", hours(1)),
        "2026-09-21 13:30 +08:00"
    );
    // A 3h target from 09:00 uses the morning up exactly: due at 12:00.
    assert_eq!(
        due(&cal, "2026-09-21 09:00", hours(3)),
        "2026-09-21 12:00 +08:00"
    );
}

#[test]
fn a_clock_started_during_lunch_counts_from_one_pm() {
    let cal = shanghai();
    assert!(!cal.is_open(at(&cal, "2026-09-21 12:30")));
    assert_eq!(
        due(&cal, "2026-09-21 12:30", mins(30)),
        "2026-09-21 13:30 +08:00"
    );
    assert_eq!(
        cal.next_open(at(&cal, "2026-09-21 12:30")),
        Some(at(&cal, "2026-09-21 13:00"))
    );
}

#[test]
fn a_clock_started_on_a_holiday_counts_from_the_next_working_morning() {
    let cal = shanghai();
    assert!(!cal.is_open(at(&cal, "2026-10-03 10:00")));
    assert_eq!(
        due(&cal, "2026-10-03 10:00", hours(1)),
        "2026-10-08 10:00 +08:00"
    );
    assert_eq!(
        cal.next_open(at(&cal, "2026-10-03 10:00")),
        Some(at(&cal, "2026-10-08 09:00"))
    );
}

#[test]
fn a_zero_target_is_due_at_once_even_when_closed() {
    let cal = shanghai();
    let closed = at(&cal, "2026-10-03 10:00");
    assert_eq!(cal.add(closed, SignedDuration::ZERO).unwrap(), closed);
    let open = at(&cal, "2026-09-21 10:00");
    assert_eq!(cal.add(open, SignedDuration::ZERO).unwrap(), open);
    assert!(cal.add(open, -mins(1)).is_err());
}

#[test]
fn the_spring_festival_example_closes_a_week_and_a_saturday_makes_up() {
    let cal = shanghai();
    // Fri 2027-02-05 17:00: 1h left; 02-06..02-13 closed (Sat..Sat); Sun 02-14 closed;
    // Mon 02-15 09:00 + 2h.
    assert_eq!(
        due(&cal, "2027-02-05 17:00", hours(3)),
        "2027-02-15 11:00 +08:00"
    );
    // Mon 02-15..Fri 02-19 is 40h; Sat 02-20 is a make-up day (9h).
    let from = at(&cal, "2027-02-15 00:00");
    assert_eq!(cal.between(from, at(&cal, "2027-02-22 00:00")), hours(49));
    assert!(cal.is_open(at(&cal, "2027-02-20 12:30")), "no lunch break");
}

#[test]
fn a_make_up_day_inside_a_holiday_range_is_open() {
    let mut s = spec(
        "Asia/Shanghai",
        weekly(&WEEKDAYS, &[("09:00", "12:00"), ("13:00", "18:00")]),
    );
    s.holidays = vec![holiday(date(2027, 2, 6), date(2027, 2, 14), "春节")];
    // A weekend inside the range, with its own lunch break (two entries, one date).
    s.workdays = vec![
        makeup(
            date(2027, 2, 7),
            time(9, 0, 0, 0),
            LocalEnd::At(time(12, 0, 0, 0)),
        ),
        makeup(
            date(2027, 2, 7),
            time(13, 0, 0, 0),
            LocalEnd::At(time(17, 0, 0, 0)),
        ),
    ];
    let cal = s.build().unwrap();
    assert_eq!(
        due(&cal, "2027-02-05 17:00", hours(2)),
        "2027-02-07 10:00 +08:00"
    );
    assert_eq!(
        due(&cal, "2027-02-05 17:00", hours(9)),
        "2027-02-15 10:00 +08:00"
    );
    assert!(!cal.is_open(at(&cal, "2027-02-07 12:30")));
    assert!(
        !cal.is_open(at(&cal, "2027-02-08 10:00")),
        "Mon in the holiday"
    );
}

#[test]
fn holidays_across_the_year_end_are_skipped() {
    let mut s = spec("Asia/Shanghai", weekly(&WEEKDAYS, &[("09:00", "18:00")]));
    s.holidays = vec![holiday(date(2026, 12, 31), date(2027, 1, 1), "元旦")];
    let cal = s.build().unwrap();
    // Wed 12-30 17:00 + 2h: 1h Wed, Thu/Fri closed, weekend, Mon 2027-01-04 +1h.
    assert_eq!(
        due(&cal, "2026-12-30 17:00", hours(2)),
        "2027-01-04 10:00 +08:00"
    );
}

#[test]
fn a_leap_day_is_an_ordinary_working_day() {
    let cal = spec("Asia/Shanghai", weekly(&ALL_DAYS, &[("09:00", "17:00")]))
        .build()
        .unwrap();
    assert_eq!(
        due(&cal, "2028-02-28 16:00", hours(9)),
        "2028-02-29 17:00 +08:00"
    );
    assert_eq!(
        due(&cal, "2028-02-28 16:00", hours(10)),
        "2028-03-01 10:00 +08:00"
    );
}

#[test]
fn an_evening_shift_to_24_00_runs_on_into_the_night_shift() {
    let mut w = weekly(&[Weekday::Monday], &[("18:00", "24:00")]);
    w.extend(weekly(&[Weekday::Tuesday], &[("00:00", "06:00")]));
    let cal = spec("Europe/Berlin", w).build().unwrap();
    assert_eq!(
        due(&cal, "2026-09-21 18:00", hours(8)),
        "2026-09-22 02:00 +02:00"
    );
    assert!(cal.is_open(at(&cal, "2026-09-22 00:00")));
    assert!(cal.is_open(at(&cal, "2026-09-21 23:59:59.999")));
    assert_eq!(
        cal.between(at(&cal, "2026-09-21 00:00"), at(&cal, "2026-09-23 00:00")),
        hours(12)
    );
    // The next opening after Tue 06:00 is the next Monday evening.
    assert_eq!(
        cal.next_open(at(&cal, "2026-09-22 06:00")),
        Some(at(&cal, "2026-09-28 18:00"))
    );
}

#[test]
fn new_york_dst_changes_the_real_length_of_wall_clock_hours() {
    let cal = spec("America/New_York", weekly(&ALL_DAYS, &[("01:00", "03:00")]))
        .build()
        .unwrap();
    let day = |d: Date| {
        let from = cal.time_zone().to_timestamp(d.at(0, 0, 0, 0)).unwrap();
        let to = cal
            .time_zone()
            .to_timestamp(d.tomorrow().unwrap().at(0, 0, 0, 0))
            .unwrap();
        cal.between(from, to)
    };
    assert_eq!(day(date(2026, 3, 7)), hours(2));
    assert_eq!(
        day(date(2026, 3, 8)),
        hours(1),
        "spring forward: 02:00 → 03:00"
    );
    assert_eq!(
        day(date(2026, 11, 1)),
        hours(3),
        "fall back: 01:00–02:00 twice"
    );
    // The first 01:30 of the fold is EDT; 2h later it is 02:30 EST.
    assert_eq!(
        due(&cal, "2026-11-01 01:30", hours(2)),
        "2026-11-01 02:30 -05:00"
    );

    let office = spec("America/New_York", weekly(&WEEKDAYS, &[("09:00", "17:00")]))
        .build()
        .unwrap();
    // Fri 17:00 EST + 8h = Mon 17:00 EDT: 71 real hours later, not 72.
    let from = at(&office, "2026-03-06 17:00");
    let to = office.add(from, hours(8)).unwrap();
    assert_eq!(local(&office, to), "2026-03-09 17:00 -04:00");
    assert_eq!(to.duration_since(from), hours(71));
    let from = at(&office, "2026-10-30 17:00");
    let to = office.add(from, hours(8)).unwrap();
    assert_eq!(to.duration_since(from), hours(73));
}

#[test]
fn a_gap_swallows_the_wall_clock_times_that_never_happen() {
    // On 2026-03-08 New York jumps from 02:00 to 03:00. `02:30` becomes 03:30 (compatible:
    // forward by the gap), so 02:30–03:15 is empty and 02:00–02:30 becomes 03:00–03:30.
    let mut w = weekly(&[Weekday::Sunday], &[("02:30", "03:15")]);
    w.extend(weekly(&[Weekday::Saturday], &[("02:00", "02:30")]));
    let cal = spec("America/New_York", w).build().unwrap();
    let sunday = at(&cal, "2026-03-08 00:00");
    assert_eq!(
        cal.between(sunday, sunday + hours(24)),
        SignedDuration::ZERO
    );
    assert_eq!(
        cal.between(sunday + hours(24 * 7), sunday + hours(24 * 8)),
        mins(45)
    );
    assert_eq!(
        cal.next_open(sunday),
        Some(at(&cal, "2026-03-14 02:00")),
        "the Saturday after"
    );
}

#[test]
fn a_day_that_never_happened_has_no_business_hours() {
    // Samoa moved across the date line: 2011-12-29 24:00 was followed by 2011-12-31 00:00.
    let cal = spec("Pacific/Apia", weekly(&ALL_DAYS, &[("09:00", "17:00")]))
        .build()
        .unwrap();
    let from = at(&cal, "2011-12-29 00:00");
    assert_eq!(cal.between(from, at(&cal, "2012-01-01 00:00")), hours(16));
    assert_eq!(
        due(&cal, "2011-12-29 16:00", hours(2)),
        "2011-12-31 10:00 +14:00"
    );
}

#[test]
fn a_fold_across_midnight_belongs_to_the_date_whose_midnight_came_first() {
    // Until 2011 St. John's fell back at 00:01 to 23:01 the day before, so on 2010-11-07
    // the wall read 23:01–00:01 twice. Sunday 00:00 first came at 02:30 UTC (the earlier
    // instant); the repeated Saturday evening after it belongs to Sunday.
    let cal = spec(
        "America/St_Johns",
        weekly(&[Weekday::Sunday], &[("00:00", "02:00")]),
    )
    .build()
    .unwrap();
    let sunday = at(&cal, "2010-11-07 00:00");
    assert_eq!(sunday.to_string(), "2010-11-07T02:30:00Z");
    let repeated_evening: Timestamp = "2010-11-07T03:01:00Z".parse().unwrap();
    assert_eq!(local(&cal, repeated_evening), "2010-11-06 23:31 -03:30");
    assert!(cal.is_open(repeated_evening));
    // 00:00 (02:30 UTC) to 02:00 NST (05:30 UTC): 3 real hours for a 2-hour interval.
    assert_eq!(cal.between(sunday, at(&cal, "2010-11-07 02:00")), hours(3));
}

#[test]
fn berlin_dst_sundays_are_one_hour_shorter_and_longer() {
    let cal = spec(
        "Europe/Berlin",
        weekly(&[Weekday::Sunday], &[("01:00", "04:00")]),
    )
    .build()
    .unwrap();
    let sunday = |d: Date| {
        let from = cal.time_zone().to_timestamp(d.at(0, 0, 0, 0)).unwrap();
        let to = cal
            .time_zone()
            .to_timestamp(d.tomorrow().unwrap().at(0, 0, 0, 0))
            .unwrap();
        cal.between(from, to)
    };
    assert_eq!(sunday(date(2026, 3, 22)), hours(3));
    assert_eq!(sunday(date(2026, 3, 29)), hours(2), "02:00 → 03:00");
    assert_eq!(sunday(date(2026, 10, 25)), hours(4), "03:00 → 02:00");
    assert_eq!(
        due(&cal, "2026-03-29 00:00", hours(2)),
        "2026-03-29 04:00 +02:00"
    );
}

#[test]
fn a_24x7_calendar_is_plain_elapsed_time() {
    let cal = always_open();
    assert!(cal.is_always_open());
    let from: Timestamp = "2026-03-08T06:30:00.5Z".parse().unwrap();
    for d in [SignedDuration::ZERO, mins(1), hours(49), hours(24 * 400)] {
        assert_eq!(cal.add(from, d).unwrap(), from + d);
        assert_eq!(cal.between(from, from + d), d);
    }
    // 24×7 in a DST zone is always open too, and counts real hours.
    let ny = spec("America/New_York", weekly(&ALL_DAYS, &[("00:00", "24:00")]))
        .build()
        .unwrap();
    assert!(ny.is_always_open());
    let sunday = at(&ny, "2026-03-08 00:00");
    assert_eq!(ny.add(sunday, hours(24)).unwrap(), sunday + hours(24));
}

#[test]
fn a_calendar_that_never_opens_again_fails_instead_of_looping() {
    let mut s = spec("Asia/Shanghai", Vec::new());
    s.workdays = vec![makeup(
        date(2026, 9, 27),
        time(9, 0, 0, 0),
        LocalEnd::EndOfDay,
    )];
    let cal = s.build().unwrap();
    let from = at(&cal, "2026-09-01 00:00");
    assert_eq!(
        cal.add(from, hours(15)).unwrap(),
        at(&cal, "2026-09-28 00:00")
    );
    assert!(cal.add(from, hours(16)).is_err());
    assert_eq!(cal.next_open(at(&cal, "2026-09-28 00:00")), None);

    // Every working weekday inside holidays for more than five years.
    let mut s = spec("Asia/Shanghai", weekly(&WEEKDAYS, &[("09:00", "18:00")]));
    s.holidays = (0..7)
        .map(|y| holiday(date(2027 + y, 1, 1), date(2027 + y, 12, 31), "closed"))
        .collect();
    let cal = s.build().unwrap();
    let err = cal.add(at(&cal, "2026-12-31 17:00"), hours(2)).unwrap_err();
    assert!(err.to_string().contains("5 years"), "{err}");
    assert_eq!(cal.next_open(at(&cal, "2027-01-01 00:00")), None);
}

#[test]
fn the_calendar_is_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Calendar>();
    let cal = shanghai();
    let copy = cal.clone();
    let from = at(&cal, "2026-09-25 17:00");
    let handle = std::thread::spawn(move || copy.add(from, hours(8)).unwrap());
    assert_eq!(handle.join().unwrap(), cal.add(from, hours(8)).unwrap());
    assert_eq!(
        format!("{cal:?}"),
        r#"Calendar { name: "Support", time_zone: "Asia/Shanghai", .. }"#
    );
}

fn reason(r: Result<Calendar, DomainError>) -> (&'static str, String) {
    match r.unwrap_err() {
        DomainError::Invalid { field, reason } => (field, reason),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn bad_calendars_are_rejected_with_the_path_of_the_mistake() {
    let good = || spec("Asia/Shanghai", weekly(&WEEKDAYS, &[("09:00", "18:00")]));

    let mut s = good();
    s.time_zone = "Mars/Olympus_Mons".into();
    let (field, why) = reason(s.build());
    assert_eq!(field, "time_zone");
    assert!(why.contains("Mars/Olympus_Mons"), "{why}");

    let mut s = good();
    s.name = " ".into();
    assert_eq!(reason(s.build()).0, "name");
    s.name = "x".repeat(121);
    assert_eq!(reason(s.build()).0, "name");

    let mut s = good();
    s.weekly
        .push(WeeklyInterval::parse("wed", "17:00", "19:00").unwrap());
    let (field, why) = reason(s.build());
    assert_eq!(field, "weekly");
    assert_eq!(
        why,
        "weekly[5] (17:00–19:00) overlaps weekly[2] (09:00–18:00)"
    );

    let mut s = good();
    s.weekly[1].end = LocalEnd::At(time(8, 0, 0, 0));
    assert_eq!(
        reason(s.build()),
        (
            "weekly",
            "weekly[1].end 08:00 must be later than its start 09:00".to_string()
        )
    );
    s.weekly[1].end = LocalEnd::At(time(9, 0, 0, 0));
    assert_eq!(reason(s.build()).0, "weekly");
    let mut s = good();
    s.weekly[0].start = time(9, 0, 0, 5);
    assert_eq!(
        reason(s.build()).1,
        "weekly[0].start must be a whole second"
    );

    let mut s = good();
    s.holidays = vec![holiday(date(2026, 10, 7), date(2026, 10, 1), "国庆节")];
    assert_eq!(
        reason(s.build()),
        (
            "holidays",
            "holidays[0].end_date 2026-10-01 must not be before its date 2026-10-07".to_string()
        )
    );
    s.holidays = vec![holiday(date(2026, 1, 1), date(2027, 1, 1), "a whole year")];
    assert!(s.build().is_ok(), "366 days is allowed");
    s.holidays = vec![holiday(date(2026, 1, 1), date(2027, 1, 2), "too long")];
    assert_eq!(
        reason(s.build()).1,
        "holidays[0] spans 367 days; at most 366"
    );

    let mut s = good();
    s.workdays = vec![
        makeup(date(2026, 9, 27), time(9, 0, 0, 0), LocalEnd::EndOfDay),
        makeup(
            date(2026, 9, 27),
            time(12, 0, 0, 0),
            LocalEnd::At(time(13, 0, 0, 0)),
        ),
    ];
    assert_eq!(
        reason(s.build()),
        (
            "workdays",
            "workdays[1] (12:00–13:00) overlaps workdays[0] (09:00–24:00)".to_string()
        )
    );

    let s = spec("Asia/Shanghai", Vec::new());
    assert_eq!(reason(s.build()).0, "weekly");

    let mut s = good();
    s.weekly = (0..1001)
        .map(|_| WeeklyInterval::parse("mon", "09:00", "10:00").unwrap())
        .collect();
    assert_eq!(reason(s.build()).1, "at most 1000 weekly intervals");

    assert!(matches!(
        WeeklyInterval::parse("funday", "09:00", "10:00"),
        Err(DomainError::Invalid { field: "day", .. })
    ));
    assert!(matches!(
        WeeklyInterval::parse("mon", "09:00", "25:00"),
        Err(DomainError::Invalid { field: "time", .. })
    ));
}

#[test]
fn touching_intervals_are_accepted_and_merged() {
    let cal = spec(
        "Asia/Shanghai",
        weekly(&WEEKDAYS, &[("09:00", "12:00"), ("12:00", "13:00")]),
    )
    .build()
    .unwrap();
    assert_eq!(
        due(&cal, "2026-09-21 11:00", hours(2)),
        "2026-09-21 13:00 +08:00"
    );
    assert!(cal.is_open(at(&cal, "2026-09-21 12:00")));
}

#[test]
fn the_zone_is_the_iana_zone_asked_for() {
    let cal = shanghai();
    assert_eq!(cal.time_zone(), &TimeZone::get("Asia/Shanghai").unwrap());
    assert_eq!(cal.name(), "Support");
}
