//! Outbound endpoints: CRUD, test sends, secret rotation, the delivery log
//! and replays.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use hooklane_auth::signature::generate_endpoint_secret;
use hooklane_domain::envelope::{DeliveryTask, Publish};
use hooklane_domain::{
    rfc3339, Delivery, DeliveryId, DeliveryStatus, Endpoint, EndpointId, Envelope, EventType, Job,
    MessageId, OldSecret,
};
use hooklane_store::Page;
use hooklane_web::{ApiError, ErrorCode, Json};
use serde_json::{json, Value};

use crate::input::{
    check_endpoint, check_recover_request, check_rotate_request, endpoint_input,
    keep_masked_endpoint, mask_endpoint_url, mask_headers, merge,
};
use crate::list::{answer, ListQuery};
use crate::lookup::{found, load_bot, load_endpoint};
use crate::AdminState;

/// The default grace: 24 hours.
const DEFAULT_GRACE_SECONDS: u64 = 86_400;
/// The most earlier secrets signing at once (each adds a signature to
/// every delivery); a further rotation drops the oldest.
const MAX_OLD_SECRETS: usize = 4;

/// `/v1/bots/{bot}/endpoints` (create, list), `…/endpoints/{ep}` (read,
/// patch, delete), its `test`, `secret/rotate`, `deliveries` and `recover`,
/// and `/v1/bots/{bot}/deliveries/{dlv}` (read) and its `resend`.
pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v1/bots/{bot}/endpoints", post(create).get(list))
        .route(
            "/v1/bots/{bot}/endpoints/{ep}",
            get(read).patch(update).delete(delete),
        )
        .route("/v1/bots/{bot}/endpoints/{ep}/test", post(test))
        .route(
            "/v1/bots/{bot}/endpoints/{ep}/secret/rotate",
            post(rotate_secret),
        )
        .route("/v1/bots/{bot}/endpoints/{ep}/deliveries", get(deliveries))
        .route("/v1/bots/{bot}/endpoints/{ep}/recover", post(recover))
        .route("/v1/bots/{bot}/deliveries/{dlv}", get(delivery))
        .route("/v1/bots/{bot}/deliveries/{dlv}/resend", post(resend))
}

/// The public form of an endpoint: every field but its secrets, times in
/// RFC 3339, `retry_schedule` in seconds; the credentials in its `url` and
/// `headers` masked (see `input::mask_endpoint_url`, `input::mask_headers`).
pub fn view(ep: &Endpoint) -> Value {
    let mut view = json!({
        "id": ep.id,
        "bot_id": ep.bot_id,
        "name": ep.name,
        "type": ep.kind,
        "url": mask_endpoint_url(ep.kind, &ep.url),
        "enabled": ep.enabled,
        "disabled_reason": ep.disabled_reason,
        "failing_since": ep.failing_since.map(rfc3339),
        "events": ep.events,
        "retry_schedule": ep.retry_schedule,
        "max_attempts": ep.max_attempts,
        "headers": mask_headers(&ep.headers),
        "rate_limit": ep.rate_limit,
        "created_at": rfc3339(ep.created_at),
        "updated_at": rfc3339(ep.updated_at),
    });
    if let Some(mentions) = &ep.allowed_mentions {
        view["allowed_mentions"] = mentions.clone();
    }
    view
}

fn delivery_view(d: Delivery) -> Value {
    json!({
        "id": d.id,
        "message_id": d.message_id,
        "endpoint_id": d.endpoint_id,
        "event": d.event,
        "attempt": d.attempt,
        "status": d.status,
        "http_status": d.http_status,
        "error": d.error,
        "triggered_at": rfc3339(d.triggered_at),
        "response_time_ms": d.response_time_ms,
        "next_attempt_at": d.next_attempt_at.map(rfc3339),
    })
}

/// Queues `job` to run now.
///
/// # Errors
/// 503 `unavailable` when the queue fails; 413 `payload_too_large` when the
/// envelope is over the queue's size.
async fn enqueue_now(state: &AdminState, job: Job) -> Result<(), ApiError> {
    Ok(state
        .svc
        .enqueue(Envelope::now(job), Duration::ZERO)
        .await?)
}

async fn create(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let checked = check_endpoint(body, state.svc.outbound.allow_private()).await?;
    let now = state.svc.now();
    let secret = checked.secret.unwrap_or_else(generate_endpoint_secret);
    let ep = Endpoint {
        id: EndpointId::generate(),
        bot_id: bot.id,
        name: checked.name,
        kind: checked.kind,
        url: checked.url,
        enabled: checked.enabled,
        disabled_reason: None,
        events: checked.events,
        secret: secret.as_str().into(),
        old_secrets: Vec::new(),
        retry_schedule: checked.retry_schedule,
        max_attempts: checked.max_attempts,
        headers: checked.headers,
        rate_limit: checked.rate_limit,
        failing_since: None,
        allowed_mentions: checked.allowed_mentions,
        created_at: now,
        updated_at: now,
    };
    state.svc.store.create_endpoint(&ep).await?;
    tracing::info!(bot_id = %ep.bot_id, endpoint_id = %ep.id, "endpoint created");
    let mut answer = view(&ep);
    answer["secret"] = Value::String(secret);
    Ok((StatusCode::CREATED, axum::Json(answer)))
}

pub(crate) async fn list(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
    q: ListQuery,
) -> Result<axum::Json<Value>, ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let page = state
        .svc
        .store
        .list_endpoints(&bot.id, &q.checked_page()?)
        .await?;
    Ok(axum::Json(answer(page, |e| view(&e))))
}

pub(crate) async fn read(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(view(&load_endpoint(&state, &bot, &ep).await?)))
}

async fn update(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
    Json(patch): Json<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let mut ep = load_endpoint(&state, &bot, &ep).await?;
    if patch.get("secret").is_some() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidEndpoint,
            "the secret changes through POST …/secret/rotate, which keeps the old one signing for a grace period",
        ));
    }
    let mut patch = patch;
    // Credentials sent back as they were read (masked) keep their values,
    // while the URL keeps its host.
    keep_masked_endpoint(&mut patch, ep.kind, &ep.url, &ep.headers)?;
    let merged = merge(endpoint_input(&ep), patch)?;
    let checked = check_endpoint(merged, state.svc.outbound.allow_private()).await?;
    let re_enabled = checked.enabled && !ep.enabled;
    ep.name = checked.name;
    ep.kind = checked.kind;
    ep.url = checked.url;
    ep.enabled = checked.enabled;
    ep.events = checked.events;
    ep.retry_schedule = checked.retry_schedule;
    ep.max_attempts = checked.max_attempts;
    ep.headers = checked.headers;
    ep.allowed_mentions = checked.allowed_mentions;
    ep.rate_limit = checked.rate_limit;
    if re_enabled {
        ep.disabled_reason = None;
        ep.failing_since = None;
    } else if !ep.enabled && ep.disabled_reason.is_none() {
        ep.disabled_reason = Some("disabled through the admin API".into());
    }
    ep.updated_at = state.svc.now();
    state.svc.store.update_endpoint(&ep).await?;
    tracing::info!(bot_id = %ep.bot_id, endpoint_id = %ep.id, "endpoint updated");
    Ok(axum::Json(view(&ep)))
}

async fn delete(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let ep = load_endpoint(&state, &bot, &ep).await?;
    state.svc.store.delete_endpoint(&ep.bot_id, &ep.id).await?;
    tracing::info!(bot_id = %ep.bot_id, endpoint_id = %ep.id, "endpoint deleted with its delivery log");
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn test(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let ep = load_endpoint(&state, &bot, &ep).await?;
    let message_id = MessageId::generate();
    let job = Job::Publish(Publish {
        message_id: message_id.clone(),
        bot_id: ep.bot_id.clone(),
        event: EventType::parse("webhook.test")
            .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?,
        data: hooklane_engine::payload::test_event_data(),
        timestamp: state.svc.now(),
        depth: 0,
        only_endpoint: Some(ep.id.clone()),
    });
    enqueue_now(&state, job).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(json!({"id": message_id}))))
}

pub(crate) async fn rotate_secret(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let mut ep = load_endpoint(&state, &bot, &ep).await?;
    let (grace, secret) = check_rotate_request(body)?;
    let grace = grace.unwrap_or(DEFAULT_GRACE_SECONDS);
    let secret = secret.unwrap_or_else(generate_endpoint_secret);
    let now = state.svc.now();
    if grace > 0 {
        ep.old_secrets.retain(|o| o.expires_at > now);
        ep.old_secrets.push(OldSecret {
            secret: std::mem::take(&mut ep.secret),
            expires_at: now + time::Duration::seconds(grace as i64),
        });
        let excess = ep.old_secrets.len().saturating_sub(MAX_OLD_SECRETS);
        ep.old_secrets.drain(..excess);
    } else {
        // No grace: only the new secret signs from now on, not even one
        // still in the grace of an earlier rotation.
        ep.old_secrets.clear();
    }
    ep.secret = secret.as_str().into();
    ep.updated_at = now;
    state.svc.store.update_endpoint(&ep).await?;
    tracing::info!(bot_id = %ep.bot_id, endpoint_id = %ep.id, grace_seconds = grace, "endpoint secret rotated");
    let mut answer = view(&ep);
    answer["secret"] = Value::String(secret);
    answer["previous_secret_expires_at"] =
        json!((grace > 0).then(|| rfc3339(now + time::Duration::seconds(grace as i64))));
    Ok(axum::Json(answer))
}

pub(crate) async fn deliveries(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
    q: ListQuery,
) -> Result<axum::Json<Value>, ApiError> {
    let ep = load_endpoint(&state, &bot, &ep).await?;
    let page = state
        .svc
        .store
        .list_deliveries(&ep.bot_id, &ep.id, &q.checked_page()?)
        .await?;
    Ok(axum::Json(answer(page, delivery_view)))
}

/// How far past its `next_attempt_at` a retry is still taken as coming
/// (it may be in flight, or queued behind others); later, as lost (e.g. to
/// the dead-letter queue), so a recover sends the message again.
const RETRY_LOST_AFTER: time::Duration = time::Duration::minutes(15);

/// The most rows of an endpoint's log a resend reads, newest first down to
/// the row it names, for retries of the same message to supersede.
pub const MAX_SUPERSEDE_SCAN: usize = 1000;

/// The delivery row `dlv` of the bot `bot` (raw path segments).
///
/// # Errors
/// 404 `not_found` for an unknown bot or row (or a malformed id); the
/// store's error.
async fn load_delivery(state: &AdminState, bot: &str, dlv: &str) -> Result<Delivery, ApiError> {
    let bot = load_bot(state, bot).await?;
    let id = DeliveryId::parse(dlv)?;
    found(
        state.svc.store.get_delivery(&bot.id, &id).await?,
        "no such delivery",
    )
}

/// `GET /v1/bots/{bot}/deliveries/{dlv}`: one delivery row.
async fn delivery(
    State(state): State<AdminState>,
    Path((bot, dlv)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(delivery_view(
        load_delivery(&state, &bot, &dlv).await?,
    )))
}

/// Gives up the retry `row` scheduled (see `Delivery::supersede`) and
/// stores it so; answers whether it had one.
async fn supersede(state: &AdminState, mut row: Delivery) -> Result<Option<DeliveryId>, ApiError> {
    if !row.supersede() {
        return Ok(None);
    }
    // Kept as long as it was first meant to be.
    let expires_at = row.triggered_at + state.svc.settings.delivery_log_ttl;
    state.svc.store.put_delivery(&row, expires_at).await?;
    Ok(Some(row.id))
}

/// The rows of `named`'s message on `ep`, from `named` on (the log read
/// newest first, at most [`MAX_SUPERSEDE_SCAN`] rows), that say when their
/// retry is due: the retries still queued for the message.
async fn queued_retries(
    state: &AdminState,
    ep: &Endpoint,
    named: Delivery,
) -> Result<Vec<Delivery>, ApiError> {
    let mut queued = Vec::new();
    let mut page = Page::first(100);
    let mut read = 0;
    'pages: loop {
        let got = state
            .svc
            .store
            .list_deliveries(&ep.bot_id, &ep.id, &page)
            .await?;
        for row in got.items {
            read += 1;
            if row.id <= named.id || read > MAX_SUPERSEDE_SCAN {
                break 'pages;
            }
            if row.message_id == named.message_id && row.next_attempt_at.is_some() {
                queued.push(row);
            }
        }
        match got.next {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    if named.next_attempt_at.is_some() {
        queued.push(named);
    }
    Ok(queued)
}

/// Queues a fresh delivery (attempt 1) of a kept message to one endpoint.
async fn replay(
    state: &AdminState,
    ep: &Endpoint,
    message_id: &MessageId,
) -> Result<bool, ApiError> {
    let Some(message) = state.svc.store.get_message(&ep.bot_id, message_id).await? else {
        return Ok(false);
    };
    let job = Job::Deliver(DeliveryTask {
        message_id: message.id,
        bot_id: ep.bot_id.clone(),
        endpoint_id: ep.id.clone(),
        event: message.event,
        data: message.data,
        timestamp: message.timestamp,
        attempt: 1,
        previous: None,
        depth: 0,
        force: true,
        throttled: 0,
    });
    enqueue_now(state, job).await?;
    Ok(true)
}

/// Sends the row's message to its endpoint again now, as attempt 1 of a
/// new chain, and supersedes the retries of that message still queued for
/// the endpoint (they drop themselves when they come), so the endpoint
/// gets the message once more, not once per chain. Answers 202
/// `{"message_id", "endpoint_id", "superseded": [row ids whose retry was
/// given up]}`.
pub(crate) async fn resend(
    State(state): State<AdminState>,
    Path((bot, dlv)): Path<(String, String)>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let row = load_delivery(&state, &bot, &dlv).await?;
    let ep = found(
        state
            .svc
            .store
            .get_endpoint(&row.bot_id, &row.endpoint_id)
            .await?,
        "the delivery's endpoint is gone",
    )?;
    let message_id = row.message_id.clone();
    // Read before the resend is queued, so none of its own rows is taken
    // for an earlier retry; superseded after, so a failure to queue it
    // leaves the retries as they were.
    let queued = queued_retries(&state, &ep, row).await?;
    if !replay(&state, &ep, &message_id).await? {
        return Err(ApiError::not_found(
            "the message is past the delivery log's retention and cannot be resent",
        ));
    }
    let mut superseded = Vec::new();
    for row in queued {
        superseded.extend(supersede(&state, row).await?);
    }
    tracing::info!(bot_id = %ep.bot_id, endpoint_id = %ep.id, message_id = %message_id, superseded = superseded.len(), "delivery resent");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(
            json!({"message_id": message_id, "endpoint_id": ep.id, "superseded": superseded}),
        ),
    ))
}

/// Replays every message whose latest delivery to this endpoint since
/// `since` failed for good (`exhausted`), or failed and has no retry to
/// come (none queued, or one over [`RETRY_LOST_AFTER`] late, which is
/// superseded). A message whose retry is still due, or that succeeded
/// later, is left alone.
pub(crate) async fn recover(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let ep = load_endpoint(&state, &bot, &ep).await?;
    let since = check_recover_request(body)?;
    // Newest first: the first row seen for a message is its latest state.
    let mut latest: BTreeMap<MessageId, Delivery> = BTreeMap::new();
    let mut page = Page::first(100);
    'pages: loop {
        let got = state
            .svc
            .store
            .list_deliveries(&ep.bot_id, &ep.id, &page)
            .await?;
        for row in got.items {
            if row.triggered_at < since {
                break 'pages;
            }
            latest.entry(row.message_id.clone()).or_insert(row);
        }
        match got.next {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    let now = state.svc.now();
    let mut recovered = Vec::new();
    for (message_id, row) in latest {
        let failed = match row.status {
            DeliveryStatus::Exhausted => true,
            DeliveryStatus::Failed => !row.retry_pending(now, RETRY_LOST_AFTER),
            DeliveryStatus::Succeeded | DeliveryStatus::Pending => false,
        };
        if failed && replay(&state, &ep, &message_id).await? {
            // A lost retry that turns up after all drops itself.
            supersede(&state, row).await?;
            recovered.push(message_id);
        }
    }
    tracing::info!(bot_id = %ep.bot_id, endpoint_id = %ep.id, count = recovered.len(), "failed deliveries recovered");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"recovered": recovered.len(), "message_ids": recovered})),
    ))
}
