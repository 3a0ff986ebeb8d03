//! The policy editor's values as text ([`Input`]): read from a stored policy or a
//! submitted form, and turned into the policy to store, or into a message naming the
//! cell to fix. Pure: no IO, so the round trip is unit-tested here.

use super::super::{form::FormData, form::hint, i18n::Tr};
use kefu_domain::sla::{
    EscalationAction, Ladder, LadderKind, LadderStep, MAX_TARGET_MINUTES, PROMISES, Recipient,
    SlaConditions, SlaPolicyDef, SlaTarget, default_pauses,
};
use kefu_domain::{
    CalendarId, Channel, DomainError, Metric, OrganizationId, Priority, Segment, Status, Tag,
    TeamId, TicketType, Tier, parse_tags,
};
use kefu_store::{NewSlaPolicy, SlaPolicyRecord};
use std::collections::{HashMap, HashSet};

/// The escalation checkboxes, in the order they are shown and stored.
pub(super) const FLAGS: [&str; 5] = [
    "notify_assignee",
    "notify_team_supervisors",
    "notify_supervisors",
    "raise_tier",
    "raise_priority",
];
/// Statuses that may pause a clock (solved and closed stop every clock).
pub(super) const PAUSABLE: [Status; 4] = [Status::New, Status::Open, Status::Pending, Status::Hold];

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ActionInput {
    pub(super) flags: Vec<String>,
    pub(super) team: String,
    pub(super) tag: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct StepInput {
    pub(super) max: String,
    pub(super) business: bool,
    pub(super) warn: ActionInput,
    pub(super) breach: ActionInput,
}

impl StepInput {
    pub(super) fn is_blank(&self) -> bool {
        let blank = |a: &ActionInput| a.flags.is_empty() && a.team.is_empty() && a.tag.is_empty();
        self.max.is_empty() && blank(&self.warn) && blank(&self.breach)
    }
}

/// The editor's values as text, from a stored policy or a submitted form.
#[derive(Debug, Clone, Default)]
pub(super) struct Input {
    pub(super) name: String,
    pub(super) position: String,
    pub(super) active: bool,
    pub(super) description: String,
    pub(super) calendar: String,
    pub(super) priorities: Vec<String>,
    pub(super) types: Vec<String>,
    pub(super) channels: Vec<String>,
    pub(super) segments: Vec<String>,
    pub(super) teams: Vec<String>,
    pub(super) orgs: Vec<String>,
    pub(super) tags: String,
    pub(super) targets: HashMap<(Metric, Priority), String>,
    pub(super) business: HashSet<Metric>,
    pub(super) pauses: HashMap<Metric, Vec<String>>,
    pub(super) warn_at: String,
    pub(super) steps: HashMap<(LadderKind, u8), StepInput>,
}

pub(super) fn strings<T: ToString>(v: &[T]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

fn default_pause_input() -> HashMap<Metric, Vec<String>> {
    Metric::ALL
        .iter()
        .map(|m| (*m, strings(default_pauses(*m))))
        .collect()
}

fn action_input(actions: &[EscalationAction]) -> ActionInput {
    let mut a = ActionInput::default();
    let mut tags = Vec::new();
    for x in actions {
        match x {
            EscalationAction::Notify(r) => a.flags.push(format!("notify_{}", r.as_str())),
            EscalationAction::RaiseTier => a.flags.push("raise_tier".into()),
            EscalationAction::RaisePriority => a.flags.push("raise_priority".into()),
            EscalationAction::AssignTeam(t) => a.team = t.to_string(),
            EscalationAction::AddTag(t) => tags.push(t.as_str().to_string()),
        }
    }
    a.tag = tags.join(" ");
    a
}

fn split_words(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

impl Input {
    /// A new policy: active, warnings at 75 % and 90 %, default pauses, no targets.
    pub(super) fn blank() -> Input {
        Input {
            active: true,
            warn_at: "75, 90".into(),
            pauses: default_pause_input(),
            ..Default::default()
        }
    }

    pub(super) fn from_record(r: &SlaPolicyRecord) -> Input {
        let d = &r.def;
        let c = &d.conditions;
        Input {
            name: r.name.clone(),
            position: r.position.to_string(),
            active: r.active,
            description: d.description.clone(),
            calendar: d.calendar_id.map(|c| c.to_string()).unwrap_or_default(),
            priorities: strings(&c.priorities),
            types: strings(&c.types),
            channels: strings(&c.channels),
            segments: strings(&c.segments),
            teams: strings(&c.teams),
            orgs: strings(&c.organizations),
            tags: c
                .tags
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            targets: d
                .targets
                .iter()
                .map(|t| ((t.metric, t.priority), t.minutes.to_string()))
                .collect(),
            business: d
                .targets
                .iter()
                .filter(|t| t.business)
                .map(|t| t.metric)
                .collect(),
            pauses: Metric::ALL
                .iter()
                .map(|m| (*m, strings(d.pause_statuses(*m))))
                .collect(),
            warn_at: d
                .warn_at
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            steps: d
                .ladders
                .iter()
                .flat_map(|l| {
                    l.steps.iter().map(move |s| {
                        let step = StepInput {
                            max: s.max_minutes.map(|m| m.to_string()).unwrap_or_default(),
                            business: s.business,
                            warn: action_input(&s.on_warn),
                            breach: action_input(&s.on_breach),
                        };
                        ((l.kind, s.tier.get()), step)
                    })
                })
                .collect(),
        }
    }

    pub(super) fn from_form(f: &FormData) -> Input {
        let all = |k: &str| f.all(k).map(|v| v.trim().to_string()).collect::<Vec<_>>();
        let text = |k: &str| f.get(k).trim().to_string();
        let mut targets = HashMap::new();
        let mut business = HashSet::new();
        for m in PROMISES {
            for p in Priority::ALL {
                let v = text(&format!("t_{m}_{p}"));
                if !v.is_empty() {
                    targets.insert((m, *p), v);
                }
            }
            if f.checked(&format!("tb_{m}")) {
                business.insert(m);
            }
        }
        let pauses = if f.get("pauses_form") == "1" {
            Metric::ALL
                .iter()
                .map(|m| (*m, all(&format!("pause_{m}"))))
                .collect()
        } else {
            default_pause_input()
        };
        let mut steps = HashMap::new();
        for k in LadderKind::ALL {
            for tier in 1..=4u8 {
                let p = format!("l_{}_{tier}", k.as_str());
                let actions = |what: &str| ActionInput {
                    flags: all(&format!("{p}_{what}")),
                    team: text(&format!("{p}_{what}_team")),
                    tag: text(&format!("{p}_{what}_tag")),
                };
                let step = StepInput {
                    max: text(&format!("{p}_max")),
                    business: f.checked(&format!("{p}_business")),
                    warn: actions("warn"),
                    breach: actions("breach"),
                };
                if !step.is_blank() || step.business {
                    steps.insert((k, tier), step);
                }
            }
        }
        Input {
            name: f.get("name").to_string(),
            position: text("position"),
            active: f.checked("active"),
            description: f.get("description").to_string(),
            calendar: text("calendar"),
            priorities: all("cond_priority"),
            types: all("cond_type"),
            channels: all("cond_channel"),
            segments: all("cond_segment"),
            teams: all("cond_team"),
            orgs: all("cond_org"),
            tags: f.get("cond_tags").to_string(),
            targets,
            business,
            pauses,
            warn_at: text("warn_at"),
            steps,
        }
    }

    /// The policy to store, or a message saying what to fix.
    pub(super) fn to_policy(&self, tr: Tr) -> Result<NewSlaPolicy, String> {
        let choice = |_: DomainError| hint(tr, "choice");
        fn each<T>(v: &[String], f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
            v.iter().filter(|s| !s.is_empty()).map(|s| f(s)).collect()
        }
        let id = |s: &str| s.parse::<i64>().map_err(|_| hint(tr, "choice"));
        let position = match self.position.as_str() {
            "" => None,
            p => Some(
                p.parse::<i64>()
                    .map_err(|_| tr.t("sla.err.position").to_string())?,
            ),
        };
        let calendar_id = match self.calendar.as_str() {
            "" => None,
            c => Some(CalendarId(id(c)?)),
        };
        let tags = parse_tags(&split_words(&self.tags)).map_err(|_| hint(tr, "tags"))?;
        let conditions = SlaConditions {
            priorities: each(&self.priorities, |s| Priority::parse(s).map_err(choice))?,
            types: each(&self.types, |s| TicketType::parse(s).map_err(choice))?,
            channels: each(&self.channels, |s| Channel::parse(s).map_err(choice))?,
            segments: each(&self.segments, |s| Segment::parse(s).map_err(choice))?,
            organizations: each(&self.orgs, |s| id(s).map(OrganizationId))?,
            teams: each(&self.teams, |s| id(s).map(TeamId))?,
            tags,
        };
        let minutes = |text: &str, place: &str| {
            text.parse::<u32>()
                .ok()
                .filter(|m| (1..=MAX_TARGET_MINUTES).contains(m))
                .ok_or_else(|| {
                    tr.f(
                        "sla.err.minutes",
                        &[("where", place), ("max", &MAX_TARGET_MINUTES.to_string())],
                    )
                })
        };
        let mut targets = Vec::new();
        for m in PROMISES {
            for p in Priority::ALL {
                if let Some(v) = self.targets.get(&(m, *p)) {
                    let place = format!("{}, {}", metric_label(tr, m), tr.priority(*p));
                    targets.push(SlaTarget {
                        metric: m,
                        priority: *p,
                        minutes: minutes(v, &place)?,
                        business: self.business.contains(&m),
                    });
                }
            }
        }
        let mut pauses = Vec::new();
        for m in Metric::ALL {
            let mut chosen = each(
                self.pauses.get(m).map(Vec::as_slice).unwrap_or_default(),
                |s| Status::parse(s).map_err(choice),
            )?;
            chosen.sort();
            chosen.dedup();
            if chosen != default_pauses(*m) {
                pauses.push((*m, chosen));
            }
        }
        let warn_at = split_words(&self.warn_at.replace('%', " "))
            .iter()
            .map(|w| w.parse::<u8>().ok().filter(|p| (1..=99).contains(p)))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| tr.t("sla.err.warn_at").to_string())?;
        let mut ladders = Vec::new();
        for k in LadderKind::ALL {
            let mut steps = Vec::new();
            for tier in 1..=4u8 {
                let Some(s) = self.steps.get(&(k, tier)).filter(|s| !s.is_blank()) else {
                    continue;
                };
                let place = step_label(tr, k, tier);
                let actions = |a: &ActionInput| -> Result<Vec<EscalationAction>, String> {
                    let mut out = Vec::new();
                    for flag in FLAGS.iter().filter(|f| a.flags.iter().any(|x| x == *f)) {
                        out.push(match *flag {
                            "raise_tier" => EscalationAction::RaiseTier,
                            "raise_priority" => EscalationAction::RaisePriority,
                            other => EscalationAction::Notify(
                                Recipient::parse(other.trim_start_matches("notify_"))
                                    .map_err(choice)?,
                            ),
                        });
                    }
                    if let Some(f) = a.flags.iter().find(|f| !FLAGS.contains(&f.as_str())) {
                        return Err(tr.f("sla.err.invalid", &[("detail", f)]));
                    }
                    if !a.team.is_empty() {
                        out.push(EscalationAction::AssignTeam(TeamId(id(&a.team)?)));
                    }
                    for t in split_words(&a.tag) {
                        let tag = Tag::parse(&t).map_err(|_| {
                            tr.f(
                                "sla.err.tag",
                                &[("where", &place), ("hint", &hint(tr, "tags"))],
                            )
                        })?;
                        out.push(EscalationAction::AddTag(tag));
                    }
                    Ok(out)
                };
                steps.push(LadderStep {
                    tier: Tier::new(i64::from(tier)).map_err(choice)?,
                    max_minutes: match s.max.as_str() {
                        "" => None,
                        m => Some(minutes(m, &place)?),
                    },
                    business: s.business,
                    on_warn: actions(&s.warn)?,
                    on_breach: actions(&s.breach)?,
                });
            }
            if !steps.is_empty() {
                ladders.push(Ladder { kind: k, steps });
            }
        }
        Ok(NewSlaPolicy {
            name: self.name.trim().to_string(),
            position,
            active: self.active,
            def: SlaPolicyDef {
                description: self.description.trim().to_string(),
                calendar_id,
                conditions,
                targets,
                pauses,
                warn_at,
                ladders,
            },
        })
    }
}

pub(super) fn metric_label(tr: Tr, m: Metric) -> &'static str {
    tr.t(&format!("sla.metric.{m}"))
}

pub(super) fn ladder_label(tr: Tr, k: LadderKind) -> &'static str {
    tr.t(&format!("sla.ladder.{}", k.as_str()))
}

/// "Default ladder, tier 2".
pub(super) fn step_label(tr: Tr, k: LadderKind, tier: u8) -> String {
    tr.f(
        "sla.step_label",
        &[("ladder", ladder_label(tr, k)), ("n", &tier.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::{Lang, SlaPolicyId};

    fn form(fields: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(fields)
    }

    #[test]
    fn the_form_reads_into_a_policy_and_back() {
        let tr = Tr(Lang::En);
        let f = form(&[
            ("name", " VIP support "),
            ("position", ""),
            ("active", "1"),
            ("calendar", "7"),
            ("cond_priority", "urgent"),
            ("cond_priority", "high"),
            ("cond_segment", "vip"),
            ("cond_tags", "vip，billing"),
            ("t_first_reply_urgent", "30"),
            ("t_resolution_urgent", "480"),
            ("tb_resolution", "1"),
            ("pauses_form", "1"),
            ("pause_requester_wait", "pending"),
            ("pause_agent_work", "pending"),
            ("pause_pausable_update", "hold"),
            ("pause_pausable_update", "pending"),
            ("pause_tier_time", "pending"),
            ("warn_at", "90%, 75"),
            ("l_default_1_max", "60"),
            ("l_default_1_breach", "raise_tier"),
            ("l_default_1_breach", "notify_team_supervisors"),
            ("l_default_1_breach_team", "3"),
            ("l_vip_2_warn_tag", "escalated vip-watch"),
        ]);
        let p = Input::from_form(&f).to_policy(tr).unwrap();
        assert_eq!(p.name, "VIP support");
        assert_eq!(p.position, None);
        let d = &p.def;
        assert_eq!(d.calendar_id, Some(CalendarId(7)));
        assert_eq!(d.conditions.priorities, [Priority::Urgent, Priority::High]);
        assert_eq!(d.conditions.tags.len(), 2);
        assert_eq!(d.targets.len(), 2);
        assert!(
            d.targets
                .iter()
                .any(|t| t.metric == Metric::Resolution && t.business)
        );
        assert!(
            d.targets
                .iter()
                .any(|t| t.metric == Metric::FirstReply && !t.business)
        );
        // Only the pauses that differ from the defaults are stored.
        assert_eq!(d.pauses, [(Metric::AgentWork, vec![Status::Pending])]);
        assert_eq!(d.warn_at, [90, 75], "the store sorts");
        assert_eq!(d.ladders.len(), 2);
        let step = &d.ladders[0].steps[0];
        assert_eq!(step.max_minutes, Some(60));
        assert_eq!(
            step.on_breach,
            [
                EscalationAction::Notify(Recipient::TeamSupervisors),
                EscalationAction::RaiseTier,
                EscalationAction::AssignTeam(TeamId(3)),
            ]
        );
        assert_eq!(d.ladders[1].kind, LadderKind::Vip);
        assert_eq!(d.ladders[1].steps[0].on_warn.len(), 2);

        let rec = SlaPolicyRecord {
            id: SlaPolicyId(1),
            name: p.name.clone(),
            position: 1,
            active: true,
            version: 1,
            def: p.def.clone(),
            created_at: kefu_domain::Timestamp::UNIX_EPOCH,
            updated_at: kefu_domain::Timestamp::UNIX_EPOCH,
        };
        let again = Input::from_record(&rec).to_policy(tr).unwrap();
        assert_eq!(
            again.def, p.def,
            "a stored policy round-trips through the editor"
        );
    }

    #[test]
    fn mistakes_name_the_cell() {
        let tr = Tr(Lang::En);
        let err = |fields: &[(&str, &str)]| {
            let mut all = vec![("name", "x")];
            all.extend_from_slice(fields);
            Input::from_form(&form(&all)).to_policy(tr).unwrap_err()
        };
        assert!(err(&[("t_next_reply_low", "abc")]).contains("Next reply, Low"));
        assert!(err(&[("l_complaint_3_max", "0")]).contains("Complaints, tier 3"));
        assert_eq!(err(&[("warn_at", "75, 120")]), tr.t("sla.err.warn_at"));
        let long = "x".repeat(70);
        assert!(err(&[("l_default_1_warn_tag", &long)]).contains("Default, tier 1"));
        assert_eq!(err(&[("cond_type", "bogus")]), hint(tr, "choice"));
    }

    #[test]
    fn every_key_built_at_run_time_exists() {
        let tr = Tr(Lang::ZhCn);
        let mut keys: Vec<String> = FLAGS.iter().map(|f| format!("sla.action.{f}")).collect();
        keys.extend(
            LadderKind::ALL
                .iter()
                .map(|k| format!("sla.ladder.{}", k.as_str())),
        );
        keys.extend(Channel::ALL.iter().map(|c| format!("channel.{c}")));
        keys.extend(Metric::ALL.iter().map(|m| format!("sla.metric.{m}")));
        for k in keys {
            assert_ne!(tr.t(&k), k, "missing {k}");
        }
    }

    #[test]
    fn a_post_without_the_pause_grid_keeps_the_defaults() {
        let p = Input::from_form(&form(&[("name", "x")]))
            .to_policy(Tr(Lang::En))
            .unwrap();
        assert!(p.def.pauses.is_empty());
        assert!(!p.active);
    }
}
