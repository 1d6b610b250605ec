//! Placeholder templates for Hooklane actions.
//!
//! A template is any string (or any JSON value holding strings) that may
//! contain placeholders such as `{amount}`, `{payload.items.0.sku}` or
//! `{headers.x-request-id}`. A placeholder is `{`, then 1 to 64 characters
//! from `[A-Za-z0-9_.-]`, then `}`; any other use of braces is plain text and
//! is kept exactly as written.
//!
//! Rendering is a single pass: a value that is substituted in is never scanned
//! again, so a payload that contains `{x}` cannot inject placeholders.
//!
//! ```
//! use hooklane_template::{render_json, render_str, Context};
//! use serde_json::json;
//!
//! let mut ctx = Context::default();
//! ctx.root.insert("payload".into(), json!({"amount": 150, "user": {"name": "Ada"}}));
//!
//! let text = render_str("{payload.user.name} paid {payload.amount} {nope}", &ctx);
//! assert_eq!(text.value, "Ada paid 150 {nope}");
//! assert_eq!(text.unknown, vec!["nope".to_string()]);
//!
//! let body = render_json(&json!({"total": "{payload.amount}"}), &ctx);
//! assert_eq!(body.value, json!({"total": 150}));
//! ```

use serde_json::{Map, Value};

/// Longest placeholder name, in characters, between the braces.
pub const MAX_NAME_LEN: usize = 64;

/// The namespace whose keys are looked up case-insensitively (it holds
/// lowercase header names).
const HEADERS_NAMESPACE: &str = "headers";

/// Everything a template can read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Caller variables from the `variables` array, keyed by the name inside
    /// the braces (`"amount"` for `{amount}`; names may contain `.`, `-` and
    /// `_`). An exact match here wins over any path into [`Context::root`].
    pub variables: Map<String, Value>,
    /// Namespaces (`"payload"`, `"query"`, `"headers"`, `"context"`,
    /// `"request"`, `"event"`, `"bot"`, `"hook"`, `"var"`) mapped to their
    /// JSON values. The `headers` namespace must hold lowercase header names.
    pub root: Map<String, Value>,
}

impl Context {
    /// Resolves a placeholder name (the text between the braces).
    ///
    /// First looks for a caller variable with exactly that name (so
    /// `user.name` finds a variable named `user.name`). Otherwise the name is
    /// a dotted path into [`Context::root`]: the first segment picks the
    /// namespace and each further segment is an object key or, for arrays, a
    /// decimal index. Under `headers` the rest of the path is lowercased, so
    /// header names match case-insensitively.
    ///
    /// Returns `None` when nothing is found, including for an out-of-range
    /// array index or a path that runs through a non-container value.
    pub fn lookup(&self, path: &str) -> Option<&Value> {
        if let Some(value) = self.variables.get(path) {
            return Some(value);
        }
        let (namespace, rest) = match path.split_once('.') {
            Some((namespace, rest)) => (namespace, Some(rest)),
            None => (path, None),
        };
        let base = self.root.get(namespace)?;
        let Some(rest) = rest else {
            return Some(base);
        };
        if namespace == HEADERS_NAMESPACE {
            let rest = rest.to_ascii_lowercase();
            // Header names may themselves contain dots: try the whole name
            // first, then fall back to walking the segments.
            if let Some(value) = base.as_object().and_then(|map| map.get(&rest)) {
                return Some(value);
            }
            return walk(base, &rest);
        }
        walk(base, rest)
    }
}

/// Follows the dot-separated `path` through objects and arrays from `value`.
fn walk<'a>(mut value: &'a Value, path: &str) -> Option<&'a Value> {
    for segment in path.split('.') {
        value = match value {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(parse_index(segment)?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Parses an array index: one or more ASCII digits.
fn parse_index(segment: &str) -> Option<usize> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

/// Result of rendering a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered<T> {
    /// The rendered value.
    pub value: T,
    /// Names (without braces, e.g. `"nope"` for `{nope}`) of placeholders
    /// that were not found, in order of first appearance, without
    /// duplicates. Those placeholders are left in `value` as written.
    pub unknown: Vec<String>,
}

/// Renders the placeholders in a text template.
///
/// Substituted strings are inserted as they are; numbers and booleans as
/// their JSON text; `null` as the empty string; objects and arrays as compact
/// JSON. Unknown placeholders stay as written and are listed in
/// [`Rendered::unknown`].
pub fn render_str(template: &str, ctx: &Context) -> Rendered<String> {
    render_str_with(template, ctx, &|_, text| text.to_owned())
}

/// How a substituted text is escaped for the format its template is
/// written in: called with the object key the template string sits under
/// (`None` at the top or in an array) and the text of one substituted
/// value; answers the text to insert. The template's own text is never
/// passed through it, so its markup stays markup.
pub type Escaper<'a> = &'a dyn Fn(Option<&str>, &str) -> String;

/// Renders like [`render_str`], passing each substituted text (strings,
/// and numbers, booleans, objects and arrays as their JSON text) through
/// `escape` (called with the key `None`) before it is inserted.
pub fn render_str_with(template: &str, ctx: &Context, escape: Escaper<'_>) -> Rendered<String> {
    let mut unknown = Vec::new();
    let value = render_text(template, ctx, &mut unknown, &|text| escape(None, text));
    Rendered { value, unknown }
}

/// Renders the placeholders in a JSON template.
///
/// Walks objects and arrays; object keys are left as they are, only values
/// are rendered. A string that is exactly one placeholder (see
/// [`is_placeholder`]) is replaced by the found value with its JSON type
/// (`"{payload.amount}"` becomes `150`, an object stays an object); any other
/// string is rendered as text like [`render_str`]. Numbers, booleans and
/// `null` are kept.
pub fn render_json(template: &Value, ctx: &Context) -> Rendered<Value> {
    render_json_with(template, ctx, &|_, text| text.to_owned())
}

/// Renders like [`render_json`], passing each substituted text through
/// `escape` with the object key its string sits under: a placeholder
/// inside a longer string, and a whole-placeholder string whose value is a
/// string. A whole placeholder whose value is a number, boolean, `null`,
/// object or array keeps its JSON type and is not escaped.
pub fn render_json_with(template: &Value, ctx: &Context, escape: Escaper<'_>) -> Rendered<Value> {
    let mut unknown = Vec::new();
    let value = render_value(template, None, ctx, &mut unknown, escape);
    Rendered { value, unknown }
}

/// Returns `true` when `s` is exactly one placeholder: `{`, then 1 to 64
/// characters from `[A-Za-z0-9_.-]`, then `}`.
pub fn is_placeholder(s: &str) -> bool {
    placeholder_len(s.as_bytes()) == Some(s.len())
}

fn render_value(
    template: &Value,
    key: Option<&str>,
    ctx: &Context,
    unknown: &mut Vec<String>,
    escape: Escaper<'_>,
) -> Value {
    match template {
        Value::String(s) => {
            if is_placeholder(s) {
                let name = &s[1..s.len() - 1];
                match ctx.lookup(name) {
                    Some(Value::String(text)) => Value::String(escape(key, text)),
                    Some(value) => value.clone(),
                    None => {
                        note_unknown(unknown, name);
                        Value::String(s.clone())
                    }
                }
            } else {
                Value::String(render_text(s, ctx, unknown, &|text| escape(key, text)))
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_value(item, None, ctx, unknown, escape))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, value)| {
                    (
                        k.clone(),
                        render_value(value, Some(k), ctx, unknown, escape),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn render_text(
    template: &str,
    ctx: &Context,
    unknown: &mut Vec<String>,
    escape: &dyn Fn(&str) -> String,
) -> String {
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len());
    // Start of the literal text not yet copied to `out`.
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if let Some(len) = placeholder_len(&bytes[i..]) {
                // `{`, `}` and the name characters are ASCII, so these byte
                // offsets are always character boundaries.
                let whole = &template[i..i + len];
                let name = &whole[1..len - 1];
                out.push_str(&template[literal_start..i]);
                match ctx.lookup(name) {
                    Some(value) => out.push_str(&escape(&value_text(value))),
                    None => {
                        out.push_str(whole);
                        note_unknown(unknown, name);
                    }
                }
                i += len;
                literal_start = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&template[literal_start..]);
    out
}

/// Length in bytes (braces included) of the placeholder at the very start of
/// `bytes`, if there is one.
fn placeholder_len(bytes: &[u8]) -> Option<usize> {
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let name_len = bytes[1..]
        .iter()
        .take(MAX_NAME_LEN + 1)
        .take_while(|b| is_name_byte(**b))
        .count();
    if name_len == 0 || name_len > MAX_NAME_LEN {
        return None;
    }
    (bytes.get(1 + name_len) == Some(&b'}')).then_some(name_len + 2)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// `value` as text: strings raw, `null` empty, everything else as compact
/// JSON.
fn value_text(value: &Value) -> std::borrow::Cow<'_, str> {
    match value {
        Value::String(s) => s.into(),
        Value::Null => "".into(),
        other => other.to_string().into(),
    }
}

fn note_unknown(unknown: &mut Vec<String>, name: &str) {
    if !unknown.iter().any(|seen| seen == name) {
        unknown.push(name.to_string());
    }
}
