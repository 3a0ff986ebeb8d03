//! SQL for the durable job queue every node shares (outgoing mail, acknowledgements, …).
//!
//! `jobs_impl!` expands to inherent methods of one engine's store (suffixed `_`); the
//! `Store` impl in `mod.rs` delegates to them.
//!
//! A job is a row of `jobs`. Claiming sets a lease (`locked_until`) and counts the attempt;
//! a worker then completes (deletes), retries (new `run_at`, unlocked) or fails it
//! (`failed_at`: kept with its error, never claimed again). A worker that dies leaves its
//! job to be claimed again when the lease runs out: delivery is at least once.
//!
//! Invariants:
//! - An idempotency key is taken forever: `job_keys` keeps every key ever enqueued, also
//!   after the job is completed and its row deleted.
//! - Two claimers never hold the same job at once: on PostgreSQL the claim picks its rows
//!   `FOR UPDATE SKIP LOCKED` (passed in as `$skip_locked`) and re-checks the lease on the
//!   locked row; on SQLite the single writer serialises claims.

macro_rules! jobs_impl {
    ($store:ident, $db:ty, $skip_locked:literal) => {
        impl $store {
            /// Enqueues `j` inside the caller's transaction; `None` if its key was ever used.
            async fn insert_job(c: &mut <$db as sqlx::Database>::Connection, j: &NewJob, now: Timestamp) -> Result<Option<JobId>> {
                if let Some(k) = &j.idempotency_key {
                    let res = sqlx::query("INSERT INTO job_keys (key, created_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                        .bind(k)
                        .bind(us(now))
                        .execute(&mut *c)
                        .await?;
                    if res.rows_affected() == 0 {
                        return Ok(None);
                    }
                }
                let row = sqlx::query(
                    "INSERT INTO jobs (kind, payload, run_at, attempts, idempotency_key, created_at) \
                     VALUES ($1, $2, $3, 0, $4, $5) RETURNING id",
                )
                .bind(&j.kind)
                .bind(j.payload.to_string())
                .bind(us(j.run_at))
                .bind(j.idempotency_key.as_deref())
                .bind(us(now))
                .fetch_one(&mut *c)
                .await?;
                Ok(Some(JobId(row.try_get("id")?)))
            }

            async fn enqueue_job_(&self, j: &NewJob) -> Result<Option<JobId>> {
                if j.kind.trim().is_empty() {
                    return Err(DomainError::invalid("kind", "is required").into());
                }
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                let id = Self::insert_job(&mut tx, j, now).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn claim_jobs_(&self, kinds: &[&str], lease: jiff::SignedDuration, limit: u32) -> Result<Vec<Job>> {
                if !lease.is_positive() {
                    return Err(DomainError::invalid("lease", "must be positive").into());
                }
                if kinds.is_empty() {
                    return Ok(Vec::new());
                }
                let now = self.clock.now();
                let until = now
                    .checked_add(lease)
                    .map_err(|_| StoreError::from(DomainError::invalid("lease", "is too long")))?;
                let n = kinds.len();
                let sql = format!(
                    "WITH picked AS (SELECT id FROM jobs WHERE failed_at IS NULL AND run_at <= ${now} \
                     AND (locked_until IS NULL OR locked_until <= ${now}) AND kind IN ({kinds}) \
                     ORDER BY run_at, id LIMIT ${limit}{skip}) \
                     UPDATE jobs SET locked_until = ${until}, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM picked) \
                     RETURNING id, kind, payload, attempts, last_error, run_at",
                    kinds = placeholders(n),
                    now = n + 1,
                    limit = n + 2,
                    until = n + 3,
                    skip = $skip_locked,
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for k in kinds {
                    q = q.bind(*k);
                }
                let q = q.bind(us(now)).bind(i64::from(limit.clamp(1, 1000))).bind(us(until));
                let mut tx = self.begin_write().await?;
                let rows = q.fetch_all(&mut *tx).await?;
                tx.commit().await?;
                let mut jobs = rows
                    .iter()
                    .map(|r| {
                        let payload: String = r.try_get("payload")?;
                        let attempts: i64 = r.try_get("attempts")?;
                        let job = Job {
                            id: JobId(r.try_get("id")?),
                            kind: r.try_get("kind")?,
                            payload: serde_json::from_str(&payload)
                                .map_err(|e| corrupt(format!("job payload: {e}")))?,
                            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                            last_error: r.try_get("last_error")?,
                        };
                        Ok((r.try_get::<i64, _>("run_at")?, job))
                    })
                    .collect::<Result<Vec<_>>>()?;
                // RETURNING has no order: hand them out oldest first, as picked.
                jobs.sort_by_key(|(run_at, job)| (*run_at, job.id));
                Ok(jobs.into_iter().map(|(_, job)| job).collect())
            }

            async fn complete_job_(&self, id: JobId) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn retry_job_(&self, id: JobId, run_at: Timestamp, error: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(us(run_at))
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn fail_job_(&self, id: JobId, error: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE jobs SET failed_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(us(now))
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
