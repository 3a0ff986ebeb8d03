//! What portal customers see through the API: their own tickets, their organization's
//! when it shares, never internal notes; 404 (not 403) for tickets they may not see, so
//! ids do not leak. Also CSRF on cookie sessions and token revocation.

mod common;

use common::spawn_app;
use kefu_domain::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_customer_sees_only_their_own_tickets_and_others_are_not_found() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let me = app.customer("Me", "me@example.com", None).await;
    let mine = app.ticket(&agent, "me@example.com").await["id"]
        .as_i64()
        .unwrap();
    let theirs = app.ticket(&agent, "stranger@example.com").await["id"]
        .as_i64()
        .unwrap();
    let portal = app.client_for_customer(&me).await;

    let list = portal.get("/api/v1/tickets").await;
    let ids: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [mine]);
    // Filters cannot widen what a customer sees.
    let list = portal
        .get(&format!("/api/v1/tickets?requester={}", theirs))
        .await;
    assert_eq!(list.body["items"], json!([]));

    for path in [
        format!("/api/v1/tickets/{theirs}"),
        format!("/api/v1/tickets/{theirs}/messages"),
        format!("/api/v1/tickets/{theirs}/events"),
    ] {
        portal.get(&path).await.assert_error(404, "not_found");
    }
    let r = portal
        .post(
            &format!("/api/v1/tickets/{theirs}/messages"),
            &json!({"body": "let me in"}),
        )
        .await;
    r.assert_error(404, "not_found");
    assert_eq!(
        portal.get(&format!("/api/v1/tickets/{mine}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn organization_members_see_each_others_tickets_only_when_the_organization_shares() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let sharing = app.organization("Sharing Co", true).await;
    let private = app.organization("Private Co", false).await;
    let a = app
        .customer("A", "a@sharing.example", Some(sharing.id))
        .await;
    let b = app
        .customer("B", "b@sharing.example", Some(sharing.id))
        .await;
    let c = app
        .customer("C", "c@private.example", Some(private.id))
        .await;
    let d = app
        .customer("D", "d@private.example", Some(private.id))
        .await;
    let b_ticket = app.ticket(&agent, "b@sharing.example").await["id"]
        .as_i64()
        .unwrap();
    let d_ticket = app.ticket(&agent, "d@private.example").await["id"]
        .as_i64()
        .unwrap();
    let (a, c) = (
        app.client_for_customer(&a).await,
        app.client_for_customer(&c).await,
    );
    let _ = (b, d);

    assert_eq!(
        a.get(&format!("/api/v1/tickets/{b_ticket}")).await.status,
        StatusCode::OK
    );
    let list = a.get("/api/v1/tickets").await;
    assert_eq!(list.body["items"][0]["id"], b_ticket);
    c.get(&format!("/api/v1/tickets/{d_ticket}"))
        .await
        .assert_error(404, "not_found");
    assert_eq!(c.get("/api/v1/tickets").await.body["items"], json!([]));
}

#[tokio::test]
async fn customers_never_see_internal_notes_or_their_events() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let me = app.customer("Me", "notes@example.com", None).await;
    let t = app.ticket(&agent, "notes@example.com").await["id"]
        .as_i64()
        .unwrap();
    let api = app.api(&agent);
    let note = api
        .post(
            &format!("/api/v1/tickets/{t}/messages"),
            &json!({"body": "VIP, be careful", "public": false}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let note_id = note.body["id"].clone();
    api.post(
        &format!("/api/v1/tickets/{t}/messages"),
        &json!({"body": "On it"}),
    )
    .await;

    let portal = app.client_for_customer(&me).await;
    let msgs = portal.get(&format!("/api/v1/tickets/{t}/messages")).await;
    let msgs = msgs.body.as_array().unwrap();
    assert!(
        msgs.iter()
            .all(|m| m["public"] == true && m["id"] != note_id),
        "{msgs:?}"
    );
    assert_eq!(msgs.len(), 2, "first message and the public reply");
    let events = portal.get(&format!("/api/v1/tickets/{t}/events")).await;
    assert!(
        events
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message_id"] != note_id)
    );

    // Agents see both.
    let all = api.get(&format!("/api/v1/tickets/{t}/messages")).await;
    assert_eq!(all.body.as_array().unwrap().len(), 3);
    let events = api.get(&format!("/api/v1/tickets/{t}/events")).await;
    assert!(
        events
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message_id"] == note_id)
    );
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_on_writes_and_bad_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let me = app.customer("Me", "csrf@example.com", None).await;
    let mut portal = app.client_for_customer(&me).await;
    portal.csrf = None;
    let body = json!({"subject": "s", "body": "b"});
    portal
        .post("/api/v1/tickets", &body)
        .await
        .assert_error(403, "csrf_failed");
    assert_eq!(
        portal.get("/api/v1/me").await.body["customer"]["id"],
        me.id.0,
        "reads need no CSRF token"
    );
    portal.csrf = Some("wrong".into());
    portal
        .post("/api/v1/tickets", &body)
        .await
        .assert_error(403, "csrf_failed");

    let mut forged = app.anonymous();
    forged.bearer = Some("kefu_not-a-real-token".into());
    forged
        .get("/api/v1/tickets")
        .await
        .assert_error(401, "unauthenticated");

    let ro = app.agent(Role::ReadOnly).await;
    let me = app.api(&ro).get("/api/v1/me").await;
    assert_eq!(
        (me.body["kind"].as_str(), me.body["agent"]["role"].as_str()),
        (Some("agent"), Some("read-only"))
    );
}

#[tokio::test]
async fn deactivated_agents_lose_api_access_and_admins_cannot_demote_themselves() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&admin);
    let r = api
        .patch(
            &format!("/api/v1/agents/{}", agent.id().0),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.api(&agent)
        .get("/api/v1/me")
        .await
        .assert_error(401, "unauthenticated");
    let r = api
        .patch(
            &format!("/api/v1/agents/{}", admin.id().0),
            &json!({"role": "agent"}),
        )
        .await;
    r.assert_error(422, "invalid_input");
}
