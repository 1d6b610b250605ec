//! `condition`: compares two rendered values and runs the `then` or the
//! `else` actions.

use hooklane_domain::action::{CompareOp, Condition};
use hooklane_domain::ActionSpec;
use hooklane_runtime::Services;
use serde_json::{json, Value};

use super::run_actions;
use super::state::{ActionError, ActionResultOf, RunState};
use super::values::{as_number, brief, show};

/// `condition`: runs the branch [`compare`] picks; the run log shows both
/// sides, the result and the branch's own results. A failing branch action
/// fails the condition, named by branch and index.
pub(super) async fn run(
    svc: &Services,
    state: &mut RunState,
    condition: &Condition,
    then: &[ActionSpec],
    otherwise: &[ActionSpec],
) -> ActionResultOf {
    let (left, right) = (state.json(&condition.left), state.json(&condition.right));
    let taken = compare(condition, &left, &right);
    let detail = json!({
        "left": brief(left),
        "op": condition.op,
        "right": brief(right),
        "result": taken,
        "branch": if taken { "then" } else { "else" },
    });
    run_branch(svc, state, detail, then, otherwise).await
}

/// A condition a checkpoint recorded part done: `recorded` is its detail
/// (the comparison, the branch taken, the branch's results so far). The
/// recorded branch goes on where it stopped; nothing is compared again.
pub(super) async fn resume(
    svc: &Services,
    state: &mut RunState,
    mut recorded: Value,
    then: &[ActionSpec],
    otherwise: &[ActionSpec],
) -> ActionResultOf {
    let done = recorded
        .as_object_mut()
        .and_then(|d| d.remove("actions"))
        .and_then(|a| serde_json::from_value(a).ok())
        .unwrap_or_default();
    state.progress.resume = Some(done);
    run_branch(svc, state, recorded, then, otherwise).await
}

/// Runs the branch `detail.result` names and completes the detail with its
/// results.
async fn run_branch(
    svc: &Services,
    state: &mut RunState,
    mut detail: Value,
    then: &[ActionSpec],
    otherwise: &[ActionSpec],
) -> ActionResultOf {
    let taken = detail["result"].as_bool().unwrap_or(false);
    let (branch, name) = if taken {
        (then, "then")
    } else {
        (otherwise, "else")
    };
    state.progress.open(detail.clone(), name);
    let outcome = run_actions(svc, branch, state).await;
    state.progress.close();
    detail["actions"] = serde_json::to_value(&outcome.results).unwrap_or_default();
    match outcome.failure {
        None => Ok(detail),
        Some(f) => Err(ActionError {
            reason: format!(
                "{name} action {} ({}) failed: {}",
                f.index, f.kind, f.reason
            ),
            detail,
            transient: f.transient,
            deferred: None,
        }),
    }
}

/// Compares two rendered values: numerically when both are numbers (or
/// numeric text), as text otherwise; `contains` looks into text and arrays.
pub fn compare(condition: &Condition, left: &Value, right: &Value) -> bool {
    if condition.op == CompareOp::Contains {
        return match left {
            Value::Array(items) => items.iter().any(|i| i == right || show(i) == show(right)),
            other => show(other).contains(&show(right)),
        };
    }
    let ordering = match (as_number(left), as_number(right)) {
        (Some(a), Some(b)) => a
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&b.as_f64().unwrap_or(0.0)),
        _ => Some(show(left).cmp(&show(right))),
    };
    use std::cmp::Ordering::*;
    match (condition.op, ordering) {
        (CompareOp::Eq, Some(Equal)) => true,
        (CompareOp::Ne, o) => o != Some(Equal),
        (CompareOp::Gt, Some(Greater)) => true,
        (CompareOp::Ge, Some(Greater | Equal)) => true,
        (CompareOp::Lt, Some(Less)) => true,
        (CompareOp::Le, Some(Less | Equal)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str) -> Condition {
        serde_json::from_value(json!({"left": "", "op": op, "right": ""})).unwrap()
    }

    #[test]
    fn conditions_compare_numbers_numerically_and_text_as_text() {
        let cases = [
            (json!(10), "==", json!("10"), true),
            (json!("9"), "<", json!("10"), true),
            (json!("b"), ">", json!("a"), true),
            (json!("9x"), "<", json!("10x"), false),
            (json!(1.5), ">=", json!(1.5), true),
            (json!("paid"), "!=", json!("refunded"), true),
            (json!("order paid"), "contains", json!("paid"), true),
            (json!(["a", "b"]), "contains", json!("b"), true),
            (json!(["a", "b"]), "contains", json!("c"), false),
        ];
        for (left, op, right, want) in cases {
            assert_eq!(
                compare(&cond(op), &left, &right),
                want,
                "{left} {op} {right}"
            );
        }
    }
}
