//! Organizations, customers and their identities, teams, agents, API tokens, sessions.

use super::*;

// ---------- organizations and customers ----------

#[tokio::test]
async fn organizations_are_listed_by_name_and_updated_in_place() {
    let db = fresh_store().await;
    let mut acme = org("Acme 顶点", false);
    acme.domains = vec!["acme.cn".into(), "acme.com".into()];
    let acme = db.create_organization(&acme).await.unwrap();
    let beta = db.create_organization(&org("Beta", true)).await.unwrap();
    assert_eq!(acme.domains, ["acme.cn", "acme.com"]);
    assert_eq!(
        db.get_organization(acme.id).await.unwrap().as_ref(),
        Some(&acme)
    );
    let names: Vec<_> = db
        .list_organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Acme 顶点", "Beta"]);

    let mut renamed = org("Beta Ltd", false);
    renamed.segment = Segment::Vip;
    let updated = db
        .update_organization(beta.id, &renamed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.segment,
            updated.shares_tickets
        ),
        ("Beta Ltd", Segment::Vip, false)
    );
    assert_eq!(updated.created_at, beta.created_at);
    assert_eq!(
        db.update_organization(OrganizationId(9999), &renamed)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.get_organization(OrganizationId(9999)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_customer_is_found_by_email_and_an_email_belongs_to_one_customer() {
    let db = fresh_store().await;
    let acme = db.create_organization(&org("Acme", false)).await.unwrap();
    let mut nc = new_customer("李伟", Some("Li.Wei@Example.com"), Some(acme.id));
    nc.phones = vec!["+86 138 0000 0000".into()];
    nc.external_ids = vec!["crm-42".into()];
    let li = db.create_customer(&nc, None).await.unwrap();
    assert_eq!(li.primary_email(), Some("li.wei@example.com"));
    assert_eq!(li.identities.len(), 3);
    assert_eq!(li.organization_id, Some(acme.id));
    assert_eq!(db.get_customer(li.id).await.unwrap().as_ref(), Some(&li));
    assert_eq!(
        db.find_customer_by_email(&email("LI.WEI@example.com"))
            .await
            .unwrap()
            .as_ref(),
        Some(&li)
    );
    assert_eq!(
        db.find_customer_by_email(&email("nobody@example.com"))
            .await
            .unwrap(),
        None
    );

    let again = db
        .create_customer(
            &new_customer("Impostor", Some("li.wei@example.com"), None),
            None,
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict("customer email"))),
        "{again:?}"
    );
    let orphan = db
        .create_customer(
            &new_customer("Orphan", None, Some(OrganizationId(9999))),
            None,
        )
        .await;
    assert!(
        matches!(orphan, Err(StoreError::InvalidReference("organization"))),
        "{orphan:?}"
    );

    let wang = customer(&db, "王芳", "wang@example.com").await;
    let both = db
        .customers_by_ids(&[wang.id, li.id, CustomerId(9999), li.id])
        .await
        .unwrap();
    assert_eq!(
        both.iter().map(|c| c.id).collect::<Vec<_>>(),
        [li.id, wang.id]
    );
    assert_eq!(db.get_customer(CustomerId(9999)).await.unwrap(), None);
}

#[tokio::test]
async fn an_idempotent_customer_create_returns_the_first_customer() {
    let db = fresh_store().await;
    let mut nc = new_customer("Chen", Some("chen@example.com"), None);
    nc.phones = vec!["+86 10 1234 5678".into()];
    let k = keyed("agent:1", "c-1", "chen");
    let first = db.create_customer(&nc, k.as_ref()).await.unwrap();
    let again = db.create_customer(&nc, k.as_ref()).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(count_rows(&db, "customers").await, 1);
    assert_eq!(count_rows(&db, "customer_identities").await, 2);

    let other = new_customer("Someone Else", Some("else@example.com"), None);
    let reused = db
        .create_customer(&other, keyed("agent:1", "c-1", "else").as_ref())
        .await;
    assert!(is_key_reuse(&reused), "{reused:?}");
    assert_eq!(
        db.find_customer_by_email(&email("else@example.com"))
            .await
            .unwrap(),
        None
    );
    let theirs = db
        .create_customer(&other, keyed("agent:2", "c-1", "else").as_ref())
        .await
        .unwrap();
    assert_ne!(theirs.id, first.id, "keys are scoped per caller");
}

#[tokio::test]
async fn a_failed_customer_create_leaves_its_key_free() {
    let db = fresh_store().await;
    customer(&db, "Taken", "taken@example.com").await;
    let taken = new_customer("New", Some("taken@example.com"), None);
    let failed = db
        .create_customer(&taken, keyed("agent:1", "fix-1", "taken").as_ref())
        .await;
    assert!(
        matches!(failed, Err(StoreError::Conflict("customer email"))),
        "{failed:?}"
    );
    let fixed = new_customer("New", Some("fresh@example.com"), None);
    let k = keyed("agent:1", "fix-1", "fresh");
    let created = db.create_customer(&fixed, k.as_ref()).await.unwrap();
    assert_eq!(
        db.create_customer(&fixed, k.as_ref()).await.unwrap(),
        created
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_customer_creates_with_one_key_create_one_customer() {
    let db = fresh_store().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = db.store();
        tasks.push(tokio::spawn(async move {
            let nc = new_customer("Race", Some("race@example.com"), None);
            store
                .create_customer(&nc, keyed("portal", "same-key", "race").as_ref())
                .await
                .unwrap()
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().id);
    }
    assert_eq!(ids.len(), 1, "every request got the winner's customer");
    assert_eq!(count_rows(&db, "customers").await, 1);
}

#[tokio::test]
async fn customer_search_matches_name_or_identity_and_pages_by_id() {
    let db = fresh_store().await;
    let acme = db.create_organization(&org("Acme", false)).await.unwrap();
    let mut ids = Vec::new();
    for (name, mail) in [
        ("Alice Chen", "alice@acme.cn"),
        ("Bob", "bob@beta.com"),
        ("CAROL", "carol_100@acme.cn"),
        ("Dave", "dave@acme.cn"),
        ("Eve", "eve@beta.com"),
    ] {
        let in_acme = mail.ends_with("acme.cn").then_some(acme.id);
        ids.push(
            db.create_customer(&new_customer(name, Some(mail), in_acme), None)
                .await
                .unwrap()
                .id,
        );
    }
    let search = |q: Option<&str>, org: Option<OrganizationId>| CustomerQuery {
        q: q.map(str::to_string),
        organization_id: org,
        cursor: None,
        limit: 50,
    };
    let names = |p: Page<Customer>| p.items.into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(
        names(
            db.list_customers(&search(Some("carol"), None))
                .await
                .unwrap()
        ),
        ["CAROL"]
    );
    assert_eq!(
        names(
            db.list_customers(&search(Some("BETA.COM"), None))
                .await
                .unwrap()
        ),
        ["Bob", "Eve"]
    );
    assert_eq!(
        names(db.list_customers(&search(Some("l_1"), None)).await.unwrap()),
        ["CAROL"],
        "_ is literal"
    );
    assert!(
        db.list_customers(&search(Some("%"), None))
            .await
            .unwrap()
            .items
            .is_empty(),
        "% is literal"
    );
    assert_eq!(
        names(
            db.list_customers(&search(None, Some(acme.id)))
                .await
                .unwrap()
        ),
        ["Alice Chen", "CAROL", "Dave"]
    );

    let mut seen = Vec::new();
    let mut q = CustomerQuery {
        limit: 2,
        ..Default::default()
    };
    for page_no in 0.. {
        assert!(page_no < 100, "customer pagination did not end");
        let page = db.list_customers(&q).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every customer once, in id order");

    let bad = db
        .list_customers(&CustomerQuery {
            cursor: Some("abc".into()),
            ..Default::default()
        })
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
async fn a_customer_patch_changes_fields_and_adds_each_identity_once() {
    let db = fresh_store().await;
    let acme = db.create_organization(&org("Acme", false)).await.unwrap();
    let li = db
        .create_customer(&new_customer("Li", None, None), None)
        .await
        .unwrap();
    let wang = customer(&db, "Wang", "wang@example.com").await;

    let patch = CustomerPatch {
        name: Some("Li Wei".into()),
        organization_id: Some(Some(acme.id)),
        segment: Some(Segment::Vip),
        language: Some(Lang::En),
        time_zone: Some("Europe/Berlin".into()),
        add_identities: vec![
            (IdentityKind::Email, "Li@Example.com".into()),
            (IdentityKind::Email, "li@example.com".into()),
            (IdentityKind::Phone, "+49 30 1234".into()),
        ],
    };
    let li2 = db.update_customer(li.id, &patch).await.unwrap().unwrap();
    assert_eq!(li2.name, "Li Wei");
    assert_eq!(
        (li2.organization_id, li2.segment, li2.language),
        (Some(acme.id), Segment::Vip, Lang::En)
    );
    assert_eq!(li2.time_zone, "Europe/Berlin");
    assert_eq!(li2.primary_email(), Some("li@example.com"));
    assert_eq!(
        li2.identities.len(),
        2,
        "the repeated email is ignored: {:?}",
        li2.identities
    );

    let steal = CustomerPatch {
        add_identities: vec![(IdentityKind::Email, "wang@example.com".into())],
        ..Default::default()
    };
    let stolen = db.update_customer(li.id, &steal).await;
    assert!(matches!(stolen, Err(StoreError::Conflict(_))), "{stolen:?}");
    assert_eq!(
        db.find_customer_by_email(&email("wang@example.com"))
            .await
            .unwrap()
            .unwrap()
            .id,
        wang.id
    );

    let leave = CustomerPatch {
        organization_id: Some(None),
        ..Default::default()
    };
    let li3 = db.update_customer(li.id, &leave).await.unwrap().unwrap();
    assert_eq!((li3.organization_id, li3.name.as_str()), (None, "Li Wei"));
    let bad_org = CustomerPatch {
        organization_id: Some(Some(OrganizationId(9999))),
        ..Default::default()
    };
    assert!(matches!(
        db.update_customer(li.id, &bad_org).await,
        Err(StoreError::InvalidReference("organization"))
    ));
    assert_eq!(
        db.update_customer(CustomerId(9999), &leave).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn portal_passwords_are_set_and_replaced() {
    let db = fresh_store().await;
    let li = customer(&db, "Li", "li@example.com").await;
    let (found, hash) = db
        .find_customer_login(&email("li@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, hash), (li.id, None));
    db.set_customer_password(li.id, "hash-1").await.unwrap();
    db.set_customer_password(li.id, "hash-2").await.unwrap();
    let (_, hash) = db
        .find_customer_login(&email("li@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash.as_deref(), Some("hash-2"));
    assert_eq!(
        db.find_customer_login(&email("x@example.com"))
            .await
            .unwrap(),
        None
    );
    let ghost = db.set_customer_password(CustomerId(9999), "h").await;
    assert!(
        matches!(ghost, Err(StoreError::InvalidReference("customer"))),
        "{ghost:?}"
    );
}

// ---------- teams, agents, tokens, sessions ----------

#[tokio::test]
async fn team_names_are_unique() {
    let db = fresh_store().await;
    let l1 = db.create_team("一线支持", "front line").await.unwrap();
    let l2 = db.create_team("Billing", "").await.unwrap();
    assert_eq!(db.get_team(l1.id).await.unwrap().as_ref(), Some(&l1));
    assert_eq!(
        db.find_team_by_name("一线支持").await.unwrap().as_ref(),
        Some(&l1)
    );
    assert_eq!(db.find_team_by_name("nobody").await.unwrap(), None);
    let names: Vec<_> = db
        .list_teams()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Billing", "一线支持"]);
    assert!(matches!(
        db.create_team("Billing", "again").await,
        Err(StoreError::Conflict("team name"))
    ));
    assert!(matches!(
        db.update_team(l1.id, "Billing", "").await,
        Err(StoreError::Conflict("team name"))
    ));
    let l2b = db
        .update_team(l2.id, "Finance", "money")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (l2b.name.as_str(), l2b.description.as_str()),
        ("Finance", "money")
    );
    assert_eq!(db.update_team(TeamId(9999), "X", "").await.unwrap(), None);
}

#[tokio::test]
async fn agents_keep_their_teams_and_emails_are_unique() {
    let db = fresh_store().await;
    let t1 = db.create_team("L1", "").await.unwrap();
    let t2 = db.create_team("L2", "").await.unwrap();
    let zhang = db
        .create_agent(&new_agent("zhang@kefu.test", vec![t2.id, t1.id, t2.id]))
        .await
        .unwrap();
    assert_eq!(zhang.teams, [t1.id, t2.id]);
    assert!(zhang.active);
    assert_eq!(db.get_agent(zhang.id).await.unwrap().as_ref(), Some(&zhang));
    let (a, hash) = db
        .find_agent_login(&email("ZHANG@kefu.test"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.id, hash.as_str()), (zhang.id, "hash-of-zhang@kefu.test"));
    assert_eq!(
        db.find_agent_login(&email("nobody@kefu.test"))
            .await
            .unwrap(),
        None
    );

    let dup = db.create_agent(&new_agent("zhang@kefu.test", vec![])).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict("agent email"))),
        "{dup:?}"
    );
    let bad_team = db
        .create_agent(&new_agent("li@kefu.test", vec![TeamId(9999)]))
        .await;
    assert!(
        matches!(bad_team, Err(StoreError::InvalidReference("team"))),
        "{bad_team:?}"
    );
    assert!(
        db.find_agent_login(&email("li@kefu.test"))
            .await
            .unwrap()
            .is_none(),
        "a failed create leaves nothing"
    );

    let patch = AgentPatch {
        name: Some("张三".into()),
        role: Some(Role::Supervisor),
        tier: Some(Tier::new(2).unwrap()),
        teams: Some(vec![t2.id]),
        language: Some(Some(Lang::ZhCn)),
        active: Some(false),
        password_hash: Some("new-hash".into()),
    };
    let z = db.update_agent(zhang.id, &patch).await.unwrap().unwrap();
    assert_eq!(
        (z.name.as_str(), z.role, z.tier.get()),
        ("张三", Role::Supervisor, 2)
    );
    assert_eq!(
        (z.teams.as_slice(), z.language, z.active),
        ([t2.id].as_slice(), Some(Lang::ZhCn), false)
    );
    let (_, hash) = db
        .find_agent_login(&email("zhang@kefu.test"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash, "new-hash");
    let z = db
        .update_agent(
            zhang.id,
            &AgentPatch {
                language: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (z.language, z.name.as_str(), z.teams.len()),
        (None, "张三", 1),
        "untouched fields stay"
    );
    assert_eq!(
        db.update_agent(AgentId(9999), &AgentPatch::default())
            .await
            .unwrap(),
        None
    );

    db.create_agent(&new_agent("an@kefu.test", vec![t1.id]))
        .await
        .unwrap();
    let listed: Vec<_> = db
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.teams))
        .collect();
    assert_eq!(
        listed,
        [
            ("Agent an@kefu.test".to_string(), vec![t1.id]),
            ("张三".to_string(), vec![t2.id])
        ]
    );
}

#[tokio::test]
async fn api_tokens_find_their_agent_by_hash() {
    let db = fresh_store().await;
    let a = db
        .create_agent(&new_agent("bot@kefu.test", vec![]))
        .await
        .unwrap();
    let id = db.create_api_token(a.id, "CI", "hash-abc").await.unwrap();
    assert!(id > 0);
    assert_eq!(
        db.find_agent_by_token("hash-abc")
            .await
            .unwrap()
            .map(|x| x.id),
        Some(a.id)
    );
    assert_eq!(db.find_agent_by_token("hash-xyz").await.unwrap(), None);
    assert!(matches!(
        db.create_api_token(a.id, "again", "hash-abc").await,
        Err(StoreError::Conflict(_))
    ));
    let ghost = db.create_api_token(AgentId(9999), "x", "hash-2").await;
    assert!(
        matches!(ghost, Err(StoreError::InvalidReference("agent"))),
        "{ghost:?}"
    );
}

#[tokio::test]
async fn expired_sessions_are_not_found() {
    let db = fresh_store().await;
    let a = db
        .create_agent(&new_agent("s@kefu.test", vec![]))
        .await
        .unwrap();
    let c = customer(&db, "Li", "li@example.com").await;
    let t0 = Timestamp::from_second(1_800_000_000).unwrap();
    let hour = jiff::SignedDuration::from_hours(1);
    let session = |hash: &str, owner| Session {
        token_hash: hash.into(),
        owner,
        csrf_token: format!("csrf-{hash}"),
        created_at: t0,
        expires_at: t0 + hour,
    };
    db.create_session(&session("agent-s", SessionOwner::Agent(a.id)))
        .await
        .unwrap();
    db.create_session(&session("customer-s", SessionOwner::Customer(c.id)))
        .await
        .unwrap();
    assert_eq!(
        db.find_session("agent-s", t0).await.unwrap(),
        Some(session("agent-s", SessionOwner::Agent(a.id)))
    );
    let cs = db
        .find_session("customer-s", t0 + hour - jiff::SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(cs.map(|s| s.owner), Some(SessionOwner::Customer(c.id)));
    assert_eq!(
        db.find_session("agent-s", t0 + hour).await.unwrap(),
        None,
        "expired at expires_at"
    );
    assert_eq!(db.find_session("nope", t0).await.unwrap(), None);
    db.delete_session("agent-s").await.unwrap();
    assert_eq!(db.find_session("agent-s", t0).await.unwrap(), None);
    let ghost = db
        .create_session(&session("ghost", SessionOwner::Agent(AgentId(9999))))
        .await;
    assert!(
        matches!(ghost, Err(StoreError::InvalidReference(_))),
        "{ghost:?}"
    );
}

// ---------- rate limits ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_counts_grow_within_a_window_and_restart_in_the_next() {
    // 10:07 lies in the window 10:00–10:15.
    let t0: Timestamp = "2026-01-01T10:07:00.123456Z".parse().unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock.clone()).await;
    let window = jiff::SignedDuration::from_mins(15);
    let (alice, bob) = ("login:email:alice@example.com", "login:ip:192.0.2.1");

    for expected in 1..=3 {
        assert_eq!(db.hit_rate_limit(alice, window).await.unwrap(), expected);
    }
    assert_eq!(
        db.hit_rate_limit(bob, window).await.unwrap(),
        1,
        "keys count apart"
    );
    clock.advance(jiff::SignedDuration::from_mins(7)); // 10:14, same window
    assert_eq!(db.hit_rate_limit(alice, window).await.unwrap(), 4);
    db.undo_rate_limit_hit(alice, window).await.unwrap();
    assert_eq!(
        db.hit_rate_limit(alice, window).await.unwrap(),
        4,
        "undo takes one back"
    );

    clock.advance(jiff::SignedDuration::from_mins(1)); // 10:15, a new window
    db.undo_rate_limit_hit(alice, window).await.unwrap(); // nothing to take back: no-op
    assert_eq!(db.hit_rate_limit(alice, window).await.unwrap(), 1);
    db.undo_rate_limit_hit(alice, window).await.unwrap();
    db.undo_rate_limit_hit(alice, window).await.unwrap();
    assert_eq!(
        db.hit_rate_limit(alice, window).await.unwrap(),
        1,
        "never below zero"
    );

    // Concurrent hits each see a distinct count.
    let mut counts: Vec<u32> = concurrent_hits(&db, "login:ip:198.51.100.9", window).await;
    counts.sort_unstable();
    assert_eq!(counts, (1..=8).collect::<Vec<_>>());

    // The purge drops windows that started before the cutoff, and only those.
    let purged = db
        .purge_rate_limits("2026-01-01T10:15:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(purged, 2, "alice and bob in the 10:00 window");
    assert_eq!(db.hit_rate_limit(alice, window).await.unwrap(), 2);
    clock.set("2026-01-01T10:00:00Z".parse().unwrap());
    assert_eq!(db.hit_rate_limit(bob, window).await.unwrap(), 1, "purged");
}

async fn concurrent_hits(db: &TestDb, key: &str, window: jiff::SignedDuration) -> Vec<u32> {
    let store = db.store();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, key) = (store.clone(), key.to_string());
            tokio::spawn(async move { store.hit_rate_limit(&key, window).await.unwrap() })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}
