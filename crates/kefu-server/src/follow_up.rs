//! Follow-ups: `closed` is final, so a customer's message on a closed ticket opens a new
//! ticket linked to it (`follow_up_of`) whose first message is that message. Agents'
//! replies and notes on a closed ticket stay `ticket_closed`.
//!
//! The API (`POST /api/v1/tickets/{id}/messages`) and the portal's reply form both build
//! the follow-up here and create it with `Store::create_ticket`, under the caller's
//! idempotency key as a *ticket* key, so a retried message opens one follow-up.

use kefu_domain::{Actor, Channel, CustomerId, DomainError, Ticket, follow_up_draft};
use kefu_store::{NewMessage, NewTicket, RequesterRef};

/// The ticket that `author`'s message `m` on the `closed` ticket opens. The follow-up
/// keeps the closed ticket's requester; the message is authored by `author` (the
/// requester, or an organization colleague who can see the ticket). `m.idempotency` is
/// ignored: the caller derives a ticket key from the returned value.
pub(crate) fn new_follow_up(
    closed: &Ticket,
    author: CustomerId,
    channel: Channel,
    m: NewMessage,
) -> Result<NewTicket, DomainError> {
    Ok(NewTicket {
        draft: follow_up_draft(closed, channel)?,
        requester: RequesterRef::Existing(closed.requester_id),
        actor: Actor::Customer(author),
        first_message_by_actor: true,
        body_text: m.body_text,
        body_html: m.body_html,
        attachments: m.attachments,
        idempotency: None,
        follow_up_of: Some(closed.id),
        mail: m.mail,
    })
}
