//! SLA over the API: admins write policies (validated with the path of each mistake,
//! versioned), agents read a ticket's clocks, supervisors re-apply policies and watch the
//! breaches coming up, and the ticket list filters tickets at risk or breached. Clock
//! times are checked on a frozen store clock (`spawn_app_with_clock`); the server measures
//! elapsed and remaining time against the wall clock.
//! Runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;

use common::*;
use jiff::{SignedDuration, Timestamp};
use kefu_domain::*;
use kefu_store::ManualClock;
use serde_json::{Value, json};
use std::sync::Arc;

const MINUTE: SignedDuration = SignedDuration::from_mins(1);

/// Weekdays 09:00–18:00 UTC.
async fn office_calendar(admin: &Api) -> i64 {
    let weekly: Vec<Value> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| json!({"day": d, "start": "09:00", "end": "18:00"}))
        .collect();
    let r = admin
        .post(
            "/api/v1/calendars",
            &json!({"name": "Office", "time_zone": "UTC", "weekly": weekly}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

async fn create_policy(admin: &Api, body: &Value) -> Value {
    let r = admin.post("/api/v1/sla-policies", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn target(metric: &str, priority: &str, minutes: u32) -> Value {
    json!({"metric": metric, "priority": priority, "minutes": minutes})
}

fn at(v: &Value) -> Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("a timestamp, got {v}"))
        .parse()
        .unwrap()
}

/// The wall clock, whole seconds (the store keeps microseconds; responses compare exactly).
fn now_secs() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap()
}

/// A ticket's SLA as an agent sees it.
async fn sla_of(api: &Api, ticket: i64) -> Value {
    let r = api.get(&format!("/api/v1/tickets/{ticket}/sla")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn clock_for<'a>(sla: &'a Value, metric: &str) -> &'a Value {
    sla["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} clock in {sla}"))
}

fn metrics(sla: &Value) -> Vec<&str> {
    sla["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["metric"].as_str().unwrap())
        .collect()
}

async fn new_ticket(api: &Api, body: Value) -> i64 {
    let mut b = json!({"subject": "打印机无法连接", "body": "It says offline.",
        "requester": {"email": "li.wei@example.com", "name": "Li Wei"}});
    let b = b.as_object_mut().unwrap();
    if body.get("requester_id").is_some() {
        b.remove("requester");
    }
    b.extend(body.as_object().unwrap().clone());
    let r = api.post("/api/v1/tickets", &json!(b)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

fn ids(r: &Resp) -> Vec<i64> {
    let mut v: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items in {}", r.text))
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn admins_create_list_and_replace_policies_and_a_new_definition_is_a_new_version() {
    let app = spawn_app().await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let agent = app.api(&app.agent(Role::Agent).await);
    let supervisor = app.api(&app.agent(Role::Supervisor).await);
    let cal = office_calendar(&admin).await;
    let team = app.store.create_team("Billing", "").await.unwrap().id.0;

    let mut business = json!({
        "name": "  Business hours ", "position": 5, "calendar_id": cal,
        "description": "Weekday promises",
        "conditions": {"team_ids": [team], "priorities": ["urgent", "high"], "tags": ["Printer"]},
        "targets": [
            {"metric": "first_reply", "priority": "urgent", "minutes": 60, "business": true},
            target("resolution", "urgent", 480),
        ],
        "pauses": {"resolution": ["hold"]},
        "warn_at": [90, 75],
        "ladders": [{"kind": "default", "steps": [{"tier": 1, "max_minutes": 240,
            "on_warn": [{"action": "notify", "to": "assignee"}],
            "on_breach": [{"action": "raise_tier"}, {"action": "assign_team", "team_id": team}]}]}]
    });
    let p = create_policy(&admin, &business).await;
    assert_eq!(p["name"], "Business hours");
    assert_eq!(p["position"], 5);
    assert_eq!(p["active"], true);
    assert_eq!(p["version"], 1);
    assert_eq!(p["calendar_id"], cal);
    assert_eq!(p["description"], "Weekday promises");
    assert_eq!(p["warn_at"], json!([75, 90]));
    assert_eq!(p["conditions"]["team_ids"], json!([team]));
    assert_eq!(p["conditions"]["tags"], json!(["printer"]));
    assert_eq!(p["conditions"]["channels"], json!([]));
    assert_eq!(
        p["targets"][0],
        json!({"metric": "first_reply", "priority": "urgent", "minutes": 60, "business": true})
    );
    assert_eq!(p["pauses"], json!({"resolution": ["hold"]}));
    assert_eq!(
        p["ladders"][0]["steps"][0]["on_breach"][1],
        json!({"action": "assign_team", "team_id": team})
    );
    assert!(at(&p["created_at"]) <= at(&p["updated_at"]));
    let id = p["id"].as_i64().unwrap();

    // Without a position it goes last; a lower position goes first.
    let rest = create_policy(
        &admin,
        &json!({"name": "Everything else", "targets": [target("first_reply", "normal", 240)]}),
    )
    .await;
    assert_eq!(rest["position"], 6);
    assert_eq!(rest["calendar_id"], Value::Null);
    // Integers may be written with a zero fraction, as everywhere in the API.
    let vip = create_policy(
        &admin,
        &json!({"name": "VIP", "position": 1.0, "active": false,
            "conditions": {"segments": ["vip"]}, "warn_at": [80.0],
            "targets": [{"metric": "first_reply", "priority": "high", "minutes": 30.0}]}),
    )
    .await;
    assert_eq!(vip["active"], false);
    assert_eq!(vip["position"], 1);
    assert_eq!(vip["targets"][0]["minutes"], 30);

    let r = agent.get("/api/v1/sla-policies").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["VIP", "Business hours", "Everything else"]);
    let r = agent.get(&format!("/api/v1/sla-policies/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, p);

    // Only admins write.
    agent
        .post("/api/v1/sla-policies", &business)
        .await
        .assert_error(403, "forbidden");
    supervisor
        .put(&format!("/api/v1/sla-policies/{id}"), &business)
        .await
        .assert_error(403, "forbidden");

    // A new target: version 2; the position is kept when left out.
    business["targets"][1]["minutes"] = json!(600);
    business.as_object_mut().unwrap().remove("position");
    let r = admin
        .put(&format!("/api/v1/sla-policies/{id}"), &business)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["position"], 5);
    assert_eq!(r.body["targets"][1]["minutes"], 600);
    assert_eq!(r.body["created_at"], p["created_at"]);

    // Name and active flag only: still version 2.
    business["name"] = json!("Business hours (old)");
    business["active"] = json!(false);
    let r = admin
        .put(&format!("/api/v1/sla-policies/{id}"), &business)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["name"], "Business hours (old)");
    let r = agent.get(&format!("/api/v1/sla-policies/{id}")).await;
    assert_eq!(r.body["version"], 2);

    agent
        .get("/api/v1/sla-policies/999999")
        .await
        .assert_error(404, "not_found");
    admin
        .put("/api/v1/sla-policies/999999", &business)
        .await
        .assert_error(404, "not_found");
    agent
        .get("/api/v1/sla-policies/abc")
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn invalid_policies_are_refused_with_the_path_of_the_mistake() {
    let app = spawn_app().await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let cal = office_calendar(&admin).await;
    let ok = |extra: Value| {
        let mut b = json!({"name": "P", "targets": [target("first_reply", "normal", 60)]});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let step =
        |action: Value| json!({"ladders": [{"steps": [{"tier": 1, "on_breach": [action]}]}]});
    let cases = [
        (
            ok(json!({"targets": [target("nope", "low", 5)]})),
            "targets[0].metric: ",
        ),
        (
            ok(
                json!({"targets": [target("first_reply", "low", 5), target("resolution", "soon", 5)]}),
            ),
            "targets[1].priority: ",
        ),
        (
            ok(
                json!({"targets": [{"metric": "first_reply", "priority": "low", "minutes": 5, "business": true}]}),
            ),
            "calendar_id: ",
        ),
        (
            ok(json!({"targets": [target("first_reply", "low", 0)]})),
            "targets[0].minutes: ",
        ),
        (
            ok(json!({"targets": [target("tier_time", "low", 5)]})),
            "targets[0]: ",
        ),
        (
            ok(
                json!({"targets": [target("first_reply", "low", 5), target("first_reply", "low", 9)]}),
            ),
            "targets[1]: ",
        ),
        (ok(json!({"warn_at": [50, 100]})), "warn_at[1]: "),
        (ok(json!({"warn_at": [50.5]})), "warn_at[0]: "),
        (
            ok(json!({"pauses": {"resolution": ["solved"]}})),
            "pauses: ",
        ),
        (ok(json!({"pauses": {"later": ["hold"]}})), "pauses.later: "),
        (
            ok(step(json!({"action": "fly"}))),
            "ladders[0].steps[0].on_breach[0].action: ",
        ),
        (
            ok(json!({"conditions": {"channels": ["fax"]}})),
            "conditions.channels[0]: ",
        ),
        (ok(json!({"bogus": 1})), "bogus: unknown field"),
        (ok(json!({"id": 3})), "id: "),
        (ok(json!({"version": 2})), "version: "),
        (ok(json!({"position": -1})), "position: "),
        (ok(json!({"active": "yes"})), "active: "),
        (ok(json!({"name": " "})), "name: "),
        (json!({"targets": []}), "name: "),
        (
            ok(json!({"description": "x".repeat(2001)})),
            "description: ",
        ),
        // References that must exist.
        (
            ok(json!({"calendar_id": cal + 1000})),
            "calendar_id: calendar does not exist",
        ),
        (
            ok(json!({"conditions": {"team_ids": [999999]}})),
            "team does not exist",
        ),
        (
            ok(json!({"conditions": {"organization_ids": [999999]}})),
            "conditions.organization_ids: organization does not exist",
        ),
        (
            ok(step(json!({"action": "assign_team", "team_id": 999999}))),
            "team does not exist",
        ),
    ];
    for (body, expected) in cases {
        let r = admin.post("/api/v1/sla-policies", &body).await;
        r.assert_error(422, "invalid_input");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    let r = admin
        .send(
            admin
                .request(reqwest::Method::POST, "/api/v1/sla-policies")
                .json(&json!([])),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = admin.get("/api/v1/sla-policies").await;
    assert_eq!(r.body["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn a_new_ticket_runs_its_reply_and_resolution_clocks_until_an_agent_answers() {
    let t0 = now_secs() - SignedDuration::from_hours(1);
    let clock = Arc::new(ManualClock::new(t0));
    let app = spawn_app_with_clock(clock.clone()).await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let agent = app.api(&app.agent(Role::Agent).await);
    let readonly = app.api(&app.agent(Role::ReadOnly).await);
    let p = create_policy(
        &admin,
        &json!({"name": "Standard", "warn_at": [90], "targets": [
            target("first_reply", "normal", 120),
            target("next_reply", "normal", 60),
            target("resolution", "normal", 480),
        ]}),
    )
    .await;
    let customer = app.customer("Li Wei", "li.wei@example.com", None).await;
    let t = new_ticket(&agent, json!({"requester_id": customer.id.0})).await;

    let sla = sla_of(&readonly, t).await;
    assert_eq!(
        sla["policy"],
        json!({"id": p["id"], "version": 1, "name": "Standard"})
    );
    assert_eq!(metrics(&sla), ["first_reply", "resolution"]);
    let first = clock_for(&sla, "first_reply");
    assert_eq!(first["state"], "active");
    assert_eq!(first["target_minutes"], 120);
    assert_eq!(first["business"], false);
    assert_eq!(at(&first["started_at"]), t0);
    assert_eq!(at(&first["due_at"]), t0 + 120 * MINUTE);
    assert_eq!(first["breached_at"], Value::Null);
    assert_eq!(first["fulfilled_at"], Value::Null);
    assert_eq!(first["warnings_fired"], 0);
    // Measured against the wall clock, an hour after the store's t0.
    let elapsed = first["elapsed_seconds"].as_i64().unwrap();
    assert!((3600..3660).contains(&elapsed), "{elapsed}");
    let remaining = first["remaining_seconds"].as_i64().unwrap();
    assert!((3540..=3600).contains(&remaining), "{remaining}");
    assert_eq!(
        at(&clock_for(&sla, "resolution")["due_at"]),
        t0 + 480 * MINUTE
    );

    // Ten minutes later an agent answers publicly: the first reply is achieved.
    clock.set(t0 + 10 * MINUTE);
    let r = agent
        .post(
            &format!("/api/v1/tickets/{t}/messages"),
            &json!({"body": "We are on it."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let sla = sla_of(&agent, t).await;
    let first = clock_for(&sla, "first_reply");
    assert_eq!(first["state"], "achieved", "{sla}");
    assert_eq!(at(&first["fulfilled_at"]), t0 + 10 * MINUTE);
    assert_eq!(first["due_at"], Value::Null);
    assert_eq!(first["remaining_seconds"], Value::Null);
    assert_eq!(first["elapsed_seconds"], 600);
    assert_eq!(clock_for(&sla, "resolution")["state"], "active");

    // SLA is internal: not for the requester, whose ticket it is.
    let portal = app.client_for_customer(&customer).await;
    portal
        .get(&format!("/api/v1/tickets/{t}/sla"))
        .await
        .assert_error(403, "forbidden");
    portal
        .get("/api/v1/tickets?sla=at_risk")
        .await
        .assert_error(403, "forbidden");
    agent
        .get("/api/v1/tickets/999999/sla")
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn business_targets_fall_due_in_working_hours() {
    // Friday 2026-01-09 17:30 UTC: half an hour before the weekend.
    let t0: Timestamp = "2026-01-09T17:30:00Z".parse().unwrap();
    let app = spawn_app_with_clock(Arc::new(ManualClock::new(t0))).await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let cal = office_calendar(&admin).await;
    create_policy(
        &admin,
        &json!({"name": "Urgent", "calendar_id": cal, "conditions": {"priorities": ["urgent"]},
            "targets": [{"metric": "first_reply", "priority": "urgent", "minutes": 60, "business": true},
                        target("resolution", "urgent", 60)]}),
    )
    .await;
    let t = new_ticket(&admin, json!({"priority": "urgent"})).await;
    let sla = sla_of(&admin, t).await;
    let first = clock_for(&sla, "first_reply");
    assert_eq!(first["business"], true);
    // 30 minutes on Friday, 30 on Monday morning.
    assert_eq!(
        at(&first["due_at"]),
        "2026-01-12T09:30:00Z".parse().unwrap()
    );
    // Around the clock for the calendar-time target.
    assert_eq!(
        at(&clock_for(&sla, "resolution")["due_at"]),
        t0 + 60 * MINUTE
    );
    // A normal ticket matches no policy.
    let other = new_ticket(&admin, json!({})).await;
    assert_eq!(
        sla_of(&admin, other).await,
        json!({"policy": null, "clocks": []})
    );
}

#[tokio::test]
async fn tickets_at_risk_and_breached_are_listed_and_supervisors_see_what_comes_next() {
    let t0 = now_secs() - SignedDuration::from_hours(3);
    let clock = Arc::new(ManualClock::new(t0));
    let app = spawn_app_with_clock(clock.clone()).await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let supervisor = app.api(&app.agent(Role::Supervisor).await);
    let agent = app.api(&app.agent(Role::Agent).await);
    let team = app.store.create_team("Billing", "").await.unwrap().id.0;
    create_policy(
        &admin,
        &json!({"name": "Replies", "targets": [
            target("first_reply", "normal", 60),
            target("first_reply", "low", 1440),
        ]}),
    )
    .await;

    // Due two hours ago.
    let late = new_ticket(&agent, json!({})).await;
    // Due in half an hour, and in 23.5 hours.
    clock.set(t0 + 150 * MINUTE);
    let soon = new_ticket(&agent, json!({"team_id": team})).await;
    let later = new_ticket(&agent, json!({"priority": "low"})).await;
    // Now: the timer breaches the late one (firing twice changes nothing).
    clock.set(t0 + 180 * MINUTE);
    app.store.fire_sla_timers(TicketId(late)).await.unwrap();
    app.store.fire_sla_timers(TicketId(late)).await.unwrap();

    let sla = sla_of(&agent, late).await;
    let first = clock_for(&sla, "first_reply");
    assert_eq!(first["state"], "breached", "{sla}");
    assert_eq!(at(&first["breached_at"]), t0 + 60 * MINUTE);
    assert_eq!(at(&first["due_at"]), t0 + 60 * MINUTE);
    let remaining = first["remaining_seconds"].as_i64().unwrap();
    assert!((-7260..=-7200).contains(&remaining), "{remaining}");

    let r = agent.get("/api/v1/tickets?sla=breached").await;
    assert_eq!(ids(&r), [late], "{}", r.text);
    let r = agent.get("/api/v1/tickets?sla=at_risk").await;
    assert_eq!(ids(&r), [soon], "{}", r.text);
    let r = agent
        .get("/api/v1/tickets?sla=at_risk&sla_within_minutes=1440")
        .await;
    assert_eq!(ids(&r), [soon, later], "{}", r.text);
    let r = agent
        .get(&format!(
            "/api/v1/tickets?sla=at_risk&sla_within_minutes=1440&team={team}"
        ))
        .await;
    assert_eq!(ids(&r), [soon], "{}", r.text);
    for bad in [
        "sla=soon",
        "sla=",
        "sla=at_risk&sla_within_minutes=-5",
        "sla=at_risk&sla_within_minutes=600000",
        "sla=at_risk&sla_within_minutes=ten",
    ] {
        agent
            .get(&format!("/api/v1/tickets?{bad}"))
            .await
            .assert_error(422, "invalid_input");
    }

    // Upcoming breaches: within four hours by default, soonest first.
    let r = supervisor.get("/api/v1/sla/upcoming").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    let item = &items[0];
    assert_eq!(item["ticket_id"], soon);
    assert_eq!(item["subject"], "打印机无法连接");
    assert_eq!(item["priority"], "normal");
    assert_eq!(item["team_id"], team);
    assert_eq!(item["tier"], 1);
    assert_eq!(item["assignee_id"], Value::Null);
    assert_eq!(item["metric"], "first_reply");
    assert!(item["number"].as_i64().unwrap() > 0);
    assert_eq!(at(&item["due_at"]), t0 + 210 * MINUTE);
    let remaining = item["remaining_seconds"].as_i64().unwrap();
    assert!((1740..=1800).contains(&remaining), "{remaining}");

    let r = supervisor
        .get("/api/v1/sla/upcoming?within_minutes=2880")
        .await;
    let order: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ticket_id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [soon, later], "{}", r.text);
    let r = supervisor
        .get("/api/v1/sla/upcoming?within_minutes=2880&limit=1")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = admin
        .get(&format!(
            "/api/v1/sla/upcoming?within_minutes=2880&team={team}"
        ))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.body["items"][0]["ticket_id"], soon);
    let r = admin
        .get("/api/v1/sla/upcoming?within_minutes=2880&tier=2")
        .await;
    assert_eq!(r.body["items"], json!([]), "{}", r.text);
    for bad in [
        "within_minutes=-1",
        "tier=9",
        "limit=0",
        "limit=1001",
        "team=x",
    ] {
        supervisor
            .get(&format!("/api/v1/sla/upcoming?{bad}"))
            .await
            .assert_error(422, "invalid_input");
    }
    agent
        .get("/api/v1/sla/upcoming")
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test]
async fn supervisors_reapply_the_current_version_and_agents_may_not() {
    let app = spawn_app().await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let supervisor = app.api(&app.agent(Role::Supervisor).await);
    let agent = app.api(&app.agent(Role::Agent).await);
    let readonly = app.api(&app.agent(Role::ReadOnly).await);
    let mut policy = json!({"name": "Standard", "targets": [target("first_reply", "normal", 60)]});
    let p = create_policy(&admin, &policy).await;
    let id = p["id"].as_i64().unwrap();
    let t = new_ticket(&agent, json!({})).await;

    policy["targets"][0]["minutes"] = json!(30);
    let r = admin
        .put(&format!("/api/v1/sla-policies/{id}"), &policy)
        .await;
    assert_eq!(r.body["version"], 2, "{}", r.text);
    // The ticket keeps the version it started with.
    let before = sla_of(&agent, t).await;
    assert_eq!(before["policy"]["version"], 1);
    assert_eq!(clock_for(&before, "first_reply")["target_minutes"], 60);

    let path = format!("/api/v1/tickets/{t}/sla/reapply");
    for api in [&agent, &readonly] {
        api.post(&path, &json!({}))
            .await
            .assert_error(403, "forbidden");
    }
    let customer = app.customer("Zhang Min", "zhang@example.com", None).await;
    app.client_for_customer(&customer)
        .await
        .post(&path, &json!({}))
        .await
        .assert_error(403, "forbidden");

    let r = supervisor.post(&path, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["policy"],
        json!({"id": id, "version": 2, "name": "Standard"})
    );
    let first = clock_for(&r.body, "first_reply");
    assert_eq!(first["target_minutes"], 30);
    assert_eq!(first["state"], "active");
    let due = at(&first["due_at"]);
    let started = at(&first["started_at"]);
    assert!(
        due.duration_since(started + 30 * MINUTE).abs() < SignedDuration::from_secs(1),
        "due {due}, started {started}"
    );
    // The same body as reading it.
    let mut again = sla_of(&agent, t).await;
    for c in again["clocks"].as_array_mut().unwrap() {
        c["elapsed_seconds"] = Value::Null;
        c["remaining_seconds"] = Value::Null;
    }
    let mut body = r.body.clone();
    for c in body["clocks"].as_array_mut().unwrap() {
        c["elapsed_seconds"] = Value::Null;
        c["remaining_seconds"] = Value::Null;
    }
    assert_eq!(again, body);

    supervisor
        .post("/api/v1/tickets/999999/sla/reapply", &json!({}))
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn an_admin_moves_every_open_ticket_to_the_new_version_in_the_background() {
    let app = spawn_app().await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let supervisor = app.api(&app.agent(Role::Supervisor).await);
    let agent = app.api(&app.agent(Role::Agent).await);
    let mut policy = json!({"name": "Standard", "targets": [target("first_reply", "normal", 60)]});
    let p = create_policy(&admin, &policy).await;
    let id = p["id"].as_i64().unwrap();
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(new_ticket(&agent, json!({})).await);
    }
    let solved = new_ticket(&agent, json!({})).await;
    let r = agent
        .patch(
            &format!("/api/v1/tickets/{solved}"),
            &json!({"status": "solved"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    policy["targets"][0]["minutes"] = json!(30);
    let r = admin
        .put(&format!("/api/v1/sla-policies/{id}"), &policy)
        .await;
    assert_eq!(r.body["version"], 2, "{}", r.text);

    let path = format!("/api/v1/sla-policies/{id}/reapply");
    for api in [&supervisor, &agent] {
        api.post(&path, &json!({}))
            .await
            .assert_error(403, "forbidden");
    }
    let r = admin.post(&path, &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"policy_id": id, "version": 2, "tickets_behind": 3})
    );
    // Any node runs the job (the server's own loop too): run it here and wait for it.
    kefu_server::sla_timers::run_reapply_jobs(app.store.as_ref())
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    for t in &open {
        loop {
            let sla = sla_of(&agent, *t).await;
            if sla["policy"]["version"] == 2 {
                assert_eq!(clock_for(&sla, "first_reply")["target_minutes"], 30);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "ticket {t}: {sla}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    // A solved ticket keeps the promise it was solved under.
    assert_eq!(sla_of(&agent, solved).await["policy"]["version"], 1);
    // Nothing is behind any more: asking again queues nothing.
    let r = admin.post(&path, &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["tickets_behind"], 0);
    admin
        .post("/api/v1/sla-policies/999999/reapply", &json!({}))
        .await
        .assert_error(404, "not_found");
}
