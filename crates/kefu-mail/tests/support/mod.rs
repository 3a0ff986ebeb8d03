//! Shared by the listener and IMAP tests: a recording [`MailSink`], temp dirs, test
//! certificates and checks for the external programs the tests drive.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod dovecot;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kefu_mail::{DeliverError, Envelope, MailSink};

/// Mailbox the sink accepts: `support@acme.example` and `support+anything@acme.example`.
pub const SUPPORT: &str = "support@acme.example";

#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: Envelope,
    pub raw: Vec<u8>,
}

impl Delivery {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

enum Outcome {
    Fail(DeliverError),
    Panic,
}

struct Rule {
    marker: Vec<u8>,
    outcome: Outcome,
    remaining: usize,
}

/// Records every mail it takes; can be told to refuse (or panic on) mails containing a
/// marker.
#[derive(Default)]
pub struct RecordingSink {
    deliveries: Mutex<Vec<Delivery>>,
    rules: Mutex<Vec<Rule>>,
    attempts: AtomicUsize,
    changed: tokio::sync::Notify,
}

impl RecordingSink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The next `times` mails containing `marker` get `err`.
    pub fn fail_when(&self, marker: &str, err: DeliverError, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            marker: marker.as_bytes().to_vec(),
            outcome: Outcome::Fail(err),
            remaining: times,
        });
    }

    /// Mails containing `marker` make `deliver` panic.
    pub fn panic_when(&self, marker: &str) {
        self.rules.lock().unwrap().push(Rule {
            marker: marker.as_bytes().to_vec(),
            outcome: Outcome::Panic,
            remaining: usize::MAX,
        });
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// How often `deliver` was called, successful or not.
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` mails were taken; panics after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.changed.notified();
            let now = self.deliveries();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "waited {limit:?} for {n} deliveries, got {}",
                    self.deliveries().len()
                );
            }
        }
    }
}

pub fn temporary(message: &str) -> DeliverError {
    DeliverError {
        temporary: true,
        message: message.into(),
    }
}

pub fn permanent(message: &str) -> DeliverError {
    DeliverError {
        temporary: false,
        message: message.into(),
    }
}

#[async_trait::async_trait]
impl MailSink for RecordingSink {
    async fn accepts(&self, rcpt: &str) -> bool {
        let Some((local, domain)) = rcpt.rsplit_once('@') else {
            return false;
        };
        domain.eq_ignore_ascii_case("acme.example")
            && (local.eq_ignore_ascii_case("support")
                || local.to_ascii_lowercase().starts_with("support+"))
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), DeliverError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let mut failure = None;
        {
            let mut rules = self.rules.lock().unwrap();
            for rule in rules.iter_mut() {
                if rule.remaining > 0 && contains(&raw, &rule.marker) {
                    rule.remaining -= 1;
                    failure = Some(match &rule.outcome {
                        Outcome::Fail(err) => Some(err.clone()),
                        Outcome::Panic => None,
                    });
                    break;
                }
            }
        }
        match failure {
            Some(Some(err)) => return Err(err),
            Some(None) => panic!("test sink told to panic"),
            None => {}
        }
        self.deliveries.lock().unwrap().push(Delivery {
            envelope: envelope.clone(),
            raw,
        });
        self.changed.notify_waiters();
        Ok(())
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "kefu-{label}-{}-{n}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fails the test (never skips) when a program the tests drive is missing.
pub fn require(program: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
        || Path::new(program).is_file();
    assert!(
        found,
        "`{program}` is not installed; these tests need it \
         (apt-get install swaks libnet-ssleay-perl dovecot-imapd openssl python3)"
    );
}

/// Runs a command to completion, panicking with its output if it fails.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// A test CA and a server certificate it signed for `localhost` and `127.0.0.1`.
pub struct TestCerts {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make_certs(dir: &Path) -> TestCerts {
    require("openssl");
    let p = |name: &str| dir.join(name);
    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec"])
            .args([
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=kefu test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
            ])
            .arg(p("ca.key"))
            .arg("-out")
            .arg(p("ca.pem")),
    );
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-newkey", "ec", "-pkeyopt"])
            .args([
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=localhost",
            ])
            .arg("-keyout")
            .arg(p("server.key"))
            .arg("-out")
            .arg(p("server.csr")),
    );
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run_ok(
        Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
            .arg(p("server.csr"))
            .arg("-CA")
            .arg(p("ca.pem"))
            .arg("-CAkey")
            .arg(p("ca.key"))
            .arg("-extfile")
            .arg(p("ext.cnf"))
            .arg("-out")
            .arg(p("server.pem")),
    );
    TestCerts {
        ca: p("ca.pem"),
        cert: p("server.pem"),
        key: p("server.key"),
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Everything logged through `tracing` by this test binary from `start()` on (other
/// tests running at the same time included). A global subscriber, because per-thread
/// ones miss callsites whose interest another thread cached first.
pub struct LogCapture {
    from: usize,
}

struct CaptureWriter;

fn log_buffer() -> &'static Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<Mutex<Vec<u8>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| CaptureWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        Mutex::new(Vec::new())
    })
}

impl std::io::Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    pub fn start() -> LogCapture {
        LogCapture {
            from: log_buffer().lock().unwrap().len(),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&log_buffer().lock().unwrap()[self.from..]).into_owned()
    }
}
