//! Outbound deliveries: fan a published event out to the bot's endpoints,
//! deliver one message to one endpoint (signed, shaped for its type),
//! schedule its retries and keep the endpoint's failure state.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use hooklane_auth::signature::{standard_key, standard_sign};
use hooklane_domain::envelope::{Deliver, Publish};
use hooklane_domain::metrics;
use hooklane_domain::validate::event_matches;
use hooklane_domain::{
    rfc3339, Delivery, DeliveryId, DeliveryStatus, Endpoint, EndpointType, Envelope, Job, Message,
};
use rand::Rng;
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::actions::retry_after_header;
use crate::limits::{self, cut, Cuts};
use crate::outbound::describe_send_error;
use crate::{Services, DEPTH_HEADER};

/// Delays before attempts 2, 3, …: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
/// (the first attempt goes out at once).
pub const DEFAULT_RETRY_SCHEDULE: [u64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/// The longest `Retry-After` honoured: a day.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// Whether an endpoint takes an event.
pub fn subscribed(endpoint: &Endpoint, event: &str) -> bool {
    endpoint.events.is_empty() || endpoint.events.iter().any(|f| event_matches(f, event))
}

fn endpoint_type_name(kind: EndpointType) -> &'static str {
    match kind {
        EndpointType::Custom => "custom",
        EndpointType::Discord => "discord",
        EndpointType::Slack => "slack",
    }
}

/// Keeps the message (for resends) and queues one delivery per enabled,
/// subscribed endpoint, or to `only_endpoint` whatever its state.
#[tracing::instrument(skip_all, fields(bot_id = %publish.bot_id, message_id = %publish.message_id))]
pub async fn fan_out(svc: &Services, publish: Publish) -> anyhow::Result<()> {
    let message = Message {
        id: publish.message_id.clone(),
        bot_id: publish.bot_id.clone(),
        event: publish.event.clone(),
        data: publish.data.clone(),
        timestamp: publish.timestamp,
    };
    svc.store
        .put_message(&message, svc.now() + svc.settings.delivery_log_ttl)
        .await?;
    let targets: Vec<Endpoint> = match &publish.only_endpoint {
        Some(id) => svc
            .store
            .get_endpoint(&publish.bot_id, id)
            .await?
            .into_iter()
            .collect(),
        None => {
            let mut all = Vec::new();
            let mut page = hooklane_store::Page::first(100);
            loop {
                let got = svc.store.list_endpoints(&publish.bot_id, &page).await?;
                all.extend(
                    got.items
                        .into_iter()
                        .filter(|e| e.enabled && subscribed(e, &publish.event)),
                );
                match got.next {
                    Some(next) => page.cursor = Some(next),
                    None => break,
                }
            }
            all
        }
    };
    tracing::info!(endpoints = targets.len(), event = %publish.event, "fanning out");
    for endpoint in targets {
        let job = Job::Deliver(Deliver {
            message_id: publish.message_id.clone(),
            bot_id: publish.bot_id.clone(),
            endpoint_id: endpoint.id.clone(),
            event: publish.event.clone(),
            data: publish.data.clone(),
            timestamp: publish.timestamp,
            attempt: 1,
            previous: None,
            depth: publish.depth,
            force: publish.only_endpoint.is_some(),
        });
        svc.enqueue(Envelope::now(job), Duration::ZERO).await?;
    }
    Ok(())
}

/// The body an endpoint of `kind` receives.
pub fn body_for(kind: EndpointType, d: &Deliver) -> Value {
    let timestamp = rfc3339(d.timestamp);
    match kind {
        EndpointType::Custom => json!({
            "id": d.message_id,
            "event": d.event,
            "timestamp": timestamp,
            "bot_id": d.bot_id,
            "data": d.data,
        }),
        EndpointType::Discord => {
            let fields: Vec<Value> = fields_of(&d.data)
                .into_iter()
                .map(|(name, value)| json!({"name": name, "value": value, "inline": value.chars().count() <= 40}))
                .collect();
            let mut embed = json!({
                "title": d.event,
                "timestamp": timestamp,
                "footer": {"text": format!("{} · Hooklane", d.message_id)},
            });
            if !fields.is_empty() {
                embed["fields"] = Value::Array(fields);
            }
            let mut cuts = Cuts::default();
            json!({ "username": "Hooklane", "embeds": limits::fit_discord_embeds(vec![embed], &mut cuts) })
        }
        EndpointType::Slack => {
            let fields: Vec<Value> = fields_of(&d.data)
                .into_iter()
                .take(10)
                .map(|(name, value)| json!({"type": "mrkdwn", "text": cut(&format!("*{name}*\n{value}"), 2000).0}))
                .collect();
            let mut blocks = vec![json!({
                "type": "header",
                "text": {"type": "plain_text", "text": cut(&d.event, 150).0},
            })];
            if !fields.is_empty() {
                blocks.push(json!({"type": "section", "fields": fields}));
            }
            blocks.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": format!("{} · {}", d.message_id, timestamp)}],
            }));
            json!({ "text": cut(&format!("{}: {}", d.event, compact(&d.data)), limits::SLACK_TEXT).0, "blocks": blocks })
        }
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Top-level fields of the data as (name, text) pairs; a non-object is one field `data`.
fn fields_of(data: &Value) -> Vec<(String, String)> {
    match data {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if compact(v).is_empty() {
                        "—".into()
                    } else {
                        compact(v)
                    },
                )
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![("data".into(), compact(other))],
    }
}

/// Every signing key in force: the current secret and those still in their grace.
fn signing_secrets(endpoint: &Endpoint, now: time::OffsetDateTime) -> Vec<&str> {
    let mut secrets = vec![endpoint.secret.as_str()];
    secrets.extend(
        endpoint
            .old_secrets
            .iter()
            .filter(|o| o.expires_at > now)
            .map(|o| o.secret.as_str()),
    );
    secrets
}

/// The signature headers of one attempt.
pub fn signature_headers(
    endpoint: &Endpoint,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    now: time::OffsetDateTime,
) -> Vec<(&'static str, String)> {
    let signatures: Vec<String> = signing_secrets(endpoint, now)
        .into_iter()
        .map(|s| standard_sign(&standard_key(s), msg_id, timestamp, body))
        .collect();
    let mut mac = match Hmac::<Sha256>::new_from_slice(&standard_key(&endpoint.secret)) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(body);
    vec![
        ("webhook-id", msg_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures.join(" ")),
        (
            "x-webhook-signature",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        ),
    ]
}

/// The delay before attempt `next` (2, 3, …): the schedule's entry, with
/// ±20 % jitter, or the server's `Retry-After` when it asked for longer.
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

struct AttemptResult {
    http_status: Option<u16>,
    error: Option<String>,
    retry_after: Option<Duration>,
    elapsed_ms: u64,
}

/// The most of a failed answer's body read for the log: enough for an
/// error message, never a whole large or endless body.
const ERROR_BODY_BYTES: usize = 4096;

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110 §10.2.3).
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

/// The start of a failed answer's body, as text.
async fn error_text(mut resp: reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_BYTES {
        match resp.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(ERROR_BODY_BYTES);
    let text = String::from_utf8_lossy(&bytes);
    let text = cut(text.trim(), 300).0;
    (!text.is_empty()).then_some(text)
}

async fn attempt(svc: &Services, endpoint: &Endpoint, d: &Deliver) -> AttemptResult {
    let body = serde_json::to_vec(&body_for(endpoint.kind, d)).unwrap_or_default();
    let now = svc.now();
    let mut req = match svc.outbound.request(reqwest::Method::POST, &endpoint.url) {
        Ok(r) => r,
        Err(e) => {
            return AttemptResult {
                http_status: None,
                error: Some(e.to_string()),
                retry_after: None,
                elapsed_ms: 0,
            }
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
    let result = req.body(body).send().await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(resp) => {
            let status = resp.status();
            let retry_after = retry_after(resp.headers(), svc.now())
                .filter(|_| matches!(status.as_u16(), 429 | 503));
            let error = if status.is_success() {
                None
            } else {
                error_text(resp).await
            };
            AttemptResult {
                http_status: Some(status.as_u16()),
                error,
                retry_after,
                elapsed_ms,
            }
        }
        Err(e) => AttemptResult {
            http_status: None,
            error: Some(describe_send_error(&e)),
            retry_after: None,
            elapsed_ms,
        },
    }
}

/// What one attempt means for the endpoint's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    /// `410 Gone`: the receiver says the endpoint is no more.
    Gone,
    Failed,
}

/// Applies an attempt's outcome to the endpoint's state: a success clears
/// the failure run; a 410, or a failure run of `disable_after` or longer,
/// disables it. Returns whether anything changed.
fn apply_outcome(
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

/// Saves the endpoint's state after an attempt. The endpoint is read again
/// first and only its state fields are written, so a change made through
/// the admin API while the attempt was in flight (a secret rotation, a new
/// URL) is kept. Returns the endpoint as stored.
async fn save_state(
    svc: &Services,
    loaded: Endpoint,
    outcome: Outcome,
    triggered_at: time::OffsetDateTime,
) -> Endpoint {
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
    if apply_outcome(
        &mut endpoint,
        outcome,
        triggered_at,
        now,
        svc.settings.disable_failing_after,
    ) {
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

/// Performs one attempt, updates the endpoint's state, logs the attempt and
/// schedules the next one when it failed and another is due.
///
/// The log row's status says what happens next: `succeeded`; `failed` when
/// another attempt is queued; `exhausted` when none is (the last attempt,
/// a 410, or the endpoint disabled).
#[tracing::instrument(skip_all, fields(bot_id = %d.bot_id, message_id = %d.message_id, endpoint_id = %d.endpoint_id, delivery_id, attempt = d.attempt))]
pub async fn deliver(svc: &Services, d: Deliver) -> anyhow::Result<()> {
    let Some(endpoint) = svc.store.get_endpoint(&d.bot_id, &d.endpoint_id).await? else {
        tracing::info!("the endpoint is gone; the delivery is dropped");
        return Ok(());
    };
    if !endpoint.enabled && !d.force {
        // Logged, so the message's last row does not promise an attempt
        // that will never come (and a recover finds it).
        let row = Delivery {
            id: DeliveryId::generate(),
            bot_id: d.bot_id.clone(),
            message_id: d.message_id.clone(),
            endpoint_id: d.endpoint_id.clone(),
            event: d.event.clone(),
            attempt: d.attempt,
            status: DeliveryStatus::Exhausted,
            http_status: None,
            error: Some("the endpoint is disabled; the delivery was not attempted".into()),
            triggered_at: svc.now(),
            response_time_ms: None,
        };
        tracing::Span::current().record("delivery_id", tracing::field::display(&row.id));
        svc.store
            .put_delivery(&row, svc.now() + svc.settings.delivery_log_ttl)
            .await?;
        tracing::info!("the endpoint is disabled; the delivery is dropped");
        return Ok(());
    }
    let triggered_at = svc.now();
    let result = attempt(svc, &endpoint, &d).await;
    let outcome = match result.http_status {
        Some(s) if (200..300).contains(&s) => Outcome::Succeeded,
        Some(410) => Outcome::Gone,
        _ => Outcome::Failed,
    };
    let endpoint = save_state(svc, endpoint, outcome, triggered_at).await;
    let retry = outcome == Outcome::Failed
        && d.attempt < endpoint.max_attempts
        && (endpoint.enabled || d.force);
    let status = match outcome {
        Outcome::Succeeded => DeliveryStatus::Succeeded,
        _ if retry => DeliveryStatus::Failed,
        _ => DeliveryStatus::Exhausted,
    };
    let row = Delivery {
        id: DeliveryId::generate(),
        bot_id: d.bot_id.clone(),
        message_id: d.message_id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        event: d.event.clone(),
        attempt: d.attempt,
        status,
        http_status: result.http_status,
        error: match (&result.error, result.http_status) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(s)) if outcome != Outcome::Succeeded => {
                Some(format!("the endpoint answered {s}"))
            }
            _ => None,
        },
        triggered_at,
        response_time_ms: Some(result.elapsed_ms),
    };
    tracing::Span::current().record("delivery_id", tracing::field::display(&row.id));
    svc.store
        .put_delivery(&row, svc.now() + svc.settings.delivery_log_ttl)
        .await?;
    tracing::info!(status = ?row.status, http_status = row.http_status, ms = result.elapsed_ms, "delivery attempt");
    let metric = if outcome == Outcome::Succeeded {
        "Delivered"
    } else {
        "DeliveryFailed"
    };
    metrics::count(
        metric,
        &[("EndpointType", endpoint_type_name(endpoint.kind))],
    );
    metrics::emit(
        "DeliveryLatency",
        result.elapsed_ms as f64,
        metrics::Unit::Milliseconds,
        &[],
    );

    if retry {
        let delay = retry_delay(&endpoint.retry_schedule, d.attempt + 1, result.retry_after);
        let next = Deliver {
            attempt: d.attempt + 1,
            previous: Some(row.id.clone()),
            ..d
        };
        svc.enqueue(Envelope::now(Job::Deliver(next)), delay)
            .await?;
    }
    Ok(())
}

/// Fields for a test event.
pub fn test_event_data() -> Value {
    let mut m = Map::new();
    m.insert(
        "message".into(),
        Value::String("This is a test event from Hooklane.".into()),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_follow_the_schedule_within_the_jitter() {
        let schedule = DEFAULT_RETRY_SCHEDULE;
        for (next, base) in [(2u32, 5.0), (3, 300.0), (8, 36000.0), (12, 36000.0)] {
            let d = retry_delay(&schedule, next, None).as_secs_f64();
            assert!(d >= base * 0.8 && d <= base * 1.2, "attempt {next}: {d}");
        }
        assert_eq!(retry_delay(&[0], 2, None), Duration::ZERO);
        assert_eq!(
            retry_delay(&[1], 2, Some(Duration::from_secs(120))),
            Duration::from_secs(120)
        );
    }

    fn deliver(data: Value) -> Deliver {
        Deliver {
            message_id: hooklane_domain::MessageId::parse("msg_01J0000000000000000000000").unwrap(),
            bot_id: hooklane_domain::BotId::parse("bot-1").unwrap(),
            endpoint_id: hooklane_domain::EndpointId::generate(),
            event: "server.created".into(),
            data,
            timestamp: time::macros::datetime!(2026-03-01 12:00:00 UTC),
            attempt: 1,
            previous: None,
            depth: 0,
            force: false,
        }
    }

    #[test]
    fn each_endpoint_type_gets_its_own_body() {
        let d = deliver(json!({"name": "eu-1", "players": 12, "tags": ["pvp"]}));
        assert_eq!(
            body_for(EndpointType::Custom, &d),
            json!({
                "id": "msg_01J0000000000000000000000",
                "event": "server.created",
                "timestamp": "2026-03-01T12:00:00Z",
                "bot_id": "bot-1",
                "data": {"name": "eu-1", "players": 12, "tags": ["pvp"]},
            })
        );
        assert_eq!(
            body_for(EndpointType::Discord, &d),
            json!({"username": "Hooklane", "embeds": [{
                "title": "server.created",
                "timestamp": "2026-03-01T12:00:00Z",
                "footer": {"text": "msg_01J0000000000000000000000 · Hooklane"},
                "fields": [
                    {"name": "name", "value": "eu-1", "inline": true},
                    {"name": "players", "value": "12", "inline": true},
                    {"name": "tags", "value": "[\"pvp\"]", "inline": true},
                ],
            }]})
        );
        let slack = body_for(EndpointType::Slack, &d);
        assert_eq!(
            slack["text"],
            r#"server.created: {"name":"eu-1","players":12,"tags":["pvp"]}"#
        );
        assert_eq!(
            slack["blocks"][0],
            json!({"type": "header", "text": {"type": "plain_text", "text": "server.created"}})
        );
        assert_eq!(
            slack["blocks"][1]["fields"][0],
            json!({"type": "mrkdwn", "text": "*name*\neu-1"})
        );
        assert_eq!(slack["blocks"][2]["type"], "context");
    }

    #[test]
    fn discord_and_slack_bodies_stay_within_the_platform_limits() {
        let many: Map<String, Value> = (0..40)
            .map(|i| (format!("field{i:02}"), Value::String("x".repeat(3000))))
            .collect();
        let d = deliver(Value::Object(many));
        let discord = body_for(EndpointType::Discord, &d);
        let fields = discord["embeds"][0]["fields"].as_array().unwrap();
        assert!(fields.len() <= limits::DISCORD_FIELDS);
        assert!(fields
            .iter()
            .all(|f| f["value"].as_str().unwrap().chars().count() <= limits::DISCORD_FIELD_VALUE));
        let total: usize = fields
            .iter()
            .map(|f| {
                f["name"].as_str().unwrap().chars().count()
                    + f["value"].as_str().unwrap().chars().count()
            })
            .sum();
        assert!(total <= limits::DISCORD_TOTAL, "{total}");
        let slack = body_for(EndpointType::Slack, &d);
        let fields = slack["blocks"][1]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), limits::SLACK_SECTION_FIELDS);
        assert!(fields
            .iter()
            .all(|f| f["text"].as_str().unwrap().chars().count() <= limits::SLACK_FIELD_TEXT));
        assert!(slack["text"].as_str().unwrap().chars().count() <= limits::SLACK_TEXT);
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
            failing_since,
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
