//! The SQL engines behind [`Store`]: [`SqliteStore`] and [`PgStore`].
//!
//! Owns: connection pools, per-engine settings (SQLite PRAGMAs, the single-writer pool),
//! embedded migrations, and the one body of SQL both engines share.
//!
//! The SQL is written once with `$1, $2…` placeholders (sqlx-sqlite accepts them) and
//! instantiated per engine by `impl_store!`. Dialect differences are the literals passed
//! to that macro (ticket-number allocation, row locking, skipping locked jobs) plus `SqliteStore::begin_write` /
//! `PgStore::begin_write`; there are no engine branches inside the SQL bodies.
//!
//! Invariant: on SQLite every write goes through the writer pool (one connection,
//! `BEGIN IMMEDIATE`), so writers queue in-process instead of failing with `SQLITE_BUSY`;
//! reads use a separate pool and see committed data (WAL).

/// Ticket columns in the order every ticket query selects them.
macro_rules! ticket_cols {
    () => {
        "id, number, subject, status, priority, ticket_type, channel, requester_id, \
         organization_id, assignee_id, team_id, tier, tags, custom_fields, follow_up_of, \
         created_at, updated_at, solved_at, closed_at"
    };
}

#[macro_use]
mod calendars;
mod convert;
mod filter;
#[macro_use]
mod idempotency;
#[macro_use]
mod jobs;
#[macro_use]
mod mail;
#[macro_use]
mod messages;
#[macro_use]
mod notifications;
#[macro_use]
mod people;
#[macro_use]
mod ratelimit;
#[macro_use]
mod sla;
#[macro_use]
mod staff;
#[macro_use]
mod tickets;
mod writer;

use crate::*;
use async_trait::async_trait;
use convert::*;
use filter::Arg;
use kefu_domain::*;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The embedded PostgreSQL migrations, for test databases built from a migrated template.
pub(crate) fn postgres_migrator() -> &'static Migrator {
    &POSTGRES_MIGRATIONS
}

/// Embedded SQLite: one writer connection, several readers, WAL.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Migrations and single-statement writes.
    writer: SqlitePool,
    /// Write transactions, with group commit (see `writer.rs`).
    group: writer::GroupWriter,
    reader: SqlitePool,
    clock: Arc<dyn Clock>,
    sla: Arc<sla::SlaCache>,
}

impl SqliteStore {
    /// Opens `sqlite:///abs/path.db` or `sqlite://relative.db`, creating the file if missing.
    /// Does not run migrations (see [`Store::migrate`]). Stamps rows with the wall clock.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_clock(url, Arc::new(SystemClock)).await
    }

    /// [`SqliteStore::connect`], stamping rows with `clock`.
    pub async fn connect_with_clock(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                "in-memory SQLite is not supported (readers and the writer need one file); \
                 use a file in a temporary directory"
                    .into(),
            )));
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        let group = writer::GroupWriter::connect(&opts).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await?;
        Ok(SqliteStore {
            writer,
            group,
            reader,
            clock,
            sla: Default::default(),
        })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A logical write transaction on the single writer, group-committed with concurrent
    /// ones (the outer transaction is `BEGIN IMMEDIATE`, so it never fails half-way on
    /// lock upgrade).
    async fn begin_write(&self) -> Result<writer::WriteTx> {
        self.group.begin().await
    }

    fn migrator() -> &'static Migrator {
        &SQLITE_MIGRATIONS
    }
}

/// PostgreSQL: one pool; concurrent writers are ordered by row locks and unique indexes.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    sla: Arc<sla::SlaCache>,
}

impl PgStore {
    /// Opens `postgres://…`. Does not run migrations (see [`Store::migrate`]). Stamps rows
    /// with the wall clock.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_clock(url, Arc::new(SystemClock)).await
    }

    /// [`PgStore::connect`], stamping rows with `clock`.
    pub async fn connect_with_clock(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(32)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(PgStore {
            pool,
            clock,
            sla: Default::default(),
        })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    fn migrator() -> &'static Migrator {
        &POSTGRES_MIGRATIONS
    }
}

/// Implements [`Store`] for one engine by delegating to the inherent methods generated by
/// `idempotency_impl!`, `people_impl!`, `staff_impl!`, `ratelimit_impl!`, `messages_impl!`,
/// `tickets_impl!`, `mail_impl!`, `jobs_impl!`, `calendars_impl!` and `sla_impl!` from the same SQL text.
macro_rules! impl_store {
    (
        $store:ident, $db:ty,
        engine: $engine:literal,
        next_ticket_number: $next_number:literal,
        lock_row: $for_update:literal,
        skip_locked: $skip_locked:literal,
        sla_clock_window: $clock_window:expr,
        sla_write_schedules: $write_schedules:expr,
        sla_recompute_stripes: $recompute_stripes:expr $(,)?
    ) => {
        idempotency_impl!($store, $db);
        people_impl!($store, $db);
        staff_impl!($store, $db);
        ratelimit_impl!($store, $db);
        messages_impl!($store, $db);
        tickets_impl!($store, $db, $next_number, $for_update);
        mail_impl!($store, $db);
        jobs_impl!($store, $db, $skip_locked);
        calendars_impl!($store, $db);
        sla_impl!($store, $db, $for_update, $skip_locked, $clock_window, $write_schedules, $recompute_stripes);
        notifications_impl!($store, $db);

        #[async_trait]
        impl Store for $store {
            fn engine(&self) -> &'static str {
                $engine
            }
            async fn migrate(&self) -> Result<()> {
                Ok(Self::migrator().run(self.writer()).await?)
            }
            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }
            async fn is_empty(&self) -> Result<bool> {
                let row = sqlx::query("SELECT id FROM agents LIMIT 1")
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.is_none())
            }
            async fn get_setting(&self, key: &str) -> Result<Option<String>> {
                self.get_setting_(key).await
            }
            async fn init_setting(&self, key: &str, value: &str) -> Result<String> {
                self.init_setting_(key, value).await
            }
            async fn create_organization(&self, org: &NewOrganization) -> Result<Organization> {
                self.create_organization_(org).await
            }
            async fn get_organization(&self, id: OrganizationId) -> Result<Option<Organization>> {
                self.get_organization_(id).await
            }
            async fn list_organizations(&self) -> Result<Vec<Organization>> {
                self.list_organizations_().await
            }
            async fn update_organization(
                &self,
                id: OrganizationId,
                org: &NewOrganization,
            ) -> Result<Option<Organization>> {
                self.update_organization_(id, org).await
            }
            async fn create_customer(
                &self,
                c: &NewCustomer,
                idempotency: Option<&IdempotencyKey>,
            ) -> Result<Customer> {
                self.create_customer_(c, idempotency).await
            }
            async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>> {
                Ok(self.customers_by_ids_(&[id]).await?.pop())
            }
            async fn customers_by_ids(&self, ids: &[CustomerId]) -> Result<Vec<Customer>> {
                self.customers_by_ids_(ids).await
            }
            async fn find_customer_by_email(&self, email: &Email) -> Result<Option<Customer>> {
                self.find_customer_by_email_(email).await
            }
            async fn list_customers(&self, q: &CustomerQuery) -> Result<Page<Customer>> {
                self.list_customers_(q).await
            }
            async fn update_customer(
                &self,
                id: CustomerId,
                patch: &CustomerPatch,
            ) -> Result<Option<Customer>> {
                self.update_customer_(id, patch).await
            }
            async fn set_customer_password(
                &self,
                id: CustomerId,
                password_hash: &str,
            ) -> Result<()> {
                self.set_customer_password_(id, password_hash).await
            }
            async fn find_customer_login(
                &self,
                email: &Email,
            ) -> Result<Option<(Customer, Option<String>)>> {
                self.find_customer_login_(email).await
            }
            async fn create_team(&self, name: &str, description: &str) -> Result<Team> {
                self.create_team_(name, description).await
            }
            async fn get_team(&self, id: TeamId) -> Result<Option<Team>> {
                self.get_team_(id).await
            }
            async fn find_team_by_name(&self, name: &str) -> Result<Option<Team>> {
                self.find_team_by_name_(name).await
            }
            async fn list_teams(&self) -> Result<Vec<Team>> {
                self.list_teams_().await
            }
            async fn update_team(
                &self,
                id: TeamId,
                name: &str,
                description: &str,
            ) -> Result<Option<Team>> {
                self.update_team_(id, name, description).await
            }
            async fn create_agent(&self, a: &NewAgent) -> Result<Agent> {
                self.create_agent_(a).await
            }
            async fn get_agent(&self, id: AgentId) -> Result<Option<Agent>> {
                self.get_agent_(id).await
            }
            async fn list_agents(&self) -> Result<Vec<Agent>> {
                self.list_agents_().await
            }
            async fn update_agent(&self, id: AgentId, patch: &AgentPatch) -> Result<Option<Agent>> {
                self.update_agent_(id, patch).await
            }
            async fn find_agent_login(&self, email: &Email) -> Result<Option<(Agent, String)>> {
                self.find_agent_login_(email).await
            }
            async fn create_api_token(
                &self,
                agent: AgentId,
                name: &str,
                token_hash: &str,
            ) -> Result<i64> {
                self.create_api_token_(agent, name, token_hash).await
            }
            async fn find_agent_by_token(&self, token_hash: &str) -> Result<Option<Agent>> {
                self.find_agent_by_token_(token_hash).await
            }
            async fn create_session(&self, s: &Session) -> Result<()> {
                self.create_session_(s).await
            }
            async fn find_session(
                &self,
                token_hash: &str,
                now: Timestamp,
            ) -> Result<Option<Session>> {
                self.find_session_(token_hash, now).await
            }
            async fn delete_session(&self, token_hash: &str) -> Result<()> {
                self.delete_session_(token_hash).await
            }
            async fn hit_rate_limit(&self, key: &str, window: jiff::SignedDuration) -> Result<u32> {
                self.hit_rate_limit_(key, window).await
            }
            async fn undo_rate_limit_hit(
                &self,
                key: &str,
                window: jiff::SignedDuration,
            ) -> Result<()> {
                self.undo_rate_limit_hit_(key, window).await
            }
            async fn purge_rate_limits(&self, cutoff: Timestamp) -> Result<u64> {
                self.purge_rate_limits_(cutoff).await
            }
            async fn create_ticket(&self, t: &NewTicket) -> Result<Ticket> {
                self.create_ticket_(t).await
            }
            async fn get_ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
                let mut c = self.reader().acquire().await?;
                Self::load_ticket(&mut c, id.0).await
            }
            async fn get_ticket_by_number(&self, number: i64) -> Result<Option<Ticket>> {
                self.get_ticket_by_number_(number).await
            }
            async fn list_tickets(
                &self,
                f: &TicketFilter,
                cursor: Option<&str>,
                limit: u32,
            ) -> Result<Page<Ticket>> {
                self.list_tickets_(f, cursor, limit).await
            }
            async fn count_tickets(&self, f: &TicketFilter) -> Result<i64> {
                self.count_tickets_(f).await
            }
            async fn update_ticket(
                &self,
                id: TicketId,
                patch: &TicketPatch,
                actor: Actor,
            ) -> Result<Option<Ticket>> {
                self.update_ticket_(id, patch, actor).await
            }
            async fn solved_before(&self, cutoff: Timestamp, limit: u32) -> Result<Vec<TicketId>> {
                let rows = sqlx::query(
                    "SELECT id FROM tickets WHERE status = 'solved' AND solved_at <= $1 ORDER BY solved_at, id LIMIT $2",
                )
                .bind(us(cutoff))
                .bind(i64::from(limit.clamp(1, 1000)))
                .fetch_all(self.reader())
                .await?;
                rows.iter().map(|r| Ok(TicketId(r.try_get(0)?))).collect()
            }
            async fn add_message(
                &self,
                ticket: TicketId,
                m: &NewMessage,
            ) -> Result<Option<(Ticket, Message)>> {
                self.add_message_(ticket, m).await
            }
            async fn list_messages(
                &self,
                ticket: TicketId,
                include_internal: bool,
            ) -> Result<Vec<Message>> {
                self.list_messages_(ticket, include_internal).await
            }
            async fn list_events(&self, ticket: TicketId) -> Result<Vec<Event>> {
                self.list_events_(ticket).await
            }
            async fn get_attachment(
                &self,
                id: AttachmentId,
            ) -> Result<Option<(Attachment, Vec<u8>)>> {
                self.get_attachment_(id).await
            }
            async fn get_message(&self, id: MessageId) -> Result<Option<Message>> {
                let mut c = self.reader().acquire().await?;
                Self::load_message(&mut c, id.0).await
            }
            async fn create_mailbox(&self, m: &NewMailbox) -> Result<Mailbox> {
                self.create_mailbox_(m).await
            }
            async fn get_mailbox(&self, id: MailboxId) -> Result<Option<Mailbox>> {
                self.get_mailbox_(id).await
            }
            async fn find_mailbox_by_address(&self, address: &str) -> Result<Option<Mailbox>> {
                self.find_mailbox_by_address_(address).await
            }
            async fn list_mailboxes(&self) -> Result<Vec<Mailbox>> {
                self.list_mailboxes_().await
            }
            async fn update_mailbox(
                &self,
                id: MailboxId,
                patch: &MailboxPatch,
            ) -> Result<Option<Mailbox>> {
                self.update_mailbox_(id, patch).await
            }
            async fn store_inbound(&self, m: &NewInbound) -> Result<(InboundMail, bool)> {
                self.store_inbound_(m).await
            }
            async fn get_inbound(&self, id: InboundMailId) -> Result<Option<InboundMail>> {
                self.get_inbound_(id).await
            }
            async fn inbound_raw(&self, id: InboundMailId) -> Result<Option<Vec<u8>>> {
                self.inbound_raw_(id).await
            }
            async fn list_inbound(&self, q: &InboundQuery) -> Result<Page<InboundMail>> {
                self.list_inbound_(q).await
            }
            async fn set_inbound_state(
                &self,
                id: InboundMailId,
                state: InboundState,
                ticket: Option<TicketId>,
                message: Option<MessageId>,
                note: Option<&str>,
            ) -> Result<()> {
                self.set_inbound_state_(id, state, ticket, message, note).await
            }
            async fn unprocessed_inbound(
                &self,
                before: Timestamp,
                limit: u32,
            ) -> Result<Vec<InboundMailId>> {
                self.unprocessed_inbound_(before, limit).await
            }
            async fn count_inbound_from(&self, from: &str, since: Timestamp) -> Result<u64> {
                self.count_inbound_from_(from, since).await
            }
            async fn find_ticket_by_mail_ids(
                &self,
                ids: &[String],
            ) -> Result<Option<(TicketId, MessageId)>> {
                self.find_ticket_by_mail_ids_(ids).await
            }
            async fn record_mail_id(
                &self,
                message_id_header: &str,
                ticket: TicketId,
                message: Option<MessageId>,
            ) -> Result<()> {
                self.record_mail_id_(message_id_header, ticket, message).await
            }
            async fn set_delivery(
                &self,
                message: MessageId,
                status: DeliveryStatus,
                detail: Option<&str>,
            ) -> Result<()> {
                self.set_delivery_(message, status, detail).await
            }
            async fn enqueue_job(&self, j: &NewJob) -> Result<Option<JobId>> {
                self.enqueue_job_(j).await
            }
            async fn claim_jobs(
                &self,
                kinds: &[&str],
                lease: jiff::SignedDuration,
                limit: u32,
            ) -> Result<Vec<Job>> {
                self.claim_jobs_(kinds, lease, limit).await
            }
            async fn complete_job(&self, id: JobId) -> Result<()> {
                self.complete_job_(id).await
            }
            async fn retry_job(&self, id: JobId, run_at: Timestamp, error: &str) -> Result<()> {
                self.retry_job_(id, run_at, error).await
            }
            async fn fail_job(&self, id: JobId, error: &str) -> Result<()> {
                self.fail_job_(id, error).await
            }
            async fn create_calendar(&self, c: &NewCalendar) -> Result<CalendarRecord> {
                self.create_calendar_(c).await
            }
            async fn get_calendar(&self, id: CalendarId) -> Result<Option<CalendarRecord>> {
                self.get_calendar_(id).await
            }
            async fn list_calendars(&self) -> Result<Vec<CalendarRecord>> {
                self.list_calendars_().await
            }
            async fn update_calendar(
                &self,
                id: CalendarId,
                c: &NewCalendar,
            ) -> Result<Option<CalendarRecord>> {
                self.update_calendar_(id, c).await
            }
            async fn create_sla_policy(&self, p: &NewSlaPolicy) -> Result<SlaPolicyRecord> {
                self.create_sla_policy_(p).await
            }
            async fn get_sla_policy(&self, id: SlaPolicyId) -> Result<Option<SlaPolicyRecord>> {
                self.get_sla_policy_(id).await
            }
            async fn list_sla_policies(&self) -> Result<Vec<SlaPolicyRecord>> {
                self.list_sla_policies_().await
            }
            async fn update_sla_policy(
                &self,
                id: SlaPolicyId,
                p: &NewSlaPolicy,
            ) -> Result<Option<SlaPolicyRecord>> {
                self.update_sla_policy_(id, p).await
            }
            async fn ticket_sla(&self, ticket: TicketId) -> Result<Option<kefu_domain::sla::TicketSla>> {
                self.ticket_sla_(ticket).await
            }
            async fn tickets_sla(
                &self,
                tickets: &[TicketId],
            ) -> Result<std::collections::HashMap<TicketId, Vec<kefu_domain::sla::SlaClock>>> {
                self.tickets_sla_(tickets).await
            }
            async fn reapply_sla(
                &self,
                ticket: TicketId,
                actor: Actor,
            ) -> Result<Option<kefu_domain::sla::TicketSla>> {
                self.reapply_sla_(ticket, actor).await
            }
            async fn sla_tickets_behind(
                &self,
                policy: SlaPolicyId,
                version: i64,
                after: TicketId,
                limit: u32,
            ) -> Result<Vec<TicketId>> {
                self.sla_tickets_behind_(policy, version, after, limit).await
            }
            async fn count_sla_tickets_behind(&self, policy: SlaPolicyId, version: i64) -> Result<i64> {
                self.count_sla_tickets_behind_(policy, version).await
            }
            async fn claim_sla_timers(
                &self,
                lease: jiff::SignedDuration,
                limit: u32,
            ) -> Result<Vec<TicketId>> {
                self.claim_sla_timers_(lease, limit).await
            }
            async fn fire_sla_timers(&self, ticket: TicketId) -> Result<usize> {
                self.fire_sla_timers_(ticket).await
            }
            async fn recompute_sla(&self, calendar: Option<CalendarId>) -> Result<SlaRecompute> {
                self.recompute_sla_(calendar).await
            }
            async fn upcoming_breaches(
                &self,
                before: Timestamp,
                filter: &UpcomingFilter,
                limit: u32,
            ) -> Result<Vec<UpcomingBreach>> {
                self.upcoming_breaches_(before, filter, limit).await
            }
            async fn create_notifications(&self, n: &[NewNotification]) -> Result<u64> {
                self.create_notifications_(n).await
            }
            async fn list_notifications(
                &self,
                agent: AgentId,
                unread_only: bool,
                cursor: Option<&str>,
                limit: u32,
            ) -> Result<Page<Notification>> {
                self.list_notifications_(agent, unread_only, cursor, limit).await
            }
            async fn count_unread_notifications(&self, agent: AgentId) -> Result<i64> {
                self.count_unread_notifications_(agent).await
            }
            async fn mark_notifications_read(
                &self,
                agent: AgentId,
                ids: Option<&[NotificationId]>,
            ) -> Result<u64> {
                self.mark_notifications_read_(agent, ids).await
            }
        }
    };
}

impl_store!(
    SqliteStore, Sqlite,
    engine: "sqlite",
    // Safe without a sequence: BEGIN IMMEDIATE serialises every writer.
    next_ticket_number: "(SELECT COALESCE(MAX(number), 0) + 1 FROM tickets)",
    // SQLite locks the whole database for the transaction already.
    lock_row: "",
    // The single writer serialises claims.
    skip_locked: "",
    // SLA recompute in bulk: one JSON row per window of clocks, one JSON parameter per
    // write (see `sla::clocks_from_json`, `sla::schedules_to_json`).
    sla_clock_window: concat!(
        "SELECT json_group_array(json_array(", clock_json_items!(), ")) FROM sla_clocks \
         WHERE ticket_id > $1 AND ticket_id <= $2 AND since IS NOT NULL AND ($3 IS NULL OR calendar_id = $3)"
    ),
    sla_write_schedules: "UPDATE sla_clocks SET due_at = v.value ->> 2, next_fire_at = v.value ->> 3 \
        FROM json_each($1) AS v WHERE sla_clocks.ticket_id = v.value ->> 0 AND sla_clocks.metric = v.value ->> 1 \
        AND sla_clocks.since = v.value ->> 4 AND sla_clocks.elapsed_us = v.value ->> 5",
    // One writer: one stripe (its reads still overlap its writes).
    sla_recompute_stripes: 1,
);

impl_store!(
    PgStore, Postgres,
    engine: "postgres",
    next_ticket_number: "nextval('ticket_number_seq')",
    lock_row: " FOR UPDATE",
    skip_locked: " FOR UPDATE SKIP LOCKED",
    sla_clock_window: concat!(
        "SELECT COALESCE(json_agg(json_build_array(", clock_json_items!(), ")), '[]')::text FROM sla_clocks \
         WHERE ticket_id > $1 AND ticket_id <= $2 AND since IS NOT NULL AND ($3::bigint IS NULL OR calendar_id = $3)"
    ),
    sla_write_schedules: "UPDATE sla_clocks SET due_at = (v.e ->> 2)::bigint, next_fire_at = (v.e ->> 3)::bigint \
        FROM jsonb_array_elements($1::jsonb) AS v(e) WHERE sla_clocks.ticket_id = (v.e ->> 0)::bigint \
        AND sla_clocks.metric = v.e ->> 1 AND sla_clocks.since = (v.e ->> 4)::bigint \
        AND sla_clocks.elapsed_us = (v.e ->> 5)::bigint",
    // Concurrent writers on disjoint rows (measured on 2 cores: see `kefu bench sla`). The
    // write's parameter is parsed once as jsonb (`json` would be parsed again by each `->>`).
    sla_recompute_stripes: 3,
);
