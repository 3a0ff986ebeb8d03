//! Every charset real mail uses, on hand-built fixtures: bodies (8bit, base64,
//! quoted-printable), RFC 2047 headers and mislabelled or unlabelled text.

use encoding_rs::{BIG5, EUC_KR, GBK, ISO_2022_JP, SHIFT_JIS, WINDOWS_1251, WINDOWS_1252};
use kefu_mail::parse::parse;

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// A single-part mail: `headers` (already encoded), then the body bytes.
fn mail(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut raw =
        format!("From: a@example.com\r\nTo: kf@example.com\r\n{headers}\r\n\r\n").into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn encoded_word(label: &str, bytes: &[u8]) -> String {
    format!("=?{label}?B?{}?=", b64(bytes))
}

#[test]
fn gb2312_label_with_gbk_only_characters_decodes_as_gb18030() {
    let text = "朱镕基 喆 堃：您好，发票已开。";
    let (gbk, _, unmappable) = GBK.encode(text);
    assert!(!unmappable);
    let subject = encoded_word("gb2312", &GBK.encode("关于朱镕基的发票").0);
    let from_name = encoded_word("GB2312", &GBK.encode("王喆").0);
    let raw = format!(
        "From: {from_name} <wz@example.cn>\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(&gbk)
    );
    let m = parse(raw.as_bytes());
    assert_eq!(m.text, text);
    assert_eq!(m.subject, "关于朱镕基的发票");
    assert_eq!(m.from.as_ref().unwrap().name.as_deref(), Some("王喆"));
    assert_eq!(m.from.unwrap().email, "wz@example.cn");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn gb18030_four_byte_characters_and_euro_sign() {
    let text = "𠮷野家 €5 堃";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let m = parse(&mail(
        "Content-Type: text/plain; charset=GB18030\r\nContent-Transfer-Encoding: 8bit",
        &bytes,
    ));
    assert_eq!(m.text, text);
}

#[test]
fn gbk_8bit_body() {
    let text = "退款申请：订单 2024-001 还没有到账。";
    let m = parse(&mail(
        "Content-Type: text/plain; charset=\"GBK\"",
        &GBK.encode(text).0,
    ));
    assert_eq!(m.text, text);
}

#[test]
fn big5_quoted_printable_body_and_subject() {
    let text = "客服您好，測試繁體中文。";
    let (bytes, _, _) = BIG5.encode(text);
    let qp: String = bytes.iter().map(|b| format!("={b:02X}")).collect();
    let subject = encoded_word("big5", &BIG5.encode("繁體測試").0);
    let m = parse(&mail(
        &format!(
            "Subject: {subject}\r\nContent-Type: text/plain; charset=big5\r\nContent-Transfer-Encoding: quoted-printable"
        ),
        qp.as_bytes(),
    ));
    assert_eq!(m.text, text);
    assert_eq!(m.subject, "繁體測試");
}

#[test]
fn iso_2022_jp_body_and_subject() {
    let text = "日本語のメールです。";
    let (bytes, _, _) = ISO_2022_JP.encode(text);
    assert!(bytes.is_ascii());
    let subject = encoded_word("ISO-2022-JP", &ISO_2022_JP.encode("お問い合わせ").0);
    let m = parse(&mail(
        &format!(
            "Subject: {subject}\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit"
        ),
        &bytes,
    ));
    assert_eq!(m.text, text);
    assert_eq!(m.subject, "お問い合わせ");
}

#[test]
fn shift_jis_body_with_backslash_trail_bytes() {
    // 表 and ソ have 0x5C as their second byte.
    let text = "表示のソフトウェア";
    let (bytes, _, _) = SHIFT_JIS.encode(text);
    assert!(bytes.contains(&0x5C));
    let m = parse(&mail(
        "Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: base64",
        b64(&bytes).as_bytes(),
    ));
    assert_eq!(m.text, text);
}

#[test]
fn euc_kr_and_ks_c_5601_1987() {
    let text = "안녕하세요 고객센터";
    let (bytes, _, _) = EUC_KR.encode(text);
    for label in ["euc-kr", "ks_c_5601-1987"] {
        let m = parse(&mail(
            &format!("Content-Type: text/plain; charset={label}"),
            &bytes,
        ));
        assert_eq!(m.text, text, "{label}");
    }
}

#[test]
fn utf7_including_the_unicode_1_1_alias() {
    // "Hi 日本語": U+65E5 U+672C U+8A9E in modified base64.
    for label in ["utf-7", "UNICODE-1-1-UTF-7"] {
        let m = parse(&mail(
            &format!("Content-Type: text/plain; charset={label}"),
            b"Hi +ZeVnLIqe-",
        ));
        assert_eq!(m.text, "Hi 日本語", "{label}");
        assert!(m.warnings.is_empty(), "{label}: {:?}", m.warnings);
    }
}

#[test]
fn utf16_with_bom_and_utf16le() {
    let text = "客服 support";
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    let m = parse(&mail(
        "Content-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64",
        b64(&be).as_bytes(),
    ));
    assert_eq!(m.text, text);
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let m = parse(&mail(
        "Content-Type: text/plain; charset=UTF-16LE\r\nContent-Transfer-Encoding: base64",
        b64(&le).as_bytes(),
    ));
    assert_eq!(m.text, text);
}

#[test]
fn iso_8859_and_windows_125x() {
    let m = parse(&mail(
        "Content-Type: text/plain; charset=iso-8859-1",
        b"caf\xe9 cr\xe8me",
    ));
    assert_eq!(m.text, "café crème");
    let m = parse(&mail(
        "Content-Type: text/plain; charset=iso-8859-15",
        b"\xa4 5",
    ));
    assert_eq!(m.text, "€ 5");
    let m = parse(&mail(
        "Content-Type: text/plain; charset=windows-1252",
        b"\x93quoted\x94 \x80",
    ));
    assert_eq!(m.text, "\u{201c}quoted\u{201d} €");
    let (cyr, _, _) = WINDOWS_1251.encode("Привет, мир");
    let m = parse(&mail(
        "Content-Type: text/plain; charset=windows-1251",
        &cyr,
    ));
    assert_eq!(m.text, "Привет, мир");
    let m = parse(&mail(
        "Content-Type: text/plain; charset=iso-8859-2",
        b"\xb1\xe6",
    ));
    assert_eq!(m.text, "ąć");
}

#[test]
fn unknown_charset_is_read_as_utf8_with_a_warning() {
    let m = parse(&mail(
        "Content-Type: text/plain; charset=x-foo",
        "好的 ok".as_bytes(),
    ));
    assert_eq!(m.text, "好的 ok");
    assert_eq!(m.warnings, ["unknown charset x-foo, decoded as UTF-8"]);
    let m = parse(&mail("Content-Type: text/plain; charset=x-foo", b"caf\xe9"));
    assert_eq!(m.text, "café");
    assert_eq!(m.warnings, ["unknown charset x-foo; guessed Windows-1252"]);
}

#[test]
fn unlabelled_8bit_chinese_is_guessed_as_gb18030() {
    let text = "您好，我的打印机坏了，请尽快处理。";
    let m = parse(&mail("Subject: x", &GBK.encode(text).0));
    assert_eq!(m.text, text);
    assert_eq!(
        m.warnings,
        ["no charset declared for 8-bit text; guessed GB18030"]
    );
    let m = parse(&mail(
        "Content-Type: text/plain; charset=us-ascii",
        &WINDOWS_1252.encode("naïve café").0,
    ));
    assert_eq!(m.text, "naïve café");
    assert_eq!(
        m.warnings,
        ["8-bit text labelled us-ascii; guessed Windows-1252"]
    );
}

#[test]
fn utf8_sent_under_a_gb2312_label_stays_utf8() {
    let text = "你好！我公司可代开各类发票";
    let m = parse(&mail(
        "Content-Type: text/plain; charset=\"GB2312\"",
        text.as_bytes(),
    ));
    assert_eq!(m.text, text);
    assert_eq!(
        m.warnings,
        ["text labelled gb2312 is UTF-8; decoded as UTF-8"]
    );
}

#[test]
fn encoded_words_split_inside_a_character_are_joined() {
    let (bytes, _, _) = GBK.encode("朱镕基喆堃");
    let (a, b) = bytes.split_at(3);
    let subject = format!(
        "{}\r\n {}",
        encoded_word("GB2312", a),
        encoded_word("GB2312", b)
    );
    let (name, _, _) = GBK.encode("客服部");
    let (n1, n2) = name.split_at(1);
    let from = format!(
        "{} {} <kf@example.cn>",
        encoded_word("gbk", n1),
        encoded_word("gbk", n2)
    );
    let raw = format!("From: {from}\r\nSubject: {subject}\r\n\r\nx");
    let m = parse(raw.as_bytes());
    assert_eq!(m.subject, "朱镕基喆堃");
    assert_eq!(m.from.unwrap().name.as_deref(), Some("客服部"));
}

#[test]
fn q_encoded_and_mixed_header_words() {
    let raw = "From: =?utf-8?Q?Li_Na_=E6=9D=8E=E5=A8=9C?= <li@example.com>\r\nSubject: Re: =?UTF-8?B?5Y+R56Wo?= [#12] =?utf-8?q?=E9=97=AE=E9=A2=98?=\r\n\r\nx";
    let m = parse(raw.as_bytes());
    assert_eq!(m.from.unwrap().name.as_deref(), Some("Li Na 李娜"));
    assert_eq!(m.subject, "Re: 发票 [#12] 问题");
}

#[test]
fn raw_8bit_headers_use_the_body_charset() {
    let mut raw = b"From: a@example.com\r\nSubject: ".to_vec();
    raw.extend_from_slice(&GBK.encode("发票问题").0);
    raw.extend_from_slice(b"\r\nContent-Type: text/plain; charset=gbk\r\n\r\nx");
    let m = parse(&raw);
    assert_eq!(m.subject, "发票问题");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn malformed_encoded_words_stay_literal() {
    // A multi-byte character where the encoding letter belongs must not be sliced into.
    let m = parse(
        "From: a@example.com\r\nSubject: =?utf-8?é?x?= =?utf-8?€?= =?x?Q?=\r\n\r\nx".as_bytes(),
    );
    assert_eq!(m.subject, "=?utf-8?é?x?= =?utf-8?€?= =?x?Q?=");
}
