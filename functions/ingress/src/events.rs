//! `POST /v1/bots/{bot_id}/events`: a bot publishes an outbound event.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hooklane_domain::envelope::Publish;
use hooklane_domain::{BotId, EventType, IdempotencyKey, Job, MessageId};
use hooklane_runtime::metrics;
use hooklane_web::{ApiError, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::bot_key;
use crate::intake::{self, Intake, Subject};
use crate::IngressState;

/// The body of a publish: `{"event": "server.created", "data": {…}, "id":
/// "optional idempotency id"}`; `data` defaults to `null`, other keys are
/// refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    event: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    id: Option<String>,
}

/// `POST /v1/bots/{bot_id}/events` with `Authorization: Bearer <bot api
/// key>`: queues one `Publish` job and answers 202 `{"id": "msg_…"}`. The
/// same idempotency id (`id`, else the `Idempotency-Key` header; at most 256
/// characters) within [`IDEMPOTENCY_WINDOW`](crate::IDEMPOTENCY_WINDOW)
/// answers the first message's id and queues nothing.
///
/// Refusals: 404 for an unknown bot; 401 for a missing or wrong key; 400
/// `invalid_json`/`invalid_event`/`invalid_id` for a bad body; 413 over the
/// body limit or the queue's size; 503 when the queue cannot be written.
/// Each is counted as `Rejected` (by route and code) in the metrics, as a
/// hook call's is, and a 4xx is logged with the bot's id.
pub async fn publish(
    State(state): State<IngressState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PublishBody>, ApiError>,
) -> Response {
    match accept(&state, &bot_id, &headers, body).await {
        Ok(answer) => answer,
        Err(refused) => {
            let code = refused.code.as_str();
            metrics::count("Rejected", &[("Route", "publish"), ("Code", code)]);
            // A 5xx was logged as an error where it arose.
            if !refused.status.is_server_error() {
                tracing::info!(
                    bot_id,
                    code,
                    status = refused.status.as_u16(),
                    "publish refused"
                );
            }
            refused.into_response()
        }
    }
}

/// The publish itself (see [`publish`]).
async fn accept(
    state: &IngressState,
    bot_id: &str,
    headers: &HeaderMap,
    body: Result<Json<PublishBody>, ApiError>,
) -> Result<Response, ApiError> {
    let svc = &state.svc;
    let bot_id = BotId::parse(bot_id)?;
    let bot = state
        .cache
        .bot(svc.store.as_ref(), &bot_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such bot"))?;
    const MISSING: &str = "send the bot's API key as `Authorization: Bearer <key>`";
    if let Err(refused) = bot_key::check(&bot, headers, MISSING) {
        // The key may have been rotated since the bot was cached.
        match state.cache.reload_bot(svc.store.as_ref(), &bot_id).await? {
            Some(stored) => bot_key::check(&stored, headers, MISSING)?,
            None => return Err(refused),
        }
    }
    let Json(body) = match body {
        // Over the router's body limit: said in this route's terms.
        Err(e) if e.status == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::too_large(
                "the event is larger than the queue carries",
            ))
        }
        other => other?,
    };
    let event = EventType::parse(&body.event)?;
    let idem = body
        .id
        .or_else(|| {
            headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .map(|s| IdempotencyKey::parse(&s))
        .transpose()?;

    let now = svc.now();
    let message_id = MessageId::generate();
    let job = Job::Publish(Publish {
        message_id: message_id.clone(),
        bot_id: bot_id.clone(),
        event,
        data: body.data,
        timestamp: now,
        depth: 0,
        only_endpoint: None,
    });
    let intake = intake::take_in(
        svc,
        &bot_id,
        Subject::Publish,
        idem.as_ref(),
        message_id.as_str(),
        job,
        now,
    )
    .await?;
    if let Intake::Duplicate(first) = intake {
        tracing::info!(bot_id = %bot_id, message_id = %first, "duplicate publish; not fanned out again");
        return Ok((StatusCode::ACCEPTED, axum::Json(json!({"id": first}))).into_response());
    }
    tracing::info!(bot_id = %bot_id, message_id = %message_id, "event published");
    metrics::count("Accepted", &[("Route", "publish")]);
    Ok((StatusCode::ACCEPTED, axum::Json(json!({"id": message_id}))).into_response())
}
