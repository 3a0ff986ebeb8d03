//! Form input: one extractor for both `application/x-www-form-urlencoded` and
//! `multipart/form-data` bodies (fields plus uploaded files), and small helpers for
//! reading fields, building URLs and reporting invalid input in the user's language.
//!
//! Malformed bodies become a 422 page, oversized ones a 413 page; never a 500.

use super::{
    i18n::Tr,
    page::{WebError, WebResult},
};
use crate::AppState;
use axum::{
    Form,
    extract::{FromRequest, Multipart, Request},
    http::{StatusCode, header},
};
use kefu_domain::DomainError;
use kefu_store::{MAX_ATTACHMENT_BYTES, NewAttachment, StoreError};

/// A submitted form: text fields in order (repeated names allowed) and files.
#[derive(Debug, Default)]
pub struct FormData {
    pub fields: Vec<(String, String)>,
    pub files: Vec<NewAttachment>,
}

impl FormData {
    /// The first value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of `name` (multi-selects, checkbox groups).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True if a checkbox named `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, v)| k == name && !v.is_empty())
    }

    /// A submitted form without files, for the editors' unit tests.
    #[cfg(test)]
    pub fn from_pairs(fields: &[(&str, &str)]) -> FormData {
        FormData {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: Vec::new(),
        }
    }
}

fn too_large(status: StatusCode) -> WebError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::Page(super::page::ErrorKind::TooLarge)
    } else {
        WebError::invalid()
    }
}

impl FromRequest<AppState> for FormData {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, state)
                .await
                .map_err(|r| too_large(r.status()))?;
            return Ok(FormData {
                fields,
                files: Vec::new(),
            });
        }
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|r| too_large(r.status()))?;
        let mut out = FormData::default();
        while let Some(field) = mp.next_field().await.map_err(|e| too_large(e.status()))? {
            let name = field.name().unwrap_or("").to_string();
            match field.file_name().map(str::to_string) {
                Some(filename) => {
                    let content_type = clean_content_type(field.content_type());
                    let data = field.bytes().await.map_err(|e| too_large(e.status()))?;
                    if filename.is_empty() && data.is_empty() {
                        continue; // a file input left empty
                    }
                    if data.len() > MAX_ATTACHMENT_BYTES {
                        return Err(too_large(StatusCode::PAYLOAD_TOO_LARGE));
                    }
                    out.files.push(NewAttachment {
                        filename: clean_filename(&filename),
                        content_type,
                        data: data.to_vec(),
                    });
                }
                None => {
                    let value = field.text().await.map_err(|e| too_large(e.status()))?;
                    out.fields.push((name, value));
                }
            }
        }
        Ok(out)
    }
}

/// The last path segment, without control characters, at most 200 characters.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let s = s.trim().trim_start_matches('.').to_string();
    if s.is_empty() {
        "attachment".to_string()
    } else {
        s
    }
}

fn clean_content_type(ct: Option<&str>) -> String {
    let ct = ct.unwrap_or("").trim().to_ascii_lowercase();
    let ok = ct.len() < 100
        && ct.split_once('/').is_some_and(|(a, b)| {
            let tok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            };
            tok(a) && tok(b)
        });
    if ok {
        ct
    } else {
        "application/octet-stream".to_string()
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses a decimal id from a path segment; anything else is "not found".
pub fn parse_id(s: &str) -> Result<i64, WebError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(WebError::not_found)
}

/// A sentence telling the user what to fix in `field`.
pub fn hint(tr: Tr, field: &str) -> String {
    let key = match field {
        "email" => "hint.email",
        "subject" => "hint.subject",
        "body" => "hint.body",
        "password" => "hint.password",
        "name" => "hint.name",
        "tags" => "hint.tags",
        "tier" => "hint.tier",
        "status" | "priority" | "type" | "role" | "segment" => "hint.choice",
        _ => "hint.generic",
    };
    tr.t(key).to_string()
}

/// A user-facing message for a store or domain error met while saving a form, or `None`
/// for internal faults (which become a 500 page).
fn store_message(tr: Tr, e: &StoreError) -> Option<String> {
    Some(match e {
        StoreError::Domain(d) => domain_message(tr, d),
        StoreError::InvalidReference(_) => tr.t("error.reference").to_string(),
        StoreError::Conflict(_) => tr.t("error.conflict").to_string(),
        _ => return None,
    })
}

/// Sorts the result of saving a form: `Ok(Ok(v))` saved; `Ok(Err(message))` the store
/// rejected input the user can fix, so show the form again with the message; `Err` an
/// internal fault (a 500 page).
pub fn saved<T>(tr: Tr, r: Result<T, StoreError>) -> WebResult<Result<T, String>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => match store_message(tr, &e) {
            Some(msg) => Ok(Err(msg)),
            None => Err(e.into()),
        },
    }
}

/// [`saved`] for a change to a record that may have gone meanwhile: that is a 404.
pub fn saved_existing<T>(tr: Tr, r: Result<Option<T>, StoreError>) -> WebResult<Result<T, String>> {
    match saved(tr, r)? {
        Ok(Some(v)) => Ok(Ok(v)),
        Ok(None) => Err(WebError::not_found()),
        Err(msg) => Ok(Err(msg)),
    }
}

pub fn domain_message(tr: Tr, e: &DomainError) -> String {
    match e {
        DomainError::Invalid { field, .. } => hint(tr, field),
        DomainError::IllegalTransition { from, to } => {
            let st = |s: &str| {
                kefu_domain::Status::parse(s)
                    .map(|s| tr.status(s))
                    .unwrap_or("?")
            };
            tr.f("error.transition", &[("from", st(from)), ("to", st(to))])
        }
        DomainError::TicketClosed => tr.t("error.closed").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_quotes() {
        assert_eq!(clean_filename("C:\\Users\\li\\发票.pdf"), "发票.pdf");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\"b\r\n.txt"), "ab.txt");
        assert_eq!(clean_filename(".."), "attachment");
    }

    #[test]
    fn content_types_are_kept_only_when_well_formed() {
        assert_eq!(clean_content_type(Some("Image/PNG")), "image/png");
        assert_eq!(
            clean_content_type(Some("text/html; charset=utf-8\r\nX: y")),
            "application/octet-stream"
        );
        assert_eq!(clean_content_type(None), "application/octet-stream");
    }

    #[test]
    fn url_encoding_escapes_reserved_and_non_ascii() {
        assert_eq!(
            url_encode("/agent?view=mine&x=1"),
            "%2Fagent%3Fview%3Dmine%26x%3D1"
        );
        assert_eq!(url_encode("王"), "%E7%8E%8B");
    }
}
