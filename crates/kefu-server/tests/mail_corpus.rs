//! The real-mail corpus (`../shared/data/emails`, 1,065 messages from five projects'
//! test suites: bounces, malformed mail, every charset) through the whole inbound
//! pipeline — parse, store raw, classify, thread, ticket — on the test engine
//! (`KEFU_TEST_DB=sqlite|postgres`): nothing panics, every mail is stored, and every mail
//! ends in a final state (none left half-processed).

use kefu_domain::*;
use kefu_mail::{Envelope, Source};
use kefu_server::mail::{MailKeys, inbound};
use kefu_store::InboundQuery;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/emails")
}

fn mail_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("md" | "csv" | "json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_mail_goes_through_the_pipeline_and_is_kept() {
    let dir = corpus_dir();
    let files = mail_files(&dir);
    assert!(
        files.len() >= 1000,
        "the corpus is at {} ({} files)",
        dir.display(),
        files.len()
    );
    let db = kefu_store::testing::fresh_store().await;
    let store = db.store();
    store
        .create_mailbox(&NewMailbox {
            address: Email::parse("support@acme.example").unwrap(),
            name: "Acme".into(),
            team_id: None,
            imap_url: None,
            auto_ack: true,
            active: true,
        })
        .await
        .unwrap();
    let keys = MailKeys::new(Arc::new([1u8; 32]));
    let envelope = Envelope {
        mail_from: Some("sender@corpus.example".into()),
        rcpt_to: vec!["support@acme.example".into()],
        peer: None,
        source: Source::Smtp,
    };
    let mut new = 0;
    let mut tickets = 0;
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let out = inbound::receive(store.as_ref(), &keys, &envelope, raw)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_ne!(
            out.state,
            InboundState::Received,
            "{} was stored but not processed",
            f.display()
        );
        if out.new {
            new += 1;
        }
        if out.ticket.is_some() {
            tickets += 1;
        }
    }
    // Every distinct mail is stored exactly once (the corpus repeats some Message-IDs).
    let mut stored = 0;
    let mut cursor = None;
    loop {
        let page = store
            .list_inbound(&InboundQuery {
                cursor: cursor.clone(),
                limit: 200,
                ..Default::default()
            })
            .await
            .unwrap();
        stored += page.items.len();
        assert!(page.items.iter().all(|m| m.state != InboundState::Received));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(stored, new, "one stored mail per distinct mail");
    assert!(new > 900, "{new} distinct mails");
    assert!(tickets > 250, "{tickets} mails opened or joined tickets");
    let stuck = store
        .unprocessed_inbound(
            jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1),
            10,
        )
        .await
        .unwrap();
    assert!(stuck.is_empty());
}
