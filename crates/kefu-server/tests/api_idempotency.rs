//! `Idempotency-Key` on creates: a retried request returns the first result (same status,
//! same resource) and creates nothing new. Keys are scoped per caller.

mod common;

use common::{Api, spawn_app};
use kefu_domain::Role;
use kefu_store::TicketFilter;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post_with_key(api: &Api, path: &str, key: &str, body: &Value) -> common::Resp {
    api.send(
        api.request(Method::POST, path)
            .header("Idempotency-Key", key)
            .json(body),
    )
    .await
}

#[tokio::test]
async fn a_retried_ticket_create_returns_the_first_ticket_and_creates_nothing() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let body =
        json!({"subject": "Retry me", "body": "b", "requester": {"email": "idem@example.com"}});
    let first = post_with_key(&api, "/api/v1/tickets", "key-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let count = app
        .store
        .count_tickets(&TicketFilter::default())
        .await
        .unwrap();
    let again = post_with_key(&api, "/api/v1/tickets", "key-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "same body");
    assert_eq!(
        app.store
            .count_tickets(&TicketFilter::default())
            .await
            .unwrap(),
        count
    );
    let changed =
        json!({"subject": "Another", "body": "b", "requester": {"email": "idem@example.com"}});
    let r = post_with_key(&api, "/api/v1/tickets", "key-1", &changed).await;
    r.assert_error(422, "invalid_input");
    let msgs = api
        .get(&format!("/api/v1/tickets/{}/messages", first.body["id"]))
        .await;
    assert_eq!(msgs.body.as_array().unwrap().len(), 1, "one first message");

    // Another key, or the same key from another caller, is another ticket.
    let other = post_with_key(&api, "/api/v1/tickets", "key-2", &body).await;
    assert_ne!(other.body["id"], first.body["id"]);
    let colleague = app.api(&app.agent(Role::Agent).await);
    let theirs = post_with_key(&colleague, "/api/v1/tickets", "key-1", &body).await;
    assert_ne!(theirs.body["id"], first.body["id"]);
    assert_eq!(
        app.store
            .count_tickets(&TicketFilter::default())
            .await
            .unwrap(),
        count + 2
    );
}

#[tokio::test]
async fn a_retried_reply_returns_the_first_message() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let api = app.api(&agent);
    let t = app.ticket(&agent, "reply-idem@example.com").await;
    let path = format!("/api/v1/tickets/{}/messages", t["id"]);
    let first = post_with_key(&api, &path, "reply-1", &json!({"body": "Once only"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = post_with_key(&api, &path, "reply-1", &json!({"body": "Once only"})).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(
        api.get(&path).await.body.as_array().unwrap().len(),
        2,
        "first message and one reply"
    );
    post_with_key(&api, &path, "reply-1", &json!({"body": "Something else"}))
        .await
        .assert_error(422, "invalid_input");
}

#[tokio::test]
async fn a_retried_customer_create_returns_the_first_customer_and_a_reused_key_is_refused() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Agent).await);
    let body =
        json!({"name": "Chen Jie", "email": "chen@example.com", "phones": ["+86 10 1234 5678"]});
    let first = post_with_key(&api, "/api/v1/customers", "cust-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = post_with_key(&api, "/api/v1/customers", "cust-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body, first.body);
    let all = api.get("/api/v1/customers?q=chen").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);

    let different = json!({"name": "Someone Else", "email": "else@example.com"});
    post_with_key(&api, "/api/v1/customers", "cust-1", &different)
        .await
        .assert_error(422, "invalid_input");
    // A key is one request: it cannot create another kind of resource either.
    let ticket = json!({"subject": "S", "body": "b", "requester": {"email": "chen@example.com"}});
    post_with_key(&api, "/api/v1/tickets", "cust-1", &ticket)
        .await
        .assert_error(422, "invalid_input");
    assert_eq!(
        api.get("/api/v1/customers?q=example.com").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the refused requests created nothing"
    );
    // Without a key, a duplicate email is a conflict rather than a second customer.
    api.post("/api/v1/customers", &body)
        .await
        .assert_error(409, "conflict");
}

#[tokio::test]
async fn a_customer_create_that_failed_can_be_corrected_and_retried_with_its_key() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Agent).await);
    app.customer("Taken", "taken@example.com", None).await;
    let dup = json!({"name": "New", "email": "taken@example.com"});
    post_with_key(&api, "/api/v1/customers", "fix-1", &dup)
        .await
        .assert_error(409, "conflict");
    let fixed = json!({"name": "New", "email": "fresh@example.com"});
    let r = post_with_key(&api, "/api/v1/customers", "fix-1", &fixed).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let again = post_with_key(&api, "/api/v1/customers", "fix-1", &fixed).await;
    assert_eq!(again.body["id"], r.body["id"]);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_resource() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Agent).await);
    let ticket =
        json!({"subject": "Race", "body": "b", "requester": {"email": "race@example.com"}});
    let (a, b) = tokio::join!(
        post_with_key(&api, "/api/v1/tickets", "race-1", &ticket),
        post_with_key(&api, "/api/v1/tickets", "race-1", &ticket)
    );
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{} {}",
        a.text,
        b.text
    );
    assert_eq!(a.body["id"], b.body["id"]);

    let customer = json!({"name": "Race", "email": "race-customer@example.com"});
    let (a, b, c) = tokio::join!(
        post_with_key(&api, "/api/v1/customers", "race-2", &customer),
        post_with_key(&api, "/api/v1/customers", "race-2", &customer),
        post_with_key(&api, "/api/v1/customers", "race-2", &customer)
    );
    for r in [&a, &b, &c] {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["id"], a.body["id"]);
    }
    let found = api.get("/api/v1/customers?q=race-customer").await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
}
