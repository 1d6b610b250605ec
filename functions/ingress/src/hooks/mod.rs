//! `/hooks/{bot_id}/{hook_id}` (and `/webhook/…`): one inbound call.
//!
//! The checks run in this order, the first that fails answering: the hook
//! (404) → the browser origin and CORS preflight ([`access`], 403) → the
//! method (405) → the caller's address ([`access`], 403) → the size as sent
//! (413) → the credentials ([`authenticate`], 401) → a Discord PING
//! (answered `{"type": 1}` here, never queued, not counted by the rate) →
//! the rate ([`rate_limit`], 429) → the body's `Content-Encoding`
//! ([`decode`]: 415 for an unknown coding, 413 over the limit once decoded,
//! 400 for bytes that are not what the coding says) → the body (400) → a
//! Slack `url_verification` to a hook with the slack scheme (answered with
//! its `challenge`, never queued) → the intake ([`crate::intake`]:
//! duplicates, the queue, 503) → the answer ([`answer`]: 202, the hook's
//! `response`, or `redirect_to`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use hooklane_domain::envelope::DEPTH_HEADER;
use hooklane_domain::envelope::{HookCall, InboundRequest};
use hooklane_domain::{BotId, CallId, HookAuth, HookId, IdempotencyKey, Job, Scheme};
use hooklane_runtime::metrics;
use hooklane_web::{ApiError, ClientIp};

use crate::body::{decode, parse_body, BodyError};
use crate::cache::LoadedHook;
use crate::intake::{self, Intake, Subject};
use crate::IngressState;

mod access;
mod answer;
mod authenticate;
mod rate_limit;

/// The handler of both hook routes, any method. Answers as [`handle`]
/// does, counts the call as `Accepted` or `Rejected` (by code) in the
/// metrics, and logs a refusal with the bot and hook ids (an error for a
/// 5xx, info otherwise). A path that does not decode answers 404.
pub async fn call_hook(
    State(state): State<IngressState>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Response {
    // A path that does not decode (e.g. `%FF`) names no hook there can be.
    let Ok(Path((bot_id, hook_id))) = path else {
        return answer::unknown_hook().into_response();
    };
    match handle(&state, &bot_id, &hook_id, request).await {
        Ok(r) => {
            metrics::count("Accepted", &[("Route", "hook")]);
            r
        }
        Err(rejection) => {
            metrics::count(
                "Rejected",
                &[("Route", "hook"), ("Code", rejection.code.as_str())],
            );
            if rejection.status.is_server_error() {
                tracing::error!(
                    bot_id,
                    hook_id,
                    code = rejection.code.as_str(),
                    "hook call failed"
                );
            } else {
                tracing::info!(
                    bot_id,
                    hook_id,
                    code = rejection.code.as_str(),
                    status = rejection.status.as_u16(),
                    "hook call refused"
                );
            }
            rejection.into_response()
        }
    }
}

/// Finds the enabled hook, answers a preflight, checks the origin, and
/// puts the CORS headers of an allowed origin on every later answer.
async fn handle(
    state: &IngressState,
    bot_id: &str,
    hook_id: &str,
    request: Request,
) -> Result<Response, ApiError> {
    let svc = &state.svc;
    let (bot_id, hook_id) = match (BotId::parse(bot_id), HookId::parse(hook_id)) {
        (Ok(b), Ok(h)) => (b, h),
        _ => return Err(answer::unknown_hook()),
    };
    let hook = state
        .cache
        .hook(svc.store.as_ref(), &bot_id, &hook_id)
        .await?
        .filter(|h| h.enabled)
        .ok_or_else(answer::unknown_hook)?;

    let origin = request
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("(not text)").to_owned());

    // CORS: only the hook's allowed origins, preflight included.
    if request.method() == Method::OPTIONS {
        return access::preflight(&hook, origin.as_deref(), request.headers());
    }
    let allowed_origin = access::check_origin(&hook, origin.as_deref())?;
    // Past this point an allowed origin can read every answer, errors too.
    let cors = access::cors_headers(allowed_origin.as_deref());
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
async fn accept(
    state: &IngressState,
    hook: &LoadedHook,
    request: Request,
) -> Result<Response, ApiError> {
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
    access::check_ip(hook, ip)?;

    let limit = hook.max_body_bytes;
    let sent = read_body(&parts.headers, body, limit).await?;
    // Undone before the credentials are checked (a signature may cover the
    // decoded bytes), refused only after them: a caller without
    // credentials learns nothing about the body's coding.
    let decoded = decode::codings(&parts.headers)
        .and_then(|codings| decode::decode(&codings, sent.clone(), limit));

    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let now = svc.now();
    let url = public_url(svc.settings.public_url.as_deref(), &parts);
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let signed = authenticate::SignedBody {
        sent: &sent,
        decoded: decoded.as_deref().ok().filter(|d| *d != &sent[..]),
        url: &url,
        form,
    };
    let passed = authenticate::authenticate(
        state,
        hook,
        &parts.headers,
        &query,
        signed,
        now.unix_timestamp(),
    )
    .await?;

    // Discord checks the endpoint with PINGs: one whose signature checked
    // out is answered before the rate counts it.
    if matches!(*passed.auth, HookAuth::Discord { .. })
        && decoded.as_deref().is_ok_and(answer::is_discord_ping)
    {
        tracing::info!(bot_id = %bot_id, hook_id = %hook_id, "Discord PING answered; nothing queued");
        return Ok(answer::discord_pong());
    }

    rate_limit::check(state, hook, now).await?;

    let bytes = decoded?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parsed = parse_body(content_type, &bytes)?;
    if let (HookAuth::Hmac { scheme, .. }, Some(challenge)) =
        (&*passed.auth, answer::slack_challenge(&parsed.payload))
    {
        if *scheme == Scheme::Slack {
            tracing::info!(bot_id = %bot_id, hook_id = %hook_id, "Slack url_verification answered; nothing queued");
            return Ok(answer::slack_challenge_answer(challenge));
        }
    }

    let event_id = CallId::generate();
    let idempotency_key = passed
        .delivery_id
        .or_else(|| header_str(&parts.headers, "idempotency-key"))
        .or_else(|| header_str(&parts.headers, "webhook-id"))
        .or_else(|| header_str(&parts.headers, "svix-id"))
        .or_else(|| header_str(&parts.headers, "x-github-delivery"))
        .or_else(|| slack_event_id(&parts.headers, &parsed.payload))
        .or_else(|| platform_call_id(&passed.auth, &parsed.payload))
        .and_then(|k| IdempotencyKey::parse(&k).ok());
    let depth = header_str(&parts.headers, DEPTH_HEADER)
        .and_then(|d| d.parse().ok())
        .unwrap_or(0u32)
        .min(100);
    let call = HookCall {
        call_id: event_id.clone(),
        bot_id: bot_id.clone(),
        hook_id: hook_id.clone(),
        received_at: now,
        request: InboundRequest {
            method: parts.method.as_str().to_owned(),
            query: authenticate::query_for_actions(query, &passed.auth),
            headers: authenticate::headers_for_actions(&parts.headers, &passed.auth),
            ip: ip.map(|i| i.to_string()),
            payload: parsed.payload,
            variables: parsed.variables,
            context: passed.context,
        },
        attempt: 0,
        depth,
    };
    let response_ctx = answer::response_context(&call);
    match intake::take_in(
        svc,
        &bot_id,
        Subject::HookCall(&hook_id),
        idempotency_key.as_ref(),
        event_id.as_str(),
        Job::HookCall(call),
        now,
    )
    .await?
    {
        Intake::Duplicate(first) => {
            tracing::info!(bot_id = %bot_id, hook_id = %hook_id, event_id = %first, "duplicate call; not queued again");
            // Discord takes only an interaction answer: a repeat gets one,
            // rendered again, marked as a duplicate.
            match CallId::parse(&first) {
                Ok(first_id) if matches!(hook.auth, HookAuth::Discord { .. }) => {
                    Ok(answer::repeated_interaction(hook, &first_id, response_ctx))
                }
                _ => Ok(answer::duplicate(&first)),
            }
        }
        Intake::Queued => {
            tracing::info!(bot_id = %bot_id, hook_id = %hook_id, event_id = %event_id, "hook call queued");
            Ok(answer::queued(hook, &event_id, &response_ctx))
        }
    }
}

/// The body, read to its end, at most `limit` bytes (the hook's
/// `max_body_bytes`); a `Content-Length` over the limit is refused before
/// reading.
///
/// # Errors
/// [`BodyError::TooLarge`] (413) over the limit; [`BodyError::Unreadable`]
/// (400 `invalid_body`) when the body cannot be read to its end.
async fn read_body(
    headers: &HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<bytes::Bytes, BodyError> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
    {
        if len > limit {
            return Err(BodyError::TooLarge(limit));
        }
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(e) if is_over_limit(&e) => Err(BodyError::TooLarge(limit)),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// Whether reading a body stopped at its limit.
fn is_over_limit(e: &axum::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
}

/// The `event_id` of a Slack Events API call (a JSON body with a top-level
/// string `event_id`, from a caller that sends Slack's headers). Slack
/// retries an event it thinks timed out with the same `event_id` (and
/// `X-Slack-Retry-Num`), so the id makes the retry a duplicate. Slash
/// commands and interactions are not retried by Slack and carry no such id.
fn slack_event_id(headers: &HeaderMap, payload: &serde_json::Value) -> Option<String> {
    let from_slack = [
        "x-slack-signature",
        "x-slack-request-timestamp",
        "x-slack-retry-num",
    ]
    .iter()
    .any(|h| headers.contains_key(*h));
    if !from_slack {
        return None;
    }
    payload
        .get("event_id")
        .and_then(|id| id.as_str())
        .map(|id| format!("slack:{id}"))
}

/// The URL the caller called, as the caller wrote it (Twilio signs it):
/// `configured` (`HOOKLANE_PUBLIC_URL`) followed by the path and query;
/// without it the request's own absolute URL (API Gateway's, as Lambda
/// hands it over), else `X-Forwarded-Proto` (default `http`) `://` `Host`
/// followed by the path and query.
fn public_url(configured: Option<&str>, parts: &axum::http::request::Parts) -> String {
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if let Some(base) = configured {
        return format!("{}{path_and_query}", base.trim_end_matches('/'));
    }
    if parts.uri.scheme().is_some() && parts.uri.authority().is_some() {
        return parts.uri.to_string();
    }
    let proto = header_str(&parts.headers, "x-forwarded-proto")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "http".to_owned());
    let host = header_str(&parts.headers, header::HOST.as_str()).unwrap_or_default();
    format!("{proto}://{host}{path_and_query}")
}

/// The id a platform gives a call, as the call's idempotency key: a
/// Telegram update's `update_id` to a `telegram` hook as
/// `telegram:{update_id}` (Telegram redelivers an update it thinks was not
/// received with the same id), a Discord interaction's `id` to a `discord`
/// hook as `discord:{id}` (a replayed interaction is a duplicate).
fn platform_call_id(auth: &HookAuth, payload: &serde_json::Value) -> Option<String> {
    match auth {
        HookAuth::Telegram { .. } => payload
            .get("update_id")
            .and_then(serde_json::Value::as_i64)
            .map(|id| format!("telegram:{id}")),
        HookAuth::Discord { .. } => payload
            .get("id")
            .and_then(serde_json::Value::as_str)
            .filter(|id| !id.is_empty())
            .map(|id| format!("discord:{id}")),
        _ => None,
    }
}

/// The trimmed value of header `name`, when it is text.
fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
}
