//! Request extractors for the API whose rejections are [`ApiError`]s, so every failure
//! to read a request (bad JSON, wrong content type, oversized body, bad query or path)
//! has the `{"error": {...}}` shape and is never a 500.
//!
//! Never does: authorization (that is [`crate::auth::Caller`]) or domain validation.

use crate::error::{ApiError, ApiResult, ErrorCode};
use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};

/// JSON body; requires `Content-Type: application/json`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// Query string.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

/// Path parameters. A malformed id (`/tickets/abc`) is a 404, like an unknown one.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(v))
    }
}

/// The optional `Idempotency-Key` header: 1–255 visible ASCII characters.
pub struct IdempotencyKeyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKeyHeader(None));
        };
        let key =
            v.to_str().ok().map(str::trim).filter(|k| {
                (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
            });
        match key {
            Some(k) => Ok(IdempotencyKeyHeader(Some(k.to_string()))),
            None => Err(ApiError::invalid(
                "Idempotency-Key must be 1–255 visible ASCII characters",
            )),
        }
    }
}

/// Serde helper for PATCH fields where `null` means "clear" and absence means "keep":
/// use with `#[serde(default, deserialize_with = "nullable")]` on `Option<Option<T>>`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Page size: default 25, at most 100.
pub fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(25),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidInput,
            "limit: must be between 1 and 100",
        )),
    }
}
