//! Closed vocabularies: each enum has one canonical lowercase spelling, used in the
//! API, the database and the UI. `parse` rejects anything else with a clear error.

use crate::DomainError;

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                match s {
                    $($s => Ok($name::$variant),)*
                    other => Err(DomainError::invalid(
                        $field,
                        format!("unknown value {:?}; expected one of: {}", other,
                            [$($s),*].join(", ")),
                    )),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// Ticket status. See [`crate::ticket::check_transition`] for the lifecycle.
    Status, "status" {
        New => "new", Open => "open", Pending => "pending", Hold => "hold",
        Solved => "solved", Closed => "closed",
    }
);

str_enum!(Priority, "priority" {
    Low => "low", Normal => "normal", High => "high", Urgent => "urgent",
});

str_enum!(TicketType, "type" {
    Question => "question", Incident => "incident", Problem => "problem",
    Task => "task", Complaint => "complaint",
});

str_enum!(
    /// Where a ticket came from. Later channels (chat, phone, sms, social) add variants here.
    Channel, "channel" {
        Web => "web", Portal => "portal", Email => "email", Api => "api",
        Chat => "chat", Phone => "phone",
    }
);

str_enum!(
    /// Agent role. Ordered from most to least powerful.
    Role, "role" {
        Admin => "admin", Supervisor => "supervisor", Agent => "agent", ReadOnly => "read-only",
    }
);

str_enum!(IdentityKind, "identity kind" {
    Email => "email", Phone => "phone", External => "external",
});

str_enum!(
    /// Customer segment, used later by SLA policies and routing.
    Segment, "segment" {
        Standard => "standard", Vip => "vip", KeyAccount => "key-account",
    }
);

str_enum!(
    /// Who caused a change recorded in the event log.
    ActorKind, "actor" {
        Agent => "agent", Customer => "customer", System => "system", Rule => "rule",
    }
);

str_enum!(
    /// UI and template language.
    Lang, "language" {
        En => "en", ZhCn => "zh-CN", ZhTw => "zh-TW",
    }
);

impl Lang {
    /// Best match for a language tag such as `zh-Hant-TW`, `zh`, `en-US` (case-insensitive).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            if t.contains("tw") || t.contains("hk") || t.contains("mo") || t.contains("hant") {
                Some(Lang::ZhTw)
            } else {
                Some(Lang::ZhCn)
            }
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Picks the first supported language from an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_tag(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

/// Support tier 1–4: frontline, specialist, back office, management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tier(u8);

impl Tier {
    pub const FRONTLINE: Tier = Tier(1);
    pub fn new(n: i64) -> Result<Tier, DomainError> {
        if (1..=4).contains(&n) {
            Ok(Tier(n as u8))
        } else {
            Err(DomainError::invalid("tier", "must be 1, 2, 3 or 4"))
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_round_trips_through_its_spelling() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(*s));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(*r));
        }
        assert!(Priority::parse("URGENT").is_err());
    }

    #[test]
    fn accept_language_prefers_highest_quality_supported_tag() {
        assert_eq!(
            Lang::from_accept_language("fr;q=1, zh-TW;q=0.8, en;q=0.5"),
            Some(Lang::ZhTw)
        );
        assert_eq!(
            Lang::from_accept_language("zh-Hans-CN,zh;q=0.9"),
            Some(Lang::ZhCn)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
    }

    #[test]
    fn tier_is_one_to_four() {
        assert!(Tier::new(0).is_err());
        assert!(Tier::new(5).is_err());
        assert_eq!(Tier::new(4).unwrap().get(), 4);
    }
}

str_enum!(
    /// Where an outgoing email stands, shown on its message. `failed` is final (after the
    /// retries, or at once for a permanent SMTP rejection); `bounced` comes later, from a DSN.
    DeliveryStatus, "delivery_status" {
        Queued => "queued", Sent => "sent", Failed => "failed", Bounced => "bounced",
    }
);

str_enum!(
    /// What became of one received email. Every received email is stored raw first
    /// (`received`), then gets exactly one of the other states: `ticketed` (opened a new
    /// ticket), `threaded` (added to a ticket, or a follow-up of a closed one), `bounce`
    /// (a DSN, attached to the message that bounced), `automatic` (an automatic mail that
    /// opens nothing, e.g. an out-of-office reply to a closed ticket), `loop` (from one of our own
    /// addresses: dropped), `rate_limited` (sender over the limit: kept, no ticket).
    InboundState, "inbound_state" {
        Received => "received",
        Ticketed => "ticketed",
        Threaded => "threaded",
        Bounce => "bounce",
        Loop => "loop",
        RateLimited => "rate_limited",
        Automatic => "automatic",
    }
);

str_enum!(
    /// What an SLA clock measures (see [`crate::sla`] for when each starts, pauses and stops).
    /// `tier_time` is the maximum processing time at the ticket's current tier: it is not a
    /// promise to the customer but drives the escalation ladder.
    Metric, "metric" {
        FirstReply => "first_reply",
        NextReply => "next_reply",
        PeriodicUpdate => "periodic_update",
        PausableUpdate => "pausable_update",
        RequesterWait => "requester_wait",
        AgentWork => "agent_work",
        Resolution => "resolution",
        TierTime => "tier_time",
    }
);

str_enum!(
    /// Where an SLA clock stands. `breached` stays breached when the clock is later
    /// fulfilled (its `fulfilled_at` is then set).
    ClockState, "clock_state" {
        Active => "active", Paused => "paused", Achieved => "achieved", Breached => "breached",
    }
);

str_enum!(
    /// A transition recorded in the ticket's event log (kind `sla`).
    SlaTransition, "sla_transition" {
        Apply => "apply", Activate => "activate", Pause => "pause", Resume => "resume",
        Fulfil => "fulfil", Warn => "warn", Breach => "breach", Cancel => "cancel",
        Escalate => "escalate",
    }
);
