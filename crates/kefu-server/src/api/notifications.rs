//! The caller's in-app notifications over the API: the signed-in agent's own inbox (SLA
//! warnings and breaches, escalations, …), newest first with the unread count, and marking
//! some or all of them read. Every agent role may read and mark its own notifications
//! (read-only agents too: marking one's inbox read changes no ticket); customers get 403.
//!
//! Never does: create notifications (the SLA engine writes them through the store) or
//! touch another agent's notifications (the store scopes every query to the caller).

use crate::AppState;
use crate::api::dto::{ErrorBody, ts};
use crate::api::extract::{ApiJson, ApiQuery, int, page_limit};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use axum::{Json, extract::State};
use kefu_domain::authz::{Permission, Principal};
use kefu_domain::{AgentId, NotificationId};
use kefu_store::Notification;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Most ids one `POST /notifications/read` may name.
pub const MAX_IDS: usize = 1000;

/// One notification of the caller.
#[derive(Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: i64,
    /// The ticket it is about, if any.
    pub ticket_id: Option<i64>,
    /// That ticket's number (as shown to people, `#1234`).
    pub ticket_number: Option<i64>,
    /// What happened, e.g. `sla_warning`, `sla_breach`.
    pub kind: String,
    pub title: String,
    /// Plain text; may be empty.
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the caller marked it read; `null` while unread.
    #[schema(format = DateTime)]
    pub read_at: Option<String>,
}

impl From<&Notification> for NotificationDto {
    fn from(n: &Notification) -> Self {
        NotificationDto {
            id: n.id.0,
            ticket_id: n.ticket_id.map(|t| t.0),
            ticket_number: n.ticket_number,
            kind: n.kind.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            created_at: ts(n.created_at),
            read_at: n.read_at.map(ts),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<NotificationDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many of the caller's notifications are unread (all of them, not just this page).
    pub unread: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Only unread notifications (default false: all).
    pub unread: Option<bool>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = notification_cursor_schema)]
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn notification_cursor_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::api::constraints::string(
        "Opaque: the `next_cursor` of the previous page.",
        crate::api::constraints::id_cursor(),
    )
}

/// Which notifications to mark read: `{"ids": [...]}`, or `{}` for all unread ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadRequest {
    /// Notification ids (at most 1000). Ids of notifications that are not the caller's,
    /// unknown or already read are ignored. Absent or `null`: every unread notification
    /// of the caller.
    #[serde(default, deserialize_with = "int::opt_vec")]
    #[schema(max_items = 1000)]
    pub ids: Option<Vec<i64>>,
}

#[derive(Serialize, ToSchema)]
pub struct MarkReadResult {
    /// How many notifications this request marked read.
    pub marked: u64,
}

/// The calling agent; customers may not have an agent's inbox.
fn agent_of(caller: &Caller) -> ApiResult<AgentId> {
    caller.require(Permission::ReadWorkspace)?;
    match caller.principal {
        Principal::Agent { id, .. } => Ok(id),
        Principal::Customer { .. } => Err(ApiError::forbidden()),
    }
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    summary = "The caller's notifications, newest first, with the unread count (agents)",
    params(NotificationParams),
    responses((status = 200, body = NotificationPage), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<NotificationParams>,
) -> ApiResult<Json<NotificationPage>> {
    let agent = agent_of(&caller)?;
    let limit = page_limit(p.limit)?;
    let cursor = p.cursor.as_deref().map(str::trim);
    let s = &state.store;
    let (page, unread) = tokio::join!(
        s.list_notifications(agent, p.unread.unwrap_or(false), cursor, limit),
        s.count_unread_notifications(agent),
    );
    let page = page?;
    Ok(Json(NotificationPage {
        items: page.items.iter().map(NotificationDto::from).collect(),
        next_cursor: page.next_cursor,
        unread: unread?,
    }))
}

#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications",
    summary = "Mark some or all of the caller's notifications read (agents)",
    description = "Idempotent: a notification already read keeps its `read_at` and is not counted again.",
    request_body = MarkReadRequest,
    responses((status = 200, body = MarkReadResult), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<MarkReadRequest>,
) -> ApiResult<Json<MarkReadResult>> {
    let agent = agent_of(&caller)?;
    let ids: Option<Vec<NotificationId>> = match req.ids {
        Some(ids) if ids.len() > MAX_IDS => {
            return Err(ApiError::invalid(format!("ids: at most {MAX_IDS}")));
        }
        Some(ids) => Some(ids.into_iter().map(NotificationId).collect()),
        None => None,
    };
    let marked = state
        .store
        .mark_notifications_read(agent, ids.as_deref())
        .await?;
    Ok(Json(MarkReadResult { marked }))
}
