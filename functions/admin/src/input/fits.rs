//! Save-time checks that a chat message's template can fit its platform's
//! limits. A placeholder may render empty, so the template's literal text
//! (every placeholder left out) is the least any send can carry: when that
//! is already over the limit, every send would be cut, and the template is
//! refused. Longer values substituted at run time are still cut then, with
//! a note in the run log.
//!
//! The limits and their sources are in `hooklane_engine::platforms`
//! (Discord's Execute Webhook and Embed Limits, Telegram's `sendMessage`,
//! Slack's `chat.postMessage`), and in docs/actions.md.

use hooklane_engine::platforms::{cut, discord, slack, telegram, Cuts};
use hooklane_web::ApiError;
use serde_json::Value;

use super::fields::Fields;

/// `template` with every placeholder (`{payload.x}`) left out; braces that
/// make no placeholder stay.
pub(super) fn literal(template: &str) -> String {
    placeholders_as(template, "")
}

/// `template` with every placeholder (`{payload.x}`) replaced by
/// `stand_in`; braces that make no placeholder stay.
pub(super) fn placeholders_as(template: &str, stand_in: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match after.find('}') {
            Some(end) if hooklane_template::is_placeholder(&after[..=end]) => {
                out.push_str(stand_in);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `value` with [`literal`] applied to every string in it.
fn literal_json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(literal(s)),
        Value::Array(items) => Value::Array(items.iter().map(literal_json).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), literal_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A Discord message's `content` and `embeds`: the literal content within
/// [`discord::CONTENT`] characters; the literal embeds within Discord's
/// embed limits (title, description, fields, footer, author, 6000 in all).
///
/// # Errors
/// 400 naming `content` or `embeds` and the limit.
pub(super) fn discord_message(f: &Fields<'_>) -> Result<(), ApiError> {
    if let Some(content) = f.str("content")? {
        let len = literal(content).chars().count();
        if len > discord::CONTENT {
            return Err(f.err(
                "content",
                format!(
                    "is {len} characters without its placeholders; Discord takes at most {} (Execute Webhook)",
                    discord::CONTENT
                ),
            ));
        }
    }
    if let Some(embeds) = f.array("embeds")? {
        let mut cuts = Cuts::default();
        discord::fit_embeds(embeds.iter().map(literal_json).collect(), &mut cuts);
        if !cuts.0.is_empty() {
            return Err(f.err(
                "embeds",
                format!(
                    "cannot fit Discord's embed limits even with every placeholder empty: {}",
                    cuts.0.join("; ")
                ),
            ));
        }
    }
    Ok(())
}

/// A Telegram message's `text` under its `parse_mode`: the literal text
/// within [`telegram::TEXT`] UTF-16 units as Telegram counts them (HTML
/// tags count nothing).
///
/// # Errors
/// 400 naming `text` and the limit.
pub(super) fn telegram_text(
    f: &Fields<'_>,
    text: &str,
    parse_mode: Option<&str>,
) -> Result<(), ApiError> {
    let mut cuts = Cuts::default();
    telegram::fit_text(&literal(text), parse_mode.map(str::to_owned), &mut cuts);
    if cuts.0.is_empty() {
        return Ok(());
    }
    Err(f.err(
        "text",
        format!(
            "is longer than Telegram's {} characters without its placeholders (sendMessage)",
            telegram::TEXT
        ),
    ))
}

/// A Slack message's `text`: the literal text within [`slack::TEXT`]
/// characters.
///
/// # Errors
/// 400 naming `text` and the limit.
pub(super) fn slack_text(f: &Fields<'_>, text: &str) -> Result<(), ApiError> {
    if cut(&literal(text), slack::TEXT).1 {
        return Err(f.err(
            "text",
            format!(
                "is longer than Slack's {} characters without its placeholders (chat.postMessage)",
                slack::TEXT
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literal_text_leaves_out_placeholders_and_keeps_other_braces() {
        let cases = [
            ("Paid {payload.amount} by {payload.name}", "Paid  by "),
            ("no placeholder", "no placeholder"),
            ("{not a placeholder} {x}", "{not a placeholder} "),
            ("open {brace", "open {brace"),
            ("{{payload.x}}", "{}"),
        ];
        for (template, want) in cases {
            assert_eq!(literal(template), want, "{template}");
        }
    }
}
