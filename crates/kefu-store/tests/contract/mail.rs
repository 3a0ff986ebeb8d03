//! The email channel's storage: mailboxes and raw inbound mail stored once (here), messages
//! with an email side (`messages`: linked inbound mail, Message-IDs for threading, delivery
//! status) and the job queue that sends outgoing mail (`jobs`). The builders here are
//! shared by both.

use super::*;
use std::sync::Arc;

mod jobs;
mod messages;

// ---------- builders ----------

fn mailbox(address: &str) -> NewMailbox {
    NewMailbox {
        address: email(address),
        name: "Acme Support".into(),
        team_id: None,
        imap_url: None,
        auto_ack: true,
        active: true,
    }
}

fn raw_mail(message_id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Li <li@example.com>\r\nTo: support@acme.example\r\nMessage-ID: <{message_id}>\r\n\
         Subject: printer\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn inbound(dedupe_key: &str, raw: Vec<u8>) -> NewInbound {
    NewInbound {
        mailbox_id: None,
        dedupe_key: dedupe_key.into(),
        message_id: Some(dedupe_key.into()),
        envelope_from: Some("li@example.com".into()),
        envelope_to: vec!["support@acme.example".into()],
        source: "smtp".into(),
        subject: "打印机坏了".into(),
        from: Some("Li <li@example.com>".into()),
        raw,
    }
}

/// The email side of a received message.
fn received(message_id: &str, inbound_id: Option<InboundMailId>) -> MessageMail {
    MessageMail {
        message_id: message_id.into(),
        inbound_id,
        from: Some("Li <li@example.com>".into()),
        to: vec!["support@acme.example".into()],
        ..Default::default()
    }
}

/// The email side of an agent's reply, queued for sending.
fn outgoing(message_id: &str) -> MessageMail {
    MessageMail {
        message_id: message_id.into(),
        from: Some("Acme Support <support@acme.example>".into()),
        to: vec!["li@example.com".into()],
        cc: vec!["boss@example.com".into()],
        delivery: Some(DeliveryStatus::Queued),
        ..Default::default()
    }
}

fn job(kind: &str, n: i64, run_at: Timestamp, key: Option<&str>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: serde_json::json!({ "n": n }),
        run_at,
        idempotency_key: key.map(str::to_string),
    }
}

/// A ticket opened by a received email (stored first, as the pipeline does).
async fn ticket_by_mail(db: &TestDb, message_id: &str) -> (Ticket, InboundMail) {
    let (stored, _) = db
        .store_inbound(&inbound(message_id, raw_mail(message_id, "help")))
        .await
        .unwrap();
    let mut nt = ticket_from(by_email("li@example.com"), "打印机坏了");
    nt.draft.channel = Channel::Email;
    nt.mail = Some(received(message_id, Some(stored.id)));
    (db.create_ticket(&nt).await.unwrap(), stored)
}

async fn agent(db: &TestDb) -> AgentId {
    db.create_agent(&new_agent("mail-agent@kefu.test", vec![]))
        .await
        .unwrap()
        .id
}

fn frozen_clock() -> Arc<ManualClock> {
    let t0 = Timestamp::from_microsecond(1_767_258_000_123_456).unwrap();
    Arc::new(ManualClock::new(t0))
}

fn mins(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_mins(n)
}

fn ids(jobs: &[Job]) -> Vec<JobId> {
    jobs.iter().map(|j| j.id).collect()
}

// ---------- mailboxes ----------

#[tokio::test]
async fn mailboxes_are_unique_by_address_and_found_by_any_plus_address() {
    let db = fresh_store().await;
    let team = db.create_team("Support", "").await.unwrap();
    let support = db
        .create_mailbox(&NewMailbox {
            team_id: Some(team.id),
            ..mailbox("Support@Acme.example")
        })
        .await
        .unwrap();
    assert_eq!(support.address.as_str(), "support@acme.example");
    assert_eq!(
        (support.team_id, support.auto_ack, support.active),
        (Some(team.id), true, true)
    );
    assert_eq!(
        db.get_mailbox(support.id).await.unwrap().as_ref(),
        Some(&support)
    );

    let taken = db.create_mailbox(&mailbox("SUPPORT@acme.example")).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict("mailbox"))),
        "{taken:?}"
    );
    let unknown_team = db
        .create_mailbox(&NewMailbox {
            team_id: Some(TeamId(999)),
            ..mailbox("sales@acme.example")
        })
        .await;
    assert!(
        matches!(unknown_team, Err(StoreError::InvalidReference("team"))),
        "{unknown_team:?}"
    );
    let bad_url = db
        .create_mailbox(&NewMailbox {
            imap_url: Some("http://mail.example".into()),
            ..mailbox("sales@acme.example")
        })
        .await;
    assert!(matches!(bad_url, Err(StoreError::Domain(_))), "{bad_url:?}");

    for address in [
        "support@acme.example",
        "Support+t42-ab9z@ACME.example",
        " <support+anything@acme.example> ",
    ] {
        let found = db.find_mailbox_by_address(address).await.unwrap();
        assert_eq!(found.map(|m| m.id), Some(support.id), "{address}");
    }
    assert_eq!(
        db.find_mailbox_by_address("sales@acme.example")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.find_mailbox_by_address("support@other.example")
            .await
            .unwrap(),
        None
    );

    // A mailbox whose own address is a plus-address is matched exactly first.
    let vip = db
        .create_mailbox(&mailbox("support+vip@acme.example"))
        .await
        .unwrap();
    let found = db
        .find_mailbox_by_address("Support+VIP@acme.example")
        .await
        .unwrap();
    assert_eq!(found.map(|m| m.id), Some(vip.id));
    let found = db
        .find_mailbox_by_address("support+t1-x@acme.example")
        .await
        .unwrap();
    assert_eq!(found.map(|m| m.id), Some(support.id));

    let listed: Vec<_> = db
        .list_mailboxes()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.address.as_str().to_string())
        .collect();
    assert_eq!(listed, ["support+vip@acme.example", "support@acme.example"]);
}

#[tokio::test]
async fn updating_a_mailbox_changes_only_what_the_patch_names() {
    let db = fresh_store().await;
    let team = db.create_team("Support", "").await.unwrap();
    let m = db
        .create_mailbox(&NewMailbox {
            team_id: Some(team.id),
            ..mailbox("support@acme.example")
        })
        .await
        .unwrap();

    let patch = MailboxPatch {
        imap_url: Some(Some("imaps://bot:s3cret@mail.acme.example/INBOX".into())),
        auto_ack: Some(false),
        ..Default::default()
    };
    let updated = db.update_mailbox(m.id, &patch).await.unwrap().unwrap();
    assert_eq!(
        updated,
        Mailbox {
            imap_url: Some("imaps://bot:s3cret@mail.acme.example/INBOX".into()),
            auto_ack: false,
            ..m.clone()
        }
    );

    let patch = MailboxPatch {
        name: Some("顶点客服".into()),
        team_id: Some(None),
        imap_url: Some(None),
        active: Some(false),
        ..Default::default()
    };
    let updated = db.update_mailbox(m.id, &patch).await.unwrap().unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.team_id,
            updated.imap_url.as_deref(),
            updated.auto_ack,
            updated.active
        ),
        ("顶点客服", None, None, false, false)
    );
    assert_eq!(db.get_mailbox(m.id).await.unwrap().as_ref(), Some(&updated));

    let unknown_team = MailboxPatch {
        team_id: Some(Some(TeamId(999))),
        ..Default::default()
    };
    let r = db.update_mailbox(m.id, &unknown_team).await;
    assert!(
        matches!(r, Err(StoreError::InvalidReference("team"))),
        "{r:?}"
    );
    assert_eq!(
        db.update_mailbox(MailboxId(999), &MailboxPatch::default())
            .await
            .unwrap(),
        None
    );
}

// ---------- inbound mail ----------

#[tokio::test]
async fn inbound_mail_is_stored_raw_once_per_dedupe_key() {
    let db = fresh_store().await;
    let support = db
        .create_mailbox(&mailbox("support@acme.example"))
        .await
        .unwrap();
    // Raw mail is bytes, not text: 8-bit headers, Latin-1 and NUL must survive.
    let mut raw = raw_mail("m1@example.com", "caf\u{e9}");
    raw.extend_from_slice(b"Subject: \xff\xfe caf\xe9\r\n\x00\x80\x81 end");
    let first = NewInbound {
        mailbox_id: Some(support.id),
        ..inbound("m1@example.com", raw.clone())
    };
    let (stored, new) = db.store_inbound(&first).await.unwrap();
    assert!(new);
    assert_eq!(
        (
            stored.state,
            stored.size,
            stored.mailbox_id,
            stored.ticket_id,
            stored.message_row_id
        ),
        (
            InboundState::Received,
            raw.len() as i64,
            Some(support.id),
            None,
            None
        )
    );
    assert_eq!(stored.envelope_to, ["support@acme.example"]);
    assert_eq!(
        (stored.subject.as_str(), stored.from.as_deref()),
        ("打印机坏了", Some("Li <li@example.com>"))
    );
    assert_eq!(stored.raw_sha256.len(), 64);
    assert_eq!(
        db.get_inbound(stored.id).await.unwrap().as_ref(),
        Some(&stored)
    );
    assert_eq!(db.inbound_raw(stored.id).await.unwrap(), Some(raw.clone()));

    // The same mail again (another relay, other bytes): the first one stays.
    let again = NewInbound {
        subject: "again".into(),
        ..inbound("m1@example.com", b"other bytes".to_vec())
    };
    let (earlier, new) = db.store_inbound(&again).await.unwrap();
    assert!(!new);
    assert_eq!(earlier, stored);
    assert_eq!(db.inbound_raw(stored.id).await.unwrap(), Some(raw.clone()));
    assert_eq!(count_rows(&db, "inbound_mail").await, 1);
    assert_eq!(
        count_rows(&db, "blobs").await,
        1,
        "a duplicate keeps no bytes"
    );

    // Another mail with the same bytes shares their blob.
    let (twin, new) = db
        .store_inbound(&inbound("sha-of-twin", raw.clone()))
        .await
        .unwrap();
    assert!(new);
    assert_ne!(twin.id, stored.id);
    assert_eq!(twin.raw_sha256, stored.raw_sha256);
    assert_eq!(db.inbound_raw(twin.id).await.unwrap(), Some(raw));
    assert_eq!(count_rows(&db, "blobs").await, 1);

    assert_eq!(db.get_inbound(InboundMailId(999)).await.unwrap(), None);
    assert_eq!(db.inbound_raw(InboundMailId(999)).await.unwrap(), None);
    let unknown = NewInbound {
        mailbox_id: Some(MailboxId(999)),
        ..inbound("m2@example.com", b"x".to_vec())
    };
    let r = db.store_inbound(&unknown).await;
    assert!(
        matches!(r, Err(StoreError::InvalidReference("mailbox"))),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_of_one_mail_store_it_once() {
    let db = fresh_store().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store();
        tasks.push(tokio::spawn(async move {
            // Each relay's copy differs a little (its own Received: line).
            let mut raw = format!("Received: from relay{i}\r\n").into_bytes();
            raw.extend(raw_mail("race@example.com", "hi"));
            store
                .store_inbound(&inbound("race@example.com", raw))
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    let mut ids = HashSet::new();
    for t in tasks {
        let (stored, new) = t.await.unwrap();
        winners += usize::from(new);
        ids.insert(stored.id);
    }
    assert_eq!(winners, 1, "exactly one delivery stored the mail");
    assert_eq!(ids.len(), 1, "every delivery got the stored row");
    assert_eq!(count_rows(&db, "inbound_mail").await, 1);
    assert_eq!(count_rows(&db, "blobs").await, 1, "losers keep no bytes");
}

#[tokio::test]
async fn the_mail_log_lists_newest_first_by_page_state_and_mailbox() {
    let clock = frozen_clock();
    let db = fresh_store_with_clock(clock.clone()).await;
    let support = db
        .create_mailbox(&mailbox("support@acme.example"))
        .await
        .unwrap();
    let mut stored = Vec::new();
    for i in 0..7 {
        // Two mails per minute: the id breaks ties.
        if i % 2 == 0 {
            clock.advance(mins(1));
        }
        let mut m = inbound(&format!("m{i}@example.com"), raw_mail("x", &i.to_string()));
        m.mailbox_id = (i < 4).then_some(support.id);
        stored.push(db.store_inbound(&m).await.unwrap().0);
    }
    db.set_inbound_state(stored[1].id, InboundState::Loop, None, None, Some("ours"))
        .await
        .unwrap();
    db.set_inbound_state(stored[4].id, InboundState::RateLimited, None, None, None)
        .await
        .unwrap();

    let all_pages = |q: InboundQuery| {
        let db = db.store();
        async move {
            let mut out = Vec::new();
            let mut q = q;
            loop {
                let page = db.list_inbound(&q).await.unwrap();
                assert!(page.items.len() <= q.limit as usize);
                out.extend(page.items.into_iter().map(|m| m.id));
                match page.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => return out,
                }
            }
        }
    };
    let newest_first: Vec<_> = stored.iter().rev().map(|m| m.id).collect();
    let q = InboundQuery {
        limit: 2,
        ..Default::default()
    };
    assert_eq!(all_pages(q.clone()).await, newest_first);
    let first = db.list_inbound(&q).await.unwrap();
    assert_eq!(first.items[0], stored[6]);

    let received = InboundQuery {
        state: Some(InboundState::Received),
        ..q.clone()
    };
    let expect: Vec<_> = [6, 5, 3, 2, 0].iter().map(|&i| stored[i].id).collect();
    assert_eq!(all_pages(received).await, expect);
    let looped = InboundQuery {
        state: Some(InboundState::Loop),
        ..q.clone()
    };
    let page = db.list_inbound(&looped).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        (page.items[0].state, page.items[0].note.as_deref()),
        (InboundState::Loop, Some("ours"))
    );
    let by_mailbox = InboundQuery {
        mailbox_id: Some(support.id),
        state: Some(InboundState::Received),
        ..q.clone()
    };
    let expect: Vec<_> = [3, 2, 0].iter().map(|&i| stored[i].id).collect();
    assert_eq!(all_pages(by_mailbox).await, expect);

    let garbage = InboundQuery {
        cursor: Some("not-a-cursor".into()),
        ..q
    };
    let r = db.list_inbound(&garbage).await;
    assert!(matches!(r, Err(StoreError::Domain(_))), "{r:?}");
}

#[tokio::test]
async fn mail_still_received_is_found_again_after_a_crash_oldest_first() {
    let clock = frozen_clock();
    let db = fresh_store_with_clock(clock.clone()).await;
    let t0 = clock.now();
    let mut stored = Vec::new();
    for i in 0..4 {
        let m = inbound(&format!("c{i}@example.com"), raw_mail("c", &i.to_string()));
        stored.push(db.store_inbound(&m).await.unwrap().0);
        clock.advance(mins(1));
    }
    db.set_inbound_state(stored[1].id, InboundState::Automatic, None, None, None)
        .await
        .unwrap();
    let (t, _) = ticket_by_mail(&db, "opens@example.com").await;
    assert_eq!(t.status, Status::New);

    let ids = |v: &[usize]| v.iter().map(|&i| stored[i].id).collect::<Vec<_>>();
    assert_eq!(db.unprocessed_inbound(t0, 10).await.unwrap(), ids(&[0]));
    assert_eq!(
        db.unprocessed_inbound(t0 + mins(2), 10).await.unwrap(),
        ids(&[0, 2])
    );
    assert_eq!(
        db.unprocessed_inbound(clock.now(), 10).await.unwrap(),
        ids(&[0, 2, 3]),
        "ticketed and automatic mail is done"
    );
    assert_eq!(
        db.unprocessed_inbound(clock.now(), 2).await.unwrap(),
        ids(&[0, 2])
    );
    assert_eq!(
        db.unprocessed_inbound(t0 - mins(1), 10).await.unwrap(),
        vec![]
    );
}

#[tokio::test]
async fn a_bounce_links_the_message_that_bounced_and_an_outcome_is_final() {
    let db = fresh_store().await;
    let (t, _) = ticket_by_mail(&db, "first@example.com").await;
    let a = agent(&db).await;
    let mut r = reply(Actor::Agent(a), "我们会派人");
    r.mail = Some(outgoing("reply-1@kefu.acme.example"));
    let (_, sent) = db.add_message(t.id, &r).await.unwrap().unwrap();

    let (dsn, _) = db
        .store_inbound(&inbound("dsn-1@mx.example", b"DSN".to_vec()))
        .await
        .unwrap();
    db.set_inbound_state(
        dsn.id,
        InboundState::Bounce,
        Some(t.id),
        Some(sent.id),
        Some("550 5.1.1 user unknown"),
    )
    .await
    .unwrap();
    let dsn = db.get_inbound(dsn.id).await.unwrap().unwrap();
    assert_eq!(
        (
            dsn.state,
            dsn.ticket_id,
            dsn.message_row_id,
            dsn.note.as_deref()
        ),
        (
            InboundState::Bounce,
            Some(t.id),
            Some(sent.id),
            Some("550 5.1.1 user unknown")
        )
    );

    let unknown = db
        .set_inbound_state(InboundMailId(999), InboundState::Loop, None, None, None)
        .await;
    assert!(
        matches!(unknown, Err(StoreError::InvalidReference("inbound mail"))),
        "{unknown:?}"
    );
    let bad_link = db
        .set_inbound_state(
            dsn.id,
            InboundState::Bounce,
            Some(TicketId(999)),
            None,
            None,
        )
        .await;
    assert!(
        matches!(bad_link, Err(StoreError::InvalidReference(_))),
        "{bad_link:?}"
    );
}
