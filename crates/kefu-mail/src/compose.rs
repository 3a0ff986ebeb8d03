//! [`OutgoingMail`] → RFC 5322 bytes, written with lettre's message builder.
//!
//! Owns the wire shape of everything kefu sends: headers (RFC 2047 for non-ASCII names and
//! subjects), threading headers, the MIME tree and attachment file names. It never decides
//! *what* to send (reply tokens, auto-reply policy and threading live in `kefu_domain::mail`)
//! and never touches the network (see [`crate::relay`]).
//!
//! Guarantees:
//! - The output is 7-bit ASCII with CRLF line endings: bodies are quoted-printable or base64,
//!   headers RFC 2047/2231-encoded, so any relay takes it without 8BITMIME or SMTPUTF8.
//! - The MIME tree is the smallest that carries the content:
//!   `text/plain` alone; `multipart/alternative(text/plain, text/html)` with HTML;
//!   `multipart/mixed(<body>, attachments…)` with attachments.
//! - Every id is written in angle brackets; `References` holds at most
//!   [`MAX_REFERENCES`] ids (the first and the most recent ones).

use std::fmt::Write as _;

use lettre::Address;
use lettre::message::header::{
    ContentDisposition, Header, HeaderName, HeaderValue, InReplyTo, References,
};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::OutgoingMail;

/// The most ids written into `References`: the thread's first message and the latest ones,
/// as Thunderbird and Gmail trim long threads; a header of hundreds of ids helps no one.
pub const MAX_REFERENCES: usize = 20;

/// Why an [`OutgoingMail`] could not be written. All of these are caller mistakes (bad input),
/// so retrying the same mail will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid {field} address {value:?}: {reason}")]
    InvalidAddress {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("the mail has no recipient (To and Cc are empty)")]
    NoRecipients,
    #[error("invalid Message-ID {0:?} (expected `left@right` in printable ASCII, no brackets)")]
    InvalidMessageId(String),
    #[error("invalid Content-Language {0:?} (expected a language tag like `zh-CN`)")]
    InvalidLanguage(String),
    #[error("could not build the message: {0}")]
    Build(String),
}

/// A Message-ID for a mail kefu sends, without angle brackets: `kefu.{unique}@{domain}`.
///
/// `unique` must be unique per mail (e.g. the message's database id plus a random part);
/// characters outside `[A-Za-z0-9._+=-]` in either argument are replaced by `-` so the id
/// is always a valid `msg-id`.
pub fn new_message_id(domain: &str, unique: &str) -> String {
    fn clean(s: &str, fallback: &str) -> String {
        let s: String = s
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '=' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if s.is_empty() { fallback.to_owned() } else { s }
    }
    format!(
        "kefu.{}@{}",
        clean(unique, "0"),
        clean(&domain.to_ascii_lowercase(), "localhost")
    )
}

/// The SMTP `RCPT TO` addresses for `m`: every `To` and `Cc` address, trimmed, in order,
/// without duplicates (compared case-insensitively). Empty addresses are skipped.
pub fn envelope_recipients(m: &OutgoingMail) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(m.to.len() + m.cc.len());
    for addr in m.to.iter().chain(&m.cc) {
        let email = addr.email.trim();
        if !email.is_empty() && !out.iter().any(|seen| seen.eq_ignore_ascii_case(email)) {
            out.push(email.to_owned());
        }
    }
    out
}

/// Writes `m` as RFC 5322 bytes (CRLF line endings, 7-bit clean).
///
/// `Date` is `m.date`, or now when unset. Ids in `in_reply_to`/`references` that cannot be
/// written as a `msg-id` (empty, whitespace, brackets inside) are left out rather than failing
/// the mail; surrounding angle brackets are tolerated.
pub fn compose(m: &OutgoingMail) -> Result<Vec<u8>, ComposeError> {
    if envelope_recipients(m).is_empty() {
        return Err(ComposeError::NoRecipients);
    }
    let message_id = strip_brackets(&m.message_id);
    if !is_own_message_id(message_id) {
        return Err(ComposeError::InvalidMessageId(m.message_id.clone()));
    }

    let mut builder = lettre::Message::builder()
        .from(mailbox("From", &m.from.email, m.from.name.as_deref())?)
        .subject(one_line(&m.subject))
        .message_id(Some(format!("<{message_id}>")));
    for to in &m.to {
        builder = builder.to(mailbox("To", &to.email, to.name.as_deref())?);
    }
    for cc in &m.cc {
        builder = builder.cc(mailbox("Cc", &cc.email, cc.name.as_deref())?);
    }
    if let Some(reply_to) = &m.reply_to {
        let reply_to: Mailbox =
            reply_to
                .trim()
                .parse()
                .map_err(
                    |e: lettre::address::AddressError| ComposeError::InvalidAddress {
                        field: "Reply-To",
                        value: reply_to.clone(),
                        reason: e.to_string(),
                    },
                )?;
        builder = builder.reply_to(reply_to);
    }
    if let Some(date) = m.date {
        builder = builder.date(std::time::SystemTime::from(date));
    }
    if let Some(id) = m.in_reply_to.as_deref().map(strip_brackets)
        && is_foreign_message_id(id)
    {
        builder = builder.header(InReplyTo::from(format!("<{id}>")));
    }
    let references = references(&m.references);
    if !references.is_empty() {
        builder = builder.header(References::from(references));
    }
    if m.auto_submitted {
        // RFC 3834 for everyone, and the Exchange-specific one so Outlook does not answer
        // an acknowledgement with its own out-of-office reply.
        builder = builder
            .raw_header(raw("Auto-Submitted", "auto-replied"))
            .raw_header(raw("X-Auto-Response-Suppress", "All"));
    }
    if let Some(language) = &m.language {
        let language = language.trim();
        if !is_language_tag(language) {
            return Err(ComposeError::InvalidLanguage(language.to_owned()));
        }
        builder = builder.raw_header(raw("Content-Language", language));
    }

    let body = match &m.html {
        None => Body::Single(SinglePart::plain(m.text.clone())),
        Some(html) => Body::Multi(MultiPart::alternative_plain_html(
            m.text.clone(),
            html.clone(),
        )),
    };
    let message = if m.attachments.is_empty() {
        match body {
            Body::Single(part) => builder.singlepart(part),
            Body::Multi(part) => builder.multipart(part),
        }
    } else {
        let mut mixed = match body {
            Body::Single(part) => MultiPart::mixed().singlepart(part),
            Body::Multi(part) => MultiPart::mixed().multipart(part),
        };
        for attachment in &m.attachments {
            mixed = mixed.singlepart(attachment_part(attachment));
        }
        builder.multipart(mixed)
    }
    .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(message.formatted())
}

enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

fn mailbox(field: &'static str, email: &str, name: Option<&str>) -> Result<Mailbox, ComposeError> {
    let address: Address = email
        .trim()
        .parse()
        .map_err(
            |e: lettre::address::AddressError| ComposeError::InvalidAddress {
                field,
                value: email.to_owned(),
                reason: e.to_string(),
            },
        )?;
    let name = name.map(one_line).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, address))
}

/// One attachment part: `Content-Disposition: attachment; filename*=utf-8''…` (RFC 2231, as
/// lettre writes it) plus `Content-Type: …; name="=?utf-8?b?…?="` (RFC 2047 inside the
/// quotes), which Outlook and older clients read instead.
fn attachment_part(a: &crate::OutgoingAttachment) -> SinglePart {
    let filename = one_line(&a.filename);
    let filename = if filename.is_empty() {
        "attachment.bin".to_owned()
    } else {
        filename
    };
    let mime =
        mime_essence(&a.content_type).unwrap_or_else(|| "application/octet-stream".to_owned());
    SinglePart::builder()
        .header(NamedContentType::new(&mime, &filename))
        .header(ContentDisposition::attachment(&filename))
        .body(a.data.clone())
}

/// The bare `type/subtype` of an uploaded content type, lowercased; `None` if it is not one.
/// Parameters are dropped: the ones we write come from us, not from an upload.
fn mime_essence(content_type: &str) -> Option<String> {
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    // RFC 2045 `token`: printable ASCII without tspecials.
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    (token(kind) && token(subtype)).then_some(essence)
}

/// `Content-Type` of an attachment with an RFC 2047-encoded `name` parameter.
#[derive(Debug, Clone)]
struct NamedContentType(HeaderValue);

impl NamedContentType {
    fn new(mime: &str, filename: &str) -> Self {
        let name = if filename
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ')
        {
            filename.to_owned()
        } else {
            encoded_words(filename)
        };
        let raw = format!("{mime}; name=\"{filename}\"");
        let encoded = format!("{mime};\r\n name=\"{name}\"");
        NamedContentType(HeaderValue::dangerous_new_pre_encoded(
            Self::name(),
            raw,
            encoded,
        ))
    }
}

impl Header for NamedContentType {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Type")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let (mime, name) = s.split_once("; name=\"").ok_or("no name parameter")?;
        Ok(Self::new(mime, name.trim_end_matches('"')))
    }

    fn display(&self) -> HeaderValue {
        self.0.clone()
    }
}

/// `text` as RFC 2047 `B` encoded words of at most 75 characters each, folded onto
/// continuation lines (never splitting a UTF-8 sequence).
fn encoded_words(text: &str) -> String {
    const MAX_CHUNK: usize = 45; // 45 bytes → 60 base64 chars → 72-char word
    let mut out = String::new();
    let mut chunk_start = 0;
    let mut chunk_end = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() - chunk_start > MAX_CHUNK {
            push_word(&mut out, &text[chunk_start..chunk_end]);
            chunk_start = chunk_end;
        }
        chunk_end = i + c.len_utf8();
    }
    push_word(&mut out, &text[chunk_start..chunk_end]);
    out
}

fn push_word(out: &mut String, chunk: &str) {
    if chunk.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push_str("\r\n ");
    }
    let _ = write!(out, "=?utf-8?b?{}?=", base64(chunk.as_bytes()));
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn raw(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_owned())
}

/// Header text on one line: control characters (CR, LF, TAB …) become spaces, so no input
/// can start a new header line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn strip_brackets(id: &str) -> &str {
    let id = id.trim();
    id.strip_prefix('<')
        .and_then(|id| id.strip_suffix('>'))
        .unwrap_or(id)
}

/// An id others wrote: anything printable we can put between brackets unchanged.
fn is_foreign_message_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// Our own ids must be proper `id-left "@" id-right`.
fn is_own_message_id(id: &str) -> bool {
    is_foreign_message_id(id)
        && id
            .split_once('@')
            .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty() && !r.contains('@'))
}

fn references(ids: &[String]) -> String {
    let ids: Vec<&str> = ids
        .iter()
        .map(|id| strip_brackets(id))
        .filter(|id| is_foreign_message_id(id))
        .collect();
    let kept: Vec<&str> = if ids.len() > MAX_REFERENCES {
        std::iter::once(ids[0])
            .chain(ids[ids.len() - (MAX_REFERENCES - 1)..].iter().copied())
            .collect()
    } else {
        ids
    };
    kept.iter()
        .map(|id| format!("<{id}>"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A BCP 47-shaped tag (`zh`, `zh-CN`, `zh-Hant-TW`), or a comma-separated list of them.
fn is_language_tag(s: &str) -> bool {
    !s.is_empty()
        && s.split(',').all(|tag| {
            let tag = tag.trim();
            !tag.is_empty()
                && tag.split('-').all(|sub| {
                    !sub.is_empty()
                        && sub.len() <= 8
                        && sub.bytes().all(|b| b.is_ascii_alphanumeric())
                })
        })
}

#[cfg(test)]
mod tests {
    use mail_parser::{HeaderValue as ParsedValue, MessageParser, MimeHeaders};

    use super::*;
    use crate::{Addr, OutgoingAttachment};

    fn addr(email: &str, name: Option<&str>) -> Addr {
        Addr {
            email: email.to_owned(),
            name: name.map(str::to_owned),
        }
    }

    fn reply() -> OutgoingMail {
        OutgoingMail {
            from: addr("support@kefu.example.com", Some("客服中心 · 李娜")),
            to: vec![addr("wang.fang@example.cn", Some("王芳"))],
            cc: vec![addr("zhang.wei@example.cn", None)],
            reply_to: Some("support+t42-sig@kefu.example.com".to_owned()),
            subject: "回复：订单 #1024 的退款问题".to_owned(),
            message_id: new_message_id("kefu.example.com", "t42.m7.x9"),
            in_reply_to: Some("CAF=abc123@mail.gmail.com".to_owned()),
            references: vec![
                "first.1@example.cn".to_owned(),
                "<CAF=abc123@mail.gmail.com>".to_owned(),
            ],
            date: Some("2026-03-01T08:30:00Z".parse().unwrap()),
            text: "您好，王女士：\n\n退款已处理，预计 3 个工作日到账。\n\n李娜".to_owned(),
            html: Some(
                "<p>您好，王女士：</p><p>退款已处理，预计 <b>3</b> 个工作日到账。</p>".to_owned(),
            ),
            attachments: vec![OutgoingAttachment {
                filename: "退款凭证（2026年3月）.pdf".to_owned(),
                content_type: "application/pdf".to_owned(),
                data: b"%PDF-1.7\n\x00\x01\x02\xff binary".to_vec(),
            }],
            auto_submitted: false,
            language: Some("zh-CN".to_owned()),
        }
    }

    fn text_list(v: &ParsedValue<'_>) -> Vec<String> {
        match v {
            ParsedValue::Text(t) => vec![t.to_string()],
            ParsedValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn a_reply_round_trips_through_mail_parser_with_every_header() {
        let raw = compose(&reply()).unwrap();
        assert!(raw.is_ascii(), "output must be 7-bit clean");
        assert!(
            !raw.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'),
            "bare LF in output"
        );
        let msg = MessageParser::default().parse(&raw).unwrap();

        let from = msg.from().unwrap().first().unwrap();
        assert_eq!(from.name(), Some("客服中心 · 李娜"));
        assert_eq!(from.address(), Some("support@kefu.example.com"));
        let to = msg.to().unwrap().first().unwrap();
        assert_eq!(
            (to.name(), to.address()),
            (Some("王芳"), Some("wang.fang@example.cn"))
        );
        let cc = msg.cc().unwrap().first().unwrap();
        assert_eq!(cc.address(), Some("zhang.wei@example.cn"));
        assert_eq!(
            msg.reply_to().unwrap().first().unwrap().address(),
            Some("support+t42-sig@kefu.example.com")
        );
        assert_eq!(msg.subject(), Some("回复：订单 #1024 的退款问题"));
        assert_eq!(msg.date().unwrap().to_rfc3339(), "2026-03-01T08:30:00Z");
        assert_eq!(msg.message_id(), Some("kefu.t42.m7.x9@kefu.example.com"));
        assert_eq!(text_list(msg.in_reply_to()), ["CAF=abc123@mail.gmail.com"]);
        assert_eq!(
            text_list(msg.references()),
            ["first.1@example.cn", "CAF=abc123@mail.gmail.com"]
        );
        let header = |name: &'static str| msg.header_raw(name).map(str::trim);
        assert_eq!(
            header("Message-ID"),
            Some("<kefu.t42.m7.x9@kefu.example.com>")
        );
        assert_eq!(header("In-Reply-To"), Some("<CAF=abc123@mail.gmail.com>"));
        assert_eq!(
            header("References"),
            Some("<first.1@example.cn> <CAF=abc123@mail.gmail.com>")
        );
        assert_eq!(header("Content-Language"), Some("zh-CN"));
        assert_eq!(header("Auto-Submitted"), None);
        assert_eq!(header("X-Auto-Response-Suppress"), None);
        assert_eq!(header("MIME-Version"), Some("1.0"));

        let root = msg.root_part().content_type().unwrap();
        assert_eq!((root.ctype(), root.subtype()), ("multipart", Some("mixed")));
        assert_eq!(
            msg.body_text(0).unwrap().replace("\r\n", "\n"),
            "您好，王女士：\n\n退款已处理，预计 3 个工作日到账。\n\n李娜"
        );
        let text_part = msg.text_part(0).unwrap().content_type().unwrap();
        assert_eq!(text_part.attribute("charset"), Some("utf-8"));
        assert!(msg.body_html(0).unwrap().contains("预计 <b>3</b> 个工作日"));
        let alternative = msg
            .parts
            .iter()
            .filter_map(|p| p.content_type())
            .any(|ct| ct.ctype() == "multipart" && ct.subtype() == Some("alternative"));
        assert!(alternative, "text and html sit in multipart/alternative");

        assert_eq!(msg.attachment_count(), 1);
        let att = msg.attachment(0).unwrap();
        assert_eq!(att.attachment_name(), Some("退款凭证（2026年3月）.pdf"));
        let ct = att.content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pdf")));
        // Both spellings of the name decode to the same file name.
        assert_eq!(ct.attribute("name"), Some("退款凭证（2026年3月）.pdf"));
        assert_eq!(
            att.content_disposition().unwrap().attribute("filename"),
            Some("退款凭证（2026年3月）.pdf")
        );
        assert_eq!(att.contents(), b"%PDF-1.7\n\x00\x01\x02\xff binary");
    }

    #[test]
    fn an_acknowledgement_is_marked_auto_submitted() {
        let mut m = reply();
        m.auto_submitted = true;
        let raw = compose(&m).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            msg.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-replied")
        );
        assert_eq!(
            msg.header_raw("X-Auto-Response-Suppress").map(str::trim),
            Some("All")
        );
    }

    #[test]
    fn without_html_or_attachments_the_mail_is_a_single_text_part() {
        let m = OutgoingMail {
            html: None,
            attachments: vec![],
            language: None,
            ..reply()
        };
        let raw = compose(&m).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        let ct = msg.root_part().content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("plain")));
        assert_eq!(ct.attribute("charset"), Some("utf-8"));
        assert_eq!(
            msg.html_body_count(),
            1,
            "mail-parser derives html from text"
        );
        assert!(
            msg.html_part(0).unwrap().is_text(),
            "but there is no text/html part"
        );
        assert!(!String::from_utf8_lossy(&raw).contains("text/html"));
        assert_eq!(msg.header_raw("Content-Language"), None);
        assert!(msg.body_text(0).unwrap().contains("退款已处理"));
    }

    #[test]
    fn text_with_attachments_but_no_html_is_mixed_without_alternative() {
        let m = OutgoingMail {
            html: None,
            ..reply()
        };
        let raw = compose(&m).unwrap();
        let s = String::from_utf8(raw.clone()).unwrap();
        assert!(s.contains("multipart/mixed"));
        assert!(!s.contains("multipart/alternative"));
        let msg = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(msg.attachment_count(), 1);
    }

    #[test]
    fn html_without_attachments_is_a_bare_alternative() {
        let m = OutgoingMail {
            attachments: vec![],
            ..reply()
        };
        let raw = compose(&m).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        let ct = msg.root_part().content_type().unwrap();
        assert_eq!(
            (ct.ctype(), ct.subtype()),
            ("multipart", Some("alternative"))
        );
    }

    #[test]
    fn a_first_mail_has_no_threading_headers() {
        let m = OutgoingMail {
            in_reply_to: None,
            references: vec![],
            ..reply()
        };
        let raw = String::from_utf8(compose(&m).unwrap()).unwrap();
        assert!(!raw.contains("In-Reply-To:"));
        assert!(!raw.contains("References:"));
    }

    #[test]
    fn long_reference_chains_keep_the_root_and_the_latest_ids() {
        let m = OutgoingMail {
            references: (0..50).map(|i| format!("m{i}@example.cn")).collect(),
            ..reply()
        };
        let raw = compose(&m).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        let refs = text_list(msg.references());
        assert_eq!(refs.len(), MAX_REFERENCES);
        assert_eq!(refs[0], "m0@example.cn");
        assert_eq!(refs[1], "m31@example.cn");
        assert_eq!(refs[MAX_REFERENCES - 1], "m49@example.cn");
    }

    #[test]
    fn unusable_foreign_ids_are_dropped_not_fatal() {
        let m = OutgoingMail {
            in_reply_to: Some("has space@x".to_owned()),
            references: vec!["".to_owned(), "ok@x".to_owned(), "a<b@x".to_owned()],
            ..reply()
        };
        let raw = compose(&m).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(msg.header_raw("In-Reply-To"), None);
        assert_eq!(text_list(msg.references()), ["ok@x"]);
    }

    #[test]
    fn header_injection_through_subject_or_name_is_impossible() {
        let m = OutgoingMail {
            subject: "hi\r\nBcc: victim@example.com".to_owned(),
            from: addr(
                "support@kefu.example.com",
                Some("x\nBcc: victim@example.com"),
            ),
            ..reply()
        };
        let raw = String::from_utf8(compose(&m).unwrap()).unwrap();
        assert!(!raw.lines().any(|l| l.starts_with("Bcc:")), "{raw}");
        let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(msg.subject(), Some("hi  Bcc: victim@example.com"));
    }

    #[test]
    fn bad_input_is_reported_by_field() {
        let bad_from = OutgoingMail {
            from: addr("not an address", None),
            ..reply()
        };
        assert!(matches!(
            compose(&bad_from),
            Err(ComposeError::InvalidAddress { field: "From", .. })
        ));
        let bad_cc = OutgoingMail {
            cc: vec![addr("x@", None)],
            ..reply()
        };
        assert!(matches!(
            compose(&bad_cc),
            Err(ComposeError::InvalidAddress { field: "Cc", .. })
        ));
        let nobody = OutgoingMail {
            to: vec![],
            cc: vec![],
            ..reply()
        };
        assert_eq!(compose(&nobody), Err(ComposeError::NoRecipients));
        let bad_id = OutgoingMail {
            message_id: "no-at-sign".to_owned(),
            ..reply()
        };
        assert!(matches!(
            compose(&bad_id),
            Err(ComposeError::InvalidMessageId(_))
        ));
        let bad_lang = OutgoingMail {
            language: Some("中文".to_owned()),
            ..reply()
        };
        assert!(matches!(
            compose(&bad_lang),
            Err(ComposeError::InvalidLanguage(_))
        ));
    }

    #[test]
    fn an_unknown_content_type_falls_back_to_octet_stream() {
        let mut m = reply();
        m.attachments[0].content_type = "garbage".to_owned();
        m.attachments[0].filename = "notes.txt".to_owned();
        let raw = compose(&m).unwrap();
        let msg = MessageParser::default().parse(&raw).unwrap();
        let att = msg.attachment(0).unwrap();
        let ct = att.content_type().unwrap();
        assert_eq!(
            (ct.ctype(), ct.subtype()),
            ("application", Some("octet-stream"))
        );
        assert_eq!(att.attachment_name(), Some("notes.txt"));
    }

    #[test]
    fn very_long_chinese_file_names_survive_folding() {
        let mut m = reply();
        m.attachments[0].filename = format!("{}.xlsx", "客户满意度调查报告".repeat(8));
        let raw = compose(&m).unwrap();
        assert!(
            String::from_utf8_lossy(&raw)
                .lines()
                .all(|l| l.len() <= 998),
            "no line over 998 octets"
        );
        let msg = MessageParser::default().parse(&raw).unwrap();
        let att = msg.attachment(0).unwrap();
        assert_eq!(
            att.attachment_name(),
            Some(m.attachments[0].filename.as_str())
        );
        assert_eq!(
            att.content_type().unwrap().attribute("name"),
            Some(m.attachments[0].filename.as_str())
        );
    }

    #[test]
    fn envelope_recipients_are_to_and_cc_without_duplicates() {
        let m = OutgoingMail {
            to: vec![addr(" a@example.cn ", None), addr("B@example.cn", None)],
            cc: vec![
                addr("b@example.cn", Some("dup")),
                addr("c@example.cn", None),
                addr("", None),
            ],
            ..reply()
        };
        assert_eq!(
            envelope_recipients(&m),
            ["a@example.cn", "B@example.cn", "c@example.cn"]
        );
    }

    #[test]
    fn message_ids_are_always_valid() {
        assert_eq!(
            new_message_id("Kefu.Example.com", "t42.m7"),
            "kefu.t42.m7@kefu.example.com"
        );
        assert_eq!(new_message_id("", "a b<c>"), "kefu.a-b-c-@localhost");
        assert!(is_own_message_id(&new_message_id("例子.cn", "")));
    }

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
