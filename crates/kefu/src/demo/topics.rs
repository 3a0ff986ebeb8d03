//! What demo tickets are about: eleven topics (repairs, refunds, invoices, shipping,
//! complaints, …), each with the team that handles it and, per language, a few *cases*:
//! a subject, the customer's first message, the agent's first reply and the resolution,
//! written to read as one conversation. The texts live in `texts_*.rs`, one file per
//! language, in the order of [`TOPICS`].
//!
//! Placeholders, filled by [`fill`]: `{name}` (how the customer is addressed), `{agent}`,
//! `{product}`, `{order}`, `{serial}`, `{invoice}`, `{amount}`.

use super::{
    people::{BILLING, COMPLAINTS, FRONTLINE, TECHNICAL},
    texts_en, texts_zh_cn, texts_zh_tw,
};
use kefu_domain::{Lang, TicketType};

pub struct Topic {
    pub key: &'static str,
    /// Relative frequency among all tickets.
    pub weight: u32,
    pub team: usize,
    /// Tier of the people who usually handle it.
    pub tier: u8,
    pub types: &'static [TicketType],
    pub tags: &'static [&'static str],
    /// Custom field recorded on the ticket, if any: `order_number`, `serial_number`, `invoice_number`.
    pub field: Option<&'static str>,
}

/// (subject, customer's first message, agent's first reply, agent's resolution).
pub type Case = (&'static str, &'static str, &'static str, &'static str);

/// One topic's texts in one language.
pub struct Texts {
    /// Product names for `{product}`; empty if the topic is not about a device.
    pub products: &'static [&'static str],
    pub cases: &'static [Case],
    /// The customer's second message (after the agent's first reply).
    pub follow_ups: &'static [&'static str],
    /// Internal notes between agents.
    pub notes: &'static [&'static str],
}

/// Topic-independent phrases in one language.
pub struct Phrases {
    /// Opens every agent reply; uses `{name}`.
    pub greeting: &'static str,
    /// Closes every agent reply; uses `{agent}`.
    pub signoff: &'static str,
    /// Prefixed to the first message of a ticket an agent logged from a phone call.
    pub phone_prefix: &'static str,
    /// A customer asking for news.
    pub nudges: &'static [&'static str],
    /// An agent's interim update that keeps the ticket open.
    pub progress: &'static [&'static str],
    /// Internal notes when a ticket waits for a third party (on hold).
    pub hold_notes: &'static [&'static str],
    /// The currency format for `{amount}`, with `{}` for the number.
    pub currency: &'static str,
}

use TicketType::{Complaint, Incident, Problem, Question, Task};

pub const TOPICS: [Topic; 11] = [
    Topic {
        key: "printer",
        weight: 10,
        team: TECHNICAL,
        tier: 2,
        types: &[Incident, Problem],
        tags: &["printer", "repair", "维修"],
        field: Some("serial_number"),
    },
    Topic {
        key: "laptop",
        weight: 10,
        team: TECHNICAL,
        tier: 2,
        types: &[Incident, Problem],
        tags: &["laptop", "repair", "维修"],
        field: Some("serial_number"),
    },
    Topic {
        key: "phone",
        weight: 12,
        team: TECHNICAL,
        tier: 2,
        types: &[Incident, Question],
        tags: &["phone", "repair", "维修"],
        field: Some("serial_number"),
    },
    Topic {
        key: "password",
        weight: 10,
        team: FRONTLINE,
        tier: 1,
        types: &[Question, Task],
        tags: &["account", "password-reset"],
        field: None,
    },
    Topic {
        key: "shipping",
        weight: 12,
        team: FRONTLINE,
        tier: 1,
        types: &[Question, Incident],
        tags: &["shipping", "物流"],
        field: Some("order_number"),
    },
    Topic {
        key: "warranty",
        weight: 8,
        team: FRONTLINE,
        tier: 1,
        types: &[Question],
        tags: &["warranty", "保修"],
        field: Some("serial_number"),
    },
    Topic {
        key: "refund",
        weight: 10,
        team: BILLING,
        tier: 2,
        types: &[Task, Question],
        tags: &["refund", "退款"],
        field: Some("order_number"),
    },
    Topic {
        key: "invoice",
        weight: 9,
        team: BILLING,
        tier: 2,
        types: &[Task],
        tags: &["invoice", "发票"],
        field: Some("invoice_number"),
    },
    Topic {
        key: "billing-dispute",
        weight: 6,
        team: BILLING,
        tier: 2,
        types: &[Problem, Question],
        tags: &["billing", "dispute"],
        field: Some("invoice_number"),
    },
    Topic {
        key: "complaint",
        weight: 7,
        team: COMPLAINTS,
        tier: 2,
        types: &[Complaint],
        tags: &["complaint", "投诉"],
        field: None,
    },
    Topic {
        key: "upgrade",
        weight: 6,
        team: BILLING,
        tier: 2,
        types: &[Question, Task],
        tags: &["upgrade", "sales"],
        field: None,
    },
];

pub fn texts(lang: Lang, topic: usize) -> &'static Texts {
    match lang {
        Lang::ZhCn => &texts_zh_cn::TEXTS[topic],
        Lang::ZhTw => &texts_zh_tw::TEXTS[topic],
        Lang::En => &texts_en::TEXTS[topic],
    }
}

pub fn phrases(lang: Lang) -> &'static Phrases {
    match lang {
        Lang::ZhCn => &texts_zh_cn::PHRASES,
        Lang::ZhTw => &texts_zh_tw::PHRASES,
        Lang::En => &texts_en::PHRASES,
    }
}

/// Values for the placeholders of one ticket.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub name: String,
    pub agent: String,
    pub product: String,
    pub order: String,
    pub serial: String,
    pub invoice: String,
    pub amount: String,
}

pub fn fill(template: &str, v: &Vars) -> String {
    template
        .replace("{name}", &v.name)
        .replace("{agent}", &v.agent)
        .replace("{product}", &v.product)
        .replace("{order}", &v.order)
        .replace("{serial}", &v.serial)
        .replace("{invoice}", &v.invoice)
        .replace("{amount}", &v.amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_templates(lang: Lang) -> Vec<&'static str> {
        let mut out = Vec::new();
        for i in 0..TOPICS.len() {
            let t = texts(lang, i);
            out.extend(t.products);
            for c in t.cases {
                out.extend([c.0, c.1, c.2, c.3]);
            }
            out.extend(t.follow_ups);
            out.extend(t.notes);
        }
        let p = phrases(lang);
        out.extend([p.greeting, p.signoff, p.phone_prefix]);
        out.extend(p.nudges);
        out.extend(p.progress);
        out.extend(p.hold_notes);
        out
    }

    #[test]
    fn every_language_has_complete_texts_for_every_topic() {
        for lang in Lang::ALL {
            for (i, topic) in TOPICS.iter().enumerate() {
                let t = texts(*lang, i);
                assert!(!t.cases.is_empty(), "{lang} {}: no cases", topic.key);
                assert!(
                    !t.follow_ups.is_empty(),
                    "{lang} {}: no follow-ups",
                    topic.key
                );
                assert!(!t.notes.is_empty(), "{lang} {}: no notes", topic.key);
                let needs_product = t
                    .cases
                    .iter()
                    .any(|c| format!("{}{}", c.0, c.1).contains("{product}"));
                assert_eq!(
                    needs_product,
                    !t.products.is_empty(),
                    "{lang} {}: products",
                    topic.key
                );
            }
        }
    }

    #[test]
    fn templates_use_only_known_placeholders_and_valid_subjects() {
        let v = Vars {
            name: "N".into(),
            agent: "A".into(),
            product: "P".into(),
            order: "O".into(),
            serial: "S".into(),
            invoice: "I".into(),
            amount: "M".into(),
        };
        for lang in Lang::ALL {
            for t in all_templates(*lang) {
                let filled = fill(t, &v);
                assert!(
                    !filled.contains('{') && !filled.contains('}'),
                    "{lang}: {t}"
                );
            }
            for i in 0..TOPICS.len() {
                for c in texts(*lang, i).cases {
                    kefu_domain::Subject::parse(&fill(c.0, &v)).expect("subject is valid");
                }
            }
        }
    }
}
