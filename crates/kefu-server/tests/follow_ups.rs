//! A customer's message on a closed ticket opens a follow-up ticket linked to it (the
//! closed ticket stays closed and unchanged); agents cannot add to a closed ticket. Over
//! the API and through the portal; runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;
mod web_support;

use common::{Api, PASSWORD, TestAgent, TestApp, spawn_app};
use kefu_domain::{Actor, Role, Status, TicketId, TicketPatch};
use kefu_store::TicketFilter;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use web_support::{Browser, between};

/// A ticket for `email`, solved (at high priority) and then closed by the rule.
async fn closed_ticket(app: &TestApp, agent: &TestAgent, email: &str) -> i64 {
    let id = app.ticket(agent, email).await["id"].as_i64().unwrap();
    let r = app
        .api(agent)
        .patch(
            &format!("/api/v1/tickets/{id}"),
            &json!({"status": "solved", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let close = TicketPatch {
        status: Some(Status::Closed),
        ..Default::default()
    };
    app.store
        .update_ticket(TicketId(id), &close, Actor::Rule)
        .await
        .unwrap();
    id
}

async fn post_with_key(api: &Api, path: &str, key: &str, body: &Value) -> common::Resp {
    api.send(
        api.request(Method::POST, path)
            .header("Idempotency-Key", key)
            .json(body),
    )
    .await
}

async fn ticket_count(app: &TestApp) -> i64 {
    app.store
        .count_tickets(&TicketFilter::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_customer_reply_on_a_closed_ticket_opens_one_linked_follow_up() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let me = app.customer("Me", "me@example.com", None).await;
    let closed = closed_ticket(&app, &agent, "me@example.com").await;
    let portal = app.client_for_customer(&me).await;
    let path = format!("/api/v1/tickets/{closed}/messages");
    let before = ticket_count(&app).await;

    let body = json!({"body": "It is offline again."});
    let first = post_with_key(&portal, &path, "follow-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let follow = first.body["ticket_id"].as_i64().unwrap();
    assert_ne!(follow, closed, "the message lands on the follow-up");
    assert_eq!(first.body["body"], "It is offline again.");
    assert_eq!(first.body["public"], true);

    let t = portal.get(&format!("/api/v1/tickets/{follow}")).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    assert_eq!(t.body["follow_up_of"], closed);
    assert_eq!(t.body["requester_id"], me.id.0);
    assert_eq!(t.body["status"], "new");
    assert_eq!(t.body["priority"], "high", "fields carry over");
    assert_eq!(t.body["subject"], "Re: 打印机无法连接");
    let msgs = portal
        .get(&format!("/api/v1/tickets/{follow}/messages"))
        .await;
    assert_eq!(msgs.body.as_array().unwrap().len(), 1);
    assert_eq!(msgs.body[0]["id"], first.body["id"]);

    // The closed ticket is unchanged: still closed, only its original message.
    let c = app
        .store
        .get_ticket(TicketId(closed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, Status::Closed);
    assert_eq!(
        app.store
            .list_messages(TicketId(closed), true)
            .await
            .unwrap()
            .len(),
        1
    );

    // A retry returns the same message on the same follow-up and creates nothing.
    let again = post_with_key(&portal, &path, "follow-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body, first.body);
    assert_eq!(ticket_count(&app).await, before + 1);
    // The same key with another message is refused.
    post_with_key(&portal, &path, "follow-1", &json!({"body": "Other"}))
        .await
        .assert_error(422, "invalid_input");

    // Agents cannot add to a closed ticket, neither a reply nor a note.
    let api = app.api(&agent);
    api.post(&path, &json!({"body": "Hello?"}))
        .await
        .assert_error(422, "ticket_closed");
    api.post(&path, &json!({"body": "note", "public": false}))
        .await
        .assert_error(422, "ticket_closed");
    assert_eq!(ticket_count(&app).await, before + 1);
}

#[tokio::test]
async fn a_portal_reply_on_a_closed_request_lands_on_its_follow_up() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    app.customer("李伟", "liwei@example.com", None).await;
    let closed = closed_ticket(&app, &agent, "liwei@example.com").await;

    let web = Browser::new(&app);
    assert_eq!(web.login("liwei@example.com", PASSWORD).await, "/portal");
    let page = web.get(&format!("/portal/tickets/{closed}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("your message will open a new request linked to it"),
        "{}",
        page.text
    );
    assert!(page.text.contains("id=\"portal-reply-form\""));
    let csrf = page.csrf();
    let idem = between(&page.text, "name=\"idem\" value=\"", "\"")
        .unwrap()
        .to_string();
    let fields = [
        ("csrf", csrf.as_str()),
        ("idem", idem.as_str()),
        ("body", "Offline again."),
    ];
    let reply_path = format!("/portal/tickets/{closed}/reply");
    let r = web.post_form(&reply_path, &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let follow: i64 = r
        .location()
        .trim_start_matches("/portal/tickets/")
        .parse()
        .expect("redirect to the follow-up");
    assert_ne!(follow, closed);
    let t = app
        .store
        .get_ticket(TicketId(follow))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.follow_up_of, Some(TicketId(closed)));
    assert_eq!(t.status, Status::New);
    let page = web.get(&r.location()).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Offline again."));
    assert!(!page.text.contains("portal-closed-notice"));

    // A double submit of the same form lands on the same follow-up.
    let before = ticket_count(&app).await;
    let again = web.post_form(&reply_path, &fields).await;
    assert_eq!(again.status, 303, "{}", again.text);
    assert_eq!(again.location(), r.location());
    assert_eq!(ticket_count(&app).await, before);
    let c = app
        .store
        .get_ticket(TicketId(closed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, Status::Closed);

    // The agent's page of the follow-up links back to the closed ticket.
    let agent_web = Browser::new(&app);
    agent_web.login(&agent.agent.email, PASSWORD).await;
    let page = agent_web.get(&format!("/agent/tickets/{follow}")).await;
    assert_eq!(page.status, 200);
    let link = between(&page.text, "id=\"follow-up-of\"", "</span>").expect("follow-up link");
    assert!(
        link.contains(&format!("href=\"/agent/tickets/{closed}\"")),
        "{link}"
    );
}
