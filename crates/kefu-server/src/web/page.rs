//! Rendering plumbing shared by every page: [`WebError`] and the [`pages`] middleware that
//! turns it into a friendly HTML error page in the user's language, the [`Chrome`] (top
//! bar, navigation, language switcher) each template extends, and time formatting.
//!
//! Error pages need the user's language, which is only known once the handler's
//! [`super::session::Ctx`] resolved the session; the middleware hands the handler a
//! [`PageCell`] in the request extensions and the context writes the language into it.

use super::{
    assets,
    i18n::Tr,
    session::{self, LANG_COOKIE},
};
use askama::Template;
use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use kefu_domain::{Lang, Timestamp};
use std::sync::{Arc, OnceLock};

/// What went wrong, as far as the user needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Forbidden,
    Csrf,
    Invalid,
    TooLarge,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden | ErrorKind::Csrf => StatusCode::FORBIDDEN,
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn from_status(s: StatusCode) -> ErrorKind {
        match s {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ErrorKind::NotFound,
            StatusCode::FORBIDDEN => ErrorKind::Forbidden,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::TooLarge,
            s if s.is_client_error() => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        }
    }

    fn key(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "error.not_found",
            ErrorKind::Forbidden => "error.forbidden",
            ErrorKind::Csrf => "error.csrf",
            ErrorKind::Invalid => "error.invalid",
            ErrorKind::TooLarge => "error.too_large",
            ErrorKind::Internal => "error.internal",
        }
    }
}

/// The error side of every page handler.
#[derive(Debug)]
pub enum WebError {
    /// Show an error page.
    Page(ErrorKind),
    /// Send the browser elsewhere (303), e.g. to `/login` when not signed in.
    Redirect(String),
}

pub type WebResult<T = Response> = Result<T, WebError>;

impl WebError {
    pub fn not_found() -> Self {
        WebError::Page(ErrorKind::NotFound)
    }
    pub fn forbidden() -> Self {
        WebError::Page(ErrorKind::Forbidden)
    }
    pub fn csrf() -> Self {
        WebError::Page(ErrorKind::Csrf)
    }
    pub fn invalid() -> Self {
        WebError::Page(ErrorKind::Invalid)
    }
    pub fn internal() -> Self {
        WebError::Page(ErrorKind::Internal)
    }
}

impl From<kefu_store::StoreError> for WebError {
    fn from(e: kefu_store::StoreError) -> Self {
        use kefu_store::StoreError as E;
        match e {
            E::Domain(_) | E::InvalidReference(_) | E::Conflict(_) => WebError::invalid(),
            other => {
                tracing::error!(error = %other, "store failure in web handler");
                WebError::internal()
            }
        }
    }
}

impl From<crate::error::ApiError> for WebError {
    fn from(e: crate::error::ApiError) -> Self {
        use crate::error::ErrorCode as C;
        WebError::Page(match e.code {
            C::NotFound => ErrorKind::NotFound,
            C::Forbidden | C::Unauthenticated => ErrorKind::Forbidden,
            C::CsrfFailed => ErrorKind::Csrf,
            C::PayloadTooLarge => ErrorKind::TooLarge,
            C::Internal => ErrorKind::Internal,
            _ => ErrorKind::Invalid,
        })
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Redirect(to) => Redirect::to(&to).into_response(),
            WebError::Page(kind) => {
                // Plain fallback; the `pages` middleware replaces it with an HTML page.
                let mut res = (kind.status(), kind.key()).into_response();
                res.extensions_mut().insert(kind);
                res
            }
        }
    }
}

/// Fallback for unknown paths: a 404 page (rendered by the middleware).
pub async fn not_found() -> WebError {
    WebError::not_found()
}

/// Renders a template into a 200 page, or a given status.
pub fn render<T: Template>(t: &T) -> WebResult {
    render_with(StatusCode::OK, t)
}

pub fn render_with<T: Template>(status: StatusCode, t: &T) -> WebResult {
    match t.render() {
        Ok(html) => Ok((status, Html(html)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            Err(WebError::internal())
        }
    }
}

/// The status of a form page: 422 when it shows an error, else 200.
pub fn form_status(error: &Option<String>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// What the handler learned about the user, for the middleware's error page.
#[derive(Debug, Clone, Copy)]
pub struct PageInfo {
    pub lang: Lang,
    /// Where "back to start" on an error page goes.
    pub home: &'static str,
}

/// Shared slot between the middleware and the handler's context extractor.
#[derive(Debug, Clone, Default)]
pub struct PageCell(pub Arc<OnceLock<PageInfo>>);

/// A link in the top bar or the language switcher.
#[derive(Debug, Clone)]
pub struct Link {
    pub label: String,
    pub href: String,
    pub active: bool,
    /// Extra class / stable hook (e.g. `lang-zh-TW`, `nav-inbox`).
    pub class: String,
    /// A count shown next to the label (unread notifications), if any.
    pub badge: Option<String>,
}

/// The frame around every page: title, top navigation, user, language switcher.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub html_lang: &'static str,
    /// `agent`, `portal`, `admin` or `public`; becomes the `<body>` class.
    pub area: &'static str,
    pub home: &'static str,
    pub user_name: String,
    pub signed_in: bool,
    pub csrf: String,
    pub nav: Vec<Link>,
    pub langs: Vec<Link>,
    pub css: &'static str,
    pub js: &'static str,
}

impl Chrome {
    pub fn new(tr: Tr, title: String, area: &'static str) -> Chrome {
        Chrome {
            title,
            html_lang: tr.html_lang(),
            area,
            home: "/",
            user_name: String::new(),
            signed_in: false,
            csrf: String::new(),
            nav: Vec::new(),
            langs: Vec::new(),
            css: assets::CSS_URL.as_str(),
            js: assets::JS_URL.as_str(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    tr: Tr,
    chrome: Chrome,
    heading: &'static str,
    detail: &'static str,
    code: u16,
}

fn error_page(kind: ErrorKind, info: PageInfo) -> Response {
    let tr = Tr(info.lang);
    let mut chrome = Chrome::new(tr, tr.t(kind.key()).to_string(), "public");
    chrome.home = info.home;
    let page = ErrorPage {
        tr,
        chrome,
        heading: tr.t(kind.key()),
        detail: tr.t(&format!("{}.detail", kind.key())),
        code: kind.status().as_u16(),
    };
    match page.render() {
        Ok(html) => (kind.status(), Html(html)).into_response(),
        Err(_) => (kind.status(), kind.key()).into_response(),
    }
}

/// Middleware around every page: renders error pages, stores a `?lang=` choice in a
/// cookie, and sets security headers (CSP without inline script, no framing, no
/// caching of private pages).
pub async fn pages(mut req: Request, next: Next) -> Response {
    let cell = PageCell::default();
    let fallback_lang = session::lang_from_request(req.headers(), req.uri().query());
    let chosen = session::query_lang(req.uri().query());
    req.extensions_mut().insert(cell.clone());
    let mut res = next.run(req).await;

    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let kind = res.extensions().get::<ErrorKind>().copied();
    let kind = kind.or_else(|| {
        let s = res.status();
        (s.is_client_error() || s.is_server_error())
            .then(|| ErrorKind::from_status(s))
            .filter(|_| !is_html)
    });
    if let Some(kind) = kind {
        let info = cell.0.get().copied().unwrap_or(PageInfo {
            lang: fallback_lang,
            home: "/",
        });
        let status = res.status();
        res = error_page(kind, info);
        *res.status_mut() = status;
    }
    let h = res.headers_mut();
    if let Some(lang) = chosen {
        let c = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.as_str()
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    let defaults = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}

/// "3 min ago", "2 days ago"; dates for anything older than a week.
pub fn ago(tr: Tr, t: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second() - t.as_second();
    let n = |v: i64| v.to_string();
    match secs {
        s if s < 60 => tr.t("time.just_now").to_string(),
        s if s < 3600 => tr.f("time.minutes_ago", &[("n", &n(s / 60))]),
        s if s < 86_400 => tr.f("time.hours_ago", &[("n", &n(s / 3600))]),
        s if s < 7 * 86_400 => tr.f("time.days_ago", &[("n", &n(s / 86_400))]),
        _ => t.strftime("%Y-%m-%d").to_string(),
    }
}

/// Absolute time in UTC, for tooltips (`title`), e.g. `2025-03-01 14:03 UTC`.
pub fn stamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally_in_each_language() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let before = |s: i64| Timestamp::from_second(1_700_000_000 - s).unwrap();
        assert_eq!(ago(Tr(Lang::En), before(10), now), "just now");
        assert_eq!(ago(Tr(Lang::En), before(180), now), "3 min ago");
        assert_eq!(ago(Tr(Lang::ZhCn), before(7200), now), "2 小时前");
        assert_eq!(ago(Tr(Lang::ZhTw), before(2 * 86_400), now), "2 天前");
        assert_eq!(ago(Tr(Lang::En), before(30 * 86_400), now), "2023-10-15");
    }
}
