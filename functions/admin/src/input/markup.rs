//! Save-time check of a Telegram text's own markup under its `parse_mode`:
//! a template whose literal text Telegram cannot parse ("can't parse
//! entities") would fail at every send, so it is refused when saved.
//! Values substituted at run time are escaped for the parse mode (see
//! `hooklane_engine::platforms::escape`), so each placeholder is checked
//! as the plain text it becomes (and shown as `…` in a message).
//!
//! `HTML` is checked in full ([`telegram::html_problem`]); `MarkdownV2`
//! for its reserved characters left unescaped
//! ([`telegram::markdown_v2_problem`]); legacy `Markdown` is not checked.

use hooklane_engine::platforms::telegram;
use hooklane_web::ApiError;

use super::fields::Fields;
use super::fits::placeholders_as;

/// A Telegram message's `text` under its `parse_mode`, each placeholder
/// read as plain text.
///
/// # Errors
/// 400 naming `text`, the parse mode and the problem (the tag, or the
/// character to escape).
pub(super) fn telegram_text(
    f: &Fields<'_>,
    text: &str,
    parse_mode: Option<&str>,
) -> Result<(), ApiError> {
    let plain = placeholders_as(text, "…");
    let problem = match parse_mode {
        Some("HTML") => telegram::html_problem(&plain),
        Some("MarkdownV2") => telegram::markdown_v2_problem(&plain),
        _ => None,
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(f.err(
            "text",
            format!(
                "is not valid under parse_mode {}, and Telegram would refuse every send: {problem}",
                parse_mode.unwrap_or_default()
            ),
        )),
    }
}
