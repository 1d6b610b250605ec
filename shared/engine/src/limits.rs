//! The size limits of the chat platforms' APIs, applied before sending so a
//! long message is cut (and the cut noted) instead of refused.

use serde_json::{Map, Value};

pub const DISCORD_CONTENT: usize = 2000;
pub const DISCORD_EMBEDS: usize = 10;
pub const DISCORD_TITLE: usize = 256;
pub const DISCORD_DESCRIPTION: usize = 4096;
pub const DISCORD_FIELDS: usize = 25;
pub const DISCORD_FIELD_NAME: usize = 256;
pub const DISCORD_FIELD_VALUE: usize = 1024;
pub const DISCORD_FOOTER: usize = 2048;
pub const DISCORD_AUTHOR: usize = 256;
pub const DISCORD_TOTAL: usize = 6000;
pub const DISCORD_USERNAME: usize = 80;
pub const SLACK_TEXT: usize = 40_000;
pub const SLACK_BLOCKS: usize = 50;
pub const SLACK_SECTION_TEXT: usize = 3000;
pub const SLACK_SECTION_FIELDS: usize = 10;
pub const SLACK_FIELD_TEXT: usize = 2000;
pub const SLACK_HEADER_TEXT: usize = 150;
/// Telegram counts in UTF-16 code units, after entities parsing.
pub const TELEGRAM_TEXT: usize = 4096;

/// `s` cut to `max` characters, ending in `…` when cut.
pub fn cut(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        return (s.to_owned(), false);
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    (out, true)
}

/// `s` cut to `max` UTF-16 code units (how Telegram counts), ending in `…`
/// when cut.
pub fn cut_utf16(s: &str, max: usize) -> (String, bool) {
    if s.encode_utf16().count() <= max {
        return (s.to_owned(), false);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    (out, true)
}

/// A Telegram message text within [`TELEGRAM_TEXT`], and the parse mode to
/// send it with.
///
/// Plain text is cut by UTF-16 units. HTML is measured as Telegram does,
/// after parsing (tags count nothing, an entity such as `&amp;` counts one),
/// and a cut never leaves a tag or an entity half-written: the tags left
/// open are closed after the `…`. Markdown has no such safe cut, so a cut
/// Markdown text is sent as plain text (the note says so) rather than
/// refused by Telegram.
pub fn fit_telegram_text(
    text: &str,
    parse_mode: Option<String>,
    cuts: &mut Cuts,
) -> (String, Option<String>) {
    if parse_mode.as_deref() == Some("HTML") {
        let (out, was_cut) = cut_telegram_html(text, TELEGRAM_TEXT);
        if was_cut {
            cuts.0.push(format!(
                "text cut to {TELEGRAM_TEXT} characters (HTML tags closed)"
            ));
        }
        return (out, parse_mode);
    }
    let (out, was_cut) = cut_utf16(text, TELEGRAM_TEXT);
    if !was_cut {
        return (out, parse_mode);
    }
    match parse_mode {
        Some(mode) => {
            cuts.0.push(format!(
                "text cut to {TELEGRAM_TEXT} characters and sent without parse_mode {mode} (a cut could break its markup)"
            ));
            (out, None)
        }
        None => {
            cuts.0
                .push(format!("text cut to {TELEGRAM_TEXT} characters"));
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

/// Cuts Telegram HTML to `max` visible UTF-16 units (see [`fit_telegram_text`]).
fn cut_telegram_html(text: &str, max: usize) -> (String, bool) {
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

/// Fits Slack blocks within Slack's limits: at most [`SLACK_BLOCKS`] blocks,
/// section texts, section fields and header texts cut to their lengths.
pub fn fit_slack_blocks(mut blocks: Vec<Value>, cuts: &mut Cuts) -> Vec<Value> {
    if blocks.len() > SLACK_BLOCKS {
        cuts.0.push(format!("blocks cut to {SLACK_BLOCKS}"));
        blocks.truncate(SLACK_BLOCKS);
    }
    for block in &mut blocks {
        slack_texts_as_strings(block);
        let Value::Object(b) = block else { continue };
        let kind = b.get("type").and_then(Value::as_str).unwrap_or_default();
        let max = match kind {
            "section" => SLACK_SECTION_TEXT,
            "header" => SLACK_HEADER_TEXT,
            _ => continue,
        };
        let what = format!("{kind} text");
        if let Some(Value::Object(t)) = b.get_mut("text") {
            cuts.text(t, "text", max, &what);
        }
        if let Some(Value::Array(fields)) = b.get_mut("fields") {
            if fields.len() > SLACK_SECTION_FIELDS {
                cuts.0
                    .push(format!("section fields cut to {SLACK_SECTION_FIELDS}"));
                fields.truncate(SLACK_SECTION_FIELDS);
            }
            for f in fields.iter_mut() {
                if let Value::Object(f) = f {
                    cuts.text(f, "text", SLACK_FIELD_TEXT, "section field text");
                }
            }
        }
    }
    blocks
}

/// Notes of what was cut, for the run log.
#[derive(Debug, Default)]
pub struct Cuts(pub Vec<String>);

impl Cuts {
    fn text(&mut self, obj: &mut Map<String, Value>, key: &str, max: usize, what: &str) -> usize {
        if let Some(Value::String(s)) = obj.get(key) {
            let (text, was_cut) = cut(s, max);
            let len = text.chars().count();
            if was_cut {
                self.0.push(format!("{what} cut to {max} characters"));
                obj.insert(key.to_owned(), Value::String(text));
            }
            return len;
        }
        0
    }
}

/// A number or boolean as text (a whole placeholder keeps its JSON type,
/// but these platform fields only take text).
fn as_text(v: &mut Value) {
    if matches!(v, Value::Number(_) | Value::Bool(_)) {
        *v = Value::String(v.to_string());
    }
}

/// Discord refuses an embed whose text fields are not strings.
fn discord_texts_as_strings(e: &mut Map<String, Value>) {
    for key in ["title", "description", "url", "timestamp"] {
        if let Some(v) = e.get_mut(key) {
            as_text(v);
        }
    }
    for (key, inner) in [("footer", "text"), ("author", "name")] {
        if let Some(Value::Object(o)) = e.get_mut(key) {
            if let Some(v) = o.get_mut(inner) {
                as_text(v);
            }
        }
    }
    if let Some(Value::Array(fields)) = e.get_mut("fields") {
        for f in fields.iter_mut() {
            if let Value::Object(f) = f {
                for key in ["name", "value"] {
                    if let Some(v) = f.get_mut(key) {
                        as_text(v);
                    }
                }
            }
        }
    }
}

/// Slack refuses a text object whose `text` is not a string.
fn slack_texts_as_strings(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (key, inner) in o.iter_mut() {
                if key == "text" {
                    as_text(inner);
                }
                slack_texts_as_strings(inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(slack_texts_as_strings),
        _ => {}
    }
}

/// Fits Discord embeds within Discord's limits; returns the embeds and the notes.
pub fn fit_discord_embeds(embeds: Vec<Value>, cuts: &mut Cuts) -> Vec<Value> {
    let mut total = 0usize;
    let mut out = Vec::new();
    if embeds.len() > DISCORD_EMBEDS {
        cuts.0
            .push(format!("only the first {DISCORD_EMBEDS} embeds were sent"));
    }
    for embed in embeds.into_iter().take(DISCORD_EMBEDS) {
        let Value::Object(mut e) = embed else {
            cuts.0
                .push("an embed that is not an object was left out".into());
            continue;
        };
        discord_texts_as_strings(&mut e);
        let mut size = cuts.text(&mut e, "title", DISCORD_TITLE, "embed title");
        size += cuts.text(
            &mut e,
            "description",
            DISCORD_DESCRIPTION,
            "embed description",
        );
        for (key, inner, max) in [
            ("footer", "text", DISCORD_FOOTER),
            ("author", "name", DISCORD_AUTHOR),
        ] {
            if let Some(Value::Object(o)) = e.get_mut(key) {
                size += cuts.text(o, inner, max, &format!("embed {key}"));
            }
        }
        let mut field_sizes = Vec::new();
        if let Some(Value::Array(fields)) = e.get_mut("fields") {
            if fields.len() > DISCORD_FIELDS {
                cuts.0.push(format!("embed fields cut to {DISCORD_FIELDS}"));
                fields.truncate(DISCORD_FIELDS);
            }
            for f in fields.iter_mut() {
                let mut n = 0;
                if let Value::Object(f) = f {
                    n += cuts.text(f, "name", DISCORD_FIELD_NAME, "field name");
                    n += cuts.text(f, "value", DISCORD_FIELD_VALUE, "field value");
                }
                field_sizes.push(n);
            }
        }
        // Within the 6000-character total: drop fields from the end, then the embed.
        let mut keep = field_sizes.len();
        while keep > 0 && total + size + field_sizes[..keep].iter().sum::<usize>() > DISCORD_TOTAL {
            keep -= 1;
        }
        if keep < field_sizes.len() {
            cuts.0.push(format!(
                "fields past {DISCORD_TOTAL} characters in all were dropped"
            ));
            if let Some(Value::Array(fields)) = e.get_mut("fields") {
                fields.truncate(keep);
            }
        }
        size += field_sizes[..keep].iter().sum::<usize>();
        if total + size > DISCORD_TOTAL {
            cuts.0.push(format!(
                "embeds past {DISCORD_TOTAL} characters in all were dropped"
            ));
            break;
        }
        total += size;
        out.push(Value::Object(e));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(cut("hello", 5), ("hello".into(), false));
        assert_eq!(cut("hello!", 5), ("hell…".into(), true));
        let (s, cut_) = cut(&"é".repeat(5000), TELEGRAM_TEXT);
        assert!(cut_);
        assert_eq!(s.chars().count(), TELEGRAM_TEXT);
    }

    #[test]
    fn telegram_text_is_cut_by_utf16_units() {
        let (s, was_cut) = cut_utf16(&"😀".repeat(3000), TELEGRAM_TEXT);
        assert!(was_cut);
        assert!(s.encode_utf16().count() <= TELEGRAM_TEXT);
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
            let (got, got_mode) = fit_telegram_text(&text, mode.map(str::to_owned), &mut cuts);
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
        let (out, was_cut) = cut_telegram_html(&text, TELEGRAM_TEXT);
        assert!(was_cut);
        assert_eq!(
            out,
            format!(
                "<b><a href=\"https://x\">{}&amp;…</a></b>",
                "z".repeat(4094)
            )
        );
    }

    #[test]
    fn slack_blocks_are_fitted_to_slack_limits() {
        let blocks: Vec<Value> = std::iter::once(json!({"type": "header", "text": {"type": "plain_text", "text": "h".repeat(200)}}))
            .chain(std::iter::once(json!({"type": "section", "text": {"type": "mrkdwn", "text": "s".repeat(3500)},
                "fields": (0..12).map(|_| json!({"type": "mrkdwn", "text": "f".repeat(2100)})).collect::<Vec<_>>()})))
            .chain((0..60).map(|_| json!({"type": "divider"})))
            .collect();
        let mut cuts = Cuts::default();
        let out = fit_slack_blocks(blocks, &mut cuts);
        assert_eq!(out.len(), SLACK_BLOCKS);
        let len = |v: &Value| v.as_str().unwrap().chars().count();
        assert_eq!(len(&out[0]["text"]["text"]), SLACK_HEADER_TEXT);
        assert_eq!(len(&out[1]["text"]["text"]), SLACK_SECTION_TEXT);
        let fields = out[1]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), SLACK_SECTION_FIELDS);
        assert_eq!(len(&fields[0]["text"]), SLACK_FIELD_TEXT);
        assert!(cuts.0.len() >= 4, "{:?}", cuts.0);
    }

    #[test]
    fn text_fields_that_rendered_as_numbers_are_sent_as_text() {
        let mut cuts = Cuts::default();
        let embeds = fit_discord_embeds(
            vec![json!({"title": 42, "color": 5763719,
                        "fields": [{"name": "Amount", "value": 150.5, "inline": true}],
                        "footer": {"text": true}})],
            &mut cuts,
        );
        assert_eq!(
            embeds[0],
            json!({"title": "42", "color": 5763719,
                   "fields": [{"name": "Amount", "value": "150.5", "inline": true}],
                   "footer": {"text": "true"}})
        );
        let blocks = fit_slack_blocks(
            vec![
                json!({"type": "section", "text": {"type": "mrkdwn", "text": 150},
                        "fields": [{"type": "plain_text", "text": 7, "emoji": true}]}),
            ],
            &mut cuts,
        );
        assert_eq!(
            blocks[0],
            json!({"type": "section", "text": {"type": "mrkdwn", "text": "150"},
                   "fields": [{"type": "plain_text", "text": "7", "emoji": true}]})
        );
        assert!(cuts.0.is_empty());
    }

    #[test]
    fn discord_embeds_are_fitted_to_discord_limits() {
        let fields: Vec<_> = (0..30)
            .map(|i| json!({"name": format!("f{i}"), "value": "v".repeat(2000)}))
            .collect();
        let mut cuts = Cuts::default();
        let out = fit_discord_embeds(
            vec![json!({"title": "t".repeat(300), "fields": fields})],
            &mut cuts,
        );
        let e = &out[0];
        assert_eq!(e["title"].as_str().unwrap().chars().count(), DISCORD_TITLE);
        let fields = e["fields"].as_array().unwrap();
        assert_eq!(
            fields[0]["value"].as_str().unwrap().chars().count(),
            DISCORD_FIELD_VALUE
        );
        let total: usize = DISCORD_TITLE
            + fields
                .iter()
                .map(|f| {
                    f["name"].as_str().unwrap().chars().count()
                        + f["value"].as_str().unwrap().chars().count()
                })
                .sum::<usize>();
        assert!(total <= DISCORD_TOTAL, "{total}");
        assert_eq!(
            fields.len(),
            5,
            "5 fields of 1026 characters fit after a 256-character title"
        );
        assert!(!cuts.0.is_empty());
    }
}
