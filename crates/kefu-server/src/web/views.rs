//! View models: plain structs of display-ready strings that templates print as they are.
//! Turning domain values into words (translated enum names, people's names, relative
//! times, human-readable event lines) happens here, not in templates.

use super::{
    i18n::Tr,
    mail_view::{MailOpts, MailView, mail_body, mail_view},
    page::{ago, stamp},
};
use kefu_domain::{
    Actor, Agent, AgentId, Change, Customer, CustomerId, IdentityKind, Priority, Status, Team,
    Ticket, TicketType, Timestamp,
};
use kefu_store::{Event, Message};
use std::collections::HashMap;

/// One `<option>`.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Opt {
        Opt {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

pub fn priority_opts(tr: Tr, current: Priority) -> Vec<Opt> {
    Priority::ALL
        .iter()
        .map(|p| Opt::new(p.as_str(), tr.priority(*p), *p == current))
        .collect()
}

pub fn type_opts(tr: Tr, current: TicketType) -> Vec<Opt> {
    TicketType::ALL
        .iter()
        .map(|t| Opt::new(t.as_str(), tr.ticket_type(*t), *t == current))
        .collect()
}

/// Statuses an agent may pick: never `closed` (rules close tickets), `new` only while
/// the ticket still is new.
pub fn status_opts(tr: Tr, current: Status) -> Vec<Opt> {
    Status::ALL
        .iter()
        .filter(|s| **s == current || !matches!(s, Status::New | Status::Closed))
        .map(|s| Opt::new(s.as_str(), tr.status(*s), *s == current))
        .collect()
}

pub fn tier_opts(current: u8) -> Vec<Opt> {
    (1..=4u8)
        .map(|n| Opt::new(n.to_string(), format!("T{n}"), n == current))
        .collect()
}

/// Names of agents, customers and teams needed on one page, fetched in batches.
#[derive(Debug, Default)]
pub struct Names {
    pub agents: HashMap<AgentId, String>,
    pub customers: HashMap<CustomerId, String>,
    pub teams: HashMap<i64, String>,
}

impl Names {
    pub fn new(agents: &[Agent], customers: &[Customer], teams: &[Team]) -> Names {
        Names {
            agents: agents.iter().map(|a| (a.id, a.name.clone())).collect(),
            customers: customers.iter().map(|c| (c.id, c.name.clone())).collect(),
            teams: teams.iter().map(|t| (t.id.0, t.name.clone())).collect(),
        }
    }

    pub fn actor(&self, tr: Tr, a: Actor) -> String {
        match a {
            Actor::Agent(id) => self
                .agents
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("#{id}")),
            Actor::Customer(id) => self
                .customers
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("#{id}")),
            Actor::System => tr.t("actor.system").to_string(),
            Actor::Rule => tr.t("actor.rule").to_string(),
        }
    }

    pub fn agent(&self, tr: Tr, id: Option<AgentId>) -> String {
        match id {
            Some(id) => self
                .agents
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("#{id}")),
            None => tr.t("ticket.unassigned").to_string(),
        }
    }
}

/// One row of a ticket table.
#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub requester: String,
    pub requester_id: i64,
    pub status: &'static str,
    pub status_label: &'static str,
    pub priority: &'static str,
    pub priority_label: &'static str,
    pub assignee: String,
    pub updated: String,
    pub updated_title: String,
    /// The SLA column (agent lists only; filled by [`super::sla::cells`]).
    pub sla: Option<super::sla::SlaCell>,
}

pub fn ticket_row(
    tr: Tr,
    t: &Ticket,
    names: &Names,
    now: Timestamp,
    customer_view: bool,
) -> TicketRow {
    TicketRow {
        id: t.id.0,
        number: t.number,
        subject: t.subject.clone(),
        requester: names
            .customers
            .get(&t.requester_id)
            .cloned()
            .unwrap_or_else(|| format!("#{}", t.requester_id)),
        requester_id: t.requester_id.0,
        status: t.status.as_str(),
        status_label: if customer_view {
            tr.customer_status(t.status)
        } else {
            tr.status(t.status)
        },
        priority: t.priority.as_str(),
        priority_label: tr.priority(t.priority),
        assignee: if t.assignee_id.is_some() {
            names.agent(tr, t.assignee_id)
        } else {
            String::new()
        },
        updated: ago(tr, t.updated_at, now),
        updated_title: stamp(t.updated_at),
        sla: None,
    }
}

#[derive(Debug, Clone)]
pub struct AttachmentView {
    pub href: String,
    pub filename: String,
    pub size: String,
}

/// One entry of the conversation.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub id: i64,
    pub public: bool,
    pub from_customer: bool,
    pub author: String,
    pub when: String,
    pub when_title: String,
    /// Sanitised HTML from the store (`Message::body_html`), or for email the output of
    /// [`mail_body`]; rendered with `|safe`.
    pub html: Option<String>,
    /// Plain text, escaped by the template.
    pub text: String,
    /// Email only: quoted history and signature, folded (sanitised HTML, `|safe`).
    pub quoted_html: Option<String>,
    /// Email only: quoted history and signature of a plain-text mail (escaped).
    pub quoted_text: Option<String>,
    /// Email only: "show remote images" link when the mail has some held back.
    pub remote_href: Option<String>,
    /// Email only, agents only: addresses, delivery, parse warning, raw link.
    pub mail: Option<MailView>,
    pub attachments: Vec<AttachmentView>,
}

/// One message for the conversation. Email messages are shown per `opts` (see
/// [`super::mail_view`]); others as stored.
pub fn message_view(
    tr: Tr,
    m: &Message,
    names: &Names,
    now: Timestamp,
    opts: MailOpts,
) -> MessageView {
    let body = match m.email {
        Some(_) => mail_body(m, opts),
        None => super::mail_view::MailBody {
            html: m.body_html.clone().filter(|h| !h.trim().is_empty()),
            text: m.body_text.clone(),
            ..Default::default()
        },
    };
    MessageView {
        id: m.id.0,
        public: m.public,
        from_customer: matches!(m.author, Actor::Customer(_)),
        author: names.actor(tr, m.author),
        when: ago(tr, m.created_at, now),
        when_title: stamp(m.created_at),
        html: body.html,
        text: body.text,
        quoted_html: body.quoted_html,
        quoted_text: body.quoted_text,
        remote_href: body.remote_href,
        mail: if opts.staff { mail_view(tr, m) } else { None },
        attachments: m
            .attachments
            .iter()
            .map(|a| AttachmentView {
                href: format!("/attachments/{}", a.id),
                filename: a.filename.clone(),
                size: human_size(a.size),
            })
            .collect(),
    }
}

pub fn human_size(n: i64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// One line of the ticket history, e.g. "王芳 changed status from Open to Pending".
#[derive(Debug, Clone)]
pub struct EventView {
    pub text: String,
    pub when: String,
    pub when_title: String,
}

pub fn event_view(tr: Tr, e: &Event, names: &Names, now: Timestamp) -> EventView {
    let actor = names.actor(tr, e.actor);
    let text = match &e.change {
        Change::Created => tr.f("event.created", &[("actor", &actor)]),
        Change::Sla {
            metric: None,
            transition: kefu_domain::SlaTransition::Escalate,
            detail,
        } => tr.f("event.sla_escalate", &[("detail", detail)]),
        Change::Sla {
            metric: None,
            detail,
            ..
        } => tr.f("event.sla_policy", &[("detail", detail)]),
        Change::Sla {
            metric: Some(m),
            transition,
            detail,
        } => tr.f(
            "event.sla",
            &[
                ("metric", tr.t(&format!("sla.metric.{m}"))),
                ("what", tr.t(&format!("sla.tr.{transition}"))),
                ("detail", detail),
            ],
        ),
        Change::Message { public: true, .. } => tr.f("event.reply", &[("actor", &actor)]),
        Change::Message { public: false, .. } => tr.f("event.note", &[("actor", &actor)]),
        Change::Field { field, from, to } => {
            // Mid-sentence in English the field name is lowercase ("changed status").
            let label = match tr.0 {
                kefu_domain::Lang::En => tr.t(&format!("field.{field}")).to_lowercase(),
                _ => tr.t(&format!("field.{field}")).to_string(),
            };
            let label = label.as_str();
            let value = |v: &Option<String>| v.as_deref().map(|v| field_value(tr, field, v, names));
            match (
                value(from).filter(|s| !s.is_empty()),
                value(to).filter(|s| !s.is_empty()),
            ) {
                (Some(f), Some(t)) => tr.f(
                    "event.changed",
                    &[
                        ("actor", &actor),
                        ("field", label),
                        ("from", &f),
                        ("to", &t),
                    ],
                ),
                (None, Some(t)) => tr.f(
                    "event.set",
                    &[("actor", &actor), ("field", label), ("to", &t)],
                ),
                (_, None) => tr.f("event.cleared", &[("actor", &actor), ("field", label)]),
            }
        }
    };
    EventView {
        text,
        when: ago(tr, e.at, now),
        when_title: stamp(e.at),
    }
}

/// A stored field value (canonical text, ids as decimals) in words.
fn field_value(tr: Tr, field: &str, v: &str, names: &Names) -> String {
    let id = || v.parse::<i64>().ok();
    match field {
        "status" => Status::parse(v)
            .map(|s| tr.status(s).to_string())
            .unwrap_or_else(|_| v.into()),
        "priority" => Priority::parse(v)
            .map(|p| tr.priority(p).to_string())
            .unwrap_or_else(|_| v.into()),
        "type" => TicketType::parse(v)
            .map(|t| tr.ticket_type(t).to_string())
            .unwrap_or_else(|_| v.into()),
        "assignee" => id()
            .map(|i| names.agent(tr, Some(AgentId(i))))
            .unwrap_or_else(|| v.into()),
        "team" => id()
            .and_then(|i| names.teams.get(&i).cloned())
            .unwrap_or_else(|| format!("#{v}")),
        "tier" => format!("T{v}"),
        _ => v.to_string(),
    }
}

/// Contact details of a customer, for sidebars and the customer page.
#[derive(Debug, Clone)]
pub struct ContactView {
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

pub fn contacts(c: &Customer) -> ContactView {
    let of = |k: IdentityKind| {
        c.identities
            .iter()
            .filter(|i| i.kind == k)
            .map(|i| i.value.clone())
            .collect()
    };
    ContactView {
        emails: of(IdentityKind::Email),
        phones: of(IdentityKind::Phone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::{EventId, Lang, TicketId};

    #[test]
    fn events_read_as_sentences_with_names_and_translated_values() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let agent_name = "王芳".to_string();
        let names = Names {
            agents: HashMap::from([(AgentId(3), agent_name)]),
            ..Default::default()
        };
        let e = Event {
            id: EventId(1),
            ticket_id: TicketId(1),
            at: t0,
            actor: Actor::Agent(AgentId(3)),
            change: Change::Field {
                field: "status",
                from: Some("open".into()),
                to: Some("pending".into()),
            },
        };
        let v = event_view(
            Tr(Lang::En),
            &e,
            &names,
            Timestamp::from_second(1_700_000_180).unwrap(),
        );
        assert_eq!(v.text, "王芳 changed status from Open to Pending");
        assert_eq!(v.when, "3 min ago");
        let v = event_view(Tr(Lang::ZhCn), &e, &names, t0);
        assert_eq!(v.text, "王芳 将状态从“处理中”改为“待回复”");
    }

    #[test]
    fn only_current_and_reachable_statuses_are_offered() {
        let opts = status_opts(Tr(Lang::En), Status::Open);
        let values: Vec<_> = opts.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(values, ["open", "pending", "hold", "solved"]);
        assert!(
            status_opts(Tr(Lang::En), Status::New)
                .iter()
                .any(|o| o.value == "new" && o.selected)
        );
    }
}
