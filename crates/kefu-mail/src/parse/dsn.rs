//! Reading RFC 3464 delivery status notifications: the `message/delivery-status` part's
//! per-recipient fields, and the Message-ID of the returned message.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::{Dsn, DsnRecipient};

use super::first_id;

/// The DSN in `msg`, if it is one: a `multipart/report; report-type=delivery-status` or
/// any message with a `message/delivery-status` part (some MTAs wrap it in
/// `multipart/mixed`). Looks only at the message's own parts, not into attached mail.
pub(super) fn read_dsn(msg: &Message<'_>) -> Option<Dsn> {
    let is_report = msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|r| r.trim().eq_ignore_ascii_case("delivery-status"))
    });
    let mut dsn = Dsn::default();
    let mut found_status = false;
    for part in &msg.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let ctype = ct.ctype().to_ascii_lowercase();
        let subtype = ct.subtype().unwrap_or("").to_ascii_lowercase();
        match (ctype.as_str(), subtype.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                found_status = true;
                let body = String::from_utf8_lossy(part.contents());
                dsn.recipients.extend(parse_delivery_status(&body));
            }
            ("message", "rfc822" | "global" | "rfc822-headers")
            | ("text", "rfc822-headers" | "rfc822")
                if dsn.original_message_id.is_none() =>
            {
                dsn.original_message_id = match &part.body {
                    PartType::Message(returned) => returned
                        .root_part()
                        .headers
                        .iter()
                        .find(|h| h.name.as_str().eq_ignore_ascii_case("message-id"))
                        .and_then(|h| first_id(&h.value)),
                    _ => message_id_in_headers(part.contents()),
                };
            }
            _ => {}
        }
    }
    (is_report || found_status).then_some(dsn)
}

/// The Message-ID in a block of raw headers (a `text/rfc822-headers` part, or a returned
/// message mail-parser could not read as a message).
fn message_id_in_headers(raw: &[u8]) -> Option<String> {
    let headers = MessageParser::default().parse_headers(raw)?;
    headers
        .root_part()
        .headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case("message-id"))
        .and_then(|h| first_id(&h.value))
}

/// The per-recipient blocks of a `message/delivery-status` body. Blocks are separated by
/// blank lines; folded lines are unfolded; the per-message block (no recipient fields) is
/// skipped.
pub(super) fn parse_delivery_status(body: &str) -> Vec<DsnRecipient> {
    let mut recipients = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut finish = |fields: &mut Vec<(String, String)>| {
        if let Some(r) = recipient_of(fields) {
            recipients.push(r);
        }
        fields.clear();
    };
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            finish(&mut fields);
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    finish(&mut fields);
    recipients
}

fn recipient_of(fields: &[(String, String)]) -> Option<DsnRecipient> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let address = get("final-recipient")
        .or_else(|| get("original-recipient"))
        .or_else(|| get("x-actual-recipient"))?;
    let recipient = strip_type(address)
        .trim_matches(|c| c == '<' || c == '>')
        .trim()
        .to_string();
    let action = get("action")
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let status = get("status")
        .unwrap_or("")
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .to_string();
    let diagnostic = get("diagnostic-code")
        .map(|d| strip_type(d).to_string())
        .filter(|d| !d.is_empty());
    Some(DsnRecipient {
        recipient,
        action,
        status,
        diagnostic,
    })
}

/// `rfc822; user@example.com` → `user@example.com`; `smtp; 550 …` → `550 …`.
fn strip_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest)) if !kind.contains(' ') && !kind.contains('@') => rest.trim(),
        _ => value.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_recipient_blocks_with_folded_diagnostics() {
        let body = "Reporting-MTA: dns; mx.example\r\n\r\n\
            Final-Recipient: rfc822; <a@example.org>\r\n\
            Action: failed\r\nStatus: 5.1.1 (bad mailbox)\r\n\
            Diagnostic-Code: smtp; 550 5.1.1 no such\r\n    user here\r\n\r\n\
            Original-Recipient: rfc822;b@example.org\r\nAction: Delayed\r\nStatus: 4.4.1\r\n";
        let r = parse_delivery_status(body);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].recipient, "a@example.org");
        assert_eq!(r[0].action, "failed");
        assert_eq!(r[0].status, "5.1.1");
        assert_eq!(
            r[0].diagnostic.as_deref(),
            Some("550 5.1.1 no such user here")
        );
        assert_eq!(r[1].recipient, "b@example.org");
        assert_eq!(r[1].action, "delayed");
        assert_eq!(r[1].diagnostic, None);
    }
}
