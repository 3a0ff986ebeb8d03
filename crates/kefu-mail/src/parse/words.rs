//! RFC 2047 encoded words and RFC 2231 parameters, where mail-parser decodes piece by
//! piece and real mail splits a multi-byte character across pieces: adjacent encoded
//! words of one charset (`=?GB2312?B?1uzp?= =?GB2312?B?Rrv5?=`) and continued parameters
//! (`filename*0*=UTF-8''%E5%B9;` `filename*1*=%B4.pdf`) are joined as bytes first, then
//! decoded once.

use super::charset;

enum Piece {
    Text(String),
    Word { charset: String, bytes: Vec<u8> },
}

/// Splits `text` into literal text and encoded words (whitespace between two encoded
/// words dropped, as RFC 2047 says), joining adjacent words of the same charset. The
/// flag tells whether any words were joined.
fn pieces(text: &str) -> (Vec<Piece>, bool) {
    let mut out: Vec<Piece> = Vec::new();
    let mut joined = false;
    let mut rest = text;
    while let Some(start) = rest.find("=?") {
        let Some((charset, bytes, len)) = encoded_word(&rest[start..]) else {
            push_text(&mut out, &rest[..start + 2]);
            rest = &rest[start + 2..];
            continue;
        };
        let before = &rest[..start];
        let joins_previous = matches!(out.last(), Some(Piece::Word { .. }))
            && before.chars().all(char::is_whitespace);
        if !joins_previous {
            push_text(&mut out, before);
        }
        match out.last_mut() {
            Some(Piece::Word {
                charset: c,
                bytes: b,
            }) if joins_previous && *c == charset && !is_stateful(&charset) => {
                b.extend_from_slice(&bytes);
                joined = true;
            }
            _ => out.push(Piece::Word { charset, bytes }),
        }
        rest = &rest[start + len..];
    }
    push_text(&mut out, rest);
    (out, joined)
}

/// Charsets whose encoded words each reset their state (ISO-2022 escapes, UTF-7 shifts):
/// joining their bytes would put two escapes back to back, which decoders reject.
fn is_stateful(charset: &str) -> bool {
    ["iso-2022", "utf-7", "unicode-1-1-utf-7", "hz"]
        .iter()
        .any(|p| charset.starts_with(p))
}

fn push_text(out: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(t)) = out.last_mut() {
        t.push_str(text);
    } else {
        out.push(Piece::Text(text.to_string()));
    }
}

/// One `=?charset[*lang]?B|Q?data?=` at the start of `s`: (normalised charset, bytes,
/// length in `s`).
fn encoded_word(s: &str) -> Option<(String, Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let q1 = inner.find('?')?;
    let charset = inner[..q1].split('*').next().unwrap_or("");
    if charset.is_empty() || charset.len() > 40 || charset.contains(char::is_whitespace) {
        return None;
    }
    let after = &inner.as_bytes()[q1 + 1..];
    let enc = *after.first()?;
    if !matches!(enc, b'B' | b'b' | b'Q' | b'q') || after.get(1) != Some(&b'?') {
        return None;
    }
    let data_start = q1 + 1 + 2;
    let data_len = inner[data_start..].find("?=")?;
    let data = &inner[data_start..data_start + data_len];
    if data.contains(['\r', '\n']) {
        return None;
    }
    let bytes = match enc {
        b'B' | b'b' => charset::lenient_base64(data.as_bytes()),
        b'Q' | b'q' => {
            let underscores = data.replace('_', " ");
            charset::lenient_quoted_printable(underscores.as_bytes())
        }
        _ => return None,
    };
    Some((
        charset::normalize_label(charset),
        bytes,
        2 + data_start + data_len + 2,
    ))
}

/// Header text with its encoded words decoded (adjacent same-charset words joined).
pub(super) fn decode_encoded_words(text: &str) -> String {
    if !text.contains("=?") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text).0 {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Word { charset, bytes } => out.push_str(&charset::decode(&bytes, &charset).0),
        }
    }
    out
}

/// The header rewritten so that each run of adjacent same-charset encoded words is one
/// base64 word, if there was such a run (for re-parsing address headers with
/// mail-parser, which decodes word by word).
pub(super) fn join_adjacent_words(text: &str) -> Option<String> {
    if text.matches("=?").count() < 2 {
        return None;
    }
    let (pieces, joined) = pieces(text);
    if !joined {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Word { charset, bytes } => {
                out.push_str("=?");
                out.push_str(&charset);
                out.push_str("?B?");
                out.push_str(&base64(&bytes));
                out.push_str("?=");
            }
        }
    }
    Some(out)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The value of parameter `name` in a raw `Content-Type`/`Content-Disposition` header
/// when it uses RFC 2231 continuations (`name*0*=charset''%xx…; name*1*=…`): segments in
/// order, percent-decoded to bytes, joined, then decoded with the declared charset.
/// `None` if the header has no continuations for `name`.
pub(super) fn rfc2231_continued(raw: &str, name: &str) -> Option<String> {
    let mut segments: Vec<(u32, bool, String)> = Vec::new();
    for param in split_params(raw) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let Some(rest) = key.strip_prefix(name).and_then(|r| r.strip_prefix('*')) else {
            continue;
        };
        let (index, encoded) = match rest.strip_suffix('*') {
            Some(n) => (n, true),
            None => (rest, false),
        };
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        segments.push((index, encoded, value.to_string()));
    }
    if segments.is_empty() {
        return None;
    }
    segments.sort_by_key(|(i, _, _)| *i);
    let mut label = String::new();
    let mut bytes = Vec::new();
    for (n, (_, encoded, value)) in segments.iter().enumerate() {
        let mut value = value.as_str();
        if n == 0 && *encoded {
            let mut parts = value.splitn(3, '\'');
            if let (Some(cs), Some(_lang), Some(v)) = (parts.next(), parts.next(), parts.next()) {
                label = charset::normalize_label(cs);
                value = v;
            }
        }
        if *encoded {
            bytes.extend(percent_decode(value));
        } else {
            bytes.extend_from_slice(value.as_bytes());
        }
    }
    Some(charset::decode(&bytes, &label).0)
}

/// The raw value of parameter `name` (quotes removed), for re-decoding encoded words in
/// it when mail-parser's decoding came out broken.
pub(super) fn raw_param(raw: &str, name: &str) -> Option<String> {
    split_params(raw).into_iter().find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
                .to_string()
        })
    })
}

/// `;`-separated parameters, ignoring `;` inside quotes.
fn split_params(raw: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            ';' if !in_quote => {
                out.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&raw[start..]);
    out
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_a_character_split_across_encoded_words() {
        // 朱镕基 in GBK, split after the third byte.
        let split = "=?GB2312?B?1uzp?= =?GB2312?B?Rrv5?=";
        assert_eq!(decode_encoded_words(split), "朱镕基");
        let joined = join_adjacent_words(&format!("{split} <a@b.c>")).unwrap();
        assert_eq!(joined, "=?gb2312?B?1uzpRrv5?= <a@b.c>");
        assert_eq!(
            decode_encoded_words("a =?utf-8?Q?caf=C3=A9_au?= lait"),
            "a café au lait"
        );
        assert_eq!(decode_encoded_words("=?bogus"), "=?bogus");
        assert_eq!(join_adjacent_words("=?utf-8?Q?a?= x =?utf-8?Q?b?="), None);
        // ISO-2022-JP words each end in ASCII mode; they are decoded one by one.
        let jp = "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=  =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=";
        assert_eq!(decode_encoded_words(jp), "テストテスト");
    }

    #[test]
    fn rfc2231_segments_are_joined_before_decoding() {
        let raw = " attachment;\r\n filename*0*=UTF-8''%E5%B9; filename*1*=%B4.pdf";
        assert_eq!(
            rfc2231_continued(raw, "filename").as_deref(),
            Some("年.pdf")
        );
        let raw = " attachment; filename*1=\"b.txt\"; filename*0=\"a \"";
        assert_eq!(
            rfc2231_continued(raw, "filename").as_deref(),
            Some("a b.txt")
        );
        assert_eq!(
            rfc2231_continued(" attachment; filename=x", "filename"),
            None
        );
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64(b"hi"), "aGk=");
        assert_eq!(base64(b"hey"), "aGV5");
        assert_eq!(base64(b"h"), "aA==");
    }
}
