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
    /// Found by email, else created with this name and language (English if `None`).
    ByEmail {
        email: Email,
        name: Option<String>,
        language: Option<Lang>,
    },
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
    /// Set when the first message is an email (received or sent).
    pub mail: Option<MessageMail>,
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
    /// Only tickets at risk of breaching, or breached.
    pub sla: Option<SlaFilter>,
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
    /// Set when the message is an email (received or to be sent).
    pub mail: Option<MessageMail>,
}

/// The email side of a message, written in the same transaction as the message.
///
/// Inbound: `inbound_id` names the stored raw mail; the transaction links it to the
/// message and sets its state (`ticketed` for `create_ticket`, `threaded` for
/// `add_message` and for a `create_ticket` that opens a follow-up). A mail that already
/// became a message (state `ticketed`/`threaded`) cannot become another one:
/// `Conflict("inbound mail")`, and nothing is written. Outbound: `delivery = Some(Queued)`
/// also enqueues one [`SEND_MAIL_JOB`] job (payload `{"message_id": …}`, idempotency key
/// `send_mail:{message id}`).
/// Either way `message_id` (required; stored without angle brackets) is recorded for
/// threading ([`Store::find_ticket_by_mail_ids`]). Unknown `inbound_id`/`mailbox_id` are
/// `InvalidReference("inbound mail")`/`InvalidReference("mailbox")`.
///
/// [`Store::find_ticket_by_mail_ids`]: crate::Store::find_ticket_by_mail_ids
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageMail {
    /// The `Message-ID` header, without angle brackets.
    pub message_id: String,
    pub inbound_id: Option<InboundMailId>,
    pub mailbox_id: Option<MailboxId>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Problems met while parsing, shown on the message.
    pub parse_warning: Option<String>,
    pub delivery: Option<DeliveryStatus>,
    /// Automatic mail (out-of-office, list): added without any status effect
    /// (`kefu_domain::mail::on_automatic_mail` instead of `on_message`).
    pub automatic: bool,
}

/// The email side of a stored message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageEmail {
    pub message_id: String,
    pub inbound_id: Option<InboundMailId>,
    pub mailbox_id: Option<MailboxId>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub parse_warning: Option<String>,
    pub delivery: Option<DeliveryStatus>,
    /// Why a send failed or bounced (SMTP reply or DSN diagnostic).
    pub delivery_detail: Option<String>,
    pub automatic: bool,
}

/// A received email as stored, before and after processing.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMail {
    pub id: InboundMailId,
    pub mailbox_id: Option<MailboxId>,
    /// `Message-ID` if the mail had one, else the hex SHA-256 of the raw bytes.
    pub dedupe_key: String,
    pub message_id: Option<String>,
    pub envelope_from: Option<String>,
    pub envelope_to: Vec<String>,
    /// `smtp`, `lmtp`, `imap`.
    pub source: String,
    pub size: i64,
    pub raw_sha256: String,
    pub state: InboundState,
    pub ticket_id: Option<TicketId>,
    pub message_row_id: Option<MessageId>,
    /// Why it was dropped or what went wrong, for admins.
    pub note: Option<String>,
    pub subject: String,
    pub from: Option<String>,
    pub received_at: Timestamp,
}

/// A raw email to store (first thing on arrival).
#[derive(Debug, Clone, PartialEq)]
pub struct NewInbound {
    pub mailbox_id: Option<MailboxId>,
    pub dedupe_key: String,
    pub message_id: Option<String>,
    pub envelope_from: Option<String>,
    pub envelope_to: Vec<String>,
    pub source: String,
    /// Decoded subject and From, for the mail log (may be empty if unparseable).
    pub subject: String,
    pub from: Option<String>,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboundQuery {
    pub state: Option<InboundState>,
    pub mailbox_id: Option<MailboxId>,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// The kind of the job that sends an outgoing email message. Its payload is
/// `{"message_id": <message id>}` and its idempotency key `send_mail:<message id>`; the
/// store enqueues it with a message whose [`MessageMail::delivery`] is `Some(Queued)`.
pub const SEND_MAIL_JOB: &str = "send_mail";

/// A job to run later (outgoing mail, acknowledgements, …).
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Timestamp,
    /// A second job with the same key is not created.
    pub idempotency_key: Option<String>,
}

/// A claimed job. `attempts` counts this attempt too.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: u32,
    pub last_error: Option<String>,
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
    /// Set for messages that came or went by email.
    pub email: Option<MessageEmail>,
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

/// A business calendar as stored. The store keeps `definition` as given (the normalised
/// JSON the server accepted after validating it with `kefu_domain::calendar`); it never
/// interprets it beyond checking that it is JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarRecord {
    pub id: CalendarId,
    pub name: String,
    /// IANA time zone name the weekly hours are read in.
    pub time_zone: String,
    /// Weekly hours, holidays and make-up days as JSON.
    pub definition: String,
    /// 1 when created, +1 with every update.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A calendar to create, or the full replacement of one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCalendar {
    pub name: String,
    pub time_zone: String,
    pub definition: String,
}

/// An SLA policy at its current version.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicyRecord {
    pub id: SlaPolicyId,
    pub name: String,
    /// Policies are tried in ascending position (then id); the first match applies.
    pub position: i64,
    pub active: bool,
    /// 1 when created, +1 whenever the definition changes.
    pub version: i64,
    pub def: kefu_domain::sla::SlaPolicyDef,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A policy to create, or the full replacement of one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSlaPolicy {
    pub name: String,
    /// None: after the last policy (on create) or unchanged (on update).
    pub position: Option<i64>,
    pub active: bool,
    pub def: kefu_domain::sla::SlaPolicyDef,
}

/// Tickets with an SLA state worth a look, for ticket lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaFilter {
    /// A running clock (not `tier_time`) is due at or before this instant.
    DueBefore(Timestamp),
    /// A clock breached and is not yet fulfilled.
    Breached,
}

/// What a recomputation of SLA clocks did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlaRecompute {
    /// Running clocks it considered (those counted in the calendar).
    pub running: u64,
    /// Clocks whose due time or timer changed and were written.
    pub updated: u64,
}

/// Which tickets' upcoming breaches to list: `None` is any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpcomingFilter {
    pub team: Option<TeamId>,
    pub tier: Option<Tier>,
}

/// A running clock and its ticket, for the supervisor's list of upcoming breaches.
#[derive(Debug, Clone, PartialEq)]
pub struct UpcomingBreach {
    pub ticket: Ticket,
    pub clock: kefu_domain::sla::SlaClock,
}

/// The kind of notification an SLA warning, breach or escalation sends.
pub const SLA_NOTIFICATION: &str = "sla";

/// An in-app notification of one agent (an SLA warning or breach, an escalation, …), as
/// listed in the agent's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: NotificationId,
    /// The recipient; only they list, count and mark it.
    pub agent_id: AgentId,
    pub ticket_id: Option<TicketId>,
    /// The ticket's number, read with the notification (for links and labels).
    pub ticket_number: Option<i64>,
    /// What happened, for clients to pick an icon or filter (e.g. `sla_warning`,
    /// `sla_breach`); free text to the store.
    pub kind: String,
    pub title: String,
    /// Plain text; may be empty.
    pub body: String,
    pub created_at: Timestamp,
    /// When the agent marked it read; `None` while unread.
    pub read_at: Option<Timestamp>,
}

/// A notification to create, for one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub agent_id: AgentId,
    pub ticket_id: Option<TicketId>,
    /// Required (not blank).
    pub kind: String,
    /// Required (not blank).
    pub title: String,
    pub body: String,
    /// A notification whose key was ever inserted before is skipped (e.g.
    /// `sla:breach:<ticket>:<target>:<agent>`), so repeating a scan notifies once.
    pub dedupe_key: Option<String>,
}
