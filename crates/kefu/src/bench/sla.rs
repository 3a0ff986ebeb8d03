//! `kefu bench sla`: recomputing SLA clocks after a calendar change, and timer throughput.
//!
//! 1. Recompute: fills a fresh database with `tickets` open tickets under a policy whose
//!    targets count business hours of one calendar (4 running clocks per ticket: first
//!    reply, requester wait, agent work, resolution), then changes the calendar (a holiday
//!    added, then removed, alternately) `runs` times. Each change goes through
//!    `Store::update_calendar`, which bumps the SLA generation and recomputes the due time
//!    and timer of every running clock counted in that calendar before it returns; the
//!    time of that call is measured. Reported: tickets and clocks recomputed per second.
//! 2. Timers: `timers` more tickets with a 10-minute first-reply target, the store's clock
//!    moved 2 hours on, and `kefu_server::sla_timers::fire_due` run by two "nodes" at once
//!    until no timer is left. Reported: tickets fired per second, SLA events per second,
//!    and that every breach was recorded exactly once despite the two nodes.
//!
//! The store's clock is a `ManualClock` starting on Monday 2026-11-30 09:00 in Shanghai,
//! so the business-time arithmetic is the same on every run.

use super::{create_agents, db::BenchDb, stats::median, verdict};
use crate::cli::BenchSlaArgs;
use anyhow::{Context, Result, bail, ensure};
use kefu_domain::sla::SlaPolicyDef;
use kefu_domain::*;
use kefu_store::{
    ManualClock, NewCalendar, NewSlaPolicy, NewTicket, RequesterRef, Store, sla_json,
};
use serde::Serialize;
use std::{sync::Arc, time::Instant};

const TARGET_TICKETS_PER_SECOND: f64 = 50_000.0;
const CUSTOMERS: usize = 500;

#[derive(Debug, Serialize)]
struct Report {
    benchmark: &'static str,
    engine: &'static str,
    tickets: usize,
    fill_seconds: f64,
    /// Running clocks counted in the changed calendar.
    clocks: u64,
    recompute_seconds: Vec<f64>,
    median_recompute_seconds: f64,
    median_tickets_per_second: f64,
    median_clocks_per_second: f64,
    target_tickets_per_second: f64,
    timer_tickets: usize,
    timer_seconds: f64,
    timers_tickets_per_second: f64,
    timer_events: usize,
    timer_events_per_second: f64,
    breaches_recorded_once: bool,
    /// Median time of counting the inbox's "at risk" view (clocks due within 4 hours).
    at_risk_count_ms: f64,
    /// Median time of counting the inbox's "SLA breached" view (after the timers fired).
    breached_count_ms: f64,
}

pub async fn run(url: Option<&str>, args: BenchSlaArgs) -> Result<()> {
    if args.runs == 0 || args.tickets == 0 {
        bail!("--tickets and --runs must be at least 1");
    }
    let db = BenchDb::create(url).await?;
    let result = measure(&db, &args).await;
    let removed = db.remove().await;
    let report = result?;
    removed?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn start() -> Timestamp {
    // Monday 2026-11-30 09:00 Asia/Shanghai.
    "2026-11-30T01:00:00Z".parse().expect("valid instant")
}

fn calendar(holiday: bool) -> NewCalendar {
    let mut weekly = Vec::new();
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        weekly.push(serde_json::json!({"day": d, "start": "09:00", "end": "12:00"}));
        weekly.push(serde_json::json!({"day": d, "start": "13:00", "end": "18:00"}));
    }
    let mut holidays = vec![serde_json::json!(
        {"date": "2027-01-01", "end_date": "2027-01-03", "name": "元旦"}
    )];
    if holiday {
        holidays.push(serde_json::json!(
            {"date": "2026-12-01", "end_date": "2026-12-01", "name": "bench holiday"}
        ));
    }
    NewCalendar {
        name: "Shanghai office".into(),
        time_zone: "Asia/Shanghai".into(),
        definition: serde_json::json!({
            "weekly": weekly,
            "holidays": holidays,
            "workdays": [{"date": "2026-12-05", "start": "09:00", "end": "18:00", "name": "调休"}],
        })
        .to_string(),
    }
}

fn policy(
    calendar: CalendarId,
    conditions: serde_json::Value,
    targets: serde_json::Value,
) -> Result<SlaPolicyDef> {
    Ok(sla_json::policy_from_json(&serde_json::json!({
        "calendar_id": calendar.0,
        "conditions": conditions,
        "targets": targets,
        "warn_at": [75, 90],
        "ladders": [{"kind": "default", "steps": [
            {"tier": 1, "on_breach": [{"action": "notify", "to": "assignee"}, {"action": "raise_tier"}]},
            {"tier": 2, "on_breach": [{"action": "notify", "to": "supervisors"}]}
        ]}]
    }))?)
}

async fn measure(db: &BenchDb, args: &BenchSlaArgs) -> Result<Report> {
    let clock = Arc::new(ManualClock::new(start()));
    let store = kefu_store::connect_with_clock(&db.url, clock.clone())
        .await
        .context("opening the bench database")?;
    let agents = create_agents(&*store, 10).await?;
    let cal = store.create_calendar(&calendar(false)).await?;
    // Business-hours targets for normal tickets; calendar-time ones for urgent tickets
    // (the timer benchmark).
    let business = policy(
        cal.id,
        serde_json::json!({"priorities": ["normal"]}),
        serde_json::json!([
            {"metric": "first_reply", "priority": "normal", "minutes": 480, "business": true},
            {"metric": "requester_wait", "priority": "normal", "minutes": 1440, "business": true},
            {"metric": "agent_work", "priority": "normal", "minutes": 960, "business": true},
            {"metric": "resolution", "priority": "normal", "minutes": 2400, "business": true},
        ]),
    )?;
    let urgent = policy(
        cal.id,
        serde_json::json!({"priorities": ["urgent"]}),
        serde_json::json!([
            {"metric": "first_reply", "priority": "urgent", "minutes": 10},
        ]),
    )?;
    for (name, def) in [("Business hours", business), ("Urgent", urgent)] {
        store
            .create_sla_policy(&NewSlaPolicy {
                name: name.into(),
                position: None,
                active: true,
                def,
            })
            .await?;
    }
    let mut customers = Vec::with_capacity(CUSTOMERS);
    for i in 0..CUSTOMERS {
        let c = store
            .create_customer(
                &NewCustomer {
                    name: format!("SLA Customer {i}"),
                    email: Some(Email::parse(&format!(
                        "sla-customer-{i}@bench.example.com"
                    ))?),
                    phones: Vec::new(),
                    external_ids: Vec::new(),
                    organization_id: None,
                    segment: Segment::Standard,
                    language: Lang::ZhCn,
                    time_zone: "Asia/Shanghai".into(),
                },
                None,
            )
            .await?;
        customers.push(c.id);
    }

    // 1. Recompute after calendar changes.
    let started = Instant::now();
    fill(
        &store,
        db.engine,
        &customers,
        &agents,
        args.tickets,
        Priority::Normal,
    )
    .await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    // What every change recomputes: the running clocks counted in the calendar.
    let fresh = store.recompute_sla(Some(cal.id)).await?;
    ensure!(
        fresh.updated == 0,
        "a fresh fill needs no recompute ({} clocks changed)",
        fresh.updated
    );
    let counted = fresh.running;
    let mut recompute_seconds = Vec::new();
    for run in 0..args.runs {
        let holiday = run % 2 == 0;
        let t = Instant::now();
        store
            .update_calendar(cal.id, &calendar(holiday))
            .await?
            .context("the calendar vanished")?;
        let secs = t.elapsed().as_secs_f64();
        if !args.json {
            eprintln!(
                "run {}/{}: {} tickets ({} running clocks) recomputed in {:.3} s: {:.0} tickets/s",
                run + 1,
                args.runs,
                args.tickets,
                counted,
                secs,
                args.tickets as f64 / secs
            );
        }
        recompute_seconds.push(secs);
    }
    let med = median(recompute_seconds.iter().copied());
    let at_risk = kefu_store::TicketFilter {
        sla: Some(kefu_store::SlaFilter::DueBefore(
            kefu_store::Clock::now(&*clock) + jiff::SignedDuration::from_hours(4),
        )),
        ..Default::default()
    };
    let at_risk_count_ms = count_ms(&*store, &at_risk).await?;

    // 2. Timers: urgent tickets breach their 10-minute first reply two hours later.
    let n = args.timers;
    fill(&store, db.engine, &customers, &agents, n, Priority::Urgent).await?;
    clock.advance(jiff::SignedDuration::from_hours(2));
    let t = Instant::now();
    let (a, b) = tokio::join!(
        kefu_server::sla_timers::fire_due(&*store),
        kefu_server::sla_timers::fire_due(&*store)
    );
    let timer_seconds = t.elapsed().as_secs_f64();
    let ((ta, ea), (tb, eb)) = (a?, b?);
    let breached = store
        .count_tickets(&kefu_store::TicketFilter {
            sla: Some(kefu_store::SlaFilter::Breached),
            ..Default::default()
        })
        .await?;
    // Each urgent ticket: one breach (+ escalation, tier change) — count breach events.
    let mut breaches = 0usize;
    for e in sample_events(&*store, n).await? {
        breaches += e;
    }
    let once = breached as usize == n && breaches == sample_size(n);
    let breached_count_ms = count_ms(
        &*store,
        &kefu_store::TicketFilter {
            sla: Some(kefu_store::SlaFilter::Breached),
            ..Default::default()
        },
    )
    .await?;
    Ok(Report {
        benchmark: "sla",
        engine: db.engine,
        tickets: args.tickets,
        fill_seconds,
        clocks: counted,
        median_recompute_seconds: med,
        median_tickets_per_second: args.tickets as f64 / med,
        median_clocks_per_second: counted as f64 / med,
        recompute_seconds,
        target_tickets_per_second: TARGET_TICKETS_PER_SECOND,
        timer_tickets: ta + tb,
        timer_seconds,
        timers_tickets_per_second: (ta + tb) as f64 / timer_seconds,
        timer_events: ea + eb,
        timer_events_per_second: (ea + eb) as f64 / timer_seconds,
        breaches_recorded_once: once,
        at_risk_count_ms,
        breached_count_ms,
    })
}

/// The median of 7 counts of a view, in milliseconds (the inbox counts every view on
/// every load).
async fn count_ms(store: &dyn Store, f: &kefu_store::TicketFilter) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        store.count_tickets(f).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(times))
}

fn sample_size(n: usize) -> usize {
    n.min(200)
}

/// Breach events of the first-reply clock on a sample of the urgent tickets (the newest).
async fn sample_events(store: &dyn Store, n: usize) -> Result<Vec<usize>> {
    let page = store
        .list_tickets(&Default::default(), None, sample_size(n) as u32)
        .await?;
    let mut out = Vec::new();
    for t in page.items {
        let events = store.list_events(t.id).await?;
        out.push(
            events
                .iter()
                .filter(|e| {
                    matches!(
                        e.change,
                        Change::Sla {
                            metric: Some(Metric::FirstReply),
                            transition: SlaTransition::Breach,
                            ..
                        }
                    )
                })
                .count(),
        );
    }
    Ok(out)
}

async fn fill(
    store: &Arc<dyn Store>,
    engine: &str,
    customers: &[CustomerId],
    agents: &[AgentId],
    n: usize,
    priority: Priority,
) -> Result<()> {
    let (agents, customers): (Arc<[AgentId]>, Arc<[CustomerId]>) =
        (agents.into(), customers.into());
    super::fill(store, engine, n, move |store, i| {
        let (agents, customers) = (agents.clone(), customers.clone());
        async move {
            let requester = customers[i % customers.len()];
            store
                .create_ticket(&NewTicket {
                    draft: TicketDraft {
                        subject: Subject::parse(&format!("SLA bench {i}: 空调不制冷"))?,
                        priority,
                        ticket_type: TicketType::Incident,
                        channel: Channel::Email,
                        assignee_id: Some(agents[i % agents.len()]),
                        team_id: None,
                        tier: Tier::FRONTLINE,
                        tags: Vec::new(),
                        custom_fields: "{}".into(),
                    },
                    requester: RequesterRef::Existing(requester),
                    actor: Actor::Customer(requester),
                    first_message_by_actor: false,
                    body_text: format!("The air conditioner stopped cooling. Ticket {i}."),
                    body_html: None,
                    attachments: Vec::new(),
                    idempotency: None,
                    follow_up_of: None,
                    mail: None,
                })
                .await?;
            Ok(())
        }
    })
    .await
}

fn print_table(r: &Report) {
    println!("SLA benchmark ({} engine)", r.engine);
    println!(
        "  filled {} open tickets in {:.1} s ({:.0}/s, clocks kept in each create)",
        r.tickets,
        r.fill_seconds,
        r.tickets as f64 / r.fill_seconds
    );
    println!(
        "  recompute after a calendar change: median {:.3} s for {} tickets / {} running clocks",
        r.median_recompute_seconds, r.tickets, r.clocks
    );
    println!(
        "    {:.0} tickets/s, {:.0} clocks/s (target ≥ {:.0} tickets/s: {})",
        r.median_tickets_per_second,
        r.median_clocks_per_second,
        r.target_tickets_per_second,
        verdict(r.median_tickets_per_second >= r.target_tickets_per_second)
    );
    println!(
        "  timers: {} due tickets fired by two nodes in {:.2} s: {:.0} tickets/s, {:.0} SLA events/s; each breach recorded once: {}",
        r.timer_tickets,
        r.timer_seconds,
        r.timers_tickets_per_second,
        r.timer_events_per_second,
        if r.breaches_recorded_once {
            "yes"
        } else {
            "NO"
        }
    );
    println!(
        "  inbox view counts: at risk {:.2} ms, SLA breached {:.2} ms (medians of 7)",
        r.at_risk_count_ms, r.breached_count_ms
    );
}
