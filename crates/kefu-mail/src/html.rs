//! Sanitising mail HTML (ammonia), and the display-time rewrites of the stored result.
//!
//! Owns: the allow-list of tags, attributes, URL schemes and inline CSS properties that
//! mail HTML keeps; holding back remote images until the reader consents; pointing
//! `cid:` images at attachment URLs. Never does: fetch anything, or trust HTML that did
//! not go through [`sanitize_mail_html`].
//!
//! Invariant: mail HTML is sanitised **once, at ingest** ([`sanitize_mail_html`], called by
//! [`crate::parse::parse`]), and the result is stored. Display only applies
//! [`render_mail_html`], which rewrites attribute values with a scanner over the
//! sanitiser's own canonical output and never parses and re-serialises the document.
//! Why: ammonia's output is not always idempotent (rust-ammonia #185, parse → serialise →
//! parse can change the tree), so sanitising again at display time, or round-tripping the
//! stored HTML through an HTML parser, could turn safe markup into different markup.
//! Because [`sanitize_mail_html`] depends on ammonia's version, stored HTML is only as
//! good as the ammonia that produced it; re-sanitise from the stored raw mail when the
//! policy changes, not from the stored HTML.
//!
//! What the stored HTML can contain: formatting and table tags, `style` attributes with
//! an allow-list of CSS properties and values without `url()`, `expression` or functions
//! other than colour functions, links (`http`, `https`, `mailto`, `tel`) with
//! `target=_blank rel="noopener noreferrer nofollow"`, images whose `src` is `cid:` or a
//! raster `data:image/…`, and images whose remote URL sits in `data-remote-src` with no
//! `src`. No scripts, styles sheets, event handlers, frames, objects, forms or SVG.
//! Show it in a sandboxed iframe (`sandbox` without `allow-scripts`) as defence in depth.

use std::{borrow::Cow, sync::LazyLock};

use ammonia::{Builder, Url, UrlRelative};

/// Tags mail HTML may keep. No element parsed as raw text (`style`, `script`, `textarea`,
/// `title`, `xmp`, `iframe`, `noembed`, `noframes`, `noscript`, `plaintext`) may ever be
/// added here: [`render_mail_html`]'s scanner relies on every `<` in text being escaped.
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "address",
    "article",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Elements removed together with their content.
const CLEAN_CONTENT: &[&str] = &[
    "script", "style", "title", "template", "iframe", "frame", "frameset", "object", "embed",
    "applet", "noembed", "noframes", "select", "textarea", "button", "svg", "math", "xml", "head",
    "audio", "video", "canvas", "map",
];

const GENERIC_ATTRIBUTES: &[&str] = &[
    "style", "title", "lang", "dir", "align", "valign", "width", "height", "bgcolor", "id",
];

const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "name"]),
    ("img", &["src", "alt", "border", "hspace", "vspace"]),
    (
        "table",
        &[
            "border",
            "cellpadding",
            "cellspacing",
            "summary",
            "frame",
            "rules",
        ],
    ),
    (
        "td",
        &["colspan", "rowspan", "nowrap", "headers", "scope", "abbr"],
    ),
    (
        "th",
        &["colspan", "rowspan", "nowrap", "headers", "scope", "abbr"],
    ),
    ("col", &["span"]),
    ("colgroup", &["span"]),
    ("font", &["color", "face", "size"]),
    ("blockquote", &["type"]),
    ("ol", &["start", "type", "reversed"]),
    ("ul", &["type"]),
    ("li", &["value", "type"]),
    ("hr", &["size", "noshade", "color"]),
    ("details", &["open"]),
    ("bdo", &["dir"]),
];

/// Classes kept (everything else is dropped): the markers mail clients put on quoted
/// history and signatures, used by [`crate::quote::fold_html`].
pub(crate) const KEPT_CLASSES: &[&str] = &[
    "gmail_quote",
    "gmail_quote_container",
    "gmail_attr",
    "gmail_signature",
    "gmail_extra",
    "moz-cite-prefix",
    "moz-signature",
    "yahoo_quoted",
    "ntes-mailmaster-quote",
    "OutlookMessageHeader",
];

/// Ids kept (everything else is dropped, so mail cannot collide with the page's ids).
pub(crate) const KEPT_IDS: &[&str] = &[
    "appendonsend",
    "divRplyFwdMsg",
    "isReplyContent",
    "isForwardContent",
    "mail-editor-reference-message-container",
];

/// Inline CSS properties kept. Notably absent: `position`, `display`, `visibility`,
/// `z-index`, `float`, `background-image`, `content`, `behavior`, `filter`.
const CSS_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "background",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "font-variant",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "line-height",
    "letter-spacing",
    "word-spacing",
    "white-space",
    "word-break",
    "word-wrap",
    "overflow-wrap",
    "vertical-align",
    "direction",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-top-color",
    "border-right-color",
    "border-bottom-color",
    "border-left-color",
    "border-top-style",
    "border-right-style",
    "border-bottom-style",
    "border-left-style",
    "border-top-width",
    "border-right-width",
    "border-bottom-width",
    "border-left-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "height",
    "max-width",
    "max-height",
    "min-width",
    "min-height",
    "list-style-type",
    "table-layout",
    "caption-side",
    "empty-cells",
    "text-shadow",
];

/// CSS functions allowed in values (colours and arithmetic only: nothing that loads).
const CSS_FUNCTIONS: &[&str] = &["rgb", "rgba", "hsl", "hsla", "calc"];

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(CLEAN_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(
            TAG_ATTRIBUTES
                .iter()
                .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect()))
                .collect(),
        )
        .allowed_classes(
            TAGS.iter()
                .map(|tag| (*tag, KEPT_CLASSES.iter().copied().collect()))
                .collect(),
        )
        .url_schemes(["http", "https", "mailto", "tel", "cid", "data"].into())
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true)
        .attribute_filter(filter_attribute);
    b
});

/// Sanitises one mail's HTML for storage; see the module docs for what survives.
/// Remote images keep their URL in `data-remote-src` and have no `src`.
pub fn sanitize_mail_html(html: &str) -> String {
    let cleaned = SANITIZER.clean(html).to_string();
    rewrite_img_tags(&cleaned, |attrs| {
        let Some(i) = attrs.iter().position(|(name, _)| name == "src") else {
            return false;
        };
        let url = unescape(&attrs[i].1);
        let scheme = Url::parse(url.trim()).map(|u| u.scheme().to_string());
        if matches!(scheme.as_deref(), Ok("http" | "https")) {
            attrs[i].0 = "data-remote-src".into();
            true
        } else {
            false
        }
    })
}

/// Prepares stored (sanitised) HTML for display: `cid:` image sources become the URL
/// `cid_url` gives for that Content-ID (left alone if it gives none), and with
/// `load_remote` the held-back remote images get their `src` back. Does not sanitise:
/// pass only what [`sanitize_mail_html`] produced.
pub fn render_mail_html(
    stored: &str,
    cid_url: &dyn Fn(&str) -> Option<String>,
    load_remote: bool,
) -> String {
    rewrite_img_tags(stored, |attrs| {
        let mut changed = false;
        if let Some(src) = attrs.iter_mut().find(|(name, _)| name == "src") {
            let url = unescape(&src.1);
            let url = url.trim();
            if let Some(cid) = url
                .get(..4)
                .filter(|scheme| scheme.eq_ignore_ascii_case("cid:"))
                .map(|_| &url[4..])
                .filter(|cid| !cid.is_empty())
            {
                let id = percent_decode(cid);
                if let Some(target) = cid_url(id.trim_start_matches('<').trim_end_matches('>')) {
                    src.1 = escape_attr(&target);
                    changed = true;
                }
            }
        }
        if load_remote && attrs.iter().any(|(name, _)| name == "data-remote-src") {
            attrs.retain(|(name, _)| name != "src");
            for attr in attrs
                .iter_mut()
                .filter(|(name, _)| name == "data-remote-src")
            {
                attr.0 = "src".into();
            }
            changed = true;
        }
        changed
    })
}

/// Whether stored HTML holds back remote images (to offer "load images").
pub fn has_remote_images(stored: &str) -> bool {
    let mut found = false;
    rewrite_img_tags(stored, |attrs| {
        found |= attrs.iter().any(|(name, _)| name == "data-remote-src");
        false
    });
    found
}

/// Ammonia's attribute filter: URLs by element, ids and inline CSS by allow-list.
fn filter_attribute<'a>(element: &str, attribute: &str, value: &'a str) -> Option<Cow<'a, str>> {
    match attribute {
        "href" | "src" => {
            let scheme = Url::parse(value.trim())
                .map(|u| u.scheme().to_ascii_lowercase())
                .ok()?;
            let ok = match (element, attribute, scheme.as_str()) {
                ("img", "src", "http" | "https" | "cid") => true,
                ("img", "src", "data") => is_raster_data_url(value),
                ("a", "href", "http" | "https" | "mailto" | "tel") => true,
                _ => false,
            };
            ok.then_some(Cow::Borrowed(value))
        }
        "id" => KEPT_IDS
            .contains(&value.trim())
            .then_some(Cow::Borrowed(value)),
        "style" => {
            let filtered = filter_style(value);
            (!filtered.is_empty()).then_some(Cow::Owned(filtered))
        }
        _ => Some(Cow::Borrowed(value)),
    }
}

fn is_raster_data_url(value: &str) -> bool {
    let v: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase();
    ["png", "jpeg", "jpg", "gif", "webp", "bmp"]
        .iter()
        .any(|t| {
            v.starts_with(&format!("data:image/{t};")) || v.starts_with(&format!("data:image/{t},"))
        })
}

/// Keeps the declarations of an inline style whose property is allowed and whose value
/// is plainly safe; rewrites it as `prop: value; …`.
fn filter_style(style: &str) -> String {
    let mut out = Vec::new();
    for decl in style.split(';') {
        let Some((prop, value)) = decl.split_once(':') else {
            continue;
        };
        let prop = prop.trim().to_ascii_lowercase();
        let value = value.trim();
        if !CSS_PROPERTIES.contains(&prop.as_str()) || !is_safe_css_value(&prop, value) {
            continue;
        }
        out.push(format!("{prop}: {value}"));
    }
    out.join("; ")
}

fn is_safe_css_value(prop: &str, value: &str) -> bool {
    if value.is_empty() || value.len() > 500 {
        return false;
    }
    if value.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\\' | '<' | '>' | '{' | '}' | '@' | '&' | '`' | '*' | ';' | '='
            )
    }) {
        return false;
    }
    if !value.matches('"').count().is_multiple_of(2)
        || !value.matches('\'').count().is_multiple_of(2)
    {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if [
        "url",
        "expression",
        "javascript",
        "vbscript",
        "behavior",
        "binding",
        "import",
        "image",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return false;
    }
    // Every `(` must open an allowed function.
    let mut rest = lower.as_str();
    while let Some(i) = rest.find('(') {
        let before = &rest[..i];
        let name_len: usize = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .count();
        // The name is ASCII, so its length in chars is its length in bytes.
        if !CSS_FUNCTIONS.contains(&&before[before.len() - name_len..]) {
            return false;
        }
        rest = &rest[i + 1..];
    }
    // Negative margins could lay mail over the page around it.
    if prop.starts_with("margin") && lower.contains('-') {
        return false;
    }
    true
}

/// Calls `f` on the attributes of every `<img>` start tag in `html` (names lowercase,
/// values as written, i.e. still HTML-escaped); if it returns true the tag is written
/// back from the changed list, otherwise copied unchanged.
///
/// This is a scanner for html5ever's serialisation (what ammonia returns): every `<` in
/// text is escaped, attribute values are double-quoted with `"` escaped, comments are
/// stripped. On any other input it copies what it does not understand unchanged.
fn rewrite_img_tags(html: &str, mut f: impl FnMut(&mut Vec<(String, String)>) -> bool) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let tag_end = tag_end(rest);
        let tag = &rest[..tag_end];
        let is_img = tag.len() > 4
            && tag.as_bytes()[1..4].eq_ignore_ascii_case(b"img")
            && matches!(tag.as_bytes()[4], b' ' | b'>' | b'/' | b'\t' | b'\n');
        if is_img
            && let Some(mut attrs) = parse_attributes(&tag[4..])
            && f(&mut attrs)
        {
            out.push_str("<img");
            for (name, value) in &attrs {
                out.push(' ');
                out.push_str(name);
                out.push_str("=\"");
                out.push_str(value);
                out.push('"');
            }
            out.push('>');
            rest = &rest[tag_end..];
            continue;
        }
        out.push_str(tag);
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

/// Length of the tag starting at `s[0] == '<'`, through its `>` (quotes respected), or
/// all of `s` if it never closes.
fn tag_end(s: &str) -> usize {
    let mut quote: Option<u8> = None;
    for (i, &b) in s.as_bytes().iter().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"') | (None, b'\'') => quote = Some(b),
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// The attributes of a start tag, from after its name to its `>`. `None` if the syntax
/// is not the canonical `name="value"` form (then the tag is left alone).
fn parse_attributes(s: &str) -> Option<Vec<(String, String)>> {
    let mut attrs = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('>') || rest.starts_with("/>") {
            return Some(attrs);
        }
        let name_end =
            rest.find(|c: char| c == '=' || c == '>' || c.is_whitespace() || c == '/')?;
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        if let Some(after_eq) = rest.strip_prefix("=\"") {
            let close = after_eq.find('"')?;
            attrs.push((name, after_eq[..close].to_string()));
            rest = &after_eq[close + 1..];
        } else if rest.starts_with('=') {
            return None;
        } else {
            attrs.push((name, String::new()));
        }
    }
}

/// Decodes the few entities html5ever writes in attribute values.
fn unescape(value: &str) -> Cow<'_, str> {
    if !value.contains('&') {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .replace("&quot;", "\"")
            .replace("&nbsp;", "\u{a0}")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// RFC 2392: a `cid:` URL is the Content-ID, percent-encoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
