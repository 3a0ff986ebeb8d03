//! Replays a [`Plan`] through the ordinary [`Store`] methods, so the demo's tickets have
//! real messages and a real event log (created, assigned, replied, solved, closed by rule).
//!
//! Tickets are created strictly in plan order, so ticket numbers and subjects are the same
//! on every load. What happens after creation runs on a few concurrent tasks, each ticket's
//! steps in order; only the interleaving of *different* tickets' events varies.

use super::{
    people::{AGENTS, ORGS, TEAMS},
    plan::{Plan, Step, TicketSpec},
};
use indicatif::ProgressBar;
use kefu_domain::*;
use kefu_store::{NewMessage, NewTicket, RequesterRef, Store, StoreError};
use std::sync::Arc;
use tokio::task::JoinSet;

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

/// Tickets whose follow-up steps may run at the same time.
const WORKERS: usize = 4;

/// Loads `plan` into `store`, which should be empty. Every agent and portal customer gets
/// `password_hash` (hash the demo password once; hashing per person is slow).
pub async fn load(
    store: &Arc<dyn Store>,
    plan: &Plan,
    password_hash: &str,
    progress: &ProgressBar,
) -> Result<Summary, StoreError> {
    progress.set_message("teams and agents");
    let mut teams = Vec::new();
    for (name, description) in TEAMS {
        teams.push(store.create_team(name, description).await?.id);
    }
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
    }
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
    }

    progress.set_message("customers");
    let mut customers = Vec::new();
    for c in &plan.customers {
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
    let ids = Arc::new(Ids {
        teams,
        agents,
        customers,
    });
    let mut tasks = JoinSet::new();
    let mut messages = 0;
    for spec in &plan.tickets {
        let ticket = store.create_ticket(&new_ticket(spec, &ids)?).await?;
        messages += spec.message_count();
        if tasks.len() >= WORKERS {
            join_one(&mut tasks, progress).await?;
        }
        let (store, ids, steps) = (store.clone(), ids.clone(), spec.steps.clone());
        tasks.spawn(async move { run_steps(&*store, &ids, ticket.id, &steps).await });
    }
    while !tasks.is_empty() {
        join_one(&mut tasks, progress).await?;
    }

    Ok(Summary {
        teams: TEAMS.len(),
        agents: AGENTS.len(),
        organizations: ORGS.len(),
        customers: plan.customers.len(),
        tickets: plan.tickets.len(),
        messages,
    })
}

async fn join_one(
    tasks: &mut JoinSet<Result<(), StoreError>>,
    progress: &ProgressBar,
) -> Result<(), StoreError> {
    if let Some(joined) = tasks.join_next().await {
        // A panic in a step is a bug in this module: surface it as such.
        joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        progress.inc(1);
    }
    Ok(())
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
    })
}

async fn run_steps(
    store: &dyn Store,
    ids: &Ids,
    ticket: TicketId,
    steps: &[Step],
) -> Result<(), StoreError> {
    let Some(t) = store.get_ticket(ticket).await? else {
        return Err(StoreError::InvalidReference("demo ticket"));
    };
    let requester = t.requester_id;
    for step in steps {
        match step {
            Step::Assign { agent, by } => {
                let patch = TicketPatch {
                    assignee_id: Some(Some(ids.agents[*agent])),
                    tier: Some(Tier::new(AGENTS[*agent].tier.max(t.tier.get()).into())?),
                    ..Default::default()
                };
                store
                    .update_ticket(ticket, &patch, Actor::Agent(ids.agents[*by]))
                    .await?;
            }
            Step::Customer { body } => {
                store
                    .add_message(
                        ticket,
                        &message(Actor::Customer(requester), true, body, None),
                    )
                    .await?;
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
                store
                    .add_message(
                        ticket,
                        &message(Actor::Agent(ids.agents[*agent]), false, body, None),
                    )
                    .await?;
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
    }
}
