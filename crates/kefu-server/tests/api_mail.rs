//! The email channel's API: support mailboxes (admins), the mail log (admins and
//! supervisors), original emails (agents) — who may do what, validation, and that IMAP
//! passwords never come back.

mod common;

use common::*;
use kefu_domain::*;
use kefu_store::{MessageMail, NewInbound, NewMessage};
use serde_json::json;

#[tokio::test]
async fn admins_manage_mailboxes_and_passwords_never_come_back() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let api = app.api(&admin);
    let team = api
        .post("/api/v1/teams", &json!({"name": "Frontline"}))
        .await;
    assert_eq!(team.status, 201);
    let team_id = team.body["id"].as_i64().unwrap();

    let r = api
        .post(
            "/api/v1/mailboxes",
            &json!({
                "address": " Support@Acme.example ",
                "name": "Acme 客服",
                "team_id": team_id,
                "imap_url": "imaps://bot%40acme.example:s3cr3t-pw@imap.acme.example/INBOX",
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["address"], "support@acme.example");
    assert_eq!(r.body["auto_ack"], true);
    assert_eq!(r.body["team_id"], team_id);
    assert!(!r.text.contains("s3cr3t-pw"), "{}", r.text);
    assert!(r.body["imap_url"].as_str().unwrap().contains("***"));
    let id = r.body["id"].as_i64().unwrap();

    let list = api.get("/api/v1/mailboxes").await;
    assert_eq!(list.status, 200);
    assert!(!list.text.contains("s3cr3t-pw"));
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    // Same address again (any case): conflict.
    api.post(
        "/api/v1/mailboxes",
        &json!({"address": "SUPPORT@acme.example"}),
    )
    .await
    .assert_error(409, "conflict");
    // Bad input: clear 422s.
    api.post("/api/v1/mailboxes", &json!({"address": "not an address"}))
        .await
        .assert_error(422, "invalid_input");
    api.post(
        "/api/v1/mailboxes",
        &json!({"address": "x@acme.example", "imap_url": "http://x@y"}),
    )
    .await
    .assert_error(422, "invalid_input");
    api.post(
        "/api/v1/mailboxes",
        &json!({"address": "x@acme.example", "team_id": 999999}),
    )
    .await
    .assert_error(422, "invalid_input");

    // Patch: null clears team and IMAP; absent fields stay.
    let r = api
        .patch(
            &format!("/api/v1/mailboxes/{id}"),
            &json!({"team_id": null, "imap_url": null, "auto_ack": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["team_id"], serde_json::Value::Null);
    assert_eq!(r.body["imap_url"], serde_json::Value::Null);
    assert_eq!(r.body["auto_ack"], false);
    assert_eq!(r.body["name"], "Acme 客服");
    api.get("/api/v1/mailboxes/999999")
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn only_admins_manage_mailboxes_and_supervisors_read_the_mail_log() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let supervisor = app.api(&app.agent(Role::Supervisor).await);
    let agent = app.api(&app.agent(Role::Agent).await);
    let read_only = app.api(&app.agent(Role::ReadOnly).await);
    let customer = app.customer("Zhang Min", "zhang@example.com", None).await;
    let portal = app.client_for_customer(&customer).await;
    let anonymous = app.anonymous();

    for who in [&supervisor, &agent, &read_only, &portal] {
        who.get("/api/v1/mailboxes")
            .await
            .assert_error(403, "forbidden");
        who.post("/api/v1/mailboxes", &json!({"address": "a@b.example"}))
            .await
            .assert_error(403, "forbidden");
    }
    anonymous
        .get("/api/v1/mailboxes")
        .await
        .assert_error(401, "unauthenticated");

    let inbound = app
        .store
        .store_inbound(&NewInbound {
            mailbox_id: None,
            dedupe_key: "mid:x1@example.com".into(),
            message_id: Some("x1@example.com".into()),
            envelope_from: Some("zhang@example.com".into()),
            envelope_to: vec!["support@acme.example".into()],
            source: "smtp".into(),
            subject: "Hello".into(),
            from: Some("zhang@example.com".into()),
            raw: b"Subject: Hello\r\n\r\nraw body \xff\r\n".to_vec(),
        })
        .await
        .unwrap()
        .0;
    for who in [&app.api(&admin), &supervisor] {
        let r = who.get("/api/v1/inbound-mail").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["items"][0]["state"], "received");
        let r = who
            .get(&format!("/api/v1/inbound-mail/{}/raw", inbound.id))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["content-type"], "message/rfc822");
    }
    for who in [&agent, &read_only, &portal] {
        who.get("/api/v1/inbound-mail")
            .await
            .assert_error(403, "forbidden");
        who.get(&format!("/api/v1/inbound-mail/{}/raw", inbound.id))
            .await
            .assert_error(403, "forbidden");
    }
    supervisor
        .get("/api/v1/inbound-mail?state=nonsense")
        .await
        .assert_error(422, "invalid_input");
    supervisor
        .get("/api/v1/inbound-mail?limit=0")
        .await
        .assert_error(422, "invalid_input");
}

#[tokio::test]
async fn original_emails_are_for_agents_only() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let customer = app.customer("Zhang Min", "zhang@example.com", None).await;
    let t = app.ticket(&admin, "zhang@example.com").await;
    let ticket = TicketId(t["id"].as_i64().unwrap());
    let (inbound, _) = app
        .store
        .store_inbound(&NewInbound {
            mailbox_id: None,
            dedupe_key: "mid:orig@example.com".into(),
            message_id: Some("orig@example.com".into()),
            envelope_from: None,
            envelope_to: vec![],
            source: "smtp".into(),
            subject: "s".into(),
            from: None,
            raw: b"Subject: s\r\n\r\nthe original\r\n".to_vec(),
        })
        .await
        .unwrap();
    let (_, m) = app
        .store
        .add_message(
            ticket,
            &NewMessage {
                author: Actor::Customer(customer.id),
                public: true,
                body_text: "the original".into(),
                body_html: None,
                attachments: vec![],
                status_after: None,
                idempotency: None,
                mail: Some(MessageMail {
                    message_id: "orig@example.com".into(),
                    inbound_id: Some(inbound.id),
                    from: Some("zhang@example.com".into()),
                    parse_warning: Some("charset x-foo unknown".into()),
                    ..Default::default()
                }),
            },
        )
        .await
        .unwrap()
        .unwrap();

    let read_only = app.api(&app.agent(Role::ReadOnly).await);
    let r = read_only
        .get(&format!("/api/v1/messages/{}/raw", m.id))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("the original"));
    let msgs = read_only
        .get(&format!("/api/v1/tickets/{}/messages", ticket))
        .await;
    let mail = msgs
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == m.id.0)
        .unwrap();
    assert_eq!(mail["email"]["parse_warning"], "charset x-foo unknown");
    assert_eq!(
        mail["email"]["raw_url"],
        format!("/api/v1/messages/{}/raw", m.id)
    );

    // The customer sees the message, not the email internals, and not the raw mail.
    let portal = app.client_for_customer(&customer).await;
    let msgs = portal
        .get(&format!("/api/v1/tickets/{}/messages", ticket))
        .await;
    assert_eq!(msgs.status, 200);
    let mine = msgs
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == m.id.0)
        .unwrap();
    assert_eq!(mine["email"], serde_json::Value::Null);
    portal
        .get(&format!("/api/v1/messages/{}/raw", m.id))
        .await
        .assert_error(404, "not_found");
    // A message that did not come by email has no original.
    let first = app.store.list_messages(ticket, true).await.unwrap()[0].id;
    app.api(&admin)
        .get(&format!("/api/v1/messages/{first}/raw"))
        .await
        .assert_error(404, "not_found");
}
