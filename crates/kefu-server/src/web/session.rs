//! The request context of every page: who is signed in (from the session cookie), which
//! language to speak, and the CSRF token for forms.
//!
//! Language order: an explicit `?lang=` (also saved to the `kefu_lang` cookie and, for
//! signed-in users, to their profile), then the `kefu_lang` cookie, then the user's own
//! preference, then `Accept-Language`, else English.
//!
//! Extractors: [`Ctx`] (anyone), [`AgentCtx`] (signed-in agents; others are redirected),
//! [`CustomerCtx`] (signed-in portal customers).
//!
//! For a signed-in agent's GET, the context also counts their unread notifications (one
//! indexed `COUNT`) for the badge on the navigation's notifications link.

use super::{
    form::FormData,
    i18n::Tr,
    page::{Chrome, Link, PageCell, PageInfo, WebError},
};
use crate::{
    AppState,
    auth::{self, Caller},
};
use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, Method, request::Parts},
};
use kefu_domain::{
    Agent, AgentPatch, Customer, Lang,
    authz::{Permission, Principal},
};
use kefu_store::CustomerPatch;

pub const LANG_COOKIE: &str = "kefu_lang";

/// The `lang` query parameter, if it names a supported language.
pub fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v).ok())
}

/// The language from the request alone (no session): query, cookie, `Accept-Language`.
pub fn lang_from_request(headers: &HeaderMap, query: Option<&str>) -> Lang {
    negotiate(headers, query, None)
}

fn negotiate(headers: &HeaderMap, query: Option<&str>, preference: Option<Lang>) -> Lang {
    query_lang(query)
        .or_else(|| auth::cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(v).ok()))
        .or(preference)
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

/// Anyone's page context.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tr: Tr,
    pub caller: Option<Caller>,
    /// The session's CSRF token (empty without a session).
    pub csrf: String,
    /// A signed-in agent's unread notifications, for the badge in the navigation: counted
    /// once per GET (one indexed `COUNT`), `None` for everyone else and on other methods
    /// (their answers are redirects, or a form shown again without the badge).
    pub unread: Option<i64>,
    path: String,
    query: String,
}

impl Ctx {
    pub fn lang(&self) -> Lang {
        self.tr.0
    }

    /// Where this user's start page is.
    pub fn home(&self) -> &'static str {
        match self.caller.as_ref().map(|c| c.principal) {
            Some(Principal::Agent { .. }) => "/agent",
            Some(Principal::Customer { .. }) => "/portal",
            None => "/login",
        }
    }

    /// Rejects the form unless its `csrf` field matches the session's token.
    pub fn check_csrf(&self, form: &FormData) -> Result<(), WebError> {
        if !self.csrf.is_empty() && auth::tokens_match(form.get("csrf"), &self.csrf) {
            Ok(())
        } else {
            Err(WebError::csrf())
        }
    }

    /// The page frame, with the language switcher pointing back at this page.
    pub fn chrome(&self, title: impl Into<String>, area: &'static str) -> Chrome {
        let mut c = Chrome::new(self.tr, title.into(), area);
        c.home = self.home();
        c.csrf = self.csrf.clone();
        let rest: Vec<&str> = self
            .query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .collect();
        c.langs = Lang::ALL
            .iter()
            .map(|l| {
                let mut q = rest.clone();
                let pair = format!("lang={}", l.as_str());
                q.push(&pair);
                Link {
                    label: Tr::lang_name(*l).to_string(),
                    href: format!("{}?{}", self.path, q.join("&")),
                    active: *l == self.lang(),
                    class: format!("lang-{}", l.as_str()),
                    badge: None,
                }
            })
            .collect();
        if let Some(c2) = &self.caller {
            c.signed_in = true;
            c.user_name = c2
                .agent
                .as_ref()
                .map(|a| a.name.clone())
                .or_else(|| c2.customer.as_ref().map(|c| c.name.clone()))
                .unwrap_or_default();
        }
        let tr = self.tr;
        let link = |key: &str, href: &str, class: &str, active: bool| Link {
            label: tr.t(key).to_string(),
            href: href.to_string(),
            active,
            class: class.to_string(),
            badge: None,
        };
        match self.caller.as_ref().map(|c| c.principal) {
            Some(p @ Principal::Agent { .. }) => {
                let a = |prefix: &str| self.path.starts_with(prefix);
                c.nav.push(link(
                    "nav.inbox",
                    "/agent",
                    "nav-inbox",
                    self.path == "/agent" || a("/agent/tickets/"),
                ));
                c.nav.push(link(
                    "nav.customers",
                    "/agent/customers",
                    "nav-customers",
                    a("/agent/customers"),
                ));
                c.nav.push(Link {
                    badge: self.unread.and_then(unread_badge),
                    ..link(
                        "nav.notifications",
                        "/agent/notifications",
                        "nav-notifications",
                        a("/agent/notifications"),
                    )
                });
                if p.may(Permission::WriteTickets) {
                    c.nav.push(link(
                        "nav.new_ticket",
                        "/agent/tickets/new",
                        "nav-new",
                        a("/agent/tickets/new"),
                    ));
                }
                if p.may(Permission::Supervise) {
                    c.nav
                        .push(link("nav.sla", "/agent/sla", "nav-sla", a("/agent/sla")));
                }
                if p.may(Permission::Administer) {
                    c.nav
                        .push(link("nav.admin", "/admin/agents", "nav-admin", a("/admin")));
                } else if p.may(Permission::ManageOrganizations) {
                    c.nav.push(link(
                        "nav.organizations",
                        "/admin/organizations",
                        "nav-admin",
                        a("/admin"),
                    ));
                }
            }
            Some(Principal::Customer { .. }) => {
                c.nav.push(link(
                    "nav.my_requests",
                    "/portal",
                    "nav-requests",
                    self.path == "/portal",
                ));
                c.nav.push(link(
                    "nav.new_request",
                    "/portal/new",
                    "nav-new",
                    self.path == "/portal/new",
                ));
            }
            None => {}
        }
        c
    }
}

impl FromRequestParts<crate::AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let caller = auth::caller_from_session(state, &parts.headers).await?;
        let query = parts.uri.query().unwrap_or("").to_string();
        let preference = caller.as_ref().and_then(Caller::preferred_lang);
        let lang = negotiate(&parts.headers, Some(&query), preference);
        if let (Some(chosen), Some(c)) = (query_lang(Some(&query)), &caller)
            && preference != Some(chosen)
        {
            save_preference(state, c, chosen).await;
        }
        let unread = match caller.as_ref().map(|c| c.principal) {
            Some(Principal::Agent { id, .. })
                if matches!(parts.method, Method::GET | Method::HEAD) =>
            {
                Some(state.store.count_unread_notifications(id).await?)
            }
            _ => None,
        };
        let ctx = Ctx {
            tr: Tr(lang),
            unread,
            csrf: caller
                .as_ref()
                .and_then(|c| c.session.as_ref())
                .map(|s| s.csrf_token.clone())
                .unwrap_or_default(),
            caller,
            path: parts.uri.path().to_string(),
            query,
        };
        if let Some(cell) = parts.extensions.get::<PageCell>() {
            let _ = cell.0.set(PageInfo {
                lang,
                home: ctx.home(),
            });
        }
        Ok(ctx)
    }
}

/// The badge text for `n` unread notifications: none for zero, `99+` above 99.
fn unread_badge(n: i64) -> Option<String> {
    match n {
        ..=0 => None,
        1..=99 => Some(n.to_string()),
        _ => Some("99+".into()),
    }
}

/// Best effort: a failure to remember the language is logged, never shown.
async fn save_preference(state: &AppState, caller: &Caller, lang: Lang) {
    let result = match caller.principal {
        Principal::Agent { id, .. } => state
            .store
            .update_agent(
                id,
                &AgentPatch {
                    language: Some(Some(lang)),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
        Principal::Customer { id, .. } => state
            .store
            .update_customer(
                id,
                &CustomerPatch {
                    language: Some(lang),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not save language preference");
    }
}

/// `/login?next=<this page>`, for redirects of signed-out visitors.
fn login_redirect(parts: &Parts) -> WebError {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    WebError::Redirect(format!("/login?next={}", super::form::url_encode(next)))
}

/// A signed-in agent's page context.
#[derive(Debug, Clone)]
pub struct AgentCtx {
    pub ctx: Ctx,
    pub agent: Agent,
}

impl AgentCtx {
    pub fn may(&self, p: Permission) -> bool {
        kefu_domain::authz::agent_may(self.agent.role, p)
    }

    pub fn require(&self, p: Permission) -> Result<(), WebError> {
        if self.may(p) {
            Ok(())
        } else {
            Err(WebError::forbidden())
        }
    }

    pub fn actor(&self) -> kefu_domain::Actor {
        kefu_domain::Actor::Agent(self.agent.id)
    }
}

impl FromRequestParts<AppState> for AgentCtx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        match ctx.caller.as_ref().and_then(|c| c.agent.clone()) {
            Some(agent) => Ok(AgentCtx { ctx, agent }),
            None if ctx.caller.is_some() => Err(WebError::Redirect("/portal".into())),
            None => Err(login_redirect(parts)),
        }
    }
}

/// A signed-in portal customer's page context.
#[derive(Debug, Clone)]
pub struct CustomerCtx {
    pub ctx: Ctx,
    pub customer: Customer,
}

impl CustomerCtx {
    pub fn actor(&self) -> kefu_domain::Actor {
        kefu_domain::Actor::Customer(self.customer.id)
    }
}

impl FromRequestParts<AppState> for CustomerCtx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        match ctx.caller.as_ref().and_then(|c| c.customer.clone()) {
            Some(customer) => Ok(CustomerCtx { ctx, customer }),
            None if ctx.caller.is_some() => Err(WebError::Redirect("/agent".into())),
            None => Err(login_redirect(parts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_unread_badge_shows_small_counts_and_caps_large_ones() {
        assert_eq!(unread_badge(0), None);
        assert_eq!(unread_badge(-1), None);
        assert_eq!(unread_badge(7).as_deref(), Some("7"));
        assert_eq!(unread_badge(99).as_deref(), Some("99"));
        assert_eq!(unread_badge(100).as_deref(), Some("99+"));
    }

    #[test]
    fn an_explicit_choice_beats_the_cookie_which_beats_preference_and_header() {
        let h = headers(&[("accept-language", "zh-TW"), ("cookie", "kefu_lang=zh-CN")]);
        assert_eq!(negotiate(&h, Some("lang=en"), Some(Lang::ZhTw)), Lang::En);
        assert_eq!(negotiate(&h, None, Some(Lang::En)), Lang::ZhCn);
        let h = headers(&[("accept-language", "zh-TW,zh;q=0.8")]);
        assert_eq!(
            negotiate(&h, Some("view=mine"), Some(Lang::ZhCn)),
            Lang::ZhCn
        );
        assert_eq!(negotiate(&h, None, None), Lang::ZhTw);
        assert_eq!(
            negotiate(&HeaderMap::new(), Some("lang=fr"), None),
            Lang::En
        );
    }
}
