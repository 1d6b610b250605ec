//! Parsing and checking what the admin API is sent: hooks and endpoints,
//! with errors that name the field (and the action's index) at fault.

use base64::Engine as _;
use hooklane_auth::signature::{Algorithm, Encoding, Scheme};
use hooklane_domain::action::ActionSpec;
use hooklane_domain::validate::{is_variable_name, validate_event_filter, validate_event_name};
use hooklane_domain::{
    Action, Bot, BotId, Endpoint, EndpointType, Hook, HookAuth, HookResponse, RateLimit,
    DEFAULT_MAX_BODY_BYTES,
};
use hooklane_engine::outbound::check_target;
use hooklane_template::is_placeholder;
use hooklane_web::ApiError;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::AdminState;

/// The most a hook's body limit can be set to.
pub const MAX_BODY_LIMIT: usize = 512 * 1024;
/// The most top-level actions a hook holds.
pub const MAX_ACTIONS: usize = 50;
/// The most actions in all, nested ones (in `then`/`else`) included.
pub const MAX_ACTIONS_TOTAL: usize = 100;
/// How deep conditions may nest.
pub const MAX_NESTING: usize = 5;
/// The most entries in a retry schedule, and the longest single delay (7 days).
pub const MAX_SCHEDULE: usize = 20;
pub const MAX_DELAY_SECONDS: u64 = 7 * 86_400;

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

// ---------------------------------------------------------------- hooks

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookInput {
    #[serde(default)]
    name: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default)]
    auth: Option<Value>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    allowed_ips: Vec<String>,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    #[serde(default)]
    max_body_bytes: Option<usize>,
    #[serde(default)]
    response: Option<Value>,
    #[serde(default)]
    actions: Vec<Value>,
}

fn yes() -> bool {
    true
}

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

pub async fn check_hook(
    value: Value,
    previous_auth: Option<&HookAuth>,
    allow_private: bool,
) -> Result<CheckedHook, ApiError> {
    let input: HookInput = serde_json::from_value(value)
        .map_err(|e| invalid("invalid_hook", format!("the hook is not valid: {e}")))?;
    let name = input
        .name
        .unwrap_or_else(|| "Hook".into())
        .trim()
        .to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid(
            "invalid_hook",
            "`name` must be 1 to 100 characters",
        ));
    }
    let mut methods = Vec::new();
    for m in input.methods.unwrap_or_else(|| vec!["POST".into()]) {
        let m = m.trim().to_ascii_uppercase();
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
            return Err(invalid(
                "invalid_hook",
                format!("`methods` may hold GET, POST, PUT, PATCH and DELETE, not `{m}`"),
            ));
        }
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    if methods.is_empty() {
        return Err(invalid(
            "invalid_hook",
            "`methods` must name at least one method",
        ));
    }
    let (auth, generated_secret) = check_auth(input.auth, previous_auth)?;
    for o in &input.allowed_origins {
        let ok = o == "*"
            || url::Url::parse(o).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
            });
        if !ok {
            return Err(invalid(
                "invalid_hook",
                format!(
                    "`allowed_origins` entries are origins such as https://example.com, not `{o}`"
                ),
            ));
        }
    }
    let allowed_origins = input
        .allowed_origins
        .iter()
        .map(|o| o.trim_end_matches('/').to_owned())
        .collect();
    for ip in &input.allowed_ips {
        if ip.parse::<ipnet::IpNet>().is_err() && ip.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid("invalid_hook", format!("`allowed_ips` entries are addresses or CIDR ranges such as 203.0.113.0/24, not `{ip}`")));
        }
    }
    if let Some(r) = input.rate_limit {
        if !(r.per_second.is_finite() && r.per_second > 0.0 && r.per_second <= 100_000.0)
            || r.burst == 0
        {
            return Err(invalid(
                "invalid_hook",
                "`rate_limit` needs `per_second` above 0 and `burst` of at least 1",
            ));
        }
    }
    let max_body_bytes = input.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
    if max_body_bytes == 0 || max_body_bytes > MAX_BODY_LIMIT {
        return Err(invalid(
            "invalid_hook",
            format!("`max_body_bytes` must be 1 to {MAX_BODY_LIMIT}"),
        ));
    }
    let response = match input.response {
        None | Some(Value::Null) => None,
        Some(v) => Some(check_response(v)?),
    };
    let actions = check_actions(input.actions, allow_private).await?;
    Ok(CheckedHook {
        name,
        enabled: input.enabled,
        methods,
        auth,
        allowed_origins,
        allowed_ips: input.allowed_ips,
        rate_limit: input.rate_limit,
        max_body_bytes,
        response,
        actions,
        generated_secret,
    })
}

fn check_response(v: Value) -> Result<HookResponse, ApiError> {
    let Value::Object(o) = &v else {
        return Err(invalid(
            "invalid_hook",
            "`response` is {\"status\", \"body\"} or {\"redirect_to\"}",
        ));
    };
    if let Some(to) = o.get("redirect_to") {
        let Some(to) = to.as_str() else {
            return Err(invalid(
                "invalid_hook",
                "`response.redirect_to` must be a URL",
            ));
        };
        let literal_ok = url::Url::parse(to).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if o.len() != 1 || !(literal_ok || to.contains('{')) {
            return Err(invalid(
                "invalid_hook",
                "`response.redirect_to` must be an http(s) URL, alone in `response`",
            ));
        }
        return Ok(HookResponse::Redirect {
            redirect_to: to.to_owned(),
        });
    }
    for k in o.keys() {
        if k != "status" && k != "body" {
            return Err(invalid(
                "invalid_hook",
                format!("`response` has an unknown field `{k}`"),
            ));
        }
    }
    let status = match o.get("status") {
        None => 200,
        Some(s) => s
            .as_u64()
            .filter(|s| (200..300).contains(s))
            .ok_or_else(|| {
                invalid(
                    "invalid_hook",
                    "`response.status` must be 200 to 299 (the call was accepted)",
                )
            })? as u16,
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

fn check_auth(
    raw: Option<Value>,
    previous: Option<&HookAuth>,
) -> Result<(HookAuth, Option<String>), ApiError> {
    let raw = match raw {
        None | Some(Value::Null) => return Ok((HookAuth::ApiKey, None)),
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(invalid(
                "invalid_auth",
                "`auth` must be an object with a `type`",
            ))
        }
    };
    let field = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
    let allowed_keys = |keys: &[&str]| -> Result<(), ApiError> {
        match raw.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(invalid(
                "invalid_auth",
                format!("`auth` has a field `{k}` its type does not take"),
            )),
            None => Ok(()),
        }
    };
    let kind = field("type").ok_or_else(|| invalid("invalid_auth", "`auth.type` is missing"))?;
    match kind.as_str() {
        "api_key" => {
            allowed_keys(&["type"])?;
            Ok((HookAuth::ApiKey, None))
        }
        "none" => {
            allowed_keys(&["type"])?;
            Ok((HookAuth::None, None))
        }
        "signed_url" => {
            allowed_keys(&["type", "key"])?;
            let key = match (field("key"), previous) {
                (Some(k), _) if base64::engine::general_purpose::STANDARD.decode(&k).is_ok_and(|b| b.len() >= 16) => k,
                (_, Some(HookAuth::SignedUrl { key })) => key.clone(),
                _ => base64::engine::general_purpose::STANDARD.encode(hooklane_auth::signed_url::generate_key()),
            };
            Ok((HookAuth::SignedUrl { key }, None))
        }
        "secret_header" => {
            allowed_keys(&["type", "header", "secret"])?;
            let header = field("header").unwrap_or_else(|| "x-hook-secret".into()).to_ascii_lowercase();
            if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() || header == "authorization" {
                return Err(invalid("invalid_auth", format!("`auth.header` `{header}` is not a usable header name")));
            }
            let (secret, generated) = match (field("secret"), previous) {
                (Some(s), _) => (s, None),
                (None, Some(HookAuth::SecretHeader { secret, .. })) => (secret.clone(), None),
                (None, _) => {
                    let s = random_secret("hks_");
                    (s.clone(), Some(s))
                }
            };
            if secret.len() < 8 || secret.len() > 512 {
                return Err(invalid("invalid_auth", "`auth.secret` must be 8 to 512 characters"));
            }
            Ok((HookAuth::SecretHeader { header, secret }, generated))
        }
        "hmac" => {
            allowed_keys(&["type", "scheme", "secret", "header", "algorithm", "encoding", "prefix"])?;
            let scheme_name = field("scheme").ok_or_else(|| invalid("invalid_auth", "`auth.scheme` is missing: standard, github, stripe, slack, shopify or generic"))?;
            let scheme: Scheme = serde_json::from_value(Value::String(scheme_name.clone())).map_err(|_| {
                invalid("invalid_auth", format!("`auth.scheme` `{scheme_name}` is not one of standard, github, stripe, slack, shopify, generic"))
            })?;
            let secret = match (field("secret"), previous) {
                (Some(s), _) => s,
                (None, Some(HookAuth::Hmac { secret, .. })) => secret.clone(),
                (None, _) => return Err(invalid("invalid_auth", "`auth.secret` is missing: the provider's signing secret")),
            };
            if secret.is_empty() || secret.len() > 1024 {
                return Err(invalid("invalid_auth", "`auth.secret` must be 1 to 1024 characters"));
            }
            let (header, algorithm, encoding, prefix) = if scheme == Scheme::Generic {
                let header = field("header").ok_or_else(|| invalid("invalid_auth", "`auth.header` is missing: the header carrying the signature"))?;
                if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                    return Err(invalid("invalid_auth", format!("`auth.header` `{header}` is not a usable header name")));
                }
                let algorithm = field("algorithm").unwrap_or_else(|| "sha256".into());
                serde_json::from_value::<Algorithm>(Value::String(algorithm.clone()))
                    .map_err(|_| invalid("invalid_auth", "`auth.algorithm` is sha256 or sha512"))?;
                let encoding = field("encoding").unwrap_or_else(|| "hex".into());
                serde_json::from_value::<Encoding>(Value::String(encoding.clone()))
                    .map_err(|_| invalid("invalid_auth", "`auth.encoding` is hex or base64"))?;
                (Some(header.to_ascii_lowercase()), Some(algorithm), Some(encoding), field("prefix"))
            } else {
                if raw.keys().any(|k| ["header", "algorithm", "encoding", "prefix"].contains(&k.as_str())) {
                    return Err(invalid("invalid_auth", "`header`, `algorithm`, `encoding` and `prefix` go with the generic scheme only"));
                }
                (None, None, None, None)
            };
            Ok((
                HookAuth::Hmac {
                    scheme: scheme_name,
                    secret,
                    header,
                    algorithm,
                    encoding,
                    prefix,
                },
                None,
            ))
        }
        other => Err(invalid(
            "invalid_auth",
            format!("`auth.type` `{other}` is not one of api_key, secret_header, hmac, signed_url, none"),
        )),
    }
}

async fn check_actions(raw: Vec<Value>, allow_private: bool) -> Result<Vec<ActionSpec>, ApiError> {
    if raw.len() > MAX_ACTIONS {
        return Err(invalid(
            "invalid_action",
            format!("a hook holds at most {MAX_ACTIONS} actions"),
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut total = 0;
    for (i, v) in raw.into_iter().enumerate() {
        let spec = parse_action(v, &format!("actions[{i}]"))?;
        check_action(
            &spec.action,
            &format!("actions[{i}]"),
            allow_private,
            1,
            &mut total,
        )
        .await?;
        out.push(spec);
    }
    Ok(out)
}

fn parse_action(v: Value, at: &str) -> Result<ActionSpec, ApiError> {
    if !v.is_object() {
        return Err(invalid(
            "invalid_action",
            format!("{at} must be an object with a `type`"),
        ));
    }
    if v.get("type").is_none() {
        return Err(invalid("invalid_action", format!("{at}.type is missing")));
    }
    serde_json::from_value(v).map_err(|e| invalid("invalid_action", format!("{at}: {e}")))
}

fn check_url_field<'a>(
    url: &'a str,
    at: &'a str,
    field: &'a str,
    allow_private: bool,
) -> futures_like::BoxFut<'a, Result<(), ApiError>> {
    Box::pin(async move {
        if url.trim().is_empty() {
            return Err(invalid("invalid_url", format!("{at}.{field} is empty")));
        }
        // A URL with placeholders is checked when it is rendered, at run time.
        if url.contains('{') {
            return Ok(());
        }
        check_target(url, allow_private)
            .await
            .map(|_| ())
            .map_err(|e| invalid("invalid_url", format!("{at}.{field}: {e}")))
    })
}

mod futures_like {
    pub type BoxFut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

fn check_action<'a>(
    action: &'a Action,
    at: &'a str,
    allow_private: bool,
    depth: usize,
    total: &'a mut usize,
) -> futures_like::BoxFut<'a, Result<(), ApiError>> {
    Box::pin(async move {
        *total += 1;
        if *total > MAX_ACTIONS_TOTAL {
            return Err(invalid(
                "invalid_action",
                format!(
                    "a hook holds at most {MAX_ACTIONS_TOTAL} actions in all, nested ones included"
                ),
            ));
        }
        let name_ok = |name: &str, field: &str| -> Result<(), ApiError> {
            if is_variable_name(name) || is_placeholder_template(name) {
                Ok(())
            } else {
                Err(invalid("invalid_action", format!("{at}.{field} `{name}` is not a variable name (1 to 64 of A-Z a-z 0-9 _ . -)")))
            }
        };
        match action {
            Action::HttpRequest {
                method,
                url,
                headers,
                ..
            } => {
                if !method.contains('{') && reqwest_method(method).is_none() {
                    return Err(invalid(
                        "invalid_action",
                        format!("{at}.method `{method}` is not an HTTP method"),
                    ));
                }
                for (k, v) in headers {
                    if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err()
                        || !(v.is_string() || v.is_number() || v.is_boolean())
                    {
                        return Err(invalid(
                            "invalid_action",
                            format!("{at}.headers.{k} must be a header name with a text value"),
                        ));
                    }
                }
                check_url_field(url, at, "url", allow_private).await
            }
            Action::DiscordMessage {
                webhook_url,
                content,
                embeds,
                ..
            } => {
                if content.as_deref().is_none_or(str::is_empty)
                    && embeds.as_ref().is_none_or(Vec::is_empty)
                {
                    return Err(invalid(
                        "invalid_action",
                        format!("{at} needs `content` or `embeds`"),
                    ));
                }
                check_url_field(webhook_url, at, "webhook_url", allow_private).await
            }
            Action::SlackMessage {
                webhook_url, text, ..
            } => {
                if text.is_empty() {
                    return Err(invalid("invalid_action", format!("{at}.text is empty")));
                }
                check_url_field(webhook_url, at, "webhook_url", allow_private).await
            }
            Action::TelegramMessage {
                bot_token,
                chat_id,
                text,
                parse_mode,
            } => {
                if bot_token.trim().is_empty() {
                    return Err(invalid(
                        "invalid_action",
                        format!("{at}.bot_token is empty"),
                    ));
                }
                if !(chat_id.is_string() || chat_id.is_i64()) {
                    return Err(invalid(
                        "invalid_action",
                        format!("{at}.chat_id must be a chat id or @channel name"),
                    ));
                }
                if text.is_empty() {
                    return Err(invalid("invalid_action", format!("{at}.text is empty")));
                }
                if let Some(mode) = parse_mode {
                    if !["HTML", "Markdown", "MarkdownV2"].contains(&mode.as_str()) {
                        return Err(invalid(
                            "invalid_action",
                            format!("{at}.parse_mode is HTML, Markdown or MarkdownV2"),
                        ));
                    }
                }
                Ok(())
            }
            Action::SetVariable { name, .. } | Action::DeleteVariable { name } => {
                name_ok(name, "name")
            }
            Action::UpdateVariable { name, value, .. } => {
                name_ok(name, "name")?;
                let numeric = value.is_number()
                    || value
                        .as_str()
                        .is_some_and(|s| s.contains('{') || s.trim().parse::<f64>().is_ok());
                if !numeric {
                    return Err(invalid(
                        "invalid_action",
                        format!("{at}.value must be a number (or a placeholder)"),
                    ));
                }
                Ok(())
            }
            Action::Condition {
                then, otherwise, ..
            } => {
                if depth >= MAX_NESTING {
                    return Err(invalid(
                        "invalid_action",
                        format!("{at}: conditions nest at most {MAX_NESTING} deep"),
                    ));
                }
                for (branch, list) in [("then", then), ("else", otherwise)] {
                    for (i, spec) in list.iter().enumerate() {
                        let here = format!("{at}.{branch}[{i}]");
                        check_action(&spec.action, &here, allow_private, depth + 1, total).await?;
                    }
                }
                Ok(())
            }
            Action::Publish { event, .. } => {
                if event.contains('{') {
                    return Ok(());
                }
                validate_event_name(event)
                    .map_err(|m| invalid("invalid_action", format!("{at}.event: {m}")))
            }
            Action::Log { .. } => Ok(()),
        }
    })
}

fn is_placeholder_template(s: &str) -> bool {
    is_placeholder(s) || (s.contains('{') && s.contains('}'))
}

fn reqwest_method(m: &str) -> Option<()> {
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        .contains(&m.to_ascii_uppercase().as_str())
        .then_some(())
}

// ------------------------------------------------------------ endpoints

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointInput {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<EndpointType>,
    url: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    retry_schedule: Option<Vec<u64>>,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    headers: Map<String, Value>,
}

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

pub async fn check_endpoint(
    value: Value,
    allow_private: bool,
) -> Result<CheckedEndpoint, ApiError> {
    let input: EndpointInput = serde_json::from_value(value).map_err(|e| {
        invalid(
            "invalid_endpoint",
            format!("the endpoint is not valid: {e}"),
        )
    })?;
    let name = input
        .name
        .unwrap_or_else(|| "Endpoint".into())
        .trim()
        .to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid(
            "invalid_endpoint",
            "`name` must be 1 to 100 characters",
        ));
    }
    let url = input
        .url
        .ok_or_else(|| invalid("invalid_url", "`url` is missing"))?;
    check_target(&url, allow_private)
        .await
        .map_err(|e| invalid("invalid_url", format!("`url`: {e}")))?;
    for f in &input.events {
        validate_event_filter(f)
            .map_err(|m| invalid("invalid_endpoint", format!("`events`: {m}")))?;
    }
    if let Some(s) = &input.secret {
        check_secret(s)?;
    }
    let retry_schedule = input
        .retry_schedule
        .unwrap_or_else(|| hooklane_engine::delivery::DEFAULT_RETRY_SCHEDULE.to_vec());
    if retry_schedule.len() > MAX_SCHEDULE || retry_schedule.iter().any(|d| *d > MAX_DELAY_SECONDS)
    {
        return Err(invalid(
            "invalid_endpoint",
            format!("`retry_schedule` holds at most {MAX_SCHEDULE} delays of at most {MAX_DELAY_SECONDS} seconds"),
        ));
    }
    let max_attempts = input
        .max_attempts
        .unwrap_or(retry_schedule.len() as u32 + 1);
    if max_attempts == 0 || max_attempts > 50 {
        return Err(invalid(
            "invalid_endpoint",
            "`max_attempts` must be 1 to 50",
        ));
    }
    for (k, v) in &input.headers {
        let lower = k.to_ascii_lowercase();
        if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err()
            || RESERVED_HEADERS.contains(&lower.as_str())
            || lower.starts_with("webhook-")
            || lower.starts_with("x-webhook-")
            || lower.starts_with("x-hooklane-")
        {
            return Err(invalid(
                "invalid_endpoint",
                format!("`headers.{k}` is not a header an endpoint may set"),
            ));
        }
        let usable = v
            .as_str()
            .is_some_and(|s| axum::http::HeaderValue::from_str(s).is_ok());
        if !usable {
            return Err(invalid(
                "invalid_endpoint",
                format!("`headers.{k}` must be a text value"),
            ));
        }
    }
    Ok(CheckedEndpoint {
        name,
        kind: input.kind.unwrap_or(EndpointType::Custom),
        url,
        enabled: input.enabled,
        events: input.events,
        secret: input.secret,
        retry_schedule,
        max_attempts,
        headers: input.headers,
    })
}
