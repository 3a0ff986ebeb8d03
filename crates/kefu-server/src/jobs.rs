//! Periodic jobs every `kefu serve` node runs (auto-close, purging old rate-limit counters). One step is one function, which the
//! scheduler calls on an interval and tests call directly (STYLE.md §6).
//!
//! Safe on several nodes: each ticket is changed through `Store::update_ticket`, whose
//! transaction re-checks the lifecycle, so two nodes closing the same ticket close it once
//! and a ticket the customer reopened in the meantime is left alone.

use kefu_domain::{Actor, DomainError, Status, TicketPatch, Timestamp, due_for_close};
use kefu_store::{Store, StoreError};
use std::time::Duration;

/// How often the scheduler looks for work.
pub const TICK: Duration = Duration::from_secs(300);

/// Closes, as `Actor::Rule`, every ticket that has been solved for at least `after`.
/// Returns how many it closed.
pub async fn close_solved_tickets(
    store: &dyn Store,
    now: Timestamp,
    after: jiff::SignedDuration,
) -> Result<usize, StoreError> {
    const BATCH: u32 = 200;
    let close = TicketPatch {
        status: Some(Status::Closed),
        ..Default::default()
    };
    let mut closed = 0;
    loop {
        let ids = store.solved_before(now - after, BATCH).await?;
        let mut progressed = false;
        for id in &ids {
            // Re-read: the ticket may have been reopened and solved again since the query.
            let Some(ticket) = store.get_ticket(*id).await? else {
                continue;
            };
            if !due_for_close(&ticket, now, after) {
                continue;
            }
            match store.update_ticket(*id, &close, Actor::Rule).await {
                Ok(Some(_)) => {
                    closed += 1;
                    progressed = true;
                }
                Ok(None) => {}
                // Another node closed it, or the customer reopened it: nothing to do.
                Err(StoreError::Domain(
                    DomainError::TicketClosed | DomainError::IllegalTransition { .. },
                )) => {}
                Err(e) => return Err(e),
            }
        }
        if (ids.len() as u32) < BATCH || !progressed {
            break;
        }
    }
    if closed > 0 {
        metrics::counter!("kefu_tickets_auto_closed_total").increment(closed as u64);
        tracing::info!(closed, "closed solved tickets");
    }
    Ok(closed)
}

/// Deletes rate-limit counters (sign-in attempts) of windows older than
/// [`kefu_domain::ratelimit::RATE_LIMIT_RETENTION`]. Returns how many it deleted. Safe on
/// several nodes: a row deleted twice is deleted once.
pub async fn purge_rate_limits(store: &dyn Store, now: Timestamp) -> Result<u64, StoreError> {
    let purged = store
        .purge_rate_limits(now - kefu_domain::ratelimit::RATE_LIMIT_RETENTION)
        .await?;
    if purged > 0 {
        tracing::debug!(purged, "purged old rate-limit counters");
    }
    Ok(purged)
}

/// Runs the periodic jobs until the returned handle is aborted.
pub fn spawn(
    store: std::sync::Arc<dyn Store>,
    close_after: Option<jiff::SignedDuration>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Some(after) = close_after
                && let Err(e) = close_solved_tickets(store.as_ref(), Timestamp::now(), after).await
            {
                tracing::error!(error = %e, "closing solved tickets failed; will retry");
            }
            if let Err(e) = purge_rate_limits(store.as_ref(), Timestamp::now()).await {
                tracing::error!(error = %e, "purging rate-limit counters failed; will retry");
            }
        }
    })
}
