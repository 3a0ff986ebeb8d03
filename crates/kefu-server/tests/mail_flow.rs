//! The email channel end to end, with real peers: customers' mail is submitted to kefu's
//! SMTP listener by Python's `smtplib`; kefu's replies and acknowledgements go through
//! its relay client to a real SMTP receiver (Python's `aiosmtpd`, writing a Maildir),
//! where the test reads them back as a mail client would.
//!
//! Runs on SQLite by default and on PostgreSQL with `KEFU_TEST_DB=postgres`.

mod common;

use common::*;
use kefu_domain::*;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A real SMTP receiver: `python3 -m aiosmtpd` with the Maildir handler.
struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sink {
    fn start() -> Sink {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("kefu-sink-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd==1.4.6) is needed for this test");
        let sink = Sink { child, port, dir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return sink;
            }
            std::thread::sleep(Duration::from_millis(50)); // before the runtime needs it
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Every mail received so far, as raw bytes, oldest first.
    fn mails(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.dir.join("maildir").join(sub)) {
                for e in rd.flatten() {
                    let t = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    files.push((t, e.path()));
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read(p).unwrap())
            .collect()
    }

    async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        for _ in 0..200 {
            let m = self.mails();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} mails at the sink, got {}", self.mails().len());
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Submits `raw` over SMTP with Python's smtplib; `Err` carries the SMTP error.
async fn smtp_send(addr: SocketAddr, from: &str, to: &[&str], raw: &[u8]) -> Result<(), String> {
    let script = r#"
import smtplib, sys
host, port, sender = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rcpts = sys.argv[4:]
data = sys.stdin.buffer.read()
try:
    with smtplib.SMTP(host, port, timeout=20) as s:
        s.sendmail(sender, rcpts, data)
except smtplib.SMTPRecipientsRefused as e:
    print("refused", e.recipients, file=sys.stderr); sys.exit(2)
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error, file=sys.stderr); sys.exit(3)
"#;
    let mut child = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .arg(from)
        .args(to)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(raw).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

async fn app_with_mail(relay: Option<String>) -> TestApp {
    spawn_app_with(|c| {
        c.smtp_listen = Some("127.0.0.1:0".parse().unwrap());
        c.mail.relay_url = relay;
    })
    .await
}

async fn mailbox(app: &TestApp, admin: &TestAgent, address: &str, auto_ack: bool) -> Value {
    let r = app
        .api(admin)
        .post(
            "/api/v1/mailboxes",
            &json!({"address": address, "name": "Acme 客服", "auto_ack": auto_ack}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// The tickets whose requester has this email, newest first.
async fn tickets_of(app: &TestApp, email: &str) -> Vec<Ticket> {
    let Some(c) = app
        .store
        .find_customer_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
    else {
        return Vec::new();
    };
    app.store
        .list_tickets(
            &kefu_store::TicketFilter {
                requester_id: Some(c.id),
                ..Default::default()
            },
            None,
            100,
        )
        .await
        .unwrap()
        .items
}

fn header<'a>(m: &'a kefu_mail::ParsedMail, name: &str) -> Option<&'a str> {
    m.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

#[tokio::test]
async fn a_mailed_request_becomes_a_ticket_and_the_conversation_stays_in_one_thread() {
    let sink = Sink::start();
    let app = app_with_mail(Some(sink.url())).await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", true).await;
    let smtp = app.smtp.unwrap();

    // A customer writes in GBK (labelled gb2312, with GBK-only characters), with an attachment.
    let body_gbk: Vec<u8> = {
        // "您好，朱镕基的打印机坏了。" in GBK.
        let (b, _, _) = encoding_gbk("您好，朱镕基的打印机坏了。");
        b
    };
    let mut raw = Vec::new();
    raw.extend_from_slice(
        b"From: =?UTF-8?B?5p2O5aic?= <li.na@customer.example>\r\n\
To: Acme Support <support@acme.example>\r\n\
Subject: =?UTF-8?B?5omT5Y2w5py65Z2P5LqG?=\r\n\
Message-ID: <first-1@customer.example>\r\n\
Date: Wed, 25 Nov 2026 10:00:00 +0800\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    raw.extend_from_slice(&body_gbk);
    raw.extend_from_slice(
        b"\r\n--b1\r\nContent-Type: text/plain; name=\"log.txt\"\r\n\
Content-Disposition: attachment; filename=\"log.txt\"\r\n\r\nerror 42\r\n--b1--\r\n",
    );
    smtp_send(
        smtp,
        "li.na@customer.example",
        &["support@acme.example"],
        &raw,
    )
    .await
    .unwrap();

    let tickets = tickets_of(&app, "li.na@customer.example").await;
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    assert_eq!(t.channel, Channel::Email);
    assert_eq!(t.subject.as_str(), "打印机坏了");
    let messages = app.store.list_messages(t.id, true).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].body_text.contains("朱镕基的打印机坏了"),
        "{}",
        messages[0].body_text
    );
    assert_eq!(messages[0].attachments.len(), 1);
    let customer = app
        .store
        .find_customer_by_email(&Email::parse("li.na@customer.example").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(customer.name, "李娜");
    assert_eq!(customer.language, Lang::ZhCn);

    // The attachment downloads over the API; the original mail too.
    let api = app.api(&admin);
    let att = api
        .get(&format!(
            "/api/v1/attachments/{}",
            messages[0].attachments[0].id
        ))
        .await;
    assert_eq!(att.status, 200);
    assert_eq!(att.text.trim_end(), "error 42");
    let raw_back = api
        .get(&format!("/api/v1/messages/{}/raw", messages[0].id))
        .await;
    assert_eq!(raw_back.status, 200);
    assert!(raw_back.text.contains("first-1@customer.example"));

    // The acknowledgement arrives, in Chinese, marked automatic, in the thread.
    let mails = sink.wait_for(1).await;
    let parsed_ack = kefu_mail::parse::parse(&mails[0]);
    assert_eq!(header(&parsed_ack, "Auto-Submitted"), Some("auto-replied"));
    assert_eq!(
        parsed_ack.in_reply_to,
        vec!["first-1@customer.example".to_string()]
    );
    assert!(
        parsed_ack.text.contains("我们已收到您的请求"),
        "{}",
        parsed_ack.text
    );
    assert!(
        parsed_ack.subject.contains(&format!("[#{}]", t.number)),
        "{}",
        parsed_ack.subject
    );

    // The agent replies in the API; the customer gets it in the same thread.
    let r = api
        .post(
            &format!("/api/v1/tickets/{}/messages", t.id),
            &json!({"body": "请重启打印机后再试。", "public": true, "status": "pending"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["email"]["delivery_status"], "queued");
    let reply_id = MessageId(r.body["id"].as_i64().unwrap());
    let mails = sink.wait_for(2).await;
    let reply = kefu_mail::parse::parse(&mails[1]);
    assert!(reply.text.contains("请重启打印机后再试。"));
    assert!(
        reply.text.contains("> 您好，朱镕基的打印机坏了。"),
        "quoted history: {}",
        reply.text
    );
    assert_eq!(
        reply.in_reply_to,
        vec!["first-1@customer.example".to_string()]
    );
    assert!(
        reply
            .references
            .contains(&"first-1@customer.example".to_string())
    );
    assert_eq!(reply.to[0].email, "li.na@customer.example");
    assert_eq!(reply.from.as_ref().unwrap().email, "support@acme.example");
    let reply_to = reply.reply_to.as_ref().unwrap().email.clone();
    assert!(
        reply_to.starts_with(&format!("support+t{}-", t.id)),
        "{reply_to}"
    );
    assert_eq!(reply.subject, format!("Re: [#{}] 打印机坏了", t.number));
    // Its delivery state is shown on the message.
    let mut sent = false;
    for _ in 0..100 {
        let m = app.store.get_message(reply_id).await.unwrap().unwrap();
        if m.email.as_ref().unwrap().delivery == Some(DeliveryStatus::Sent) {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent, "the reply is marked sent");

    // The customer answers the reply from their mail client: same ticket, reopened.
    let answer = format!(
        "From: li.na@customer.example\r\nTo: {reply_to}\r\nSubject: Re: {}\r\n\
Message-ID: <answer-2@customer.example>\r\nIn-Reply-To: <{}>\r\nReferences: <first-1@customer.example> <{}>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n重启以后好了，谢谢！\r\n\r\n> 请重启打印机后再试。\r\n",
        reply.subject,
        reply.message_id.clone().unwrap(),
        reply.message_id.clone().unwrap()
    );
    smtp_send(
        smtp,
        "li.na@customer.example",
        &[&reply_to],
        answer.as_bytes(),
    )
    .await
    .unwrap();
    let tickets = tickets_of(&app, "li.na@customer.example").await;
    assert_eq!(tickets.len(), 1, "the answer joins the ticket");
    assert_eq!(
        tickets[0].status,
        Status::Open,
        "a customer's answer reopens pending"
    );
    let messages = app.store.list_messages(t.id, true).await.unwrap();
    assert_eq!(messages.len(), 3);
    assert!(messages[2].body_text.contains("重启以后好了"));

    // The same mail delivered twice is stored once.
    smtp_send(
        smtp,
        "li.na@customer.example",
        &[&reply_to],
        answer.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(app.store.list_messages(t.id, true).await.unwrap().len(), 3);
    // No acknowledgement for answers: still two mails plus none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.mails().len(), 2);
}

/// `s` in GBK (the test's own tiny encoder through Python, which ships the codec).
fn encoding_gbk(s: &str) -> (Vec<u8>, (), ()) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; sys.stdout.buffer.write(sys.argv[1].encode('gbk'))",
            s,
        ])
        .output()
        .expect("python3");
    (out.stdout, (), ())
}

#[tokio::test]
async fn unknown_recipients_are_refused_at_rcpt() {
    let app = app_with_mail(None).await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", false).await;
    let err = smtp_send(
        app.smtp.unwrap(),
        "x@customer.example",
        &["sales@acme.example"],
        b"Subject: hi\r\n\r\nhello\r\n",
    )
    .await
    .unwrap_err();
    assert!(err.contains("refused"), "{err}");
    // Plus-addresses of a mailbox are accepted.
    smtp_send(
        app.smtp.unwrap(),
        "x@customer.example",
        &["support+anything@acme.example"],
        b"From: x@customer.example\r\nSubject: hi\r\n\r\nhello\r\n",
    )
    .await
    .unwrap();
    assert_eq!(tickets_of(&app, "x@customer.example").await.len(), 1);
}

#[tokio::test]
async fn threading_by_token_reference_and_subject_and_never_by_a_strangers_subject() {
    let app = app_with_mail(None).await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", false).await;
    let smtp = app.smtp.unwrap();
    async fn send_to(smtp: SocketAddr, from: &str, to: &str, headers: &str, body: &str) {
        let raw = format!("From: {from}\r\nTo: {to}\r\n{headers}\r\n{body}\r\n");
        smtp_send(smtp, from, &[to], raw.as_bytes()).await.unwrap();
    }
    send_to(
        smtp,
        "a@c.example",
        "support@acme.example",
        "Subject: Order 1\r\nMessage-ID: <a1@c.example>\r\n",
        "first",
    )
    .await;
    let t = tickets_of(&app, "a@c.example").await.remove(0);

    // 1. Reply token only (no threading headers, different subject).
    let token = kefu_domain::mail::reply_address(
        &Email::parse("support@acme.example").unwrap(),
        t.id,
        &app.state.mail_keys.reply_signature(t.id),
    );
    send_to(
        smtp,
        "a@c.example",
        &token,
        "Subject: something else\r\n",
        "by token",
    )
    .await;
    // A forged token (wrong signature) does not thread.
    let forged = format!("support+t{}-0000000000@acme.example", t.id);
    send_to(
        smtp,
        "a@c.example",
        &forged,
        "Subject: forged\r\n",
        "forged token",
    )
    .await;
    // 2. References only.
    send_to(
        smtp,
        "a@c.example",
        "support@acme.example",
        "Subject: x\r\nReferences: <zzz@x> <a1@c.example>\r\n",
        "by reference",
    )
    .await;
    // 3. Subject token from the requester.
    send_to(
        smtp,
        "a@c.example",
        "support@acme.example",
        &format!("Subject: Re: [#{}] Order 1\r\n", t.number),
        "by subject",
    )
    .await;
    // ...but not from a stranger.
    send_to(
        smtp,
        "stranger@evil.example",
        "support@acme.example",
        &format!("Subject: Re: [#{}] Order 1\r\n", t.number),
        "stranger",
    )
    .await;

    let bodies: Vec<String> = app
        .store
        .list_messages(t.id, true)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body_text.trim().to_string())
        .collect();
    assert_eq!(bodies, ["first", "by token", "by reference", "by subject"]);
    assert_eq!(
        tickets_of(&app, "a@c.example").await.len(),
        2,
        "the forged token opened its own ticket"
    );
    assert_eq!(tickets_of(&app, "stranger@evil.example").await.len(), 1);

    // A reply to a closed ticket opens a linked follow-up.
    app.store
        .update_ticket(
            t.id,
            &TicketPatch {
                status: Some(Status::Solved),
                ..Default::default()
            },
            Actor::Agent(admin.id()),
        )
        .await
        .unwrap();
    app.store
        .update_ticket(
            t.id,
            &TicketPatch {
                status: Some(Status::Closed),
                ..Default::default()
            },
            Actor::Rule,
        )
        .await
        .unwrap();
    send_to(
        smtp,
        "a@c.example",
        "support@acme.example",
        "Subject: Re: Order 1\r\nIn-Reply-To: <a1@c.example>\r\n",
        "after close",
    )
    .await;
    let all = tickets_of(&app, "a@c.example").await;
    let follow = all
        .iter()
        .find(|x| x.follow_up_of == Some(t.id))
        .expect("a follow-up");
    assert_eq!(follow.channel, Channel::Email);
}

#[tokio::test]
async fn auto_replies_loops_and_floods_open_nothing_they_should_not() {
    let sink = Sink::start();
    let app = app_with_mail(Some(sink.url())).await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", true).await;
    let smtp = app.smtp.unwrap();

    // An out-of-office reply opens a ticket but gets no acknowledgement.
    let ooo = b"From: boss@c.example\r\nTo: support@acme.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n";
    smtp_send(smtp, "boss@c.example", &["support@acme.example"], ooo)
        .await
        .unwrap();
    assert_eq!(tickets_of(&app, "boss@c.example").await.len(), 1);

    // A storm of automatic mail from one sender stops at the per-sender limit.
    for i in 0..12 {
        let raw = format!(
            "From: robot@c.example\r\nTo: support@acme.example\r\nSubject: alert {i}\r\nPrecedence: bulk\r\nMessage-ID: <storm-{i}@c.example>\r\n\r\nalert\r\n"
        );
        smtp_send(
            smtp,
            "robot@c.example",
            &["support@acme.example"],
            raw.as_bytes(),
        )
        .await
        .unwrap();
    }
    let storm = tickets_of(&app, "robot@c.example").await.len();
    assert!(
        storm <= kefu_domain::mail::sender_hourly_limit(AutoKind::Bulk) as usize,
        "{storm} tickets"
    );
    let limited = app
        .store
        .list_inbound(&kefu_store::InboundQuery {
            state: Some(InboundState::RateLimited),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        limited.items.len(),
        12 - storm,
        "the rest is kept, without tickets"
    );

    // Mail from our own address is a loop: dropped, kept in the log.
    let looped =
        b"From: support@acme.example\r\nTo: support@acme.example\r\nSubject: loop\r\n\r\nx\r\n";
    smtp_send(
        smtp,
        "support@acme.example",
        &["support@acme.example"],
        looped,
    )
    .await
    .unwrap();
    assert!(tickets_of(&app, "support@acme.example").await.is_empty());

    // A human's mail is acknowledged; only that one.
    let human = b"From: human@c.example\r\nTo: support@acme.example\r\nSubject: help\r\n\r\nplease help\r\n";
    smtp_send(smtp, "human@c.example", &["support@acme.example"], human)
        .await
        .unwrap();
    let mails = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sink.mails().len(),
        1,
        "only the human got an acknowledgement"
    );
    let ack = kefu_mail::parse::parse(&mails[0]);
    assert_eq!(ack.to[0].email, "human@c.example");

    // An automatic reply on a solved ticket does not reopen it.
    let t = tickets_of(&app, "human@c.example").await.remove(0);
    app.store
        .update_ticket(
            t.id,
            &TicketPatch {
                status: Some(Status::Solved),
                ..Default::default()
            },
            Actor::Agent(admin.id()),
        )
        .await
        .unwrap();
    let ooo2 = format!(
        "From: human@c.example\r\nTo: support@acme.example\r\nSubject: Re: [#{}] help\r\nX-Autoreply: yes\r\n\r\naway\r\n",
        t.number
    );
    smtp_send(
        smtp,
        "human@c.example",
        &["support@acme.example"],
        ooo2.as_bytes(),
    )
    .await
    .unwrap();
    let t2 = app.store.get_ticket(t.id).await.unwrap().unwrap();
    assert_eq!(t2.status, Status::Solved);
    assert_eq!(app.store.list_messages(t.id, true).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_bounce_marks_the_reply_that_bounced() {
    let sink = Sink::start();
    let app = app_with_mail(Some(sink.url())).await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", false).await;
    let smtp = app.smtp.unwrap();
    smtp_send(
        smtp,
        "gone@c.example",
        &["support@acme.example"],
        b"From: gone@c.example\r\nTo: support@acme.example\r\nSubject: hi\r\n\r\nhello\r\n",
    )
    .await
    .unwrap();
    let t = tickets_of(&app, "gone@c.example").await.remove(0);
    let r = app
        .api(&admin)
        .post(
            &format!("/api/v1/tickets/{}/messages", t.id),
            &json!({"body": "answer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let reply_id = MessageId(r.body["id"].as_i64().unwrap());
    let our_id = r.body["email"]["message_id"].as_str().unwrap().to_string();
    sink.wait_for(1).await;

    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.c.example>\r\nTo: support@acme.example\r\n\
Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.c.example\r\n\r\n\
Final-Recipient: rfc822; gone@c.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n\
--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{our_id}>\r\nSubject: Re: hi\r\n\r\n--r--\r\n"
    );
    // Bounces come with the null sender.
    smtp_send(smtp, "", &["support@acme.example"], dsn.as_bytes())
        .await
        .unwrap();
    let m = app.store.get_message(reply_id).await.unwrap().unwrap();
    let e = m.email.unwrap();
    assert_eq!(e.delivery, Some(DeliveryStatus::Bounced));
    assert!(e.delivery_detail.unwrap().contains("5.1.1"));
    assert_eq!(
        tickets_of(&app, "gone@c.example").await.len(),
        1,
        "no ticket from the bounce"
    );
}

#[tokio::test]
async fn unreadable_mail_still_becomes_a_ticket_with_a_warning() {
    let app = app_with_mail(None).await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", false).await;
    let raw: &[u8] = b"From: odd@c.example\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"nope\"\r\nContent-Transfer-Encoding: base64\r\n\r\n--nope\r\nContent-Type: text/plain; charset=x-unknown-charset\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\xff\xfe\r\n";
    smtp_send(
        app.smtp.unwrap(),
        "odd@c.example",
        &["support@acme.example"],
        raw,
    )
    .await
    .unwrap();
    let t = tickets_of(&app, "odd@c.example").await;
    assert_eq!(t.len(), 1);
    let m = &app.store.list_messages(t[0].id, true).await.unwrap()[0];
    assert!(m.email.as_ref().unwrap().inbound_id.is_some());
    let raw_back = app
        .store
        .inbound_raw(m.email.as_ref().unwrap().inbound_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    // Byte for byte, after the `Received:` trace header the listener adds on top.
    assert!(raw_back.starts_with(b"Received: "));
    assert!(
        raw_back.ends_with(raw),
        "the raw mail is kept byte for byte"
    );
    let warning = m.email.as_ref().unwrap().parse_warning.clone();
    assert!(warning.is_some(), "a visible parse warning");
}

#[tokio::test]
async fn a_reply_that_failed_to_send_is_retried_after_a_restart_and_sent_once() {
    // The first node has no relay: the reply stays queued.
    let app = app_with_mail(None).await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", false).await;
    smtp_send(
        app.smtp.unwrap(),
        "w@c.example",
        &["support@acme.example"],
        b"From: w@c.example\r\nTo: support@acme.example\r\nSubject: wait\r\n\r\nhello\r\n",
    )
    .await
    .unwrap();
    let t = tickets_of(&app, "w@c.example").await.remove(0);
    let r = app
        .api(&admin)
        .post(
            &format!("/api/v1/tickets/{}/messages", t.id),
            &json!({"body": "later"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let reply_id = MessageId(r.body["id"].as_i64().unwrap());

    // A send attempt against a relay that is down fails and is scheduled again. (Retries
    // are counted from `now`; passing the epoch makes the retry due at once.)
    let keys = app.state.mail_keys.clone();
    let dead =
        kefu_mail::relay::Relay::from_url(&format!("smtp://127.0.0.1:{}?tls=none", free_port()))
            .unwrap();
    let ran = kefu_server::mail::outbound::run_due(
        app.store.as_ref(),
        &keys,
        &dead,
        jiff::Timestamp::UNIX_EPOCH,
    )
    .await
    .unwrap();
    assert_eq!(ran, 1);
    let m = app.store.get_message(reply_id).await.unwrap().unwrap();
    let e = m.email.unwrap();
    assert_eq!(
        e.delivery,
        Some(DeliveryStatus::Queued),
        "still queued after a temporary failure"
    );
    assert!(
        e.delivery_detail.is_some(),
        "the agent sees why it has not gone yet"
    );

    // "Restart": another node over the same database, now with a working relay.
    let sink = Sink::start();
    let config = kefu_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        mail: kefu_server::mail::MailConfig {
            relay_url: Some(sink.url()),
            ..app.state.config.mail.clone()
        },
        ..kefu_server::Config::default()
    };
    let node2 = kefu_server::Application::build(app.store.clone(), config)
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node2.run_until(async move {
        let _ = rx.await;
    }));
    sink.wait_for(1).await;
    let mut sent = false;
    for _ in 0..100 {
        let m = app.store.get_message(reply_id).await.unwrap().unwrap();
        if m.email.unwrap().delivery == Some(DeliveryStatus::Sent) {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(sink.mails().len(), 1, "sent exactly once");
    let _ = tx.send(());
    let _ = served.await;
}

#[tokio::test]
async fn postfix_style_lmtp_hand_over_opens_tickets() {
    let app = spawn_app_with(|c| {
        c.lmtp_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let admin = app.agent(Role::Admin).await;
    mailbox(&app, &admin, "support@acme.example", false).await;
    let lmtp = app.lmtp.unwrap();
    // swaks speaks LMTP as Postfix's lmtp client does (LHLO, one reply per recipient).
    let out = tokio::process::Command::new("swaks")
        .args(["--protocol", "LMTP", "--server"])
        .arg(lmtp.to_string())
        .args([
            "--from",
            "zhao@customer.example",
            "--to",
            "support@acme.example,nobody@acme.example",
            "--header",
            "Subject: LMTP 测试",
            "--body",
            "经由 Postfix 转交的邮件",
        ])
        .output()
        .await
        .expect("swaks (apt install swaks) is needed for this test");
    let log = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        log.contains("550"),
        "the unknown recipient is refused: {log}"
    );
    let t = tickets_of(&app, "zhao@customer.example").await;
    assert_eq!(t.len(), 1, "{log}");
    assert_eq!(t[0].subject.as_str(), "LMTP 测试");
}
