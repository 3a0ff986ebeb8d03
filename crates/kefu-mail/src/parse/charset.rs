//! Charset and transfer-encoding fallbacks for what mail-parser could not decode cleanly:
//! unknown or missing charset labels, 8-bit text labelled `us-ascii`, raw 8-bit headers
//! and broken base64 / quoted-printable. mail-parser does the normal case; these run only
//! when its output shows a problem, so a clean mail never pays for them.

use std::borrow::Cow;

use mail_parser::decoders::charsets::{DecoderFnc, map::charset_decoder};

/// A charset label as written, trimmed of quotes and blanks, lowercased.
pub(super) fn normalize_label(label: &str) -> String {
    label
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn is_utf8_label(label: &str) -> bool {
    matches!(
        label,
        "utf-8" | "utf8" | "utf_8" | "unicode-1-1-utf-8" | "unicode11utf8" | "x-unicode20utf8"
    )
}

/// `us-ascii` and its aliases: real mail often carries 8-bit text under this label.
pub(super) fn is_ascii_label(label: &str) -> bool {
    matches!(
        label,
        "us-ascii" | "ascii" | "us_ascii" | "ansi_x3.4-1968" | "iso646-us" | "7bit"
    )
}

/// Labels seen in real mail that mail-parser does not know, and what they mean.
const ALIASES: &[(&str, &str)] = &[
    ("unicode-1-1-utf-7", "utf-7"),
    ("csunicode11utf7", "utf-7"),
    ("x-unicode-2-0-utf-7", "utf-7"),
    ("x-mac-chinesesimp", "gb18030"),
    ("x-euc-cn", "gb18030"),
    ("euc-cn", "gb18030"),
    ("cp950", "big5"),
    ("x-big5", "big5"),
    ("big5_tw", "big5"),
    ("ms950", "big5"),
    ("x-sjis-open", "shift_jis"),
];

/// mail-parser's decoder for a (normalised) label, or for what an alias means.
pub(super) fn decoder_for(label: &str) -> Option<DecoderFnc> {
    if label.is_empty() {
        return None;
    }
    let target = ALIASES
        .iter()
        .find(|(alias, _)| *alias == label)
        .map_or(label, |(_, target)| target);
    charset_decoder(target.as_bytes())
}

/// Whether mail-parser itself decodes this label (else it fell back to lossy UTF-8).
pub(super) fn mail_parser_knows(label: &str) -> bool {
    label.is_empty() || is_utf8_label(label) || charset_decoder(label.as_bytes()).is_some()
}

/// Whether kefu has a decoder for this (normalised) label.
pub(super) fn is_known_label(label: &str) -> bool {
    is_utf8_label(label) || decoder_for(label).is_some()
}

/// Decodes `bytes` labelled `label` (normalised, possibly empty). Returns the text and,
/// if the result is a guess or lossy, a warning for the agent.
pub(super) fn decode(bytes: &[u8], label: &str) -> (String, Option<String>) {
    if !label.is_empty()
        && !is_ascii_label(label)
        && !is_utf8_label(label)
        && let Some(decoder) = decoder_for(label)
    {
        return (decoder(bytes), None);
    }
    if bytes.is_ascii() {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let warning = (!label.is_empty() && !is_known_label(label))
            .then(|| format!("unknown charset {label}, decoded as ASCII"));
        return (text, warning);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let warning = if label.is_empty() || is_utf8_label(label) {
                None
            } else if is_ascii_label(label) {
                Some(format!(
                    "text labelled {label} contains UTF-8; decoded as UTF-8"
                ))
            } else {
                Some(format!("unknown charset {label}, decoded as UTF-8"))
            };
            (text.to_string(), warning)
        }
        Err(_) => {
            let what = if label.is_empty() {
                "no charset declared for 8-bit text".to_string()
            } else if is_utf8_label(label) {
                format!("invalid {label} text")
            } else if is_ascii_label(label) {
                format!("8-bit text labelled {label}")
            } else {
                format!("unknown charset {label}")
            };
            // Mostly UTF-8 with a few bad bytes: keep it UTF-8.
            if mostly_utf8(bytes) {
                let text = String::from_utf8_lossy(bytes).into_owned();
                return (text, Some(format!("{what}; invalid UTF-8 bytes replaced")));
            }
            let (text, guessed) = guess(bytes);
            (text, Some(format!("{what}; guessed {guessed}")))
        }
    }
}

/// Whether `bytes` has at least as many valid multi-byte UTF-8 characters as invalid
/// sequences.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    valid > 0 && valid >= invalid
}

/// Best guess for 8-bit text that is not UTF-8 and has no usable label: GB18030 (kefu's
/// users are mostly Chinese) if it decodes without errors into mostly CJK text, else
/// Windows-1252 (which never fails).
pub(super) fn guess(bytes: &[u8]) -> (String, &'static str) {
    if looks_like_gb2312(bytes)
        && let Some(text) =
            encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)
    {
        return (text.into_owned(), "GB18030");
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    (text.into_owned(), "Windows-1252")
}

/// Whether most 8-bit characters are GB2312 symbols or level-1 hanzi (lead bytes
/// 0xA1–0xA9 or 0xB0–0xD7, trail 0xA1–0xFE): true of ordinary Chinese text, rarely of
/// Latin-1 or Cyrillic text, whose letters fall elsewhere.
fn looks_like_gb2312(bytes: &[u8]) -> bool {
    let (mut common, mut other) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        let trail = bytes.get(i + 1).copied().unwrap_or(0);
        if matches!(b, 0xA1..=0xA9 | 0xB0..=0xD7) && (0xA1..=0xFE).contains(&trail) {
            common += 1;
        } else {
            other += 1;
        }
        i += 2;
    }
    common > 0 && common * 10 >= (common + other) * 6
}

/// A header's raw bytes as UTF-8: unchanged if they already are (the usual case: ASCII
/// with RFC 2047 words, or RFC 6532 UTF-8), else decoded with `fallback_label` (the
/// body's charset) or [`guess`]. Returns a warning when it had to guess.
pub(super) fn header_bytes_utf8<'a>(
    raw: &'a [u8],
    fallback_label: &str,
) -> (Cow<'a, [u8]>, Option<String>) {
    if std::str::from_utf8(raw).is_ok() {
        return (Cow::Borrowed(raw), None);
    }
    if !is_ascii_label(fallback_label)
        && !is_utf8_label(fallback_label)
        && let Some(decoder) = decoder_for(fallback_label)
    {
        return (Cow::Owned(decoder(raw).into_bytes()), None);
    }
    let (text, guessed) = guess(raw);
    (
        Cow::Owned(text.into_bytes()),
        Some(format!(
            "raw 8-bit header without charset; guessed {guessed}"
        )),
    )
}

/// Base64 decoding that never fails: skips characters outside the alphabet, treats `=`
/// as the end of a quantum (so concatenated padded chunks decode) and drops a trailing
/// partial quantum of one character.
pub(super) fn lenient_base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    let flush = |acc: u32, n: u8, out: &mut Vec<u8>| match n {
        2 => out.push((acc >> 4) as u8),
        3 => {
            out.push((acc >> 10) as u8);
            out.push((acc >> 2) as u8);
        }
        _ => {}
    };
    for &b in input {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                flush(acc, n, &mut out);
                acc = 0;
                n = 0;
                continue;
            }
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    flush(acc, n, &mut out);
    out
}

/// Quoted-printable decoding that never fails: `=XX` (either case) is a byte, `=` at the
/// end of a line is a soft break, any other `=` is kept literally.
pub(super) fn lenient_quoted_printable(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        match (input.get(i + 1), input.get(i + 2)) {
            (Some(&h1), Some(&h2)) if hex(h1).is_some() && hex(h2).is_some() => {
                out.push((hex(h1).unwrap_or(0) << 4) | hex(h2).unwrap_or(0));
                i += 3;
            }
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) | (Some(b'\r'), _) => i += 2,
            (None, _) => i += 1,
            _ => {
                out.push(b'=');
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_base64_skips_garbage_and_joins_padded_chunks() {
        assert_eq!(lenient_base64(b"aGVs\nbG8=\r\nIHdv*cmxk"), b"hello world");
        assert_eq!(lenient_base64(b"aGk=aGk="), b"hihi");
        assert_eq!(lenient_base64(b"aGVsbG8"), b"hello");
        assert_eq!(lenient_base64(b"!!!"), b"");
    }

    #[test]
    fn lenient_qp_keeps_broken_escapes() {
        assert_eq!(
            lenient_quoted_printable(b"caf=C3=A9 =\r\nok"),
            "café ok".as_bytes()
        );
        assert_eq!(lenient_quoted_printable(b"a=zzb=4"), b"a=zzb=4");
        assert_eq!(lenient_quoted_printable(b"x=\ny="), b"xy");
    }

    #[test]
    fn guesses_gb18030_for_chinese_and_cp1252_for_latin() {
        let (gbk, _, _) = encoding_rs::GBK.encode("您好，我的打印机坏了，请帮忙看一下。朱镕基");
        assert_eq!(guess(&gbk).1, "GB18030");
        assert_eq!(guess(b"caf\xe9 cr\xe8me").1, "Windows-1252");
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode("Профиль Сообщения Контакты");
        assert_eq!(guess(&cp1251).1, "Windows-1252");
    }

    #[test]
    fn unknown_labels_fall_back_with_a_warning() {
        let (text, warning) = decode("ok".as_bytes(), "x-foo");
        assert_eq!(text, "ok");
        assert!(warning.unwrap().contains("unknown charset x-foo"));
        let (text, warning) = decode("好".as_bytes(), "uft-8");
        assert_eq!(text, "好");
        assert_eq!(warning.unwrap(), "unknown charset uft-8, decoded as UTF-8");
        assert_eq!(decode("好".as_bytes(), "utf-8"), ("好".to_string(), None));
    }
}
