//! Outbound throughput of [`Relay::send`]: composes one typical reply (Chinese text and
//! HTML, a small attachment) and sends it `COUNT` times with `CONCURRENCY` sends in flight.
//!
//! ```text
//! python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Sink &
//! cargo run --release -p kefu-mail --example relay_bench -- smtp://127.0.0.1:2525 2000 8
//! ```
//!
//! [`bench`] is the harness: call it from a benchmark with any relay and message.

use std::time::{Duration, Instant};

use futures::StreamExt;
use kefu_mail::compose::{compose, envelope_recipients, new_message_id};
use kefu_mail::relay::Relay;
use kefu_mail::{Addr, OutgoingAttachment, OutgoingMail};

/// Sends `raw` `count` times with at most `concurrency` sends in flight; returns the wall
/// time and how many sends failed (the first error is printed).
pub async fn bench(
    relay: &Relay,
    mail_from: &str,
    rcpt_to: &[String],
    raw: &[u8],
    count: usize,
    concurrency: usize,
) -> (Duration, usize) {
    let started = Instant::now();
    let failures = futures::stream::iter(0..count)
        .map(|_| relay.send(mail_from, rcpt_to, raw))
        .buffer_unordered(concurrency.max(1))
        .fold(0, |failures, result| async move {
            match result {
                Ok(_) => failures,
                Err(e) => {
                    if failures == 0 {
                        eprintln!("first failure: {e}");
                    }
                    failures + 1
                }
            }
        })
        .await;
    (started.elapsed(), failures)
}

fn typical_reply() -> OutgoingMail {
    let addr = |email: &str, name: &str| Addr {
        email: email.to_owned(),
        name: Some(name.to_owned()),
    };
    OutgoingMail {
        from: addr("support@kefu.example.com", "客服中心 · 李娜"),
        to: vec![addr("wang.fang@example.cn", "王芳")],
        cc: vec![],
        reply_to: Some("support+t42-sig@kefu.example.com".to_owned()),
        subject: "回复：订单 #1024 的退款问题".to_owned(),
        message_id: new_message_id("kefu.example.com", "bench"),
        in_reply_to: Some("CAF=abc@mail.gmail.com".to_owned()),
        references: vec!["CAF=abc@mail.gmail.com".to_owned()],
        date: None,
        text: "您好，王女士：\n\n退款已处理，预计 3 个工作日到账。\n\n李娜\n".repeat(20),
        html: Some("<p>您好，王女士：</p><p>退款已处理，预计 3 个工作日到账。</p>".repeat(20)),
        attachments: vec![OutgoingAttachment {
            filename: "退款凭证.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            data: (0..=255u8).cycle().take(20_000).collect(),
        }],
        auto_submitted: false,
        language: Some("zh-CN".to_owned()),
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(url), count, concurrency) = (
        args.next(),
        args.next().map_or(1000, |s| s.parse().expect("COUNT")),
        args.next().map_or(1, |s| s.parse().expect("CONCURRENCY")),
    ) else {
        eprintln!("usage: relay_bench URL [COUNT=1000] [CONCURRENCY=1]");
        std::process::exit(2);
    };
    let relay = Relay::from_url(&url).unwrap_or_else(|e| panic!("{e}"));
    let mail = typical_reply();
    let raw = compose(&mail).expect("compose");
    let rcpt = envelope_recipients(&mail);

    // One warm-up send opens the first pooled connection.
    relay
        .send("support@kefu.example.com", &rcpt, &raw)
        .await
        .unwrap_or_else(|e| panic!("warm-up send: {e}"));
    let (elapsed, failures) = bench(
        &relay,
        "support@kefu.example.com",
        &rcpt,
        &raw,
        count,
        concurrency,
    )
    .await;
    println!(
        "{count} mails of {} bytes to {} with concurrency {concurrency}: {:.2?}, {:.0} mails/s, {failures} failed",
        raw.len(),
        relay.url(),
        elapsed,
        count as f64 / elapsed.as_secs_f64(),
    );
}
