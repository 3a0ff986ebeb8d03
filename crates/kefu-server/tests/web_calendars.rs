//! The business-calendar editor end to end over real TCP: an admin creates and edits a
//! calendar through the forms (CSRF, weekly table, holiday and make-up day lines), tries a
//! due time, gets every mistake back as the form with a message naming the day or line;
//! nobody else gets in. Runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;
mod web_support;

use common::{PASSWORD, TestApp, spawn_app};
use kefu_domain::*;
use serde_json::json;
use web_support::{Browser, Page};

async fn signed_in(app: &TestApp, role: Role) -> Browser {
    let agent = app.agent(role).await;
    let web = Browser::new(app);
    web.login(&agent.agent.email, PASSWORD).await;
    web
}

/// The weekly table and lines of the example, as a form: Monday's hours copied to
/// Tuesday–Friday.
fn shanghai_form<'a>(csrf: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", name),
        ("time_zone", "Asia/Shanghai"),
        ("slots", "2"),
        ("mon_start1", "9:00"),
        ("mon_end1", "12:00"),
        ("mon_start2", "13:00"),
        ("mon_end2", "18:00"),
        ("copy_monday", "1"),
        (
            "holidays",
            "# 国庆节\r\n2026-10-01..2026-10-07 National Day\r\n",
        ),
        ("workdays", "2026-10-10 09:00-18:00 make-up day"),
    ]
}

/// `fields` with `changes` replacing (or adding) some of them.
fn with<'a>(
    fields: &[(&'a str, &'a str)],
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<_> = fields
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    out.extend_from_slice(changes);
    out
}

#[track_caller]
fn assert_has(page: &Page, text: &str) {
    assert!(page.text.contains(text), "{text:?} not in: {}", page.text);
}

#[tokio::test]
async fn an_admin_creates_edits_and_tries_a_calendar_through_the_forms() {
    let app = spawn_app().await;
    let web = signed_in(&app, Role::Admin).await;

    let agents = web.get("/admin/agents").await;
    assert_has(&agents, "href=\"/admin/calendars\"");
    let list = web.get("/admin/calendars").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_has(&list, "id=\"new-calendar-form\"");
    for field in [
        "calendar-name",
        "calendar-zone",
        "calendar-copy-monday",
        "calendar-holidays",
        "calendar-workdays",
    ] {
        assert_has(&list, &format!("<label for=\"{field}\""));
    }
    assert_has(&list, "<option value=\"Asia/Hong_Kong\">");
    assert_has(&list, "aria-label=\"Wednesday, hours 2: end\"");
    assert_has(&list, "2026-10-01..2026-10-07 National Day");
    // A new calendar starts with office hours on weekdays.
    assert_has(&list, "name=\"fri_start2\" value=\"13:00\"");
    assert_has(&list, "name=\"sat_start1\" value=\"\"");

    let csrf = list.csrf();
    let r = web
        .post_form(
            "/admin/calendars",
            &shanghai_form(&csrf, "Shanghai <office>"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let stored = app.store.list_calendars().await.unwrap();
    assert_eq!(stored.len(), 1);
    let c = &stored[0];
    assert_eq!(r.location(), format!("/admin/calendars/{}", c.id));
    assert_eq!((c.name.as_str(), c.version), ("Shanghai <office>", 1));

    // The API sees the same calendar, normalised.
    let api = app.api(&app.agent(Role::Agent).await);
    let got = api.get(&format!("/api/v1/calendars/{}", c.id)).await;
    assert_eq!(
        got.body["weekly"].as_array().unwrap().len(),
        10,
        "{}",
        got.text
    );
    assert_eq!(
        got.body["weekly"][0],
        json!({"day": "mon", "start": "09:00", "end": "12:00"})
    );
    assert_eq!(
        got.body["holidays"],
        json!([{"date": "2026-10-01", "end_date": "2026-10-07", "name": "National Day"}])
    );
    let due = api
        .post(
            &format!("/api/v1/calendars/{}/add", c.id),
            &json!({"start": "2026-09-30T17:00:00+08:00", "minutes": 120}),
        )
        .await;
    assert_eq!(due.body["due"], "2026-10-08T02:00:00Z", "{}", due.text);

    let list = web.get("/admin/calendars").await;
    assert_has(&list, "class=\"calendar-row\"");
    assert!(
        list.text.contains("Shanghai &#60;office&#62;")
            || list.text.contains("Shanghai &lt;office&gt;"),
        "names are escaped: {}",
        list.text
    );
    assert!(!list.text.contains("Shanghai <office>"));
    assert_has(&list, "Monday 09:00–12:00, 13:00–18:00");

    // The edit page shows what is stored.
    let path = format!("/admin/calendars/{}", c.id);
    let edit = web.get(&path).await;
    assert_eq!(edit.status, 200, "{}", edit.text);
    assert_has(&edit, "id=\"edit-calendar-form\"");
    assert_has(&edit, "Version 1");
    assert_has(&edit, "name=\"thu_end2\" value=\"18:00\"");
    assert_has(&edit, "name=\"sat_start1\" value=\"\"");
    assert_has(&edit, "value=\"Asia/Shanghai\"");
    assert_has(&edit, ">2026-10-01..2026-10-07 National Day</textarea>");
    assert_has(&edit, ">2026-10-10 09:00-18:00 make-up day</textarea>");

    // Try it: Wednesday 30 September 17:00 + 2 h is due after the National Day week.
    let tried = web
        .get(&format!("{path}?start=2026-09-30T17:00&minutes=120"))
        .await;
    assert_eq!(tried.status, 200, "{}", tried.text);
    assert_has(
        &tried,
        "Due 2026-10-08 10:00 (Asia/Shanghai) · 2026-10-08T02:00:00Z",
    );
    assert_has(&tried, "id=\"try-minutes\" name=\"minutes\"");
    let tried = web
        .get(&format!("{path}?start=2026-09-30T17:00&minutes=lots"))
        .await;
    assert_eq!(tried.status, 200);
    assert_has(&tried, "id=\"calendar-try-error\"");
    assert_has(&tried, "Enter a whole number of minutes");
    let tried = web.get(&format!("{path}?start=someday&minutes=5")).await;
    assert_has(&tried, "Enter a start date and time.");

    // Saving the edit form: Friday afternoons off, a third interval on Saturday.
    let csrf = edit.csrf();
    let form = with(
        &shanghai_form(&csrf, "Shanghai office"),
        &[
            ("copy_monday", ""),
            ("tue_start1", "09:00"),
            ("tue_end1", "18:00"),
            ("fri_start1", "09:00"),
            ("fri_end1", "12:00"),
            ("sat_start1", "10:00"),
            ("sat_end1", "11:00"),
            ("sat_start2", "12:00"),
            ("sat_end2", "13:00"),
            ("slots", "3"),
            ("sat_start3", "14:00"),
            ("sat_end3", "24:00"),
            ("holidays", ""),
        ],
    );
    let r = web.post_form(&path, &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), path);
    let c2 = app.store.get_calendar(c.id).await.unwrap().unwrap();
    assert_eq!((c2.name.as_str(), c2.version), ("Shanghai office", 2));
    let got = api.get(&path.replace("/admin/", "/api/v1/")).await;
    let weekly = got.body["weekly"].as_array().unwrap();
    let days: Vec<&str> = weekly.iter().map(|w| w["day"].as_str().unwrap()).collect();
    assert_eq!(days, ["mon", "mon", "tue", "fri", "sat", "sat", "sat"]);
    assert_eq!(weekly[6]["end"], "24:00");
    assert_eq!(got.body["holidays"], json!([]));
    let edit = web.get(&path).await;
    assert_has(&edit, "Version 2");
    assert_has(&edit, "name=\"sat_start3\" value=\"14:00\"");
    assert_has(&edit, "name=\"mon_start3\" value=\"\"");
}

#[tokio::test]
async fn mistakes_come_back_as_the_form_with_a_message_and_nothing_is_saved() {
    let app = spawn_app().await;
    let web = signed_in(&app, Role::Admin).await;
    let csrf = web.get("/admin/calendars").await.csrf();
    let base = shanghai_form(&csrf, "Shanghai office");
    let post = |changes: Vec<(&'static str, &'static str)>| {
        let form = with(&base, &changes);
        let web = &web;
        async move { web.post_form("/admin/calendars", &form).await }
    };

    let r = post(vec![
        ("copy_monday", ""),
        ("wed_start1", "09:00"),
        ("wed_end1", "12:00"),
        ("wed_start2", "11:00"),
        ("wed_end2", "13:00"),
    ])
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_has(
        &r,
        "Please check the calendar: Wednesday, hours 2: (11:00–13:00) overlaps Wednesday, hours 1 (09:00–12:00)",
    );
    assert_has(&r, "name=\"wed_start2\" value=\"11:00\"");
    assert_has(&r, "value=\"Shanghai office\"");
    assert_has(&r, "2026-10-10 09:00-18:00 make-up day</textarea>");

    let r = post(vec![("mon_end1", "25:00")]).await;
    assert_eq!(r.status, 422);
    assert_has(&r, "Monday, hours 1: enter times as HH:MM");
    let r = post(vec![("mon_end1", "08:00")]).await;
    assert_eq!(r.status, 422);
    assert_has(
        &r,
        "Monday, hours 1: 08:00 must be later than its start 09:00",
    );
    let r = post(vec![("time_zone", "Mars/Olympus")]).await;
    assert_eq!(r.status, 422);
    assert_has(&r, "Enter a known IANA time zone name");
    assert_has(&r, "value=\"Mars/Olympus\"");
    let r = post(vec![("name", "  ")]).await;
    assert_eq!(r.status, 422);
    assert_has(&r, "Enter a name of at most 120 characters.");
    let r = post(vec![("holidays", "2026-10-01 ok\n2026-13-01 bad month")]).await;
    assert_eq!(r.status, 422);
    assert_has(&r, "holidays, line 2: no such date");
    let r = post(vec![("holidays", "1.10.2026 National Day")]).await;
    assert_eq!(r.status, 422);
    assert_has(&r, "holidays, line 1: expected a date YYYY-MM-DD");
    let r = post(vec![("holidays", "2026-10-07..2026-10-01 backwards")]).await;
    assert_eq!(r.status, 422);
    assert_has(
        &r,
        "holidays, line 1: 2026-10-01 must not be before its date",
    );
    let r = post(vec![("workdays", "2026-10-10 nine to five")]).await;
    assert_eq!(r.status, 422);
    assert_has(&r, "make-up days, line 1: write a date, then the hours");
    let r = post(vec![
        ("copy_monday", ""),
        ("mon_start1", ""),
        ("mon_end1", ""),
        ("mon_start2", ""),
        ("mon_end2", ""),
        ("workdays", ""),
    ])
    .await;
    assert_eq!(r.status, 422);
    assert_has(&r, "needs at least one working interval");
    let r = post(vec![("slots", "not a number"), ("mon_start1", "9:00:30")]).await;
    assert_eq!(r.status, 422);
    assert_has(&r, "Monday, hours 1: enter times as HH:MM");
    assert!(app.store.list_calendars().await.unwrap().is_empty());

    // The same on the edit page: the stored calendar stays as it was.
    let r = post(vec![]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let c = &app.store.list_calendars().await.unwrap()[0];
    let path = format!("/admin/calendars/{}", c.id);
    let csrf = web.get(&path).await.csrf();
    let r = web
        .post_form(
            &path,
            &with(
                &shanghai_form(&csrf, "Changed"),
                &[("sun_start1", "23:00"), ("sun_end1", "22:00")],
            ),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_has(
        &r,
        "Sunday, hours 1: 22:00 must be later than its start 23:00",
    );
    assert_has(&r, "value=\"Changed\"");
    let after = app.store.get_calendar(c.id).await.unwrap().unwrap();
    assert_eq!((after.name.as_str(), after.version), ("Shanghai office", 1));

    // In Chinese too.
    let zh = web
        .get_with("/admin/calendars", &[("accept-language", "zh-CN")])
        .await;
    assert_has(&zh, "工作日历");
    assert_has(&zh, "aria-label=\"周三 时段 2：结束\"");

    // Forms need the CSRF token; unknown calendars are 404.
    let r = web
        .post_form("/admin/calendars", &shanghai_form("wrong", "x")[1..])
        .await;
    assert_eq!(r.status, 403);
    let r = web.post_form(&path, &shanghai_form("wrong", "x")).await;
    assert_eq!(r.status, 403);
    assert_eq!(web.get("/admin/calendars/999999").await.status, 404);
    assert_eq!(web.get("/admin/calendars/abc").await.status, 404);
    assert_eq!(app.store.list_calendars().await.unwrap().len(), 1);
}

#[tokio::test]
async fn only_admins_see_the_calendar_pages() {
    let app = spawn_app().await;
    let admin = signed_in(&app, Role::Admin).await;
    let csrf = admin.get("/admin/calendars").await.csrf();
    let r = admin
        .post_form("/admin/calendars", &shanghai_form(&csrf, "Office"))
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let path = r.location();

    for role in [Role::Supervisor, Role::Agent, Role::ReadOnly] {
        let web = signed_in(&app, role).await;
        let home = web.get("/agent").await;
        assert_eq!(home.status, 200, "{role}");
        let csrf = home.csrf();
        assert_eq!(web.get("/admin/calendars").await.status, 403, "{role}");
        assert_eq!(web.get(&path).await.status, 403, "{role}");
        let r = web
            .post_form("/admin/calendars", &shanghai_form(&csrf, "Mine"))
            .await;
        assert_eq!(r.status, 403, "{role}");
        let r = web.post_form(&path, &shanghai_form(&csrf, "Mine")).await;
        assert_eq!(r.status, 403, "{role}");
    }
    let orgs = signed_in(&app, Role::Supervisor)
        .await
        .get("/admin/organizations")
        .await;
    assert_eq!(orgs.status, 200);
    assert!(
        !orgs.text.contains("/admin/calendars"),
        "no calendar tab for supervisors"
    );
    let anonymous = Browser::new(&app);
    let r = anonymous.get("/admin/calendars").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let calendars = app.store.list_calendars().await.unwrap();
    assert_eq!(calendars.len(), 1);
    assert_eq!(
        (calendars[0].name.as_str(), calendars[0].version),
        ("Office", 1)
    );
}
