//! Tickets: the lifecycle state machine, patches, and the changes they record.
//!
//! Invariant: every change to a ticket is expressed as a list of [`Change`]s returned by
//! a function in this module; the store writes the new ticket and those changes (as
//! event-log rows) in one transaction. Nothing else mutates tickets.

use crate::{
    ActorKind, AgentId, Channel, CustomerId, DomainError, MessageId, OrganizationId, Priority,
    Status, Subject, Tag, TeamId, TicketId, TicketType, Tier, Timestamp,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: TicketId,
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub ticket_type: TicketType,
    pub channel: Channel,
    pub requester_id: CustomerId,
    pub organization_id: Option<OrganizationId>,
    pub assignee_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    pub tier: Tier,
    pub tags: Vec<Tag>,
    /// Free-form custom fields as a JSON object text (validated at the edge).
    pub custom_fields: String,
    /// Follow-up tickets point at the closed ticket they continue.
    pub follow_up_of: Option<TicketId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub solved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

/// Who is acting. Customers and agents carry their id; rules and the system do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Agent(AgentId),
    Customer(CustomerId),
    System,
    Rule,
}

impl Actor {
    pub fn kind(self) -> ActorKind {
        match self {
            Actor::Agent(_) => ActorKind::Agent,
            Actor::Customer(_) => ActorKind::Customer,
            Actor::System => ActorKind::System,
            Actor::Rule => ActorKind::Rule,
        }
    }
    pub fn id(self) -> Option<i64> {
        match self {
            Actor::Agent(a) => Some(a.0),
            Actor::Customer(c) => Some(c.0),
            Actor::System | Actor::Rule => None,
        }
    }
}

/// One entry of the event log, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Created,
    /// A field changed; values are the canonical text spellings (ids as decimal text).
    Field {
        field: &'static str,
        from: Option<String>,
        to: Option<String>,
    },
    /// A message was added (public reply or internal note).
    Message {
        message_id: MessageId,
        public: bool,
    },
    /// An SLA clock moved (see [`crate::sla`]); `metric` is `None` for the policy itself
    /// (`apply`) and for escalations. `detail` is a short machine-readable note, e.g. the
    /// due time, `75%`, or `policy 3 v2`.
    Sla {
        metric: Option<crate::Metric>,
        transition: crate::SlaTransition,
        detail: String,
    },
}

/// What a ticket starts as, once the edge has validated input.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketDraft {
    pub subject: Subject,
    pub priority: Priority,
    pub ticket_type: TicketType,
    pub channel: Channel,
    pub assignee_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    pub tier: Tier,
    pub tags: Vec<Tag>,
    pub custom_fields: String,
}

/// Partial update; `None` leaves a field alone. `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketPatch {
    pub subject: Option<Subject>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub ticket_type: Option<TicketType>,
    pub assignee_id: Option<Option<AgentId>>,
    pub team_id: Option<Option<TeamId>>,
    pub tier: Option<Tier>,
    pub tags: Option<Vec<Tag>>,
    pub custom_fields: Option<String>,
}

impl TicketPatch {
    pub fn is_empty(&self) -> bool {
        *self == TicketPatch::default()
    }
}

/// The ticket lifecycle.
///
/// - `new` → anything but `new`/`closed`; nothing returns to `new`.
/// - `open`, `pending`, `hold`, `solved` move freely among themselves.
/// - `closed` is reached only from `solved`, only by a rule or the system, and is final.
pub fn check_transition(from: Status, to: Status, actor: Actor) -> Result<(), DomainError> {
    use Status::*;
    let illegal = Err(DomainError::IllegalTransition {
        from: from.as_str(),
        to: to.as_str(),
    });
    if from == to {
        return Ok(());
    }
    match (from, to) {
        (Closed, _) => Err(DomainError::TicketClosed),
        (_, New) => illegal,
        (Solved, Closed) if matches!(actor, Actor::Rule | Actor::System) => Ok(()),
        (_, Closed) => illegal,
        _ => Ok(()),
    }
}

fn id_text<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

fn tags_text(tags: &[Tag]) -> Option<String> {
    Some(tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(" "))
}

/// Applies a patch, returning the updated ticket and the changes to record.
/// A patch that changes nothing returns no changes (and the store writes nothing).
pub fn apply_patch(
    ticket: &Ticket,
    patch: &TicketPatch,
    actor: Actor,
    now: Timestamp,
) -> Result<(Ticket, Vec<Change>), DomainError> {
    if ticket.status == Status::Closed {
        return Err(DomainError::TicketClosed);
    }
    let mut t = ticket.clone();
    let mut changes = Vec::new();
    let mut record = |field: &'static str, from: Option<String>, to: Option<String>| {
        if from != to {
            changes.push(Change::Field { field, from, to });
        }
    };
    if let Some(s) = &patch.subject {
        record(
            "subject",
            Some(t.subject.clone()),
            Some(s.as_str().to_string()),
        );
        t.subject = s.as_str().to_string();
    }
    if let Some(p) = patch.priority {
        record(
            "priority",
            Some(t.priority.to_string()),
            Some(p.to_string()),
        );
        t.priority = p;
    }
    if let Some(ty) = patch.ticket_type {
        record(
            "type",
            Some(t.ticket_type.to_string()),
            Some(ty.to_string()),
        );
        t.ticket_type = ty;
    }
    if let Some(a) = patch.assignee_id {
        record("assignee", id_text(t.assignee_id), id_text(a));
        t.assignee_id = a;
    }
    if let Some(team) = patch.team_id {
        record("team", id_text(t.team_id), id_text(team));
        t.team_id = team;
    }
    if let Some(tier) = patch.tier {
        record(
            "tier",
            Some(t.tier.get().to_string()),
            Some(tier.get().to_string()),
        );
        t.tier = tier;
    }
    if let Some(tags) = &patch.tags {
        let mut tags = tags.clone();
        tags.sort();
        tags.dedup();
        record("tags", tags_text(&t.tags), tags_text(&tags));
        t.tags = tags;
    }
    if let Some(cf) = &patch.custom_fields {
        record(
            "custom_fields",
            Some(t.custom_fields.clone()),
            Some(cf.clone()),
        );
        t.custom_fields = cf.clone();
    }
    // An agent touching a new ticket (assigning it, say) makes it open, unless the
    // patch sets a status itself.
    let target = match (patch.status, t.status, actor) {
        (Some(s), _, _) => Some(s),
        (None, Status::New, Actor::Agent(_)) if !changes.is_empty() && t.assignee_id.is_some() => {
            Some(Status::Open)
        }
        _ => None,
    };
    if let Some(s) = target {
        check_transition(t.status, s, actor)?;
        set_status(&mut t, s, now, &mut changes);
    }
    if !changes.is_empty() {
        t.updated_at = now;
    }
    Ok((t, changes))
}

fn set_status(t: &mut Ticket, s: Status, now: Timestamp, changes: &mut Vec<Change>) {
    if t.status == s {
        return;
    }
    changes.push(Change::Field {
        field: "status",
        from: Some(t.status.to_string()),
        to: Some(s.to_string()),
    });
    t.status = s;
    match s {
        Status::Solved => t.solved_at = Some(now),
        Status::Closed => t.closed_at = Some(now),
        _ => t.solved_at = None,
    }
}

/// What adding a message does to the ticket's status.
///
/// - A public customer reply reopens `pending`/`solved` (and `hold` stays on hold).
/// - An agent's public reply moves `new` to `open`, unless the agent chose a status.
/// - An agent may submit a reply "as" a status (`pending` while waiting for the customer).
/// - Nothing may be added to a `closed` ticket: for a customer's message the caller opens
///   a follow-up instead (see [`follow_up_draft`]); agents get `TicketClosed`.
pub fn on_message(
    ticket: &Ticket,
    actor: Actor,
    public: bool,
    requested_status: Option<Status>,
    now: Timestamp,
) -> Result<(Ticket, Vec<Change>), DomainError> {
    if ticket.status == Status::Closed {
        return Err(DomainError::TicketClosed);
    }
    let mut t = ticket.clone();
    let mut changes = Vec::new();
    let target = match (actor, requested_status) {
        (Actor::Customer(_), _) => match t.status {
            Status::Pending | Status::Solved => Some(Status::Open),
            _ => None,
        },
        (_, Some(s)) => Some(s),
        (Actor::Agent(_), None) if public && t.status == Status::New => Some(Status::Open),
        _ => None,
    };
    if let Some(s) = target {
        check_transition(t.status, s, actor)?;
        set_status(&mut t, s, now, &mut changes);
    }
    t.updated_at = now;
    Ok((t, changes))
}

/// The prefix that marks a follow-up's subject.
pub const FOLLOW_UP_PREFIX: &str = "Re: ";

/// The draft of the follow-up ticket that a customer's message on the `closed` ticket
/// opens (`closed` is final: the message becomes the follow-up's first message instead).
///
/// The follow-up keeps the closed ticket's priority, type, team, tier, tags and custom
/// fields, starts unassigned, comes in on `channel` (that of the new message), and its
/// subject is the closed one prefixed with [`FOLLOW_UP_PREFIX`] (unless it already starts
/// with it, in any case), cut to [`Subject::MAX_CHARS`].
pub fn follow_up_draft(closed: &Ticket, channel: Channel) -> Result<TicketDraft, DomainError> {
    let prefix = FOLLOW_UP_PREFIX.trim_end();
    let has_prefix = closed
        .subject
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    let text = if has_prefix {
        closed.subject.clone()
    } else {
        format!("{FOLLOW_UP_PREFIX}{}", closed.subject)
    };
    let text: String = text.chars().take(Subject::MAX_CHARS).collect();
    Ok(TicketDraft {
        subject: Subject::parse(&text)?,
        priority: closed.priority,
        ticket_type: closed.ticket_type,
        channel,
        assignee_id: None,
        team_id: closed.team_id,
        tier: closed.tier,
        tags: closed.tags.clone(),
        custom_fields: closed.custom_fields.clone(),
    })
}

/// Solved tickets close by rule once they have stayed solved this long (Zendesk's default
/// is 4 days). After that a customer's message opens a follow-up instead of reopening.
pub const DEFAULT_CLOSE_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(4 * 24);

/// Whether the auto-close rule applies to `ticket` at `now`.
pub fn due_for_close(ticket: &Ticket, now: Timestamp, after: jiff::SignedDuration) -> bool {
    ticket.status == Status::Solved && ticket.solved_at.is_some_and(|at| at + after <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TicketId;

    fn ticket(status: Status) -> Ticket {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        Ticket {
            id: TicketId(1),
            number: 1,
            subject: "打印机无法连接".into(),
            status,
            priority: Priority::Normal,
            ticket_type: TicketType::Question,
            channel: Channel::Web,
            requester_id: CustomerId(7),
            organization_id: None,
            assignee_id: None,
            team_id: None,
            tier: Tier::FRONTLINE,
            tags: vec![],
            custom_fields: "{}".into(),
            follow_up_of: None,
            created_at: t0,
            updated_at: t0,
            solved_at: None,
            closed_at: None,
        }
    }
    const AGENT: Actor = Actor::Agent(AgentId(3));
    const CUSTOMER: Actor = Actor::Customer(CustomerId(7));
    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_600).unwrap()
    }

    #[test]
    fn closed_is_reached_only_from_solved_by_a_rule() {
        assert!(check_transition(Status::Solved, Status::Closed, Actor::Rule).is_ok());
        assert!(check_transition(Status::Solved, Status::Closed, AGENT).is_err());
        assert!(check_transition(Status::Open, Status::Closed, Actor::Rule).is_err());
    }

    #[test]
    fn closed_is_final() {
        for s in Status::ALL.iter().filter(|s| **s != Status::Closed) {
            assert_eq!(
                check_transition(Status::Closed, *s, Actor::System),
                Err(DomainError::TicketClosed)
            );
        }
        let patch = TicketPatch {
            priority: Some(Priority::High),
            ..Default::default()
        };
        assert_eq!(
            apply_patch(&ticket(Status::Closed), &patch, AGENT, now()),
            Err(DomainError::TicketClosed)
        );
    }

    #[test]
    fn nothing_returns_to_new() {
        assert!(check_transition(Status::Open, Status::New, AGENT).is_err());
    }

    #[test]
    fn a_customer_reply_reopens_pending_and_solved() {
        for s in [Status::Pending, Status::Solved] {
            let (t, ch) = on_message(&ticket(s), CUSTOMER, true, None, now()).unwrap();
            assert_eq!(t.status, Status::Open);
            assert_eq!(ch.len(), 1);
        }
        let (t, ch) = on_message(&ticket(Status::Hold), CUSTOMER, true, None, now()).unwrap();
        assert_eq!(t.status, Status::Hold);
        assert!(ch.is_empty());
    }

    #[test]
    fn an_agent_reply_opens_a_new_ticket_and_may_set_pending() {
        let (t, _) = on_message(&ticket(Status::New), AGENT, true, None, now()).unwrap();
        assert_eq!(t.status, Status::Open);
        let (t, _) = on_message(&ticket(Status::New), AGENT, false, None, now()).unwrap();
        assert_eq!(
            t.status,
            Status::New,
            "an internal note does not open a ticket"
        );
        let (t, _) = on_message(
            &ticket(Status::Open),
            AGENT,
            true,
            Some(Status::Pending),
            now(),
        )
        .unwrap();
        assert_eq!(t.status, Status::Pending);
    }

    #[test]
    fn solving_stamps_solved_at_and_reopening_clears_it() {
        let patch = TicketPatch {
            status: Some(Status::Solved),
            ..Default::default()
        };
        let (t, _) = apply_patch(&ticket(Status::Open), &patch, AGENT, now()).unwrap();
        assert_eq!(t.solved_at, Some(now()));
        let (t, _) = on_message(&t, CUSTOMER, true, None, now()).unwrap();
        assert_eq!(t.solved_at, None);
    }

    #[test]
    fn a_patch_records_one_change_per_changed_field() {
        let patch = TicketPatch {
            priority: Some(Priority::Urgent),
            ticket_type: Some(TicketType::Question), // unchanged
            assignee_id: Some(Some(AgentId(3))),
            ..Default::default()
        };
        let (t, ch) = apply_patch(&ticket(Status::New), &patch, AGENT, now()).unwrap();
        let fields: Vec<_> = ch
            .iter()
            .map(|c| match c {
                Change::Field { field, .. } => *field,
                _ => "?",
            })
            .collect();
        assert_eq!(fields, ["priority", "assignee", "status"]);
        assert_eq!(t.status, Status::Open, "assigning a new ticket opens it");
        assert_eq!(t.updated_at, now());
    }

    #[test]
    fn solved_tickets_are_due_for_close_only_after_the_delay() {
        let patch = TicketPatch {
            status: Some(Status::Solved),
            ..Default::default()
        };
        let (t, _) = apply_patch(&ticket(Status::Open), &patch, AGENT, now()).unwrap();
        let day = jiff::SignedDuration::from_hours(24);
        assert!(!due_for_close(&t, now() + day * 3, DEFAULT_CLOSE_AFTER));
        assert!(due_for_close(&t, now() + day * 4, DEFAULT_CLOSE_AFTER));
        assert!(!due_for_close(
            &ticket(Status::Open),
            now() + day * 30,
            DEFAULT_CLOSE_AFTER
        ));
    }

    #[test]
    fn a_follow_up_copies_the_closed_ticket_and_prefixes_its_subject() {
        let mut closed = ticket(Status::Closed);
        closed.priority = Priority::High;
        closed.ticket_type = TicketType::Incident;
        closed.assignee_id = Some(AgentId(3));
        closed.team_id = Some(TeamId(2));
        closed.tier = Tier::new(2).unwrap();
        closed.tags = vec![Tag::parse("vip").unwrap()];
        let d = follow_up_draft(&closed, Channel::Email).unwrap();
        assert_eq!(d.subject.as_str(), "Re: 打印机无法连接");
        assert_eq!(d.priority, Priority::High);
        assert_eq!(d.ticket_type, TicketType::Incident);
        assert_eq!(d.channel, Channel::Email);
        assert_eq!(d.assignee_id, None, "a follow-up starts unassigned");
        assert_eq!(d.team_id, Some(TeamId(2)));
        assert_eq!(d.tier, closed.tier);
        assert_eq!(d.tags, closed.tags);
    }

    #[test]
    fn a_follow_up_subject_is_prefixed_once_and_bounded() {
        let mut closed = ticket(Status::Closed);
        for s in ["Re: printer", "RE: printer", "re:printer"] {
            closed.subject = s.into();
            assert_eq!(
                follow_up_draft(&closed, Channel::Web)
                    .unwrap()
                    .subject
                    .as_str(),
                s
            );
        }
        closed.subject = "打".repeat(Subject::MAX_CHARS);
        let d = follow_up_draft(&closed, Channel::Web).unwrap();
        assert_eq!(d.subject.as_str().chars().count(), Subject::MAX_CHARS);
        assert!(d.subject.as_str().starts_with("Re: 打"));
    }

    #[test]
    fn nothing_may_be_added_to_a_closed_ticket() {
        for actor in [AGENT, CUSTOMER] {
            for public in [true, false] {
                assert_eq!(
                    on_message(&ticket(Status::Closed), actor, public, None, now()),
                    Err(DomainError::TicketClosed)
                );
            }
        }
    }

    #[test]
    fn an_empty_patch_changes_nothing() {
        let t0 = ticket(Status::Open);
        let (t, ch) = apply_patch(&t0, &TicketPatch::default(), AGENT, now()).unwrap();
        assert!(ch.is_empty());
        assert_eq!(t, t0);
    }
}
