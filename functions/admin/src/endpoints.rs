//! Outbound endpoints: CRUD, test sends, secret rotation, the delivery log
//! and replays.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
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
/// and `/v1/bots/{bot}/deliveries/{dlv}/resend`.
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
        "url": mask_endpoint_url(&ep.url),
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
    Query(q): Query<ListQuery>,
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
    keep_masked_endpoint(&mut patch, &ep.url, &ep.headers)?;
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
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let ep = load_endpoint(&state, &bot, &ep).await?;
    let page = state
        .svc
        .store
        .list_deliveries(&ep.bot_id, &ep.id, &q.checked_page()?)
        .await?;
    Ok(axum::Json(answer(page, delivery_view)))
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

pub(crate) async fn resend(
    State(state): State<AdminState>,
    Path((bot, dlv)): Path<(String, String)>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let id = DeliveryId::parse(&dlv)?;
    let row = found(
        state.svc.store.get_delivery(&bot.id, &id).await?,
        "no such delivery",
    )?;
    let ep = found(
        state
            .svc
            .store
            .get_endpoint(&bot.id, &row.endpoint_id)
            .await?,
        "the delivery's endpoint is gone",
    )?;
    if !replay(&state, &ep, &row.message_id).await? {
        return Err(ApiError::not_found(
            "the message is past the delivery log's retention and cannot be resent",
        ));
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"message_id": row.message_id, "endpoint_id": ep.id})),
    ))
}

/// Replays every message whose deliveries to this endpoint since `since`
/// failed and never succeeded.
pub(crate) async fn recover(
    State(state): State<AdminState>,
    Path((bot, ep)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let ep = load_endpoint(&state, &bot, &ep).await?;
    let since = check_recover_request(body)?;
    // Newest first: the first row seen for a message is its latest state.
    let mut latest: BTreeMap<MessageId, DeliveryStatus> = BTreeMap::new();
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
            latest.entry(row.message_id).or_insert(row.status);
        }
        match got.next {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    let mut recovered = Vec::new();
    for (message_id, status) in latest {
        if matches!(status, DeliveryStatus::Failed | DeliveryStatus::Exhausted)
            && replay(&state, &ep, &message_id).await?
        {
            recovered.push(message_id);
        }
    }
    tracing::info!(bot_id = %ep.bot_id, endpoint_id = %ep.id, count = recovered.len(), "failed deliveries recovered");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"recovered": recovered.len(), "message_ids": recovered})),
    ))
}
