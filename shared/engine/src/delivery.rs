//! Outbound deliveries: fan a published event out to the bot's endpoints,
//! deliver one message to one endpoint (signed, shaped for its type),
//! schedule its retries and keep the endpoint's failure state.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use hooklane_auth::signature::{standard_key, standard_sign};
use hooklane_domain::envelope::{Deliver, Publish};
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
            let retry_after = retry_after_header(resp.headers());
            let text = if status.is_success() {
                None
            } else {
                resp.text()
                    .await
                    .ok()
                    .map(|t| cut(&t, 300).0)
                    .filter(|t| !t.is_empty())
            };
            AttemptResult {
                http_status: Some(status.as_u16()),
                error: text,
                retry_after: retry_after.filter(|_| matches!(status.as_u16(), 429 | 503)),
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

/// Performs one attempt, logs it, and schedules the next when it failed.
#[tracing::instrument(skip_all, fields(bot_id = %d.bot_id, message_id = %d.message_id, endpoint_id = %d.endpoint_id, delivery_id, attempt = d.attempt))]
pub async fn deliver(svc: &Services, d: Deliver) -> anyhow::Result<()> {
    let Some(mut endpoint) = svc.store.get_endpoint(&d.bot_id, &d.endpoint_id).await? else {
        tracing::info!("the endpoint is gone; the delivery is dropped");
        return Ok(());
    };
    if !endpoint.enabled && !d.force {
        tracing::info!("the endpoint is disabled; the delivery is dropped");
        return Ok(());
    }
    let triggered_at = svc.now();
    let result = attempt(svc, &endpoint, &d).await;
    let succeeded = result.http_status.is_some_and(|s| (200..300).contains(&s));
    let gone = result.http_status == Some(410);
    let more = d.attempt < endpoint.max_attempts && !gone;
    let status = if succeeded {
        DeliveryStatus::Succeeded
    } else if more {
        DeliveryStatus::Failed
    } else {
        DeliveryStatus::Exhausted
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
            (None, Some(s)) if !succeeded => Some(format!("the endpoint answered {s}")),
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

    // The endpoint's state: a success clears the failure run; a 410 or a
    // failure run longer than the setting disables it.
    let now = svc.now();
    let mut changed = false;
    if succeeded {
        if endpoint.failing_since.is_some() {
            endpoint.failing_since = None;
            changed = true;
        }
    } else {
        let since = *endpoint.failing_since.get_or_insert_with(|| {
            changed = true;
            triggered_at
        });
        if gone {
            endpoint.enabled = false;
            endpoint.disabled_reason = Some("the endpoint answered 410 Gone".into());
            changed = true;
        } else if endpoint.enabled && now - since >= svc.settings.disable_failing_after {
            endpoint.enabled = false;
            endpoint.disabled_reason = Some(format!(
                "every delivery has failed since {} ({} hours)",
                rfc3339(since),
                svc.settings.disable_failing_after.as_secs() / 3600
            ));
            changed = true;
        }
    }
    if changed {
        endpoint.updated_at = now;
        if let Err(e) = svc.store.update_endpoint(&endpoint).await {
            tracing::warn!(error.message = %e, "the endpoint state could not be saved");
        }
        if !endpoint.enabled {
            tracing::warn!(
                reason = endpoint.disabled_reason.as_deref().unwrap_or_default(),
                "endpoint disabled"
            );
        }
    }

    if status == DeliveryStatus::Failed && (endpoint.enabled || d.force) {
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
}
