//! The field checks every admin body shares: the body must be a JSON
//! object; each field is read by its path in the body (`auth.secret`,
//! `actions[1].then[0].url`) and refused, naming that path, when it has the
//! wrong type; display names and lists have their limits; fields an object
//! does not take, and fields the API sets itself, are refused.

use std::ops::RangeInclusive;

use hooklane_domain::InvalidId;
use hooklane_web::{ApiError, ErrorCode};
use serde::Serialize;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The longest name of a bot, hook or endpoint, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The most entries in `allowed_origins`, `allowed_ips`, `events` and `headers`.
pub const MAX_LIST_ENTRIES: usize = 100;

/// A 400 refusal with `code` and `message`.
pub(super) fn invalid(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// The body as a JSON object; 400 `invalid_json` when it is anything else.
pub(super) fn body_object(value: Value) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(obj) => Ok(obj),
        _ => Err(invalid(
            ErrorCode::InvalidJson,
            "the body must be a JSON object",
        )),
    }
}

/// Overlays a PATCH body on the current input (as `hook_input` or
/// `endpoint_input` give it): each top-level key of `patch` replaces the
/// current one, whole. Answers the merged object.
///
/// # Errors
/// 400 `invalid_json` when `patch` is not a JSON object.
pub fn merge(mut current: Map<String, Value>, patch: Value) -> Result<Value, ApiError> {
    let Value::Object(patch) = patch else {
        return Err(invalid(
            ErrorCode::InvalidJson,
            "the body must be a JSON object",
        ));
    };
    for (k, v) in patch {
        current.insert(k, v);
    }
    Ok(Value::Object(current))
}

/// The fields of `record` as stored (serialized by serde) that a body may
/// write, `fields`: the object a PATCH is laid over with [`merge`].
pub(super) fn input_of(record: &impl Serialize, fields: &[&str]) -> Map<String, Value> {
    let Ok(Value::Object(mut m)) = serde_json::to_value(record) else {
        return Map::new();
    };
    m.retain(|k, _| fields.contains(&k.as_str()));
    m
}

/// The name JSON gives a value's type, for messages (`a string`, `null`, …).
pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads the fields of one JSON object, naming each by its path in the
/// body when it is wrong. A field set to `null` counts as left out.
pub(super) struct Fields<'a> {
    obj: &'a Map<String, Value>,
    /// The path of the object itself (`""` for the body, `actions[0]`, …).
    pub(super) base: String,
    code: ErrorCode,
}

impl<'a> Fields<'a> {
    pub(super) fn new(
        obj: &'a Map<String, Value>,
        base: impl Into<String>,
        code: ErrorCode,
    ) -> Self {
        Self {
            obj,
            base: base.into(),
            code,
        }
    }

    /// The same object read under another error code (`id` of a bot is
    /// refused as `invalid_id`, an endpoint's `url` as `invalid_url`).
    pub(super) fn with_code(&self, code: ErrorCode) -> Fields<'a> {
        Fields {
            obj: self.obj,
            base: self.base.clone(),
            code,
        }
    }

    /// The field `key`, when given, parsed as an id by `parse` (such as
    /// `BotId::parse`).
    ///
    /// # Errors
    /// 400 under this object's code naming the field, the value (its first
    /// 64 characters) and the rule it breaks.
    pub(super) fn id<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, InvalidId>,
    ) -> Result<Option<T>, ApiError> {
        let Some(raw) = self.str(key)? else {
            return Ok(None);
        };
        match parse(raw) {
            Ok(id) => Ok(Some(id)),
            Err(e) => Err(self.err(
                key,
                format!(
                    "`{}` is not a {} id: {}",
                    e.value.chars().take(64).collect::<String>(),
                    e.kind,
                    e.reason
                ),
            )),
        }
    }

    /// The field `allowed_mentions`, when given: a Discord `allowed_mentions`
    /// object as Discord takes it (<https://discord.com/developers/docs/resources/message#allowed-mentions-object>):
    /// `parse` (a list of `users`, `roles`, `everyone`), `users` and `roles`
    /// (up to 100 ids each, not together with the same kind in `parse`),
    /// `replied_user` (a boolean). Answers it as given.
    ///
    /// # Errors
    /// 400 under this object's code naming the part at fault
    /// (`allowed_mentions.parse[1]`, `allowed_mentions.users`, …).
    pub(super) fn allowed_mentions(&self) -> Result<Option<Value>, ApiError> {
        let Some(m) = self.object("allowed_mentions")? else {
            return Ok(None);
        };
        let m_f = Fields::new(m, self.path("allowed_mentions"), self.code);
        m_f.only(
            &["parse", "users", "roles", "replied_user"],
            "`allowed_mentions`",
        )?;
        let parse = m_f.strings("parse", 3)?.unwrap_or_default();
        for (i, p) in parse.iter().enumerate() {
            if !["users", "roles", "everyone"].contains(&p.as_str()) {
                return Err(m_f.err(
                    &format!("parse[{i}]"),
                    format!("is `{p}`; it is users, roles or everyone"),
                ));
            }
        }
        for kind in ["users", "roles"] {
            if let Some(ids) = m_f.strings(kind, 100)? {
                if let Some(i) = ids
                    .iter()
                    .position(|id| id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(m_f.err(&format!("{kind}[{i}]"), "is not a Discord id (digits)"));
                }
                if parse.iter().any(|p| p == kind) {
                    return Err(m_f.err(
                        kind,
                        format!("cannot be given with `{kind}` in `parse` (Discord refuses both)"),
                    ));
                }
            }
        }
        m_f.bool("replied_user")?;
        Ok(Some(Value::Object(m.clone())))
    }

    /// The required field `key` as an RFC 3339 time.
    ///
    /// # Errors
    /// 400 under this object's code naming the field when it is missing,
    /// not a string, or not an RFC 3339 time.
    pub(super) fn required_time(&self, key: &str) -> Result<OffsetDateTime, ApiError> {
        const RULE: &str = "an RFC 3339 time such as 2026-01-31T00:00:00Z";
        let raw = self.required_str(key, RULE)?;
        match OffsetDateTime::parse(raw, &Rfc3339) {
            Ok(t) => Ok(t),
            Err(_) => Err(self.err(key, format!("is `{raw}`; it must be {RULE}"))),
        }
    }

    pub(super) fn path(&self, key: &str) -> String {
        if self.base.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.base)
        }
    }

    pub(super) fn err(&self, key: &str, what: impl std::fmt::Display) -> ApiError {
        invalid(self.code, format!("`{}` {what}", self.path(key)))
    }

    /// Refuses any key outside `allowed`; `what` names the object ("a hook").
    pub(super) fn only(&self, allowed: &[&str], what: &str) -> Result<(), ApiError> {
        match self.obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(self.err(
                k,
                format!(
                    "is not a field of {what}; its fields are {}",
                    allowed.join(", ")
                ),
            )),
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn required(&self, key: &str, hint: &str) -> Result<&'a Value, ApiError> {
        self.get(key)
            .ok_or_else(|| self.err(key, format!("is missing: {hint}")))
    }

    pub(super) fn wrong_type(&self, key: &str, want: &str, got: &Value) -> ApiError {
        self.err(key, format!("must be {want}, not {}", kind_of(got)))
    }

    pub(super) fn str(&self, key: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    pub(super) fn required_str(&self, key: &str, hint: &str) -> Result<&'a str, ApiError> {
        let v = self.required(key, hint)?;
        v.as_str()
            .ok_or_else(|| self.wrong_type(key, "a string", v))
    }

    pub(super) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(key, "true or false", other)),
        }
    }

    pub(super) fn u64(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.err(key, "must be a whole number of at least 0")),
        }
    }

    /// A whole number from `range`, if given: refused as [`Self::u64`]
    /// refuses it, or as "must be {start} to {end}".
    pub(super) fn u64_in(
        &self,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Option<u64>, ApiError> {
        match self.u64(key)? {
            Some(n) if !range.contains(&n) => {
                Err(self.err(key, format!("must be {} to {}", range.start(), range.end())))
            }
            n => Ok(n),
        }
    }

    /// `v`, found at `key` (a field or `list[i]`), as a whole number of
    /// seconds from `range`.
    pub(super) fn seconds(
        &self,
        key: &str,
        v: &Value,
        range: RangeInclusive<u64>,
    ) -> Result<u64, ApiError> {
        v.as_u64().filter(|s| range.contains(s)).ok_or_else(|| {
            self.err(
                key,
                format!(
                    "must be a whole number of seconds from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
    }

    /// The field `key` as [`Self::seconds`], if given.
    pub(super) fn seconds_field(
        &self,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Option<u64>, ApiError> {
        self.get(key)
            .map(|v| self.seconds(key, v, range))
            .transpose()
    }

    pub(super) fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.wrong_type(key, "an array", other)),
        }
    }

    pub(super) fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(other) => Err(self.wrong_type(key, "an object", other)),
        }
    }

    /// A list of strings of at most `max` entries.
    pub(super) fn strings(&self, key: &str, max: usize) -> Result<Option<Vec<String>>, ApiError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        if items.len() > max {
            return Err(self.err(
                key,
                format!("holds at most {max} entries (got {})", items.len()),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.wrong_type(&format!("{key}[{i}]"), "a string", v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A display name: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
    pub(super) fn name(&self, key: &str, default: &str) -> Result<String, ApiError> {
        let name = self.str(key)?.unwrap_or(default).trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(self.err(key, format!("must be 1 to {MAX_NAME_CHARS} characters")));
        }
        Ok(name.to_owned())
    }
}

/// Refuses the fields the API sets itself (`read_only`), naming the first
/// one found; `code` is the refusal's error code.
pub(super) fn refuse_read_only(
    obj: &Map<String, Value>,
    read_only: &[&str],
    code: ErrorCode,
) -> Result<(), ApiError> {
    match obj.keys().find(|k| read_only.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            code,
            format!("`{k}` is set by Hooklane and cannot be written"),
        )),
        None => Ok(()),
    }
}
