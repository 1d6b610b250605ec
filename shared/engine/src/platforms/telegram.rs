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

#[cfg(test)]
mod tests {
    use super::super::text::cut;
    use super::*;

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
