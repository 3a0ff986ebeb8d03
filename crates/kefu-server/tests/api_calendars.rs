//! Business calendars over the API: admins create and replace them (validated, normalised,
//! versioned), every agent reads them and asks for due times and business minutes; golden
//! sums across the lunch break, a holiday week and a make-up working day (Asia/Shanghai).
//! Runs on SQLite or PostgreSQL (`KEFU_TEST_DB`).

mod common;

use common::*;
use kefu_domain::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The issue's example: weekdays 09:00–12:00 and 13:00–18:00, National Day week off,
/// Saturday 10 October worked instead.
fn shanghai() -> Value {
    let mut weekly = Vec::new();
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        weekly.push(json!({"day": day, "start": "09:00", "end": "12:00"}));
        weekly.push(json!({"day": day, "start": "13:00", "end": "18:00"}));
    }
    json!({
        "name": "Shanghai office",
        "time_zone": "Asia/Shanghai",
        "weekly": weekly,
        "holidays": [{"date": "2026-10-01", "end_date": "2026-10-07", "name": "National Day"}],
        "workdays": [{"date": "2026-10-10", "start": "09:00", "end": "18:00", "name": "make-up day"}],
    })
}

async fn put(api: &Api, path: &str, body: &Value) -> Resp {
    api.send(api.request(Method::PUT, path).json(body)).await
}

async fn created(api: &Api, body: &Value) -> i64 {
    let r = api.post("/api/v1/calendars", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

async fn due(api: &Api, id: i64, start: &str, minutes: i64) -> String {
    let r = api
        .post(
            &format!("/api/v1/calendars/{id}/add"),
            &json!({"start": start, "minutes": minutes}),
        )
        .await;
    assert_eq!(r.status, 200, "{start} + {minutes}: {}", r.text);
    r.body["due"].as_str().unwrap().to_string()
}

async fn minutes(api: &Api, id: i64, start: &str, end: &str) -> i64 {
    let r = api
        .post(
            &format!("/api/v1/calendars/{id}/between"),
            &json!({"start": start, "end": end}),
        )
        .await;
    assert_eq!(r.status, 200, "{start} → {end}: {}", r.text);
    r.body["minutes"].as_i64().unwrap()
}

#[tokio::test]
async fn an_admin_creates_the_issues_calendar_and_gets_it_back_normalised() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Admin).await);
    let mut body = shanghai();
    // Out of order, with spaces and without the optional fields: stored sorted and filled in.
    body["weekly"].as_array_mut().unwrap().reverse();
    body["weekly"][0]["start"] = json!(" 13:00 ");
    body["holidays"]
        .as_array_mut()
        .unwrap()
        .push(json!({"date": "2026-05-01"}));
    body["name"] = json!("  Shanghai office ");

    let r = api.post("/api/v1/calendars", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let c = &r.body;
    assert_eq!(c["name"], "Shanghai office");
    assert_eq!(c["time_zone"], "Asia/Shanghai");
    assert_eq!(c["version"], 1);
    assert_eq!(c["weekly"].as_array().unwrap().len(), 10);
    assert_eq!(
        c["weekly"][0],
        json!({"day": "mon", "start": "09:00", "end": "12:00"})
    );
    assert_eq!(
        c["weekly"][1],
        json!({"day": "mon", "start": "13:00", "end": "18:00"})
    );
    assert_eq!(
        c["weekly"][9],
        json!({"day": "fri", "start": "13:00", "end": "18:00"})
    );
    assert_eq!(
        c["holidays"],
        json!([
            {"date": "2026-05-01", "end_date": "2026-05-01", "name": ""},
            {"date": "2026-10-01", "end_date": "2026-10-07", "name": "National Day"},
        ])
    );
    assert_eq!(
        c["workdays"],
        json!([{"date": "2026-10-10", "start": "09:00", "end": "18:00", "name": "make-up day"}])
    );
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(c["created_at"], c["updated_at"]);
    let id = c["id"].as_i64().unwrap();

    let got = api.get(&format!("/api/v1/calendars/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(&got.body, c);
    let list = api.get("/api/v1/calendars").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"], json!([c]));

    // Holidays and make-up days are optional; 24:00 ends a day.
    let r = api
        .post(
            "/api/v1/calendars",
            &json!({"name": "Night shift", "time_zone": "UTC",
                    "weekly": [{"day": "sun", "start": "18:00", "end": "24:00"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["weekly"][0]["end"], "24:00");
    assert_eq!(
        (r.body["holidays"].clone(), r.body["workdays"].clone()),
        (json!([]), json!([]))
    );
}

#[tokio::test]
async fn due_times_skip_lunch_holidays_and_count_make_up_days() {
    let app = spawn_app().await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let id = created(&admin, &shanghai()).await;
    let api = app.api(&app.agent(Role::ReadOnly).await);

    // Monday 28 September, 11:00 + 2 h: one hour before lunch, one after.
    assert_eq!(
        due(&api, id, "2026-09-28T11:00:00+08:00", 120).await,
        "2026-09-28T06:00:00Z"
    );
    // The same instant written in UTC.
    assert_eq!(
        due(&api, id, "2026-09-28T03:00:00Z", 120).await,
        "2026-09-28T06:00:00Z"
    );
    // A target that uses up the day exactly is due at 18:00, not the next morning.
    assert_eq!(
        due(&api, id, "2026-09-28T09:00:00+08:00", 480).await,
        "2026-09-28T10:00:00Z"
    );
    // Starting during lunch: the clock starts at 13:00.
    assert_eq!(
        due(&api, id, "2026-09-28T12:30:00+08:00", 30).await,
        "2026-09-28T05:30:00Z"
    );
    // Wednesday 30 September 17:00 + 2 h: one hour, then the National Day week, then
    // Thursday 8 October 09:00–10:00.
    assert_eq!(
        due(&api, id, "2026-09-30T17:00:00+08:00", 120).await,
        "2026-10-08T02:00:00Z"
    );
    // Friday 9 October 17:00 + 2 h: Saturday 10 October is a make-up working day.
    assert_eq!(
        due(&api, id, "2026-10-09T17:00:00+08:00", 120).await,
        "2026-10-10T02:00:00Z"
    );
    // …which runs 09:00–18:00 without lunch; Sunday is closed, Monday picks up.
    assert_eq!(
        due(&api, id, "2026-10-10T09:00:00+08:00", 540 + 60).await,
        "2026-10-12T02:00:00Z"
    );
    // Zero minutes: due at once, even on a holiday.
    assert_eq!(
        due(&api, id, "2026-10-03T15:16:17+08:00", 0).await,
        "2026-10-03T07:16:17Z"
    );
}

#[tokio::test]
async fn business_minutes_between_two_instants_round_toward_zero() {
    let app = spawn_app().await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let id = created(&admin, &shanghai()).await;
    let api = app.api(&app.agent(Role::Agent).await);

    assert_eq!(
        minutes(
            &api,
            id,
            "2026-09-28T11:00:00+08:00",
            "2026-09-28T14:00:00+08:00"
        )
        .await,
        120,
        "the lunch hour does not count"
    );
    assert_eq!(
        minutes(
            &api,
            id,
            "2026-09-30T17:00:00+08:00",
            "2026-10-08T10:00:00+08:00"
        )
        .await,
        120,
        "the holiday week does not count"
    );
    assert_eq!(
        minutes(
            &api,
            id,
            "2026-10-08T10:00:00+08:00",
            "2026-09-30T17:00:00+08:00"
        )
        .await,
        -120,
        "backwards is negative"
    );
    assert_eq!(
        minutes(
            &api,
            id,
            "2026-10-09T00:00:00+08:00",
            "2026-10-12T00:00:00+08:00"
        )
        .await,
        8 * 60 + 9 * 60,
        "Friday, then the make-up Saturday"
    );
    assert_eq!(
        minutes(
            &api,
            id,
            "2026-09-28T09:00:00+08:00",
            "2026-09-28T09:01:30+08:00"
        )
        .await,
        1
    );
    assert_eq!(
        minutes(
            &api,
            id,
            "2026-09-28T09:01:30+08:00",
            "2026-09-28T09:00:00+08:00"
        )
        .await,
        -1,
        "toward zero, not down"
    );
    assert_eq!(
        minutes(
            &api,
            id,
            "2026-10-03T09:00:00+08:00",
            "2026-10-03T18:00:00+08:00"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_replacement_changes_everything_and_bumps_the_version() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Admin).await);
    let id = created(&api, &shanghai()).await;
    let path = format!("/api/v1/calendars/{id}");

    let r = put(
        &api,
        &path,
        &json!({"name": "Taipei", "time_zone": "Asia/Taipei",
                "weekly": [{"day": "sat", "start": "10:00", "end": "16:00"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["name"], &r.body["time_zone"], &r.body["version"]),
        (&json!("Taipei"), &json!("Asia/Taipei"), &json!(2))
    );
    assert_eq!(r.body["holidays"], json!([]), "omitted lists are emptied");
    assert_eq!(r.body["workdays"], json!([]));
    // Saturday 3 October 2026 10:00 in Taipei (+08:00) + 1 h.
    assert_eq!(
        due(&api, id, "2026-10-03T10:00:00+08:00", 60).await,
        "2026-10-03T03:00:00Z"
    );
    let again = put(&api, &path, &shanghai()).await;
    assert_eq!(again.body["version"], 3, "{}", again.text);

    // A rejected replacement changes nothing.
    let mut bad = shanghai();
    bad["time_zone"] = json!("Mars/Olympus");
    put(&api, &path, &bad)
        .await
        .assert_error(422, "invalid_input");
    assert_eq!(api.get(&path).await.body["version"], 3);

    put(&api, "/api/v1/calendars/999999", &shanghai())
        .await
        .assert_error(404, "not_found");
    api.get("/api/v1/calendars/999999")
        .await
        .assert_error(404, "not_found");
    api.post(
        "/api/v1/calendars/999999/add",
        &json!({"start": "2026-09-28T11:00:00Z", "minutes": 1}),
    )
    .await
    .assert_error(404, "not_found");
    api.post(
        "/api/v1/calendars/999999/between",
        &json!({"start": "2026-09-28T11:00:00Z", "end": "2026-09-28T12:00:00Z"}),
    )
    .await
    .assert_error(404, "not_found");
    api.get("/api/v1/calendars/abc")
        .await
        .assert_error(404, "not_found");
}

/// Posts `change(shanghai())` and expects a 422 whose message names `path`.
async fn rejected(api: &Api, change: impl FnOnce(&mut Value), path: &str) {
    let mut body = shanghai();
    change(&mut body);
    let r = api.post("/api/v1/calendars", &body).await;
    r.assert_error(422, "invalid_input");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(path), "{path}: {message}");
}

#[tokio::test]
async fn invalid_calendars_are_422_with_the_path_of_the_mistake() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Admin).await);

    rejected(
        &api,
        |b| b["weekly"][3]["start"] = json!("11:00"),
        "weekly[3]: (11:00–18:00) overlaps weekly[2]",
    )
    .await;
    rejected(
        &api,
        |b| b["weekly"][0]["end"] = json!("13:30"),
        "weekly[1]: (13:00–18:00) overlaps weekly[0]",
    )
    .await;
    rejected(
        &api,
        |b| b["weekly"][0]["end"] = json!("08:00"),
        "weekly[0].end: 08:00 must be later than its start 09:00",
    )
    .await;
    rejected(
        &api,
        |b| b["weekly"][0]["start"] = json!("9:00"),
        "weekly[0].start",
    )
    .await;
    rejected(
        &api,
        |b| b["weekly"][0]["start"] = json!("24:00"),
        "weekly[0].start",
    )
    .await;
    rejected(
        &api,
        |b| b["weekly"][0]["end"] = json!("24:01"),
        "weekly[0].end",
    )
    .await;
    rejected(
        &api,
        |b| b["weekly"][0]["day"] = json!("monday"),
        "weekly[0].day",
    )
    .await;
    rejected(
        &api,
        |b| {
            b["weekly"] = json!([]);
            b["workdays"] = json!([]);
        },
        "weekly: needs at least one working interval",
    )
    .await;
    rejected(
        &api,
        |b| b["time_zone"] = json!("Mars/Olympus"),
        "time_zone",
    )
    .await;
    rejected(
        &api,
        |b| b["time_zone"] = json!("Asia Shanghai"),
        "time_zone",
    )
    .await;
    rejected(&api, |b| b["name"] = json!("  "), "name").await;
    rejected(
        &api,
        |b| b["holidays"][0]["date"] = json!("2026-02-30"),
        "holidays[0].date: no such date",
    )
    .await;
    rejected(
        &api,
        |b| b["holidays"][0]["end_date"] = json!("2026-09-30"),
        "holidays[0].end_date",
    )
    .await;
    rejected(
        &api,
        |b| b["holidays"][0]["end_date"] = json!("2027-12-31"),
        "holidays[0]: spans",
    )
    .await;
    rejected(
        &api,
        |b| b["holidays"][0]["name"] = json!("bad\u{7}name"),
        "holidays[0].name",
    )
    .await;
    rejected(
        &api,
        |b| b["workdays"][0]["end"] = json!("09:00"),
        "workdays[0].end",
    )
    .await;
    rejected(
        &api,
        |b| b["workdays"][0]["date"] = json!("10/10/2026"),
        "workdays[0].date",
    )
    .await;
    // The JSON's shape: unknown and missing fields, wrong types.
    for body in [
        json!({"name": "x", "time_zone": "UTC", "weekly": [], "colour": "red"}),
        json!({"name": "x", "time_zone": "UTC"}),
        json!({"name": "x", "time_zone": "UTC", "weekly": {}}),
        json!({"name": "x", "time_zone": "UTC",
               "weekly": [{"day": "mon", "start": "09:00", "end": "10:00", "extra": 1}]}),
    ] {
        api.post("/api/v1/calendars", &body)
            .await
            .assert_error(422, "invalid_input");
    }
    assert_eq!(
        api.get("/api/v1/calendars").await.body["items"],
        json!([]),
        "nothing was stored"
    );
}

#[tokio::test]
async fn sums_check_their_input_and_a_calendar_that_never_opens_again_is_422() {
    let app = spawn_app().await;
    let api = app.api(&app.agent(Role::Admin).await);
    let id = created(&api, &shanghai()).await;
    let add = format!("/api/v1/calendars/{id}/add");
    let between = format!("/api/v1/calendars/{id}/between");
    for body in [
        json!({"start": "2026-09-28T11:00:00Z", "minutes": -1}),
        json!({"start": "2026-09-28T11:00:00Z", "minutes": 5_256_001}),
        json!({"start": "2026-09-28T11:00:00Z", "minutes": 1.5}),
        json!({"start": "2026-09-28T11:00:00Z"}),
        json!({"start": "2026-09-28 11:00", "minutes": 1}),
        json!({"start": "2026-09-28T11:00:00", "minutes": 1}),
        json!({"minutes": 1}),
        json!({"start": "2026-09-28T11:00:00Z", "minutes": 1, "x": 1}),
    ] {
        api.post(&add, &body)
            .await
            .assert_error(422, "invalid_input");
    }
    assert_eq!(
        due(&api, id, "2026-09-28T01:00:00Z", 5_256_000).await.len(),
        20,
        "ten years of business minutes is a fine target"
    );
    // Integral numbers written with a fraction are integers.
    let r = api
        .post(
            &add,
            &json!({"start": "2026-09-28T03:00:00Z", "minutes": 120.0}),
        )
        .await;
    assert_eq!(r.body["due"], "2026-09-28T06:00:00Z", "{}", r.text);
    for body in [
        json!({"start": "2026-09-28T11:00:00Z"}),
        json!({"start": "yesterday", "end": "2026-09-28T11:00:00Z"}),
    ] {
        api.post(&between, &body)
            .await
            .assert_error(422, "invalid_input");
    }

    // Only one make-up day: after it the calendar never opens again.
    let once = created(
        &api,
        &json!({"name": "Once", "time_zone": "Asia/Shanghai", "weekly": [],
                "workdays": [{"date": "2026-10-10", "start": "09:00", "end": "10:00"}]}),
    )
    .await;
    assert_eq!(
        due(&api, once, "2026-10-01T00:00:00Z", 60).await,
        "2026-10-10T02:00:00Z"
    );
    api.post(
        &format!("/api/v1/calendars/{once}/add"),
        &json!({"start": "2026-10-11T00:00:00Z", "minutes": 1}),
    )
    .await
    .assert_error(422, "invalid_input");
    // Past the year 9999.
    api.post(
        &add,
        &json!({"start": "9999-12-31T00:00:00Z", "minutes": 5_256_000}),
    )
    .await
    .assert_error(422, "invalid_input");
}

#[tokio::test]
async fn agents_read_and_compute_admins_write_customers_are_refused() {
    let app = spawn_app().await;
    let admin = app.api(&app.agent(Role::Admin).await);
    let id = created(&admin, &shanghai()).await;
    let supervisor = app.api(&app.agent(Role::Supervisor).await);
    let agent = app.api(&app.agent(Role::Agent).await);
    let read_only = app.api(&app.agent(Role::ReadOnly).await);
    let customer = app.customer("Zhang Min", "zhang@example.com", None).await;
    let portal = app.client_for_customer(&customer).await;
    let anonymous = app.anonymous();
    let one = format!("/api/v1/calendars/{id}");
    let add = json!({"start": "2026-09-28T03:00:00Z", "minutes": 120});
    let between = json!({"start": "2026-09-28T03:00:00Z", "end": "2026-09-28T06:00:00Z"});

    for who in [&admin, &supervisor, &agent, &read_only] {
        assert_eq!(who.get("/api/v1/calendars").await.status, 200);
        assert_eq!(who.get(&one).await.status, 200);
        let r = who.post(&format!("{one}/add"), &add).await;
        assert_eq!(r.body["due"], "2026-09-28T06:00:00Z", "{}", r.text);
        let r = who.post(&format!("{one}/between"), &between).await;
        assert_eq!(r.body["minutes"], 120, "{}", r.text);
    }
    for who in [&supervisor, &agent, &read_only, &portal] {
        who.post("/api/v1/calendars", &shanghai())
            .await
            .assert_error(403, "forbidden");
        put(who, &one, &shanghai())
            .await
            .assert_error(403, "forbidden");
    }
    portal
        .get("/api/v1/calendars")
        .await
        .assert_error(403, "forbidden");
    portal.get(&one).await.assert_error(403, "forbidden");
    portal
        .post(&format!("{one}/add"), &add)
        .await
        .assert_error(403, "forbidden");
    portal
        .post(&format!("{one}/between"), &between)
        .await
        .assert_error(403, "forbidden");
    anonymous
        .get("/api/v1/calendars")
        .await
        .assert_error(401, "unauthenticated");
    anonymous
        .post(&format!("{one}/add"), &add)
        .await
        .assert_error(401, "unauthenticated");
    assert_eq!(
        admin.get(&one).await.body["version"],
        1,
        "nobody else changed it"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_calendars() {
    let app = spawn_app().await;
    let doc = app.anonymous().get("/api/openapi.json").await.body;
    let paths = &doc["paths"];
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut s: Vec<String> = paths[path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"))
            .keys()
            .cloned()
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        statuses("/api/v1/calendars", "post"),
        ["201", "401", "403", "413", "415", "422"]
    );
    assert_eq!(statuses("/api/v1/calendars", "get"), ["200", "401", "403"]);
    assert_eq!(
        statuses("/api/v1/calendars/{id}", "get"),
        ["200", "401", "403", "404"]
    );
    assert_eq!(
        statuses("/api/v1/calendars/{id}", "put"),
        ["200", "401", "403", "404", "413", "415", "422"]
    );
    for op in ["add", "between"] {
        assert_eq!(
            statuses(&format!("/api/v1/calendars/{{id}}/{op}"), "post"),
            ["200", "401", "403", "404", "413", "415", "422"]
        );
    }
    assert!(
        doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "calendars")
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["DayName"]["enum"],
        json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    );
    assert!(
        schemas["ClockEnd"]["pattern"]
            .as_str()
            .unwrap()
            .contains("24:00")
    );
    assert!(
        !schemas["ClockTime"]["pattern"]
            .as_str()
            .unwrap()
            .contains("24")
    );
    let minutes = &schemas["AddRequest"]["properties"]["minutes"];
    assert_eq!(
        (&minutes["minimum"], &minutes["maximum"]),
        (&json!(0), &json!(5_256_000))
    );
    assert_eq!(
        schemas["AddRequest"]["required"],
        json!(["start", "minutes"])
    );
    assert_eq!(
        schemas["CalendarRequest"]["required"],
        json!(["name", "time_zone", "weekly"])
    );
    assert_eq!(
        schemas["CalendarRequest"]["additionalProperties"],
        json!(false)
    );
}
