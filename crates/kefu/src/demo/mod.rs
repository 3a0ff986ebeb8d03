//! The demo workspace that `kefu serve --demo` loads into an empty database: five teams,
//! fifteen agents across tiers 1–4 and every role, twelve organizations, 300 customers in
//! Chinese and English, and 2,000 tickets in every status with realistic conversations
//! (repairs, refunds, invoices 发票, shipping 物流, warranty 保修, complaints, …).
//!
//! Deterministic: a fixed seed and our own PRNG ([`rng`]) produce a pure [`Plan`], dated over
//! the last 90 days by [`timeline`]; [`load`] replays it through the normal `Store` methods
//! on a store opened with a [`kefu_store::ManualClock`], setting the clock before each step,
//! so every ticket has a real event log with plausible times ending shortly before the load.
//!
//! Never does: anything but create data through the public store interface.

mod conversation;
mod load;
mod people;
mod plan;
mod rng;
mod sla;
mod texts_en;
mod texts_zh_cn;
mod texts_zh_tw;
mod timeline;
mod topics;

pub use load::{DEMO_MAILBOX, Summary, load};
pub use people::{AGENTS, ORGS, TEAMS};
pub use plan::{DemoSize, Plan, Step, TicketSpec};

use indicatif::{ProgressBar, ProgressStyle};

/// The password of every demo agent and portal customer.
pub const DEMO_PASSWORD: &str = "kefu-demo-2026";

/// One of the demo accounts printed by `kefu serve --demo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    pub label: &'static str,
    pub email: &'static str,
    pub name: &'static str,
}

/// The demo accounts worth trying, one per kind of user.
pub fn logins() -> [Login; 5] {
    let agent = |label, i: usize| Login {
        label,
        email: AGENTS[i].email,
        name: AGENTS[i].name,
    };
    [
        agent("admin", 0),
        agent("supervisor", 1),
        agent("agent", 3),
        agent("read-only", 4),
        // The first generated customer is fixed: a key-account portal user.
        Login {
            label: "customer",
            email: "chen.xiaoming@huaxin.example.com",
            name: "陈晓明 (portal)",
        },
    ]
}

/// A progress bar over the customers and ticket events of `plan` (drawn only on a
/// terminal).
pub fn progress_bar(plan: &Plan) -> ProgressBar {
    let bar = ProgressBar::new((plan.customers.len() + plan.ticket_events()) as u64);
    let style = ProgressStyle::with_template(
        "{spinner} demo: {msg:<18} [{bar:40}] {pos}/{len} ({elapsed})",
    )
    .expect("valid progress template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::{Role, Status};

    #[test]
    fn the_plan_is_deterministic() {
        assert_eq!(
            Plan::generate(DemoSize::SMALL),
            Plan::generate(DemoSize::SMALL)
        );
        let full = Plan::generate(DemoSize::FULL);
        assert_eq!(full.customers.len(), 300);
        assert_eq!(full.tickets.len(), 2000);
        // The first customer is fixed: the portal demo login.
        assert_eq!(full.customers[0].email, logins()[4].email);
    }

    #[test]
    fn the_full_plan_covers_every_status_role_and_language() {
        let plan = Plan::generate(DemoSize::FULL);
        for s in Status::ALL {
            let n = plan.tickets.iter().filter(|t| t.status == *s).count();
            assert!(n > 50, "{s}: only {n} tickets");
        }
        for r in Role::ALL {
            assert!(AGENTS.iter().any(|a| a.role == *r), "no {r}");
        }
        for tier in 1..=4 {
            assert!(AGENTS.iter().any(|a| a.tier == tier), "no tier {tier}");
        }
        for lang in kefu_domain::Lang::ALL {
            assert!(
                plan.customers.iter().filter(|c| c.lang == *lang).count() > 20,
                "{lang}"
            );
        }
        assert!(plan.customers.iter().filter(|c| c.portal).count() >= 3);
        assert!(
            plan.tickets
                .iter()
                .all(|t| (1..=6).contains(&t.message_count()))
        );
        assert!(plan.tickets.iter().any(|t| t.logged_by.is_some()));
    }

    #[test]
    fn customer_emails_are_unique_and_valid() {
        let plan = Plan::generate(DemoSize::FULL);
        let mut seen = std::collections::HashSet::new();
        for c in &plan.customers {
            kefu_domain::Email::parse(&c.email).expect("valid email");
            assert!(seen.insert(c.email.clone()), "duplicate {}", c.email);
        }
    }

    #[test]
    fn the_logins_are_the_roles_they_claim() {
        let l = logins();
        let role = |i: usize| AGENTS.iter().find(|a| a.email == l[i].email).unwrap().role;
        assert_eq!(role(0), Role::Admin);
        assert_eq!(role(1), Role::Supervisor);
        assert_eq!(role(2), Role::Agent);
        assert_eq!(role(3), Role::ReadOnly);
    }
}
