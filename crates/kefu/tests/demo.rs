//! The demo workspace loads through the real store (SQLite or PostgreSQL, chosen by
//! `KEFU_TEST_DB`) with the expected counts, every status, the same tickets every time, and
//! a history dated over the months before the load.

use indicatif::ProgressBar;
use jiff::{SignedDuration, Timestamp};
use kefu::demo::{self, AGENTS, DemoSize, ORGS, Plan, TEAMS};
use kefu_domain::{Change, Status, TicketId};
use kefu_store::{
    CustomerQuery, ManualClock, Store, TicketFilter, testing::fresh_store_with_clock,
};
use std::sync::Arc;

// Any PHC string works for loading; logging in is tested by kefu-server.
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$9dQ2qk0m5Xy0QkS7d6nWqv1UQ0vQW9n2kq3c1m0XxYg";

async fn count_customers(store: &dyn Store) -> usize {
    let mut n = 0;
    let mut cursor = None;
    loop {
        let q = CustomerQuery {
            cursor: cursor.clone(),
            limit: 100,
            ..Default::default()
        };
        let page = store.list_customers(&q).await.unwrap();
        n += page.items.len();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return n,
        }
    }
}

/// (number, subject, status, message count) of the first `n` tickets by id.
async fn first_tickets(store: &dyn Store, n: i64) -> Vec<(i64, String, Status, usize)> {
    let mut out = Vec::new();
    for id in 1..=n {
        let t = store
            .get_ticket_by_number(id)
            .await
            .unwrap()
            .expect("ticket exists");
        let messages = store.list_messages(t.id, true).await.unwrap().len();
        out.push((t.number, t.subject, t.status, messages));
    }
    out
}

async fn load(size: DemoSize) -> (kefu_store::testing::TestDb, demo::Summary) {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let db = fresh_store_with_clock(clock.clone()).await;
    assert!(db.is_empty().await.unwrap());
    let plan = Plan::generate(size);
    let summary = demo::load(&**db, &clock, &plan, HASH, &ProgressBar::hidden())
        .await
        .unwrap();
    (db, summary)
}

async fn assert_counts(store: &dyn Store, size: DemoSize) {
    assert_eq!(store.list_teams().await.unwrap().len(), TEAMS.len());
    assert_eq!(store.list_agents().await.unwrap().len(), AGENTS.len());
    assert_eq!(store.list_organizations().await.unwrap().len(), ORGS.len());
    assert_eq!(count_customers(store).await, size.customers);
    assert_eq!(
        store.count_tickets(&TicketFilter::default()).await.unwrap(),
        size.tickets as i64
    );
    for s in Status::ALL {
        let f = TicketFilter {
            statuses: vec![*s],
            ..Default::default()
        };
        assert!(store.count_tickets(&f).await.unwrap() > 0, "no {s} tickets");
    }
    assert!(!store.is_empty().await.unwrap());
}

#[tokio::test]
async fn a_small_demo_loads_with_every_status_and_the_planned_statuses() {
    let size = DemoSize::SMALL;
    let (db, summary) = load(size).await;
    assert_counts(&**db, size).await;
    assert_eq!(summary.tickets, size.tickets);

    // Each ticket ends in the status its plan says, with its planned conversation.
    let plan = Plan::generate(size);
    for (i, spec) in plan.tickets.iter().enumerate() {
        let t = db
            .get_ticket_by_number(i as i64 + 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.subject.as_str(), t.status),
            (spec.subject.as_str(), spec.status),
            "ticket {}",
            i + 1
        );
        let messages = db.list_messages(t.id, true).await.unwrap();
        assert_eq!(
            messages.len(),
            spec.message_count(),
            "messages of ticket {}",
            i + 1
        );
    }
    // A closed ticket was closed by the rule, after being solved.
    let closed = plan
        .tickets
        .iter()
        .position(|t| t.status == Status::Closed)
        .unwrap();
    let events = db.list_events(TicketId(closed as i64 + 1)).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.actor, kefu_domain::Actor::Rule);
}

#[tokio::test]
async fn the_history_spans_months_and_ends_shortly_before_now() {
    let size = DemoSize::SMALL;
    let (db, _) = load(size).await;
    let now = Timestamp::now();
    let day = SignedDuration::from_hours(24);
    let mut tickets = Vec::new();
    for number in 1..=size.tickets as i64 {
        tickets.push(db.get_ticket_by_number(number).await.unwrap().unwrap());
    }

    let created: Vec<_> = tickets.iter().map(|t| t.created_at).collect();
    assert!(created.is_sorted(), "ticket numbers follow creation");
    let span = created[0].duration_until(*created.last().unwrap());
    assert!(span > day * 30, "created over {span:#}");
    let latest = tickets.iter().map(|t| t.updated_at).max().unwrap();
    assert!(latest <= now && latest.duration_until(now) < day + SignedDuration::from_mins(5));

    for t in &tickets {
        let n = t.number;
        assert!(t.created_at <= t.updated_at && t.updated_at <= now, "#{n}");
        if let Some(solved) = t.solved_at {
            assert!(t.created_at < solved && solved <= t.updated_at, "#{n}");
        }
        if let Some(closed) = t.closed_at {
            let solved = t.solved_at.expect("closed after solved");
            assert!(solved.duration_until(closed) >= day * 4, "#{n}");
            assert_eq!(closed, t.updated_at, "#{n}");
        }
        let messages = db.list_messages(t.id, true).await.unwrap();
        let at: Vec<_> = messages.iter().map(|m| m.created_at).collect();
        assert_eq!(at[0], t.created_at, "#{n}");
        assert!(at.windows(2).all(|w| w[0] < w[1]), "#{n}: {at:?}");
        let events = db.list_events(t.id).await.unwrap();
        let at: Vec<_> = events.iter().map(|e| e.at).collect();
        assert!(at.is_sorted(), "#{n}");
        // SLA clock events (a timer's warning or breach) do not change the ticket itself.
        let changed = events
            .iter()
            .filter(|e| !matches!(e.change, Change::Sla { .. }))
            .map(|e| e.at)
            .next_back();
        assert_eq!(changed, Some(t.updated_at), "#{n}");
    }
    assert_no_timer_due(&**db).await;
    let q = CustomerQuery {
        limit: 200,
        ..Default::default()
    };
    let customers = db.list_customers(&q).await.unwrap().items;
    assert_eq!(customers.len(), size.customers);
    for c in customers {
        assert!(
            c.created_at < created[0],
            "customers come before the tickets"
        );
    }
}

#[tokio::test]
async fn loading_the_demo_twice_gives_the_same_tickets() {
    let (a, _) = load(DemoSize::SMALL).await;
    let (b, _) = load(DemoSize::SMALL).await;
    let first = first_tickets(&**a, 20).await;
    assert_eq!(first, first_tickets(&**b, 20).await);
    assert_eq!(
        first.iter().map(|t| t.0).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_full_demo_loads_with_the_documented_counts() {
    let started = std::time::Instant::now();
    let (db, summary) = load(DemoSize::FULL).await;
    eprintln!(
        "full demo loaded in {:.1} s: {summary:?}",
        started.elapsed().as_secs_f64()
    );
    assert_counts(&**db, DemoSize::FULL).await;
    assert_eq!(
        (
            summary.teams,
            summary.agents,
            summary.organizations,
            summary.customers,
            summary.tickets
        ),
        (5, 15, 12, 300, 2000)
    );
    assert_no_timer_due(&**db).await;
}

/// Loading fired every timer the history made due, cascades through the tiers included
/// (a breach that raises the tier can make the next tier's time limit due at once): a
/// fresh server does not start by escalating, and so re-ordering, the backlog.
async fn assert_no_timer_due(store: &dyn Store) {
    let due = store
        .claim_sla_timers(SignedDuration::from_secs(30), 1000)
        .await
        .unwrap();
    assert_eq!(due, Vec::new(), "SLA timers still due after loading");
}
