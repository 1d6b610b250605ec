//! `/hooks/{bot_id}/{hook_id}` (and `/webhook/…`): one inbound call.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hooklane_auth::signature::{self, FnHeaders, Generic, Scheme};
use hooklane_auth::{api_key, constant_time_eq, signed_url};
use hooklane_domain::envelope::{HookCall, InboundRequest};
use hooklane_domain::metrics;
use hooklane_domain::{BotId, EventId, Hook, HookAuth, HookId, HookResponse, Job};
use hooklane_engine::DEPTH_HEADER;
use hooklane_template::{render_json, render_str, Context};
use hooklane_web::{ApiError, ClientIp};
use serde_json::{json, Map, Value};

use crate::body::{json_depth, parse_body};
use crate::intake::{self, Intake, Subject};
use crate::{IngressState, MAX_JSON_DEPTH};

/// Headers that carry credentials; they never reach the actions.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-hook-secret",
    "x-hub-signature",
    "x-hub-signature-256",
    "stripe-signature",
    "x-slack-signature",
    "x-shopify-hmac-sha256",
    "webhook-signature",
];

/// The query parameters of a signed URL.
const SIGNED_URL_PARAMS: [&str; 2] = ["ctx", "sig"];

pub async fn call_hook(
    State(state): State<IngressState>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Response {
    // A path that does not decode (e.g. `%FF`) names no hook there can be.
    let Ok(Path((bot_id, hook_id))) = path else {
        return unknown_hook().into_response();
    };
    match handle(&state, &bot_id, &hook_id, request).await {
        Ok(r) => {
            metrics::count("Accepted", &[("Route", "hook")]);
            r
        }
        Err(rejection) => {
            metrics::count("Rejected", &[("Route", "hook"), ("Code", rejection.code)]);
            if rejection.status.is_server_error() {
                tracing::error!(bot_id, hook_id, code = rejection.code, "hook call failed");
            } else {
                tracing::info!(
                    bot_id,
                    hook_id,
                    code = rejection.code,
                    status = rejection.status.as_u16(),
                    "hook call refused"
                );
            }
            rejection.into_response()
        }
    }
}

fn unknown_hook() -> ApiError {
    ApiError::not_found("no such hook, or it is disabled")
}

async fn handle(
    state: &IngressState,
    bot_id: &str,
    hook_id: &str,
    request: Request,
) -> Result<Response, ApiError> {
    let svc = &state.svc;
    let (bot_id, hook_id) = match (BotId::parse(bot_id), HookId::parse(hook_id)) {
        (Ok(b), Ok(h)) => (b, h),
        _ => return Err(unknown_hook()),
    };
    let hook = state
        .cache
        .hook(svc.store.as_ref(), &bot_id, &hook_id)
        .await?
        .filter(|h| h.enabled)
        .ok_or_else(unknown_hook)?;

    let origin = request
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("(not text)").to_owned());

    // CORS: only the hook's allowed origins, preflight included.
    if request.method() == Method::OPTIONS {
        return preflight(&hook, origin.as_deref(), request.headers());
    }
    let allowed_origin = match &origin {
        None => None,
        Some(o) if origin_allowed(&hook, o) => Some(o.clone()),
        Some(_) => {
            return Err(ApiError::forbidden(
                "calls from this browser origin are not allowed for this hook",
            ))
        }
    };
    // Past this point an allowed origin can read every answer, errors too.
    let cors = cors_headers(allowed_origin.as_deref());
    match accept(state, &hook, request).await {
        Ok(mut response) => {
            response.headers_mut().extend(cors);
            Ok(response)
        }
        Err(mut rejection) => {
            rejection.headers.extend(cors);
            Err(rejection)
        }
    }
}

/// Everything after the hook is known and its origin allowed: method,
/// address, size, auth, rate, body, duplicates, and the queue.
async fn accept(state: &IngressState, hook: &Hook, request: Request) -> Result<Response, ApiError> {
    let svc = &state.svc;
    let (bot_id, hook_id) = (hook.bot_id.clone(), hook.id.clone());
    let (parts, body) = request.into_parts();
    if !hook
        .methods
        .iter()
        .any(|m| m.eq_ignore_ascii_case(parts.method.as_str()))
    {
        let mut allow: Vec<&str> = hook.methods.iter().map(String::as_str).collect();
        allow.push("OPTIONS");
        return Err(ApiError::method_not_allowed(&allow));
    }

    let ip = parts.extensions.get::<ClientIp>().map(|c| c.0);
    if !hook.allowed_ips.is_empty() && !ip.is_some_and(|ip| ip_allowed(&hook.allowed_ips, ip)) {
        return Err(ApiError::forbidden(
            "calls from this address are not allowed for this hook",
        ));
    }

    let limit = hook.max_body_bytes;
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
    {
        if len > limit {
            return Err(ApiError::payload_too_large(limit));
        }
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.into_inner().is::<http_body_util::LengthLimitError>() {
            ApiError::payload_too_large(limit)
        } else {
            ApiError::bad_request("invalid_body", "the body could not be read to its end")
        }
    })?;

    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let now = svc.now();
    let check = |hook| {
        authenticate(
            state,
            hook,
            &parts.headers,
            &query,
            &bytes,
            now.unix_timestamp(),
        )
    };
    // The auth the call passed: the cached hook's, or the store's when it
    // changed (its secret header then is the one kept from the actions).
    let mut auth = &hook.auth;
    let reloaded;
    let (delivery_id, context) = match check(hook).await {
        Err(refused) if refused.status == StatusCode::UNAUTHORIZED => {
            // The key or secret may have changed since it was cached (a
            // rotation): check once more against the store, so a new
            // credential works at once. An old one works until its cache
            // entry expires.
            match state
                .cache
                .reload_if_changed(svc.store.as_ref(), hook)
                .await?
            {
                Some(fresh) if fresh.enabled => {
                    reloaded = fresh;
                    auth = &reloaded.auth;
                    check(&reloaded).await?
                }
                Some(_) => return Err(unknown_hook()),
                None => return Err(refused),
            }
        }
        other => other?,
    };

    if context
        .as_ref()
        .is_some_and(|c| json_depth(c) > MAX_JSON_DEPTH)
    {
        return Err(ApiError::bad_request(
            "invalid_context",
            format!("the signed URL's context nests deeper than {MAX_JSON_DEPTH} levels; mint one with a flatter context"),
        ));
    }

    if let Some(rate) = hook.rate_limit {
        check_rate(state, hook, rate, now).await?;
    }

    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parsed = parse_body(content_type, &bytes)?;

    let event_id = EventId::generate();
    let idem_key = delivery_id
        .or_else(|| header_str(&parts.headers, "idempotency-key"))
        .or_else(|| header_str(&parts.headers, "webhook-id"))
        .or_else(|| header_str(&parts.headers, "x-github-delivery"))
        .filter(|k| !k.is_empty() && k.len() <= 256);

    let mut headers = Map::new();
    let secret_header = match auth {
        HookAuth::SecretHeader { header, .. } => Some(header.to_ascii_lowercase()),
        HookAuth::Hmac {
            header: Some(h), ..
        } => Some(h.to_ascii_lowercase()),
        _ => None,
    };
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if CREDENTIAL_HEADERS.contains(&name) || secret_header.as_deref() == Some(name) {
            continue;
        }
        if let Ok(v) = value.to_str() {
            headers.insert(name.to_owned(), Value::String(v.to_owned()));
        }
    }
    let mut query_map = Map::new();
    for (k, v) in query {
        if matches!(auth, HookAuth::SignedUrl { .. }) && SIGNED_URL_PARAMS.contains(&k.as_str()) {
            continue;
        }
        query_map.insert(k, Value::String(v));
    }
    let depth = header_str(&parts.headers, DEPTH_HEADER)
        .and_then(|d| d.parse().ok())
        .unwrap_or(0u32)
        .min(100);
    let call = HookCall {
        event_id: event_id.clone(),
        bot_id: bot_id.clone(),
        hook_id: hook_id.clone(),
        received_at: now,
        request: InboundRequest {
            method: parts.method.as_str().to_owned(),
            query: query_map,
            headers,
            ip: ip.map(|i| i.to_string()),
            payload: parsed.payload,
            variables: parsed.variables,
            context,
        },
        attempt: 0,
        depth,
    };
    let response_ctx = response_context(&call);
    let intake = intake::take_in(
        svc,
        &bot_id,
        Subject::HookCall(&hook_id),
        idem_key.as_deref(),
        event_id.as_str(),
        Job::HookCall(call),
        now,
    )
    .await?;
    if let Intake::Duplicate(first) = intake {
        tracing::info!(bot_id = %bot_id, hook_id = %hook_id, event_id = %first, "duplicate call; not queued again");
        let mut response = (
            StatusCode::ACCEPTED,
            axum::Json(json!({"id": first, "status": "queued"})),
        )
            .into_response();
        response
            .headers_mut()
            .insert("x-hooklane-duplicate", HeaderValue::from_static("true"));
        return Ok(response);
    }
    tracing::info!(bot_id = %bot_id, hook_id = %hook_id, event_id = %event_id, "hook call queued");
    Ok(answer(hook, &event_id, &response_ctx))
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
}

/// Checks the caller's credentials; returns the provider's delivery id (for
/// duplicate suppression) and the signed URL's context.
async fn authenticate(
    state: &IngressState,
    hook: &Hook,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &[u8],
    now: i64,
) -> Result<(Option<String>, Option<Value>), ApiError> {
    match &hook.auth {
        HookAuth::None => Ok((None, None)),
        HookAuth::ApiKey => {
            let bot = state
                .cache
                .bot(state.svc.store.as_ref(), &hook.bot_id)
                .await?
                .ok_or_else(unknown_hook)?;
            let presented = headers.get(header::AUTHORIZATION).ok_or_else(|| {
                ApiError::unauthorized("send the bot's API key in the Authorization header")
            })?;
            let presented = presented.to_str().unwrap_or_default();
            if api_key::verify_authorization(presented, &bot.api_key_hash) {
                Ok((None, None))
            } else {
                Err(ApiError::unauthorized(
                    "the API key is not valid for this bot",
                ))
            }
        }
        HookAuth::SecretHeader { header, secret } => {
            let presented = headers.get(header.as_str()).ok_or_else(|| {
                ApiError::unauthorized(format!("send the hook's secret in the `{header}` header"))
            })?;
            if constant_time_eq(presented.as_bytes(), secret.as_bytes()) {
                Ok((None, None))
            } else {
                Err(ApiError::unauthorized(format!(
                    "the `{header}` secret is not valid for this hook"
                )))
            }
        }
        HookAuth::Hmac {
            scheme,
            secret,
            header,
            algorithm,
            encoding,
            prefix,
        } => {
            let scheme: Scheme =
                serde_json::from_value(Value::String(scheme.clone())).map_err(|_| {
                    ApiError::internal(anyhow::anyhow!("hook {} has an unknown scheme", hook.id))
                })?;
            let generic: Option<Generic> = match scheme {
                Scheme::Generic => Some(
                    serde_json::from_value(json!({
                        "header": header, "algorithm": algorithm.clone().unwrap_or_else(|| "sha256".into()),
                        "encoding": encoding.clone().unwrap_or_else(|| "hex".into()), "prefix": prefix,
                    }))
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("hook {} has bad generic settings: {e}", hook.id)))?,
                ),
                _ => None,
            };
            let lookup =
                FnHeaders::new(|name: &str| headers.get(name).and_then(|v| v.to_str().ok()));
            signature::verify(&scheme, generic.as_ref(), secret, &lookup, body, now)
                .map(|v| (v.delivery_id, None))
                .map_err(|e| ApiError::unauthorized(e.to_string()))
        }
        HookAuth::SignedUrl { key } => {
            let key = base64::engine::general_purpose::STANDARD
                .decode(key)
                .map_err(|_| {
                    ApiError::internal(anyhow::anyhow!("hook {} has a bad URL key", hook.id))
                })?;
            let get = |name: &str| {
                query
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let (Some(ctx), Some(sig)) = (get("ctx"), get("sig")) else {
                return Err(ApiError::unauthorized(
                    "this hook is called through a signed URL (ctx and sig are missing)",
                ));
            };
            signed_url::verify(&key, hook.bot_id.as_str(), hook.id.as_str(), ctx, sig, now)
                .map(|context| (None, Some(context)))
                .map_err(|e| ApiError::unauthorized(format!("the signed URL is not valid: {e}")))
        }
    }
}

/// Fixed windows of `burst / per_second` seconds (at least 1 s), each
/// taking `burst` calls: the average rate is `per_second` and bursts reach
/// `burst`. The count is an atomic counter in the store, exact across
/// concurrent instances; at a window's edge up to two windows' worth of
/// calls can pass within one window's time.
async fn check_rate(
    state: &IngressState,
    hook: &Hook,
    rate: hooklane_domain::RateLimit,
    now: time::OffsetDateTime,
) -> Result<(), ApiError> {
    let window_ms =
        ((rate.burst.max(1) as f64 / rate.per_second.max(0.001)) * 1000.0).max(1000.0) as i128;
    let now_ms = now.unix_timestamp_nanos() / 1_000_000;
    let window = now_ms / window_ms;
    let ends_ms = (window + 1) * window_ms;
    let expires = time::OffsetDateTime::from_unix_timestamp_nanos(ends_ms * 1_000_000)
        .unwrap_or(now)
        + time::Duration::minutes(5);
    let key = format!("rate:{}:{}:{}", hook.bot_id, hook.id, window);
    let count = state.svc.store.increment_counter(&key, expires).await?;
    if count > u64::from(rate.burst.max(1)) {
        let wait = ((ends_ms - now_ms) as u64).div_ceil(1000).max(1);
        return Err(ApiError::rate_limited(wait));
    }
    Ok(())
}

fn origin_allowed(hook: &Hook, origin: &str) -> bool {
    hook.allowed_origins.iter().any(|o| {
        o == "*"
            || o.trim_end_matches('/')
                .eq_ignore_ascii_case(origin.trim_end_matches('/'))
    })
}

fn ip_allowed(allowed: &[String], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    allowed.iter().any(|net| match net.parse::<ipnet::IpNet>() {
        Ok(net) => net.contains(&ip),
        Err(_) => net.parse::<IpAddr>().is_ok_and(|one| one == ip),
    })
}

/// `OPTIONS`: a CORS preflight from a browser (with `Origin`), or a plain
/// question of which methods the hook takes (without).
fn preflight(hook: &Hook, origin: Option<&str>, headers: &HeaderMap) -> Result<Response, ApiError> {
    let mut methods: Vec<&str> = hook.methods.iter().map(String::as_str).collect();
    methods.push("OPTIONS");
    let mut response = Response::builder().status(StatusCode::NO_CONTENT);
    let h = response.headers_mut().expect("a fresh builder has headers");
    let Some(origin) = origin else {
        if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
            h.insert(header::ALLOW, v);
        }
        return Ok(response.body(Body::empty()).unwrap_or_default());
    };
    if !origin_allowed(hook, origin) {
        return Err(ApiError::forbidden(
            "this origin may not call this hook from a browser",
        ));
    }
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
    }
    let requested = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("content-type, authorization"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    Ok(response.body(Body::empty()).unwrap_or_default())
}

/// What an answer to an allowed browser origin carries, so the page can
/// read it: the status, the body, and the headers it may act on.
fn cors_headers(origin: Option<&str>) -> Vec<(HeaderName, HeaderValue)> {
    let Some(origin) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return Vec::new();
    };
    vec![
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
        (header::VARY, HeaderValue::from_static("Origin")),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-hooklane-event-id, x-hooklane-duplicate"),
        ),
    ]
}

/// What a hook's own `response` template can read.
fn response_context(call: &HookCall) -> Context {
    hooklane_engine::context::for_call(call, None, None)
}

fn answer(hook: &Hook, event_id: &EventId, ctx: &Context) -> Response {
    match &hook.response {
        None => (
            StatusCode::ACCEPTED,
            axum::Json(json!({"id": event_id, "status": "queued"})),
        )
            .into_response(),
        Some(HookResponse::Content { status, body }) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
            let rendered = render_json(body, ctx).value;
            let mut response = match rendered {
                Value::String(text) => (status, text).into_response(),
                other => (status, axum::Json(other)).into_response(),
            };
            if let Ok(v) = HeaderValue::from_str(event_id.as_str()) {
                response.headers_mut().insert("x-hooklane-event-id", v);
            }
            response
        }
        Some(HookResponse::Redirect { redirect_to }) => {
            let rendered = render_str(redirect_to, ctx).value;
            // Only to an http(s) URL; the URL parser percent-encodes what
            // the call put in (spaces, non-ASCII) so it is a valid header.
            let location = url::Url::parse(&rendered)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .and_then(|u| HeaderValue::from_str(u.as_str()).ok());
            let Some(location) = location else {
                tracing::warn!(
                    bot_id = %hook.bot_id,
                    hook_id = %hook.id,
                    event_id = %event_id,
                    "the rendered redirect_to is not an http(s) URL; answering 202 instead"
                );
                return answer(
                    &Hook {
                        response: None,
                        ..hook.clone()
                    },
                    event_id,
                    ctx,
                );
            };
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            if let Ok(v) = HeaderValue::from_str(event_id.as_str()) {
                response.headers_mut().insert("x-hooklane-event-id", v);
            }
            response
        }
    }
}
