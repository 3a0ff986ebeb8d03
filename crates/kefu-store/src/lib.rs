//! kefu storage: one contract ([`Store`]), two engines (SQLite, PostgreSQL).
//!
//! Owns: schema and migrations per engine, SQL, transactions, idempotency records,
//! content-addressed blobs (attachments and raw inbound mail), sessions and token lookups,
//! the email channel's records (mailboxes, inbound mail, Message-IDs for threading),
//! business calendars (as validated JSON) and the durable job queue shared by every node.
//! Also agents' in-app notifications (`sql/notifications.rs`).
//!
//! Never does: business rules. Every ticket change calls a pure function from
//! `kefu_domain::ticket` inside the store's transaction and writes what it returns
//! (the new row and its event-log entries) atomically.

mod clock;
mod model;
pub mod sla_json;
mod sql;
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use model::*;
pub use sql::{PgStore, SqliteStore};

use async_trait::async_trait;
use kefu_domain::*;
use std::sync::Arc;

/// Storage failures. `Domain` carries rule violations found inside a transaction;
/// `Database` is an internal fault and is never shown to users in detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A referenced row (assignee, team, organization, …) does not exist.
    #[error("{0} does not exist")]
    InvalidReference(&'static str),
    /// A unique value is already taken (e.g. an agent email).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens the store named by `url`: `sqlite://path` (created if missing) or `postgres://…`.
/// Runs migrations. Rows are stamped with the wall clock ([`SystemClock`]).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    connect_with_clock(url, Arc::new(SystemClock)).await
}

/// [`connect`], stamping rows with `clock` instead of the wall clock.
pub async fn connect_with_clock(url: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(PgStore::connect_with_clock(url, clock).await?)
        } else {
            Arc::new(SqliteStore::connect_with_clock(url, clock).await?)
        };
    store.migrate().await?;
    Ok(store)
}

/// The storage contract. Both engines pass the same contract tests (`tests/contract/`).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn engine(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    /// True if the workspace has no agents yet (used by `serve --demo`).
    async fn is_empty(&self) -> Result<bool>;

    // settings
    async fn get_setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` unless the key exists; returns the stored value (first writer wins,
    /// also across nodes).
    async fn init_setting(&self, key: &str, value: &str) -> Result<String>;

    // organizations
    async fn create_organization(&self, org: &NewOrganization) -> Result<Organization>;
    async fn get_organization(&self, id: OrganizationId) -> Result<Option<Organization>>;
    async fn list_organizations(&self) -> Result<Vec<Organization>>;
    async fn update_organization(
        &self,
        id: OrganizationId,
        org: &NewOrganization,
    ) -> Result<Option<Organization>>;

    // customers
    /// Creates a customer with its identities. With an idempotency key (resource kind
    /// `customer`), a repeated call returns the first customer, also when the calls race.
    async fn create_customer(
        &self,
        c: &NewCustomer,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Customer>;
    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>>;
    async fn customers_by_ids(&self, ids: &[CustomerId]) -> Result<Vec<Customer>>;
    async fn find_customer_by_email(&self, email: &Email) -> Result<Option<Customer>>;
    /// Customers ordered by id, optionally filtered by a name/identity substring.
    async fn list_customers(&self, q: &CustomerQuery) -> Result<Page<Customer>>;
    async fn update_customer(
        &self,
        id: CustomerId,
        patch: &CustomerPatch,
    ) -> Result<Option<Customer>>;
    async fn set_customer_password(&self, id: CustomerId, password_hash: &str) -> Result<()>;
    /// The customer with this email and their portal password hash, if they have one.
    async fn find_customer_login(
        &self,
        email: &Email,
    ) -> Result<Option<(Customer, Option<String>)>>;

    // teams and agents
    async fn create_team(&self, name: &str, description: &str) -> Result<Team>;
    async fn get_team(&self, id: TeamId) -> Result<Option<Team>>;
    async fn find_team_by_name(&self, name: &str) -> Result<Option<Team>>;
    async fn list_teams(&self) -> Result<Vec<Team>>;
    async fn update_team(&self, id: TeamId, name: &str, description: &str) -> Result<Option<Team>>;
    async fn create_agent(&self, a: &NewAgent) -> Result<Agent>;
    async fn get_agent(&self, id: AgentId) -> Result<Option<Agent>>;
    async fn list_agents(&self) -> Result<Vec<Agent>>;
    async fn update_agent(&self, id: AgentId, patch: &AgentPatch) -> Result<Option<Agent>>;
    /// The agent with this email and their password hash.
    async fn find_agent_login(&self, email: &Email) -> Result<Option<(Agent, String)>>;

    // API tokens and sessions (only keyed hashes are stored, never the secrets)
    async fn create_api_token(&self, agent: AgentId, name: &str, token_hash: &str) -> Result<i64>;
    async fn find_agent_by_token(&self, token_hash: &str) -> Result<Option<Agent>>;
    async fn create_session(&self, s: &Session) -> Result<()>;
    async fn find_session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    // rate limits (fixed windows aligned to the epoch, shared by every node)
    /// Counts one hit on `key` in the current window of length `window` (by the store's
    /// clock) and returns the window's count including this hit. Atomic across nodes.
    async fn hit_rate_limit(&self, key: &str, window: jiff::SignedDuration) -> Result<u32>;
    /// Takes back one hit on `key` in the current window (never below zero); nothing if
    /// the window has no hits, e.g. because it rolled over since the hit.
    async fn undo_rate_limit_hit(&self, key: &str, window: jiff::SignedDuration) -> Result<()>;
    /// Deletes the counters of windows that started before `cutoff`; returns how many.
    async fn purge_rate_limits(&self, cutoff: Timestamp) -> Result<u64>;

    // tickets
    /// Creates a ticket with its first message, finding or creating the requester, in one
    /// transaction. With an idempotency key, a repeated call returns the first ticket
    /// (see [`IdempotencyKey`] for reuse with a different request). With `mail`, the first
    /// message's email side is written in the same transaction (see [`MessageMail`]).
    async fn create_ticket(&self, t: &NewTicket) -> Result<Ticket>;
    async fn get_ticket(&self, id: TicketId) -> Result<Option<Ticket>>;
    async fn get_ticket_by_number(&self, number: i64) -> Result<Option<Ticket>>;
    /// Tickets ordered by `updated_at` descending (then id), keyset-paginated.
    async fn list_tickets(
        &self,
        f: &TicketFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Ticket>>;
    async fn count_tickets(&self, f: &TicketFilter) -> Result<i64>;
    /// Applies a patch through `kefu_domain::apply_patch` and records its events.
    async fn update_ticket(
        &self,
        id: TicketId,
        patch: &TicketPatch,
        actor: Actor,
    ) -> Result<Option<Ticket>>;
    /// Ids of solved tickets whose `solved_at` is at or before `cutoff`, oldest first (for the
    /// auto-close rule; callers close each through `update_ticket` as `Actor::Rule`).
    async fn solved_before(&self, cutoff: Timestamp, limit: u32) -> Result<Vec<TicketId>>;
    /// Adds a message (and its status effect through `kefu_domain::on_message`, or none
    /// through `kefu_domain::mail::on_automatic_mail` for automatic mail). With `mail`, the
    /// email side is written in the same transaction (see [`MessageMail`]).
    async fn add_message(
        &self,
        ticket: TicketId,
        m: &NewMessage,
    ) -> Result<Option<(Ticket, Message)>>;
    async fn list_messages(&self, ticket: TicketId, include_internal: bool)
    -> Result<Vec<Message>>;
    async fn list_events(&self, ticket: TicketId) -> Result<Vec<Event>>;
    /// One message by id (any ticket; callers check visibility).
    async fn get_message(&self, id: MessageId) -> Result<Option<Message>>;
    /// Attachment metadata and bytes.
    async fn get_attachment(&self, id: AttachmentId) -> Result<Option<(Attachment, Vec<u8>)>>;

    // mailboxes
    /// Conflict("mailbox") if the address is taken; InvalidReference("team") for an unknown team.
    /// The name and IMAP URL are checked by `kefu_domain::mail::validate_mailbox`.
    async fn create_mailbox(&self, m: &NewMailbox) -> Result<Mailbox>;
    async fn get_mailbox(&self, id: MailboxId) -> Result<Option<Mailbox>>;
    /// By address, case-insensitive, ignoring any `+tag` in the local part (an exact match
    /// of a mailbox whose own address has a `+tag` wins).
    async fn find_mailbox_by_address(&self, address: &str) -> Result<Option<Mailbox>>;
    /// Ordered by address.
    async fn list_mailboxes(&self) -> Result<Vec<Mailbox>>;
    /// InvalidReference("team") for an unknown team; `None` for an unknown mailbox.
    async fn update_mailbox(&self, id: MailboxId, patch: &MailboxPatch) -> Result<Option<Mailbox>>;

    // inbound mail: stored raw before anything else
    /// Stores the raw mail unless one with the same `dedupe_key` exists. Returns the stored
    /// row and `true` if it is new; `false` and the earlier row for a duplicate. Atomic across
    /// concurrent deliveries of the same mail (exactly one caller gets `true`). The raw bytes
    /// go to the content-addressed blobs (stored once per distinct content); the row starts
    /// in state `received`, stamped `received_at` = now. InvalidReference("mailbox") for an
    /// unknown mailbox.
    async fn store_inbound(&self, m: &NewInbound) -> Result<(InboundMail, bool)>;
    async fn get_inbound(&self, id: InboundMailId) -> Result<Option<InboundMail>>;
    /// The raw bytes of a stored inbound mail.
    async fn inbound_raw(&self, id: InboundMailId) -> Result<Option<Vec<u8>>>;
    /// Newest first (`received_at`, then id), keyset-paginated; `limit` is clamped to 1..=200.
    async fn list_inbound(&self, q: &InboundQuery) -> Result<Page<InboundMail>>;
    /// Sets the outcome of a mail that opened/joined no ticket (bounce, loop, rate_limited,
    /// automatic), optionally linking a ticket/message (a bounce links the message that bounced).
    /// Overwrites state, links and note with what is given.
    ///
    /// A mail that already became a message (state `ticketed` or `threaded`) keeps that
    /// outcome: `Conflict("inbound mail")`. InvalidReference("inbound mail") for an unknown
    /// id, InvalidReference("ticket or message") for unknown links.
    async fn set_inbound_state(
        &self,
        id: InboundMailId,
        state: InboundState,
        ticket: Option<TicketId>,
        message: Option<MessageId>,
        note: Option<&str>,
    ) -> Result<()>;
    /// How many stored mails from `from` (the `from` given to [`Store::store_inbound`],
    /// compared case-insensitively) arrived at or after `since`, in any state.
    async fn count_inbound_from(&self, from: &str, since: Timestamp) -> Result<u64>;
    /// Ids of mails still in state `received` that arrived at or before `before`, oldest first (crash recovery).
    async fn unprocessed_inbound(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboundMailId>>;

    // threading
    /// The ticket and message of the most recently recorded of these Message-IDs, if any.
    /// Ids are compared without surrounding angle brackets and whitespace, otherwise exactly.
    /// For an id recorded without a message (an acknowledgement), the message is the
    /// ticket's first message (which is no outgoing mail: check its `email.delivery` before
    /// marking it bounced).
    async fn find_ticket_by_mail_ids(
        &self,
        ids: &[String],
    ) -> Result<Option<(TicketId, MessageId)>>;
    /// Records a Message-ID for a message (e.g. the id we generated for an acknowledgement); ignores duplicates.
    /// InvalidReference("ticket or message") for unknown ones.
    async fn record_mail_id(
        &self,
        message_id_header: &str,
        ticket: TicketId,
        message: Option<MessageId>,
    ) -> Result<()>;
    /// Sets an outgoing message's delivery status and detail. InvalidReference("message")
    /// for an unknown message.
    async fn set_delivery(
        &self,
        message: MessageId,
        status: DeliveryStatus,
        detail: Option<&str>,
    ) -> Result<()>;

    // jobs (shared by every node)
    /// Enqueues a job; returns None if a job with the same idempotency key exists (ever).
    async fn enqueue_job(&self, j: &NewJob) -> Result<Option<JobId>>;
    /// Claims up to `limit` due jobs (run_at <= now by the store clock, not locked or lease
    /// expired, not failed) of the given kinds: sets locked_until = now + lease, attempts += 1.
    /// Two nodes never claim the same job at the same time (PG: FOR UPDATE SKIP LOCKED).
    /// Oldest `run_at` first; `limit` is clamped to 1..=1000; a lease must be positive.
    async fn claim_jobs(
        &self,
        kinds: &[&str],
        lease: jiff::SignedDuration,
        limit: u32,
    ) -> Result<Vec<Job>>;
    /// Done: removes the job (its idempotency key stays taken). Nothing if it is gone.
    async fn complete_job(&self, id: JobId) -> Result<()>;
    /// Failed this attempt: run again at `run_at`, unlocked, recording `error` (shown as
    /// `last_error` when it is claimed again). Nothing if the job is gone.
    async fn retry_job(&self, id: JobId, run_at: Timestamp, error: &str) -> Result<()>;
    /// Failed for good: never claimed again, `error` kept (the row stays, with `failed_at`).
    /// Nothing if the job is gone.
    async fn fail_job(&self, id: JobId, error: &str) -> Result<()>;

    // business calendars (the server validates the definition with kefu_domain::calendar)
    /// Stores a calendar at version 1. `Domain(Invalid)` for a blank name or time zone, or a
    /// definition that is not JSON; the definition is otherwise kept as given.
    async fn create_calendar(&self, c: &NewCalendar) -> Result<CalendarRecord>;
    async fn get_calendar(&self, id: CalendarId) -> Result<Option<CalendarRecord>>;
    /// Ordered by id (oldest first).
    async fn list_calendars(&self) -> Result<Vec<CalendarRecord>>;
    /// Replaces name, time zone and definition and adds one to `version`; `None` for an
    /// unknown calendar. Checks as [`Store::create_calendar`].
    async fn update_calendar(
        &self,
        id: CalendarId,
        c: &NewCalendar,
    ) -> Result<Option<CalendarRecord>>;

    // SLA policies and clocks (the clocks change inside every ticket transaction, through
    // kefu_domain::sla::evaluate; these methods are for admins, views and timers)
    /// Stores a policy at version 1; it is validated by `SlaPolicyDef::validate`.
    /// InvalidReference("calendar") / ("team") / ("organization") for unknown references.
    async fn create_sla_policy(&self, p: &NewSlaPolicy) -> Result<SlaPolicyRecord>;
    async fn get_sla_policy(&self, id: SlaPolicyId) -> Result<Option<SlaPolicyRecord>>;
    /// In the order they are tried: position, then id.
    async fn list_sla_policies(&self) -> Result<Vec<SlaPolicyRecord>>;
    /// Replaces name, position, active flag and definition; a changed definition becomes
    /// a new version (tickets keep theirs until re-applied). None for an unknown policy.
    async fn update_sla_policy(
        &self,
        id: SlaPolicyId,
        p: &NewSlaPolicy,
    ) -> Result<Option<SlaPolicyRecord>>;
    /// A ticket's SLA state (None: it has none yet).
    async fn ticket_sla(&self, ticket: TicketId) -> Result<Option<kefu_domain::sla::TicketSla>>;
    /// The clocks of several tickets at once (for lists), by ticket.
    async fn tickets_sla(
        &self,
        tickets: &[TicketId],
    ) -> Result<std::collections::HashMap<TicketId, Vec<kefu_domain::sla::SlaClock>>>;
    /// Re-applies the matching policy's current version to a ticket (recorded as `actor`).
    /// None for an unknown ticket.
    async fn reapply_sla(
        &self,
        ticket: TicketId,
        actor: Actor,
    ) -> Result<Option<kefu_domain::sla::TicketSla>>;
    /// Open tickets (not solved or closed) that run under a version of `policy` older
    /// than `version`, with ids after `after`, ascending, at most `limit`: what a bulk
    /// re-apply of that version goes through.
    async fn sla_tickets_behind(
        &self,
        policy: SlaPolicyId,
        version: i64,
        after: TicketId,
        limit: u32,
    ) -> Result<Vec<TicketId>>;
    /// How many open tickets run under a version of `policy` older than `version`.
    async fn count_sla_tickets_behind(&self, policy: SlaPolicyId, version: i64) -> Result<i64>;
    /// Claims up to `limit` tickets with a timer due by now (a warning or a breach), for
    /// `lease`: another node does not claim them meanwhile.
    async fn claim_sla_timers(
        &self,
        lease: jiff::SignedDuration,
        limit: u32,
    ) -> Result<Vec<TicketId>>;
    /// Evaluates a ticket's clocks now (warnings, breaches, escalations, notifications) and
    /// releases its timers. Idempotent: firing twice records nothing new. Returns how many
    /// SLA events it recorded.
    async fn fire_sla_timers(&self, ticket: TicketId) -> Result<usize>;
    /// Recomputes due times and timers of running clocks counted in `calendar` (every
    /// running clock with `None`), after a calendar changed. Returns how many running
    /// clocks it considered and how many it changed.
    async fn recompute_sla(&self, calendar: Option<CalendarId>) -> Result<SlaRecompute>;
    /// Running clocks (not `tier_time`) due before `before` of tickets matching `filter`,
    /// soonest first, with their tickets.
    async fn upcoming_breaches(
        &self,
        before: Timestamp,
        filter: &UpcomingFilter,
        limit: u32,
    ) -> Result<Vec<UpcomingBreach>>;

    // notifications (in-app, one row per agent; written by the SLA engine and others)
    /// Inserts the notifications in one transaction, stamped `created_at` = now, unread.
    /// One whose `dedupe_key` is already stored (also by an earlier one of the same slice)
    /// is skipped; returns how many were inserted. `Domain(Invalid)` for a blank kind or
    /// title, InvalidReference("agent") / InvalidReference("ticket") for unknown
    /// references (nothing is inserted then). Store code that has a transaction open (the
    /// SLA engine's ticket transaction) calls `Self::insert_notifications(&mut tx, …)`
    /// instead (`sql/notifications.rs`).
    async fn create_notifications(&self, n: &[NewNotification]) -> Result<u64>;
    /// The agent's notifications (only unread ones if `unread_only`), newest first (by id,
    /// which is insertion order), keyset-paginated; `limit` is clamped to 1..=200.
    async fn list_notifications(
        &self,
        agent: AgentId,
        unread_only: bool,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Notification>>;
    /// How many of the agent's notifications are unread (one indexed count).
    async fn count_unread_notifications(&self, agent: AgentId) -> Result<i64>;
    /// Marks the agent's unread notifications read (`read_at` = now): those with the given
    /// ids, or all of them for `None`. Ids of other agents' notifications, unknown ids
    /// and notifications already read are left alone (a read one keeps its `read_at`);
    /// returns how many were marked.
    async fn mark_notifications_read(
        &self,
        agent: AgentId,
        ids: Option<&[NotificationId]>,
    ) -> Result<u64>;
}
