//! kefu's SMTP/LMTP listener against real clients: Python's `smtplib`, `swaks`, and a raw
//! socket where no client speaks the feature (BDAT, abuse limits).

mod support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use kefu_mail::Source;
use kefu_mail::listener::{ListenerConfig, Protocol, load_tls, serve};
use support::{
    LogCapture, RecordingSink, SUPPORT, TempDir, make_certs, permanent, require, temporary,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(10);

struct Server {
    addr: SocketAddr,
    sink: Arc<RecordingSink>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(config: ListenerConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sink = RecordingSink::new();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, config, sink.clone(), async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            sink,
            stop: Some(stop),
            task,
        }
    }

    fn port(&self) -> String {
        self.addr.port().to_string()
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = tokio::time::timeout(WAIT, &mut self.task).await;
        served
            .expect("serve() ends after shutdown")
            .unwrap()
            .unwrap();
    }
}

fn smtp() -> ListenerConfig {
    let mut config = ListenerConfig::new(Protocol::Smtp, "mx.kefu.test");
    config.max_message_bytes = 64 * 1024;
    config
}

fn lmtp() -> ListenerConfig {
    let mut config = ListenerConfig::new(Protocol::Lmtp, "lmtp.kefu.test");
    config.max_message_bytes = 64 * 1024;
    config
}

/// Sends stdin as one mail with smtplib. argv: port, sender, rcpts (comma-separated),
/// MAIL options (comma-separated). Prints what the client saw.
const PY_SEND: &str = r#"
import smtplib, sys
port, sender = int(sys.argv[1]), sys.argv[2]
rcpts = sys.argv[3].split(',')
opts = [o for o in sys.argv[4].split(',') if o]
msg = sys.stdin.buffer.read()
try:
    with smtplib.SMTP('127.0.0.1', port, local_hostname='client.example', timeout=20) as s:
        s.ehlo()
        print('FEATURES', ' '.join(sorted(s.esmtp_features)))
        refused = s.sendmail(sender, rcpts, msg, mail_options=opts)
        print('SENT', ' '.join(f'{r}={c}' for r, (c, _) in sorted(refused.items())))
except smtplib.SMTPRecipientsRefused as e:
    print('RCPT-REFUSED', ' '.join(f'{r}={c}' for r, (c, _) in sorted(e.recipients.items())))
except smtplib.SMTPSenderRefused as e:
    print('SENDER-REFUSED', e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPDataError as e:
    print('DATA-ERROR', e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPServerDisconnected as e:
    print('DISCONNECTED', e)
"#;

async fn python(script: &str, args: &[&str], stdin: &[u8]) -> String {
    require("python3");
    let mut child = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("python3 finishes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python3 failed:\n{stdout}\n{stderr}");
    stdout
}

async fn send(server: &Server, sender: &str, rcpts: &str, opts: &str, msg: &[u8]) -> String {
    python(PY_SEND, &[&server.port(), sender, rcpts, opts], msg).await
}

async fn swaks(args: &[&str]) -> (bool, String) {
    require("swaks");
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("swaks")
            .args(args)
            .args(["--timeout", "20", "--helo", "client.example"])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("swaks finishes")
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

const CHINESE_MAIL: &str = "From: =?UTF-8?B?5p2O5aic?= <li.na@example.cn>\r\n\
To: support@acme.example\r\n\
Subject: =?UTF-8?B?6K6i5Y2V6Zeu6aKY?=\r\n\
Message-ID: <order-1@example.cn>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
您好，我的订单 #1024 还没有发货。\r\n\
请帮我查一下，谢谢！\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_delivers_a_chinese_8bit_mail_byte_for_byte() {
    let server = Server::start(smtp()).await;
    let out = send(
        &server,
        "li.na@example.cn",
        SUPPORT,
        "BODY=8BITMIME",
        CHINESE_MAIL.as_bytes(),
    )
    .await;
    assert!(
        out.contains("SENT \n") || out.trim_end().ends_with("SENT"),
        "{out}"
    );
    for feature in [
        "8bitmime",
        "smtputf8",
        "pipelining",
        "size",
        "enhancedstatuscodes",
    ] {
        assert!(out.contains(feature), "EHLO lacks {feature}: {out}");
    }
    assert!(
        !out.contains("starttls"),
        "STARTTLS offered without TLS: {out}"
    );

    let delivered = server.sink.wait_for(1, WAIT).await;
    let mail = &delivered[0];
    assert_eq!(mail.envelope.mail_from.as_deref(), Some("li.na@example.cn"));
    assert_eq!(mail.envelope.rcpt_to, vec![SUPPORT.to_string()]);
    assert_eq!(mail.envelope.source, Source::Smtp);
    assert_eq!(mail.envelope.peer.map(|p| p.ip()), Some(server.addr.ip()));
    // A trace header is prepended; the mail itself arrives untouched.
    assert!(mail.raw.starts_with(
        b"Received: from client.example ([127.0.0.1])\r\n\tby mx.kefu.test (kefu) with ESMTP id "
    ));
    assert!(mail.text().contains("\tfor <support@acme.example>;\r\n"));
    assert!(
        mail.raw.ends_with(CHINESE_MAIL.as_bytes()),
        "{}",
        mail.text()
    );
    let header_end = mail.raw.len() - CHINESE_MAIL.len();
    let received = &mail.text()[..header_end];
    assert_eq!(received.matches("\r\n").count(), 4, "{received}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtputf8_senders_and_plus_addresses_are_accepted() {
    let server = Server::start(smtp()).await;
    let msg = "From: 李娜 <李娜@例子.中国>\r\nTo: support+vip@acme.example\r\nSubject: 你好\r\n\r\n正文\r\n";
    let out = send(
        &server,
        "李娜@例子.中国",
        "support+vip@acme.example",
        "SMTPUTF8,BODY=8BITMIME",
        msg.as_bytes(),
    )
    .await;
    assert!(out.contains("SENT"), "{out}");
    let mail = &server.sink.wait_for(1, WAIT).await[0];
    assert_eq!(mail.envelope.mail_from.as_deref(), Some("李娜@例子.中国"));
    assert_eq!(
        mail.envelope.rcpt_to,
        vec!["support+vip@acme.example".to_string()]
    );
    assert!(mail.text().contains("with UTF8SMTP id"), "{}", mail.text());
    assert!(mail.raw.ends_with(msg.as_bytes()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_stuffed_lines_arrive_unstuffed() {
    let server = Server::start(smtp()).await;
    let msg = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n. space\r\nend\r\n";
    let out = send(&server, "a@example.com", SUPPORT, "", msg.as_bytes()).await;
    assert!(out.contains("SENT"), "{out}");
    let mail = &server.sink.wait_for(1, WAIT).await[0];
    assert!(mail.raw.ends_with(msg.as_bytes()), "{}", mail.text());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_mail_is_refused_with_552_at_mail_and_at_data() {
    let server = Server::start(smtp()).await;
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(100 * 1024));
    // smtplib announces SIZE=…, so the refusal comes at MAIL FROM.
    let out = send(&server, "a@example.com", SUPPORT, "", big.as_bytes()).await;
    assert!(out.contains("SENDER-REFUSED 552 5.3.4"), "{out}");

    // Without SIZE the data is read to the end, refused, and the session goes on.
    let script = r#"
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=20)
s.ehlo()
print('MAIL', s.mail('a@example.com')[0])
print('RCPT', s.rcpt('support@acme.example')[0])
code, text = s.data(sys.stdin.buffer.read())
print('DATA', code, text.decode())
print('NOOP', s.noop()[0])
print('AGAIN', s.sendmail('a@example.com', ['support@acme.example'], b'Subject: small\r\n\r\nok\r\n'))
s.quit()
"#;
    let out = python(script, &[&server.port()], big.as_bytes()).await;
    assert!(out.contains("DATA 552 5.3.4"), "{out}");
    assert!(out.contains("NOOP 250"), "{out}");
    assert!(out.contains("AGAIN {}"), "{out}");
    let delivered = server.sink.wait_for(1, WAIT).await;
    assert_eq!(delivered.len(), 1);
    assert!(delivered[0].text().contains("Subject: small"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_recipients_get_550_and_the_others_still_get_the_mail() {
    let server = Server::start(smtp()).await;
    let msg = b"Subject: hi\r\n\r\nhello\r\n";
    let out = send(&server, "a@example.com", "nobody@acme.example", "", msg).await;
    assert!(
        out.contains("RCPT-REFUSED nobody@acme.example=550"),
        "{out}"
    );

    let out = send(
        &server,
        "a@example.com",
        "nobody@acme.example,support+2@acme.example,support@other.example",
        "",
        msg,
    )
    .await;
    assert!(
        out.contains("SENT nobody@acme.example=550 support@other.example=550"),
        "{out}"
    );
    let delivered = server.sink.wait_for(1, WAIT).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].envelope.rcpt_to,
        vec!["support+2@acme.example".to_string()]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_failures_become_451_or_554_and_the_client_sees_them() {
    let server = Server::start(smtp()).await;
    server
        .sink
        .fail_when("Subject: later", temporary("database is locked"), 1);
    server
        .sink
        .fail_when("Subject: never", permanent("mailbox disabled"), 1);
    let out = send(
        &server,
        "a@example.com",
        SUPPORT,
        "",
        b"Subject: later\r\n\r\nx\r\n",
    )
    .await;
    assert!(out.contains("DATA-ERROR 451 4.3.0"), "{out}");
    assert!(!out.contains("database"), "internal detail leaked: {out}");
    let out = send(
        &server,
        "a@example.com",
        SUPPORT,
        "",
        b"Subject: never\r\n\r\nx\r\n",
    )
    .await;
    assert!(
        out.contains("DATA-ERROR 554 5.6.0 Message rejected: mailbox disabled"),
        "{out}"
    );
    // The sender retries the temporary failure, and now it goes through.
    let out = send(
        &server,
        "a@example.com",
        SUPPORT,
        "",
        b"Subject: later\r\n\r\nx\r\n",
    )
    .await;
    assert!(out.contains("SENT"), "{out}");
    assert_eq!(server.sink.wait_for(1, WAIT).await.len(), 1);
    assert_eq!(server.sink.attempts(), 3);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_errors_rset_vrfy_and_helo_behave_like_rfc_5321() {
    let server = Server::start(smtp()).await;
    let script = r#"
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=20)
print('EARLY-MAIL', s.docmd('MAIL FROM:<a@example.com>')[0])
print('HELO', s.helo()[0])
print('RCPT-FIRST', s.docmd('RCPT TO:<support@acme.example>')[0])
print('DATA-FIRST', s.docmd('DATA')[0])
print('MAIL', s.mail('a@example.com')[0])
print('NESTED', s.docmd('MAIL FROM:<b@example.com>')[0])
print('RCPT', s.rcpt('support@acme.example')[0])
print('RSET', s.rset()[0])
print('DATA-AFTER-RSET', s.docmd('DATA')[0])
print('VRFY', s.verify('support')[0])
print('UNKNOWN', s.docmd('FROBNICATE')[0])
print('AUTH', s.docmd('AUTH PLAIN AGZvbwBiYXI=')[0])
print('NOOP', s.noop()[0])
print('LHLO', s.docmd('LHLO client.example')[0])
print('SENT', s.sendmail('', ['support@acme.example'], b'Subject: bounce\r\n\r\nx\r\n'))
print('QUIT', s.quit()[0])
"#;
    let out = python(script, &[&server.port()], b"").await;
    for expected in [
        "EARLY-MAIL 503",
        "HELO 250",
        "RCPT-FIRST 503",
        "DATA-FIRST 503",
        "MAIL 250",
        "NESTED 503",
        "RCPT 250",
        "RSET 250",
        "DATA-AFTER-RSET 503",
        "VRFY 252",
        "UNKNOWN 500",
        "AUTH 502",
        "NOOP 250",
        "LHLO 500",
        "SENT {}",
        "QUIT 221",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let mail = &server.sink.wait_for(1, WAIT).await[0];
    // The null sender `<>` (a bounce) has no address.
    assert_eq!(mail.envelope.mail_from, None);
    assert!(mail.text().contains(" with SMTP id "), "HELO is plain SMTP");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_pipelines_a_bounce_with_the_null_sender() {
    let server = Server::start(smtp()).await;
    let (ok, out) = swaks(&[
        "--server",
        "127.0.0.1",
        "--port",
        &server.port(),
        "--pipeline",
        "--from",
        "<>",
        "--to",
        "support+bounces@acme.example",
        "--header",
        "Subject: Undelivered Mail Returned to Sender",
    ])
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("PIPELINING"), "{out}");
    let mail = &server.sink.wait_for(1, WAIT).await[0];
    assert_eq!(mail.envelope.mail_from, None);
    assert_eq!(
        mail.envelope.rcpt_to,
        vec!["support+bounces@acme.example".to_string()]
    );
    assert!(
        mail.text()
            .contains("Subject: Undelivered Mail Returned to Sender")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_over_lmtp_gets_one_reply_per_recipient() {
    let server = Server::start(lmtp()).await;
    let (ok, out) = swaks(&[
        "--protocol",
        "LMTP",
        "--server",
        "127.0.0.1",
        "--port",
        &server.port(),
        "--from",
        "customer@example.com",
        "--to",
        "support@acme.example,support+billing@acme.example",
        "--header",
        "Subject: LMTP test",
    ])
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("LHLO client.example"), "{out}");
    assert!(
        out.contains("250 2.1.5 <support@acme.example> delivered"),
        "{out}"
    );
    assert!(
        out.contains("250 2.1.5 <support+billing@acme.example> delivered"),
        "{out}"
    );
    let mail = &server.sink.wait_for(1, WAIT).await[0];
    assert_eq!(mail.envelope.source, Source::Lmtp);
    assert_eq!(
        mail.envelope.rcpt_to,
        vec![
            "support@acme.example".to_string(),
            "support+billing@acme.example".to_string()
        ]
    );
    assert!(mail.text().contains(" with LMTP id "));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lmtp_failures_are_reported_per_recipient_and_ehlo_is_refused() {
    let server = Server::start(lmtp()).await;
    server
        .sink
        .fail_when("Subject: LMTP", temporary("store down"), 1);
    let port = server.port();
    let (ok, out) = swaks(&[
        "--protocol",
        "LMTP",
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--from",
        "customer@example.com",
        "--to",
        "support@acme.example,support+x@acme.example",
        "--header",
        "Subject: LMTP",
    ])
    .await;
    assert!(!ok, "{out}");
    assert_eq!(out.matches("<** 451 4.3.0").count(), 2, "{out}");

    let (ok, out) = swaks(&[
        "--protocol",
        "ESMTP",
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--to",
        SUPPORT,
    ])
    .await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("500 5.5.1 This is an LMTP server, use LHLO"),
        "{out}"
    );
    assert!(server.sink.deliveries().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_upgrades_with_starttls_and_the_mail_is_marked_esmtps() {
    let dir = TempDir::new("smtp-tls");
    let certs = make_certs(dir.path());
    let mut config = smtp();
    config.tls = Some(load_tls(&certs.cert, &certs.key).unwrap());
    let server = Server::start(config).await;
    let (ok, out) = swaks(&[
        "--server",
        "127.0.0.1",
        "--port",
        &server.port(),
        "--tls",
        "--from",
        "a@example.com",
        "--to",
        SUPPORT,
        "--header",
        "Subject: secret",
    ])
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("220 2.0.0 Ready to start TLS"), "{out}");
    assert!(out.contains("=== TLS started with cipher TLSv1."), "{out}");
    let mail = &server.sink.wait_for(1, WAIT).await[0];
    assert!(mail.text().contains(" with ESMTPS id "), "{}", mail.text());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_tell_what_happened_but_never_show_a_body() {
    let logs = LogCapture::start();
    let server = Server::start(smtp()).await;
    server
        .sink
        .fail_when("Subject: later", temporary("store busy"), 1);
    let body = "Subject: later\r\n\r\nmy card number is 4111-1111\r\n";
    let out = send(&server, "a@example.com", SUPPORT, "", body.as_bytes()).await;
    assert!(out.contains("DATA-ERROR 451"), "{out}");
    let out = send(&server, "a@example.com", SUPPORT, "", body.as_bytes()).await;
    assert!(out.contains("SENT"), "{out}");
    server.shutdown().await;

    let text = logs.text();
    assert!(text.contains("delivery failed temporarily"), "{text}");
    assert!(text.contains("store busy"), "{text}");
    assert!(text.contains("message accepted"), "{text}");
    assert!(text.contains("mail listener stopped"), "{text}");
    assert!(!text.contains("4111"), "a body reached the log:\n{text}");
}

#[test]
fn load_tls_reports_missing_or_empty_files() {
    let dir = TempDir::new("tls-bad");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.pem");
    let err = load_tls(&missing, &empty).unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    let err = load_tls(&empty, &empty).unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

/// A minimal client for what no installed client speaks.
struct Raw {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn connect(server: &Server) -> Raw {
        let (read, writer) = TcpStream::connect(server.addr).await.unwrap().into_split();
        let mut raw = Raw {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = raw.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        raw
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// One (possibly multi-line) reply; "" at EOF.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
                .await
                .expect("a reply in time")
                .unwrap();
            all.push_str(&line);
            if n == 0 || line.as_bytes().get(3) == Some(&b' ') {
                return all;
            }
        }
    }

    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(WAIT, self.reader.read_to_end(&mut rest)).await,
            Ok(Ok(0))
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bdat_chunks_are_joined_and_pipelined_commands_answered_in_order() {
    let server = Server::start(smtp()).await;
    let mut c = Raw::connect(&server).await;
    c.send(b"EHLO raw.example\r\n").await;
    assert!(c.reply().await.contains("CHUNKING"));
    // Everything in one write: BDAT data may contain CRLF.CRLF and command-like text.
    let (first, last) = ("Subject: b\r\n\r\n.\r\nQUIT\r\n", "end\r\n\r\n");
    let pipelined = format!(
        "MAIL FROM:<a@example.com>\r\nRCPT TO:<support@acme.example>\r\n\
         BDAT {}\r\n{first}BDAT {} LAST\r\n{last}NOOP\r\n",
        first.len(),
        last.len()
    );
    c.send(pipelined.as_bytes()).await;
    assert!(c.reply().await.starts_with("250 2.1.0"));
    assert!(c.reply().await.starts_with("250 2.1.5"));
    let chunk = c.reply().await;
    assert!(
        chunk.starts_with(&format!("250 2.0.0 {} octets", first.len())),
        "{chunk}"
    );
    assert!(c.reply().await.starts_with("250 2.0.0 OK queued"));
    assert!(c.reply().await.starts_with("250 2.0.0 OK"));
    let mail = &server.sink.wait_for(1, WAIT).await[0];
    assert!(
        mail.raw
            .ends_with(b"Subject: b\r\n\r\n.\r\nQUIT\r\nend\r\n\r\n"),
        "{}",
        mail.text()
    );
    // BDAT without a transaction is refused, but its bytes are still skipped.
    c.send(b"BDAT 6 LAST\r\nRSET\r\nNOOP\r\n").await;
    assert!(c.reply().await.starts_with("503 5.5.1"));
    assert!(c.reply().await.starts_with("250 2.0.0 OK"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_bdat_chunk_is_skipped_and_refused() {
    let mut config = smtp();
    config.max_message_bytes = 10;
    let server = Server::start(config).await;
    let mut c = Raw::connect(&server).await;
    c.send(b"EHLO raw.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<support@acme.example>\r\n")
        .await;
    c.reply().await;
    c.reply().await;
    c.reply().await;
    c.send(b"BDAT 20 LAST\r\n01234567890123456789NOOP\r\n")
        .await;
    assert!(c.reply().await.starts_with("552 5.3.4"));
    assert!(c.reply().await.starts_with("250 2.0.0 OK"));
    assert!(server.sink.deliveries().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_keeps_erring_is_disconnected() {
    let server = Server::start(smtp()).await;
    let mut c = Raw::connect(&server).await;
    let mut line = vec![b'A'; 10_000];
    line.extend_from_slice(b"\r\n");
    c.send(&line).await;
    assert!(c.reply().await.starts_with("500 5.5.2 Line too long"));
    for _ in 0..18 {
        c.send(b"GARBAGE\r\n").await;
        assert!(c.reply().await.starts_with("500 5.5.2"));
    }
    c.send(b"GARBAGE\r\n").await;
    let last = c.reply().await;
    assert!(last.starts_with("500 5.5.2"), "{last}");
    assert!(c.reply().await.starts_with("421 4.7.0"));
    assert!(c.closed().await);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_client_is_dropped_with_421() {
    let mut config = smtp();
    config.idle_timeout = Duration::from_millis(300);
    let server = Server::start(config).await;
    let mut c = Raw::connect(&server).await;
    c.send(b"EHLO raw.example\r\n").await;
    c.reply().await;
    assert!(c.reply().await.starts_with("421 4.4.2"));
    assert!(c.closed().await);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_sink_kills_one_connection_not_the_listener() {
    let server = Server::start(smtp()).await;
    server.sink.panic_when("Subject: boom");
    let mut idle = Raw::connect(&server).await;
    let out = send(
        &server,
        "a@example.com",
        SUPPORT,
        "",
        b"Subject: boom\r\n\r\nx\r\n",
    )
    .await;
    assert!(out.contains("DISCONNECTED"), "{out}");
    let out = send(
        &server,
        "a@example.com",
        SUPPORT,
        "",
        b"Subject: fine\r\n\r\nx\r\n",
    )
    .await;
    assert!(out.contains("SENT"), "{out}");
    idle.send(b"NOOP\r\n").await;
    assert!(idle.reply().await.starts_with("250"));
    assert_eq!(server.sink.wait_for(1, WAIT).await.len(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_tells_waiting_clients_421_and_serve_returns() {
    let server = Server::start(smtp()).await;
    let mut c = Raw::connect(&server).await;
    c.send(b"EHLO raw.example\r\n").await;
    c.reply().await;
    let addr = server.addr;
    server.shutdown().await;
    assert!(c.reply().await.starts_with("421 4.3.2"));
    assert!(c.closed().await);
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_turned_away() {
    let mut config = smtp();
    config.max_connections = 1;
    let server = Server::start(config).await;
    let mut first = Raw::connect(&server).await;
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    let mut reply = String::new();
    tokio::time::timeout(WAIT, second.read_to_string(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert!(reply.starts_with("421 4.7.0"), "{reply}");
    first.send(b"QUIT\r\n").await;
    assert!(first.reply().await.starts_with("221"));
    server.shutdown().await;
}
