//! SQL for fixed-window rate-limit counters: one row per (key, window start) holding the
//! number of hits in that window.
//!
//! `ratelimit_impl!` expands to inherent methods of one engine's store. The window start
//! comes from the store's clock via `kefu_domain::ratelimit::window_start` (aligned to the
//! epoch, so every node agrees on it).
//!
//! Invariant: a hit is one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, so concurrent
//! hits on several nodes each see a distinct count (PostgreSQL's upsert is atomic; on
//! SQLite the group writer serialises it).

macro_rules! ratelimit_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            fn current_window(&self, window: jiff::SignedDuration) -> Result<i64> {
                if !window.is_positive() {
                    return Err(DomainError::invalid("window", "must be positive").into());
                }
                Ok(us(kefu_domain::ratelimit::window_start(self.clock.now(), window)))
            }

            async fn hit_rate_limit_(&self, key: &str, window: jiff::SignedDuration) -> Result<u32> {
                let start = self.current_window(window)?;
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
                     ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 \
                     RETURNING count",
                )
                .bind(key)
                .bind(start)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                let count: i64 = row.try_get("count")?;
                Ok(u32::try_from(count).unwrap_or(u32::MAX))
            }

            async fn undo_rate_limit_hit_(&self, key: &str, window: jiff::SignedDuration) -> Result<()> {
                let start = self.current_window(window)?;
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE rate_limits SET count = count - 1 \
                     WHERE key = $1 AND window_start = $2 AND count > 0",
                )
                .bind(key)
                .bind(start)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn purge_rate_limits_(&self, cutoff: Timestamp) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                    .bind(us(cutoff))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }
        }
    };
}
