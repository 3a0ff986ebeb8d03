//! Customers, organizations, agents and teams through the API, and the operations
//! endpoints (`/healthz`, `/metrics`, `/api/openapi.json`, `/api/docs`).

mod common;

use common::spawn_app;
use kefu_domain::Role;
use reqwest::{StatusCode, header};
use serde_json::json;

#[tokio::test]
async fn customers_are_created_found_changed_and_list_their_tickets() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let org = app.organization("Acme 公司", false).await;
    let r = api
        .post(
            "/api/v1/customers",
            &json!({
                "name": "Liu Yang", "email": "Liu.Yang@Acme.example", "organization_id": org.id.0,
                "segment": "vip", "language": "zh-CN", "time_zone": "Asia/Shanghai"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let c = r.body;
    assert_eq!(c["email"], "liu.yang@acme.example");
    assert_eq!(
        (c["segment"].as_str(), c["language"].as_str()),
        (Some("vip"), Some("zh-CN"))
    );
    assert_eq!(c["organization_id"], org.id.0);
    assert_eq!(
        c["identities"][0],
        json!({"kind": "email", "value": "liu.yang@acme.example", "primary": true})
    );
    let path = format!("/api/v1/customers/{}", c["id"]);
    assert_eq!(api.get(&path).await.body, c);

    let r = api
        .patch(
            &path,
            &json!({"name": "Liu Yang (CFO)", "organization_id": null,
            "add_identities": [{"kind": "phone", "value": "+86 21 5555 0000"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Liu Yang (CFO)");
    assert_eq!(r.body["organization_id"], serde_json::Value::Null);
    assert!(
        r.body["identities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "phone")
    );
    let r = api
        .patch(
            &path,
            &json!({"add_identities": [{"kind": "fax", "value": "1"}]}),
        )
        .await;
    r.assert_error(422, "invalid_input");

    api.post(
        "/api/v1/customers",
        &json!({"name": "Other", "email": "other@example.com"}),
    )
    .await;
    let found = api.get("/api/v1/customers?q=liu").await;
    let names: Vec<_> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, [json!("Liu Yang (CFO)")]);
    let page = api.get("/api/v1/customers?limit=1").await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let next = page.body["next_cursor"].as_str().expect("a second page");
    let page2 = api
        .get(&format!("/api/v1/customers?limit=1&cursor={next}"))
        .await;
    assert_ne!(page2.body["items"][0]["id"], page.body["items"][0]["id"]);

    let t = app.ticket(&agent, "liu.yang@acme.example").await;
    let tickets = api.get(&format!("{path}/tickets")).await;
    assert_eq!(tickets.status, StatusCode::OK);
    assert_eq!(tickets.body["items"][0]["id"], t["id"]);
    assert_eq!(tickets.body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn organizations_are_created_and_partially_updated() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Supervisor).await);
    let r = api
        .post(
            "/api/v1/organizations",
            &json!({"name": "Globex", "domains": ["@Globex.example"], "segment": "key-account"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["domains"], json!(["globex.example"]));
    assert_eq!(r.body["shares_tickets"], false);
    let path = format!("/api/v1/organizations/{}", r.body["id"]);
    let r = api.patch(&path, &json!({"shares_tickets": true})).await;
    assert_eq!(
        (r.body["name"].as_str(), r.body["shares_tickets"].as_bool()),
        (Some("Globex"), Some(true))
    );
    assert_eq!(r.body["segment"], "key-account", "absent fields stay");
    assert_eq!(
        api.get("/api/v1/organizations").await.body["items"][0]["id"],
        r.body["id"]
    );
    api.post("/api/v1/organizations", &json!({"domains": []}))
        .await
        .assert_error(422, "invalid_input");
    api.post(
        "/api/v1/organizations",
        &json!({"name": "X", "domains": ["not a domain"]}),
    )
    .await
    .assert_error(422, "invalid_input");
}

#[tokio::test]
async fn admins_manage_agents_and_teams_without_exposing_passwords() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let api = app.api(&admin);
    let team = api
        .post(
            "/api/v1/teams",
            &json!({"name": "VIP 支持", "description": "Key accounts"}),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.text);
    let team_id = team.body["id"].as_i64().unwrap();
    let r = api
        .post(
            "/api/v1/agents",
            &json!({"email": "Zhao@Example.com", "name": "Zhao Lei", "role": "supervisor",
            "tier": 3, "teams": [team_id], "password": "a long password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        !r.text.contains("password") && !r.text.contains("argon2"),
        "{}",
        r.text
    );
    assert_eq!(
        (r.body["email"].as_str(), r.body["role"].as_str()),
        (Some("zhao@example.com"), Some("supervisor"))
    );
    assert_eq!(
        (r.body["tier"].as_i64(), &r.body["teams"]),
        (Some(3), &json!([team_id]))
    );
    let path = format!("/api/v1/agents/{}", r.body["id"]);
    let r = api
        .patch(
            &path,
            &json!({"role": "read-only", "teams": [], "language": "zh-TW"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["role"].as_str(), r.body["language"].as_str()),
        (Some("read-only"), Some("zh-TW"))
    );
    assert_eq!(r.body["teams"], json!([]));
    assert_eq!(api.get(&path).await.body, r.body);
    assert!(
        api.get("/api/v1/agents").await.body["items"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );

    let t = api
        .patch(&format!("/api/v1/teams/{team_id}"), &json!({"name": "VIP"}))
        .await;
    assert_eq!(
        (t.body["name"].as_str(), t.body["description"].as_str()),
        (Some("VIP"), Some("Key accounts"))
    );
    assert_eq!(
        api.get("/api/v1/teams").await.body["items"][0]["name"],
        "VIP"
    );
}

#[tokio::test]
async fn health_metrics_and_docs_need_no_credentials() {
    let app = spawn_app().await;
    let anon = app.anonymous();
    let h = anon.get("/healthz").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.body["status"], "ok");
    assert_eq!(h.body["database"], app.store.engine());
    assert!(["sqlite", "postgres"].contains(&app.store.engine()));

    let spec = anon.get("/api/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec.body["paths"]["/api/v1/tickets/{id}"]["patch"].is_object());

    let docs = anon.get("/api/docs").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        docs.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(docs.text.contains("/api/v1/tickets/{id}/messages") && docs.text.contains("TicketDto"));

    let m = anon.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(m.text.contains("kefu_http_requests_total"), "{}", m.text);
    assert!(m.text.contains("route=\"/healthz\""), "{}", m.text);
}
