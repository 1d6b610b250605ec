//! A hook's body: its name, methods, origins, addresses, rate limit, body
//! limit and response; its auth is checked in `hook_auth` and its actions
//! in `actions`.

use hooklane_domain::action::ActionSpec;
use hooklane_domain::{
    BotId, Hook, HookAuth, HookId, HookResponse, MediaType, RateLimit, DEFAULT_MAX_BODY_BYTES,
};
use hooklane_web::{ApiError, ErrorCode};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::actions::check_actions;
use super::fields::{
    body_object, input_of, invalid, kind_of, refuse_read_only, Fields, MAX_LIST_ENTRIES,
};
use super::hook_auth::check_auth;

/// The most a hook's body limit can be set to, in bytes (512 KiB).
pub const MAX_BODY_LIMIT: usize = 512 * 1024;
/// The largest a hook may be, in bytes of JSON (it is stored as one record).
pub const MAX_HOOK_BYTES: usize = 256 * 1024;
/// The most requests per second a hook's rate limit may name.
pub const MAX_RATE_PER_SECOND: f64 = 100_000.0;

/// Fields of a hook the API sets; a body may not write them.
const HOOK_READ_ONLY: &[&str] = &["id", "bot_id", "url", "created_at", "updated_at"];
/// The fields a hook body may hold.
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

/// The fields of a hook as a body would write them (secrets included): the
/// object a PATCH is laid over with [`merge`](super::merge).
pub fn hook_input(hook: &Hook) -> Map<String, Value> {
    input_of(hook, HOOK_FIELDS)
}

/// What checking a hook gives: the checked fields, and a secret that was
/// generated for it (shown once).
pub struct CheckedHook {
    /// The display name, trimmed; `Hook` when left out.
    pub name: String,
    /// Whether the hook takes calls; `true` when left out.
    pub enabled: bool,
    /// The HTTP methods it takes, upper case, each once; `["POST"]` when left out.
    pub methods: Vec<String>,
    /// How a caller proves itself; `api_key` when left out.
    pub auth: HookAuth,
    /// Origins (`https://app.example`) or `*`, without a trailing `/`.
    pub allowed_origins: Vec<String>,
    /// Addresses or CIDR ranges calls may come from; empty for any.
    pub allowed_ips: Vec<String>,
    /// Calls allowed per second and at once, if limited.
    pub rate_limit: Option<RateLimit>,
    /// The largest body taken, in bytes (1 to [`MAX_BODY_LIMIT`]).
    pub max_body_bytes: usize,
    /// What a caller is answered, if not the default.
    pub response: Option<HookResponse>,
    /// The actions, in order, nested ones inside their conditions.
    pub actions: Vec<ActionSpec>,
    /// A `secret_header` secret made for this hook, shown once.
    pub generated_secret: Option<String>,
}

impl CheckedHook {
    /// The hook these fields make, under `id` and `bot_id` with its
    /// creation and update times; and the secret made for it, to show once.
    pub fn into_hook(
        self,
        id: HookId,
        bot_id: BotId,
        created_at: OffsetDateTime,
        updated_at: OffsetDateTime,
    ) -> (Hook, Option<String>) {
        let hook = Hook {
            id,
            bot_id,
            name: self.name,
            enabled: self.enabled,
            methods: self.methods,
            auth: self.auth,
            allowed_origins: self.allowed_origins,
            allowed_ips: self.allowed_ips,
            rate_limit: self.rate_limit,
            max_body_bytes: self.max_body_bytes,
            response: self.response,
            actions: self.actions,
            created_at,
            updated_at,
        };
        (hook, self.generated_secret)
    }
}

/// Checks a whole hook (a create body, or the current hook with a PATCH laid
/// over it). `previous_auth` keeps the secrets of an auth whose type stays;
/// `allow_private` lets actions target private and plain-http addresses.
///
/// # Errors
/// 400 naming the field at fault by its path: `invalid_json` (not an
/// object), `invalid_hook` (the hook's own fields, over [`MAX_HOOK_BYTES`],
/// a read-only or unknown field), `invalid_auth` (see `hook_auth`),
/// `invalid_action` and `invalid_url` (see `actions`).
pub async fn check_hook(
    value: Value,
    previous_auth: Option<&HookAuth>,
    allow_private: bool,
) -> Result<CheckedHook, ApiError> {
    let obj = body_object(value)?;
    let size = Value::Object(obj.clone()).to_string().len();
    if size > MAX_HOOK_BYTES {
        return Err(invalid(
            ErrorCode::InvalidHook,
            format!("the hook is {size} bytes as JSON; at most {MAX_HOOK_BYTES}"),
        ));
    }
    refuse_read_only(&obj, HOOK_READ_ONLY, ErrorCode::InvalidHook)?;
    let f = Fields::new(&obj, "", ErrorCode::InvalidHook);
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
    if matches!(auth, HookAuth::Discord { .. }) {
        if let Some((i, m)) = given
            .iter()
            .enumerate()
            .find(|(_, m)| !m.trim().eq_ignore_ascii_case("POST"))
        {
            return Err(f.err(
                &format!("methods[{i}]"),
                format!("is `{}`; Discord sends every interaction with POST, so a hook with discord auth takes POST only", m.trim()),
            ));
        }
    }

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
        Some(r) => Some(check_rate_limit(r, ErrorCode::InvalidHook)?),
    };

    let max_body_bytes = f
        .u64_in("max_body_bytes", 1..=MAX_BODY_LIMIT as u64)?
        .map_or(DEFAULT_MAX_BODY_BYTES, |n| n as usize);

    let response = match f.get("response") {
        None => None,
        Some(v) => Some(check_response(v, &auth)?),
    };

    let raw_actions = f.array("actions")?.map(Vec::as_slice).unwrap_or_default();
    let actions = check_actions(raw_actions, &auth, allow_private).await?;

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

/// Checks a hook's or an endpoint's `rate_limit`: `{"per_second": 5.0,
/// "burst": 10}`; a refusal carries `code`.
pub(super) fn check_rate_limit(
    r: &Map<String, Value>,
    code: ErrorCode,
) -> Result<RateLimit, ApiError> {
    let f = Fields::new(r, "rate_limit", code);
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
    // One message for a fraction, a negative and 0 alike.
    let burst = f
        .required("burst", "the most calls allowed at once")?
        .as_u64()
        .filter(|b| *b >= 1 && *b <= u64::from(u32::MAX))
        .ok_or_else(|| f.err("burst", "must be a whole number of at least 1"))?;
    Ok(RateLimit {
        per_second,
        burst: burst as u32,
    })
}

/// Checks `response`: `{"status": 2xx, "body": …, "content_type"?: "text/xml"}`
/// or, alone, `{"redirect_to": "https://…"}` (placeholders allowed). A
/// status that carries no body (204, 205) takes none. An XML or HTML
/// `content_type` takes a string `body`; a hook with `discord` `auth`
/// answers an interaction: a `body`, as JSON, never a redirect.
fn check_response(v: &Value, auth: &HookAuth) -> Result<HookResponse, ApiError> {
    let Value::Object(o) = v else {
        return Err(invalid(
            ErrorCode::InvalidHook,
            format!(
                "`response` must be {{\"status\", \"body\"}} or {{\"redirect_to\"}}, not {}",
                kind_of(v)
            ),
        ));
    };
    let f = Fields::new(o, "response", ErrorCode::InvalidHook);
    if o.contains_key("redirect_to") {
        f.only(&["redirect_to"], "a redirect response (it stands alone)")?;
        if matches!(auth, HookAuth::Discord { .. }) {
            return Err(f.err(
                "redirect_to",
                "cannot answer a Discord interaction, which Discord reads from the answer's JSON body; give a `status` and `body` instead",
            ));
        }
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
    f.only(&["status", "body", "content_type"], "a response")?;
    let status = match f.get("status") {
        None => 200,
        Some(s) => s
            .as_u64()
            .filter(|s| (200..300).contains(s))
            .ok_or_else(|| f.err("status", "must be 200 to 299 (the call was accepted)"))?
            as u16,
    };
    let body = o.get("body").cloned().unwrap_or(Value::Null);
    if !body.is_null() && !HookResponse::status_carries_body(status) {
        return Err(f.err(
            "status",
            format!("is {status}, which HTTP answers without a body; leave out `body`, or pick a status that carries one (such as 200)"),
        ));
    }
    if matches!(auth, HookAuth::Discord { .. }) && body.is_null() {
        return Err(f.err(
            "body",
            "must be the interaction's answer, such as {\"type\": 4, \"data\": {\"content\": \"…\"}}: Discord reads nothing else (leave out `response` to answer {\"type\": 5} and follow up from the actions)",
        ));
    }
    let content_type = match f.str("content_type")? {
        None => None,
        Some(raw) => Some(MediaType::parse(raw).map_err(|e| f.err("content_type", e))?),
    };
    if let Some(markup) = content_type.as_ref().filter(|m| m.is_markup()) {
        // Markup is text: a JSON object or array would be sent as JSON
        // text, whose values are not escaped for the markup.
        if !(body.is_string() || body.is_null()) {
            return Err(f.err(
                "body",
                format!(
                    "must be the {markup} text as a string (placeholders allowed), not {}",
                    kind_of(&body)
                ),
            ));
        }
    }
    if let (HookAuth::Discord { .. }, Some(other)) =
        (auth, content_type.as_ref().filter(|m| !m.is_json()))
    {
        return Err(f.err(
            "content_type",
            format!("is `{other}`; Discord takes an interaction's answer as JSON only (application/json, or leave it out)"),
        ));
    }
    Ok(HookResponse::Content {
        status,
        body,
        content_type,
    })
}
