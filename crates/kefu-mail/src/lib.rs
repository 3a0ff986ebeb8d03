//! kefu's email adapters. Everything here speaks a real protocol or format and hands plain
//! values to the rest of kefu; the rules (threading, auto-reply policy, reply tokens) live
//! in `kefu_domain::mail`, storage in `kefu-store`, the pipeline that joins them in
//! `kefu-server::mail`.
//!
//! - [`parse`]: raw RFC 5322 bytes → [`ParsedMail`]; never fails, never panics.
//! - [`html`]: sanitising mail HTML (inline styles filtered, `cid:` kept, remote images
//!   held back until the reader consents).
//! - [`quote`]: folding quoted history and signatures.
//! - [`compose`]: [`OutgoingMail`] → RFC 5322 bytes.
//! - [`relay`]: sending over an SMTP relay (`smtp://`, `smtps://`, STARTTLS).
//! - [`listener`]: kefu's own SMTP and LMTP listener, handing mail to a [`MailSink`].
//! - [`imap`]: polling IMAP mailboxes (IDLE where offered), handing mail to a [`MailSink`].

pub mod compose;
pub mod html;
pub mod imap;
pub mod listener;
pub mod parse;
pub mod quote;
pub mod relay;

use std::net::SocketAddr;

/// A mailbox in a header: `"李娜" <li.na@example.com>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addr {
    /// As written (trimmed); not validated: the pipeline validates with `kefu_domain::Email`.
    pub email: String,
    pub name: Option<String>,
}

/// Everything kefu uses of a received email. Produced by [`parse::parse`] for any input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedMail {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` ids, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` ids, without angle brackets, oldest first.
    pub references: Vec<String>,
    pub from: Option<Addr>,
    pub reply_to: Option<Addr>,
    pub to: Vec<Addr>,
    pub cc: Vec<Addr>,
    /// Decoded subject ("" if none).
    pub subject: String,
    pub date: Option<jiff::Timestamp>,
    /// Every header as decoded `(name, value)` text, in order (for auto-reply recognition
    /// and display); values of unknown headers are their raw text.
    pub headers: Vec<(String, String)>,
    /// Plain-text rendering of the body (from text/plain, or converted from HTML).
    pub text: String,
    /// Sanitised HTML body, if the mail had one (see [`html::sanitize_mail_html`]).
    pub html: Option<String>,
    pub attachments: Vec<ParsedAttachment>,
    /// Set if the mail is a delivery status notification (RFC 3464).
    pub dsn: Option<Dsn>,
    /// Human-readable problems met while parsing (bad charset, truncated base64, no
    /// headers …). Empty for a clean mail. Shown to agents on the message.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedAttachment {
    /// Decoded file name (RFC 2047/2231), or a generated one (`attachment-1.bin`).
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
    /// `Content-ID` without angle brackets, for inline `cid:` images.
    pub content_id: Option<String>,
    /// `Content-Disposition: inline` (or referenced by `cid:` from the HTML).
    pub inline: bool,
}

/// A delivery status notification (RFC 3464), as far as it could be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dsn {
    /// Message-ID of the message that bounced (from the returned headers), without brackets.
    pub original_message_id: Option<String>,
    pub recipients: Vec<DsnRecipient>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DsnRecipient {
    pub recipient: String,
    /// `failed`, `delayed`, `delivered`, `relayed`, `expanded`.
    pub action: String,
    /// `5.1.1` and the like.
    pub status: String,
    pub diagnostic: Option<String>,
}

/// How a mail reached kefu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Smtp,
    Lmtp,
    Imap,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Smtp => "smtp",
            Source::Lmtp => "lmtp",
            Source::Imap => "imap",
        }
    }
}

/// The SMTP envelope (or its IMAP equivalent) of a received mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `MAIL FROM` address; `None` for the null sender `<>` (bounces).
    pub mail_from: Option<String>,
    /// Accepted `RCPT TO` addresses (for IMAP: the polled mailbox's address).
    pub rcpt_to: Vec<String>,
    pub peer: Option<SocketAddr>,
    pub source: Source,
}

/// Why a mail could not be taken. `temporary` maps to SMTP 4xx (the sender retries,
/// IMAP leaves it unflagged for the next poll), otherwise 5xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliverError {
    pub temporary: bool,
    pub message: String,
}

/// Where the listener and the IMAP poller hand mail to (kefu's inbound pipeline).
#[async_trait::async_trait]
pub trait MailSink: Send + Sync + 'static {
    /// Whether mail for `rcpt` is accepted (asked at `RCPT TO`; others get 550).
    async fn accepts(&self, rcpt: &str) -> bool;
    /// Takes one mail. `Ok` means it is durably stored (only then does the listener
    /// answer 250 and the poller flag or move it).
    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), DeliverError>;
}

/// One outgoing email, with everything needed to write it (see [`compose::compose`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutgoingMail {
    pub from: Addr,
    pub to: Vec<Addr>,
    pub cc: Vec<Addr>,
    /// The ticket's reply address (`support+t42-sig@…`).
    pub reply_to: Option<String>,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Oldest first, without angle brackets.
    pub references: Vec<String>,
    pub date: Option<jiff::Timestamp>,
    pub text: String,
    /// Already sanitised HTML alternative, if any.
    pub html: Option<String>,
    pub attachments: Vec<OutgoingAttachment>,
    /// Adds `Auto-Submitted: auto-replied` (RFC 3834) and `X-Auto-Response-Suppress`,
    /// for acknowledgements.
    pub auto_submitted: bool,
    /// `Content-Language`, e.g. `zh-CN`.
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutgoingAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Makes rustls' `ring` provider the process default (once; later calls do nothing). The
/// binary calls it at start: with more than one provider compiled in, rustls would
/// otherwise panic at the first TLS connection that relies on the default.
pub fn install_crypto_provider() {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
}
