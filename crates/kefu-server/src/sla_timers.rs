//! SLA timers: every `kefu serve` node claims the clock timers that are due (a warning
//! or a breach) and fires them through the store, which evaluates the ticket's clocks,
//! records the events, escalates and notifies in the ticket's transaction.
//!
//! Safe on several nodes: claims are leased (`Store::claim_sla_timers`), and firing is
//! idempotent (a ticket fired twice records nothing the second time), so each warning
//! and breach is recorded once. A node that dies with a lease leaves its timers to the
//! others when the lease runs out. Timers are rows in the database: nothing is lost on
//! restart, and a late timer still breaches at the due time, not at the late instant.

use kefu_domain::{Actor, AgentId, SlaPolicyId, TicketId, Timestamp};
use kefu_store::{Job, NewJob, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often a node looks for due timers: warnings and breaches reach the event log,
/// escalations and notifications within about this long.
pub const TICK: Duration = Duration::from_secs(1);
/// How long a claimed timer is kept from other nodes.
pub const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);
const BATCH: u32 = 200;
const MAX_ROUNDS: usize = 1000;

/// Fires every timer due now (in batches until none is left). Returns how many tickets
/// were evaluated and how many SLA events they recorded.
pub async fn fire_due(store: &dyn Store) -> Result<(usize, usize), StoreError> {
    let (mut tickets, mut events) = (0, 0);
    // Firing can make more timers due at once: a breach that raises the tier starts the
    // next tier's clock at the (possibly long past) breach time. Such cascades run here, to
    // the end, rather than one step per tick. A bound keeps a timer that somehow stays due
    // from holding the loop; the next tick picks it up again.
    for _ in 0..MAX_ROUNDS {
        let due = store.claim_sla_timers(LEASE, BATCH).await?;
        if due.is_empty() {
            break;
        }
        for id in &due {
            events += store.fire_sla_timers(*id).await?;
        }
        tickets += due.len();
    }
    if tickets > 0 {
        metrics::counter!("kefu_sla_timers_fired_total").increment(tickets as u64);
        metrics::counter!("kefu_sla_events_total").increment(events as u64);
        tracing::debug!(tickets, events, "fired SLA timers");
    }
    Ok((tickets, events))
}

/// The durable job that moves every open ticket under older versions of a policy to its
/// current version (payload: `policy_id`, `version`, `agent_id` of the admin who asked).
pub const REAPPLY: &str = "sla.reapply";
/// How long a node keeps a re-apply job from the others while working on it.
const REAPPLY_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);
/// Tickets one claim re-applies before handing the job back to the queue (any node
/// continues it): keeps each claim well inside its lease.
const REAPPLY_SLICE: usize = 2000;

/// Queues a bulk re-apply of `policy`'s `version` to the open tickets still under an
/// older one, on behalf of `by`. Returns how many tickets were behind when queued.
pub async fn queue_reapply(
    store: &dyn Store,
    policy: SlaPolicyId,
    version: i64,
    by: AgentId,
) -> Result<i64, StoreError> {
    let behind = store.count_sla_tickets_behind(policy, version).await?;
    if behind > 0 {
        store
            .enqueue_job(&NewJob {
                kind: REAPPLY.into(),
                payload: serde_json::json!({"policy_id": policy.0, "version": version, "agent_id": by.0}),
                run_at: Timestamp::now(),
                idempotency_key: None,
            })
            .await?;
    }
    Ok(behind)
}

/// Runs the due re-apply jobs: each re-applies up to [`REAPPLY_SLICE`] tickets (as the
/// admin who asked), then completes, or goes back to the queue if tickets remain. Safe
/// to run on several nodes and to repeat: a ticket re-applied is no longer behind.
/// Returns how many tickets it re-applied.
pub async fn run_reapply_jobs(store: &dyn Store) -> Result<usize, StoreError> {
    let mut done = 0;
    for job in store.claim_jobs(&[REAPPLY], REAPPLY_LEASE, 4).await? {
        done += run_reapply(store, &job).await?;
    }
    Ok(done)
}

async fn run_reapply(store: &dyn Store, job: &Job) -> Result<usize, StoreError> {
    let field = |k: &str| job.payload.get(k).and_then(serde_json::Value::as_i64);
    let (Some(policy), Some(version), Some(agent)) =
        (field("policy_id"), field("version"), field("agent_id"))
    else {
        store
            .fail_job(job.id, "payload needs policy_id, version and agent_id")
            .await?;
        return Ok(0);
    };
    let (policy, actor) = (SlaPolicyId(policy), Actor::Agent(AgentId(agent)));
    let mut after = TicketId(0);
    let mut done = 0;
    while done < REAPPLY_SLICE {
        let ids = store
            .sla_tickets_behind(policy, version, after, 200)
            .await?;
        let Some(last) = ids.last() else {
            store.complete_job(job.id).await?;
            tracing::info!(
                policy = policy.0,
                version,
                done,
                "re-applied an SLA policy to open tickets"
            );
            return Ok(done);
        };
        after = *last;
        for id in ids {
            if store.reapply_sla(id, actor).await?.is_some() {
                done += 1;
            }
        }
    }
    // More to do: back to the queue at once, for this node or another.
    store
        .retry_job(job.id, Timestamp::now(), "continuing")
        .await?;
    Ok(done)
}

/// Runs [`fire_due`] every [`TICK`], and the re-apply jobs beside it, until the returned
/// handle is aborted.
pub fn spawn(store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
    let jobs = store.clone();
    let reapply = tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_reapply_jobs(jobs.as_ref()).await {
                tracing::error!(error = %e, "re-applying SLA policies failed; will retry");
            }
        }
    });
    tokio::spawn(async move {
        // Aborting this task drops the guard, which stops the re-apply loop too.
        let _reapply = AbortOnDrop(reapply);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = fire_due(store.as_ref()).await {
                tracing::error!(error = %e, "firing SLA timers failed; will retry");
            }
        }
    })
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
