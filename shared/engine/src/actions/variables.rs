//! The variable actions: `set_variable`, `update_variable` (arithmetic on a
//! number) and `delete_variable`, each a compare-and-swap on the store so
//! concurrent runs never lose a write.

use std::time::Duration;

use hooklane_domain::action::VariableOp;
use hooklane_domain::BotId;
use hooklane_runtime::Services;
use serde_json::{json, Value};

use super::state::{ActionError, ActionResultOf, RunState};
use super::values::{as_number, brief, show};
use crate::platforms::cut;

/// The largest value `set_variable` stores, in bytes of its JSON.
pub const MAX_VARIABLE_BYTES: usize = 64 * 1024;

/// `set_variable`: stores the rendered value (at most
/// [`MAX_VARIABLE_BYTES`] of JSON) under the rendered name.
pub(super) async fn set(
    svc: &Services,
    state: &mut RunState,
    name: &str,
    value: &Value,
) -> ActionResultOf {
    let name = state.text(name);
    let value = state.json(value);
    let size = value.to_string().len();
    if size > MAX_VARIABLE_BYTES {
        return Err(ActionError::permanent(format!(
            "the value is {size} bytes of JSON; a variable holds at most {MAX_VARIABLE_BYTES}"
        )));
    }
    let stored = write_variable(svc, &state.bot_id, &name, |_| Ok(Some(value.clone()))).await?;
    state.set_var(&name, stored.clone());
    Ok(json!({ "name": name, "value": brief(stored.unwrap_or_default()) }))
}

/// `update_variable`: applies `op` with the rendered operand to the stored
/// number (0 when unset); fails when either is not a number.
pub(super) async fn update(
    svc: &Services,
    state: &mut RunState,
    name: &str,
    op: VariableOp,
    value: &Value,
) -> ActionResultOf {
    let name = state.text(name);
    let operand = state.json(value);
    let operand = as_number(&operand).ok_or_else(|| {
        ActionError::permanent(format!(
            "the value `{}` is not a number",
            cut(&show(&operand), 100).0
        ))
    })?;
    let stored = write_variable(svc, &state.bot_id, &name, |current| {
        let current = match current {
            None => 0.into(),
            Some(v) => as_number(v).ok_or_else(|| {
                ActionError::permanent(format!(
                    "the variable `{name}` holds `{}`, which is not a number",
                    cut(&show(v), 100).0
                ))
            })?,
        };
        apply(op, &current, &operand).map(Some)
    })
    .await?;
    state.set_var(&name, stored.clone());
    Ok(json!({ "name": name, "value": stored }))
}

/// `delete_variable`: removes the variable (nothing when unset).
pub(super) async fn delete(svc: &Services, state: &mut RunState, name: &str) -> ActionResultOf {
    let name = state.text(name);
    write_variable(svc, &state.bot_id, &name, |_| Ok(None)).await?;
    state.set_var(&name, None);
    Ok(json!({ "name": name }))
}

/// Read-modify-write of one variable with compare-and-swap, so concurrent
/// updates never lose one. Returns the stored value (`None` when deleted).
async fn write_variable<F>(
    svc: &Services,
    bot: &BotId,
    name: &str,
    f: F,
) -> Result<Option<Value>, ActionError>
where
    F: Fn(Option<&Value>) -> Result<Option<Value>, ActionError>,
{
    if !hooklane_domain::validate::is_variable_name(name) {
        return Err(ActionError::permanent(format!(
            "`{name}` is not a variable name (1 to 64 letters, digits, `_`, `-` or `.`)"
        )));
    }
    for attempt in 0..50u64 {
        if attempt > 0 {
            // Another run wrote first: back off a little (with jitter) so
            // many concurrent writers of one name do not keep colliding.
            let ms = rand::random::<u64>() % (5 * attempt.min(20) + 1);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let current = svc
            .store
            .get_variable(bot, name)
            .await
            .map_err(store_error)?;
        let next = f(current.as_ref().map(|v| &v.value))?;
        if current.is_none() && next.is_none() {
            return Ok(None);
        }
        let swapped = svc
            .store
            .swap_variable(
                bot,
                name,
                current.map(|v| v.version),
                next.as_ref(),
                svc.now(),
            )
            .await
            .map_err(store_error)?;
        if swapped {
            return Ok(next);
        }
    }
    Err(ActionError {
        reason: format!("the variable `{name}` kept changing under concurrent writes"),
        detail: Value::Null,
        transient: true,
        deferred: None,
    })
}

fn store_error(e: hooklane_store::StoreError) -> ActionError {
    tracing::error!(error.message = %e, error.cause_chain = ?e, "variable store failed");
    ActionError {
        reason: "the variable store is unavailable".into(),
        detail: Value::Null,
        transient: true,
        deferred: None,
    }
}

fn apply(
    op: VariableOp,
    a: &serde_json::Number,
    b: &serde_json::Number,
) -> Result<Value, ActionError> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let exact = match op {
            VariableOp::Add => x.checked_add(y),
            VariableOp::Subtract => x.checked_sub(y),
            VariableOp::Multiply => x.checked_mul(y),
            VariableOp::Divide if y == 0 => return Err(ActionError::permanent("division by zero")),
            VariableOp::Divide => (x % y == 0).then(|| x / y),
        };
        if let Some(n) = exact {
            return Ok(n.into());
        }
    }
    let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
    let r = match op {
        VariableOp::Add => x + y,
        VariableOp::Subtract => x - y,
        VariableOp::Multiply => x * y,
        VariableOp::Divide if y == 0.0 => return Err(ActionError::permanent("division by zero")),
        VariableOp::Divide => x / y,
    };
    serde_json::Number::from_f64(r)
        .map(Value::Number)
        .ok_or_else(|| ActionError::permanent("the result is not a finite number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_keeps_integers_exact_and_refuses_division_by_zero() {
        let n = |v: Value| as_number(&v).unwrap();
        assert_eq!(
            apply(VariableOp::Add, &n(json!(2)), &n(json!("3"))).ok(),
            Some(json!(5))
        );
        assert_eq!(
            apply(VariableOp::Divide, &n(json!(7)), &n(json!(2))).ok(),
            Some(json!(3.5))
        );
        assert_eq!(
            apply(VariableOp::Multiply, &n(json!(1.5)), &n(json!(2))).ok(),
            Some(json!(3.0))
        );
        assert!(apply(VariableOp::Divide, &n(json!(1)), &n(json!(0))).is_err());
        assert!(as_number(&json!("abc")).is_none());
    }
}
