//! Test harness shared by the API and web tests: boots the real application on a random
//! port over a fresh database (`KEFU_TEST_DB=sqlite|postgres`), and makes callers of every
//! kind: agents of each role with API tokens, and cookie sessions (with CSRF token) for
//! portal customers and agents. Everything goes over real TCP with `reqwest`.
//!
//! Each test gets its own server and database; the database is dropped with the
//! [`TestApp`].

#![allow(dead_code)] // each test binary uses a different part of the harness

use kefu_domain::*;
use kefu_server::{AppState, Application, Config, auth};
use kefu_store::{SessionOwner, Store, testing::TestDb};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// Password of every agent and customer the harness creates.
pub const PASSWORD: &str = "correct horse battery";

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password_blocking(PASSWORD).expect("hashing works"))
        .clone()
}

fn seq() -> u32 {
    static SEQ: AtomicU32 = AtomicU32::new(1);
    SEQ.fetch_add(1, Ordering::Relaxed)
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    pub state: AppState,
    pub store: Arc<dyn Store>,
    /// The SMTP listener's address, if the config asked for one.
    pub smtp: Option<std::net::SocketAddr>,
    /// The LMTP listener's address, if the config asked for one.
    pub lmtp: Option<std::net::SocketAddr>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    // Dropped last: removes the database.
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with changes to the default test config (e.g. a small body limit).
pub async fn spawn_app_with(change: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(kefu_store::testing::fresh_store().await, change).await
}

/// Like [`spawn_app`], over a store that stamps rows (and runs SLA timers) with `clock`
/// (e.g. a [`kefu_store::ManualClock`]); the server's own "now" stays the wall clock.
pub async fn spawn_app_with_clock(clock: Arc<dyn kefu_store::Clock>) -> TestApp {
    spawn_app_on(
        kefu_store::testing::fresh_store_with_clock(clock).await,
        |_| {},
    )
    .await
}

async fn spawn_app_on(db: TestDb, change: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    change(&mut config);
    let app = Application::build(db.store(), config)
        .await
        .expect("application builds");
    let base = format!("http://{}", app.local_addr());
    let (smtp, lmtp) = (app.smtp_addr(), app.lmtp_addr());
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        state,
        smtp,
        lmtp,
        store: db.store(),
        shutdown: Some(tx),
        _db: db,
    }
}

/// An agent with an API token.
pub struct TestAgent {
    pub agent: Agent,
    pub token: String,
}

impl TestAgent {
    pub fn id(&self) -> AgentId {
        self.agent.id
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new agent of `role` (unique email `agentN@example.com`, password [`PASSWORD`])
    /// with an API token.
    pub async fn agent(&self, role: Role) -> TestAgent {
        let n = seq();
        let new = NewAgent {
            email: Email::parse(&format!("agent{n}@example.com")).unwrap(),
            name: format!("Agent {n} ({role})"),
            role,
            tier: Tier::FRONTLINE,
            teams: vec![],
            password_hash: password_hash(),
        };
        let agent = self.store.create_agent(&new).await.expect("agent created");
        let token = auth::new_secret("kefu_");
        let hash = auth::keyed_hash(&self.state.token_key, &token);
        self.store
            .create_api_token(agent.id, "test", &hash)
            .await
            .expect("token created");
        TestAgent { agent, token }
    }

    /// An API client authenticated with the agent's bearer token.
    pub fn api(&self, agent: &TestAgent) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: self.base.clone(),
            bearer: Some(agent.token.clone()),
            csrf: None,
        }
    }

    /// A client with no credentials at all.
    pub fn anonymous(&self) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: self.base.clone(),
            bearer: None,
            csrf: None,
        }
    }

    pub async fn organization(&self, name: &str, shares_tickets: bool) -> Organization {
        let new = NewOrganization {
            name: name.into(),
            domains: vec![],
            segment: Segment::Standard,
            shares_tickets,
        };
        self.store
            .create_organization(&new)
            .await
            .expect("organization created")
    }

    /// A customer with an email identity, optionally in an organization, with a portal
    /// password ([`PASSWORD`]).
    pub async fn customer(&self, name: &str, email: &str, org: Option<OrganizationId>) -> Customer {
        let new = NewCustomer {
            name: name.into(),
            email: Some(Email::parse(email).unwrap()),
            phones: vec![],
            external_ids: vec![],
            organization_id: org,
            segment: Segment::Standard,
            language: Lang::En,
            time_zone: "UTC".into(),
        };
        let c = self
            .store
            .create_customer(&new, None)
            .await
            .expect("customer created");
        self.store
            .set_customer_password(c.id, &password_hash())
            .await
            .expect("password set");
        c
    }

    /// A cookie-enabled client signed in as `owner`, sending the session's CSRF token on
    /// every request.
    pub async fn session_client(&self, owner: SessionOwner) -> Api {
        let (secret, session) = auth::start_session(&self.state, owner)
            .await
            .expect("session started");
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let url: reqwest::Url = self.base.parse().unwrap();
        jar.add_cookie_str(&format!("{}={secret}; Path=/", auth::SESSION_COOKIE), &url);
        let client = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Api {
            client,
            base: self.base.clone(),
            bearer: None,
            csrf: Some(session.csrf_token),
        }
    }

    /// A portal session for a customer.
    pub async fn client_for_customer(&self, customer: &Customer) -> Api {
        self.session_client(SessionOwner::Customer(customer.id))
            .await
    }

    /// Creates a ticket through the API as `agent`, for a requester found or created by email.
    pub async fn ticket(&self, agent: &TestAgent, requester_email: &str) -> Value {
        let r = self
            .api(agent)
            .post(
                "/api/v1/tickets",
                &serde_json::json!({
                    "subject": "打印机无法连接", "body": "It says offline.",
                    "requester": {"email": requester_email, "name": "Li Wei"}
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }
}

/// An HTTP client bound to the test server with one kind of credentials.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub bearer: Option<String>,
    /// Session CSRF token, sent as `X-CSRF-Token`; `None` for bearer or anonymous clients.
    pub csrf: Option<String>,
}

/// A response with its body read (as JSON when it is JSON, else `Value::Null`).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub async fn read(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body is readable");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    /// Asserts status and the `{"error": {"code", "message"}}` shape with `code`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.text);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            self.text
        );
    }
}

impl Api {
    /// A request builder with this client's credentials.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.bearer {
            r = r.bearer_auth(t);
        }
        if let Some(c) = &self.csrf {
            r = r.header("x-csrf-token", c);
        }
        r
    }

    pub async fn send(&self, r: reqwest::RequestBuilder) -> Resp {
        Resp::read(r.send().await.expect("request is sent")).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(Method::PATCH, path).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(Method::PUT, path).json(body)).await
    }
}

/// A `multipart/form-data` body built by hand: returns the content type and the bytes.
/// `files` are `(field, filename, content_type, bytes)`.
pub fn multipart(
    fields: &[(&str, &str)],
    files: &[(&str, &str, &str, &[u8])],
) -> (String, Vec<u8>) {
    let boundary = "kefu-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, filename, content_type, data) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
