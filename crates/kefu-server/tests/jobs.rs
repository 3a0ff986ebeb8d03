//! The auto-close rule: solved tickets close by rule after the configured delay, once.

use jiff::{SignedDuration, Timestamp};
use kefu_domain::*;
use kefu_server::jobs::close_solved_tickets;
use kefu_store::testing::fresh_store_with_clock;
use kefu_store::*;
use std::sync::Arc;

const DAY: SignedDuration = SignedDuration::from_hours(24);

fn new_ticket(mail: &str, subject: &str) -> NewTicket {
    NewTicket {
        draft: TicketDraft {
            subject: Subject::parse(subject).unwrap(),
            priority: Priority::Normal,
            ticket_type: TicketType::Question,
            channel: Channel::Web,
            assignee_id: None,
            team_id: None,
            tier: Tier::FRONTLINE,
            tags: vec![],
            custom_fields: "{}".into(),
        },
        requester: RequesterRef::ByEmail {
            email: Email::parse(mail).unwrap(),
            name: None,
            language: None,
        },
        actor: Actor::System,
        first_message_by_actor: false,
        body_text: "help".into(),
        body_html: None,
        attachments: vec![],
        idempotency: None,
        follow_up_of: None,
        mail: None,
    }
}

#[tokio::test]
async fn solved_tickets_close_by_rule_after_the_delay_and_only_once() {
    let t0: Timestamp = "2026-10-01T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock.clone()).await;
    let solve = TicketPatch {
        status: Some(Status::Solved),
        ..Default::default()
    };

    let solved = db
        .create_ticket(&new_ticket("a@example.com", "solved"))
        .await
        .unwrap();
    db.update_ticket(solved.id, &solve, Actor::System)
        .await
        .unwrap();
    let reopened = db
        .create_ticket(&new_ticket("b@example.com", "reopened"))
        .await
        .unwrap();
    db.update_ticket(reopened.id, &solve, Actor::System)
        .await
        .unwrap();
    let open = db
        .create_ticket(&new_ticket("c@example.com", "open"))
        .await
        .unwrap();

    // The customer answers the second one: it reopens and must not be closed.
    clock.advance(DAY);
    let reply = NewMessage {
        author: Actor::Customer(reopened.requester_id),
        public: true,
        body_text: "still broken".into(),
        body_html: None,
        attachments: vec![],
        status_after: None,
        idempotency: None,
        mail: None,
    };
    db.add_message(reopened.id, &reply).await.unwrap();

    let store: &dyn Store = &**db;
    assert_eq!(
        close_solved_tickets(store, t0 + DAY * 3, DEFAULT_CLOSE_AFTER)
            .await
            .unwrap(),
        0
    );
    clock.set(t0 + DAY * 4);
    assert_eq!(
        close_solved_tickets(store, t0 + DAY * 4, DEFAULT_CLOSE_AFTER)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        close_solved_tickets(store, t0 + DAY * 4, DEFAULT_CLOSE_AFTER)
            .await
            .unwrap(),
        0,
        "only once"
    );

    let closed = db.get_ticket(solved.id).await.unwrap().unwrap();
    assert_eq!(closed.status, Status::Closed);
    assert_eq!(closed.closed_at, Some(t0 + DAY * 4));
    let last = db.list_events(solved.id).await.unwrap().pop().unwrap();
    assert_eq!(last.actor, Actor::Rule);
    assert_eq!(
        db.get_ticket(reopened.id).await.unwrap().unwrap().status,
        Status::Open
    );
    assert_eq!(
        db.get_ticket(open.id).await.unwrap().unwrap().status,
        Status::New
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_running_the_rule_at_once_close_each_ticket_once() {
    let t0: Timestamp = "2026-10-01T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock.clone()).await;
    let solve = TicketPatch {
        status: Some(Status::Solved),
        ..Default::default()
    };
    for i in 0..30 {
        let t = db
            .create_ticket(&new_ticket(&format!("n{i}@example.com"), "x"))
            .await
            .unwrap();
        db.update_ticket(t.id, &solve, Actor::System).await.unwrap();
    }
    clock.set(t0 + DAY * 5);
    let (a, b) = tokio::join!(
        close_solved_tickets(&**db, t0 + DAY * 5, DEFAULT_CLOSE_AFTER),
        close_solved_tickets(&**db, t0 + DAY * 5, DEFAULT_CLOSE_AFTER)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 30);
    let f = TicketFilter {
        statuses: vec![Status::Closed],
        ..Default::default()
    };
    assert_eq!(db.count_tickets(&f).await.unwrap(), 30);
}
