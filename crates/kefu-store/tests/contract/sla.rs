//! SLA policies and clocks: versioned policies, clocks kept in every ticket transaction,
//! durable timers that fire once, escalations carried out as `Actor::Rule`, recomputation
//! after a calendar change, and the lists built on them.

use super::*;
use jiff::SignedDuration;
use kefu_domain::sla::*;
use std::sync::Arc;

fn t0() -> Timestamp {
    // Friday 2026-10-09 09:00 in Shanghai.
    "2026-10-09T01:00:00Z".parse().unwrap()
}

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn office(holiday_monday: bool) -> NewCalendar {
    let mut weekly = Vec::new();
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        weekly.push(serde_json::json!({"day": d, "start": "09:00", "end": "12:00"}));
        weekly.push(serde_json::json!({"day": d, "start": "13:00", "end": "18:00"}));
    }
    let holidays = if holiday_monday {
        serde_json::json!([{"date": "2026-10-12", "end_date": "2026-10-12", "name": "x"}])
    } else {
        serde_json::json!([])
    };
    NewCalendar {
        name: "Shanghai office".into(),
        time_zone: "Asia/Shanghai".into(),
        definition: serde_json::json!({"weekly": weekly, "holidays": holidays, "workdays": []})
            .to_string(),
    }
}

fn standard(calendar: CalendarId) -> SlaPolicyDef {
    sla_json::policy_from_json(&serde_json::json!({
        "calendar_id": calendar.0,
        "targets": [
            {"metric": "first_reply", "priority": "normal", "minutes": 60},
            {"metric": "resolution", "priority": "normal", "minutes": 480, "business": true},
        ],
        "warn_at": [75],
        "ladders": [{"kind": "default", "steps": [{"tier": 1,
            "on_breach": [{"action": "raise_tier"}, {"action": "add_tag", "tag": "escalated"},
                          {"action": "notify", "to": "supervisors"}]}]}]
    }))
    .unwrap()
}

struct Setup {
    db: TestDb,
    clock: Arc<ManualClock>,
    calendar: CalendarRecord,
    policy: SlaPolicyRecord,
    customer: Customer,
}

async fn setup() -> Setup {
    let clock = Arc::new(ManualClock::new(t0()));
    let db = fresh_store_with_clock(clock.clone()).await;
    let calendar = db.create_calendar(&office(false)).await.unwrap();
    let policy = db
        .create_sla_policy(&NewSlaPolicy {
            name: "Standard".into(),
            position: None,
            active: true,
            def: standard(calendar.id),
        })
        .await
        .unwrap();
    let customer = customer(&db, "陈晓明", "chen@example.cn").await;
    Setup {
        db,
        clock,
        calendar,
        policy,
        customer,
    }
}

fn sla_events(events: &[Event]) -> Vec<(Option<Metric>, SlaTransition)> {
    events
        .iter()
        .filter_map(|e| match &e.change {
            Change::Sla {
                metric, transition, ..
            } => Some((*metric, *transition)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn policies_are_versioned_and_listed_in_order() {
    let s = setup().await;
    assert_eq!((s.policy.version, s.policy.position), (1, 1));
    let mut def = s.policy.def.clone();
    def.targets[0].minutes = 30;
    let vip =
        s.db.create_sla_policy(&NewSlaPolicy {
            name: "VIP".into(),
            position: Some(0),
            active: true,
            def: def.clone(),
        })
        .await
        .unwrap();
    let names: Vec<_> =
        s.db.list_sla_policies()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
    assert_eq!(names, ["VIP", "Standard"]);
    // Renaming keeps the version; a new definition makes a new one.
    let renamed = NewSlaPolicy {
        name: "VIP customers".into(),
        position: None,
        active: true,
        def: def.clone(),
    };
    let p =
        s.db.update_sla_policy(vip.id, &renamed)
            .await
            .unwrap()
            .unwrap();
    assert_eq!((p.version, p.position), (1, 0));
    def.targets[0].minutes = 20;
    let p =
        s.db.update_sla_policy(vip.id, &NewSlaPolicy { def, ..renamed })
            .await
            .unwrap()
            .unwrap();
    assert_eq!(p.version, 2);
    assert_eq!(s.db.get_sla_policy(vip.id).await.unwrap().unwrap(), p);
    // Unknown references are refused.
    let mut bad = s.policy.def.clone();
    bad.calendar_id = Some(CalendarId(9999));
    let err =
        s.db.create_sla_policy(&NewSlaPolicy {
            name: "x".into(),
            position: None,
            active: true,
            def: bad,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidReference("calendar")),
        "{err}"
    );
}

#[tokio::test]
async fn a_ticket_gets_clocks_in_its_own_transaction_and_a_reply_fulfils_them() {
    let s = setup().await;
    let t = ticket_for(&s.db, &s.customer, "打印机无法联网").await;
    let sla = s.db.ticket_sla(t.id).await.unwrap().unwrap();
    assert_eq!(sla.policy, Some((s.policy.id, 1)));
    let fr = sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.due, Some(t0() + mins(60)));
    // Resolution: 8 business hours from Friday 09:00 → Friday 18:00.
    assert_eq!(
        sla.clock(Metric::Resolution).unwrap().due,
        Some("2026-10-09T10:00:00Z".parse().unwrap())
    );
    let agent =
        s.db.create_agent(&new_agent("wang@kefu.example", vec![]))
            .await
            .unwrap();
    s.clock.advance(mins(20));
    s.db.add_message(t.id, &reply(Actor::Agent(agent.id), "您好，请重启路由器"))
        .await
        .unwrap();
    let sla = s.db.ticket_sla(t.id).await.unwrap().unwrap();
    let fr = sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Achieved);
    assert_eq!(fr.elapsed, mins(20));
    let events = s.db.list_events(t.id).await.unwrap();
    let sla_ev = sla_events(&events);
    assert!(sla_ev.contains(&(None, SlaTransition::Apply)));
    assert!(sla_ev.contains(&(Some(Metric::FirstReply), SlaTransition::Activate)));
    assert!(sla_ev.contains(&(Some(Metric::FirstReply), SlaTransition::Fulfil)));
}

#[tokio::test]
async fn timers_fire_once_warn_breach_and_escalate() {
    let s = setup().await;
    let t = ticket_for(&s.db, &s.customer, "发票开错了").await;
    let boss =
        s.db.create_agent(&NewAgent {
            role: Role::Supervisor,
            ..new_agent("li.na@kefu.example", vec![])
        })
        .await
        .unwrap();
    let lease = SignedDuration::from_secs(30);
    assert!(s.db.claim_sla_timers(lease, 100).await.unwrap().is_empty());
    // 75 % of the first reply target.
    s.clock.advance(mins(46));
    assert_eq!(s.db.claim_sla_timers(lease, 100).await.unwrap(), vec![t.id]);
    assert!(
        s.db.claim_sla_timers(lease, 100).await.unwrap().is_empty(),
        "a leased timer is not claimed twice"
    );
    // Two nodes firing the same ticket at once record the warning once.
    let (a, b) = tokio::join!(s.db.fire_sla_timers(t.id), s.db.fire_sla_timers(t.id));
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(s.db.fire_sla_timers(t.id).await.unwrap(), 0);
    // The breach escalates: tier 2 and a tag, changed by a rule.
    s.clock.advance(mins(15));
    assert_eq!(s.db.claim_sla_timers(lease, 100).await.unwrap(), vec![t.id]);
    assert!(s.db.fire_sla_timers(t.id).await.unwrap() >= 2);
    let now = s.db.get_ticket(t.id).await.unwrap().unwrap();
    assert_eq!(now.tier.get(), 2);
    // The supervisor is notified once, even when the timer fires again.
    assert_eq!(s.db.fire_sla_timers(t.id).await.unwrap(), 0);
    let inbox =
        s.db.list_notifications(boss.id, true, None, 10)
            .await
            .unwrap();
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].ticket_id, Some(t.id));
    assert_eq!(inbox.items[0].kind, SLA_NOTIFICATION);
    assert_eq!(now.tags, vec![Tag::parse("escalated").unwrap()]);
    let events = s.db.list_events(t.id).await.unwrap();
    assert!(events.iter().any(
        |e| e.actor == Actor::Rule && matches!(&e.change, Change::Field { field: "tier", .. })
    ));
    let sla = s.db.ticket_sla(t.id).await.unwrap().unwrap();
    let fr = sla.clock(Metric::FirstReply).unwrap();
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fr.breached_at, Some(t0() + mins(60)));
    // Breached tickets are listed as such, and no longer as at risk.
    let breached = TicketFilter {
        sla: Some(SlaFilter::Breached),
        ..Default::default()
    };
    assert_eq!(s.db.count_tickets(&breached).await.unwrap(), 1);
    let at_risk = TicketFilter {
        sla: Some(SlaFilter::DueBefore(t0() + mins(62))),
        ..Default::default()
    };
    assert_eq!(s.db.count_tickets(&at_risk).await.unwrap(), 0);
}

#[tokio::test]
async fn a_calendar_change_recomputes_running_clocks() {
    let s = setup().await;
    // Friday 17:00: 1 business hour left today, 7 more on Monday.
    s.clock.set("2026-10-09T09:00:00Z".parse().unwrap());
    let t = ticket_for(&s.db, &s.customer, "系统报错").await;
    let due = |sla: &TicketSla| sla.clock(Metric::Resolution).unwrap().due;
    let sla = s.db.ticket_sla(t.id).await.unwrap().unwrap();
    assert_eq!(due(&sla), Some("2026-10-12T09:00:00Z".parse().unwrap()));
    let upcoming =
        s.db.upcoming_breaches(
            "2026-10-20T00:00:00Z".parse().unwrap(),
            &Default::default(),
            10,
        )
        .await
        .unwrap();
    assert_eq!(upcoming.len(), 2);
    assert_eq!(upcoming[0].clock.metric, Metric::FirstReply);
    assert_eq!(upcoming[0].ticket.id, t.id);
    // Filtered by the ticket's tier and team, in the query.
    let before: Timestamp = "2026-10-20T00:00:00Z".parse().unwrap();
    let only = |team: Option<TeamId>, tier: u8| UpcomingFilter {
        team,
        tier: Some(Tier::new(tier.into()).unwrap()),
    };
    let n = |f: UpcomingFilter| {
        let db = &s.db;
        async move { db.upcoming_breaches(before, &f, 10).await.unwrap().len() }
    };
    assert_eq!(n(only(None, t.tier.get())).await, 2);
    assert_eq!(n(only(None, t.tier.get() % 4 + 1)).await, 0);
    assert_eq!(n(only(Some(TeamId(i64::MAX)), t.tier.get())).await, 0);
    // More tickets, so that the recomputation spans several stripes of ticket ids.
    let mut all = vec![t.id];
    for i in 0..6 {
        all.push(
            ticket_for(&s.db, &s.customer, &format!("系统报错 {i}"))
                .await
                .id,
        );
    }
    // Monday becomes a holiday: the due time moves to Tuesday, for every ticket.
    s.db.update_calendar(s.calendar.id, &office(true))
        .await
        .unwrap()
        .unwrap();
    for id in all {
        let sla = s.db.ticket_sla(id).await.unwrap().unwrap();
        assert_eq!(
            due(&sla),
            Some("2026-10-13T09:00:00Z".parse().unwrap()),
            "{id:?}"
        );
    }
    // Recomputing again changes nothing.
    let again = s.db.recompute_sla(Some(s.calendar.id)).await.unwrap();
    assert_eq!(again.updated, 0);
    assert!(again.running >= 1, "{again:?}");
}

#[tokio::test]
async fn tickets_keep_their_policy_version_until_reapplied() {
    let s = setup().await;
    let t = ticket_for(&s.db, &s.customer, "退货").await;
    let mut def = s.policy.def.clone();
    def.targets[0].minutes = 30;
    s.db.update_sla_policy(
        s.policy.id,
        &NewSlaPolicy {
            name: "Standard".into(),
            position: None,
            active: true,
            def,
        },
    )
    .await
    .unwrap();
    // A change to the ticket keeps version 1.
    s.db.update_ticket(
        t.id,
        &TicketPatch {
            tags: Some(vec![Tag::parse("refund").unwrap()]),
            ..Default::default()
        },
        Actor::System,
    )
    .await
    .unwrap();
    let sla = s.db.ticket_sla(t.id).await.unwrap().unwrap();
    assert_eq!(sla.policy, Some((s.policy.id, 1)));
    assert_eq!(sla.clock(Metric::FirstReply).unwrap().target, mins(60));
    let admin =
        s.db.create_agent(&new_agent("admin@kefu.example", vec![]))
            .await
            .unwrap();
    let sla =
        s.db.reapply_sla(t.id, Actor::Agent(admin.id))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(sla.policy, Some((s.policy.id, 2)));
    assert_eq!(sla.clock(Metric::FirstReply).unwrap().target, mins(30));
    // The re-application is the admin's in the ticket's history.
    let events = s.db.list_events(t.id).await.unwrap();
    let last = events.last().unwrap();
    assert!(matches!(last.change, Change::Sla { .. }), "{last:?}");
    assert_eq!(last.actor, Actor::Agent(admin.id));
    // A deactivated policy no longer applies: its clocks are cancelled on the next change.
    let p = s.db.get_sla_policy(s.policy.id).await.unwrap().unwrap();
    s.db.update_sla_policy(
        p.id,
        &NewSlaPolicy {
            name: p.name.clone(),
            position: None,
            active: false,
            def: p.def.clone(),
        },
    )
    .await
    .unwrap();
    s.db.update_ticket(t.id, &status(Status::Open), Actor::System)
        .await
        .unwrap();
    let sla = s.db.ticket_sla(t.id).await.unwrap().unwrap();
    assert_eq!(sla.policy, None);
    assert!(sla.clocks.is_empty());
}
