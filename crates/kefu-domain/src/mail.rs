//! The email channel's rules: support mailboxes, which ticket an inbound email belongs to
//! (threading), reply addresses and subject tokens, RFC 3834 auto-reply recognition, mail
//! loops and the per-sender limit. Pure: parsing MIME, SMTP and storage live in adapters
//! (`kefu-mail`, `kefu-store`), which hand the facts they found to these functions.

use crate::{
    Change, DomainError, Email, Lang, Status, TeamId, Ticket, TicketId, Timestamp, ids::MailboxId,
};

/// A support address kefu receives mail for, e.g. `support@example.com`. Mail arrives by
/// kefu's own SMTP/LMTP listener (always, for active mailboxes) and, when `imap_url` is
/// set, by polling that IMAP mailbox as well.
#[derive(Debug, Clone, PartialEq)]
pub struct Mailbox {
    pub id: MailboxId,
    pub address: Email,
    /// Display name used in `From:` ("Acme Support").
    pub name: String,
    /// Team new tickets from this mailbox are given to.
    pub team_id: Option<TeamId>,
    /// `imaps://user:password@host[:port][/folder]` or `imap://…` (STARTTLS); contains a
    /// secret, so it is never shown back in full (see [`redact_url`]).
    pub imap_url: Option<String>,
    /// Send a localized acknowledgement for each new ticket.
    pub auto_ack: bool,
    pub active: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMailbox {
    pub address: Email,
    pub name: String,
    pub team_id: Option<TeamId>,
    pub imap_url: Option<String>,
    pub auto_ack: bool,
    pub active: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MailboxPatch {
    pub name: Option<String>,
    pub team_id: Option<Option<TeamId>>,
    pub imap_url: Option<Option<String>>,
    pub auto_ack: Option<bool>,
    pub active: Option<bool>,
}

/// Checks a mailbox's display name and IMAP URL.
pub fn validate_mailbox(name: &str, imap_url: Option<&str>) -> Result<(), DomainError> {
    if name.chars().count() > 200 {
        return Err(DomainError::invalid(
            "name",
            "is longer than 200 characters",
        ));
    }
    if let Some(url) = imap_url {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(DomainError::invalid(
                "imap_url",
                "must look like imaps://user:password@host[:port][/folder]",
            ));
        };
        if scheme != "imap" && scheme != "imaps" {
            return Err(DomainError::invalid(
                "imap_url",
                "scheme must be imaps (TLS) or imap (STARTTLS)",
            ));
        }
        let Some((userinfo, host)) = rest.rsplit_once('@') else {
            return Err(DomainError::invalid(
                "imap_url",
                "must contain user:password@ before the host",
            ));
        };
        if userinfo.is_empty() || host.is_empty() || host.starts_with('/') {
            return Err(DomainError::invalid("imap_url", "needs a user and a host"));
        }
    }
    Ok(())
}

/// `imaps://user:secret@host/INBOX` → `imaps://user:***@host/INBOX`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

/// How an inbound email was recognised as automatic (RFC 3834 and common practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoKind {
    /// Written by a person, as far as the headers tell.
    Human,
    /// An out-of-office or other automatic reply (`Auto-Submitted: auto-replied`, `X-Autoreply`, …).
    AutoReply,
    /// Bulk, list or junk mail (`Precedence: bulk/list/junk`, `List-Id`, `Auto-Submitted: auto-generated`).
    Bulk,
    /// A delivery status notification (bounce) or other mail from a mailer daemon.
    Bounce,
}

impl AutoKind {
    /// Anything but a person: never acknowledged, never reopens a ticket.
    pub fn is_automatic(self) -> bool {
        self != AutoKind::Human
    }
}

/// Classifies an email by its headers (`(name, value)` pairs, names in any case) and
/// whether its envelope sender was null (`MAIL FROM:<>`, which only bounces use).
pub fn classify_auto<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    null_sender: bool,
) -> AutoKind {
    let mut kind = AutoKind::Human;
    let mut raise = |k: AutoKind| {
        // Bounce > AutoReply > Bulk > Human.
        let rank = |k: AutoKind| match k {
            AutoKind::Human => 0,
            AutoKind::Bulk => 1,
            AutoKind::AutoReply => 2,
            AutoKind::Bounce => 3,
        };
        if rank(k) > rank(kind) {
            kind = k;
        }
    };
    if null_sender {
        raise(AutoKind::Bounce);
    }
    for (name, value) in headers {
        let value = value.trim().to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "auto-submitted" => {
                let v = value.split(';').next().unwrap_or("").trim();
                if v == "auto-replied" {
                    raise(AutoKind::AutoReply);
                } else if !v.is_empty() && v != "no" {
                    raise(AutoKind::Bulk);
                }
            }
            "precedence" => {
                if matches!(value.as_str(), "bulk" | "junk" | "list") {
                    raise(AutoKind::Bulk);
                } else if value == "auto_reply" {
                    raise(AutoKind::AutoReply);
                }
            }
            // Outlook sets this on its own auto-replies ("All", "OOF").
            "x-auto-response-suppress"
                if value.contains("all")
                    || value.contains("oof")
                    || value.contains("autoreply") =>
            {
                raise(AutoKind::AutoReply)
            }
            "x-autoreply" | "x-autorespond" | "x-autoresponder" | "x-autogenerated"
                if value != "no" && value != "false" =>
            {
                raise(AutoKind::AutoReply)
            }
            "x-loop" | "x-mailer-daemon" => raise(AutoKind::AutoReply),
            "list-id" | "list-unsubscribe" | "x-mailing-list" | "mailing-list" => {
                raise(AutoKind::Bulk)
            }
            "x-ms-exchange-generated-message-source" | "feedback-id" => raise(AutoKind::Bulk),
            "content-type"
                if value.starts_with("multipart/report") && value.contains("delivery-status") =>
            {
                raise(AutoKind::Bounce)
            }
            "return-path" if value == "<>" => raise(AutoKind::Bounce),
            "from" | "sender" | "return-path" => {
                let v = value.as_str();
                if v.contains("mailer-daemon@") || v.contains("<mailer-daemon") {
                    raise(AutoKind::Bounce);
                }
            }
            _ => {}
        }
    }
    kind
}

/// True if `from` is one of our own mailbox addresses (or a plus-address of one): such a
/// mail is a loop and is dropped.
pub fn is_own_address(from: &Email, ours: &[Email]) -> bool {
    let from = base_address(from.as_str());
    ours.iter().any(|o| base_address(o.as_str()) == from)
}

/// Mails a sender may open or add per hour before further mail is kept without tickets.
/// Automatic mail gets a much lower limit: that is what stops auto-reply storms.
pub fn sender_hourly_limit(kind: AutoKind) -> u32 {
    match kind {
        AutoKind::Human => 60,
        AutoKind::AutoReply | AutoKind::Bulk | AutoKind::Bounce => 5,
    }
}

/// Whether a new ticket opened by this email gets an acknowledgement.
pub fn should_acknowledge(mailbox_auto_ack: bool, kind: AutoKind) -> bool {
    mailbox_auto_ack && kind == AutoKind::Human
}

/// The reply address for a ticket: `local+t{ticket}-{sig}@domain`. `sig` is a short keyed
/// signature computed by the caller (so a stranger cannot post into any ticket by guessing
/// numbers); only `[a-z0-9]` is kept of it.
pub fn reply_address(mailbox: &Email, ticket: TicketId, sig: &str) -> String {
    let (local, domain) = mailbox
        .as_str()
        .rsplit_once('@')
        .unwrap_or((mailbox.as_str(), ""));
    let sig: String = sig
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    format!("{local}+t{}-{sig}@{domain}", ticket.0)
}

/// The ticket id and signature in a reply address made by [`reply_address`], if any.
pub fn parse_reply_token(address: &str) -> Option<(TicketId, String)> {
    let (local, _domain) = address.trim().rsplit_once('@')?;
    let (_, tag) = local.rsplit_once('+')?;
    let rest = tag.strip_prefix('t').or_else(|| tag.strip_prefix('T'))?;
    let (id, sig) = rest.split_once('-')?;
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) || sig.is_empty() {
        return None;
    }
    Some((TicketId(id.parse().ok()?), sig.to_ascii_lowercase()))
}

/// The address without any `+tag`: `support+t12-ab@x.com` → `support@x.com`.
pub fn base_address(address: &str) -> String {
    match address.trim().rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or(local);
            format!("{}@{}", local, domain).to_lowercase()
        }
        None => address.trim().to_lowercase(),
    }
}

/// The ticket number in a subject token `[#1234]` (also with full-width brackets or
/// `#`), if any. The first token wins.
pub fn ticket_number_in_subject(subject: &str) -> Option<i64> {
    let chars: Vec<char> = subject.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if matches!(chars[i], '[' | '［' | '【') {
            let mut j = i + 1;
            if j < chars.len() && matches!(chars[j], '#' | '＃') {
                j += 1;
                let start = j;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                if j > start
                    && j - start <= 18
                    && j < chars.len()
                    && matches!(chars[j], ']' | '］' | '】')
                {
                    let digits: String = chars[start..j].iter().collect();
                    return digits.parse().ok();
                }
            }
        }
        i += 1;
    }
    None
}

/// The subject of our outgoing mail for a ticket: `Re: [#1234] subject`, never doubling
/// the token or the `Re:`.
pub fn outgoing_subject(subject: &str, number: i64, reply: bool) -> String {
    let mut s = subject.trim().to_string();
    if ticket_number_in_subject(&s) != Some(number) {
        s = format!("[#{number}] {s}");
    }
    if reply && !has_reply_prefix(&s) {
        s = format!("Re: {s}");
    }
    s
}

fn has_reply_prefix(s: &str) -> bool {
    let lower = s.to_lowercase();
    [
        "re:",
        "re：",
        "回复:",
        "回复：",
        "答复:",
        "答复：",
        "回覆:",
        "回覆：",
        "aw:",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// What the adapters found when they looked up an inbound email's ticket, one field per
/// threading rule. `None` means that rule found nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadLookup {
    /// The ticket named by a valid reply token (signature already checked).
    pub by_token: Option<(TicketId, Status)>,
    /// The ticket of a message whose Message-ID appears in `In-Reply-To`/`References`.
    pub by_reference: Option<(TicketId, Status)>,
    /// The ticket whose number is in the subject, and whether the sender is that
    /// ticket's requester (a subject token alone from a stranger opens a new ticket).
    pub by_subject: Option<(TicketId, Status, bool)>,
}

/// Which rule threaded an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadedBy {
    Token,
    Reference,
    Subject,
    /// Nothing matched: a new ticket.
    Nothing,
}

/// Where an inbound email goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threading {
    /// Add it to this ticket.
    Append(TicketId),
    /// The ticket it answers is closed: open a follow-up linked to it.
    FollowUp(TicketId),
    /// Open a new ticket.
    New,
}

/// The threading order: reply token, then `In-Reply-To`/`References`, then subject
/// token (sender must be the requester), else a new ticket. A match on a closed ticket
/// opens a follow-up.
pub fn decide_thread(l: &ThreadLookup) -> (Threading, ThreadedBy) {
    let found = if let Some((id, st)) = l.by_token {
        Some((id, st, ThreadedBy::Token))
    } else if let Some((id, st)) = l.by_reference {
        Some((id, st, ThreadedBy::Reference))
    } else if let Some((id, st, true)) = l.by_subject {
        Some((id, st, ThreadedBy::Subject))
    } else {
        None
    };
    match found {
        Some((id, Status::Closed, by)) => (Threading::FollowUp(id), by),
        Some((id, _, by)) => (Threading::Append(id), by),
        None => (Threading::New, ThreadedBy::Nothing),
    }
}

/// What an automatic email (out-of-office, list mail) added to a ticket does to it:
/// nothing but `updated_at`. It never reopens a pending or solved ticket, and a closed
/// ticket takes nothing (the caller keeps the mail without opening a follow-up).
pub fn on_automatic_mail(
    ticket: &Ticket,
    now: Timestamp,
) -> Result<(Ticket, Vec<Change>), DomainError> {
    if ticket.status == Status::Closed {
        return Err(DomainError::TicketClosed);
    }
    let mut t = ticket.clone();
    t.updated_at = now;
    Ok((t, Vec::new()))
}

/// A new sender's language, guessed from what they wrote: Chinese if Han characters make
/// up a real part of it (Traditional if traditional-only characters outnumber
/// simplified-only ones), else English.
pub fn guess_language(text: &str) -> Lang {
    const TRADITIONAL: &str = "們這個為說時會來對後問題請謝還點開關機無與電話網買賣號單務實發錯誤寫讀標準體裡麼帳戶費據換貨處理經協議產品訂購導應";
    const SIMPLIFIED: &str = "们这个为说时会来对后问题请谢还点开关机无与电话网买卖号单务实发错误写读标准体里么账户费据换货处理经协议产品订购导应";
    let (mut han, mut letters, mut trad, mut simp) = (0usize, 0usize, 0usize, 0usize);
    for c in text.chars().take(4000) {
        if ('\u{4e00}'..='\u{9fff}').contains(&c) {
            han += 1;
            if TRADITIONAL.contains(c) && !SIMPLIFIED.contains(c) {
                trad += 1;
            } else if SIMPLIFIED.contains(c) && !TRADITIONAL.contains(c) {
                simp += 1;
            }
        } else if c.is_alphabetic() {
            letters += 1;
        }
    }
    // A Chinese character carries about as much as a short English word.
    if han == 0 || han * 4 < letters / 5 {
        Lang::En
    } else if trad > simp {
        Lang::ZhTw
    } else {
        Lang::ZhCn
    }
}

/// Retry schedule for outgoing mail: 1, 2, 4, 8 … minutes, capped at one hour, for at
/// most [`MAX_SEND_ATTEMPTS`] attempts. `None` means give up (the message shows `failed`).
pub fn send_retry_delay(attempts_so_far: u32) -> Option<jiff::SignedDuration> {
    if attempts_so_far >= MAX_SEND_ATTEMPTS {
        return None;
    }
    let minutes = 1i64 << attempts_so_far.saturating_sub(1).min(6);
    Some(jiff::SignedDuration::from_mins(minutes.min(60)))
}

/// Attempts before an outgoing email is marked `failed`.
pub const MAX_SEND_ATTEMPTS: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn classifies_rfc3834_and_common_headers() {
        assert_eq!(classify_auto([("Subject", "hi")], false), AutoKind::Human);
        assert_eq!(
            classify_auto([("Auto-Submitted", "auto-replied")], false),
            AutoKind::AutoReply
        );
        assert_eq!(
            classify_auto([("auto-submitted", "No")], false),
            AutoKind::Human
        );
        assert_eq!(
            classify_auto([("Auto-Submitted", "auto-generated")], false),
            AutoKind::Bulk
        );
        assert_eq!(
            classify_auto([("Precedence", "bulk")], false),
            AutoKind::Bulk
        );
        assert_eq!(
            classify_auto([("Precedence", " Junk ")], false),
            AutoKind::Bulk
        );
        assert_eq!(
            classify_auto([("X-Autoreply", "yes")], false),
            AutoKind::AutoReply
        );
        assert_eq!(
            classify_auto([("List-Id", "<x.lists>")], false),
            AutoKind::Bulk
        );
        assert_eq!(
            classify_auto([("X-Auto-Response-Suppress", "All")], false),
            AutoKind::AutoReply
        );
        assert_eq!(classify_auto([], true), AutoKind::Bounce);
        assert_eq!(
            classify_auto([("Return-Path", "<>")], false),
            AutoKind::Bounce
        );
        assert_eq!(
            classify_auto(
                [(
                    "Content-Type",
                    "multipart/report; report-type=delivery-status; boundary=x"
                )],
                false
            ),
            AutoKind::Bounce
        );
        assert_eq!(
            classify_auto(
                [("From", "Mail Delivery System <MAILER-DAEMON@mx.example>")],
                false
            ),
            AutoKind::Bounce
        );
        // The strongest signal wins.
        assert_eq!(
            classify_auto(
                [("Precedence", "bulk"), ("Auto-Submitted", "auto-replied")],
                false
            ),
            AutoKind::AutoReply
        );
    }

    #[test]
    fn reply_tokens_round_trip() {
        let addr = reply_address(&email("support@acme.example"), TicketId(42), "Ab9_z");
        assert_eq!(addr, "support+t42-ab9z@acme.example");
        assert_eq!(
            parse_reply_token(&addr),
            Some((TicketId(42), "ab9z".into()))
        );
        assert_eq!(parse_reply_token("support@acme.example"), None);
        assert_eq!(parse_reply_token("support+sales@acme.example"), None);
        assert_eq!(parse_reply_token("support+tx-1@acme.example"), None);
        assert_eq!(
            parse_reply_token("support+t99999999999999999999-a@x.example"),
            None
        );
        assert_eq!(
            base_address("Support+t42-ab@Acme.example"),
            "support@acme.example"
        );
    }

    #[test]
    fn own_addresses_are_loops() {
        let ours = [email("support@acme.example")];
        assert!(is_own_address(&email("support@acme.example"), &ours));
        assert!(is_own_address(&email("support+t1-x@acme.example"), &ours));
        assert!(!is_own_address(&email("li@acme.example"), &ours));
    }

    #[test]
    fn subject_tokens() {
        assert_eq!(
            ticket_number_in_subject("Re: [#1234] 打印机坏了"),
            Some(1234)
        );
        assert_eq!(ticket_number_in_subject("回复：【#77】发票"), Some(77));
        assert_eq!(ticket_number_in_subject("［＃5］x"), Some(5));
        assert_eq!(ticket_number_in_subject("[#] x [#12 ] y"), None);
        assert_eq!(ticket_number_in_subject("order #12"), None);
        assert_eq!(outgoing_subject("Printer", 7, true), "Re: [#7] Printer");
        assert_eq!(
            outgoing_subject("Re: [#7] Printer", 7, true),
            "Re: [#7] Printer"
        );
        assert_eq!(
            outgoing_subject("回复：[#7] 打印机", 7, true),
            "回复：[#7] 打印机"
        );
        assert_eq!(outgoing_subject("Printer", 7, false), "[#7] Printer");
    }

    #[test]
    fn threading_order() {
        let t = |n| TicketId(n);
        let l = ThreadLookup {
            by_token: Some((t(1), Status::Open)),
            by_reference: Some((t(2), Status::Open)),
            by_subject: Some((t(3), Status::Open, true)),
        };
        assert_eq!(
            decide_thread(&l),
            (Threading::Append(t(1)), ThreadedBy::Token)
        );
        let l = ThreadLookup {
            by_token: None,
            ..l
        };
        assert_eq!(
            decide_thread(&l),
            (Threading::Append(t(2)), ThreadedBy::Reference)
        );
        let l = ThreadLookup {
            by_reference: None,
            ..l
        };
        assert_eq!(
            decide_thread(&l),
            (Threading::Append(t(3)), ThreadedBy::Subject)
        );
        let stranger = ThreadLookup {
            by_subject: Some((t(3), Status::Open, false)),
            ..Default::default()
        };
        assert_eq!(
            decide_thread(&stranger),
            (Threading::New, ThreadedBy::Nothing)
        );
        let closed = ThreadLookup {
            by_reference: Some((t(9), Status::Closed)),
            ..Default::default()
        };
        assert_eq!(
            decide_thread(&closed),
            (Threading::FollowUp(t(9)), ThreadedBy::Reference)
        );
    }

    #[test]
    fn guesses_language() {
        assert_eq!(guess_language("My printer does not print"), Lang::En);
        assert_eq!(
            guess_language("我的打印机不能打印了，请帮忙处理"),
            Lang::ZhCn
        );
        assert_eq!(
            guess_language("我的印表機不能列印了，請幫忙處理"),
            Lang::ZhTw
        );
        assert_eq!(
            guess_language("Re: 订单 12345 发票问题 invoice"),
            Lang::ZhCn
        );
        assert_eq!(guess_language(""), Lang::En);
    }

    #[test]
    fn retries_back_off_then_give_up() {
        assert_eq!(
            send_retry_delay(1),
            Some(jiff::SignedDuration::from_mins(1))
        );
        assert_eq!(
            send_retry_delay(2),
            Some(jiff::SignedDuration::from_mins(2))
        );
        assert_eq!(
            send_retry_delay(7),
            Some(jiff::SignedDuration::from_mins(60))
        );
        assert_eq!(send_retry_delay(MAX_SEND_ATTEMPTS), None);
    }

    #[test]
    fn mailbox_validation_and_redaction() {
        assert!(validate_mailbox("Support", Some("imaps://u:p@mail.example/INBOX")).is_ok());
        assert!(validate_mailbox("Support", Some("http://u:p@x")).is_err());
        assert!(validate_mailbox("Support", Some("imaps://mail.example")).is_err());
        assert_eq!(
            redact_url("imaps://bot:s3cret@mail.example:993/INBOX"),
            "imaps://bot:***@mail.example:993/INBOX"
        );
    }
}
