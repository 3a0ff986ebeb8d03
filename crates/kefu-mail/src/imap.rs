//! Polling IMAP mailboxes (RFC 3501) with async-imap, IDLE (RFC 2177) where offered.
//!
//! Owns the connection (IMAPS, STARTTLS, or plain only when asked for loopback tests),
//! finding the mails kefu has not taken yet, handing each to a [`MailSink`], and marking
//! what was taken: `\Seen` plus the keyword `$KefuFetched`, then a move to the
//! `processed` folder if one is configured (MOVE, or COPY + `\Deleted` + EXPUNGE).
//!
//! Guarantees: at least once. A mail is marked only after [`MailSink::deliver`] returned
//! `Ok`; if marking fails (connection lost) it comes again on the next poll, so the sink
//! must tolerate duplicates (the pipeline dedupes by Message-ID). A temporary sink error
//! leaves the mail untouched for the next poll; a permanent one tags it `$KefuRejected`
//! (where the server keeps keywords) so it is not retried forever, and leaves it unread
//! for a human. One bad mail never blocks the others.
//!
//! Never logs passwords (the [`ImapSource`] `Debug`/`Display` leave them out) or mail
//! content; logs name mails by UIDVALIDITY and UID.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::types::{Flag, UnsolicitedResponse};
use futures::{FutureExt, TryStreamExt};
use tracing::{debug, info, warn};

use crate::{DeliverError, Envelope, MailSink, Source};

mod connect;
mod source;

use connect::{Conn, connect};
use source::encode_mailbox_name;
pub use source::{FetchMode, ImapSource, Security};

/// Set on every mail kefu has taken (where the server allows keywords).
pub const FETCHED_KEYWORD: &str = "$KefuFetched";
/// Set on mails the sink refused permanently, so they are not offered again.
pub const REJECTED_KEYWORD: &str = "$KefuRejected";

/// Mails per UID FETCH, and their size limit together (one big mail still goes alone).
const BATCH: usize = 20;
const BATCH_BYTES: u64 = 32 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);
/// RFC 2177 asks clients to re-issue IDLE at least every 29 minutes.
const MAX_IDLE: Duration = Duration::from_secs(25 * 60);
const MIN_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub uid_validity: Option<u32>,
    /// Mails that matched the search (new to kefu).
    pub found: usize,
    /// Handed to the sink with `Ok` and marked.
    pub delivered: usize,
    /// Refused by the sink (left for the next poll, or tagged rejected if permanent).
    pub failed: usize,
}

/// Why a poll (or a connection) failed. Never carries the password.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    #[error("TLS with {host} failed: {message}")]
    Tls { host: String, message: String },
    #[error("the server does not offer STARTTLS (use imaps://, or ?tls=none on loopback)")]
    NoStartTls,
    #[error("login as {user} failed: {message}")]
    Login { user: String, message: String },
    #[error("IMAP {step} failed: {message}")]
    Command { step: &'static str, message: String },
    #[error("IMAP {0} timed out")]
    Timeout(&'static str),
    #[error("cannot read the CA file {path}: {message}")]
    CaFile { path: PathBuf, message: String },
}

/// Runs `fut` with a timeout, naming the step in the error.
async fn step<T, E: fmt::Display>(
    name: &'static str,
    limit: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(ImapError::Command {
            step: name,
            message: err.to_string(),
        }),
        Err(_) => Err(ImapError::Timeout(name)),
    }
}

/// Connects, takes every new mail of `src`'s folder, and logs out.
///
/// Each mail goes to `sink` with `Envelope { source: Imap, rcpt_to: [mailbox_address],
/// mail_from: <Return-Path, if any> }`. Per-mail sink errors are counted in the report,
/// not returned; `Err` means the connection or the mailbox failed.
pub async fn poll_once(
    src: &ImapSource,
    mailbox_address: &str,
    sink: &dyn MailSink,
) -> Result<PollReport, ImapError> {
    let mut conn = connect(src).await?;
    let report = take_new_mail(&mut conn, src, mailbox_address, sink).await;
    let _ = tokio::time::timeout(COMMAND_TIMEOUT, conn.session.logout()).await;
    report
}

/// Polls `src` until `shutdown` completes: a poll, then IDLE (re-issued at least every
/// 25 min, and at most `poll_interval` apart) where the server offers it, otherwise a
/// sleep of `poll_interval`. Errors are logged and retried with backoff (5 s doubling to
/// 15 min); this never returns early and never panics.
pub async fn run(
    src: ImapSource,
    mailbox_address: String,
    sink: Arc<dyn MailSink>,
    poll_interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let shutdown = shutdown.boxed().shared();
    let mut backoff = MIN_BACKOFF;
    info!(source = %src, "IMAP polling started");
    loop {
        let result = poll_loop(
            &src,
            &mailbox_address,
            sink.as_ref(),
            poll_interval,
            shutdown.clone(),
            &mut backoff,
        )
        .await;
        match result {
            Ok(()) => break,
            Err(err) => {
                warn!(source = %src, error = %err, retry_in = ?backoff, "IMAP polling failed");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = shutdown.clone() => break,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    info!(source = %src, "IMAP polling stopped");
}

/// One connection's life. `Ok` only when shutdown was requested.
async fn poll_loop(
    src: &ImapSource,
    mailbox_address: &str,
    sink: &dyn MailSink,
    poll_interval: Duration,
    shutdown: futures::future::Shared<futures::future::BoxFuture<'static, ()>>,
    backoff: &mut Duration,
) -> Result<(), ImapError> {
    let mut conn = tokio::select! {
        conn = connect(src) => conn?,
        () = shutdown.clone() => return Ok(()),
    };
    loop {
        let report = take_new_mail(&mut conn, src, mailbox_address, sink).await?;
        *backoff = MIN_BACKOFF;
        if report.found > 0 {
            info!(
                source = %src,
                uid_validity = report.uid_validity,
                found = report.found,
                delivered = report.delivered,
                failed = report.failed,
                "IMAP poll done"
            );
        }
        if conn.caps.has_str("IDLE") {
            let wait = poll_interval.clamp(Duration::from_secs(1), MAX_IDLE);
            match idle(conn, wait, shutdown.clone()).await? {
                Some(next) => conn = next,
                None => return Ok(()),
            }
        } else {
            let _ = tokio::time::timeout(COMMAND_TIMEOUT, conn.session.logout()).await;
            tokio::select! {
                () = tokio::time::sleep(poll_interval) => {}
                () = shutdown.clone() => return Ok(()),
            }
            conn = tokio::select! {
                conn = connect(src) => conn?,
                () = shutdown.clone() => return Ok(()),
            };
        }
    }
}

/// Waits in IDLE until the server reports a change, `wait` passes, or shutdown. Returns
/// the connection for the next poll, or `None` on shutdown (after logging out).
async fn idle(
    conn: Conn,
    wait: Duration,
    shutdown: futures::future::Shared<futures::future::BoxFuture<'static, ()>>,
) -> Result<Option<Conn>, ImapError> {
    let rx = conn.session.unsolicited_responses.clone();
    // Drains unsolicited responses; true if any announced new mail.
    let saw_new_mail = || {
        let mut new_mail = false;
        while let Ok(response) = rx.try_recv() {
            if matches!(
                response,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            ) {
                new_mail = true;
            }
        }
        new_mail
    };
    // Mail that arrived while we were busy was announced as an untagged EXISTS.
    if saw_new_mail() {
        return Ok(Some(conn));
    }
    let caps = conn.caps;
    let processed_ready = conn.processed_ready;
    let mut handle = conn.session.idle();
    step("IDLE", COMMAND_TIMEOUT, handle.init()).await?;
    let mut stopping = false;
    if !saw_new_mail() {
        // async-imap resets its own timeout on every keep-alive (`* OK Still here`), so
        // the overall wait is bounded here.
        let (wait_fut, _interrupt) = handle.wait_with_timeout(wait + Duration::from_secs(60));
        tokio::select! {
            outcome = tokio::time::timeout(wait, wait_fut) => match outcome {
                Ok(Ok(IdleResponse::NewData(_))) => debug!("IDLE: mailbox changed"),
                Ok(Ok(IdleResponse::Timeout | IdleResponse::ManualInterrupt)) | Err(_) => {}
                Ok(Err(err)) => {
                    return Err(ImapError::Command { step: "IDLE", message: err.to_string() });
                }
            },
            () = shutdown => stopping = true,
        }
    }
    let mut session = step("IDLE DONE", COMMAND_TIMEOUT, handle.done()).await?;
    if stopping {
        let _ = tokio::time::timeout(COMMAND_TIMEOUT, session.logout()).await;
        return Ok(None);
    }
    Ok(Some(Conn {
        session,
        caps,
        processed_ready,
    }))
}

/// SELECTs the folder and hands every new mail to the sink.
async fn take_new_mail(
    conn: &mut Conn,
    src: &ImapSource,
    mailbox_address: &str,
    sink: &dyn MailSink,
) -> Result<PollReport, ImapError> {
    let folder = encode_mailbox_name(&src.folder);
    let processed = src.processed.as_deref().map(encode_mailbox_name);
    if let Some(target) = &processed
        && !conn.processed_ready
    {
        // Fails harmlessly (NO [ALREADYEXISTS]) when it exists.
        if let Err(err) = step("CREATE", COMMAND_TIMEOUT, conn.session.create(target)).await {
            debug!(error = %err, "processed folder not created (probably exists)");
        }
        conn.processed_ready = true;
    }
    let mailbox = step("SELECT", COMMAND_TIMEOUT, conn.session.select(&folder)).await?;
    let uid_validity = mailbox.uid_validity;
    let keywords = mailbox.permanent_flags.iter().any(|flag| match flag {
        Flag::MayCreate => true,
        Flag::Custom(name) => name.eq_ignore_ascii_case(FETCHED_KEYWORD),
        _ => false,
    });
    let not_taken = format!("UNKEYWORD {FETCHED_KEYWORD} UNKEYWORD {REJECTED_KEYWORD}");
    let query = match (src.fetch, keywords) {
        (FetchMode::Unseen, true) => format!("UNSEEN {not_taken}"),
        (FetchMode::All, true) => not_taken,
        (FetchMode::All, false) if processed.is_some() => "ALL".to_string(),
        (FetchMode::Unseen | FetchMode::All, false) => "UNSEEN".to_string(),
    };
    let found = step(
        "UID SEARCH",
        COMMAND_TIMEOUT,
        conn.session.uid_search(&query),
    )
    .await?;
    let mut uids: Vec<u32> = found.into_iter().collect();
    uids.sort_unstable();
    let mut report = PollReport {
        uid_validity,
        found: uids.len(),
        ..PollReport::default()
    };
    let validity = uid_validity.unwrap_or(0);

    for batch in batches(conn, &uids).await? {
        let set = uid_set(&batch);
        let fetches = step("UID FETCH", FETCH_TIMEOUT, async {
            conn.session
                .uid_fetch(&set, "(UID BODY.PEEK[])")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        for &uid in &batch {
            let Some(raw) = fetches
                .iter()
                .find(|f| f.uid == Some(uid))
                .and_then(|f| f.body())
            else {
                debug!(uid_validity = validity, uid, "mail vanished before FETCH");
                continue;
            };
            let envelope = Envelope {
                mail_from: return_path(raw),
                rcpt_to: vec![mailbox_address.to_string()],
                peer: None,
                source: Source::Imap,
            };
            let size = raw.len();
            match sink.deliver(&envelope, raw.to_vec()).await {
                Ok(()) => {
                    debug!(uid_validity = validity, uid, bytes = size, "mail taken");
                    mark_taken(conn, uid, keywords, processed.as_deref()).await?;
                    report.delivered += 1;
                }
                Err(err) => {
                    report.failed += 1;
                    log_refusal(validity, uid, &err);
                    if !err.temporary && keywords {
                        let flags = format!("+FLAGS.SILENT ({REJECTED_KEYWORD})");
                        store(conn, uid, &flags).await?;
                    }
                }
            }
        }
    }
    Ok(report)
}

/// Splits `uids` into batches of at most [`BATCH`] mails and [`BATCH_BYTES`], so memory
/// stays bounded however large the mailbox.
async fn batches(conn: &mut Conn, uids: &[u32]) -> Result<Vec<Vec<u32>>, ImapError> {
    let mut sizes = std::collections::HashMap::with_capacity(uids.len());
    for chunk in uids.chunks(500) {
        let set = uid_set(chunk);
        let fetches = step("UID FETCH", COMMAND_TIMEOUT, async {
            conn.session
                .uid_fetch(&set, "(UID RFC822.SIZE)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        for fetch in fetches {
            if let (Some(uid), Some(size)) = (fetch.uid, fetch.size) {
                sizes.insert(uid, u64::from(size));
            }
        }
    }
    let mut batches: Vec<Vec<u32>> = Vec::new();
    let mut bytes = 0;
    for &uid in uids {
        let size = sizes.get(&uid).copied().unwrap_or(0);
        match batches.last_mut() {
            Some(batch) if batch.len() < BATCH && bytes + size <= BATCH_BYTES => {
                batch.push(uid);
                bytes += size;
            }
            _ => {
                batches.push(vec![uid]);
                bytes = size;
            }
        }
    }
    Ok(batches)
}

fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn log_refusal(validity: u32, uid: u32, err: &DeliverError) {
    if err.temporary {
        warn!(uid_validity = validity, uid, error = %err.message, "sink refused mail for now; retrying next poll");
    } else {
        warn!(uid_validity = validity, uid, error = %err.message, "sink rejected mail permanently; tagged {REJECTED_KEYWORD}");
    }
}

async fn store(conn: &mut Conn, uid: u32, flags: &str) -> Result<(), ImapError> {
    step("UID STORE", COMMAND_TIMEOUT, async {
        conn.session
            .uid_store(uid.to_string(), flags)
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    Ok(())
}

/// Flags first, then moves: if the move fails the flag still keeps the mail from coming
/// again.
async fn mark_taken(
    conn: &mut Conn,
    uid: u32,
    keywords: bool,
    processed: Option<&str>,
) -> Result<(), ImapError> {
    let flags = if keywords {
        format!("+FLAGS.SILENT (\\Seen {FETCHED_KEYWORD})")
    } else {
        "+FLAGS.SILENT (\\Seen)".to_string()
    };
    store(conn, uid, &flags).await?;
    let Some(target) = processed else {
        return Ok(());
    };
    let uid_set = uid.to_string();
    if conn.caps.has_str("MOVE") {
        step(
            "UID MOVE",
            COMMAND_TIMEOUT,
            conn.session.uid_mv(&uid_set, target),
        )
        .await?;
        return Ok(());
    }
    step(
        "UID COPY",
        COMMAND_TIMEOUT,
        conn.session.uid_copy(&uid_set, target),
    )
    .await?;
    store(conn, uid, "+FLAGS.SILENT (\\Deleted)").await?;
    if conn.caps.has_str("UIDPLUS") {
        step("UID EXPUNGE", COMMAND_TIMEOUT, async {
            conn.session
                .uid_expunge(&uid_set)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
    } else {
        // Without UIDPLUS, EXPUNGE also removes other mails marked \Deleted in the folder.
        step("EXPUNGE", COMMAND_TIMEOUT, async {
            conn.session.expunge().await?.try_collect::<Vec<_>>().await
        })
        .await?;
    }
    Ok(())
}

/// The address in the first `Return-Path:` header; `None` if absent or `<>`.
fn return_path(raw: &[u8]) -> Option<String> {
    let mut lines = raw.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None; // end of the header section
        }
        let Some(name_end) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if !line[..name_end].eq_ignore_ascii_case(b"return-path") {
            continue;
        }
        let mut value = line[name_end + 1..].to_vec();
        while let Some(next) = lines.peek() {
            if next.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                let next = lines.next().unwrap_or_default();
                value.extend_from_slice(next.strip_suffix(b"\r").unwrap_or(next));
            } else {
                break;
            }
        }
        let value = String::from_utf8_lossy(&value);
        let value = value.trim();
        let address = match (value.find('<'), value.rfind('>')) {
            (Some(open), Some(close)) if open < close => &value[open + 1..close],
            _ => value,
        };
        let address = address.trim();
        return (!address.is_empty()).then(|| address.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_path_gives_the_envelope_sender() {
        let raw = b"Received: x\r\nReturn-Path:\r\n <bounce@example.com>\r\nSubject: a\r\n\r\nReturn-Path: <no@x>\r\n";
        assert_eq!(return_path(raw).as_deref(), Some("bounce@example.com"));
        assert_eq!(return_path(b"Return-Path: <>\r\n\r\n"), None);
        assert_eq!(return_path(b"Subject: x\r\n\r\nbody"), None);
    }
}
