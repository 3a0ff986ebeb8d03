//! Agents' in-app notifications: inserted in batches (at most once per dedupe key), listed
//! newest first per agent with cursors, counted while unread, and marked read by their
//! own agent only, stamped with the store's clock.

use super::*;
use std::sync::Arc;

fn note(agent: AgentId, ticket: Option<TicketId>, title: &str) -> NewNotification {
    NewNotification {
        agent_id: agent,
        ticket_id: ticket,
        kind: "sla_warning".into(),
        title: title.into(),
        body: format!("{title}: body"),
        dedupe_key: None,
    }
}

fn keyed_note(agent: AgentId, title: &str, key: &str) -> NewNotification {
    NewNotification {
        dedupe_key: Some(key.into()),
        ..note(agent, None, title)
    }
}

fn titles(items: &[Notification]) -> Vec<&str> {
    items.iter().map(|n| n.title.as_str()).collect()
}

/// Every page of an agent's list, following cursors.
async fn all_notifications(
    db: &TestDb,
    agent: AgentId,
    unread_only: bool,
    limit: u32,
) -> Vec<Notification> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let page = db
            .list_notifications(agent, unread_only, cursor.as_deref(), limit)
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
    panic!("pagination did not end after 100 pages");
}

#[tokio::test]
async fn notifications_are_listed_newest_first_per_agent_with_cursors() {
    let t0 = Timestamp::from_microsecond(1_767_258_000_123_456).unwrap();
    let minute = jiff::SignedDuration::from_mins(1);
    let clock = Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock.clone()).await;
    let li = db
        .create_agent(&new_agent("li@kefu.test", vec![]))
        .await
        .unwrap();
    let wang = db
        .create_agent(&new_agent("wang@kefu.test", vec![]))
        .await
        .unwrap();
    let c = customer(&db, "Zhou", "zhou@example.com").await;
    let t = ticket_for(&db, &c, "打印机无法连接").await;

    let first = [
        note(li.id, Some(t.id), "one"),
        note(wang.id, Some(t.id), "for wang"),
        note(li.id, None, "two"),
    ];
    assert_eq!(db.create_notifications(&first).await.unwrap(), 3);
    clock.advance(minute);
    let second = [
        note(li.id, Some(t.id), "three"),
        note(li.id, None, "four"),
        note(li.id, None, "five"),
    ];
    assert_eq!(db.create_notifications(&second).await.unwrap(), 3);

    let all = all_notifications(&db, li.id, false, 2).await;
    assert_eq!(titles(&all), ["five", "four", "three", "two", "one"]);
    let one = &all[4];
    assert_eq!(one.agent_id, li.id);
    assert_eq!(one.ticket_id, Some(t.id));
    assert_eq!(
        one.ticket_number,
        Some(t.number),
        "the ticket's number comes along"
    );
    assert_eq!(
        (one.kind.as_str(), one.body.as_str()),
        ("sla_warning", "one: body")
    );
    assert_eq!((one.created_at, one.read_at), (t0, None));
    assert_eq!(all[0].created_at, t0 + minute);
    assert_eq!((all[3].ticket_id, all[3].ticket_number), (None, None));

    let page = db.list_notifications(li.id, false, None, 2).await.unwrap();
    assert_eq!(titles(&page.items), ["five", "four"]);
    let next = db
        .list_notifications(li.id, false, page.next_cursor.as_deref(), 2)
        .await
        .unwrap();
    assert_eq!(titles(&next.items), ["three", "two"]);
    let last = db
        .list_notifications(li.id, false, next.next_cursor.as_deref(), 2)
        .await
        .unwrap();
    assert_eq!(
        (titles(&last.items), last.next_cursor),
        (vec!["one"], None),
        "the last page has no cursor"
    );
    let exact = db.list_notifications(li.id, false, None, 5).await.unwrap();
    assert_eq!(
        (exact.items.len(), exact.next_cursor),
        (5, None),
        "a page that ends exactly at the end has no cursor"
    );

    // The page size is clamped to 1..=200.
    let tiny = db.list_notifications(li.id, false, None, 0).await.unwrap();
    assert_eq!(titles(&tiny.items), ["five"]);
    assert!(tiny.next_cursor.is_some());
    let huge = db
        .list_notifications(li.id, false, None, 5000)
        .await
        .unwrap();
    assert_eq!((huge.items.len(), huge.next_cursor), (5, None));

    let theirs = db
        .list_notifications(wang.id, false, None, 50)
        .await
        .unwrap();
    assert_eq!(titles(&theirs.items), ["for wang"]);
    let nobody = db
        .list_notifications(AgentId(wang.id.0 + 1000), false, None, 50)
        .await
        .unwrap();
    assert_eq!(nobody.items, vec![]);

    let bad = db
        .list_notifications(li.id, false, Some("not a cursor"), 2)
        .await;
    assert!(
        matches!(
            bad,
            Err(StoreError::Domain(DomainError::Invalid {
                field: "cursor",
                ..
            }))
        ),
        "{bad:?}"
    );
}

#[tokio::test]
async fn a_dedupe_key_is_inserted_once_even_within_one_batch() {
    let db = fresh_store().await;
    let li = db
        .create_agent(&new_agent("li@kefu.test", vec![]))
        .await
        .unwrap();
    let wang = db
        .create_agent(&new_agent("wang@kefu.test", vec![]))
        .await
        .unwrap();
    let batch = [
        keyed_note(li.id, "breach", "sla:breach:1:first_reply:li"),
        keyed_note(wang.id, "breach", "sla:breach:1:first_reply:wang"),
        keyed_note(li.id, "breach again", "sla:breach:1:first_reply:li"),
        note(li.id, None, "no key"),
    ];
    assert_eq!(db.create_notifications(&batch).await.unwrap(), 3);
    // The scan runs again: only what has no key is new.
    assert_eq!(db.create_notifications(&batch).await.unwrap(), 1);
    let li_titles: Vec<String> = all_notifications(&db, li.id, false, 50)
        .await
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(li_titles, ["no key", "no key", "breach"]);
    assert_eq!(count_rows(&db, "notifications").await, 4);
    // A key stays taken after its notification was read.
    db.mark_notifications_read(li.id, None).await.unwrap();
    assert_eq!(
        db.create_notifications(&batch[..1]).await.unwrap(),
        0,
        "read, but still deduplicated"
    );
    assert_eq!(db.create_notifications(&[]).await.unwrap(), 0);
}

#[tokio::test]
async fn agents_count_and_mark_only_their_own_unread_notifications() {
    let t0 = Timestamp::from_microsecond(1_767_258_000_000_000).unwrap();
    let hour = jiff::SignedDuration::from_hours(1);
    let clock = Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock.clone()).await;
    let li = db
        .create_agent(&new_agent("li@kefu.test", vec![]))
        .await
        .unwrap();
    let wang = db
        .create_agent(&new_agent("wang@kefu.test", vec![]))
        .await
        .unwrap();
    let batch = [
        note(li.id, None, "a"),
        note(li.id, None, "b"),
        note(li.id, None, "c"),
        note(wang.id, None, "w"),
    ];
    db.create_notifications(&batch).await.unwrap();
    assert_eq!(db.count_unread_notifications(li.id).await.unwrap(), 3);
    assert_eq!(db.count_unread_notifications(wang.id).await.unwrap(), 1);
    let mine = all_notifications(&db, li.id, false, 50).await;
    let id = |title: &str| mine.iter().find(|n| n.title == title).unwrap().id;
    let wangs = all_notifications(&db, wang.id, false, 50).await[0].id;

    // Marking a foreign id, an unknown one and one of one's own marks only one's own.
    clock.advance(hour);
    let asked = [id("a"), wangs, NotificationId(wangs.0 + 1000), id("a")];
    assert_eq!(
        db.mark_notifications_read(li.id, Some(&asked))
            .await
            .unwrap(),
        1
    );
    assert_eq!(db.count_unread_notifications(li.id).await.unwrap(), 2);
    assert_eq!(
        db.count_unread_notifications(wang.id).await.unwrap(),
        1,
        "another agent's notification stays unread"
    );
    let unread = all_notifications(&db, li.id, true, 1).await;
    assert_eq!(titles(&unread), ["c", "b"]);
    let a = all_notifications(&db, li.id, false, 50)
        .await
        .into_iter()
        .find(|n| n.title == "a")
        .unwrap();
    assert_eq!(a.read_at, Some(t0 + hour), "stamped with the store's clock");

    // Again: nothing new, and the first read time stays.
    clock.advance(hour);
    assert_eq!(
        db.mark_notifications_read(li.id, Some(&[id("a")]))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.mark_notifications_read(li.id, Some(&[])).await.unwrap(),
        0
    );
    // All the rest.
    assert_eq!(db.mark_notifications_read(li.id, None).await.unwrap(), 2);
    assert_eq!(db.mark_notifications_read(li.id, None).await.unwrap(), 0);
    assert_eq!(db.count_unread_notifications(li.id).await.unwrap(), 0);
    let read: Vec<_> = all_notifications(&db, li.id, false, 50)
        .await
        .into_iter()
        .map(|n| (n.title, n.read_at))
        .collect();
    assert_eq!(
        read,
        [
            ("c".to_string(), Some(t0 + hour * 2)),
            ("b".to_string(), Some(t0 + hour * 2)),
            ("a".to_string(), Some(t0 + hour)),
        ]
    );
    assert_eq!(all_notifications(&db, li.id, true, 50).await, vec![]);
    assert_eq!(db.count_unread_notifications(wang.id).await.unwrap(), 1);
}

#[tokio::test]
async fn unknown_references_and_blank_titles_insert_nothing() {
    let db = fresh_store().await;
    let li = db
        .create_agent(&new_agent("li@kefu.test", vec![]))
        .await
        .unwrap();
    let c = customer(&db, "Zhou", "zhou@example.com").await;
    let t = ticket_for(&db, &c, "发票").await;

    let unknown_agent = [
        note(li.id, Some(t.id), "fine"),
        note(AgentId(li.id.0 + 1000), None, "nobody"),
    ];
    let r = db.create_notifications(&unknown_agent).await;
    assert!(
        matches!(r, Err(StoreError::InvalidReference("agent"))),
        "{r:?}"
    );
    let unknown_ticket = [
        note(li.id, Some(t.id), "fine"),
        note(li.id, Some(TicketId(t.id.0 + 1000)), "no ticket"),
    ];
    let r = db.create_notifications(&unknown_ticket).await;
    assert!(
        matches!(r, Err(StoreError::InvalidReference("ticket"))),
        "{r:?}"
    );
    let blank = [NewNotification {
        title: "  ".into(),
        ..note(li.id, None, "")
    }];
    let r = db.create_notifications(&blank).await;
    assert!(
        matches!(
            r,
            Err(StoreError::Domain(DomainError::Invalid {
                field: "title",
                ..
            }))
        ),
        "{r:?}"
    );
    let no_kind = [NewNotification {
        kind: String::new(),
        ..note(li.id, None, "t")
    }];
    assert!(db.create_notifications(&no_kind).await.is_err());
    assert_eq!(count_rows(&db, "notifications").await, 0);
    assert_eq!(db.count_unread_notifications(li.id).await.unwrap(), 0);

    // The store still works after the failed batches (nothing was left half-done).
    assert_eq!(
        db.create_notifications(&unknown_ticket[..1]).await.unwrap(),
        1
    );
    // Kind and title are trimmed; no text keeps NUL characters.
    let odd = [NewNotification {
        body: "line one\nline\0 two".into(),
        ..note(li.id, None, " 工单即将超时 ")
    }];
    db.create_notifications(&odd).await.unwrap();
    let newest = db.list_notifications(li.id, false, None, 1).await.unwrap();
    assert_eq!(newest.items[0].title, "工单即将超时");
    assert_eq!(newest.items[0].body, "line one\nline two");
}
