//! The demo workspace as plain data: who the customers are and what happens on each
//! ticket, step by step, and when. Pure and deterministic: the same [`DemoSize`] always
//! yields the same [`Plan`] (the seeds are fixed), so the demo is identical on every machine
//! and a test can compare two plans with `==`. [`super::load`] replays a plan through the
//! store.
//!
//! Times are offsets from the plan's origin, a midnight in the helpdesk's time zone;
//! [`Plan::origin`] pins them to real time so that the history ends less than a day
//! before the load (see [`super::timeline`]).

use super::{
    conversation::plan_ticket,
    people::{self, CustomerSpec},
    rng::Rng,
    timeline,
};
use jiff::{SignedDuration, Timestamp};
use kefu_domain::{Channel, Priority, Status, TicketType};

const SEED: u64 = 0x6B65_6675_2026;

/// How big the demo is. Teams, agents and organizations are fixed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    pub customers: usize,
    pub tickets: usize,
}

impl DemoSize {
    /// What `kefu serve --demo` loads.
    pub const FULL: DemoSize = DemoSize {
        customers: 300,
        tickets: 2000,
    };
    /// Enough to have every status, for fast tests.
    pub const SMALL: DemoSize = DemoSize {
        customers: 40,
        tickets: 120,
    };
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub customers: Vec<CustomerSpec>,
    /// In order of creation (ticket numbers follow this order).
    pub tickets: Vec<TicketSpec>,
}

/// One ticket: how it is created and what happens to it afterwards. Agents and customers
/// are indices into [`AGENTS`] and [`Plan::customers`]; teams into [`people::TEAMS`].
#[derive(Debug, Clone, PartialEq)]
pub struct TicketSpec {
    pub topic: &'static str,
    pub subject: String,
    /// The status the steps leave it in.
    pub status: Status,
    pub priority: Priority,
    pub ticket_type: TicketType,
    pub channel: Channel,
    pub requester: usize,
    pub team: usize,
    pub tier: u8,
    pub tags: Vec<String>,
    /// A JSON object.
    pub custom_fields: String,
    /// Set when an agent logged the ticket from a phone call (the first message is theirs).
    pub logged_by: Option<usize>,
    /// Assigned by routing at creation.
    pub assignee_at_creation: Option<usize>,
    pub body: String,
    pub steps: Vec<Step>,
    /// When it was created, from the plan's origin.
    pub created_at: SignedDuration,
    /// When each of `steps` happens (as many, strictly increasing, after `created_at`).
    pub step_times: Vec<SignedDuration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `by` assigns the ticket to `agent` (and sets the ticket's tier to theirs).
    Assign {
        agent: usize,
        by: usize,
    },
    /// A public message from the requester.
    Customer {
        body: String,
    },
    /// A public agent reply, optionally submitted "as" a status.
    Reply {
        agent: usize,
        body: String,
        status: Option<Status>,
    },
    /// An internal note.
    Note {
        agent: usize,
        body: String,
    },
    SetStatus {
        agent: usize,
        status: Status,
    },
    /// The automation that closes solved tickets.
    CloseByRule,
}

impl TicketSpec {
    /// Messages in the conversation, the first one included.
    pub fn message_count(&self) -> usize {
        1 + self
            .steps
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    Step::Customer { .. } | Step::Reply { .. } | Step::Note { .. }
                )
            })
            .count()
    }
}

impl Plan {
    pub fn generate(size: DemoSize) -> Plan {
        let mut rng = Rng::new(SEED);
        let customers = people::generate_customers(&mut rng, size.customers);
        let portal: Vec<usize> = (0..customers.len())
            .filter(|&i| customers[i].portal)
            .collect();
        let tickets = (0..size.tickets)
            .map(|_| {
                let requester = if !portal.is_empty() && rng.chance(4) {
                    *rng.pick(&portal)
                } else {
                    rng.below(customers.len())
                };
                plan_ticket(&mut rng, requester, &customers[requester])
            })
            .collect();
        let mut plan = Plan { customers, tickets };
        timeline::schedule(&mut plan);
        plan
    }

    /// Where to pin the plan's offsets for a load at `now`: the latest midnight (helpdesk
    /// time) that puts the last activity at or before `now`, so it is less than a day old
    /// and every time of day is as planned.
    pub fn origin(&self, now: Timestamp) -> Timestamp {
        timeline::origin(self, now)
    }

    /// When the teams, agents and organizations were set up (a minute apart).
    pub fn setup_at(&self) -> SignedDuration {
        timeline::setup_at()
    }

    /// When customer `i` was added (all of them before the first ticket, in order).
    pub fn customer_created_at(&self, i: usize) -> SignedDuration {
        timeline::customer_created_at(i, self.customers.len())
    }

    /// The ticket creations and steps, `(tickets + steps)` in all.
    pub fn ticket_events(&self) -> usize {
        self.tickets.iter().map(|t| 1 + t.steps.len()).sum()
    }
}
