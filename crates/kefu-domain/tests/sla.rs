//! The SLA clock state machine: every metric's start, pause, fulfilment, warnings and
//! breach; business time; targets changing with priority (never back-dated); policy
//! versions; the escalation ladder; idempotent timers.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kefu_domain::sla::*;
use kefu_domain::*;

const CAL: CalendarId = CalendarId(7);

fn t0() -> Timestamp {
    // Friday 2026-10-09 09:00 in Shanghai (01:00 UTC).
    "2026-10-09T01:00:00Z".parse().unwrap()
}

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn shanghai() -> Calendar {
    let mut weekly = Vec::new();
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        weekly.push(WeeklyInterval::parse(d, "09:00", "12:00").unwrap());
        weekly.push(WeeklyInterval::parse(d, "13:00", "18:00").unwrap());
    }
    CalendarSpec {
        name: "Shanghai".into(),
        time_zone: "Asia/Shanghai".into(),
        weekly,
        holidays: vec![],
        workdays: vec![],
    }
    .build()
    .unwrap()
}

fn ticket(priority: Priority) -> Ticket {
    Ticket {
        id: TicketId(1),
        number: 1,
        subject: "打印机坏了".into(),
        status: Status::New,
        priority,
        ticket_type: TicketType::Incident,
        channel: Channel::Email,
        requester_id: CustomerId(1),
        organization_id: None,
        assignee_id: None,
        team_id: None,
        tier: Tier::FRONTLINE,
        tags: vec![],
        custom_fields: "{}".into(),
        follow_up_of: None,
        created_at: t0(),
        updated_at: t0(),
        solved_at: None,
        closed_at: None,
    }
}

fn target(metric: Metric, priority: Priority, minutes: u32, business: bool) -> SlaTarget {
    SlaTarget {
        metric,
        priority,
        minutes,
        business,
    }
}

fn policy(id: i64, version: i64, def: SlaPolicyDef) -> PolicyVersion {
    let mut def = def;
    def.validate().unwrap();
    PolicyVersion {
        id: SlaPolicyId(id),
        version,
        name: format!("p{id}"),
        def: Arc::new(def),
    }
}

fn standard() -> PolicyVersion {
    policy(
        1,
        1,
        SlaPolicyDef {
            calendar_id: Some(CAL),
            targets: vec![
                target(Metric::FirstReply, Priority::Normal, 60, false),
                target(Metric::FirstReply, Priority::Urgent, 30, false),
                target(Metric::NextReply, Priority::Normal, 120, false),
                target(Metric::PeriodicUpdate, Priority::Normal, 240, false),
                target(Metric::RequesterWait, Priority::Normal, 600, false),
                target(Metric::AgentWork, Priority::Normal, 480, false),
                target(Metric::Resolution, Priority::Normal, 2 * 24 * 60, false),
                target(Metric::Resolution, Priority::High, 8 * 60, true),
            ],
            warn_at: vec![90, 75],
            ..Default::default()
        },
    )
}

struct World {
    policies: Vec<PolicyVersion>,
    pinned: Option<PolicyVersion>,
    calendars: HashMap<CalendarId, Calendar>,
    facts: Facts,
}

impl World {
    fn new(policies: Vec<PolicyVersion>) -> World {
        World {
            policies,
            pinned: None,
            calendars: HashMap::from([(CAL, shanghai())]),
            facts: Facts::STANDARD,
        }
    }
    fn eval(
        &self,
        before: Option<&Ticket>,
        t: &Ticket,
        sla: &TicketSla,
        signal: Signal,
        now: Timestamp,
    ) -> Evaluation {
        let env = SlaEnv {
            policies: &self.policies,
            pinned: self.pinned.as_ref(),
            calendars: &self.calendars,
            facts: self.facts,
        };
        evaluate(&env, before, t, sla, signal, now)
    }
}

fn created(w: &World, t: &Ticket) -> TicketSla {
    let e = w.eval(
        None,
        t,
        &TicketSla::default(),
        Signal::Created {
            by: ActorKind::Customer,
            public: true,
        },
        t.created_at,
    );
    e.sla
}

fn transitions(e: &Evaluation) -> Vec<(Option<Metric>, SlaTransition, String)> {
    e.changes
        .iter()
        .filter_map(|c| match c {
            Change::Sla {
                metric,
                transition,
                detail,
            } => Some((*metric, *transition, detail.clone())),
            _ => None,
        })
        .collect()
}

fn has(e: &Evaluation, metric: Metric, tr: SlaTransition) -> bool {
    transitions(e)
        .iter()
        .any(|(m, t, _)| *m == Some(metric) && *t == tr)
}

#[test]
fn a_customer_ticket_starts_first_reply_and_the_total_clocks() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let e = w.eval(
        None,
        &t,
        &TicketSla::default(),
        Signal::Created {
            by: ActorKind::Customer,
            public: true,
        },
        t0(),
    );
    assert_eq!(e.sla.policy, Some((SlaPolicyId(1), 1)));
    let fr = e.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Active);
    assert_eq!(fr.due, Some(t0() + mins(60)));
    // Warnings sorted: 75 % first.
    assert_eq!(fr.next_fire, Some(t0() + mins(45)));
    for m in [Metric::RequesterWait, Metric::AgentWork, Metric::Resolution] {
        assert_eq!(e.sla.clock(m).unwrap().state, ClockState::Active, "{m}");
    }
    assert!(e.sla.clock(Metric::NextReply).is_none());
    assert!(e.sla.clock(Metric::PeriodicUpdate).is_none());
    assert!(transitions(&e)[0].1 == SlaTransition::Apply);
}

#[test]
fn an_agent_created_ticket_with_a_public_message_has_no_first_reply_clock() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let e = w.eval(
        None,
        &t,
        &TicketSla::default(),
        Signal::Created {
            by: ActorKind::Agent,
            public: true,
        },
        t0(),
    );
    assert!(e.sla.clock(Metric::FirstReply).is_none());
    assert!(e.sla.clock(Metric::PeriodicUpdate).is_some());
}

#[test]
fn the_first_public_agent_reply_fulfils_first_reply_and_starts_periodic_updates() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    let mut open = t.clone();
    open.status = Status::Open;
    let e = w.eval(
        Some(&t),
        &open,
        &sla,
        Signal::Message {
            by: ActorKind::Agent,
            public: true,
        },
        t0() + mins(20),
    );
    let fr = e.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Achieved);
    assert_eq!(fr.elapsed, mins(20));
    assert_eq!(fr.fulfilled_at, Some(t0() + mins(20)));
    let pu = e.sla.clock(Metric::PeriodicUpdate).unwrap();
    assert_eq!(pu.due, Some(t0() + mins(20 + 240)));
    // An internal note fulfils nothing.
    let e2 = w.eval(
        Some(&open),
        &open,
        &e.sla,
        Signal::Message {
            by: ActorKind::Agent,
            public: false,
        },
        t0() + mins(30),
    );
    assert!(e2.changes.is_empty(), "{:?}", e2.changes);
}

#[test]
fn warnings_and_breach_fire_once_at_their_instants() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    // 44 minutes: nothing yet.
    let e = w.eval(Some(&t), &t, &sla, Signal::Tick, t0() + mins(44));
    assert!(e.changes.is_empty());
    // 46 minutes: the 75 % warning, once.
    let e = w.eval(Some(&t), &t, &sla, Signal::Tick, t0() + mins(46));
    assert!(has(&e, Metric::FirstReply, SlaTransition::Warn));
    let fr = e.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.warned, 1);
    assert_eq!(fr.next_fire, Some(t0() + mins(54)));
    let again = w.eval(Some(&t), &t, &e.sla, Signal::Tick, t0() + mins(46));
    assert!(
        again.changes.is_empty(),
        "a timer firing twice changes nothing"
    );
    assert_eq!(again.sla, e.sla);
    // A late timer at 70 minutes: the 90 % warning is skipped by the breach, dated at 60.
    let late = w.eval(Some(&t), &t, &e.sla, Signal::Tick, t0() + mins(70));
    let fr = late.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fr.breached_at, Some(t0() + mins(60)));
    assert_eq!(fr.next_fire, None);
    // Replying later keeps it breached, and fulfilled.
    let mut open = t.clone();
    open.status = Status::Open;
    let r = w.eval(
        Some(&t),
        &open,
        &late.sla,
        Signal::Message {
            by: ActorKind::Agent,
            public: true,
        },
        t0() + mins(80),
    );
    let fr = r.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fr.fulfilled_at, Some(t0() + mins(80)));
    assert_eq!(fr.elapsed, mins(80));
}

/// The store finds clocks due soon through the timer index alone: a running clock's next
/// timer (a warning or the breach) is never later than its due time.
fn assert_timers_not_after_due(sla: &TicketSla) {
    for c in sla.clocks.iter().filter(|c| c.state == ClockState::Active) {
        if let Some(due) = c.due {
            let fire = c
                .next_fire
                .unwrap_or_else(|| panic!("{c:?} has a due time but no timer"));
            assert!(fire <= due, "{c:?}");
        }
    }
}

#[test]
fn a_running_clock_fires_no_later_than_it_is_due() {
    let w = World::new(vec![standard()]);
    let mut t = ticket(Priority::High);
    t.created_at = "2026-10-09T09:00:00Z".parse().unwrap();
    let mut sla = created(&w, &t);
    assert_timers_not_after_due(&sla);
    // Warnings at 75 % and 90 %, business and calendar time, through a weekend.
    for m in (0..4 * 24 * 60).step_by(37) {
        let e = w.eval(Some(&t), &t, &sla, Signal::Tick, t.created_at + mins(m));
        assert_timers_not_after_due(&e.sla);
        sla = e.sla;
    }
}

#[test]
fn a_reply_after_the_due_time_before_the_timer_still_breaches() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    let mut open = t.clone();
    open.status = Status::Open;
    let e = w.eval(
        Some(&t),
        &open,
        &sla,
        Signal::Message {
            by: ActorKind::Agent,
            public: true,
        },
        t0() + mins(61),
    );
    let fr = e.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fr.breached_at, Some(t0() + mins(60)));
}

#[test]
fn pending_pauses_requester_wait_and_agent_work_but_not_resolution() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    let mut pending = t.clone();
    pending.status = Status::Pending;
    let e = w.eval(Some(&t), &pending, &sla, Signal::Changed, t0() + mins(100));
    for m in [Metric::RequesterWait, Metric::AgentWork] {
        let c = e.sla.clock(m).unwrap();
        assert_eq!(c.state, ClockState::Paused, "{m}");
        assert_eq!(c.elapsed, mins(100));
        assert_eq!(c.due, None);
    }
    assert_eq!(
        e.sla.clock(Metric::Resolution).unwrap().state,
        ClockState::Active
    );
    // Two hours later the customer answers: open again, requester wait resumes and its
    // due time moved by the paused two hours.
    let mut open = pending.clone();
    open.status = Status::Open;
    let r = w.eval(
        Some(&pending),
        &open,
        &e.sla,
        Signal::Changed,
        t0() + mins(220),
    );
    let rw = r.sla.clock(Metric::RequesterWait).unwrap();
    assert_eq!(rw.state, ClockState::Active);
    assert_eq!(rw.due, Some(t0() + mins(600 + 120)));
    assert!(has(&r, Metric::RequesterWait, SlaTransition::Resume));
}

#[test]
fn hold_pauses_agent_work_only_and_policies_choose_their_own_pause_statuses() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    let mut hold = t.clone();
    hold.status = Status::Hold;
    let e = w.eval(Some(&t), &hold, &sla, Signal::Changed, t0() + mins(10));
    assert_eq!(
        e.sla.clock(Metric::AgentWork).unwrap().state,
        ClockState::Paused
    );
    assert_eq!(
        e.sla.clock(Metric::RequesterWait).unwrap().state,
        ClockState::Active
    );

    let mut def = (*standard().def).clone();
    def.pauses = vec![(Metric::RequesterWait, vec![Status::Hold, Status::Pending])];
    let w = World::new(vec![policy(1, 1, def)]);
    let sla = created(&w, &t);
    let e = w.eval(Some(&t), &hold, &sla, Signal::Changed, t0() + mins(10));
    assert_eq!(
        e.sla.clock(Metric::RequesterWait).unwrap().state,
        ClockState::Paused
    );
}

#[test]
fn solving_fulfils_everything_and_reopening_resumes_the_total_clocks() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    let mut solved = t.clone();
    solved.status = Status::Solved;
    let e = w.eval(Some(&t), &solved, &sla, Signal::Changed, t0() + mins(30));
    for c in &e.sla.clocks {
        assert_eq!(c.state, ClockState::Achieved, "{}", c.metric);
        assert!(c.next_fire.is_none());
    }
    let mut open = solved.clone();
    open.status = Status::Open;
    let r = w.eval(
        Some(&solved),
        &open,
        &e.sla,
        Signal::Message {
            by: ActorKind::Customer,
            public: true,
        },
        t0() + mins(90),
    );
    let res = r.sla.clock(Metric::Resolution).unwrap();
    assert_eq!(res.state, ClockState::Active);
    assert_eq!(res.elapsed, mins(30));
    assert_eq!(res.due, Some(t0() + mins(90 + 2 * 24 * 60 - 30)));
    // First reply stays achieved; the customer's message starts no first reply again
    // (no agent replied yet, but the old instance was fulfilled by solving).
    let fr = r.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Active);
    assert_eq!(fr.started_at, t0() + mins(90));
}

#[test]
fn next_reply_starts_at_the_first_unanswered_customer_message() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    let mut open = t.clone();
    open.status = Status::Open;
    let customer = Signal::Message {
        by: ActorKind::Customer,
        public: true,
    };
    let agent = Signal::Message {
        by: ActorKind::Agent,
        public: true,
    };
    let a = w.eval(Some(&t), &open, &sla, agent, t0() + mins(10));
    let c1 = w.eval(Some(&open), &open, &a.sla, customer, t0() + mins(20));
    let c2 = w.eval(Some(&open), &open, &c1.sla, customer, t0() + mins(50));
    let nr = c2.sla.clock(Metric::NextReply).unwrap();
    assert_eq!(nr.started_at, t0() + mins(20));
    assert_eq!(nr.due, Some(t0() + mins(140)));
    let a2 = w.eval(Some(&open), &open, &c2.sla, agent, t0() + mins(100));
    let nr = a2.sla.clock(Metric::NextReply).unwrap();
    assert_eq!(nr.state, ClockState::Achieved);
    assert_eq!(nr.elapsed, mins(80));
    // The periodic update restarted at the second reply.
    let pu = a2.sla.clock(Metric::PeriodicUpdate).unwrap();
    assert_eq!(pu.started_at, t0() + mins(100));
    assert!(has(&a2, Metric::PeriodicUpdate, SlaTransition::Fulfil));
}

#[test]
fn a_higher_priority_brings_a_shorter_target_and_breaches_now_not_back_dated() {
    let w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    let mut urgent = t.clone();
    urgent.priority = Priority::Urgent;
    let e = w.eval(Some(&t), &urgent, &sla, Signal::Changed, t0() + mins(45));
    let fr = e.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.target, mins(30));
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fr.breached_at, Some(t0() + mins(45)));
    // Urgent has no resolution target: that clock is cancelled.
    assert!(e.sla.clock(Metric::Resolution).is_none());
    assert!(has(&e, Metric::Resolution, SlaTransition::Cancel));

    // A shorter target not yet exceeded moves the due time.
    let e = w.eval(Some(&t), &urgent, &sla, Signal::Changed, t0() + mins(10));
    let fr = e.sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Active);
    assert_eq!(fr.due, Some(t0() + mins(30)));
}

#[test]
fn business_targets_count_only_working_hours() {
    let w = World::new(vec![standard()]);
    // High priority: 8 business hours of resolution. Created Friday 17:00 Shanghai.
    let mut t = ticket(Priority::High);
    t.created_at = "2026-10-09T09:00:00Z".parse().unwrap();
    let sla = created(&w, &t);
    let res = sla.clock(Metric::Resolution).unwrap();
    // 1 h on Friday, then Monday 09:00–12:00, 13:00–17:00 → Monday 17:00 (09:00 UTC).
    assert_eq!(
        res.due,
        Some("2026-10-12T09:00:00Z".parse::<Timestamp>().unwrap())
    );
    // Saturday 10:00 local: one business hour counted, nothing over the weekend; pending
    // does not pause resolution.
    let sat: Timestamp = "2026-10-10T02:00:00Z".parse().unwrap();
    let mut pending = t.clone();
    pending.status = Status::Pending;
    let e = w.eval(Some(&t), &pending, &sla, Signal::Changed, sat);
    let res = e.sla.clock(Metric::Resolution).unwrap();
    assert_eq!(res.state, ClockState::Active);
    assert_eq!(
        res.elapsed_at(sat, Some(&shanghai())),
        SignedDuration::from_hours(1)
    );
}

#[test]
fn a_calendar_change_moves_the_due_time_of_running_clocks_only() {
    let mut w = World::new(vec![standard()]);
    let mut t = ticket(Priority::High);
    t.created_at = "2026-10-09T09:00:00Z".parse().unwrap();
    let sla = created(&w, &t);
    // Monday becomes a holiday.
    let mut spec_weekly = Vec::new();
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        spec_weekly.push(WeeklyInterval::parse(d, "09:00", "12:00").unwrap());
        spec_weekly.push(WeeklyInterval::parse(d, "13:00", "18:00").unwrap());
    }
    let cal = CalendarSpec {
        name: "Shanghai".into(),
        time_zone: "Asia/Shanghai".into(),
        weekly: spec_weekly,
        holidays: vec![Holiday {
            date: jiff::civil::date(2026, 10, 12),
            end_date: jiff::civil::date(2026, 10, 12),
            name: "x".into(),
        }],
        workdays: vec![],
    }
    .build()
    .unwrap();
    w.calendars.insert(CAL, cal);
    let now: Timestamp = "2026-10-09T09:30:00Z".parse().unwrap();
    let e = w.eval(Some(&t), &t, &sla, Signal::Recompute, now);
    assert!(e.changes.is_empty());
    assert_eq!(
        e.sla.clock(Metric::Resolution).unwrap().due,
        Some("2026-10-13T09:00:00Z".parse::<Timestamp>().unwrap())
    );
}

#[test]
fn tickets_keep_their_policy_version_until_reapplied() {
    let mut w = World::new(vec![standard()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    // Version 2 halves the first reply target.
    let mut def = (*standard().def).clone();
    def.targets[0].minutes = 30;
    let v1 = w.policies[0].clone();
    w.policies = vec![policy(1, 2, def)];
    w.pinned = Some(v1);
    let e = w.eval(Some(&t), &t, &sla, Signal::Changed, t0() + mins(5));
    assert_eq!(e.sla.policy, Some((SlaPolicyId(1), 1)));
    assert_eq!(e.sla.clock(Metric::FirstReply).unwrap().target, mins(60));
    let r = w.eval(Some(&t), &t, &sla, Signal::Reapply, t0() + mins(5));
    assert_eq!(r.sla.policy, Some((SlaPolicyId(1), 2)));
    assert_eq!(r.sla.clock(Metric::FirstReply).unwrap().target, mins(30));
    assert_eq!(r.sla.clock(Metric::FirstReply).unwrap().elapsed, mins(5));
}

#[test]
fn conditions_pick_the_first_matching_policy() {
    let vip = policy(
        2,
        1,
        SlaPolicyDef {
            conditions: SlaConditions {
                segments: vec![Segment::Vip],
                ..Default::default()
            },
            targets: vec![target(Metric::FirstReply, Priority::Normal, 15, false)],
            ..Default::default()
        },
    );
    let mut w = World::new(vec![vip, standard()]);
    let t = ticket(Priority::Normal);
    assert_eq!(created(&w, &t).policy, Some((SlaPolicyId(1), 1)));
    w.facts = Facts {
        customer_segment: Segment::Standard,
        organization_segment: Some(Segment::Vip),
    };
    let sla = created(&w, &t);
    assert_eq!(sla.policy, Some((SlaPolicyId(2), 1)));
    assert_eq!(sla.clock(Metric::FirstReply).unwrap().target, mins(15));

    let cond = SlaConditions {
        tags: vec![Tag::parse("printer").unwrap()],
        teams: vec![TeamId(3)],
        ..Default::default()
    };
    let mut t2 = ticket(Priority::Normal);
    assert!(!cond.matches(&t2, &Facts::STANDARD));
    t2.team_id = Some(TeamId(3));
    t2.tags = vec![Tag::parse("printer").unwrap()];
    assert!(cond.matches(&t2, &Facts::STANDARD));
}

fn laddered() -> PolicyVersion {
    let mut def = (*standard().def).clone();
    def.ladders = vec![
        Ladder {
            kind: LadderKind::Default,
            steps: vec![
                LadderStep {
                    tier: Tier::new(1).unwrap(),
                    max_minutes: Some(24 * 60),
                    business: false,
                    on_warn: vec![EscalationAction::Notify(Recipient::Assignee)],
                    on_breach: vec![
                        EscalationAction::Notify(Recipient::TeamSupervisors),
                        EscalationAction::RaiseTier,
                        EscalationAction::AssignTeam(TeamId(9)),
                    ],
                },
                LadderStep {
                    tier: Tier::new(2).unwrap(),
                    max_minutes: Some(4 * 60),
                    business: false,
                    on_warn: vec![],
                    on_breach: vec![EscalationAction::RaiseTier],
                },
            ],
        },
        Ladder {
            kind: LadderKind::Complaint,
            steps: vec![LadderStep {
                tier: Tier::new(1).unwrap(),
                max_minutes: Some(60),
                business: false,
                on_warn: vec![],
                on_breach: vec![
                    EscalationAction::RaiseTier,
                    EscalationAction::RaisePriority,
                    EscalationAction::Notify(Recipient::Supervisors),
                ],
            }],
        },
    ];
    policy(1, 1, def)
}

#[test]
fn breaches_and_warnings_run_the_ladder_step_of_the_tier() {
    let w = World::new(vec![laddered()]);
    let t = ticket(Priority::Normal);
    let sla = created(&w, &t);
    assert_eq!(
        sla.clock(Metric::TierTime).unwrap().due,
        Some(t0() + mins(24 * 60))
    );
    // 75 % of first reply: the tier-1 warning action.
    let e = w.eval(Some(&t), &t, &sla, Signal::Tick, t0() + mins(46));
    assert_eq!(e.escalations.len(), 1);
    assert_eq!(
        e.escalations[0].actions,
        vec![EscalationAction::Notify(Recipient::Assignee)]
    );
    // The breach: notify the team's supervisors, raise the tier, reassign.
    let e = w.eval(Some(&t), &t, &e.sla, Signal::Tick, t0() + mins(61));
    assert_eq!(e.escalations.len(), 1);
    let (patch, notify) = escalation_patch(&t, &e.escalations);
    assert_eq!(patch.tier, Some(Tier::new(2).unwrap()));
    assert_eq!(patch.team_id, Some(Some(TeamId(9))));
    assert_eq!(notify.len(), 1);
    assert!(
        transitions(&e)
            .iter()
            .any(|(_, tr, _)| *tr == SlaTransition::Escalate)
    );
    // Applied by the caller, the new tier restarts the tier clock with tier 2's limit.
    let (t2, _) = apply_patch(&t, &patch, Actor::Rule, t0() + mins(61)).unwrap();
    let e2 = w.eval(Some(&t), &t2, &e.sla, Signal::Changed, t0() + mins(61));
    let tt = e2.sla.clock(Metric::TierTime).unwrap();
    assert_eq!(tt.target, mins(4 * 60));
    assert_eq!(tt.due, Some(t0() + mins(61 + 240)));
    assert!(e2.escalations.is_empty());
}

#[test]
fn complaints_use_their_own_ladder_and_max_time_escalates_without_a_target() {
    let w = World::new(vec![laddered()]);
    let mut t = ticket(Priority::Low); // no targets at all for low priority
    t.ticket_type = TicketType::Complaint;
    let sla = created(&w, &t);
    assert_eq!(sla.clocks.len(), 1);
    let e = w.eval(Some(&t), &t, &sla, Signal::Tick, t0() + mins(61));
    assert_eq!(
        e.sla.clock(Metric::TierTime).unwrap().state,
        ClockState::Breached
    );
    let (patch, notify) = escalation_patch(&t, &e.escalations);
    assert_eq!(patch.tier, Some(Tier::new(2).unwrap()));
    assert_eq!(patch.priority, Some(Priority::Normal));
    assert_eq!(notify[0].0, Recipient::Supervisors);
}

#[test]
fn validation_names_the_problem() {
    let mut def = SlaPolicyDef {
        targets: vec![target(Metric::FirstReply, Priority::Normal, 60, true)],
        ..Default::default()
    };
    let err = def.validate().unwrap_err().to_string();
    assert!(err.contains("calendar_id"), "{err}");
    let mut def = SlaPolicyDef {
        targets: vec![
            target(Metric::FirstReply, Priority::Normal, 60, false),
            target(Metric::FirstReply, Priority::Normal, 30, false),
        ],
        ..Default::default()
    };
    assert!(def.validate().unwrap_err().to_string().contains("second"));
    let mut def = SlaPolicyDef {
        warn_at: vec![100],
        ..Default::default()
    };
    assert!(def.validate().is_err());
    let mut def = SlaPolicyDef {
        pauses: vec![(Metric::AgentWork, vec![Status::Solved])],
        ..Default::default()
    };
    assert!(def.validate().is_err());
}
