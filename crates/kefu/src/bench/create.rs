//! `kefu bench create`: tickets per second through `POST /api/v1/tickets`.
//!
//! Per concurrency and run: fresh database and server, warm-up, then `requests` POSTs
//! spread over `concurrency` workers pulling from one shared counter. Requesters cycle
//! through 500 email addresses, so most requests find an existing customer and some
//! create one, as in real traffic.

use super::{
    Server, create_agents,
    db::BenchDb,
    stats::{Latency, latency, median, median_latency},
    verdict,
};
use crate::cli::BenchCreateArgs;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

#[derive(Debug, Serialize)]
struct Run {
    tickets_per_second: f64,
    #[serde(flatten)]
    latency: Latency,
}

#[derive(Debug, Serialize)]
struct Series {
    concurrency: usize,
    runs: Vec<Run>,
    median_tickets_per_second: f64,
    median_latency: Latency,
    /// Tickets/s the median must reach, where a target is set (concurrency 16).
    target_tickets_per_second: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Report {
    benchmark: &'static str,
    engine: &'static str,
    requests: usize,
    warmup: usize,
    series: Vec<Series>,
}

pub async fn run(url: Option<&str>, args: BenchCreateArgs) -> Result<()> {
    if args.runs == 0 || args.requests == 0 || args.concurrency.contains(&0) {
        bail!("--runs, --requests and every --concurrency value must be at least 1");
    }
    let mut report = Report {
        benchmark: "create",
        engine: "sqlite",
        requests: args.requests,
        warmup: args.warmup,
        series: Vec::new(),
    };
    for &concurrency in &args.concurrency {
        let mut runs = Vec::new();
        for i in 0..args.runs {
            let (engine, run) = one_run(url, concurrency, &args).await?;
            report.engine = engine;
            if !args.json {
                eprintln!(
                    "concurrency {concurrency:>3}, run {}/{}: {:>8.0} tickets/s, p50 {:.2} ms, p99 {:.2} ms",
                    i + 1,
                    args.runs,
                    run.tickets_per_second,
                    run.latency.p50_ms,
                    run.latency.p99_ms
                );
            }
            runs.push(run);
        }
        let target = (concurrency == 16).then_some(if report.engine == "postgres" {
            1000.0
        } else {
            2000.0
        });
        report.series.push(Series {
            concurrency,
            median_tickets_per_second: median(runs.iter().map(|r| r.tickets_per_second)),
            median_latency: median_latency(&runs.iter().map(|r| r.latency).collect::<Vec<_>>()),
            target_tickets_per_second: target,
            runs,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

async fn one_run(
    url: Option<&str>,
    concurrency: usize,
    args: &BenchCreateArgs,
) -> Result<(&'static str, Run)> {
    let db = BenchDb::create(url).await?;
    let engine = db.engine;
    let store = kefu_store::connect(&db.url)
        .await
        .context("opening the bench database")?;
    let agents = create_agents(&*store, 1).await?;
    let server = Server::start(store.clone(), agents[0]).await?;
    let client = super::http_client(concurrency)?;

    fire(&client, &server, 0, args.warmup, concurrency)
        .await
        .context("warm-up")?;
    let started = Instant::now();
    let samples = fire(&client, &server, args.warmup, args.requests, concurrency).await?;
    let elapsed = started.elapsed();

    server.stop().await?;
    drop(store);
    db.remove().await?;
    let run = Run {
        tickets_per_second: args.requests as f64 / elapsed.as_secs_f64(),
        latency: latency(samples),
    };
    Ok((engine, run))
}

/// Sends `n` ticket creations numbered from `first`, `concurrency` at a time; returns
/// each request's latency. Any status but 201 fails the run.
async fn fire(
    client: &reqwest::Client,
    server: &Server,
    first: usize,
    n: usize,
    concurrency: usize,
) -> Result<Vec<Duration>> {
    let next = Arc::new(AtomicUsize::new(0));
    let url = Arc::new(server.url("/api/v1/tickets"));
    let auth = Arc::new(format!("Bearer {}", server.token));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(n.max(1)) {
        let (client, next, url, auth) = (client.clone(), next.clone(), url.clone(), auth.clone());
        workers.spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(samples);
                }
                let body = ticket_body(first + i);
                let t0 = Instant::now();
                let resp = client
                    .post(url.as_str())
                    .header("authorization", auth.as_str())
                    .json(&body)
                    .send()
                    .await?;
                let status = resp.status();
                if status != reqwest::StatusCode::CREATED {
                    let text = resp.text().await.unwrap_or_default();
                    bail!("POST /api/v1/tickets returned {status}: {text}");
                }
                resp.bytes().await?;
                samples.push(t0.elapsed());
            }
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(joined) = workers.join_next().await {
        all.extend(joined.context("bench worker")??);
    }
    Ok(all)
}

fn ticket_body(i: usize) -> serde_json::Value {
    let customer = i % 500;
    serde_json::json!({
        "subject": format!("打印机卡纸 / Printer keeps jamming #{i}"),
        "body": format!(
            "您好，办公室的 KF-P300 激光打印机从昨天开始一直提示卡纸。\n\
             Hello, the KF-P300 in our office has reported a paper jam since yesterday; \
             we removed the paper but it still shows the error. Request {i}."
        ),
        "requester": {
            "email": format!("bench-customer-{customer}@bench.example.com"),
            "name": format!("Bench Customer {customer}"),
        },
    })
}

fn print_table(r: &Report) {
    println!();
    println!(
        "kefu bench create: POST /api/v1/tickets on {}, {} requests per run after {} warm-up",
        r.engine, r.requests, r.warmup
    );
    println!(
        "{:>11}  {:>14}  {:>9}  {:>9}  {:>9}  {:>20}",
        "concurrency", "tickets/s", "p50 ms", "p99 ms", "max ms", "target"
    );
    for s in &r.series {
        let target = match s.target_tickets_per_second {
            Some(t) => format!("≥ {t:.0}/s: {}", verdict(s.median_tickets_per_second >= t)),
            None => "—".to_string(),
        };
        println!(
            "{:>11}  {:>14.0}  {:>9.2}  {:>9.2}  {:>9.2}  {:>20}",
            s.concurrency,
            s.median_tickets_per_second,
            s.median_latency.p50_ms,
            s.median_latency.p99_ms,
            s.median_latency.max_ms,
            target
        );
        let per_run: Vec<String> = s
            .runs
            .iter()
            .map(|x| format!("{:.0}", x.tickets_per_second))
            .collect();
        println!("{:>11}  runs: {} tickets/s", "", per_run.join(", "));
    }
    println!(
        "(medians over {} runs)",
        r.series.first().map_or(0, |s| s.runs.len())
    );
}
