//! Tickets, messages, attachments and events through the REST API, over real HTTP.

mod common;

use common::{multipart, spawn_app};
use kefu_domain::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

fn is_rfc3339(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok())
}

#[tokio::test]
async fn an_agent_creates_a_ticket_with_every_field_and_reads_it_back() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let team = api.post("/api/v1/teams", &json!({"name": "x"})).await;
    assert_eq!(
        team.status,
        StatusCode::FORBIDDEN,
        "agents do not manage teams"
    );
    let team = app.store.create_team("二线支持", "").await.unwrap();

    let r = api
        .post(
            "/api/v1/tickets",
            &json!({
                "subject": "  VPN 断线 ", "body": "Drops every hour.",
                "requester": {"email": "Li.Wei@Example.com", "name": "Li Wei"},
                "priority": "high", "type": "incident", "tags": ["VPN", "网络", "vpn"],
                "channel": "phone", "assignee_id": agent.id().0, "team_id": team.id.0, "tier": 2,
                "custom_fields": {"asset": "LT-042"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let t = &r.body;
    assert_eq!(t["subject"], "VPN 断线");
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["type"], "incident");
    assert_eq!(t["channel"], "phone");
    assert_eq!(t["assignee_id"], agent.id().0);
    assert_eq!(t["team_id"], team.id.0);
    assert_eq!(t["tier"], 2);
    assert_eq!(t["tags"], json!(["vpn", "网络"]));
    assert_eq!(t["custom_fields"], json!({"asset": "LT-042"}));
    assert_eq!(t["follow_up_of"], Value::Null);
    assert_eq!(t["solved_at"], Value::Null);
    assert!(t["number"].as_i64().is_some_and(|n| n > 0));
    assert!(
        is_rfc3339(&t["created_at"]) && is_rfc3339(&t["updated_at"]),
        "{t}"
    );

    let requester = app
        .store
        .get_customer(kefu_domain::CustomerId(t["requester_id"].as_i64().unwrap()))
        .await;
    assert_eq!(
        requester.unwrap().unwrap().primary_email(),
        Some("li.wei@example.com")
    );

    let got = api.get(&format!("/api/v1/tickets/{}", t["id"])).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.body, t);
}

#[tokio::test]
async fn defaults_are_api_channel_normal_priority_question_and_tier_one() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let t = app.ticket(&agent, "a@example.com").await;
    assert_eq!(
        (
            t["channel"].as_str(),
            t["priority"].as_str(),
            t["type"].as_str()
        ),
        (Some("api"), Some("normal"), Some("question"))
    );
    assert_eq!(t["tier"], 1);
    assert_eq!(t["tags"], json!([]));
    assert_eq!(t["custom_fields"], json!({}));
}

#[tokio::test]
async fn html_bodies_are_sanitised_before_they_are_stored() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Agent).await);
    let r = api
        .post(
            "/api/v1/tickets",
            &json!({
                "subject": "html", "body": "hi", "requester": {"email": "h@example.com"},
                "body_html": "<p onclick=\"x()\">hi<script>alert(1)</script></p>"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let msgs = api
        .get(&format!("/api/v1/tickets/{}/messages", r.body["id"]))
        .await;
    let html = msgs.body[0]["body_html"].as_str().unwrap();
    assert!(
        html.contains("hi") && !html.contains("script") && !html.contains("onclick"),
        "{html}"
    );
    assert_eq!(
        msgs.body[0]["author"]["kind"], "customer",
        "the first message is the requester's"
    );
}

#[tokio::test]
async fn patching_assigns_opens_clears_and_records_each_change() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let t = app.ticket(&agent, "p@example.com").await;
    let path = format!("/api/v1/tickets/{}", t["id"]);

    let r = api
        .patch(
            &path,
            &json!({"assignee_id": agent.id().0, "priority": "urgent"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "open", "assigning a new ticket opens it");
    assert_eq!(r.body["priority"], "urgent");

    let r = api.patch(&path, &json!({"subject": "Renamed"})).await;
    assert_eq!(r.body["assignee_id"], agent.id().0, "absent fields stay");
    let r = api
        .patch(
            &path,
            &json!({"assignee_id": null, "tags": ["a"], "status": "solved"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["assignee_id"], Value::Null, "null clears");
    assert!(is_rfc3339(&r.body["solved_at"]));

    let events = api.get(&format!("{path}/events")).await;
    assert_eq!(events.status, StatusCode::OK);
    let kinds: Vec<String> = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["field"].as_str().unwrap_or("")
            )
        })
        .collect();
    for expected in [
        "created:",
        "field:assignee",
        "field:priority",
        "field:status",
        "field:subject",
        "field:tags",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} missing from {kinds:?}"
        );
    }
    let status_change = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "status")
        .unwrap();
    assert_eq!(
        (&status_change["from"], &status_change["to"]),
        (&json!("new"), &json!("open"))
    );
    assert_eq!(
        status_change["actor"],
        json!({"kind": "agent", "id": agent.id().0})
    );
    assert!(is_rfc3339(&status_change["at"]));
}

#[tokio::test]
async fn lists_filter_by_status_and_assignee_and_paginate_without_gaps() {
    let app = spawn_app().await;
    let me = app.agent(Role::Agent).await;
    let api = app.api(&me);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.ticket(&me, &format!("list{i}@example.com")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for id in &ids[..2] {
        api.patch(
            &format!("/api/v1/tickets/{id}"),
            &json!({"assignee_id": me.id().0}),
        )
        .await;
    }
    let count = |r: &common::Resp| r.body["items"].as_array().unwrap().len();
    assert_eq!(count(&api.get("/api/v1/tickets?assignee=me").await), 2);
    assert_eq!(
        count(
            &api.get(&format!("/api/v1/tickets?assignee={}", me.id().0))
                .await
        ),
        2
    );
    assert_eq!(count(&api.get("/api/v1/tickets?assignee=none").await), 3);
    assert_eq!(count(&api.get("/api/v1/tickets?status=new").await), 3);
    assert_eq!(count(&api.get("/api/v1/tickets?status=new,open").await), 5);
    assert_eq!(count(&api.get("/api/v1/tickets?status=pending").await), 0);

    let mut seen = Vec::new();
    let mut path = "/api/v1/tickets?limit=2".to_string();
    for _ in 0..10 {
        let page = api.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(count(&page) <= 2);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/tickets?limit=2&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "every ticket exactly once");
}

#[tokio::test]
async fn replies_change_status_as_the_lifecycle_says() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let t = app.ticket(&agent, "reply@example.com").await;
    let msgs = format!("/api/v1/tickets/{}/messages", t["id"]);
    let ticket = format!("/api/v1/tickets/{}", t["id"]);

    let note = api
        .post(&msgs, &json!({"body": "internal", "public": false}))
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);
    assert_eq!(note.body["public"], false);
    assert_eq!(
        api.get(&ticket).await.body["status"],
        "new",
        "a note does not open a ticket"
    );

    let reply = api
        .post(&msgs, &json!({"body": "Try again?", "status": "pending"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.body["author"],
        json!({"kind": "agent", "id": agent.id().0})
    );
    assert_eq!(reply.body["attachments"], json!([]));
    assert_eq!(api.get(&ticket).await.body["status"], "pending");

    let requester = app
        .store
        .get_customer(kefu_domain::CustomerId(t["requester_id"].as_i64().unwrap()))
        .await;
    let customer = app.client_for_customer(&requester.unwrap().unwrap()).await;
    let r = customer.post(&msgs, &json!({"body": "Still broken"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["author"]["kind"], "customer");
    assert_eq!(
        api.get(&ticket).await.body["status"],
        "open",
        "a customer reply reopens"
    );
    assert_eq!(api.get(&msgs).await.body.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn attachments_upload_as_multipart_and_download_with_safe_headers() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let t = app.ticket(&agent, "files@example.com").await;
    let msgs = format!("/api/v1/tickets/{}/messages", t["id"]);
    let pdf = b"%PDF-1.4 fake".as_slice();
    let (ct, body) = multipart(
        &[("body", "See attached"), ("public", "true")],
        &[("attachments", "报告.pdf", "application/pdf", pdf)],
    );
    let r = api
        .send(
            api.request(Method::POST, &msgs)
                .header(header::CONTENT_TYPE, ct)
                .body(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let att = &r.body["attachments"][0];
    assert_eq!(att["filename"], "报告.pdf");
    assert_eq!(att["content_type"], "application/pdf");
    assert_eq!(att["size"], pdf.len());
    let url = att["url"].as_str().unwrap();

    let resp = api
        .client
        .get(app.url(url))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(
        resp.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), pdf);

    // An internal note's attachment is invisible to the customer; the public one is not.
    let (ct, body) = multipart(
        &[("body", "secret"), ("public", "false")],
        &[("attachments", "x.txt", "text/plain", b"x")],
    );
    let note = api
        .send(
            api.request(Method::POST, &msgs)
                .header(header::CONTENT_TYPE, ct)
                .body(body),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);
    let requester = app
        .store
        .get_customer(kefu_domain::CustomerId(t["requester_id"].as_i64().unwrap()))
        .await;
    let customer = app.client_for_customer(&requester.unwrap().unwrap()).await;
    assert_eq!(customer.get(url).await.status, StatusCode::OK);
    customer
        .get(note.body["attachments"][0]["url"].as_str().unwrap())
        .await
        .assert_error(404, "not_found");
    app.anonymous()
        .get(url)
        .await
        .assert_error(401, "unauthenticated");
}

#[tokio::test]
async fn customers_create_tickets_only_for_themselves_through_the_portal() {
    let app = spawn_app().await;
    let me = app.customer("Wang Fang", "wang@example.com", None).await;
    let other = app.customer("Other", "other@example.com", None).await;
    let portal = app.client_for_customer(&me).await;
    let r = portal
        .post(
            "/api/v1/tickets",
            &json!({
                "subject": "发票", "body": "Need an invoice", "requester_id": other.id.0,
                "channel": "api", "priority": "high"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["requester_id"], me.id.0);
    assert_eq!(r.body["channel"], "portal");
    assert_eq!(r.body["priority"], "high");
    let mine = portal.get("/api/v1/tickets").await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
}
