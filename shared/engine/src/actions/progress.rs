//! A run's progress as its actions complete: what a checkpoint records, the
//! path of the action running now (its idempotency key), and where a run
//! cut short resumes.
//!
//! Resuming nested `condition`s: a checkpoint written while a condition's
//! branch runs records the condition with status `running`, the branch it
//! took (`detail.result`, `detail.branch`) and the branch's results so far
//! (`detail.actions`). A resumed run does not compare again (the branch's
//! own writes may have changed what it compared); it goes on in the
//! recorded branch from its first action without an outcome, at any depth.

use std::sync::Arc;

use async_trait::async_trait;
use hooklane_domain::{Action, ActionResult, ActionSpec, ActionStatus};
use serde_json::Value;

/// Where a run's checkpoints go (the dispatcher writes them to the run row).
#[async_trait]
pub trait Checkpoints: Send + Sync {
    /// Saves the run so far. `actions` are as in the run log, a condition
    /// whose branch is part done last, with status
    /// [`ActionStatus::Running`]; `unknown` are the placeholders not found
    /// so far. Called after each action with an effect (an outside call, a
    /// variable write, a publish) that completed while another action is
    /// still to run: never before the first action, never after the last.
    /// Saving may fail; the implementation reports it, the run goes on.
    async fn save(&self, actions: &[ActionResult], unknown: &[String]);
}

/// One list of actions being run: the top-level list, or a branch.
struct Level {
    /// Results of the actions of this list that completed, in order.
    results: Vec<ActionResult>,
    /// The index of the action running now.
    current: usize,
    /// Whether actions of this list follow the current one.
    following: bool,
    /// The running condition's detail so far and the branch it took, when
    /// the current action is a condition running its branch.
    open: Option<(Value, &'static str)>,
}

/// The progress of one run, kept in its [`RunState`](super::state::RunState).
#[derive(Default)]
pub(super) struct Progress {
    levels: Vec<Level>,
    pub(super) sink: Option<Arc<dyn Checkpoints>>,
    /// The recorded results the next list entered starts from.
    pub(super) resume: Option<Vec<ActionResult>>,
}

impl Progress {
    /// Enters a list whose first `done.len()` actions already have results.
    pub(super) fn enter(&mut self, done: Vec<ActionResult>) {
        self.levels.push(Level {
            results: done,
            current: 0,
            following: false,
            open: None,
        });
    }

    /// Leaves the innermost list, answering its results.
    pub(super) fn leave(&mut self) -> Vec<ActionResult> {
        self.levels.pop().map(|l| l.results).unwrap_or_default()
    }

    /// The innermost list now runs its action `index` of `len`.
    pub(super) fn at(&mut self, index: usize, len: usize) {
        if let Some(level) = self.levels.last_mut() {
            level.current = index;
            level.following = index + 1 < len;
        }
    }

    /// Records the result of the innermost list's current action.
    pub(super) fn push(&mut self, result: ActionResult) {
        if let Some(level) = self.levels.last_mut() {
            level.results.push(result);
        }
    }

    /// The current action is a condition that took `branch`; `detail` is
    /// what its run log entry says before the branch's results.
    pub(super) fn open(&mut self, detail: Value, branch: &'static str) {
        if let Some(level) = self.levels.last_mut() {
            level.open = Some((detail, branch));
        }
    }

    /// The current condition's branch is done.
    pub(super) fn close(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            level.open = None;
        }
    }

    /// Whether any action of the run is still to run after the current one.
    pub(super) fn more(&self) -> bool {
        self.levels.iter().any(|l| l.following)
    }

    /// The current action's place in the hook: `2` for the third top-level
    /// action, `2.then.0` for the first of its `then` branch.
    pub(super) fn path(&self) -> String {
        let mut parts = Vec::with_capacity(self.levels.len());
        for level in &self.levels {
            match &level.open {
                Some((_, branch)) => parts.push(format!("{}.{branch}", level.current)),
                None => parts.push(level.current.to_string()),
            }
        }
        parts.join(".")
    }

    /// The run's results so far, as a checkpoint records them.
    pub(super) fn snapshot(&self) -> Vec<ActionResult> {
        let mut inner: Option<Vec<ActionResult>> = None;
        for level in self.levels.iter().rev() {
            let mut results = level.results.clone();
            if let (Some(branch), Some((detail, _))) = (inner.take(), &level.open) {
                let mut detail = detail.clone();
                detail["actions"] = serde_json::to_value(branch).unwrap_or_default();
                results.push(ActionResult {
                    index: level.current,
                    kind: "condition".into(),
                    status: ActionStatus::Running,
                    duration_ms: 0,
                    detail,
                });
            }
            inner = Some(results);
        }
        inner.unwrap_or_default()
    }
}

/// What a list resumes from: its recorded results split into those of
/// completed actions and a condition still running (last, if any). Results
/// past the list's end (the hook was edited meanwhile) are dropped.
pub(super) fn split_recorded(
    mut recorded: Vec<ActionResult>,
    len: usize,
) -> (Vec<ActionResult>, Option<ActionResult>) {
    let running = recorded
        .last()
        .is_some_and(|r| r.status == ActionStatus::Running)
        .then(|| recorded.pop())
        .flatten();
    recorded.truncate(len);
    (recorded, running)
}

/// Whether recorded results of `actions` include an action with an effect
/// that succeeded, looking into conditions' recorded branches.
pub(super) fn recorded_effect(actions: &[ActionSpec], results: &[ActionResult]) -> bool {
    results.iter().any(|r| {
        let Some(spec) = actions.get(r.index) else {
            return false;
        };
        match &spec.action {
            Action::Condition {
                then, otherwise, ..
            } => {
                let branch = if r.detail["result"].as_bool().unwrap_or(false) {
                    then
                } else {
                    otherwise
                };
                let inner: Vec<ActionResult> =
                    serde_json::from_value(r.detail["actions"].clone()).unwrap_or_default();
                recorded_effect(branch, &inner)
            }
            action => r.status == ActionStatus::Succeeded && has_effect(action),
        }
    })
}

/// Whether an action changes something beyond the run log when it succeeds:
/// an outside call, a publish, a variable write.
pub(super) fn has_effect(action: &Action) -> bool {
    action.has_outside_effect() || is_variable_write(action)
}

fn is_variable_write(action: &Action) -> bool {
    matches!(
        action,
        Action::SetVariable { .. } | Action::UpdateVariable { .. } | Action::DeleteVariable { .. }
    )
}
