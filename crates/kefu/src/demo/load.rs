//! Replays a [`Plan`] through the ordinary [`Store`] methods, so the demo's tickets have
//! real messages and a real event log (created, assigned, replied, solved, closed by rule).
//!
//! The store must read the [`ManualClock`] passed along: before each write the loader sets
//! it to the planned time (pinned by [`Plan::origin`] to the real time at load), so rows
//! carry the plan's dates instead of the moment of loading. Writes run one at a time, in
//! time order across all tickets: the clock is shared, so two writes in flight would read
//! each other's time. Tickets are thereby created in plan order, so ticket numbers and
//! subjects are the same on every load, and ids of messages and events follow time.

use super::{
    people::{AGENTS, ORGS, TEAMS},
    plan::{Plan, Step, TicketSpec},
};
use indicatif::ProgressBar;
use jiff::{SignedDuration, Timestamp};
use kefu_domain::*;
use kefu_store::{Clock, ManualClock, NewMessage, NewTicket, RequesterRef, Store, StoreError};

/// What was loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub teams: usize,
    pub agents: usize,
    pub organizations: usize,
    pub customers: usize,
    pub tickets: usize,
    pub messages: usize,
}

/// Ids the store gave to the plan's indices.
struct Ids {
    teams: Vec<TeamId>,
    agents: Vec<AgentId>,
    customers: Vec<CustomerId>,
}

/// Loads `plan` into `store`, which should be empty and must stamp its rows with `clock`
/// (open it with `kefu_store::connect_with_clock`). The history ends less than a day before
/// now (the real time). Every agent and portal customer gets `password_hash` (hash the
/// demo password once; hashing per person is slow).
///
/// # Panics
/// If `store` does not read `clock`.
/// The demo workspace's support mailbox.
pub const DEMO_MAILBOX: &str = "support@kefu.example";

pub async fn load(
    store: &dyn Store,
    clock: &ManualClock,
    plan: &Plan,
    password_hash: &str,
    progress: &ProgressBar,
) -> Result<Summary, StoreError> {
    let origin = plan.origin(Timestamp::now());
    let at = |offset: SignedDuration| clock.set(origin + offset);

    progress.set_message("teams and agents");
    at(plan.setup_at());
    let next = || clock.advance(SignedDuration::from_mins(1));
    let mut teams = Vec::new();
    for (name, description) in TEAMS {
        let team = store.create_team(name, description).await?;
        assert_eq!(
            team.created_at,
            clock.now(),
            "the demo store must be opened with the demo's clock"
        );
        teams.push(team.id);
        next();
    }
    // The support mailbox: mail to it (over `--smtp-listen`) opens tickets for frontline.
    store
        .create_mailbox(&kefu_domain::NewMailbox {
            address: Email::parse(DEMO_MAILBOX)?,
            name: "Kefu Demo Support".into(),
            team_id: teams.first().copied(),
            imap_url: None,
            auto_ack: true,
            active: true,
        })
        .await?;
    let mut agents = Vec::new();
    for a in &AGENTS {
        let agent = store
            .create_agent(&NewAgent {
                email: Email::parse(a.email)?,
                name: a.name.to_string(),
                role: a.role,
                tier: Tier::new(a.tier.into())?,
                teams: a.teams.iter().map(|&t| teams[t]).collect(),
                password_hash: password_hash.to_string(),
            })
            .await?;
        let patch = AgentPatch {
            language: Some(Some(a.lang)),
            ..Default::default()
        };
        store.update_agent(agent.id, &patch).await?;
        agents.push(agent.id);
        next();
    }
    // Business hours and SLA policies before any ticket, so every ticket has clocks.
    super::sla::create(store, &teams).await?;
    next();
    let mut orgs = Vec::new();
    for o in &ORGS {
        let org = store
            .create_organization(&NewOrganization {
                name: o.name.to_string(),
                domains: vec![o.domain.to_string()],
                segment: o.segment,
                shares_tickets: o.shares_tickets,
            })
            .await?;
        orgs.push(org.id);
        next();
    }

    progress.set_message("customers");
    let mut customers = Vec::new();
    for (i, c) in plan.customers.iter().enumerate() {
        at(plan.customer_created_at(i));
        let customer = store
            .create_customer(
                &NewCustomer {
                    name: c.name.clone(),
                    email: Some(Email::parse(&c.email)?),
                    phones: c.phone.iter().cloned().collect(),
                    external_ids: Vec::new(),
                    organization_id: c.org.map(|o| orgs[o]),
                    segment: c.segment,
                    language: c.lang,
                    time_zone: c.tz.to_string(),
                },
                None,
            )
            .await?;
        if c.portal {
            store
                .set_customer_password(customer.id, password_hash)
                .await?;
        }
        customers.push(customer.id);
        progress.inc(1);
    }

    progress.set_message("tickets");
    let ids = Ids {
        teams,
        agents,
        customers,
    };
    // (when, ticket, 0 for its creation or 1 + the step's index), in time order.
    let mut events: Vec<(SignedDuration, usize, usize)> = plan
        .tickets
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let steps = t.step_times.iter().enumerate();
            std::iter::once((t.created_at, i, 0))
                .chain(steps.map(move |(s, &when)| (when, i, s + 1)))
        })
        .collect();
    events.sort_unstable();
    let mut created: Vec<Option<TicketId>> = vec![None; plan.tickets.len()];
    let mut messages = 0;
    for (when, i, step) in events {
        let spec = &plan.tickets[i];
        at(when);
        match (step, created[i]) {
            (0, _) => {
                let ticket = store.create_ticket(&new_ticket(spec, &ids)?).await?;
                created[i] = Some(ticket.id);
                messages += spec.message_count();
            }
            (s, Some(ticket)) => run_step(store, &ids, spec, ticket, &spec.steps[s - 1]).await?,
            (_, None) => unreachable!("a ticket's steps come after its creation"),
        }
        progress.inc(1);
    }

    // The history's SLA timers that came due meanwhile fire now, while loading, so that a
    // fresh server does not start by escalating the backlog of the last 90 days.
    progress.set_message("SLA timers");
    clock.set(Timestamp::now());
    kefu_server::sla_timers::fire_due(store).await?;

    Ok(Summary {
        teams: TEAMS.len(),
        agents: AGENTS.len(),
        organizations: ORGS.len(),
        customers: plan.customers.len(),
        tickets: plan.tickets.len(),
        messages,
    })
}

fn new_ticket(spec: &TicketSpec, ids: &Ids) -> Result<NewTicket, StoreError> {
    let requester = ids.customers[spec.requester];
    let actor = match spec.logged_by {
        Some(agent) => Actor::Agent(ids.agents[agent]),
        None => Actor::Customer(requester),
    };
    Ok(NewTicket {
        draft: TicketDraft {
            subject: Subject::parse(&spec.subject)?,
            priority: spec.priority,
            ticket_type: spec.ticket_type,
            channel: spec.channel,
            assignee_id: spec.assignee_at_creation.map(|a| ids.agents[a]),
            team_id: Some(ids.teams[spec.team]),
            tier: Tier::new(spec.tier.into())?,
            tags: parse_tags(&spec.tags)?,
            custom_fields: spec.custom_fields.clone(),
        },
        requester: RequesterRef::Existing(requester),
        actor,
        first_message_by_actor: spec.logged_by.is_some(),
        body_text: spec.body.clone(),
        body_html: None,
        attachments: Vec::new(),
        idempotency: None,
        follow_up_of: None,
        mail: None,
    })
}

/// One step of ticket `spec` (stored as `ticket`).
async fn run_step(
    store: &dyn Store,
    ids: &Ids,
    spec: &TicketSpec,
    ticket: TicketId,
    step: &Step,
) -> Result<(), StoreError> {
    let requester = ids.customers[spec.requester];
    match step {
        Step::Assign { agent, by } => {
            let patch = TicketPatch {
                assignee_id: Some(Some(ids.agents[*agent])),
                tier: Some(Tier::new(AGENTS[*agent].tier.max(spec.tier).into())?),
                ..Default::default()
            };
            store
                .update_ticket(ticket, &patch, Actor::Agent(ids.agents[*by]))
                .await?;
        }
        Step::Customer { body } => {
            let m = message(Actor::Customer(requester), true, body, None);
            store.add_message(ticket, &m).await?;
        }
        Step::Reply {
            agent,
            body,
            status,
        } => {
            let m = message(Actor::Agent(ids.agents[*agent]), true, body, *status);
            store.add_message(ticket, &m).await?;
        }
        Step::Note { agent, body } => {
            let m = message(Actor::Agent(ids.agents[*agent]), false, body, None);
            store.add_message(ticket, &m).await?;
        }
        Step::SetStatus { agent, status } => {
            let patch = TicketPatch {
                status: Some(*status),
                ..Default::default()
            };
            store
                .update_ticket(ticket, &patch, Actor::Agent(ids.agents[*agent]))
                .await?;
        }
        Step::CloseByRule => {
            let patch = TicketPatch {
                status: Some(Status::Closed),
                ..Default::default()
            };
            store.update_ticket(ticket, &patch, Actor::Rule).await?;
        }
    }
    Ok(())
}

fn message(author: Actor, public: bool, body: &str, status_after: Option<Status>) -> NewMessage {
    NewMessage {
        author,
        public,
        body_text: body.to_string(),
        body_html: None,
        attachments: Vec::new(),
        status_after,
        idempotency: None,
        mail: None,
    }
}
