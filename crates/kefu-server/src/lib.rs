//! kefu's HTTP adapter: the REST API (`/api/v1`, OpenAPI at `/api/openapi.json`), the
//! server-rendered web UI (agent workspace, customer portal, admin), authentication
//! (bearer tokens, cookie sessions with CSRF), metrics and health; and the email
//! channel's runtime (`mail`: inbound pipeline, outgoing mail, listeners, pollers).
//!
//! Owns: request parsing into domain types, authorization checks per endpoint,
//! rendering, error mapping. Never does: SQL (that is `kefu-store`) or business rules
//! (those are `kefu-domain`).

pub mod api;
pub mod app;
pub mod auth;
mod download;
pub mod error;
mod follow_up;
mod idempotency;
pub mod jobs;
pub mod mail;
pub mod sanitize;
pub mod sla_timers;
mod visibility;
pub mod web;

pub use app::{AppState, Application, Config};
