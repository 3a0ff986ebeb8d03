//! SLA timers: every `kefu serve` node claims the clock timers that are due (a warning
//! or a breach) and fires them through the store, which evaluates the ticket's clocks,
//! records the events, escalates and notifies in the ticket's transaction.
//!
//! Safe on several nodes: claims are leased (`Store::claim_sla_timers`), and firing is
//! idempotent (a ticket fired twice records nothing the second time), so each warning
//! and breach is recorded once. A node that dies with a lease leaves its timers to the
//! others when the lease runs out. Timers are rows in the database: nothing is lost on
//! restart, and a late timer still breaches at the due time, not at the late instant.

use kefu_store::{Store, StoreError};
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

/// Runs [`fire_due`] every [`TICK`] until the returned handle is aborted.
pub fn spawn(store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
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
