//! How messages that came or went by email are shown, and the agents' download of the
//! original mail (`GET /agent/messages/{id}/raw`).
//!
//! For agents an email message gets a line with From/To/Cc, a delivery badge on outgoing
//! mail (the failure or bounce reason visible), any parse warning, and a "View original"
//! link. Customers in the portal get none of that — only the body, with quoted history
//! folded the same way.
//!
//! Mail HTML goes through `kefu_mail::html::render_mail_html` (which rewrites `cid:`
//! images to attachment downloads and holds back remote images unless the reader asked
//! for them), then once more through a strict sanitiser here, so whatever the stored HTML
//! holds, no script, event handler or style reaches the page. Remote images are also
//! blocked by the page's CSP unless `?remote=1` widened it (see `ticket::show`).
//!
//! `cid:` mapping: the store keeps no Content-ID per attachment, so `cid:xyz` maps to an
//! attachment whose file name equals `xyz` (or the part of `xyz` before `@`, which is how
//! Outlook and Apple Mail name inline images), else one whose name contains that part.
//! No match leaves the image out.

use super::{
    form::parse_id,
    i18n::Tr,
    page::{WebError, WebResult},
    session::Ctx,
};
use crate::{AppState, download};
use axum::extract::{Path, State};
use kefu_domain::{DeliveryStatus, InboundMailId, MessageId, authz::Permission};
use kefu_store::{Attachment, Message};
use std::sync::LazyLock;

/// How email messages are shown on a page.
#[derive(Debug, Clone, Copy)]
pub struct MailOpts<'a> {
    /// Agents see addresses, delivery, parse warnings and the raw link; customers do not.
    pub staff: bool,
    /// The reader asked for remote images (`?remote=1`).
    pub load_remote: bool,
    /// This page's URL with `remote=1`, for the "show remote images" link; `None` for no link.
    pub remote_href: Option<&'a str>,
}

impl MailOpts<'_> {
    /// The portal: no internals, no remote images.
    pub const CUSTOMER: MailOpts<'static> = MailOpts {
        staff: false,
        load_remote: false,
        remote_href: None,
    };
}

/// The delivery state of an outgoing email.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    /// `queued`, `sent`, `failed`, `bounced` (CSS class `delivery-<status>`).
    pub status: &'static str,
    pub label: &'static str,
    /// Why it failed or bounced (SMTP reply, DSN diagnostic), as a sentence.
    pub detail: Option<String>,
    /// Failed or bounced: shown as an error.
    pub error: bool,
}

/// The email side of a message, for agents only.
#[derive(Debug, Clone)]
pub struct MailView {
    pub from: String,
    pub to: String,
    pub cc: String,
    pub automatic: bool,
    pub delivery: Option<DeliveryView>,
    /// The full sentence ("⚠ This email could not be read completely: …").
    pub warning: Option<String>,
    /// `/agent/messages/{id}/raw` when the original mail is stored.
    pub raw_href: Option<String>,
}

/// What the conversation shows of one email message.
#[derive(Debug, Clone, Default)]
pub struct MailBody {
    /// Sanitised HTML of the main part (rendered with `|safe`).
    pub html: Option<String>,
    /// The main part as plain text, when there is no HTML.
    pub text: String,
    /// Sanitised HTML of the folded quote/signature.
    pub quoted_html: Option<String>,
    /// Plain-text quote/signature.
    pub quoted_text: Option<String>,
    /// "Show remote images" link, when some are held back.
    pub remote_href: Option<String>,
}

/// The final pass over mail HTML before it is printed with `|safe`, as defence in depth
/// on top of the sanitising at ingest (`kefu_mail::html::sanitize_mail_html`): ammonia's
/// defaults (no scripts, event handlers, styles, forms, frames, SVG; safe URL schemes
/// only), links opening in a new tab without referrer, raster `data:` images only, and —
/// unless the reader asked for them — no remote image sources at all.
///
/// Sanitising stored HTML again is no riskier than printing it: this pass parses exactly
/// what the browser would parse and re-serialises a tree it checked. It drops inline
/// styles, which the page's CSP (`style-src 'self'`) would block anyway.
static FINAL: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| final_pass(false));
static FINAL_REMOTE: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| final_pass(true));

fn final_pass(load_remote: bool) -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.add_url_schemes(["data"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(move |element, attribute, value| {
            let v = value.trim_start().to_ascii_lowercase();
            let data = v.starts_with("data:");
            let remote = v.starts_with("http:") || v.starts_with("https:") || v.starts_with("//");
            let keep = match (element, attribute) {
                ("img", "src") if data => is_raster_data_url(&v),
                ("img", "src") if remote => load_remote,
                (_, "href" | "src" | "cite" | "longdesc") => !data,
                _ => true,
            };
            keep.then_some(std::borrow::Cow::Borrowed(value))
        });
    b
}

fn is_raster_data_url(v: &str) -> bool {
    ["png", "jpeg", "jpg", "gif", "webp", "bmp"]
        .iter()
        .any(|t| {
            v.starts_with(&format!("data:image/{t};")) || v.starts_with(&format!("data:image/{t},"))
        })
}

fn clean(html: &str, load_remote: bool) -> String {
    let b = if load_remote { &FINAL_REMOTE } else { &FINAL };
    b.clean(html).to_string()
}

/// The attachment an inline `cid:` reference most likely means (see the module docs).
pub fn cid_attachment<'a>(attachments: &'a [Attachment], cid: &str) -> Option<&'a Attachment> {
    let cid = cid
        .trim()
        .trim_start_matches("cid:")
        .trim_matches(['<', '>']);
    if cid.is_empty() {
        return None;
    }
    let stem = cid.split('@').next().unwrap_or(cid);
    attachments
        .iter()
        .find(|a| a.filename == cid || a.filename == stem)
        .or_else(|| {
            (stem.len() >= 3)
                .then(|| attachments.iter().find(|a| a.filename.contains(stem)))
                .flatten()
        })
}

/// The body of an email message: quoted history folded, HTML rendered safely.
pub fn mail_body(m: &Message, opts: MailOpts) -> MailBody {
    let stored = m.body_html.as_deref().filter(|h| !h.trim().is_empty());
    let Some(stored) = stored else {
        let (text, quoted) = kefu_mail::quote::split_text(&m.body_text);
        return MailBody {
            text,
            quoted_text: quoted.filter(|q| !q.trim().is_empty()),
            ..Default::default()
        };
    };
    let cid_url = |cid: &str| -> Option<String> {
        cid_attachment(&m.attachments, cid).map(|a| format!("/attachments/{}", a.id))
    };
    let render = |html: &str| {
        clean(
            &kefu_mail::html::render_mail_html(html, &cid_url, opts.load_remote),
            opts.load_remote,
        )
    };
    let (main, quoted) = kefu_mail::quote::fold_html(stored);
    let remote_href = (!opts.load_remote && kefu_mail::html::has_remote_images(stored))
        .then_some(opts.remote_href)
        .flatten()
        .map(|h| format!("{h}#message-{}", m.id));
    MailBody {
        html: Some(render(&main)),
        text: m.body_text.clone(),
        quoted_html: quoted.filter(|q| !q.trim().is_empty()).map(|q| render(&q)),
        quoted_text: None,
        remote_href,
    }
}

/// The agent-only facts about an email message.
pub fn mail_view(tr: Tr, m: &Message) -> Option<MailView> {
    let e = m.email.as_ref()?;
    let delivery = e.delivery.map(|d| {
        let error = matches!(d, DeliveryStatus::Failed | DeliveryStatus::Bounced);
        let detail = e
            .delivery_detail
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty() && error)
            .map(|detail| {
                let key = if d == DeliveryStatus::Bounced {
                    "delivery.bounced_detail"
                } else {
                    "delivery.failed_detail"
                };
                tr.f(key, &[("detail", detail)])
            });
        DeliveryView {
            status: d.as_str(),
            label: tr.t(&format!("delivery.{d}")),
            detail,
            error,
        }
    });
    Some(MailView {
        from: e.from.clone().unwrap_or_default(),
        to: e.to.join(", "),
        cc: e.cc.join(", "),
        automatic: e.automatic,
        delivery,
        warning: e
            .parse_warning
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| tr.f("mail.warning", &[("warning", w)])),
        raw_href: e
            .inbound_id
            .map(|_| format!("/agent/messages/{}/raw", m.id)),
    })
}

/// The `.eml` download of a stored mail.
pub fn eml(id: InboundMailId, raw: Vec<u8>) -> axum::response::Response {
    download::attachment(&format!("mail-{id}.eml"), "message/rfc822", raw)
}

/// `GET /agent/messages/{id}/raw`: the original of a received email, for agents (every
/// agent may read every ticket). Customers and messages without a stored original get a
/// 404; signed-out visitors are sent to the login page.
pub async fn message_raw(
    State(state): State<AppState>,
    ctx: Ctx,
    uri: axum::http::Uri,
    Path(id): Path<String>,
) -> WebResult {
    let Some(caller) = &ctx.caller else {
        let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return Err(WebError::Redirect(format!(
            "/login?next={}",
            super::form::url_encode(next)
        )));
    };
    if caller.agent.is_none() {
        return Err(WebError::not_found());
    }
    if !caller.principal.may(Permission::ReadWorkspace) {
        return Err(WebError::forbidden());
    }
    let message = state
        .store
        .get_message(MessageId(parse_id(&id)?))
        .await?
        .ok_or_else(WebError::not_found)?;
    let inbound = message
        .email
        .and_then(|e| e.inbound_id)
        .ok_or_else(WebError::not_found)?;
    let raw = state
        .store
        .inbound_raw(inbound)
        .await?
        .ok_or_else(WebError::not_found)?;
    Ok(eml(inbound, raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::AttachmentId;

    fn att(id: i64, name: &str) -> Attachment {
        Attachment {
            id: AttachmentId(id),
            message_id: MessageId(1),
            filename: name.into(),
            content_type: "image/png".into(),
            size: 1,
            sha256: String::new(),
        }
    }

    #[test]
    fn cid_references_find_attachments_by_file_name() {
        let atts = [att(1, "logo.png"), att(2, "image001.png")];
        assert_eq!(cid_attachment(&atts, "logo.png").map(|a| a.id.0), Some(1));
        assert_eq!(
            cid_attachment(&atts, "image001.png@01D9C0.2B3A").map(|a| a.id.0),
            Some(2)
        );
        assert_eq!(cid_attachment(&atts, "<logo.png>").map(|a| a.id.0), Some(1));
        assert_eq!(cid_attachment(&atts, "image001").map(|a| a.id.0), Some(2));
        assert!(cid_attachment(&atts, "other@x").is_none());
        assert!(cid_attachment(&atts, "").is_none());
    }

    #[test]
    fn the_final_pass_removes_scripts_handlers_styles_and_unconsented_remote_images() {
        let dirty = concat!(
            r#"<p style="color:red" onclick="x()">hi</p><script>alert(1)</script>"#,
            r#"<img src="/attachments/3" onerror="alert(2)"><img src="https://t.example/p.gif">"#,
            r#"<img src="data:image/png;base64,AAAA"><img src="data:image/svg+xml,<svg/>">"#,
            r#"<a href="data:text/html,x">d</a><a href="https://ok.example/">ok</a>"#,
        );
        let out = clean(dirty, false);
        for bad in [
            "script",
            "onclick",
            "onerror",
            "style",
            "alert",
            "t.example",
            "svg",
            "text/html",
        ] {
            assert!(!out.contains(bad), "{bad} survived in {out}");
        }
        assert!(out.contains("src=\"/attachments/3\""), "{out}");
        assert!(out.contains("src=\"data:image/png;base64,AAAA\""), "{out}");
        assert!(out.contains("href=\"https://ok.example/\""), "{out}");
        assert!(out.contains("target=\"_blank\""), "{out}");
        let out = clean(dirty, true);
        assert!(out.contains("src=\"https://t.example/p.gif\""), "{out}");
        assert!(!out.contains("alert"), "{out}");
    }

    #[test]
    fn every_delivery_status_has_a_label() {
        for l in kefu_domain::Lang::ALL {
            for d in DeliveryStatus::ALL {
                let label = Tr(*l).t(&format!("delivery.{d}"));
                assert!(!label.starts_with("delivery."), "{d} lacks a label");
            }
        }
    }
}
