//! `/api/openapi.json` and `/api/docs`: the OpenAPI document and a readable HTML page
//! rendered on the server from that same document (no scripts, no external assets), so
//! the page can never disagree with the JSON.

use crate::api::ApiDoc;
use crate::sanitize::escape;
use axum::{
    Json,
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};
use serde_json::Value;
use std::fmt::Write;
use std::sync::LazyLock;
use utoipa::OpenApi;

static DOC: LazyLock<Value> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(openapi()).expect("the OpenAPI document serializes");
    add_common_responses(&mut doc);
    describe_responses(&mut doc);
    doc
});

/// The whole API: [`ApiDoc`] and the parts declared next to their handlers (SLA), with
/// `operations` kept as the last tag.
fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = ApiDoc::openapi();
    api.merge(crate::api::sla::SlaApiDoc::openapi());
    if let Some(tags) = api.tags.as_mut()
        && let Some(i) = tags.iter().position(|t| t.name == "operations")
    {
        let ops = tags.remove(i);
        tags.push(ops);
    }
    api
}

/// The error statuses that come from the extractors and the authentication layer rather
/// than from a handler's own logic, added to every operation they apply to so that the
/// document lists every status an operation can answer with:
/// 401 on every authenticated operation; 403 on every authenticated write (CSRF check
/// of session writes); 404 wherever there is a path id (malformed or unknown); 413, 415
/// and 422 wherever there is a request body; 422 wherever there are query or header
/// parameters. Also gives the `Idempotency-Key` header its schema.
fn add_common_responses(doc: &mut Value) {
    let error = serde_json::json!({
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (method, op) in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
    {
        // (`get`, not indexing: indexing a `&mut Value` inserts `null` for a missing key.)
        let public = op
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|r| r.is_empty()))
            });
        let params = op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .map(std::mem::take)
            .unwrap_or_default();
        let has = |place: &str| params.iter().any(|p| p["in"] == place);
        let mut statuses = Vec::new();
        if !public {
            statuses.push("401");
            if method != "get" {
                statuses.push("403");
            }
        }
        if has("path") {
            statuses.push("404");
        }
        if op.get("requestBody").is_some() {
            statuses.extend(["413", "415", "422"]);
        }
        if has("query") || has("header") {
            statuses.push("422");
        }
        let params: Vec<Value> = params
            .into_iter()
            .map(|mut p| {
                if p["name"] == "Idempotency-Key" {
                    p["schema"] = serde_json::json!({
                        "type": "string", "pattern": "^[!-~]{1,255}$",
                        "description": "1–255 visible ASCII characters"
                    });
                }
                p
            })
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::from(params);
        }
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for status in statuses {
            responses.entry(status).or_insert_with(|| error.clone());
        }
        // Keep the statuses in order (the map keeps insertion order).
        let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        responses.extend(sorted);
    }
}

/// OpenAPI requires a description on every response; the handlers' annotations give the
/// status and body only, so the meaning of each status is filled in here, once.
fn describe_responses(doc: &mut Value) {
    let meaning = |status: &str| match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted: queued, done in the background",
        "401" => "No or bad credentials (`unauthenticated`)",
        "403" => "Not allowed for this caller (`forbidden`, `csrf_failed`)",
        "404" => "Not found, or not visible to the caller (`not_found`)",
        "409" => "Conflicts with an existing record (`conflict`)",
        "413" => "Body larger than the limit (`payload_too_large`)",
        "415" => "Body without `Content-Type: application/json` (`unsupported_media_type`)",
        "422" => {
            "Invalid input (`invalid_input`, `malformed_json`, `illegal_transition`, `ticket_closed`)"
        }
        "503" => "Database unavailable",
        _ => "",
    };
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for (status, r) in responses.iter_mut() {
            if r.get("description")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                r["description"] = Value::from(meaning(status));
            }
        }
    }
}

static PAGE: LazyLock<String> = LazyLock::new(|| render(&DOC));

pub async fn openapi_json() -> Json<Value> {
    Json(DOC.clone())
}

pub async fn docs_page() -> Response {
    let csp = HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'");
    (
        [(header::CONTENT_SECURITY_POLICY, csp)],
        Html(PAGE.as_str()),
    )
        .into_response()
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Escaped text with `code spans` (as in the descriptions) rendered as `<code>`.
fn text(v: &Value) -> String {
    escape(v.as_str().unwrap_or_default())
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// A short human form of a schema: a link for `$ref`s, `type (format)` for primitives.
fn schema_ref(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if let Some(items) = schema.get("items") {
        return format!("array of {}", schema_ref(items));
    }
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        return alts.iter().map(schema_ref).collect::<Vec<_>>().join(" or ");
    }
    let types = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => return format!("<code>{}</code>", escape(&schema.to_string())),
    };
    match schema["format"].as_str() {
        Some(f) => format!("{} ({})", escape(&types), escape(f)),
        None => escape(&types),
    }
}

fn render_operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        out,
        "<section class=op><h3><span class=\"m {m}\">{M}</span> <code>{p}</code></h3><p>{s}</p>",
        m = method,
        M = method.to_uppercase(),
        p = escape(path),
        s = text(&op["summary"]),
    );
    if let Some(d) = op["description"].as_str() {
        let _ = write!(out, "<p class=desc>{}</p>", escape(d));
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Schema</th><th>Description</th></tr>");
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&p["name"]),
                text(&p["in"]),
                if p["required"].as_bool().unwrap_or(false) {
                    "yes"
                } else {
                    "no"
                },
                schema_ref(&p["schema"]),
                text(&p["description"]),
            );
        }
        out.push_str("</table>");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        for (ct, media) in content {
            let _ = write!(
                out,
                "<p>Request body (<code>{}</code>): {}</p>",
                escape(ct),
                schema_ref(&media["schema"])
            );
        }
    }
    if let Some(responses) = op["responses"].as_object() {
        out.push_str("<ul class=responses>");
        for (code, r) in responses {
            let body = r["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|m| schema_ref(&m["schema"]))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<li><b>{}</b> {} {}</li>",
                escape(code),
                text(&r["description"]),
                body
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}

/// The whole page. Plain HTML with a little inline CSS.
pub fn render(doc: &Value) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{t} {v}</title><style>\
         body{{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}}\
         code,pre{{font:13px ui-monospace,monospace;background:#f4f4f4;padding:0 .2em}}\
         pre{{padding:.6em;overflow:auto}} .op{{border-top:1px solid #ddd;padding:.4em 0}}\
         .m{{display:inline-block;min-width:4.5em;font-size:12px;color:#fff;padding:.1em .4em;border-radius:3px;text-align:center}}\
         .get{{background:#2b7bb9}} .post{{background:#3a9b50}} .patch{{background:#b9862b}} .put{{background:#8a5bb0}} .delete{{background:#b93a2b}}\
         table{{border-collapse:collapse}} td,th{{border:1px solid #ddd;padding:.2em .5em;text-align:left}}\
         </style></head><body><h1>{t} <small>{v}</small></h1><p>{d}</p>\
         <p>Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a></p>",
        t = text(&doc["info"]["title"]),
        v = text(&doc["info"]["version"]),
        d = text(&doc["info"]["description"]),
    );
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let _ = write!(
            out,
            "<h2>{}</h2><p>{}</p>",
            text(&tag["name"]),
            text(&tag["description"])
        );
        for (path, item) in paths {
            for m in METHODS {
                match item.get(m) {
                    Some(op)
                        if op["tags"]
                            .as_array()
                            .is_some_and(|t| t.contains(&tag["name"])) =>
                    {
                        render_operation(&mut out, m, path, op)
                    }
                    _ => {}
                }
            }
        }
    }
    out.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                out,
                "<h3 id=\"schema-{0}\">{0}</h3><pre>{1}</pre>",
                escape(name),
                escape(&pretty)
            );
        }
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_endpoints_and_domain_vocabularies() {
        let paths = DOC["paths"].as_object().unwrap();
        for p in [
            "/api/v1/tickets",
            "/api/v1/tickets/{id}/messages",
            "/api/v1/customers/{id}/tickets",
            "/api/v1/sla-policies/{id}",
            "/api/v1/tickets/{id}/sla",
            "/healthz",
        ] {
            assert!(paths.contains_key(p), "{p} missing");
        }
        let statuses = &DOC["components"]["schemas"]["StatusName"]["enum"];
        let expected: Vec<_> = kefu_domain::Status::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(statuses, &serde_json::json!(expected));
        assert!(DOC["components"]["securitySchemes"]["bearer"].is_object());
        let described = paths
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|op| op["responses"].as_object())
            .flat_map(|responses| responses.values())
            .all(|r| r["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(described, "every response has a description");
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let r = &op["responses"];
                if !path.starts_with("/api/") {
                    assert!(r.get("401").is_none(), "{method} {path} is public");
                    continue;
                }
                assert!(r["401"].is_object(), "{method} {path}: 401");
                if path.contains("{id}") {
                    assert!(r["404"].is_object(), "{method} {path}: 404");
                }
                if op.get("requestBody").is_some() {
                    for s in ["413", "415", "422"] {
                        assert!(r[s].is_object(), "{method} {path}: {s}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_page_escapes_and_links_schemas() {
        let page = render(&DOC);
        assert!(page.contains("<code>/api/v1/tickets/{id}</code>"));
        assert!(page.contains("href=\"#schema-TicketDto\""));
        assert!(page.contains("id=\"schema-TicketDto\""));
        assert!(!page.contains("<script"));
    }
}
