//! `kefu bench queue`: latency of an agent's open queue (first page) in a big workspace.
//!
//! Fills one fresh database with `tickets` tickets through `Store::create_ticket` (and
//! `update_ticket` for their statuses) from several tasks, then times
//! `GET /api/v1/tickets?assignee=me&status=new,open&limit=25` one request at a time.

use super::{
    Server, create_agents,
    db::BenchDb,
    stats::{Latency, latency, median_latency},
    verdict,
};
use crate::cli::BenchQueueArgs;
use anyhow::{Context, Result, bail};
use kefu_domain::*;
use kefu_store::{AssigneeFilter, NewTicket, RequesterRef, Store, TicketFilter};
use serde::Serialize;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

const QUEUE_PATH: &str = "/api/v1/tickets?assignee=me&status=new,open&limit=25";
const TARGET_P99_MS: f64 = 20.0;
const CUSTOMERS: usize = 1000;

#[derive(Debug, Serialize)]
struct Report {
    benchmark: &'static str,
    engine: &'static str,
    tickets: usize,
    agents: usize,
    fill_seconds: f64,
    fill_tickets_per_second: f64,
    /// Tickets in the measured agent's queue (new + open, assigned to them).
    queue_size: i64,
    queries_per_run: usize,
    runs: Vec<Latency>,
    median: Latency,
    target_p99_ms: f64,
}

pub async fn run(url: Option<&str>, args: BenchQueueArgs) -> Result<()> {
    if args.runs == 0 || args.queries == 0 || args.agents == 0 || args.tickets == 0 {
        bail!("--tickets, --agents, --queries and --runs must be at least 1");
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

async fn measure(db: &BenchDb, args: &BenchQueueArgs) -> Result<Report> {
    let store = kefu_store::connect(&db.url)
        .await
        .context("opening the bench database")?;
    let agents = create_agents(&*store, args.agents).await?;
    let mut customers = Vec::with_capacity(CUSTOMERS);
    for i in 0..CUSTOMERS {
        let c = store
            .create_customer(
                &NewCustomer {
                    name: format!("Queue Customer {i}"),
                    email: Some(Email::parse(&format!(
                        "queue-customer-{i}@bench.example.com"
                    ))?),
                    phones: Vec::new(),
                    external_ids: Vec::new(),
                    organization_id: None,
                    segment: Segment::Standard,
                    language: Lang::En,
                    time_zone: "UTC".into(),
                },
                None,
            )
            .await?;
        customers.push(c.id);
    }

    let started = Instant::now();
    fill(&store, db.engine, &agents, &customers, args.tickets).await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    let queue = TicketFilter {
        statuses: vec![Status::New, Status::Open],
        assignee: Some(AssigneeFilter::Agent(agents[0])),
        ..Default::default()
    };
    let queue_size = store.count_tickets(&queue).await?;

    let server = Server::start(store.clone(), agents[0]).await?;
    let client = super::http_client(1)?;
    let url = server.url(QUEUE_PATH);
    let auth = format!("Bearer {}", server.token);
    check_first_page(&client, &url, &auth, queue_size).await?;
    query(&client, &url, &auth, 100).await.context("warm-up")?;
    let mut runs = Vec::new();
    for i in 0..args.runs {
        let l = latency(query(&client, &url, &auth, args.queries).await?);
        if !args.json {
            eprintln!(
                "run {}/{}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                i + 1,
                args.runs,
                l.p50_ms,
                l.p99_ms,
                l.max_ms
            );
        }
        runs.push(l);
    }
    server.stop().await?;
    Ok(Report {
        benchmark: "queue",
        engine: db.engine,
        tickets: args.tickets,
        agents: args.agents,
        fill_seconds,
        fill_tickets_per_second: args.tickets as f64 / fill_seconds,
        queue_size,
        queries_per_run: args.queries,
        median: median_latency(&runs),
        runs,
        target_p99_ms: TARGET_P99_MS,
    })
}

/// Where ticket `i` ends up: (assignee index or none, final status). A hash, not `i % n`,
/// so that every agent gets every status.
fn shape(i: usize, agents: usize) -> (Option<usize>, Status) {
    let h = (i as u64 ^ 0x5DEE_CE66).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 24;
    let assignee = (h % 10 != 9).then_some(((h / 10) % agents as u64) as usize);
    let status = match (h / 1000) % 100 {
        0..20 => Status::New,
        20..45 => Status::Open,
        45..60 => Status::Pending,
        60..65 => Status::Hold,
        65..80 => Status::Solved,
        _ => Status::Closed,
    };
    (assignee, status)
}

async fn fill(
    store: &Arc<dyn Store>,
    engine: &str,
    agents: &[AgentId],
    customers: &[CustomerId],
    n: usize,
) -> Result<()> {
    let (agents, customers): (Arc<[AgentId]>, Arc<[CustomerId]>) =
        (agents.into(), customers.into());
    super::fill(store, engine, n, move |store, i| {
        let (agents, customers) = (agents.clone(), customers.clone());
        async move {
            let (assignee, status) = shape(i, agents.len());
            let actor = Actor::Agent(agents[assignee.unwrap_or(0)]);
            let t = store
                .create_ticket(&new_ticket(
                    i,
                    assignee.map(|a| agents[a]),
                    customers[i % customers.len()],
                )?)
                .await?;
            let steps: &[(Status, Actor)] = match status {
                Status::New => &[],
                Status::Closed => &[(Status::Solved, actor), (Status::Closed, Actor::Rule)],
                s => &[(s, actor)],
            };
            for (s, by) in steps {
                let patch = TicketPatch {
                    status: Some(*s),
                    ..Default::default()
                };
                store.update_ticket(t.id, &patch, *by).await?;
            }
            Ok(())
        }
    })
    .await
}

fn new_ticket(i: usize, assignee: Option<AgentId>, requester: CustomerId) -> Result<NewTicket> {
    Ok(NewTicket {
        draft: TicketDraft {
            subject: Subject::parse(&format!("Queue bench ticket {i}: 笔记本无法开机"))?,
            priority: [
                Priority::Low,
                Priority::Normal,
                Priority::Normal,
                Priority::High,
            ][i % 4],
            ticket_type: TicketType::Incident,
            channel: Channel::Email,
            assignee_id: assignee,
            team_id: None,
            tier: Tier::FRONTLINE,
            tags: Vec::new(),
            custom_fields: "{}".into(),
        },
        requester: RequesterRef::Existing(requester),
        actor: Actor::Customer(requester),
        first_message_by_actor: false,
        body_text: format!("My laptop won't turn on since this morning. Ticket {i}."),
        body_html: None,
        attachments: Vec::new(),
        idempotency: None,
        follow_up_of: None,
        mail: None,
    })
}

/// Fails unless the endpoint returns a full first page (or the whole queue if smaller),
/// so that the timings are of real work.
async fn check_first_page(
    client: &reqwest::Client,
    url: &str,
    auth: &str,
    queue_size: i64,
) -> Result<()> {
    let resp = client.get(url).header("authorization", auth).send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    if status != reqwest::StatusCode::OK {
        bail!("GET {QUEUE_PATH} returned {status}: {text}");
    }
    let page: serde_json::Value =
        serde_json::from_str(&text).context("queue response is not JSON")?;
    let items = page["items"].as_array().map_or(0, Vec::len) as i64;
    if items != queue_size.min(25) {
        bail!(
            "GET {QUEUE_PATH} returned {items} tickets, expected {}",
            queue_size.min(25)
        );
    }
    Ok(())
}

/// `n` sequential GETs of the queue; returns each latency. Any status but 200 fails.
async fn query(client: &reqwest::Client, url: &str, auth: &str, n: usize) -> Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let resp = client.get(url).header("authorization", auth).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        samples.push(t0.elapsed());
        if status != reqwest::StatusCode::OK {
            bail!(
                "GET {QUEUE_PATH} returned {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    Ok(samples)
}

fn print_table(r: &Report) {
    println!();
    println!("kefu bench queue: GET {QUEUE_PATH} on {}", r.engine);
    println!(
        "{} tickets over {} agents, filled in {:.1} s ({:.0} tickets/s); the agent's queue holds {} tickets",
        r.tickets, r.agents, r.fill_seconds, r.fill_tickets_per_second, r.queue_size
    );
    println!(
        "{:>8}  {:>9}  {:>9}  {:>9}",
        "run", "p50 ms", "p99 ms", "max ms"
    );
    for (i, l) in r.runs.iter().enumerate() {
        println!(
            "{:>8}  {:>9.2}  {:>9.2}  {:>9.2}",
            i + 1,
            l.p50_ms,
            l.p99_ms,
            l.max_ms
        );
    }
    let m = &r.median;
    println!(
        "{:>8}  {:>9.2}  {:>9.2}  {:>9.2}",
        "median", m.p50_ms, m.p99_ms, m.max_ms
    );
    println!(
        "target: p99 ≤ {:.0} ms: {} ({} queries per run)",
        r.target_p99_ms,
        verdict(m.p99_ms <= r.target_p99_ms),
        r.queries_per_run
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_gets_every_status_and_some_tickets_stay_unassigned() {
        let shapes: Vec<_> = (0..20_000).map(|i| shape(i, 50)).collect();
        assert!(shapes.iter().any(|(a, _)| a.is_none()));
        for s in Status::ALL {
            assert!(
                shapes.iter().any(|(a, st)| *a == Some(0) && st == s),
                "agent 0 lacks {s}"
            );
        }
    }
}
