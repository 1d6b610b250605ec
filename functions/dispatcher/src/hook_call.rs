//! Running a hook's actions for one inbound call, and logging the run.

use std::time::Duration;

use hooklane_domain::envelope::HookCall;
use hooklane_domain::{Envelope, Job, Run, RunStatus};
use hooklane_engine::actions::{run_actions, RunState};
use hooklane_engine::retry::run_retry_delay;
use hooklane_runtime::Services;
use serde_json::{Map, Value};

use crate::DispatchError;

/// Tries at writing the finished run before giving up on the log row.
const RUN_WRITE_TRIES: u32 = 4;

/// Writes the run, retrying a failing store a few times. The actions have
/// run by then: a run log that cannot be written is logged and given up,
/// never a reason to run the actions again.
async fn finish(svc: &Services, run: &Run) {
    let expires = svc.now() + svc.settings.run_log_ttl;
    for attempt in 1..=RUN_WRITE_TRIES {
        match svc.store.put_run(run, expires).await {
            Ok(()) => return,
            Err(e) if attempt < RUN_WRITE_TRIES => {
                tracing::warn!(error.message = %e, attempt, "the run log could not be written; trying again");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, status = ?run.status, "the run log could not be written; the run is not repeated");
            }
        }
    }
}

/// Runs the hook's actions for one inbound call and writes the run log.
///
/// A hook that is gone drops the call; a repeated delivery of an attempt
/// that already ran is dropped; a run left `running` (cut short) is
/// recorded as failed, not repeated. A run that failed transiently before
/// anything took effect is queued again after
/// [`run_retry_delay`](hooklane_engine::retry::run_retry_delay) (`retrying`).
///
/// # Errors
/// [`DispatchError::Unexpected`] when the store cannot be read; the queue
/// hands the call back.
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
    // The queue delivers at least once: a run already written for this
    // attempt is not run again. A run left `running` was cut short (the
    // process stopped); some actions may have taken effect, so it is
    // recorded as failed rather than repeated.
    let attempt = call.attempt + 1;
    let mut run = Run {
        id: call.event_id.clone(),
        bot_id: call.bot_id.clone(),
        hook_id: call.hook_id.clone(),
        status: RunStatus::Running,
        received_at: call.received_at,
        finished_at: None,
        attempt,
        actions: Vec::new(),
        unknown_placeholders: Vec::new(),
        error: None,
    };
    let earlier = svc
        .store
        .get_run(&call.bot_id, &call.hook_id, &call.event_id)
        .await
        .map_err(anyhow::Error::from)?;
    if let Some(earlier) = earlier {
        if earlier.attempt > attempt
            || (earlier.attempt == attempt && earlier.status != RunStatus::Running)
        {
            tracing::info!(status = ?earlier.status, "this attempt already ran; the repeated delivery is dropped");
            return Ok(());
        }
        if earlier.attempt == attempt {
            let mut interrupted = earlier;
            interrupted.status = RunStatus::Failed;
            interrupted.finished_at = Some(svc.now());
            interrupted.error = Some(
                "the run was cut short (the process stopped before it finished); it is not run again, since some actions may have taken effect".into(),
            );
            tracing::warn!("an interrupted run is recorded as failed");
            finish(svc, &interrupted).await;
            return Ok(());
        }
    }
    let expires = svc.now() + svc.settings.run_log_ttl;
    svc.store
        .put_run(&run, expires)
        .await
        .map_err(anyhow::Error::from)?;

    let variables = svc
        .store
        .list_variables(&call.bot_id)
        .await
        .map_err(anyhow::Error::from)?;
    let vars: Map<String, Value> = variables.into_iter().map(|v| (v.name, v.value)).collect();

    let tpl = call.template_context(Some(&hook.name), Some(vars));

    let mut state = RunState::new(tpl, call.bot_id.clone(), call.depth);
    let outcome = run_actions(svc, &hook.actions, &mut state).await;

    run.status = RunStatus::Succeeded;
    run.finished_at = Some(svc.now());
    run.actions = outcome.results;
    run.unknown_placeholders = state.unknown;
    if let Some(failure) = &outcome.failure {
        let reason = format!(
            "action {} ({}) failed: {}",
            failure.index, failure.kind, failure.reason
        );
        let delay = run_retry_delay(call.attempt).filter(|_| failure.transient && !state.effect);
        if let Some(delay) = delay {
            run.status = RunStatus::Retrying;
            run.error = Some(format!(
                "{reason}; nothing had taken effect, so the run is retried in {} s",
                delay.as_secs()
            ));
            let again = HookCall {
                attempt,
                ..call.clone()
            };
            if let Err(e) = svc
                .enqueue(Envelope::now(Job::HookCall(again)), delay)
                .await
            {
                tracing::error!(error.message = %e, "the retry could not be queued");
                run.status = RunStatus::Failed;
                run.error = Some(format!("{reason}; the retry could not be queued: {e}"));
            }
        } else {
            run.status = RunStatus::Failed;
            run.error = Some(reason);
        }
        tracing::warn!(status = ?run.status, error = run.error.as_deref().unwrap_or_default(), "run failed");
        hooklane_runtime::metrics::count("RunFailed", &[]);
    } else {
        tracing::info!(actions = run.actions.len(), "run succeeded");
        hooklane_runtime::metrics::count("RunSucceeded", &[]);
    }
    finish(svc, &run).await;
    Ok(())
}
