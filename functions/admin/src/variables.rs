//! A bot's stored variables (`{var.name}` in actions): list, set, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use hooklane_domain::validate::is_variable_name;
use hooklane_domain::{rfc3339, BotId, Variable};
use hooklane_engine::actions::MAX_VARIABLE_BYTES;
use hooklane_store::Paged;
use hooklane_web::{ApiError, ErrorCode, Json};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::list::answer;
use crate::lookup::load_bot;
use crate::AdminState;

/// How often a write is tried when runs keep changing the variable under it.
const WRITE_TRIES: usize = 20;

/// `GET /v1/bots/{bot}/variables` and `PUT`/`DELETE …/variables/{name}`.
pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v1/bots/{bot}/variables", get(list))
        .route("/v1/bots/{bot}/variables/{name}", put(set).delete(remove))
}

fn view(v: Variable) -> Value {
    json!({"name": v.name, "value": v.value, "updated_at": rfc3339(v.updated_at)})
}

async fn list(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let vars = state.svc.store.list_variables(&bot.id).await?;
    let all = Paged {
        items: vars,
        next: None,
    };
    Ok(axum::Json(answer(all, view)))
}

/// The variable name in a path; 400 `invalid_variable` when it is not one.
fn checked_name(name: &str) -> Result<&str, ApiError> {
    if is_variable_name(name) {
        Ok(name)
    } else {
        Err(ApiError::bad_request(
            ErrorCode::InvalidVariable,
            format!("`{name}` is not a variable name (1 to 64 of A-Z a-z 0-9 _ . -)"),
        ))
    }
}

/// The `value` of a `PUT` body: any JSON, at most [`MAX_VARIABLE_BYTES`]
/// serialized (the limit `set_variable` actions have).
fn checked_value(body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut body) = body else {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidVariable,
            "the body must be a JSON object: {\"value\": …}",
        ));
    };
    if let Some(other) = body.keys().find(|k| *k != "value") {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidVariable,
            format!("`{other}` is not a field of a variable; send {{\"value\": …}}"),
        ));
    }
    let value = body.remove("value").ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidVariable,
            "`value` is required (any JSON value)",
        )
    })?;
    let size = value.to_string().len();
    if size > MAX_VARIABLE_BYTES {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidVariable,
            format!(
                "`value` is {size} bytes of JSON; a variable holds at most {MAX_VARIABLE_BYTES}"
            ),
        ));
    }
    Ok(value)
}

/// Writes `value` (deletes on `None`) whatever version is stored, retrying
/// when a run writes the same name in between. Answers whether a variable
/// was there before, and the time of the write.
async fn write(
    state: &AdminState,
    bot: &BotId,
    name: &str,
    value: Option<&Value>,
) -> Result<(bool, OffsetDateTime), ApiError> {
    for _ in 0..WRITE_TRIES {
        let current = state.svc.store.get_variable(bot, name).await?;
        let existed = current.is_some();
        let now = state.svc.now();
        if !existed && value.is_none() {
            return Ok((false, now));
        }
        let expected = current.map(|v| v.version);
        if state
            .svc
            .store
            .swap_variable(bot, name, expected, value, now)
            .await?
        {
            return Ok((existed, now));
        }
    }
    Err(ApiError::conflict(format!(
        "the variable `{name}` kept changing while it was written; try again"
    )))
}

async fn set(
    State(state): State<AdminState>,
    Path((bot, name)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let name = checked_name(&name)?;
    let value = checked_value(body)?;
    let (existed, updated_at) = write(&state, &bot.id, name, Some(&value)).await?;
    tracing::info!(bot_id = %bot.id, variable = name, "variable set");
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let answer = json!({"name": name, "value": value, "updated_at": rfc3339(updated_at)});
    Ok((status, axum::Json(answer)))
}

async fn remove(
    State(state): State<AdminState>,
    Path((bot, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let name = checked_name(&name)?;
    if !write(&state, &bot.id, name, None).await?.0 {
        return Err(ApiError::not_found("no such variable"));
    }
    tracing::info!(bot_id = %bot.id, variable = name, "variable deleted");
    Ok(StatusCode::NO_CONTENT)
}
