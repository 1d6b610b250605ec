//! Running a hook's actions for one inbound call, and logging the run.

use std::time::Duration;

use hooklane_domain::envelope::HookCall;
use hooklane_domain::{Envelope, Job, Run, RunStatus};
use hooklane_engine::actions::{run_actions, RunState};
use hooklane_engine::Services;
use hooklane_template::Context;
use serde_json::{json, Map, Value};

use crate::DispatchError;

/// Waits before the retries of a run that failed without any effect.
const RUN_RETRY_DELAYS: [u64; 4] = [5, 30, 120, 600];

#[tracing::instrument(skip_all, fields(bot_id = %call.bot_id, hook_id = %call.hook_id, event_id = %call.event_id))]
pub async fn run_hook_call(svc: &Services, call: HookCall) -> Result<(), DispatchError> {
    let Some(hook) = svc
        .store
        .get_hook(&call.bot_id, &call.hook_id)
        .await
        .map_err(anyhow::Error::from)?
    else {
        tracing::warn!("the hook is gone; the call is dropped");
        return Ok(());
    };
    let variables = svc
        .store
        .list_variables(&call.bot_id)
        .await
        .map_err(anyhow::Error::from)?;
    let vars: Map<String, Value> = variables.into_iter().map(|v| (v.name, v.value)).collect();

    let req = &call.request;
    let mut root = Map::new();
    root.insert("payload".into(), req.payload.clone());
    root.insert("query".into(), Value::Object(req.query.clone()));
    root.insert("headers".into(), Value::Object(req.headers.clone()));
    root.insert(
        "context".into(),
        req.context.clone().unwrap_or(Value::Object(Map::new())),
    );
    root.insert(
        "request".into(),
        json!({"ip": req.ip, "method": req.method}),
    );
    root.insert(
        "event".into(),
        json!({"id": call.event_id, "received_at": hooklane_domain::rfc3339(call.received_at)}),
    );
    root.insert("bot".into(), json!({"id": call.bot_id}));
    root.insert(
        "hook".into(),
        json!({"id": call.hook_id, "name": hook.name}),
    );
    root.insert("var".into(), Value::Object(vars));
    let tpl = Context {
        variables: req.variables.clone(),
        root,
    };

    let mut state = RunState::new(tpl, call.bot_id.clone(), call.depth);
    let outcome = run_actions(svc, &hook.actions, &mut state).await;

    let attempt = call.attempt + 1;
    let mut run = Run {
        id: call.event_id.clone(),
        bot_id: call.bot_id.clone(),
        hook_id: call.hook_id.clone(),
        status: RunStatus::Succeeded,
        received_at: call.received_at,
        finished_at: Some(svc.now()),
        attempt,
        actions: outcome.results,
        unknown_placeholders: state.unknown,
        error: None,
    };
    if let Some(failure) = &outcome.failure {
        let reason = format!(
            "action {} ({}) failed: {}",
            failure.index, failure.kind, failure.reason
        );
        let retry =
            failure.transient && !state.effect && (call.attempt as usize) < RUN_RETRY_DELAYS.len();
        if retry {
            let delay = Duration::from_secs(RUN_RETRY_DELAYS[call.attempt as usize]);
            run.status = RunStatus::Retrying;
            run.error = Some(format!(
                "{reason}; nothing had taken effect, so the run is retried in {} s",
                delay.as_secs()
            ));
            let again = HookCall {
                attempt,
                ..call.clone()
            };
            svc.enqueue(Envelope::now(Job::HookCall(again)), delay)
                .await
                .map_err(anyhow::Error::from)?;
        } else {
            run.status = RunStatus::Failed;
            run.error = Some(reason);
        }
        tracing::warn!(status = ?run.status, error = run.error.as_deref().unwrap_or_default(), "run failed");
    } else {
        tracing::info!(actions = run.actions.len(), "run succeeded");
    }
    let expires = svc.now() + svc.settings.run_log_ttl;
    svc.store
        .put_run(&run, expires)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(())
}
