//! The notifications page end to end over real TCP: the navigation's badge counts the
//! signed-in agent's unread notifications, the page lists them newest first (unread ones
//! highlighted, linked to their ticket), and the CSRF-checked forms mark one or all read.
//! Notifications are written through the store, as the SLA engine does. Runs on SQLite or
//! PostgreSQL (`KEFU_TEST_DB`).

mod common;
mod web_support;

use common::{PASSWORD, TestApp, spawn_app};
use kefu_domain::*;
use kefu_store::NewNotification;
use web_support::{Browser, Page, between};

async fn signed_in(app: &TestApp, agent: &common::TestAgent) -> Browser {
    let web = Browser::new(app);
    web.login(&agent.agent.email, PASSWORD).await;
    web
}

async fn notify(app: &TestApp, agent: AgentId, ticket: Option<i64>, title: &str, body: &str) {
    let n = NewNotification {
        agent_id: agent,
        ticket_id: ticket.map(TicketId),
        kind: "sla_breach".into(),
        title: title.into(),
        body: body.into(),
        dedupe_key: None,
    };
    assert_eq!(app.store.create_notifications(&[n]).await.unwrap(), 1);
}

/// The badge text in the navigation, if there is one.
fn badge(page: &Page) -> Option<String> {
    let link = between(&page.text, "class=\"nav-notifications", "</a>")?;
    between(link, "class=\"nav-badge\">", "<").map(str::to_string)
}

/// The `data-notification-id`s on the page whose `<li>` has `class`, in page order.
fn ids_with(page: &Page, class: &str) -> Vec<i64> {
    page.text
        .split(&format!("<li class=\"{class}\" data-notification-id=\""))
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

#[track_caller]
fn assert_has(page: &Page, text: &str) {
    assert!(page.text.contains(text), "{text:?} not in: {}", page.text);
}

#[tokio::test]
async fn an_agent_sees_the_badge_reads_the_list_and_marks_notifications_read() {
    let app = spawn_app().await;
    let li = app.agent(Role::Agent).await;
    let wang = app.agent(Role::Agent).await;
    let ticket = app.ticket(&li, "zhou@example.com").await;
    let (tid, number) = (
        ticket["id"].as_i64().unwrap(),
        ticket["number"].as_i64().unwrap(),
    );
    let web = signed_in(&app, &li).await;

    let inbox = web.get("/agent").await;
    assert_has(&inbox, "href=\"/agent/notifications\"");
    assert_eq!(badge(&inbox), None, "no badge without unread notifications");
    let empty = web.get("/agent/notifications").await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_has(&empty, "class=\"empty\"");
    assert!(!empty.text.contains("id=\"mark-all-read-form\""));

    notify(
        &app,
        li.id(),
        Some(tid),
        "首次响应即将超时",
        "Due in 15 minutes.\nPlease reply.",
    )
    .await;
    notify(&app, li.id(), None, "Queue is growing", "").await;
    notify(&app, wang.id(), Some(tid), "Not for Li", "").await;

    let inbox = web.get("/agent").await;
    assert_eq!(badge(&inbox).as_deref(), Some("2"));
    let page = web.get("/agent/notifications").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_has(&page, "class=\"nav-notifications active\"");
    let unread = ids_with(&page, "notification unread");
    assert_eq!(unread.len(), 2);
    assert!(unread[0] > unread[1], "newest first");
    let queue = page.text.find("Queue is growing").unwrap();
    let sla = page.text.find("首次响应即将超时").unwrap();
    assert!(queue < sla, "newest first");
    assert_has(
        &page,
        &format!("<a href=\"/agent/tickets/{tid}\">首次响应即将超时</a>"),
    );
    assert_has(&page, &format!("#{number}"));
    assert_has(&page, "Due in 15 minutes.\nPlease reply.");
    assert_has(&page, "just now");
    assert_has(&page, "data-kind=\"sla_breach\"");
    assert_has(&page, "id=\"unread-total\" class=\"view-count\">2<");
    assert!(!page.text.contains("Not for Li"), "only one's own");

    // A forged or missing token changes nothing.
    for fields in [vec![("csrf", "forged")], vec![]] {
        let r = web.post_form("/agent/notifications/read", &fields).await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
    assert_eq!(
        app.store.count_unread_notifications(li.id()).await.unwrap(),
        2
    );

    // One, from the unread filter: back to the unread filter.
    let csrf = page.csrf();
    let one = unread[1].to_string();
    let r = web
        .post_form(
            "/agent/notifications/read",
            &[("csrf", &csrf), ("id", &one), ("unread", "1")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), "/agent/notifications?unread=1");
    let only_unread = web.get("/agent/notifications?unread=1").await;
    assert_eq!(ids_with(&only_unread, "notification unread"), [unread[0]]);
    assert!(!only_unread.text.contains("首次响应即将超时"));
    assert_eq!(badge(&only_unread).as_deref(), Some("1"));
    let all = web.get("/agent/notifications").await;
    assert_eq!(
        ids_with(&all, "notification"),
        [unread[1]],
        "read, still listed"
    );

    // Someone else's id is no one's business here.
    let theirs = app
        .store
        .list_notifications(wang.id(), false, None, 1)
        .await
        .unwrap()
        .items[0]
        .id
        .0
        .to_string();
    let r = web
        .post_form(
            "/agent/notifications/read",
            &[("csrf", &csrf), ("id", &theirs)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        app.store
            .count_unread_notifications(wang.id())
            .await
            .unwrap(),
        1
    );
    let r = web
        .post_form("/agent/notifications/read", &[("csrf", &csrf), ("id", "x")])
        .await;
    assert_eq!(r.status, 422);

    // All the rest.
    let r = web
        .post_form("/agent/notifications/read", &[("csrf", &csrf)])
        .await;
    assert_eq!(
        (r.status, r.location().as_str()),
        (303, "/agent/notifications")
    );
    let done = web.get("/agent/notifications").await;
    assert_eq!(badge(&done), None);
    assert!(ids_with(&done, "notification unread").is_empty());
    assert_eq!(ids_with(&done, "notification").len(), 2);
    assert!(!done.text.contains("id=\"mark-all-read-form\""));
    assert!(!done.text.contains("class=\"mark-read-form\""));
}

#[tokio::test]
async fn the_page_speaks_chinese_pages_in_fifties_and_is_for_agents_only() {
    let app = spawn_app().await;
    let reader = app.agent(Role::ReadOnly).await;
    for i in 0..51 {
        notify(&app, reader.id(), None, &format!("n{i}"), "").await;
    }
    let web = signed_in(&app, &reader).await;

    let zh = web.get("/agent/notifications?lang=zh-CN").await;
    assert_eq!(zh.status, 200, "{}", zh.text);
    assert_has(&zh, "<h1>通知</h1>");
    assert_has(&zh, "全部标为已读");
    assert_has(&zh, "条未读");
    assert_eq!(badge(&zh).as_deref(), Some("51"));
    let tw = web.get("/agent/notifications?lang=zh-TW").await;
    assert_has(&tw, "全部標為已讀");
    let en = web.get("/agent/notifications?lang=en").await;
    assert_has(&en, "Mark all read");
    assert_eq!(ids_with(&en, "notification unread").len(), 50);
    let next = between(
        &en.text,
        "id=\"next-page\" class=\"btn ghost\" href=\"",
        "\"",
    )
    .unwrap()
    .replace("&amp;", "&");
    let rest = web.get(&next).await;
    assert_eq!(ids_with(&rest, "notification unread").len(), 1);
    assert_has(&rest, "n0");
    assert_has(&rest, "id=\"first-page\"");

    // Read-only agents mark their own inbox too.
    let r = web
        .post_form("/agent/notifications/read", &[("csrf", &en.csrf())])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        app.store
            .count_unread_notifications(reader.id())
            .await
            .unwrap(),
        0
    );

    let anonymous = Browser::new(&app);
    let r = anonymous.get("/agent/notifications").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"), "{}", r.location());

    app.customer("Zhou", "zhou@example.com", None).await;
    let portal = Browser::new(&app);
    portal.login("zhou@example.com", PASSWORD).await;
    let r = portal.get("/agent/notifications").await;
    assert_eq!((r.status, r.location().as_str()), (303, "/portal"));
    let home = portal.get("/portal").await;
    assert!(
        !home.text.contains("nav-notifications"),
        "customers have no notifications link"
    );
}
