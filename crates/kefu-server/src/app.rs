//! Building and running the application: `Application::build` binds the listener and
//! reports its port; `main` and the tests call the same function (STYLE.md §1).

use crate::{api, web};
use axum::Router;
use kefu_store::Store;
use std::{net::SocketAddr, sync::Arc};
use tokio::net::TcpListener;

/// Settings the server needs at run time. Secrets never appear in `Debug`.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes (JSON and uploads). Larger → 413.
    pub max_body_bytes: usize,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Solved tickets close by rule after this long; `None` switches the job off.
    pub close_solved_after: Option<jiff::SignedDuration>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (for login rate limits).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where kefu's own SMTP listener accepts mail for the mailboxes (off if `None`).
    pub smtp_listen: Option<SocketAddr>,
    /// Where kefu's LMTP listener accepts mail from a local MTA such as Postfix.
    pub lmtp_listen: Option<SocketAddr>,
    /// Email channel settings (relay, TLS, IMAP polling).
    pub mail: crate::mail::MailConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("secure_cookies", &self.secure_cookies)
            .field("close_solved_after", &self.close_solved_after)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("smtp_listen", &self.smtp_listen)
            .field("lmtp_listen", &self.lmtp_listen)
            .field("mail", &self.mail)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            max_body_bytes: 25 * 1024 * 1024,
            secure_cookies: false,
            close_solved_after: Some(kefu_domain::DEFAULT_CLOSE_AFTER),
            trusted_proxies: Vec::new(),
            smtp_listen: None,
            lmtp_listen: None,
            mail: crate::mail::MailConfig {
                relay_url: None,
                hostname: "localhost".into(),
                max_message_bytes: 50 * 1024 * 1024,
                tls_cert: None,
                tls_key: None,
                imap_poll_interval: std::time::Duration::from_secs(60),
            },
        }
    }
}

/// Shared state of every request handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Key for the keyed hash (HMAC-SHA256) of API tokens and session ids.
    pub token_key: Arc<[u8; 32]>,
    pub config: Arc<Config>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Keys of the email channel (reply-address signatures), derived from `token_key`.
    pub mail_keys: crate::mail::MailKeys,
}

impl AppState {
    /// Loads (or creates on first start) the workspace's token key from the store, so
    /// that every node of a cluster hashes tokens the same way.
    pub async fn new(
        store: Arc<dyn Store>,
        config: Config,
    ) -> Result<AppState, kefu_store::StoreError> {
        use rand::RngCore;
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let stored = store.init_setting("token_key", &hex::encode(fresh)).await?;
        let mut key = [0u8; 32];
        hex::decode_to_slice(stored.trim(), &mut key).unwrap_or_else(|_| {
            tracing::error!("stored token_key is not 32 hex bytes; using a per-process key");
            key = fresh;
        });
        let token_key = Arc::new(key);
        Ok(AppState {
            store,
            mail_keys: crate::mail::MailKeys::new(token_key.clone()),
            token_key,
            config: Arc::new(config),
            metrics: metrics_handle(),
        })
    }
}

fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    use std::sync::OnceLock;
    static HANDLE: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .clone()
}

/// The complete router: API, web UI, health and metrics.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(api::router())
        .merge(web::router())
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A bound, not yet serving, application.
pub struct Application {
    listener: TcpListener,
    smtp: Option<TcpListener>,
    lmtp: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Binds `config.listen` (port 0 picks a free port) over an opened store.
    pub async fn build(store: Arc<dyn Store>, config: Config) -> Result<Application, StartError> {
        let listener = TcpListener::bind(config.listen).await?;
        let smtp = match config.smtp_listen {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        let lmtp = match config.lmtp_listen {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        let state = AppState::new(store, config).await?;
        Ok(Application {
            listener,
            smtp,
            lmtp,
            state,
        })
    }

    /// The bound SMTP listener's address, if there is one.
    pub fn smtp_addr(&self) -> Option<SocketAddr> {
        self.smtp.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The bound LMTP listener's address, if there is one.
    pub fn lmtp_addr(&self) -> Option<SocketAddr> {
        self.lmtp.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let jobs = crate::jobs::spawn(
            self.state.store.clone(),
            self.state.config.close_solved_after,
        );
        let sla = crate::sla_timers::spawn(self.state.store.clone());
        let mail = crate::mail::spawn(
            self.state.store.clone(),
            self.state.mail_keys.clone(),
            &self.state.config.mail,
            self.smtp,
            self.lmtp,
        )
        .map_err(std::io::Error::other)?;
        // The peer address reaches handlers as `ConnectInfo` (sign-in rate limiting).
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        jobs.abort();
        sla.abort();
        for task in mail {
            task.abort();
        }
        served
    }
}

/// Start-up errors: binding the port or opening the store.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] kefu_store::StoreError),
}
