//! The JSON form of SLA policy definitions and business calendars, as stored (and as the
//! API reads and writes them: one shape everywhere).
//!
//! A policy definition:
//!
//! ```json
//! {"description": "", "calendar_id": 1,
//!  "conditions": {"priorities": ["urgent"], "types": [], "channels": [], "segments": ["vip"],
//!                 "organization_ids": [], "team_ids": [], "tags": []},
//!  "targets": [{"metric": "first_reply", "priority": "urgent", "minutes": 30, "business": false}],
//!  "pauses": {"requester_wait": ["pending"]},
//!  "warn_at": [75, 90],
//!  "ladders": [{"kind": "default", "steps": [{"tier": 1, "max_minutes": 1440, "business": false,
//!     "on_warn": [{"action": "notify", "to": "assignee"}],
//!     "on_breach": [{"action": "raise_tier"}, {"action": "assign_team", "team_id": 3}]}]}]}
//! ```
//!
//! Every field but `targets` may be left out. Errors name the path (`targets[2].metric`).
//! Actions: `notify` (`to`: assignee, team_supervisors, supervisors), `assign_team`
//! (`team_id`), `raise_tier`, `raise_priority`, `add_tag` (`tag`).

use kefu_domain::calendar::{parse_local_time, parse_weekday};
use kefu_domain::sla::*;
use kefu_domain::*;
use serde_json::{Map, Value, json};

fn bad(field: &'static str, path: &str, reason: &str) -> DomainError {
    DomainError::invalid(field, format!("{path} {reason}"))
}

fn obj<'a>(
    v: &'a Value,
    field: &'static str,
    path: &str,
) -> Result<&'a Map<String, Value>, DomainError> {
    v.as_object()
        .ok_or_else(|| bad(field, path, "must be an object"))
}

fn arr<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
    path: &str,
) -> Result<&'a [Value], DomainError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(bad(field, &format!("{path}{key}"), "must be an array")),
    }
}

fn text<'a>(v: &'a Value, field: &'static str, path: &str) -> Result<&'a str, DomainError> {
    v.as_str()
        .ok_or_else(|| bad(field, path, "must be a string"))
}

fn int(v: &Value, field: &'static str, path: &str) -> Result<i64, DomainError> {
    v.as_i64()
        .ok_or_else(|| bad(field, path, "must be an integer"))
}

fn flag(
    m: &Map<String, Value>,
    key: &str,
    field: &'static str,
    path: &str,
) -> Result<bool, DomainError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(
            field,
            &format!("{path}.{key}"),
            "must be true or false",
        )),
    }
}

fn minutes(v: &Value, field: &'static str, path: &str) -> Result<u32, DomainError> {
    let n = int(v, field, path)?;
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_TARGET_MINUTES).contains(n))
        .ok_or_else(|| bad(field, path, &format!("must be 1..={MAX_TARGET_MINUTES}")))
}

fn unknown_keys(
    m: &Map<String, Value>,
    allowed: &[&str],
    field: &'static str,
    path: &str,
) -> Result<(), DomainError> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(field, path, &format!("has an unknown field {k:?}"))),
        None => Ok(()),
    }
}

fn list<T>(
    m: &Map<String, Value>,
    key: &str,
    f: impl Fn(&Value, &str) -> Result<T, DomainError>,
) -> Result<Vec<T>, DomainError> {
    arr(m, key, "conditions", "conditions.")?
        .iter()
        .enumerate()
        .map(|(i, v)| f(v, &format!("conditions.{key}[{i}]")))
        .collect()
}

fn with_path<T>(
    r: Result<T, DomainError>,
    field: &'static str,
    path: &str,
) -> Result<T, DomainError> {
    r.map_err(|e| match e {
        DomainError::Invalid { reason, .. } => bad(field, path, &format!(": {reason}")),
        other => other,
    })
}

/// Reads a policy definition (see the module docs) and validates it.
pub fn policy_from_json(v: &Value) -> Result<SlaPolicyDef, DomainError> {
    let m = obj(v, "definition", "definition")?;
    unknown_keys(
        m,
        &[
            "description",
            "calendar_id",
            "conditions",
            "targets",
            "pauses",
            "warn_at",
            "ladders",
            // Accepted (and ignored) so a whole policy object can be passed in.
            "name",
            "position",
            "active",
            "id",
            "version",
            "created_at",
            "updated_at",
        ],
        "definition",
        "definition",
    )?;
    let mut def = SlaPolicyDef {
        description: match m.get("description") {
            None | Some(Value::Null) => String::new(),
            Some(v) => text(v, "description", "description")?.trim().to_string(),
        },
        calendar_id: match m.get("calendar_id") {
            None | Some(Value::Null) => None,
            Some(v) => Some(CalendarId(int(v, "calendar_id", "calendar_id")?)),
        },
        ..Default::default()
    };
    if let Some(c) = m.get("conditions").filter(|c| !c.is_null()) {
        let c = obj(c, "conditions", "conditions")?;
        unknown_keys(
            c,
            &[
                "priorities",
                "types",
                "channels",
                "segments",
                "organization_ids",
                "team_ids",
                "tags",
            ],
            "conditions",
            "conditions",
        )?;
        def.conditions = SlaConditions {
            priorities: list(c, "priorities", |v, p| {
                with_path(Priority::parse(text(v, "conditions", p)?), "conditions", p)
            })?,
            types: list(c, "types", |v, p| {
                with_path(
                    TicketType::parse(text(v, "conditions", p)?),
                    "conditions",
                    p,
                )
            })?,
            channels: list(c, "channels", |v, p| {
                with_path(Channel::parse(text(v, "conditions", p)?), "conditions", p)
            })?,
            segments: list(c, "segments", |v, p| {
                with_path(Segment::parse(text(v, "conditions", p)?), "conditions", p)
            })?,
            organizations: list(c, "organization_ids", |v, p| {
                Ok(OrganizationId(int(v, "conditions", p)?))
            })?,
            teams: list(c, "team_ids", |v, p| Ok(TeamId(int(v, "conditions", p)?)))?,
            tags: list(c, "tags", |v, p| {
                with_path(Tag::parse(text(v, "conditions", p)?), "conditions", p)
            })?,
        };
    }
    for (i, t) in arr(m, "targets", "targets", "")?.iter().enumerate() {
        let p = format!("targets[{i}]");
        let t = obj(t, "targets", &p)?;
        unknown_keys(
            t,
            &["metric", "priority", "minutes", "business"],
            "targets",
            &p,
        )?;
        let get = |k: &str| {
            t.get(k)
                .ok_or_else(|| bad("targets", &format!("{p}.{k}"), "is required"))
        };
        let mp = format!("{p}.metric");
        let pp = format!("{p}.priority");
        def.targets.push(SlaTarget {
            metric: with_path(
                Metric::parse(text(get("metric")?, "targets", &mp)?),
                "targets",
                &mp,
            )?,
            priority: with_path(
                Priority::parse(text(get("priority")?, "targets", &pp)?),
                "targets",
                &pp,
            )?,
            minutes: minutes(get("minutes")?, "targets", &format!("{p}.minutes"))?,
            business: flag(t, "business", "targets", &p)?,
        });
    }
    match m.get("pauses") {
        None | Some(Value::Null) => {}
        Some(Value::Object(pm)) => {
            for (k, v) in pm {
                let p = format!("pauses.{k}");
                let metric = with_path(Metric::parse(k), "pauses", &p)?;
                let Value::Array(items) = v else {
                    return Err(bad("pauses", &p, "must be an array of statuses"));
                };
                let statuses = items
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let sp = format!("{p}[{i}]");
                        with_path(Status::parse(text(s, "pauses", &sp)?), "pauses", &sp)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                def.pauses.push((metric, statuses));
            }
        }
        Some(_) => return Err(bad("pauses", "pauses", "must be an object")),
    }
    for (i, w) in arr(m, "warn_at", "warn_at", "")?.iter().enumerate() {
        let n = int(w, "warn_at", &format!("warn_at[{i}]"))?;
        def.warn_at.push(
            u8::try_from(n)
                .ok()
                .filter(|n| (1..=99).contains(n))
                .ok_or_else(|| bad("warn_at", &format!("warn_at[{i}]"), "must be 1..=99"))?,
        );
    }
    for (i, l) in arr(m, "ladders", "ladders", "")?.iter().enumerate() {
        let p = format!("ladders[{i}]");
        let l = obj(l, "ladders", &p)?;
        unknown_keys(l, &["kind", "steps"], "ladders", &p)?;
        let kind = match l.get("kind") {
            None | Some(Value::Null) => LadderKind::Default,
            Some(k) => with_path(
                LadderKind::parse(text(k, "ladders", &p)?),
                "ladders",
                &format!("{p}.kind"),
            )?,
        };
        let mut steps = Vec::new();
        for (j, s) in arr(l, "steps", "ladders", &format!("{p}."))?
            .iter()
            .enumerate()
        {
            let sp = format!("{p}.steps[{j}]");
            let s = obj(s, "ladders", &sp)?;
            unknown_keys(
                s,
                &["tier", "max_minutes", "business", "on_warn", "on_breach"],
                "ladders",
                &sp,
            )?;
            let tier = s
                .get("tier")
                .ok_or_else(|| bad("ladders", &format!("{sp}.tier"), "is required"))?;
            let tier = with_path(
                Tier::new(int(tier, "ladders", &format!("{sp}.tier"))?),
                "ladders",
                &format!("{sp}.tier"),
            )?;
            let max_minutes = match s.get("max_minutes") {
                None | Some(Value::Null) => None,
                Some(v) => Some(minutes(v, "ladders", &format!("{sp}.max_minutes"))?),
            };
            let actions = |key: &str| -> Result<Vec<EscalationAction>, DomainError> {
                arr(s, key, "ladders", &format!("{sp}."))?
                    .iter()
                    .enumerate()
                    .map(|(k, a)| action_from_json(a, &format!("{sp}.{key}[{k}]")))
                    .collect()
            };
            steps.push(LadderStep {
                tier,
                max_minutes,
                business: flag(s, "business", "ladders", &sp)?,
                on_warn: actions("on_warn")?,
                on_breach: actions("on_breach")?,
            });
        }
        def.ladders.push(Ladder { kind, steps });
    }
    def.validate()?;
    Ok(def)
}

fn action_from_json(v: &Value, p: &str) -> Result<EscalationAction, DomainError> {
    let m = obj(v, "ladders", p)?;
    let kind = m
        .get("action")
        .ok_or_else(|| bad("ladders", &format!("{p}.action"), "is required"))?;
    let kind = text(kind, "ladders", &format!("{p}.action"))?;
    let allowed: &[&str] = match kind {
        "notify" => &["action", "to"],
        "assign_team" => &["action", "team_id"],
        "add_tag" => &["action", "tag"],
        _ => &["action"],
    };
    unknown_keys(m, allowed, "ladders", p)?;
    let field = |k: &str| {
        m.get(k)
            .ok_or_else(|| bad("ladders", &format!("{p}.{k}"), "is required"))
    };
    Ok(match kind {
        "notify" => {
            let to = text(field("to")?, "ladders", &format!("{p}.to"))?;
            EscalationAction::Notify(with_path(
                Recipient::parse(to),
                "ladders",
                &format!("{p}.to"),
            )?)
        }
        "assign_team" => EscalationAction::AssignTeam(TeamId(int(
            field("team_id")?,
            "ladders",
            &format!("{p}.team_id"),
        )?)),
        "raise_tier" => EscalationAction::RaiseTier,
        "raise_priority" => EscalationAction::RaisePriority,
        "add_tag" => {
            let t = text(field("tag")?, "ladders", &format!("{p}.tag"))?;
            EscalationAction::AddTag(with_path(Tag::parse(t), "ladders", &format!("{p}.tag"))?)
        }
        other => {
            return Err(bad(
                "ladders",
                &format!("{p}.action"),
                &format!(
                    "is {other:?}; expected notify, assign_team, raise_tier, raise_priority or add_tag"
                ),
            ));
        }
    })
}

fn action_to_json(a: &EscalationAction) -> Value {
    match a {
        EscalationAction::Notify(r) => json!({"action": "notify", "to": r.as_str()}),
        EscalationAction::AssignTeam(t) => json!({"action": "assign_team", "team_id": t.0}),
        EscalationAction::RaiseTier => json!({"action": "raise_tier"}),
        EscalationAction::RaisePriority => json!({"action": "raise_priority"}),
        EscalationAction::AddTag(t) => json!({"action": "add_tag", "tag": t.as_str()}),
    }
}

/// The JSON form of a definition; [`policy_from_json`] reads it back unchanged.
pub fn policy_to_json(d: &SlaPolicyDef) -> Value {
    let c = &d.conditions;
    let strs = |v: Vec<&str>| Value::from(v);
    json!({
        "description": d.description,
        "calendar_id": d.calendar_id.map(|c| c.0),
        "conditions": {
            "priorities": strs(c.priorities.iter().map(|x| x.as_str()).collect()),
            "types": strs(c.types.iter().map(|x| x.as_str()).collect()),
            "channels": strs(c.channels.iter().map(|x| x.as_str()).collect()),
            "segments": strs(c.segments.iter().map(|x| x.as_str()).collect()),
            "organization_ids": c.organizations.iter().map(|x| x.0).collect::<Vec<_>>(),
            "team_ids": c.teams.iter().map(|x| x.0).collect::<Vec<_>>(),
            "tags": strs(c.tags.iter().map(|x| x.as_str()).collect()),
        },
        "targets": d.targets.iter().map(|t| json!({
            "metric": t.metric.as_str(),
            "priority": t.priority.as_str(),
            "minutes": t.minutes,
            "business": t.business,
        })).collect::<Vec<_>>(),
        "pauses": d.pauses.iter().map(|(m, s)| {
            (m.as_str().to_string(), Value::from(s.iter().map(|x| x.as_str()).collect::<Vec<_>>()))
        }).collect::<Map<String, Value>>(),
        "warn_at": d.warn_at,
        "ladders": d.ladders.iter().map(|l| json!({
            "kind": l.kind.as_str(),
            "steps": l.steps.iter().map(|s| json!({
                "tier": s.tier.get(),
                "max_minutes": s.max_minutes,
                "business": s.business,
                "on_warn": s.on_warn.iter().map(action_to_json).collect::<Vec<_>>(),
                "on_breach": s.on_breach.iter().map(action_to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Builds the calendar of a stored record (its definition as the calendar API stores it:
/// `{"weekly": [{day, start, end}], "holidays": [{date, end_date, name}],
/// "workdays": [{date, start, end, name}]}`).
pub fn calendar_from_record(r: &crate::CalendarRecord) -> Result<Calendar, DomainError> {
    let v: Value = serde_json::from_str(&r.definition)
        .map_err(|_| DomainError::invalid("definition", "is not JSON"))?;
    let m = obj(&v, "definition", "definition")?;
    let s = |v: &Value, k: &str| -> Result<String, DomainError> {
        Ok(v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    };
    let date = |v: &Value, k: &str| -> Result<jiff::civil::Date, DomainError> {
        s(v, k)?
            .parse()
            .map_err(|_| DomainError::invalid("definition", format!("bad {k}")))
    };
    let mut spec = CalendarSpec {
        name: r.name.clone(),
        time_zone: r.time_zone.clone(),
        weekly: Vec::new(),
        holidays: Vec::new(),
        workdays: Vec::new(),
    };
    for w in arr(m, "weekly", "definition", "")? {
        spec.weekly.push(WeeklyInterval {
            day: parse_weekday(&s(w, "day")?)?,
            start: parse_local_time(&s(w, "start")?)?
                .time()
                .ok_or_else(|| DomainError::invalid("weekly", "24:00 cannot start"))?,
            end: parse_local_time(&s(w, "end")?)?,
        });
    }
    for h in arr(m, "holidays", "definition", "")? {
        let first = date(h, "date")?;
        let last = if h.get("end_date").is_some_and(|v| !v.is_null()) {
            date(h, "end_date")?
        } else {
            first
        };
        spec.holidays.push(Holiday {
            date: first,
            end_date: last,
            name: s(h, "name")?,
        });
    }
    for w in arr(m, "workdays", "definition", "")? {
        spec.workdays.push(MakeupDay {
            date: date(w, "date")?,
            start: parse_local_time(&s(w, "start")?)?
                .time()
                .ok_or_else(|| DomainError::invalid("workdays", "24:00 cannot start"))?,
            end: parse_local_time(&s(w, "end")?)?,
            name: s(w, "name")?,
        });
    }
    spec.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definition_round_trips_and_errors_name_the_path() {
        let v = json!({
            "calendar_id": 1,
            "conditions": {"priorities": ["urgent"], "segments": ["vip"], "tags": ["printer"]},
            "targets": [{"metric": "first_reply", "priority": "urgent", "minutes": 30, "business": true}],
            "pauses": {"agent_work": ["hold"]},
            "warn_at": [90, 75],
            "ladders": [{"kind": "vip", "steps": [{"tier": 1, "max_minutes": 60,
                "on_warn": [{"action": "notify", "to": "assignee"}],
                "on_breach": [{"action": "raise_tier"}, {"action": "assign_team", "team_id": 3},
                              {"action": "add_tag", "tag": "escalated"}, {"action": "raise_priority"}]}]}]
        });
        let def = policy_from_json(&v).unwrap();
        assert_eq!(def.warn_at, vec![75, 90]);
        assert_eq!(policy_from_json(&policy_to_json(&def)).unwrap(), def);

        let err = policy_from_json(
            &json!({"targets": [{"metric": "nope", "priority": "low", "minutes": 5}]}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("targets[0].metric"), "{err}");
        let err = policy_from_json(&json!({"targets": [], "ladders": [{"steps": [{"tier": 1,
            "on_breach": [{"action": "fly"}]}]}]}))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("ladders[0].steps[0].on_breach[0].action"),
            "{err}"
        );
        assert!(policy_from_json(&json!({"targets": [], "bogus": 1})).is_err());
        assert!(policy_from_json(&json!([])).is_err());
    }
}
