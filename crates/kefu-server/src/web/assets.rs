//! Static assets (CSS, a little JS) compiled into the binary with `include_str!` and
//! served under `/static/`. Pages link them with a content hash (`?v=…`) so browsers may
//! cache them forever; a new build changes the hash.

use crate::AppState;
use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");

fn version(content: &str) -> String {
    hex::encode(&Sha256::digest(content.as_bytes())[..6])
}

/// Versioned URL of the stylesheet, for `<link href>`.
pub static CSS_URL: LazyLock<String> =
    LazyLock::new(|| format!("/static/app.css?v={}", version(CSS)));
/// Versioned URL of the script, for `<script src>`.
pub static JS_URL: LazyLock<String> = LazyLock::new(|| format!("/static/app.js?v={}", version(JS)));

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/app.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/app.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_carry_a_content_hash() {
        assert!(CSS_URL.starts_with("/static/app.css?v="));
        assert_eq!(JS_URL.len(), "/static/app.js?v=".len() + 12);
    }
}
