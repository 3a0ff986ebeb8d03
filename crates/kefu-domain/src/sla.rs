//! SLA policies, per-ticket clocks and the escalation ladder.
//!
//! Owns: what a policy is ([`SlaPolicyDef`]: ordered conditions, targets per metric and
//! priority in business or calendar time, the statuses that pause each metric, warning
//! percentages, escalation ladders per kind of ticket), which policy a ticket gets
//! ([`choose_policy`]), and the clock state machine ([`evaluate`]): given a ticket's
//! stored [`TicketSla`], what just happened ([`Signal`]) and the time, the new clocks, the
//! event-log [`Change`]s (apply, activate, pause, resume, fulfil, warn, breach, cancel,
//! escalate) and the [`Escalation`]s to carry out.
//!
//! Never does: IO, reading the clock, choosing who to notify by name (the store resolves
//! [`Recipient`]s), changing the ticket (it returns actions; the caller applies them as a
//! patch by `Actor::Rule` and evaluates again).
//!
//! # When each metric runs
//!
//! | metric | an instance starts | it is fulfilled | paused by default in |
//! |---|---|---|---|
//! | `first_reply` | a customer's public message while no agent has replied publicly yet (normally the ticket's creation) | the first public agent reply | — |
//! | `next_reply` | the first unanswered public customer message after an agent's public reply | the next public agent reply | — |
//! | `periodic_update` | every public agent reply | the next public agent reply | — |
//! | `pausable_update` | every public agent reply | the next public agent reply | `pending`, `hold` |
//! | `requester_wait` | ticket creation | `solved` (resumes if reopened) | `pending` |
//! | `agent_work` | ticket creation | `solved` (resumes if reopened) | `pending`, `hold` |
//! | `resolution` | ticket creation | `solved` (resumes if reopened) | — |
//! | `tier_time` | creation, and every change of tier | `solved` (resumes if reopened) | `pending` |
//!
//! Solving a ticket fulfils every running clock. A policy may choose other pause statuses
//! per metric. `tier_time`'s target is the ladder step's maximum processing time for the
//! ticket's tier; its breach runs that step's `on_breach` actions.
//!
//! # Invariants
//!
//! - A breach is never back-dated: a clock breaches at its due time when that lies in the
//!   past of a running clock (a late timer), but a *new* target that is already exceeded
//!   (a priority raised, a policy applied late) breaches at the moment of the change.
//! - A breached clock stays breached when fulfilled; fulfilled instances of reply metrics
//!   never run again (a new instance starts instead).
//! - Elapsed time is accumulated in `elapsed` whenever a clock stops (pause, fulfil,
//!   new target); only the running period since `since` is measured with the calendar as
//!   it is *now*, so a calendar change recomputes due times without rewriting history.
//! - Evaluation is idempotent: evaluating the same state again at the same instant with
//!   [`Signal::Tick`] changes nothing and records nothing (timers may fire twice).

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::calendar::Calendar;
use crate::{
    ActorKind, CalendarId, Change, Channel, ClockState, DomainError, Metric, OrganizationId,
    Priority, Segment, SlaPolicyId, SlaTransition, Status, Tag, TeamId, Ticket, TicketType, Tier,
};

/// Longest target a policy accepts: one year.
pub const MAX_TARGET_MINUTES: u32 = 366 * 24 * 60;
/// At most this many targets, warnings, ladder steps and actions in one policy.
pub const MAX_ENTRIES: usize = 200;

/// The metrics a policy can promise (everything but `tier_time`, which ladders set).
pub const PROMISES: [Metric; 7] = [
    Metric::FirstReply,
    Metric::NextReply,
    Metric::PeriodicUpdate,
    Metric::PausableUpdate,
    Metric::RequesterWait,
    Metric::AgentWork,
    Metric::Resolution,
];

/// Which tickets a policy applies to. An empty list means "any"; every non-empty list
/// must match (`tags`: the ticket has at least one of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaConditions {
    pub priorities: Vec<Priority>,
    pub types: Vec<TicketType>,
    pub channels: Vec<Channel>,
    /// The requester's segment, or their organization's (either matches).
    pub segments: Vec<Segment>,
    pub organizations: Vec<OrganizationId>,
    pub teams: Vec<TeamId>,
    pub tags: Vec<Tag>,
}

/// What a condition looks at besides the ticket itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub customer_segment: Segment,
    pub organization_segment: Option<Segment>,
}

impl Facts {
    pub const STANDARD: Facts = Facts {
        customer_segment: Segment::Standard,
        organization_segment: None,
    };

    fn has_segment(&self, s: Segment) -> bool {
        self.customer_segment == s || self.organization_segment == Some(s)
    }

    /// VIP or key account, by the customer or their organization.
    pub fn is_vip(&self) -> bool {
        self.has_segment(Segment::Vip) || self.has_segment(Segment::KeyAccount)
    }
}

impl SlaConditions {
    pub fn matches(&self, t: &Ticket, facts: &Facts) -> bool {
        fn any<T: PartialEq>(list: &[T], v: &T) -> bool {
            list.is_empty() || list.contains(v)
        }
        any(&self.priorities, &t.priority)
            && any(&self.types, &t.ticket_type)
            && any(&self.channels, &t.channel)
            && (self.segments.is_empty() || self.segments.iter().any(|s| facts.has_segment(*s)))
            && (self.organizations.is_empty()
                || t.organization_id
                    .is_some_and(|o| self.organizations.contains(&o)))
            && (self.teams.is_empty() || t.team_id.is_some_and(|x| self.teams.contains(&x)))
            && (self.tags.is_empty() || self.tags.iter().any(|x| t.tags.contains(x)))
    }

    /// True if a condition needs the requester's segment.
    pub fn uses_segment(&self) -> bool {
        !self.segments.is_empty()
    }
}

/// One promise: `metric` for tickets of `priority` within `minutes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTarget {
    pub metric: Metric,
    pub priority: Priority,
    pub minutes: u32,
    /// Counted in the policy's business calendar; otherwise in calendar (24/7) time.
    pub business: bool,
}

/// Who an escalation notifies; the store turns this into agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// The ticket's assignee (nobody if unassigned).
    Assignee,
    /// Supervisors who are members of the ticket's team (all supervisors without a team).
    TeamSupervisors,
    /// Every supervisor and admin.
    Supervisors,
}

impl Recipient {
    pub const ALL: [Recipient; 3] = [
        Recipient::Assignee,
        Recipient::TeamSupervisors,
        Recipient::Supervisors,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Recipient::Assignee => "assignee",
            Recipient::TeamSupervisors => "team_supervisors",
            Recipient::Supervisors => "supervisors",
        }
    }
    pub fn parse(s: &str) -> Result<Recipient, DomainError> {
        Recipient::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "notify",
                    format!(
                        "unknown recipient {s:?}; expected assignee, team_supervisors or supervisors"
                    ),
                )
            })
    }
}

/// One thing an escalation step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationAction {
    Notify(Recipient),
    /// Reassign to a team (and unassign the agent).
    AssignTeam(TeamId),
    /// Tier + 1 (up to 4: management).
    RaiseTier,
    /// Priority + 1 (up to urgent).
    RaisePriority,
    AddTag(Tag),
}

/// Which tickets a ladder is for; a policy may have one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LadderKind {
    Default,
    /// Tickets of type `complaint`.
    Complaint,
    /// Requesters (or their organizations) in the VIP or key-account segment.
    Vip,
}

impl LadderKind {
    pub const ALL: [LadderKind; 3] = [LadderKind::Default, LadderKind::Complaint, LadderKind::Vip];
    pub fn as_str(self) -> &'static str {
        match self {
            LadderKind::Default => "default",
            LadderKind::Complaint => "complaint",
            LadderKind::Vip => "vip",
        }
    }
    pub fn parse(s: &str) -> Result<LadderKind, DomainError> {
        LadderKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "ladders",
                    format!("unknown ladder kind {s:?}; expected default, complaint or vip"),
                )
            })
    }
}

/// What happens to a ticket at one tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LadderStep {
    pub tier: Tier,
    /// Maximum processing time at this tier (the `tier_time` clock), if any.
    pub max_minutes: Option<u32>,
    /// `max_minutes` counted in the policy's business calendar.
    pub business: bool,
    /// Run when a warning fires while the ticket is at this tier.
    pub on_warn: Vec<EscalationAction>,
    /// Run when a target breaches (or `max_minutes` runs out) at this tier.
    pub on_breach: Vec<EscalationAction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    pub kind: LadderKind,
    pub steps: Vec<LadderStep>,
}

/// An SLA policy as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlaPolicyDef {
    pub description: String,
    /// The business calendar of `business` targets (required if any target is business time).
    pub calendar_id: Option<CalendarId>,
    pub conditions: SlaConditions,
    pub targets: Vec<SlaTarget>,
    /// Per metric, the statuses that pause it; metrics not listed keep [`default_pauses`].
    pub pauses: Vec<(Metric, Vec<Status>)>,
    /// Percentages of a target at which a warning fires, ascending (e.g. 75, 90).
    pub warn_at: Vec<u8>,
    pub ladders: Vec<Ladder>,
}

/// The statuses that pause `metric` unless a policy says otherwise (Zendesk's defaults:
/// pending pauses requester wait; pending and hold pause agent work).
pub fn default_pauses(metric: Metric) -> &'static [Status] {
    match metric {
        Metric::RequesterWait | Metric::TierTime => &[Status::Pending],
        Metric::AgentWork | Metric::PausableUpdate => &[Status::Pending, Status::Hold],
        _ => &[],
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> DomainError {
    DomainError::invalid(field, reason)
}

impl SlaPolicyDef {
    /// Checks the definition: targets unique per (metric, priority) and within
    /// [`MAX_TARGET_MINUTES`], no `tier_time` targets, a calendar for business time,
    /// warnings in 1..=99 ascending, pause statuses among new/open/pending/hold, at most one
    /// ladder per kind and one step per tier. Sorts what has no meaningful order.
    pub fn validate(&mut self) -> Result<(), DomainError> {
        if self.description.chars().count() > 2000 {
            return Err(invalid("description", "is longer than 2000 characters"));
        }
        if self.targets.len() > MAX_ENTRIES
            || self.warn_at.len() > 10
            || self.ladders.iter().map(|l| l.steps.len()).sum::<usize>() > MAX_ENTRIES
        {
            return Err(invalid("targets", "too many entries"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, t) in self.targets.iter().enumerate() {
            if t.metric == Metric::TierTime {
                return Err(invalid(
                    "targets",
                    format!("targets[{i}]: tier_time is set by ladder steps (max_minutes)"),
                ));
            }
            if t.minutes == 0 || t.minutes > MAX_TARGET_MINUTES {
                return Err(invalid(
                    "targets",
                    format!("targets[{i}].minutes must be 1..={MAX_TARGET_MINUTES}"),
                ));
            }
            if !seen.insert((t.metric, t.priority)) {
                return Err(invalid(
                    "targets",
                    format!(
                        "targets[{i}]: a second {} target for priority {}",
                        t.metric, t.priority
                    ),
                ));
            }
        }
        let business_needed = self.targets.iter().any(|t| t.business)
            || self
                .ladders
                .iter()
                .flat_map(|l| &l.steps)
                .any(|s| s.business && s.max_minutes.is_some());
        if business_needed && self.calendar_id.is_none() {
            return Err(invalid(
                "calendar_id",
                "is required when a target counts business time",
            ));
        }
        self.warn_at.sort_unstable();
        self.warn_at.dedup();
        if self.warn_at.iter().any(|p| !(1..=99).contains(p)) {
            return Err(invalid("warn_at", "percentages must be 1..=99"));
        }
        let mut metrics = std::collections::HashSet::new();
        for (m, statuses) in &mut self.pauses {
            if !metrics.insert(*m) {
                return Err(invalid("pauses", format!("{m} is listed twice")));
            }
            statuses.sort();
            statuses.dedup();
            if let Some(s) = statuses
                .iter()
                .find(|s| matches!(s, Status::Solved | Status::Closed))
            {
                return Err(invalid(
                    "pauses",
                    format!("{m}: {s} stops every clock; it cannot pause one"),
                ));
            }
        }
        self.pauses.sort_by_key(|(m, _)| *m);
        let mut kinds = std::collections::HashSet::new();
        for l in &mut self.ladders {
            if !kinds.insert(l.kind) {
                return Err(invalid(
                    "ladders",
                    format!("a second {} ladder", l.kind.as_str()),
                ));
            }
            l.steps.sort_by_key(|s| s.tier);
            if l.steps.windows(2).any(|w| w[0].tier == w[1].tier) {
                return Err(invalid(
                    "ladders",
                    format!("{} ladder: two steps for one tier", l.kind.as_str()),
                ));
            }
            for s in &l.steps {
                if s.max_minutes
                    .is_some_and(|m| m == 0 || m > MAX_TARGET_MINUTES)
                {
                    return Err(invalid(
                        "ladders",
                        format!(
                            "{} ladder, tier {}: max_minutes must be 1..={MAX_TARGET_MINUTES}",
                            l.kind.as_str(),
                            s.tier.get()
                        ),
                    ));
                }
                if s.on_warn.len() + s.on_breach.len() > 20 {
                    return Err(invalid("ladders", "at most 20 actions per step"));
                }
            }
        }
        Ok(())
    }

    pub fn pause_statuses(&self, metric: Metric) -> &[Status] {
        self.pauses
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, s)| s.as_slice())
            .unwrap_or_else(|| default_pauses(metric))
    }

    pub fn target(&self, metric: Metric, priority: Priority) -> Option<&SlaTarget> {
        self.targets
            .iter()
            .find(|t| t.metric == metric && t.priority == priority)
    }

    /// The ladder for this ticket: complaint, then VIP, then default (if the policy has it).
    pub fn ladder(&self, t: &Ticket, facts: &Facts) -> Option<&Ladder> {
        let find = |k: LadderKind| self.ladders.iter().find(|l| l.kind == k);
        let special = if t.ticket_type == TicketType::Complaint {
            find(LadderKind::Complaint)
        } else {
            None
        };
        special
            .or_else(|| facts.is_vip().then(|| find(LadderKind::Vip)).flatten())
            .or_else(|| find(LadderKind::Default))
    }

    /// True if evaluating this policy needs the requester's segment.
    pub fn uses_segment(&self) -> bool {
        self.conditions.uses_segment() || self.ladders.iter().any(|l| l.kind == LadderKind::Vip)
    }
}

/// One stored version of a policy (versions never change once written).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    pub id: SlaPolicyId,
    pub version: i64,
    pub name: String,
    pub def: Arc<SlaPolicyDef>,
}

/// The first active policy (in order) whose conditions match.
pub fn choose_policy<'a>(
    policies: &'a [PolicyVersion],
    t: &Ticket,
    facts: &Facts,
) -> Option<&'a PolicyVersion> {
    policies.iter().find(|p| p.def.conditions.matches(t, facts))
}

/// One clock of one ticket, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaClock {
    pub metric: Metric,
    pub state: ClockState,
    pub target: SignedDuration,
    pub business: bool,
    /// The calendar `business` time is counted in.
    pub calendar_id: Option<CalendarId>,
    /// Warning percentages (copied from the policy, so timers need no policy lookup).
    pub warn_at: Vec<u8>,
    /// When this instance started (e.g. the customer message awaiting a reply).
    pub started_at: Timestamp,
    /// Time counted before `since`.
    pub elapsed: SignedDuration,
    /// Running since (None: paused or finished).
    pub since: Option<Timestamp>,
    /// When it breaches(d) if it keeps running (None: paused or finished).
    pub due: Option<Timestamp>,
    /// How many of `warn_at` have fired.
    pub warned: u8,
    pub breached_at: Option<Timestamp>,
    pub fulfilled_at: Option<Timestamp>,
    /// When the timer must look at this clock next (a warning or the breach).
    pub next_fire: Option<Timestamp>,
}

impl SlaClock {
    pub fn is_running(&self) -> bool {
        self.since.is_some()
    }
    pub fn is_finished(&self) -> bool {
        self.fulfilled_at.is_some()
    }

    /// Time counted so far, measured at `now`.
    pub fn elapsed_at(&self, now: Timestamp, cal: Option<&Calendar>) -> SignedDuration {
        match self.since {
            Some(s) => self.elapsed + measure(s, now, self.business, cal),
            None => self.elapsed,
        }
    }

    /// The instant at which this running clock will have counted `d` (None if paused,
    /// or if the calendar never has that much time). Already counted: `since`.
    pub fn instant_of(&self, d: SignedDuration, cal: Option<&Calendar>) -> Option<Timestamp> {
        let since = self.since?;
        let rest = d - self.elapsed;
        if rest <= SignedDuration::ZERO {
            return Some(since);
        }
        advance(since, rest, self.business, cal)
    }

    /// Recomputes `due` and `next_fire` from `since`, `elapsed` and the calendar as it is.
    pub fn schedule(&mut self, cal: Option<&Calendar>) {
        if self.since.is_none() {
            self.due = None;
            self.next_fire = None;
            return;
        }
        self.due = self.instant_of(self.target, cal);
        self.next_fire = if self.state == ClockState::Breached {
            None
        } else {
            self.warn_at
                .get(usize::from(self.warned))
                .and_then(|p| self.instant_of(percent_of(self.target, *p), cal))
                .or(self.due)
        };
    }
}

fn percent_of(d: SignedDuration, p: u8) -> SignedDuration {
    SignedDuration::from_secs(d.as_secs() * i64::from(p) / 100)
}

fn measure(
    from: Timestamp,
    to: Timestamp,
    business: bool,
    cal: Option<&Calendar>,
) -> SignedDuration {
    if to <= from {
        return SignedDuration::ZERO;
    }
    match (business, cal) {
        (true, Some(c)) => c.between(from, to),
        _ => to.duration_since(from),
    }
}

/// `start + d` in the clock's time; None if the calendar never has that much time.
fn advance(
    start: Timestamp,
    d: SignedDuration,
    business: bool,
    cal: Option<&Calendar>,
) -> Option<Timestamp> {
    match (business, cal) {
        (true, Some(c)) => c.add(start, d).ok(),
        _ => start.checked_add(d).ok(),
    }
}

/// A ticket's SLA state as stored: the policy it runs under, what the reply clocks need
/// to know about the conversation, and its clocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketSla {
    pub policy: Option<(SlaPolicyId, i64)>,
    /// True once an agent has replied publicly.
    pub replied: bool,
    /// The first public customer message not yet answered by a public agent reply.
    pub awaiting_since: Option<Timestamp>,
    /// The last public agent reply (periodic updates count from it).
    pub last_agent_reply: Option<Timestamp>,
    /// When the ticket reached its current tier.
    pub tier_since: Option<Timestamp>,
    pub clocks: Vec<SlaClock>,
}

impl TicketSla {
    pub fn clock(&self, m: Metric) -> Option<&SlaClock> {
        self.clocks.iter().find(|c| c.metric == m)
    }
    /// The running clock due soonest.
    pub fn next_due(&self) -> Option<&SlaClock> {
        self.clocks
            .iter()
            .filter(|c| c.due.is_some() && c.metric != Metric::TierTime)
            .min_by_key(|c| c.due)
    }
}

/// What just happened to the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The ticket was created with its first message.
    Created { by: ActorKind, public: bool },
    /// A message was added.
    Message { by: ActorKind, public: bool },
    /// Fields changed (status, priority, tier, team, tags, …).
    Changed,
    /// A timer fired: look for warnings and breaches.
    Tick,
    /// An admin re-applies the matching policy's current version.
    Reapply,
    /// A calendar or policy changed: recompute due times.
    Recompute,
}

/// What set off an escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationTrigger {
    Warn { metric: Metric, percent: u8 },
    Breach { metric: Metric },
}

/// Actions the caller must carry out (as `Actor::Rule`), from the ladder step of `tier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub trigger: EscalationTrigger,
    pub tier: Tier,
    pub actions: Vec<EscalationAction>,
}

/// Everything [`evaluate`] looks at besides the ticket's own state.
pub struct SlaEnv<'a> {
    /// Active policies in order, each at its current version.
    pub policies: &'a [PolicyVersion],
    /// The version the ticket runs under, if it is not the current one.
    pub pinned: Option<&'a PolicyVersion>,
    pub calendars: &'a HashMap<CalendarId, Calendar>,
    pub facts: Facts,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub sla: TicketSla,
    pub changes: Vec<Change>,
    pub escalations: Vec<Escalation>,
}

impl Evaluation {
    pub fn is_noop(&self, before: &TicketSla) -> bool {
        self.changes.is_empty() && self.escalations.is_empty() && self.sla == *before
    }
}

fn sla_change(metric: Option<Metric>, transition: SlaTransition, detail: String) -> Change {
    Change::Sla {
        metric,
        transition,
        detail,
    }
}

/// Where an instance should be, per the ticket's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Run,
    Pause,
    Done,
}

/// Advances a ticket's SLA state. `before` is the ticket before the change (None at
/// creation), `ticket` after it; `current` is the stored state.
pub fn evaluate(
    env: &SlaEnv<'_>,
    before: Option<&Ticket>,
    ticket: &Ticket,
    current: &TicketSla,
    signal: Signal,
    now: Timestamp,
) -> Evaluation {
    let mut sla = current.clone();
    let mut changes = Vec::new();
    let mut escalations = Vec::new();
    let cal_of = |id: Option<CalendarId>| id.and_then(|id| env.calendars.get(&id));

    // 1. Late timers: running clocks past a warning or their due time catch up first, at
    //    the instant they crossed it, under the ticket and policy as they were.
    let old = before.unwrap_or(ticket);
    let old_def = current
        .policy
        .and_then(|(id, v)| find_version(env, id, v))
        .map(|p| p.def.clone());
    for c in &mut sla.clocks {
        let cal = cal_of(c.calendar_id);
        c.schedule(cal);
        fire_due(c, now, cal, &mut changes, &mut |trigger| {
            if let Some(def) = &old_def
                && let Some(e) = escalation(def, old, &env.facts, old.tier, trigger)
            {
                escalations.push(e);
            }
        });
    }

    // 2. The conversation facts the reply clocks follow.
    match signal {
        Signal::Created { by, public } => {
            sla.tier_since = Some(ticket.created_at);
            if by == ActorKind::Agent && public {
                sla.replied = true;
                sla.last_agent_reply = Some(now);
            } else {
                sla.awaiting_since = Some(ticket.created_at);
            }
        }
        Signal::Message {
            by: ActorKind::Customer,
            public: true,
        } if sla.awaiting_since.is_none() => {
            sla.awaiting_since = Some(now);
        }
        Signal::Message {
            by: ActorKind::Agent,
            public: true,
        } => {
            sla.replied = true;
            sla.awaiting_since = None;
            sla.last_agent_reply = Some(now);
        }
        _ => {}
    }
    let finished = matches!(ticket.status, Status::Solved | Status::Closed);
    if finished {
        sla.awaiting_since = None;
    }
    if sla.tier_since.is_none() {
        sla.tier_since = Some(ticket.created_at);
    }
    if before.is_some_and(|b| b.tier != ticket.tier) {
        sla.tier_since = Some(now);
    }

    // 3. Which policy (and version) applies now.
    let chosen: Option<&PolicyVersion> = match (
        choose_policy(env.policies, ticket, &env.facts),
        current.policy,
        signal,
    ) {
        (Some(p), _, Signal::Reapply) => Some(p),
        (Some(p), Some((id, v)), _) if p.id == id && p.version != v => {
            Some(find_version(env, id, v).unwrap_or(p))
        }
        (p, _, _) => p,
    };
    let new_ref = chosen.map(|p| (p.id, p.version));
    if new_ref != sla.policy {
        let detail = match chosen {
            Some(p) => format!("policy {} v{} {}", p.id, p.version, p.name),
            None => "no policy".to_string(),
        };
        changes.push(sla_change(None, SlaTransition::Apply, detail));
        sla.policy = new_ref;
    }
    let def = chosen.map(|p| p.def.as_ref());

    // 4. Reconcile every metric with what the ticket's state asks for.
    for metric in Metric::ALL.iter().copied() {
        let idx = sla.clocks.iter().position(|c| c.metric == metric);
        let Some((start, target, business)) = desired(metric, def, ticket, &env.facts, &sla) else {
            // No target any more: an unfinished clock is cancelled.
            if let Some(i) = idx {
                let c = sla.clocks.remove(i);
                if !c.is_finished() {
                    changes.push(sla_change(
                        Some(metric),
                        SlaTransition::Cancel,
                        String::new(),
                    ));
                }
            }
            continue;
        };
        let def = def.expect("a target comes from a policy");
        let calendar_id = if business { def.calendar_id } else { None };
        let phase = if finished || start.is_none() {
            Phase::Done
        } else if def.pause_statuses(metric).contains(&ticket.status) {
            Phase::Pause
        } else {
            Phase::Run
        };
        // The instance a clock measured is over (answered, or replaced by a newer one).
        if let Some(i) = idx
            && Some(sla.clocks[i].started_at) != start
        {
            let c = &mut sla.clocks[i];
            if !c.is_finished() {
                stop(c, now, cal_of(c.calendar_id));
                fulfil(c, now, &mut changes);
            }
            if start.is_some() {
                sla.clocks.remove(i);
            }
        }
        let Some(start) = start else { continue };
        let i = match sla.clocks.iter().position(|c| c.metric == metric) {
            Some(i) => i,
            None if phase == Phase::Done => continue,
            None => {
                // A new instance. A start in the past (a policy applied late) counts the
                // time since then at once; if that is over the target it breaches now.
                let cal = cal_of(calendar_id);
                let mut c = SlaClock {
                    metric,
                    state: ClockState::Active,
                    target,
                    business,
                    calendar_id,
                    warn_at: def.warn_at.clone(),
                    started_at: start,
                    elapsed: measure(start, now, business, cal),
                    since: None,
                    due: None,
                    warned: 0,
                    breached_at: None,
                    fulfilled_at: None,
                    next_fire: None,
                };
                changes.push(sla_change(
                    Some(metric),
                    SlaTransition::Activate,
                    format!("{} min", target.as_secs() / 60),
                ));
                c.warned = passed_warnings(&c);
                if c.elapsed >= target {
                    breach(&mut c, now, &mut changes);
                }
                if phase == Phase::Run {
                    c.since = Some(now);
                } else {
                    c.state = pause_state(&c);
                    changes.push(sla_change(
                        Some(metric),
                        SlaTransition::Pause,
                        ticket.status.to_string(),
                    ));
                }
                sla.clocks.push(c);
                continue;
            }
        };
        let c = &mut sla.clocks[i];
        match (phase, c.is_finished(), c.is_running()) {
            (Phase::Run, true, _) => {
                // Reopened: a total-time clock resumes where it stopped.
                c.fulfilled_at = None;
                c.state = run_state(c);
                c.since = Some(now);
                changes.push(sla_change(
                    Some(metric),
                    SlaTransition::Resume,
                    ticket.status.to_string(),
                ));
            }
            (Phase::Run, false, false) => {
                c.state = run_state(c);
                c.since = Some(now);
                changes.push(sla_change(
                    Some(metric),
                    SlaTransition::Resume,
                    ticket.status.to_string(),
                ));
            }
            (Phase::Pause, false, true) | (Phase::Pause, true, _) => {
                let cal = cal_of(c.calendar_id);
                stop(c, now, cal);
                c.fulfilled_at = None;
                c.state = pause_state(c);
                changes.push(sla_change(
                    Some(metric),
                    SlaTransition::Pause,
                    ticket.status.to_string(),
                ));
            }
            (Phase::Done, false, _) => {
                let cal = cal_of(c.calendar_id);
                stop(c, now, cal);
                fulfil(c, now, &mut changes);
            }
            _ => {}
        }
        // A new target (priority or policy changed): what ran so far counts under the old
        // one; an exceeded new target breaches now, never back-dated.
        if !c.is_finished()
            && (c.target != target || c.business != business || c.calendar_id != calendar_id)
        {
            fold(c, now, cal_of(c.calendar_id));
            c.target = target;
            c.business = business;
            c.calendar_id = calendar_id;
            changes.push(sla_change(
                Some(metric),
                SlaTransition::Apply,
                format!("{} min", target.as_secs() / 60),
            ));
            c.warned = c.warned.max(passed_warnings(c));
            if c.breached_at.is_none() && c.elapsed >= c.target {
                breach(c, now, &mut changes);
            }
        }
        if c.warn_at != def.warn_at {
            // Warnings at or below the highest one already given are not given again.
            let given = c.warned.checked_sub(1).map(|i| c.warn_at[usize::from(i)]);
            c.warn_at = def.warn_at.clone();
            c.warned = match given {
                Some(g) if c.breached_at.is_none() => {
                    c.warn_at.iter().filter(|p| **p <= g).count() as u8
                }
                Some(_) => c.warn_at.len() as u8,
                None => 0,
            };
        }
    }

    // 5. Due times and timers, and anything due under the new schedule.
    for c in &mut sla.clocks {
        let cal = cal_of(c.calendar_id);
        c.schedule(cal);
        fire_due(c, now, cal, &mut changes, &mut |trigger| {
            if let Some(def) = def
                && let Some(e) = escalation(def, ticket, &env.facts, ticket.tier, trigger)
            {
                escalations.push(e);
            }
        });
        c.schedule(cal);
    }
    sla.clocks.sort_by_key(|c| c.metric);
    for e in &escalations {
        let detail = match e.trigger {
            EscalationTrigger::Warn { metric, percent } => {
                format!("tier {} {metric} {percent}%", e.tier.get())
            }
            EscalationTrigger::Breach { metric } => {
                format!("tier {} {metric} breach", e.tier.get())
            }
        };
        changes.push(sla_change(None, SlaTransition::Escalate, detail));
    }
    Evaluation {
        sla,
        changes,
        escalations,
    }
}

fn find_version<'a>(env: &SlaEnv<'a>, id: SlaPolicyId, v: i64) -> Option<&'a PolicyVersion> {
    env.pinned
        .filter(|p| p.id == id && p.version == v)
        .or_else(|| env.policies.iter().find(|p| p.id == id && p.version == v))
}

/// The instance `metric` should have now: its start (None: no instance wanted), target
/// and whether it counts business time. None if the policy has no target for it.
fn desired(
    metric: Metric,
    def: Option<&SlaPolicyDef>,
    t: &Ticket,
    facts: &Facts,
    sla: &TicketSla,
) -> Option<(Option<Timestamp>, SignedDuration, bool)> {
    let def = def?;
    let (minutes, business) = if metric == Metric::TierTime {
        let step = def
            .ladder(t, facts)?
            .steps
            .iter()
            .find(|s| s.tier == t.tier)?;
        (step.max_minutes?, step.business)
    } else {
        let target = def.target(metric, t.priority)?;
        (target.minutes, target.business)
    };
    let start = match metric {
        Metric::FirstReply => sla.awaiting_since.filter(|_| !sla.replied),
        Metric::NextReply => sla.awaiting_since.filter(|_| sla.replied),
        Metric::PeriodicUpdate | Metric::PausableUpdate => sla.last_agent_reply,
        Metric::RequesterWait | Metric::AgentWork | Metric::Resolution => Some(t.created_at),
        Metric::TierTime => sla.tier_since,
    };
    Some((
        start,
        SignedDuration::from_mins(i64::from(minutes)),
        business,
    ))
}

fn run_state(c: &SlaClock) -> ClockState {
    if c.breached_at.is_some() {
        ClockState::Breached
    } else {
        ClockState::Active
    }
}

fn pause_state(c: &SlaClock) -> ClockState {
    if c.breached_at.is_some() {
        ClockState::Breached
    } else {
        ClockState::Paused
    }
}

/// Moves the running period into `elapsed` and restarts it at `now` (if running).
fn fold(c: &mut SlaClock, now: Timestamp, cal: Option<&Calendar>) {
    if let Some(s) = c.since {
        c.elapsed += measure(s, now, c.business, cal);
        c.since = Some(now);
    }
}

/// Stops a running clock at `now`.
fn stop(c: &mut SlaClock, now: Timestamp, cal: Option<&Calendar>) {
    fold(c, now, cal);
    c.since = None;
    c.due = None;
    c.next_fire = None;
}

fn fulfil(c: &mut SlaClock, now: Timestamp, changes: &mut Vec<Change>) {
    c.fulfilled_at = Some(now);
    c.since = None;
    c.due = None;
    c.next_fire = None;
    c.state = if c.breached_at.is_some() {
        ClockState::Breached
    } else {
        ClockState::Achieved
    };
    changes.push(sla_change(
        Some(c.metric),
        SlaTransition::Fulfil,
        format!("{} s", c.elapsed.as_secs()),
    ));
}

fn breach(c: &mut SlaClock, at: Timestamp, changes: &mut Vec<Change>) {
    c.state = ClockState::Breached;
    c.breached_at = Some(at);
    c.warned = c.warn_at.len() as u8;
    c.next_fire = None;
    changes.push(sla_change(
        Some(c.metric),
        SlaTransition::Breach,
        at.to_string(),
    ));
}

/// How many warnings lie at or below the elapsed time already.
fn passed_warnings(c: &SlaClock) -> u8 {
    c.warn_at
        .iter()
        .filter(|p| percent_of(c.target, **p) <= c.elapsed)
        .count() as u8
}

/// Fires the warnings and the breach of a running clock whose times have come (`due`
/// must be scheduled).
fn fire_due(
    c: &mut SlaClock,
    now: Timestamp,
    cal: Option<&Calendar>,
    changes: &mut Vec<Change>,
    escalate: &mut dyn FnMut(EscalationTrigger),
) {
    if c.state != ClockState::Active || !c.is_running() {
        return;
    }
    if let Some(due) = c.due
        && due <= now
    {
        breach(c, due, changes);
        escalate(EscalationTrigger::Breach { metric: c.metric });
        return;
    }
    while let Some(&percent) = c.warn_at.get(usize::from(c.warned)) {
        match c.instant_of(percent_of(c.target, percent), cal) {
            Some(at) if at <= now => {}
            _ => break,
        }
        c.warned += 1;
        changes.push(sla_change(
            Some(c.metric),
            SlaTransition::Warn,
            format!("{percent}%"),
        ));
        escalate(EscalationTrigger::Warn {
            metric: c.metric,
            percent,
        });
    }
}

fn escalation(
    def: &SlaPolicyDef,
    t: &Ticket,
    facts: &Facts,
    tier: Tier,
    trigger: EscalationTrigger,
) -> Option<Escalation> {
    let step = def
        .ladder(t, facts)?
        .steps
        .iter()
        .find(|s| s.tier == tier)?;
    let actions = match trigger {
        EscalationTrigger::Warn { .. } => &step.on_warn,
        EscalationTrigger::Breach { .. } => &step.on_breach,
    };
    (!actions.is_empty()).then(|| Escalation {
        trigger,
        tier,
        actions: actions.clone(),
    })
}

/// Turns escalation actions into a ticket patch (for `Actor::Rule`) and the recipients
/// to notify. Tier and priority rise by one per escalation, not per action.
pub fn escalation_patch(
    t: &Ticket,
    escalations: &[Escalation],
) -> (crate::TicketPatch, Vec<(Recipient, EscalationTrigger)>) {
    let mut patch = crate::TicketPatch::default();
    let mut notify = Vec::new();
    let mut tags = t.tags.clone();
    for e in escalations {
        let mut raised_tier = false;
        let mut raised_priority = false;
        for a in &e.actions {
            match a {
                EscalationAction::Notify(r) => notify.push((*r, e.trigger)),
                EscalationAction::AssignTeam(team) if t.team_id != Some(*team) => {
                    patch.team_id = Some(Some(*team));
                    patch.assignee_id = Some(None);
                }
                EscalationAction::RaiseTier if !raised_tier => {
                    raised_tier = true;
                    let cur = patch.tier.unwrap_or(t.tier).get();
                    if cur < 4 {
                        patch.tier = Tier::new(i64::from(cur) + 1).ok();
                    }
                }
                EscalationAction::RaisePriority if !raised_priority => {
                    raised_priority = true;
                    let cur = patch.priority.unwrap_or(t.priority);
                    let next = match cur {
                        Priority::Low => Priority::Normal,
                        Priority::Normal => Priority::High,
                        Priority::High | Priority::Urgent => Priority::Urgent,
                    };
                    if next != t.priority {
                        patch.priority = Some(next);
                    }
                }
                EscalationAction::AddTag(tag) if !tags.contains(tag) => {
                    tags.push(tag.clone());
                    patch.tags = Some(tags.clone());
                }
                _ => {}
            }
        }
    }
    (patch, notify)
}
