//! Slack: a message's limits and how blocks are fitted to them.
//!
//! Sources: Slack API docs, `chat.postMessage`
//! (<https://api.slack.com/methods/chat.postMessage#truncating>) and the
//! Block Kit reference (<https://api.slack.com/reference/block-kit/blocks>).
//! Slack counts characters.

use serde_json::Value;

use super::text::{as_text, Cuts};

/// A message's `text`: Slack truncates past 40,000 characters
/// (`chat.postMessage`, "Truncating content").
pub const TEXT: usize = 40_000;
/// At most 50 blocks in one message (Block Kit, "Blocks").
pub const BLOCKS: usize = 50;
/// A section block's `text`: at most 3000 characters (Block Kit, "Section").
pub const SECTION_TEXT: usize = 3000;
/// At most 10 `fields` in a section block (Block Kit, "Section").
pub const SECTION_FIELDS: usize = 10;
/// One section field's text: at most 2000 characters (Block Kit, "Section").
pub const FIELD_TEXT: usize = 2000;
/// A header block's `text`: at most 150 characters (Block Kit, "Header").
pub const HEADER_TEXT: usize = 150;

/// Slack refuses a text object whose `text` is not a string.
fn texts_as_strings(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (key, inner) in o.iter_mut() {
                if key == "text" {
                    as_text(inner);
                }
                texts_as_strings(inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(texts_as_strings),
        _ => {}
    }
}

/// Fits Block Kit blocks (JSON as Slack takes them) within Slack's limits:
/// at most [`BLOCKS`] blocks; section texts, section fields (at most
/// [`SECTION_FIELDS`]) and header texts cut to their lengths; numbers and
/// booleans under a `text` key sent as text. Every change is noted in
/// `cuts`.
pub fn fit_blocks(mut blocks: Vec<Value>, cuts: &mut Cuts) -> Vec<Value> {
    if blocks.len() > BLOCKS {
        cuts.0.push(format!("blocks cut to {BLOCKS}"));
        blocks.truncate(BLOCKS);
    }
    for block in &mut blocks {
        texts_as_strings(block);
        let Value::Object(b) = block else { continue };
        let kind = b.get("type").and_then(Value::as_str).unwrap_or_default();
        let max = match kind {
            "section" => SECTION_TEXT,
            "header" => HEADER_TEXT,
            _ => continue,
        };
        let what = format!("{kind} text");
        if let Some(Value::Object(t)) = b.get_mut("text") {
            cuts.text(t, "text", max, &what);
        }
        if let Some(Value::Array(fields)) = b.get_mut("fields") {
            if fields.len() > SECTION_FIELDS {
                cuts.0
                    .push(format!("section fields cut to {SECTION_FIELDS}"));
                fields.truncate(SECTION_FIELDS);
            }
            for f in fields.iter_mut() {
                if let Value::Object(f) = f {
                    cuts.text(f, "text", FIELD_TEXT, "section field text");
                }
            }
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slack_blocks_are_fitted_to_slack_limits() {
        let blocks: Vec<Value> = std::iter::once(json!({"type": "header", "text": {"type": "plain_text", "text": "h".repeat(200)}}))
            .chain(std::iter::once(json!({"type": "section", "text": {"type": "mrkdwn", "text": "s".repeat(3500)},
                "fields": (0..12).map(|_| json!({"type": "mrkdwn", "text": "f".repeat(2100)})).collect::<Vec<_>>()})))
            .chain((0..60).map(|_| json!({"type": "divider"})))
            .collect();
        let mut cuts = Cuts::default();
        let out = fit_blocks(blocks, &mut cuts);
        assert_eq!(out.len(), BLOCKS);
        let len = |v: &Value| v.as_str().unwrap().chars().count();
        assert_eq!(len(&out[0]["text"]["text"]), HEADER_TEXT);
        assert_eq!(len(&out[1]["text"]["text"]), SECTION_TEXT);
        let fields = out[1]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), SECTION_FIELDS);
        assert_eq!(len(&fields[0]["text"]), FIELD_TEXT);
        assert!(cuts.0.len() >= 4, "{:?}", cuts.0);
    }
}
