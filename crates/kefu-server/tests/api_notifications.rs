//! The caller's notifications over the API: each agent lists only their own, newest first
//! with cursors and the unread count, and marks some or all read; bad input is a 4xx with
//! a code; both endpoints are in the OpenAPI document. Notifications are written through
//! the store, as the SLA engine does. Runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;

use common::{TestApp, spawn_app};
use kefu_domain::*;
use kefu_store::NewNotification;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Stores one notification per title for `agent`, oldest first; returns their ids.
async fn notify(app: &TestApp, agent: AgentId, ticket: Option<i64>, titles: &[&str]) -> Vec<i64> {
    let batch: Vec<NewNotification> = titles
        .iter()
        .map(|t| NewNotification {
            agent_id: agent,
            ticket_id: ticket.map(TicketId),
            kind: "sla_warning".into(),
            title: t.to_string(),
            body: format!("{t}: the first reply is due in 15 minutes"),
            dedupe_key: None,
        })
        .collect();
    let n = app.store.create_notifications(&batch).await.unwrap();
    assert_eq!(n, titles.len() as u64);
    let page = app
        .store
        .list_notifications(agent, false, None, titles.len() as u32)
        .await
        .unwrap();
    page.items.iter().rev().map(|n| n.id.0).collect()
}

fn titles(body: &Value) -> Vec<&str> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_agent_lists_their_own_notifications_newest_first_with_the_unread_count() {
    let app = spawn_app().await;
    let li = app.agent(Role::Agent).await;
    let wang = app.agent(Role::Supervisor).await;
    let ticket = app.ticket(&li, "zhou@example.com").await;
    let (tid, number) = (ticket["id"].as_i64().unwrap(), ticket["number"].as_i64());
    notify(&app, li.id(), Some(tid), &["one", "two"]).await;
    notify(&app, li.id(), None, &["three"]).await;
    notify(&app, wang.id(), Some(tid), &["for wang"]).await;
    let api = app.api(&li);

    let r = api.get("/api/v1/notifications").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(titles(&r.body), ["three", "two", "one"]);
    assert_eq!(r.body["unread"], 3);
    assert_eq!(r.body["next_cursor"], Value::Null);
    let one = &r.body["items"][2];
    assert_eq!(one["ticket_id"], tid);
    assert_eq!(one["ticket_number"].as_i64(), number);
    assert_eq!(one["kind"], "sla_warning");
    assert_eq!(one["body"], "one: the first reply is due in 15 minutes");
    assert_eq!(one["read_at"], Value::Null);
    let created: Timestamp = one["created_at"].as_str().unwrap().parse().unwrap();
    assert!(Timestamp::now().duration_since(created).abs() < jiff::SignedDuration::from_mins(5));
    let three = &r.body["items"][0];
    assert_eq!(
        (&three["ticket_id"], &three["ticket_number"]),
        (&Value::Null, &Value::Null)
    );

    let first = api.get("/api/v1/notifications?limit=2").await;
    assert_eq!(titles(&first.body), ["three", "two"]);
    assert_eq!(first.body["unread"], 3, "the count is of all, not the page");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = api
        .get(&format!("/api/v1/notifications?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(titles(&rest.body), ["one"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    let theirs = app.api(&wang).get("/api/v1/notifications").await;
    assert_eq!(titles(&theirs.body), ["for wang"]);
    assert_eq!(theirs.body["unread"], 1);
    let nobody = app
        .api(&app.agent(Role::ReadOnly).await)
        .get("/api/v1/notifications")
        .await;
    assert_eq!(nobody.status, StatusCode::OK);
    assert_eq!(
        (nobody.body["items"].clone(), nobody.body["unread"].clone()),
        (json!([]), json!(0))
    );
}

#[tokio::test]
async fn marking_read_by_ids_or_all_touches_only_the_callers_notifications() {
    let app = spawn_app().await;
    let li = app.agent(Role::Agent).await;
    let wang = app.agent(Role::Agent).await;
    let mine = notify(&app, li.id(), None, &["a", "b", "c"]).await;
    let theirs = notify(&app, wang.id(), None, &["w"]).await;
    let api = app.api(&li);

    let r = api
        .post(
            "/api/v1/notifications/read",
            &json!({"ids": [mine[0], theirs[0], 999_999]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({"marked": 1}));
    let unread = api.get("/api/v1/notifications?unread=true").await;
    assert_eq!(titles(&unread.body), ["c", "b"]);
    assert_eq!(unread.body["unread"], 2);
    let all = api.get("/api/v1/notifications?unread=false").await;
    assert_eq!(titles(&all.body), ["c", "b", "a"]);
    let a = &all.body["items"][2];
    let read_at: Timestamp = a["read_at"].as_str().unwrap().parse().unwrap();
    assert!(read_at >= a["created_at"].as_str().unwrap().parse().unwrap());
    let wangs = app.api(&wang).get("/api/v1/notifications").await;
    assert_eq!(
        (
            wangs.body["unread"].clone(),
            wangs.body["items"][0]["read_at"].clone()
        ),
        (json!(1), Value::Null),
        "another agent's notification is not theirs to mark"
    );

    // Again: nothing new, and the first read time stays.
    let again = api
        .post("/api/v1/notifications/read", &json!({"ids": [mine[0]]}))
        .await;
    assert_eq!(again.body, json!({"marked": 0}));
    let none = api
        .post("/api/v1/notifications/read", &json!({"ids": []}))
        .await;
    assert_eq!(none.body, json!({"marked": 0}));
    let still = api.get("/api/v1/notifications").await;
    assert_eq!(still.body["items"][2]["read_at"], a["read_at"]);

    let rest = api.post("/api/v1/notifications/read", &json!({})).await;
    assert_eq!(rest.body, json!({"marked": 2}));
    let done = api.get("/api/v1/notifications?unread=true").await;
    assert_eq!(
        (done.body["items"].clone(), done.body["unread"].clone()),
        (json!([]), json!(0))
    );
    let null_ids = api
        .post("/api/v1/notifications/read", &json!({"ids": null}))
        .await;
    assert_eq!(null_ids.body, json!({"marked": 0}));
    assert_eq!(
        app.store
            .count_unread_notifications(wang.id())
            .await
            .unwrap(),
        1
    );

    // A web session marks its own too, with the CSRF header (and not without it).
    let session = app
        .session_client(kefu_store::SessionOwner::Agent(wang.id()))
        .await;
    let forged = common::Api {
        csrf: Some("forged".into()),
        ..session.clone()
    };
    forged
        .post("/api/v1/notifications/read", &json!({}))
        .await
        .assert_error(403, "csrf_failed");
    let r = session.post("/api/v1/notifications/read", &json!({})).await;
    assert_eq!(r.body, json!({"marked": 1}));
}

#[tokio::test]
async fn bad_input_and_other_callers_get_a_4xx_with_a_code() {
    let app = spawn_app().await;
    let li = app.agent(Role::Agent).await;
    let api = app.api(&li);
    for q in [
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=not-a-cursor",
        "unread=maybe",
    ] {
        api.get(&format!("/api/v1/notifications?{q}"))
            .await
            .assert_error(422, "invalid_input");
    }
    for body in [
        json!({"ids": "all"}),
        json!({"ids": [1.5]}),
        json!({"ids": [1], "also": true}),
        json!({"ids": (1..=1001).collect::<Vec<i64>>()}),
        json!([1, 2]),
    ] {
        api.post("/api/v1/notifications/read", &body)
            .await
            .assert_error(422, "invalid_input");
    }
    let truncated = api
        .send(
            api.request(Method::POST, "/api/v1/notifications/read")
                .header("content-type", "application/json")
                .body("{\"ids\": ["),
        )
        .await;
    truncated.assert_error(422, "malformed_json");
    let no_json = api
        .send(
            api.request(Method::POST, "/api/v1/notifications/read")
                .body("{}"),
        )
        .await;
    no_json.assert_error(415, "unsupported_media_type");
    api.send(api.request(Method::DELETE, "/api/v1/notifications"))
        .await
        .assert_error(405, "method_not_allowed");

    let customer = app.customer("Zhou", "zhou@example.com", None).await;
    let portal = app.client_for_customer(&customer).await;
    portal
        .get("/api/v1/notifications")
        .await
        .assert_error(403, "forbidden");
    portal
        .post("/api/v1/notifications/read", &json!({}))
        .await
        .assert_error(403, "forbidden");
    app.anonymous()
        .get("/api/v1/notifications")
        .await
        .assert_error(401, "unauthenticated");
}

#[tokio::test]
async fn both_endpoints_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.anonymous().get("/api/openapi.json").await.body;
    let list = &doc["paths"]["/api/v1/notifications"]["get"];
    assert_eq!(list["tags"], json!(["notifications"]));
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["unread", "cursor", "limit"]);
    for status in ["200", "401", "403", "422"] {
        assert!(list["responses"][status].is_object(), "GET {status}");
    }
    let page = &doc["components"]["schemas"]["NotificationPage"]["properties"];
    for field in ["items", "next_cursor", "unread"] {
        assert!(page[field].is_object(), "{field}");
    }
    let mark = &doc["paths"]["/api/v1/notifications/read"]["post"];
    assert_eq!(
        mark["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/MarkReadRequest"
    );
    for status in ["200", "401", "403", "413", "415", "422"] {
        assert!(mark["responses"][status].is_object(), "POST {status}");
    }
}
