//! Telegram: a `sendMessage` text's limit and how a text is fitted to it
//! for its parse mode.
//!
//! Source: Telegram Bot API docs, `sendMessage`
//! (<https://core.telegram.org/bots/api#sendmessage>: "1-4096 characters
//! after entities parsing") and "Formatting options"
//! (<https://core.telegram.org/bots/api#formatting-options>); Telegram
//! counts lengths in UTF-16 code units
//! (<https://core.telegram.org/api/entities#entity-length>).

use super::text::{cut_utf16, Cuts};

/// A message's `text`: at most 4096 UTF-16 code units, counted after
/// entities parsing (tags do not count, an HTML entity counts as one).
pub const TEXT: usize = 4096;

/// A Telegram message text within [`TEXT`], and the parse mode to
/// send it with.
///
/// Plain text is cut by UTF-16 units. HTML is measured as Telegram does,
/// after parsing (tags count nothing, an entity such as `&amp;` counts one),
/// and a cut never leaves a tag or an entity half-written: the tags left
/// open are closed after the `…`. Markdown has no such safe cut, so a cut
/// Markdown text is sent as plain text (the note says so) rather than
/// refused by Telegram. Returns the text and the parse mode to send it
/// with (`None` once a Markdown text was cut); every cut is noted in `cuts`.
pub fn fit_text(
    text: &str,
    parse_mode: Option<String>,
    cuts: &mut Cuts,
) -> (String, Option<String>) {
    if parse_mode.as_deref() == Some("HTML") {
        let (out, was_cut) = cut_html(text, TEXT);
        if was_cut {
            cuts.0
                .push(format!("text cut to {TEXT} characters (HTML tags closed)"));
        }
        return (out, parse_mode);
    }
    let (out, was_cut) = cut_utf16(text, TEXT);
    if !was_cut {
        return (out, parse_mode);
    }
    match parse_mode {
        Some(mode) => {
            cuts.0.push(format!(
                "text cut to {TEXT} characters and sent without parse_mode {mode} (a cut could break its markup)"
            ));
            (out, None)
        }
        None => {
            cuts.0.push(format!("text cut to {TEXT} characters"));
            (out, None)
        }
    }
}

/// The length of an HTML entity (`&amp;`, `&#39;`, `&#x1F600;`) at the start of `s`.
fn entity_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('&')?;
    let end = rest.find(';')?;
    let name = &rest[..end];
    (!name.is_empty()
        && name.len() <= 10
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '#'))
    .then_some(end + 2)
}

/// Cuts Telegram HTML to `max` visible UTF-16 units (see [`fit_text`]).
fn cut_html(text: &str, max: usize) -> (String, bool) {
    // Pass 1: does it fit as it is?
    let visible = |s: &str| -> usize {
        let (mut n, mut i) = (0, 0);
        while i < s.len() {
            let rest = &s[i..];
            if rest.starts_with('<') {
                if let Some(end) = rest.find('>') {
                    i += end + 1;
                    continue;
                }
            }
            if let Some(len) = entity_len(rest) {
                n += 1;
                i += len;
                continue;
            }
            let c = rest.chars().next().unwrap_or_default();
            n += c.len_utf16();
            i += c.len_utf8();
        }
        n
    };
    if visible(text) <= max {
        return (text.to_owned(), false);
    }
    let budget = max.saturating_sub(1);
    let (mut out, mut open, mut used, mut i) = (String::new(), Vec::<String>::new(), 0, 0);
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with('<') {
            let Some(end) = rest.find('>') else { break };
            let tag = &rest[..=end];
            let inner = tag[1..tag.len() - 1].trim();
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                if let Some(pos) = open.iter().rposition(|t| *t == name) {
                    open.truncate(pos);
                }
            } else {
                let name: String = inner
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                open.push(name.to_ascii_lowercase());
            }
            out.push_str(tag);
            i += end + 1;
            continue;
        }
        let (len, units) = match entity_len(rest) {
            Some(len) => (len, 1),
            None => {
                let c = rest.chars().next().unwrap_or_default();
                (c.len_utf8(), c.len_utf16())
            }
        };
        if used + units > budget {
            break;
        }
        used += units;
        out.push_str(&rest[..len]);
        i += len;
    }
    out.push('…');
    for tag in open.iter().rev() {
        out.push_str(&format!("</{tag}>"));
    }
    (out, true)
}

/// The tags Telegram's HTML parse mode takes (Bot API, "HTML style",
/// <https://core.telegram.org/bots/api#html-style>); `span` only with
/// `class="tg-spoiler"`.
pub const HTML_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
];

/// Whitespace as Telegram's HTML parser skips it between a tag's parts.
fn is_tag_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\x0B'
}

/// At most 32 characters of `s`, for a message.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(32).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// What Telegram would refuse in `text` sent with `parse_mode` `HTML`
/// ("can't parse entities"), as a sentence a person can act on; `None`
/// when its markup parses. Checked as Telegram's parser reads it: every
/// `<` opens a tag (a literal one is written `&lt;`), a start tag is one of
/// [`HTML_TAGS`] with well-formed attributes and a `>`, `span` carries
/// `class="tg-spoiler"`, end tags close the open tags innermost first
/// (`</>` closes the innermost), and no tag is left open. Entities (`&…;`)
/// are not checked: Telegram reads an unknown one as text.
pub fn html_problem(text: &str) -> Option<String> {
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(at) = text[i..].find('<') {
        let start = i + at;
        let after = &text[start + 1..];
        if let Some(end_tag) = after.strip_prefix('/') {
            let name_len = end_tag
                .find(|c: char| is_tag_space(c) || c == '>')
                .unwrap_or(end_tag.len());
            let name = &end_tag[..name_len];
            let tail = &end_tag[name_len..];
            let gap = tail.len() - tail.trim_start_matches(is_tag_space).len();
            if !tail[gap..].starts_with('>') {
                return Some(format!(
                    "`</{}` has no `>` to end it (a literal `<` is written `&lt;`)",
                    shown(name)
                ));
            }
            let Some(top) = open.pop() else {
                return Some(format!("`</{}>` closes no open tag", shown(name)));
            };
            if !name.is_empty() && !name.eq_ignore_ascii_case(&top) {
                return Some(format!(
                    "`</{}>` comes where `</{top}>` is expected (tags close innermost first)",
                    shown(name)
                ));
            }
            i = start + 2 + name_len + gap + 1;
            continue;
        }
        let Some(name_len) = after.find(|c: char| is_tag_space(c) || c == '>') else {
            return Some(format!(
                "`<{}` has no `>` to end it (a literal `<` is written `&lt;`)",
                shown(after)
            ));
        };
        let name = after[..name_len].to_ascii_lowercase();
        if !HTML_TAGS.contains(&name.as_str()) {
            return Some(if name.is_empty() {
                "a `<` starts no tag (a literal `<` is written `&lt;`)".to_owned()
            } else {
                format!(
                    "`<{}>` is not a tag Telegram takes (it takes {}; a literal `<` is written `&lt;`)",
                    shown(&after[..name_len]),
                    HTML_TAGS.join(", ")
                )
            });
        }
        let unclosed = || Some(format!("`<{name}` has no `>` to end it"));
        let mut j = start + 1 + name_len;
        let mut class = None;
        loop {
            j += text[j..].len() - text[j..].trim_start_matches(is_tag_space).len();
            let rest = &text[j..];
            if rest.is_empty() {
                return unclosed();
            }
            if let Some(after_tag) = rest.strip_prefix('>') {
                j = text.len() - after_tag.len();
                break;
            }
            let attr_len = rest
                .find(|c: char| is_tag_space(c) || "=>/\"'".contains(c))
                .unwrap_or(rest.len());
            if attr_len == 0 {
                return Some(format!(
                    "`<{name}>` has a malformed attribute at `{}`",
                    shown(rest)
                ));
            }
            let attr = rest[..attr_len].to_ascii_lowercase();
            j += attr_len;
            j += text[j..].len() - text[j..].trim_start_matches(is_tag_space).len();
            let Some(value) = text[j..].strip_prefix('=') else {
                // An attribute without a value (`expandable`).
                continue;
            };
            let value = value.trim_start_matches(is_tag_space);
            j = text.len() - value.len();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
            let got = match quote {
                Some(q) => {
                    let Some(len) = value[1..].find(q) else {
                        return unclosed();
                    };
                    j += len + 2;
                    &value[1..=len]
                }
                None => {
                    let len = value
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                        .unwrap_or(value.len());
                    let next = value[len..].chars().next();
                    if !next.is_some_and(|c| is_tag_space(c) || c == '>') {
                        return if next.is_none() {
                            unclosed()
                        } else {
                            Some(format!(
                                "`<{name}>` has an attribute value to put in quotes at `{}`",
                                shown(value)
                            ))
                        };
                    }
                    j += len;
                    &value[..len]
                }
            };
            if attr == "class" {
                class = Some(got.to_ascii_lowercase());
            }
        }
        if name == "span" && class.as_deref() != Some("tg-spoiler") {
            return Some(
                "`<span>` without `class=\"tg-spoiler\"` (the only span Telegram takes)".to_owned(),
            );
        }
        open.push(name);
        i = j;
    }
    open.last()
        .map(|top| format!("`<{top}>` is never closed (`</{top}>`)"))
}

/// The characters MarkdownV2 reserves that never start markup where they
/// stand, so an unescaped one is always refused (`!` only when no `[`
/// follows: `![…](tg://emoji?id=…)` is a custom emoji).
const MARKDOWN_V2_LITERAL_ONLY: &str = "#+-={}.!";

/// What Telegram would refuse in `text` sent with `parse_mode`
/// `MarkdownV2`, in part: a character of `# + - = { } . !` outside code,
/// pre and a link's URL, not escaped with `\\` ("Character '.' is reserved
/// and must be escaped"), the most common refusal of a hand-written
/// MarkdownV2 text. Entities that are opened and never closed are not
/// checked. `None` when nothing of that is found.
pub fn markdown_v2_problem(text: &str) -> Option<String> {
    let mut chars = text.char_indices().peekable();
    // Inside `code`, ```pre```, or a link's `(…)`.
    let (mut code, mut pre, mut url) = (false, false, false);
    let mut prev = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '`' if !url => {
                if text[i..].starts_with("```") && !code {
                    pre = !pre;
                    chars.next();
                    chars.next();
                } else if !pre {
                    code = !code;
                }
            }
            '(' if prev == Some(']') && !code && !pre => url = true,
            ')' if url => url = false,
            c if !code && !pre && !url && MARKDOWN_V2_LITERAL_ONLY.contains(c) => {
                if c == '!' && text[i + 1..].starts_with('[') {
                    prev = Some(c);
                    continue;
                }
                let before = text[..i].chars().rev().take(20).collect::<Vec<_>>();
                let before: String = before.into_iter().rev().collect();
                return Some(format!(
                    "`{c}` after `{before}` must be escaped as `\\{c}` (MarkdownV2 reserves _ * [ ] ( ) ~ ` > # + - = | {{ }} . !)"
                ));
            }
            _ => {}
        }
        prev = Some(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::text::cut;
    use super::*;

    #[test]
    fn html_that_telegram_would_refuse_is_named() {
        // text, a word of the problem (None: it parses)
        let cases: &[(&str, Option<&str>)] = &[
            ("<b>Paid</b> &amp; <i>done</i>", None),
            ("<B>caps</B> <a href=\"https://x.example/?a=1&b=2\">link</a>", None),
            ("<a href='https://x'>q</a> <code class=\"language-rust\">x</code>", None),
            ("<span class=\"tg-spoiler\">s</span> <tg-spoiler>s</tg-spoiler>", None),
            ("<span class=tg-spoiler>s</span>", None),
            ("<blockquote expandable>q</blockquote>", None),
            ("<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>", None),
            ("<pre><code class=\"language-python\">x</code></pre>", None),
            ("<b>nested <i>both</i></b> <b>x</ >", None),
            ("<u>u</u><ins>i</ins><s>s</s><strike>s</strike><del>d</del><em>e</em><strong>s</strong>", None),
            ("no markup at all & a lone ampersand", None),
            ("<b>unclosed", Some("`<b>` is never closed")),
            ("<blink>hi</blink>", Some("`<blink>` is not a tag")),
            ("<br>", Some("`<br>` is not a tag")),
            ("a < b", Some("a `<` starts no tag")),
            ("a <b", Some("`<b` has no `>`")),
            ("<b>x</i>", Some("`</i>` comes where `</b>` is expected")),
            ("x</b>", Some("`</b>` closes no open tag")),
            ("<b>x</b", Some("`</b` has no `>`")),
            ("<span>x</span>", Some("`<span>` without")),
            ("<span class=\"x\">x</span>", Some("`<span>` without")),
            ("<a href=\"https://x>q</a>", Some("`<a` has no `>`")),
            ("<a href=https://x>q</a>", Some("attribute value to put in quotes")),
            ("<b/>", Some("`<b/>` is not a tag")),
            ("<b =x>q</b>", Some("malformed attribute")),
        ];
        assert_problems(html_problem, cases);
    }

    /// Each text is accepted (`None`) or refused with a problem containing
    /// the expected words.
    fn assert_problems(check: fn(&str) -> Option<String>, cases: &[(&str, Option<&str>)]) {
        for (text, want) in cases {
            let got = check(text);
            match want {
                None => assert_eq!(got, None, "{text}"),
                Some(w) => {
                    let got = got.unwrap_or_else(|| panic!("{text}: accepted"));
                    assert!(got.contains(w), "{text}: {got}");
                }
            }
        }
    }

    #[test]
    fn markdown_v2_reserved_characters_left_unescaped_are_named() {
        let cases: &[(&str, Option<&str>)] = &[
            ("*Paid* 12\\.50 \\- thanks\\!", None),
            (
                "[site](https://x.example/a-b.c) `a.b-c` ```\nx = 1.0\n```",
                None,
            ),
            (
                "![👍](tg://emoji?id=5368324170671202286) _i_ ~s~ ||sp||",
                None,
            ),
            ("Payment received.", Some("`.` after `Payment received`")),
            ("Total: 5 - 3", Some("`-` after")),
            ("Hello!", Some("`!` after `Hello`")),
            ("a {b}", Some("`{` after")),
            ("#tag", Some("`#` after ``")),
            ("`code.` then.", Some("`.` after `")),
        ];
        assert_problems(markdown_v2_problem, cases);
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(cut("hello", 5), ("hello".into(), false));
        assert_eq!(cut("hello!", 5), ("hell…".into(), true));
        let (s, cut_) = cut(&"é".repeat(5000), TEXT);
        assert!(cut_);
        assert_eq!(s.chars().count(), TEXT);
    }

    #[test]
    fn telegram_text_is_cut_by_utf16_units() {
        let (s, was_cut) = cut_utf16(&"😀".repeat(3000), TEXT);
        assert!(was_cut);
        assert!(s.encode_utf16().count() <= TEXT);
        assert!(s.ends_with('…'));
        assert_eq!(cut_utf16("short", 10), ("short".into(), false));
    }

    #[test]
    fn telegram_texts_are_fitted_by_parse_mode() {
        let long_html = format!("<b>Total</b> &amp; <i>{}</i>", "x".repeat(5000));
        /// text, parse_mode, want text, want parse_mode, cut
        type Case = (
            String,
            Option<&'static str>,
            String,
            Option<&'static str>,
            bool,
        );
        let cases: Vec<Case> = vec![
            (
                "<b>Paid</b> &amp; done".into(),
                Some("HTML"),
                "<b>Paid</b> &amp; done".into(),
                Some("HTML"),
                false,
            ),
            (
                // 4096 visible characters, more than 4096 bytes of markup: no cut
                format!("<b>{}</b>", "y".repeat(4096)),
                Some("HTML"),
                format!("<b>{}</b>", "y".repeat(4096)),
                Some("HTML"),
                false,
            ),
            (
                long_html,
                Some("HTML"),
                format!("<b>Total</b> &amp; <i>{}…</i>", "x".repeat(4095 - 8)),
                Some("HTML"),
                true,
            ),
            (
                format!("*{}*", "m".repeat(5000)),
                Some("MarkdownV2"),
                format!("*{}…", "m".repeat(4094)),
                None,
                true,
            ),
            ("plain".into(), None, "plain".into(), None, false),
        ];
        for (text, mode, want, want_mode, want_cut) in cases {
            let mut cuts = Cuts::default();
            let (got, got_mode) = fit_text(&text, mode.map(str::to_owned), &mut cuts);
            assert_eq!(got, want, "{mode:?}");
            assert_eq!(got_mode.as_deref(), want_mode);
            assert_eq!(!cuts.0.is_empty(), want_cut, "{:?}", cuts.0);
        }
    }

    #[test]
    fn an_html_cut_never_splits_an_entity_and_closes_open_tags() {
        let text = format!(
            "<b><a href=\"https://x\">{}&amp;tail</a></b>",
            "z".repeat(4094)
        );
        let (out, was_cut) = cut_html(&text, TEXT);
        assert!(was_cut);
        assert_eq!(
            out,
            format!(
                "<b><a href=\"https://x\">{}&amp;…</a></b>",
                "z".repeat(4094)
            )
        );
    }
}
