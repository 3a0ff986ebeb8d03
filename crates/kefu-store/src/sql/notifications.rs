//! SQL for agents' in-app notifications: one row per recipient, unread until that agent
//! marks it read. The SLA engine (and anything else that wants an agent's attention)
//! writes them, inside its own transaction through `insert_notifications` or on their
//! own through `Store::create_notifications`; the inbox lists, counts and marks them.
//!
//! `notifications_impl!` expands to inherent methods of one engine's store (suffixed `_`);
//! the `Store` impl in `mod.rs` delegates to them.
//!
//! Invariants:
//! - A `dedupe_key` is inserted at most once (unique index, `ON CONFLICT DO NOTHING`), so
//!   concurrent or repeated scans notify once.
//! - Listing, counting and marking are always scoped to one agent: no query here touches
//!   another agent's rows.
//! - A notification once read keeps its first `read_at`.

use crate::{NewNotification, Result};
use kefu_domain::DomainError;

/// Notification columns (of `notifications n`, plus the ticket's number) in the order
/// every notification query selects them.
macro_rules! notification_cols {
    () => {
        "n.id, n.agent_id, n.ticket_id, t.number AS ticket_number, n.kind, n.title, n.body, \
         n.created_at, n.read_at"
    };
}

/// Most ids bound in one `IN (…)` list (well below SQLite's variable limit).
pub(crate) const ID_CHUNK: usize = 500;

/// What the store checks itself: a kind and a title.
pub(crate) fn check_notification(n: &NewNotification) -> Result<()> {
    if n.kind.trim().is_empty() {
        return Err(DomainError::invalid("kind", "is required").into());
    }
    if n.title.trim().is_empty() {
        return Err(DomainError::invalid("title", "is required").into());
    }
    Ok(())
}

/// Text as stored: without NUL characters (PostgreSQL refuses them in `TEXT`).
pub(crate) fn clean(s: &str) -> String {
    s.replace('\0', "")
}

/// The distinct values, sorted.
pub(crate) fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

macro_rules! notifications_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            fn notification_from_row(r: &<$db as sqlx::Database>::Row) -> Result<Notification> {
                Ok(Notification {
                    id: NotificationId(r.try_get("id")?),
                    agent_id: AgentId(r.try_get("agent_id")?),
                    ticket_id: r.try_get::<Option<i64>, _>("ticket_id")?.map(TicketId),
                    ticket_number: r.try_get("ticket_number")?,
                    kind: r.try_get("kind")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    created_at: ts(r.try_get("created_at")?)?,
                    read_at: ts_opt(r.try_get("read_at")?)?,
                })
            }

            /// Fails with `InvalidReference(what)` unless every id (distinct) is a row of
            /// `table` (a literal: `agents` or `tickets`).
            async fn require_all(
                c: &mut <$db as sqlx::Database>::Connection,
                table: &'static str,
                ids: &[i64],
                what: &'static str,
            ) -> Result<()> {
                for chunk in ids.chunks(notifications::ID_CHUNK) {
                    let sql = format!("SELECT COUNT(*) FROM {table} WHERE id IN ({})", placeholders(chunk.len()));
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    let found: i64 = q.fetch_one(&mut *c).await?.try_get(0)?;
                    if found != chunk.len() as i64 {
                        return Err(StoreError::InvalidReference(what));
                    }
                }
                Ok(())
            }

            /// Inserts notifications inside the caller's transaction (e.g. the SLA engine's
            /// ticket transaction), stamped `created_at` = `now`. Rows whose `dedupe_key`
            /// exists are skipped; returns how many were inserted. Checks as
            /// [`Store::create_notifications`]; on an error the caller's transaction should
            /// be rolled back (on PostgreSQL it cannot go on anyway).
            async fn insert_notifications(
                c: &mut <$db as sqlx::Database>::Connection,
                n: &[NewNotification],
                now: Timestamp,
            ) -> Result<u64> {
                if n.is_empty() {
                    return Ok(0);
                }
                for x in n {
                    notifications::check_notification(x)?;
                }
                let agents = notifications::distinct(n.iter().map(|x| x.agent_id.0));
                Self::require_all(&mut *c, "agents", &agents, "agent").await?;
                let tickets = notifications::distinct(n.iter().filter_map(|x| x.ticket_id.map(|t| t.0)));
                Self::require_all(&mut *c, "tickets", &tickets, "ticket").await?;
                let mut inserted = 0;
                for x in n {
                    let res = sqlx::query(
                        "INSERT INTO notifications (agent_id, ticket_id, kind, title, body, dedupe_key, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
                    )
                    .bind(x.agent_id.0)
                    .bind(x.ticket_id.map(|t| t.0))
                    .bind(notifications::clean(x.kind.trim()))
                    .bind(notifications::clean(x.title.trim()))
                    .bind(notifications::clean(&x.body))
                    .bind(x.dedupe_key.as_deref().map(notifications::clean))
                    .bind(us(now))
                    .execute(&mut *c)
                    .await
                    .map_err(reference_is("agent or ticket"))?;
                    inserted += res.rows_affected();
                }
                Ok(inserted)
            }

            async fn create_notifications_(&self, n: &[NewNotification]) -> Result<u64> {
                if n.is_empty() {
                    return Ok(0);
                }
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                let inserted = Self::insert_notifications(&mut tx, n, now).await?;
                tx.commit().await?;
                Ok(inserted)
            }

            async fn list_notifications_(
                &self,
                agent: AgentId,
                unread_only: bool,
                cursor: Option<&str>,
                limit: u32,
            ) -> Result<Page<Notification>> {
                // Without a cursor, every id is below i64::MAX: one statement per list,
                // each walking one index newest first.
                let before = cursor.map(parse_id_cursor).transpose()?.unwrap_or(i64::MAX);
                let limit = clamp_limit(limit);
                let sql = if unread_only {
                    concat!(
                        "SELECT ",
                        notification_cols!(),
                        " FROM notifications n LEFT JOIN tickets t ON t.id = n.ticket_id \
                         WHERE n.agent_id = $1 AND n.read_at IS NULL AND n.id < $2 ORDER BY n.id DESC LIMIT $3"
                    )
                } else {
                    concat!(
                        "SELECT ",
                        notification_cols!(),
                        " FROM notifications n LEFT JOIN tickets t ON t.id = n.ticket_id \
                         WHERE n.agent_id = $1 AND n.id < $2 ORDER BY n.id DESC LIMIT $3"
                    )
                };
                // One extra row tells whether another page exists.
                let rows = sqlx::query(sql)
                    .bind(agent.0)
                    .bind(before)
                    .bind(limit + 1)
                    .fetch_all(self.reader())
                    .await?;
                let mut items = rows.iter().map(Self::notification_from_row).collect::<Result<Vec<_>>>()?;
                let next_cursor = if items.len() as i64 > limit {
                    items.truncate(limit as usize);
                    items.last().map(|n| n.id.0.to_string())
                } else {
                    None
                };
                Ok(Page { items, next_cursor })
            }

            async fn count_unread_notifications_(&self, agent: AgentId) -> Result<i64> {
                let n: i64 = sqlx::query("SELECT COUNT(*) FROM notifications WHERE agent_id = $1 AND read_at IS NULL")
                    .bind(agent.0)
                    .fetch_one(self.reader())
                    .await?
                    .try_get(0)?;
                Ok(n)
            }

            async fn mark_notifications_read_(&self, agent: AgentId, ids: Option<&[NotificationId]>) -> Result<u64> {
                let now = us(self.clock.now());
                let ids = ids.map(|ids| notifications::distinct(ids.iter().map(|i| i.0)));
                if ids.as_ref().is_some_and(Vec::is_empty) {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let marked = match ids {
                    None => {
                        sqlx::query("UPDATE notifications SET read_at = $2 WHERE agent_id = $1 AND read_at IS NULL")
                            .bind(agent.0)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                    }
                    Some(ids) => {
                        let mut marked = 0;
                        for chunk in ids.chunks(notifications::ID_CHUNK) {
                            let sql = format!(
                                "UPDATE notifications SET read_at = $2 WHERE agent_id = $1 AND read_at IS NULL \
                                 AND id IN ({})",
                                (3..chunk.len() + 3).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
                            );
                            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(agent.0).bind(now);
                            for id in chunk {
                                q = q.bind(*id);
                            }
                            marked += q.execute(&mut *tx).await?.rows_affected();
                        }
                        marked
                    }
                };
                tx.commit().await?;
                Ok(marked)
            }
        }
    };
}
