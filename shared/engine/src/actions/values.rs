//! How a rendered value reads: as text, as a number, as a short run log
//! detail.

use serde_json::Value;

use crate::platforms::cut;

/// How much of one value (a compared side, a stored variable) the run log
/// shows; the run log is one record and must stay small.
const DETAIL_VALUE_CHARS: usize = 1000;

/// The value itself when its JSON is short, else its JSON cut short (as text).
pub(super) fn brief(v: Value) -> Value {
    let text = v.to_string();
    if text.chars().count() <= DETAIL_VALUE_CHARS {
        return v;
    }
    Value::String(cut(&text, DETAIL_VALUE_CHARS).0)
}

/// A value as text, the way a placeholder inside text renders it (`null`
/// is the empty text).
pub(super) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A number, or a string holding one (bot builders send numbers as text).
pub(super) fn as_number(v: &Value) -> Option<serde_json::Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return Some(i.into());
            }
            s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
        }
        _ => None,
    }
}
