//! Feeds arbitrary bytes through everything kefu does with an inbound mail before it
//! reaches the database: `parse`, the display-time HTML rewrites, quote folding and the
//! domain's header rules. Besides "no panic" it checks the invariants callers rely on.
//! The same bytes are also tried as HTML (the sanitiser sees more shapes that way than
//! through MIME alone).
//!
//! Run from `crates/kefu-mail`, seeded with the shared corpus (flattened, since it nests):
//!
//! ```sh
//! mkdir -p /tmp/mail-seeds && (cd ../../../shared/data/emails && tail -n +2 manifest.csv \
//!   | cut -d, -f1 | while read f; do cp "$f" "/tmp/mail-seeds/$(echo "$f" | tr / _)"; done)
//! cargo +nightly fuzz run -O parse_mail fuzz/corpus/parse_mail /tmp/mail-seeds -- \
//!   -max_len=65536 -timeout=10 -max_total_time=1200
//! ```
//!
//! `-O` builds dependencies as in production (mail-parser's `debug_assert!`s trip on
//! some inputs where release builds carry on); kefu's own crates keep debug assertions
//! and overflow checks through the profile overrides in `Cargo.toml`.

#![no_main]

use kefu_domain::mail::{classify_auto, parse_reply_token, ticket_number_in_subject};
use kefu_mail::{html, parse::parse, quote};
use libfuzzer_sys::fuzz_target;

/// The attribute names of every tag in serialised HTML (text never holds a raw `<`).
fn attribute_names(html: &str) -> Vec<String> {
    let mut names = Vec::new();
    for tag in html.split('<').skip(1) {
        let mut in_quote = false;
        let mut current = String::new();
        let mut after_name = false;
        for c in tag.chars() {
            match c {
                '"' => in_quote = !in_quote,
                _ if in_quote => {}
                '>' => break,
                ' ' | '\t' | '\n' => {
                    if after_name && !current.is_empty() {
                        names.push(std::mem::take(&mut current));
                    }
                    after_name = true;
                    current.clear();
                }
                '=' => {
                    if after_name && !current.is_empty() {
                        names.push(std::mem::take(&mut current));
                    }
                }
                c if after_name => current.push(c.to_ascii_lowercase()),
                _ => {}
            }
        }
        if after_name && !current.is_empty() {
            names.push(current);
        }
    }
    names
}

fn check_html(sanitized: &str) {
    let rendered = html::render_mail_html(sanitized, &|cid| Some(format!("/a/{cid}?x=\"<")), true);
    let _ = html::has_remote_images(sanitized);
    for out in [sanitized, rendered.as_str()] {
        let lower = out.to_ascii_lowercase();
        for bad in [
            "<script", "<iframe", "<object", "<embed", "<style", "<form", "<svg", "<math",
        ] {
            assert!(!lower.contains(bad), "{bad} survived in {out:?}");
        }
        for name in attribute_names(out) {
            assert!(
                !name.starts_with("on") && name != "srcset",
                "attribute {name} survived in {out:?}"
            );
        }
    }
    let (main, quoted) = quote::fold_html(sanitized);
    if quoted.is_none() {
        assert_eq!(main, sanitized);
    }
}

fuzz_target!(|data: &[u8]| {
    let mail = parse(data);

    if let Some(sanitized) = &mail.html {
        check_html(sanitized);
    }
    let (main, _) = quote::split_text(&mail.text);
    if !mail.text.trim().is_empty() {
        assert!(
            !main.trim().is_empty(),
            "split_text emptied {:?}",
            mail.text
        );
    }
    let headers = mail.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let _ = classify_auto(headers, data.first() == Some(&b'\0'));
    let _ = ticket_number_in_subject(&mail.subject);
    for a in mail
        .from
        .iter()
        .chain(&mail.reply_to)
        .chain(&mail.to)
        .chain(&mail.cc)
    {
        let _ = parse_reply_token(&a.email);
    }
    for a in &mail.attachments {
        assert!(!a.filename.is_empty() && !a.filename.contains(['/', '\\']));
    }

    if data.len() <= 64 * 1024 {
        let text = String::from_utf8_lossy(data);
        check_html(&html::sanitize_mail_html(&text));
        let (main, _) = quote::split_text(&text);
        if !text.trim().is_empty() {
            assert!(!main.trim().is_empty(), "split_text emptied {text:?}");
        }
    }
});
