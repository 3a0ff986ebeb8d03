//! Authentication: API bearer tokens, cookie sessions, CSRF, passwords.
//!
//! Invariants:
//! - Only keyed hashes (HMAC-SHA256 with the workspace token key) of tokens and session
//!   ids are stored; the secrets themselves exist only in the client.
//! - A token check is one HMAC and one indexed lookup (microseconds), never a password
//!   hash per request.
//! - A cookie-authenticated request that changes state must carry the session's CSRF
//!   token (header `X-CSRF-Token` or form field `csrf`). Bearer requests need none.
//! - Passwords are hashed with Argon2id on a blocking thread.

use crate::{
    AppState,
    error::{ApiError, ApiResult, ErrorCode},
};
use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, Method, header, request::Parts},
};
use hmac::{Hmac, Mac};
use kefu_domain::{
    Agent, Customer, Lang, Timestamp,
    authz::{Permission, Principal},
};
use kefu_store::{Session, SessionOwner};
use rand::RngCore;
use sha2::Sha256;

pub const SESSION_COOKIE: &str = "kefu_session";
/// Session lifetime.
pub const SESSION_HOURS: i64 = 12;

/// HMAC-SHA256 of a secret under the workspace key, hex-encoded.
pub fn keyed_hash(key: &[u8; 32], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A new random secret (256 bits), URL-safe, with a recognisable prefix.
pub fn new_secret(prefix: &str) -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

/// Argon2id hash (PHC string) of a password.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(|_| ApiError::internal())?
}

pub fn hash_password_blocking(password: &str) -> ApiResult<String> {
    use argon2::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })
}

/// Checks a password against a stored PHC hash. Unparseable hashes never verify.
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use argon2::{PasswordHash, PasswordVerifier};
        PasswordHash::new(&hash)
            .map(|h| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Value of one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` value for a session id (HttpOnly, SameSite=Lax).
pub fn session_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    )
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Starts a session; returns the secret session id (for the cookie) and the session.
pub async fn start_session(state: &AppState, owner: SessionOwner) -> ApiResult<(String, Session)> {
    let secret = new_secret("");
    let now = Timestamp::now();
    let session = Session {
        token_hash: keyed_hash(&state.token_key, &secret),
        owner,
        csrf_token: new_secret(""),
        created_at: now,
        expires_at: now + jiff::SignedDuration::from_hours(SESSION_HOURS),
    };
    state.store.create_session(&session).await?;
    Ok((secret, session))
}

/// Who is making a request, fully loaded.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub agent: Option<Agent>,
    pub customer: Option<Customer>,
    /// Present for cookie sessions (web UI), absent for bearer tokens.
    pub session: Option<Session>,
}

impl Caller {
    /// Fails with 403 unless the caller's role grants `p`.
    pub fn require(&self, p: Permission) -> ApiResult<()> {
        if self.principal.may(p) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// Event-log actor for this caller.
    pub fn actor(&self) -> kefu_domain::Actor {
        match self.principal {
            Principal::Agent { id, .. } => kefu_domain::Actor::Agent(id),
            Principal::Customer { id, .. } => kefu_domain::Actor::Customer(id),
        }
    }

    /// Idempotency scope: keys are unique per caller.
    pub fn scope(&self) -> String {
        match self.principal {
            Principal::Agent { id, .. } => format!("agent:{id}"),
            Principal::Customer { id, .. } => format!("customer:{id}"),
        }
    }

    pub fn preferred_lang(&self) -> Option<Lang> {
        self.agent
            .as_ref()
            .and_then(|a| a.language)
            .or_else(|| self.customer.as_ref().map(|c| c.language))
    }
}

/// Resolves a session cookie into a caller, without CSRF checks (the web layer checks
/// form tokens itself). Inactive agents and expired sessions yield `None`.
pub async fn caller_from_session(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<Caller>> {
    let Some(secret) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = keyed_hash(&state.token_key, secret);
    let Some(session) = state.store.find_session(&hash, Timestamp::now()).await? else {
        return Ok(None);
    };
    caller_for_owner(state, session.owner, Some(session)).await
}

async fn caller_for_owner(
    state: &AppState,
    owner: SessionOwner,
    session: Option<Session>,
) -> ApiResult<Option<Caller>> {
    Ok(match owner {
        SessionOwner::Agent(id) => state
            .store
            .get_agent(id)
            .await?
            .filter(|a| a.active)
            .map(|a| Caller {
                principal: Principal::Agent {
                    id: a.id,
                    role: a.role,
                },
                agent: Some(a),
                customer: None,
                session,
            }),
        SessionOwner::Customer(id) => state.store.get_customer(id).await?.map(|c| Caller {
            principal: Principal::Customer {
                id: c.id,
                organization_id: c.organization_id,
            },
            agent: None,
            customer: Some(c),
            session,
        }),
    })
}

/// Resolves `Authorization: Bearer <token>` into an agent caller.
pub async fn caller_from_bearer(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<Caller>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(ApiError::unauthenticated)?;
    let hash = keyed_hash(&state.token_key, token);
    let agent = state
        .store
        .find_agent_by_token(&hash)
        .await?
        .filter(|a| a.active);
    let agent = agent.ok_or_else(ApiError::unauthenticated)?;
    Ok(Some(Caller {
        principal: Principal::Agent {
            id: agent.id,
            role: agent.role,
        },
        agent: Some(agent),
        customer: None,
        session: None,
    }))
}

/// API extractor: a bearer token, or a session cookie plus `X-CSRF-Token` on writes.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(c) = caller_from_bearer(state, &parts.headers).await? {
            return Ok(c);
        }
        let caller = caller_from_session(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            let expected = caller.session.as_ref().map(|s| s.csrf_token.as_str());
            if sent.is_none() || sent != expected {
                return Err(ApiError::new(
                    ErrorCode::CsrfFailed,
                    "missing or wrong X-CSRF-Token",
                ));
            }
        }
        Ok(caller)
    }
}

/// Constant-time comparison for CSRF tokens submitted in forms.
pub fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hash_depends_on_key_and_secret() {
        let a = keyed_hash(&[1; 32], "kefu_abc");
        assert_eq!(a.len(), 64);
        assert_ne!(a, keyed_hash(&[2; 32], "kefu_abc"));
        assert_ne!(a, keyed_hash(&[1; 32], "kefu_abd"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; kefu_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let h = hash_password_blocking("correct horse").unwrap();
        assert!(rt.block_on(verify_password(h.clone(), "correct horse".into())));
        assert!(!rt.block_on(verify_password(h, "wrong horse".into())));
    }
}
