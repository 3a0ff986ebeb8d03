//! Folding quoted history and signatures out of a reply, so agents see what is new.
//!
//! Owns: recognising the reply headers, separators and quote markup that mail clients
//! (Gmail, Outlook, Apple Mail, Thunderbird, QQ Mail, NetEase 163/126, Foxmail …) write in
//! English and Chinese. Never drops anything: the folded part is returned for a "show
//! quoted text" toggle, and when everything looks quoted the whole input stays the main
//! part.
//!
//! Heuristic by nature: a false fold hides text behind a toggle; a missed fold shows
//! history. Interleaved replies (answers between `>` lines) are not folded at their header.

use crate::html::{KEPT_CLASSES, KEPT_IDS};

/// Splits a plain-text reply into the new part and the folded rest (quoted history and
/// signature), cutting at the earliest of: a reply header ("On … wrote:", "在 … 写道："),
/// a separator ("-----Original Message-----", "------------------ 原始邮件
/// ------------------"), an Outlook header block ("From:/发件人:" followed by
/// "Sent:/发送时间:" …), a trailing block of `>` lines, or a signature delimiter ("-- ",
/// "发自我的iPhone" …). Never returns an empty main part for non-blank text.
pub fn split_text(text: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let Some(cut) = find_text_cut(&lines) else {
        return (text.to_string(), None);
    };
    let main = lines[..cut].join("\n");
    let main = main.trim_end();
    if main.trim().is_empty() {
        return (text.to_string(), None);
    }
    let rest = lines[cut..].join("\n");
    let rest = rest.trim_matches('\n');
    (
        main.to_string(),
        (!rest.trim().is_empty()).then(|| rest.to_string()),
    )
}

fn find_text_cut(lines: &[&str]) -> Option<usize> {
    let mut cut = None;
    for i in 0..lines.len() {
        let line = lines[i].trim();
        if is_signature_line(lines[i]) || is_separator(line) || outlook_block_at(lines, i) {
            cut = Some(i);
            break;
        }
        if let Some(end) = reply_header_end(lines, i)
            && !is_interleaved(lines, end + 1)
        {
            cut = Some(i);
            break;
        }
    }
    // A trailing block of `>` lines (blank lines allowed inside).
    let mut start = None;
    for i in (0..lines.len()).rev() {
        let t = lines[i].trim_start();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('>') {
            start = Some(i);
        } else {
            break;
        }
    }
    let cut = match (cut, start) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    // An underscore rule right above an Outlook block belongs to it.
    let mut cut = cut;
    while cut > 0 {
        let above = lines[cut - 1].trim();
        if above.is_empty() || (above.len() >= 8 && above.chars().all(|c| c == '_' || c == '-')) {
            cut -= 1;
        } else {
            break;
        }
    }
    Some(cut)
}

fn is_signature_line(line: &str) -> bool {
    let trimmed = line.trim();
    if line.trim_end_matches('\r') == "-- " || line.trim_end() == "--" {
        return true;
    }
    const SENT_FROM: &[&str] = &[
        "sent from my iphone",
        "sent from my ipad",
        "sent from my android",
        "sent from my mobile",
        "sent from mail for windows",
        "sent from outlook",
        "get outlook for ios",
        "get outlook for android",
        "发自我的iphone",
        "发自我的 iphone",
        "发自我的ipad",
        "发自我的手机",
        "发自我的华为手机",
        "发自我的荣耀手机",
        "发自我的小米手机",
        "发自网易邮箱大师",
        "发自网易邮箱手机版",
        "发自 qq 邮箱",
        "发自qq邮箱",
        "从我的 iphone 发送",
        "从我的iphone发送",
        "寄自我的iphone",
        "寄自我的 iphone",
        "使用 outlook for ios 发送",
    ];
    let lower = trimmed.to_lowercase();
    let lower = lower.trim_start_matches(['-', ' ']);
    SENT_FROM
        .iter()
        .any(|s| lower == *s || lower.starts_with(&format!("{s} ")))
}

/// "-----Original Message-----", "-------- 原始邮件 --------", "---------- Forwarded
/// message ---------", QQ's "------------------ Original ------------------" …
fn is_separator(line: &str) -> bool {
    let dashes = line
        .chars()
        .filter(|&c| c == '-' || c == '_' || c == '=')
        .count();
    if dashes < 4 {
        return false;
    }
    let words: String = line
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '=' | '\u{a0}') && !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    matches!(
        words.as_str(),
        "originalmessage"
            | "original"
            | "forwardedmessage"
            | "forwardmessage"
            | "messageforwarded"
            | "原始邮件"
            | "邮件原件"
            | "原始郵件"
            | "郵件原件"
            | "转发邮件"
            | "转发邮件信息"
            | "轉寄郵件"
            | "转发的邮件"
            | "回复的原邮件"
            | "原邮件"
    )
}

/// If line `i` starts a reply header ("On … wrote:", possibly wrapped over up to three
/// lines, "在 … 写道：", "… 于 … 写道："), the index of its last line.
fn reply_header_end(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines[i].trim().trim_start_matches('>').trim();
    if first.is_empty() || first.chars().count() > 300 {
        return None;
    }
    let ends_header = |s: &str| {
        let s = s.trim().trim_end_matches(['\u{a0}', ' ']);
        s.ends_with("wrote:")
            || s.ends_with("写道：")
            || s.ends_with("写道:")
            || s.ends_with("寫道：")
            || s.ends_with("寫道:")
            || s.ends_with("schrieb:")
            || s.ends_with("a écrit :")
            || s.ends_with("a écrit:")
            || s.ends_with("escribió:")
    };
    let looks_like_header =
        |s: &str| s.contains('@') || s.chars().any(|c| c.is_ascii_digit()) || s.contains('<');
    if ends_header(first) && looks_like_header(first) {
        return Some(i);
    }
    // Gmail wraps long English headers: "On Mon, … Name <\nname@example.com> wrote:".
    if !(first.starts_with("On ") || first.starts_with('在')) || !looks_like_header(first) {
        return None;
    }
    (i + 1..lines.len().min(i + 3)).find(|&j| ends_header(lines[j]))
}

/// Whether the lines from `from` are an interleaved reply: quoted lines with the
/// writer's own text between them (then folding at the header would hide answers).
fn is_interleaved(lines: &[&str], from: usize) -> bool {
    let mut seen_quote = false;
    let mut own_after_quote = false;
    // A local question: look at the next few hundred lines only (keeps adversarial
    // input with thousands of reply headers linear).
    for line in lines.iter().skip(from).take(300) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('>') {
            if own_after_quote {
                return true;
            }
            seen_quote = true;
        } else if !seen_quote {
            // Outlook style: the history is not `>`-quoted at all.
            return false;
        } else {
            own_after_quote = true;
        }
    }
    false
}

/// An Outlook/Foxmail header block at line `i`: "From:" / "发件人:" followed within five
/// lines by at least two of Sent/Date/To/Subject (or their Chinese forms).
fn outlook_block_at(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim().trim_start_matches('*').trim();
    const FROM: &[&str] = &[
        "from:",
        "from：",
        "发件人:",
        "发件人：",
        "寄件者:",
        "寄件者：",
        "发件人 :",
    ];
    let lower = line.to_lowercase();
    if !FROM.iter().any(|f| lower.starts_with(f)) {
        return false;
    }
    const OTHERS: &[&str] = &[
        "sent:",
        "date:",
        "to:",
        "subject:",
        "cc:",
        "发送时间",
        "日期",
        "收件人",
        "主题",
        "抄送",
        "時間",
        "日期:",
        "收件者",
        "主旨",
        "寄件日期",
    ];
    let found = lines
        .iter()
        .skip(i + 1)
        .take(6)
        .filter(|l| {
            let l = l.trim().trim_start_matches('*').trim().to_lowercase();
            OTHERS.iter().any(|o| l.starts_with(o))
        })
        .count();
    found >= 2
}

/// Splits sanitised HTML (from [`crate::html::sanitize_mail_html`]) the same way: at the
/// earliest quote container (`blockquote type=cite`, `div.gmail_quote`, Outlook's
/// `#appendonsend`/`#divRplyFwdMsg`, NetEase's `#isReplyContent`, Thunderbird's
/// `.moz-cite-prefix`, Yahoo's `.yahoo_quoted`, `.gmail_signature`) or the element holding
/// a separator line ("原始邮件", "Original Message") or an Outlook "From:" header block.
/// Both halves are balanced (open elements are closed in the first and reopened in the
/// second). Returns the input whole when nothing is found or nothing would remain.
pub fn fold_html(html: &str) -> (String, Option<String>) {
    let Some((cut, open)) = find_html_cut(html) else {
        return (html.to_string(), None);
    };
    let head = &html[..cut];
    if visible_text(head).trim().is_empty() {
        return (html.to_string(), None);
    }
    let mut main = head.to_string();
    for (name, _) in open.iter().rev() {
        main.push_str("</");
        main.push_str(name);
        main.push('>');
    }
    let mut rest = String::new();
    for (_, start_tag) in &open {
        rest.push_str(start_tag);
    }
    rest.push_str(&html[cut..]);
    (main, Some(rest))
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// The byte offset to cut at and the elements open there (name, start tag text).
fn find_html_cut(html: &str) -> Option<(usize, Vec<(String, String)>)> {
    let mut stack: Vec<(String, String, usize)> = Vec::new();
    let mut pos = 0;
    while pos < html.len() {
        let rest = &html[pos..];
        let Some(lt) = rest.find('<') else {
            break;
        };
        if lt > 0 {
            let text = &rest[..lt];
            if text_marks_quote(text, &html[pos + lt..]) {
                // Cut at the innermost enclosing block element.
                let block = stack.iter().rposition(|(name, _, _)| {
                    matches!(name.as_str(), "div" | "p" | "td" | "blockquote")
                });
                if let Some(b) = block {
                    let at = stack[b].2;
                    let open = stack[..b]
                        .iter()
                        .map(|(n, t, _)| (n.clone(), t.clone()))
                        .collect();
                    return Some((at, open));
                }
                let open = stack
                    .iter()
                    .map(|(n, t, _)| (n.clone(), t.clone()))
                    .collect();
                return Some((pos, open));
            }
        }
        let tag_start = pos + lt;
        let tag_len = tag_len(&html[tag_start..]);
        let tag = &html[tag_start..tag_start + tag_len];
        pos = tag_start + tag_len;
        if let Some(name) = tag.strip_prefix("</") {
            let name = name.trim_end_matches('>').trim().to_ascii_lowercase();
            if let Some(i) = stack.iter().rposition(|(n, _, _)| *n == name) {
                stack.truncate(i);
            }
            continue;
        }
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if tag_marks_quote(&name, tag) {
            let open = stack
                .iter()
                .map(|(n, t, _)| (n.clone(), t.clone()))
                .collect();
            return Some((tag_start, open));
        }
        if !VOID.contains(&name.as_str()) && !tag.ends_with("/>") {
            stack.push((name, tag.to_string(), tag_start));
        }
    }
    None
}

fn tag_len(s: &str) -> usize {
    let mut quote: Option<u8> = None;
    for (i, &b) in s.as_bytes().iter().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"') => quote = Some(b),
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

fn tag_marks_quote(name: &str, tag: &str) -> bool {
    if name == "blockquote" && attr(tag, "type").is_some_and(|t| t.eq_ignore_ascii_case("cite")) {
        return true;
    }
    if attr(tag, "id").is_some_and(|id| KEPT_IDS.contains(&id)) {
        return true;
    }
    if let Some(class) = attr(tag, "class") {
        return class
            .split_whitespace()
            .any(|c| KEPT_CLASSES.contains(&c) && c != "gmail_extra" && c != "gmail_attr");
    }
    false
}

/// A text node that is a separator line, or the "From:" of an Outlook header block
/// (checked against the following markup).
fn text_marks_quote(text: &str, following: &str) -> bool {
    let decoded = text.replace("&nbsp;", " ");
    let t = decoded.trim();
    if t.is_empty() {
        return false;
    }
    if is_separator(t) {
        return true;
    }
    const FROM: &[&str] = &[
        "From:",
        "发件人:",
        "发件人：",
        "寄件者:",
        "寄件者：",
        "发件人",
    ];
    if FROM.contains(&t) {
        let window: String = following.chars().take(1500).collect();
        let plain = visible_text(&window);
        let hits = [
            "Sent:",
            "Date:",
            "To:",
            "Subject:",
            "发送时间",
            "日期",
            "收件人",
            "主题",
            "寄件日期",
            "主旨",
        ]
        .iter()
        .filter(|k| plain.contains(*k))
        .count();
        return hits >= 2;
    }
    false
}

/// Text content of an HTML fragment (tags dropped, `&nbsp;` as space), for emptiness and
/// keyword checks.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let len = tag_len(&rest[lt..]);
        if rest[lt..].starts_with("<img") {
            out.push_str(" [image] ");
        }
        rest = &rest[lt + len..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
}
