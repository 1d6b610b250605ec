//! Every retry rule in one place: the delivery retry schedule and its
//! jitter, the server's `Retry-After` (as a header or in a JSON body), how
//! an attempt's answer moves an endpoint's state (a 410 disables it at once,
//! a long enough run of failures disables it too), whether another delivery
//! attempt is due, how long an action waits out a 429, and when a hook's
//! failed run is run again.

use std::time::Duration;

use hooklane_domain::{rfc3339, Endpoint};
use hooklane_runtime::outbound::{Refusal, BUSY_DELAY};
use rand::Rng;
use serde_json::Value;

/// The default `Endpoint.retry_schedule`, in seconds: the delays before
/// attempts 2, 3, … are 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (the first
/// attempt goes out at once). An attempt past the schedule's end waits its
/// last entry.
pub const DEFAULT_RETRY_SCHEDULE: [u64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/// The longest `Retry-After` a delivery honours: a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// The most times an action retries a 429 itself before it fails.
pub const RATE_LIMIT_RETRIES: u32 = 2;

/// The longest wait an action honours for a 429; a longer one fails the
/// action (as transient, so the run may be retried as a whole).
pub const RATE_LIMIT_MAX_WAIT: Duration = Duration::from_secs(30);

/// The waits before a hook's run is run again, in seconds: 5 s, 30 s,
/// 2 min, 10 min. Only a run that failed transiently before anything took
/// effect is retried (see `actions`), at most this many times.
pub const RUN_RETRY_DELAYS: [u64; 4] = [5, 30, 120, 600];

/// The 4xx answers a later try may turn into a success: 408 Request
/// Timeout, 409 Conflict, 425 Too Early, 429 Too Many Requests. Every other
/// 4xx (400, 401, 403, 404, 405, 410, 413, 422, …) is final.
pub const RETRYABLE_4XX: [u16; 4] = [408, 409, 425, 429];

/// Whether an answer with `status` (not 2xx) is worth another try: a 5xx or
/// one of [`RETRYABLE_4XX`]. Every other status is a permanent failure for
/// an action; a delivery still retries a 1xx or 3xx answer (see
/// [`Outcome::of`]).
pub fn is_transient_status(status: u16) -> bool {
    status >= 500 || RETRYABLE_4XX.contains(&status)
}

/// The wait before running a failed hook run again, after `retries_so_far`
/// retries (0 for the first run), or `None` when none is left. The caller
/// decides first whether the failure may be retried at all.
pub fn run_retry_delay(retries_so_far: u32) -> Option<Duration> {
    RUN_RETRY_DELAYS
        .get(retries_so_far as usize)
        .map(|s| Duration::from_secs(*s))
}

/// How long work not sent because its host was over its share
/// ([`Refusal::Busy`]) waits in the queue: the refusal's `wait` (how long
/// the host has gone without finishing a call, within [`BUSY_DELAY`] and
/// [`BUSY_MAX_DELAY`](hooklane_runtime::outbound::BUSY_MAX_DELAY)) times
/// 1 to 1.5 at random, so a backlog to one host comes back spread out.
/// Not an attempt.
pub fn busy_delay(refusal: &Refusal) -> Duration {
    let wait = match refusal {
        Refusal::Busy { wait, .. } => *wait,
        Refusal::Paused { .. } => BUSY_DELAY,
    };
    wait.mul_f64(rand::thread_rng().gen_range(1.0..=1.5))
}

/// The delay before delivery attempt `next` (2, 3, …).
///
/// `schedule` is an endpoint's `retry_schedule` in seconds; its entry for
/// `next` (the last entry past its end, 60 s when it is empty) is jittered
/// by ±20 % (an entry of 0 stays 0). When the server asked for a longer
/// wait (`retry_after`, capped at [`MAX_RETRY_AFTER`]), that wait wins.
pub fn retry_delay(schedule: &[u64], next: u32, retry_after: Option<Duration>) -> Duration {
    let base = schedule
        .get(next.saturating_sub(2) as usize)
        .or(schedule.last())
        .copied()
        .unwrap_or(60);
    let jittered = if base == 0 {
        0.0
    } else {
        base as f64 * rand::thread_rng().gen_range(0.8..=1.2)
    };
    let delay = Duration::from_secs_f64(jittered);
    match retry_after {
        Some(ra) => delay.max(ra.min(MAX_RETRY_AFTER)),
        None => delay,
    }
}

/// `Retry-After` as delay-seconds (fractions allowed, e.g. `1.5`); `None`
/// when absent, not a non-negative finite number, or an HTTP date.
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110 §10.2.3),
/// the date read against `now` (a date in the past is a zero wait); `None`
/// when absent or neither form.
pub fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: time::OffsetDateTime,
) -> Option<Duration> {
    if let Some(seconds) = retry_after_header(headers) {
        return Some(seconds);
    }
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let at =
        time::OffsetDateTime::parse(value.trim(), &time::format_description::well_known::Rfc2822)
            .ok()?;
    Some((at - now).try_into().unwrap_or(Duration::ZERO))
}

/// The wait a JSON error body asks for, in seconds: Discord's top-level
/// `retry_after` or Telegram's `parameters.retry_after`. `None` when the
/// body is not JSON or holds no non-negative finite number there.
pub fn retry_after_body(text: &str) -> Option<Duration> {
    let v: Value = serde_json::from_str(text).ok()?;
    let secs = v
        .get("retry_after")
        .or_else(|| v.get("parameters").and_then(|p| p.get("retry_after")))?
        .as_f64()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// The `Retry-After` a delivery honours: only on a `429` or a `503`.
pub fn delivery_retry_after(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    now: time::OffsetDateTime,
) -> Option<Duration> {
    retry_after(headers, now).filter(|_| matches!(status, 429 | 503))
}

/// How long an action waits before sending again after a `429`, or `None`
/// when it must fail instead: it has already waited
/// [`RATE_LIMIT_RETRIES`] times, the target named no wait (`body` as in
/// [`retry_after_body`], else `header_wait`), or the wait is longer than
/// [`RATE_LIMIT_MAX_WAIT`].
pub fn rate_limit_wait(
    waits_so_far: usize,
    body: &str,
    header_wait: Option<Duration>,
) -> Option<Duration> {
    if waits_so_far >= RATE_LIMIT_RETRIES as usize {
        return None;
    }
    retry_after_body(body)
        .or(header_wait)
        .filter(|w| *w <= RATE_LIMIT_MAX_WAIT)
}

/// What one delivery attempt means for the endpoint's state and its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Succeeded,
    /// `410 Gone`: the receiver says the endpoint is no more.
    Gone,
    /// A failure no retry can change: a 4xx other than [`RETRYABLE_4XX`]
    /// and 410, or a target the SSRF guard refused. Counts as a failure for
    /// the endpoint's state; not retried.
    Permanent,
    /// Any other answer, or none (a connection error, a timeout).
    Failed,
}

impl Outcome {
    /// The outcome of an answer's HTTP status (`None`: no answer).
    pub fn of(http_status: Option<u16>) -> Self {
        match http_status {
            Some(s) if (200..300).contains(&s) => Outcome::Succeeded,
            Some(410) => Outcome::Gone,
            Some(s) if (400..500).contains(&s) && !is_transient_status(s) => Outcome::Permanent,
            _ => Outcome::Failed,
        }
    }
}

/// Whether another delivery attempt is queued after attempt `attempt`
/// (1-based) with `outcome`: only after a plain (transient) failure, while attempts
/// are left (`max_attempts`), and while the endpoint is enabled or the
/// delivery was forced (a resend to one endpoint whatever its state).
pub fn retries(outcome: Outcome, attempt: u32, endpoint: &Endpoint, forced: bool) -> bool {
    outcome == Outcome::Failed && attempt < endpoint.max_attempts && (endpoint.enabled || forced)
}

/// Applies an attempt's outcome to the endpoint's state: a success clears
/// the failure run (`failing_since`); a failure starts it at
/// `triggered_at` unless one is running; a 410, or a failure run of
/// `disable_after` or longer by `now`, disables the endpoint and says why
/// in `disabled_reason`. Returns whether anything changed.
pub fn apply_outcome(
    endpoint: &mut Endpoint,
    outcome: Outcome,
    triggered_at: time::OffsetDateTime,
    now: time::OffsetDateTime,
    disable_after: Duration,
) -> bool {
    let mut changed = false;
    if outcome == Outcome::Succeeded {
        if endpoint.failing_since.is_some() {
            endpoint.failing_since = None;
            changed = true;
        }
        return changed;
    }
    let since = *endpoint.failing_since.get_or_insert_with(|| {
        changed = true;
        triggered_at
    });
    if outcome == Outcome::Gone {
        endpoint.enabled = false;
        endpoint.disabled_reason = Some("the endpoint answered 410 Gone".into());
        changed = true;
    } else if endpoint.enabled && now - since >= disable_after {
        endpoint.enabled = false;
        endpoint.disabled_reason = Some(format!(
            "every delivery has failed since {} ({} hours)",
            rfc3339(since),
            disable_after.as_secs() / 3600
        ));
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use hooklane_domain::EndpointType;
    use serde_json::Map;

    #[test]
    fn retry_delays_follow_the_schedule_within_the_jitter() {
        let schedule = DEFAULT_RETRY_SCHEDULE;
        for (next, base) in [(2u32, 5.0), (3, 300.0), (8, 36000.0), (12, 36000.0)] {
            let d = retry_delay(&schedule, next, None).as_secs_f64();
            assert!(d >= base * 0.8 && d <= base * 1.2, "attempt {next}: {d}");
        }
        assert_eq!(retry_delay(&[0], 2, None), Duration::ZERO);
    }

    #[test]
    fn a_4xx_is_final_unless_a_later_try_may_succeed() {
        for s in [400u16, 401, 403, 404, 405, 413, 422] {
            assert!(!is_transient_status(s), "{s}");
            assert_eq!(Outcome::of(Some(s)), Outcome::Permanent, "{s}");
        }
        for s in [408u16, 409, 425, 429, 500, 502, 503] {
            assert!(is_transient_status(s), "{s}");
            assert_eq!(Outcome::of(Some(s)), Outcome::Failed, "{s}");
        }
        assert_eq!(Outcome::of(Some(410)), Outcome::Gone);
        assert_eq!(Outcome::of(None), Outcome::Failed);
        assert_eq!(
            retry_delay(&[1], 2, Some(Duration::from_secs(120))),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = time::macros::datetime!(2026-03-01 12:00:00 UTC);
        let cases: [(&str, Option<Duration>); 5] = [
            ("120", Some(Duration::from_secs(120))),
            ("1.5", Some(Duration::from_millis(1500))),
            (
                "Sun, 01 Mar 2026 12:05:00 GMT",
                Some(Duration::from_secs(300)),
            ),
            ("Sun, 01 Mar 2026 11:00:00 GMT", Some(Duration::ZERO)),
            ("soon", None),
        ];
        for (value, want) in cases {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
            assert_eq!(retry_after(&headers, now), want, "Retry-After: {value}");
        }
    }

    fn endpoint(enabled: bool, failing_since: Option<time::OffsetDateTime>) -> Endpoint {
        let at = time::macros::datetime!(2026-03-01 00:00:00 UTC);
        Endpoint {
            id: hooklane_domain::EndpointId::generate(),
            bot_id: hooklane_domain::BotId::parse("bot-1").unwrap(),
            name: "Receiver".into(),
            kind: EndpointType::Custom,
            url: "https://example.com/hook".into(),
            enabled,
            disabled_reason: None,
            events: Vec::new(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            old_secrets: Vec::new(),
            retry_schedule: vec![1],
            max_attempts: 2,
            headers: Map::new(),
            rate_limit: None,
            failing_since,
            allowed_mentions: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_attempt_moves_the_endpoint_state_as_the_rules_say() {
        let t0 = time::macros::datetime!(2026-03-01 00:00:00 UTC);
        let hour = time::Duration::hours(1);
        let five_days = Duration::from_secs(5 * 86_400);
        // what, enabled, failing since, outcome, now, changed, enabled after, failing since after, reason contains
        type Case = (
            &'static str,
            bool,
            Option<time::OffsetDateTime>,
            Outcome,
            time::OffsetDateTime,
            bool,
            bool,
            Option<time::OffsetDateTime>,
            Option<&'static str>,
        );
        let cases: [Case; 6] = [
            (
                "a first failure starts the run",
                true,
                None,
                Outcome::Failed,
                t0,
                true,
                true,
                Some(t0),
                None,
            ),
            (
                "a later failure keeps its start",
                true,
                Some(t0),
                Outcome::Failed,
                t0 + hour,
                false,
                true,
                Some(t0),
                None,
            ),
            (
                "a success clears the run",
                true,
                Some(t0),
                Outcome::Succeeded,
                t0 + hour,
                true,
                true,
                None,
                None,
            ),
            (
                "a success on a clean endpoint changes nothing",
                true,
                None,
                Outcome::Succeeded,
                t0,
                false,
                true,
                None,
                None,
            ),
            (
                "410 disables at once",
                true,
                None,
                Outcome::Gone,
                t0,
                true,
                false,
                Some(t0),
                Some("410"),
            ),
            (
                "failing for five days disables",
                true,
                Some(t0),
                Outcome::Failed,
                t0 + hour * 120,
                true,
                false,
                Some(t0),
                Some("failed since"),
            ),
        ];
        for (what, enabled, since, outcome, now, changed, enabled_after, since_after, reason) in
            cases
        {
            let mut ep = endpoint(enabled, since);
            let triggered_at = now;
            assert_eq!(
                apply_outcome(&mut ep, outcome, triggered_at, now, five_days),
                changed,
                "{what}"
            );
            assert_eq!(ep.enabled, enabled_after, "{what}");
            assert_eq!(ep.failing_since, since_after, "{what}");
            match reason {
                Some(r) => assert!(
                    ep.disabled_reason.as_deref().is_some_and(|d| d.contains(r)),
                    "{what}: {:?}",
                    ep.disabled_reason
                ),
                None => assert_eq!(ep.disabled_reason, None, "{what}"),
            }
        }
    }
}
