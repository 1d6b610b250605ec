//! Parsing and checking what the admin API is sent: bots, hooks and
//! endpoints. Every refusal names the field at fault by its path in the
//! body, such as `auth.secret`, `allowed_ips[2]` or, for actions, the index
//! path `actions[1].then[0].url`.

use base64::Engine as _;
use hooklane_auth::signature::{Algorithm, Encoding, Scheme};
use hooklane_domain::action::{ActionSpec, Condition};
use hooklane_domain::validate::{is_variable_name, validate_event_filter, validate_event_name};
use hooklane_domain::{
    Action, Bot, BotId, Endpoint, EndpointType, Hook, HookAuth, HookResponse, RateLimit,
    DEFAULT_MAX_BODY_BYTES,
};
use hooklane_engine::outbound::check_target;
use hooklane_web::ApiError;
use serde_json::{Map, Value};

use crate::AdminState;

/// The most a hook's body limit can be set to.
pub const MAX_BODY_LIMIT: usize = 512 * 1024;
/// The most top-level actions a hook holds.
pub const MAX_ACTIONS: usize = 50;
/// The most actions in all, nested ones (in `then`/`else`) included.
pub const MAX_ACTIONS_TOTAL: usize = 100;
/// How deep conditions may nest: a condition inside `MAX_NESTING - 1`
/// others is the deepest allowed.
pub const MAX_NESTING: usize = 5;
/// The most entries in a retry schedule, and the longest single delay (7 days).
pub const MAX_SCHEDULE: usize = 20;
pub const MAX_DELAY_SECONDS: u64 = 7 * 86_400;
/// The most attempts an endpoint may make of one message.
pub const MAX_ATTEMPTS: u64 = 50;
/// The longest name of a bot, hook or endpoint, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The most entries in `allowed_origins`, `allowed_ips`, `events` and `headers`.
pub const MAX_LIST_ENTRIES: usize = 100;
/// The largest a hook may be, as JSON (it is stored as one record).
pub const MAX_HOOK_BYTES: usize = 256 * 1024;
/// The most requests per second a hook's rate limit may name.
pub const MAX_RATE_PER_SECOND: f64 = 100_000.0;

/// The action types, as written in `type`.
const ACTION_TYPES: &[&str] = &[
    "http_request",
    "discord_message",
    "slack_message",
    "telegram_message",
    "set_variable",
    "update_variable",
    "delete_variable",
    "condition",
    "publish",
    "log",
];

/// Fields of a hook the API sets; a body may not write them.
const HOOK_READ_ONLY: &[&str] = &["id", "bot_id", "url", "created_at", "updated_at"];
/// Fields of an endpoint the API sets; a body may not write them.
const ENDPOINT_READ_ONLY: &[&str] = &[
    "id",
    "bot_id",
    "disabled_reason",
    "failing_since",
    "created_at",
    "updated_at",
];

pub fn bot_id(raw: &str) -> Result<BotId, ApiError> {
    BotId::parse(raw).map_err(|_| ApiError::not_found("no such bot"))
}

pub async fn load_bot(state: &AdminState, raw: &str) -> Result<Bot, ApiError> {
    let id = bot_id(raw)?;
    state
        .svc
        .store
        .get_bot(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such bot"))
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// Overlays a PATCH body on the current input: top-level keys are replaced.
pub fn merge(mut current: Map<String, Value>, patch: Value) -> Result<Value, ApiError> {
    let Value::Object(patch) = patch else {
        return Err(invalid("invalid_json", "the body must be a JSON object"));
    };
    for (k, v) in patch {
        current.insert(k, v);
    }
    Ok(Value::Object(current))
}

/// The name JSON gives a value's type, for messages.
fn kind_of(v: &Value) -> &'static str {
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
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    base: String,
    code: &'static str,
}

impl<'a> Fields<'a> {
    fn new(obj: &'a Map<String, Value>, base: impl Into<String>, code: &'static str) -> Self {
        Self {
            obj,
            base: base.into(),
            code,
        }
    }

    fn path(&self, key: &str) -> String {
        if self.base.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.base)
        }
    }

    fn err(&self, key: &str, what: impl std::fmt::Display) -> ApiError {
        invalid(self.code, format!("`{}` {what}", self.path(key)))
    }

    /// Refuses any key outside `allowed`; `what` names the object ("a hook").
    fn only(&self, allowed: &[&str], what: &str) -> Result<(), ApiError> {
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

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn required(&self, key: &str, hint: &str) -> Result<&'a Value, ApiError> {
        self.get(key)
            .ok_or_else(|| self.err(key, format!("is missing: {hint}")))
    }

    fn wrong_type(&self, key: &str, want: &str, got: &Value) -> ApiError {
        self.err(key, format!("must be {want}, not {}", kind_of(got)))
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    fn required_str(&self, key: &str, hint: &str) -> Result<&'a str, ApiError> {
        let v = self.required(key, hint)?;
        v.as_str()
            .ok_or_else(|| self.wrong_type(key, "a string", v))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(key, "true or false", other)),
        }
    }

    fn u64(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.err(key, "must be a whole number of at least 0")),
        }
    }

    fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.wrong_type(key, "an array", other)),
        }
    }

    fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(other) => Err(self.wrong_type(key, "an object", other)),
        }
    }

    /// A list of strings of at most `max` entries.
    fn strings(&self, key: &str, max: usize) -> Result<Option<Vec<String>>, ApiError> {
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
    fn name(&self, key: &str, default: &str) -> Result<String, ApiError> {
        let name = self.str(key)?.unwrap_or(default).trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(self.err(key, format!("must be 1 to {MAX_NAME_CHARS} characters")));
        }
        Ok(name.to_owned())
    }
}

/// Refuses the fields the API sets itself.
fn refuse_read_only(
    obj: &Map<String, Value>,
    read_only: &[&str],
    code: &'static str,
) -> Result<(), ApiError> {
    match obj.keys().find(|k| read_only.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            code,
            format!("`{k}` is set by Hooklane and cannot be written"),
        )),
        None => Ok(()),
    }
}

// ----------------------------------------------------------------- bots

/// What creating a bot takes: a name, and optionally the caller's own id.
pub fn check_bot(value: Value) -> Result<(String, Option<BotId>), ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid(
            "invalid_json",
            "the body must be a JSON object such as {\"name\": \"My bot\"}",
        ));
    };
    let f = Fields::new(&obj, "", "invalid_bot");
    f.only(&["name", "id"], "a bot")?;
    let names = Fields::new(&obj, "", "invalid_name");
    names.required_str("name", "the bot's display name")?;
    let name = names.name("name", "")?;
    let id = match f.str("id").map_err(|e| with_code(e, "invalid_id"))? {
        None => None,
        Some(raw) => Some(BotId::parse(raw).map_err(|e| {
            invalid(
                "invalid_id",
                format!(
                    "`id` `{}` is not a bot id: {}",
                    e.value.chars().take(64).collect::<String>(),
                    e.reason
                ),
            )
        })?),
    };
    Ok((name, id))
}

fn with_code(mut e: ApiError, code: &'static str) -> ApiError {
    e.code = code;
    e
}

// ---------------------------------------------------------- signed URLs

/// The longest a signed URL may stay valid: 10 years.
pub const MAX_URL_LIFETIME_SECONDS: u64 = 10 * 365 * 86_400;
/// The most a signed URL's context may hold, as JSON.
pub const MAX_CONTEXT_BYTES: usize = 2048;

/// What minting a signed URL takes: a `context` object (default `{}`) and
/// an optional `expires_in` in seconds.
/// How deep a signed URL's context may nest (the ingress reads no deeper).
const MAX_CONTEXT_DEPTH: usize = 100;

fn json_depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

pub fn check_signed_url_request(value: Value) -> Result<(Value, Option<u64>), ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid("invalid_json", "the body must be a JSON object"));
    };
    Fields::new(&obj, "", "invalid_json")
        .only(&["context", "expires_in"], "a signed URL request")?;
    let context = Fields::new(&obj, "", "invalid_context")
        .object("context")?
        .cloned()
        .unwrap_or_default();
    if json_depth(&Value::Object(context.clone())) > MAX_CONTEXT_DEPTH {
        return Err(invalid(
            "invalid_context",
            format!("`context` nests more than {MAX_CONTEXT_DEPTH} levels deep"),
        ));
    }
    let size = Value::Object(context.clone()).to_string().len();
    if size > MAX_CONTEXT_BYTES {
        return Err(invalid(
            "invalid_context",
            format!("`context` is {size} bytes as JSON; at most {MAX_CONTEXT_BYTES}"),
        ));
    }
    let expiry = Fields::new(&obj, "", "invalid_expiry");
    let expires_in = match expiry.get("expires_in") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|s| (1..=MAX_URL_LIFETIME_SECONDS).contains(s))
                .ok_or_else(|| {
                    expiry.err(
                        "expires_in",
                        format!("must be a whole number of seconds from 1 to {MAX_URL_LIFETIME_SECONDS}"),
                    )
                })?,
        ),
    };
    Ok((Value::Object(context), expires_in))
}

// ---------------------------------------------------------------- hooks

const HOOK_FIELDS: &[&str] = &[
    "name",
    "enabled",
    "methods",
    "auth",
    "allowed_origins",
    "allowed_ips",
    "rate_limit",
    "max_body_bytes",
    "response",
    "actions",
];

/// The fields of a hook as its input (secrets included), for PATCH merges.
pub fn hook_input(hook: &Hook) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), hook.name.clone().into());
    m.insert("enabled".into(), hook.enabled.into());
    m.insert(
        "methods".into(),
        serde_json::to_value(&hook.methods).unwrap_or_default(),
    );
    m.insert(
        "auth".into(),
        serde_json::to_value(&hook.auth).unwrap_or_default(),
    );
    m.insert(
        "allowed_origins".into(),
        serde_json::to_value(&hook.allowed_origins).unwrap_or_default(),
    );
    m.insert(
        "allowed_ips".into(),
        serde_json::to_value(&hook.allowed_ips).unwrap_or_default(),
    );
    m.insert(
        "rate_limit".into(),
        serde_json::to_value(hook.rate_limit).unwrap_or_default(),
    );
    m.insert("max_body_bytes".into(), hook.max_body_bytes.into());
    m.insert(
        "response".into(),
        serde_json::to_value(&hook.response).unwrap_or_default(),
    );
    m.insert(
        "actions".into(),
        serde_json::to_value(&hook.actions).unwrap_or_default(),
    );
    m
}

/// What parsing a hook gives: the checked fields, and a secret that was
/// generated for it (shown once).
pub struct CheckedHook {
    pub name: String,
    pub enabled: bool,
    pub methods: Vec<String>,
    pub auth: HookAuth,
    pub allowed_origins: Vec<String>,
    pub allowed_ips: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    pub max_body_bytes: usize,
    pub response: Option<HookResponse>,
    pub actions: Vec<ActionSpec>,
    pub generated_secret: Option<String>,
}

/// Checks a whole hook (a create body, or the current hook with a PATCH laid
/// over it). `previous_auth` keeps the secrets of an auth whose type stays.
pub async fn check_hook(
    value: Value,
    previous_auth: Option<&HookAuth>,
    allow_private: bool,
) -> Result<CheckedHook, ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid("invalid_json", "the body must be a JSON object"));
    };
    let size = Value::Object(obj.clone()).to_string().len();
    if size > MAX_HOOK_BYTES {
        return Err(invalid(
            "invalid_hook",
            format!("the hook is {size} bytes as JSON; at most {MAX_HOOK_BYTES}"),
        ));
    }
    refuse_read_only(&obj, HOOK_READ_ONLY, "invalid_hook")?;
    let f = Fields::new(&obj, "", "invalid_hook");
    f.only(HOOK_FIELDS, "a hook")?;

    let name = f.name("name", "Hook")?;
    let enabled = f.bool("enabled")?.unwrap_or(true);

    let mut methods = Vec::new();
    let given = f
        .strings("methods", 5)?
        .unwrap_or_else(|| vec!["POST".into()]);
    for (i, m) in given.iter().enumerate() {
        let m = m.trim().to_ascii_uppercase();
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
            return Err(f.err(
                &format!("methods[{i}]"),
                format!("is `{m}`; a hook takes GET, POST, PUT, PATCH and DELETE"),
            ));
        }
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    if methods.is_empty() {
        return Err(f.err("methods", "must name at least one method"));
    }

    let (auth, generated_secret) = check_auth(f.get("auth"), previous_auth)?;

    let mut allowed_origins = Vec::new();
    let origins = f
        .strings("allowed_origins", MAX_LIST_ENTRIES)?
        .unwrap_or_default();
    for (i, o) in origins.iter().enumerate() {
        let o = o.trim();
        let ok = o == "*"
            || url::Url::parse(o).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
            });
        if !ok {
            return Err(f.err(
                &format!("allowed_origins[{i}]"),
                format!("is `{o}`; entries are origins such as https://example.com, or *"),
            ));
        }
        allowed_origins.push(o.trim_end_matches('/').to_owned());
    }

    let mut allowed_ips = Vec::new();
    let ips = f
        .strings("allowed_ips", MAX_LIST_ENTRIES)?
        .unwrap_or_default();
    for (i, ip) in ips.iter().enumerate() {
        let ip = ip.trim();
        if ip.parse::<ipnet::IpNet>().is_err() && ip.parse::<std::net::IpAddr>().is_err() {
            return Err(f.err(
                &format!("allowed_ips[{i}]"),
                format!("is `{ip}`; entries are addresses or CIDR ranges such as 203.0.113.0/24"),
            ));
        }
        allowed_ips.push(ip.to_owned());
    }

    let rate_limit = match f.object("rate_limit")? {
        None => None,
        Some(r) => Some(check_rate_limit(r)?),
    };

    let max_body_bytes = match f.u64("max_body_bytes")? {
        None => DEFAULT_MAX_BODY_BYTES,
        Some(n) if n >= 1 && n <= MAX_BODY_LIMIT as u64 => n as usize,
        Some(_) => return Err(f.err("max_body_bytes", format!("must be 1 to {MAX_BODY_LIMIT}"))),
    };

    let response = match f.get("response") {
        None => None,
        Some(v) => Some(check_response(v)?),
    };

    let raw_actions = f.array("actions")?.map(Vec::as_slice).unwrap_or_default();
    let actions = check_actions(raw_actions, allow_private).await?;

    Ok(CheckedHook {
        name,
        enabled,
        methods,
        auth,
        allowed_origins,
        allowed_ips,
        rate_limit,
        max_body_bytes,
        response,
        actions,
        generated_secret,
    })
}

fn check_rate_limit(r: &Map<String, Value>) -> Result<RateLimit, ApiError> {
    let f = Fields::new(r, "rate_limit", "invalid_hook");
    f.only(&["per_second", "burst"], "rate_limit")?;
    let per_second = f
        .required("per_second", "the calls allowed per second, on average")?
        .as_f64()
        .filter(|p| p.is_finite() && *p > 0.0 && *p <= MAX_RATE_PER_SECOND)
        .ok_or_else(|| {
            f.err(
                "per_second",
                format!("must be a number above 0 and at most {MAX_RATE_PER_SECOND}"),
            )
        })?;
    f.required("burst", "the most calls allowed at once")?;
    let burst = f
        .u64("burst")?
        .filter(|b| *b >= 1 && *b <= u64::from(u32::MAX))
        .ok_or_else(|| f.err("burst", "must be a whole number of at least 1"))?;
    Ok(RateLimit {
        per_second,
        burst: burst as u32,
    })
}

fn check_response(v: &Value) -> Result<HookResponse, ApiError> {
    let Value::Object(o) = v else {
        return Err(invalid(
            "invalid_hook",
            format!(
                "`response` must be {{\"status\", \"body\"}} or {{\"redirect_to\"}}, not {}",
                kind_of(v)
            ),
        ));
    };
    let f = Fields::new(o, "response", "invalid_hook");
    if o.contains_key("redirect_to") {
        f.only(&["redirect_to"], "a redirect response (it stands alone)")?;
        let to = f.required_str("redirect_to", "the URL to send the caller to")?;
        let literal_ok = url::Url::parse(to).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        let templated_ok = to.starts_with('{')
            || to.starts_with("https://")
            || to.starts_with("http://")
            || to.starts_with('/');
        if !(literal_ok || (to.contains('{') && templated_ok)) {
            return Err(f.err(
                "redirect_to",
                format!(
                    "is `{}`; it must be an http(s) URL",
                    to.chars().take(200).collect::<String>()
                ),
            ));
        }
        return Ok(HookResponse::Redirect {
            redirect_to: to.to_owned(),
        });
    }
    f.only(&["status", "body"], "a response")?;
    let status = match f.get("status") {
        None => 200,
        Some(s) => s
            .as_u64()
            .filter(|s| (200..300).contains(s))
            .ok_or_else(|| f.err("status", "must be 200 to 299 (the call was accepted)"))?
            as u16,
    };
    Ok(HookResponse::Content {
        status,
        body: o.get("body").cloned().unwrap_or(Value::Null),
    })
}

fn random_secret(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Headers that cannot carry a hook's secret.
const UNUSABLE_SECRET_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "content-type",
    "content-length",
    "cookie",
    "origin",
];

fn header_name(f: &Fields<'_>, key: &str, raw: &str) -> Result<String, ApiError> {
    let header = raw.trim().to_ascii_lowercase();
    if header.is_empty()
        || axum::http::HeaderName::from_bytes(header.as_bytes()).is_err()
        || UNUSABLE_SECRET_HEADERS.contains(&header.as_str())
    {
        return Err(f.err(key, format!("`{raw}` is not a usable header name")));
    }
    Ok(header)
}

fn check_auth(
    raw: Option<&Value>,
    previous: Option<&HookAuth>,
) -> Result<(HookAuth, Option<String>), ApiError> {
    let raw = match raw {
        None => return Ok((HookAuth::ApiKey, None)),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(invalid(
                "invalid_auth",
                format!(
                    "`auth` must be an object with a `type`, not {}",
                    kind_of(other)
                ),
            ))
        }
    };
    let f = Fields::new(raw, "auth", "invalid_auth");
    let kind = f.required_str(
        "type",
        "one of api_key, secret_header, hmac, signed_url, none",
    )?;
    match kind {
        "api_key" => {
            f.only(&["type"], "api_key auth")?;
            Ok((HookAuth::ApiKey, None))
        }
        "none" => {
            f.only(&["type"], "none auth")?;
            Ok((HookAuth::None, None))
        }
        "signed_url" => {
            f.only(&["type", "key"], "signed_url auth")?;
            let key = match (f.str("key")?, previous) {
                (Some(k), _) => {
                    let ok = base64::engine::general_purpose::STANDARD
                        .decode(k)
                        .is_ok_and(|b| (16..=64).contains(&b.len()));
                    if !ok {
                        return Err(f.err("key", "must be the base64 of 16 to 64 random bytes"));
                    }
                    k.to_owned()
                }
                (None, Some(HookAuth::SignedUrl { key })) => key.clone(),
                (None, _) => base64::engine::general_purpose::STANDARD
                    .encode(hooklane_auth::signed_url::generate_key()),
            };
            Ok((HookAuth::SignedUrl { key }, None))
        }
        "secret_header" => {
            f.only(&["type", "header", "secret"], "secret_header auth")?;
            let header = header_name(&f, "header", f.str("header")?.unwrap_or("x-hook-secret"))?;
            let (secret, generated) = match (f.str("secret")?, previous) {
                (Some(s), _) => (s.to_owned(), None),
                (None, Some(HookAuth::SecretHeader { secret, .. })) => (secret.clone(), None),
                (None, _) => {
                    let s = random_secret("hks_");
                    (s.clone(), Some(s))
                }
            };
            if secret.len() < 8 || secret.len() > 512 {
                return Err(f.err("secret", "must be 8 to 512 characters"));
            }
            if axum::http::HeaderValue::from_str(&secret).is_err() {
                return Err(f.err("secret", "must be text a header can carry"));
            }
            Ok((HookAuth::SecretHeader { header, secret }, generated))
        }
        "hmac" => {
            f.only(
                &[
                    "type",
                    "scheme",
                    "secret",
                    "header",
                    "algorithm",
                    "encoding",
                    "prefix",
                ],
                "hmac auth",
            )?;
            let scheme_name = f.required_str(
                "scheme",
                "one of standard, github, stripe, slack, shopify, generic",
            )?;
            let scheme: Scheme = serde_json::from_value(Value::String(scheme_name.to_owned()))
                .map_err(|_| {
                    f.err(
                        "scheme",
                        format!("`{scheme_name}` is not one of standard, github, stripe, slack, shopify, generic"),
                    )
                })?;
            let secret = match (f.str("secret")?, previous) {
                (Some(s), _) => s.to_owned(),
                (None, Some(HookAuth::Hmac { secret, .. })) => secret.clone(),
                (None, _) => {
                    return Err(f.err("secret", "is missing: the provider's signing secret"))
                }
            };
            if secret.is_empty() || secret.len() > 1024 {
                return Err(f.err("secret", "must be 1 to 1024 characters"));
            }
            let (header, algorithm, encoding, prefix) = if scheme == Scheme::Generic {
                let header = f.required_str("header", "the header carrying the signature")?;
                let header = header_name(&f, "header", header)?;
                let algorithm = f.str("algorithm")?.unwrap_or("sha256");
                serde_json::from_value::<Algorithm>(Value::String(algorithm.to_owned()))
                    .map_err(|_| f.err("algorithm", "is sha256 or sha512"))?;
                let encoding = f.str("encoding")?.unwrap_or("hex");
                serde_json::from_value::<Encoding>(Value::String(encoding.to_owned()))
                    .map_err(|_| f.err("encoding", "is hex or base64"))?;
                let prefix = f.str("prefix")?.filter(|p| !p.is_empty());
                if prefix.is_some_and(|p| p.len() > 64) {
                    return Err(f.err("prefix", "is at most 64 characters"));
                }
                (
                    Some(header),
                    Some(algorithm.to_owned()),
                    Some(encoding.to_owned()),
                    prefix.map(str::to_owned),
                )
            } else {
                if let Some(k) = ["header", "algorithm", "encoding", "prefix"]
                    .into_iter()
                    .find(|k| f.get(k).is_some())
                {
                    return Err(f.err(k, "goes with the generic scheme only"));
                }
                (None, None, None, None)
            };
            Ok((
                HookAuth::Hmac {
                    scheme: scheme_name.to_owned(),
                    secret,
                    header,
                    algorithm,
                    encoding,
                    prefix,
                },
                None,
            ))
        }
        other => Err(f.err(
            "type",
            format!("`{other}` is not one of api_key, secret_header, hmac, signed_url, none"),
        )),
    }
}

// -------------------------------------------------------------- actions

/// What checking a hook's actions collects besides the actions: the
/// outbound URLs to check, each with its path.
#[derive(Default)]
struct ActionWalk {
    total: usize,
    urls: Vec<(String, String)>,
}

async fn check_actions(raw: &[Value], allow_private: bool) -> Result<Vec<ActionSpec>, ApiError> {
    if raw.len() > MAX_ACTIONS {
        return Err(invalid(
            "invalid_action",
            format!(
                "`actions` holds at most {MAX_ACTIONS} actions (got {}); more can run in a condition's branches, up to {MAX_ACTIONS_TOTAL} in all",
                raw.len()
            ),
        ));
    }
    let mut walk = ActionWalk::default();
    let actions = parse_actions(raw, "actions", 1, &mut walk)?;
    for (path, url) in &walk.urls {
        check_action_url(url, path, allow_private).await?;
    }
    Ok(actions)
}

/// Parses a list of actions at `at` (`actions`, `actions[0].then`, …);
/// `depth` is 1 for a hook's own actions and one more in each branch.
fn parse_actions(
    raw: &[Value],
    at: &str,
    depth: usize,
    walk: &mut ActionWalk,
) -> Result<Vec<ActionSpec>, ApiError> {
    raw.iter()
        .enumerate()
        .map(|(i, v)| parse_action(v, &format!("{at}[{i}]"), depth, walk))
        .collect()
}

/// The fields each action type takes, besides `type` and `continue_on_error`.
fn action_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "http_request" => &["method", "url", "headers", "body"],
        "discord_message" => &["webhook_url", "content", "embeds", "username"],
        "slack_message" => &["webhook_url", "text", "blocks"],
        "telegram_message" => &["bot_token", "chat_id", "text", "parse_mode"],
        "set_variable" => &["name", "value"],
        "update_variable" => &["name", "op", "value"],
        "delete_variable" => &["name"],
        "condition" => &["if", "then", "else"],
        "publish" => &["event", "data"],
        "log" => &["message"],
        _ => &[],
    }
}

fn parse_action(
    v: &Value,
    at: &str,
    depth: usize,
    walk: &mut ActionWalk,
) -> Result<ActionSpec, ApiError> {
    let Value::Object(obj) = v else {
        return Err(invalid(
            "invalid_action",
            format!("`{at}` must be an object with a `type`, not {}", kind_of(v)),
        ));
    };
    walk.total += 1;
    if walk.total > MAX_ACTIONS_TOTAL {
        return Err(invalid(
            "invalid_action",
            format!("`{at}` is one action too many: a hook holds at most {MAX_ACTIONS_TOTAL} actions in all, nested ones included"),
        ));
    }
    let f = Fields::new(obj, at, "invalid_action");
    let kind = f.required_str("type", &format!("one of {}", ACTION_TYPES.join(", ")))?;
    if !ACTION_TYPES.contains(&kind) {
        return Err(f.err(
            "type",
            format!(
                "`{kind}` is not an action type; the types are {}",
                ACTION_TYPES.join(", ")
            ),
        ));
    }
    let mut allowed = vec!["type", "continue_on_error"];
    allowed.extend_from_slice(action_fields(kind));
    f.only(&allowed, &format!("{kind} actions"))?;
    let continue_on_error = f.bool("continue_on_error")?.unwrap_or(false);

    let variable_name = |key: &str| -> Result<(), ApiError> {
        let name = f.required_str(key, "the variable's name")?;
        if is_variable_name(name) || (name.contains('{') && name.contains('}')) {
            Ok(())
        } else {
            Err(f.err(
                key,
                format!("`{name}` is not a variable name (1 to 64 of A-Z a-z 0-9 _ . -)"),
            ))
        }
    };
    let url = |key: &str, walk: &mut ActionWalk| -> Result<(), ApiError> {
        let u = f.required_str(key, "the URL to call")?;
        walk.urls.push((f.path(key), u.to_owned()));
        Ok(())
    };

    match kind {
        "http_request" => {
            if let Some(method) = f.str("method")? {
                let known = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                    .contains(&method.to_ascii_uppercase().as_str());
                if !known && !method.contains('{') {
                    return Err(f.err(
                        "method",
                        format!(
                            "`{method}` is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
                        ),
                    ));
                }
            }
            url("url", walk)?;
            if let Some(headers) = f.object("headers")? {
                if headers.len() > MAX_LIST_ENTRIES {
                    return Err(f.err(
                        "headers",
                        format!("holds at most {MAX_LIST_ENTRIES} headers"),
                    ));
                }
                for (k, v) in headers {
                    if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err() {
                        return Err(f.err(&format!("headers.{k}"), "is not a valid header name"));
                    }
                    if !(v.is_string() || v.is_number() || v.is_boolean()) {
                        return Err(f.err(
                            &format!("headers.{k}"),
                            format!("must be text, not {}", kind_of(v)),
                        ));
                    }
                }
            }
        }
        "discord_message" => {
            url("webhook_url", walk)?;
            let content = f.str("content")?.filter(|c| !c.is_empty());
            let embeds = f.array("embeds")?.filter(|e| !e.is_empty());
            if content.is_none() && embeds.is_none() {
                return Err(f.err(
                    "content",
                    "is missing: a Discord message needs `content` or `embeds`",
                ));
            }
            if let Some(embeds) = embeds {
                if embeds.len() > 10 {
                    return Err(f.err("embeds", "holds at most 10 embeds (Discord's limit)"));
                }
                if let Some(i) = embeds.iter().position(|e| !e.is_object()) {
                    return Err(f.err(&format!("embeds[{i}]"), "must be an object"));
                }
            }
            f.str("username")?;
        }
        "slack_message" => {
            url("webhook_url", walk)?;
            if f.required_str("text", "the message text")?.is_empty() {
                return Err(f.err("text", "is empty"));
            }
            if let Some(blocks) = f.array("blocks")? {
                if let Some(i) = blocks.iter().position(|b| !b.is_object()) {
                    return Err(f.err(&format!("blocks[{i}]"), "must be an object"));
                }
            }
        }
        "telegram_message" => {
            if f.required_str("bot_token", "the Telegram bot's token")?
                .trim()
                .is_empty()
            {
                return Err(f.err("bot_token", "is empty"));
            }
            let chat = f.required("chat_id", "the chat id or @channel name")?;
            if !(chat.as_str().is_some_and(|s| !s.trim().is_empty()) || chat.is_i64()) {
                return Err(f.err("chat_id", "must be a chat id or @channel name"));
            }
            if f.required_str("text", "the message text")?.is_empty() {
                return Err(f.err("text", "is empty"));
            }
            if let Some(mode) = f.str("parse_mode")? {
                if !["HTML", "Markdown", "MarkdownV2"].contains(&mode) {
                    return Err(f.err(
                        "parse_mode",
                        format!("is `{mode}`; it is HTML, Markdown or MarkdownV2"),
                    ));
                }
            }
        }
        "set_variable" => {
            variable_name("name")?;
            if !obj.contains_key("value") {
                return Err(f.err("value", "is missing: the value to store"));
            }
        }
        "update_variable" => {
            variable_name("name")?;
            let op = f.required_str("op", "add, subtract, multiply or divide")?;
            if !["add", "subtract", "multiply", "divide"].contains(&op) {
                return Err(f.err(
                    "op",
                    format!("is `{op}`; it is add, subtract, multiply or divide"),
                ));
            }
            let value = f.required("value", "the number to apply")?;
            let numeric = value.is_number()
                || value
                    .as_str()
                    .is_some_and(|s| s.contains('{') || s.trim().parse::<f64>().is_ok());
            if !numeric {
                return Err(f.err("value", "must be a number (or a placeholder)"));
            }
        }
        "delete_variable" => variable_name("name")?,
        "condition" => return parse_condition(&f, depth, continue_on_error, walk),
        "publish" => {
            let event = f.required_str("event", "the event type to publish")?;
            if !event.contains('{') {
                validate_event_name(event).map_err(|m| f.err("event", m))?;
            }
        }
        "log" => {
            f.required_str("message", "the text to log")?;
        }
        _ => unreachable!("the type was checked against ACTION_TYPES"),
    }
    // A field set to null counts as left out (`value` keeps null: it is data).
    let given: Map<String, Value> = obj
        .iter()
        .filter(|(k, v)| !v.is_null() || k.as_str() == "value")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(given)).map_err(|e| {
        invalid(
            "invalid_action",
            format!("`{at}` is not a valid {kind} action: {e}"),
        )
    })
}

fn parse_condition(
    f: &Fields<'_>,
    depth: usize,
    continue_on_error: bool,
    walk: &mut ActionWalk,
) -> Result<ActionSpec, ApiError> {
    if depth > MAX_NESTING {
        return Err(invalid(
            "invalid_action",
            format!(
                "`{}` nests too deep: conditions nest at most {MAX_NESTING} deep",
                f.base
            ),
        ));
    }
    let cond = f
        .object("if")?
        .ok_or_else(|| f.err("if", "is missing: {\"left\", \"op\", \"right\"}"))?;
    let c = Fields::new(cond, f.path("if"), "invalid_action");
    c.only(&["left", "op", "right"], "a condition's `if`")?;
    const OPS: &str = "==, !=, >, >=, <, <= or contains";
    let op = c.required_str("op", OPS)?;
    if !["==", "!=", ">", ">=", "<", "<=", "contains"].contains(&op) {
        return Err(c.err("op", format!("is `{op}`; it is one of {OPS}")));
    }
    for side in ["left", "right"] {
        if !cond.contains_key(side) {
            return Err(c.err(side, "is missing: a value or template to compare"));
        }
    }
    let condition: Condition =
        serde_json::from_value(Value::Object(cond.clone())).map_err(|e| c.err("op", e))?;
    let branch = |key: &str, walk: &mut ActionWalk| -> Result<Vec<ActionSpec>, ApiError> {
        match f.array(key)? {
            None => Ok(Vec::new()),
            Some(list) => parse_actions(list, &f.path(key), depth + 1, walk),
        }
    };
    let then = branch("then", walk)?;
    let otherwise = branch("else", walk)?;
    Ok(ActionSpec {
        action: Action::Condition {
            condition,
            then,
            otherwise,
        },
        continue_on_error,
    })
}

/// Replaces each `{…}` placeholder with `x`, for checking what is literal.
fn without_placeholders(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push('x');
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks an action's target URL. The literal part is checked now: the
/// whole URL when it has no placeholder, the scheme and host when only the
/// path or query has some, the scheme alone when the host is templated. The
/// rest is checked when the URL is rendered, at run time.
async fn check_action_url(url: &str, path: &str, allow_private: bool) -> Result<(), ApiError> {
    let refused = |e: &dyn std::fmt::Display| invalid("invalid_url", format!("`{path}`: {e}"));
    if url.trim().is_empty() {
        return Err(invalid("invalid_url", format!("`{path}` is empty")));
    }
    let Some(open) = url.find('{') else {
        return check_target(url, allow_private)
            .await
            .map(|_| ())
            .map_err(|e| refused(&e));
    };
    let literal = &url[..open];
    let Some((scheme, rest)) = literal.split_once("://") else {
        return Ok(());
    };
    let host_is_literal = rest.contains(['/', '?', '#']);
    if host_is_literal {
        return check_target(&without_placeholders(url), allow_private)
            .await
            .map(|_| ())
            .map_err(|e| refused(&e));
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "https" || (scheme == "http" && allow_private) {
        Ok(())
    } else {
        Err(refused(&format!(
            "only https URLs are allowed as targets (got {scheme}:)"
        )))
    }
}

// ------------------------------------------------------------ endpoints

const ENDPOINT_FIELDS: &[&str] = &[
    "name",
    "type",
    "url",
    "enabled",
    "events",
    "secret",
    "retry_schedule",
    "max_attempts",
    "headers",
];

/// Headers an endpoint's own `headers` may not set.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "user-agent",
    "transfer-encoding",
    "connection",
];

pub fn endpoint_input(ep: &Endpoint) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), ep.name.clone().into());
    m.insert(
        "type".into(),
        serde_json::to_value(ep.kind).unwrap_or_default(),
    );
    m.insert("url".into(), ep.url.clone().into());
    m.insert("enabled".into(), ep.enabled.into());
    m.insert(
        "events".into(),
        serde_json::to_value(&ep.events).unwrap_or_default(),
    );
    m.insert(
        "retry_schedule".into(),
        serde_json::to_value(&ep.retry_schedule).unwrap_or_default(),
    );
    m.insert("max_attempts".into(), ep.max_attempts.into());
    m.insert("headers".into(), Value::Object(ep.headers.clone()));
    m
}

pub struct CheckedEndpoint {
    pub name: String,
    pub kind: EndpointType,
    pub url: String,
    pub enabled: bool,
    pub events: Vec<String>,
    pub secret: Option<String>,
    pub retry_schedule: Vec<u64>,
    pub max_attempts: u32,
    pub headers: Map<String, Value>,
}

/// A valid endpoint secret: `whsec_` + base64 of 24 to 64 bytes.
pub fn check_secret(secret: &str) -> Result<(), ApiError> {
    let ok = secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|k| (24..=64).contains(&k.len()));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "invalid_secret",
            "`secret` must be `whsec_` followed by the base64 of 24 to 64 random bytes",
        ))
    }
}

/// Checks a whole endpoint (a create body, or the current endpoint with a
/// PATCH laid over it).
pub async fn check_endpoint(
    value: Value,
    allow_private: bool,
) -> Result<CheckedEndpoint, ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid("invalid_json", "the body must be a JSON object"));
    };
    refuse_read_only(&obj, ENDPOINT_READ_ONLY, "invalid_endpoint")?;
    let f = Fields::new(&obj, "", "invalid_endpoint");
    f.only(ENDPOINT_FIELDS, "an endpoint")?;
    let name = f.name("name", "Endpoint")?;
    let kind = match f.str("type")? {
        None | Some("custom") => EndpointType::Custom,
        Some("discord") => EndpointType::Discord,
        Some("slack") => EndpointType::Slack,
        Some(other) => {
            return Err(f.err(
                "type",
                format!("is `{other}`; it is custom, discord or slack"),
            ))
        }
    };
    let url = f
        .required_str("url", "the https URL events are sent to")
        .map_err(|e| with_code(e, "invalid_url"))?
        .trim()
        .to_owned();
    check_target(&url, allow_private)
        .await
        .map_err(|e| invalid("invalid_url", format!("`url`: {e}")))?;
    let enabled = f.bool("enabled")?.unwrap_or(true);
    let events = f.strings("events", MAX_LIST_ENTRIES)?.unwrap_or_default();
    for (i, e) in events.iter().enumerate() {
        validate_event_filter(e).map_err(|m| f.err(&format!("events[{i}]"), m))?;
    }
    let secret = f.str("secret")?.map(str::to_owned);
    if let Some(s) = &secret {
        check_secret(s)?;
    }
    let retry_schedule = match f.array("retry_schedule")? {
        None => hooklane_engine::delivery::DEFAULT_RETRY_SCHEDULE.to_vec(),
        Some(list) => {
            if list.len() > MAX_SCHEDULE {
                return Err(f.err(
                    "retry_schedule",
                    format!("holds at most {MAX_SCHEDULE} delays (got {})", list.len()),
                ));
            }
            list.iter()
                .enumerate()
                .map(|(i, d)| {
                    d.as_u64().filter(|d| *d <= MAX_DELAY_SECONDS).ok_or_else(|| {
                        f.err(
                            &format!("retry_schedule[{i}]"),
                            format!("must be a whole number of seconds from 0 to {MAX_DELAY_SECONDS}"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let max_attempts = match f.u64("max_attempts")? {
        None => (retry_schedule.len() as u64 + 1).min(MAX_ATTEMPTS),
        Some(n) if (1..=MAX_ATTEMPTS).contains(&n) => n,
        Some(_) => return Err(f.err("max_attempts", format!("must be 1 to {MAX_ATTEMPTS}"))),
    } as u32;
    let headers = f.object("headers")?.cloned().unwrap_or_default();
    if headers.len() > MAX_LIST_ENTRIES {
        return Err(f.err(
            "headers",
            format!("holds at most {MAX_LIST_ENTRIES} headers"),
        ));
    }
    for (k, v) in &headers {
        let lower = k.to_ascii_lowercase();
        if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err()
            || RESERVED_HEADERS.contains(&lower.as_str())
            || lower.starts_with("webhook-")
            || lower.starts_with("x-webhook-")
            || lower.starts_with("x-hooklane-")
        {
            return Err(f.err(
                &format!("headers.{k}"),
                "is not a header an endpoint may set",
            ));
        }
        let usable = v
            .as_str()
            .is_some_and(|s| axum::http::HeaderValue::from_str(s).is_ok());
        if !usable {
            return Err(f.err(&format!("headers.{k}"), "must be a text value"));
        }
    }
    Ok(CheckedEndpoint {
        name,
        kind,
        url,
        enabled,
        events,
        secret,
        retry_schedule,
        max_attempts,
        headers,
    })
}

/// The longest grace an old endpoint secret may keep signing: 7 days.
pub const MAX_GRACE_SECONDS: u64 = 7 * 86_400;

/// What rotating an endpoint's secret takes: `grace_seconds` (0 to
/// [`MAX_GRACE_SECONDS`]) and a new `secret`, both optional.
pub fn check_rotate_request(value: Value) -> Result<(Option<u64>, Option<String>), ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid("invalid_json", "the body must be a JSON object"));
    };
    Fields::new(&obj, "", "invalid_json").only(&["grace_seconds", "secret"], "a rotation")?;
    let grace = Fields::new(&obj, "", "invalid_grace");
    let grace_seconds = match grace.get("grace_seconds") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|g| *g <= MAX_GRACE_SECONDS)
                .ok_or_else(|| {
                    grace.err(
                        "grace_seconds",
                        format!("must be a whole number of seconds from 0 to {MAX_GRACE_SECONDS}"),
                    )
                })?,
        ),
    };
    let secret = Fields::new(&obj, "", "invalid_secret")
        .str("secret")?
        .map(str::to_owned);
    if let Some(s) = &secret {
        check_secret(s)?;
    }
    Ok((grace_seconds, secret))
}

/// What recovering an endpoint's failed deliveries takes: `since`, an RFC 3339 time.
pub fn check_recover_request(value: Value) -> Result<time::OffsetDateTime, ApiError> {
    let Value::Object(obj) = value else {
        return Err(invalid("invalid_json", "the body must be a JSON object"));
    };
    let f = Fields::new(&obj, "", "invalid_since");
    f.only(&["since"], "a recovery")?;
    let since = f.required_str("since", "an RFC 3339 time such as 2026-01-31T00:00:00Z")?;
    time::OffsetDateTime::parse(since, &time::format_description::well_known::Rfc3339).map_err(
        |_| {
            f.err(
                "since",
                format!("is `{since}`; it must be an RFC 3339 time such as 2026-01-31T00:00:00Z"),
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_for_the_literal_check() {
        assert_eq!(
            without_placeholders("https://a.example/{payload.x}/y?q={query.q}"),
            "https://a.example/x/y?q=x"
        );
        assert_eq!(without_placeholders("no placeholder"), "no placeholder");
        assert_eq!(without_placeholders("open {brace"), "open {brace");
    }

    #[tokio::test]
    async fn a_templated_path_still_has_its_literal_host_checked() {
        let refused = check_action_url("https://10.0.0.1/{payload.path}", "actions[0].url", false)
            .await
            .expect_err("a private literal host is refused");
        assert_eq!(refused.code, "invalid_url");
        assert!(refused.message.contains("actions[0].url"));
        assert!(check_action_url("https://{payload.host}/x", "u", false)
            .await
            .is_ok());
        assert!(check_action_url("{payload.url}", "u", false).await.is_ok());
        assert!(check_action_url("ftp://{payload.host}/x", "u", false)
            .await
            .is_err());
    }

    #[test]
    fn rotation_and_recovery_requests_name_their_fields() {
        use serde_json::json;
        assert_eq!(check_rotate_request(json!({})).unwrap(), (None, None));
        assert_eq!(
            check_rotate_request(json!({"grace_seconds": 60})).unwrap(),
            (Some(60), None)
        );
        for (body, code, field) in [
            (
                json!({"grace_seconds": -1}),
                "invalid_grace",
                "`grace_seconds`",
            ),
            (
                json!({"grace_seconds": 604_801}),
                "invalid_grace",
                "`grace_seconds`",
            ),
            (json!({"secret": "nope"}), "invalid_secret", "`secret`"),
            (json!({"secret": 5}), "invalid_secret", "`secret`"),
            (json!({"grace": 5}), "invalid_json", "`grace`"),
        ] {
            let e = check_rotate_request(body.clone()).unwrap_err();
            assert_eq!(e.code, code, "{body}");
            assert!(e.message.contains(field), "{body}: {}", e.message);
        }
        assert!(check_recover_request(json!({"since": "2026-01-31T00:00:00Z"})).is_ok());
        for body in [
            json!({}),
            json!({"since": "yesterday"}),
            json!({"since": 5}),
        ] {
            let e = check_recover_request(body.clone()).unwrap_err();
            assert_eq!(e.code, "invalid_since", "{body}");
            assert!(e.message.contains("`since`"), "{body}: {}", e.message);
        }
    }
}
