//! Business calendars: stored with their definition as given, listed, replaced in full
//! with a growing version, and stamped with the store's clock.

use super::*;

fn calendar(name: &str, definition: serde_json::Value) -> NewCalendar {
    NewCalendar {
        name: name.into(),
        time_zone: "Asia/Shanghai".into(),
        definition: definition.to_string(),
    }
}

fn shanghai_office() -> NewCalendar {
    calendar(
        "Shanghai office",
        serde_json::json!({
            "weekly": [{"day": "mon", "start": "09:00", "end": "12:00"}],
            "holidays": [{"date": "2026-10-01", "end_date": "2026-10-07", "name": "国庆节"}],
            "workdays": [],
        }),
    )
}

#[tokio::test]
async fn a_calendar_is_stored_as_given_at_version_one() {
    let t0 = Timestamp::from_microsecond(1_767_258_000_123_456).unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock).await;
    let new = NewCalendar {
        name: "  Shanghai office ".into(),
        ..shanghai_office()
    };
    let c = db.create_calendar(&new).await.unwrap();
    assert_eq!(c.name, "Shanghai office", "the name is trimmed");
    assert_eq!(c.time_zone, "Asia/Shanghai");
    assert_eq!(
        c.definition, new.definition,
        "the definition is kept byte for byte"
    );
    assert_eq!((c.version, c.created_at, c.updated_at), (1, t0, t0));
    assert_eq!(db.get_calendar(c.id).await.unwrap().as_ref(), Some(&c));
    assert_eq!(
        db.get_calendar(CalendarId(c.id.0 + 1000)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn calendars_are_listed_oldest_first() {
    let db = fresh_store().await;
    assert_eq!(db.list_calendars().await.unwrap(), vec![]);
    let b = db
        .create_calendar(&calendar("Beijing", serde_json::json!({})))
        .await
        .unwrap();
    let a = db
        .create_calendar(&calendar("Almaty", serde_json::json!({})))
        .await
        .unwrap();
    let ids: Vec<_> = db
        .list_calendars()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, [b.id, a.id]);
}

#[tokio::test]
async fn an_update_replaces_everything_and_bumps_the_version() {
    let t0 = Timestamp::from_microsecond(1_767_258_000_000_000).unwrap();
    let hour = jiff::SignedDuration::from_hours(1);
    let clock = std::sync::Arc::new(ManualClock::new(t0));
    let db = fresh_store_with_clock(clock.clone()).await;
    let c = db.create_calendar(&shanghai_office()).await.unwrap();
    let other = db
        .create_calendar(&calendar("Other", serde_json::json!({})))
        .await
        .unwrap();

    clock.advance(hour);
    let replacement = NewCalendar {
        name: "Taipei office".into(),
        time_zone: "Asia/Taipei".into(),
        definition: serde_json::json!({"weekly": [], "holidays": [], "workdays": []}).to_string(),
    };
    let v2 = db
        .update_calendar(c.id, &replacement)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            v2.id,
            v2.name.as_str(),
            v2.time_zone.as_str(),
            v2.definition.as_str()
        ),
        (
            c.id,
            "Taipei office",
            "Asia/Taipei",
            replacement.definition.as_str()
        )
    );
    assert_eq!(
        (v2.version, v2.created_at, v2.updated_at),
        (2, t0, t0 + hour)
    );
    assert_eq!(db.get_calendar(c.id).await.unwrap().as_ref(), Some(&v2));

    clock.advance(hour);
    let v3 = db
        .update_calendar(c.id, &replacement)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (v3.version, v3.updated_at),
        (3, t0 + hour * 2),
        "same content, new version"
    );
    assert_eq!(
        db.get_calendar(other.id).await.unwrap().map(|o| o.version),
        Some(1),
        "other calendars are untouched"
    );
    assert_eq!(
        db.update_calendar(CalendarId(other.id.0 + 1000), &replacement)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn concurrent_updates_each_get_their_own_version() {
    let db = fresh_store().await;
    let c = db.create_calendar(&shanghai_office()).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = db.store();
            let new = calendar(&format!("v{i}"), serde_json::json!({ "i": i }));
            tokio::spawn(async move { store.update_calendar(c.id, &new).await.unwrap().unwrap() })
        })
        .collect();
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap().version);
    }
    versions.sort();
    assert_eq!(versions, (2..=9).collect::<Vec<_>>());
    assert_eq!(db.get_calendar(c.id).await.unwrap().unwrap().version, 9);
}

#[tokio::test]
async fn a_calendar_needs_a_name_a_time_zone_and_a_json_definition() {
    let db = fresh_store().await;
    let good = db.create_calendar(&shanghai_office()).await.unwrap();
    let bad = [
        (
            "name",
            NewCalendar {
                name: " ".into(),
                ..shanghai_office()
            },
        ),
        (
            "time_zone",
            NewCalendar {
                time_zone: "".into(),
                ..shanghai_office()
            },
        ),
        (
            "definition",
            NewCalendar {
                definition: "{not json".into(),
                ..shanghai_office()
            },
        ),
    ];
    for (field, new) in bad {
        for r in [
            db.create_calendar(&new).await,
            db.update_calendar(good.id, &new).await.map(Option::unwrap),
        ] {
            assert!(
                matches!(&r, Err(StoreError::Domain(DomainError::Invalid { field: f, .. })) if *f == field),
                "{field}: {r:?}"
            );
        }
    }
    assert_eq!(db.list_calendars().await.unwrap(), vec![good.clone()]);
    assert_eq!(db.get_calendar(good.id).await.unwrap().unwrap().version, 1);
}
