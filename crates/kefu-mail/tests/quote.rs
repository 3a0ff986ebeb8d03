//! Folding quoted history and signatures, with the shapes English and Chinese mail
//! clients write.

use kefu_mail::quote::{fold_html, split_text};

fn split(text: &str) -> (String, Option<String>) {
    split_text(text)
}

#[test]
fn gmail_english_reply_header_and_quote() {
    let text = "Thanks, that fixed it.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Support <kf@example.com> wrote:\n> Please restart the printer.\n>\n> Best\n";
    let (main, quoted) = split(text);
    assert_eq!(main, "Thanks, that fixed it.");
    assert!(quoted.unwrap().starts_with("On Mon, Jan 1, 2024"));
}

#[test]
fn gmail_wraps_long_reply_headers() {
    let text = "Works now.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Customer Support Team <\nsupport@example.com> wrote:\n\n> old\n";
    assert_eq!(split(text).0, "Works now.");
}

#[test]
fn gmail_chinese_reply_header() {
    let text = "好的，谢谢！\n\n客服 <kf@example.com> 于2024年1月1日周一 10:00写道：\n\n> 请重启打印机。\n";
    let (main, quoted) = split(text);
    assert_eq!(main, "好的，谢谢！");
    assert!(quoted.unwrap().contains("写道："));
}

#[test]
fn netease_and_apple_chinese_reply_headers() {
    let text =
        "收到。\n\n在 2024-01-01 10:00:00，\"客服\" <kf@example.com> 写道：\n>请重启打印机。\n";
    assert_eq!(split(text).0, "收到。");
    let text = "收到。\n\n> 2024年1月1日 上午10:00，客服 <kf@example.com> 写道：\n> \n> 请重启。\n";
    assert_eq!(split(text).0, "收到。");
}

#[test]
fn outlook_original_message_separator() {
    let text = "Please see below.\r\n\r\n-----Original Message-----\r\nFrom: Support\r\nSent: Monday\r\nSubject: Re: x\r\n\r\nold text\r\n";
    let (main, quoted) = split(text);
    assert_eq!(main, "Please see below.");
    assert!(quoted.unwrap().starts_with("-----Original Message-----"));
}

#[test]
fn qq_mail_original_separator() {
    let text = "发票已收到。\n\n\n------------------&nbsp;原始邮件&nbsp;------------------\n发件人: \"客服\"<kf@example.com>;\n发送时间: 2024年1月1日(星期一) 上午10:00\n收件人: \"我\"<me@qq.com>;\n主题: 发票\n\n旧内容\n".replace("&nbsp;", "\u{a0}");
    assert_eq!(split(&text).0, "发票已收到。");
    let text = "发票已收到。\n\n------------------ 原始邮件 ------------------\n发件人: kf\n";
    assert_eq!(split(text).0, "发票已收到。");
    let text = "好的\n\n-------- 原始邮件 --------\n发件人：客服\n";
    assert_eq!(split(text).0, "好的");
}

#[test]
fn outlook_header_blocks_english_and_chinese() {
    let text = "Approved.\n\n________________________________\nFrom: Support <kf@example.com>\nSent: Monday, January 1, 2024 10:00 AM\nTo: Me <me@example.com>\nSubject: Re: refund\n\nOld text\n";
    let (main, quoted) = split(text);
    assert_eq!(main, "Approved.");
    assert!(quoted.unwrap().starts_with("____"));
    let text = "同意退款。\n\n发件人: 客服 <kf@example.com>\n发送时间: 2024年1月1日 10:00\n收件人: 我 <me@example.com>\n主题: 回复: 退款\n\n旧内容\n";
    assert_eq!(split(text).0, "同意退款。");
    let text = "OK\n\n发件人：客服\n日期：2024年1月1日\n收件人：我\n主题：退款\n";
    assert_eq!(split(text).0, "OK");
}

#[test]
fn a_lone_from_line_is_not_a_header_block() {
    let text = "From: the warehouse we got a call.\nPlease check order 12.";
    assert_eq!(split(text), (text.to_string(), None));
}

#[test]
fn signatures_are_folded() {
    let text = "See you.\n\n-- \nLi Na\nAcme Ltd.\n";
    let (main, quoted) = split(text);
    assert_eq!(main, "See you.");
    assert_eq!(quoted.unwrap(), "-- \nLi Na\nAcme Ltd.");
    assert_eq!(split("收到\n\n发自我的iPhone\n").0, "收到");
    assert_eq!(
        split("Got it\n\nSent from my iPhone\n\n> old\n").0,
        "Got it"
    );
}

#[test]
fn interleaved_answers_are_not_hidden() {
    let text = "On Mon, Jan 1, 2024 Support <kf@example.com> wrote:\n> Which model?\nLaserJet 1020\n> Since when?\nYesterday\n";
    let (main, quoted) = split(text);
    assert!(
        main.contains("LaserJet 1020") && main.contains("Yesterday"),
        "{main}"
    );
    assert_eq!(quoted, None);
}

#[test]
fn trailing_quote_block_without_header() {
    let text = "Yes please.\n\n> Shall we refund?\n> Support\n";
    assert_eq!(
        split(text),
        (
            "Yes please.".into(),
            Some("> Shall we refund?\n> Support".into())
        )
    );
}

#[test]
fn everything_quoted_keeps_it_all_as_main() {
    let text = "> only a quote\n> nothing new\n";
    assert_eq!(split(text), (text.to_string(), None));
    let text = "-----Original Message-----\nFrom: x\n";
    assert_eq!(split(text), (text.to_string(), None));
    assert_eq!(split(""), (String::new(), None));
}

#[test]
fn gmail_html_quote_is_folded() {
    let html = r#"<div dir="ltr">Thanks!</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon wrote:<br></div><blockquote class="gmail_quote" style="margin: 0px">old</blockquote></div>"#;
    let (main, quoted) = fold_html(html);
    assert_eq!(main, r#"<div dir="ltr">Thanks!</div><br>"#);
    assert!(quoted.unwrap().starts_with(r#"<div class="gmail_quote">"#));
}

#[test]
fn apple_and_thunderbird_cite_blockquotes() {
    let html = r#"<div>Sure.<br><div><br><blockquote type="cite"><div>On 1 Jan, Support wrote:</div><div>old</div></blockquote></div></div>"#;
    let (main, quoted) = fold_html(html);
    assert_eq!(main, "<div>Sure.<br><div><br></div></div>");
    assert_eq!(
        quoted.unwrap(),
        r#"<div><div><blockquote type="cite"><div>On 1 Jan, Support wrote:</div><div>old</div></blockquote></div></div>"#
    );
    let html = r#"<p>ok</p><div class="moz-cite-prefix">On 1/1/24 Support wrote:<br></div><blockquote type="cite">old</blockquote>"#;
    assert_eq!(fold_html(html).0, "<p>ok</p>");
}

#[test]
fn outlook_web_reply_is_folded_at_appendonsend() {
    let html = r#"<div>Approved</div><div id="appendonsend"></div><hr style="display: inline-block"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Support<br><b>Sent:</b> Monday</div><div>old</div>"#;
    assert_eq!(fold_html(html).0, "<div>Approved</div>");
}

#[test]
fn outlook_desktop_chinese_header_block_is_folded() {
    let html = r#"<div><p>同意。</p><div style="border: none; border-top: solid #E1E1E1 1.0pt"><p><b>发件人:</b> 客服 &lt;kf@example.com&gt;<br><b>发送时间:</b> 2024年1月1日 10:00<br><b>收件人:</b> 我<br><b>主题:</b> 退款</p></div><p>旧内容</p></div>"#;
    let (main, quoted) = fold_html(html);
    assert_eq!(
        main,
        r#"<div><p>同意。</p><div style="border: none; border-top: solid #E1E1E1 1.0pt"></div></div>"#
    );
    assert!(quoted.unwrap().contains("旧内容"));
}

#[test]
fn qq_and_netease_html_quotes_are_folded() {
    let html = r#"<div>好的，谢谢</div><div><br></div><div style="font-size: 12px">------------------&nbsp;原始邮件&nbsp;------------------</div><div style="font-size: 12px; background: #efefef"><div><b>发件人:</b>&nbsp;"客服"&lt;kf@x.com&gt;;</div></div>"#;
    assert_eq!(fold_html(html).0, "<div>好的，谢谢</div><div><br></div>");
    let html = r#"<div>收到</div><blockquote id="isReplyContent" style="padding-left: 1ex">旧内容</blockquote>"#;
    assert_eq!(fold_html(html).0, "<div>收到</div>");
}

#[test]
fn html_without_quotes_or_with_only_quotes_is_whole() {
    let html = "<p>Hello</p><p>World</p>";
    assert_eq!(fold_html(html), (html.to_string(), None));
    let html = r#"<blockquote type="cite">all quoted</blockquote>"#;
    assert_eq!(fold_html(html), (html.to_string(), None));
    let html = r#"<div><img src="cid:x"></div><blockquote type="cite">q</blockquote>"#;
    assert_eq!(fold_html(html).0, r#"<div><img src="cid:x"></div>"#);
}
