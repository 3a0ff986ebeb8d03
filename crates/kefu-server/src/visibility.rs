//! Which tickets a customer may see, for the API and the portal alike: their own
//! requests, plus their organization's when the organization shares tickets (the rule is
//! `kefu_domain::authz::customer_can_see`; this module looks up the sharing flag).

use crate::AppState;
use kefu_domain::{CustomerId, OrganizationId, Ticket, authz::customer_can_see};
use kefu_store::StoreError;

/// Whether customer `id` of organization `org` may see `ticket`.
pub async fn customer_may_see(
    state: &AppState,
    id: CustomerId,
    org: Option<OrganizationId>,
    ticket: &Ticket,
) -> Result<bool, StoreError> {
    if ticket.requester_id == id {
        return Ok(true);
    }
    let shares = match org {
        Some(o) if ticket.organization_id == Some(o) => state
            .store
            .get_organization(o)
            .await?
            .is_some_and(|o| o.shares_tickets),
        _ => false,
    };
    Ok(customer_can_see(id, org, shares, ticket))
}

/// The list filter (`TicketFilter::visible_to`) for customer `id` of organization `org`:
/// the organization is kept only when it shares tickets.
pub async fn customer_filter(
    state: &AppState,
    id: CustomerId,
    org: Option<OrganizationId>,
) -> Result<(CustomerId, Option<OrganizationId>), StoreError> {
    let shared = match org {
        Some(o) => state
            .store
            .get_organization(o)
            .await?
            .filter(|o| o.shares_tickets)
            .map(|o| o.id),
        None => None,
    };
    Ok((id, shared))
}
