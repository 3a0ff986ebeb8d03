//! The shared corpus of 1,065 real messages (`shared/data/emails`, see its README):
//! every message parses without a panic, and a representative subset matches the
//! expectations in `tests/golden/corpus.json`.
//!
//! On a golden mismatch the actual values of the failing files are written to
//! `tests/golden/corpus.failed.json` (not checked in) to diff against or copy from.
//! `KEFU_CORPUS_DUMP=<file>` writes a summary of every message there (JSON lines), for
//! writing new expectations.

use std::{
    collections::BTreeMap,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    time::Instant,
};

use kefu_mail::{ParsedMail, parse::parse};
use serde_json::{Value, json};

/// CI clones the repository next to `shared/`, as here.
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/emails")
}

/// The message files listed in the corpus manifest (first CSV column).
fn corpus_files() -> Vec<String> {
    let manifest = std::fs::read_to_string(corpus_dir().join("manifest.csv")).unwrap_or_else(|e| {
        panic!(
            "the email corpus must be at {} (manifest.csv: {e})",
            corpus_dir().display()
        )
    });
    manifest
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

fn summary(file: &str, m: &ParsedMail) -> Value {
    json!({
        "file": file,
        "subject": m.subject,
        "from": m.from.as_ref().map(|a| a.email.clone()),
        "from_name": m.from.as_ref().and_then(|a| a.name.clone()),
        "to": m.to.iter().map(|a| a.email.clone()).collect::<Vec<_>>(),
        "message_id": m.message_id,
        "in_reply_to": m.in_reply_to,
        "date": m.date.map(|d| d.to_string()),
        "text_start": m.text.chars().take(120).collect::<String>(),
        "text_len": m.text.chars().count(),
        "has_html": m.html.is_some(),
        "attachments": m.attachments.iter().map(|a| json!({
            "filename": a.filename,
            "content_type": a.content_type,
            "size": a.data.len(),
            "inline": a.inline,
            "content_id": a.content_id,
        })).collect::<Vec<_>>(),
        "dsn": m.dsn.as_ref().map(|d| json!({
            "original_message_id": d.original_message_id,
            "recipients": d.recipients.iter().map(|r| json!({
                "recipient": r.recipient,
                "action": r.action,
                "status": r.status,
            })).collect::<Vec<_>>(),
        })),
        "warnings": m.warnings,
    })
}

#[test]
fn every_corpus_message_parses_without_panicking() {
    let files = corpus_files();
    assert_eq!(
        files.len(),
        1065,
        "the corpus manifest lists 1,065 messages"
    );
    let mut dump = std::env::var_os("KEFU_CORPUS_DUMP").map(|_| String::new());
    let mut parsed = 0usize;
    let mut panicked = Vec::new();
    let mut with_warnings = 0usize;
    let mut warning_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let (mut dsns, mut attachments, mut html, mut bytes) = (0usize, 0usize, 0usize, 0usize);
    let mut slowest = (String::new(), std::time::Duration::ZERO, 0usize);
    let start = Instant::now();
    for file in &files {
        let raw = std::fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        bytes += raw.len();
        let one = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| parse(&raw)));
        let took = one.elapsed();
        if took > slowest.1 {
            slowest = (file.clone(), took, raw.len());
        }
        match result {
            Ok(mail) => {
                parsed += 1;
                if mail.warnings.iter().any(|w| w.contains("internal error")) {
                    panicked.push(file.clone());
                }
                if !mail.warnings.is_empty() {
                    with_warnings += 1;
                }
                for w in &mail.warnings {
                    let kind: String = w.split([',', ';', '"']).next().unwrap_or(w).to_string();
                    *warning_kinds.entry(kind).or_default() += 1;
                }
                dsns += usize::from(mail.dsn.is_some());
                attachments += mail.attachments.len();
                html += usize::from(mail.html.is_some());
                if let Some(dump) = &mut dump {
                    dump.push_str(&summary(file, &mail).to_string());
                    dump.push('\n');
                }
            }
            Err(_) => panicked.push(file.clone()),
        }
    }
    let elapsed = start.elapsed();
    if let (Some(dump), Some(path)) = (dump, std::env::var_os("KEFU_CORPUS_DUMP")) {
        std::fs::write(path, dump).unwrap();
    }
    println!(
        "corpus: {parsed}/{} parsed ({} MB) in {:.1} ms = {:.0} msgs/s; {with_warnings} with \
         warnings, {dsns} DSNs, {html} with HTML, {attachments} attachments",
        files.len(),
        bytes / 1_000_000,
        elapsed.as_secs_f64() * 1000.0,
        files.len() as f64 / elapsed.as_secs_f64(),
    );
    println!(
        "  slowest: {} ({} KB) in {:.2} ms",
        slowest.0,
        slowest.2 / 1024,
        slowest.1.as_secs_f64() * 1000.0
    );
    for (kind, n) in &warning_kinds {
        println!("  {n:5}  {kind}");
    }
    assert!(panicked.is_empty(), "panicked on: {panicked:?}");
    assert_eq!(parsed, files.len());
}

#[test]
fn golden_subset_matches_expectations() {
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/corpus.json");
    let golden: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&golden_path).unwrap()).unwrap();
    assert!(
        golden.len() >= 25,
        "the golden subset must cover at least 25 files"
    );
    let mut failures = Vec::new();
    let mut actuals = Vec::new();
    for expected in &golden {
        let file = expected["file"].as_str().unwrap();
        let raw = std::fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mail = parse(&raw);
        let actual = summary(file, &mail);
        let problems = compare(expected, &actual, &mail);
        if !problems.is_empty() {
            failures.push(format!("{file}:\n    {}", problems.join("\n    ")));
            actuals.push(actual);
        }
    }
    let failed_path = golden_path.with_file_name("corpus.failed.json");
    if failures.is_empty() {
        let _ = std::fs::remove_file(&failed_path);
    } else {
        std::fs::write(
            &failed_path,
            serde_json::to_string_pretty(&actuals).unwrap(),
        )
        .unwrap();
        panic!(
            "{} golden file(s) differ (actual values in {}):\n{}",
            failures.len(),
            failed_path.display(),
            failures.join("\n")
        );
    }
}

/// Checks the fields an expectation names. Plain fields compare equal; `text_contains`,
/// `html_contains` and `warnings_contain` are substrings; `attachments` compares
/// filename/content_type/inline/content_id (and `min_size`) of each listed attachment.
fn compare(expected: &Value, actual: &Value, mail: &ParsedMail) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(fields) = expected.as_object() else {
        return vec!["expectation is not an object".into()];
    };
    for (key, want) in fields {
        match key.as_str() {
            "file" | "why" => {}
            "text_contains" => {
                for s in want.as_array().unwrap() {
                    let s = s.as_str().unwrap();
                    if !mail.text.contains(s) {
                        problems.push(format!("text lacks {s:?}"));
                    }
                }
            }
            "html_contains" => {
                for s in want.as_array().unwrap() {
                    let s = s.as_str().unwrap();
                    if !mail.html.as_deref().unwrap_or("").contains(s) {
                        problems.push(format!("html lacks {s:?}"));
                    }
                }
            }
            "warnings_contain" => {
                for s in want.as_array().unwrap() {
                    let s = s.as_str().unwrap();
                    if !mail.warnings.iter().any(|w| w.contains(s)) {
                        problems.push(format!(
                            "no warning containing {s:?} in {:?}",
                            mail.warnings
                        ));
                    }
                }
            }
            "no_warnings" => {
                if want.as_bool() == Some(true) && !mail.warnings.is_empty() {
                    problems.push(format!("unexpected warnings {:?}", mail.warnings));
                }
            }
            "attachments" => {
                let want = want.as_array().unwrap();
                let got = actual["attachments"].as_array().unwrap();
                if want.len() != got.len() {
                    problems.push(format!(
                        "{} attachments, expected {}",
                        got.len(),
                        want.len()
                    ));
                }
                for (w, g) in want.iter().zip(got) {
                    for (k, v) in w.as_object().unwrap() {
                        if k == "min_size" {
                            if g["size"].as_u64() < v.as_u64() {
                                problems.push(format!("attachment {} too small", g["filename"]));
                            }
                        } else if &g[k] != v {
                            problems.push(format!("attachment {k}: {} != expected {v}", g[k]));
                        }
                    }
                }
            }
            "dsn" => {
                if !subset(want, &actual["dsn"]) {
                    problems.push(format!("dsn {} != expected {want}", actual["dsn"]));
                }
            }
            _ => {
                if &actual[key.as_str()] != want {
                    problems.push(format!(
                        "{key}: {} != expected {want}",
                        actual[key.as_str()]
                    ));
                }
            }
        }
    }
    problems
}

/// Whether every field of `want` (recursively; arrays element-wise) is in `got`.
fn subset(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|gv| subset(v, gv))),
        (Value::Array(w), Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| subset(a, b))
        }
        (w, g) => w == g,
    }
}
