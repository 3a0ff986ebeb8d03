//! The email channel inside `kefu serve`: the inbound pipeline ([`inbound`]), outgoing
//! replies and acknowledgements ([`outbound`]), and the background tasks that run them
//! ([`spawn`]): the SMTP and LMTP listeners, one IMAP poller per mailbox that has an IMAP
//! URL, the sender, and the recovery of mails whose processing was interrupted.
//!
//! Protocols and formats are `kefu-mail`'s; rules are `kefu_domain::mail`'s.

pub mod inbound;
pub mod outbound;

use crate::auth::keyed_hash;
use kefu_mail::{DeliverError, Envelope, MailSink};
use kefu_store::Store;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::task::JoinHandle;

/// Keys derived from the workspace's secret key for the email channel.
#[derive(Clone)]
pub struct MailKeys {
    key: Arc<[u8; 32]>,
}

impl MailKeys {
    pub fn new(key: Arc<[u8; 32]>) -> Self {
        MailKeys { key }
    }

    /// The signature in a ticket's reply address: ten hex digits of a keyed hash, so a
    /// stranger cannot write into a ticket by guessing its id.
    pub fn reply_signature(&self, ticket: kefu_domain::TicketId) -> String {
        keyed_hash(&self.key, &format!("reply-address:{}", ticket.0))[..10].to_string()
    }
}

/// The inbound pipeline as the listener and the pollers see it.
pub struct Sink {
    pub store: Arc<dyn Store>,
    pub keys: MailKeys,
}

#[async_trait::async_trait]
impl MailSink for Sink {
    async fn accepts(&self, rcpt: &str) -> bool {
        match self.store.find_mailbox_by_address(rcpt).await {
            Ok(Some(m)) => m.active,
            Ok(None) => false,
            Err(e) => {
                tracing::error!(error = %e, "mailbox lookup failed");
                false
            }
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), DeliverError> {
        inbound::receive(self.store.as_ref(), &self.keys, envelope, raw)
            .await
            .map(|_| ())
            .map_err(|e| {
                tracing::error!(error = %e, "storing a received mail failed");
                DeliverError {
                    temporary: true,
                    message: "cannot store the message right now, try again later".into(),
                }
            })
    }
}

/// Email settings of `kefu serve`.
#[derive(Clone, Default)]
pub struct MailConfig {
    /// `smtp[s]://user:password@host:port` of the relay for outgoing mail; without it,
    /// replies stay `queued`.
    pub relay_url: Option<String>,
    /// Host name in the SMTP greeting.
    pub hostname: String,
    /// Largest accepted message, in bytes.
    pub max_message_bytes: usize,
    /// PEM certificate and key for STARTTLS on the listeners.
    pub tls_cert: Option<std::path::PathBuf>,
    pub tls_key: Option<std::path::PathBuf>,
    /// How often IMAP mailboxes are polled (IDLE wakes a poller earlier).
    pub imap_poll_interval: Duration,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field(
                "relay_url",
                &self.relay_url.as_deref().map(kefu_mail::relay::redact),
            )
            .field("hostname", &self.hostname)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("tls_cert", &self.tls_cert)
            .field("imap_poll_interval", &self.imap_poll_interval)
            .finish()
    }
}

/// Starts the email channel's background tasks. Listeners come bound (so that callers
/// know their ports). Returns the tasks; aborting them stops the channel.
pub fn spawn(
    store: Arc<dyn Store>,
    keys: MailKeys,
    config: &MailConfig,
    smtp: Option<tokio::net::TcpListener>,
    lmtp: Option<tokio::net::TcpListener>,
) -> Result<Vec<JoinHandle<()>>, String> {
    let sink: Arc<dyn MailSink> = Arc::new(Sink {
        store: store.clone(),
        keys: keys.clone(),
    });
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(c), Some(k)) => {
            Some(kefu_mail::listener::load_tls(c, k).map_err(|e| format!("TLS certificate: {e}"))?)
        }
        (None, None) => None,
        _ => return Err("--smtp-tls-cert and --smtp-tls-key go together".into()),
    };
    let mut tasks = Vec::new();
    for (listener, protocol) in [
        (smtp, kefu_mail::listener::Protocol::Smtp),
        (lmtp, kefu_mail::listener::Protocol::Lmtp),
    ] {
        let Some(listener) = listener else { continue };
        let cfg = kefu_mail::listener::ListenerConfig {
            max_message_bytes: config.max_message_bytes,
            tls: tls.clone(),
            ..kefu_mail::listener::ListenerConfig::new(protocol, config.hostname.clone())
        };
        let sink = sink.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) =
                kefu_mail::listener::serve(listener, cfg, sink, std::future::pending()).await
            {
                tracing::error!(error = %e, "mail listener stopped");
            }
        }));
    }
    if let Some(url) = &config.relay_url {
        let relay =
            kefu_mail::relay::Relay::from_url(url).map_err(|e| format!("--smtp-relay: {e}"))?;
        let (store, keys) = (store.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) =
                    outbound::run_due(store.as_ref(), &keys, &relay, jiff::Timestamp::now()).await
                {
                    tracing::error!(error = %e, "mail sender");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    {
        let (store, keys) = (store.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let before = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(2);
                match inbound::process_unprocessed(store.as_ref(), &keys, before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(processed = n, "processed interrupted mails"),
                    Err(e) => tracing::error!(error = %e, "reprocessing mails"),
                }
            }
        }));
    }
    tasks.push(tokio::spawn(imap_supervisor(
        store,
        sink,
        config.imap_poll_interval,
    )));
    Ok(tasks)
}

/// Keeps one poller running per active mailbox with an IMAP URL, following changes to
/// the mailboxes (checked every minute).
async fn imap_supervisor(store: Arc<dyn Store>, sink: Arc<dyn MailSink>, interval: Duration) {
    let mut running: HashMap<(i64, String), JoinHandle<()>> = HashMap::new();
    loop {
        match store.list_mailboxes().await {
            Ok(mailboxes) => {
                let wanted: HashMap<(i64, String), String> = mailboxes
                    .into_iter()
                    .filter(|m| m.active)
                    .filter_map(|m| {
                        let url = m.imap_url?;
                        Some(((m.id.0, url), m.address.as_str().to_string()))
                    })
                    .collect();
                running.retain(|k, task| {
                    let keep = wanted.contains_key(k) && !task.is_finished();
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for (key, address) in wanted {
                    if running.contains_key(&key) {
                        continue;
                    }
                    match kefu_mail::imap::ImapSource::parse(&key.1) {
                        Ok(src) => {
                            let sink = sink.clone();
                            running.insert(
                                key,
                                tokio::spawn(kefu_mail::imap::run(
                                    src,
                                    address,
                                    sink,
                                    interval,
                                    std::future::pending(),
                                )),
                            );
                        }
                        Err(e) => tracing::error!(mailbox = key.0, error = %e, "bad IMAP URL"),
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "listing mailboxes"),
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}
