//! Outgoing mail: agents' public replies on email tickets and acknowledgements of new
//! tickets, sent through the job table so that a send survives restarts and is retried
//! with backoff.
//!
//! A reply is queued in the same transaction as its message (`MessageMail.delivery =
//! Queued` makes the store enqueue one `send_mail` job keyed by the message id, so a
//! message is never queued twice). The worker claims due jobs with a lease, writes the
//! mail, hands it to the relay, then marks the message `sent` and completes the job.
//! If a node dies after the relay accepted the mail but before the job completed, the
//! lease expires and the job runs again: it first re-reads the message and completes
//! without sending if it is already `sent`; only a crash in the instant between the
//! relay's 250 and the `sent` write can repeat a send, and the repeat carries the same
//! Message-ID, which mail clients fold into one.

use super::MailKeys;
use crate::sanitize::{escape, text_to_html};
use crate::web::i18n::Tr;
use kefu_domain::mail::{self as rules};
use kefu_domain::*;
use kefu_mail::relay::Relay;
use kefu_mail::{Addr, OutgoingAttachment, OutgoingMail};
use kefu_store::{Job, Message, MessageMail, NewJob, Store, StoreError};
use std::time::Duration;

pub const SEND_MAIL: &str = "send_mail";
pub const SEND_ACK: &str = "send_ack";
/// How long a claimed job is ours before another node may take it over.
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);
/// Every send is cut off after this long (lettre's own timeout covers only connecting).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Queues the acknowledgement of a new ticket (at most one per ticket).
pub async fn enqueue_ack(
    store: &dyn Store,
    ticket: TicketId,
    inbound: InboundMailId,
) -> Result<(), StoreError> {
    store
        .enqueue_job(&NewJob {
            kind: SEND_ACK.into(),
            payload: serde_json::json!({ "ticket_id": ticket.0, "inbound_id": inbound.0 }),
            // Due at once, whatever the store's clock says.
            run_at: Timestamp::UNIX_EPOCH,
            idempotency_key: Some(format!("{SEND_ACK}:{}", ticket.0)),
        })
        .await?;
    Ok(())
}

/// The email side of an agent's public reply on `ticket`, if the ticket is an email
/// ticket (one of its messages came in or went out through a mailbox that still exists
/// and is active) and its requester has an email address. The reply is then queued for
/// sending in the same transaction as the message.
pub async fn reply_mail(
    store: &dyn Store,
    ticket: &Ticket,
) -> Result<Option<MessageMail>, StoreError> {
    let messages = store.list_messages(ticket.id, false).await?;
    let Some(mailbox_id) = messages
        .iter()
        .rev()
        .filter_map(|m| m.email.as_ref().and_then(|e| e.mailbox_id))
        .next()
    else {
        return Ok(None);
    };
    let Some(mailbox) = store.get_mailbox(mailbox_id).await? else {
        return Ok(None);
    };
    if !mailbox.active {
        return Ok(None);
    }
    let Some(requester) = store.get_customer(ticket.requester_id).await? else {
        return Ok(None);
    };
    let Some(to) = requester.primary_email() else {
        return Ok(None);
    };
    Ok(Some(MessageMail {
        message_id: new_message_id(&mailbox.address),
        inbound_id: None,
        mailbox_id: Some(mailbox.id),
        from: Some(mailbox.address.as_str().to_string()),
        to: vec![to.to_string()],
        cc: Vec::new(),
        parse_warning: None,
        delivery: Some(DeliveryStatus::Queued),
        automatic: false,
    }))
}

/// A fresh Message-ID in the mailbox's domain.
pub fn new_message_id(mailbox: &Email) -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rng().fill_bytes(&mut b);
    let domain = mailbox
        .as_str()
        .rsplit_once('@')
        .map_or("kefu.invalid", |(_, d)| d);
    kefu_mail::compose::new_message_id(domain, &hex::encode(b))
}

/// Why one job did not complete.
enum JobError {
    /// Try again later (relay down, 4xx, database hiccup).
    Temporary(String),
    /// Give up (5xx rejection, the message or ticket is gone).
    Permanent(String),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Temporary(format!("storage: {e}"))
    }
}

/// Claims and runs due mail jobs until none are left (or a job comes round again after
/// a failed attempt); returns how many ran. `now` is when retries are counted from
/// (the wall clock in production).
pub async fn run_due(
    store: &dyn Store,
    keys: &MailKeys,
    relay: &Relay,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut seen = std::collections::HashSet::new();
    loop {
        let jobs = store.claim_jobs(&[SEND_MAIL, SEND_ACK], LEASE, 16).await?;
        if jobs.is_empty() {
            return Ok(seen.len());
        }
        let mut again = false;
        for job in jobs {
            again |= !seen.insert(job.id);
            run_job(store, keys, relay, &job, now).await?;
        }
        if again {
            return Ok(seen.len());
        }
    }
}

async fn run_job(
    store: &dyn Store,
    keys: &MailKeys,
    relay: &Relay,
    job: &Job,
    now: Timestamp,
) -> Result<(), StoreError> {
    let message = job
        .payload
        .get("message_id")
        .and_then(|v| v.as_i64())
        .map(MessageId);
    let result = match job.kind.as_str() {
        SEND_MAIL => match message {
            Some(id) => send_reply(store, keys, relay, id).await,
            None => Err(JobError::Permanent("payload has no message_id".into())),
        },
        SEND_ACK => send_ack(store, keys, relay, &job.payload).await,
        other => Err(JobError::Permanent(format!("unknown job kind {other}"))),
    };
    match result {
        Ok(()) => {
            metrics::counter!("kefu_mail_sent_total", "kind" => job.kind.clone()).increment(1);
            store.complete_job(job.id).await
        }
        Err(JobError::Temporary(why)) => match rules::send_retry_delay(job.attempts) {
            Some(delay) => {
                tracing::warn!(job = job.id.0, attempts = job.attempts, error = %why, "mail send failed; will retry");
                if let Some(m) = message {
                    // Still queued; the detail tells the agent why it has not gone yet.
                    store
                        .set_delivery(m, DeliveryStatus::Queued, Some(&why))
                        .await?;
                }
                store.retry_job(job.id, now + delay, &why).await
            }
            None => give_up(store, job, message, &why).await,
        },
        Err(JobError::Permanent(why)) => give_up(store, job, message, &why).await,
    }
}

async fn give_up(
    store: &dyn Store,
    job: &Job,
    message: Option<MessageId>,
    why: &str,
) -> Result<(), StoreError> {
    tracing::warn!(job = job.id.0, error = %why, "mail send failed for good");
    metrics::counter!("kefu_mail_send_failures_total", "kind" => job.kind.clone()).increment(1);
    if let Some(m) = message {
        store
            .set_delivery(m, DeliveryStatus::Failed, Some(why))
            .await?;
    }
    store.fail_job(job.id, why).await
}

async fn send(relay: &Relay, from: &Email, to: &[String], raw: &[u8]) -> Result<(), JobError> {
    match tokio::time::timeout(SEND_TIMEOUT, relay.send(from.as_str(), to, raw)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.permanent => Err(JobError::Permanent(e.message)),
        Ok(Err(e)) => Err(JobError::Temporary(e.message)),
        Err(_) => Err(JobError::Temporary(
            "the relay did not answer in time".into(),
        )),
    }
}

/// The mailbox a message went through; gone means the send can never happen.
async fn mailbox_of(store: &dyn Store, id: Option<MailboxId>) -> Result<Mailbox, JobError> {
    match id {
        Some(m) => store.get_mailbox(m).await?,
        None => None,
    }
    .ok_or_else(|| JobError::Permanent("the mailbox no longer exists".into()))
}

async fn send_reply(
    store: &dyn Store,
    keys: &MailKeys,
    relay: &Relay,
    id: MessageId,
) -> Result<(), JobError> {
    let Some(message) = store.get_message(id).await? else {
        return Err(JobError::Permanent("the message no longer exists".into()));
    };
    let Some(email) = message.email.clone() else {
        return Err(JobError::Permanent("the message is not an email".into()));
    };
    if email.delivery == Some(DeliveryStatus::Sent) {
        return Ok(()); // sent before a crash; never twice
    }
    let Some(ticket) = store.get_ticket(message.ticket_id).await? else {
        return Err(JobError::Permanent("the ticket no longer exists".into()));
    };
    let mailbox = mailbox_of(store, email.mailbox_id).await?;
    let requester = store.get_customer(ticket.requester_id).await?;
    let lang = requester.as_ref().map_or(Lang::En, |c| c.language);
    let tr = Tr(lang);
    let history = store.list_messages(ticket.id, false).await?;
    let earlier: Vec<&Message> = history
        .iter()
        .filter(|m| m.id != message.id && m.created_at <= message.created_at && m.public)
        .collect();
    let quoted = earlier
        .iter()
        .rev()
        .find(|m| matches!(m.author, Actor::Customer(_)));
    let mut references: Vec<String> = earlier
        .iter()
        .filter_map(|m| m.email.as_ref().map(|e| e.message_id.clone()))
        .collect();
    if references.len() > 20 {
        references.drain(..references.len() - 20);
    }
    let in_reply_to = quoted
        .and_then(|m| m.email.as_ref().map(|e| e.message_id.clone()))
        .or_else(|| references.last().cloned());

    let agent_name = match message.author {
        Actor::Agent(a) => store.get_agent(a).await?.map(|a| a.name),
        _ => None,
    };
    let from_name = match agent_name {
        Some(n) if !mailbox.name.is_empty() => format!("{n} ({})", mailbox.name),
        Some(n) => n,
        None => mailbox.name.clone(),
    };

    let mut text = message.body_text.clone();
    let mut html = message
        .body_html
        .clone()
        .unwrap_or_else(|| text_to_html(&message.body_text));
    if let Some(q) = quoted {
        let who = match q.author {
            Actor::Customer(c) if Some(c) == requester.as_ref().map(|r| r.id) => requester
                .as_ref()
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            _ => q
                .email
                .as_ref()
                .and_then(|e| e.from.clone())
                .unwrap_or_default(),
        };
        let header = tr.f(
            "mail.quote_header",
            &[
                (
                    "date",
                    &q.created_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
                ),
                ("name", &who),
            ],
        );
        let (visible, _) = kefu_mail::quote::split_text(&q.body_text);
        text.push_str("\n\n");
        text.push_str(&header);
        text.push('\n');
        for line in visible.lines() {
            text.push_str("> ");
            text.push_str(line);
            text.push('\n');
        }
        html.push_str(&format!(
            "<br><div class=\"kefu-quote\"><p>{}</p><blockquote type=\"cite\" style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">{}</blockquote></div>",
            escape(&header),
            text_to_html(&visible)
        ));
    }

    let mut attachments = Vec::new();
    for a in &message.attachments {
        if let Some((meta, data)) = store.get_attachment(a.id).await? {
            attachments.push(OutgoingAttachment {
                filename: meta.filename,
                content_type: meta.content_type,
                data,
            });
        }
    }
    let to: Vec<Addr> = email
        .to
        .iter()
        .map(|e| Addr {
            email: e.clone(),
            name: requester
                .as_ref()
                .filter(|r| r.primary_email() == Some(e.as_str()))
                .map(|r| r.name.clone()),
        })
        .collect();
    if to.is_empty() {
        return Err(JobError::Permanent("the reply has no recipient".into()));
    }
    let mail = OutgoingMail {
        from: Addr {
            email: mailbox.address.as_str().to_string(),
            name: Some(from_name).filter(|n| !n.is_empty()),
        },
        to,
        cc: email
            .cc
            .iter()
            .map(|e| Addr {
                email: e.clone(),
                name: None,
            })
            .collect(),
        reply_to: Some(rules::reply_address(
            &mailbox.address,
            ticket.id,
            &keys.reply_signature(ticket.id),
        )),
        subject: rules::outgoing_subject(ticket.subject.as_str(), ticket.number, true),
        message_id: email.message_id.clone(),
        in_reply_to,
        references,
        date: Some(message.created_at),
        text,
        html: Some(html),
        attachments,
        auto_submitted: false,
        language: Some(lang.as_str().to_string()),
    };
    let raw = kefu_mail::compose::compose(&mail)
        .map_err(|e| JobError::Permanent(format!("cannot write the mail: {e}")))?;
    let rcpts = kefu_mail::compose::envelope_recipients(&mail);
    send(relay, &mailbox.address, &rcpts, &raw).await?;
    store
        .set_delivery(message.id, DeliveryStatus::Sent, None)
        .await?;
    Ok(())
}

async fn send_ack(
    store: &dyn Store,
    keys: &MailKeys,
    relay: &Relay,
    payload: &serde_json::Value,
) -> Result<(), JobError> {
    let Some(ticket_id) = payload
        .get("ticket_id")
        .and_then(|v| v.as_i64())
        .map(TicketId)
    else {
        return Err(JobError::Permanent("payload has no ticket_id".into()));
    };
    let Some(ticket) = store.get_ticket(ticket_id).await? else {
        return Err(JobError::Permanent("the ticket no longer exists".into()));
    };
    let messages = store.list_messages(ticket.id, false).await?;
    let Some(first) = messages.first() else {
        return Err(JobError::Permanent("the ticket has no message".into()));
    };
    let Some(email) = first.email.clone() else {
        return Err(JobError::Permanent(
            "the ticket did not come by email".into(),
        ));
    };
    let mailbox = mailbox_of(store, email.mailbox_id).await?;
    let Some(requester) = store.get_customer(ticket.requester_id).await? else {
        return Err(JobError::Permanent("the requester no longer exists".into()));
    };
    let Some(to) = email
        .from
        .clone()
        .or_else(|| requester.primary_email().map(str::to_string))
    else {
        return Err(JobError::Permanent("no address to acknowledge".into()));
    };
    let tr = Tr(requester.language);
    let number = ticket.number.to_string();
    let text = tr.f(
        "mail.ack.body",
        &[
            ("name", &requester.name),
            ("subject", ticket.subject.as_str()),
            ("number", &number),
            ("team", &mailbox.name),
        ],
    );
    let message_id = new_message_id(&mailbox.address);
    let mail = OutgoingMail {
        from: Addr {
            email: mailbox.address.as_str().to_string(),
            name: Some(mailbox.name.clone()).filter(|n| !n.is_empty()),
        },
        to: vec![Addr {
            email: to,
            name: Some(requester.name.clone()),
        }],
        cc: Vec::new(),
        reply_to: Some(rules::reply_address(
            &mailbox.address,
            ticket.id,
            &keys.reply_signature(ticket.id),
        )),
        subject: rules::outgoing_subject(ticket.subject.as_str(), ticket.number, true),
        message_id: message_id.clone(),
        in_reply_to: Some(email.message_id.clone()),
        references: vec![email.message_id.clone()],
        date: Some(Timestamp::now()),
        html: Some(text_to_html(&text)),
        text,
        attachments: Vec::new(),
        auto_submitted: true,
        language: Some(requester.language.as_str().to_string()),
    };
    let raw = kefu_mail::compose::compose(&mail)
        .map_err(|e| JobError::Permanent(format!("cannot write the mail: {e}")))?;
    // Recorded first: a reply to the acknowledgement threads by reference.
    store.record_mail_id(&message_id, ticket.id, None).await?;
    let rcpts = kefu_mail::compose::envelope_recipients(&mail);
    send(relay, &mailbox.address, &rcpts, &raw).await
}
