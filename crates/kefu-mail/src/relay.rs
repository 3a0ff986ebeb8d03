//! Sending mail through an SMTP relay (the operator's MTA or a provider): lettre's SMTP client
//! (`AsyncSmtpConnection`: commands, AUTH, STARTTLS, dot-stuffing, replies) over our own
//! sockets and connection pool, with rustls and the ring provider only.
//!
//! Owns the relay URL, TLS policy, credentials, the connection pool, timeouts and the
//! mapping of SMTP failures to [`SendError`]. It never builds messages (see
//! [`crate::compose`]) and never decides when to retry a mail later: that is the job
//! runner's call, from [`SendError::permanent`].
//!
//! # Relay URLs
//!
//! ```text
//! smtp://[user:pass@]host[:port][?tls=required|opportunistic|none][&ca=/path.pem][&timeout=SECS][&helo=NAME]
//! smtps://[user:pass@]host[:port][?ca=/path.pem][&timeout=SECS][&helo=NAME]
//! ```
//!
//! - `smtp://` connects in plain text (default port **587**, submission) and then:
//!   - `tls=required` (the default): STARTTLS must be offered and succeed, else nothing is sent;
//!   - `tls=opportunistic`: STARTTLS when offered, plain text otherwise (open to downgrade);
//!   - `tls=none`: never STARTTLS.
//!
//!   When the host is loopback (`localhost`, `127.0.0.0/8`, `::1`) the default is `tls=none`:
//!   the mail never leaves the machine, and a local MTA's certificate rarely matches
//!   `localhost`. Write `smtp://localhost:25` for a local Postfix.
//! - `smtps://` is implicit TLS (RFC 8314), default port **465**.
//! - Credentials are percent-decoded (`user%40example.com:p%40ss@…`); AUTH PLAIN, else LOGIN,
//!   whichever the server offers. Credentials over `tls=none`/`opportunistic` are refused
//!   unless the host is loopback.
//! - `ca=/path.pem` adds the PEM certificates in that file to the trusted roots (webpki's
//!   Mozilla roots stay trusted); repeatable. For a private CA or a self-signed relay.
//! - `timeout=SECS` (default 60, fractions allowed) bounds a whole [`Relay::send`].
//! - `helo=NAME` is the EHLO name (default: this machine's host name).
//! - Unknown parameters are an error, so a typo never silently weakens TLS.
//!
//! # Why not `lettre::AsyncSmtpTransport`
//!
//! lettre 0.11.23's transport (a) never sets `TCP_NODELAY`, so Nagle holds the final
//! `CRLF.CRLF` until the relay's delayed ACK: 40 ms per mail, 22 mails/s per connection on
//! loopback (fixed upstream in lettre PR #1159, unreleased as of 0.11.23); (b) bounds only
//! the connect (lettre #1027), and a send abandoned by an outer timeout puts its
//! half-finished connection back into the pool; (c) trusts a `221` answer to its NOOP
//! probe (lettre #743). Here each send owns its connection until it succeeds, so a timeout
//! or error simply drops the socket, and only connections that just completed a mail are
//! parked for reuse.
//!
//! # Guarantees
//!
//! - [`Relay::send`] returns within the timeout: everything (DNS, connect, TLS, every SMTP
//!   exchange) runs under one `tokio::time::timeout`.
//! - A send that fails on a *reused* connection with a connection-level error (reset,
//!   closed, garbled reply) or `421` (the server closing an idle connection) is retried
//!   once on a fresh connection, and the other parked connections are dropped. If the
//!   failure came after the message data was written, the retry can deliver the mail twice:
//!   delivery is at least once, as with any SMTP client (RFC 1047).
//! - No error, log line or `Debug` output contains the password.
//! - Nothing here installs a process-wide rustls `CryptoProvider`: implicit TLS uses ring
//!   explicitly, STARTTLS goes through lettre (the installed default if any, else ring).

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use url::Url;

/// Default bound on one [`Relay::send`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How many idle connections are kept for reuse.
const POOL_MAX_IDLE: usize = 10;

/// Idle connections older than this are closed instead of reused: relays drop idle clients
/// after 30 s to 5 min (Postfix under stress: 10 s), and a fresh connection is cheaper than
/// a failed attempt.
const POOL_MAX_IDLE_AGE: Duration = Duration::from_secs(30);

/// AUTH mechanisms, in order of preference.
const MECHANISMS: &[Mechanism] = &[Mechanism::Plain, Mechanism::Login];

/// A configured SMTP relay. Share it (`Arc<Relay>`): connections are pooled inside and made
/// on first use, so [`Relay::from_url`] does no I/O except reading `ca=` files, and needs no
/// runtime.
pub struct Relay {
    host: String,
    port: u16,
    tls: TlsMode,
    /// For STARTTLS (`tls=required|opportunistic`).
    starttls: Option<TlsParameters>,
    /// For `smtps://`.
    implicit: Option<(TlsConnector, ServerName<'static>)>,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    redacted: String,
    /// The password as written and as decoded, scrubbed from every error message.
    secrets: Vec<String>,
    idle: Mutex<Vec<Idle>>,
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    Required,
    Opportunistic,
    None,
    Implicit,
}

/// What the relay said when it took the mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReceipt {
    /// The reply code to the end of DATA (250).
    pub code: u16,
    /// The reply text, often with the relay's queue id (`2.0.0 Ok: queued as 4Z1…`).
    pub message: String,
    /// The first attempt, on a reused connection, failed and a fresh connection was used.
    pub retried: bool,
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// The relay refused with a 5xx reply: sending the same mail again will fail again.
    /// Everything else (4xx, timeouts, connection and TLS failures, and authentication
    /// failures, which are a relay configuration problem, not the mail's) is `false`.
    pub permanent: bool,
    /// The SMTP reply code, when the relay answered with one.
    pub code: Option<u16>,
    /// The SMTP reply (`550 5.1.1 <x@example.com>: Recipient address rejected`) or what went
    /// wrong on the way. Never contains the password.
    pub message: String,
}

/// The relay URL could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("relay URL {url}: {reason}")]
pub struct RelayError {
    /// The URL with its password replaced by `***`.
    pub url: String,
    pub reason: String,
}

/// A failure before the SMTP layer could report one.
enum Failure {
    Smtp(lettre::transport::smtp::Error),
    Connect(io::Error),
    TlsHandshake(io::Error),
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        Failure::Smtp(e)
    }
}

impl Relay {
    /// Reads a relay URL (see the [module documentation](self) for the format and the TLS
    /// policy). Fails on unknown schemes or parameters, credentials that would travel in
    /// plain text, and unreadable `ca=` files.
    pub fn from_url(url: &str) -> Result<Relay, RelayError> {
        let redacted = redact(url);
        let err = |reason: String| RelayError {
            url: redacted.clone(),
            reason,
        };
        let parsed = Url::parse(url.trim()).map_err(|e| err(e.to_string()))?;

        let implicit_tls = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(err(format!("unknown scheme {other:?} (use smtp or smtps)"))),
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| err("no host".to_owned()))?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_ascii_lowercase();
        let loopback = host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !matches!(parsed.path(), "" | "/") {
            return Err(err(format!("unexpected path {:?}", parsed.path())));
        }

        let mut tls_param = None;
        let mut ca_files = Vec::new();
        let mut timeout = DEFAULT_TIMEOUT;
        let mut helo = None;
        for (key, value) in parsed.query_pairs() {
            match &*key {
                "tls" => tls_param = Some(value.into_owned()),
                "ca" => ca_files.push(value.into_owned()),
                "timeout" => {
                    timeout = value
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| err(format!("timeout={value:?} is not seconds")))?;
                }
                "helo" => helo = Some(value.into_owned()),
                other => return Err(err(format!("unknown parameter {other:?}"))),
            }
        }
        let tls = match (implicit_tls, tls_param.as_deref()) {
            (true, None | Some("implicit")) => TlsMode::Implicit,
            (true, Some(other)) => {
                return Err(err(format!("tls={other:?} makes no sense with smtps://")));
            }
            (false, Some("required")) => TlsMode::Required,
            (false, Some("opportunistic")) => TlsMode::Opportunistic,
            (false, Some("none")) => TlsMode::None,
            (false, None) if loopback => TlsMode::None,
            (false, None) => TlsMode::Required,
            (false, Some(other)) => {
                return Err(err(format!(
                    "tls={other:?} (use required, opportunistic or none)"
                )));
            }
        };
        let port = parsed
            .port()
            .unwrap_or(if implicit_tls { 465 } else { 587 });

        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| err("credentials are not UTF-8 after percent-decoding".to_owned()))
        };
        let mut secrets = Vec::new();
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err(err("a password without a user name".to_owned())),
            (_, None) => return Err(err("a user name without a password".to_owned())),
            (user, Some(password)) => {
                let decoded = decode(password)?;
                for secret in [password.to_owned(), decoded.clone()] {
                    if !secret.is_empty() && !secrets.contains(&secret) {
                        secrets.push(secret);
                    }
                }
                Some(Credentials::new(decode(user)?, decoded))
            }
        };
        if credentials.is_some()
            && !loopback
            && matches!(tls, TlsMode::None | TlsMode::Opportunistic)
        {
            return Err(err(
                "credentials would travel in plain text; use smtps:// or tls=required".to_owned(),
            ));
        }

        let mut roots = Vec::new();
        for path in &ca_files {
            let pem = std::fs::read(path).map_err(|e| err(format!("ca={path}: {e}")))?;
            let certs = rustls_pemfile::certs(&mut pem.as_slice())
                .collect::<Result<Vec<CertificateDer<'static>>, _>>()
                .map_err(|e| err(format!("ca={path}: {e}")))?;
            if certs.is_empty() {
                return Err(err(format!("ca={path}: no PEM certificate in the file")));
            }
            roots.extend(certs);
        }
        if tls == TlsMode::None && !roots.is_empty() {
            return Err(err("ca= without TLS".to_owned()));
        }

        let starttls = match tls {
            TlsMode::Required | TlsMode::Opportunistic => {
                let mut builder = TlsParameters::builder(host.clone());
                for der in &roots {
                    let cert = Certificate::from_der(der.to_vec())
                        .map_err(|e| err(format!("ca=: {e}")))?;
                    builder = builder.add_root_certificate(cert);
                }
                Some(
                    builder
                        .build_rustls()
                        .map_err(|e| err(format!("TLS setup: {e}")))?,
                )
            }
            TlsMode::None | TlsMode::Implicit => None,
        };
        let implicit = match tls {
            TlsMode::Implicit => {
                let mut store = RootCertStore::empty();
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                for der in roots {
                    store
                        .add(der)
                        .map_err(|e| err(format!("ca=: unusable certificate: {e}")))?;
                }
                let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
                let config = ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| err(format!("TLS setup: {e}")))?
                    .with_root_certificates(store)
                    .with_no_client_auth();
                let name = ServerName::try_from(host.clone())
                    .map_err(|e| err(format!("host is not a TLS server name: {e}")))?;
                Some((TlsConnector::from(Arc::new(config)), name))
            }
            _ => None,
        };

        Ok(Relay {
            host,
            port,
            tls,
            starttls,
            implicit,
            credentials,
            hello: helo.map_or_else(ClientId::default, ClientId::Domain),
            timeout,
            redacted,
            secrets,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Bounds every later [`Relay::send`] by `timeout` instead of the URL's.
    pub fn with_timeout(mut self, timeout: Duration) -> Relay {
        self.timeout = timeout;
        self
    }

    /// The bound on one [`Relay::send`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The relay URL without its password, for logs.
    pub fn url(&self) -> &str {
        &self.redacted
    }

    /// Sends `raw` (RFC 5322 bytes, e.g. from [`crate::compose::compose`]) with
    /// `MAIL FROM:<mail_from>` (`""` for the null sender `<>`) to every address in `rcpt_to`.
    ///
    /// `Ok` means the relay accepted the mail for every recipient (250 to the end of DATA).
    /// Any refused recipient fails the whole send. Returns within [`Relay::timeout`].
    pub async fn send(
        &self,
        mail_from: &str,
        rcpt_to: &[String],
        raw: &[u8],
    ) -> Result<SendReceipt, SendError> {
        let envelope = envelope(mail_from, rcpt_to)?;
        // lettre always writes CRLF "." CRLF after the data, so a mail ending in CRLF would
        // arrive with an extra empty line; without its last CRLF it arrives byte for byte.
        let raw = raw.strip_suffix(b"\r\n").unwrap_or(raw);
        match tokio::time::timeout(self.timeout, self.deliver(&envelope, raw)).await {
            Ok(Ok((response, retried))) => Ok(receipt(&response, retried)),
            Ok(Err(failure)) => Err(self.send_error(failure)),
            // The connection in use was dropped (closed) with the future: nothing half-done
            // goes back into the pool.
            Err(_elapsed) => Err(SendError {
                permanent: false,
                code: None,
                message: format!(
                    "timed out after {:?} talking to {}",
                    self.timeout, self.redacted
                ),
            }),
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: &[u8]) -> Result<(Response, bool), Failure> {
        let mut retried = false;
        if let Some(mut conn) = self.checkout() {
            match conn.send(envelope, raw).await {
                Ok(response) => {
                    self.checkin(conn);
                    return Ok((response, false));
                }
                Err(e) if is_stale_connection(&e) => {
                    tracing::debug!(
                        relay = %self.redacted,
                        error = %self.scrub(e.to_string()),
                        "reused connection failed; retrying once on a fresh one"
                    );
                    // Its siblings are likely as dead (relay restarted, idle cut-off).
                    self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
                    retried = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut conn = self.connect().await?;
        let response = conn.send(envelope, raw).await?;
        self.checkin(conn);
        Ok((response, retried))
    }

    /// A parked connection, most recently used first; stale ones are dropped.
    fn checkout(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|i| i.since.elapsed() < POOL_MAX_IDLE_AGE);
        idle.pop().map(|i| i.conn)
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_MAX_IDLE {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// A new connection: TCP (no Nagle), TLS as configured, EHLO, AUTH.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(Failure::Connect)?;
        // Every SMTP step is one write then a wait for the reply; Nagle would hold the
        // small writes (the final CRLF.CRLF) for the relay's delayed ACK.
        tcp.set_nodelay(true).map_err(Failure::Connect)?;
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit {
            Some((connector, name)) => Box::new(ImplicitTls(
                connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(Failure::TlsHandshake)?,
            )),
            None => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        if let Some(parameters) = &self.starttls
            && (self.tls == TlsMode::Required || conn.can_starttls())
        {
            // Fails with "STARTTLS is not supported" when required but not offered.
            conn.starttls(parameters.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }

    fn send_error(&self, failure: Failure) -> SendError {
        let e = match failure {
            Failure::Smtp(e) => e,
            Failure::Connect(e) => {
                return self.temporary(format!("could not connect to {}: {e}", self.redacted));
            }
            Failure::TlsHandshake(e) => {
                return self.temporary(format!("TLS with {} failed: {e}", self.redacted));
            }
        };
        if let Some(code) = e.status() {
            let code = code.to_string().parse::<u16>().unwrap_or(0);
            let text = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default();
            // 530/534/535/538: authentication required/too weak/failed/needs encryption.
            // The relay's configuration is wrong, not the mail: retrying later may work.
            let auth = matches!(code, 530 | 534 | 535 | 538);
            let message = if auth {
                format!("{code} {text} (authentication at {})", self.redacted)
            } else {
                format!("{code} {text}")
            };
            SendError {
                permanent: (500..600).contains(&code) && !auth,
                code: Some(code),
                message: self.scrub(message),
            }
        } else {
            // lettre nests its kind prefix for errors from the TLS upgrade.
            let e = e
                .to_string()
                .replace("Connection error: Connection error: ", "Connection error: ");
            self.temporary(format!("sending via {} failed: {e}", self.redacted))
        }
    }

    fn temporary(&self, message: String) -> SendError {
        SendError {
            permanent: false,
            code: None,
            message: self.scrub(message),
        }
    }

    fn scrub(&self, mut message: String) -> String {
        for secret in &self.secrets {
            message = message.replace(secret.as_str(), "***");
        }
        message
    }
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("url", &self.redacted)
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// An `smtps://` stream, handed to lettre as an already-connected transport.
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for ImplicitTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// `url` with the password replaced by `***`, for logs and errors. Works on URLs
/// [`Relay::from_url`] would reject, too.
pub fn redact(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
                // Non-special schemes keep `*` as is; show it plainly either way.
                return parsed.to_string().replace("%2A%2A%2A@", "***@");
            }
            parsed.to_string()
        }
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                format!("{}://***{}", &url[..start], &url[at..])
            }
            _ if url.contains('@') => "<unparsable relay URL>".to_owned(),
            _ => url.to_owned(),
        },
    }
}

/// Whether a send on a *reused* connection failed because the connection was no longer
/// good: it broke, was closed or answered garbage (no reply code), or the relay said `421`
/// (closing the channel, e.g. its idle timeout).
fn is_stale_connection(e: &lettre::transport::smtp::Error) -> bool {
    let code = e.status().map(|c| c.to_string());
    match code.as_deref() {
        Some(code) => code == "421",
        None => !e.is_client() && !e.is_tls(),
    }
}

fn envelope(mail_from: &str, rcpt_to: &[String]) -> Result<Envelope, SendError> {
    let invalid = |what: &str, value: &str, e: &dyn fmt::Display| SendError {
        permanent: true,
        code: None,
        message: format!("invalid {what} address {value:?}: {e}"),
    };
    let from = match mail_from.trim() {
        "" | "<>" => None,
        addr => Some(
            addr.parse::<Address>()
                .map_err(|e| invalid("MAIL FROM", addr, &e))?,
        ),
    };
    let to = rcpt_to
        .iter()
        .map(|rcpt| {
            rcpt.trim()
                .parse::<Address>()
                .map_err(|e| invalid("RCPT TO", rcpt, &e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if to.is_empty() {
        return Err(SendError {
            permanent: true,
            code: None,
            message: "no recipients".to_owned(),
        });
    }
    Envelope::new(from, to).map_err(|e| SendError {
        permanent: true,
        code: None,
        message: format!("invalid envelope: {e}"),
    })
}

fn receipt(response: &Response, retried: bool) -> SendReceipt {
    SendReceipt {
        code: response.code().to_string().parse().unwrap_or(250),
        message: response.message().collect::<Vec<_>>().join(" "),
        retried,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_and_keeps_the_rest() {
        assert_eq!(
            redact("smtps://bot%40example.com:s3cr%2Ft@smtp.example.com:465?ca=/x.pem"),
            "smtps://bot%40example.com:***@smtp.example.com:465?ca=/x.pem"
        );
        assert_eq!(
            redact("smtp://relay.example.com"),
            "smtp://relay.example.com"
        );
        assert_eq!(redact("smtp://u:p w@host:bad"), "smtp://***@host:bad");
        assert!(!redact("nonsense p@ss").contains("p@ss"));
    }

    #[test]
    fn the_tls_policy_follows_the_documented_defaults() {
        let tls = |url: &str| Relay::from_url(url).map(|r| r.tls);
        assert_eq!(tls("smtp://relay.example.com"), Ok(TlsMode::Required));
        assert_eq!(tls("smtp://localhost:25"), Ok(TlsMode::None));
        assert_eq!(tls("smtp://127.0.0.1:2525"), Ok(TlsMode::None));
        assert_eq!(tls("smtp://[::1]:2525"), Ok(TlsMode::None));
        assert_eq!(tls("smtp://127.0.0.1?tls=required"), Ok(TlsMode::Required));
        assert_eq!(
            tls("smtp://relay.example.com?tls=opportunistic"),
            Ok(TlsMode::Opportunistic)
        );
        assert_eq!(tls("smtps://relay.example.com"), Ok(TlsMode::Implicit));
    }

    #[test]
    fn bad_urls_are_refused_with_the_password_redacted() {
        for (url, reason) in [
            ("http://relay.example.com", "unknown scheme"),
            ("smtp://relay.example.com?tls=yes", "tls=\"yes\""),
            ("smtp://relay.example.com?tsl=none", "unknown parameter"),
            ("smtps://relay.example.com?tls=none", "makes no sense"),
            ("smtp://u:hunter22@relay.example.com?tls=none", "plain text"),
            (
                "smtp://u:hunter22@relay.example.com?tls=opportunistic",
                "plain text",
            ),
            ("smtp://u@relay.example.com", "without a password"),
            ("smtp://relay.example.com?timeout=0", "timeout"),
            ("smtp://relay.example.com/some/path", "unexpected path"),
            (
                "smtps://u:hunter22@relay.example.com?ca=/nonexistent.pem",
                "ca=/nonexistent.pem",
            ),
        ] {
            let e = Relay::from_url(url).unwrap_err();
            assert!(e.reason.contains(reason), "{url}: {e}");
            assert!(!e.to_string().contains("hunter22"), "{e}");
        }
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_shown() {
        let relay =
            Relay::from_url("smtps://bot%40example.com:p%40ss%3Aw0rd@smtp.example.com").unwrap();
        assert_eq!(relay.secrets, ["p%40ss%3Aw0rd", "p@ss:w0rd"]);
        let debug = format!("{relay:?}");
        assert!(!debug.contains("w0rd"), "{debug}");
        assert!(relay.url().contains(":***@"), "{}", relay.url());
        assert_eq!(relay.scrub("535 bad p@ss:w0rd".to_owned()), "535 bad ***");
    }

    #[test]
    fn a_relay_can_be_shared_across_tasks() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let relay = Relay::from_url("smtp://localhost:25").unwrap();
        send_sync(&relay);
        // The future is only built, never polled: no runtime needed.
        send(relay.send("a@example.com", &[], b""));
    }

    #[test]
    fn loopback_may_take_credentials_in_plain_text() {
        assert!(Relay::from_url("smtp://u:p@127.0.0.1:2525").is_ok());
    }

    #[test]
    fn timeouts_come_from_the_url() {
        let relay = Relay::from_url("smtp://localhost:25?timeout=2.5").unwrap();
        assert_eq!(relay.timeout(), Duration::from_millis(2500));
        assert_eq!(
            Relay::from_url("smtp://localhost").unwrap().timeout(),
            DEFAULT_TIMEOUT
        );
    }

    #[test]
    fn envelopes_are_checked_before_connecting() {
        let e = envelope("a@example.com", &[]).unwrap_err();
        assert!(e.permanent);
        let e = envelope("a@example.com", &["not an address".to_owned()]).unwrap_err();
        assert!(e.permanent && e.message.contains("RCPT TO"), "{e}");
        let null_sender = envelope("", &["b@example.com".to_owned()]).unwrap();
        assert_eq!(null_sender.from(), None);
    }
}
