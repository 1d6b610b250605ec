//! `http_request`, and the sending every action that calls out shares: the
//! 2xx check, the waits a 429 asks for, the run log's detail.

use std::time::Instant;

use hooklane_domain::envelope::{DEPTH_HEADER, MAX_PUBLISH_DEPTH};
use hooklane_runtime::outbound::{bounded_text, OverShare, Refusal, SendError};
use hooklane_runtime::Services;
use serde_json::{json, Map, Value};

use super::chat::Paced;
use super::state::{ActionError, ActionResultOf, RunState};
use crate::mask::{mask_url, redirect_location};
use crate::platforms::{cut, Cuts};
use crate::{retry, throttle};

/// `http_request`: sends `method` to `url` (both rendered; a placeholder not
/// found in the URL fails the action) with the rendered headers and body (a
/// text body as it is, anything else as JSON), carrying the publish depth
/// on. Past [`MAX_PUBLISH_DEPTH`] it is not sent (loop protection).
pub(super) async fn request(
    svc: &Services,
    state: &mut RunState,
    method: &str,
    url: &str,
    headers: &Map<String, Value>,
    body: Option<&Value>,
) -> ActionResultOf {
    // Hooks calling hooks: past the depth limit the chain stops here.
    if state.depth >= MAX_PUBLISH_DEPTH {
        return Err(ActionError::permanent(format!(
            "not sent: {MAX_PUBLISH_DEPTH} hooks already led here (loop protection)"
        )));
    }
    let url = state.target(url, "URL")?;
    let method = state.text(method).to_ascii_uppercase();
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| ActionError::permanent(format!("`{method}` is not an HTTP method")))?;
    // The depth travels on, so a chain of hooks calling hooks
    // through publishes and requests alike is still counted.
    let mut req = svc
        .outbound
        .request(method.clone(), &url)
        .map_err(ActionError::target)?
        .header(DEPTH_HEADER, (state.depth + 1).to_string());
    // The hook's own Idempotency-Key, when it sets one, wins.
    if !headers
        .keys()
        .any(|h| h.eq_ignore_ascii_case(IDEMPOTENCY_KEY))
    {
        req = with_idempotency_key(req, state);
    }
    for (name, value) in headers {
        if name.eq_ignore_ascii_case(DEPTH_HEADER) {
            continue;
        }
        let v = match value {
            Value::String(s) => state.text(s),
            other => other.to_string(),
        };
        state.secrets.add_header(name, &v);
        req = req.header(name.as_str(), v);
    }
    if let Some(body) = body {
        req = match state.json(body) {
            Value::String(text) => req.body(text),
            other => req.json(&other),
        };
    }
    let detail = json!({ "method": method.as_str(), "url": mask_url(&url) });
    send(svc, state, req, detail, None, None).await
}

/// The header every outside call of a run carries: see
/// [`RunState::idempotency_key`].
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Adds the current action's `Idempotency-Key` (when the run has an id).
pub(super) fn with_idempotency_key(
    req: reqwest::RequestBuilder,
    state: &RunState,
) -> reqwest::RequestBuilder {
    match state.idempotency_key() {
        Some(key) => req.header(IDEMPOTENCY_KEY, key),
        None => req,
    }
}

/// Sends a request; 2xx is success. A 429 is retried after the wait the
/// server asks for (`Retry-After`, Discord's `retry_after`, Telegram's
/// `parameters.retry_after`): at most [`retry::RATE_LIMIT_RETRIES`] times,
/// each wait at most [`retry::RATE_LIMIT_MAX_WAIT`]. The waits go to the run log.
/// A 429 from a `paced` chat target also slows the target down for that
/// wait (1 s when it names none) for every run and dispatcher.
/// A target refused when its name resolved to a forbidden address and an
/// answer [`retry::is_transient_status`] calls final are permanent
/// failures; other send errors (no connection, a timeout) are transient.
///
/// The call keeps to its host's share
/// ([`Outbound::send`](hooklane_runtime::outbound::Outbound::send)):
/// over it, in a run that has made no outside call or write yet
/// ([`RunState::touched`]), the call is not sent and the error is
/// `deferred` (the run is put back in the queue, to run again from the
/// start); in a run that has, the call waits for its turn (at most the
/// call timeout). A paused host (its calls timed out) fails the action at
/// once, transiently.
pub(super) async fn send(
    svc: &Services,
    state: &RunState,
    req: reqwest::RequestBuilder,
    mut detail: Value,
    cuts: Option<Cuts>,
    paced: Option<&Paced>,
) -> ActionResultOf {
    if let Some(cuts) = cuts.filter(|c| !c.0.is_empty()) {
        detail["notes"] = json!(cuts.0);
    }
    let mut waits: Vec<f64> = Vec::new();
    loop {
        let Some(attempt) = req.try_clone() else {
            return Err(ActionError::permanent("the request body cannot be sent"));
        };
        let started = Instant::now();
        // A run can be put back whole only while it has made no outside
        // call or write (this one included, when a 429 sent it again);
        // after one, the call waits for its turn.
        let over_share = if state.touched || !waits.is_empty() {
            OverShare::Wait
        } else {
            OverShare::Refuse
        };
        let response = match svc.outbound.send(attempt, over_share).await {
            Ok(r) => r,
            Err(e) => {
                return Err(ActionError {
                    reason: e.to_string(),
                    detail,
                    transient: e.is_transient(),
                    deferred: match &e {
                        SendError::Refused(busy @ Refusal::Busy { .. })
                            if over_share == OverShare::Refuse =>
                        {
                            Some(retry::busy_delay(busy))
                        }
                        _ => None,
                    },
                })
            }
        };
        let status = response.status();
        let retry_after = retry::retry_after(response.headers(), svc.now());
        let location = redirect_location(&response);
        // A success's body is not needed; a failure's is read only so far.
        let text = if status.is_success() {
            String::new()
        } else {
            bounded_text(response).await
        };
        detail["status"] = json!(status.as_u16());
        detail["response_time_ms"] = json!(started.elapsed().as_millis() as u64);
        if !waits.is_empty() {
            detail["rate_limited_waits_s"] = json!(waits);
        }
        if status.is_success() {
            if let Value::Object(d) = &mut detail {
                d.remove("response");
            }
            return Ok(detail);
        }
        detail["response"] = Value::String(cut(&text, 512).0);
        if status.as_u16() == 429 {
            if let Some(paced) = paced {
                let told = retry::retry_after_body(&text).or(retry_after);
                let until = svc.now() + told.unwrap_or(throttle::DEFAULT_SLOW_DOWN);
                throttle::slow_down(svc, &paced.bot, &paced.target, Some(paced.rate), until).await;
            }
            if let Some(wait) = retry::rate_limit_wait(waits.len(), &text, retry_after) {
                tracing::info!(
                    wait_ms = wait.as_millis() as u64,
                    "rate limited; retrying after the wait the target asked for"
                );
                waits.push(wait.as_secs_f64());
                tokio::time::sleep(wait).await;
                continue;
            }
        }
        let reason = match location {
            Some(location) => {
                let reason = format!("the target answered {status}, redirecting to {location} (redirects are not followed)");
                detail["location"] = Value::String(location);
                reason
            }
            None => format!("the target answered {status}"),
        };
        return Err(ActionError {
            reason,
            transient: retry::is_transient_status(status.as_u16()),
            deferred: None,
            detail,
        });
    }
}
