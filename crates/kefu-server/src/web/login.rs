//! Signing in and out, and portal self-registration.
//!
//! The login and register forms have no session yet, so they use a double-submit
//! cookie: `GET` sets a random `kefu_login_csrf` cookie (HttpOnly, SameSite=Strict) and
//! puts the same value in a hidden field; `POST` requires both to match.
//!
//! Agents are looked up first, then portal customers. Unknown emails cost one Argon2
//! verification like known ones, so timing does not reveal which emails exist.
//!
//! Sign-in and registration are rate limited across nodes (`kefu_domain::ratelimit` for
//! the policy, `Store::hit_rate_limit` for the counters): the attempt is counted per
//! client address and per account *before* any password is verified, so a refused
//! attempt costs no Argon2 and gets the form back with 429. A successful sign-in takes
//! its account hit back, so the account counter holds failures only.

use super::{
    form::FormData,
    i18n::Tr,
    page::{Chrome, WebResult, render_with},
    session::Ctx,
};
use crate::{AppState, auth};
use askama::Template;
use axum::{
    extract::{ConnectInfo, FromRequestParts, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect},
};
use kefu_domain::ratelimit::{self, LOGIN_WINDOW, LoginGate};
use kefu_domain::{Email, NewCustomer, Segment, check_password, parse_name};
use kefu_store::SessionOwner;
use std::{
    collections::HashMap,
    convert::Infallible,
    net::{IpAddr, SocketAddr},
    sync::LazyLock,
};

pub const LOGIN_CSRF_COOKIE: &str = "kefu_login_csrf";

/// A hash nobody's password matches, verified when the email is unknown.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| auth::hash_password_blocking("kefu-timing-equaliser").unwrap_or_default());

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    chrome: Chrome,
    csrf: String,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    tr: Tr,
    chrome: Chrome,
    csrf: String,
    name: String,
    email: String,
    error: Option<String>,
}

/// `/`: the signed-in user's start page, or the login form.
pub async fn home(ctx: Ctx) -> Redirect {
    Redirect::to(ctx.home())
}

/// The connection's peer address; `None` when the server runs without connect info
/// (`Application::run_until` always provides it).
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(peer.map(|p| {
            client_ip(p, &parts.headers, &state.config.trusted_proxies)
        })))
    }
}

/// The client's address: the socket peer, unless the peer is a trusted proxy, in which
/// case the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
/// Entries left of an untrusted hop are never believed (anyone can send the header).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

/// Counts one attempt from `ip` and, unless that client is already over its limit, one on
/// `account` (a counter key), and decides. Refusals are logged (never with the password).
async fn gate(
    state: &AppState,
    what: &'static str,
    ip: Option<IpAddr>,
    account: Option<&str>,
) -> WebResult<LoginGate> {
    let client_key = ip.map(ratelimit::client_key);
    let client = match &client_key {
        Some(k) => Some(state.store.hit_rate_limit(k, LOGIN_WINDOW).await?),
        None => None,
    };
    let mut decision = ratelimit::login_gate(client, None);
    if decision == LoginGate::Allow
        && let Some(k) = account
    {
        let failures = state.store.hit_rate_limit(k, LOGIN_WINDOW).await?;
        decision = ratelimit::login_gate(client, Some(failures));
    }
    if decision != LoginGate::Allow {
        metrics::counter!("kefu_login_rate_limited_total").increment(1);
        tracing::warn!(
            what,
            limit = ?decision,
            client = client_key.as_deref().unwrap_or("-"),
            account = account.unwrap_or("-"),
            "too many attempts; refused without checking the password"
        );
    }
    Ok(decision)
}

/// Only same-site paths are accepted as a post-login target.
fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(['\r', '\n']);
    ok.then_some(next)
}

/// Responds with `page`, setting a fresh login CSRF cookie (the page embeds the same token).
fn with_login_cookie(status: StatusCode, token: &str, page: WebResult) -> WebResult {
    let mut res = page?;
    *res.status_mut() = status;
    let c = format!("{LOGIN_CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=7200");
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

fn login_page(
    ctx: &Ctx,
    email: &str,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> WebResult {
    let token = auth::new_secret("");
    let page = LoginPage {
        tr: ctx.tr,
        chrome: ctx.chrome(ctx.tr.t("login.title"), "public"),
        csrf: token.clone(),
        email: email.to_string(),
        next: next.to_string(),
        error,
    };
    with_login_cookie(status, &token, render_with(StatusCode::OK, &page))
}

pub async fn login_form(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> WebResult {
    if ctx.caller.is_some() {
        return Ok(Redirect::to(ctx.home()).into_response());
    }
    let next = q
        .get("next")
        .map(String::as_str)
        .and_then(safe_next)
        .unwrap_or("");
    login_page(&ctx, "", next, None, StatusCode::OK)
}

fn login_csrf_ok(headers: &HeaderMap, form: &FormData) -> bool {
    auth::cookie(headers, LOGIN_CSRF_COOKIE)
        .is_some_and(|c| !c.is_empty() && auth::tokens_match(c, form.get("csrf")))
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    form: FormData,
) -> WebResult {
    let next = safe_next(form.get("next")).unwrap_or("").to_string();
    let email_text = form.get("email").trim().to_string();
    if !login_csrf_ok(&headers, &form) {
        let msg = ctx.tr.t("error.form_expired").to_string();
        return login_page(&ctx, &email_text, &next, Some(msg), StatusCode::FORBIDDEN);
    }
    let password = form.get("password").to_string();
    let email = Email::parse(&email_text).ok();
    let account = email.as_ref().map(|e| ratelimit::account_key(e.as_str()));
    if gate(&state, "sign-in", ip, account.as_deref()).await? != LoginGate::Allow {
        let msg = ctx.tr.t("login.rate_limited").to_string();
        return login_page(
            &ctx,
            &email_text,
            &next,
            Some(msg),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let owner = match &email {
        Some(email) => authenticate(&state, email, password).await?,
        None => None,
    };
    if owner.is_some()
        && let Some(k) = &account
        && let Err(e) = state.store.undo_rate_limit_hit(k, LOGIN_WINDOW).await
    {
        tracing::warn!(error = %e, "could not take back a successful sign-in's rate-limit hit");
    }
    let Some(owner) = owner else {
        let msg = ctx.tr.t("login.failed").to_string();
        return login_page(
            &ctx,
            &email_text,
            &next,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    start(&state, &headers, owner, &next).await
}

/// Checks credentials; `None` for a wrong email or password or an inactive agent.
async fn authenticate(
    state: &AppState,
    email: &Email,
    password: String,
) -> WebResult<Option<SessionOwner>> {
    if let Some((agent, hash)) = state.store.find_agent_login(email).await? {
        let ok = auth::verify_password(hash, password).await;
        return Ok((ok && agent.active).then_some(SessionOwner::Agent(agent.id)));
    }
    if let Some((customer, Some(hash))) = state.store.find_customer_login(email).await? {
        let ok = auth::verify_password(hash, password).await;
        return Ok(ok.then_some(SessionOwner::Customer(customer.id)));
    }
    let _ = auth::verify_password(DUMMY_HASH.clone(), password).await;
    Ok(None)
}

/// Starts a session (ending any previous one) and redirects to the start page.
async fn start(
    state: &AppState,
    headers: &HeaderMap,
    owner: SessionOwner,
    next: &str,
) -> WebResult {
    end_session(state, headers).await;
    let (secret, _) = auth::start_session(state, owner).await?;
    let home = match owner {
        SessionOwner::Agent(_) => "/agent",
        SessionOwner::Customer(_) => "/portal",
    };
    let fits = match owner {
        SessionOwner::Agent(_) => next.starts_with("/agent") || next.starts_with("/admin"),
        SessionOwner::Customer(_) => next.starts_with("/portal"),
    } || next.starts_with("/attachments/");
    let target = if fits { next } else { home };
    let mut res = Redirect::to(target).into_response();
    let h = res.headers_mut();
    let cookie = auth::session_cookie(&secret, state.config.secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.append(header::SET_COOKIE, v);
    }
    let clear = format!("{LOGIN_CSRF_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    h.append(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear).expect("static cookie"),
    );
    Ok(res)
}

async fn end_session(state: &AppState, headers: &HeaderMap) {
    if let Some(secret) = auth::cookie(headers, auth::SESSION_COOKIE) {
        let hash = auth::keyed_hash(&state.token_key, secret);
        if let Err(e) = state.store.delete_session(&hash).await {
            tracing::warn!(error = %e, "could not delete session");
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    form: FormData,
) -> WebResult {
    if ctx.caller.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    ctx.check_csrf(&form)?;
    end_session(&state, &headers).await;
    let mut res = Redirect::to("/login").into_response();
    let v = HeaderValue::from_str(&auth::clear_session_cookie()).expect("static cookie");
    res.headers_mut().append(header::SET_COOKIE, v);
    Ok(res)
}

fn register_page(
    ctx: &Ctx,
    name: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> WebResult {
    let token = auth::new_secret("");
    let page = RegisterPage {
        tr: ctx.tr,
        chrome: ctx.chrome(ctx.tr.t("register.title"), "public"),
        csrf: token.clone(),
        name: name.to_string(),
        email: email.to_string(),
        error,
    };
    with_login_cookie(status, &token, render_with(StatusCode::OK, &page))
}

pub async fn register_form(ctx: Ctx) -> WebResult {
    if ctx.caller.is_some() {
        return Ok(Redirect::to(ctx.home()).into_response());
    }
    register_page(&ctx, "", "", None, StatusCode::OK)
}

/// Creates a portal account for a new email address.
///
/// An address the helpdesk already knows (a customer who wrote in by email, or an
/// agent) is refused, even without a password: without proving ownership of the
/// mailbox, claiming it would expose that customer's past requests to whoever typed
/// the address. Existing customers get portal access once verified invitations exist.
pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    form: FormData,
) -> WebResult {
    let tr = ctx.tr;
    let (name_text, email_text) = (
        form.get("name").trim().to_string(),
        form.get("email").trim().to_string(),
    );
    let fail =
        |msg: String, status| register_page(&ctx, &name_text, &email_text, Some(msg), status);
    if !login_csrf_ok(&headers, &form) {
        return fail(tr.t("error.form_expired").into(), StatusCode::FORBIDDEN);
    }
    let name = match parse_name("name", &name_text) {
        Ok(n) => n,
        Err(_) => {
            return fail(
                super::form::hint(tr, "name"),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let Ok(email) = Email::parse(&email_text) else {
        return fail(
            super::form::hint(tr, "email"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let password = form.get("password").to_string();
    if check_password(&password).is_err() {
        return fail(
            super::form::hint(tr, "password"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let account = ratelimit::registration_key(email.as_str());
    if gate(&state, "registration", ip, Some(&account)).await? != LoginGate::Allow {
        return fail(
            tr.t("login.rate_limited").into(),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let known = state.store.find_agent_login(&email).await?.is_some()
        || state.store.find_customer_login(&email).await?.is_some();
    if known {
        return fail(
            tr.t("register.exists").into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let hash = auth::hash_password(password).await?;
    let new = NewCustomer {
        name,
        email: Some(email),
        phones: Vec::new(),
        external_ids: Vec::new(),
        organization_id: None,
        segment: Segment::Standard,
        language: ctx.lang(),
        time_zone: "UTC".into(),
    };
    let customer = match state.store.create_customer(&new, None).await {
        Ok(c) => c,
        Err(kefu_store::StoreError::Conflict(_)) => {
            return fail(
                tr.t("register.exists").into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(e) => return Err(e.into()),
    };
    state
        .store
        .set_customer_password(customer.id, &hash)
        .await?;
    start(
        &state,
        &headers,
        SessionOwner::Customer(customer.id),
        "/portal",
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        use super::client_ip;
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        let direct: std::net::IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(direct, &h, &[proxy]),
            direct,
            "untrusted peer: header ignored"
        );
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            "203.0.113.9".parse::<std::net::IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    use super::*;

    #[test]
    fn only_same_site_paths_are_followed_after_login() {
        assert_eq!(safe_next("/agent/tickets/3"), Some("/agent/tickets/3"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "",
            "/a\r\nSet-Cookie: x",
        ] {
            assert_eq!(safe_next(bad), None, "{bad}");
        }
    }
}
