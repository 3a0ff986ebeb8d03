//! `Idempotency-Key` support on top of the settings table (first writer wins, also across
//! nodes).
//!
//! Tickets and messages are deduplicated by the store's own idempotency records; here we
//! only remember a fingerprint of the request that succeeded under a key, so that reusing
//! the key for a *different* request is an error instead of silently returning the first
//! result ([`check_reuse`], [`remember`]).
//!
//! Customers have no store support, so they use claims. Protocol, per (caller scope, key),
//! over numbered attempts (so that a failed attempt does not block the key forever):
//! 1. claim attempt `n` with a random nonce and a fingerprint of the request;
//! 2. the claimant creates the customer and records the result, or records `failed`;
//! 3. a request that finds attempt `n` claimed reads its result: `failed` → try attempt
//!    `n + 1`; a customer id → replay it (if the fingerprint matches, else `invalid_input`);
//!    nothing yet → wait briefly, then `409 conflict` (the first request is still running).

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorCode};
use kefu_domain::CustomerId;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// What the handler should do.
pub enum Claim {
    /// The key already created this customer: return it again.
    Replay(CustomerId),
    /// The key is ours: create, then call [`record`] with this setting key.
    Fresh { result_key: String },
}

/// The result of an attempt: a customer, `failed`, or not there yet.
enum Outcome {
    Created(CustomerId),
    Failed,
    Pending,
}

async fn outcome(state: &AppState, result_key: &str) -> ApiResult<Outcome> {
    Ok(match state.store.get_setting(result_key).await? {
        None => Outcome::Pending,
        Some(v) => v
            .parse()
            .map(|id| Outcome::Created(CustomerId(id)))
            .unwrap_or(Outcome::Failed),
    })
}

/// At most this many failed attempts per key; then the key is used up.
const MAX_ATTEMPTS: u32 = 10;

/// Claims `key` for a request whose normalised content is `fingerprint_source`.
pub async fn claim(
    state: &AppState,
    scope: &str,
    key: &str,
    fingerprint_source: &str,
) -> ApiResult<Claim> {
    let base = format!("idempotency:customer:{scope}:{key}");
    let fingerprint = fingerprint([fingerprint_source.as_bytes()]);
    let mine = format!("{} {fingerprint}", crate::auth::new_secret(""));
    for attempt in 0..MAX_ATTEMPTS {
        let result_key = format!("{base}:{attempt}:result");
        let holder = state
            .store
            .init_setting(&format!("{base}:{attempt}:claim"), &mine)
            .await?;
        if holder == mine {
            return Ok(Claim::Fresh { result_key });
        }
        let same_request = holder.split_once(' ').map(|(_, f)| f) == Some(fingerprint.as_str());
        for _ in 0..20 {
            match outcome(state, &result_key).await? {
                Outcome::Failed => break,
                Outcome::Created(_) if !same_request => {
                    return Err(ApiError::invalid(
                        "Idempotency-Key was already used for a different request",
                    ));
                }
                Outcome::Created(id) => return Ok(Claim::Replay(id)),
                Outcome::Pending => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        if matches!(outcome(state, &result_key).await?, Outcome::Pending) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "a request with this Idempotency-Key is still running; retry later",
            ));
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        "this Idempotency-Key has failed too often; use a new key",
    ))
}

/// Records what a claimed attempt produced: the customer, or a failure (which frees the
/// key for a corrected retry).
pub async fn record(
    state: &AppState,
    result_key: &str,
    created: Option<CustomerId>,
) -> ApiResult<()> {
    let value = created.map_or_else(|| "failed".to_string(), |id| id.to_string());
    state.store.init_setting(result_key, &value).await?;
    Ok(())
}

fn fingerprint_key(kind: &str, scope: &str, key: &str) -> String {
    format!("idempotency:{kind}:{scope}:{key}:fingerprint")
}

/// Fails if `key` already succeeded for a request with another fingerprint.
pub async fn check_reuse(
    state: &AppState,
    kind: &str,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> ApiResult<()> {
    match state
        .store
        .get_setting(&fingerprint_key(kind, scope, key))
        .await?
    {
        Some(f) if f != fingerprint => Err(ApiError::invalid(
            "Idempotency-Key was already used for a different request",
        )),
        _ => Ok(()),
    }
}

/// Remembers the fingerprint of the request that succeeded under `key` (after success
/// only, so a request that failed validation can be corrected and retried with its key).
pub async fn remember(
    state: &AppState,
    kind: &str,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> ApiResult<()> {
    state
        .store
        .init_setting(&fingerprint_key(kind, scope, key), fingerprint)
        .await?;
    Ok(())
}

/// Hex SHA-256 over the given parts, each length-prefixed so that parts cannot run together.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}
