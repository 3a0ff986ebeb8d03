//! Bad input is never a 500: every mistake a client can make gets a 4xx with the
//! `{"error": {"code", "message"}}` shape and a stable code.

mod common;

use common::{multipart, spawn_app, spawn_app_with};
use kefu_domain::{Actor, Role, Status, TicketId, TicketPatch};
use reqwest::{Method, header};
use serde_json::json;

#[tokio::test]
async fn malformed_json_missing_fields_and_unknown_fields_are_rejected() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Agent).await);
    let raw = |body: &'static str| {
        api.request(Method::POST, "/api/v1/tickets")
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
    };
    api.send(raw("{\"subject\": "))
        .await
        .assert_error(422, "malformed_json");
    api.send(raw("")).await.assert_error(422, "malformed_json");
    let r = api
        .send(raw("{\"body\": \"b\", \"requester_id\": 1}"))
        .await;
    r.assert_error(422, "invalid_input");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("subject"),
        "{}",
        r.text
    );
    let r = api
        .post(
            "/api/v1/tickets",
            &json!({"subject": "s", "body": "b", "requester_id": 1, "colour": "red"}),
        )
        .await;
    r.assert_error(422, "invalid_input");
    let r = api
        .post(
            "/api/v1/tickets",
            &json!({"subject": "s", "body": "b", "tier": "two", "requester_id": 1}),
        )
        .await;
    r.assert_error(422, "invalid_input");
    let r = api
        .post("/api/v1/tickets", &json!({"subject": "s", "body": "b"}))
        .await;
    r.assert_error(422, "invalid_input");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requester")
    );
    api.post(
        "/api/v1/tickets",
        &json!({"subject": " ", "body": "b", "requester_id": 1}),
    )
    .await
    .assert_error(422, "invalid_input");
    let r = api
        .post(
            "/api/v1/tickets",
            &json!({"subject": "s", "body": "b", "requester": {"email": "nope"}}),
        )
        .await;
    r.assert_error(422, "invalid_input");
    let r = api
        .post(
            "/api/v1/tickets",
            &json!({"subject": "s", "body": "b", "requester_id": 1, "custom_fields": [1]}),
        )
        .await;
    r.assert_error(422, "invalid_input");
}

#[tokio::test]
async fn unknown_enum_values_name_the_allowed_values() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let r = api
        .post("/api/v1/tickets", &json!({"subject": "s", "body": "b", "requester": {"email": "e@example.com"}, "priority": "URGENT"}))
        .await;
    r.assert_error(422, "invalid_input");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("low, normal, high, urgent"),
        "{}",
        r.text
    );
    let t = app.ticket(&agent, "e@example.com").await;
    let r = api
        .patch(
            &format!("/api/v1/tickets/{}", t["id"]),
            &json!({"status": "done"}),
        )
        .await;
    r.assert_error(422, "invalid_input");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("new, open, pending"),
        "{}",
        r.text
    );
    api.get("/api/v1/tickets?status=open,bogus")
        .await
        .assert_error(422, "invalid_input");
    api.get("/api/v1/tickets?assignee=someone")
        .await
        .assert_error(422, "invalid_input");
    api.get("/api/v1/tickets?team=abc")
        .await
        .assert_error(422, "invalid_input");
    api.get("/api/v1/tickets?limit=0")
        .await
        .assert_error(422, "invalid_input");
    api.get("/api/v1/tickets?cursor=garbage")
        .await
        .assert_error(422, "invalid_input");
    let admin = app.api(&app.agent(Role::Admin).await);
    let r = admin
        .post(
            "/api/v1/agents",
            &json!({"email": "x@example.com", "name": "x", "role": "boss", "password": "12345678"}),
        )
        .await;
    r.assert_error(422, "invalid_input");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin, supervisor, agent, read-only"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn illegal_transitions_and_closed_tickets_are_refused() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let t = app.ticket(&agent, "t@example.com").await;
    let path = format!("/api/v1/tickets/{}", t["id"]);
    api.patch(&path, &json!({"status": "closed"}))
        .await
        .assert_error(422, "illegal_transition");
    assert_eq!(
        api.patch(&path, &json!({"status": "open"})).await.body["status"],
        "open"
    );
    api.patch(&path, &json!({"status": "new"}))
        .await
        .assert_error(422, "illegal_transition");
    assert_eq!(
        api.patch(&path, &json!({"status": "solved"})).await.body["status"],
        "solved"
    );
    api.patch(&path, &json!({"status": "closed"}))
        .await
        .assert_error(422, "illegal_transition");

    // Automation closes it; then nothing may change.
    let id = TicketId(t["id"].as_i64().unwrap());
    let close = TicketPatch {
        status: Some(Status::Closed),
        ..Default::default()
    };
    app.store
        .update_ticket(id, &close, Actor::System)
        .await
        .unwrap();
    api.patch(&path, &json!({"priority": "high"}))
        .await
        .assert_error(422, "ticket_closed");
    api.post(&format!("{path}/messages"), &json!({"body": "hello?"}))
        .await
        .assert_error(422, "ticket_closed");
}

#[tokio::test]
async fn unknown_ids_are_not_found_and_unknown_references_are_invalid() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Admin).await);
    for path in [
        "/api/v1/tickets/999999",
        "/api/v1/tickets/abc",
        "/api/v1/tickets/999999/messages",
        "/api/v1/tickets/999999/events",
        "/api/v1/attachments/999999",
        "/api/v1/customers/999999",
        "/api/v1/customers/999999/tickets",
        "/api/v1/organizations/999999",
        "/api/v1/agents/999999",
        "/api/v1/teams/999999",
        "/api/v1/no-such-endpoint",
    ] {
        api.get(path).await.assert_error(404, "not_found");
    }
    api.patch("/api/v1/tickets/999999", &json!({"priority": "low"}))
        .await
        .assert_error(404, "not_found");
    api.post("/api/v1/tickets/999999/messages", &json!({"body": "x"}))
        .await
        .assert_error(404, "not_found");
    let r = api
        .post(
            "/api/v1/tickets",
            &json!({"subject": "s", "body": "b", "requester_id": 999999}),
        )
        .await;
    r.assert_error(422, "invalid_input");
    let r = api
        .post("/api/v1/tickets", &json!({"subject": "s", "body": "b", "requester": {"email": "r@example.com"}, "assignee_id": 999999}))
        .await;
    r.assert_error(422, "invalid_input");
    api.send(api.request(Method::DELETE, "/api/v1/tickets"))
        .await
        .assert_error(405, "method_not_allowed");
}

#[tokio::test]
async fn wrong_content_types_are_unsupported_media_types() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let r = api
        .send(
            api.request(Method::POST, "/api/v1/tickets")
                .header(header::CONTENT_TYPE, "text/plain")
                .body("subject=x"),
        )
        .await;
    r.assert_error(415, "unsupported_media_type");
    let t = app.ticket(&agent, "ct@example.com").await;
    let r = api
        .send(
            api.request(
                Method::POST,
                &format!("/api/v1/tickets/{}/messages", t["id"]),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("body=x"),
        )
        .await;
    r.assert_error(415, "unsupported_media_type");
    let r = api
        .send(
            api.request(
                Method::POST,
                &format!("/api/v1/tickets/{}/messages", t["id"]),
            )
            .header(header::CONTENT_TYPE, "multipart/form-data")
            .body("garbage"),
        )
        .await;
    r.assert_error(422, "invalid_input");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_with_the_error_shape() {
    let app = spawn_app_with(|c| c.max_body_bytes = 16 * 1024).await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let big = "x".repeat(64 * 1024);
    let r = api
        .post(
            "/api/v1/tickets",
            &json!({"subject": "s", "body": big, "requester_id": 1}),
        )
        .await;
    r.assert_error(413, "payload_too_large");

    let t = app.ticket(&agent, "big@example.com").await;
    let (ct, body) = multipart(
        &[("body", "see file")],
        &[(
            "attachments",
            "big.bin",
            "application/octet-stream",
            big.as_bytes(),
        )],
    );
    let r = api
        .send(
            api.request(
                Method::POST,
                &format!("/api/v1/tickets/{}/messages", t["id"]),
            )
            .header(header::CONTENT_TYPE, ct)
            .body(body),
        )
        .await;
    r.assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn invalid_idempotency_keys_and_conflicting_creates_are_client_errors() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let api = app.api(&admin);
    let r = api
        .send(
            api.request(Method::POST, "/api/v1/customers")
                .header("idempotency-key", "x".repeat(300))
                .json(&json!({"name": "N"})),
        )
        .await;
    r.assert_error(422, "invalid_input");
    let agent = json!({"email": "dup@example.com", "name": "Dup", "role": "agent", "password": "long enough"});
    assert_eq!(
        api.post("/api/v1/agents", &agent).await.status.as_u16(),
        201
    );
    api.post("/api/v1/agents", &agent)
        .await
        .assert_error(409, "conflict");
    let short =
        json!({"email": "short@example.com", "name": "S", "role": "agent", "password": "short"});
    api.post("/api/v1/agents", &short)
        .await
        .assert_error(422, "invalid_input");
    assert_eq!(
        api.post("/api/v1/teams", &json!({"name": "Ops"}))
            .await
            .status
            .as_u16(),
        201
    );
    api.post("/api/v1/teams", &json!({"name": "Ops"}))
        .await
        .assert_error(409, "conflict");
}

/// Found by schemathesis (`.ci/run`, "api-conformance"): what the OpenAPI document allows
/// is accepted, and what it forbids is rejected.
#[tokio::test]
async fn bodies_are_objects_and_integral_floats_are_integers() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let api = app.api(&admin);
    // serde would read `[name, description]` as a team; the document says object.
    let r = api
        .send(
            api.request(Method::POST, "/api/v1/teams")
                .header(header::CONTENT_TYPE, "application/json")
                .body(r#"["Billing", null]"#),
        )
        .await;
    r.assert_error(422, "invalid_input");
    let team = api.post("/api/v1/teams", &json!({"name": "Billing"})).await;
    assert_eq!(team.status.as_u16(), 201, "{}", team.text);
    let id = team.body["id"].as_i64().unwrap();
    // JSON Schema's `integer` includes 2.0: an id or tier written so is accepted.
    let r = api
        .post(
            "/api/v1/agents",
            &json!({"email": "float@kefu.example", "name": "F", "role": "agent",
                    "password": "long enough", "tier": 2.0, "teams": [id as f64]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.body["tier"], 2);
    assert_eq!(r.body["teams"], json!([id]));
    let r = api
        .post(
            "/api/v1/agents",
            &json!({"email": "half@kefu.example", "name": "H", "role": "agent",
                    "password": "long enough", "tier": 1.5}),
        )
        .await;
    r.assert_error(422, "invalid_input");
    // A blank cursor is not one the server issued; one with spaces around it is.
    api.get("/api/v1/tickets?cursor=")
        .await
        .assert_error(422, "invalid_input");
    let r = api.get("/api/v1/tickets?cursor=%201.1%20").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
}
