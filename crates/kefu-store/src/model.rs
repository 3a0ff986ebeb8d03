//! Records the store reads and writes that are not domain aggregates themselves:
//! queries, pages, drafts with their storage-only parts, sessions.

use kefu_domain::*;

/// One page of a keyset-paginated list. `next_cursor` is opaque to callers.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerQuery {
    /// Substring of name or any identity value (case-insensitive for ASCII).
    pub q: Option<String>,
    pub organization_id: Option<OrganizationId>,
    pub cursor: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub organization_id: Option<Option<OrganizationId>>,
    pub segment: Option<Segment>,
    pub language: Option<Lang>,
    pub time_zone: Option<String>,
    /// Identities to add (duplicates of existing ones are ignored).
    pub add_identities: Vec<(IdentityKind, String)>,
}

/// Who is behind a web session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOwner {
    Agent(AgentId),
    Customer(CustomerId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token_hash: String,
    pub owner: SessionOwner,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The requester of a new ticket: known by id, or found/created by email.
#[derive(Debug, Clone, PartialEq)]
pub enum RequesterRef {
    Existing(CustomerId),
    ByEmail { email: Email, name: Option<String> },
}

/// A scope (who asked, e.g. `agent:3`) plus the client's `Idempotency-Key`, and a
/// fingerprint of the request it was sent with.
///
/// A create that finds its key already used returns what the earlier request created if
/// that request had the same resource kind and fingerprint, and otherwise fails with
/// `DomainError::Invalid { field: "Idempotency-Key", .. }`. The key is taken only when
/// the create commits, so a request that failed can be corrected and retried with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    /// Opaque to the store, compared for equality only: callers pick what makes two
    /// requests "the same" (e.g. a hex SHA-256 of the normalised request).
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub draft: TicketDraft,
    pub requester: RequesterRef,
    /// Who created it (event actor). The first message is authored by the requester
    /// unless `first_message_by_actor` is set (an agent logging a phone call, say).
    pub actor: Actor,
    pub first_message_by_actor: bool,
    pub body_text: String,
    /// Sanitised HTML, if the input had HTML.
    pub body_html: Option<String>,
    pub attachments: Vec<NewAttachment>,
    pub idempotency: Option<IdempotencyKey>,
    pub follow_up_of: Option<TicketId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Agent(AgentId),
    Unassigned,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketFilter {
    /// Empty means any status.
    pub statuses: Vec<Status>,
    pub assignee: Option<AssigneeFilter>,
    pub team_id: Option<TeamId>,
    pub requester_id: Option<CustomerId>,
    pub organization_id: Option<OrganizationId>,
    /// Portal visibility: tickets requested by this customer, or (if `Some`) belonging to
    /// this organization. Applied on top of the other filters.
    pub visible_to: Option<(CustomerId, Option<OrganizationId>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub author: Actor,
    pub public: bool,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attachments: Vec<NewAttachment>,
    /// Status the agent submits the reply "as" (e.g. pending).
    pub status_after: Option<Status>,
    pub idempotency: Option<IdempotencyKey>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub message_id: MessageId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content; blobs are stored once per distinct content.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub ticket_id: TicketId,
    pub author: Actor,
    pub public: bool,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
}

/// One row of a ticket's append-only event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub ticket_id: TicketId,
    pub at: Timestamp,
    pub actor: Actor,
    pub change: Change,
}

/// Largest attachment the store accepts, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;
