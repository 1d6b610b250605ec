//! A hook's run log: every call and what its actions did.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use hooklane_domain::{rfc3339, CallId, Run};
use hooklane_web::{About as _, ApiError};
use serde_json::{json, Value};

use crate::list::{answer, ListQuery};
use crate::lookup::{found, load_hook};
use crate::AdminState;

/// `GET /v1/bots/{bot}/hooks/{hook}/runs` and `…/runs/{run}`.
pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v1/bots/{bot}/hooks/{hook}/runs", get(list))
        .route("/v1/bots/{bot}/hooks/{hook}/runs/{run}", get(read))
}

/// The public form of a run: its status, times in RFC 3339, and each
/// action's `{index, type, status, duration_ms, detail}`.
pub fn view(run: Run) -> Value {
    json!({
        "id": run.id,
        "hook_id": run.hook_id,
        "status": run.status,
        "received_at": rfc3339(run.received_at),
        "finished_at": run.finished_at.map(rfc3339),
        "attempt": run.attempt,
        "actions": run.actions,
        "unknown_placeholders": run.unknown_placeholders,
        "error": run.error,
    })
}

async fn list(
    State(state): State<AdminState>,
    Path((bot, hook)): Path<(String, String)>,
    q: ListQuery,
) -> Result<axum::Json<Value>, ApiError> {
    let hook = load_hook(&state, &bot, &hook).await?;
    let page = state
        .svc
        .store
        .list_runs(&hook.bot_id, &hook.id, &q.checked_page()?)
        .await?;
    Ok(axum::Json(answer(page, view)))
}

/// The run `raw` names under the hook: 404 "no such run" when the id is
/// not an `evt_…` id or no run of this hook has it (a call still queued
/// has no run yet).
pub(crate) async fn load_run(
    state: &AdminState,
    bot: &str,
    hook: &str,
    raw: &str,
) -> Result<Run, ApiError> {
    let hook = load_hook(state, bot, hook).await?;
    let id = CallId::parse(raw).about("run", &raw)?;
    found(
        state.svc.store.get_run(&hook.bot_id, &hook.id, &id).await?,
        "no such run (a call still queued has none yet)",
    )
}

async fn read(
    State(state): State<AdminState>,
    Path((bot, hook, run)): Path<(String, String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(view(load_run(&state, &bot, &hook, &run).await?)))
}
