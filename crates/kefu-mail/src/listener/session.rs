//! One SMTP/LMTP session: the command loop, the envelope, DATA/BDAT and the replies.
//! The listener ([`super::serve`]) owns sockets, TLS handshakes and task lifetimes.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smtp_proto::request::receiver::{BdatReceiver, DataReceiver, DummyDataReceiver};
use smtp_proto::{Error as ProtoError, MAIL_BODY_BINARYMIME, MAIL_SMTPUTF8, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::{Connection, ListenerConfig, Protocol};
use crate::Envelope;

/// Longest command line accepted (RFC 5321 asks for 512; extensions need more).
const MAX_LINE: usize = 4096;
/// Protocol errors (bad syntax, bad sequence, rejected recipients) before we hang up.
const MAX_ERRORS: u32 = 20;
/// How long `deliver` may take before the client is told to retry later.
const DELIVER_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a session's command loop stopped.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum End {
    Quit,
    StartTls,
    Closed,
    Idle,
    Expired,
    Shutdown,
    TooManyErrors,
    Io(io::ErrorKind),
}

/// The envelope being collected between `MAIL FROM` and the end of the data.
struct Transaction {
    mail_from: Option<String>,
    smtputf8: bool,
    /// Accepted recipients as given, duplicates included (LMTP answers each one).
    rcpts: Vec<String>,
    /// BDAT chunks received so far.
    chunks: Option<Vec<u8>>,
}

enum Line {
    Complete(Vec<u8>),
    TooLong,
}

static SESSION_COUNTER: AtomicU64 = AtomicU64::new(0);

pub(super) struct Session<'c> {
    conn: &'c Connection,
    pub(super) id: String,
    helo: Option<String>,
    esmtp: bool,
    tls: bool,
    tx: Option<Transaction>,
    errors: u32,
    deadline: Instant,
    /// Bytes read but not yet consumed.
    input: Vec<u8>,
    /// Replies not yet written (flushed before every read, which gives PIPELINING).
    output: Vec<u8>,
    discarding_line: bool,
}

impl<'c> Session<'c> {
    pub(super) fn new(conn: &'c Connection) -> Self {
        let n = SESSION_COUNTER.fetch_add(1, Ordering::Relaxed);
        let secs = jiff::Timestamp::now().as_second();
        Session {
            conn,
            id: format!("{secs:x}.{n:x}"),
            helo: None,
            esmtp: false,
            tls: false,
            tx: None,
            errors: 0,
            deadline: Instant::now() + conn.config.max_session,
            input: Vec::with_capacity(1024),
            output: Vec::with_capacity(512),
            discarding_line: false,
        }
    }

    fn cfg(&self) -> &ListenerConfig {
        &self.conn.config
    }

    pub(super) fn greet(&mut self) {
        let text = match self.cfg().protocol {
            Protocol::Smtp => "ESMTP kefu ready",
            Protocol::Lmtp => "LMTP kefu ready",
        };
        let line = format!("220 {} {text}\r\n", self.cfg().hostname);
        self.output.extend_from_slice(line.as_bytes());
    }

    fn reply(&mut self, code: u16, status: &str, text: &str) {
        let line = format!("{code} {status} {text}\r\n");
        self.output.extend_from_slice(line.as_bytes());
    }

    /// A reply without an enhanced status code (greeting-like replies, 354).
    fn reply_plain(&mut self, code: u16, text: &str) {
        let line = format!("{code} {text}\r\n");
        self.output.extend_from_slice(line.as_bytes());
    }

    pub(super) fn after_starttls(&mut self) {
        // RFC 3207 §4.2: forget everything learnt before the handshake.
        self.tls = true;
        self.helo = None;
        self.esmtp = false;
        self.tx = None;
        self.input.clear();
        self.output.clear();
    }

    /// Writes the farewell for `end` and closes the stream.
    pub(super) async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        end: End,
    ) {
        match end {
            End::Idle => self.reply(421, "4.4.2", "Idle timeout, closing connection"),
            End::Expired => self.reply(421, "4.4.2", "Session too long, closing connection"),
            End::Shutdown => self.reply(421, "4.3.2", "Service shutting down, try again later"),
            End::TooManyErrors => self.reply(421, "4.7.0", "Too many errors, closing connection"),
            End::Quit | End::StartTls | End::Closed | End::Io(_) => {}
        }
        debug!(reason = ?end, "connection closed");
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            if !self.output.is_empty() {
                stream.write_all(&self.output).await?;
            }
            stream.shutdown().await
        })
        .await;
    }

    async fn flush<S: AsyncWrite + Unpin>(&mut self, stream: &mut S) -> Result<(), End> {
        if self.output.is_empty() {
            return Ok(());
        }
        let write = async {
            stream.write_all(&self.output).await?;
            stream.flush().await
        };
        match tokio::time::timeout(self.cfg().idle_timeout, write).await {
            Ok(Ok(())) => {
                self.output.clear();
                Ok(())
            }
            Ok(Err(err)) => Err(End::Io(err.kind())),
            Err(_) => Err(End::Idle),
        }
    }

    /// Flushes pending replies, then reads more input (bounded by the idle timeout, the
    /// session lifetime and shutdown).
    async fn fill<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: &mut S) -> Result<(), End> {
        self.flush(stream).await?;
        let mut chunk = [0u8; 16 * 1024];
        let idle = Instant::now() + self.cfg().idle_timeout;
        let (deadline, on_timeout) = if idle < self.deadline {
            (idle, End::Idle)
        } else {
            (self.deadline, End::Expired)
        };
        let mut stop = self.conn.stop.clone();
        let n = tokio::select! {
            read = tokio::time::timeout_at(deadline, stream.read(&mut chunk)) => match read {
                Ok(Ok(0)) => return Err(End::Closed),
                Ok(Ok(n)) => n,
                Ok(Err(err)) => return Err(End::Io(err.kind())),
                Err(_) => return Err(on_timeout),
            },
            _ = stop.wait_for(|stopping| *stopping) => return Err(End::Shutdown),
        };
        self.input.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> Result<Line, End> {
        loop {
            if let Some(pos) = self.input.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.input.drain(..=pos).collect();
                if std::mem::take(&mut self.discarding_line) || line.len() > MAX_LINE {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Complete(line));
            }
            if self.input.len() > MAX_LINE {
                self.input.clear();
                self.discarding_line = true;
            }
            self.fill(stream).await?;
        }
    }

    /// The command loop. Returns when the session ends or STARTTLS was accepted.
    pub(super) async fn drive<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: &mut S) -> End {
        loop {
            let line = match self.read_line(stream).await {
                Ok(Line::Complete(line)) => line,
                Ok(Line::TooLong) => {
                    self.reply(500, "5.5.2", "Line too long");
                    if let Err(end) = self.count_error() {
                        return end;
                    }
                    continue;
                }
                Err(end) => return end,
            };
            if let Err(end) = self.command(stream, &line).await {
                // QUIT's 221 and STARTTLS's 220 must reach the client before we go on.
                if (end == End::Quit || end == End::StartTls)
                    && let Err(io_end) = self.flush(stream).await
                {
                    return io_end;
                }
                return end;
            }
        }
    }

    fn count_error(&mut self) -> Result<(), End> {
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            Err(End::TooManyErrors)
        } else {
            Ok(())
        }
    }

    async fn command<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        line: &[u8],
    ) -> Result<(), End> {
        let request = match Request::parse(&mut line.iter()) {
            Ok(request) => request.into_owned(),
            Err(err) => {
                self.parse_error(err);
                return self.count_error();
            }
        };
        let lmtp = self.cfg().protocol == Protocol::Lmtp;
        match request {
            Request::Ehlo { host } if !lmtp => self.hello(host, true),
            Request::Helo { host } if !lmtp => self.hello(host, false),
            Request::Lhlo { host } if lmtp => self.hello(host, true),
            Request::Ehlo { .. } | Request::Helo { .. } => {
                self.reply(500, "5.5.1", "This is an LMTP server, use LHLO");
                self.count_error()?;
            }
            Request::Lhlo { .. } => {
                self.reply(500, "5.5.1", "This is an SMTP server, use EHLO");
                self.count_error()?;
            }
            Request::StartTls => return self.starttls(),
            Request::Mail { from } => {
                self.mail(from.address, from.flags, from.size)?;
            }
            Request::Rcpt { to } => self.rcpt(to.address).await?,
            Request::Data => self.data(stream).await?,
            Request::Bdat {
                chunk_size,
                is_last,
            } => self.bdat(stream, chunk_size, is_last).await?,
            Request::Rset => {
                self.tx = None;
                self.reply(250, "2.0.0", "OK");
            }
            Request::Noop { .. } => self.reply(250, "2.0.0", "OK"),
            Request::Quit => {
                self.reply(221, "2.0.0", "Bye");
                return Err(End::Quit);
            }
            Request::Vrfy { .. } => self.reply(
                252,
                "2.5.0",
                "Cannot VRFY user, but will accept message and attempt delivery",
            ),
            Request::Help { .. } => self.reply(214, "2.0.0", "See RFC 5321 (and RFC 2033)"),
            Request::Auth { .. } => {
                self.reply(502, "5.5.1", "AUTH not available");
                self.count_error()?;
            }
            Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => {
                self.reply(502, "5.5.1", "Command not implemented");
                self.count_error()?;
            }
        }
        Ok(())
    }

    fn parse_error(&mut self, err: ProtoError) {
        match err {
            ProtoError::UnknownCommand => self.reply(500, "5.5.2", "Command unrecognized"),
            ProtoError::SyntaxError { syntax } => {
                self.reply(501, "5.5.4", &format!("Syntax: {syntax}"))
            }
            ProtoError::InvalidSenderAddress => {
                self.reply(501, "5.1.7", "Bad sender address syntax")
            }
            ProtoError::InvalidRecipientAddress => {
                self.reply(501, "5.1.3", "Bad recipient address syntax")
            }
            ProtoError::InvalidParameter { param } => {
                self.reply(501, "5.5.4", &format!("Invalid {param} parameter"))
            }
            ProtoError::UnsupportedParameter { param } => {
                let param = printable(&param, 40);
                self.reply(555, "5.5.4", &format!("Unsupported parameter {param}"))
            }
            ProtoError::ResponseTooLong => self.reply(500, "5.5.2", "Line too long"),
            _ => self.reply(500, "5.5.2", "Syntax error"),
        }
    }

    fn hello(&mut self, host: String, extended: bool) {
        self.tx = None;
        self.helo = Some(printable(&host, 100));
        self.esmtp = extended;
        let hostname = self.cfg().hostname.clone();
        if !extended {
            self.reply_plain(250, &hostname);
            return;
        }
        let mut caps = vec![
            format!("{hostname} greets {}", self.helo.as_deref().unwrap_or("")),
            "PIPELINING".to_string(),
            format!("SIZE {}", self.cfg().max_message_bytes),
            "8BITMIME".to_string(),
            "SMTPUTF8".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
            "CHUNKING".to_string(),
        ];
        if self.cfg().tls.is_some() && !self.tls {
            caps.push("STARTTLS".to_string());
        }
        let last = caps.len() - 1;
        for (i, cap) in caps.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            self.output
                .extend_from_slice(format!("250{sep}{cap}\r\n").as_bytes());
        }
    }

    fn starttls(&mut self) -> Result<(), End> {
        if self.cfg().tls.is_none() {
            self.reply(502, "5.5.1", "STARTTLS not available");
            return self.count_error();
        }
        if self.tls {
            self.reply(503, "5.5.1", "Already in TLS");
            return self.count_error();
        }
        // Anything pipelined after STARTTLS is plaintext injection (CVE-2011-0411 and
        // kin): it is dropped, not read as commands after the handshake.
        self.input.clear();
        self.reply(220, "2.0.0", "Ready to start TLS");
        Err(End::StartTls)
    }

    fn mail(&mut self, address: String, flags: u64, size: usize) -> Result<(), End> {
        if self.helo.is_none() {
            self.reply(503, "5.5.1", "Say hello first");
            return self.count_error();
        }
        if self.tx.is_some() {
            self.reply(503, "5.5.1", "Nested MAIL command");
            return self.count_error();
        }
        if size > self.cfg().max_message_bytes {
            self.reply(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
            return Ok(());
        }
        if flags & MAIL_BODY_BINARYMIME != 0 {
            self.reply(555, "5.5.4", "BODY=BINARYMIME not supported");
            return self.count_error();
        }
        let mail_from = (!address.is_empty()).then_some(address);
        self.tx = Some(Transaction {
            mail_from,
            smtputf8: flags & MAIL_SMTPUTF8 != 0,
            rcpts: Vec::new(),
            chunks: None,
        });
        self.reply(250, "2.1.0", "Sender OK");
        Ok(())
    }

    async fn rcpt(&mut self, address: String) -> Result<(), End> {
        let max = self.cfg().max_recipients;
        let Some(tx) = &self.tx else {
            self.reply(503, "5.5.1", "Need MAIL before RCPT");
            return self.count_error();
        };
        if tx.rcpts.len() >= max {
            self.reply(452, "4.5.3", "Too many recipients");
            return Ok(());
        }
        if address.is_empty() {
            self.reply(550, "5.1.3", "Bad recipient address");
            return self.count_error();
        }
        if !self.conn.sink.accepts(&address).await {
            debug!(rcpt = %printable(&address, 100), "recipient rejected");
            self.reply(550, "5.1.1", "Recipient unknown");
            return self.count_error();
        }
        if let Some(tx) = &mut self.tx {
            tx.rcpts.push(address);
        }
        self.reply(250, "2.1.5", "Recipient OK");
        Ok(())
    }

    /// Checks that a transaction with recipients exists before DATA/BDAT.
    fn ready_for_data(&mut self, bdat: bool) -> bool {
        match &self.tx {
            None => {
                self.reply(503, "5.5.1", "Need MAIL and RCPT first");
                false
            }
            Some(tx) if tx.rcpts.is_empty() => {
                self.reply(554, "5.5.1", "No valid recipients");
                false
            }
            Some(tx) if !bdat && tx.chunks.is_some() => {
                self.reply(503, "5.5.1", "DATA not allowed after BDAT");
                false
            }
            Some(_) => true,
        }
    }

    async fn data<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: &mut S) -> Result<(), End> {
        if !self.ready_for_data(false) {
            return self.count_error();
        }
        self.reply_plain(354, "End data with <CR><LF>.<CR><LF>");

        let max = self.cfg().max_message_bytes;
        let mut receiver = DataReceiver::new();
        // The receiver only recognises `.` right after CRLF; the CRLF that ended the DATA
        // line counts, so a message may start with a stuffed dot or be empty.
        let mut primer = Vec::new();
        receiver.ingest(&mut b"\r\n".iter(), &mut primer);
        let mut body = Vec::new();
        let mut discard: Option<DummyDataReceiver> = None;
        loop {
            let mut bytes = self.input.iter();
            let done = match &mut discard {
                Some(dummy) => dummy.ingest(&mut bytes),
                None => {
                    let done = receiver.ingest(&mut bytes, &mut body);
                    if !done && body.len() > max {
                        discard = Some(DummyDataReceiver::new_data(&receiver));
                        body = Vec::new();
                    }
                    done
                }
            };
            let consumed = self.input.len() - bytes.as_slice().len();
            self.input.drain(..consumed);
            if done {
                break;
            }
            self.fill(stream).await?;
        }
        if discard.is_some() || body.len() > max {
            self.fail_transaction(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
            return Ok(());
        }
        self.finish_transaction(body).await;
        Ok(())
    }

    async fn bdat<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        chunk_size: usize,
        is_last: bool,
    ) -> Result<(), End> {
        let max = self.cfg().max_message_bytes;
        let ready = self.ready_for_data(true);
        let so_far = self
            .tx
            .as_ref()
            .and_then(|tx| tx.chunks.as_ref())
            .map_or(0, Vec::len);
        let fits = so_far.saturating_add(chunk_size) <= max;
        if ready && fits {
            let mut chunk = Vec::with_capacity(chunk_size.min(1024 * 1024));
            let mut receiver = BdatReceiver::new(chunk_size, is_last);
            self.consume_chunk(stream, |bytes| receiver.ingest(bytes, &mut chunk))
                .await?;
            let Some(tx) = &mut self.tx else {
                return Ok(());
            };
            let chunks = tx.chunks.get_or_insert_with(Vec::new);
            chunks.extend_from_slice(&chunk);
            if is_last {
                let body = std::mem::take(chunks);
                self.finish_transaction(body).await;
            } else {
                self.reply(250, "2.0.0", &format!("{chunk_size} octets received"));
            }
            return Ok(());
        }
        // The chunk must be read either way, or its bytes would be taken as commands.
        let mut dummy = DummyDataReceiver::new_bdat(chunk_size);
        self.consume_chunk(stream, |bytes| dummy.ingest(bytes))
            .await?;
        if ready {
            // RFC 3030: after a failed chunk the transaction is over.
            self.fail_transaction(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
            Ok(())
        } else {
            self.count_error()
        }
    }

    async fn consume_chunk<S, F>(&mut self, stream: &mut S, mut ingest: F) -> Result<(), End>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnMut(&mut std::slice::Iter<'_, u8>) -> bool,
    {
        loop {
            let mut bytes = self.input.iter();
            let done = ingest(&mut bytes);
            let consumed = self.input.len() - bytes.as_slice().len();
            self.input.drain(..consumed);
            if done {
                return Ok(());
            }
            self.fill(stream).await?;
        }
    }

    /// Ends the transaction with a failure: SMTP gets one reply, LMTP one per accepted
    /// recipient (RFC 2033 §4.2).
    fn fail_transaction(&mut self, code: u16, status: &str, text: &str) {
        let replies = match (self.tx.take(), self.cfg().protocol) {
            (Some(tx), Protocol::Lmtp) => tx.rcpts.len().max(1),
            _ => 1,
        };
        for _ in 0..replies {
            self.reply(code, status, text);
        }
    }

    /// Hands the finished mail to the sink and answers for it; the transaction ends
    /// either way.
    async fn finish_transaction(&mut self, body: Vec<u8>) {
        let Some(tx) = &self.tx else {
            return;
        };
        let mut rcpt_to: Vec<String> = Vec::with_capacity(tx.rcpts.len());
        for rcpt in &tx.rcpts {
            if !rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(rcpt)) {
                rcpt_to.push(rcpt.clone());
            }
        }
        let envelope = Envelope {
            mail_from: tx.mail_from.clone(),
            rcpt_to,
            peer: Some(self.conn.peer),
            source: self.cfg().protocol.source(),
        };
        let size = body.len();
        let mut raw = self.received_header(tx, &envelope).into_bytes();
        raw.extend_from_slice(&body);
        drop(body);

        let outcome =
            tokio::time::timeout(DELIVER_TIMEOUT, self.conn.sink.deliver(&envelope, raw)).await;
        match outcome {
            Ok(Ok(())) => {
                info!(
                    bytes = size,
                    recipients = envelope.rcpt_to.len(),
                    null_sender = envelope.mail_from.is_none(),
                    "message accepted"
                );
                let rcpts = self.tx.take().map(|tx| tx.rcpts).unwrap_or_default();
                if self.cfg().protocol == Protocol::Lmtp {
                    for rcpt in &rcpts {
                        let text = format!("<{}> delivered", printable(rcpt, 200));
                        self.reply(250, "2.1.5", &text);
                    }
                } else {
                    let text = format!("OK queued as {}", self.id);
                    self.reply(250, "2.0.0", &text);
                }
            }
            Ok(Err(err)) if err.temporary => {
                // The sink's words stay in the log: they are about our internals.
                warn!(error = %err.message, bytes = size, "delivery failed temporarily");
                self.fail_transaction(451, "4.3.0", "Temporary failure, please try again later");
            }
            Ok(Err(err)) => {
                warn!(error = %err.message, bytes = size, "delivery refused");
                let text = format!("Message rejected: {}", printable(&err.message, 200));
                self.fail_transaction(554, "5.6.0", &text);
            }
            Err(_) => {
                error!(bytes = size, "delivery timed out");
                self.fail_transaction(451, "4.3.0", "Temporary failure, please try again later");
            }
        }
    }

    /// RFC 5321 §4.4 trace header, protocol names from RFC 3848.
    fn received_header(&self, tx: &Transaction, envelope: &Envelope) -> String {
        let base = match (self.cfg().protocol, self.esmtp, tx.smtputf8) {
            (Protocol::Lmtp, _, _) => "LMTP",
            (Protocol::Smtp, _, true) => "UTF8SMTP",
            (Protocol::Smtp, true, false) => "ESMTP",
            (Protocol::Smtp, false, false) => "SMTP",
        };
        let with = if self.tls {
            format!("{base}S")
        } else {
            base.to_string()
        };
        let helo = self.helo.as_deref().unwrap_or("unknown");
        let mut header = format!(
            "Received: from {helo} ([{}])\r\n\tby {} (kefu) with {with} id {}",
            self.conn.peer.ip(),
            self.cfg().hostname,
            self.id
        );
        if let [rcpt] = envelope.rcpt_to.as_slice() {
            header.push_str(&format!("\r\n\tfor <{}>", printable(rcpt, 200)));
        }
        let date = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
        if let Ok(date) = jiff::fmt::rfc2822::to_string(&date) {
            header.push_str(";\r\n\t");
            header.push_str(&date);
        }
        header.push_str("\r\n");
        header
    }
}

/// Client-supplied text made safe for replies, headers and logs: no control characters,
/// at most `max` characters.
fn printable(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}
