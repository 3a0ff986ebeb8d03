//! Creating tickets, changing them, replying, attachments: one transaction each, logged.

use super::*;

// ---------- creating tickets ----------

#[tokio::test]
async fn ticket_numbers_are_sequential() {
    let db = fresh_store().await;
    let c = customer(&db, "Li", "li@example.com").await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        let t = ticket_for(&db, &c, &format!("问题 {i}")).await;
        assert_eq!(
            db.get_ticket(t.id).await.unwrap().as_ref(),
            Some(&t),
            "what create returns is what is stored"
        );
        assert_eq!(
            db.get_ticket_by_number(t.number)
                .await
                .unwrap()
                .map(|x| x.id),
            Some(t.id)
        );
        numbers.push(t.number);
    }
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(db.get_ticket_by_number(4).await.unwrap(), None);
    assert_eq!(db.get_ticket(TicketId(9999)).await.unwrap(), None);
}

#[tokio::test]
async fn a_ticket_by_email_creates_its_requester_once_and_logs_creation() {
    let db = fresh_store().await;
    let first = db
        .create_ticket(&ticket_from(
            by_email("New.Person@Example.com"),
            "打印机坏了",
        ))
        .await
        .unwrap();
    let requester = db
        .find_customer_by_email(&email("new.person@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (requester.name.as_str(), first.requester_id),
        ("new.person", requester.id)
    );
    assert_eq!(
        (first.status, first.subject.as_str(), first.organization_id),
        (Status::New, "打印机坏了", None)
    );

    let named = RequesterRef::ByEmail {
        email: email("new.person@example.com"),
        name: Some("Someone Else".into()),
        language: None,
    };
    let second = db
        .create_ticket(&ticket_from(named, "又坏了"))
        .await
        .unwrap();
    assert_eq!(
        second.requester_id, requester.id,
        "the same email is the same customer"
    );

    let msgs = db.list_messages(first.id, true).await.unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        (msgs[0].author, msgs[0].public),
        (Actor::Customer(requester.id), true)
    );
    assert_eq!(msgs[0].body_text, "打印机坏了: please help");
    let events = db.list_events(first.id).await.unwrap();
    let changes: Vec<_> = events.iter().map(|e| (e.actor, e.change.clone())).collect();
    assert_eq!(
        changes,
        [
            (Actor::System, Change::Created),
            (
                Actor::Customer(requester.id),
                Change::Message {
                    message_id: msgs[0].id,
                    public: true
                }
            ),
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.ticket_id == first.id && e.at == first.created_at)
    );
}

#[tokio::test]
async fn a_ticket_inherits_its_requesters_organization_and_agents_may_author_it() {
    let db = fresh_store().await;
    let acme = db.create_organization(&org("Acme", false)).await.unwrap();
    let li = db
        .create_customer(&new_customer("Li", Some("li@acme.cn"), Some(acme.id)), None)
        .await
        .unwrap();
    let agent = db
        .create_agent(&new_agent("phone@kefu.test", vec![]))
        .await
        .unwrap();
    let mut call = ticket_from(RequesterRef::Existing(li.id), "电话: 无法登录");
    call.actor = Actor::Agent(agent.id);
    call.first_message_by_actor = true;
    call.draft.channel = Channel::Phone;
    call.draft.custom_fields = r#"{"device":"X1"}"#.into();
    call.body_html = Some("<p>Customer called</p>".into());
    let t = db.create_ticket(&call).await.unwrap();
    assert_eq!(
        (t.organization_id, t.channel),
        (Some(acme.id), Channel::Phone)
    );
    assert_eq!(t.custom_fields, r#"{"device":"X1"}"#);
    let msgs = db.list_messages(t.id, false).await.unwrap();
    assert_eq!(msgs[0].author, Actor::Agent(agent.id));
    assert_eq!(msgs[0].body_html.as_deref(), Some("<p>Customer called</p>"));
    assert_eq!(
        db.list_events(t.id).await.unwrap()[0].actor,
        Actor::Agent(agent.id)
    );
}

#[tokio::test]
async fn an_idempotent_create_returns_the_first_ticket() {
    let db = fresh_store().await;
    let mut nt = ticket_from(by_email("li@example.com"), "Refund");
    nt.idempotency = key("agent:1", "k-1");
    let first = db.create_ticket(&nt).await.unwrap();
    // The store compares fingerprints only: the caller decides what counts as "the same
    // request" (here the subject is left out of it).
    nt.draft.subject = Subject::parse("A retry with another subject").unwrap();
    let again = db.create_ticket(&nt).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 1);
    assert_eq!(
        db.list_events(first.id).await.unwrap().len(),
        2,
        "no second set of events"
    );

    nt.idempotency = key("agent:2", "k-1");
    let other_scope = db.create_ticket(&nt).await.unwrap();
    assert_ne!(other_scope.id, first.id, "keys are scoped per caller");

    let mut reply_with_key = reply(Actor::Customer(first.requester_id), "more");
    reply_with_key.idempotency = key("agent:1", "k-1");
    let reused = db.add_message(first.id, &reply_with_key).await;
    assert!(
        is_key_reuse(&reused),
        "another kind of resource: {reused:?}"
    );
    let reused = db
        .create_customer(
            &new_customer("Li", None, None),
            key("agent:1", "k-1").as_ref(),
        )
        .await;
    assert!(
        is_key_reuse(&reused),
        "another kind of resource: {reused:?}"
    );
}

#[tokio::test]
async fn a_key_sent_again_with_a_different_request_is_invalid_and_creates_nothing() {
    let db = fresh_store().await;
    let mut nt = ticket_from(by_email("li@example.com"), "Refund");
    nt.idempotency = keyed("agent:1", "k-1", "fingerprint-a");
    let first = db.create_ticket(&nt).await.unwrap();
    let events = db.list_events(first.id).await.unwrap().len();

    let mut other = ticket_from(by_email("wang@example.com"), "Something else");
    other.idempotency = keyed("agent:1", "k-1", "fingerprint-b");
    let reused = db.create_ticket(&other).await;
    assert!(is_key_reuse(&reused), "{reused:?}");
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 1);
    assert_eq!(
        db.find_customer_by_email(&email("wang@example.com"))
            .await
            .unwrap(),
        None,
        "nothing of the refused request was kept"
    );

    // The first request's own retry still gets the first ticket, untouched.
    assert_eq!(db.create_ticket(&nt).await.unwrap(), first);
    assert_eq!(db.list_events(first.id).await.unwrap().len(), events);

    let mut m = reply(Actor::Customer(first.requester_id), "one more thing");
    m.idempotency = keyed("customer:1", "r-1", "reply-a");
    let (_, reply_a) = db.add_message(first.id, &m).await.unwrap().unwrap();
    m.idempotency = keyed("customer:1", "r-1", "reply-b");
    let reused = db.add_message(first.id, &m).await;
    assert!(is_key_reuse(&reused), "{reused:?}");
    assert_eq!(db.list_messages(first.id, true).await.unwrap().len(), 2);
    m.idempotency = keyed("customer:1", "r-1", "reply-a");
    let (_, again) = db.add_message(first.id, &m).await.unwrap().unwrap();
    assert_eq!(again, reply_a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_key_create_one_ticket() {
    let db = fresh_store().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store();
        tasks.push(tokio::spawn(async move {
            let mut nt = ticket_from(by_email("race@example.com"), &format!("attempt {i}"));
            nt.idempotency = key("portal", "same-key");
            store.create_ticket(&nt).await.unwrap()
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().id);
    }
    assert_eq!(ids.len(), 1, "every request got the winner's ticket");
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_contacts_from_one_email_create_one_customer() {
    let db = fresh_store().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store();
        tasks.push(tokio::spawn(async move {
            store
                .create_ticket(&ticket_from(
                    by_email("burst@example.com"),
                    &format!("mail {i}"),
                ))
                .await
                .unwrap()
        }));
    }
    let mut requesters = HashSet::new();
    for t in tasks {
        requesters.insert(t.await.unwrap().requester_id);
    }
    assert_eq!(requesters.len(), 1);
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 8);
    assert_eq!(
        count_rows(&db, "customers").await,
        1,
        "losers leave no orphan customer"
    );
}

#[tokio::test]
async fn unknown_assignee_is_an_invalid_reference() {
    let db = fresh_store().await;
    let mut nt = ticket_from(by_email("li@example.com"), "Who?");
    nt.draft.assignee_id = Some(AgentId(9999));
    assert!(matches!(
        db.create_ticket(&nt).await,
        Err(StoreError::InvalidReference("assignee"))
    ));
    nt.draft.assignee_id = None;
    nt.draft.team_id = Some(TeamId(9999));
    assert!(matches!(
        db.create_ticket(&nt).await,
        Err(StoreError::InvalidReference("team"))
    ));
    nt.draft.team_id = None;
    nt.follow_up_of = Some(TicketId(9999));
    assert!(matches!(
        db.create_ticket(&nt).await,
        Err(StoreError::InvalidReference("follow_up_of"))
    ));
    let ghost = ticket_from(RequesterRef::Existing(CustomerId(9999)), "ghost");
    assert!(matches!(
        db.create_ticket(&ghost).await,
        Err(StoreError::InvalidReference("requester"))
    ));
    assert_eq!(
        db.find_customer_by_email(&email("li@example.com"))
            .await
            .unwrap(),
        None,
        "failed creates roll back"
    );
    assert_eq!(db.count_tickets(&TicketFilter::default()).await.unwrap(), 0);

    let t = db
        .create_ticket(&ticket_from(by_email("li@example.com"), "ok"))
        .await
        .unwrap();
    let assign = TicketPatch {
        assignee_id: Some(Some(AgentId(9999))),
        ..Default::default()
    };
    let res = db.update_ticket(t.id, &assign, Actor::System).await;
    assert!(
        matches!(res, Err(StoreError::InvalidReference("assignee"))),
        "{res:?}"
    );
    let to_team = TicketPatch {
        team_id: Some(Some(TeamId(9999))),
        ..Default::default()
    };
    assert!(matches!(
        db.update_ticket(t.id, &to_team, Actor::System).await,
        Err(StoreError::InvalidReference("team"))
    ));
    assert_eq!(db.get_ticket(t.id).await.unwrap().unwrap(), t);
}

#[tokio::test]
async fn a_follow_up_points_at_the_ticket_it_continues() {
    let db = fresh_store().await;
    let c = customer(&db, "Li", "li@example.com").await;
    let old = ticket_for(&db, &c, "old").await;
    let mut nt = ticket_from(RequesterRef::Existing(c.id), "follow-up");
    nt.follow_up_of = Some(old.id);
    let t = db.create_ticket(&nt).await.unwrap();
    assert_eq!(
        db.get_ticket(t.id).await.unwrap().unwrap().follow_up_of,
        Some(old.id)
    );
}

// ---------- changing tickets ----------

#[tokio::test]
async fn assigning_a_new_ticket_opens_it_and_logs_each_change() {
    let db = fresh_store().await;
    let team = db.create_team("L1", "").await.unwrap();
    let agent = db
        .create_agent(&new_agent("a@kefu.test", vec![team.id]))
        .await
        .unwrap();
    let c = customer(&db, "Li", "li@example.com").await;
    let t = ticket_for(&db, &c, "help").await;
    let actor = Actor::Agent(agent.id);

    let patch = TicketPatch {
        priority: Some(Priority::Urgent),
        assignee_id: Some(Some(agent.id)),
        team_id: Some(Some(team.id)),
        tags: Some(parse_tags(&["VIP", "退款"]).unwrap()),
        ..Default::default()
    };
    let t2 = db
        .update_ticket(t.id, &patch, actor)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (t2.status, t2.priority, t2.assignee_id, t2.team_id),
        (
            Status::Open,
            Priority::Urgent,
            Some(agent.id),
            Some(team.id)
        )
    );
    assert!(t2.updated_at >= t.updated_at);
    assert_eq!(db.get_ticket(t.id).await.unwrap().as_ref(), Some(&t2));
    let events = db.list_events(t.id).await.unwrap();
    assert_eq!(
        field_changes(&events),
        [
            ("priority", s("normal"), s("urgent")),
            ("assignee", None, Some(agent.id.to_string())),
            ("team", None, Some(team.id.to_string())),
            ("tags", s(""), s("vip 退款")),
            ("status", s("new"), s("open")),
        ]
    );
    assert!(events[2..].iter().all(|e| e.actor == actor));
    let tags: Vec<_> = t2.tags.iter().map(Tag::as_str).collect();
    assert_eq!(tags, ["vip", "退款"]);

    let same = db
        .update_ticket(t.id, &patch, actor)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same, t2, "a patch that changes nothing writes nothing");
    assert_eq!(db.list_events(t.id).await.unwrap().len(), events.len());

    let unassign = TicketPatch {
        assignee_id: Some(None),
        ..Default::default()
    };
    let t3 = db
        .update_ticket(t.id, &unassign, actor)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t3.assignee_id, None);
    let back = db.update_ticket(t.id, &status(Status::New), actor).await;
    assert!(
        matches!(
            back,
            Err(StoreError::Domain(DomainError::IllegalTransition { .. }))
        ),
        "{back:?}"
    );
    assert_eq!(
        db.update_ticket(TicketId(9999), &patch, actor)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_customer_reply_reopens_a_solved_ticket_and_is_logged() {
    let db = fresh_store().await;
    let agent = db
        .create_agent(&new_agent("a@kefu.test", vec![]))
        .await
        .unwrap();
    let c = customer(&db, "Li", "li@example.com").await;
    let t = ticket_for(&db, &c, "VPN").await;
    let solved = db
        .update_ticket(t.id, &status(Status::Solved), Actor::Agent(agent.id))
        .await
        .unwrap()
        .unwrap();
    assert!(solved.solved_at.is_some());

    let (reopened, msg) = db
        .add_message(t.id, &reply(Actor::Customer(c.id), "still broken"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((reopened.status, reopened.solved_at), (Status::Open, None));
    assert_eq!(db.get_ticket(t.id).await.unwrap().as_ref(), Some(&reopened));
    assert_eq!(
        (msg.ticket_id, msg.author, msg.body_text.as_str()),
        (t.id, Actor::Customer(c.id), "still broken")
    );

    let events = db.list_events(t.id).await.unwrap();
    let tail: Vec<_> = events[events.len() - 2..]
        .iter()
        .map(|e| (e.actor, e.change.clone()))
        .collect();
    assert_eq!(
        tail,
        [
            (
                Actor::Customer(c.id),
                Change::Message {
                    message_id: msg.id,
                    public: true
                }
            ),
            (
                Actor::Customer(c.id),
                Change::Field {
                    field: "status",
                    from: s("solved"),
                    to: s("open")
                }
            ),
        ]
    );
}

#[tokio::test]
async fn an_agent_reply_can_leave_a_ticket_pending_and_notes_stay_internal() {
    let db = fresh_store().await;
    let agent = db
        .create_agent(&new_agent("a@kefu.test", vec![]))
        .await
        .unwrap();
    let c = customer(&db, "Li", "li@example.com").await;
    let t = ticket_for(&db, &c, "Invoice").await;
    let mut note = reply(Actor::Agent(agent.id), "checking with billing");
    note.public = false;
    let (after_note, _) = db.add_message(t.id, &note).await.unwrap().unwrap();
    assert_eq!(
        after_note.status,
        Status::New,
        "an internal note does not open a ticket"
    );

    let mut answer = reply(Actor::Agent(agent.id), "please send the order number");
    answer.status_after = Some(Status::Pending);
    let (pending, _) = db.add_message(t.id, &answer).await.unwrap().unwrap();
    assert_eq!(pending.status, Status::Pending);

    let public: Vec<_> = db
        .list_messages(t.id, false)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body_text)
        .collect();
    assert_eq!(
        public,
        ["Invoice: please help", "please send the order number"]
    );
    let all = db.list_messages(t.id, true).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(!all[1].public);
    assert_eq!(db.list_messages(TicketId(9999), true).await.unwrap(), []);
    assert_eq!(db.add_message(TicketId(9999), &answer).await.unwrap(), None);
}

#[tokio::test]
async fn an_idempotent_reply_is_added_once() {
    let db = fresh_store().await;
    let c = customer(&db, "Li", "li@example.com").await;
    let t = ticket_for(&db, &c, "Hello").await;
    let mut m = reply(Actor::Customer(c.id), "one more thing");
    m.idempotency = key("customer:1", "r-1");
    let (_, first) = db.add_message(t.id, &m).await.unwrap().unwrap();
    let (_, again) = db.add_message(t.id, &m).await.unwrap().unwrap();
    assert_eq!(again, first);
    assert_eq!(db.list_messages(t.id, true).await.unwrap().len(), 2);
    let other = ticket_for(&db, &c, "Other").await;
    let on_other = db.add_message(other.id, &m).await;
    assert!(is_key_reuse(&on_other), "another ticket: {on_other:?}");
    assert_eq!(db.list_messages(other.id, true).await.unwrap().len(), 1);
}

#[tokio::test]
async fn closed_tickets_reject_messages() {
    let db = fresh_store().await;
    let agent = db
        .create_agent(&new_agent("a@kefu.test", vec![]))
        .await
        .unwrap();
    let c = customer(&db, "Li", "li@example.com").await;
    let t = ticket_for(&db, &c, "Done").await;
    let by_agent = Actor::Agent(agent.id);
    db.update_ticket(t.id, &status(Status::Solved), by_agent)
        .await
        .unwrap();
    let illegal = db
        .update_ticket(t.id, &status(Status::Closed), by_agent)
        .await;
    assert!(
        matches!(
            illegal,
            Err(StoreError::Domain(DomainError::IllegalTransition { .. }))
        ),
        "{illegal:?}"
    );
    let closed = db
        .update_ticket(t.id, &status(Status::Closed), Actor::System)
        .await
        .unwrap()
        .unwrap();
    assert!(closed.closed_at.is_some());

    let res = db
        .add_message(t.id, &reply(Actor::Customer(c.id), "hello?"))
        .await;
    assert!(
        matches!(res, Err(StoreError::Domain(DomainError::TicketClosed))),
        "{res:?}"
    );
    let res = db
        .update_ticket(
            t.id,
            &TicketPatch {
                priority: Some(Priority::High),
                ..Default::default()
            },
            by_agent,
        )
        .await;
    assert!(
        matches!(res, Err(StoreError::Domain(DomainError::TicketClosed))),
        "{res:?}"
    );
    assert_eq!(db.list_messages(t.id, true).await.unwrap().len(), 1);
    assert_eq!(db.get_ticket(t.id).await.unwrap().unwrap(), closed);
}

#[tokio::test]
async fn attachments_are_stored_once_per_content() {
    let db = fresh_store().await;
    let c = customer(&db, "Li", "li@example.com").await;
    let png = NewAttachment {
        filename: "screen.png".into(),
        content_type: "image/png".into(),
        data: vec![0x89, b'P', b'N', b'G', 0, 1, 2],
    };
    let mut nt = ticket_from(RequesterRef::Existing(c.id), "Screenshot");
    nt.attachments = vec![png.clone()];
    let t = db.create_ticket(&nt).await.unwrap();
    let mut m = reply(Actor::Customer(c.id), "again, renamed");
    m.attachments = vec![NewAttachment {
        filename: "again.png".into(),
        ..png.clone()
    }];
    let (_, msg) = db.add_message(t.id, &m).await.unwrap().unwrap();

    let msgs = db.list_messages(t.id, true).await.unwrap();
    let a1 = &msgs[0].attachments[0];
    let a2 = &msgs[1].attachments[0];
    assert_eq!(a2, &msg.attachments[0]);
    assert_ne!(a1.id, a2.id);
    assert_eq!(a1.sha256, a2.sha256);
    assert_eq!(
        (a1.size, a1.filename.as_str(), a2.filename.as_str()),
        (7, "screen.png", "again.png")
    );
    let (meta, bytes) = db.get_attachment(a2.id).await.unwrap().unwrap();
    assert_eq!((&meta, bytes), (a2, png.data.clone()));
    assert_eq!(
        count_rows(&db, "blobs").await,
        1,
        "one blob for two attachments"
    );
    assert_eq!(db.get_attachment(AttachmentId(9999)).await.unwrap(), None);

    let mut huge = reply(Actor::Customer(c.id), "big");
    huge.attachments = vec![NewAttachment {
        data: vec![0; MAX_ATTACHMENT_BYTES + 1],
        ..png
    }];
    let res = db.add_message(t.id, &huge).await;
    assert!(
        matches!(
            res,
            Err(StoreError::Domain(DomainError::Invalid {
                field: "attachment",
                ..
            }))
        ),
        "{res:?}"
    );
}

/// Concurrent writes share commits on SQLite (group commit); a failing write must not take
/// its neighbours down, and a cancelled one must leave nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_or_cancelled_write_among_concurrent_ones_loses_only_itself() {
    let db = fresh_store().await;
    let mut tasks = Vec::new();
    for i in 0..48 {
        let store = db.store();
        tasks.push(tokio::spawn(async move {
            let mut nt = ticket_from(
                by_email(&format!("c{i}@example.com")),
                &format!("burst {i}"),
            );
            if i % 4 == 0 {
                nt.draft.assignee_id = Some(AgentId(9_999_999)); // fails inside the transaction
            }
            (i, store.create_ticket(&nt).await)
        }));
    }
    // Cancel a few more while they may be queued for, or holding, the writer.
    for i in 0..6 {
        let store = db.store();
        let h = tokio::spawn(async move {
            store
                .create_ticket(&ticket_from(
                    by_email("gone@example.com"),
                    &format!("cancelled {i}"),
                ))
                .await
        });
        tokio::task::yield_now().await;
        h.abort();
    }
    let mut ok = 0;
    for t in tasks {
        let (i, r) = t.await.unwrap();
        if i % 4 == 0 {
            assert!(
                matches!(r, Err(StoreError::InvalidReference("assignee"))),
                "{i}: {r:?}"
            );
            // The requester was created before the assignee check failed; it is rolled back.
            let c = db
                .find_customer_by_email(&email(&format!("c{i}@example.com")))
                .await
                .unwrap();
            assert!(c.is_none(), "{i}: a failed create left its customer behind");
        } else {
            r.unwrap();
            ok += 1;
        }
    }
    let stored = all_pages(&db, &TicketFilter::default(), 200).await;
    let burst = stored
        .iter()
        .filter(|t| t.subject.starts_with("burst"))
        .count();
    assert_eq!(
        burst, ok,
        "every acknowledged create is stored, no failed one is"
    );
    // Cancelled creates are all-or-nothing: a stored one has its message and events.
    for t in stored.iter().filter(|t| t.subject.starts_with("cancelled")) {
        assert_eq!(db.list_messages(t.id, true).await.unwrap().len(), 1);
        assert_eq!(db.list_events(t.id).await.unwrap().len(), 2);
    }
    // The writer is still usable afterwards.
    db.create_ticket(&ticket_from(by_email("after@example.com"), "after"))
        .await
        .unwrap();
}
