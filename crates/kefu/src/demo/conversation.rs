//! One demo ticket, planned: its topic and case, who asked and through which channel,
//! priority, team, tags, custom fields, and the conversation that leads it to its final
//! status (replies, notes, assignment, solving, closing by rule). Pure; see [`super::plan`].

use super::{
    people::{self, AGENTS, CustomerSpec, KEY_ACCOUNTS},
    plan::{Step, TicketSpec},
    rng::Rng,
    topics::{self, TOPICS, Vars, fill},
};
use jiff::SignedDuration;
use kefu_domain::{Channel, Lang, Priority, Role, Segment, Status, TicketType};

/// Plans one ticket requested by customer `requester` (`c`).
pub(super) fn plan_ticket(rng: &mut Rng, requester: usize, c: &CustomerSpec) -> TicketSpec {
    let weights: Vec<(usize, u32)> = TOPICS
        .iter()
        .enumerate()
        .map(|(i, t)| (i, t.weight))
        .collect();
    let ti = rng.weighted(&weights);
    let topic = &TOPICS[ti];
    let texts = topics::texts(c.lang, ti);
    let phrases = topics::phrases(c.lang);
    let case = *rng.pick(texts.cases);

    let status = rng.weighted(&[
        (Status::New, 10),
        (Status::Open, 20),
        (Status::Pending, 14),
        (Status::Hold, 6),
        (Status::Solved, 20),
        (Status::Closed, 30),
    ]);
    let valuable = c.segment != Segment::Standard;
    let team = if c.segment == Segment::KeyAccount && rng.chance(35) {
        KEY_ACCOUNTS
    } else {
        topic.team
    };
    let agent = pick_agent(rng, team, c.lang);
    let tier = if team == KEY_ACCOUNTS {
        AGENTS[agent].tier
    } else {
        topic.tier.max(AGENTS[agent].tier)
    };

    let currency = if c.tz == "Europe/London" {
        "£{}"
    } else {
        phrases.currency
    };
    let vars = Vars {
        name: c.greet.clone(),
        agent: AGENTS[agent].name.to_string(),
        product: if texts.products.is_empty() {
            String::new()
        } else {
            rng.pick(texts.products).to_string()
        },
        order: format!("KF2026{}", rng.digits(8)),
        serial: format!("SN{}", rng.digits(10)),
        invoice: format!("INV-2026-{}", rng.digits(6)),
        amount: currency.replace("{}", &thousands(rng.between(3, 400) * 50 - 1)),
    };

    let priority = {
        let p = if topic.types == [TicketType::Complaint] {
            rng.weighted(&[
                (Priority::Normal, 30),
                (Priority::High, 50),
                (Priority::Urgent, 20),
            ])
        } else {
            rng.weighted(&[
                (Priority::Low, 15),
                (Priority::Normal, 55),
                (Priority::High, 22),
                (Priority::Urgent, 8),
            ])
        };
        match p {
            Priority::Low if valuable && rng.chance(40) => Priority::Normal,
            Priority::Normal if valuable && rng.chance(40) => Priority::High,
            p => p,
        }
    };
    let mut channel = rng.weighted(&[
        (Channel::Email, 35),
        (Channel::Web, 15),
        (Channel::Portal, 12),
        (Channel::Chat, 15),
        (Channel::Phone, 15),
        (Channel::Api, 8),
    ]);
    if channel == Channel::Portal && !c.portal {
        channel = Channel::Web;
    }
    let logged_by = (channel == Channel::Phone).then(|| {
        if status == Status::New {
            pick_agent(rng, people::FRONTLINE, c.lang)
        } else {
            agent
        }
    });

    let mut tags: Vec<String> = topic.tags.iter().map(|t| t.to_string()).collect();
    match c.segment {
        Segment::Vip => tags.push("vip".into()),
        Segment::KeyAccount => tags.push("key-account".into()),
        Segment::Standard => {}
    }
    let mut fields = serde_json::Map::new();
    if let Some(field) = topic.field {
        let value = match field {
            "order_number" => &vars.order,
            "invoice_number" => &vars.invoice,
            _ => &vars.serial,
        };
        fields.insert(field.into(), value.clone().into());
    }
    if !vars.product.is_empty() {
        fields.insert("product".into(), vars.product.clone().into());
    }

    let opening = fill(case.1, &vars);
    let body = if logged_by.is_some() {
        format!("{}{opening}", phrases.phone_prefix)
    } else {
        opening
    };
    let reply = |body: &str| {
        fill(
            &format!("{}{body}{}", phrases.greeting, phrases.signoff),
            &vars,
        )
    };
    let follow_up = fill(rng.pick_str(texts.follow_ups), &vars);
    let note = fill(rng.pick_str(texts.notes), &vars);

    // Routing assigns some tickets at creation; the others are assigned by a supervisor
    // or taken by the agent.
    let routed = if status == Status::New {
        rng.chance(25)
    } else {
        rng.chance(50)
    };
    let assignee_at_creation = routed.then_some(agent);
    let mut steps = Vec::new();
    if status != Status::New && assignee_at_creation.is_none() {
        let by = if rng.chance(50) {
            supervisor_for(team)
        } else {
            agent
        };
        steps.push(Step::Assign { agent, by });
    }
    let customer = |body: String| Step::Customer { body };
    match status {
        Status::New => {
            if rng.chance(30) {
                steps.push(customer(rng.pick(phrases.nudges).to_string()));
            }
        }
        Status::Open => {
            steps.push(Step::Reply {
                agent,
                body: reply(case.2),
                status: None,
            });
            if rng.chance(50) {
                steps.push(customer(follow_up));
                if rng.chance(50) {
                    steps.push(Step::Reply {
                        agent,
                        body: reply(rng.pick_str(phrases.progress)),
                        status: Some(Status::Open),
                    });
                }
            }
            if rng.chance(30) {
                steps.push(Step::Note { agent, body: note });
            }
        }
        Status::Pending => {
            steps.push(Step::Reply {
                agent,
                body: reply(case.2),
                status: Some(Status::Pending),
            });
            if rng.chance(40) {
                steps.push(customer(follow_up));
                steps.push(Step::Reply {
                    agent,
                    body: reply(rng.pick_str(phrases.progress)),
                    status: Some(Status::Pending),
                });
            }
        }
        Status::Hold => {
            steps.push(Step::Reply {
                agent,
                body: reply(case.2),
                status: None,
            });
            steps.push(Step::Note {
                agent,
                body: rng.pick(phrases.hold_notes).to_string(),
            });
            steps.push(Step::SetStatus {
                agent,
                status: Status::Hold,
            });
            if rng.chance(30) {
                steps.push(customer(rng.pick(phrases.nudges).to_string()));
            }
        }
        Status::Solved | Status::Closed => {
            if rng.chance(25) {
                // Solved at first touch.
                steps.push(Step::Reply {
                    agent,
                    body: reply(case.3),
                    status: Some(Status::Solved),
                });
            } else {
                steps.push(Step::Reply {
                    agent,
                    body: reply(case.2),
                    status: Some(Status::Pending),
                });
                steps.push(customer(follow_up));
                if rng.chance(30) {
                    steps.push(Step::Note { agent, body: note });
                }
                steps.push(Step::Reply {
                    agent,
                    body: reply(case.3),
                    status: Some(Status::Solved),
                });
            }
            if status == Status::Closed {
                steps.push(Step::CloseByRule);
            }
        }
    }

    TicketSpec {
        topic: topic.key,
        subject: fill(case.0, &vars),
        status,
        priority,
        ticket_type: *rng.pick(topic.types),
        channel,
        requester,
        team,
        tier,
        tags,
        custom_fields: serde_json::Value::Object(fields).to_string(),
        logged_by,
        assignee_at_creation,
        body,
        steps,
        // Dated by `timeline::schedule` once every ticket is planned.
        created_at: SignedDuration::ZERO,
        step_times: Vec::new(),
    }
}

/// An agent of `team` who may write, favouring those who share the customer's language.
fn pick_agent(rng: &mut Rng, team: usize, lang: Lang) -> usize {
    let candidates: Vec<(usize, u32)> = AGENTS
        .iter()
        .enumerate()
        .filter(|(_, a)| a.teams.contains(&team))
        .filter_map(|(i, a)| {
            let base = match a.role {
                Role::Agent => 6,
                Role::Supervisor => 1,
                Role::Admin | Role::ReadOnly => return None,
            };
            Some((i, if a.lang == lang { base * 3 } else { base }))
        })
        .collect();
    rng.weighted(&candidates)
}

/// The supervisor who watches a team's queue (李娜 covers the teams without one).
fn supervisor_for(team: usize) -> usize {
    AGENTS
        .iter()
        .position(|a| a.role == Role::Supervisor && a.teams.contains(&team))
        .unwrap_or(1)
}

/// 12345 → "12,345".
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
