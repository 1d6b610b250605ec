//! One delivery attempt: the endpoint's rate first (a delivery over it
//! waits, not counted as an attempt; see `hooklane_engine::throttle`), the
//! signed POST to the endpoint, its row in the delivery log, the endpoint's
//! failure state and the next attempt's scheduling (the rules themselves
//! are in `hooklane_engine::retry`). Any 429 slows the endpoint down for
//! its `Retry-After` (an endpoint with a rate in every dispatcher, through
//! the store); to an endpoint with a rate it is waited out without
//! counting as an attempt, up to [`MAX_THROTTLED`] times.
//!
//! A retry is due only while the row of the attempt that scheduled it (the
//! task's `previous`) still says when (`next_attempt_at`). Once the retry
//! is made that row's `next_attempt_at` is cleared, so no row promises an
//! attempt that was made (and a retry received twice is sent once); a
//! resend or a recover of the message clears it too, which supersedes the
//! retry: it drops itself when it comes, and one in flight schedules
//! nothing after itself.

use std::time::{Duration, Instant};

use hooklane_domain::envelope::DeliveryTask;
use hooklane_domain::envelope::DEPTH_HEADER;
use hooklane_domain::{
    Delivery, DeliveryId, DeliveryStatus, Endpoint, EndpointType, Envelope, Job, SUPERSEDED,
};
use hooklane_engine::mask::{redirect_location, Secrets};
use hooklane_engine::payload::body_for;
use hooklane_engine::platforms::cut;
use hooklane_engine::retry::{self, apply_outcome, busy_delay, retry_delay, Outcome};
use hooklane_engine::signing::signature_headers;
use hooklane_engine::throttle;
use hooklane_runtime::metrics;
use hooklane_runtime::outbound::{bounded_text, OverShare, Refusal, SendError};
use hooklane_runtime::Services;
use hooklane_store::StoreError;
use serde_json::Value;

/// The longest error text a delivery log row keeps, in characters.
const ERROR_TEXT_CHARS: usize = 300;

fn endpoint_type_name(kind: EndpointType) -> &'static str {
    match kind {
        EndpointType::Custom => "custom",
        EndpointType::Discord => "discord",
        EndpointType::Slack => "slack",
    }
}

/// What one attempt brought back.
struct AttemptResult {
    http_status: Option<u16>,
    error: Option<String>,
    retry_after: Option<Duration>,
    elapsed_ms: u64,
    /// The SSRF guard refused the target (a final failure).
    refused: bool,
}

impl AttemptResult {
    fn outcome(&self) -> Outcome {
        if self.refused {
            Outcome::Permanent
        } else {
            Outcome::of(self.http_status)
        }
    }
}

/// The start of a failed answer's body, trimmed and cut for the log;
/// `None` when empty.
async fn error_text(resp: reqwest::Response) -> Option<String> {
    let text = bounded_text(resp).await;
    let text = cut(text.trim(), ERROR_TEXT_CHARS).0;
    (!text.is_empty()).then_some(text)
}

/// The error of a failed answer: its status, where a redirect pointed
/// (`Location`), and the start of its body, as in
/// `the endpoint answered 500: {"ok":false}` or
/// `the endpoint answered 302, redirected to https://new.example/hook`.
fn answered(status: u16, location: Option<String>, text: Option<String>) -> String {
    let mut error = format!("the endpoint answered {status}");
    if let Some(at) = location {
        error.push_str(&format!(", redirected to {at}"));
    }
    if let Some(text) = text {
        error.push_str(&format!(": {text}"));
    }
    error
}

/// The header carrying the delivery's idempotency key: the message id
/// (as `webhook-id`), the same on every attempt to the endpoint.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Sends the delivery to the endpoint once (see [`send_once`]); the error
/// text keeps no credential of the endpoint (its URL's token, its
/// credential headers, its secrets), even when the answer echoes them.
///
/// # Errors
/// [`Refusal::Busy`] when it was not sent because the endpoint's host was
/// over its share of calls in flight (not an attempt).
async fn attempt(
    svc: &Services,
    endpoint: &Endpoint,
    d: &DeliveryTask,
) -> Result<AttemptResult, Refusal> {
    let mut result = send_once(svc, endpoint, d).await?;
    if let Some(error) = &result.error {
        result.error = Some(Secrets::of_endpoint(endpoint).mask(error));
    }
    Ok(result)
}

/// Sends the delivery to the endpoint once: the body shaped for its type,
/// its own headers, then the event, attempt, depth, idempotency key and
/// signature headers. A 3xx is told with its `Location` (masked). A host
/// paused by its circuit breaker fails the attempt unsent.
///
/// # Errors
/// [`Refusal::Busy`]: see [`attempt`].
async fn send_once(
    svc: &Services,
    endpoint: &Endpoint,
    d: &DeliveryTask,
) -> Result<AttemptResult, Refusal> {
    let body = serde_json::to_vec(&body_for(
        endpoint.kind,
        endpoint.allowed_mentions.as_ref(),
        d,
    ))
    .unwrap_or_default();
    let now = svc.now();
    let mut req = match svc.outbound.request(reqwest::Method::POST, &endpoint.url) {
        Ok(r) => r,
        Err(e) => {
            return Ok(AttemptResult {
                http_status: None,
                error: Some(e.to_string()),
                retry_after: None,
                elapsed_ms: 0,
                refused: true,
            })
        }
    };
    for (name, value) in &endpoint.headers {
        if let Value::String(v) = value {
            req = req.header(name.as_str(), v.as_str());
        }
    }
    req = req
        .header("content-type", "application/json")
        .header("x-webhook-event", d.event.as_str())
        .header("x-webhook-attempt", d.attempt.to_string())
        .header(DEPTH_HEADER, d.depth.to_string());
    if !endpoint
        .headers
        .keys()
        .any(|h| h.eq_ignore_ascii_case(IDEMPOTENCY_KEY))
    {
        req = req.header(IDEMPOTENCY_KEY, d.message_id.as_str());
    }
    for (name, value) in signature_headers(
        endpoint,
        d.message_id.as_str(),
        now.unix_timestamp(),
        &body,
        now,
    ) {
        req = req.header(name, value);
    }
    let started = Instant::now();
    let result = svc.outbound.send(req.body(body), OverShare::Refuse).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(match result {
        Ok(resp) => {
            let status = resp.status();
            let retry_after =
                retry::delivery_retry_after(status.as_u16(), resp.headers(), svc.now());
            let error = if status.is_success() {
                None
            } else {
                let location = redirect_location(&resp);
                let text = error_text(resp).await;
                Some(answered(status.as_u16(), location, text))
            };
            AttemptResult {
                http_status: Some(status.as_u16()),
                error,
                retry_after,
                elapsed_ms,
                refused: false,
            }
        }
        Err(SendError::Refused(busy @ Refusal::Busy { .. })) => return Err(busy),
        Err(e) => AttemptResult {
            http_status: None,
            error: Some(e.to_string()),
            retry_after: None,
            elapsed_ms,
            refused: e.is_refused_target(),
        },
    })
}

/// The log row's error: what the endpoint answered (or why nothing was
/// sent), and for a final failure why it is not retried.
fn attempt_error(result: &AttemptResult, outcome: Outcome) -> Option<String> {
    let error = match (&result.error, result.http_status) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(s)) if outcome != Outcome::Succeeded => {
            Some(format!("the endpoint answered {s}"))
        }
        _ => None,
    };
    match (outcome, result.http_status) {
        (Outcome::Permanent, Some(s)) => Some(format!(
            "{}; not retried: a {s} answer is final (only 408, 409, 425, 429 and 5xx are retried)",
            error.unwrap_or_default()
        )),
        (Outcome::Permanent, None) => Some(format!(
            "{}; not retried: a refused target is refused on every attempt",
            error.unwrap_or_default()
        )),
        _ => error,
    }
}

/// Saves the endpoint's state after an attempt, when the attempt changes
/// it (a first failure, a recovery, a 410, failing for too long): most
/// attempts read and write nothing. The endpoint is read again first and
/// only its state fields are written, so a change made through the admin
/// API while the attempt was in flight (a secret rotation, a new URL) is
/// kept. Returns the endpoint as stored.
async fn save_state(
    svc: &Services,
    loaded: Endpoint,
    outcome: Outcome,
    triggered_at: time::OffsetDateTime,
) -> Endpoint {
    let disable_after = svc.settings.disable_failing_after;
    if !apply_outcome(
        &mut loaded.clone(),
        outcome,
        triggered_at,
        svc.now(),
        disable_after,
    ) {
        return loaded;
    }
    let mut endpoint = match svc.store.get_endpoint(&loaded.bot_id, &loaded.id).await {
        Ok(Some(fresh)) => fresh,
        // Deleted while the attempt was in flight: nothing to save.
        Ok(None) => return loaded,
        Err(e) => {
            tracing::warn!(error.message = %e, "the endpoint could not be read again; its state is not saved");
            return loaded;
        }
    };
    let now = svc.now();
    let was_enabled = endpoint.enabled;
    if apply_outcome(&mut endpoint, outcome, triggered_at, now, disable_after) {
        endpoint.updated_at = now;
        if let Err(e) = svc.store.update_endpoint(&endpoint).await {
            tracing::warn!(error.message = %e, "the endpoint state could not be saved");
        }
        if was_enabled && !endpoint.enabled {
            tracing::warn!(
                reason = endpoint.disabled_reason.as_deref().unwrap_or_default(),
                "endpoint disabled"
            );
        }
    }
    endpoint
}

/// The log row of attempt `d.attempt` of `d` with a new id, `status` and
/// `triggered_at`; no answer (`http_status`, `error`, `response_time_ms`,
/// `next_attempt_at` are `None`) until the caller sets one.
fn log_row(
    d: &DeliveryTask,
    status: DeliveryStatus,
    triggered_at: time::OffsetDateTime,
) -> Delivery {
    Delivery {
        id: DeliveryId::generate(),
        bot_id: d.bot_id.clone(),
        message_id: d.message_id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        event: d.event.clone(),
        attempt: d.attempt,
        status,
        http_status: None,
        error: None,
        triggered_at,
        response_time_ms: None,
        next_attempt_at: None,
    }
}

/// The row of the attempt that scheduled `d` (its `previous`), when `d` is
/// a retry or a throttled attempt sent again and the row is still kept.
///
/// # Errors
/// The store's error reading it.
async fn scheduling_row(svc: &Services, d: &DeliveryTask) -> Result<Option<Delivery>, StoreError> {
    match &d.previous {
        Some(id) => {
            svc.store
                .get_endpoint_delivery(&d.bot_id, &d.endpoint_id, id)
                .await
        }
        None => Ok(None),
    }
}

/// Whether the row that scheduled `d` no longer says it is due: a resend
/// or a recover superseded it, or it was made already.
fn superseded(scheduling: Option<&Delivery>) -> bool {
    scheduling.is_some_and(|row| row.next_attempt_at.is_none())
}

/// Whether the retry `d` was superseded while its attempt was in flight
/// (read again): then nothing is scheduled after it.
///
/// # Errors
/// The store's error reading the row.
async fn superseded_in_flight(svc: &Services, d: &DeliveryTask) -> Result<bool, StoreError> {
    if d.previous.is_none() {
        return Ok(false);
    }
    Ok(superseded(scheduling_row(svc, d).await?.as_ref()))
}

/// Rewrites the scheduling row with `next_attempt_at = next`: `None` once
/// its retry is made (or dropped), so the row no longer promises it; a
/// later time when the retry waits for the endpoint's rate. A failure is
/// logged, not returned: the attempt itself is done and must not be made
/// again for a row's sake.
async fn reschedule(
    svc: &Services,
    scheduling: Option<Delivery>,
    next: Option<time::OffsetDateTime>,
) {
    let Some(mut row) = scheduling else {
        return;
    };
    if row.next_attempt_at == next {
        return;
    }
    row.next_attempt_at = next;
    // Kept as long as it was first meant to be.
    let expires_at = row.triggered_at + svc.settings.delivery_log_ttl;
    if let Err(e) = svc.store.put_delivery(&row, expires_at).await {
        tracing::warn!(
            error.message = %e,
            previous_delivery_id = %row.id,
            "the row of the attempt before could not be updated; its next_attempt_at is stale"
        );
    }
}

/// Writes `row` to the delivery log, kept for the log's time to live, and
/// names it in the current span.
///
/// # Errors
/// The store's error writing it.
async fn write_row(svc: &Services, row: &Delivery) -> Result<(), StoreError> {
    tracing::Span::current().record("delivery_id", tracing::field::display(&row.id));
    svc.store
        .put_delivery(row, svc.now() + svc.settings.delivery_log_ttl)
        .await
}

/// Logs one attempt: a success at INFO; a failure at WARN, its HTTP status
/// first in the message ("HTTP 503: …", or "no HTTP status: …" when the
/// target did not answer), then whether it is retried and the row's error
/// (which carries no endpoint credential).
fn log_attempt(row: &Delivery, outcome: Outcome, ms: u64) {
    if outcome == Outcome::Succeeded {
        tracing::info!(status = ?row.status, http_status = row.http_status, ms, "delivery attempt");
        return;
    }
    let first = row
        .http_status
        .map_or_else(|| "no HTTP status".to_owned(), |s| format!("HTTP {s}"));
    let then = if row.next_attempt_at.is_some() {
        "retried"
    } else {
        "not retried"
    };
    tracing::warn!(
        status = ?row.status,
        http_status = row.http_status,
        ms,
        error = row.error.as_deref().unwrap_or_default(),
        "{first}: delivery attempt failed, {then}"
    );
}

/// How many 429 answers to one attempt are waited out before a 429 counts
/// as a failed attempt like any other (an endpoint that only ever answers
/// 429 is not retried forever).
pub const MAX_THROTTLED: u32 = 20;

/// An attempt that an endpoint with a rate answered 429 (too many
/// requests), the endpoint already slowed down for `wait` (its
/// `Retry-After`, 1 s without one): the answer is logged as a `failed` row
/// saying when it is sent again, and the same attempt is queued again after
/// that wait, with its `throttled` count one higher. The endpoint's failure
/// state is left as it was. (An endpoint without a rate, its own or its
/// type's, takes a 429 as a failed attempt, retried after `Retry-After`.)
///
/// # Errors
/// A store or queue error writing the row or queuing the send.
async fn throttled(
    svc: &Services,
    d: DeliveryTask,
    wait: Duration,
    result: AttemptResult,
    triggered_at: time::OffsetDateTime,
) -> anyhow::Result<()> {
    if superseded_in_flight(svc, &d).await? {
        let row = Delivery {
            http_status: Some(429),
            error: Some(format!(
                "the endpoint answered 429 (too many requests); not sent again: {SUPERSEDED}"
            )),
            response_time_ms: Some(result.elapsed_ms),
            ..log_row(&d, DeliveryStatus::Failed, triggered_at)
        };
        write_row(svc, &row).await?;
        tracing::info!(
            "the endpoint answered 429; a resend superseded this attempt, which is not sent again"
        );
        return Ok(());
    }
    let until = svc.now() + wait;
    let row = Delivery {
        http_status: Some(429),
        error: Some(format!(
            "the endpoint answered 429 (too many requests); sent again in {} ms, not counted as an attempt",
            wait.as_millis()
        )),
        response_time_ms: Some(result.elapsed_ms),
        next_attempt_at: Some(until),
        ..log_row(&d, DeliveryStatus::Failed, triggered_at)
    };
    write_row(svc, &row).await?;
    tracing::info!(
        wait_ms = wait.as_millis() as u64,
        "the endpoint answered 429; slowed down, the attempt is sent again"
    );
    metrics::count("DeliveryThrottled", &[]);
    let again = DeliveryTask {
        throttled: d.throttled + 1,
        previous: Some(row.id.clone()),
        ..d
    };
    svc.enqueue(Envelope::now(Job::Deliver(again)), wait)
        .await?;
    Ok(())
}

/// Queues `d` again for `wait` from now: not an attempt (no row, no
/// endpoint state, the same attempt number then). A retry's row says when
/// it is now due, when that is later than it said.
///
/// # Errors
/// The queue's error.
async fn send_later(
    svc: &Services,
    d: DeliveryTask,
    scheduling: Option<Delivery>,
    wait: Duration,
) -> anyhow::Result<()> {
    svc.enqueue(Envelope::now(Job::Deliver(d)), wait).await?;
    let later = svc.now() + wait;
    let due = scheduling.as_ref().and_then(|row| row.next_attempt_at);
    if due.is_some_and(|due| due < later) {
        reschedule(svc, scheduling, Some(later)).await;
    }
    Ok(())
}

/// Performs one attempt, updates the endpoint's state, logs the attempt and
/// schedules the next one when it failed and another is due.
///
/// The endpoint (its URL, headers, secrets, `enabled`) is read through
/// [`Services::lookups`], at most
/// [`CACHE_TTL`](hooklane_runtime::cache::CACHE_TTL) old: a change made in
/// another process is in force within that time. A warm attempt whose
/// endpoint state does not change costs one store write, its log row; a
/// retry also reads the row that scheduled it (twice when it fails and
/// schedules another) and clears that row's `next_attempt_at`.
///
/// The log row's status says what happens next: `succeeded`; `failed` when
/// another attempt is queued; `exhausted` when none is (the last attempt,
/// a 410, or the endpoint disabled). A delivery to an endpoint that is gone
/// is dropped without a row; one to a disabled endpoint (not forced) gets
/// an `exhausted` row and no attempt; a retry superseded by a resend or a
/// recover (see the module's documentation) is dropped without a row.
///
/// # Errors
/// A store or queue error (reading the endpoint, writing the log row,
/// queuing the next attempt); the queue hands the job back.
#[tracing::instrument(skip_all, fields(bot_id = %d.bot_id, message_id = %d.message_id, endpoint_id = %d.endpoint_id, delivery_id, attempt = d.attempt))]
pub async fn deliver(svc: &Services, d: DeliveryTask) -> anyhow::Result<()> {
    let scheduling = scheduling_row(svc, &d).await?;
    if superseded(scheduling.as_ref()) {
        tracing::info!(
            "the retry was superseded by a resend or a recover, or made already; dropped"
        );
        return Ok(());
    }
    // A forced delivery (a test send, a resend) reads the endpoint as it
    // is now; the others as cached.
    let endpoint = if d.force {
        svc.store.get_endpoint(&d.bot_id, &d.endpoint_id).await?
    } else {
        svc.lookups
            .endpoint(svc.store.as_ref(), &d.bot_id, &d.endpoint_id)
            .await?
    };
    let Some(endpoint) = endpoint else {
        tracing::info!("the endpoint is gone; the delivery is dropped");
        return Ok(());
    };
    if !endpoint.enabled && !d.force {
        // Logged, so the message's last row does not promise an attempt
        // that will never come (and a recover finds it).
        let row = Delivery {
            error: Some("the endpoint is disabled; the delivery was not attempted".into()),
            ..log_row(&d, DeliveryStatus::Exhausted, svc.now())
        };
        write_row(svc, &row).await?;
        reschedule(svc, scheduling, None).await;
        tracing::info!("the endpoint is disabled; the delivery is dropped");
        return Ok(());
    }
    let target = throttle::endpoint_target(&endpoint);
    let rate = throttle::endpoint_rate(&endpoint);
    if let Some(wait) = throttle::acquire(svc, &d.bot_id, &target, rate, svc.now()).await? {
        tracing::debug!(
            wait_ms = wait.as_millis() as u64,
            "over the endpoint's rate; sent again later"
        );
        metrics::count("DeliveryThrottled", &[]);
        return send_later(svc, d, scheduling, wait).await;
    }
    let triggered_at = svc.now();
    let result = match attempt(svc, &endpoint, &d).await {
        Ok(result) => result,
        Err(busy) => {
            let wait = busy_delay(&busy);
            tracing::debug!(wait_ms = wait.as_millis() as u64, reason = %busy, "sent again later");
            metrics::count("DeliveryDeferred", &[]);
            return send_later(svc, d, scheduling, wait).await;
        }
    };
    if result.http_status == Some(429) {
        let wait = result.retry_after.unwrap_or(throttle::DEFAULT_SLOW_DOWN);
        throttle::slow_down(svc, &d.bot_id, &target, rate, svc.now() + wait).await;
        // With a rate to keep, a 429 says "slower", not "failed".
        if rate.is_some() && d.throttled < MAX_THROTTLED {
            throttled(svc, d, wait, result, triggered_at).await?;
            reschedule(svc, scheduling, None).await;
            return Ok(());
        }
    }
    let outcome = result.outcome();
    let endpoint = save_state(svc, endpoint, outcome, triggered_at).await;
    let retry = retry::retries(outcome, d.attempt, &endpoint, d.force);
    let superseded = retry && superseded_in_flight(svc, &d).await?;
    let status = match outcome {
        Outcome::Succeeded => DeliveryStatus::Succeeded,
        // Superseded: the resend's attempt follows instead.
        _ if retry => DeliveryStatus::Failed,
        _ => DeliveryStatus::Exhausted,
    };
    let retry_in = (retry && !superseded)
        .then(|| retry_delay(&endpoint.retry_schedule, d.attempt + 1, result.retry_after));
    let mut error = attempt_error(&result, outcome);
    if superseded {
        error = Some(format!(
            "{}; not retried: {SUPERSEDED}",
            error.unwrap_or_default()
        ));
    }
    let row = Delivery {
        http_status: result.http_status,
        error,
        response_time_ms: Some(result.elapsed_ms),
        next_attempt_at: retry_in.map(|delay| svc.now() + delay),
        ..log_row(&d, status, triggered_at)
    };
    write_row(svc, &row).await?;
    log_attempt(&row, outcome, result.elapsed_ms);
    let metric = if outcome == Outcome::Succeeded {
        "Delivered"
    } else {
        "DeliveryFailed"
    };
    let by_type = [("EndpointType", endpoint_type_name(endpoint.kind))];
    metrics::count(metric, &by_type);
    metrics::emit(
        "DeliveryLatency",
        result.elapsed_ms as f64,
        metrics::Unit::Milliseconds,
        &by_type,
    );

    if let Some(delay) = retry_in {
        let next = DeliveryTask {
            attempt: d.attempt + 1,
            previous: Some(row.id.clone()),
            ..d
        };
        svc.enqueue(Envelope::now(Job::Deliver(next)), delay)
            .await?;
    }
    reschedule(svc, scheduling, None).await;
    Ok(())
}
