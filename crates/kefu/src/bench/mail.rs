//! `kefu bench mail`: the email channel's throughput.
//!
//! - **Inbound**: emails per second through the pipeline the SMTP/LMTP listener and the
//!   IMAP pollers call (`kefu_server::mail::inbound::receive`: parse → store raw → classify
//!   → thread → ticket or message), `concurrency` deliveries at a time, on a fresh
//!   database per run. The mail mix is generated deterministically and looks like a
//!   support inbox: 70 % new requests and 30 % replies to earlier ones (threaded by
//!   `In-Reply-To`), Chinese and English, plain, HTML-alternative and with a 20 KiB
//!   attachment (one in ten). With `--corpus DIR` each run also feeds every file of a
//!   mail corpus (e.g. `../shared/data/emails`) through the same pipeline.
//! - **Outbound**: agent replies per second from the job queue through composing and the
//!   SMTP relay client to a local SMTP sink (kefu's own listener with a counting sink, on
//!   loopback), including the store updates (`sent`) of each.
//!
//! Target (issue 3): ≥ 500 inbound mails/s on this 2-core machine, SQLite and PostgreSQL.

use super::{db::BenchDb, stats::median, verdict};
use crate::cli::BenchMailArgs;
use anyhow::{Context, Result, bail};
use kefu_domain::*;
use kefu_mail::{DeliverError, Envelope, MailSink, Source};
use kefu_server::mail::{MailKeys, inbound, outbound};
use kefu_store::{NewMessage, Store};
use serde::Serialize;
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use std::time::Instant;

#[derive(Debug, Serialize)]
struct Report {
    benchmark: &'static str,
    engine: &'static str,
    messages: usize,
    concurrency: usize,
    inbound_runs: Vec<f64>,
    median_inbound_per_second: f64,
    corpus_runs: Vec<f64>,
    median_corpus_per_second: Option<f64>,
    corpus_messages: usize,
    outbound_runs: Vec<f64>,
    median_outbound_per_second: f64,
    target_inbound_per_second: f64,
}

pub async fn run(url: Option<&str>, args: BenchMailArgs) -> Result<()> {
    if args.runs == 0 || args.messages == 0 || args.concurrency == 0 {
        bail!("--runs, --messages and --concurrency must be at least 1");
    }
    let mails: Vec<Vec<u8>> = (0..args.messages).map(synthetic_mail).collect();
    let corpus = match &args.corpus {
        Some(dir) => read_corpus(dir)?,
        None => Vec::new(),
    };
    let mut report = Report {
        benchmark: "mail",
        engine: "sqlite",
        messages: args.messages,
        concurrency: args.concurrency,
        inbound_runs: Vec::new(),
        median_inbound_per_second: 0.0,
        corpus_runs: Vec::new(),
        median_corpus_per_second: None,
        corpus_messages: corpus.len(),
        outbound_runs: Vec::new(),
        median_outbound_per_second: 0.0,
        target_inbound_per_second: 500.0,
    };
    for i in 0..args.runs {
        let (engine, rate) = inbound_run(url, &mails, args.concurrency).await?;
        report.engine = engine;
        if !args.json {
            eprintln!("inbound run {}/{}: {rate:>8.0} mails/s", i + 1, args.runs);
        }
        report.inbound_runs.push(rate);
        if !corpus.is_empty() {
            let (_, rate) = inbound_run(url, &corpus, args.concurrency).await?;
            if !args.json {
                eprintln!(
                    "corpus run {}/{}: {rate:>8.0} mails/s ({} files)",
                    i + 1,
                    args.runs,
                    corpus.len()
                );
            }
            report.corpus_runs.push(rate);
        }
        if args.outbound > 0 {
            let rate = outbound_run(url, args.outbound).await?;
            if !args.json {
                eprintln!(
                    "outbound run {}/{}: {rate:>8.0} replies/s",
                    i + 1,
                    args.runs
                );
            }
            report.outbound_runs.push(rate);
        }
    }
    report.median_inbound_per_second = median(report.inbound_runs.iter().copied());
    report.median_corpus_per_second =
        (!report.corpus_runs.is_empty()).then(|| median(report.corpus_runs.iter().copied()));
    report.median_outbound_per_second = median(report.outbound_runs.iter().copied());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!();
        println!(
            "kefu bench mail — {} ({} runs, median)",
            report.engine, args.runs
        );
        println!(
            "  inbound  {:>8.0} mails/s   ({} generated mails, concurrency {}; target ≥ 500/s: {})",
            report.median_inbound_per_second,
            args.messages,
            args.concurrency,
            verdict(report.median_inbound_per_second >= 500.0)
        );
        if let Some(c) = report.median_corpus_per_second {
            println!(
                "  corpus   {c:>8.0} mails/s   ({} real mails)",
                report.corpus_messages
            );
        }
        if args.outbound > 0 {
            println!(
                "  outbound {:>8.0} replies/s ({} replies through the queue to a local SMTP sink)",
                report.median_outbound_per_second, args.outbound
            );
        }
    }
    Ok(())
}

async fn fresh(url: Option<&str>) -> Result<(BenchDb, Arc<dyn Store>, MailKeys)> {
    let db = BenchDb::create(url).await?;
    let store = kefu_store::connect(&db.url)
        .await
        .context("opening the bench database")?;
    let keys = MailKeys::new(Arc::new([7u8; 32]));
    store
        .create_mailbox(&NewMailbox {
            address: Email::parse("support@bench.example")?,
            name: "Bench Support".into(),
            team_id: None,
            imap_url: None,
            auto_ack: false,
            active: true,
        })
        .await?;
    Ok((db, store, keys))
}

/// Feeds `mails` through the inbound pipeline; returns (engine, mails per second).
async fn inbound_run(
    url: Option<&str>,
    mails: &[Vec<u8>],
    concurrency: usize,
) -> Result<(&'static str, f64)> {
    let (db, store, keys) = fresh(url).await?;
    let engine = db.engine;
    let mails = Arc::new(mails.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (store, keys, mails, next) = (store.clone(), keys.clone(), mails.clone(), next.clone());
        workers.spawn(async move {
            let envelope = Envelope {
                mail_from: Some("someone@customer.example".into()),
                rcpt_to: vec!["support@bench.example".into()],
                peer: None,
                source: Source::Smtp,
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= mails.len() {
                    return Ok::<_, anyhow::Error>(());
                }
                inbound::receive(store.as_ref(), &keys, &envelope, mails[i].clone()).await?;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.context("bench worker")??;
    }
    let rate = mails.len() as f64 / started.elapsed().as_secs_f64();
    // Everything stored, nothing stuck half-way.
    let stuck = store
        .unprocessed_inbound(
            jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1),
            10,
        )
        .await?;
    if !stuck.is_empty() {
        bail!("{} mails were stored but not processed", stuck.len());
    }
    drop(store);
    db.remove().await?;
    Ok((engine, rate))
}

/// Counts what the relay delivers.
struct CountingSink(AtomicUsize);

#[async_trait::async_trait]
impl MailSink for CountingSink {
    async fn accepts(&self, _rcpt: &str) -> bool {
        true
    }
    async fn deliver(&self, _envelope: &Envelope, _raw: Vec<u8>) -> Result<(), DeliverError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Queues `n` agent replies on email tickets and times sending them all.
async fn outbound_run(url: Option<&str>, n: usize) -> Result<f64> {
    let (db, store, keys) = fresh(url).await?;
    let agent = super::create_agents(store.as_ref(), 1).await?[0];
    // The tickets come in by mail, as in real life.
    let envelope = Envelope {
        mail_from: Some("customer@customer.example".into()),
        rcpt_to: vec!["support@bench.example".into()],
        peer: None,
        source: Source::Smtp,
    };
    let mut tickets = Vec::with_capacity(n);
    for i in 0..n {
        let raw = format!(
            "From: c{i}@customer.example\r\nTo: support@bench.example\r\nSubject: Question {i}\r\nMessage-ID: <q{i}@customer.example>\r\n\r\nHello, question {i}.\r\n"
        );
        let out = inbound::receive(store.as_ref(), &keys, &envelope, raw.into_bytes()).await?;
        tickets.push(out.ticket.context("a ticket")?);
    }
    for t in &tickets {
        let ticket = store.get_ticket(*t).await?.context("ticket")?;
        let mail = outbound::reply_mail(store.as_ref(), &ticket).await?;
        store
            .add_message(
                *t,
                &NewMessage {
                    author: Actor::Agent(agent),
                    public: true,
                    body_text: "Thank you, here is the answer.\n\n谢谢，答复如下。".into(),
                    body_html: None,
                    attachments: Vec::new(),
                    status_after: None,
                    idempotency: None,
                    mail,
                },
            )
            .await?;
    }
    // The sink: kefu's own SMTP listener on loopback.
    let counting = Arc::new(CountingSink(AtomicUsize::new(0)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let sink: Arc<dyn MailSink> = counting.clone();
    let server = tokio::spawn(kefu_mail::listener::serve(
        listener,
        kefu_mail::listener::ListenerConfig::new(kefu_mail::listener::Protocol::Smtp, "sink.bench"),
        sink,
        std::future::pending(),
    ));
    let relay = kefu_mail::relay::Relay::from_url(&format!("smtp://{addr}?tls=none"))?;
    let started = Instant::now();
    while counting.0.load(Ordering::Relaxed) < n {
        let ran = outbound::run_due(store.as_ref(), &keys, &relay, jiff::Timestamp::now()).await?;
        if ran == 0 && counting.0.load(Ordering::Relaxed) < n {
            bail!(
                "only {} of {n} replies reached the sink",
                counting.0.load(Ordering::Relaxed)
            );
        }
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    server.abort();
    drop(store);
    db.remove().await?;
    Ok(rate)
}

fn read_corpus(dir: &std::path::Path) -> Result<Vec<Vec<u8>>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "eml" || x == "msg" || x == "txt" || x == "mbox")
                || p.extension().is_none()
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| std::fs::read(&p).with_context(|| format!("reading {}", p.display())))
        .collect()
}

const ZH: &[&str] = &[
    "您好，我的打印机从昨天开始无法连接无线网络，已经重启过路由器，还是不行。型号是 LP-2200，购买于去年三月。请问应该怎么处理？",
    "你好，上个月的发票金额和合同不一致，多收了一笔服务费。麻烦核实一下并重新开具发票，谢谢。",
    "订单 20261120-8831 显示已发货，但是物流信息一直没有更新，已经五天了。能帮忙查一下吗？",
];
const EN: &[&str] = &[
    "Hello, since the last update our laptops cannot join the VPN. The client says the certificate is not trusted. We have 40 users affected. Could you help urgently?",
    "Hi, I was charged twice for my subscription this month. Please refund the duplicate charge to the original card.",
    "Good morning, the replacement part for our server arrived damaged. Can you send another one and arrange a pickup for the broken one?",
];

/// The `i`-th mail of the generated mix (deterministic).
fn synthetic_mail(i: usize) -> Vec<u8> {
    use base64::Engine;
    let zh = i.is_multiple_of(2);
    let text = if zh {
        ZH[i % ZH.len()]
    } else {
        EN[i % EN.len()]
    };
    let sender = format!("customer{}@customer{}.example", i % 1500, i % 37);
    let reply = i % 10 >= 7 && i >= 200;
    let (subject, threading) = if reply {
        // Answers a mail at least 100 mails earlier (already processed by then).
        let earlier = i - 100 - (i % 50);
        (
            "Re: follow-up".to_string(),
            format!(
                "In-Reply-To: <m{earlier}@bench.example>\r\nReferences: <m{earlier}@bench.example>\r\n"
            ),
        )
    } else if zh {
        (
            format!("问题 {i}：{}", &text.chars().take(12).collect::<String>()),
            String::new(),
        )
    } else {
        (
            format!("Case {i}: {}", &text.chars().take(30).collect::<String>()),
            String::new(),
        )
    };
    let subject_enc = format!(
        "=?UTF-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(subject.as_bytes())
    );
    let mut m = format!(
        "From: Customer {i} <{sender}>\r\nTo: Support <support@bench.example>\r\nSubject: {subject_enc}\r\n\
Message-ID: <m{i}@bench.example>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0800\r\n{threading}MIME-Version: 1.0\r\n"
    );
    let body = format!("{text}\r\n\r\n-- \r\nCustomer {i}\r\n");
    match i % 10 {
        // With a 20 KiB attachment.
        3 => {
            let data: Vec<u8> = (0..20 * 1024).map(|k| (k * 31 + i) as u8).collect();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
            let wrapped: Vec<&str> = b64
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap_or(""))
                .collect();
            m.push_str("Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\n");
            m.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
            m.push_str(&body);
            m.push_str(
                "--mix\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?5oql5ZGKLnBkZg==?=\"\r\n",
            );
            m.push_str("Content-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            m.push_str(&wrapped.join("\r\n"));
            m.push_str("\r\n--mix--\r\n");
        }
        // HTML alternative.
        1 | 5 | 8 => {
            m.push_str("Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n");
            m.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
            m.push_str(&body);
            m.push_str("--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
            m.push_str(&format!(
                "<html><body><div style=\"font-family:Arial;color:#333\"><p>{text}</p><p><img src=\"https://tracker.example/p.gif\"></p><blockquote>earlier mail</blockquote></div></body></html>\r\n"
            ));
            m.push_str("--alt--\r\n");
        }
        _ => {
            m.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
            m.push_str(&body);
        }
    }
    m.into_bytes()
}
