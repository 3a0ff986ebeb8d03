//! User content to HTML: sanitising untrusted HTML and rendering plain text safely.

use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_url_schemes(["cid"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .rm_tags(["img"]); // remote content is never loaded without consent
    b
});

/// Removes scripts, event handlers, `javascript:` URLs, iframes, styles and images.
pub fn sanitize_html(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// Escapes plain text and keeps its line breaks and paragraphs.
pub fn text_to_html(text: &str) -> String {
    escape(text)
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>")))
        .collect::<Vec<_>>()
        .join("")
}

/// Minimal HTML escaping for text content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let dirty = r#"<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">l</a><iframe src="//e"></iframe><img src="http://t/x.png"></p>"#;
        let clean = sanitize_html(dirty);
        for bad in ["script", "onclick", "javascript:", "iframe", "<img"] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains("hi"));
    }

    #[test]
    fn text_is_escaped_with_line_breaks_kept() {
        assert_eq!(
            text_to_html("a<b>\nc\n\nd"),
            "<p>a&lt;b&gt;<br>c</p><p>d</p>"
        );
    }
}
