//! The web UI's accounts and settings end to end over real TCP: signing in and out,
//! portal registration, language negotiation, form validation, and administration.
//! Runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;
mod web_support;

use common::{PASSWORD, multipart, spawn_app};
use kefu_domain::Role;
use web_support::Browser;

#[tokio::test]
async fn the_language_follows_accept_language_and_the_switcher() {
    let app = spawn_app().await;
    let web = Browser::new(&app);
    let r = web
        .get_with("/login", &[("accept-language", "zh-TW,zh;q=0.9,en;q=0.5")])
        .await;
    assert!(r.text.contains("<html lang=\"zh-Hant\">"));
    assert!(r.text.contains("電子郵件"), "Traditional Chinese label");
    let r = web
        .get_with("/login?lang=zh-CN", &[("accept-language", "zh-TW")])
        .await;
    assert!(
        r.text.contains("邮箱"),
        "Simplified Chinese after ?lang=zh-CN"
    );
    assert!(r.header("set-cookie").contains("kefu_lang=zh-CN"));
    let r = web
        .get_with("/login", &[("accept-language", "zh-TW")])
        .await;
    assert!(
        r.text.contains("邮箱"),
        "the choice is remembered in a cookie"
    );
    let r = web.get("/no-such-page-here").await;
    assert_eq!(r.status, 404);
    assert!(
        r.text.contains("页面不存在"),
        "a friendly 404 page: {}",
        r.text
    );
    let api = web.get("/api/v1/no-such-endpoint").await;
    assert_eq!(api.status, 404);
    assert!(api.text.starts_with('{'), "the API keeps its JSON errors");

    // A signed-in agent's choice is saved to their profile and follows them.
    let agent = app.agent(Role::Agent).await;
    let a = Browser::new(&app);
    a.login(&agent.agent.email, PASSWORD).await;
    let inbox = a.get("/agent?lang=zh-TW").await;
    assert!(inbox.text.contains("未指派"), "{}", inbox.text);
    let elsewhere = Browser::new(&app);
    elsewhere.login(&agent.agent.email, PASSWORD).await;
    let inbox = elsewhere
        .get_with("/agent", &[("accept-language", "en")])
        .await;
    assert!(
        inbox.text.contains("我的待處理工單"),
        "preference beats Accept-Language"
    );
    let missing = elsewhere.get("/agent/tickets/999999").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.text.contains("找不到頁面"),
        "error pages speak the user's language"
    );
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_login_and_come_back_after() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let web = Browser::new(&app);
    let r = web.get("/agent/customers").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/login?next=%2Fagent%2Fcustomers");
    let page = web.get("/login?next=%2Fagent%2Fcustomers").await;
    let csrf = page.csrf();
    let r = web
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", &agent.agent.email),
                ("password", PASSWORD),
                ("next", "/agent/customers"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/agent/customers");
    let page = web.get("/agent").await;
    let r = web.post_form("/logout", &[("csrf", &page.csrf())]).await;
    assert_eq!(r.location(), "/login");
    assert_eq!(web.get("/agent").await.status, 303, "the session is gone");

    let bad = Browser::new(&app);
    let page = bad.get("/login").await;
    let r = bad
        .post_form(
            "/login",
            &[
                ("csrf", &page.csrf()),
                ("email", &agent.agent.email),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Wrong email or password."));
}

#[tokio::test]
async fn bad_form_input_re_renders_the_form_with_a_message() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let web = Browser::new(&app);
    web.login(&agent.agent.email, PASSWORD).await;
    let csrf = web.get("/agent/tickets/new").await.csrf();
    let r = web
        .post_form(
            "/agent/tickets/new",
            &[
                ("csrf", &csrf),
                ("requester", "x@example.com"),
                ("subject", "  "),
                ("body", "kept text"),
                ("priority", "high"),
                ("type", "incident"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("class=\"alert error\""));
    assert!(r.text.contains("kept text"), "the input survives");
    let id = web.create_ticket("x@example.com", "Fine", "Body").await;
    let page = web.get(&format!("/agent/tickets/{id}")).await;
    let r = web
        .post_form(
            &format!("/agent/tickets/{id}/update"),
            &[
                ("csrf", &page.csrf()),
                ("tags", "two words,ok"),
                ("orig_tags", ""),
                ("tier", "9"),
                ("orig_tier", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("class=\"alert error\""));
}

#[tokio::test]
async fn admins_manage_agents_and_teams_and_supervisors_manage_organizations() {
    let app = spawn_app().await;
    let admin = app.agent(Role::Admin).await;
    let web = Browser::new(&app);
    web.login(&admin.agent.email, PASSWORD).await;
    let csrf = web.get("/admin/teams").await.csrf();
    let r = web
        .post_form(
            "/admin/teams",
            &[
                ("csrf", &csrf),
                ("name", "售后服务"),
                ("description", "After-sales"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let team = app
        .store
        .find_team_by_name("售后服务")
        .await
        .unwrap()
        .expect("team created");
    let team_id = team.id.to_string();
    let r = web
        .post_form(
            "/admin/agents",
            &[
                ("csrf", &csrf),
                ("email", "wangfang@example.com"),
                ("name", "王芳"),
                ("role", "supervisor"),
                ("tier", "2"),
                ("teams", &team_id),
                ("password", "long enough pw"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let listed = web.get("/admin/agents").await;
    assert!(listed.text.contains("王芳") && listed.text.contains("售后服务"));
    let r = web
        .post_form(
            "/admin/agents",
            &[
                ("csrf", &csrf),
                ("email", "wangfang@example.com"),
                ("name", "Dup"),
                ("role", "agent"),
                ("tier", "1"),
                ("password", "long enough pw"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "duplicate email re-renders");
    let r = web
        .post_form(
            &format!("/admin/agents/{}", admin.agent.id),
            &[
                ("csrf", &csrf),
                ("name", "Me"),
                ("role", "agent"),
                ("tier", "1"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "no self-demotion");

    let sup = Browser::new(&app);
    sup.login("wangfang@example.com", "long enough pw").await;
    assert_eq!(sup.get("/admin/agents").await.status, 403);
    let page = sup.get("/admin/organizations").await;
    assert_eq!(page.status, 200);
    let r = sup
        .post_form(
            "/admin/organizations",
            &[
                ("csrf", &page.csrf()),
                ("name", "Acme"),
                ("domains", "acme.example"),
                ("segment", "vip"),
                ("shares_tickets", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let orgs = app.store.list_organizations().await.unwrap();
    assert!(
        orgs.iter()
            .any(|o| o.name == "Acme" && o.shares_tickets && o.domains == ["acme.example"])
    );
}

#[tokio::test]
async fn customers_register_in_the_portal_and_submit_requests() {
    let app = spawn_app().await;
    let web = Browser::new(&app);
    let page = web.get("/portal/register").await;
    let r = web
        .post_form(
            "/portal/register",
            &[
                ("csrf", &page.csrf()),
                ("name", "陈静"),
                ("email", "chen@example.com"),
                ("password", "s3cret-pass"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/portal");
    let form = web.get("/portal/new").await;
    let (ct, body) = multipart(
        &[
            ("csrf", &form.csrf()),
            ("subject", "发票抬头错误"),
            ("body", "请帮我更正。"),
        ],
        &[("files", "invoice.pdf", "application/pdf", b"%PDF-1.4")],
    );
    let r = web.post_raw("/portal/new", &ct, body).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let list = web.get("/portal").await;
    assert!(list.text.contains("发票抬头错误"));

    // Known addresses cannot be claimed by registering.
    let again = Browser::new(&app);
    let page = again.get("/portal/register").await;
    let r = again
        .post_form(
            "/portal/register",
            &[
                ("csrf", &page.csrf()),
                ("name", "X"),
                ("email", "chen@example.com"),
                ("password", "another-pass"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(again.login_status("chen@example.com", "s3cret-pass").await == 303);
}

/// Posts the login form with a fresh form token; returns the response page.
async fn post_login(web: &Browser, email: &str, password: &str) -> web_support::Page {
    let csrf = web.get("/login").await.csrf();
    web.post_form(
        "/login",
        &[("csrf", &csrf), ("email", email), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn ten_failed_sign_ins_lock_the_account_for_a_while_but_not_other_accounts() {
    let app = spawn_app().await;
    let victim = app.agent(Role::Agent).await;
    let other = app.agent(Role::Agent).await;
    let email = victim.agent.email.clone();
    let web = Browser::new(&app);
    for _ in 0..9 {
        assert_eq!(web.login_status(&email, "wrong password").await, 422);
    }
    // A successful sign-in in between is not a failure.
    let ok = Browser::new(&app);
    assert_eq!(ok.login(&email, PASSWORD).await, "/agent");
    assert_eq!(
        web.login_status(&email, "wrong password").await,
        422,
        "10th failure"
    );

    // The 11th attempt is refused even with the right password (and other letter case).
    let late = Browser::new(&app);
    let r = post_login(&late, &email.to_uppercase(), PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.text.contains("Too many sign-in attempts."), "{}", r.text);
    assert!(r.text.contains("id=\"login-form\""), "the form comes back");
    assert_eq!(
        late.get("/agent").await.status,
        303,
        "no session was started"
    );
    let zh = Browser::new(&app);
    let csrf = zh.get("/login?lang=zh-CN").await.csrf();
    let r = zh
        .post_form(
            "/login",
            &[("csrf", &csrf), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 429);
    assert!(r.text.contains("登录尝试次数过多"), "{}", r.text);

    // Another account, from the same client, is unaffected.
    let colleague = Browser::new(&app);
    assert_eq!(
        colleague.login(&other.agent.email, PASSWORD).await,
        "/agent"
    );
}

#[tokio::test]
async fn one_client_gets_fifty_attempts_per_window() {
    let app = spawn_app().await;
    let agent = app.agent(Role::Agent).await;
    let web = Browser::new(&app);
    // Malformed addresses cost no password check, but count for the client.
    for i in 0..49 {
        let r = post_login(&web, &format!("not-an-address-{i}"), "x").await;
        assert_eq!(r.status, 422, "attempt {i}");
    }
    assert_eq!(web.login(&agent.agent.email, PASSWORD).await, "/agent");
    let r = post_login(&Browser::new(&app), &agent.agent.email, PASSWORD).await;
    assert_eq!(r.status, 429, "the 51st attempt from this client");
}

#[tokio::test]
async fn registering_the_same_address_over_and_over_is_limited() {
    let app = spawn_app().await;
    app.customer("Known", "known@example.com", None).await;
    let web = Browser::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let csrf = web.get("/portal/register").await.csrf();
        let r = web
            .post_form(
                "/portal/register",
                &[
                    ("csrf", &csrf),
                    ("name", "X"),
                    ("email", "Known@example.com"),
                    ("password", "another-pass"),
                ],
            )
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses[..10], [422; 10]);
    assert_eq!(statuses[10], 429);
    // Registration attempts do not lock the account's sign-in.
    assert_eq!(web.login_status("known@example.com", PASSWORD).await, 303);
}
