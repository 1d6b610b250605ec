//! What a queued hook call is answered with: 202
//! `{"id": "evt_…", "status": "queued"}`, or the hook's own `response`
//! (a status and a templated body, sent as its `content_type`) or
//! `redirect_to` (303 to a templated URL). A duplicate call gets the first
//! call's 202. A Discord interaction is answered 200: a PING `{"type": 1}`,
//! any other interaction the hook's `response` or `{"type": 5}` (a deferred
//! answer the actions follow up), a repeated one the same made again.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hooklane_domain::envelope::HookCall;
use hooklane_domain::{CallId, Hook, HookAuth, HookResponse, MediaType};
use hooklane_template::{render_json, render_json_with, render_str, render_str_with, Context};
use hooklane_web::ApiError;
use serde_json::{json, Value};

/// 404 `not_found`: the bot or hook does not exist, or the hook is disabled.
pub(super) fn unknown_hook() -> ApiError {
    ApiError::not_found("no such hook, or it is disabled")
}

/// The header naming the call's `evt_…` id on a hook's own answer.
const EVENT_ID_HEADER: &str = "x-hooklane-event-id";

/// The header marking the answer to a repeated call.
const DUPLICATE_HEADER: &str = "x-hooklane-duplicate";

/// What a hook's own `response` template can read: the same variables as
/// the actions (`{payload.…}`, `{query.…}`, `{event.id}`, …), without stored
/// variables.
pub(super) fn response_context(call: &HookCall) -> Context {
    call.template_context(None, None)
}

/// The answer to a queued call.
///
/// Without a hook `response`: 202 `{"id": "evt_…", "status": "queued"}`.
/// With `{"status", "body"}`: that status (200 when it is not a valid one)
/// and the body rendered with `ctx`, as text when it renders to a JSON
/// string and as JSON otherwise; with a `content_type` too, sent as that
/// type (see [`typed`]: values in XML and HTML are escaped); a status that
/// carries no body (204, 205) with none. With `{"redirect_to"}`: 303 to the rendered
/// URL, or the plain 202 when it is not an `http(s)` URL. A `discord` hook
/// with a `response` has its values' `@everyone`/`@here` neutralised and,
/// when its `data` object sets no `allowed_mentions`, `{"parse": []}`
/// added. A `discord` hook
/// without a `response`: 200 `{"type": 5}` (`{"type": 6}` to a message
/// component, `{"type": 8, "data": {"choices": []}}` to an autocomplete) (deferred: the actions answer
/// with `discord_followup`). All but the plain 202 carry the call's id in
/// `x-hooklane-event-id`.
pub(super) fn queued(hook: &Hook, event_id: &CallId, ctx: &Context) -> Response {
    match &hook.response {
        None if matches!(hook.auth, HookAuth::Discord { .. }) => {
            let kind = ctx.root.get("payload").and_then(|p| p.get("type"));
            with_event_id(
                (StatusCode::OK, axum::Json(deferred(kind))).into_response(),
                event_id,
            )
        }
        None => accepted(event_id.as_str()),
        Some(HookResponse::Content {
            status,
            body,
            content_type,
        }) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
            if !HookResponse::status_carries_body(status.as_u16()) {
                // As HTTP sends it: no body (not even the `null` a body
                // left out renders to).
                return with_event_id(status.into_response(), event_id);
            }
            let response = match content_type {
                None => {
                    let rendered = if matches!(hook.auth, HookAuth::Discord { .. }) {
                        discord_answer(render_json_with(body, ctx, &discord_value).value)
                    } else {
                        render_json(body, ctx).value
                    };
                    match rendered {
                        Value::String(text) => (status, text).into_response(),
                        other => (status, axum::Json(other)).into_response(),
                    }
                }
                Some(media_type) => typed(hook, status, body, media_type, ctx),
            };
            with_event_id(response, event_id)
        }
        Some(HookResponse::Redirect { redirect_to }) => {
            let rendered = render_str(redirect_to, ctx);
            // Only to an http(s) URL; the URL parser percent-encodes what
            // the call put in (spaces, non-ASCII) so it is a valid header.
            let location = url::Url::parse(&rendered.value)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .and_then(|u| HeaderValue::from_str(u.as_str()).ok());
            let Some(location) = location else {
                let reason = match rendered.unknown.first() {
                    Some(name) => format!("redirect_to holds the placeholder {{{name}}}, which this call gives no value"),
                    None => "the rendered redirect_to is not an http(s) URL".to_owned(),
                };
                tracing::warn!(
                    bot_id = %hook.bot_id,
                    hook_id = %hook.id,
                    event_id = %event_id,
                    "{reason}; answering 202 instead"
                );
                return accepted(event_id.as_str());
            };
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            with_event_id(response, event_id)
        }
    }
}

/// A hook's own answer sent as `media_type`. XML and HTML: the body
/// template is text whose substituted values are escaped for markup
/// ([`markup_value`]), so a caller's `<` cannot add elements (a Twilio
/// SMS cannot write TwiML). JSON types: the rendered body as JSON (a
/// string body is a JSON string). Any other type: a body that renders to a
/// string as that text, anything else as JSON text. A media type the
/// header cannot carry (never one the admin API stored) answers as if
/// none were set.
fn typed(
    hook: &Hook,
    status: StatusCode,
    body: &Value,
    media_type: &MediaType,
    ctx: &Context,
) -> Response {
    let text = if media_type.is_markup() {
        match body {
            Value::String(template) => {
                render_str_with(template, ctx, &|_, v| markup_value(v)).value
            }
            other => render_json_with(other, ctx, &|_, v| markup_value(v))
                .value
                .to_string(),
        }
    } else {
        let rendered = if matches!(hook.auth, HookAuth::Discord { .. }) {
            discord_answer(render_json_with(body, ctx, &discord_value).value)
        } else {
            render_json(body, ctx).value
        };
        match rendered {
            Value::String(text) if !media_type.is_json() => text,
            other => other.to_string(),
        }
    };
    match HeaderValue::from_str(media_type.as_str()) {
        Ok(value) => (status, [(header::CONTENT_TYPE, value)], text).into_response(),
        Err(_) => (status, text).into_response(),
    }
}

/// A value substituted into XML or HTML: `&`, `<`, `>`, `"` and `'` as
/// `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#39;` (character references
/// both XML and HTML read, in text and in attribute values alike).
fn markup_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The deferred answer to a Discord interaction of type `kind`: an
/// autocomplete (4) `{"type": 8, "data": {"choices": []}}`, a message
/// component (3) `{"type": 6}` (deferred update), anything else (a command,
/// a modal submit) `{"type": 5}` (deferred message).
fn deferred(kind: Option<&Value>) -> Value {
    match kind.and_then(Value::as_u64) {
        Some(4) => json!({"type": 8, "data": {"choices": []}}),
        Some(3) => json!({"type": 6}),
        _ => json!({"type": 5}),
    }
}

/// A value substituted into a Discord answer: `@everyone` and `@here` with
/// a zero-width space after the `@` (as the engine's `escape::discord`), so
/// it is never a mention.
fn discord_value(_key: Option<&str>, v: &str) -> String {
    v.replace("@everyone", "@\u{200B}everyone")
        .replace("@here", "@\u{200B}here")
}

/// A Discord answer whose `data` object sets no `allowed_mentions` gets
/// `{"parse": []}`: what the interaction's options hold pings no one.
fn discord_answer(mut answer: Value) -> Value {
    if let Some(Value::Object(data)) = answer.get_mut("data") {
        data.entry("allowed_mentions")
            .or_insert_with(|| json!({"parse": []}));
    }
    answer
}

/// Whether a Discord interaction's body is a PING (a JSON object with
/// `"type": 1`), which Discord sends to check the endpoint and which must
/// be answered at once.
pub(super) fn is_discord_ping(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .is_ok_and(|interaction| interaction.get("type").and_then(Value::as_u64) == Some(1))
}

/// The `challenge` of a Slack Events API `url_verification` request
/// (`{"type": "url_verification", "challenge": "…", "token": "…"}`, sent
/// when an app's Request URL is set); `None` for anything else.
pub(super) fn slack_challenge(payload: &Value) -> Option<&str> {
    if payload.get("type").and_then(Value::as_str) != Some("url_verification") {
        return None;
    }
    payload.get("challenge").and_then(Value::as_str)
}

/// The answer to Slack's `url_verification`: 200 `{"challenge": "…"}`
/// (Slack takes the challenge back as JSON, a form or plain text:
/// <https://api.slack.com/events/url_verification>).
pub(super) fn slack_challenge_answer(challenge: &str) -> Response {
    (StatusCode::OK, axum::Json(json!({"challenge": challenge}))).into_response()
}

/// The answer to a Discord PING: 200 `{"type": 1}` (PONG).
pub(super) fn discord_pong() -> Response {
    (StatusCode::OK, axum::Json(json!({"type": 1}))).into_response()
}

fn with_event_id(mut response: Response, event_id: &CallId) -> Response {
    if let Ok(v) = HeaderValue::from_str(event_id.as_str()) {
        response.headers_mut().insert(EVENT_ID_HEADER, v);
    }
    response
}

/// The answer to a repeated Discord interaction (Discord takes nothing but
/// an interaction answer): the first call's answer is not kept, so it is
/// made again as [`queued`] makes it, from the hook as it is now and the
/// repeat's `ctx` with `{event.id}` the first call's id, and marked
/// `x-hooklane-duplicate: true`.
pub(super) fn repeated_interaction(hook: &Hook, first: &CallId, mut ctx: Context) -> Response {
    if let Some(Value::Object(event)) = ctx.root.get_mut("event") {
        event.insert("id".into(), Value::String(first.as_str().to_owned()));
    }
    let mut response = queued(hook, first, &ctx);
    response
        .headers_mut()
        .insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
    response
}

/// The answer to a repeated call: 202 with the first call's id
/// (`{"id": first, "status": "queued"}`) and `x-hooklane-duplicate: true`.
pub(super) fn duplicate(first: &str) -> Response {
    let mut response = accepted(first);
    response
        .headers_mut()
        .insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
    response
}

/// 202 `{"id": id, "status": "queued"}`.
fn accepted(id: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"id": id, "status": "queued"})),
    )
        .into_response()
}
