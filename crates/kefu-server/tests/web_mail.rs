//! The web UI of the email channel end to end over real TCP: mailbox administration
//! through the forms, the mail log with raw downloads, and email messages on the ticket
//! page (addresses, delivery, parse warnings, folded quotes, safe HTML). Runs on SQLite or
//! PostgreSQL (`KEFU_TEST_DB`).

mod common;
mod web_support;

use common::{PASSWORD, TestApp, spawn_app};
use kefu_domain::*;
use kefu_store::{
    InboundMail, Message, MessageMail, NewAttachment, NewInbound, NewMessage, NewTicket,
    RequesterRef, SessionOwner,
};
use web_support::{Browser, Page, between};

const IMAP_SECRET: &str = "s3cret-Imap-pw";

async fn signed_in(app: &TestApp, role: Role) -> Browser {
    let agent = app.agent(role).await;
    let web = Browser::new(app);
    web.login(&agent.agent.email, PASSWORD).await;
    web
}

async fn mailbox(app: &TestApp, address: &str) -> Mailbox {
    app.store
        .create_mailbox(&NewMailbox {
            address: Email::parse(address).unwrap(),
            name: "Acme Support".into(),
            team_id: None,
            imap_url: Some(format!("imaps://bot:{IMAP_SECRET}@mail.acme.example/INBOX")),
            auto_ack: true,
            active: true,
        })
        .await
        .expect("mailbox created")
}

/// Stores a raw received mail as the listener would.
async fn inbound(app: &TestApp, mb: &Mailbox, key: &str, subject: &str) -> (InboundMail, Vec<u8>) {
    let raw = format!(
        "From: Li Wei <liwei@example.com>\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{key}@example.com>\r\n\r\nHello {key}\r\n",
        mb.address.as_str()
    )
    .into_bytes();
    let (row, new) = app
        .store
        .store_inbound(&NewInbound {
            mailbox_id: Some(mb.id),
            dedupe_key: format!("{key}@example.com"),
            message_id: Some(format!("{key}@example.com")),
            envelope_from: Some("liwei@example.com".into()),
            envelope_to: vec![mb.address.as_str().to_string()],
            source: "smtp".into(),
            subject: subject.into(),
            from: Some("liwei@example.com".into()),
            raw: raw.clone(),
        })
        .await
        .expect("mail stored");
    assert!(new);
    (row, raw)
}

fn draft(subject: &str) -> TicketDraft {
    TicketDraft {
        subject: Subject::parse(subject).unwrap(),
        priority: Priority::Normal,
        ticket_type: TicketType::Question,
        channel: Channel::Email,
        assignee_id: None,
        team_id: None,
        tier: Tier::FRONTLINE,
        tags: vec![],
        custom_fields: "{}".into(),
    }
}

/// A ticket whose first message is the received mail `row`.
async fn email_ticket(
    app: &TestApp,
    customer: &Customer,
    row: &InboundMail,
    body_text: &str,
    body_html: Option<&str>,
    attachments: Vec<NewAttachment>,
    parse_warning: Option<&str>,
) -> Ticket {
    app.store
        .create_ticket(&NewTicket {
            draft: draft(&row.subject),
            requester: RequesterRef::Existing(customer.id),
            actor: Actor::Customer(customer.id),
            first_message_by_actor: false,
            body_text: body_text.into(),
            body_html: body_html.map(String::from),
            attachments,
            idempotency: None,
            follow_up_of: None,
            mail: Some(MessageMail {
                message_id: row.message_id.clone().unwrap(),
                inbound_id: Some(row.id),
                mailbox_id: row.mailbox_id,
                from: Some("liwei@example.com".into()),
                to: vec!["support@acme.example".into()],
                cc: vec!["boss@example.com".into()],
                parse_warning: parse_warning.map(String::from),
                delivery: None,
                automatic: false,
            }),
        })
        .await
        .expect("ticket created")
}

/// An agent's public reply sent by email, with its delivery set to `status`.
async fn emailed_reply(
    app: &TestApp,
    ticket: TicketId,
    agent: AgentId,
    body: &str,
    status: DeliveryStatus,
    detail: Option<&str>,
) -> Message {
    let (_, m) = app
        .store
        .add_message(
            ticket,
            &NewMessage {
                author: Actor::Agent(agent),
                public: true,
                body_text: body.into(),
                body_html: None,
                attachments: vec![],
                status_after: None,
                idempotency: None,
                mail: Some(MessageMail {
                    message_id: format!("reply-{body}@kefu.test").replace(' ', "-"),
                    inbound_id: None,
                    mailbox_id: None,
                    from: Some("support@acme.example".into()),
                    to: vec!["liwei@example.com".into()],
                    cc: vec![],
                    parse_warning: None,
                    delivery: Some(DeliveryStatus::Queued),
                    automatic: false,
                }),
            },
        )
        .await
        .expect("reply added")
        .expect("ticket exists");
    if status != DeliveryStatus::Queued {
        app.store
            .set_delivery(m.id, status, detail)
            .await
            .expect("delivery set");
    }
    m
}

/// True if `raw` appears HTML-escaped (`&lt;` or `&#60;`) in `html`.
fn escaped(html: &str, raw: &str) -> bool {
    let lt = raw.replace('<', "&lt;").replace('>', "&gt;");
    let num = raw.replace('<', "&#60;").replace('>', "&#62;");
    html.contains(&lt) || html.contains(&num)
}

#[track_caller]
fn assert_no_secret(page: &Page) {
    assert!(
        !page.text.contains(IMAP_SECRET),
        "the IMAP password leaked: {}",
        page.text
    );
}

#[tokio::test]
async fn an_admin_creates_and_edits_a_mailbox_and_the_imap_password_is_never_shown() {
    let app = spawn_app().await;
    let team = app.store.create_team("Billing", "").await.unwrap();
    let web = signed_in(&app, Role::Admin).await;

    let agents = web.get("/admin/agents").await;
    assert!(
        agents.text.contains("href=\"/admin/mailboxes\""),
        "tab next to agents/teams"
    );
    let list = web.get("/admin/mailboxes").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains("id=\"new-mailbox-form\""));
    for field in [
        "mailbox-address",
        "mailbox-name",
        "mailbox-team",
        "mailbox-imap",
        "mailbox-auto-ack",
        "mailbox-active",
    ] {
        assert!(
            list.text.contains(&format!("<label for=\"{field}\"")),
            "{field} has a label"
        );
    }
    let csrf = list.csrf();
    let url = format!("imaps://bot:{IMAP_SECRET}@mail.acme.example/INBOX");
    let team_id = team.id.to_string();
    let create = |address: &'static str, imap: String| {
        let csrf = csrf.clone();
        let team_id = team_id.clone();
        let web = &web;
        async move {
            web.post_form(
                "/admin/mailboxes",
                &[
                    ("csrf", &csrf),
                    ("address", address),
                    ("name", "Acme <Support>"),
                    ("team", &team_id),
                    ("imap_url", &imap),
                    ("auto_ack", "1"),
                    ("active", "1"),
                ],
            )
            .await
        }
    };
    let r = create("support@acme.example", url.clone()).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), "/admin/mailboxes");
    let stored = app.store.list_mailboxes().await.unwrap();
    assert_eq!(stored.len(), 1);
    let mb = &stored[0];
    assert_eq!(mb.imap_url.as_deref(), Some(url.as_str()));
    assert_eq!(mb.team_id, Some(team.id));
    assert_eq!(mb.name, "Acme <Support>");
    assert!(mb.auto_ack && mb.active);

    let list = web.get("/admin/mailboxes").await;
    assert_no_secret(&list);
    assert!(list.text.contains("class=\"mailbox-row\""));
    assert!(list.text.contains("SMTP/LMTP listener"));
    assert!(
        list.text
            .contains("IMAP: imaps://bot:***@mail.acme.example/INBOX"),
        "{}",
        list.text
    );
    assert!(escaped(&list.text, "Acme <Support>"), "names are escaped");
    assert!(list.text.contains("Billing"));

    // A duplicate address, a bad URL and a bad address come back as the form with a message.
    let dup = create("support@acme.example", url.clone()).await;
    assert_eq!(dup.status, 422, "{}", dup.text);
    assert!(
        dup.text
            .contains("A mailbox with this address already exists."),
        "{}",
        dup.text
    );
    assert_no_secret(&dup);
    let bad = create("help@acme.example", format!("http://bot:{IMAP_SECRET}@x")).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("Enter an IMAP URL like"), "{}", bad.text);
    assert_no_secret(&bad);
    assert!(
        bad.text.contains("value=\"help@acme.example\""),
        "the address is kept"
    );
    let bad = create("not an address", String::new()).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("Enter a valid email address."));
    assert_eq!(app.store.list_mailboxes().await.unwrap().len(), 1);

    // Editing: an empty URL field keeps the stored URL.
    let path = format!("/admin/mailboxes/{}", mb.id);
    let edit = web.get(&path).await;
    assert_eq!(edit.status, 200, "{}", edit.text);
    assert_no_secret(&edit);
    assert!(edit.text.contains("id=\"edit-mailbox-form\""));
    assert!(
        edit.text
            .contains("Current IMAP URL: imaps://bot:***@mail.acme.example/INBOX")
    );
    assert!(edit.text.contains("id=\"mailbox-remove-imap\""));
    assert!(edit.text.contains("<label for=\"mailbox-remove-imap\""));
    let csrf = edit.csrf();
    let r = web
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Acme Help"),
                ("team", ""),
                ("imap_url", ""),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let mb2 = app.store.get_mailbox(mb.id).await.unwrap().unwrap();
    assert_eq!(mb2.name, "Acme Help");
    assert_eq!(mb2.team_id, None);
    assert!(!mb2.auto_ack, "unticked");
    assert!(mb2.active);
    assert_eq!(mb2.imap_url.as_deref(), Some(url.as_str()), "kept");

    // A bad URL on the edit form: the form again, nothing saved.
    let r = web
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Changed"),
                ("imap_url", "imaps://no-user-here"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("Enter an IMAP URL like"));
    assert_no_secret(&r);
    assert_eq!(
        app.store.get_mailbox(mb.id).await.unwrap().unwrap().name,
        "Acme Help"
    );

    // A new URL replaces it; the checkbox removes it.
    let new_url = format!("imap://bot2:{IMAP_SECRET}x@mail2.acme.example");
    let r = web
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Acme Help"),
                ("imap_url", &new_url),
                ("auto_ack", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let mb3 = app.store.get_mailbox(mb.id).await.unwrap().unwrap();
    assert_eq!(mb3.imap_url.as_deref(), Some(new_url.as_str()));
    assert!(mb3.auto_ack && !mb3.active);
    let list = web.get("/admin/mailboxes").await;
    assert_no_secret(&list);
    assert!(list.text.contains("imap://bot2:***@mail2.acme.example"));
    assert!(list.text.contains("mailbox-row inactive"));
    let r = web
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Acme Help"),
                ("remove_imap", "1"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        app.store
            .get_mailbox(mb.id)
            .await
            .unwrap()
            .unwrap()
            .imap_url,
        None
    );
    let edit = web.get(&path).await;
    assert!(edit.text.contains("No IMAP polling yet."));
    assert!(!edit.text.contains("id=\"mailbox-remove-imap\""));

    // Forms need the CSRF token; unknown mailboxes are 404.
    let r = web
        .post_form(&path, &[("name", "x"), ("active", "1")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(web.get("/admin/mailboxes/999999").await.status, 404);
    assert_eq!(web.get("/admin/mailboxes/abc").await.status, 404);
}

#[tokio::test]
async fn only_admins_manage_mailboxes_and_supervisors_read_the_mail_log() {
    let app = spawn_app().await;
    let mb = mailbox(&app, "support@acme.example").await;
    let (row, _) = inbound(&app, &mb, "m1", "Printer on fire").await;

    let sup = signed_in(&app, Role::Supervisor).await;
    let page = sup.get("/admin/mailboxes").await;
    assert_eq!(page.status, 403);
    assert!(page.text.contains("Not allowed"), "the friendly page");
    assert_eq!(
        sup.get(&format!("/admin/mailboxes/{}", mb.id)).await.status,
        403
    );
    let log = sup.get("/admin/mail").await;
    assert_eq!(log.status, 200, "{}", log.text);
    assert!(log.text.contains("Printer on fire"));
    assert!(
        !log.text.contains("href=\"/admin/mailboxes\""),
        "no admin-only tab"
    );
    assert_no_secret(&log);
    let csrf = log.csrf();
    let r = sup
        .post_form(
            "/admin/mailboxes",
            &[
                ("csrf", &csrf),
                ("address", "x@acme.example"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(app.store.list_mailboxes().await.unwrap().len(), 1);
    let raw = sup.get(&format!("/admin/mail/{}/raw", row.id)).await;
    assert_eq!(raw.status, 200);

    for role in [Role::Agent, Role::ReadOnly] {
        let web = signed_in(&app, role).await;
        assert_eq!(web.get("/admin/mailboxes").await.status, 403, "{role}");
        assert_eq!(web.get("/admin/mail").await.status, 403, "{role}");
        assert_eq!(
            web.get(&format!("/admin/mail/{}/raw", row.id)).await.status,
            403,
            "{role}"
        );
    }
    let anonymous = Browser::new(&app);
    let r = anonymous.get("/admin/mail").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
}

#[tokio::test]
async fn the_mail_log_shows_what_became_of_each_mail_and_serves_the_raw_bytes() {
    let app = spawn_app().await;
    let mb = mailbox(&app, "support@acme.example").await;
    let customer = app.customer("李伟", "liwei@example.com", None).await;
    let (ticketed, _) = inbound(&app, &mb, "t1", "Invoice <missing>").await;
    let t = email_ticket(
        &app,
        &customer,
        &ticketed,
        "Where is my invoice?",
        None,
        vec![],
        None,
    )
    .await;
    let (looped, raw) = inbound(&app, &mb, "l1", "Loop mail").await;
    app.store
        .set_inbound_state(
            looped.id,
            InboundState::Loop,
            None,
            None,
            Some("from our own address"),
        )
        .await
        .unwrap();

    let web = signed_in(&app, Role::Admin).await;
    let log = web.get("/admin/mail").await;
    assert_eq!(log.status, 200, "{}", log.text);
    assert!(log.text.contains("id=\"mail-table\""));
    assert!(log.text.contains("<label for=\"mail-state\""));
    assert!(escaped(&log.text, "Invoice <missing>"));
    assert!(!log.text.contains("Invoice <missing>"));
    assert!(log.text.contains(&format!(
        "href=\"/agent/tickets/{}\">#{}</a>",
        t.id, t.number
    )));
    assert!(log.text.contains("New ticket"), "ticketed, localized");
    assert!(log.text.contains("Mail loop"));
    assert!(log.text.contains("from our own address"));
    assert!(log.text.contains("support@acme.example"), "mailbox column");
    let newest_first = log.text.find("Loop mail").unwrap() < log.text.find("Invoice").unwrap();
    assert!(newest_first);

    let only_loops = web.get("/admin/mail?state=loop").await;
    assert!(only_loops.text.contains("Loop mail"));
    assert!(!only_loops.text.contains("Invoice"));
    assert!(only_loops.text.contains("<option value=\"loop\" selected>"));
    let zh = web.get("/admin/mail?state=loop&lang=zh-CN").await;
    assert!(zh.text.contains("邮件循环"));
    let zh = web.get("/admin/mail?state=loop&lang=zh-TW").await;
    assert!(zh.text.contains("郵件迴圈"));
    let all = web.get("/admin/mail?state=nonsense&lang=en").await;
    assert_eq!(all.status, 200);
    assert!(all.text.contains("Invoice"));

    let r = web.get(&format!("/admin/mail/{}/raw", looped.id)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.as_bytes(), raw.as_slice());
    assert_eq!(r.header("content-type"), "message/rfc822");
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    let disposition = r.header("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains(&format!("mail-{}.eml", looped.id)));
    assert_eq!(web.get("/admin/mail/999999/raw").await.status, 404);

    // The customer's session reaches neither the log nor the raw mail.
    let portal = app.client_for_customer(&customer).await;
    let r = portal.get(&format!("/admin/mail/{}/raw", looped.id)).await;
    assert_ne!(r.status.as_u16(), 200);
    assert!(!r.text.contains("Loop mail"));

    // Paging: 55 mails are two pages.
    for n in 0..53 {
        inbound(&app, &mb, &format!("p{n}"), &format!("Bulk {n}")).await;
    }
    let first = web.get("/admin/mail").await;
    assert_eq!(first.text.matches("class=\"mail-row\"").count(), 50);
    let next = between(
        &first.text,
        "id=\"next-page\" class=\"btn ghost\" href=\"",
        "\"",
    )
    .expect("a next page")
    .replace("&amp;", "&")
    .replace("&#38;", "&");
    let second = web.get(&next).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.text.matches("class=\"mail-row\"").count(), 5);
    assert!(second.text.contains("Invoice"), "the oldest is last");
    assert!(second.text.contains("id=\"first-page\""));
}

#[tokio::test]
async fn email_messages_show_addresses_delivery_warnings_and_folded_quotes_to_agents_only() {
    let app = spawn_app().await;
    let mb = mailbox(&app, "support@acme.example").await;
    let customer = app.customer("李伟", "liwei@example.com", None).await;
    let agent = app.agent(Role::Agent).await;
    let (row, raw) = inbound(&app, &mb, "q1", "Printer").await;
    let body = "The printer is offline again.\n\nOn Mon, 3 Mar 2025 at 10:00, Acme Support <support@acme.example> wrote:\n> Please restart the printer.\n> Best, Acme";
    let t = email_ticket(
        &app,
        &customer,
        &row,
        body,
        None,
        vec![],
        Some("invalid charset \"x-unknown\" in part 2"),
    )
    .await;
    let failed = emailed_reply(
        &app,
        t.id,
        agent.id(),
        "Reply one",
        DeliveryStatus::Failed,
        Some("550 5.1.1 user unknown"),
    )
    .await;
    emailed_reply(
        &app,
        t.id,
        agent.id(),
        "Reply two",
        DeliveryStatus::Bounced,
        Some("5.2.2 mailbox full"),
    )
    .await;
    emailed_reply(
        &app,
        t.id,
        agent.id(),
        "Reply three",
        DeliveryStatus::Sent,
        None,
    )
    .await;
    emailed_reply(
        &app,
        t.id,
        agent.id(),
        "Reply four",
        DeliveryStatus::Queued,
        None,
    )
    .await;

    let web = Browser::new(&app);
    web.login(&agent.agent.email, PASSWORD).await;
    let page = web.get(&format!("/agent/tickets/{}", t.id)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let text = &page.text;
    assert!(
        text.contains("class=\"mail-from\">From: liwei@example.com"),
        "{text}"
    );
    assert!(text.contains("To: support@acme.example"));
    assert!(text.contains("Cc: boss@example.com"));
    assert!(text.contains(
        "⚠ This email could not be read completely: invalid charset &#34;x-unknown&#34; in part 2"
    ) || text.contains(
        "⚠ This email could not be read completely: invalid charset &quot;x-unknown&quot; in part 2"
    ), "{text}");
    for status in ["failed", "bounced", "sent", "queued"] {
        assert!(
            text.contains(&format!("badge delivery delivery-{status}")),
            "{status} badge"
        );
    }
    assert!(text.contains("Not delivered: 550 5.1.1 user unknown"));
    assert!(text.contains("title=\"Not delivered: 550 5.1.1 user unknown\""));
    assert!(text.contains("class=\"delivery-detail error\""));
    assert!(text.contains("Bounced: 5.2.2 mailbox full"));
    // The quoted history is folded away under a summary.
    let quoted = between(text, "<details class=\"quoted\">", "</details>").expect("folded quote");
    assert!(quoted.contains("…show quoted text…"));
    assert!(quoted.contains("Please restart the printer."), "{quoted}");
    let body_start = text.find("The printer is offline again.").unwrap();
    assert!(body_start < text.find("<details class=\"quoted\">").unwrap());

    // The original mail, for agents.
    let first = app.store.list_messages(t.id, true).await.unwrap()[0].clone();
    let raw_href = format!("/agent/messages/{}/raw", first.id);
    assert!(text.contains(&format!("href=\"{raw_href}\"")));
    assert!(text.contains("View original"));
    let r = web.get(&raw_href).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.as_bytes(), raw.as_slice());
    assert_eq!(r.header("content-type"), "message/rfc822");
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert!(r.header("content-disposition").starts_with("attachment;"));
    assert_eq!(
        web.get(&format!("/agent/messages/{}/raw", failed.id))
            .await
            .status,
        404,
        "an outgoing reply has no stored original"
    );
    assert_eq!(web.get("/agent/messages/999999/raw").await.status, 404);
    let ro = signed_in(&app, Role::ReadOnly).await;
    assert_eq!(
        ro.get(&raw_href).await.status,
        200,
        "read-only agents read tickets"
    );

    // Translations.
    let zh = web
        .get(&format!("/agent/tickets/{}?lang=zh-CN", t.id))
        .await;
    assert!(zh.text.contains("发送失败"));
    assert!(zh.text.contains("此邮件未能完整读取"));
    assert!(zh.text.contains("查看原始邮件"));

    // Customers see the replies, none of the internals, and never the raw mail.
    let portal = Browser::new(&app);
    portal.login("liwei@example.com", PASSWORD).await;
    let p = portal.get(&format!("/portal/tickets/{}", t.id)).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(p.text.contains("The printer is offline again."));
    assert!(p.text.contains("Reply one"));
    for internal in [
        "delivery",
        "550 5.1.1",
        "mailbox full",
        "could not be read",
        "x-unknown",
        "/raw",
        "View original",
        "boss@example.com",
    ] {
        assert!(
            !p.text.contains(internal),
            "{internal} leaked to the portal"
        );
    }
    assert!(
        p.text.contains("<details class=\"quoted\">"),
        "folded there too"
    );
    let r = portal.get(&raw_href).await;
    assert_eq!(r.status, 404);
    assert!(!r.text.contains("Hello q1"));
    let r = app
        .session_client(SessionOwner::Customer(customer.id))
        .await
        .get(&raw_href)
        .await;
    assert_eq!(r.status.as_u16(), 404);
    let anonymous = Browser::new(&app);
    let r = anonymous.get(&raw_href).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
}

#[tokio::test]
async fn scripts_in_mail_html_never_reach_the_page_and_remote_images_wait_for_consent() {
    let app = spawn_app().await;
    let mb = mailbox(&app, "support@acme.example").await;
    let customer = app.customer("李伟", "liwei@example.com", None).await;
    let (row, _) = inbound(&app, &mb, "h1", "Logo").await;
    let dirty = concat!(
        "<p>Hello <b>team</b></p>",
        "<script>alert('xss1')</script>",
        "<img src=\"https://tracker.example/pixel.gif\" onerror=\"alert('xss2')\">",
        "<p onclick=\"alert('xss3')\">Our logo: <img src=\"cid:logo.png@01D9\" alt=\"logo\"></p>",
        "<a href=\"javascript:alert('xss4')\">click</a>",
        "<iframe src=\"https://evil.example/\"></iframe>",
        "<svg onload=\"alert('xss5')\"></svg>",
    );
    // As the pipeline stores it: sanitised at ingest.
    let stored = kefu_mail::html::sanitize_mail_html(dirty);
    let t = email_ticket(
        &app,
        &customer,
        &row,
        "Hello team. Our logo:",
        Some(&stored),
        vec![NewAttachment {
            filename: "logo.png".into(),
            content_type: "image/png".into(),
            data: b"\x89PNG fake".to_vec(),
        }],
        None,
    )
    .await;
    // And one that skipped the ingest sanitiser: the page must still be safe.
    let (row2, _) = inbound(&app, &mb, "h2", "Re: Logo").await;
    app.store
        .add_message(
            t.id,
            &NewMessage {
                author: Actor::Customer(customer.id),
                public: true,
                body_text: "raw".into(),
                body_html: Some(
                    "<p>Unsanitised</p><script>alert('raw1')</script><img src=x onerror=alert('raw2')>\
                     <img src=\"https://tracker2.example/p.gif\"><style>body{display:none}</style>"
                        .into(),
                ),
                attachments: vec![],
                status_after: None,
                idempotency: None,
                mail: Some(MessageMail {
                    message_id: "h2@example.com".into(),
                    inbound_id: Some(row2.id),
                    ..Default::default()
                }),
            },
        )
        .await
        .unwrap()
        .unwrap();
    let m = app.store.list_messages(t.id, true).await.unwrap()[0].clone();
    let logo = m.attachments[0].id;

    let web = signed_in(&app, Role::Agent).await;
    let path = format!("/agent/tickets/{}", t.id);
    let page = web.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let safe = |page: &Page| {
        for bad in [
            "alert(",
            "onerror",
            "onclick",
            "onload",
            "javascript:",
            "<iframe",
            "evil.example",
            "<style",
            "display:none",
        ] {
            assert!(
                !page.text.contains(bad),
                "{bad} reached the page: {}",
                page.text
            );
        }
        assert_eq!(
            page.text.matches("<script").count(),
            1,
            "only the page's own script tag"
        );
    };
    safe(&page);
    assert!(page.text.contains("Hello <b>team</b>"), "{}", page.text);
    assert!(page.text.contains("Unsanitised"));
    assert!(
        page.text.contains(&format!("src=\"/attachments/{logo}\"")),
        "the cid image points at its attachment: {}",
        page.text
    );
    for tracker in ["tracker.example", "tracker2.example"] {
        assert!(
            !page.text.contains(&format!("src=\"https://{tracker}")),
            "remote images wait for consent"
        );
    }
    let csp = page.header("content-security-policy");
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    let show = format!("{path}?remote=1#message-{}", m.id);
    assert!(
        page.text.contains(&format!("href=\"{show}\"")),
        "{}",
        page.text
    );
    assert!(page.text.contains("Show remote images"));

    let remote = web.get(&format!("{path}?remote=1")).await;
    assert_eq!(remote.status, 200);
    safe(&remote);
    assert!(
        remote
            .text
            .contains("src=\"https://tracker.example/pixel.gif\""),
        "{}",
        remote.text
    );
    let csp = remote.header("content-security-policy");
    assert!(csp.contains("img-src 'self' data: https:"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!remote.text.contains("Show remote images"));

    // The portal: same safety, remote images stay blocked.
    let portal = Browser::new(&app);
    portal.login("liwei@example.com", PASSWORD).await;
    let p = portal.get(&format!("/portal/tickets/{}", t.id)).await;
    assert_eq!(p.status, 200);
    safe(&p);
    assert!(p.text.contains("Hello <b>team</b>"));
    assert!(p.text.contains(&format!("src=\"/attachments/{logo}\"")));
    assert!(!p.text.contains("src=\"https://tracker"));
    let p = portal
        .get(&format!("/portal/tickets/{}?remote=1", t.id))
        .await;
    assert!(!p.text.contains("src=\"https://tracker"));
    assert!(!p.header("content-security-policy").contains("https:"));
}
