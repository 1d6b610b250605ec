//! Reading a call's body: JSON (with the bot-builder `variables` array),
//! form-encoded, or text.

use hooklane_template::is_placeholder;
use hooklane_web::{ApiError, ErrorCode};
use serde_json::{Map, Value};

use crate::MAX_JSON_DEPTH;

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

fn invalid_variables(message: String) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidVariables, message)
}

/// Parses `bytes` by its content type. A JSON object may carry `variables`
/// (validated as the contract says); everything else is the payload.
///
/// # Errors
/// 400 `invalid_body` for a body that is not UTF-8; `invalid_json` for JSON
/// that does not parse or nests deeper than [`MAX_JSON_DEPTH`];
/// `invalid_variables` naming the entry and key that are wrong.
pub fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> Result<ParsedBody, ApiError> {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let empty = bytes.iter().all(u8::is_ascii_whitespace);
    if empty {
        return Ok(ParsedBody {
            payload: Value::Null,
            variables: Map::new(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!(
                "the body is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    let looks_json = matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['));
    // A JSON body sent as a form (curl's default for -d) is still read as JSON.
    if mime == "application/x-www-form-urlencoded"
        && !(looks_json && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
    {
        return Ok(ParsedBody {
            payload: Value::Object(form(text)),
            variables: Map::new(),
        });
    }
    if mime == "application/json" || mime.ends_with("+json") || (mime.is_empty() && looks_json) {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request(
                ErrorCode::InvalidJson,
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        if json_depth(&value) > MAX_JSON_DEPTH {
            return Err(too_deep());
        }
        return split_variables(value);
    }
    Ok(ParsedBody {
        payload: Value::String(text.to_owned()),
        variables: Map::new(),
    })
}

fn too_deep() -> ApiError {
    ApiError::bad_request(
        ErrorCode::InvalidJson,
        format!("the body nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects"),
    )
}

/// How many arrays and objects nest in `value` at its deepest (a scalar is 0).
pub fn json_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
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

fn split_variables(value: Value) -> Result<ParsedBody, ApiError> {
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

    fn code(r: Result<ParsedBody, ApiError>) -> (&'static str, String) {
        let e = r.expect_err("should be refused");
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
