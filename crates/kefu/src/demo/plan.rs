//! The demo workspace as plain data: who the customers are and what happens on each
//! ticket, step by step. Pure and deterministic: the same [`DemoSize`] always yields the
//! same [`Plan`] (the seed is fixed), so the demo is identical on every machine and a
//! test can compare two plans with `==`. [`super::load`] replays a plan through the store.

use super::{
    conversation::plan_ticket,
    people::{self, CustomerSpec},
    rng::Rng,
};
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
        Plan { customers, tickets }
    }
}
