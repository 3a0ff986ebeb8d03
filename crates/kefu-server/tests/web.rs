//! The web UI end to end over real TCP: a cookie-keeping client signs in through the
//! login form, reads pages and submits forms exactly as a browser without JavaScript
//! would. Runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;
mod web_support;

use common::{PASSWORD, multipart, spawn_app};
use kefu_domain::{Actor, Priority, Role, Status, TicketId, TicketPatch};
use web_support::{Browser, between};

#[tokio::test]
async fn an_agent_replies_and_the_customer_sees_the_reply_but_not_the_internal_note() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let customer = app.customer("李伟", "liwei@example.com", None).await;

    let agent_web = Browser::new(&app);
    let home = agent_web.login(&agent.agent.email, PASSWORD).await;
    assert_eq!(home, "/agent");
    let id = agent_web
        .create_ticket("liwei@example.com", "打印机无法连接", "It says offline.")
        .await;

    let inbox = agent_web.get("/agent?view=unassigned").await;
    assert_eq!(inbox.status, 200);
    assert!(
        inbox.text.contains("class=\"ticket-row\""),
        "{}",
        inbox.text
    );
    assert!(inbox.text.contains("打印机无法连接"));
    assert!(inbox.text.contains("李伟"), "requester name is shown");
    assert!(inbox.text.contains("data-view=\"unassigned\""));

    let page = agent_web.get(&format!("/agent/tickets/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("id=\"reply-form\""));
    assert!(page.text.contains("id=\"customer-sidebar\""));
    assert!(page.text.contains("liwei@example.com"));
    let csrf = page.csrf();

    let (ct, body) = multipart(
        &[
            ("csrf", &csrf),
            ("visibility", "public"),
            ("body", "Please restart the printer."),
            ("status", "pending"),
        ],
        &[("files", "日志.txt", "text/plain", b"printer log")],
    );
    let r = agent_web
        .post_raw(&format!("/agent/tickets/{id}/reply"), &ct, body)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = agent_web
        .post_form(
            &format!("/agent/tickets/{id}/reply"),
            &[
                ("csrf", &csrf),
                ("visibility", "note"),
                ("body", "Secret: customer is on firmware 1.2"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    let page = agent_web.get(&format!("/agent/tickets/{id}")).await;
    assert!(
        page.text.contains("class=\"message note from-staff\""),
        "notes are marked"
    );
    assert!(page.text.contains("Secret: customer is on firmware 1.2"));
    assert!(
        page.text
            .contains("<span class=\"pill status-pending\">Pending</span>"),
        "submitted as pending"
    );
    assert!(
        page.text.contains("changed status from Open to Pending")
            || page.text.contains("changed status from New to Pending")
    );

    let customer_web = Browser::new(&app);
    assert_eq!(
        customer_web.login("liwei@example.com", PASSWORD).await,
        "/portal"
    );
    let list = customer_web.get("/portal").await;
    assert!(list.text.contains("class=\"request-row\""));
    assert!(list.text.contains("打印机无法连接"));
    let portal = customer_web.get(&format!("/portal/tickets/{id}")).await;
    assert_eq!(portal.status, 200);
    assert!(portal.text.contains("Please restart the printer."));
    assert!(
        !portal.text.contains("Secret"),
        "internal notes never reach the portal"
    );
    assert!(!portal.text.contains("message note"));

    // The customer downloads the attachment of the public reply.
    let href = between(&portal.text, "href=\"/attachments/", "\"").expect("attachment link");
    let file = customer_web.get(&format!("/attachments/{href}")).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.text, "printer log");
    assert_eq!(file.header("x-content-type-options"), "nosniff");
    assert!(
        file.header("content-disposition")
            .starts_with("attachment;")
    );
    assert!(
        file.header("content-disposition")
            .contains("filename*=UTF-8''%E6%97%A5%E5%BF%97.txt")
    );

    // The customer's reply reopens the pending ticket.
    let csrf = portal.csrf();
    let r = customer_web
        .post_form(
            &format!("/portal/tickets/{id}/reply"),
            &[("csrf", &csrf), ("body", "Restarted, still offline.")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let t = app
        .store
        .get_ticket(kefu_domain::TicketId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.status, kefu_domain::Status::Open);
    assert_eq!(t.requester_id, customer.id);
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_are_refused() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let web = Browser::new(&app);
    web.login(&agent.agent.email, PASSWORD).await;
    let id = web.create_ticket("a@example.com", "Subject", "Body").await;

    let path = format!("/agent/tickets/{id}/reply");
    let r = web.post_form(&path, &[("body", "no token")]).await;
    assert_eq!(r.status, 403);
    assert!(
        r.text.contains("Form expired"),
        "a friendly page: {}",
        r.text
    );
    let r = web
        .post_form(&path, &[("csrf", "forged"), ("body", "wrong token")])
        .await;
    assert_eq!(r.status, 403);
    let r = web
        .post_form(
            &format!("/agent/tickets/{id}/update"),
            &[("status", "solved"), ("orig_status", "new")],
        )
        .await;
    assert_eq!(r.status, 403);
    let messages = app
        .store
        .list_messages(kefu_domain::TicketId(id), true)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1, "nothing was posted");

    // Logging in needs the double-submit cookie that the login page sets.
    let fresh = Browser::new(&app);
    let r = fresh
        .post_form(
            "/login",
            &[("email", &agent.agent.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.header("set-cookie").is_empty() || !r.header("set-cookie").contains("kefu_session="));
}

#[tokio::test]
async fn read_only_agents_see_no_write_forms_and_their_posts_are_refused() {
    let app = spawn_app().await;
    let writer = app.agent(Role::Agent).await;
    let reader = app.agent(Role::ReadOnly).await;
    let w = Browser::new(&app);
    w.login(&writer.agent.email, PASSWORD).await;
    let id = w.create_ticket("ro@example.com", "Read me", "Body").await;

    let r = Browser::new(&app);
    r.login(&reader.agent.email, PASSWORD).await;
    let page = r.get(&format!("/agent/tickets/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Read me"));
    assert!(!page.text.contains("id=\"reply-form\""));
    assert!(!page.text.contains("id=\"ticket-properties\""));
    assert!(!page.text.contains("href=\"/agent/tickets/new\""));
    let csrf = page.csrf();
    let res = r
        .post_form(
            &format!("/agent/tickets/{id}/reply"),
            &[("csrf", &csrf), ("body", "hi")],
        )
        .await;
    assert_eq!(res.status, 403);
    let res = r
        .post_form(
            &format!("/agent/tickets/{id}/update"),
            &[
                ("csrf", &csrf),
                ("priority", "urgent"),
                ("orig_priority", "normal"),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(r.get("/agent/tickets/new").await.status, 403);
    assert_eq!(r.get("/admin").await.status, 403);
    let res = r
        .post_form("/admin/teams", &[("csrf", &csrf), ("name", "Sneaky")])
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(
        app.store
            .list_messages(kefu_domain::TicketId(id), true)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn customers_see_only_their_own_and_shared_organization_tickets() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let shared = app.organization("共享公司", true).await;
    let private = app.organization("Private Ltd", false).await;
    let _a = app
        .customer("Owner", "owner@example.com", Some(private.id))
        .await;
    let _b = app
        .customer("Colleague", "colleague@example.com", Some(private.id))
        .await;
    let _c = app
        .customer("Sharer", "sharer@example.com", Some(shared.id))
        .await;
    let _d = app
        .customer("Peer", "peer@example.com", Some(shared.id))
        .await;

    let web = Browser::new(&app);
    web.login(&agent.agent.email, PASSWORD).await;
    let private_ticket = web
        .create_ticket("owner@example.com", "Private matter", "Body")
        .await;
    let shared_ticket = web
        .create_ticket("sharer@example.com", "Shared matter", "Body")
        .await;

    // A public reply with an attachment on the private ticket.
    let csrf = web
        .get(&format!("/agent/tickets/{private_ticket}"))
        .await
        .csrf();
    let (ct, body) = multipart(
        &[
            ("csrf", &csrf),
            ("visibility", "public"),
            ("body", "See the file."),
        ],
        &[("files", "contract.txt", "text/plain", b"confidential")],
    );
    let r = web
        .post_raw(&format!("/agent/tickets/{private_ticket}/reply"), &ct, body)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let owner = Browser::new(&app);
    owner.login("owner@example.com", PASSWORD).await;
    let page = owner
        .get(&format!("/portal/tickets/{private_ticket}"))
        .await;
    let href = between(&page.text, "href=\"/attachments/", "\"")
        .expect("attachment link")
        .to_string();
    let att = href.split('?').next().unwrap().to_string();
    assert_eq!(owner.get(&format!("/attachments/{href}")).await.status, 200);

    let colleague = Browser::new(&app);
    colleague.login("colleague@example.com", PASSWORD).await;
    for path in [
        format!("/attachments/{href}"),
        format!("/attachments/{att}"),
        format!("/attachments/{att}?ticket={shared_ticket}"),
    ] {
        let r = colleague.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.text.contains("confidential"));
    }
    assert_eq!(
        colleague
            .get(&format!("/portal/tickets/{private_ticket}"))
            .await
            .status,
        404
    );
    assert!(
        !colleague
            .get("/portal")
            .await
            .text
            .contains("Private matter")
    );
    let r = colleague
        .post_form(
            &format!("/portal/tickets/{private_ticket}/reply"),
            &[("body", "x")],
        )
        .await;
    assert!(r.status == 404 || r.status == 403);
    assert_eq!(
        colleague
            .get(&format!("/agent/tickets/{private_ticket}"))
            .await
            .location(),
        "/portal"
    );

    let peer = Browser::new(&app);
    peer.login("peer@example.com", PASSWORD).await;
    assert_eq!(
        peer.get(&format!("/portal/tickets/{shared_ticket}"))
            .await
            .status,
        200
    );
    assert!(peer.get("/portal").await.text.contains("Shared matter"));
    assert_eq!(
        peer.get(&format!("/portal/tickets/{private_ticket}"))
            .await
            .status,
        404
    );
}

/// True if `raw` appears HTML-escaped (`&lt;` or `&#60;`) in `html`.
fn escaped(html: &str, raw: &str) -> bool {
    let lt = raw.replace('<', "&lt;").replace('>', "&gt;");
    let num = raw.replace('<', "&#60;").replace('>', "&#62;");
    html.contains(&lt) || html.contains(&num)
}

#[tokio::test]
async fn html_in_subjects_and_bodies_is_escaped() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let _c = app
        .customer("<b>Mallory</b>", "mallory@example.com", None)
        .await;
    let web = Browser::new(&app);
    web.login(&agent.agent.email, PASSWORD).await;
    let id = web
        .create_ticket(
            "mallory@example.com",
            "<script>alert('s')</script>",
            "<img src=x onerror=alert('b')>",
        )
        .await;
    for path in [
        "/agent?view=unassigned".to_string(),
        format!("/agent/tickets/{id}"),
    ] {
        let r = web.get(&path).await;
        assert!(escaped(&r.text, "<script>alert"), "{path} {}", r.text);
        assert!(!r.text.contains("<script>alert"), "{path}");
        assert!(!r.text.contains("<img src=x"), "{path}");
        assert!(!r.text.contains("<b>Mallory</b>"), "{path}");
    }
    let portal = Browser::new(&app);
    portal.login("mallory@example.com", PASSWORD).await;
    let r = portal.get(&format!("/portal/tickets/{id}")).await;
    assert!(escaped(&r.text, "<img src=x"));
    assert!(!r.text.contains("<img src=x"));
    assert!(
        r.header("content-security-policy")
            .contains("script-src 'self'")
    );
}

#[tokio::test]
async fn saving_properties_changes_only_what_the_agent_changed_and_history_reads_well() {
    let app = spawn_app().await;
    let me = app.agent(Role::Agent).await;
    let other = app.agent(Role::Agent).await;
    let web = Browser::new(&app);
    web.login(&me.agent.email, PASSWORD).await;
    let id = web
        .create_ticket("prop@example.com", "Refund", "Please refund")
        .await;
    let page = web.get(&format!("/agent/tickets/{id}")).await;

    // Meanwhile a colleague raises the priority; the open form still says normal.
    let raise = TicketPatch {
        priority: Some(Priority::Urgent),
        ..Default::default()
    };
    app.store
        .update_ticket(TicketId(id), &raise, Actor::Agent(other.id()))
        .await
        .unwrap();
    let me_id = me.id().to_string();
    let r = web
        .post_form(
            &format!("/agent/tickets/{id}/update"),
            &[
                ("csrf", &page.csrf()),
                ("status", "pending"),
                ("orig_status", "new"),
                ("priority", "normal"),
                ("orig_priority", "normal"),
                ("assignee", &me_id),
                ("orig_assignee", ""),
                ("tier", "1"),
                ("orig_tier", "1"),
                ("tags", "VIP, 退款"),
                ("orig_tags", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let t = app.store.get_ticket(TicketId(id)).await.unwrap().unwrap();
    assert_eq!(t.status, Status::Pending);
    assert_eq!(
        t.priority,
        Priority::Urgent,
        "the colleague's change survives"
    );
    assert_eq!(t.assignee_id, Some(me.id()));
    let tags: Vec<_> = t.tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, ["vip", "退款"]);

    let page = web.get(&format!("/agent/tickets/{id}")).await;
    assert!(
        page.text.contains("changed status from New to Pending"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains(&format!("set assignee to {}", me.agent.name))
    );
    assert!(page.text.contains("changed priority from Normal to Urgent"));

    // The requester's page lists the ticket.
    let requester = t.requester_id;
    let customer = web.get(&format!("/agent/customers/{requester}")).await;
    assert_eq!(customer.status, 200);
    assert!(customer.text.contains("id=\"customer-tickets\""));
    assert!(customer.text.contains("Refund"));
    let search = web.get("/agent/customers?q=prop%40example").await;
    assert!(search.text.contains("class=\"customer-row\""));
}

#[tokio::test]
async fn a_double_submitted_portal_form_creates_one_ticket_and_an_edited_resubmit_is_refused() {
    let app = spawn_app().await;
    app.customer("Zhao", "zhao@example.com", None).await;
    let web = Browser::new(&app);
    web.login("zhao@example.com", PASSWORD).await;
    let form = web.get("/portal/new").await;
    let csrf = form.csrf();
    let idem = between(&form.text, "name=\"idem\" value=\"", "\"").expect("one-time key");
    let submit = |subject| {
        let fields = [
            ("csrf", csrf.as_str()),
            ("idem", idem),
            ("subject", subject),
            ("body", "The invoice is wrong."),
        ];
        let web = &web;
        async move { web.post_form("/portal/new", &fields).await }
    };
    let first = submit("Invoice").await;
    assert_eq!(first.status, 303, "{}", first.text);
    let again = submit("Invoice").await;
    assert_eq!(again.status, 303, "{}", again.text);
    assert_eq!(again.location(), first.location(), "the first ticket again");

    let edited = submit("Invoice, edited after sending").await;
    assert_eq!(edited.status, 422, "{}", edited.text);
    assert!(edited.text.contains("id=\"portal-new-form\""));
    let fresh = between(&edited.text, "name=\"idem\" value=\"", "\"").unwrap();
    assert_ne!(fresh, idem, "the form comes back with a new key");
    let count = app
        .store
        .count_tickets(&kefu_store::TicketFilter::default())
        .await
        .unwrap();
    assert_eq!(count, 1);
}
