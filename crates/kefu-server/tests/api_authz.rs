//! Who may do what through the API: every role (admin, supervisor, agent, read-only,
//! portal customer, anonymous) against every class of endpoint. The portal's visibility
//! rules are in `api_portal.rs`.

mod common;

use common::{Api, TestApp, spawn_app};
use kefu_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Admin,
    Supervisor,
    Agent,
    ReadOnly,
    Customer,
    Anonymous,
}
use Who::*;
const EVERYONE: [Who; 6] = [Admin, Supervisor, Agent, ReadOnly, Customer, Anonymous];

struct World {
    app: TestApp,
    clients: Vec<(Who, Api)>,
    /// A ticket the customer requested.
    own_ticket: i64,
    customer_id: i64,
}

async fn world() -> World {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let customer = app.customer("Zhang Min", "zhang@example.com", None).await;
    let r = app
        .api(&admin)
        .post(
            "/api/v1/tickets",
            &json!({"subject": "mine", "body": "b", "requester_id": customer.id.0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let mut clients = vec![(Admin, app.api(&admin))];
    for (who, role) in [
        (Supervisor, Role::Supervisor),
        (Agent, Role::Agent),
        (ReadOnly, Role::ReadOnly),
    ] {
        clients.push((who, app.api(&app.agent(role).await)));
    }
    clients.push((Customer, app.client_for_customer(&customer).await));
    clients.push((Anonymous, app.anonymous()));
    World {
        own_ticket: r.body["id"].as_i64().unwrap(),
        customer_id: customer.id.0,
        app,
        clients,
    }
}

/// One endpoint class: a request and the expected status for each caller.
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    /// Built per caller so that creates do not collide (unique emails, names).
    body: fn(Who) -> Option<Value>,
    expect: fn(Who) -> u16,
}

fn none(_: Who) -> Option<Value> {
    None
}

async fn check(w: &World, cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        for (who, api) in &w.clients {
            let mut req = api.request(case.method.clone(), &case.path);
            if let Some(b) = (case.body)(*who) {
                req = req.json(&b);
            }
            let r = api.send(req).await;
            let want = (case.expect)(*who);
            if r.status.as_u16() != want {
                failures.push(format!(
                    "{} as {who:?}: want {want}, got {} {}",
                    case.name, r.status, r.text
                ));
            } else if want >= 400 {
                let code = match want {
                    401 => "unauthenticated",
                    403 => "forbidden",
                    _ => "not_found",
                };
                if r.body["error"]["code"] != code {
                    failures.push(format!(
                        "{} as {who:?}: want code {code}, got {}",
                        case.name, r.text
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn each_role_gets_exactly_its_permissions_on_every_endpoint_class() {
    let w = world().await;
    let t = w.own_ticket;
    let read_all = |who| match who {
        Anonymous => 401,
        Customer => 403,
        _ => 200,
    };
    let cases = [
        Case {
            name: "list tickets",
            method: Method::GET,
            path: "/api/v1/tickets".into(),
            body: none,
            expect: |who| if who == Anonymous { 401 } else { 200 },
        },
        Case {
            name: "read own ticket",
            method: Method::GET,
            path: format!("/api/v1/tickets/{t}"),
            body: none,
            expect: |who| if who == Anonymous { 401 } else { 200 },
        },
        Case {
            name: "create ticket",
            method: Method::POST,
            path: "/api/v1/tickets".into(),
            body: |who| {
                Some(
                    json!({"subject": "s", "body": "b", "requester": {"email": format!("{who:?}@example.com")}}),
                )
            },
            expect: |who| match who {
                Anonymous => 401,
                ReadOnly => 403,
                _ => 201,
            },
        },
        Case {
            name: "patch ticket",
            method: Method::PATCH,
            path: format!("/api/v1/tickets/{t}"),
            body: |_| Some(json!({"priority": "high"})),
            expect: |who| match who {
                Anonymous => 401,
                ReadOnly | Customer => 403,
                _ => 200,
            },
        },
        Case {
            name: "public reply",
            method: Method::POST,
            path: format!("/api/v1/tickets/{t}/messages"),
            body: |_| Some(json!({"body": "hello"})),
            expect: |who| match who {
                Anonymous => 401,
                ReadOnly => 403,
                _ => 201,
            },
        },
        Case {
            name: "internal note",
            method: Method::POST,
            path: format!("/api/v1/tickets/{t}/messages"),
            body: |_| Some(json!({"body": "note", "public": false})),
            expect: |who| match who {
                Anonymous => 401,
                ReadOnly | Customer => 403,
                _ => 201,
            },
        },
        Case {
            name: "list customers",
            method: Method::GET,
            path: "/api/v1/customers".into(),
            body: none,
            expect: read_all,
        },
        Case {
            name: "customer tickets",
            method: Method::GET,
            path: format!("/api/v1/customers/{}/tickets", w.customer_id),
            body: none,
            expect: read_all,
        },
        Case {
            name: "create customer",
            method: Method::POST,
            path: "/api/v1/customers".into(),
            body: |who| Some(json!({"name": "N", "email": format!("new-{who:?}@example.com")})),
            expect: |who| match who {
                Anonymous => 401,
                ReadOnly | Customer => 403,
                _ => 201,
            },
        },
        Case {
            name: "list organizations",
            method: Method::GET,
            path: "/api/v1/organizations".into(),
            body: none,
            expect: read_all,
        },
        Case {
            name: "create organization",
            method: Method::POST,
            path: "/api/v1/organizations".into(),
            body: |who| Some(json!({"name": format!("Org {who:?}")})),
            expect: |who| match who {
                Anonymous => 401,
                Admin | Supervisor => 201,
                _ => 403,
            },
        },
        Case {
            name: "list agents",
            method: Method::GET,
            path: "/api/v1/agents".into(),
            body: none,
            expect: read_all,
        },
        Case {
            name: "create agent",
            method: Method::POST,
            path: "/api/v1/agents".into(),
            body: |who| {
                Some(
                    json!({"email": format!("new-agent-{who:?}@example.com"), "name": "N",
                "role": "agent", "password": "long enough password"}),
                )
            },
            expect: |who| match who {
                Anonymous => 401,
                Admin => 201,
                _ => 403,
            },
        },
        Case {
            name: "list teams",
            method: Method::GET,
            path: "/api/v1/teams".into(),
            body: none,
            expect: read_all,
        },
        Case {
            name: "create team",
            method: Method::POST,
            path: "/api/v1/teams".into(),
            body: |who| Some(json!({"name": format!("Team {who:?}")})),
            expect: |who| match who {
                Anonymous => 401,
                Admin => 201,
                _ => 403,
            },
        },
        Case {
            name: "me",
            method: Method::GET,
            path: "/api/v1/me".into(),
            body: none,
            expect: |who| if who == Anonymous { 401 } else { 200 },
        },
        Case {
            name: "list SLA policies",
            method: Method::GET,
            path: "/api/v1/sla-policies".into(),
            body: none,
            expect: read_all,
        },
        Case {
            name: "create SLA policy",
            method: Method::POST,
            path: "/api/v1/sla-policies".into(),
            body: |who| Some(json!({"name": format!("SLA {who:?}"), "targets": []})),
            expect: |who| match who {
                Anonymous => 401,
                Admin => 201,
                _ => 403,
            },
        },
        Case {
            name: "read a ticket's SLA",
            method: Method::GET,
            path: format!("/api/v1/tickets/{t}/sla"),
            body: none,
            expect: read_all,
        },
        Case {
            name: "re-apply a ticket's SLA",
            method: Method::POST,
            path: format!("/api/v1/tickets/{t}/sla/reapply"),
            body: none,
            expect: |who| match who {
                Anonymous => 401,
                Admin | Supervisor => 200,
                _ => 403,
            },
        },
        Case {
            name: "upcoming SLA breaches",
            method: Method::GET,
            path: "/api/v1/sla/upcoming".into(),
            body: none,
            expect: |who| match who {
                Anonymous => 401,
                Admin | Supervisor => 200,
                _ => 403,
            },
        },
        Case {
            name: "list tickets by SLA",
            method: Method::GET,
            path: "/api/v1/tickets?sla=breached".into(),
            body: none,
            expect: read_all,
        },
        Case {
            name: "own notifications",
            method: Method::GET,
            path: "/api/v1/notifications".into(),
            body: none,
            expect: read_all,
        },
        Case {
            // Every agent, read-only ones too: it changes no ticket, only one's own inbox.
            name: "mark own notifications read",
            method: Method::POST,
            path: "/api/v1/notifications/read".into(),
            body: |_| Some(json!({})),
            expect: read_all,
        },
    ];
    check(&w, &cases).await;
    assert_eq!(EVERYONE.len(), w.clients.len());
}

#[tokio::test]
async fn supervisors_change_organizations_and_only_admins_change_agents_teams_and_sla_policies() {
    let w = world().await;
    let org = w.app.organization("Acme", false).await.id.0;
    let agent = w.app.agent(Role::Agent).await.id().0;
    let team = w.app.store.create_team("Billing", "").await.unwrap().id.0;
    let policy = w
        .app
        .store
        .create_sla_policy(&kefu_store::NewSlaPolicy {
            name: "Standard".into(),
            position: None,
            active: true,
            def: Default::default(),
        })
        .await
        .unwrap()
        .id
        .0;
    let cases = [
        Case {
            name: "read SLA policy",
            method: Method::GET,
            path: format!("/api/v1/sla-policies/{policy}"),
            body: none,
            expect: |who| match who {
                Anonymous => 401,
                Customer => 403,
                _ => 200,
            },
        },
        Case {
            name: "replace SLA policy",
            method: Method::PUT,
            path: format!("/api/v1/sla-policies/{policy}"),
            body: |_| Some(json!({"name": "Standard", "warn_at": [80]})),
            expect: |who| match who {
                Anonymous => 401,
                Admin => 200,
                _ => 403,
            },
        },
        Case {
            name: "re-apply an SLA policy to open tickets",
            method: Method::POST,
            path: format!("/api/v1/sla-policies/{policy}/reapply"),
            body: none,
            expect: |who| match who {
                Anonymous => 401,
                Admin => 202,
                _ => 403,
            },
        },
        Case {
            name: "patch organization",
            method: Method::PATCH,
            path: format!("/api/v1/organizations/{org}"),
            body: |_| Some(json!({"shares_tickets": true})),
            expect: |who| match who {
                Anonymous => 401,
                Admin | Supervisor => 200,
                _ => 403,
            },
        },
        Case {
            name: "patch agent",
            method: Method::PATCH,
            path: format!("/api/v1/agents/{agent}"),
            body: |_| Some(json!({"tier": 2})),
            expect: |who| match who {
                Anonymous => 401,
                Admin => 200,
                _ => 403,
            },
        },
        Case {
            name: "patch team",
            method: Method::PATCH,
            path: format!("/api/v1/teams/{team}"),
            body: |_| Some(json!({"description": "Invoices"})),
            expect: |who| match who {
                Anonymous => 401,
                Admin => 200,
                _ => 403,
            },
        },
        Case {
            name: "patch customer",
            method: Method::PATCH,
            path: format!("/api/v1/customers/{}", w.customer_id),
            body: |_| Some(json!({"segment": "vip"})),
            expect: |who| match who {
                Anonymous => 401,
                ReadOnly | Customer => 403,
                _ => 200,
            },
        },
    ];
    check(&w, &cases).await;
}
