//! The storage contract, told as stories. Every test runs against the engine named by
//! `KEFU_TEST_DB` (`sqlite` by default, or `postgres`) on a fresh database, and both
//! engines must pass the same suite. This file holds the shared builders and the store-wide
//! stories; the modules hold the stories of each part of the contract.

mod calendars;
mod lists;
mod mail;
mod notifications;
mod people;
mod sla;
mod tickets;

use kefu_domain::*;
use kefu_store::testing::{TestDb, fresh_store, fresh_store_with_clock};
use kefu_store::*;
use std::collections::HashSet;

// ---------- small builders ----------

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn new_customer(name: &str, mail: Option<&str>, org: Option<OrganizationId>) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        email: mail.map(email),
        phones: vec![],
        external_ids: vec![],
        organization_id: org,
        segment: Segment::Standard,
        language: Lang::ZhCn,
        time_zone: "Asia/Shanghai".into(),
    }
}

fn new_agent(mail: &str, teams: Vec<TeamId>) -> NewAgent {
    NewAgent {
        email: email(mail),
        name: format!("Agent {mail}"),
        role: Role::Agent,
        tier: Tier::FRONTLINE,
        teams,
        password_hash: format!("hash-of-{mail}"),
    }
}

fn org(name: &str, shares: bool) -> NewOrganization {
    NewOrganization {
        name: name.into(),
        domains: vec![],
        segment: Segment::Standard,
        shares_tickets: shares,
    }
}

fn draft(subject: &str) -> TicketDraft {
    TicketDraft {
        subject: Subject::parse(subject).unwrap(),
        priority: Priority::Normal,
        ticket_type: TicketType::Question,
        channel: Channel::Web,
        assignee_id: None,
        team_id: None,
        tier: Tier::FRONTLINE,
        tags: vec![],
        custom_fields: "{}".into(),
    }
}

fn ticket_from(requester: RequesterRef, subject: &str) -> NewTicket {
    NewTicket {
        draft: draft(subject),
        actor: match &requester {
            RequesterRef::Existing(c) => Actor::Customer(*c),
            RequesterRef::ByEmail { .. } => Actor::System,
        },
        requester,
        first_message_by_actor: false,
        body_text: format!("{subject}: please help"),
        body_html: None,
        attachments: vec![],
        idempotency: None,
        follow_up_of: None,
        mail: None,
    }
}

fn by_email(mail: &str) -> RequesterRef {
    RequesterRef::ByEmail {
        email: email(mail),
        name: None,
        language: None,
    }
}

fn reply(author: Actor, body: &str) -> NewMessage {
    NewMessage {
        author,
        public: true,
        body_text: body.into(),
        body_html: None,
        attachments: vec![],
        status_after: None,
        idempotency: None,
        mail: None,
    }
}

/// An idempotency key whose requests all count as "the same request".
fn key(scope: &str, k: &str) -> Option<IdempotencyKey> {
    keyed(scope, k, "same request")
}

/// An idempotency key sent with the request fingerprinted as `fingerprint`.
fn keyed(scope: &str, k: &str, fingerprint: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey {
        scope: scope.into(),
        key: k.into(),
        fingerprint: fingerprint.into(),
    })
}

/// True for the error of a key sent again with a different request.
fn is_key_reuse<T>(r: &Result<T>) -> bool {
    matches!(
        r,
        Err(StoreError::Domain(DomainError::Invalid {
            field: "Idempotency-Key",
            ..
        }))
    )
}

fn status(s: Status) -> TicketPatch {
    TicketPatch {
        status: Some(s),
        ..Default::default()
    }
}

async fn customer(db: &TestDb, name: &str, mail: &str) -> Customer {
    db.create_customer(&new_customer(name, Some(mail), None), None)
        .await
        .unwrap()
}

async fn ticket_for(db: &TestDb, c: &Customer, subject: &str) -> Ticket {
    db.create_ticket(&ticket_from(RequesterRef::Existing(c.id), subject))
        .await
        .unwrap()
}

fn field_changes(events: &[Event]) -> Vec<(&'static str, Option<String>, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match &e.change {
            Change::Field { field, from, to } => Some((*field, from.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// Every page of a ticket list, following cursors.
async fn all_pages(db: &TestDb, f: &TicketFilter, limit: u32) -> Vec<Ticket> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let page = db.list_tickets(f, cursor.as_deref(), limit).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("pagination did not end after 1000 pages");
}

/// Counts rows of a table directly, to check what the store keeps behind the contract.
async fn count_rows(db: &TestDb, table: &'static str) -> i64 {
    use sqlx::Row;
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
    if db.engine() == "postgres" {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        let n = sqlx::query(sql).fetch_one(&pool).await.unwrap().get(0);
        pool.close().await;
        n
    } else {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        let n = sqlx::query(sql).fetch_one(&pool).await.unwrap().get(0);
        pool.close().await;
        n
    }
}

// ---------- the store itself ----------

#[tokio::test]
async fn a_fresh_store_is_empty_answers_pings_and_migrates_twice() {
    let db = fresh_store().await;
    let expected = std::env::var("KEFU_TEST_DB").unwrap_or_else(|_| "sqlite".into());
    assert_eq!(
        db.engine(),
        if expected == "postgres" {
            "postgres"
        } else {
            "sqlite"
        }
    );
    db.ping().await.unwrap();
    db.migrate().await.unwrap();
    assert!(db.is_empty().await.unwrap());
    db.create_agent(&new_agent("first@kefu.test", vec![]))
        .await
        .unwrap();
    assert!(!db.is_empty().await.unwrap());
}

#[tokio::test]
async fn settings_keep_the_first_value_written() {
    let db = fresh_store().await;
    assert_eq!(db.get_setting("secret").await.unwrap(), None);
    assert_eq!(db.init_setting("secret", "one").await.unwrap(), "one");
    assert_eq!(db.init_setting("secret", "two").await.unwrap(), "one");
    assert_eq!(
        db.get_setting("secret").await.unwrap().as_deref(),
        Some("one")
    );
}

#[tokio::test]
async fn every_write_is_stamped_with_the_stores_clock() {
    // Sub-second digits on purpose: the store keeps microseconds and must hand back what
    // it reads back later.
    let t0 = Timestamp::from_microsecond(1_767_258_000_123_456).unwrap();
    let hour = jiff::SignedDuration::from_hours(1);
    let clock = std::sync::Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock.clone()).await;

    let team = db.create_team("Support", "").await.unwrap();
    let agent = db
        .create_agent(&new_agent("clock@kefu.test", vec![team.id]))
        .await
        .unwrap();
    let o = db
        .create_organization(&org("Clockworks", false))
        .await
        .unwrap();
    let c = customer(&db, "Li", "li@example.com").await;
    assert_eq!(
        [
            team.created_at,
            agent.created_at,
            o.created_at,
            c.created_at
        ],
        [t0; 4]
    );

    let t = ticket_for(&db, &c, "时间不对").await;
    assert_eq!((t.created_at, t.updated_at), (t0, t0));
    assert_eq!(db.get_ticket(t.id).await.unwrap().as_ref(), Some(&t));
    let by_mail = db
        .create_ticket(&ticket_from(by_email("new@example.com"), "new requester"))
        .await
        .unwrap();
    let requester = db
        .get_customer(by_mail.requester_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(requester.created_at, t0, "a requester created on the way");

    clock.advance(hour);
    let patch = TicketPatch {
        assignee_id: Some(Some(agent.id)),
        ..status(Status::Pending)
    };
    let t1 = db
        .update_ticket(t.id, &patch, Actor::Agent(agent.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t1.created_at, t1.updated_at), (t0, t0 + hour));

    clock.advance(hour);
    let solve = NewMessage {
        status_after: Some(Status::Solved),
        ..reply(Actor::Agent(agent.id), "已解决")
    };
    let (t2, m) = db.add_message(t.id, &solve).await.unwrap().unwrap();
    assert_eq!(m.created_at, t0 + hour * 2);
    assert_eq!(
        (t2.created_at, t2.updated_at, t2.solved_at),
        (t0, t0 + hour * 2, Some(t0 + hour * 2))
    );
    assert_eq!(db.get_ticket(t.id).await.unwrap().as_ref(), Some(&t2));

    let messages = db.list_messages(t.id, true).await.unwrap();
    let at: Vec<_> = messages.iter().map(|m| m.created_at).collect();
    assert_eq!(at, [t0, t0 + hour * 2]);
    let events = db.list_events(t.id).await.unwrap();
    let at: Vec<_> = events.iter().map(|e| (e.at, e.change.clone())).collect();
    assert_eq!(
        at,
        [
            (t0, Change::Created),
            (
                t0,
                Change::Message {
                    message_id: messages[0].id,
                    public: true
                }
            ),
            (
                t0 + hour,
                Change::Field {
                    field: "assignee",
                    from: None,
                    to: s(&agent.id.0.to_string())
                }
            ),
            (
                t0 + hour,
                Change::Field {
                    field: "status",
                    from: s("new"),
                    to: s("pending")
                }
            ),
            (
                t0 + hour * 2,
                Change::Message {
                    message_id: m.id,
                    public: true
                }
            ),
            (
                t0 + hour * 2,
                Change::Field {
                    field: "status",
                    from: s("pending"),
                    to: s("solved")
                }
            ),
        ]
    );
}
