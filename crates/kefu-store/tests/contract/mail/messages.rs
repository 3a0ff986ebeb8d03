//! Messages with an email side: the inbound mail they came from, their Message-IDs for
//! threading, automatic mail, and outgoing mail queued for sending.

use super::*;

#[tokio::test]
async fn a_ticket_opened_by_email_links_its_inbound_mail_and_records_its_message_id() {
    let db = fresh_store().await;
    let support = db
        .create_mailbox(&mailbox("support@acme.example"))
        .await
        .unwrap();
    let (stored, _) = db
        .store_inbound(&inbound("first@example.com", b"raw".to_vec()))
        .await
        .unwrap();
    let mut nt = ticket_from(by_email("li@example.com"), "打印机坏了");
    nt.draft.channel = Channel::Email;
    nt.mail = Some(MessageMail {
        mailbox_id: Some(support.id),
        cc: vec!["wang@example.com".into()],
        parse_warning: Some("undecodable charset x-unknown".into()),
        // Angle brackets are not part of the id.
        ..received("<first@example.com>", Some(stored.id))
    });
    nt.idempotency = key("mail", "first@example.com");
    let t = db.create_ticket(&nt).await.unwrap();

    let msgs = db.list_messages(t.id, true).await.unwrap();
    let expected = MessageEmail {
        message_id: "first@example.com".into(),
        inbound_id: Some(stored.id),
        mailbox_id: Some(support.id),
        from: Some("Li <li@example.com>".into()),
        to: vec!["support@acme.example".into()],
        cc: vec!["wang@example.com".into()],
        parse_warning: Some("undecodable charset x-unknown".into()),
        delivery: None,
        delivery_detail: None,
        automatic: false,
    };
    assert_eq!(msgs[0].email.as_ref(), Some(&expected));
    assert_eq!(
        db.get_message(msgs[0].id).await.unwrap().as_ref(),
        Some(&msgs[0])
    );

    let linked = db.get_inbound(stored.id).await.unwrap().unwrap();
    assert_eq!(
        (linked.state, linked.ticket_id, linked.message_row_id),
        (InboundState::Ticketed, Some(t.id), Some(msgs[0].id))
    );
    for ids in [
        vec!["first@example.com".to_string()],
        vec!["<first@example.com>".into(), "unknown@example.com".into()],
    ] {
        assert_eq!(
            db.find_ticket_by_mail_ids(&ids).await.unwrap(),
            Some((t.id, msgs[0].id)),
            "{ids:?}"
        );
    }
    assert_eq!(db.list_events(t.id).await.unwrap().len(), 2);

    // A retry with the same key is the first ticket; no second anything.
    assert_eq!(db.create_ticket(&nt).await.unwrap(), t);
    // The same mail processed again without a key cannot open a second ticket.
    nt.idempotency = None;
    let again = db.create_ticket(&nt).await;
    assert!(
        matches!(again, Err(StoreError::Conflict("inbound mail"))),
        "{again:?}"
    );
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 1);
    // Nor is its outcome changed afterwards.
    let r = db
        .set_inbound_state(stored.id, InboundState::RateLimited, None, None, None)
        .await;
    assert!(
        matches!(r, Err(StoreError::Conflict("inbound mail"))),
        "{r:?}"
    );
    assert_eq!(
        db.get_inbound(stored.id).await.unwrap().unwrap().state,
        InboundState::Ticketed
    );

    // Unknown references and a missing Message-ID are refused, writing nothing.
    let mut bad = ticket_from(by_email("li@example.com"), "x");
    bad.mail = Some(received("second@example.com", Some(InboundMailId(999))));
    let r = db.create_ticket(&bad).await;
    assert!(
        matches!(r, Err(StoreError::InvalidReference("inbound mail"))),
        "{r:?}"
    );
    bad.mail = Some(MessageMail {
        mailbox_id: Some(MailboxId(999)),
        ..received("second@example.com", None)
    });
    let r = db.create_ticket(&bad).await;
    assert!(
        matches!(r, Err(StoreError::InvalidReference("mailbox"))),
        "{r:?}"
    );
    bad.mail = Some(received(" <> ", None));
    let r = db.create_ticket(&bad).await;
    assert!(matches!(r, Err(StoreError::Domain(_))), "{r:?}");
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 1);
}

#[tokio::test]
async fn a_follow_up_opened_by_email_marks_its_mail_threaded() {
    let db = fresh_store().await;
    let (closed, _) = ticket_by_mail(&db, "old@example.com").await;
    let a = agent(&db).await;
    db.update_ticket(closed.id, &status(Status::Solved), Actor::Agent(a))
        .await
        .unwrap();
    db.update_ticket(closed.id, &status(Status::Closed), Actor::Rule)
        .await
        .unwrap();

    let (stored, _) = db
        .store_inbound(&inbound("late@example.com", b"raw".to_vec()))
        .await
        .unwrap();
    let mut nt = ticket_from(by_email("li@example.com"), "Re: 打印机坏了");
    nt.follow_up_of = Some(closed.id);
    nt.mail = Some(received("late@example.com", Some(stored.id)));
    let follow_up = db.create_ticket(&nt).await.unwrap();
    let linked = db.get_inbound(stored.id).await.unwrap().unwrap();
    assert_eq!(
        (linked.state, linked.ticket_id),
        (InboundState::Threaded, Some(follow_up.id))
    );
}

#[tokio::test]
async fn replies_thread_by_the_most_recently_recorded_message_id() {
    let db = fresh_store().await;
    let (t, _) = ticket_by_mail(&db, "first@example.com").await;
    let first = db.list_messages(t.id, true).await.unwrap().remove(0);
    let a = agent(&db).await;

    // The acknowledgement is no message of its own: it names the first message.
    db.record_mail_id("<ack-1@kefu.acme.example>", t.id, None)
        .await
        .unwrap();
    assert_eq!(
        db.find_ticket_by_mail_ids(&["ack-1@kefu.acme.example".into()])
            .await
            .unwrap(),
        Some((t.id, first.id))
    );

    let mut r = reply(Actor::Agent(a), "请重启打印机");
    r.mail = Some(outgoing("reply-1@kefu.acme.example"));
    let (_, agent_reply) = db.add_message(t.id, &r).await.unwrap().unwrap();

    // A customer's reply names the whole conversation in References, oldest first.
    let references: Vec<String> = vec![
        "first@example.com".into(),
        "ack-1@kefu.acme.example".into(),
        "reply-1@kefu.acme.example".into(),
    ];
    assert_eq!(
        db.find_ticket_by_mail_ids(&references).await.unwrap(),
        Some((t.id, agent_reply.id))
    );
    let (stored, _) = db
        .store_inbound(&inbound("answer@example.com", b"raw".to_vec()))
        .await
        .unwrap();
    let answer = NewMessage {
        mail: Some(received("answer@example.com", Some(stored.id))),
        ..reply(Actor::Customer(t.requester_id), "还是不行")
    };
    let (_, m) = db.add_message(t.id, &answer).await.unwrap().unwrap();
    let linked = db.get_inbound(stored.id).await.unwrap().unwrap();
    assert_eq!(
        (linked.state, linked.ticket_id, linked.message_row_id),
        (InboundState::Threaded, Some(t.id), Some(m.id))
    );
    assert_eq!(
        db.find_ticket_by_mail_ids(&["answer@example.com".into()])
            .await
            .unwrap(),
        Some((t.id, m.id))
    );

    // A Message-ID already recorded keeps its first owner.
    let (other, _) = ticket_by_mail(&db, "other@example.com").await;
    db.record_mail_id("reply-1@kefu.acme.example", other.id, None)
        .await
        .unwrap();
    assert_eq!(
        db.find_ticket_by_mail_ids(&["reply-1@kefu.acme.example".into()])
            .await
            .unwrap(),
        Some((t.id, agent_reply.id))
    );

    assert_eq!(db.find_ticket_by_mail_ids(&[]).await.unwrap(), None);
    assert_eq!(
        db.find_ticket_by_mail_ids(&["nobody@example.com".into(), "<>".into()])
            .await
            .unwrap(),
        None
    );
    let r = db
        .record_mail_id("x@example.com", TicketId(999), None)
        .await;
    assert!(matches!(r, Err(StoreError::InvalidReference(_))), "{r:?}");
    let r = db.record_mail_id("  ", t.id, None).await;
    assert!(matches!(r, Err(StoreError::Domain(_))), "{r:?}");

    // Messages that are not email have no email side.
    let (_, note) = db
        .add_message(t.id, &reply(Actor::Agent(a), "内部备注"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.email, None);
    let emails: Vec<_> = db
        .list_messages(t.id, true)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.email.map(|e| e.message_id))
        .collect();
    assert_eq!(
        emails,
        [
            s("first@example.com"),
            s("reply-1@kefu.acme.example"),
            s("answer@example.com"),
            None
        ]
    );
}

#[tokio::test]
async fn automatic_mail_never_reopens_a_ticket_and_a_closed_one_takes_none() {
    let clock = frozen_clock();
    let db = fresh_store_with_clock(clock.clone()).await;
    let (t, _) = ticket_by_mail(&db, "first@example.com").await;
    let a = agent(&db).await;
    let solve = NewMessage {
        status_after: Some(Status::Solved),
        ..reply(Actor::Agent(a), "已解决")
    };
    db.add_message(t.id, &solve).await.unwrap();
    let before = db.list_events(t.id).await.unwrap().len();

    clock.advance(mins(5));
    let out_of_office = NewMessage {
        mail: Some(MessageMail {
            automatic: true,
            ..received("ooo@example.com", None)
        }),
        ..reply(Actor::Customer(t.requester_id), "I am out of office")
    };
    let (after, m) = db.add_message(t.id, &out_of_office).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.updated_at),
        (Status::Solved, clock.now())
    );
    assert!(m.email.as_ref().is_some_and(|e| e.automatic));
    let events = db.list_events(t.id).await.unwrap();
    assert_eq!(events.len(), before + 1, "only the message is logged");
    assert_eq!(
        events.last().map(|e| e.change.clone()),
        Some(Change::Message {
            message_id: m.id,
            public: true
        })
    );

    // A person's reply does reopen it.
    let human = NewMessage {
        mail: Some(received("human@example.com", None)),
        ..reply(Actor::Customer(t.requester_id), "still broken")
    };
    let (after, _) = db.add_message(t.id, &human).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Open);

    db.add_message(t.id, &solve).await.unwrap();
    db.update_ticket(t.id, &status(Status::Closed), Actor::Rule)
        .await
        .unwrap();
    let out_of_office = NewMessage {
        mail: Some(MessageMail {
            automatic: true,
            ..received("ooo-2@example.com", None)
        }),
        ..out_of_office
    };
    let r = db.add_message(t.id, &out_of_office).await;
    assert!(
        matches!(r, Err(StoreError::Domain(DomainError::TicketClosed))),
        "{r:?}"
    );
    assert_eq!(
        db.find_ticket_by_mail_ids(&["ooo-2@example.com".into()])
            .await
            .unwrap(),
        None,
        "nothing of the refused message was kept"
    );
}

#[tokio::test]
async fn an_outgoing_email_enqueues_exactly_one_send_job() {
    let db = fresh_store().await;
    let (t, _) = ticket_by_mail(&db, "first@example.com").await;
    let a = agent(&db).await;
    let lease = mins(5);
    assert_eq!(
        db.claim_jobs(&[SEND_MAIL_JOB], lease, 10).await.unwrap(),
        vec![],
        "received mail sends nothing"
    );

    let mut r = reply(Actor::Agent(a), "请重启打印机");
    r.mail = Some(outgoing("reply-1@kefu.acme.example"));
    r.idempotency = key("agent:1", "send-1");
    let (_, m) = db.add_message(t.id, &r).await.unwrap().unwrap();
    let email = m.email.clone().unwrap();
    assert_eq!(
        (email.delivery, email.cc.as_slice(), email.inbound_id),
        (
            Some(DeliveryStatus::Queued),
            ["boss@example.com".to_string()].as_slice(),
            None
        )
    );
    // A retry of the same request is the same message and no second job.
    let (_, again) = db.add_message(t.id, &r).await.unwrap().unwrap();
    assert_eq!(again, m);
    assert_eq!(count_rows(&db, "jobs").await, 1);

    let jobs = db.claim_jobs(&[SEND_MAIL_JOB], lease, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (
            jobs[0].kind.as_str(),
            &jobs[0].payload,
            jobs[0].attempts,
            jobs[0].last_error.as_deref()
        ),
        (
            "send_mail",
            &serde_json::json!({ "message_id": m.id.0 }),
            1,
            None
        )
    );
    db.complete_job(jobs[0].id).await.unwrap();
    let resend = NewJob {
        kind: SEND_MAIL_JOB.into(),
        payload: serde_json::json!({ "message_id": m.id.0 }),
        run_at: Timestamp::now(),
        idempotency_key: Some(format!("send_mail:{}", m.id.0)),
    };
    assert_eq!(
        db.enqueue_job(&resend).await.unwrap(),
        None,
        "a sent message is never sent again"
    );
    assert_eq!(count_rows(&db, "jobs").await, 0);
}

#[tokio::test]
async fn delivery_status_shows_on_the_message() {
    let db = fresh_store().await;
    let (t, _) = ticket_by_mail(&db, "first@example.com").await;
    let a = agent(&db).await;
    let mut r = reply(Actor::Agent(a), "请重启打印机");
    r.mail = Some(outgoing("reply-1@kefu.acme.example"));
    let (_, m) = db.add_message(t.id, &r).await.unwrap().unwrap();

    db.set_delivery(m.id, DeliveryStatus::Sent, None)
        .await
        .unwrap();
    let e = db.get_message(m.id).await.unwrap().unwrap().email.unwrap();
    assert_eq!(
        (e.delivery, e.delivery_detail),
        (Some(DeliveryStatus::Sent), None)
    );
    db.set_delivery(
        m.id,
        DeliveryStatus::Bounced,
        Some("550 5.1.1 <li@example.com>: user unknown"),
    )
    .await
    .unwrap();
    let listed = db.list_messages(t.id, true).await.unwrap();
    let e = listed[1].email.clone().unwrap();
    assert_eq!(
        (e.delivery, e.delivery_detail.as_deref()),
        (
            Some(DeliveryStatus::Bounced),
            Some("550 5.1.1 <li@example.com>: user unknown")
        )
    );
    assert_eq!(
        db.get_message(m.id).await.unwrap().as_ref(),
        Some(&listed[1])
    );
    let r = db
        .set_delivery(MessageId(999), DeliveryStatus::Sent, None)
        .await;
    assert!(
        matches!(r, Err(StoreError::InvalidReference("message"))),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_mail_processed_concurrently_opens_one_ticket() {
    let db = fresh_store().await;
    let (stored, _) = db
        .store_inbound(&inbound("twice@example.com", b"raw".to_vec()))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = db.store();
        tasks.push(tokio::spawn(async move {
            let mut nt = ticket_from(by_email("li@example.com"), "打印机坏了");
            nt.mail = Some(received("twice@example.com", Some(stored.id)));
            store.create_ticket(&nt).await
        }));
    }
    let mut opened = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(t) => opened.push(t.id),
            Err(StoreError::Conflict("inbound mail")) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(opened.len(), 1);
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 1);
    let linked = db.get_inbound(stored.id).await.unwrap().unwrap();
    assert_eq!(linked.ticket_id, Some(opened[0]));
}
