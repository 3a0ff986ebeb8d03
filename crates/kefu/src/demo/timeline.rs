//! When things happen in the demo: the ticket creations and steps of a [`Plan`] dated over
//! [`DAYS`] days, as offsets from the plan's origin (a midnight in the helpdesk's time
//! zone). Pure and deterministic like the rest of the plan; [`Plan::origin`] pins the
//! offsets to real time at load.
//!
//! The helpdesk is in China (UTC+8, no daylight saving time) and staffed 09:00–21:00 every
//! day: agents assign, reply, note and change statuses only then, and the first reply comes
//! sooner the higher the priority. Customers write while awake (07:00–23:00 in their own
//! time zone), minutes to days after the agent. The rule closes a solved ticket four days
//! after it was solved. How old a ticket is depends on where it ended: new ones are from
//! the last days, solved ones were solved in the last three days (older ones would have been
//! closed by the rule), closed ones are spread over the whole period.
//!
//! The timeline uses its own random stream: changing it reorders the tickets (numbers follow
//! creation) but changes no ticket's content.

use super::{
    plan::{Plan, Step, TicketSpec},
    rng::Rng,
};
use jiff::{SignedDuration, Timestamp};
use kefu_domain::{Channel, Priority, Status};

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// How many days of history the demo has.
const DAYS: i64 = 90;
/// The helpdesk's offset from UTC: China Standard Time.
const UTC_OFFSET: SignedDuration = SignedDuration::from_hours(8);
/// The rule closes solved tickets this long after they were solved.
const CLOSE_AFTER: SignedDuration = SignedDuration::from_hours(4 * 24);
/// When agents work, local time of day (from, until).
const SHIFT: (SignedDuration, SignedDuration) = (
    SignedDuration::from_hours(9),
    SignedDuration::from_hours(21),
);
/// When customers write, their own time of day (from, until).
const AWAKE: (SignedDuration, SignedDuration) = (
    SignedDuration::from_hours(7),
    SignedDuration::from_hours(23),
);

/// The end of the last day: tickets are planned as if this were "now".
const END: i64 = DAYS * DAY;
/// The workspace was set up this long before the first day, then customers were added.
const SETUP_BEFORE: i64 = 400 * DAY;
const SEED: u64 = 0x6B65_6675_7469_6D65;

/// Dates every ticket of `plan` and orders the tickets by creation (so that ticket numbers,
/// given in plan order, follow time).
pub(super) fn schedule(plan: &mut Plan) {
    let mut rng = Rng::new(SEED);
    for t in &mut plan.tickets {
        let shift = tz_shift(plan.customers[t.requester].tz);
        let (created, steps) = ticket_times(&mut rng, t, shift);
        t.created_at = SignedDuration::from_secs(created);
        t.step_times = steps.into_iter().map(SignedDuration::from_secs).collect();
    }
    plan.tickets.sort_by_key(|t| t.created_at);
}

/// When the workspace (teams, agents, organizations) was set up, 10:00 local time.
pub(super) fn setup_at() -> SignedDuration {
    SignedDuration::from_secs(-SETUP_BEFORE - DAY + 10 * HOUR)
}

/// When customer `i` of `n` was added: spread over the year before the first day, in order.
pub(super) fn customer_created_at(i: usize, n: usize) -> SignedDuration {
    let (i, n) = (i as i64, n.max(1) as i64);
    let gap = (SETUP_BEFORE - DAY) / n;
    // A fixed scatter below half a gap keeps the order.
    let jitter = (i * 7919 % 1000) * (gap / 2) / 1000;
    SignedDuration::from_secs(-SETUP_BEFORE + i * gap + jitter)
}

/// The latest moment of the plan, from its origin.
pub(super) fn last_activity(plan: &Plan) -> SignedDuration {
    plan.tickets
        .iter()
        .flat_map(|t| std::iter::once(&t.created_at).chain(&t.step_times))
        .copied()
        .max()
        .unwrap_or(SignedDuration::ZERO)
}

/// The origin that puts the plan's latest activity less than a day before `now` (and
/// never after it), at the planned local times of day: the latest local midnight `m` with
/// `m + last_activity <= now`.
pub(super) fn origin(plan: &Plan, now: Timestamp) -> Timestamp {
    let local = now.as_second() + UTC_OFFSET.as_secs() - last_activity(plan).as_secs();
    let midnight = local.div_euclid(DAY) * DAY - UTC_OFFSET.as_secs();
    Timestamp::from_second(midnight).expect("a plan origin near the present")
}

/// How far a customer's clock is from the helpdesk's (their local time = ours + shift).
/// Daylight saving time is ignored: "business-ish hours" is all the demo needs.
fn tz_shift(tz: &str) -> i64 {
    match tz {
        "Europe/London" => -8 * HOUR,
        "America/New_York" => -13 * HOUR,
        _ => 0,
    }
}

/// The first moment at or after `t` whose time of day is within `hours`; outside them,
/// a little after they begin (people clear the overnight backlog first thing).
fn within(rng: &mut Rng, t: i64, hours: (SignedDuration, SignedDuration), settle: i64) -> i64 {
    let (from, until) = (hours.0.as_secs(), hours.1.as_secs());
    let tod = t.rem_euclid(DAY);
    if (from..until).contains(&tod) {
        return t;
    }
    let day = t - tod + if tod < from { 0 } else { DAY };
    day + from + secs(rng, 0, settle)
}

/// When an agent gets to something that is ready at `t`.
fn agent_at(rng: &mut Rng, t: i64) -> i64 {
    within(rng, t, SHIFT, 45 * MIN)
}

/// When a customer (clock `shift` from ours) gets to something that is ready at `t`.
fn customer_at(rng: &mut Rng, t: i64, shift: i64) -> i64 {
    within(rng, t + shift, AWAKE, 2 * HOUR) - shift
}

/// Between `lo` and `hi` seconds.
fn secs(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    lo + rng.below((hi - lo + 1) as usize) as i64
}

/// How long until an agent first answers a customer, by priority.
fn response(rng: &mut Rng, p: Priority) -> i64 {
    match p {
        Priority::Urgent => secs(rng, 5 * MIN, 40 * MIN),
        Priority::High => secs(rng, 15 * MIN, 150 * MIN),
        Priority::Normal => secs(rng, 40 * MIN, 6 * HOUR),
        Priority::Low => secs(rng, 2 * HOUR, 20 * HOUR),
    }
}

/// How long a customer takes to answer an agent.
fn customer_delay(rng: &mut Rng) -> i64 {
    match rng.below(100) {
        0..50 => secs(rng, 20 * MIN, 4 * HOUR),
        50..85 => secs(rng, 4 * HOUR, DAY),
        _ => secs(rng, DAY, 3 * DAY),
    }
}

/// A time of day, local to whoever acts, drawn from when people contact a helpdesk.
fn contact_time(rng: &mut Rng, staffed: bool) -> i64 {
    let hours: Vec<(i64, u32)> = (0..24)
        .map(|h| {
            let w = match h {
                _ if staffed && !(9..21).contains(&h) => 0,
                0..6 => 1,
                6..8 | 23 => 2,
                8 | 20..23 => 4,
                12..14 | 18..20 => 6,
                _ => 8,
            };
            (h, w)
        })
        .collect();
    rng.weighted(&hours) * HOUR + secs(rng, 0, HOUR - 1)
}

/// `r` in 0..1, squared and scaled to `0..days`: mostly recent, a few old.
fn recent_days(rng: &mut Rng, days: i64) -> i64 {
    let r = rng.below(1000) as i64;
    r * r * days / 1_000_000
}

/// `0..days`, more likely the larger (density growing linearly).
fn older_days(rng: &mut Rng, days: i64) -> i64 {
    (rng.below(1_000_000) as i64).isqrt() * days / 1000
}

/// Who does a step, which decides when they can.
enum By {
    Agent,
    Customer,
    Rule,
}

/// When ticket `t` was created and when each of its steps happened, in seconds from the
/// origin. The requester's clock is `shift` from ours.
fn ticket_times(rng: &mut Rng, t: &TicketSpec, shift: i64) -> (i64, Vec<i64>) {
    // Phone calls and chats happen while agents are there; the rest whenever.
    let staffed = t.logged_by.is_some() || t.channel == Channel::Chat;
    let age = match t.status {
        Status::New => rng.weighted(&[(0, 55), (1, 30), (2, 15)]),
        Status::Open => recent_days(rng, 60),
        Status::Pending => 1 + recent_days(rng, 40),
        Status::Hold => 1 + recent_days(rng, 60),
        // Moved to the last days below, once its length is known.
        Status::Solved => 10,
        // More of them in the older weeks, where the open ones thin out.
        Status::Closed => 6 + older_days(rng, DAYS - 7),
    };
    let day = (DAYS - 1 - age) * DAY;
    let created = if staffed {
        day + contact_time(rng, true)
    } else {
        day + contact_time(rng, false) - shift
    };

    let mut times = Vec::with_capacity(t.steps.len());
    let mut prev = created;
    // A public customer message waits for an agent's public reply (a ticket an agent
    // logged from a call starts with the agent's message).
    let mut customer_waiting = t.logged_by.is_none();
    let mut replied = false;
    let mut solved = None;
    for step in &t.steps {
        // How long after the previous step it is ready to happen, and who does it.
        let (delay, by) = match step {
            Step::Assign { .. } => (secs(rng, 3 * MIN, 90 * MIN), By::Agent),
            Step::Reply { status, .. } => {
                let delay = if *status == Some(Status::Solved) && replied {
                    // The fix after a first answer and a follow-up takes a while.
                    secs(rng, 2 * HOUR, 2 * DAY)
                } else if customer_waiting && t.channel == Channel::Chat && !replied {
                    // Someone is at the chat window.
                    secs(rng, MIN, 15 * MIN)
                } else if customer_waiting {
                    response(rng, t.priority)
                } else {
                    secs(rng, 10 * MIN, 2 * HOUR)
                };
                customer_waiting = false;
                replied = true;
                (delay, By::Agent)
            }
            Step::Customer { .. } => {
                // An answer to the agent, or a nudge when nothing moved for a while.
                let delay = if customer_waiting || t.status == Status::Hold {
                    secs(rng, DAY, 3 * DAY)
                } else {
                    customer_delay(rng)
                };
                customer_waiting = true;
                (delay, By::Customer)
            }
            Step::Note { .. } => (secs(rng, 5 * MIN, 90 * MIN), By::Agent),
            Step::SetStatus { .. } => (secs(rng, MIN, 15 * MIN), By::Agent),
            Step::CloseByRule => {
                // Four days after solving; the rule runs hourly.
                let due = solved.unwrap_or(prev) + CLOSE_AFTER.as_secs() - prev;
                (due + secs(rng, 5 * MIN, 60 * MIN), By::Rule)
            }
        };
        let at = match by {
            By::Agent => agent_at(rng, prev + delay),
            By::Customer => customer_at(rng, prev + delay, shift),
            By::Rule => prev + delay,
        };
        if matches!(
            step,
            Step::Reply {
                status: Some(Status::Solved),
                ..
            }
        ) {
            solved = Some(at);
        }
        // Every delay is at least a minute and placing only moves forward: strictly after.
        debug_assert!(at > prev);
        prev = at;
        times.push(at);
    }

    // Whole days keep every time of day.
    let last = times.last().copied().unwrap_or(created);
    let days = if t.status == Status::Solved {
        // Solved within the last three days (older ones would be closed by now).
        (END - last).div_euclid(DAY) - rng.below(3) as i64
    } else if last > END {
        -(last - END + DAY - 1).div_euclid(DAY)
    } else {
        0
    };
    let moved = |x: i64| x + days * DAY;
    (moved(created), times.into_iter().map(moved).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoSize;

    fn in_hours(t: i64, hours: (SignedDuration, SignedDuration)) -> bool {
        (hours.0.as_secs()..hours.1.as_secs()).contains(&t.rem_euclid(DAY))
    }

    #[test]
    fn tickets_are_created_in_plan_order_and_their_steps_follow_within_the_period() {
        let plan = Plan::generate(DemoSize::FULL);
        let end = SignedDuration::from_secs(END);
        assert!(plan.tickets.is_sorted_by_key(|t| t.created_at));
        for (i, t) in plan.tickets.iter().enumerate() {
            assert_eq!(t.step_times.len(), t.steps.len(), "ticket {i}");
            let times: Vec<_> = std::iter::once(t.created_at)
                .chain(t.step_times.iter().copied())
                .collect();
            assert!(
                times.windows(2).all(|w| w[0] < w[1]),
                "ticket {i}: {times:?}"
            );
            assert!(t.created_at >= SignedDuration::ZERO, "ticket {i}");
            assert!(*times.last().unwrap() <= end, "ticket {i}");
        }
        let first = plan.tickets.first().unwrap().created_at;
        let last = plan.tickets.last().unwrap().created_at;
        assert!(last - first > SignedDuration::from_hours(80 * 24));
        assert!(last_activity(&plan) > end - SignedDuration::from_hours(12));
        // Customers and the workspace come before the first ticket.
        let n = plan.customers.len();
        let customers: Vec<_> = (0..n).map(|i| customer_created_at(i, n)).collect();
        assert!(customers.is_sorted());
        assert!(setup_at() < customers[0] && customers[n - 1] < first);
    }

    #[test]
    fn agents_work_in_their_shift_and_customers_while_awake() {
        let plan = Plan::generate(DemoSize::FULL);
        for t in &plan.tickets {
            let shift = tz_shift(plan.customers[t.requester].tz);
            if t.logged_by.is_some() || t.channel == Channel::Chat {
                assert!(in_hours(t.created_at.as_secs(), SHIFT), "{t:?}");
            }
            for (step, at) in t.steps.iter().zip(&t.step_times) {
                let at = at.as_secs();
                match step {
                    Step::Customer { .. } => assert!(in_hours(at + shift, AWAKE), "{t:?}"),
                    Step::CloseByRule => {}
                    _ => assert!(in_hours(at, SHIFT), "{step:?} at {}", at % DAY),
                }
            }
        }
    }

    #[test]
    fn solved_tickets_are_recent_and_the_rule_closes_four_days_after_solving() {
        let plan = Plan::generate(DemoSize::FULL);
        let end = SignedDuration::from_secs(END);
        let solved_at = |t: &TicketSpec| {
            let i = t
                .steps
                .iter()
                .rposition(|s| {
                    matches!(
                        s,
                        Step::Reply {
                            status: Some(Status::Solved),
                            ..
                        }
                    )
                })
                .expect("a solving reply");
            t.step_times[i]
        };
        for t in &plan.tickets {
            match t.status {
                Status::Solved => {
                    let s = solved_at(t);
                    assert!(s > end - SignedDuration::from_hours(3 * 24), "{t:?}");
                    assert!(s > t.created_at, "{t:?}");
                }
                Status::Closed => {
                    let closed = *t.step_times.last().unwrap();
                    assert!(closed - solved_at(t) >= CLOSE_AFTER, "{t:?}");
                }
                Status::New => {
                    assert!(t.created_at > end - SignedDuration::from_hours(4 * 24));
                }
                _ => {}
            }
        }
        // Most tickets take days from creation to solving.
        let days: Vec<_> = plan
            .tickets
            .iter()
            .filter(|t| t.status == Status::Closed)
            .map(|t| (solved_at(t) - t.created_at).as_secs() / DAY)
            .collect();
        assert!(days.iter().filter(|&&d| d >= 1).count() * 2 > days.len());
    }

    #[test]
    fn the_origin_puts_the_last_activity_less_than_a_day_ago_at_its_local_time() {
        let plan = Plan::generate(DemoSize::SMALL);
        let last = last_activity(&plan);
        for h in 0..48 {
            let now = Timestamp::from_second(1_767_225_600 + h * 1800 + 17).unwrap();
            let origin = plan.origin(now);
            let latest = origin + last;
            assert!(latest <= now, "{now}");
            assert!(
                latest.duration_until(now) < SignedDuration::from_hours(24),
                "{now}"
            );
            let local = origin.as_second() + UTC_OFFSET.as_secs();
            assert_eq!(local.rem_euclid(DAY), 0, "a local midnight");
        }
    }
}
