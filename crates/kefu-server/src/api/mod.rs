//! REST API under `/api/v1`, JSON in and out, described by OpenAPI at `/api/openapi.json`
//! (and as HTML at `/api/docs`), plus `/healthz` and `/metrics`.
//!
//! Owns: wire types (DTOs) and their conversion to and from domain types, the
//! authorization check of every endpoint, the OpenAPI document. Every error is an
//! [`ApiError`](crate::error::ApiError); every extractor here rejects with one.
//! Never does: SQL (kefu-store) or ticket rules (kefu-domain).
//!
//! Code map: `tickets` (tickets), `messages` (messages, attachments, events), `people`
//! (customers, organizations), `staff` (agents, teams, me), `mail` (mailboxes, mail log,
//! original emails), `calendars` (business calendars, business-time sums), `ops` (health,
//! metrics), `notifications` (the caller's in-app notifications), `sla` (SLA policies, ticket clocks, upcoming breaches),
//! `docs` (OpenAPI JSON and HTML), `dto`/`dto_people` (wire types), `extract`
//! (extractors). `Idempotency-Key` is kept by the store, per caller scope, with a
//! fingerprint of the request (`crate::idempotency`).

pub mod calendars;
pub mod constraints;
pub mod docs;
pub mod dto;
pub mod dto_people;
pub mod extract;
pub mod mail;
pub mod messages;
pub mod notifications;
pub mod ops;
pub mod people;
pub mod sla;
pub mod staff;
pub mod tickets;

use crate::AppState;
use axum::{
    Router,
    routing::{any, get, post},
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kefu API",
        description = "Helpdesk REST API. Authenticate with `Authorization: Bearer <token>` (agents) \
            or a session cookie (writes then need `X-CSRF-Token`). Errors are always \
            `{\"error\": {\"code\", \"message\"}}`. Lists are cursor-paginated: pass `next_cursor` \
            back as `cursor`. Creates accept an `Idempotency-Key` header: a retry with the same \
            key and request returns the first result; the same key with a different request is \
            `422 invalid_input`."
    ),
    paths(
        tickets::create_ticket, tickets::list_tickets, tickets::get_ticket, tickets::patch_ticket,
        messages::list_messages, messages::create_message, messages::list_events,
        messages::download_attachment,
        people::list_customers, people::create_customer, people::get_customer,
        people::patch_customer, people::customer_tickets,
        people::list_organizations, people::create_organization, people::get_organization,
        people::patch_organization,
        staff::list_agents, staff::create_agent, staff::get_agent, staff::patch_agent,
        staff::list_teams, staff::create_team, staff::get_team, staff::patch_team, staff::me,
        mail::list_mailboxes, mail::create_mailbox, mail::get_mailbox, mail::patch_mailbox,
        mail::list_inbound, mail::get_inbound, mail::inbound_raw, mail::message_raw,
        calendars::list_calendars, calendars::create_calendar, calendars::get_calendar,
        calendars::replace_calendar, calendars::add, calendars::between,
        notifications::list_notifications, notifications::mark_read,
        ops::healthz, ops::metrics,
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "tickets", description = "Tickets and their lifecycle"),
        (name = "messages", description = "Replies, internal notes, attachments, event log"),
        (name = "customers", description = "Customers and their identities"),
        (name = "organizations", description = "Customer organizations"),
        (name = "agents", description = "Agents, teams and the caller"),
        (name = "email", description = "Support mailboxes, the mail log, original emails"),
        (name = "calendars", description = "Business calendars (working hours, holidays, make-up days) and business-time sums"),
        (name = "notifications", description = "The caller's in-app notifications (SLA warnings, escalations)"),
        (name = "operations", description = "Health and metrics (no authentication)"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API token of an agent"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Web session (agents and portal customers); writes also need the X-CSRF-Token header",
            ))),
        );
    }
}

pub fn router() -> Router<AppState> {
    let v1 = Router::new()
        .route(
            "/tickets",
            get(tickets::list_tickets).post(tickets::create_ticket),
        )
        .route(
            "/tickets/{id}",
            get(tickets::get_ticket).patch(tickets::patch_ticket),
        )
        .route(
            "/tickets/{id}/messages",
            get(messages::list_messages).post(messages::create_message),
        )
        .route("/tickets/{id}/events", get(messages::list_events))
        .route("/attachments/{id}", get(messages::download_attachment))
        .route(
            "/customers",
            get(people::list_customers).post(people::create_customer),
        )
        .route(
            "/customers/{id}",
            get(people::get_customer).patch(people::patch_customer),
        )
        .route("/customers/{id}/tickets", get(people::customer_tickets))
        .route(
            "/organizations",
            get(people::list_organizations).post(people::create_organization),
        )
        .route(
            "/organizations/{id}",
            get(people::get_organization).patch(people::patch_organization),
        )
        .route("/agents", get(staff::list_agents).post(staff::create_agent))
        .route(
            "/agents/{id}",
            get(staff::get_agent).patch(staff::patch_agent),
        )
        .route("/teams", get(staff::list_teams).post(staff::create_team))
        .route("/teams/{id}", get(staff::get_team).patch(staff::patch_team))
        .route("/me", get(staff::me))
        .route(
            "/mailboxes",
            get(mail::list_mailboxes).post(mail::create_mailbox),
        )
        .route(
            "/mailboxes/{id}",
            get(mail::get_mailbox).patch(mail::patch_mailbox),
        )
        .route("/inbound-mail", get(mail::list_inbound))
        .route("/inbound-mail/{id}", get(mail::get_inbound))
        .route("/inbound-mail/{id}/raw", get(mail::inbound_raw))
        .route("/messages/{id}/raw", get(mail::message_raw))
        .route(
            "/calendars",
            get(calendars::list_calendars).post(calendars::create_calendar),
        )
        .route(
            "/calendars/{id}",
            get(calendars::get_calendar).put(calendars::replace_calendar),
        )
        .route("/calendars/{id}/add", post(calendars::add))
        .route("/calendars/{id}/between", post(calendars::between))
        .route("/notifications", get(notifications::list_notifications))
        .route("/notifications/read", post(notifications::mark_read))
        .route(
            "/sla-policies",
            get(sla::list_policies).post(sla::create_policy),
        )
        .route(
            "/sla-policies/{id}",
            get(sla::get_policy).put(sla::replace_policy),
        )
        .route("/sla-policies/{id}/reapply", post(sla::reapply_policy))
        .route("/tickets/{id}/sla", get(sla::ticket_sla))
        .route("/tickets/{id}/sla/reapply", post(sla::reapply))
        .route("/sla/upcoming", get(sla::upcoming));
    Router::new()
        .nest("/api/v1", v1)
        .route("/api/openapi.json", get(docs::openapi_json))
        .route("/api/docs", get(docs::docs_page))
        .route("/api/{*rest}", any(ops::unknown_api_path))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(axum::middleware::from_fn(ops::track))
}
