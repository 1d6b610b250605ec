//! Escaping what callers send before it is substituted into a text a chat
//! platform parses, so a value is shown as written and the template's own
//! markup stays markup.
//!
//! Sources: Telegram Bot API, "Formatting options"
//! (<https://core.telegram.org/bots/api#formatting-options>); Slack,
//! "Formatting text for app surfaces", "Escaping text"
//! (<https://api.slack.com/reference/surfaces/formatting#escaping>).

/// The characters MarkdownV2 gives a meaning ("must be escaped with the
/// preceding character '\\'"), and the backslash itself.
const MARKDOWN_V2_SPECIAL: &str = "_*[]()~`>#+-=|{}.!\\";
/// The characters legacy Markdown gives a meaning outside an entity.
const MARKDOWN_SPECIAL: &str = "_*`[";

/// `text` escaped for a Telegram text sent with `parse_mode`:
/// - `HTML`: `&`, `<`, `>` and `"` as `&amp;`, `&lt;`, `&gt;`, `&quot;`;
/// - `MarkdownV2`: each of ``_ * [ ] ( ) ~ ` > # + - = | { } . !`` and `\`
///   after a `\`;
/// - `Markdown` (legacy): each of ``_ * ` [`` after a `\`;
/// - no (or another) parse mode: unchanged.
pub fn telegram(parse_mode: Option<&str>, text: &str) -> String {
    match parse_mode {
        Some("HTML") => html(text),
        Some("MarkdownV2") => backslashed(text, MARKDOWN_V2_SPECIAL),
        Some("Markdown") => backslashed(text, MARKDOWN_SPECIAL),
        _ => text.to_owned(),
    }
}

/// `text` escaped for Slack's `mrkdwn` and message `text`: `&`, `<` and `>`
/// as `&amp;`, `&lt;`, `&gt;` (the only three Slack asks to escape; `<…>`
/// would otherwise make links and `<!channel>` mentions).
pub fn slack(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` with each `@everyone` and `@here` written `@\u{200B}everyone` and
/// `@\u{200B}here` (a zero-width space after the `@`, as Discord's own
/// clients do): shown the same, but no longer a mention Discord parses, so a
/// substituted value cannot ping a whole server whatever `allowed_mentions`
/// the message carries. Everything else is unchanged.
pub fn discord(text: &str) -> String {
    text.replace("@everyone", "@\u{200B}everyone")
        .replace("@here", "@\u{200B}here")
}

/// A Discord embed field whose value is a link (`url`, `icon_url`, …) is
/// left as it is; every other substituted value is [`discord`]-escaped.
pub fn discord_field(key: Option<&str>, text: &str) -> String {
    match key {
        Some(k) if k == "url" || k.ends_with("_url") => text.to_owned(),
        _ => discord(text),
    }
}

fn html(text: &str) -> String {
    slack(text).replace('"', "&quot;")
}

fn backslashed(text: &str, special: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_for_each_telegram_parse_mode() {
        // parse mode, value, escaped
        let cases = [
            (Some("HTML"), "Tom & Jerry", "Tom &amp; Jerry"),
            (Some("HTML"), "<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
            (Some("HTML"), "a \"q\" > b", "a &quot;q&quot; &gt; b"),
            (Some("HTML"), "&amp;", "&amp;amp;"),
            (Some("HTML"), "12.50 (incl. tax)!", "12.50 (incl. tax)!"),
            (
                Some("MarkdownV2"),
                "12.50 (incl. tax)!",
                "12\\.50 \\(incl\\. tax\\)\\!",
            ),
            (
                Some("MarkdownV2"),
                "_*[]()~`>#+-=|{}.!\\",
                "\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\",
            ),
            (Some("MarkdownV2"), "Tom & Jerry", "Tom & Jerry"),
            (Some("MarkdownV2"), "snake_case", "snake\\_case"),
            (
                Some("Markdown"),
                "snake_case *x* `y` [z]",
                "snake\\_case \\*x\\* \\`y\\` \\[z]",
            ),
            (Some("Markdown"), "12.50 (incl. tax)!", "12.50 (incl. tax)!"),
            (None, "<b>_x_</b> & *y*", "<b>_x_</b> & *y*"),
            (Some("html"), "<b>", "<b>"),
        ];
        for (mode, value, want) in cases {
            assert_eq!(telegram(mode, value), want, "{mode:?} {value}");
        }
    }

    #[test]
    fn discord_values_cannot_mention_everyone_or_here() {
        // key, value, escaped
        let cases = [
            (None, "@everyone", "@\u{200B}everyone"),
            (
                None,
                "hi @here and @everyone!",
                "hi @\u{200B}here and @\u{200B}everyone!",
            ),
            (None, "<@1> <@&5> a@b.c", "<@1> <@&5> a@b.c"),
            (None, "@Everyone @hereafter", "@Everyone @\u{200B}hereafter"),
            (Some("description"), "@here", "@\u{200B}here"),
            (
                Some("url"),
                "https://x.example/@here",
                "https://x.example/@here",
            ),
            (
                Some("icon_url"),
                "https://x.example/@everyone",
                "https://x.example/@everyone",
            ),
        ];
        for (key, value, want) in cases {
            assert_eq!(discord_field(key, value), want, "{key:?} {value}");
        }
    }

    #[test]
    fn values_are_escaped_for_slack() {
        let cases = [
            ("Tom & Jerry", "Tom &amp; Jerry"),
            ("<!channel>", "&lt;!channel&gt;"),
            (
                "<https://evil.example|click>",
                "&lt;https://evil.example|click&gt;",
            ),
            ("*bold* _it_ `c`", "*bold* _it_ `c`"),
            ("émoji 😀", "émoji 😀"),
        ];
        for (value, want) in cases {
            assert_eq!(slack(value), want, "{value}");
        }
    }
}
