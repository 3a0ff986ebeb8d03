//! The inbound pipeline: raw mail → stored → parsed → classified → threaded → ticket.
//!
//! Order matters and is the channel's promise never to lose mail:
//! 1. the raw bytes are stored (deduplicated by Message-ID, else by content hash) before
//!    anything else can fail — only then does the SMTP listener answer 250 or the IMAP
//!    poller flag the mail;
//! 2. everything after works from the stored row, so a mail whose processing failed (a
//!    database hiccup, a crash) stays `received` and is processed again by
//!    [`process_unprocessed`];
//! 3. a mail that cannot be parsed still becomes a ticket message with what could be read
//!    and a visible warning.
//!
//! The rules (auto-reply recognition, loops, limits, threading order) are pure functions
//! in `kefu_domain::mail`; this module only fetches the facts they need.

use super::MailKeys;
use kefu_domain::mail::{
    self as rules, AutoKind, ThreadLookup, ThreadedBy, Threading, classify_auto, decide_thread,
};
use kefu_domain::*;
use kefu_mail::{Envelope, ParsedMail};
use kefu_store::{
    InboundMail, MAX_ATTACHMENT_BYTES, MessageMail, NewAttachment, NewInbound, NewMessage,
    NewTicket, RequesterRef, Store, StoreError,
};

/// The largest plain-text body kept on a message; the raw mail keeps everything.
const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Window of the per-sender limit.
const SENDER_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// What became of one delivered mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub inbound: InboundMailId,
    /// False if the same mail (same Message-ID or bytes) was stored before.
    pub new: bool,
    pub state: InboundState,
    pub ticket: Option<TicketId>,
    pub threaded_by: Option<ThreadedBy>,
}

/// Stores `raw` and processes it. Returns once the mail is stored and processed; if
/// processing fails after the mail was stored, the error is logged, the mail stays
/// `received` for [`process_unprocessed`], and the result is still `Ok`.
pub async fn receive(
    store: &dyn Store,
    keys: &MailKeys,
    envelope: &Envelope,
    raw: Vec<u8>,
) -> Result<Outcome, StoreError> {
    let parsed = kefu_mail::parse::parse(&raw);
    // One read of the (few) mailboxes serves both the recipient match and loop detection.
    let mailboxes = store.list_mailboxes().await?;
    let mailbox = find_mailbox(&mailboxes, envelope);
    // The same mail delivered twice (SMTP retry, SMTP and IMAP, two of our addresses) has
    // the same Message-ID and body, but not the same bytes (each hop adds `Received:`).
    // Broken mailers reuse Message-IDs for different mails, so the body is part of the key.
    let dedupe_key = match &parsed.message_id {
        Some(id) if !id.trim().is_empty() => {
            format!("mid:{}:{}", id.trim(), &hex_sha256(body_bytes(&raw))[..16])
        }
        _ => format!("sha256:{}", hex_sha256(&raw)),
    };
    let (row, new) = store
        .store_inbound(&NewInbound {
            mailbox_id: mailbox.as_ref().map(|m| m.id),
            dedupe_key,
            message_id: parsed.message_id.clone(),
            envelope_from: envelope.mail_from.as_deref().map(no_nul),
            envelope_to: envelope.rcpt_to.iter().map(|r| no_nul(r)).collect(),
            source: envelope.source.as_str().to_string(),
            subject: parsed.subject.chars().take(300).collect(),
            // The sender as the per-sender limit counts it (see `process`).
            from: parsed
                .from
                .as_ref()
                .and_then(|a| Email::parse(&a.email).ok())
                .or_else(|| {
                    envelope
                        .mail_from
                        .as_deref()
                        .and_then(|m| Email::parse(m).ok())
                })
                .map(|e| e.as_str().to_string()),
            raw,
        })
        .await?;
    metrics::counter!("kefu_mail_received_total", "source" => envelope.source.as_str())
        .increment(1);
    if !new {
        metrics::counter!("kefu_mail_duplicates_total").increment(1);
        return Ok(Outcome {
            inbound: row.id,
            new: false,
            state: row.state,
            ticket: row.ticket_id,
            threaded_by: None,
        });
    }
    // Only SMTP/LMTP have an envelope; IMAP mail shows a null sender as `Return-Path: <>`.
    let null_sender = envelope.mail_from.is_none() && envelope.source != kefu_mail::Source::Imap;
    match process(
        store,
        keys,
        &row,
        &parsed,
        &mailboxes,
        mailbox.as_ref(),
        null_sender,
    )
    .await
    {
        Ok(outcome) => Ok(outcome),
        Err(e) => {
            tracing::error!(inbound = row.id.0, error = %e, "processing a stored mail failed; it will be retried");
            metrics::counter!("kefu_mail_processing_errors_total").increment(1);
            Ok(Outcome {
                inbound: row.id,
                new: true,
                state: InboundState::Received,
                ticket: None,
                threaded_by: None,
            })
        }
    }
}

/// Processes mails left `received` (stored, then the node died or the database failed
/// mid-way) that arrived at or before `before`. Returns how many it processed.
pub async fn process_unprocessed(
    store: &dyn Store,
    keys: &MailKeys,
    before: Timestamp,
) -> Result<usize, StoreError> {
    let ids = store.unprocessed_inbound(before, 100).await?;
    let mut done = 0;
    for id in ids {
        let Some(row) = store.get_inbound(id).await? else {
            continue;
        };
        if row.state != InboundState::Received {
            continue;
        }
        let Some(raw) = store.inbound_raw(id).await? else {
            continue;
        };
        let parsed = kefu_mail::parse::parse(&raw);
        let mailboxes = store.list_mailboxes().await?;
        let mailbox = mailboxes
            .iter()
            .find(|m| Some(m.id) == row.mailbox_id)
            .cloned();
        match process(
            store,
            keys,
            &row,
            &parsed,
            &mailboxes,
            mailbox.as_ref(),
            row.envelope_from.is_none() && row.source != "imap",
        )
        .await
        {
            Ok(_) => done += 1,
            // Another node processed it meanwhile: a mail becomes at most one message.
            Err(StoreError::Conflict("inbound mail")) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The first active mailbox among the envelope recipients (exact address first, then
/// without a `+tag`, as `Store::find_mailbox_by_address` matches).
fn find_mailbox(mailboxes: &[Mailbox], env: &Envelope) -> Option<Mailbox> {
    env.rcpt_to.iter().find_map(|rcpt| {
        let exact = rcpt.trim().to_lowercase();
        let base = rules::base_address(rcpt);
        mailboxes
            .iter()
            .filter(|m| m.active)
            .find(|m| m.address.as_str() == exact)
            .or_else(|| {
                mailboxes
                    .iter()
                    .filter(|m| m.active)
                    .find(|m| m.address.as_str() == base)
            })
            .cloned()
    })
}

async fn process(
    store: &dyn Store,
    keys: &MailKeys,
    row: &InboundMail,
    parsed: &ParsedMail,
    mailboxes: &[Mailbox],
    mailbox: Option<&Mailbox>,
    null_sender: bool,
) -> Result<Outcome, StoreError> {
    let done = |state, ticket, by| Outcome {
        inbound: row.id,
        new: true,
        state,
        ticket,
        threaded_by: by,
    };
    let mut warnings = parsed.warnings.clone();
    let sender = sender_address(parsed, row, &mut warnings);

    // Loops: mail from one of our own addresses.
    let ours: Vec<Email> = mailboxes.iter().map(|m| m.address.clone()).collect();
    if rules::is_own_address(&sender.0, &ours) {
        store
            .set_inbound_state(
                row.id,
                InboundState::Loop,
                None,
                None,
                Some("sent from one of our own addresses"),
            )
            .await?;
        metrics::counter!("kefu_mail_dropped_total", "reason" => "loop").increment(1);
        return Ok(done(InboundState::Loop, None, None));
    }

    let mut kind = classify_auto(
        parsed.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        null_sender,
    );
    if parsed.dsn.is_some() {
        kind = AutoKind::Bounce;
    }
    if kind == AutoKind::Bounce {
        return bounce(store, row, parsed)
            .await
            .map(|t| done(InboundState::Bounce, t, None));
    }

    // Per-sender limit (automatic mail gets a much lower one), counted over the stored
    // mails themselves: no extra write per mail, and the same on every node.
    let hits = store
        .count_inbound_from(sender.0.as_str(), row.received_at - SENDER_WINDOW)
        .await?;
    if hits > u64::from(rules::sender_hourly_limit(kind)) {
        store
            .set_inbound_state(
                row.id,
                InboundState::RateLimited,
                None,
                None,
                Some(&format!(
                    "more than {} mails from this sender in an hour",
                    rules::sender_hourly_limit(kind)
                )),
            )
            .await?;
        metrics::counter!("kefu_mail_dropped_total", "reason" => "rate_limited").increment(1);
        return Ok(done(InboundState::RateLimited, None, None));
    }

    let lookup = thread_lookup(store, keys, parsed, row, &sender.0).await?;
    let (threading, by) = decide_thread(&lookup);
    metrics::counter!("kefu_mail_threaded_total", "by" => threaded_by_str(by)).increment(1);

    let automatic = kind.is_automatic();
    let mail = MessageMail {
        message_id: parsed
            .message_id
            .clone()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| format!("{}@kefu.invalid", row.dedupe_key.replace(':', "."))),
        inbound_id: Some(row.id),
        mailbox_id: mailbox.map(|m| m.id),
        from: Some(sender.0.as_str().to_string()),
        to: parsed.to.iter().map(|a| a.email.clone()).collect(),
        cc: parsed.cc.iter().map(|a| a.email.clone()).collect(),
        parse_warning: None,
        delivery: None,
        automatic,
    };
    let (body_text, body_html, attachments) = body_parts(parsed, &mut warnings);
    let mail = MessageMail {
        parse_warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
        ..mail
    };

    match threading {
        Threading::Append(ticket_id) => {
            let author = find_or_create_customer(store, &sender, parsed).await?;
            let m = NewMessage {
                author: Actor::Customer(author),
                public: true,
                body_text,
                body_html,
                attachments,
                status_after: None,
                idempotency: None,
                mail: Some(mail),
            };
            match store.add_message(ticket_id, &m).await {
                Ok(_) => Ok(done(InboundState::Threaded, Some(ticket_id), Some(by))),
                // Closed between the lookup and the write: treat as a closed match.
                Err(StoreError::Domain(DomainError::TicketClosed)) => {
                    let ticket = store.get_ticket(ticket_id).await?;
                    match ticket {
                        Some(t) => follow_up(store, row, &t, author, automatic, m, by).await,
                        None => Err(StoreError::InvalidReference("ticket")),
                    }
                }
                Err(e) => Err(e),
            }
        }
        Threading::FollowUp(closed_id) => {
            let Some(closed) = store.get_ticket(closed_id).await? else {
                return Err(StoreError::InvalidReference("ticket"));
            };
            let author = find_or_create_customer(store, &sender, parsed).await?;
            let m = NewMessage {
                author: Actor::Customer(author),
                public: true,
                body_text,
                body_html,
                attachments,
                status_after: None,
                idempotency: None,
                mail: Some(mail),
            };
            follow_up(store, row, &closed, author, automatic, m, by).await
        }
        Threading::New => {
            // A known sender is the requester; a new one is created with the ticket, in its
            // transaction (one commit fewer per first mail).
            let (requester, actor) = match store.find_customer_by_email(&sender.0).await? {
                Some(c) => (RequesterRef::Existing(c.id), Actor::Customer(c.id)),
                None => (
                    RequesterRef::ByEmail {
                        email: sender.0.clone(),
                        name: sender.1.clone(),
                        language: Some(rules::guess_language(&format!(
                            "{}\n{}",
                            parsed.subject, parsed.text
                        ))),
                    },
                    Actor::System,
                ),
            };
            let subject = Subject::parse(&parsed.subject)
                .or_else(|_| {
                    Subject::parse(
                        &parsed
                            .subject
                            .chars()
                            .take(Subject::MAX_CHARS)
                            .collect::<String>(),
                    )
                })
                .or_else(|_| Subject::parse(&first_line(&body_text)))
                .unwrap_or_else(|_| Subject::parse("(no subject)").expect("valid subject"));
            let draft = TicketDraft {
                subject,
                priority: Priority::Normal,
                ticket_type: TicketType::Question,
                channel: Channel::Email,
                assignee_id: None,
                team_id: mailbox.and_then(|m| m.team_id),
                tier: Tier::FRONTLINE,
                tags: Vec::new(),
                custom_fields: "{}".into(),
            };
            let t = store
                .create_ticket(&NewTicket {
                    draft,
                    requester,
                    actor,
                    first_message_by_actor: false,
                    body_text,
                    body_html,
                    attachments,
                    idempotency: None,
                    follow_up_of: None,
                    mail: Some(mail),
                })
                .await?;
            if let Some(mb) = mailbox
                && rules::should_acknowledge(mb.auto_ack, kind)
            {
                super::outbound::enqueue_ack(store, t.id, row.id).await?;
            }
            Ok(done(InboundState::Ticketed, Some(t.id), Some(by)))
        }
    }
}

async fn follow_up(
    store: &dyn Store,
    row: &InboundMail,
    closed: &Ticket,
    author: CustomerId,
    automatic: bool,
    m: NewMessage,
    by: ThreadedBy,
) -> Result<Outcome, StoreError> {
    if automatic {
        // An out-of-office reply to a closed ticket opens nothing.
        store
            .set_inbound_state(
                row.id,
                InboundState::Automatic,
                Some(closed.id),
                None,
                Some("automatic reply to a closed ticket"),
            )
            .await?;
        return Ok(Outcome {
            inbound: row.id,
            new: true,
            state: InboundState::Automatic,
            ticket: Some(closed.id),
            threaded_by: Some(by),
        });
    }
    let nt = crate::follow_up::new_follow_up(closed, author, Channel::Email, m)?;
    let t = store.create_ticket(&nt).await?;
    Ok(Outcome {
        inbound: row.id,
        new: true,
        // A follow-up continues a conversation: the store logs it as threaded.
        state: InboundState::Threaded,
        ticket: Some(t.id),
        threaded_by: Some(by),
    })
}

/// Attaches a delivery status notification to the message that bounced.
async fn bounce(
    store: &dyn Store,
    row: &InboundMail,
    parsed: &ParsedMail,
) -> Result<Option<TicketId>, StoreError> {
    metrics::counter!("kefu_mail_bounces_total").increment(1);
    let mut ids: Vec<String> = Vec::new();
    if let Some(dsn) = &parsed.dsn
        && let Some(orig) = &dsn.original_message_id
    {
        ids.push(orig.clone());
    }
    ids.extend(parsed.in_reply_to.iter().cloned());
    ids.extend(parsed.references.iter().cloned());
    let detail = parsed
        .dsn
        .as_ref()
        .and_then(|d| {
            d.recipients
                .iter()
                .find(|r| r.action.eq_ignore_ascii_case("failed"))
                .or(d.recipients.first())
        })
        .map(|r| {
            let mut s = format!("{} {}", r.recipient, r.status);
            if let Some(d) = &r.diagnostic {
                s.push_str(": ");
                s.push_str(d);
            }
            s.chars().take(500).collect::<String>()
        })
        .unwrap_or_else(|| "delivery failed".into());
    let found = if ids.is_empty() {
        None
    } else {
        store.find_ticket_by_mail_ids(&ids).await?
    };
    match found {
        Some((ticket, message)) => {
            // Only a failure marks the message bounced; delays and successes are notes.
            // Only our outgoing messages have a delivery status to mark (an
            // acknowledgement's id points at the ticket's first, received, message).
            let failed = parsed.dsn.as_ref().is_none_or(|d| {
                d.recipients.is_empty()
                    || d.recipients
                        .iter()
                        .any(|r| r.action.eq_ignore_ascii_case("failed"))
            });
            let outgoing = store
                .get_message(message)
                .await?
                .and_then(|m| m.email)
                .is_some_and(|e| e.delivery.is_some());
            if failed && outgoing {
                store
                    .set_delivery(message, DeliveryStatus::Bounced, Some(&detail))
                    .await?;
            }
            store
                .set_inbound_state(
                    row.id,
                    InboundState::Bounce,
                    Some(ticket),
                    Some(message),
                    Some(&detail),
                )
                .await?;
            Ok(Some(ticket))
        }
        None => {
            store
                .set_inbound_state(
                    row.id,
                    InboundState::Bounce,
                    None,
                    None,
                    Some(&format!("no matching message; {detail}")),
                )
                .await?;
            Ok(None)
        }
    }
}

/// The facts each threading rule needs, looked up in order.
async fn thread_lookup(
    store: &dyn Store,
    keys: &MailKeys,
    parsed: &ParsedMail,
    row: &InboundMail,
    sender: &Email,
) -> Result<ThreadLookup, StoreError> {
    let mut l = ThreadLookup::default();
    // 1. Our reply token, in any recipient address.
    let candidates = row
        .envelope_to
        .iter()
        .cloned()
        .chain(parsed.to.iter().map(|a| a.email.clone()))
        .chain(parsed.cc.iter().map(|a| a.email.clone()));
    for addr in candidates {
        if let Some((id, sig)) = rules::parse_reply_token(&addr)
            && keys.reply_signature(id) == sig
            && let Some(t) = store.get_ticket(id).await?
        {
            l.by_token = Some((t.id, t.status));
            break;
        }
    }
    if l.by_token.is_some() {
        return Ok(l);
    }
    // 2. In-Reply-To / References against every Message-ID we sent or received.
    let mut refs: Vec<String> = parsed.in_reply_to.clone();
    refs.extend(parsed.references.iter().rev().cloned());
    refs.retain(|r| !r.trim().is_empty() && Some(r) != parsed.message_id.as_ref());
    refs.truncate(50);
    if !refs.is_empty()
        && let Some((tid, _)) = store.find_ticket_by_mail_ids(&refs).await?
        && let Some(t) = store.get_ticket(tid).await?
    {
        l.by_reference = Some((t.id, t.status));
        return Ok(l);
    }
    // 3. A subject token, believed only from the ticket's requester.
    if let Some(n) = rules::ticket_number_in_subject(&parsed.subject)
        && let Some(t) = store.get_ticket_by_number(n).await?
    {
        let is_requester = match store.get_customer(t.requester_id).await? {
            Some(c) => c.identities.iter().any(|i| {
                i.kind == IdentityKind::Email && i.value.eq_ignore_ascii_case(sender.as_str())
            }),
            None => false,
        };
        l.by_subject = Some((t.id, t.status, is_requester));
    }
    Ok(l)
}

fn threaded_by_str(by: ThreadedBy) -> &'static str {
    match by {
        ThreadedBy::Token => "token",
        ThreadedBy::Reference => "reference",
        ThreadedBy::Subject => "subject",
        ThreadedBy::Nothing => "new",
    }
}

/// The sender: `From`, else the envelope sender, else a placeholder (with a warning).
fn sender_address(
    parsed: &ParsedMail,
    row: &InboundMail,
    warnings: &mut Vec<String>,
) -> (Email, Option<String>) {
    if let Some(from) = &parsed.from {
        if let Ok(e) = Email::parse(&from.email) {
            let name = from
                .name
                .as_ref()
                .map(|n| {
                    n.trim()
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(120)
                        .collect::<String>()
                })
                .filter(|n| !n.is_empty());
            return (e, name);
        }
        warnings.push(format!("the From address {:?} is not valid", from.email));
    }
    if let Some(env) = &row.envelope_from
        && let Ok(e) = Email::parse(env)
    {
        return (e, None);
    }
    warnings.push("no usable sender address".into());
    (
        Email::parse("unknown-sender@kefu.invalid").expect("valid placeholder"),
        None,
    )
}

async fn find_or_create_customer(
    store: &dyn Store,
    sender: &(Email, Option<String>),
    parsed: &ParsedMail,
) -> Result<CustomerId, StoreError> {
    if let Some(c) = store.find_customer_by_email(&sender.0).await? {
        return Ok(c.id);
    }
    let name = sender.1.clone().unwrap_or_else(|| {
        sender
            .0
            .as_str()
            .split('@')
            .next()
            .unwrap_or("")
            .to_string()
    });
    let new = NewCustomer {
        name: parse_name("name", &name).unwrap_or_else(|_| sender.0.as_str().to_string()),
        email: Some(sender.0.clone()),
        phones: Vec::new(),
        external_ids: Vec::new(),
        organization_id: None,
        segment: Segment::Standard,
        language: rules::guess_language(&format!("{}\n{}", parsed.subject, parsed.text)),
        time_zone: "UTC".into(),
    };
    match store.create_customer(&new, None).await {
        Ok(c) => Ok(c.id),
        // Created concurrently by another mail from the same sender; that transaction may
        // not be visible to readers for a moment yet (SQLite's group commit).
        Err(StoreError::Conflict(_)) => {
            for _ in 0..100 {
                if let Some(c) = store.find_customer_by_email(&sender.0).await? {
                    return Ok(c.id);
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(StoreError::InvalidReference("customer"))
        }
        Err(e) => Err(e),
    }
}

/// Text, HTML and attachments of the message, within the store's limits.
fn body_parts(
    parsed: &ParsedMail,
    warnings: &mut Vec<String>,
) -> (String, Option<String>, Vec<NewAttachment>) {
    let mut text = parsed.text.replace("\r\n", "\n");
    if text.len() > MAX_TEXT_BYTES {
        let mut cut = MAX_TEXT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[…]");
        warnings.push("the text was shortened; the raw mail has all of it".into());
    }
    if text.trim().is_empty() {
        text = if parsed.attachments.is_empty() {
            "(empty message)".into()
        } else {
            "(attachments only)".into()
        };
    }
    let mut attachments = Vec::new();
    for a in &parsed.attachments {
        if a.data.len() > MAX_ATTACHMENT_BYTES {
            warnings.push(format!(
                "attachment {:?} is larger than {} MiB and is only in the raw mail",
                a.filename,
                MAX_ATTACHMENT_BYTES / 1024 / 1024
            ));
            continue;
        }
        attachments.push(NewAttachment {
            filename: a
                .filename
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect(),
            content_type: a.content_type.clone(),
            data: a.data.clone(),
        });
    }
    (text, parsed.html.clone(), attachments)
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(80)
        .collect()
}

/// The bytes after the header block (after the first empty line), or all of them.
fn body_bytes(raw: &[u8]) -> &[u8] {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => &raw[a.min(b)..],
        (Some(a), None) | (None, Some(a)) => &raw[a..],
        (None, None) => raw,
    }
}

/// PostgreSQL text cannot hold NUL; SMTP envelopes are not supposed to, but may.
fn no_nul(s: &str) -> String {
    s.replace('\0', "")
}

fn hex_sha256(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(raw))
}
