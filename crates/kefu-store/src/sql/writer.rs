//! Group commit for SQLite's single writer.
//!
//! SQLite allows one writer at a time, and in WAL mode every commit appends each page the
//! transaction touched to the WAL. A ticket create touches ~20 B-tree pages (the ticket's
//! indexes, its message, events, customer), so one commit per request spends most of its
//! time writing the same right-edge pages again and again.
//!
//! [`GroupWriter`] lets concurrent logical transactions share one physical transaction:
//! each logical transaction is a `SAVEPOINT` inside an outer `BEGIN IMMEDIATE`. When a
//! logical transaction commits and others are queued for the writer, it releases its
//! savepoint and waits; the last one in the queue (or the batch limit) commits the outer
//! transaction and wakes everyone with the result.
//!
//! Guarantees:
//! - A logical transaction is atomic: its savepoint is rolled back if it fails or is
//!   dropped without `commit`, without touching the others in its batch.
//! - `commit` returns `Ok` only after the outer `COMMIT` succeeded, so nothing is
//!   acknowledged before it is durable (as durable as `synchronous=NORMAL` makes it).
//!   If the outer commit fails, every logical transaction of the batch gets the error.
//! - Progress: whoever leaves the writer last (by commit, drop, or by giving up while
//!   queued) commits the outer transaction, so no committed work waits forever.
//! - With one writer at a time (concurrency 1) it behaves like a plain transaction.

use crate::{Result, StoreError};
use sqlx::{Connection, Executor, SqliteConnection, sqlite::SqliteConnectOptions};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// Most logical transactions folded into one outer commit.
const MAX_BATCH: usize = 64;

type Outcome = std::result::Result<(), String>;

struct State {
    conn: SqliteConnection,
    /// An outer `BEGIN IMMEDIATE` is open.
    in_outer: bool,
    /// Logical transactions released into the open outer transaction.
    batch: usize,
    /// Committers waiting for the outer commit.
    waiters: Vec<oneshot::Sender<Outcome>>,
}

struct Shared {
    state: Arc<Mutex<State>>,
    /// Tasks queued for the writer (not yet holding it).
    queued: AtomicUsize,
}

/// The single SQLite write connection, shared by group commit.
#[derive(Clone)]
pub struct GroupWriter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

/// Decrements the queue count when a task stops waiting, and makes sure a pending batch
/// is committed if it was the last one queued and gave up (its future was dropped).
struct QueueTicket {
    shared: Arc<Shared>,
    acquired: bool,
}

impl Drop for QueueTicket {
    fn drop(&mut self) {
        let left = self.shared.queued.fetch_sub(1, Ordering::SeqCst) - 1;
        if !self.acquired && left == 0 {
            spawn_flush(self.shared.clone(), None);
        }
    }
}

impl GroupWriter {
    pub async fn connect(opts: &SqliteConnectOptions) -> Result<GroupWriter> {
        let conn = SqliteConnection::connect_with(opts).await?;
        let state = State {
            conn,
            in_outer: false,
            batch: 0,
            waiters: Vec::new(),
        };
        Ok(GroupWriter {
            shared: Arc::new(Shared {
                state: Arc::new(Mutex::new(state)),
                queued: AtomicUsize::new(0),
            }),
        })
    }

    /// Starts a logical write transaction.
    pub async fn begin(&self) -> Result<WriteTx> {
        self.shared.queued.fetch_add(1, Ordering::SeqCst);
        let mut ticket = QueueTicket {
            shared: self.shared.clone(),
            acquired: false,
        };
        let mut guard = self.shared.state.clone().lock_owned().await;
        ticket.acquired = true;
        drop(ticket);
        if !guard.in_outer {
            guard.conn.execute("BEGIN IMMEDIATE").await?;
            guard.in_outer = true;
        }
        if let Err(e) = guard.conn.execute("SAVEPOINT kefu_write").await {
            finish(&mut guard).await.ok();
            return Err(e.into());
        }
        Ok(WriteTx {
            guard: Some(guard),
            shared: self.shared.clone(),
        })
    }
}

/// One logical write transaction; derefs to the connection. Dropping it without
/// [`WriteTx::commit`] rolls its work back.
pub struct WriteTx {
    guard: Option<OwnedMutexGuard<State>>,
    shared: Arc<Shared>,
}

impl std::ops::Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.guard.as_ref().expect("live write transaction").conn
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.guard.as_mut().expect("live write transaction").conn
    }
}

impl WriteTx {
    /// Commits this logical transaction; returns once its outer transaction is committed.
    pub async fn commit(mut self) -> Result<()> {
        let mut guard = self.guard.take().expect("live write transaction");
        if let Err(e) = guard.conn.execute("RELEASE kefu_write").await {
            rollback_savepoint(&mut guard).await;
            release(guard, &self.shared).await;
            return Err(e.into());
        }
        guard.batch += 1;
        if self.shared.queued.load(Ordering::SeqCst) > 0 && guard.batch < MAX_BATCH {
            let (tx, rx) = oneshot::channel();
            guard.waiters.push(tx);
            drop(guard);
            return match rx.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(msg)) => Err(StoreError::Database(sqlx::Error::Protocol(msg))),
                Err(_) => Err(StoreError::Database(sqlx::Error::Protocol(
                    "writer went away before commit".into(),
                ))),
            };
        }
        let mut guard = guard;
        finish(&mut guard).await
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            spawn_flush(self.shared.clone(), Some(guard));
        }
    }
}

/// Rolls back an abandoned savepoint (if `guard` is given) and commits the pending batch
/// when nobody else is queued to do it.
fn spawn_flush(shared: Arc<Shared>, guard: Option<OwnedMutexGuard<State>>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        // No runtime (process shutdown): dropping the connection rolls back.
        return;
    };
    handle.spawn(async move {
        let mut guard = match guard {
            Some(mut g) => {
                rollback_savepoint(&mut g).await;
                g
            }
            None => shared.state.clone().lock_owned().await,
        };
        if shared.queued.load(Ordering::SeqCst) == 0 && guard.in_outer {
            finish(&mut guard).await.ok();
        }
    });
}

async fn rollback_savepoint(guard: &mut State) {
    let r = guard.conn.execute("ROLLBACK TO kefu_write").await;
    let r2 = guard.conn.execute("RELEASE kefu_write").await;
    if let Err(e) = r.and(r2) {
        tracing::error!(error = %e, "rolling back a write savepoint failed");
    }
}

/// After a failed release: commit what others released, unless someone queued will.
async fn release(mut guard: OwnedMutexGuard<State>, shared: &Shared) {
    if shared.queued.load(Ordering::SeqCst) == 0 && guard.in_outer {
        finish(&mut guard).await.ok();
    }
}

/// Commits the outer transaction (or rolls it back if the commit fails) and tells every
/// waiter the outcome.
async fn finish(state: &mut State) -> Result<()> {
    let result = if state.in_outer {
        match state.conn.execute("COMMIT").await {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Err(e2) = state.conn.execute("ROLLBACK").await {
                    tracing::error!(error = %e2, "rollback after a failed commit failed");
                }
                Err(e)
            }
        }
    } else {
        Ok(())
    };
    state.in_outer = false;
    state.batch = 0;
    let outcome: Outcome = result.as_ref().map(|_| ()).map_err(|e| e.to_string());
    for w in state.waiters.drain(..) {
        let _ = w.send(outcome.clone());
    }
    if let Err(e) = &result {
        tracing::error!(error = %e, "group commit failed");
    }
    result.map_err(Into::into)
}
