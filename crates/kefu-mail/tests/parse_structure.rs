//! MIME structure on hand-built fixtures: alternatives, related images, attachments and
//! their names, forwarded mail, DSNs, line endings, broken encodings and non-mail input.

use kefu_mail::parse::parse;

const THREADED: &str = "From: \"Li Na\" <li.na@example.com>\r
Reply-To: Support Robot <noreply@example.com>\r
To: kf@example.com, \"Ops\" <ops@example.com>\r
Cc: boss@example.com\r
Subject: Re: printer\r
Date: Tue, 2 Jan 2024 10:00:00 +0800\r
Message-ID: <abc.123@mail.example.com>\r
In-Reply-To: <t42.1@kefu.example>\r
References: <t42.0@kefu.example>\r
 <t42.1@kefu.example>\r
Content-Type: multipart/alternative; boundary=\"alt\"\r
\r
--alt\r
Content-Type: text/plain; charset=utf-8\r
\r
Plain body\r
--alt\r
Content-Type: text/html; charset=utf-8\r
\r
<p onclick=\"x()\">HTML <b>body</b><script>alert(1)</script></p>\r
--alt--\r
";

#[test]
fn headers_addresses_and_ids_are_read() {
    let m = parse(THREADED.as_bytes());
    assert_eq!(m.message_id.as_deref(), Some("abc.123@mail.example.com"));
    assert_eq!(m.in_reply_to, ["t42.1@kefu.example"]);
    assert_eq!(m.references, ["t42.0@kefu.example", "t42.1@kefu.example"]);
    let from = m.from.clone().unwrap();
    assert_eq!(
        (from.email.as_str(), from.name.as_deref()),
        ("li.na@example.com", Some("Li Na"))
    );
    assert_eq!(m.reply_to.clone().unwrap().email, "noreply@example.com");
    let to: Vec<&str> = m.to.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(to, ["kf@example.com", "ops@example.com"]);
    assert_eq!(m.cc[0].email, "boss@example.com");
    assert_eq!(m.subject, "Re: printer");
    assert_eq!(m.date.unwrap().to_string(), "2024-01-02T02:00:00Z");
    assert!(
        m.headers
            .iter()
            .any(|(n, v)| n == "References" && v == "<t42.0@kefu.example> <t42.1@kefu.example>")
    );
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn alternative_gives_plain_text_and_sanitised_html() {
    let m = parse(THREADED.as_bytes());
    assert_eq!(m.text, "Plain body");
    let html = m.html.unwrap();
    assert_eq!(html, "<p>HTML <b>body</b></p>");
}

#[test]
fn html_only_mail_gets_a_text_rendering() {
    let raw = "From: a@example.com\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>Hello <b>there</b></p><p>Second</p></body></html>\n";
    let m = parse(raw.as_bytes());
    assert!(m.text.contains("Hello there"), "{:?}", m.text);
    assert!(m.text.contains("Second"));
    assert!(m.html.is_some());
}

#[test]
fn plain_only_mail_has_no_html() {
    let m = parse(b"From: a@example.com\n\nJust text\n");
    assert_eq!(m.text, "Just text");
    assert_eq!(m.html, None);
}

const RELATED: &str = "From: a@example.com\r
Content-Type: multipart/mixed; boundary=mixed\r
\r
--mixed\r
Content-Type: multipart/related; boundary=rel\r
\r
--rel\r
Content-Type: multipart/alternative; boundary=alt\r
\r
--alt\r
Content-Type: text/plain\r
\r
See the logo.\r
--alt\r
Content-Type: text/html\r
\r
<p>See <img src=\"cid:logo.png@01D9\"> and <img src=\"https://t.example/p.gif\"></p>\r
--alt--\r
--rel\r
Content-Type: image/png\r
Content-ID: <logo.png@01D9>\r
Content-Transfer-Encoding: base64\r
\r
iVBORw0KGgo=\r
--rel--\r
--mixed\r
Content-Type: application/pdf\r
Content-Disposition: attachment\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQ=\r
--mixed\r
Content-Type: application/octet-stream; name=\"../../etc/passwd\"\r
\r
x\r
--mixed--\r
";

#[test]
fn related_images_are_inline_and_attachments_get_names() {
    let m = parse(RELATED.as_bytes());
    assert_eq!(m.text, "See the logo.");
    let html = m.html.unwrap();
    assert!(html.contains("src=\"cid:logo.png@01D9\""), "{html}");
    assert!(
        html.contains("data-remote-src=\"https://t.example/p.gif\""),
        "{html}"
    );
    assert_eq!(m.attachments.len(), 3);
    let logo = &m.attachments[0];
    assert_eq!(logo.content_type, "image/png");
    assert_eq!(logo.content_id.as_deref(), Some("logo.png@01D9"));
    assert!(logo.inline);
    assert_eq!(logo.data, b"\x89PNG\r\n\x1a\n");
    assert!(logo.filename.ends_with(".png"), "{}", logo.filename);
    let pdf = &m.attachments[1];
    assert_eq!(
        (pdf.filename.as_str(), pdf.content_type.as_str()),
        ("attachment-2.pdf", "application/pdf")
    );
    assert_eq!(pdf.data, b"%PDF-1.4");
    assert!(!pdf.inline);
    assert_eq!(m.attachments[2].filename, "passwd");
}

#[test]
fn rfc2231_continued_chinese_file_name() {
    // "2024年第一季度报价单.pdf", percent-encoded and split inside 年 (E5 B9 B4).
    let raw = b"From: a@example.com\r
Content-Type: multipart/mixed; boundary=b\r
\r
--b\r
Content-Type: text/plain\r
\r
see attachment\r
--b\r
Content-Type: application/pdf\r
Content-Disposition: attachment;\r
 filename*0*=UTF-8''2024%E5%B9;\r
 filename*1*=%B4%E7%AC%AC%E4%B8%80%E5%AD%A3%E5%BA%A6;\r
 filename*2*=%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0=\r
--b\r
Content-Type: text/plain; charset=gbk; name=\"=?GBK?B?usPNrC50eHQ=?=\"\r
Content-Disposition: attachment; filename=\"=?GBK?B?usPNrC50eHQ=?=\"\r
\r
\xc4\xe3\xba\xc3\r
--b\r
Content-Type: application/vnd.ms-excel\r
Content-Disposition: attachment; filename*=gb2312''%B1%A8%B1%ED.xls\r
\r
x\r
--b--\r
";
    let m = parse(raw);
    let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, ["2024年第一季度报价单.pdf", "好同.txt", "报表.xls"]);
    // Text attachments keep their original bytes and say which charset they are in.
    assert_eq!(m.attachments[1].data, b"\xc4\xe3\xba\xc3");
    assert_eq!(m.attachments[1].content_type, "text/plain; charset=gbk");
}

const FORWARD: &str = "From: zhang@example.cn\r
To: kf@example.com\r
Subject: Fwd: 发票\r
Content-Type: multipart/mixed; boundary=f\r
\r
--f\r
Content-Type: text/plain; charset=utf-8\r
\r
请看下面的邮件。\r
--f\r
Content-Type: message/rfc822\r
\r
From: =?utf-8?B?5p2O5aic?= <li@example.com>\r
To: zhang@example.cn\r
Subject: =?utf-8?B?5Y+R56Wo?=\r
Date: Mon, 1 Jan 2024 09:00:00 +0800\r
Message-ID: <inner@example.com>\r
Content-Type: text/plain; charset=utf-8\r
\r
发票还没收到。\r
--f--\r
";

#[test]
fn forwarded_mail_is_attached_and_rendered_into_the_text() {
    let m = parse(FORWARD.as_bytes());
    assert_eq!(m.attachments.len(), 1);
    let fwd = &m.attachments[0];
    assert_eq!(fwd.filename, "forwarded-1.eml");
    assert_eq!(fwd.content_type, "message/rfc822");
    let inner = parse(&fwd.data);
    assert_eq!(inner.message_id.as_deref(), Some("inner@example.com"));
    assert_eq!(inner.text, "发票还没收到。");
    assert_eq!(
        m.text,
        "请看下面的邮件。\n\n---------- Forwarded message ----------\nFrom: 李娜 <li@example.com>\nDate: Mon, 1 Jan 2024 09:00:00 +0800\nSubject: 发票\nTo: zhang@example.cn\n\n发票还没收到。"
    );
    // The outer mail's own ids are not the forwarded one's.
    assert_eq!(m.message_id, None);
}

#[test]
fn line_endings_do_not_change_the_result() {
    let crlf = FORWARD.as_bytes().to_vec();
    let lf = FORWARD.replace("\r\n", "\n").into_bytes();
    let cr = FORWARD.replace("\r\n", "\r").into_bytes();
    let a = parse(&crlf);
    for other in [parse(&lf), parse(&cr)] {
        assert_eq!(other.text, a.text);
        assert_eq!(other.subject, a.subject);
        assert_eq!(other.attachments.len(), 1);
        assert!(other.warnings.is_empty(), "{:?}", other.warnings);
    }
}

#[test]
fn broken_base64_is_decoded_as_far_as_possible() {
    // "你好，世界" in UTF-8 base64, with garbage inserted and a line cut short.
    let raw = "From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n5L2g5aW9!!77yM\r\n5LiW55WM*\r\n";
    let m = parse(raw.as_bytes());
    assert_eq!(m.text, "你好，世界");
    assert!(
        m.warnings.iter().any(|w| w.contains("damaged")),
        "{:?}",
        m.warnings
    );
}

#[test]
fn broken_quoted_printable_is_tolerated() {
    let raw = "From: a@example.com\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 =ZZ 100=\n% done=3d\n";
    let m = parse(raw.as_bytes());
    assert_eq!(m.text, "café =ZZ 100% done=");
}

#[test]
fn truncated_multipart_keeps_what_arrived() {
    let raw = "From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nfirst part\n--x\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLj";
    let m = parse(raw.as_bytes());
    assert_eq!(m.text, "first part");
    assert_eq!(m.attachments.len(), 1);
    assert!(m.attachments[0].data.starts_with(b"%PDF-1."));
}

#[test]
fn input_that_is_not_mail_becomes_raw_text_with_a_warning() {
    for (input, text) in [
        (&b""[..], ""),
        (b"x", "x"),
        (b"\r\n\r\n", ""),
        (
            b"just a line of text without headers",
            "just a line of text without headers",
        ),
        (b"\xff\xfe\x00", ""),
    ] {
        let m = parse(input);
        assert!(!m.warnings.is_empty(), "{input:?}");
        if !text.is_empty() {
            assert!(m.text.contains(text), "{input:?} -> {:?}", m.text);
        }
    }
    assert_eq!(parse(b"").warnings, ["empty message"]);
}

#[test]
fn mbox_separator_line_is_skipped() {
    let m = parse(
        b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nFrom: a@example.com\nSubject: hi\n\nbody\n",
    );
    assert_eq!(m.subject, "hi");
    assert_eq!(m.from.unwrap().email, "a@example.com");
}

#[test]
fn missing_from_is_a_warning() {
    let m = parse(b"Subject: anonymous\n\nhello\n");
    assert_eq!(m.warnings, ["no From header"]);
    let m = parse(b"From: MAILER-DAEMON <>\nSubject: x\n\nhello\n");
    assert_eq!(m.warnings, ["From header has no address"]);
}

#[test]
fn unreadable_dates_are_a_warning() {
    let m = parse(b"From: a@example.com\nDate: yesterday-ish\n\nx");
    assert_eq!(m.date, None);
    assert_eq!(m.warnings, ["could not read Date header \"yesterday-ish\""]);
}

const DSN: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r
To: kf@example.com\r
Subject: Undelivered Mail Returned to Sender\r
Content-Type: multipart/report; report-type=delivery-status; boundary=r\r
\r
--r\r
Content-Type: text/plain\r
\r
Your message could not be delivered.\r
--r\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.example.net\r
\r
Final-Recipient: rfc822; nobody@example.org\r
Action: failed\r
Status: 5.1.1\r
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address\r
 rejected: User unknown\r
\r
Final-Recipient: rfc822; slow@example.org\r
Action: delayed\r
Status: 4.4.7\r
--r\r
Content-Type: message/rfc822\r
\r
From: kf@example.com\r
Message-ID: <t42.5@kefu.example>\r
Subject: [#42] Your ticket\r
\r
Hello\r
--r--\r
";

#[test]
fn delivery_status_notifications_are_read() {
    let m = parse(DSN.as_bytes());
    let dsn = m.dsn.unwrap();
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("t42.5@kefu.example")
    );
    assert_eq!(dsn.recipients.len(), 2);
    let r = &dsn.recipients[0];
    assert_eq!(
        (r.recipient.as_str(), r.action.as_str(), r.status.as_str()),
        ("nobody@example.org", "failed", "5.1.1")
    );
    assert_eq!(
        r.diagnostic.as_deref(),
        Some("550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown")
    );
    assert_eq!(dsn.recipients[1].action, "delayed");
    // The returned mail is kept, but not rendered into the bounce's text.
    assert_eq!(m.text, "Your message could not be delivered.");
    assert_eq!(
        m.attachments
            .iter()
            .filter(|a| a.filename == "returned-message-1.eml")
            .count(),
        1
    );
}

#[test]
fn dsn_with_only_returned_headers() {
    let raw = DSN.replace(
        "Content-Type: message/rfc822\r\n\r\nFrom",
        "Content-Type: text/rfc822-headers\r\n\r\nFrom",
    );
    let dsn = parse(raw.as_bytes()).dsn.unwrap();
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("t42.5@kefu.example")
    );
}

#[test]
fn ordinary_mail_is_not_a_dsn() {
    assert_eq!(parse(THREADED.as_bytes()).dsn, None);
}

#[test]
fn fuzz_regressions_parse() {
    // Inputs the fuzzer found (tests/golden/fuzz-regressions): each must parse without a
    // panic into something, in debug builds too.
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let m = parse(&raw);
        assert!(
            !m.warnings.iter().any(|w| w.contains("internal error")),
            "{:?}",
            m.warnings
        );
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn mail_parser_multipart_id_assertion_is_harmless() {
    // Found by fuzzing: a message/rfc822 part whose body is only another message/rfc822
    // header trips mail-parser's `debug_assert!` ("Invalid part ID, could not find
    // multipart"). kefu builds mail-parser without debug assertions (as in release);
    // were they on, `parse` would catch the panic and show the mail as raw text.
    let raw = b"X: R\nContent-Type: Multipart/Md;boundary=\"-\n\n----\nContent-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n\n\n-----\n\n";
    let m = parse(raw);
    assert_eq!(m.warnings, ["no From header"]);
    assert_eq!(m.attachments.len(), 1);
}

#[test]
fn empty_plain_alternative_falls_back_to_the_html() {
    let raw = "From: a@example.com\nContent-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\n\n--a\nContent-Type: text/html\n\n<p>Real <b>content</b></p>\n--a--\n";
    let m = parse(raw.as_bytes());
    assert_eq!(m.text, "Real content");
    assert_eq!(m.html.as_deref(), Some("<p>Real <b>content</b></p>"));
}
