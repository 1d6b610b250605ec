//! How commands print: tables and coloured words for people, JSON for
//! scripts (`--json`), and a spinner on stderr while a slow call runs.
//!
//! Colours go through `anstream`, which drops them when stdout is not a
//! terminal (or `NO_COLOR` is set); the spinner shows only when stderr is
//! a terminal.

use std::future::Future;
use std::io::IsTerminal as _;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// One column of a table: its heading and where its value is in an item
/// (a JSON pointer such as `/id` or `/auth/type`).
pub type Column = (&'static str, &'static str);

/// A value as a table cell: text as it is, `-` for null or missing,
/// arrays joined with `, `, anything else as JSON.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.is_empty() => "-".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// Prints `items` as a table of `columns`, or "(none)" when there are none.
pub fn table(columns: &[Column], items: &[Value]) {
    if items.is_empty() {
        anstream::println!("(none)");
        return;
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(columns.iter().map(|(heading, _)| *heading));
    // On a terminal that says its width (COLUMNS), long cells wrap to fit.
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok());
    if let (true, Some(width)) = (std::io::stdout().is_terminal(), width) {
        table
            .set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic);
    }
    for item in items {
        table.add_row(
            columns
                .iter()
                .map(|(_, pointer)| cell(item.pointer(pointer))),
        );
    }
    anstream::println!("{table}");
}

/// Prints `value` as indented JSON.
pub fn json(value: &Value) {
    anstream::println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// The style of a status word: green for success, red for failure,
/// yellow for anything under way.
pub fn status_style(status: &str) -> Style {
    let color = match status {
        "succeeded" | "queued" | "ok" => AnsiColor::Green,
        "failed" | "exhausted" | "error" => AnsiColor::Red,
        _ => AnsiColor::Yellow,
    };
    Style::new().fg_color(Some(color.into()))
}

/// `text` in `style` (the codes are dropped on the way out when the
/// output is not a terminal).
pub fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Dimmed text.
pub fn dim(text: &str) -> String {
    paint(Style::new().dimmed(), text)
}

/// Runs `work`, showing a spinner with `message` on stderr (on a terminal
/// only) while it runs.
pub async fn with_progress<T>(message: &str, work: impl Future<Output = T>) -> T {
    let spinner = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        Some(bar)
    } else {
        None
    };
    let out = work.await;
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_show_text_as_it_is_and_missing_values_as_a_dash() {
        let item = json!({"id": "hk_1", "events": ["a.*", "b"], "enabled": true, "n": null});
        assert_eq!(cell(item.pointer("/id")), "hk_1");
        assert_eq!(cell(item.pointer("/events")), "a.*, b");
        assert_eq!(cell(item.pointer("/enabled")), "true");
        assert_eq!(cell(item.pointer("/n")), "-");
        assert_eq!(cell(item.pointer("/nothing")), "-");
    }
}
