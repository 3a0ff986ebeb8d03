//! SQL for `Idempotency-Key` records: one row per (scope, key) naming the resource the
//! key created and the fingerprint of the request that created it.
//!
//! `idempotency_impl!` expands to inherent methods of one engine's store. Creates that
//! accept a key (tickets, messages, customers) call `reserve_key` first thing in their
//! write transaction and `record_key` just before commit, so the key and the resource
//! commit (or roll back) together: a create that fails leaves its key free for a
//! corrected retry.
//!
//! Invariant: a concurrent create with the same key waits for the first one. On SQLite all
//! writes are serialised by the single writer; on PostgreSQL the `INSERT … ON CONFLICT DO
//! NOTHING` waits for the transaction holding the same primary key, then sees its committed
//! row (READ COMMITTED takes a new snapshot per statement) or, if it rolled back, takes the
//! key itself.

macro_rules! idempotency_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Reserves `k` for a new resource of `kind`. Returns `None` if the key is new
            /// (create the resource, then call `record_key`), or the id of the resource an
            /// earlier request created with it. A key already used for another kind of
            /// resource or another request (fingerprint) is invalid.
            async fn reserve_key(
                c: &mut <$db as sqlx::Database>::Connection,
                k: &IdempotencyKey,
                kind: &'static str,
                now: Timestamp,
            ) -> Result<Option<i64>> {
                let res = sqlx::query(
                    "INSERT INTO idempotency_keys (scope, key, resource_kind, request_hash, resource_id, created_at) \
                     VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (scope, key) DO NOTHING",
                )
                .bind(&k.scope)
                .bind(&k.key)
                .bind(kind)
                .bind(&k.fingerprint)
                .bind(us(now))
                .execute(&mut *c)
                .await?;
                if res.rows_affected() == 1 {
                    return Ok(None);
                }
                let row = sqlx::query(
                    "SELECT resource_kind, request_hash, resource_id FROM idempotency_keys \
                     WHERE scope = $1 AND key = $2",
                )
                .bind(&k.scope)
                .bind(&k.key)
                .fetch_one(&mut *c)
                .await?;
                if row.try_get::<&str, _>("resource_kind")? != kind
                    || row.try_get::<&str, _>("request_hash")? != k.fingerprint
                {
                    return Err(key_reused());
                }
                Ok(Some(row.try_get("resource_id")?))
            }

            /// Names the resource created under a key reserved in this transaction.
            async fn record_key(c: &mut <$db as sqlx::Database>::Connection, k: &IdempotencyKey, id: i64) -> Result<()> {
                sqlx::query("UPDATE idempotency_keys SET resource_id = $3 WHERE scope = $1 AND key = $2")
                    .bind(&k.scope)
                    .bind(&k.key)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            }
        }
    };
}
