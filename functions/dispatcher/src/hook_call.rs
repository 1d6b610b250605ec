//! Running a hook's actions for one inbound call, checkpointing the run as
//! its actions complete, resuming a run cut short, and logging the run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hooklane_domain::envelope::HookCall;
use hooklane_domain::{ActionResult, Envelope, Job, Run, RunStatus};
use hooklane_engine::actions::{run_actions, Checkpoints, Failure, RunState};
use hooklane_engine::retry::run_retry_delay;
use hooklane_runtime::config::RunLog;
use hooklane_runtime::Services;
use serde_json::Map;

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

/// A run's checkpoints: its row, status `running`, with the results so far.
struct RunCheckpoints {
    svc: Services,
    run: Run,
    /// Whether a row of this run's attempt is in the store (a checkpoint
    /// written now or by the process the run resumes from).
    written: AtomicBool,
}

#[async_trait]
impl Checkpoints for RunCheckpoints {
    async fn save(&self, actions: &[ActionResult], unknown: &[String]) {
        let mut run = self.run.clone();
        run.actions = actions.to_vec();
        run.unknown_placeholders = unknown.to_vec();
        let expires = self.svc.now() + self.svc.settings.run_log_ttl;
        match self.svc.store.put_run(&run, expires).await {
            Ok(()) => self.written.store(true, Ordering::Relaxed),
            // The run goes on; a crash before the next checkpoint repeats
            // the actions since the last one that was written.
            Err(e) => {
                tracing::warn!(error.message = %e, "a checkpoint of the run could not be written")
            }
        }
    }
}

/// Whether any template of `actions` reads stored variables (`{var}` or
/// `{var.…}`); a hook that reads none costs no store read for them. (A
/// variable action writes through the store itself; what it writes is in
/// `{var.…}` for later actions only when they read it, which this sees.)
fn reads_stored_variables(actions: &[hooklane_domain::ActionSpec]) -> bool {
    let text = serde_json::to_string(actions).unwrap_or_default();
    text.contains("{var.") || text.contains("{var}")
}

/// What to do with a call, from the row its earlier receive left (if any).
enum Start {
    /// No row of this attempt: run from the first action.
    Fresh,
    /// A checkpoint of this attempt: resume after its recorded actions.
    Resume(Box<Run>),
    /// This attempt (or a later one) finished already: drop the repeat.
    Done(RunStatus),
}

fn start_from(earlier: Option<Run>, attempt: u32) -> Start {
    match earlier {
        Some(e) if e.attempt > attempt => Start::Done(e.status),
        Some(e) if e.attempt == attempt && e.status != RunStatus::Running => Start::Done(e.status),
        Some(e) if e.attempt == attempt => Start::Resume(Box::new(e)),
        _ => Start::Fresh,
    }
}

/// Runs the hook's actions for one inbound call and writes the run log.
///
/// `receive_count` is how many times the queue has handed this message
/// over (1 on the first receive; 0 when not known). Only a message received
/// before can have left a row of its attempt, so the earlier row is read
/// only then: a repeat of a finished attempt is dropped; a checkpoint (a
/// row still `running`: the process stopped mid-run) is resumed from the
/// first action without an outcome, so only the action in flight at the
/// stop can run twice.
///
/// Checkpoints: after each action with an effect that completes while
/// another action is still to run (see `hooklane_engine::actions`), so a
/// one-action run writes its row once, when it ends. With
/// `HOOKLANE_RUN_LOG=failures` a succeeded run writes no row unless a
/// checkpoint of it is in the store (the final row replaces it).
///
/// The hook is read through [`Services::lookups`] (at most
/// [`CACHE_TTL`](hooklane_runtime::cache::CACHE_TTL) old, so a warm
/// process reads nothing for it); a hook that is gone drops the call. A run that failed transiently
/// before anything took effect is queued again after
/// [`run_retry_delay`](hooklane_engine::retry::run_retry_delay)
/// (`retrying`); any other failure is final and the row says why.
///
/// # Errors
/// [`DispatchError::Unexpected`] when the store cannot be read; the queue
/// hands the call back.
#[tracing::instrument(skip_all, fields(bot_id = %call.bot_id, hook_id = %call.hook_id, event_id = %call.call_id))]
pub async fn run_hook_call(
    svc: &Services,
    call: HookCall,
    receive_count: u32,
) -> Result<(), DispatchError> {
    let Some(hook) = svc
        .lookups
        .existing_hook(svc.store.as_ref(), &call.bot_id, &call.hook_id)
        .await
        .map_err(anyhow::Error::from)?
    else {
        tracing::warn!("the hook is gone; the call is dropped");
        return Ok(());
    };
    let attempt = call.attempt + 1;
    let earlier = if receive_count == 1 {
        None
    } else {
        svc.store
            .get_run(&call.bot_id, &call.hook_id, &call.call_id)
            .await
            .map_err(anyhow::Error::from)?
    };
    let resume = match start_from(earlier, attempt) {
        Start::Done(status) => {
            tracing::info!(
                ?status,
                "this attempt already ran; the repeated delivery is dropped"
            );
            return Ok(());
        }
        Start::Resume(run) => Some(*run),
        Start::Fresh => None,
    };
    let mut run = Run {
        id: call.call_id.clone(),
        bot_id: call.bot_id.clone(),
        hook_id: call.hook_id.clone(),
        status: RunStatus::Running,
        received_at: call.received_at,
        finished_at: None,
        attempt,
        actions: Vec::new(),
        unknown_placeholders: Vec::new(),
        error: None,
        request: call.request.kept_for_replay(),
    };

    // `{var.…}` is read from the store only by hooks that use it.
    let mut vars = Map::new();
    if reads_stored_variables(&hook.actions) {
        let variables = svc
            .store
            .list_variables(&call.bot_id)
            .await
            .map_err(anyhow::Error::from)?;
        vars.extend(variables.into_iter().map(|v| (v.name, v.value)));
    }

    let tpl = call.template_context(Some(&hook.name), Some(vars));

    let checkpoints = Arc::new(RunCheckpoints {
        svc: svc.clone(),
        run: run.clone(),
        written: AtomicBool::new(resume.is_some()),
    });
    let mut state = RunState::new(tpl, call.bot_id.clone(), call.depth)
        .for_run(call.call_id.as_str())
        .with_checkpoints(checkpoints.clone());
    if let Some(earlier) = resume {
        tracing::warn!(
            recorded = earlier.actions.len(),
            "the run was cut short; it resumes after its recorded actions"
        );
        state = state.resuming(earlier.actions, earlier.unknown_placeholders);
        // Put back, it would start over on its next receive and repeat
        // what its checkpoint records: its calls wait for their turn.
        state.touched = true;
    }
    let outcome = run_actions(svc, &hook.actions, &mut state).await;
    if let Some(wait) = state.deferred {
        return defer(svc, call, wait).await;
    }

    run.status = RunStatus::Succeeded;
    run.finished_at = Some(svc.now());
    run.actions = outcome.results;
    run.unknown_placeholders = state.unknown;
    if let Some(failure) = &outcome.failure {
        fail(svc, &call, &mut run, failure, state.effect).await;
        tracing::warn!(status = ?run.status, error = run.error.as_deref().unwrap_or_default(), "run failed");
        hooklane_runtime::metrics::count("RunFailed", &[]);
    } else {
        tracing::info!(actions = run.actions.len(), "run succeeded");
        hooklane_runtime::metrics::count("RunSucceeded", &[]);
    }
    let logged = svc.settings.run_log == RunLog::All
        || run.status != RunStatus::Succeeded
        || checkpoints.written.load(Ordering::Relaxed);
    if logged {
        finish(svc, &run).await;
    }
    Ok(())
}

/// Puts the call back in the queue for `delay` (see
/// [`busy_delay`](hooklane_engine::retry::busy_delay)): an outside call of
/// the run was not sent because its host was over its share, before the
/// run made any outside call or write. The same attempt runs again then
/// from the start (no row, not a retry); the call's id and idempotency
/// keys stay the same.
///
/// # Errors
/// The queue's error; the queue hands the call back.
async fn defer(svc: &Services, call: HookCall, delay: Duration) -> Result<(), DispatchError> {
    tracing::debug!(
        delay_ms = delay.as_millis() as u64,
        "a call of the run was over its host's share; the run is put back in the queue"
    );
    hooklane_runtime::metrics::count("RunDeferred", &[]);
    svc.enqueue(Envelope::now(Job::HookCall(call)), delay)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(())
}

/// Marks `run` failed, or `retrying` with its next attempt queued when the
/// failure is transient, nothing had taken effect and retries are left;
/// the error names the action and, when it is final, why.
async fn fail(svc: &Services, call: &HookCall, run: &mut Run, failure: &Failure, effect: bool) {
    let reason = format!(
        "action {} ({}) failed: {}",
        failure.index, failure.kind, failure.reason
    );
    let delay = run_retry_delay(call.attempt);
    let why_final = if !failure.transient {
        "not retried: the failure is permanent"
    } else if effect {
        "not retried: an earlier action had taken effect"
    } else if delay.is_none() {
        "not retried: the run's retries are used up"
    } else {
        ""
    };
    run.status = RunStatus::Failed;
    run.error = Some(format!("{reason}; {why_final}"));
    let Some(delay) = delay.filter(|_| why_final.is_empty()) else {
        return;
    };
    let again = HookCall {
        attempt: run.attempt,
        ..call.clone()
    };
    match svc
        .enqueue(Envelope::now(Job::HookCall(again)), delay)
        .await
    {
        Ok(()) => {
            run.status = RunStatus::Retrying;
            run.error = Some(format!(
                "{reason}; nothing had taken effect, so the run is retried in {} s",
                delay.as_secs()
            ));
        }
        Err(e) => {
            tracing::error!(error.message = %e, "the retry could not be queued");
            run.error = Some(format!("{reason}; the retry could not be queued: {e}"));
        }
    }
}
