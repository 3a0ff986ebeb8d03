//! SLA in the web UI end to end over real TCP: an admin writes policies in the editor
//! (CSRF, targets grid, ladders; mistakes come back as the form with a message), tickets
//! show their clocks and countdowns, the inbox has an SLA column and the "at risk" and
//! "breached" views, supervisors watch upcoming breaches and re-apply policies; agents may
//! do neither. Runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;
mod web_support;

use common::{PASSWORD, TestAgent, TestApp, spawn_app};
use kefu_domain::sla::{SlaPolicyDef, SlaTarget};
use kefu_domain::*;
use kefu_store::NewSlaPolicy;
use serde_json::json;
use web_support::{Browser, Page};

async fn signed_in(app: &TestApp, role: Role) -> (TestAgent, Browser) {
    let agent = app.agent(role).await;
    let web = Browser::new(app);
    web.login(&agent.agent.email, PASSWORD).await;
    (agent, web)
}

#[track_caller]
fn assert_has(page: &Page, text: &str) {
    assert!(page.text.contains(text), "{text:?} not in: {}", page.text);
}

#[track_caller]
fn assert_lacks(page: &Page, text: &str) {
    assert!(!page.text.contains(text), "{text:?} in: {}", page.text);
}

/// A policy with first-reply targets (in calendar time): normal 30 min, low 10 h.
async fn first_reply_policy(app: &TestApp, name: &str) -> kefu_store::SlaPolicyRecord {
    let target = |priority, minutes| SlaTarget {
        metric: Metric::FirstReply,
        priority,
        minutes,
        business: false,
    };
    app.store
        .create_sla_policy(&NewSlaPolicy {
            name: name.into(),
            position: None,
            active: true,
            def: SlaPolicyDef {
                targets: vec![target(Priority::Normal, 30), target(Priority::Low, 600)],
                warn_at: vec![75],
                ..Default::default()
            },
        })
        .await
        .expect("policy created")
}

/// A ticket whose first message is the customer's (so its first reply is awaited).
async fn customer_ticket(app: &TestApp, agent: &TestAgent, email: &str) -> i64 {
    app.ticket(agent, email).await["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_admin_writes_a_policy_in_the_editor_and_saving_shows_the_new_version() {
    let app = spawn_app().await;
    let (admin, web) = signed_in(&app, Role::Admin).await;

    assert_has(&web.get("/admin/agents").await, "href=\"/admin/sla\"");
    let list = web.get("/admin/sla").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_has(&list, "id=\"sla-new\"");
    let form = web.get("/admin/sla/new").await;
    assert_eq!(form.status, 200, "{}", form.text);
    for id in [
        "sla-name",
        "sla-calendar",
        "cond-priority-urgent",
        "cond-segment-vip",
        "cond-team",
        "t-first_reply-urgent",
        "tb-resolution",
        "pause-agent_work-hold",
        "sla-warn-at",
        "l-vip-4-max",
        "l-default-1-breach-raise-tier",
        "l-complaint-2-warn-team",
    ] {
        assert_has(&form, &format!("id=\"{id}\""));
    }
    // Pauses start at the defaults: agent work pauses in pending and on hold.
    assert_has(
        &form,
        "id=\"pause-agent_work-hold\" name=\"pause_agent_work\" type=\"checkbox\" value=\"hold\" aria-label=\"Agent work time: pause while On hold\" checked",
    );
    let csrf = form.csrf();

    // Business hours without a calendar: the form comes back as typed, with the reason.
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("name", "Standard support"),
        ("position", ""),
        ("active", "1"),
        ("calendar", ""),
        ("cond_priority", "normal"),
        ("t_first_reply_normal", "45"),
        ("t_resolution_normal", "1440"),
        ("tb_resolution", "1"),
        ("pauses_form", "1"),
        ("pause_requester_wait", "pending"),
        ("pause_agent_work", "pending"),
        ("pause_agent_work", "hold"),
        ("pause_pausable_update", "pending"),
        ("pause_pausable_update", "hold"),
        ("pause_tier_time", "pending"),
        ("warn_at", "75, 90"),
        ("l_default_1_max", "240"),
        ("l_default_1_breach", "raise_tier"),
        ("l_default_1_breach", "notify_team_supervisors"),
    ];
    let refused = web.post_form("/admin/sla/new", &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_has(
        &refused,
        "Targets counted in business hours need a business calendar",
    );
    assert_has(&refused, "value=\"Standard support\"");
    assert_has(&refused, "name=\"t_first_reply_normal\" value=\"45\"");
    assert_has(
        &refused,
        "id=\"tb-resolution\" name=\"tb_resolution\" type=\"checkbox\" value=\"1\" aria-label=\"Resolution: count business hours only\" checked",
    );
    assert!(app.store.list_sla_policies().await.unwrap().is_empty());

    // With a calendar it is stored, and the page says which version it is at.
    let weekly: Vec<_> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"day": d, "start": "00:00", "end": "24:00"}))
        .collect();
    let calendar = app
        .api(&admin)
        .post(
            "/api/v1/calendars",
            &json!({"name": "Always", "time_zone": "UTC", "weekly": weekly}),
        )
        .await;
    assert_eq!(calendar.status, 201, "{}", calendar.text);
    let calendar_id = calendar.body["id"].as_i64().unwrap().to_string();
    fields.retain(|(k, _)| *k != "calendar");
    fields.push(("calendar", &calendar_id));
    let created = web.post_form("/admin/sla/new", &fields).await;
    assert_eq!(created.status, 303, "{}", created.text);
    let location = created.location();
    assert!(location.ends_with("?saved=1"), "{location}");
    let saved = web.get(&location).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_has(&saved, "id=\"sla-saved\"");
    assert_has(&saved, "version 1");
    let stored = &app.store.list_sla_policies().await.unwrap()[0];
    assert_eq!(stored.name, "Standard support");
    assert_eq!(
        stored.def.calendar_id.map(|c| c.0.to_string()),
        Some(calendar_id.clone())
    );
    assert_eq!(stored.def.targets.len(), 2);
    assert_eq!(stored.def.warn_at, [75, 90]);
    assert!(
        stored.def.pauses.is_empty(),
        "the default pauses are not stored"
    );
    assert_eq!(stored.def.ladders[0].steps[0].max_minutes, Some(240));

    // Editing: the stored values are on the form; a changed target is version 2.
    let path = location.trim_end_matches("?saved=1").to_string();
    let edit = web.get(&path).await;
    assert_has(&edit, "name=\"t_first_reply_normal\" value=\"45\"");
    assert_has(
        &edit,
        "id=\"l-default-1-breach-raise-tier\" name=\"l_default_1_breach\" type=\"checkbox\" value=\"raise_tier\" checked",
    );
    let csrf = edit.csrf();
    let mut changed: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| !matches!(*k, "csrf" | "t_first_reply_normal"))
        .copied()
        .collect();
    changed.extend([("csrf", csrf.as_str()), ("t_first_reply_normal", "30")]);
    let updated = web.post_form(&path, &changed).await;
    assert_eq!(updated.status, 303, "{}", updated.text);
    let page = web.get(&updated.location()).await;
    assert_has(&page, "Saved. The policy is at version 2.");
    assert_lacks(&page, "id=\"sla-reapply\"");

    // A ticket under version 2, then version 3: the page offers to move it.
    let ticket = app
        .api(&admin)
        .post(
            "/api/v1/tickets",
            &json!({"subject": "打印机卡纸", "priority": "normal", "requester": {"email": "li@example.com", "name": "Li"}, "body": "卡纸了"}),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    let t = ticket.body["id"].as_i64().unwrap();
    let csrf = page.csrf();
    let mut third: Vec<(&str, &str)> = changed
        .iter()
        .filter(|(k, _)| !matches!(*k, "csrf" | "t_first_reply_normal"))
        .copied()
        .collect();
    third.extend([("csrf", csrf.as_str()), ("t_first_reply_normal", "20")]);
    let updated = web.post_form(&path, &third).await;
    assert_eq!(updated.status, 303, "{}", updated.text);
    let page = web.get(&path).await;
    assert_has(
        &page,
        "Open tickets still under an older version of this policy: 1.",
    );
    let csrf = page.csrf();
    let queued = web
        .post_form(&format!("{path}/reapply"), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(queued.status, 303, "{}", queued.text);
    let page = web.get(&queued.location()).await;
    assert_has(
        &page,
        "Re-applying version 3 in the background (open tickets: 1).",
    );
    kefu_server::sla_timers::run_reapply_jobs(app.store.as_ref())
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app
        .store
        .ticket_sla(kefu_domain::TicketId(t))
        .await
        .unwrap()
        .unwrap()
        .policy
        .map(|(_, v)| v)
        != Some(3)
    {
        assert!(std::time::Instant::now() < deadline, "not re-applied");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Without the form's token nothing is queued.
    let refused = web.post_form(&format!("{path}/reapply"), &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let list = web.get("/admin/sla").await;
    assert_has(&list, "class=\"sla-row\"");
    assert_has(&list, "Standard support");

    // A supervisor may not.
    let (_, supervisor) = signed_in(&app, Role::Supervisor).await;
    assert_eq!(supervisor.get("/admin/sla").await.status, 403);
    assert_eq!(supervisor.get("/admin/sla/new").await.status, 403);
    let csrf = supervisor.get("/agent").await.csrf();
    let refused = supervisor
        .post_form(&format!("{path}/reapply"), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
}

#[tokio::test]
async fn a_ticket_page_shows_the_first_reply_countdown_and_the_policy() {
    let app = spawn_app().await;
    first_reply_policy(&app, "Standard support").await;
    let (agent, web) = signed_in(&app, Role::Agent).await;
    let id = customer_ticket(&app, &agent, "li.wei@example.com").await;

    let page = web.get(&format!("/agent/tickets/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_has(&page, "id=\"sla-panel\"");
    assert_has(&page, "Standard support · version 1");
    assert_has(&page, "data-metric=\"first_reply\" data-state=\"active\"");
    assert_has(
        &page,
        "class=\"pill small sla-state-active\">Running</span>",
    );
    // 30 minutes from creation, rendered as a countdown the browser refreshes.
    assert!(
        page.text.contains(">due in 29 min<") || page.text.contains(">due in 30 min<"),
        "{}",
        page.text
    );
    assert_has(&page, "class=\"sla-countdown sla-amber\" data-due=\"");
    assert_has(&page, "Target 30 min");
    assert_has(&page, "id=\"sla-words\"");
    assert_lacks(&page, "id=\"sla-reapply-form\"");

    // In Chinese.
    let zh = web.get(&format!("/agent/tickets/{id}?lang=zh-CN")).await;
    assert_has(&zh, "首次回复");
    assert_has(&zh, "计时中");
    assert!(zh.text.contains(">剩余 29 分钟<") || zh.text.contains(">剩余 30 分钟<"));

    // A public reply (the language chosen above sticks until changed back) fulfils it: achieved, with how long it took.
    let csrf = page.csrf();
    let r = web
        .post_form(
            &format!("/agent/tickets/{id}/reply"),
            &[
                ("csrf", &csrf),
                ("body", "We are on it."),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = web.get(&format!("/agent/tickets/{id}?lang=en")).await;
    assert_has(&page, "data-metric=\"first_reply\" data-state=\"achieved\"");
    assert_has(&page, ">took less than 1 min<");
    assert_has(
        &page,
        "class=\"pill small sla-state-achieved\">Achieved</span>",
    );
}

#[tokio::test]
async fn the_inbox_has_an_sla_column_and_the_at_risk_view_lists_tickets_due_soon() {
    let app = spawn_app().await;
    first_reply_policy(&app, "Standard support").await;
    let (agent, web) = signed_in(&app, Role::Agent).await;
    let soon = customer_ticket(&app, &agent, "soon@example.com").await;
    let later = customer_ticket(&app, &agent, "later@example.com").await;
    // Low priority: 10 hours, not at risk.
    app.store
        .update_ticket(
            TicketId(later),
            &TicketPatch {
                priority: Some(Priority::Low),
                ..Default::default()
            },
            Actor::Agent(agent.id()),
        )
        .await
        .unwrap()
        .unwrap();

    let inbox = web.get("/agent?view=open").await;
    assert_eq!(inbox.status, 200, "{}", inbox.text);
    assert_has(&inbox, "<th scope=\"col\" class=\"col-sla\">SLA</th>");
    assert_has(&inbox, "class=\"sla-badge sla-amber\" data-due=\"");
    assert_has(&inbox, "class=\"sla-badge sla-neutral\" data-due=\"");
    assert_has(&inbox, ">due in 9 h 59 min<");
    assert_has(
        &inbox,
        "<span class=\"sla-badge-metric\">First reply</span>",
    );

    let at_risk = web.get("/agent?view=at_risk").await;
    assert_eq!(at_risk.status, 200, "{}", at_risk.text);
    assert_has(&at_risk, "data-view=\"at_risk\"");
    assert_has(&at_risk, &format!("data-ticket-id=\"{soon}\""));
    assert_lacks(&at_risk, &format!("data-ticket-id=\"{later}\""));
    assert_has(
        &at_risk,
        "data-view=\"at_risk\" href=\"/agent?view=at_risk\" aria-current=\"page\"><span class=\"view-name\">At risk (SLA)</span><span class=\"view-count\">1</span>",
    );
    let breached = web.get("/agent?view=breached").await;
    assert_eq!(breached.status, 200);
    assert_has(&breached, "No tickets in this view.");
    assert_has(
        &breached,
        "<span class=\"view-name\">SLA breached</span><span class=\"view-count\">0</span>",
    );
}

#[tokio::test]
async fn the_supervisor_page_lists_upcoming_breaches_by_team_and_tier_and_is_closed_to_agents() {
    let app = spawn_app().await;
    first_reply_policy(&app, "Standard support").await;
    let (agent, agent_web) = signed_in(&app, Role::Agent).await;
    let team = app.store.create_team("Billing", "").await.unwrap();
    let id = customer_ticket(&app, &agent, "li.wei@example.com").await;
    app.store
        .update_ticket(
            TicketId(id),
            &TicketPatch {
                team_id: Some(Some(team.id)),
                tier: Some(Tier::new(2).unwrap()),
                assignee_id: Some(Some(agent.id())),
                ..Default::default()
            },
            Actor::Agent(agent.id()),
        )
        .await
        .unwrap()
        .unwrap();

    assert_eq!(agent_web.get("/agent/sla").await.status, 403);
    assert_lacks(&agent_web.get("/agent").await, "class=\"nav-sla");

    let (_, web) = signed_in(&app, Role::Supervisor).await;
    let inbox = web.get("/agent").await;
    assert_has(&inbox, "href=\"/agent/sla\" class=\"nav-sla\"");
    let page = web.get("/agent/sla").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_has(&page, "<option value=\"4\" selected>Next 4 hours</option>");
    assert_has(&page, "id=\"sla-matrix\"");
    assert_has(&page, "<th scope=\"row\">Billing</th>");
    assert_has(
        &page,
        "class=\"sla-cell heat-4\" data-tier=\"2\" data-count=\"1\"",
    );
    assert_has(
        &page,
        &format!("class=\"breach-row\" data-ticket-id=\"{id}\""),
    );
    assert_has(&page, &format!("<h4 id=\"g-{}-2\"", team.id));
    assert_has(&page, "<td>First reply</td>");
    assert_has(&page, &format!("<td>{}</td>", agent.agent.name));
    assert_has(&page, "class=\"sla-badge sla-amber\" data-due=\"");

    // Nothing is due within the next hour of a 30-minute target? It is: still listed.
    let hour = web.get("/agent/sla?hours=1").await;
    assert_has(&hour, &format!("data-ticket-id=\"{id}\""));
    // Once answered, nothing is due.
    app.store
        .add_message(
            TicketId(id),
            &kefu_store::NewMessage {
                author: Actor::Agent(agent.id()),
                public: true,
                body_text: "On it.".into(),
                body_html: None,
                attachments: vec![],
                status_after: None,
                idempotency: None,
                mail: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let empty = web.get("/agent/sla?hours=24&lang=zh-TW").await;
    assert_has(&empty, "此時間範圍內沒有即將逾時的工單。");
    assert_lacks(&empty, "class=\"breach-row\"");
}

#[tokio::test]
async fn only_supervisors_and_admins_re_apply_a_policy() {
    let app = spawn_app().await;
    let policy = first_reply_policy(&app, "Standard support").await;
    let (agent, agent_web) = signed_in(&app, Role::Agent).await;
    let id = customer_ticket(&app, &agent, "li.wei@example.com").await;
    let path = format!("/agent/tickets/{id}/sla/reapply");

    let csrf = agent_web.get(&format!("/agent/tickets/{id}")).await.csrf();
    let refused = agent_web.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 403, "{}", refused.text);

    // A new version of the policy: the ticket keeps version 1 until re-applied.
    let mut new = NewSlaPolicy {
        name: policy.name.clone(),
        position: None,
        active: true,
        def: policy.def.clone(),
    };
    new.def.targets[0].minutes = 120;
    app.store
        .update_sla_policy(policy.id, &new)
        .await
        .unwrap()
        .unwrap();

    let (_, web) = signed_in(&app, Role::Supervisor).await;
    let page = web.get(&format!("/agent/tickets/{id}")).await;
    assert_has(&page, "Standard support · version 1");
    assert_has(&page, "now at version 2");
    assert_has(&page, "id=\"sla-reapply-form\"");
    let csrf = page.csrf();
    assert_eq!(web.post_form(&path, &[("csrf", "wrong")]).await.status, 403);
    let done = web.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(done.location(), format!("/agent/tickets/{id}#sla-panel"));
    let page = web.get(&format!("/agent/tickets/{id}")).await;
    assert_has(&page, "Standard support · version 2");
    assert_has(&page, "Target 2 h");
    assert_lacks(&page, "now at version");
}
