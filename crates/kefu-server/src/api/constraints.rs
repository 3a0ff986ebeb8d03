//! What the API accepts in text fields, as OpenAPI schemas: the validators of
//! `kefu_domain::values` (and of the handlers) written as patterns, so that every value
//! the document allows is accepted and what it forbids is rejected (checked by
//! schemathesis in CI, `.ci/run`, section "api-conformance").
//!
//! Patterns are written for both ECMA-262 (what OpenAPI 3.1 specifies) and Python's `re`
//! (what schemathesis generates from): plain classes, `\xNN`/`\uNNNN` escapes, no
//! lookaround. The validators trim whitespace first (Rust's `str::trim`, the Unicode
//! White_Space set), so each anchored pattern allows it around the value; that also makes
//! Python's `$` (which matches before a final newline) harmless.

use serde_json::{Value, json};
use utoipa::openapi::{RefOr, schema::Schema};

/// Unicode White_Space, what `str::trim` and `char::is_whitespace` remove, as a class body.
pub const WS: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (`char::is_control`, general category Cc), as a class body.
pub const CC: &str = r"\x00-\x1f\x7f-\x9f";

/// 1–`max` characters after trimming, no control characters (`parse_name`, ≤ 120).
pub fn printable(max: usize) -> String {
    format!(
        r"^[{WS}]*[^{WS}{CC}](?:[^{CC}]{{0,{inner}}}[^{WS}{CC}])?[{WS}]*$",
        inner = max - 2
    )
}

pub fn subject() -> String {
    format!(r"^[{WS}]*[^{WS}](?:[\s\S]{{0,248}}[^{WS}])?[{WS}]*$")
}

/// Not blank: at least one character that is not whitespace (`parse_body`).
pub fn not_blank() -> String {
    format!(r"[^{WS}]")
}

/// `Email::parse`: `local@domain.tld`, no whitespace, control characters or `<>`.
pub fn email() -> String {
    let c = format!("[^{WS}{CC}<>]");
    let d = format!("[^{WS}{CC}<>@.]");
    format!(r"^[{WS}]*{c}+@{d}+(?:\.{d}+)+[{WS}]*$")
}

/// `Tag::parse`: 1–64 characters, no whitespace, commas or control characters.
pub fn tag() -> String {
    format!(r"^[{WS}]*[^{WS}{CC},]{{1,64}}[{WS}]*$")
}

/// A phone number or external id (the handlers' `short_values`): at most 200 printable
/// characters; blank values are skipped.
pub fn short_value_or_blank() -> String {
    format!(r"^[{WS}]*(?:[^{WS}{CC}](?:[^{CC}]{{0,198}}[^{WS}{CC}])?)?[{WS}]*$")
}

/// An IANA time zone name: 1–64 visible ASCII characters.
pub fn time_zone() -> String {
    format!(r"^[{WS}]*[!-~]{{1,64}}[{WS}]*$")
}

/// An email domain of an organization (`a.example`), optionally written `@a.example`.
pub fn domain() -> String {
    format!(r"^[{WS}]*@*[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[{WS}]*$")
}

/// A comma-separated list of `values`, or blank.
pub fn list_of(values: &[&str]) -> String {
    let alts = values.join("|");
    format!(r"^[{WS}]*(?:(?:{alts})(?:[{WS}]*,[{WS}]*(?:{alts}))*)?[{WS}]*$")
}

/// Ticket list cursor as the store issues it: `<µs>.<id>`.
pub fn ticket_cursor() -> String {
    format!(r"^[{WS}]*[+-]?[0-9]{{1,18}}\.[+-]?[0-9]{{1,18}}[{WS}]*$")
}

/// Customer list cursor as the store issues it: the last id.
pub fn id_cursor() -> String {
    format!(r"^[{WS}]*[+-]?[0-9]{{1,18}}[{WS}]*$")
}

/// A schema from its JSON form.
pub fn schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).expect("a valid OpenAPI schema")
}

pub fn string(description: &str, pattern: String) -> RefOr<Schema> {
    schema(json!({"type": "string", "description": description, "pattern": pattern}))
}

/// Named string schemas (`components/schemas/<Name>`), used with `value_type = <Name>`.
macro_rules! text {
    ($($name:ident => $schema:expr;)*) => {$(
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

text! {
    DisplayName => string("A name: 1–120 characters after trimming, no control characters.", printable(120));
    SubjectText => string("A ticket subject: 1–250 characters after trimming.", subject());
    BodyText => string("Plain text, not blank, at most 256 KiB (UTF-8).", not_blank());
    EmailAddress => schema(json!({
        "type": "string", "maxLength": 254, "pattern": email(),
        "description": "An email address, at most 254 bytes (UTF-8); stored lowercased."
    }));
    TagText => string("A tag: 1–64 characters, no whitespace, commas or control characters; stored lowercased.", tag());
    ShortValue => string("At most 200 printable characters; blank values are ignored.", short_value_or_blank());
    TimeZoneName => string("An IANA time zone name such as `Asia/Shanghai`: 1–64 visible ASCII characters.", time_zone());
    DomainName => schema(json!({
        "type": "string", "maxLength": 253, "pattern": domain(),
        "description": "An email domain such as `huaxin.example.com` (a leading `@` is dropped); stored lowercased."
    }));
    Password => schema(json!({
        "type": "string", "minLength": 8,
        "description": "At least 8 characters, at most 1024 bytes (UTF-8)."
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_balanced_and_use_no_lookaround() {
        for p in [
            printable(120),
            subject(),
            not_blank(),
            email(),
            tag(),
            short_value_or_blank(),
            time_zone(),
            domain(),
            list_of(&["new", "open"]),
            ticket_cursor(),
            id_cursor(),
        ] {
            assert!(!p.contains("(?="), "{p}");
            assert!(!p.contains("(?!"), "{p}");
            assert_eq!(p.matches('(').count(), p.matches(')').count(), "{p}");
        }
        assert!(printable(120).contains("{0,118}"));
    }
}
