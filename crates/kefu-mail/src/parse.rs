//! Raw RFC 5322 bytes → [`ParsedMail`], on mail-parser.
//!
//! Owns: the MIME walk (alternative/related/mixed, attached `message/rfc822`), charset and
//! transfer-encoding fallbacks, attachment naming, RFC 3464 DSNs and the warnings shown to
//! agents. Never does: threading, auto-reply policy or storage (see `kefu_domain::mail`).
//!
//! Guarantees: [`parse`] never fails and never panics. Input that is not a message
//! (empty, a few bytes, no header on the first line) comes back as raw text with a
//! warning; a panic inside the parser is caught and treated the same way (this needs
//! `panic = "unwind"`, the default). The caller keeps the raw bytes anyway.
//!
//! What it makes of the mail:
//! - `text`: the text/plain body parts (HTML converted when there is no usable plain
//!   part), then each attached message rendered as a "Forwarded message" block (headers
//!   and body, three levels deep). Newlines are `\n`.
//! - `html`: the HTML body parts, sanitised once by [`html::sanitize_mail_html`].
//! - `attachments`: everything else, transfer-decoded (text attachments keep their
//!   original charset, named in `content_type`). Unnamed parts are called
//!   `attachment-N.ext`; attached mail is `forwarded-N.eml` (`returned-message-N.eml` in a
//!   DSN) unless it has a name of its own. Names lose directories and control characters.
//! - charsets: everything mail-parser's `full_encoding` knows (GB2312 labels read as
//!   GB18030), plus aliases it lacks (`unicode-1-1-utf-7`, `x-mac-chinesesimp`, …); UTF-8
//!   sent under a legacy label is kept UTF-8; unlabelled or unknown 8-bit text is guessed
//!   (GB18030 if it looks like Chinese, else Windows-1252) with a warning. RFC 2047 words
//!   and RFC 2231 segments are joined before decoding, so a character split across them
//!   survives.
//! - `warnings`: one line per problem, e.g. "no From header", "unknown charset x-foo,
//!   decoded as UTF-8", "part 3 (text/html) is damaged …", "could not read Date header
//!   …", "could not parse as MIME; shown as raw text".

mod charset;
mod dsn;
mod words;

use std::{borrow::Cow, collections::HashSet, panic::AssertUnwindSafe};

use mail_parser::{
    Address, Header, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders,
    PartType,
    decoders::html::{html_to_text, text_to_html},
    parsers::MessageStream,
};

use crate::{Addr, ParsedAttachment, ParsedMail, html};

/// How many levels of attached mail are rendered into `text` (each level is also kept
/// whole as a `.eml` attachment, so nothing is lost below this depth).
const MAX_FORWARD_DEPTH: usize = 3;

/// Parses one raw message. Never fails, never panics; see the module docs.
pub fn parse(raw: &[u8]) -> ParsedMail {
    let mut mail = match std::panic::catch_unwind(AssertUnwindSafe(|| parse_unguarded(raw))) {
        Ok(mail) => mail,
        Err(_) => raw_fallback(
            raw,
            "the MIME parser failed on this message (internal error); shown as raw text",
        ),
    };
    strip_nul(&mut mail);
    mail
}

/// Removes NUL characters from every text field: real mail carries them (broken
/// mailers, binary parts mislabelled as text), and PostgreSQL cannot store them in text
/// columns. The raw bytes keep them.
fn strip_nul(m: &mut ParsedMail) {
    fn clean(s: &mut String) {
        if s.contains('\0') {
            s.retain(|c| c != '\0');
        }
    }
    fn clean_addr(a: &mut crate::Addr) {
        clean(&mut a.email);
        if let Some(n) = &mut a.name {
            clean(n);
        }
    }
    for s in [&mut m.subject, &mut m.text]
        .into_iter()
        .chain(m.message_id.as_mut())
        .chain(m.html.as_mut())
        .chain(m.in_reply_to.iter_mut())
        .chain(m.references.iter_mut())
        .chain(m.warnings.iter_mut())
    {
        clean(s);
    }
    for (n, v) in &mut m.headers {
        clean(n);
        clean(v);
    }
    for a in m
        .from
        .iter_mut()
        .chain(m.reply_to.iter_mut())
        .chain(m.to.iter_mut())
        .chain(m.cc.iter_mut())
    {
        clean_addr(a);
    }
    for a in &mut m.attachments {
        clean(&mut a.filename);
        clean(&mut a.content_type);
        if let Some(c) = &mut a.content_id {
            clean(c);
        }
    }
    if let Some(d) = &mut m.dsn {
        if let Some(o) = &mut d.original_message_id {
            clean(o);
        }
        for r in &mut d.recipients {
            clean(&mut r.recipient);
            clean(&mut r.action);
            clean(&mut r.status);
            if let Some(x) = &mut r.diagnostic {
                clean(x);
            }
        }
    }
}

fn parse_unguarded(raw: &[u8]) -> ParsedMail {
    let input = normalize(raw);
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return ParsedMail {
            warnings: vec!["empty message".into()],
            ..Default::default()
        };
    }
    let message = starts_with_header(&input)
        .then(|| MessageParser::default().parse(input.as_ref()))
        .flatten();
    let Some(message) = message else {
        return raw_fallback(&input, "could not parse as MIME; shown as raw text");
    };
    let mut out = ParsedMail::default();
    let mut warnings = Warnings::default();
    read_headers(&message, &mut out, &mut warnings);

    out.dsn = dsn::read_dsn(&message);
    let body = read_body(&message, 0, out.dsn.is_some(), true, &mut warnings);
    out.text = body.text;
    if let Some(dsn) = &mut out.dsn
        && dsn.original_message_id.is_none()
    {
        // Exchange puts the returned headers in the text ("Original message headers:").
        dsn.original_message_id = out.text.lines().find_map(|l| {
            let (name, value) = l.trim().split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| {
                    value
                        .trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .trim()
                })
                .filter(|id| !id.is_empty() && !id.contains(' '))
                .map(str::to_string)
        });
    }
    out.attachments = body.attachments;
    if let Some(raw_html) = &body.html {
        // Some clients send an empty text/plain alternative next to the real HTML.
        if out.text.trim().is_empty() {
            out.text = normalize_newlines(&html_to_text(raw_html));
        }
        for a in &mut out.attachments {
            if let Some(cid) = &a.content_id
                && raw_html.contains(&format!("cid:{cid}"))
            {
                a.inline = true;
            }
        }
        out.html = Some(html::sanitize_mail_html(raw_html));
    }
    out.warnings = warnings.into_vec();
    out
}

/// Undoes transport artefacts mail-parser does not expect: a leading mbox `From ` line
/// and classic Mac CR-only line endings.
fn normalize(raw: &[u8]) -> Cow<'_, [u8]> {
    let mut bytes = raw;
    // `From: x` is a header; `From x@y date` is an mbox separator.
    if bytes.starts_with(b"From ") && bytes.get(5) != Some(&b':') {
        let end = bytes
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(bytes.len());
        bytes = &bytes[end..];
        bytes = bytes
            .strip_prefix(b"\r\n")
            .or_else(|| bytes.strip_prefix(b"\n"))
            .or_else(|| bytes.strip_prefix(b"\r"))
            .unwrap_or(bytes);
    }
    let head = &bytes[..bytes.len().min(8192)];
    if !head.contains(&b'\n') && head.contains(&b'\r') {
        return Cow::Owned(
            bytes
                .iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect(),
        );
    }
    Cow::Borrowed(bytes)
}

/// Whether the first non-blank line is a header field (`Name: value`, the name being
/// printable ASCII without spaces). Anything else is not a message, whatever mail-parser
/// would make of it.
fn starts_with_header(input: &[u8]) -> bool {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    let line = &input[start..];
    let Some(colon) = line.iter().position(|&b| b == b':' || b == b'\n') else {
        return false;
    };
    line[colon] == b':'
        && colon > 0
        && line[..colon]
            .iter()
            .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
        && line[..colon]
            .trim_ascii()
            .iter()
            .all(|&b| b.is_ascii_graphic())
}

/// What to return for input that is not a message: its bytes as text.
fn raw_fallback(raw: &[u8], why: &str) -> ParsedMail {
    let mut warnings = vec![why.to_string()];
    let (text, warning) = charset::decode(raw, "");
    warnings.extend(warning);
    ParsedMail {
        text: normalize_newlines(&text),
        warnings,
        ..Default::default()
    }
}

/// Warnings in order, without duplicates.
#[derive(Default)]
struct Warnings {
    list: Vec<String>,
    seen: HashSet<String>,
}

impl Warnings {
    fn push(&mut self, w: impl Into<String>) {
        let w = w.into();
        if self.seen.insert(w.clone()) {
            self.list.push(w);
        }
    }
    fn into_vec(self) -> Vec<String> {
        self.list
    }
}

fn read_headers(msg: &Message<'_>, out: &mut ParsedMail, warnings: &mut Warnings) {
    let fallback_label = body_charset(msg);
    for h in msg.headers() {
        let raw = header_raw(msg, h);
        let (fixed, warning) = charset::header_bytes_utf8(raw, &fallback_label);
        if let Some(w) = warning {
            warnings.push(format!("{}: {w}", h.name.as_str()));
        }
        // Re-parse what mail-parser read from different bytes: a re-decoded 8-bit header,
        // or encoded words split mid-character (joined first).
        let joined = std::str::from_utf8(&fixed)
            .ok()
            .and_then(words::join_adjacent_words);
        let value = match (&joined, &fixed) {
            (Some(joined), _) => reparse_header(&h.name, joined.as_bytes()),
            (None, Cow::Owned(fixed)) => reparse_header(&h.name, fixed),
            (None, Cow::Borrowed(_)) => None,
        };
        let value = value.as_ref().unwrap_or(&h.value);
        let text = unstructured(&fixed);
        match &h.name {
            HeaderName::MessageId if out.message_id.is_none() => {
                out.message_id = first_id(value);
            }
            HeaderName::InReplyTo => out.in_reply_to.extend(all_ids(value)),
            HeaderName::References => out.references.extend(all_ids(value)),
            HeaderName::From if out.from.is_none() => {
                out.from = addresses(value).into_iter().next()
            }
            HeaderName::ReplyTo if out.reply_to.is_none() => {
                out.reply_to = addresses(value).into_iter().next()
            }
            HeaderName::To => out.to.extend(addresses(value)),
            HeaderName::Cc => out.cc.extend(addresses(value)),
            HeaderName::Subject if out.subject.is_empty() => out.subject = text.clone(),
            HeaderName::Date if out.date.is_none() => match value.as_datetime() {
                Some(d) if d.is_valid() => {
                    out.date = jiff::Timestamp::from_second(d.to_timestamp()).ok();
                }
                _ => warnings.push(format!("could not read Date header {text:?}")),
            },
            _ => {}
        }
        out.headers.push((h.name.as_str().to_string(), text));
    }
    if out.from.is_none() {
        let has_from = msg.headers().iter().any(|h| h.name == HeaderName::From);
        warnings.push(if has_from {
            "From header has no address"
        } else {
            "no From header"
        });
    }
}

fn header_raw<'a>(msg: &'a Message<'_>, h: &Header<'_>) -> &'a [u8] {
    msg.raw_message
        .get(h.offset_start as usize..h.offset_end as usize)
        .unwrap_or_default()
}

/// A header value as display text: folding removed, RFC 2047 words decoded (adjacent
/// words of one charset joined first), trimmed.
fn unstructured(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let decoded = words::decode_encoded_words(&text);
    let mut out = String::with_capacity(decoded.len());
    for word in decoded
        .split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Re-parses a re-decoded 8-bit header with the parser mail-parser uses for it.
fn reparse_header(name: &HeaderName<'_>, fixed: &[u8]) -> Option<HeaderValue<'static>> {
    let mut buf = fixed.to_vec();
    buf.push(b'\n');
    let mut stream = MessageStream::new(&buf);
    let value = match name {
        HeaderName::From | HeaderName::To | HeaderName::Cc | HeaderName::ReplyTo => {
            stream.parse_address()
        }
        _ => return None,
    };
    Some(value.into_owned())
}

/// The first message id of an id header, without angle brackets.
pub(crate) fn first_id(value: &HeaderValue<'_>) -> Option<String> {
    all_ids(value).into_iter().next()
}

fn all_ids(value: &HeaderValue<'_>) -> Vec<String> {
    let clean = |s: &str| {
        let s = s
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    match value {
        HeaderValue::Text(t) => clean(t).into_iter().collect(),
        HeaderValue::TextList(l) => l.iter().filter_map(|t| clean(t)).collect(),
        _ => Vec::new(),
    }
}

fn addresses(value: &HeaderValue<'_>) -> Vec<Addr> {
    let Some(address) = value.as_address() else {
        return Vec::new();
    };
    let list: Vec<&mail_parser::Addr<'_>> = match address {
        Address::List(l) => l.iter().collect(),
        Address::Group(g) => g.iter().flat_map(|g| g.addresses.iter()).collect(),
    };
    list.into_iter()
        .filter_map(|a| {
            let email = a.address.as_deref()?.trim();
            if email.is_empty() {
                return None;
            }
            let name = a
                .name
                .as_deref()
                .map(|n| n.trim().trim_matches('"').trim())
                .filter(|n| !n.is_empty() && *n != email)
                .map(str::to_string);
            Some(Addr {
                email: email.to_string(),
                name,
            })
        })
        .collect()
}

/// The charset of the first text part, used to read raw 8-bit headers.
fn body_charset(msg: &Message<'_>) -> String {
    msg.parts
        .iter()
        .find_map(|p| p.content_type()?.attribute("charset").map(str::to_string))
        .map(|c| charset::normalize_label(&c))
        .unwrap_or_default()
}

/// Body text, HTML and attachments of one message (the top level, or an attached one
/// rendered into its parent's text).
struct Body {
    text: String,
    /// Unsanitised HTML of the top level (sanitised by the caller).
    html: Option<String>,
    attachments: Vec<ParsedAttachment>,
}

fn read_body(
    msg: &Message<'_>,
    depth: usize,
    is_dsn: bool,
    want_attachments: bool,
    warnings: &mut Warnings,
) -> Body {
    // Attached mail is kept whole; only the top level's damage is worth a warning. A
    // header-only message is "damaged" to mail-parser, but has nothing to decode.
    for (id, part) in msg.parts.iter().enumerate().filter(|_| depth == 0) {
        if part.is_encoding_problem
            && part.offset_end > part.offset_body
            && !matches!(part.body, PartType::Message(_))
        {
            warnings.push(format!(
                "part {id} ({}) is damaged (bad base64/quoted-printable or MIME structure); \
                 decoded as far as possible",
                declared_type(part)
            ));
        }
    }
    let mut texts: Vec<String> = Vec::new();
    for &id in &msg.text_body {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(t) => {
                texts.push(part_text(msg, part, t, warnings).trim_end().to_string())
            }
            PartType::Html(h) => {
                texts.push(
                    html_to_text(&part_text(msg, part, h, warnings))
                        .trim_end()
                        .to_string(),
                );
            }
            _ => {}
        }
    }
    let mut html: Option<String> = None;
    if msg.html_body.iter().any(|&id| {
        matches!(
            msg.parts.get(id as usize).map(|p| &p.body),
            Some(PartType::Html(_))
        )
    }) {
        let mut joined = String::new();
        for &id in &msg.html_body {
            let Some(part) = msg.parts.get(id as usize) else {
                continue;
            };
            match &part.body {
                PartType::Html(h) => joined.push_str(&part_text(msg, part, h, warnings)),
                PartType::Text(t) => {
                    joined.push_str(&text_to_html(&part_text(msg, part, t, warnings)))
                }
                _ => {}
            }
        }
        html = Some(joined);
    }

    let mut attachments = Vec::new();
    let mut forwarded = 0usize;
    for (n, &id) in msg.attachments.iter().enumerate() {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        let declared = declared_type(part);
        match &part.body {
            PartType::Message(nested) => {
                forwarded += 1;
                if !is_dsn && depth < MAX_FORWARD_DEPTH {
                    texts.push(render_forward(nested, depth + 1, warnings));
                }
                if want_attachments {
                    let name = if is_dsn {
                        format!("returned-message-{forwarded}.eml")
                    } else {
                        format!("forwarded-{forwarded}.eml")
                    };
                    let data = nested_raw(msg, part, nested);
                    attachments.push(attachment(msg, part, name, declared.clone(), data));
                }
            }
            PartType::Multipart(_) => {}
            PartType::Text(t) | PartType::Html(t) if is_body_in_disguise(part, &declared) => {
                // mail-parser gave up on the transfer encoding and demoted a body part
                // to an attachment; decode it leniently and show it as text.
                let fixed = part_text(msg, part, t, warnings);
                if declared == "text/html" {
                    texts.push(html_to_text(&fixed));
                    html.get_or_insert_with(String::new).push_str(&fixed);
                } else {
                    texts.push(fixed.into_owned());
                }
            }
            _ if want_attachments => {
                let name = format!("attachment-{}.{}", n + 1, extension(&declared));
                let data = match &part.body {
                    PartType::Binary(b) | PartType::InlineBinary(b)
                        if !part.is_encoding_problem =>
                    {
                        b.to_vec()
                    }
                    _ => transfer_decoded(msg, part),
                };
                let attachment = attachment(msg, part, name, declared, data);
                // An empty part without a name (a returned message that never came) is
                // nothing to download.
                if !attachment.data.is_empty() || part.attachment_name().is_some() {
                    attachments.push(attachment);
                }
            }
            _ => {}
        }
    }
    texts.retain(|t| !t.trim().is_empty());
    let text = normalize_newlines(&texts.join("\n\n"));
    Body {
        text,
        html,
        attachments,
    }
}

/// A text part's decoded text, re-decoded from the raw bytes when mail-parser's result
/// shows a charset problem (unknown/missing label, 8-bit under `us-ascii`) or a broken
/// transfer encoding.
fn part_text<'a>(
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    decoded: &'a str,
    warnings: &mut Warnings,
) -> Cow<'a, str> {
    let label = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .map(charset::normalize_label)
        .unwrap_or_default();
    let known = label.is_empty() || charset::is_known_label(&label);
    let ascii_label = charset::is_ascii_label(&label);
    let broken_encoding = part.is_encoding_problem && declared_cte(part).is_some();
    let alias_only = known && !charset::mail_parser_knows(&label);
    let suspicious = decoded.contains('\u{FFFD}') || (ascii_label && !decoded.is_ascii());
    let plain_label = label.is_empty() || ascii_label || !known || charset::is_utf8_label(&label);
    if !(broken_encoding || alias_only || (suspicious && plain_label)) {
        if !known {
            warnings.push(format!("unknown charset {label}, decoded as UTF-8"));
        }
        // UTF-8 sent under a legacy label (common with gb2312): if the bytes are valid
        // UTF-8 with non-ASCII characters, they are almost surely UTF-8.
        let legacy = !plain_label
            && !["utf", "ucs", "unicode", "iso-2022", "hz"]
                .iter()
                .any(|p| label.starts_with(p));
        if legacy && !decoded.is_ascii() {
            let bytes = transfer_decoded(msg, part);
            if !bytes.is_ascii()
                && let Ok(utf8) = String::from_utf8(bytes)
            {
                warnings.push(format!("text labelled {label} is UTF-8; decoded as UTF-8"));
                return Cow::Owned(utf8);
            }
        }
        return Cow::Borrowed(decoded);
    }
    let bytes = transfer_decoded(msg, part);
    let (text, warning) = charset::decode(&bytes, &label);
    if let Some(w) = warning {
        warnings.push(w);
    }
    Cow::Owned(text)
}

/// `base64` / `quoted-printable` if the part declares it.
fn declared_cte(part: &MessagePart<'_>) -> Option<&'static str> {
    let cte = part.content_transfer_encoding()?.trim();
    if cte.eq_ignore_ascii_case("base64") {
        Some("base64")
    } else if cte.eq_ignore_ascii_case("quoted-printable") {
        Some("quoted-printable")
    } else {
        None
    }
}

/// The part's body bytes after transfer decoding, done leniently from the raw message
/// (for parts mail-parser could not decode, and for text attachments, whose original
/// charset bytes are kept).
fn transfer_decoded(msg: &Message<'_>, part: &MessagePart<'_>) -> Vec<u8> {
    let raw = msg
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or_default();
    match declared_cte(part) {
        Some("base64") => charset::lenient_base64(raw),
        Some(_) => charset::lenient_quoted_printable(raw),
        None => raw.to_vec(),
    }
}

/// `type/subtype` as declared (lowercase), `text/plain` when missing.
fn declared_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => "text/plain".into(),
    }
}

/// A text/plain or text/html part that mail-parser moved to the attachments only because
/// its transfer encoding was broken.
fn is_body_in_disguise(part: &MessagePart<'_>, declared: &str) -> bool {
    part.is_encoding_problem
        && (declared == "text/plain" || declared == "text/html")
        && part.attachment_name().is_none()
        && !part
            .content_disposition()
            .is_some_and(|d| d.is_attachment())
}

fn nested_raw(msg: &Message<'_>, part: &MessagePart<'_>, nested: &Message<'_>) -> Vec<u8> {
    if part.encoding == mail_parser::Encoding::None
        && let Some(slice) = msg
            .raw_message
            .get(part.offset_body as usize..part.offset_end as usize)
            .filter(|s| !s.is_empty())
    {
        return slice.to_vec();
    }
    nested.raw_message().to_vec()
}

fn attachment(
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    generated: String,
    declared: String,
    data: Vec<u8>,
) -> ParsedAttachment {
    let filename = attachment_name(msg, part)
        .map(|n| clean_filename(&n))
        .filter(|n| !n.is_empty())
        .unwrap_or(generated);
    let content_type = match part.content_type().and_then(|ct| ct.attribute("charset")) {
        Some(cs) if declared.starts_with("text/") => {
            format!("{declared}; charset={}", charset::normalize_label(cs))
        }
        _ => declared,
    };
    let content_id = part
        .content_id()
        .map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .filter(|id| !id.is_empty());
    let inline = part.content_disposition().is_some_and(|d| d.is_inline());
    ParsedAttachment {
        filename,
        content_type,
        data,
        content_id,
        inline,
    }
}

/// The declared file name, decoded. mail-parser decodes RFC 2231 segments and RFC 2047
/// words one by one; when a name is continued over segments, or its decoding came out
/// broken, it is decoded again from the raw header with the pieces joined first.
fn attachment_name(msg: &Message<'_>, part: &MessagePart<'_>) -> Option<String> {
    let raw = |name: HeaderName<'static>| {
        part.headers.iter().find(|h| h.name == name).map(|h| {
            String::from_utf8_lossy(
                msg.raw_message
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .unwrap_or_default(),
            )
            .into_owned()
        })
    };
    let disposition = raw(HeaderName::ContentDisposition).unwrap_or_default();
    let content_type = raw(HeaderName::ContentType).unwrap_or_default();
    if let Some(name) = words::rfc2231_continued(&disposition, "filename")
        .or_else(|| words::rfc2231_continued(&content_type, "name"))
    {
        return Some(name);
    }
    let name = part.attachment_name()?;
    if name.contains('\u{FFFD}') {
        let raw_value = words::raw_param(&disposition, "filename")
            .or_else(|| words::raw_param(&content_type, "name"));
        if let Some(v) = raw_value.filter(|v| v.contains("=?")) {
            return Some(words::decode_encoded_words(&v));
        }
    }
    Some(name.to_string())
}

/// A file name safe to offer for download: no directories, no control characters,
/// at most 200 characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim();
    if cleaned == "." || cleaned == ".." {
        String::new()
    } else {
        cleaned.to_string()
    }
}

fn extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        "image/tiff" => "tif",
        "image/svg+xml" => "svg",
        "application/pdf" => "pdf",
        "application/zip" | "application/x-zip-compressed" => "zip",
        "application/json" => "json",
        "application/xml" | "text/xml" => "xml",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/ms-tnef" | "application/vnd.ms-tnef" => "dat",
        "application/pgp-signature" => "asc",
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => "p7s",
        "text/html" => "html",
        "text/calendar" => "ics",
        "text/csv" => "csv",
        "message/rfc822" | "message/global" => "eml",
        "audio/mpeg" => "mp3",
        "video/mp4" => "mp4",
        m if m.starts_with("text/") || m.starts_with("message/") => "txt",
        _ => "bin",
    }
}

/// An attached message rendered for the parent's text: a header block like mail clients
/// write for forwards, then its body (attached mail inside it included, to a limit).
fn render_forward(nested: &Message<'_>, depth: usize, warnings: &mut Warnings) -> String {
    let mut out = String::from("---------- Forwarded message ----------\n");
    let fallback_label = body_charset(nested);
    for (name, label) in [
        (HeaderName::From, "From"),
        (HeaderName::Date, "Date"),
        (HeaderName::Subject, "Subject"),
        (HeaderName::To, "To"),
        (HeaderName::Cc, "Cc"),
    ] {
        if let Some(h) = nested.headers().iter().find(|h| h.name == name) {
            let (fixed, _) = charset::header_bytes_utf8(header_raw(nested, h), &fallback_label);
            let value = unstructured(&fixed);
            if !value.is_empty() {
                out.push_str(label);
                out.push_str(": ");
                out.push_str(&value);
                out.push('\n');
            }
        }
    }
    let body = read_body(nested, depth, false, false, warnings);
    if !body.text.is_empty() {
        out.push('\n');
        out.push_str(&body.text);
    }
    out
}

fn normalize_newlines(text: &str) -> String {
    let text = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_mbox_separator_but_not_from_header() {
        assert_eq!(
            normalize(b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nSubject: x\n\nb").as_ref(),
            b"Subject: x\n\nb"
        );
        assert_eq!(
            normalize(b"From: a@b\n\nx").as_ref(),
            b"From: a@b\n\nx".as_ref()
        );
    }

    #[test]
    fn file_names_lose_paths_and_controls() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\报告.pdf"), "报告.pdf");
        assert_eq!(clean_filename("a\u{0}b\n.txt"), "ab.txt");
        assert_eq!(clean_filename(".."), "");
    }
}
