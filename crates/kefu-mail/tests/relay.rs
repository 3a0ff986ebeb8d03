//! The SMTP relay client against real receivers: Python's aiosmtpd (what arrived, AUTH,
//! STARTTLS, implicit TLS, 5xx/4xx replies) and small scripted servers in this file for the
//! misbehaviour aiosmtpd cannot produce (silence, hanging after DATA, lettre #743).
//!
//! Requires `python3` with `aiosmtpd==1.4.6` and the `openssl` command. These tests fail,
//! never skip, when they are missing.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use kefu_mail::compose::{compose, envelope_recipients, new_message_id};
use kefu_mail::relay::{Relay, SendError, redact};
use kefu_mail::{Addr, OutgoingAttachment, OutgoingMail};
use mail_parser::{MessageParser, MimeHeaders};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

const USER: &str = "bot@example.com";
const PASSWORD: &str = "p@ss:w0rd/客服";
/// `PASSWORD` percent-encoded for the URL's userinfo.
const PASSWORD_IN_URL: &str = "p%40ss%3Aw0rd%2F%E5%AE%A2%E6%9C%8D";

/// An aiosmtpd server on a free loopback port. Every accepted mail lands in `dir` as
/// `N.eml` (the DATA bytes as received) and `N.env` (envelope, AUTH login and mechanism,
/// `tls`/`plain`); `connections` counts TCP connections. RCPT to `reject550@…` gets a 550,
/// to `defer451@…` a 451.
const SERVER_PY: &str = r#"
import asyncio, os, ssl, sys, threading
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

flags = set(f for f in sys.argv[1].split(',') if f)
outdir = sys.argv[2]
ctx = None
if len(sys.argv) > 4:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
USER = os.environ['KEFU_TEST_USER'].encode()
PASSWORD = os.environ['KEFU_TEST_PASSWORD'].encode()
state = {'connections': 0, 'delivered': 0}

def write(name, data):
    tmp = os.path.join(outdir, name + '.tmp')
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, os.path.join(outdir, name))

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@')[0]
        if local == 'reject550':
            return '550 5.1.1 <%s>: Recipient address rejected: User unknown' % address
        if local == 'defer451':
            return '451 4.7.1 <%s>: Recipient address rejected: Greylisted' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        state['delivered'] += 1
        n = state['delivered']
        write('%d.eml' % n, envelope.original_content)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else '-'
        tls = server.transport.get_extra_info('ssl_object') is not None
        meta = [envelope.mail_from, ' '.join(envelope.rcpt_tos), login,
                getattr(session, 'kefu_mechanism', '-'), 'tls' if tls else 'plain']
        write('%d.env' % n, ('\n'.join(meta) + '\n').encode())
        return '250 2.0.0 Ok: queued as KEFU%d' % n

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER and auth_data.password == PASSWORD
    if ok:
        session.kefu_mechanism = mechanism
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

def factory():
    state['connections'] += 1
    write('connections', str(state['connections']).encode())
    kw = dict(hostname='relay.test', auth_require_tls=False)
    if 'auth' in flags:
        kw.update(authenticator=authenticator, auth_required=True)
    if 'login-only' in flags:
        kw['auth_exclude_mechanism'] = ['PLAIN']
    if 'starttls' in flags:
        kw.update(tls_context=ctx, require_starttls=True)
    return SMTP(Handler(), **kw)

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, '127.0.0.1', 0,
                                      ssl=ctx if 'implicit' in flags else None)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

def exit_when_the_test_goes_away():
    sys.stdin.buffer.read()
    os._exit(0)

threading.Thread(target=exit_when_the_test_goes_away, daemon=True).start()
asyncio.run(main())
"#;

struct Aiosmtpd {
    child: Child,
    port: u16,
    dir: PathBuf,
}

struct Delivered {
    mail_from: String,
    rcpt_to: Vec<String>,
    login: String,
    mechanism: String,
    tls: bool,
    raw: Vec<u8>,
}

fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    // Under the target directory, so the certificate (kept for the whole run) is not left
    // in /tmp.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "kefu-relay-test-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, made once per test run.
fn certificate() -> &'static (PathBuf, PathBuf) {
    static CERT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    CERT.get_or_init(|| {
        let dir = scratch_dir("cert");
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "extendedKeyUsage=serverAuth"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("the `openssl` command is required for the TLS relay tests");
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (cert, key)
    })
}

impl Aiosmtpd {
    fn start(flags: &str) -> Aiosmtpd {
        let dir = scratch_dir("smtpd");
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(SERVER_PY).arg(flags).arg(&dir);
        if flags.contains("tls") || flags.contains("implicit") {
            let (cert, key) = certificate();
            cmd.arg(cert).arg(key);
        }
        let mut child = cmd
            .env("KEFU_TEST_USER", USER)
            .env("KEFU_TEST_PASSWORD", PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 is required for the relay tests (with `pip install aiosmtpd==1.4.6`)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "aiosmtpd did not start (is `aiosmtpd==1.4.6` installed for python3?):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        Aiosmtpd { child, port, dir }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn connections(&self) -> usize {
        std::fs::read_to_string(self.dir.join("connections"))
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(0)
    }

    fn delivered(&self) -> Vec<Delivered> {
        (1..)
            .map_while(|n| {
                let env = std::fs::read_to_string(self.dir.join(format!("{n}.env"))).ok()?;
                let raw = std::fs::read(self.dir.join(format!("{n}.eml"))).unwrap();
                let lines: Vec<&str> = env.lines().collect();
                Some(Delivered {
                    mail_from: lines[0].to_owned(),
                    rcpt_to: lines[1].split(' ').map(str::to_owned).collect(),
                    login: lines[2].to_owned(),
                    mechanism: lines[3].to_owned(),
                    tls: lines[4] == "tls",
                    raw,
                })
            })
            .collect()
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn addr(email: &str, name: Option<&str>) -> Addr {
    Addr {
        email: email.to_owned(),
        name: name.map(str::to_owned),
    }
}

fn chinese_reply() -> OutgoingMail {
    OutgoingMail {
        from: addr("support@kefu.example.com", Some("客服中心 · 李娜")),
        to: vec![addr("wang.fang@example.cn", Some("王芳"))],
        cc: vec![addr("zhang.wei@example.cn", Some("张伟"))],
        reply_to: Some("support+t42-sig@kefu.example.com".to_owned()),
        subject: "回复：订单 #1024 的退款问题".to_owned(),
        message_id: new_message_id("kefu.example.com", "t42.m7"),
        in_reply_to: Some("CAF=abc@mail.gmail.com".to_owned()),
        references: vec!["CAF=abc@mail.gmail.com".to_owned()],
        date: Some("2026-03-01T08:30:00Z".parse().unwrap()),
        text: "您好，王女士：\n\n退款已处理，预计 3 个工作日到账。\n.\n李娜".to_owned(),
        html: Some("<p>您好，王女士：</p><p>退款已处理。</p>".to_owned()),
        attachments: vec![OutgoingAttachment {
            filename: "退款凭证.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            data: (0..=255u8).cycle().take(5000).collect(),
        }],
        auto_submitted: false,
        language: Some("zh-CN".to_owned()),
    }
}

fn ascii_mail(to: &str) -> (Vec<String>, Vec<u8>) {
    let m = OutgoingMail {
        from: addr("support@kefu.example.com", None),
        to: vec![addr(to, None)],
        subject: "Leading dots".to_owned(),
        message_id: new_message_id("kefu.example.com", "dots"),
        text: "line one\n.\n..two dots\n.three\nend".to_owned(),
        ..OutgoingMail::default()
    };
    (envelope_recipients(&m), compose(&m).unwrap())
}

#[tokio::test]
async fn a_chinese_reply_arrives_byte_for_byte_with_its_envelope() {
    let server = Aiosmtpd::start("");
    let relay = Relay::from_url(&server.url()).unwrap();
    let mail = chinese_reply();
    let raw = compose(&mail).unwrap();
    let rcpt = envelope_recipients(&mail);

    let receipt = relay
        .send("bounce+t42@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap();
    assert_eq!(receipt.code, 250);
    assert!(receipt.message.contains("queued as KEFU1"), "{receipt:?}");
    assert!(!receipt.retried);

    let delivered = server.delivered();
    assert_eq!(delivered.len(), 1);
    let got = &delivered[0];
    assert_eq!(got.mail_from, "bounce+t42@kefu.example.com");
    assert_eq!(
        got.rcpt_to,
        ["wang.fang@example.cn", "zhang.wei@example.cn"]
    );
    assert!(!got.tls, "loopback defaults to plain text");
    assert_eq!(
        got.raw, raw,
        "the relay receives exactly the composed bytes"
    );

    let msg = MessageParser::default().parse(&got.raw).unwrap();
    assert_eq!(msg.subject(), Some("回复：订单 #1024 的退款问题"));
    assert_eq!(
        msg.from().unwrap().first().unwrap().name(),
        Some("客服中心 · 李娜")
    );
    assert_eq!(msg.to().unwrap().first().unwrap().name(), Some("王芳"));
    assert_eq!(msg.message_id(), Some("kefu.t42.m7@kefu.example.com"));
    assert_eq!(
        msg.header_raw("In-Reply-To").map(str::trim),
        Some("<CAF=abc@mail.gmail.com>")
    );
    assert!(msg.body_text(0).unwrap().contains("预计 3 个工作日到账"));
    let att = msg.attachment(0).unwrap();
    assert_eq!(att.attachment_name(), Some("退款凭证.pdf"));
    assert_eq!(att.contents(), mail.attachments[0].data.as_slice());
}

#[tokio::test]
async fn lines_starting_with_a_dot_survive_the_transfer() {
    let server = Aiosmtpd::start("");
    let relay = Relay::from_url(&server.url()).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    assert!(
        String::from_utf8_lossy(&raw).contains("\r\n..two dots"),
        "sent as 7bit"
    );
    relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap();
    assert_eq!(server.delivered()[0].raw, raw);
}

#[tokio::test]
async fn an_auto_reply_can_use_the_null_sender() {
    let server = Aiosmtpd::start("");
    let relay = Relay::from_url(&server.url()).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    relay.send("", &rcpt, &raw).await.unwrap();
    assert_eq!(server.delivered()[0].mail_from, "<>");
}

#[tokio::test]
async fn sequential_sends_reuse_one_pooled_connection() {
    let server = Aiosmtpd::start("");
    let relay = Relay::from_url(&server.url()).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    for _ in 0..3 {
        relay
            .send("support@kefu.example.com", &rcpt, &raw)
            .await
            .unwrap();
    }
    assert_eq!(server.delivered().len(), 3);
    assert_eq!(server.connections(), 1);
}

async fn send_with_credentials(flags: &str) -> Delivered {
    let server = Aiosmtpd::start(flags);
    let url = format!(
        "smtp://bot%40example.com:{PASSWORD_IN_URL}@127.0.0.1:{}",
        server.port
    );
    let relay = Relay::from_url(&url).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap();
    server.delivered().remove(0)
}

#[tokio::test]
async fn percent_encoded_credentials_log_in_with_auth_plain() {
    let got = send_with_credentials("auth").await;
    assert_eq!(
        (got.login.as_str(), got.mechanism.as_str()),
        (USER, "PLAIN")
    );
}

#[tokio::test]
async fn auth_login_is_used_when_plain_is_not_offered() {
    let got = send_with_credentials("auth,login-only").await;
    assert_eq!(
        (got.login.as_str(), got.mechanism.as_str()),
        (USER, "LOGIN")
    );
}

#[tokio::test]
async fn wrong_credentials_are_a_temporary_error_without_the_password() {
    let server = Aiosmtpd::start("auth");
    let url = format!(
        "smtp://bot%40example.com:hunter22@127.0.0.1:{}",
        server.port
    );
    let relay = Relay::from_url(&url).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    let e = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    assert_eq!(e.code, Some(535), "{e:?}");
    assert!(
        !e.permanent,
        "a relay misconfiguration must not bounce the mail"
    );
    assert!(!e.message.contains("hunter22"), "{e}");
    assert!(!format!("{relay:?}").contains("hunter22"));
    assert!(!redact(&url).contains("hunter22"));
    assert!(server.delivered().is_empty());
}

#[tokio::test]
async fn a_relay_that_requires_auth_refuses_anonymous_mail_temporarily() {
    let server = Aiosmtpd::start("auth");
    let relay = Relay::from_url(&server.url()).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    let e = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    assert_eq!((e.code, e.permanent), (Some(530), false), "{e:?}");
}

#[tokio::test]
async fn starttls_with_a_private_ca_and_credentials() {
    let server = Aiosmtpd::start("starttls,auth");
    let (cert, _) = certificate();
    let url = format!(
        "smtp://bot%40example.com:{PASSWORD_IN_URL}@localhost:{}?tls=required&ca={}",
        server.port,
        cert.display()
    );
    let relay = Relay::from_url(&url).unwrap();
    let mail = chinese_reply();
    let raw = compose(&mail).unwrap();
    relay
        .send(
            "support@kefu.example.com",
            &envelope_recipients(&mail),
            &raw,
        )
        .await
        .unwrap();
    let got = server.delivered().remove(0);
    assert!(got.tls, "the mail went over TLS");
    assert_eq!(got.login, USER);
    assert_eq!(got.raw, raw);
}

#[tokio::test]
async fn starttls_to_an_untrusted_certificate_fails_without_sending() {
    let server = Aiosmtpd::start("starttls");
    let url = format!("smtp://localhost:{}?tls=required", server.port);
    let relay = Relay::from_url(&url).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    let e = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    assert!(!e.permanent);
    assert!(e.message.contains("invalid peer certificate"), "{e}");
    assert!(server.delivered().is_empty());
}

#[tokio::test]
async fn required_tls_refuses_a_relay_without_starttls() {
    let server = Aiosmtpd::start("");
    let url = format!("smtp://127.0.0.1:{}?tls=required", server.port);
    let relay = Relay::from_url(&url).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    let e = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    assert!(!e.permanent, "{e:?}");
    assert!(server.delivered().is_empty());
}

#[tokio::test]
async fn opportunistic_tls_upgrades_only_when_offered() {
    let (cert, _) = certificate();
    for (flags, tls) in [("starttls", true), ("", false)] {
        let server = Aiosmtpd::start(flags);
        let url = format!(
            "smtp://localhost:{}?tls=opportunistic&ca={}",
            server.port,
            cert.display()
        );
        let relay = Relay::from_url(&url).unwrap();
        let (rcpt, raw) = ascii_mail("a@example.cn");
        relay
            .send("support@kefu.example.com", &rcpt, &raw)
            .await
            .unwrap();
        assert_eq!(server.delivered()[0].tls, tls, "{flags}");
    }
}

#[tokio::test]
async fn smtps_uses_implicit_tls() {
    let server = Aiosmtpd::start("implicit");
    let (cert, _) = certificate();
    let url = format!("smtps://127.0.0.1:{}?ca={}", server.port, cert.display());
    let relay = Relay::from_url(&url).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap();
    assert!(server.delivered()[0].tls);
}

async fn send_to(rcpt: &str) -> (SendError, Aiosmtpd) {
    let server = Aiosmtpd::start("");
    let relay = Relay::from_url(&server.url()).unwrap();
    let (_, raw) = ascii_mail("a@example.cn");
    let e = relay
        .send(
            "support@kefu.example.com",
            &["a@example.cn".to_owned(), rcpt.to_owned()],
            &raw,
        )
        .await
        .unwrap_err();
    (e, server)
}

#[tokio::test]
async fn a_rejected_recipient_is_a_permanent_error_with_the_reply_text() {
    let (e, server) = send_to("reject550@example.cn").await;
    assert!(e.permanent);
    assert_eq!(e.code, Some(550));
    assert!(
        e.message.starts_with("550 ") && e.message.contains("User unknown"),
        "{e}"
    );
    assert!(
        server.delivered().is_empty(),
        "one refused recipient fails the send"
    );
}

#[tokio::test]
async fn a_greylisted_recipient_is_a_temporary_error() {
    let (e, _server) = send_to("defer451@example.cn").await;
    assert!(!e.permanent);
    assert_eq!(e.code, Some(451));
    assert!(e.message.contains("Greylisted"), "{e}");
}

#[tokio::test]
async fn a_relay_that_is_not_listening_is_a_temporary_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let relay = Relay::from_url(&format!("smtp://127.0.0.1:{port}?timeout=5")).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    let started = Instant::now();
    let e = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    assert!(!e.permanent);
    assert_eq!(e.code, None);
    assert!(e.message.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused, not timed out"
    );
}

/// What a scripted server does wrong.
#[derive(Clone, Copy, PartialEq)]
enum Script {
    /// Accepts the connection and never says a word.
    Silent,
    /// Speaks SMTP until the end of DATA, then never answers.
    HangAfterData,
    /// The first connection closes right after its first mail, as a relay cutting idle
    /// clients does; later connections behave.
    ClosesAfterFirstMail,
    /// The same, but says `421 4.4.2 Idle timeout` first (read as the reply to the next
    /// command on that connection).
    Says421AfterFirstMail,
}

struct Scripted {
    port: u16,
    connections: Arc<AtomicUsize>,
    delivered: Arc<AtomicUsize>,
}

async fn scripted(script: Script) -> Scripted {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(AtomicUsize::new(0));
    let (c, d) = (connections.clone(), delivered.clone());
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let index = c.fetch_add(1, Ordering::SeqCst);
            let delivered = d.clone();
            tokio::spawn(async move {
                if script == Script::Silent {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    drop(socket);
                    return;
                }
                let (read, mut write) = socket.into_split();
                let mut lines = tokio::io::BufReader::new(read).lines();
                write.write_all(b"220 fake.test ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let line = line.trim_end_matches('\r');
                    if in_data {
                        if line == "." {
                            in_data = false;
                            if script == Script::HangAfterData {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                            }
                            let n = delivered.fetch_add(1, Ordering::SeqCst) + 1;
                            let reply = format!("250 2.0.0 queued as FAKE{n}\r\n");
                            write.write_all(reply.as_bytes()).await.unwrap();
                            if index == 0 && script == Script::Says421AfterFirstMail {
                                let bye = b"421 4.4.2 fake.test Idle timeout, closing\r\n";
                                let _ = write.write_all(bye).await;
                            }
                            if index == 0
                                && matches!(
                                    script,
                                    Script::ClosesAfterFirstMail | Script::Says421AfterFirstMail
                                )
                            {
                                return;
                            }
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-fake.test\r\n250-8BITMIME\r\n250 PIPELINING\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                            return;
                        }
                        _ => b"250 2.0.0 OK\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Scripted {
        port,
        connections,
        delivered,
    }
}

async fn assert_times_out(script: Script) {
    let server = scripted(script).await;
    let relay = Relay::from_url(&format!("smtp://127.0.0.1:{}?timeout=0.5", server.port)).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    let started = Instant::now();
    let e = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(!e.permanent);
    assert!(e.message.contains("timed out"), "{e}");
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "no retry after a timeout"
    );
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_configured_time() {
    assert_times_out(Script::Silent).await;
}

#[tokio::test]
async fn a_server_hanging_after_data_times_out_within_the_configured_time() {
    assert_times_out(Script::HangAfterData).await;
}

#[tokio::test]
async fn after_a_timeout_the_next_send_does_not_reuse_the_stuck_connection() {
    let server = scripted(Script::HangAfterData).await;
    let relay = Relay::from_url(&format!("smtp://127.0.0.1:{}?timeout=0.5", server.port)).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    tokio::time::sleep(Duration::from_millis(100)).await;
    relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_err();
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

async fn assert_retried_on_a_fresh_connection(script: Script) {
    let server = scripted(script).await;
    let relay = Relay::from_url(&format!("smtp://127.0.0.1:{}?timeout=5", server.port)).unwrap();
    let (rcpt, raw) = ascii_mail("a@example.cn");
    let first = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap();
    assert!(!first.retried);
    // Let the server's close (and 421) reach us before the connection is reused.
    tokio::time::sleep(Duration::from_millis(50)).await;

    let second = relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap();
    assert!(second.retried, "the pooled connection failed first");
    assert_eq!(second.message, "2.0.0 queued as FAKE2");
    assert_eq!(server.delivered.load(Ordering::SeqCst), 2);
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_pooled_connection_the_relay_closed_is_retried_on_a_fresh_one() {
    assert_retried_on_a_fresh_connection(Script::ClosesAfterFirstMail).await;
}

#[tokio::test]
async fn a_pooled_connection_the_relay_timed_out_with_421_is_retried_on_a_fresh_one() {
    assert_retried_on_a_fresh_connection(Script::Says421AfterFirstMail).await;
}

#[test]
fn the_python_server_script_is_valid() {
    // A syntax error in SERVER_PY would otherwise show up as "did not start" everywhere.
    let out = Command::new("python3")
        .args(["-c", "import ast, sys; ast.parse(sys.stdin.read())"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(SERVER_PY.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3 is required for the relay tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
