//! IMAP intake end to end: an admin gives a mailbox an IMAP URL; `kefu serve` starts a
//! poller for it, fetches the mail from a real Dovecot (kefu-mail's private test
//! instance), turns it into a ticket and flags it fetched, so it is never taken twice.

mod common;

#[path = "../../kefu-mail/tests/support/mod.rs"]
mod support;

use common::*;
use kefu_domain::*;
use serde_json::json;
use std::time::Duration;
use support::dovecot::{Dovecot, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_an_imap_mailbox_becomes_a_ticket_once() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("kefu_mail=info,kefu_server=info")
        .with_test_writer()
        .try_init();
    let dovecot = Dovecot::start(Options::default());
    dovecot
        .append(
            "INBOX",
            None,
            "From: =?UTF-8?B?546L6Iqz?= <wang.fang@customer.example>\r\nTo: support@acme.example\r\n\
Subject: =?UTF-8?B?5Y+R56Wo6Zeu6aKY?=\r\nMessage-ID: <imap-1@customer.example>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n发票抬头写错了，请重开。\r\n"
                .as_bytes(),
        )
        .await;

    let app = spawn_app_with(|c| {
        c.mail.imap_poll_interval = Duration::from_secs(1);
    })
    .await;
    let admin = app.agent(Role::Admin).await;
    let r = app
        .api(&admin)
        .post(
            "/api/v1/mailboxes",
            &json!({"address": "support@acme.example", "imap_url": dovecot.plain_url(""), "auto_ack": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(!r.text.contains(support::dovecot::PASSWORD));

    // The supervisor starts pollers for mailboxes it sees (at start and every minute), so
    // restart the app's view: a second node over the same store picks the mailbox up at once.
    let node2 = kefu_server::Application::build(
        app.store.clone(),
        kefu_server::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            mail: kefu_server::mail::MailConfig {
                imap_poll_interval: Duration::from_secs(1),
                ..app.state.config.mail.clone()
            },
            ..kefu_server::Config::default()
        },
    )
    .await
    .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node2.run_until(async move {
        let _ = rx.await;
    }));

    let email = Email::parse("wang.fang@customer.example").unwrap();
    let mut ticket = None;
    for _ in 0..200 {
        if let Some(c) = app.store.find_customer_by_email(&email).await.unwrap() {
            let page = app
                .store
                .list_tickets(
                    &kefu_store::TicketFilter {
                        requester_id: Some(c.id),
                        ..Default::default()
                    },
                    None,
                    10,
                )
                .await
                .unwrap();
            if let Some(t) = page.items.into_iter().next() {
                ticket = Some(t);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = ticket.expect("the IMAP mail became a ticket");
    assert_eq!(t.subject.as_str(), "发票问题");
    assert_eq!(t.channel, Channel::Email);
    let messages = app.store.list_messages(t.id, true).await.unwrap();
    assert!(messages[0].body_text.contains("发票抬头写错了"));

    // Flagged on the server; more polls take nothing twice.
    let mut flagged = false;
    for _ in 0..100 {
        let flags = dovecot.flags("INBOX").await;
        if flags
            .iter()
            .all(|(_, f)| f.iter().any(|x| x.contains("Seen")))
        {
            flagged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(flagged, "the fetched mail is flagged");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.store.list_messages(t.id, true).await.unwrap().len(), 1);
    let _ = tx.send(());
    let _ = served.await;
}
