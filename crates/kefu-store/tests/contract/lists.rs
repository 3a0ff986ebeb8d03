//! Ticket lists: keyset pagination, filters, counts and portal visibility.

use super::*;

// ---------- listing tickets ----------

#[tokio::test]
async fn pagination_visits_every_ticket_once() {
    let db = fresh_store().await;
    let agent = db
        .create_agent(&new_agent("a@kefu.test", vec![]))
        .await
        .unwrap();
    let c = customer(&db, "Li", "li@example.com").await;
    let mut created = Vec::new();
    for i in 0..23 {
        created.push(ticket_for(&db, &c, &format!("ticket {i}")).await.id);
    }
    for id in created.iter().step_by(3) {
        db.update_ticket(*id, &status(Status::Open), Actor::Agent(agent.id))
            .await
            .unwrap();
    }
    let all = all_pages(&db, &TicketFilter::default(), 5).await;
    assert_eq!(all.len(), 23);
    assert_eq!(all.iter().map(|t| t.id).collect::<HashSet<_>>().len(), 23);
    assert!(
        all.windows(2)
            .all(|w| (w[0].updated_at, w[0].id) > (w[1].updated_at, w[1].id)),
        "newest first"
    );
    assert_eq!(all[0].id, created[21], "the last touched ticket leads");

    let both = TicketFilter {
        statuses: vec![Status::New, Status::Open],
        ..Default::default()
    };
    let paged = all_pages(&db, &both, 4).await;
    assert_eq!(
        paged.iter().map(|t| t.id).collect::<Vec<_>>(),
        all.iter().map(|t| t.id).collect::<Vec<_>>()
    );
    let open = TicketFilter {
        statuses: vec![Status::Open],
        ..Default::default()
    };
    assert_eq!(all_pages(&db, &open, 2).await.len(), 8);
    assert_eq!(db.count_tickets(&open).await.unwrap(), 8);
    assert_eq!(db.count_tickets(&both).await.unwrap(), 23);

    let one = db
        .list_tickets(&TicketFilter::default(), None, 0)
        .await
        .unwrap();
    assert_eq!(one.items.len(), 1, "a limit of 0 is clamped to 1");
    let max = db
        .list_tickets(&TicketFilter::default(), None, 10_000)
        .await
        .unwrap();
    assert_eq!((max.items.len(), max.next_cursor), (23, None));
    for bad in ["", "nonsense", "12", "1.x"] {
        let res = db
            .list_tickets(&TicketFilter::default(), Some(bad), 5)
            .await;
        assert!(
            matches!(
                res,
                Err(StoreError::Domain(DomainError::Invalid {
                    field: "cursor",
                    ..
                }))
            ),
            "{bad}: {res:?}"
        );
    }
}

#[tokio::test]
async fn filters_select_by_status_assignee_team_requester_and_organization() {
    let db = fresh_store().await;
    let team = db.create_team("L2", "").await.unwrap();
    let a1 = db
        .create_agent(&new_agent("a1@kefu.test", vec![]))
        .await
        .unwrap();
    let acme = db.create_organization(&org("Acme", false)).await.unwrap();
    let li = db
        .create_customer(&new_customer("Li", Some("li@acme.cn"), Some(acme.id)), None)
        .await
        .unwrap();
    let wang = customer(&db, "Wang", "wang@example.com").await;

    let mine = ticket_for(&db, &li, "mine").await;
    let teams = ticket_for(&db, &wang, "team").await;
    let loose = ticket_for(&db, &wang, "loose").await;
    let by = Actor::Agent(a1.id);
    db.update_ticket(
        mine.id,
        &TicketPatch {
            assignee_id: Some(Some(a1.id)),
            ..Default::default()
        },
        by,
    )
    .await
    .unwrap();
    db.update_ticket(
        teams.id,
        &TicketPatch {
            team_id: Some(Some(team.id)),
            status: Some(Status::Hold),
            ..Default::default()
        },
        by,
    )
    .await
    .unwrap();

    let ids = |f: TicketFilter| {
        let db = &db;
        async move {
            let page = db.list_tickets(&f, None, 50).await.unwrap();
            assert_eq!(
                db.count_tickets(&f).await.unwrap(),
                page.items.len() as i64,
                "count agrees with list"
            );
            page.items.into_iter().map(|t| t.id).collect::<Vec<_>>()
        }
    };
    let mine_open = TicketFilter {
        assignee: Some(AssigneeFilter::Agent(a1.id)),
        statuses: vec![Status::New, Status::Open],
        ..Default::default()
    };
    assert_eq!(ids(mine_open).await, [mine.id]);
    let unassigned = TicketFilter {
        assignee: Some(AssigneeFilter::Unassigned),
        ..Default::default()
    };
    assert_eq!(ids(unassigned).await, [teams.id, loose.id]);
    assert_eq!(
        ids(TicketFilter {
            team_id: Some(team.id),
            ..Default::default()
        })
        .await,
        [teams.id]
    );
    assert_eq!(
        ids(TicketFilter {
            statuses: vec![Status::Hold],
            ..Default::default()
        })
        .await,
        [teams.id]
    );
    assert_eq!(
        ids(TicketFilter {
            requester_id: Some(wang.id),
            ..Default::default()
        })
        .await,
        [teams.id, loose.id]
    );
    assert_eq!(
        ids(TicketFilter {
            organization_id: Some(acme.id),
            ..Default::default()
        })
        .await,
        [mine.id]
    );
    assert_eq!(
        ids(TicketFilter {
            statuses: vec![Status::Closed],
            ..Default::default()
        })
        .await,
        []
    );
}

#[tokio::test]
async fn customers_see_their_org_tickets_only_when_shared() {
    let db = fresh_store().await;
    let acme = db.create_organization(&org("Acme", false)).await.unwrap();
    let li = db
        .create_customer(&new_customer("Li", Some("li@acme.cn"), Some(acme.id)), None)
        .await
        .unwrap();
    let wang = db
        .create_customer(
            &new_customer("Wang", Some("wang@acme.cn"), Some(acme.id)),
            None,
        )
        .await
        .unwrap();
    let loner = customer(&db, "Zhao", "zhao@example.com").await;
    let li_t = ticket_for(&db, &li, "li's").await;
    let wang_t = ticket_for(&db, &wang, "wang's").await;
    ticket_for(&db, &loner, "zhao's").await;

    let visible = |c: &Customer| TicketFilter {
        visible_to: Some((c.id, c.organization_id)),
        ..Default::default()
    };
    let ids = |p: Page<Ticket>| p.items.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(db.list_tickets(&visible(&li), None, 50).await.unwrap()),
        [li_t.id]
    );
    assert_eq!(db.count_tickets(&visible(&li)).await.unwrap(), 1);

    db.update_organization(acme.id, &org("Acme", true))
        .await
        .unwrap();
    assert_eq!(
        ids(db.list_tickets(&visible(&li), None, 50).await.unwrap()),
        [wang_t.id, li_t.id]
    );
    assert_eq!(db.count_tickets(&visible(&wang)).await.unwrap(), 2);
    assert_eq!(
        db.count_tickets(&visible(&loner)).await.unwrap(),
        1,
        "no organization: own tickets only"
    );
    let open_only = TicketFilter {
        statuses: vec![Status::Open],
        ..visible(&li)
    };
    assert_eq!(
        db.count_tickets(&open_only).await.unwrap(),
        0,
        "visibility narrows, never widens, other filters"
    );
}
