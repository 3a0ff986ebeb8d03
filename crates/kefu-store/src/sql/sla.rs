//! SQL for SLA policies (versioned), per-ticket clocks and their durable timers.
//!
//! `sla_impl!` expands to inherent methods of one engine's store (suffixed `_`); the
//! `Store` impl in `mod.rs` delegates to them. `sla_step` is called by the ticket
//! transactions (`tickets.rs`) after every change: it evaluates the ticket's clocks with
//! `kefu_domain::sla::evaluate`, records the SLA events, carries out escalations (a patch
//! by `Actor::Rule`, notifications) and writes the clocks, all in the ticket's transaction.
//!
//! The policies and calendars every evaluation needs are cached per node in an
//! [`SlaCache`] snapshot, tagged with `sla_generation`; every change of a policy or a
//! calendar bumps that number in its own transaction, so each node reloads on its next
//! ticket write (one indexed read per write when nothing changed).
//!
//! Invariants:
//! - A ticket's clocks change only inside a transaction that holds its row (locked on
//!   PostgreSQL, the single writer on SQLite), so timers firing on two nodes evaluate one
//!   after the other and the second finds nothing to do (fire once).
//! - Timers are the clock rows' `next_fire_at`; `claim_sla_timers` leases them
//!   (`lease_until`, `FOR UPDATE SKIP LOCKED` on PostgreSQL) so nodes share the work.
//! - Policy versions are immutable rows; a ticket names the version it runs under.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kefu_domain::sla::PolicyVersion;
use kefu_domain::{Calendar, CalendarId};

/// What every SLA evaluation on this node reads: the active policies and all calendars,
/// as of `generation`.
#[derive(Debug, Default)]
pub(crate) struct SlaSnapshot {
    pub generation: i64,
    pub policies: Vec<PolicyVersion>,
    pub calendars: HashMap<CalendarId, Calendar>,
    pub uses_segment: bool,
}

/// Per-node cache of the current snapshot and of every policy version read (immutable).
#[derive(Debug, Default)]
pub(crate) struct SlaCache {
    pub snapshot: Mutex<Option<Arc<SlaSnapshot>>>,
    pub versions: Mutex<HashMap<(i64, i64), PolicyVersion>>,
}

/// Clock columns in the order every clock query selects them.
macro_rules! clock_cols {
    () => {
        "ticket_id, metric, state, target_secs, business, calendar_id, warn_at, started_at, \
         elapsed_us, since, due_at, warned, breached_at, fulfilled_at, next_fire_at"
    };
}

pub(crate) fn warn_to_db(w: &[u8]) -> String {
    w.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

pub(crate) fn warn_from_db(s: &str) -> Vec<u8> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
}

/// [`clock_cols!`] as a bulk read packs them into one JSON array per clock, in the order
/// [`ClockTuple`] reads them (`business` as 0/1 on both engines).
macro_rules! clock_json_items {
    () => {
        "ticket_id, metric, state, target_secs, CASE WHEN business THEN 1 ELSE 0 END, calendar_id, \
         warn_at, started_at, elapsed_us, since, due_at, warned, breached_at, fulfilled_at, next_fire_at"
    };
}

/// One stored clock, its columns in [`clock_cols!`] order (`business` as 0/1): what a
/// row or a bulk read's JSON array holds, with the strings borrowed.
pub(crate) type ClockTuple<'a> = (
    i64,
    &'a str,
    &'a str,
    i64,
    i64,
    Option<i64>,
    &'a str,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The one decoding of a stored clock, for rows and bulk reads alike.
pub(crate) fn clock_from_tuple(
    c: ClockTuple<'_>,
) -> crate::Result<(kefu_domain::TicketId, kefu_domain::sla::SlaClock)> {
    use super::convert::{stored, ts, ts_opt};
    use kefu_domain::{ClockState, Metric};
    Ok((
        kefu_domain::TicketId(c.0),
        kefu_domain::sla::SlaClock {
            metric: stored(Metric::parse(c.1))?,
            state: stored(ClockState::parse(c.2))?,
            target: jiff::SignedDuration::from_secs(c.3),
            business: c.4 != 0,
            calendar_id: c.5.map(CalendarId),
            warn_at: warn_from_db(c.6),
            started_at: ts(c.7)?,
            elapsed: jiff::SignedDuration::from_micros(c.8),
            since: ts_opt(c.9)?,
            due: ts_opt(c.10)?,
            warned: u8::try_from(c.11).unwrap_or(u8::MAX),
            breached_at: ts_opt(c.12)?,
            fulfilled_at: ts_opt(c.13)?,
            next_fire: ts_opt(c.14)?,
        },
    ))
}

/// Decodes a bulk read: one JSON array of clocks, as the engine's `sla_clock_window` query
/// aggregates them. One row crosses the driver per window instead of one per clock; on
/// SQLite that is most of the cost of reading (each row is a message to the driver's
/// worker thread).
pub(crate) fn clocks_from_json(
    json: &str,
) -> crate::Result<Vec<(kefu_domain::TicketId, kefu_domain::sla::SlaClock)>> {
    let tuples: Vec<ClockTuple<'_>> = serde_json::from_str(json)
        .map_err(|e| super::convert::corrupt(format!("SLA clocks: {e}")))?;
    tuples.into_iter().map(clock_from_tuple).collect()
}

/// Encodes new schedules for the engine's `sla_write_schedules` statement: one JSON array
/// `[ticket, metric, due, next_fire, since, elapsed_us]` per clock, bound as one parameter
/// (thousands of numbered parameters cost SQLite a name lookup each, quadratic in all).
pub(crate) fn schedules_to_json(
    changed: &[(kefu_domain::TicketId, kefu_domain::sla::SlaClock)],
) -> String {
    use super::convert::{micros, us};
    use std::fmt::Write;
    let opt =
        |t: Option<jiff::Timestamp>| t.map_or_else(|| "null".to_owned(), |t| us(t).to_string());
    let mut json = String::with_capacity(changed.len() * 64 + 2);
    json.push('[');
    for (i, (t, c)) in changed.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        // Metric spellings are ASCII identifiers: nothing to escape.
        let _ = write!(
            json,
            "[{},\"{}\",{},{},{},{}]",
            t.0,
            c.metric.as_str(),
            opt(c.due),
            opt(c.next_fire),
            opt(c.since),
            micros(c.elapsed)
        );
    }
    json.push(']');
    json
}

/// What one stripe of a recomputation did, and where its time went.
#[derive(Debug, Default)]
pub(crate) struct RecomputeStats {
    pub seen: u64,
    pub updated: u64,
    pub read: std::time::Duration,
    pub compute: std::time::Duration,
    pub write: std::time::Duration,
}

impl RecomputeStats {
    pub fn add(&mut self, o: &RecomputeStats) {
        self.seen += o.seen;
        self.updated += o.updated;
        self.read += o.read;
        self.compute += o.compute;
        self.write += o.write;
    }
}

macro_rules! sla_impl {
    (
        $store:ident, $db:ty, $for_update:literal, $skip_locked:literal,
        $clock_window:expr, $write_schedules:expr, $recompute_stripes:expr
    ) => {
        impl $store {
            fn clock_from_row(r: &<$db as sqlx::Database>::Row) -> Result<(TicketId, kefu_domain::sla::SlaClock)> {
                sla::clock_from_tuple((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    i64::from(r.try_get::<bool, _>(4)?),
                    r.try_get(5)?,
                    r.try_get(6)?,
                    r.try_get(7)?,
                    r.try_get(8)?,
                    r.try_get(9)?,
                    r.try_get(10)?,
                    r.try_get(11)?,
                    r.try_get(12)?,
                    r.try_get(13)?,
                    r.try_get(14)?,
                ))
            }

            async fn load_ticket_sla(
                c: &mut <$db as sqlx::Database>::Connection,
                id: TicketId,
            ) -> Result<Option<kefu_domain::sla::TicketSla>> {
                let Some(row) = sqlx::query(
                    "SELECT policy_id, policy_version, replied, awaiting_since, last_agent_reply, tier_since \
                     FROM ticket_sla WHERE ticket_id = $1",
                )
                .bind(id.0)
                .fetch_optional(&mut *c)
                .await?
                else {
                    return Ok(None);
                };
                let policy = match (
                    row.try_get::<Option<i64>, _>("policy_id")?,
                    row.try_get::<Option<i64>, _>("policy_version")?,
                ) {
                    (Some(p), Some(v)) => Some((SlaPolicyId(p), v)),
                    _ => None,
                };
                let clocks = sqlx::query(concat!("SELECT ", clock_cols!(), " FROM sla_clocks WHERE ticket_id = $1"))
                    .bind(id.0)
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| Self::clock_from_row(r).map(|(_, c)| c))
                    .collect::<Result<Vec<_>>>()?;
                let mut clocks = clocks;
                clocks.sort_by_key(|c| c.metric);
                Ok(Some(kefu_domain::sla::TicketSla {
                    policy,
                    replied: row.try_get("replied")?,
                    awaiting_since: ts_opt(row.try_get("awaiting_since")?)?,
                    last_agent_reply: ts_opt(row.try_get("last_agent_reply")?)?,
                    tier_since: ts_opt(row.try_get("tier_since")?)?,
                    clocks,
                }))
            }

            /// Writes a ticket's SLA state: its row, and its clocks if they changed.
            async fn write_ticket_sla(
                c: &mut <$db as sqlx::Database>::Connection,
                id: TicketId,
                before: Option<&kefu_domain::sla::TicketSla>,
                sla: &kefu_domain::sla::TicketSla,
            ) -> Result<()> {
                let facts_changed = before.is_none_or(|b| {
                    b.policy != sla.policy
                        || b.replied != sla.replied
                        || b.awaiting_since != sla.awaiting_since
                        || b.last_agent_reply != sla.last_agent_reply
                        || b.tier_since != sla.tier_since
                });
                if facts_changed {
                    sqlx::query(
                        "INSERT INTO ticket_sla (ticket_id, policy_id, policy_version, replied, awaiting_since, \
                         last_agent_reply, tier_since) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (ticket_id) DO UPDATE SET policy_id = excluded.policy_id, \
                         policy_version = excluded.policy_version, replied = excluded.replied, \
                         awaiting_since = excluded.awaiting_since, last_agent_reply = excluded.last_agent_reply, \
                         tier_since = excluded.tier_since",
                    )
                    .bind(id.0)
                    .bind(sla.policy.map(|p| p.0.0))
                    .bind(sla.policy.map(|p| p.1))
                    .bind(sla.replied)
                    .bind(sla.awaiting_since.map(us))
                    .bind(sla.last_agent_reply.map(us))
                    .bind(sla.tier_since.map(us))
                    .execute(&mut *c)
                    .await?;
                }
                if before.is_some_and(|b| b.clocks == sla.clocks) {
                    return Ok(());
                }
                if before.is_some_and(|b| !b.clocks.is_empty()) {
                    sqlx::query("DELETE FROM sla_clocks WHERE ticket_id = $1").bind(id.0).execute(&mut *c).await?;
                }
                if sla.clocks.is_empty() {
                    return Ok(());
                }
                const N: usize = 15;
                let mut sql = String::from(concat!("INSERT INTO sla_clocks (", clock_cols!(), ") VALUES "));
                for i in 0..sla.clocks.len() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    for k in 1..=N {
                        if k > 1 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!("${}", i * N + k));
                    }
                    sql.push(')');
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for k in &sla.clocks {
                    q = q
                        .bind(id.0)
                        .bind(k.metric.as_str())
                        .bind(k.state.as_str())
                        .bind(k.target.as_secs())
                        .bind(k.business)
                        .bind(k.calendar_id.map(|c| c.0))
                        .bind(sla::warn_to_db(&k.warn_at))
                        .bind(us(k.started_at))
                        .bind(micros(k.elapsed))
                        .bind(k.since.map(us))
                        .bind(k.due.map(us))
                        .bind(i64::from(k.warned))
                        .bind(k.breached_at.map(us))
                        .bind(k.fulfilled_at.map(us))
                        .bind(k.next_fire.map(us));
                }
                q.execute(&mut *c).await?;
                Ok(())
            }

            async fn sla_generation(c: &mut <$db as sqlx::Database>::Connection) -> Result<i64> {
                Ok(sqlx::query("SELECT generation FROM sla_generation WHERE id = 1")
                    .fetch_one(&mut *c)
                    .await?
                    .try_get(0)?)
            }

            async fn bump_sla_generation(c: &mut <$db as sqlx::Database>::Connection) -> Result<()> {
                sqlx::query("UPDATE sla_generation SET generation = generation + 1 WHERE id = 1")
                    .execute(&mut *c)
                    .await?;
                Ok(())
            }

            /// The node's snapshot of active policies and calendars, reloaded when the
            /// generation moved.
            async fn sla_snapshot(&self, c: &mut <$db as sqlx::Database>::Connection) -> Result<Arc<sla::SlaSnapshot>> {
                let generation = Self::sla_generation(c).await?;
                if let Some(s) = self.sla.snapshot.lock().expect("sla cache").as_ref()
                    && s.generation == generation
                {
                    return Ok(s.clone());
                }
                let mut snap = sla::SlaSnapshot { generation, ..Default::default() };
                let rows = sqlx::query(
                    "SELECT p.id, p.name, p.version, v.definition FROM sla_policies p \
                     JOIN sla_policy_versions v ON v.policy_id = p.id AND v.version = p.version \
                     WHERE p.active ORDER BY p.position, p.id",
                )
                .fetch_all(&mut *c)
                .await?;
                for r in &rows {
                    let pv = Self::policy_version_from_row(r)?;
                    snap.uses_segment |= pv.def.uses_segment();
                    snap.policies.push(pv);
                }
                let cals = sqlx::query(concat!("SELECT ", calendar_cols!(), " FROM calendars"))
                    .fetch_all(&mut *c)
                    .await?;
                for r in &cals {
                    let rec = Self::calendar_from_row(r)?;
                    match crate::sla_json::calendar_from_record(&rec) {
                        Ok(cal) => {
                            snap.calendars.insert(rec.id, cal);
                        }
                        Err(e) => tracing::warn!(calendar = rec.id.0, error = %e, "calendar unusable for SLA clocks"),
                    }
                }
                let snap = Arc::new(snap);
                *self.sla.snapshot.lock().expect("sla cache") = Some(snap.clone());
                Ok(snap)
            }

            fn policy_version_from_row(r: &<$db as sqlx::Database>::Row) -> Result<kefu_domain::sla::PolicyVersion> {
                let definition: String = r.try_get("definition")?;
                let v: serde_json::Value = serde_json::from_str(&definition)
                    .map_err(|e| corrupt(format!("sla policy definition: {e}")))?;
                let def = crate::sla_json::policy_from_json(&v)
                    .map_err(|e| corrupt(format!("sla policy definition: {e}")))?;
                Ok(kefu_domain::sla::PolicyVersion {
                    id: SlaPolicyId(r.try_get("id")?),
                    version: r.try_get("version")?,
                    name: r.try_get("name")?,
                    def: Arc::new(def),
                })
            }

            /// One version of a policy (cached forever: versions never change).
            async fn policy_version(
                &self,
                c: &mut <$db as sqlx::Database>::Connection,
                id: SlaPolicyId,
                version: i64,
            ) -> Result<Option<kefu_domain::sla::PolicyVersion>> {
                if let Some(p) = self.sla.versions.lock().expect("sla cache").get(&(id.0, version)) {
                    return Ok(Some(p.clone()));
                }
                let row = sqlx::query(
                    "SELECT p.id, p.name, v.version, v.definition FROM sla_policy_versions v \
                     JOIN sla_policies p ON p.id = v.policy_id WHERE v.policy_id = $1 AND v.version = $2",
                )
                .bind(id.0)
                .bind(version)
                .fetch_optional(&mut *c)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let pv = Self::policy_version_from_row(&row)?;
                self.sla.versions.lock().expect("sla cache").insert((id.0, version), pv.clone());
                Ok(Some(pv))
            }

            async fn sla_facts(
                c: &mut <$db as sqlx::Database>::Connection,
                t: &Ticket,
            ) -> Result<kefu_domain::sla::Facts> {
                let row = sqlx::query(
                    "SELECT c.segment AS cs, o.segment AS os FROM customers c \
                     LEFT JOIN organizations o ON o.id = $2 WHERE c.id = $1",
                )
                .bind(t.requester_id.0)
                .bind(t.organization_id.map(|o| o.0))
                .fetch_optional(&mut *c)
                .await?;
                let Some(row) = row else { return Ok(kefu_domain::sla::Facts::STANDARD) };
                Ok(kefu_domain::sla::Facts {
                    customer_segment: stored(Segment::parse(row.try_get("cs")?))?,
                    organization_segment: row
                        .try_get::<Option<String>, _>("os")?
                        .map(|s| stored(Segment::parse(&s)))
                        .transpose()?,
                })
            }

            /// Evaluates the ticket's clocks after a change and carries out what follows
            /// (events, escalations, notifications), inside the caller's transaction.
            /// Returns the ticket as it is afterwards (an escalation may have changed it)
            /// and how many SLA events were recorded. The clock events are `actor`'s: the
            /// system's when they follow a ticket change or a timer, the admin's who
            /// re-applied a policy; escalations are always the rule's.
            async fn sla_step(
                &self,
                c: &mut <$db as sqlx::Database>::Connection,
                before: Option<&Ticket>,
                ticket: &Ticket,
                signal: kefu_domain::sla::Signal,
                actor: Actor,
                now: Timestamp,
            ) -> Result<(Ticket, usize)> {
                use kefu_domain::sla::{Signal, escalation_patch, evaluate};
                let snap = self.sla_snapshot(c).await?;
                let stored_sla = Self::load_ticket_sla(c, ticket.id).await?;
                if snap.policies.is_empty() && stored_sla.as_ref().is_none_or(|s| s.clocks.is_empty() && s.policy.is_none())
                {
                    // No policy anywhere: keep only the conversation facts a later policy needs.
                    if matches!(signal, Signal::Created { .. } | Signal::Message { .. }) {
                        let env = kefu_domain::sla::SlaEnv {
                            policies: &[],
                            pinned: None,
                            calendars: &snap.calendars,
                            facts: kefu_domain::sla::Facts::STANDARD,
                        };
                        let current = stored_sla.clone().unwrap_or_default();
                        let e = evaluate(&env, before, ticket, &current, signal, now);
                        Self::write_ticket_sla(c, ticket.id, stored_sla.as_ref(), &e.sla).await?;
                    }
                    return Ok((ticket.clone(), 0));
                }
                let facts = if snap.uses_segment {
                    Self::sla_facts(c, ticket).await?
                } else {
                    kefu_domain::sla::Facts::STANDARD
                };
                let current = stored_sla.clone().unwrap_or_default();
                let mut sla_now = current.clone();
                let mut before = before.cloned();
                let mut ticket = ticket.clone();
                let mut signal = signal;
                let mut recorded = 0;
                // An escalation changes the ticket, which is evaluated again (a raised
                // priority brings new targets); tiers and priorities end, so this does too.
                for _round in 0..4 {
                    let pinned = match sla_now.policy {
                        Some((id, v)) if !snap.policies.iter().any(|p| p.id == id && p.version == v) => {
                            self.policy_version(c, id, v).await?
                        }
                        _ => None,
                    };
                    let env = kefu_domain::sla::SlaEnv {
                        policies: &snap.policies,
                        pinned: pinned.as_ref(),
                        calendars: &snap.calendars,
                        facts,
                    };
                    let e = evaluate(&env, before.as_ref(), &ticket, &sla_now, signal, now);
                    let events: Vec<_> = e.changes.iter().map(|ch| (actor, ch)).collect();
                    recorded += events.len();
                    Self::insert_events(c, ticket.id, now, &events).await?;
                    sla_now = e.sla;
                    if e.escalations.is_empty() {
                        break;
                    }
                    let (patch, notify) = escalation_patch(&ticket, &e.escalations);
                    self.notify_escalation(c, &ticket, &notify, now).await?;
                    if patch.is_empty() {
                        break;
                    }
                    // A team named by a ladder that was deleted is skipped, not fatal.
                    let mut patch = patch;
                    if let Some(Some(team)) = patch.team_id
                        && Self::check_assignment(c, None, Some(team)).await.is_err()
                    {
                        patch.team_id = None;
                        patch.assignee_id = None;
                    }
                    let (updated, changes) = match apply_patch(&ticket, &patch, Actor::Rule, now) {
                        Ok(x) => x,
                        Err(_) => break,
                    };
                    if changes.is_empty() {
                        break;
                    }
                    Self::write_ticket(c, &updated).await?;
                    let events: Vec<_> = changes.iter().map(|ch| (Actor::Rule, ch)).collect();
                    Self::insert_events(c, ticket.id, now, &events).await?;
                    before = Some(std::mem::replace(&mut ticket, updated));
                    signal = Signal::Changed;
                }
                Self::write_ticket_sla(c, ticket.id, stored_sla.as_ref(), &sla_now).await?;
                Ok((ticket, recorded))
            }

            /// Resolves escalation recipients to agents and notifies them (once per agent,
            /// ticket, trigger and instant).
            async fn notify_escalation(
                &self,
                c: &mut <$db as sqlx::Database>::Connection,
                t: &Ticket,
                notify: &[(kefu_domain::sla::Recipient, kefu_domain::sla::EscalationTrigger)],
                now: Timestamp,
            ) -> Result<()> {
                use kefu_domain::sla::{EscalationTrigger, Recipient};
                let mut out: Vec<NewNotification> = Vec::new();
                for (r, trigger) in notify {
                    let agents: Vec<i64> = match r {
                        Recipient::Assignee => t.assignee_id.map(|a| a.0).into_iter().collect(),
                        Recipient::TeamSupervisors => {
                            let rows = match t.team_id {
                                Some(team) => sqlx::query(
                                    "SELECT a.id FROM agents a JOIN agent_teams m ON m.agent_id = a.id \
                                     WHERE m.team_id = $1 AND a.role = 'supervisor' AND a.active",
                                )
                                .bind(team.0)
                                .fetch_all(&mut *c)
                                .await?,
                                None => Vec::new(),
                            };
                            if rows.is_empty() {
                                sqlx::query("SELECT id FROM agents WHERE role = 'supervisor' AND active")
                                    .fetch_all(&mut *c)
                                    .await?
                            } else {
                                rows
                            }
                            .iter()
                            .map(|r| r.try_get::<i64, _>(0))
                            .collect::<std::result::Result<_, _>>()?
                        }
                        Recipient::Supervisors => sqlx::query(
                            "SELECT id FROM agents WHERE role IN ('supervisor', 'admin') AND active",
                        )
                        .fetch_all(&mut *c)
                        .await?
                        .iter()
                        .map(|r| r.try_get::<i64, _>(0))
                        .collect::<std::result::Result<_, _>>()?,
                    };
                    let (what, body) = match trigger {
                        EscalationTrigger::Warn { metric, percent } => {
                            (format!("warn:{metric}:{percent}"), format!("{metric} {percent}%"))
                        }
                        EscalationTrigger::Breach { metric } => {
                            (format!("breach:{metric}"), format!("{metric} breached"))
                        }
                    };
                    for a in agents {
                        out.push(NewNotification {
                            agent_id: AgentId(a),
                            ticket_id: Some(t.id),
                            kind: SLA_NOTIFICATION.to_string(),
                            title: format!("#{} {}", t.number, t.subject),
                            body: body.clone(),
                            dedupe_key: Some(format!("sla:{}:{}:{}:{}", t.id.0, what, us(now), a)),
                        });
                    }
                }
                if !out.is_empty() {
                    Self::insert_notifications(c, &out, now).await?;
                }
                Ok(())
            }

            fn sla_policy_from_row(r: &<$db as sqlx::Database>::Row) -> Result<SlaPolicyRecord> {
                let pv = Self::policy_version_from_row(r)?;
                Ok(SlaPolicyRecord {
                    id: pv.id,
                    name: pv.name,
                    position: r.try_get("position")?,
                    active: r.try_get("active")?,
                    version: pv.version,
                    def: (*pv.def).clone(),
                    created_at: ts(r.try_get("created_at")?)?,
                    updated_at: ts(r.try_get("updated_at")?)?,
                })
            }

            async fn check_policy_refs(
                c: &mut <$db as sqlx::Database>::Connection,
                p: &NewSlaPolicy,
            ) -> Result<kefu_domain::sla::SlaPolicyDef> {
                if p.name.trim().is_empty() {
                    return Err(DomainError::invalid("name", "is required").into());
                }
                if p.name.chars().count() > 200 {
                    return Err(DomainError::invalid("name", "is longer than 200 characters").into());
                }
                let mut def = p.def.clone();
                def.validate()?;
                if let Some(cal) = def.calendar_id {
                    Self::require(c, "SELECT COUNT(*) FROM calendars WHERE id = $1", cal.0, "calendar").await?;
                }
                let ladder_teams = def.ladders.iter().flat_map(|l| &l.steps).flat_map(|s| s.on_warn.iter().chain(&s.on_breach)).filter_map(|a| match a {
                    kefu_domain::sla::EscalationAction::AssignTeam(t) => Some(*t),
                    _ => None,
                });
                for team in def.conditions.teams.iter().copied().chain(ladder_teams).collect::<Vec<_>>() {
                    Self::require(c, "SELECT COUNT(*) FROM teams WHERE id = $1", team.0, "team").await?;
                }
                for org in &def.conditions.organizations {
                    Self::require(c, "SELECT COUNT(*) FROM organizations WHERE id = $1", org.0, "organization").await?;
                }
                Ok(def)
            }

            async fn create_sla_policy_(&self, p: &NewSlaPolicy) -> Result<SlaPolicyRecord> {
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                let def = Self::check_policy_refs(&mut tx, p).await?;
                let position = match p.position {
                    Some(x) => x,
                    None => sqlx::query("SELECT COALESCE(MAX(position), 0) + 1 FROM sla_policies")
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get::<i64, _>(0)?,
                };
                let id: i64 = sqlx::query(
                    "INSERT INTO sla_policies (name, position, active, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, 1, $4, $4) RETURNING id",
                )
                .bind(p.name.trim())
                .bind(position)
                .bind(p.active)
                .bind(us(now))
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                sqlx::query("INSERT INTO sla_policy_versions (policy_id, version, definition, created_at) VALUES ($1, 1, $2, $3)")
                    .bind(id)
                    .bind(crate::sla_json::policy_to_json(&def).to_string())
                    .bind(us(now))
                    .execute(&mut *tx)
                    .await?;
                Self::bump_sla_generation(&mut tx).await?;
                tx.commit().await?;
                Ok(SlaPolicyRecord {
                    id: SlaPolicyId(id),
                    name: p.name.trim().to_string(),
                    position,
                    active: p.active,
                    version: 1,
                    def,
                    created_at: now,
                    updated_at: now,
                })
            }

            async fn get_sla_policy_(&self, id: SlaPolicyId) -> Result<Option<SlaPolicyRecord>> {
                let row = sqlx::query(
                    "SELECT p.id, p.name, p.position, p.active, p.version, p.created_at, p.updated_at, v.definition \
                     FROM sla_policies p JOIN sla_policy_versions v ON v.policy_id = p.id AND v.version = p.version \
                     WHERE p.id = $1",
                )
                .bind(id.0)
                .fetch_optional(self.reader())
                .await?;
                match row {
                    Some(r) => Ok(Some(Self::sla_policy_from_row(&r)?)),
                    None => Ok(None),
                }
            }

            async fn list_sla_policies_(&self) -> Result<Vec<SlaPolicyRecord>> {
                let rows = sqlx::query(
                    "SELECT p.id, p.name, p.position, p.active, p.version, p.created_at, p.updated_at, v.definition \
                     FROM sla_policies p JOIN sla_policy_versions v ON v.policy_id = p.id AND v.version = p.version \
                     ORDER BY p.position, p.id",
                )
                .fetch_all(self.reader())
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(Self::sla_policy_from_row(r)?);
                }
                Ok(out)
            }

            async fn update_sla_policy_(&self, id: SlaPolicyId, p: &NewSlaPolicy) -> Result<Option<SlaPolicyRecord>> {
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "SELECT p.version, p.position, p.created_at, v.definition FROM sla_policies p \
                     JOIN sla_policy_versions v ON v.policy_id = p.id AND v.version = p.version WHERE p.id = $1",
                    $for_update
                ))
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let def = Self::check_policy_refs(&mut tx, p).await?;
                let mut version: i64 = row.try_get("version")?;
                let old: String = row.try_get("definition")?;
                let new = crate::sla_json::policy_to_json(&def).to_string();
                if old != new {
                    version += 1;
                    sqlx::query("INSERT INTO sla_policy_versions (policy_id, version, definition, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(id.0)
                        .bind(version)
                        .bind(&new)
                        .bind(us(now))
                        .execute(&mut *tx)
                        .await?;
                }
                let position = p.position.unwrap_or(row.try_get("position")?);
                sqlx::query("UPDATE sla_policies SET name = $2, position = $3, active = $4, version = $5, updated_at = $6 WHERE id = $1")
                    .bind(id.0)
                    .bind(p.name.trim())
                    .bind(position)
                    .bind(p.active)
                    .bind(version)
                    .bind(us(now))
                    .execute(&mut *tx)
                    .await?;
                Self::bump_sla_generation(&mut tx).await?;
                tx.commit().await?;
                Ok(Some(SlaPolicyRecord {
                    id,
                    name: p.name.trim().to_string(),
                    position,
                    active: p.active,
                    version,
                    def,
                    created_at: ts(row.try_get("created_at")?)?,
                    updated_at: now,
                }))
            }

            async fn ticket_sla_(&self, ticket: TicketId) -> Result<Option<kefu_domain::sla::TicketSla>> {
                let mut c = self.reader().acquire().await?;
                Self::load_ticket_sla(&mut c, ticket).await
            }

            async fn tickets_sla_(
                &self,
                tickets: &[TicketId],
            ) -> Result<HashMap<TicketId, Vec<kefu_domain::sla::SlaClock>>> {
                let mut out: HashMap<TicketId, Vec<kefu_domain::sla::SlaClock>> = HashMap::new();
                for chunk in tickets.chunks(500) {
                    let sql = format!(
                        concat!("SELECT ", clock_cols!(), " FROM sla_clocks WHERE ticket_id IN ({})"),
                        placeholders(chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for t in chunk {
                        q = q.bind(t.0);
                    }
                    for r in q.fetch_all(self.reader()).await? {
                        let (t, c) = Self::clock_from_row(&r)?;
                        out.entry(t).or_default().push(c);
                    }
                }
                for v in out.values_mut() {
                    v.sort_by_key(|c| c.metric);
                }
                Ok(out)
            }

            async fn reapply_sla_(&self, ticket: TicketId, actor: Actor) -> Result<Option<kefu_domain::sla::TicketSla>> {
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                let Some(t) = Self::lock_ticket(&mut tx, ticket.0).await? else { return Ok(None) };
                self.sla_step(&mut tx, Some(&t), &t, kefu_domain::sla::Signal::Reapply, actor, now).await?;
                let sla = Self::load_ticket_sla(&mut tx, ticket).await?;
                tx.commit().await?;
                Ok(Some(sla.unwrap_or_default()))
            }

            async fn sla_tickets_behind_(
                &self,
                policy: SlaPolicyId,
                version: i64,
                after: TicketId,
                limit: u32,
            ) -> Result<Vec<TicketId>> {
                let rows = sqlx::query(
                    "SELECT s.ticket_id FROM ticket_sla s JOIN tickets t ON t.id = s.ticket_id \
                     WHERE s.policy_id = $1 AND s.policy_version < $2 AND s.ticket_id > $3 \
                     AND t.status NOT IN ('solved', 'closed') ORDER BY s.ticket_id LIMIT $4",
                )
                .bind(policy.0)
                .bind(version)
                .bind(after.0)
                .bind(i64::from(limit.clamp(1, 1000)))
                .fetch_all(self.reader())
                .await?;
                rows.iter()
                    .map(|r| Ok(TicketId(r.try_get::<i64, _>(0)?)))
                    .collect()
            }

            async fn count_sla_tickets_behind_(&self, policy: SlaPolicyId, version: i64) -> Result<i64> {
                let row = sqlx::query(
                    "SELECT COUNT(*) FROM ticket_sla s JOIN tickets t ON t.id = s.ticket_id \
                     WHERE s.policy_id = $1 AND s.policy_version < $2 AND t.status NOT IN ('solved', 'closed')",
                )
                .bind(policy.0)
                .bind(version)
                .fetch_one(self.reader())
                .await?;
                Ok(row.try_get::<i64, _>(0)?)
            }

            async fn claim_sla_timers_(&self, lease: jiff::SignedDuration, limit: u32) -> Result<Vec<TicketId>> {
                if !lease.is_positive() {
                    return Err(DomainError::invalid("lease", "must be positive").into());
                }
                let now = self.clock.now();
                let until = now
                    .checked_add(lease)
                    .map_err(|_| StoreError::from(DomainError::invalid("lease", "is too long")))?;
                let sql = concat!(
                    "WITH picked AS (SELECT ticket_id, metric FROM sla_clocks WHERE next_fire_at <= $1 \
                     AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_fire_at LIMIT $2",
                    $skip_locked,
                    ") UPDATE sla_clocks SET lease_until = $3 WHERE EXISTS (SELECT 1 FROM picked \
                     WHERE picked.ticket_id = sla_clocks.ticket_id AND picked.metric = sla_clocks.metric) \
                     RETURNING ticket_id"
                );
                let mut tx = self.begin_write().await?;
                let rows = sqlx::query(sql)
                    .bind(us(now))
                    .bind(i64::from(limit.clamp(1, 1000)))
                    .bind(us(until))
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let mut ids: Vec<TicketId> = rows
                    .iter()
                    .map(|r| r.try_get::<i64, _>(0).map(TicketId))
                    .collect::<std::result::Result<_, _>>()?;
                ids.sort();
                ids.dedup();
                Ok(ids)
            }

            async fn fire_sla_timers_(&self, ticket: TicketId) -> Result<usize> {
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                let Some(t) = Self::lock_ticket(&mut tx, ticket.0).await? else { return Ok(0) };
                let (_, recorded) =
                    self.sla_step(&mut tx, Some(&t), &t, kefu_domain::sla::Signal::Tick, Actor::System, now).await?;
                sqlx::query("UPDATE sla_clocks SET lease_until = NULL WHERE ticket_id = $1 AND lease_until IS NOT NULL")
                    .bind(ticket.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(recorded)
            }

            async fn recompute_sla_(&self, calendar: Option<CalendarId>) -> Result<SlaRecompute> {
                let started = std::time::Instant::now();
                let snap = {
                    let mut c = self.reader().acquire().await?;
                    self.sla_snapshot(&mut c).await?
                };
                let bounds = sqlx::query("SELECT MIN(ticket_id), MAX(ticket_id) FROM sla_clocks")
                    .fetch_one(self.reader())
                    .await?;
                let (Some(lo), Some(hi)) = (bounds.try_get::<Option<i64>, _>(0)?, bounds.try_get::<Option<i64>, _>(1)?)
                else {
                    return Ok(SlaRecompute::default());
                };
                // Stripes of ticket ids, recomputed concurrently: on PostgreSQL each stripe
                // writes on its own connection (disjoint rows, no lock waits); SQLite has one
                // writer and one stripe.
                let stripes: i64 = $recompute_stripes;
                let width = ((hi - lo + stripes) / stripes).max(1);
                let mut tasks = tokio::task::JoinSet::new();
                for k in 0..stripes {
                    let from = lo - 1 + k * width;
                    let to = (from + width).min(hi);
                    if from >= to {
                        continue;
                    }
                    let (store, snap) = (self.clone(), snap.clone());
                    tasks.spawn(async move { store.recompute_stripe(from, to, calendar, &snap).await });
                }
                let mut total = sla::RecomputeStats::default();
                while let Some(joined) = tasks.join_next().await {
                    let stats = joined.map_err(|e| StoreError::Database(sqlx::Error::Protocol(format!("recompute task: {e}"))))??;
                    total.add(&stats);
                }
                tracing::debug!(
                    clocks = total.seen,
                    updated = total.updated,
                    stripes,
                    total_ms = started.elapsed().as_millis() as u64,
                    read_ms = total.read.as_millis() as u64,
                    compute_ms = total.compute.as_millis() as u64,
                    write_ms = total.write.as_millis() as u64,
                    "recomputed SLA clocks (phase times summed over stripes; reads overlap writes)"
                );
                Ok(SlaRecompute { running: total.seen, updated: total.updated })
            }

            /// Recomputes the clocks of tickets `from < id <= to` in windows of ticket ids (a
            /// range scan of the primary key each, no sort). The next window is read while
            /// the changes of the one before are written.
            async fn recompute_stripe(
                &self,
                mut from: i64,
                hi: i64,
                calendar: Option<CalendarId>,
                snap: &sla::SlaSnapshot,
            ) -> Result<sla::RecomputeStats> {
                const WINDOW: i64 = 5000;
                let mut stats = sla::RecomputeStats::default();
                let mut pending: Vec<(TicketId, kefu_domain::sla::SlaClock)> = Vec::new();
                while from < hi {
                    let to = from.saturating_add(WINDOW).min(hi);
                    let reading = async {
                        let t = std::time::Instant::now();
                        let clocks = self.clock_window(from, to, calendar).await;
                        (clocks, t.elapsed())
                    };
                    let writing = async {
                        let t = std::time::Instant::now();
                        let n = if pending.is_empty() { Ok(0) } else { self.write_schedules(&pending).await };
                        (n, t.elapsed())
                    };
                    let ((clocks, r), (written, w)) = tokio::join!(reading, writing);
                    stats.read += r;
                    stats.write += w;
                    stats.updated += written?;
                    let clocks = clocks?;
                    from = to;
                    let t = std::time::Instant::now();
                    stats.seen += clocks.len() as u64;
                    pending.clear();
                    for (ticket, mut c) in clocks {
                        let (due, fire) = (c.due, c.next_fire);
                        let cal = c.calendar_id.and_then(|id| snap.calendars.get(&id));
                        c.schedule(cal);
                        if c.due != due || c.next_fire != fire {
                            pending.push((ticket, c));
                        }
                    }
                    stats.compute += t.elapsed();
                }
                if !pending.is_empty() {
                    let t = std::time::Instant::now();
                    stats.updated += self.write_schedules(&pending).await?;
                    stats.write += t.elapsed();
                }
                Ok(stats)
            }

            /// The running clocks of tickets `from < id <= to` (of one calendar, if given),
            /// aggregated into one JSON row by the engine's `sla_clock_window` query.
            async fn clock_window(
                &self,
                from: i64,
                to: i64,
                calendar: Option<CalendarId>,
            ) -> Result<Vec<(TicketId, kefu_domain::sla::SlaClock)>> {
                let json: Option<String> = sqlx::query_scalar($clock_window)
                    .bind(from)
                    .bind(to)
                    .bind(calendar.map(|c| c.0))
                    .fetch_one(self.reader())
                    .await?;
                json.map_or_else(|| Ok(Vec::new()), |j| sla::clocks_from_json(&j))
            }

            /// Writes new due times and timers, in one transaction and one statement. The
            /// guard columns (since, elapsed) skip a clock that a ticket change rewrote
            /// meanwhile: that change scheduled it already.
            async fn write_schedules(&self, changed: &[(TicketId, kefu_domain::sla::SlaClock)]) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query($write_schedules)
                    .bind(sla::schedules_to_json(changed))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(updated)
            }

            async fn upcoming_breaches_(
                &self,
                before: Timestamp,
                filter: &UpcomingFilter,
                limit: u32,
            ) -> Result<Vec<UpcomingBreach>> {
                // The team and tier are the ticket's: filtered in the query, so a page is
                // full whenever enough clocks match. A running clock's timer is never later
                // than its due time (`SlaClock::schedule`), so the timer index finds them;
                // due times have no index of their own (one less to write per clock).
                let rows = sqlx::query(
                    "SELECT c.ticket_id, c.metric, c.state, c.target_secs, c.business, c.calendar_id, c.warn_at, \
                     c.started_at, c.elapsed_us, c.since, c.due_at, c.warned, c.breached_at, c.fulfilled_at, \
                     c.next_fire_at FROM sla_clocks c JOIN tickets t ON t.id = c.ticket_id \
                     WHERE c.next_fire_at <= $1 AND c.due_at <= $1 AND c.state = 'active' \
                     AND c.metric <> 'tier_time' \
                     AND ($2 IS NULL OR t.team_id = $2) AND ($3 IS NULL OR t.tier = $3) \
                     ORDER BY c.due_at LIMIT $4",
                )
                .bind(us(before))
                .bind(filter.team.map(|t| t.0))
                .bind(filter.tier.map(|t| i64::from(t.get())))
                .bind(i64::from(limit.clamp(1, 1000)))
                .fetch_all(self.reader())
                .await?;
                let clocks = rows.iter().map(Self::clock_from_row).collect::<Result<Vec<_>>>()?;
                let mut ids: Vec<i64> = clocks.iter().map(|(t, _)| t.0).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut tickets: HashMap<i64, Ticket> = HashMap::new();
                for chunk in ids.chunks(500) {
                    let sql = format!(
                        concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE id IN ({})"),
                        placeholders(chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for r in q.fetch_all(self.reader()).await? {
                        let t = Self::ticket_from_row(&r)?;
                        tickets.insert(t.id.0, t);
                    }
                }
                Ok(clocks
                    .into_iter()
                    .filter_map(|(t, clock)| tickets.get(&t.0).map(|ticket| UpcomingBreach { ticket: ticket.clone(), clock }))
                    .collect())
            }
        }
    };
}
