//! Connecting and logging in: TCP, IMAPS or STARTTLS (rustls with webpki roots plus an
//! optional extra CA), the greeting, LOGIN and CAPABILITY.

use std::fmt;
use std::io::{self, BufReader};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_imap::types::Capabilities;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

use super::{COMMAND_TIMEOUT, CONNECT_TIMEOUT, ImapError, ImapSource, Security, step};

/// The transport under async-imap: plain TCP (tests only) or TLS.
#[derive(Debug)]
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub(super) type Session = async_imap::Session<Stream>;

/// A logged-in connection and what we learnt about the server.
pub(super) struct Conn {
    pub(super) session: Session,
    pub(super) caps: Capabilities,
    /// The `processed` folder was created (or found) on this connection.
    pub(super) processed_ready: bool,
}

fn tls_connector(src: &ImapSource) -> Result<TlsConnector, ImapError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &src.ca_file {
        let ca_err = |message: String| ImapError::CaFile {
            path: path.clone(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|e| ca_err(e.to_string()))?;
        for cert in rustls_pemfile::certs(&mut BufReader::new(file)) {
            let cert = cert.map_err(|e| ca_err(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
        }
    }
    let tls_err = |e: rustls::Error| ImapError::Tls {
        host: src.host.clone(),
        message: e.to_string(),
    };
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(tls_err)?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn tls_handshake(src: &ImapSource, tcp: TcpStream) -> Result<Stream, ImapError> {
    let connector = tls_connector(src)?;
    let name = ServerName::try_from(src.host.clone()).map_err(|e| ImapError::Tls {
        host: src.host.clone(),
        message: e.to_string(),
    })?;
    let tls = step(
        "TLS handshake",
        CONNECT_TIMEOUT,
        connector.connect(name, tcp),
    )
    .await
    .map_err(|e| ImapError::Tls {
        host: src.host.clone(),
        message: e.to_string(),
    })?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// Reads the greeting: servers may not take commands before it (async-imap #84).
async fn read_greeting<T>(client: &mut async_imap::Client<T>) -> Result<(), ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    let greeting = step("greeting", COMMAND_TIMEOUT, client.read_response()).await?;
    match greeting {
        None => Err(ImapError::Command {
            step: "greeting",
            message: "connection closed".into(),
        }),
        Some(response) => match response.parsed() {
            async_imap::imap_proto::Response::Data {
                status: async_imap::imap_proto::Status::Bye,
                outcome,
            } => Err(ImapError::Command {
                step: "greeting",
                message: format!(
                    "server said BYE: {}",
                    outcome.information.as_deref().unwrap_or("")
                ),
            }),
            _ => Ok(()),
        },
    }
}

pub(super) async fn connect(src: &ImapSource) -> Result<Conn, ImapError> {
    let addr = format!("{}:{}", src.host, src.port);
    let tcp = match tokio::time::timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((src.host.as_str(), src.port)),
    )
    .await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(source)) => return Err(ImapError::Connect { addr, source }),
        Err(_) => {
            return Err(ImapError::Connect {
                addr,
                source: io::Error::new(io::ErrorKind::TimedOut, "connect timed out"),
            });
        }
    };
    let _ = tcp.set_nodelay(true);
    let client = match src.security {
        Security::Tls => {
            let mut client = async_imap::Client::new(tls_handshake(src, tcp).await?);
            read_greeting(&mut client).await?;
            client
        }
        Security::None => {
            let mut client = async_imap::Client::new(Stream::Plain(tcp));
            read_greeting(&mut client).await?;
            client
        }
        Security::StartTls => {
            let mut plain = async_imap::Client::new(tcp);
            read_greeting(&mut plain).await?;
            step(
                "STARTTLS",
                COMMAND_TIMEOUT,
                plain.run_command_and_check_ok("STARTTLS", None),
            )
            .await
            .map_err(|err| match err {
                // NO/BAD (or an unknown command): STARTTLS is not there.
                ImapError::Command { .. } => ImapError::NoStartTls,
                other => other,
            })?;
            async_imap::Client::new(tls_handshake(src, plain.into_inner()).await?)
        }
    };
    let login = tokio::time::timeout(COMMAND_TIMEOUT, client.login(&src.username, &src.password));
    let mut session = match login.await {
        Ok(Ok(session)) => session,
        Ok(Err((err, _client))) => {
            return Err(ImapError::Login {
                user: src.username.clone(),
                message: err.to_string(),
            });
        }
        Err(_) => return Err(ImapError::Timeout("login")),
    };
    let caps = step("CAPABILITY", COMMAND_TIMEOUT, session.capabilities()).await?;
    Ok(Conn {
        session,
        caps,
        processed_ready: false,
    })
}
