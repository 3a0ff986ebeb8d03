//! Server-rendered web UI: login, agent workspace, customer portal, admin pages.
//!
//! Owns: HTML pages (askama templates in `crates/kefu-server/templates/`), the embedded
//! static assets under `/static/`, form parsing, CSRF checks for forms, the UI language
//! (`i18n`), friendly error pages, and attachment downloads for signed-in users.
//! Never does: SQL or business rules — it calls `kefu_store::Store` and `kefu_domain`.
//!
//! Invariants:
//! - Every POST handler checks the form's `csrf` field against the session (or, on the
//!   login and register forms, against the `kefu_login_csrf` double-submit cookie) before
//!   doing anything else, and answers 403 on mismatch.
//! - Every page checks a domain `Permission`; read-only agents never see write forms and
//!   their POSTs are answered 403.
//! - Only `Message::body_html` (sanitised through `sanitize::sanitize_html` before it is
//!   stored) and, for email messages, its rendering by `mail_view::mail_body` (cid
//!   images, remote images only on request, then sanitised again) are rendered with
//!   `|safe`; everything else is escaped by askama.
//! - IMAP URLs (they hold passwords) are shown redacted only (`admin_mailboxes`).
//!
//! Stable hooks for browser tests (ids unless marked `.class`):
//! - Login `/login`: `#login-form`, `#login-email`, `#login-password`, `#login-submit`,
//!   `.alert.error` for a failed attempt. Logout: `#logout-form` (button `#logout`).
//! - Register `/portal/register`: `#register-form`, `#register-name`, `#register-email`,
//!   `#register-password`, `#register-submit`.
//! - Layout: `#topnav`, `#lang-switch` (links `.lang-en`, `.lang-zh-CN`, `.lang-zh-TW`),
//!   `#user-name`, `main#main`, `.alert.error`, `.alert.success`.
//! - Inbox `/agent?view=mine|unassigned|open|pending|solved`: `#views`, `.view-link`
//!   (with `data-view`) and `.view-count`, `#ticket-table`, `.ticket-row` (with
//!   `data-ticket-id`), `.ticket-subject a`, `#next-page`, `.pill.status-<status>`.
//! - Ticket `/agent/tickets/{id}`: `#ticket-subject`, `#conversation`, `.message.public`,
//!   `.message.note`, `.message-body`, `.attachment a`, `#reply-form`, `#reply-body`,
//!   `#reply-public`, `#reply-note` (radio `visibility`), `#reply-status`, `#reply-files`,
//!   `#reply-submit`, `#ticket-properties` with `#prop-status`, `#prop-priority`,
//!   `#prop-type`, `#prop-assignee`, `#prop-team`, `#prop-tier`, `#prop-tags`,
//!   `#prop-submit`; `#history` with `.event`; `#customer-sidebar`, `.other-ticket`.
//! - New ticket `/agent/tickets/new`: `#new-ticket-form`, `#new-requester`,
//!   `#new-requester-name`, `#new-subject`, `#new-body`, `#new-priority`, `#new-type`,
//!   `#new-files`, `#new-submit`.
//! - Customers `/agent/customers`, `/agent/customers/{id}`: `#customer-search`,
//!   `.customer-row`, `#customer-tickets`.
//! - Portal `/portal`: `#portal-new` link, `#request-table`, `.request-row`;
//!   `/portal/new`: `#portal-new-form`, `#portal-subject`, `#portal-body`,
//!   `#portal-files`, `#portal-submit`; `/portal/tickets/{id}`: `#conversation`,
//!   `.message.public`, `#portal-reply-form`, `#portal-reply-body`, `#portal-reply-submit`.
//! - Admin: `#agent-table` `.agent-row`, `#new-agent-form` (`#agent-email`, `#agent-name`,
//!   `#agent-role`, `#agent-tier`, `#agent-teams`, `#agent-password`, `#agent-submit`),
//!   `#edit-agent-form` (`#agent-active`), `#team-table`, `#new-team-form` (`#team-name`,
//!   `#team-description`), `#org-table`, `#new-org-form` (`#org-name`, `#org-domains`,
//!   `#org-segment`, `#org-shares`).
//! - Mailboxes `/admin/mailboxes` (admins): `#mailbox-table` `.mailbox-row`,
//!   `#new-mailbox-form` (`#mailbox-address`, `#mailbox-name`, `#mailbox-team`,
//!   `#mailbox-imap`, `#mailbox-auto-ack`, `#mailbox-active`, `#mailbox-submit`),
//!   `#edit-mailbox-form` (also `#mailbox-remove-imap`, `#mailbox-imap-current`).
//! - Calendars `/admin/calendars` (admins): `#calendar-table` `.calendar-row` (with
//!   `data-calendar-id`), `#new-calendar-form` / `#edit-calendar-form` (`#calendar-name`,
//!   `#calendar-zone`, `#calendar-weekly` with `.calendar-day` rows (`data-day`) and inputs
//!   `#cal-<day>_start<n>` / `#cal-<day>_end<n>`, `#calendar-copy-monday`,
//!   `#calendar-holidays`, `#calendar-workdays`, `#calendar-submit`); on the edit page
//!   `#calendar-try-form` (`#try-start`, `#try-minutes`), `#calendar-try-result`,
//!   `#calendar-try-error`.
//! - SLA on the ticket page: `#sla-panel` with `#sla-policy`, `.sla-clock` (with
//!   `data-metric`, `data-state`), `.sla-countdown` (with `data-due` while running),
//!   `.pill.sla-state-<state>`, `#sla-reapply-form` / `#sla-reapply` (supervisors,
//!   admins). Ticket tables: `.col-sla` with `.sla-badge` (`.sla-red`, `.sla-amber`,
//!   `.sla-neutral`). Inbox views also `at_risk` and `breached`.
//! - SLA board `/agent/sla?hours=1|4|24` (supervisors, admins; nav `.nav-sla`):
//!   `#sla-window` (`#sla-hours`), `#sla-summary`, `#sla-matrix` with `.sla-cell`
//!   (`data-tier`, `data-count`), `#sla-breaches` with `.sla-group` and `.breach-row`
//!   (with `data-ticket-id`).
//! - SLA policies `/admin/sla` (admins): `#sla-table` `.sla-row` (with `data-policy-id`),
//!   `#sla-new`; `/admin/sla/new` and `/admin/sla/{id}`: `#sla-form` (`#sla-name`,
//!   `#sla-position`, `#sla-active`, `#sla-description`, `#sla-calendar`, checkboxes
//!   `#cond-<group>-<value>`, `#cond-team`, `#cond-org`, `#cond-tags`, `#sla-targets` with
//!   `#t-<metric>-<priority>` and `#tb-<metric>`, `#sla-pauses` with
//!   `#pause-<metric>-<status>`, `#sla-warn-at`, `#sla-ladders` with `.sla-ladder`
//!   (`data-kind`) and `#l-<kind>-<tier>-max` …, `#sla-submit`), `#sla-saved`.
//! - Mail log `/admin/mail?state=…` (admins, supervisors): `#mail-filter`, `#mail-state`,
//!   `#mail-table`, `.mail-row` (with `data-state`), `.mail-raw`, `#next-page`.
//! - Notifications `/agent/notifications[?unread=1]`: `.nav-notifications` in `#topnav`
//!   (with `.nav-badge` while some are unread), `#notification-filter` (`.tab` with
//!   `data-filter` `all` / `unread`), `#unread-total`, `#notification-list`,
//!   `.notification` (`.unread`, `data-notification-id`, `data-kind`) with
//!   `.notification-title`, `.notification-body`, `.mark-read-form`; `#mark-all-read-form`
//!   (button `#mark-all-read`), `#next-page`.
//! - Email messages on the ticket page: `.message.email`, `.mail-meta` (`.mail-from`,
//!   `.mail-to`, `.mail-cc`, `a.mail-raw`), `.badge.delivery.delivery-<status>`,
//!   `.delivery-detail`, `.mail-warning`, `details.quoted`, `.remote-images a.show-remote`.

mod admin;
mod admin_calendars;
mod admin_mailboxes;
mod admin_orgs;
mod admin_sla;
mod agent;
mod assets;
mod attachments;
mod catalog;
mod form;
pub mod i18n;
mod login;
mod mail_log;
mod mail_view;
mod notifications;
mod page;
mod portal;
mod session;
mod sla;
mod ticket;
mod views;

use crate::AppState;
use axum::{
    Router, middleware,
    routing::{get, post},
};

pub use page::WebError;

/// All web routes. Static assets are served without the page middleware (no session
/// lookup); everything else goes through [`page::pages`] (error pages, language cookie,
/// security headers).
pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::login_form).post(login::login))
        .route("/logout", post(login::logout))
        .route(
            "/portal/register",
            get(login::register_form).post(login::register),
        )
        .route("/agent", get(agent::inbox))
        .route(
            "/agent/tickets/new",
            get(agent::new_ticket_form).post(agent::create_ticket),
        )
        .route("/agent/tickets/{id}", get(ticket::show))
        .route("/agent/tickets/{id}/reply", post(ticket::reply))
        .route("/agent/tickets/{id}/update", post(ticket::update))
        .route("/agent/tickets/{id}/sla/reapply", post(sla::reapply))
        .route("/agent/sla", get(sla::supervisor))
        .route("/agent/customers", get(agent::customers))
        .route("/agent/customers/{id}", get(agent::customer))
        .route("/agent/messages/{id}/raw", get(mail_view::message_raw))
        .route("/agent/notifications", get(notifications::notifications))
        .route("/agent/notifications/read", post(notifications::mark_read))
        .route("/attachments/{id}", get(attachments::download))
        .route("/portal", get(portal::requests))
        .route("/portal/new", get(portal::new_form).post(portal::create))
        .route("/portal/tickets/{id}", get(portal::show))
        .route("/portal/tickets/{id}/reply", post(portal::reply))
        .route("/admin", get(admin::home))
        .route(
            "/admin/agents",
            get(admin::agents).post(admin::create_agent),
        )
        .route(
            "/admin/agents/{id}",
            get(admin::agent_form).post(admin::update_agent),
        )
        .route("/admin/teams", get(admin::teams).post(admin::create_team))
        .route(
            "/admin/teams/{id}",
            get(admin::team_form).post(admin::update_team),
        )
        .route(
            "/admin/organizations",
            get(admin::orgs).post(admin::create_org),
        )
        .route(
            "/admin/organizations/{id}",
            get(admin::org_form).post(admin::update_org),
        )
        .route(
            "/admin/mailboxes",
            get(admin_mailboxes::mailboxes).post(admin_mailboxes::create_mailbox),
        )
        .route(
            "/admin/mailboxes/{id}",
            get(admin_mailboxes::mailbox_form).post(admin_mailboxes::update_mailbox),
        )
        .route(
            "/admin/calendars",
            get(admin_calendars::calendars).post(admin_calendars::create_calendar),
        )
        .route(
            "/admin/calendars/{id}",
            get(admin_calendars::calendar_form).post(admin_calendars::update_calendar),
        )
        .route("/admin/sla", get(admin_sla::policies))
        .route(
            "/admin/sla/new",
            get(admin_sla::new_form).post(admin_sla::create),
        )
        .route(
            "/admin/sla/{id}",
            get(admin_sla::edit_form).post(admin_sla::update),
        )
        .route("/admin/sla/{id}/reapply", post(admin_sla::reapply))
        .route("/admin/mail", get(mail_log::mail_log))
        .route("/admin/mail/{id}/raw", get(mail_log::mail_raw))
        // Unknown pages outside `/api` get the friendly 404 page.
        .fallback(page::not_found)
        .layer(middleware::from_fn(page::pages));
    Router::new().merge(assets::router()).merge(pages)
}
