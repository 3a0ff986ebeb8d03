//! kefu storage: one contract ([`Store`]), two engines (SQLite, PostgreSQL).
//!
//! Owns: schema and migrations per engine, SQL, transactions, idempotency records,
//! content-addressed attachment blobs, sessions and token lookups.
//!
//! Never does: business rules. Every ticket change calls a pure function from
//! `kefu_domain::ticket` inside the store's transaction and writes what it returns
//! (the new row and its event-log entries) atomically.

mod clock;
mod model;
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
    /// (see [`IdempotencyKey`] for reuse with a different request).
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
    /// Adds a message (and its status effect through `kefu_domain::on_message`).
    /// Ids of solved tickets whose `solved_at` is at or before `cutoff`, oldest first (for the
    /// auto-close rule; callers close each through `update_ticket` as `Actor::Rule`).
    async fn solved_before(&self, cutoff: Timestamp, limit: u32) -> Result<Vec<TicketId>>;
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
}
