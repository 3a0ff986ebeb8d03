//! A browser stand-in for the web tests: keeps cookies, does not follow redirects (so
//! tests can assert them), reads CSRF tokens out of forms, and signs in through the real
//! login form.

#![allow(dead_code)] // not every test binary uses every helper

use crate::common::TestApp;

pub struct Browser {
    client: reqwest::Client,
    base: String,
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Page {
    /// The value of the first `csrf` hidden field on the page.
    #[track_caller]
    pub fn csrf(&self) -> String {
        between(&self.text, "name=\"csrf\" value=\"", "\"")
            .expect("page has a csrf field")
            .to_string()
    }

    /// A header as text (all values joined), or "".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn location(&self) -> String {
        self.header("location")
    }
}

/// The text between the first `start` and the following `end`.
pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds");
        Browser {
            client,
            base: app.base.clone(),
        }
    }

    async fn read(r: reqwest::RequestBuilder) -> Page {
        let res = r.send().await.expect("request is sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body is readable");
        Page {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut r = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        Self::read(r).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::read(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields),
        )
        .await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        Self::read(r).await
    }

    /// Signs in through `/login`; returns the status of the form post.
    pub async fn login_status(&self, email: &str, password: &str) -> u16 {
        let page = self.get("/login").await;
        let csrf = page.csrf();
        self.post_form(
            "/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
        .status
    }

    /// Signs in through `/login` and returns where the server sent us.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let page = self.get("/login").await;
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = page.csrf();
        let r = self
            .post_form(
                "/login",
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(r.status, 303, "login failed: {}", r.text);
        r.location()
    }

    /// Creates a ticket through the agent's new-ticket form; returns its id.
    pub async fn create_ticket(&self, requester: &str, subject: &str, body: &str) -> i64 {
        let csrf = self.get("/agent/tickets/new").await.csrf();
        let r = self
            .post_form(
                "/agent/tickets/new",
                &[
                    ("csrf", &csrf),
                    ("requester", requester),
                    ("subject", subject),
                    ("body", body),
                    ("priority", "normal"),
                    ("type", "question"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "ticket not created: {}", r.text);
        r.location()
            .trim_start_matches("/agent/tickets/")
            .parse()
            .expect("redirect to the ticket")
    }
}
