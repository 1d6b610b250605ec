//! `POST /v1/bots/{bot}/hooks/{hook}/runs/{run}/replay`: runs a past call
//! of a hook again, as a new call with its own id and run.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use hooklane_domain::envelope::{Envelope, HookCall, Job};
use hooklane_domain::CallId;
use hooklane_web::ApiError;
use serde_json::{json, Value};

use crate::runs::load_run;
use crate::AdminState;

/// `POST …/hooks/{hook}/runs/{run}/replay`.
pub fn router() -> Router<AdminState> {
    Router::new().route(
        "/v1/bots/{bot}/hooks/{hook}/runs/{run}/replay",
        post(replay),
    )
}

/// Queues the run's request again as a new call of the hook (its current
/// actions, a new `evt_…` id, received now) and answers 202 `{"id",
/// "status": "queued", "replay_of"}`. 404 for an unknown bot, hook or run;
/// 409 `conflict` when the run kept no request (it was over 64 KiB);
/// 503 `unavailable` when the queue cannot take it.
async fn replay(
    State(state): State<AdminState>,
    Path((bot, hook, run)): Path<(String, String, String)>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let run = load_run(&state, &bot, &hook, &run).await?;
    let request = run.request.ok_or_else(|| {
        ApiError::conflict("this run kept no request to replay (a request over 64 KiB is not kept)")
    })?;
    let call = HookCall {
        call_id: CallId::generate(),
        bot_id: run.bot_id,
        hook_id: run.hook_id,
        received_at: state.svc.now(),
        request,
        attempt: 0,
        depth: 0,
    };
    let id = call.call_id.clone();
    state
        .svc
        .enqueue(Envelope::now(Job::HookCall(call)), Duration::ZERO)
        .await?;
    tracing::info!(bot_id = %bot, hook_id = %hook, event_id = %id, replay_of = %run.id, "run replayed");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"id": id, "status": "queued", "replay_of": run.id})),
    ))
}
