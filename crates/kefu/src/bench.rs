//! `kefu bench`: end-to-end benchmarks of a real server over HTTP. Not timed tests: run
//! them by hand on a release build and compare with the targets printed next to the
//! results.
//!
//! ```text
//! # Ticket creation: POST /api/v1/tickets, 5,000 per run after 200 warm-up requests,
//! # concurrency 1 and 16, 3 runs each (median reported). SQLite in a temp file:
//! cargo run --release -p kefu -- bench create --concurrency 1,16 --requests 5000 --runs 3
//! # Same on PostgreSQL: a throwaway database kefu_bench_<ts> is created on that server
//! # and dropped afterwards (the URL's own database is only used to connect):
//! cargo run --release -p kefu -- bench create \
//!     --database-url postgres://postgres@127.0.0.1:5432/postgres
//!
//! # Queue latency: 100,000 tickets over 50 agents and all statuses, then 2,000 requests of
//! # GET /api/v1/tickets?assignee=me&status=new,open&limit=25, 3 runs (median reported):
//! cargo run --release -p kefu -- bench queue --tickets 100000 --queries 2000 --runs 3
//! cargo run --release -p kefu -- bench queue --database-url postgres://postgres@127.0.0.1:5432/postgres
//!
//! # Email: 5,000 generated mails through parse → thread → store at concurrency 8, plus the
//! # real corpus, and 1,000 agent replies through the queue to a local SMTP sink; 3 runs:
//! cargo run --release -p kefu -- bench mail --corpus ../shared/data/emails
//! cargo run --release -p kefu -- bench mail --database-url postgres://postgres@127.0.0.1:5432/postgres
//!
//! # SLA: 100,000 open tickets with 4 business-hour clocks each; the calendar changes 3
//! # times (each change recomputes every running clock; median reported); then 5,000 due
//! # first-reply timers fired by two concurrent "nodes":
//! cargo run --release -p kefu -- bench sla --tickets 100000 --timers 5000 --runs 3
//! cargo run --release -p kefu -- bench sla --database-url postgres://postgres@127.0.0.1:5432/postgres
//!
//! # Machine-readable output: add --json.
//! ```
//!
//! Targets: ≥ 2,000 tickets/s at concurrency 16 on SQLite and ≥ 1,000/s on PostgreSQL;
//! queue first page p99 ≤ 20 ms at 100k tickets; ≥ 500 inbound mails/s on both engines;
//! ≥ 50,000 ticket clocks recomputed per second after a calendar change.
//!
//! Every run starts a fresh server in this process (`Application::build` on 127.0.0.1:0)
//! over a fresh database, creates an agent and an API token, and talks to it with reqwest
//! over keep-alive connections. Client and server share the machine's cores, so the numbers
//! are a floor for what a server on its own machine does.
//!
//! Never does: touch an existing database. With a PostgreSQL URL it needs the right to
//! `CREATE DATABASE` on that server.

mod create;
mod db;
mod mail;
mod queue;
mod sla;
mod stats;

use crate::cli::{BenchCommand, GlobalOpts};
use anyhow::{Context, Result};
use kefu_domain::{Email, NewAgent, Role, Tier};
use kefu_server::{Application, Config, auth};
use kefu_store::Store;
use std::{net::SocketAddr, sync::Arc};
use tokio::{sync::oneshot, task::JoinHandle};

pub async fn run(global: &GlobalOpts, cmd: BenchCommand) -> Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; benchmark with `cargo run --release -p kefu -- bench …`"
        );
    }
    let url = global.database_url.as_deref();
    match cmd {
        BenchCommand::Create(args) => create::run(url, args).await,
        BenchCommand::Queue(args) => queue::run(url, args).await,
        BenchCommand::Mail(args) => mail::run(url, args).await,
        BenchCommand::Sla(args) => sla::run(url, args).await,
    }
}

/// A server running in this process, with an agent and a bearer token to call it.
pub(crate) struct Server {
    pub addr: SocketAddr,
    pub token: String,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Starts a server over `store`; the token belongs to `agent` (an agent created by
    /// [`create_agents`] or similar).
    pub async fn start(store: Arc<dyn Store>, agent: kefu_domain::AgentId) -> Result<Server> {
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            ..Config::default()
        };
        let app = Application::build(store.clone(), config)
            .await
            .context("starting the server")?;
        let addr = app.local_addr();
        let token = auth::new_secret("kefu_");
        let hash = auth::keyed_hash(&app.state().token_key, &token);
        store
            .create_api_token(agent, "bench", &hash)
            .await
            .context("creating the API token")?;
        let (shutdown, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Ok(Server {
            addr,
            token,
            shutdown,
            handle,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Graceful shutdown; waits until the server has stopped.
    pub async fn stop(self) -> Result<()> {
        let _ = self.shutdown.send(());
        self.handle
            .await
            .context("server task")?
            .context("server")?;
        Ok(())
    }
}

/// Creates `n` agents (role agent, tier 1) in one team, all with the same password hash.
pub(crate) async fn create_agents(
    store: &dyn Store,
    n: usize,
) -> Result<Vec<kefu_domain::AgentId>> {
    let hash = tokio::task::spawn_blocking(|| auth::hash_password_blocking("bench-password"))
        .await?
        .map_err(|e| anyhow::anyhow!("hashing a password: {}", e.message))?;
    let team = store
        .create_team("Bench", "Agents created by kefu bench")
        .await?;
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let agent = store
            .create_agent(&NewAgent {
                email: Email::parse(&format!("bench-agent-{i}@bench.example.com"))?,
                name: format!("Bench Agent {i}"),
                role: Role::Agent,
                tier: Tier::FRONTLINE,
                teams: vec![team.id],
                password_hash: hash.clone(),
            })
            .await
            .context("creating a bench agent")?;
        ids.push(agent.id);
    }
    Ok(ids)
}

/// Fills a bench database: runs `one(store, i)` for every `i` in `0..n` on several
/// concurrent tasks (more on PostgreSQL, whose writers do not queue on one connection),
/// with a progress bar. Each call creates one ticket (and whatever it needs).
pub(crate) async fn fill<F, Fut>(
    store: &Arc<dyn Store>,
    engine: &str,
    n: usize,
    one: F,
) -> Result<()>
where
    F: Fn(Arc<dyn Store>, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let workers = if engine == "postgres" { 8 } else { 4 };
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "filling [{bar:40}] {pos}/{len} tickets ({per_sec}, {eta} left)",
        )?
        .progress_chars("=> "),
    );
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (store, bar, one) = (store.clone(), bar.clone(), one.clone());
        tasks.spawn(async move {
            for i in (w..n).step_by(workers) {
                one(store.clone(), i).await?;
                bar.inc(1);
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("fill worker")??;
    }
    bar.finish_and_clear();
    Ok(())
}

/// An HTTP client that keeps up to `connections` idle connections to the server.
pub(crate) fn http_client(connections: usize) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")
}

/// "met" or "MISSED" for a target, for the tables.
pub(crate) fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
