//! IMAP polling against a real Dovecot started by each test.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kefu_mail::Source;
use kefu_mail::imap::{ImapError, ImapSource, PollReport, poll_once, run};
use support::dovecot::{Dovecot, Options, PASSWORD};
use support::{LogCapture, RecordingSink, SUPPORT, permanent, temporary};
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(15);
const FETCHED: &str = "$KefuFetched";

fn mail(subject: &str) -> Vec<u8> {
    format!(
        "From: Customer <customer@example.com>\r\n\
         To: support@acme.example\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{}@example.com>\r\n\
         \r\n\
         Body of {subject}.\r\n",
        subject.replace(' ', "-")
    )
    .into_bytes()
}

fn source(url: &str) -> ImapSource {
    ImapSource::parse(url).unwrap()
}

async fn poll(src: &ImapSource, sink: &RecordingSink) -> PollReport {
    poll_once(src, SUPPORT, sink).await.unwrap()
}

fn has(flags: &[String], flag: &str) -> bool {
    flags.iter().any(|f| f == flag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_once_takes_every_new_mail_once_and_marks_it() {
    let dovecot = Dovecot::start(Options::default());
    let chinese = "From: 李娜 <li.na@example.cn>\r\nTo: support@acme.example\r\n\
                   Subject: =?UTF-8?B?6K6i5Y2V?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
                   Content-Transfer-Encoding: 8bit\r\n\r\n我的订单还没有到。\r\n"
        .as_bytes()
        .to_vec();
    let bounce = [
        b"Return-Path: <bounces+42@example.org>\r\n".as_slice(),
        &mail("with return path"),
    ]
    .concat();
    dovecot.append("INBOX", None, &mail("first")).await;
    dovecot.append("INBOX", None, &chinese).await;
    dovecot.append("INBOX", None, &bounce).await;
    dovecot
        .append("INBOX", Some("(\\Seen)"), &mail("already read"))
        .await;

    let sink = RecordingSink::new();
    let src = source(&dovecot.plain_url(""));
    let report = poll(&src, &sink).await;
    assert_eq!((report.found, report.delivered, report.failed), (3, 3, 0));
    assert!(report.uid_validity.is_some());

    let taken = sink.deliveries();
    let raws: Vec<&[u8]> = taken.iter().map(|d| d.raw.as_slice()).collect();
    assert_eq!(raws, vec![&mail("first")[..], &chinese[..], &bounce[..]]);
    for delivery in &taken {
        assert_eq!(delivery.envelope.source, Source::Imap);
        assert_eq!(delivery.envelope.rcpt_to, vec![SUPPORT.to_string()]);
        assert_eq!(delivery.envelope.peer, None);
    }
    assert_eq!(taken[0].envelope.mail_from, None);
    assert_eq!(
        taken[2].envelope.mail_from.as_deref(),
        Some("bounces+42@example.org")
    );

    let flags = dovecot.flags("INBOX").await;
    assert_eq!(flags.len(), 4);
    for (uid, flags) in &flags[..3] {
        assert!(
            has(flags, "\\Seen") && has(flags, FETCHED),
            "uid {uid}: {flags:?}"
        );
    }
    assert!(
        !has(&flags[3].1, FETCHED),
        "a mail read by a human is left alone"
    );

    let again = poll(&src, &sink).await;
    assert_eq!((again.found, again.delivered), (0, 0));
    assert_eq!(sink.attempts(), 3);

    // fetch=all also takes what a human had already read, still only once.
    let src_all = source(&dovecot.plain_url("fetch=all"));
    assert_eq!(poll(&src_all, &sink).await.delivered, 1);
    assert_eq!(poll(&src_all, &sink).await.found, 0);
    assert_eq!(sink.deliveries()[3].raw, mail("already read"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_mail_is_moved_to_a_processed_folder_with_a_chinese_name() {
    let dovecot = Dovecot::start(Options::default());
    dovecot.append("INBOX", None, &mail("one")).await;
    dovecot.append("INBOX", None, &mail("two")).await;
    let sink = RecordingSink::new();
    let src = source(&dovecot.plain_url("processed=%E5%B7%B2%E5%A4%84%E7%90%86"));
    assert_eq!(src.processed.as_deref(), Some("已处理"));

    assert_eq!(poll(&src, &sink).await.delivered, 2);
    assert!(dovecot.flags("INBOX").await.is_empty());
    let moved = dovecot.flags("&XfJZBHQG-").await;
    assert_eq!(moved.len(), 2);
    assert!(
        moved
            .iter()
            .all(|(_, f)| has(f, "\\Seen") && has(f, FETCHED))
    );
    assert_eq!(poll(&src, &sink).await.found, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_move_or_uidplus_it_copies_deletes_and_expunges() {
    let dovecot = Dovecot::start(Options {
        capability: Some("IMAP4rev1 LITERAL+ IDLE"),
        ..Options::default()
    });
    dovecot.append("INBOX", None, &mail("one")).await;
    dovecot.append("INBOX", None, &mail("two")).await;
    let sink = RecordingSink::new();
    let src = source(&dovecot.plain_url("processed=Done"));
    assert_eq!(poll(&src, &sink).await.delivered, 2);
    assert!(dovecot.flags("INBOX").await.is_empty(), "{}", dovecot.log());
    let done = dovecot.flags("Done").await;
    assert_eq!(done.len(), 2);
    assert!(
        done.iter()
            .all(|(_, f)| !has(f, "\\Deleted") && has(f, "\\Seen"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_mail_never_blocks_the_others() {
    let dovecot = Dovecot::start(Options::default());
    dovecot.append("INBOX", None, &mail("flaky")).await;
    dovecot.append("INBOX", None, &mail("poison")).await;
    dovecot.append("INBOX", None, &mail("fine")).await;
    let sink = RecordingSink::new();
    sink.fail_when("Subject: flaky", temporary("database is locked"), 1);
    sink.fail_when("Subject: poison", permanent("cannot parse"), usize::MAX);
    let src = source(&dovecot.plain_url(""));

    let first = poll(&src, &sink).await;
    assert_eq!((first.found, first.delivered, first.failed), (3, 1, 2));
    let flags = dovecot.flags("INBOX").await;
    assert!(flags[0].1.is_empty(), "temporary: untouched {:?}", flags[0]);
    assert_eq!(
        flags[1].1,
        vec!["$KefuRejected".to_string()],
        "permanent: tagged, unread"
    );
    assert!(has(&flags[2].1, FETCHED));

    // The temporary failure comes again and goes through; the permanent one does not.
    let second = poll(&src, &sink).await;
    assert_eq!((second.found, second.delivered, second.failed), (1, 1, 0));
    assert_eq!(poll(&src, &sink).await.found, 0);
    let subjects: Vec<bool> = sink
        .deliveries()
        .iter()
        .map(|d| d.text().contains("Subject: flaky"))
        .collect();
    assert_eq!(subjects, vec![false, true]);
}

struct Runner {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

fn start_run(src: ImapSource, sink: Arc<RecordingSink>, interval: Duration) -> Runner {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run(src, SUPPORT.to_string(), sink, interval, async {
        let _ = stopped.await;
    }));
    Runner { stop, task }
}

impl Runner {
    async fn shutdown(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("run() ends soon after shutdown")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_wakes_run_as_soon_as_mail_arrives() {
    let dovecot = Dovecot::start(Options::default());
    dovecot.append("INBOX", None, &mail("before start")).await;
    let sink = RecordingSink::new();
    // Ten minutes between polls: only IDLE can bring the second mail in time.
    let runner = start_run(
        source(&dovecot.plain_url("")),
        sink.clone(),
        Duration::from_secs(600),
    );
    sink.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let appended = Instant::now();
    dovecot.append("INBOX", None, &mail("while idling")).await;
    let taken = sink.wait_for(2, WAIT).await;
    assert!(appended.elapsed() < Duration::from_secs(10));
    assert!(taken[1].text().contains("Subject: while idling"));

    dovecot.append("INBOX", None, &mail("third")).await;
    sink.wait_for(3, WAIT).await;
    runner.shutdown().await;
    assert_eq!(sink.attempts(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_idle_run_polls_on_the_interval() {
    let dovecot = Dovecot::start(Options {
        capability: Some("IMAP4rev1 LITERAL+ MOVE UIDPLUS"),
        ..Options::default()
    });
    let sink = RecordingSink::new();
    let runner = start_run(
        source(&dovecot.plain_url("")),
        sink.clone(),
        Duration::from_millis(500),
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    dovecot.append("INBOX", None, &mail("polled")).await;
    sink.wait_for(1, WAIT).await;
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_retries_after_errors_and_never_logs_the_password() {
    let logs = LogCapture::start();
    let dovecot = Dovecot::start(Options::default());
    let bad = dovecot
        .plain_url("")
        .replace("s3cret%20pass", "wrong%20secret");
    let err = poll_once(&source(&bad), SUPPORT, &*RecordingSink::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ImapError::Login { .. }), "{err:?}");
    assert!(
        !format!("{err} {err:?}").contains("wrong secret"),
        "{err:?}"
    );
    assert!(!format!("{:?} {}", source(&bad), source(&bad)).contains("wrong"));

    // A poller that cannot log in keeps trying and still stops on request.
    // (Dovecot delays logins from an address that just failed, so wait for the log.)
    let runner = start_run(source(&bad), RecordingSink::new(), Duration::from_secs(1));
    let deadline = Instant::now() + WAIT;
    while !logs.text().contains("IMAP polling failed") {
        assert!(
            Instant::now() < deadline,
            "no failure logged:\n{}",
            logs.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    runner.shutdown().await;
    // The good password is not logged either.
    dovecot.append("INBOX", None, &mail("logged")).await;
    let sink = RecordingSink::new();
    let runner = start_run(
        source(&dovecot.plain_url("")),
        sink.clone(),
        Duration::from_secs(60),
    );
    sink.wait_for(1, WAIT).await;
    runner.shutdown().await;

    let text = logs.text();
    assert!(text.contains("IMAP polling failed"), "{text}");
    assert!(
        text.contains("login as support@acme.example failed"),
        "{text}"
    );
    assert!(text.contains("uid_validity="), "{text}");
    for secret in ["wrong secret", "wrong%20secret", PASSWORD, "s3cret%20pass"] {
        assert!(!text.contains(secret), "{secret:?} in the log:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaps_and_starttls_verify_the_certificate_against_the_given_ca() {
    let dovecot = Dovecot::start(Options {
        tls: true,
        ..Options::default()
    });
    dovecot.append("INBOX", None, &mail("over tls")).await;
    dovecot.append("INBOX", None, &mail("over starttls")).await;
    let sink = RecordingSink::new();
    let user = format!("support%40acme.example:{}", PASSWORD.replace(' ', "%20"));
    let ca = dovecot.ca();

    let imaps = format!("imaps://{user}@localhost:{}?ca={ca}", dovecot.imaps_port);
    let untrusted = format!("imaps://{user}@localhost:{}", dovecot.imaps_port);
    let err = poll_once(&source(&untrusted), SUPPORT, &*sink)
        .await
        .unwrap_err();
    assert!(matches!(err, ImapError::Tls { .. }), "{err:?}");
    assert_eq!(sink.attempts(), 0);

    // STARTTLS on the plain port, then IMAPS by IP address (matching the IP SAN).
    let starttls = format!("imap://{user}@localhost:{}?ca={ca}", dovecot.port);
    assert_eq!(poll(&source(&starttls), &sink).await.delivered, 2);
    dovecot.append("INBOX", None, &mail("again")).await;
    let by_ip = imaps.replace("localhost", "127.0.0.1");
    assert_eq!(poll(&source(&by_ip), &sink).await.delivered, 1);
    assert_eq!(poll(&source(&imaps), &sink).await.found, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_urls_require_starttls_unless_tls_none_is_given() {
    let dovecot = Dovecot::start(Options::default());
    let url = format!(
        "imap://support%40acme.example:{}@127.0.0.1:{}",
        PASSWORD.replace(' ', "%20"),
        dovecot.port
    );
    let err = poll_once(&source(&url), SUPPORT, &*RecordingSink::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ImapError::NoStartTls), "{err:?}");
}
