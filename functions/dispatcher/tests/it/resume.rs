//! Runs resume where they stopped: a checkpoint (the run row, `running`,
//! with the outcomes recorded so far) left by a process that stopped
//! mid-run is picked up by the next receive of the call, and no action
//! with a recorded outcome runs again. The dispatcher is driven with
//! `process` and a crafted checkpoint, as a `kill -9` would leave it.

use hooklane_domain::envelope::HookCall;
use hooklane_domain::{ActionResult, ActionStatus, Hook, Run, RunStatus};
use hooklane_runtime::config::{RunLog, Settings};
use serde_json::{json, Value};

use crate::counting::{reads, writes};
use crate::support::{add_one, Setup};

/// What a process that stopped after recording `actions` leaves behind.
async fn checkpoint(s: &Setup, hook: &Hook, call: &HookCall, actions: Value) {
    let run = Run {
        id: call.call_id.clone(),
        bot_id: s.bot.clone(),
        hook_id: hook.id.clone(),
        status: RunStatus::Running,
        received_at: call.received_at,
        finished_at: None,
        attempt: 1,
        actions: serde_json::from_value(actions).unwrap(),
        unknown_placeholders: vec!["left.over".into()],
        error: None,
        request: None,
    };
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    s.store.put_run(&run, later).await.unwrap();
}

fn done(index: usize, name: &str) -> Value {
    json!({"index": index, "type": "update_variable", "status": "succeeded", "duration_ms": 3,
           "detail": {"name": name, "value": 1}})
}

#[tokio::test]
async fn a_run_cut_short_resumes_after_its_recorded_actions_and_repeats_none() {
    let s = Setup::new(Settings::default()).await;
    let hook = s
        .hook(json!([add_one("a"), add_one("b"), add_one("c")]))
        .await;
    let call = s.call(&hook);
    // `a` ran and was recorded; the process stopped during `b`.
    s.seed("a", json!(1)).await;
    checkpoint(&s, &hook, &call, json!([done(0, "a")])).await;

    s.process(&call, 2).await;

    assert_eq!(s.var("a").await, Some(json!(1)), "a is not repeated");
    assert_eq!(s.var("b").await, Some(json!(1)));
    assert_eq!(s.var("c").await, Some(json!(1)));
    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.actions.len(), 3);
    assert_eq!(run.actions[0].duration_ms, 3, "the recorded result is kept");
    assert_eq!(run.unknown_placeholders, vec!["left.over".to_owned()]);

    // Another receive of the finished call is dropped.
    s.process(&call, 3).await;
    assert_eq!(s.var("c").await, Some(json!(1)));
}

#[tokio::test]
async fn a_run_cut_short_inside_a_condition_goes_on_in_the_branch_it_took() {
    let s = Setup::new(Settings::default()).await;
    // Compared again now, `{var.x}` would be 1 and pick `else`.
    let hook = s
        .hook(json!([
            {"type": "condition", "if": {"left": "{var.x}", "op": "==", "right": "0"},
             "then": [add_one("x"), add_one("y")], "else": [add_one("z")]},
            add_one("w")
        ]))
        .await;
    let call = s.call(&hook);
    s.seed("x", json!(1)).await;
    checkpoint(
        &s,
        &hook,
        &call,
        json!([{"index": 0, "type": "condition", "status": "running", "duration_ms": 0,
                "detail": {"left": 0, "op": "==", "right": "0", "result": true, "branch": "then",
                           "actions": [done(0, "x")]}}]),
    )
    .await;

    s.process(&call, 2).await;

    assert_eq!(s.var("x").await, Some(json!(1)), "x is not repeated");
    assert_eq!(s.var("y").await, Some(json!(1)));
    assert_eq!(s.var("z").await, None, "the branch is not picked again");
    assert_eq!(s.var("w").await, Some(json!(1)));
    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(run.actions[0].status, ActionStatus::Succeeded);
    assert_eq!(run.actions[0].detail["branch"], "then");
    assert_eq!(
        run.actions[0].detail["actions"].as_array().unwrap().len(),
        2
    );
    assert_eq!(run.actions[1].detail["name"], "w");
}

#[tokio::test]
async fn a_checkpoint_is_written_after_each_action_with_an_effect_but_the_last() {
    let s = Setup::new(Settings::default()).await;
    let hook = s
        .hook(json!([
            add_one("a"),
            {"type": "log", "message": "between"},
            {"type": "condition", "if": {"left": "1", "op": "==", "right": "1"},
             "then": [add_one("b")], "else": []},
            add_one("c")
        ]))
        .await;
    let call = s.call(&hook);
    s.calls.take();
    s.process(&call, 1).await;
    let calls = s.calls.take();
    // After `a`, after `b` (inside the branch); not after the log, the
    // condition or `c` (the last): then the final row.
    assert_eq!(calls.get("put_run"), Some(&3), "{calls:?}");
    assert_eq!(
        calls.get("get_run"),
        None,
        "a first receive reads no earlier run"
    );
    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.actions.len(), 4);
}

#[tokio::test]
async fn a_one_action_run_costs_one_store_write_and_no_read_of_its_run() {
    let s = Setup::new(Settings::default()).await;
    let hook = s.hook(json!([{"type": "log", "message": "hi"}])).await;
    let call = s.call(&hook);
    s.calls.take();
    s.process(&call, 1).await;
    let calls = s.calls.take();
    assert_eq!(writes(&calls), 1, "{calls:?}");
    assert_eq!(calls.get("get_run"), None, "{calls:?}");
    assert_eq!(
        reads(&calls),
        1,
        "the hook; no variables, none used: {calls:?}"
    );

    // A redelivery reads the run, finds it finished, and stops there.
    s.process(&call, 2).await;
    let calls = s.calls.take();
    assert_eq!(calls.get("get_run"), Some(&1), "{calls:?}");
    assert_eq!(writes(&calls), 0, "{calls:?}");
}

#[tokio::test]
async fn with_run_log_failures_only_runs_that_did_not_succeed_are_kept() {
    let s = Setup::new(Settings {
        run_log: RunLog::Failures,
        ..Settings::default()
    })
    .await;
    let ok = s.hook(json!([{"type": "log", "message": "hi"}])).await;
    let call = s.call(&ok);
    s.calls.take();
    s.process(&call, 1).await;
    assert_eq!(writes(&s.calls.take()), 0);
    assert!(s.run_of(&call).await.is_none());

    let bad = s
        .hook(json!([{"type": "update_variable", "name": "n", "op": "add", "value": "x"}]))
        .await;
    let call = s.call(&bad);
    s.process(&call, 1).await;
    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);

    // A run that wrote a checkpoint ends with its row, never left `running`.
    let multi = s.hook(json!([add_one("a"), add_one("b")])).await;
    let call = s.call(&multi);
    s.process(&call, 1).await;
    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    let _: Vec<ActionResult> = run.actions;
}
