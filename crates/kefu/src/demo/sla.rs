//! The demo workspace's business calendar and SLA policies: a Shanghai office calendar
//! with China's 2026 National Day shift (a make-up Saturday) and New Year 2027, and three
//! policies tried in order — VIP and key accounts, complaints, everyone else — with
//! warnings at 75 % and 90 % and four-tier escalation ladders.

use kefu_domain::{CalendarId, TeamId};
use kefu_store::{NewCalendar, NewSlaPolicy, Store, StoreError, sla_json};
use serde_json::json;

pub fn calendar() -> NewCalendar {
    let mut weekly = Vec::new();
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        weekly.push(json!({"day": d, "start": "09:00", "end": "12:00"}));
        weekly.push(json!({"day": d, "start": "13:00", "end": "18:00"}));
    }
    NewCalendar {
        name: "上海办公室 Shanghai office".into(),
        time_zone: "Asia/Shanghai".into(),
        definition: json!({
            "weekly": weekly,
            "holidays": [
                {"date": "2026-10-01", "end_date": "2026-10-07", "name": "国庆节 National Day"},
                {"date": "2027-01-01", "end_date": "2027-01-03", "name": "元旦 New Year"},
            ],
            "workdays": [
                {"date": "2026-09-20", "start": "09:00", "end": "18:00", "name": "国庆调休 make-up day"},
                {"date": "2026-10-10", "start": "09:00", "end": "18:00", "name": "国庆调休 make-up day"},
            ],
        })
        .to_string(),
    }
}

/// Targets per priority (urgent, high, normal, low) in minutes, and whether they count
/// business hours.
fn targets(metric: &str, minutes: [u32; 4], business: bool) -> Vec<serde_json::Value> {
    ["urgent", "high", "normal", "low"]
        .iter()
        .zip(minutes)
        .map(|(p, m)| json!({"metric": metric, "priority": p, "minutes": m, "business": business}))
        .collect()
}

fn ladder(kind: &str, tier_minutes: [u32; 3], specialists: TeamId) -> serde_json::Value {
    json!({"kind": kind, "steps": [
        {"tier": 1, "max_minutes": tier_minutes[0], "business": true,
         "on_warn": [{"action": "notify", "to": "assignee"}],
         "on_breach": [{"action": "notify", "to": "team_supervisors"}, {"action": "raise_tier"},
                       {"action": "assign_team", "team_id": specialists.0}]},
        {"tier": 2, "max_minutes": tier_minutes[1], "business": true,
         "on_warn": [{"action": "notify", "to": "assignee"}],
         "on_breach": [{"action": "notify", "to": "team_supervisors"}, {"action": "raise_tier"}]},
        {"tier": 3, "max_minutes": tier_minutes[2], "business": true,
         "on_breach": [{"action": "notify", "to": "supervisors"}, {"action": "raise_tier"},
                       {"action": "raise_priority"}]},
        {"tier": 4, "on_breach": [{"action": "notify", "to": "supervisors"}]},
    ]})
}

/// Creates the calendar and the three policies. `teams` are the demo's teams in
/// [`super::people::TEAMS`] order (breaches at tier 1 go to technical, complaints or
/// key accounts).
pub async fn create(store: &dyn Store, teams: &[TeamId]) -> Result<CalendarId, StoreError> {
    let cal = store.create_calendar(&calendar()).await?;
    let policy = |conditions: serde_json::Value,
                  targets: Vec<serde_json::Value>,
                  ladders: Vec<serde_json::Value>| {
        sla_json::policy_from_json(&json!({
            "calendar_id": cal.id.0,
            "conditions": conditions,
            "targets": targets,
            "warn_at": [75, 90],
            "ladders": ladders,
        }))
    };
    let mut vip = targets("first_reply", [15, 30, 60, 120], false);
    vip.extend(targets("next_reply", [30, 60, 120, 240], false));
    vip.extend(targets("periodic_update", [120, 240, 480, 960], false));
    vip.extend(targets("resolution", [240, 480, 960, 2400], true));
    let mut complaints = targets("first_reply", [30, 60, 120, 240], false);
    complaints.extend(targets("next_reply", [60, 120, 240, 480], true));
    complaints.extend(targets("resolution", [480, 960, 1440, 2400], true));
    let mut standard = targets("first_reply", [30, 120, 240, 480], true);
    standard.extend(targets("next_reply", [60, 240, 480, 960], true));
    standard.extend(targets("requester_wait", [480, 960, 1920, 2880], true));
    standard.extend(targets("agent_work", [240, 480, 960, 1920], true));
    standard.extend(targets("resolution", [960, 1920, 2880, 4800], true));
    let all = [
        (
            "VIP 与大客户 VIP and key accounts",
            policy(
                json!({"segments": ["vip", "key-account"]}),
                vip,
                vec![ladder("vip", [120, 240, 480], teams[4])],
            )?,
        ),
        (
            "投诉 Complaints",
            policy(
                json!({"types": ["complaint"]}),
                complaints,
                vec![ladder("complaint", [240, 480, 960], teams[3])],
            )?,
        ),
        (
            "标准服务 Standard",
            policy(
                json!({}),
                standard,
                vec![ladder("default", [1440, 1440, 2880], teams[1])],
            )?,
        ),
    ];
    for (name, def) in all {
        store
            .create_sla_policy(&NewSlaPolicy {
                name: name.into(),
                position: None,
                active: true,
                def,
            })
            .await?;
    }
    Ok(cal.id)
}
