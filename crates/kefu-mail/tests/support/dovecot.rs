//! A private Dovecot for one test: own config, ports, Maildir and logs in a temp dir,
//! run in the foreground as a child process and stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::{SUPPORT, TempDir, TestCerts, free_port, make_certs, require, run_ok};

pub const PASSWORD: &str = "s3cret pass";

#[derive(Default)]
pub struct Options {
    /// Also listen for IMAPS and offer STARTTLS, with a certificate from a test CA.
    pub tls: bool,
    /// Overrides the advertised capabilities (to hide MOVE, UIDPLUS or IDLE).
    pub capability: Option<&'static str>,
}

pub struct Dovecot {
    child: Child,
    pub port: u16,
    pub imaps_port: u16,
    pub certs: Option<TestCerts>,
    log: PathBuf,
    /// Removed after the child is gone (fields drop after `Drop::drop`).
    _dir: TempDir,
}

/// `(uid, gid)` of `name` in /etc/passwd.
fn passwd_entry(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.split(':').next() == Some(name))?;
    let mut fields = line.split(':').skip(2);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

fn id(flag: &str) -> String {
    run_ok(Command::new("id").arg(flag)).trim().to_string()
}

impl Dovecot {
    pub fn start(options: Options) -> Dovecot {
        require("dovecot");
        let dir = TempDir::new("dovecot");
        let root = dir.path().to_path_buf();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let passwd = root.join("passwd");
        std::fs::write(&passwd, format!("{SUPPORT}:{{PLAIN}}{PASSWORD}\n")).unwrap();

        // As root Dovecot wants its unprivileged users and refuses uid 0 for mail; as
        // anyone else everything runs as that user.
        let (internal_user, login_user, uid, gid) = if id("-u") == "0" {
            let (uid, gid) = passwd_entry("nobody").expect("a `nobody` user");
            assert!(
                passwd_entry("dovecot").is_some() && passwd_entry("dovenull").is_some(),
                "the dovecot package creates the dovecot and dovenull users"
            );
            ("dovecot".to_string(), "dovenull".to_string(), uid, gid)
        } else {
            let me = id("-un");
            (
                me.clone(),
                me,
                id("-u").parse().unwrap(),
                id("-g").parse().unwrap(),
            )
        };
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o777)).unwrap();

        let port = free_port();
        let imaps_port = if options.tls { free_port() } else { 0 };
        let certs = options.tls.then(|| make_certs(&root));
        let ssl = match &certs {
            Some(certs) => format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}\nssl_min_protocol = TLSv1.2\n",
                certs.cert.display(),
                certs.key.display()
            ),
            None => "ssl = no\n".to_string(),
        };
        let capability = options
            .capability
            .map(|c| format!("imap_capability = {c}\n"))
            .unwrap_or_default();
        let log = root.join("dovecot.log");
        let r = root.display();
        let config = format!(
            "protocols = imap\n\
             listen = 127.0.0.1\n\
             base_dir = {r}/run\n\
             state_dir = {r}/state\n\
             log_path = {r}/dovecot.log\n\
             {ssl}\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             auth_failure_delay = 0\n\
             mail_location = maildir:~/Maildir\n\
             first_valid_uid = 1\n\
             default_internal_user = {internal_user}\n\
             default_login_user = {login_user}\n\
             mailbox_idle_check_interval = 1 secs\n\
             {capability}\
             passdb {{\n  driver = passwd-file\n  args = {r}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={r}/home/%u\n}}\n\
             service imap-login {{\n  chroot =\n\
               inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps_port}\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        let conf = root.join("dovecot.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let mut dovecot = Dovecot {
            child,
            port,
            imaps_port,
            certs,
            log,
            _dir: dir,
        };
        dovecot.wait_until_listening();
        dovecot
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("dovecot exited ({status}):\n{}", self.log());
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn ca(&self) -> String {
        self.certs
            .as_ref()
            .expect("started with tls")
            .ca
            .display()
            .to_string()
    }

    /// `imap://support%40acme.example:…@127.0.0.1:port/?tls=none` plus `query`.
    pub fn plain_url(&self, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "&" };
        format!(
            "imap://support%40acme.example:{}@127.0.0.1:{}/?tls=none{sep}{query}",
            PASSWORD.replace(' ', "%20"),
            self.port
        )
    }

    /// A plain IMAP session for the test's own checks (APPEND, flags, folders).
    pub async fn client(&self) -> async_imap::Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().expect("greeting");
        client
            .login(SUPPORT, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .expect("test login")
    }

    pub async fn append(&self, folder: &str, flags: Option<&str>, raw: &[u8]) {
        let mut session = self.client().await;
        session.append(folder, flags, None, raw).await.unwrap();
        session.logout().await.unwrap();
    }

    /// `(uid, flags)` of every mail in `folder` (modified UTF-7 name), oldest first.
    pub async fn flags(&self, folder: &str) -> Vec<(u32, Vec<String>)> {
        use futures::TryStreamExt;
        let mut session = self.client().await;
        session.examine(folder).await.unwrap();
        let fetches: Vec<_> = session
            .uid_fetch("1:*", "(UID FLAGS)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut all: Vec<(u32, Vec<String>)> = fetches
            .iter()
            .filter_map(|f| {
                let flags = f
                    .flags()
                    .filter(|flag| *flag != async_imap::types::Flag::Recent)
                    .map(|flag| match flag {
                        async_imap::types::Flag::Seen => "\\Seen".to_string(),
                        async_imap::types::Flag::Deleted => "\\Deleted".to_string(),
                        async_imap::types::Flag::Custom(name) => name.to_string(),
                        other => format!("{other:?}"),
                    })
                    .collect();
                Some((f.uid?, flags))
            })
            .collect();
        all.sort();
        session.logout().await.unwrap();
        all
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its children; SIGKILL only if it hangs.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
