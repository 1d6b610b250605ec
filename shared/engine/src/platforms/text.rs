//! Cutting text to a platform's limit, and the notes of what was cut.

use serde_json::{Map, Value};

/// `s` cut to `max` characters (Unicode scalar values), ending in `…` when
/// cut (the `…` counts as one of the `max`); the flag says whether it was.
pub fn cut(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        return (s.to_owned(), false);
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    (out, true)
}

/// `s` cut to `max` UTF-16 code units (how Telegram counts), ending in `…`
/// when cut (the `…` counts as one unit); the flag says whether it was. A
/// character is never split.
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

/// Notes of what was cut, one sentence each (e.g. `"embed title cut to 256
/// characters"`), for the run log.
#[derive(Debug, Default)]
pub struct Cuts(pub Vec<String>);

impl Cuts {
    /// Cuts the string at `obj[key]` to `max` characters, noting the cut
    /// as `"{what} cut to {max} characters"`. Returns its length in
    /// characters after the cut (0 when it is absent or not a string).
    pub fn text(
        &mut self,
        obj: &mut Map<String, Value>,
        key: &str,
        max: usize,
        what: &str,
    ) -> usize {
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
/// but the platforms' text fields only take text).
pub fn as_text(v: &mut Value) {
    if matches!(v, Value::Number(_) | Value::Bool(_)) {
        *v = Value::String(v.to_string());
    }
}
