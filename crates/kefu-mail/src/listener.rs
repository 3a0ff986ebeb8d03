//! kefu's own SMTP (RFC 5321) and LMTP (RFC 2033) listener on tokio.
//!
//! Owns the protocol dialogue only: greeting, EHLO/HELO/LHLO, STARTTLS, the envelope,
//! DATA (dot-unstuffing) and BDAT (RFC 3030), and the limits that keep one client from
//! holding a task forever (idle timeout, session lifetime, line length, message size,
//! recipient count, error count, connection count). Requests are parsed with
//! `smtp-proto`; a finished message goes to [`MailSink::deliver`] with a `Received:`
//! trace header prepended (the received bytes follow unchanged).
//!
//! It never decides who may receive mail ([`MailSink::accepts`] does), never relays, never
//! authenticates (no AUTH: this is an MX or LMTP target, not a submission server), and
//! never logs message bodies.
//!
//! Guarantees: `250` after the final dot means `deliver` returned `Ok`; every other
//! outcome is a 4xx/5xx so the sending MTA keeps or bounces the mail. Each connection runs
//! in its own task; its failure or panic touches no other connection.

use std::fmt;
use std::future::Future;
use std::io::{self, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig};
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::{MailSink, Source};

mod session;

use session::{End, Session};

/// How long open connections get to finish after shutdown was requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Which dialect the listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// SMTP: `EHLO`/`HELO`, one reply after the final dot.
    Smtp,
    /// LMTP: `LHLO` only, one reply per accepted recipient after the final dot.
    Lmtp,
}

impl Protocol {
    fn source(self) -> Source {
        match self {
            Protocol::Smtp => Source::Smtp,
            Protocol::Lmtp => Source::Lmtp,
        }
    }
}

/// Settings of one listener. [`ListenerConfig::new`] gives sensible defaults.
#[derive(Clone)]
pub struct ListenerConfig {
    pub protocol: Protocol,
    /// Our name in the greeting, EHLO reply and `Received:` header.
    pub hostname: String,
    /// Largest message accepted (advertised as `SIZE`); larger ones get 552.
    pub max_message_bytes: usize,
    /// STARTTLS is offered when set (see [`load_tls`]).
    pub tls: Option<Arc<ServerConfig>>,
    /// A connection that sends nothing for this long is closed with 421.
    pub idle_timeout: Duration,
    /// Further `RCPT TO` in one transaction get 452.
    pub max_recipients: usize,
    /// Connections beyond this many are answered 421 and closed.
    pub max_connections: usize,
    /// Hard cap on one connection's lifetime, however busy (against slow-drip clients).
    pub max_session: Duration,
}

impl ListenerConfig {
    /// 25 MiB messages, 5 min idle timeout, 100 recipients, 200 connections, 30 min
    /// sessions, no TLS.
    pub fn new(protocol: Protocol, hostname: impl Into<String>) -> Self {
        Self {
            protocol,
            hostname: hostname.into(),
            max_message_bytes: 25 * 1024 * 1024,
            tls: None,
            idle_timeout: Duration::from_secs(300),
            max_recipients: 100,
            max_connections: 200,
            max_session: Duration::from_secs(30 * 60),
        }
    }
}

impl fmt::Debug for ListenerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenerConfig")
            .field("protocol", &self.protocol)
            .field("hostname", &self.hostname)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("tls", &self.tls.is_some())
            .field("idle_timeout", &self.idle_timeout)
            .field("max_recipients", &self.max_recipients)
            .field("max_connections", &self.max_connections)
            .field("max_session", &self.max_session)
            .finish()
    }
}

/// Why [`load_tls`] failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("no PEM certificate found in {0}")]
    NoCertificate(PathBuf),
    #[error("no PEM private key found in {0}")]
    NoPrivateKey(PathBuf),
    #[error("unusable certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Loads a PEM certificate chain and private key (PKCS#8, PKCS#1 or SEC1) for STARTTLS
/// (`--smtp-tls-cert` / `--smtp-tls-key`). Uses the ring provider explicitly, so it works
/// whether or not a process-wide provider is installed.
pub fn load_tls(
    cert_pem_path: impl AsRef<Path>,
    key_pem_path: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let (cert_pem_path, key_pem_path) = (cert_pem_path.as_ref(), key_pem_path.as_ref());
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsConfigError::Read { path, source }
    };
    let cert_file = std::fs::File::open(cert_pem_path).map_err(read_err(cert_pem_path))?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(cert_file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_err(cert_pem_path))?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate(cert_pem_path.to_path_buf()));
    }
    let key_file = std::fs::File::open(key_pem_path).map_err(read_err(key_pem_path))?;
    let key = rustls_pemfile::private_key(&mut BufReader::new(key_file))
        .map_err(read_err(key_pem_path))?
        .ok_or_else(|| TlsConfigError::NoPrivateKey(key_pem_path.to_path_buf()))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

/// Accepts connections on `listener` until `shutdown` completes, then tells open
/// connections to finish (421 to idle ones) and waits up to 10 s for them.
///
/// Accept errors (e.g. out of file descriptors) are logged and retried; they never end
/// the listener.
pub async fn serve(
    listener: TcpListener,
    config: ListenerConfig,
    sink: Arc<dyn MailSink>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    let config = Arc::new(config);
    let acceptor = config.tls.clone().map(TlsAcceptor::from);
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut tasks = JoinSet::new();
    info!(addr = %local, protocol = ?config.protocol, starttls = acceptor.is_some(), "mail listener started");

    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => log_join(joined),
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        warn!(error = %err, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    warn!(%peer, "too many connections, turning one away");
                    tasks.spawn(turn_away(stream));
                    continue;
                };
                let conn = Connection {
                    config: config.clone(),
                    acceptor: acceptor.clone(),
                    sink: sink.clone(),
                    stop: stop_rx.clone(),
                    peer,
                };
                let span = info_span!("mail_conn", proto = config.protocol.source().as_str(), %peer, id = tracing::field::Empty);
                tasks.spawn(
                    async move {
                        conn.run(stream).await;
                        drop(slot);
                    }
                    .instrument(span),
                );
            }
        }
    }

    let _ = stop_tx.send(true);
    let drain = async {
        while let Some(joined) = tasks.join_next().await {
            log_join(joined);
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        warn!("mail connections still open after the grace period; aborting them");
        tasks.abort_all();
    }
    info!(addr = %local, "mail listener stopped");
    Ok(())
}

fn log_join(joined: Result<(), tokio::task::JoinError>) {
    if let Err(err) = joined
        && err.is_panic()
    {
        error!("a mail connection task panicked");
    }
}

async fn turn_away(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        stream
            .write_all(b"421 4.7.0 Too many connections, try again later\r\n")
            .await?;
        stream.shutdown().await
    })
    .await;
}

struct Connection {
    config: Arc<ListenerConfig>,
    acceptor: Option<TlsAcceptor>,
    sink: Arc<dyn MailSink>,
    stop: watch::Receiver<bool>,
    peer: SocketAddr,
}

impl Connection {
    async fn run(self, mut tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        let mut session = Session::new(&self);
        tracing::Span::current().record("id", session.id.as_str());
        debug!("connection opened");
        session.greet();
        let end = session.drive(&mut tcp).await;
        if end != End::StartTls {
            session.finish(&mut tcp, end).await;
            return;
        }
        let Some(acceptor) = self.acceptor.clone() else {
            return;
        };
        let handshake = tokio::time::timeout(self.config.idle_timeout, acceptor.accept(tcp));
        let mut tls = match handshake.await {
            Ok(Ok(tls)) => tls,
            Ok(Err(err)) => {
                debug!(error = %err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                debug!("TLS handshake timed out");
                return;
            }
        };
        session.after_starttls();
        let end = session.drive(&mut tls).await;
        session.finish(&mut tls, end).await;
    }
}
