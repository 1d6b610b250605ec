//! Reading a call's body: its content coding undone ([`decode`]), then
//! JSON (with the bot-builder `variables` array), form-encoded, or text.

use hooklane_domain::envelope::{json_depth, MAX_JSON_DEPTH};
use hooklane_template::is_placeholder;
use serde_json::{Map, Value};

pub mod decode;
mod error;
#[cfg(test)]
mod properties;

pub use error::BodyError;

/// The UTF-8 byte order mark some senders put before a body.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// ASCII whitespace as C's `isspace` has it: space, tab, LF, CR, vertical
/// tab and form feed. Around a JSON body it does not matter (JSON itself
/// allows only the first four; the others are dropped before parsing).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C')
}

/// The body as the actions see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedBody {
    /// `{payload.…}`: the JSON body less `variables`; a form as an object of
    /// strings (an array of them for a repeated name); other text as a
    /// string; `null` for an empty body.
    pub payload: Value,
    /// The bot-builder variables, keyed by the name inside the braces of
    /// each entry's `variable` (`{amount}` → `amount`), with their values as
    /// sent; empty when the body has none.
    pub variables: Map<String, Value>,
}

fn invalid_variables(message: String) -> BodyError {
    BodyError::InvalidVariables(message)
}

/// How a media type says a body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    /// `application/json`, `text/json`, `*/*+json`: JSON, whatever it holds.
    Json,
    /// `application/x-www-form-urlencoded`: a form, unless it is a JSON
    /// object or array (curl's `-d` sends JSON with this type).
    Form,
    /// No type: JSON when it starts like an object or array (and then it
    /// must be JSON), text otherwise.
    Missing,
    /// `text/plain`, `application/octet-stream`: a JSON object or array is
    /// JSON, anything else text.
    Loose,
    /// Any other type: text.
    Text,
}

impl Declared {
    fn of(content_type: Option<&str>) -> Self {
        let mime = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match mime.as_str() {
            "" => Declared::Missing,
            "application/json" | "text/json" => Declared::Json,
            m if m.ends_with("+json") => Declared::Json,
            "application/x-www-form-urlencoded" => Declared::Form,
            "text/plain" | "application/octet-stream" => Declared::Loose,
            _ => Declared::Text,
        }
    }
}

/// Parses `bytes` (already decoded, see [`decode`]) by its content type.
/// A UTF-8 byte order mark before the body is dropped, and so is ASCII
/// whitespace around JSON (see [`is_blank`]). A body that is a JSON object
/// or array (after any leading whitespace) is read as JSON under a JSON
/// type, no type, a form type, `text/plain` or `application/octet-stream`;
/// a JSON object may carry `variables` (validated as the contract says);
/// everything else is the payload.
///
/// # Errors
/// [`BodyError::NotUtf8`] for a body that is not UTF-8 (400
/// `invalid_body`); `InvalidJson` for a body declared JSON (or untyped and
/// starting with `{` or `[`) that does not parse, `TooDeep` for JSON that
/// nests deeper than [`MAX_JSON_DEPTH`] (both 400 `invalid_json`);
/// `InvalidVariables` naming the entry and key that are wrong.
pub fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> Result<ParsedBody, BodyError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    if bytes.iter().all(|b| is_blank(char::from(*b))) {
        return Ok(ParsedBody {
            payload: Value::Null,
            variables: Map::new(),
        });
    }
    let text = std::str::from_utf8(bytes)?;
    let declared = Declared::of(content_type);
    let json_text = text.trim_matches(is_blank);
    let looks_json = matches!(json_text.as_bytes().first(), Some(b'{' | b'['));
    let json = match declared {
        Declared::Json => Some(parse_json(json_text)?),
        Declared::Missing if looks_json => Some(parse_json(json_text)?),
        Declared::Form | Declared::Loose if looks_json => parse_json(json_text).ok(),
        _ => None,
    };
    if let Some(value) = json {
        if json_depth(&value) > MAX_JSON_DEPTH {
            return Err(BodyError::TooDeep);
        }
        return split_variables(value);
    }
    let payload = match declared {
        Declared::Form => Value::Object(form(text)),
        _ => Value::String(text.to_owned()),
    };
    Ok(ParsedBody {
        payload,
        variables: Map::new(),
    })
}

fn parse_json(text: &str) -> Result<Value, BodyError> {
    Ok(serde_json::from_str(text)?)
}

/// A form as an object; a repeated name becomes an array of its values.
pub fn form(text: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        let v = Value::String(v.into_owned());
        match out.get_mut(k.as_ref()) {
            None => {
                out.insert(k.into_owned(), v);
            }
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
        }
    }
    out
}

fn split_variables(value: Value) -> Result<ParsedBody, BodyError> {
    let Value::Object(mut obj) = value else {
        return Ok(ParsedBody {
            payload: value,
            variables: Map::new(),
        });
    };
    let mut variables = Map::new();
    if let Some(raw) = obj.remove("variables") {
        let Value::Array(entries) = raw else {
            return Err(invalid_variables(
                "`variables` must be an array of {\"name\", \"variable\", \"value\"} objects"
                    .into(),
            ));
        };
        for (i, entry) in entries.into_iter().enumerate() {
            let Value::Object(entry) = entry else {
                return Err(invalid_variables(format!(
                    "variables[{i}] must be an object with `name`, `variable` and `value`"
                )));
            };
            for key in ["name", "variable", "value"] {
                if !entry.contains_key(key) {
                    return Err(invalid_variables(format!("variables[{i}] has no `{key}`")));
                }
            }
            if !entry["name"].is_string() {
                return Err(invalid_variables(format!(
                    "variables[{i}].name must be a string"
                )));
            }
            let Some(variable) = entry["variable"].as_str() else {
                return Err(invalid_variables(format!(
                    "variables[{i}].variable must be a string such as \"{{amount}}\""
                )));
            };
            if !is_placeholder(variable) {
                return Err(invalid_variables(format!(
                    "variables[{i}].variable must be `{{` + 1 to 64 of A-Z a-z 0-9 _ . - + `}}`, such as \"{{amount}}\""
                )));
            }
            let value = &entry["value"];
            if !(value.is_string() || value.is_number() || value.is_boolean()) {
                return Err(invalid_variables(format!(
                    "variables[{i}].value must be a string, a number or a boolean"
                )));
            }
            let name = &variable[1..variable.len() - 1];
            variables.insert(name.to_owned(), value.clone());
        }
    }
    Ok(ParsedBody {
        payload: Value::Object(obj),
        variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(r: Result<ParsedBody, BodyError>) -> (&'static str, String) {
        let e = hooklane_web::ApiError::from(r.expect_err("should be refused"));
        (e.code.as_str(), e.message)
    }

    #[test]
    fn variables_are_taken_out_of_the_payload() {
        let body = br#"{"variables": [{"name": "Amount", "variable": "{amount}", "value": "12"}], "order": 7}"#;
        let parsed = parse_body(Some("application/json"), body).unwrap();
        assert_eq!(parsed.payload, json!({"order": 7}));
        assert_eq!(parsed.variables.get("amount"), Some(&json!("12")));
    }

    #[test]
    fn each_malformed_variables_form_names_the_entry_and_key() {
        let cases: &[(&str, &str)] = &[
            (r#"{"variables": {}}"#, "must be an array"),
            (r#"{"variables": "x"}"#, "must be an array"),
            (r#"{"variables": [1]}"#, "variables[0] must be an object"),
            (
                r#"{"variables": [{"variable": "{a}", "value": "1"}]}"#,
                "variables[0] has no `name`",
            ),
            (
                r#"{"variables": [{"name": "A", "value": "1"}]}"#,
                "variables[0] has no `variable`",
            ),
            (
                r#"{"variables": [{"name": "A", "variable": "{a}"}]}"#,
                "variables[0] has no `value`",
            ),
            (
                r#"{"variables": [{"name": "A", "variable": "a", "value": "1"}]}"#,
                "variables[0].variable must be",
            ),
            (
                r#"{"variables": [{"name": "A", "variable": "{a b}", "value": "1"}]}"#,
                "variables[0].variable must be",
            ),
            (
                r#"{"variables": [{"name": "A", "variable": "{}", "value": "1"}]}"#,
                "variables[0].variable must be",
            ),
            (
                r#"{"variables": [{"name": 1, "variable": "{a}", "value": "1"}]}"#,
                "variables[0].name must be a string",
            ),
            (
                r#"{"variables": [{"name": "A", "variable": 5, "value": "1"}]}"#,
                "variables[0].variable must be a string",
            ),
            (
                r#"{"variables": [{"name": "A", "variable": "{a}", "value": {"x": 1}}]}"#,
                "variables[0].value must be",
            ),
            (
                r#"{"variables": [{"name": "A", "variable": "{a}", "value": "1"}, {"name": "B", "variable": "{b}"}]}"#,
                "variables[1] has no `value`",
            ),
        ];
        for (body, want) in cases {
            let (c, message) = code(parse_body(Some("application/json"), body.as_bytes()));
            assert_eq!(c, "invalid_variables", "{body}");
            assert!(message.contains(want), "{body}: {message}");
        }
    }

    #[test]
    fn forms_text_and_empty_bodies_are_read() {
        let parsed =
            parse_body(Some("application/x-www-form-urlencoded"), b"a=1&b=x+y&a=2").unwrap();
        assert_eq!(parsed.payload, json!({"a": ["1", "2"], "b": "x y"}));
        let parsed = parse_body(Some("text/plain; charset=utf-8"), b"hello").unwrap();
        assert_eq!(parsed.payload, json!("hello"));
        assert_eq!(parse_body(None, b"").unwrap().payload, Value::Null);
        assert_eq!(
            parse_body(None, br#"{"a":1}"#).unwrap().payload,
            json!({"a": 1})
        );
    }

    /// The BotGhost example: curl -d sends JSON as a form.
    const BOTGHOST: &str =
        r#"{"variables": [{"name": "Amount", "variable": "{amount}", "value": "12"}]}"#;

    #[test]
    fn each_content_type_reads_a_body_as_the_contract_says() {
        let form = Some("application/x-www-form-urlencoded");
        // What, the content type, the body, the payload and variables read.
        type Case = (
            &'static str,
            Option<&'static str>,
            &'static [u8],
            Value,
            Value,
        );
        let cases: Vec<Case> = vec![
            // JSON objects and arrays are JSON under every form-ish or missing type.
            (
                "botghost via curl -d",
                form,
                BOTGHOST.as_bytes(),
                json!({}),
                json!({"amount": "12"}),
            ),
            (
                "JSON as a form with a charset",
                Some("application/x-www-form-urlencoded; charset=utf-8"),
                br#"{"a": 1}"#,
                json!({"a": 1}),
                json!({}),
            ),
            (
                "JSON array as a form",
                form,
                b"[1, 2]",
                json!([1, 2]),
                json!({}),
            ),
            (
                "JSON after blank lines as a form",
                form,
                b"\r\n {\"a\": 1}",
                json!({"a": 1}),
                json!({}),
            ),
            (
                "a JSON array after ASCII whitespace as a form",
                form,
                b" \t\x0C\x0B\r\n[1, 2]\x0C\n",
                json!([1, 2]),
                json!({}),
            ),
            (
                "a JSON object after a form feed as a form",
                form,
                b"\x0C{\"a\": 1}",
                json!({"a": 1}),
                json!({}),
            ),
            (
                "a JSON object after a form feed with no type",
                None,
                b"\x0C\x0B {\"a\": 1}",
                json!({"a": 1}),
                json!({}),
            ),
            (
                "a JSON object after a form feed as JSON",
                Some("application/json"),
                b"\x0C{\"a\": 1}\x0C",
                json!({"a": 1}),
                json!({}),
            ),
            (
                "a JSON array after a form feed as text/plain",
                Some("text/plain"),
                b"\x0C[1]",
                json!([1]),
                json!({}),
            ),
            (
                "JSON with no type",
                None,
                BOTGHOST.as_bytes(),
                json!({}),
                json!({"amount": "12"}),
            ),
            (
                "JSON with an empty type",
                Some(""),
                br#"{"a": 1}"#,
                json!({"a": 1}),
                json!({}),
            ),
            (
                "JSON as text/plain",
                Some("text/plain"),
                BOTGHOST.as_bytes(),
                json!({}),
                json!({"amount": "12"}),
            ),
            (
                "JSON as TEXT/PLAIN; charset",
                Some("TEXT/PLAIN; charset=UTF-8"),
                br#"[{"a": 1}]"#,
                json!([{"a": 1}]),
                json!({}),
            ),
            (
                "JSON as octet-stream",
                Some("application/octet-stream"),
                br#"{"a": 1}"#,
                json!({"a": 1}),
                json!({}),
            ),
            (
                "text/json",
                Some("text/json"),
                br#"{"a": 1}"#,
                json!({"a": 1}),
                json!({}),
            ),
            (
                "application/cloudevents+json",
                Some("application/cloudevents+json"),
                br#"{"a": 1}"#,
                json!({"a": 1}),
                json!({}),
            ),
            (
                "application/vnd.api+json; charset",
                Some("application/vnd.api+json; charset=utf-8"),
                br#"{"a": 1}"#,
                json!({"a": 1}),
                json!({}),
            ),
            (
                "JSON type with a scalar",
                Some("application/json"),
                b"true",
                json!(true),
                json!({}),
            ),
            // A UTF-8 byte order mark is dropped, whatever follows it.
            (
                "BOM before JSON",
                Some("application/json"),
                b"\xEF\xBB\xBF{\"order\": 7}",
                json!({"order": 7}),
                json!({}),
            ),
            (
                "BOM before untyped JSON",
                None,
                b"\xEF\xBB\xBF{\"order\": 7}",
                json!({"order": 7}),
                json!({}),
            ),
            (
                "BOM before JSON as a form",
                form,
                b"\xEF\xBB\xBF{\"order\": 7}",
                json!({"order": 7}),
                json!({}),
            ),
            (
                "BOM before a form",
                form,
                b"\xEF\xBB\xBForder=7&x=1",
                json!({"order": "7", "x": "1"}),
                json!({}),
            ),
            (
                "BOM before text",
                Some("text/plain"),
                b"\xEF\xBB\xBFhello",
                json!("hello"),
                json!({}),
            ),
            (
                "BOM alone",
                Some("application/json"),
                b"\xEF\xBB\xBF",
                Value::Null,
                json!({}),
            ),
            (
                "a second BOM is text",
                Some("text/plain"),
                b"\xEF\xBB\xBF\xEF\xBB\xBFhi",
                json!("\u{feff}hi"),
                json!({}),
            ),
            // What is not a JSON object or array keeps its type's reading.
            (
                "a form",
                form,
                b"a=1&b=x+y&a=2",
                json!({"a": ["1", "2"], "b": "x y"}),
                json!({}),
            ),
            (
                "a form that starts like JSON",
                form,
                b"{a}=1",
                json!({"{a}": "1"}),
                json!({}),
            ),
            (
                "a JSON scalar as a form",
                form,
                b"12",
                json!({"12": ""}),
                json!({}),
            ),
            (
                "text that starts like JSON",
                Some("text/plain"),
                b"{not json",
                json!("{not json"),
                json!({}),
            ),
            (
                "a JSON string as text",
                Some("text/plain"),
                b"\"x\"",
                json!("\"x\""),
                json!({}),
            ),
            ("untyped text", None, b"hello", json!("hello"), json!({})),
            (
                "XML",
                Some("application/xml"),
                b"<a>1</a>",
                json!("<a>1</a>"),
                json!({}),
            ),
            (
                "JSON under another type stays text",
                Some("text/csv"),
                br#"{"a": 1}"#,
                json!(r#"{"a": 1}"#),
                json!({}),
            ),
            (
                "empty",
                Some("application/json"),
                b"",
                Value::Null,
                json!({}),
            ),
            ("blank", None, b" \n", Value::Null, json!({})),
        ];
        for (what, content_type, body, payload, variables) in cases {
            let parsed = parse_body(content_type, body).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(parsed.payload, payload, "{what}");
            assert_eq!(Value::Object(parsed.variables), variables, "{what}");
        }
    }

    #[test]
    fn json_numbers_keep_the_digits_they_were_sent_with() {
        let body = br#"{"price": 12.50, "huge": 1e400, "long": 123456789012345678901234567890, "zero": -0.0, "negzero": -0, "small": 1.0E-7, "variables": [{"name": "A", "variable": "{a}", "value": 0.10}]}"#;
        let parsed = parse_body(Some("application/x-www-form-urlencoded"), body).unwrap();
        // An exponent is spelled `e+N`/`e-N`; the digits and the sign are kept.
        let cases = [
            ("price", "12.50"),
            ("huge", "1e+400"),
            ("long", "123456789012345678901234567890"),
            ("zero", "-0.0"),
            ("negzero", "-0"),
            ("small", "1.0e-7"),
        ];
        for (key, sent) in cases {
            assert_eq!(parsed.payload[key].to_string(), sent, "{key}");
        }
        let scalar = parse_body(Some("application/json"), b"12.50").unwrap();
        assert_eq!(scalar.payload.to_string(), "12.50");
        assert_eq!(parsed.variables["a"].to_string(), "0.10");
    }

    #[test]
    fn bodies_that_must_be_json_and_are_not_are_refused() {
        let cases: &[(&str, Option<&str>, &[u8])] = &[
            ("typed JSON cut short", Some("application/json"), b"{\"a\":"),
            ("text/json that is text", Some("text/json"), b"hello"),
            (
                "+json that is not JSON",
                Some("application/ld+json"),
                b"{a}",
            ),
            ("untyped, starts like JSON", None, b"{not json"),
            (
                "BOM then broken JSON",
                Some("application/json"),
                b"\xEF\xBB\xBF{\"a\"",
            ),
        ];
        for (what, content_type, body) in cases {
            let (c, _) = code(parse_body(*content_type, body));
            assert_eq!(c, "invalid_json", "{what}");
        }
        let deep = "[".repeat(MAX_JSON_DEPTH + 1) + &"]".repeat(MAX_JSON_DEPTH + 1);
        let (c, message) = code(parse_body(Some("text/plain"), deep.as_bytes()));
        assert_eq!((c, message.contains("deeper than")), ("invalid_json", true));
    }

    #[test]
    fn malformed_json_and_non_utf8_bodies_are_refused() {
        assert_eq!(
            code(parse_body(Some("application/json"), b"{\"a\":")).0,
            "invalid_json"
        );
        assert_eq!(
            code(parse_body(Some("application/json"), b"\xff\xfe")).0,
            "invalid_body"
        );
        let deepest = "[".repeat(MAX_JSON_DEPTH) + &"]".repeat(MAX_JSON_DEPTH);
        assert!(parse_body(Some("application/json"), deepest.as_bytes()).is_ok());
        let deeper = format!("{{\"a\": {deepest}}}");
        let (c, message) = code(parse_body(Some("application/json"), deeper.as_bytes()));
        assert_eq!(c, "invalid_json");
        assert!(message.contains("deeper than 100"), "{message}");
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(
            code(parse_body(Some("application/json"), deep.as_bytes())).0,
            "invalid_json"
        );
    }
}
