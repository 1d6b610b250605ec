//! `GET /v1/bots/{bot}/variables`: the bot's stored variables.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use hooklane_domain::rfc3339;
use hooklane_store::Paged;
use hooklane_web::ApiError;
use serde_json::{json, Value};

use crate::list::answer;
use crate::AdminState;

/// `GET /v1/bots/{bot}/variables`.
pub fn router() -> Router<AdminState> {
    Router::new().route("/v1/bots/{bot}/variables", get(list))
}

async fn list(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let bot = crate::lookup::load_bot(&state, &bot).await?;
    let vars = state.svc.store.list_variables(&bot.id).await?;
    let all = Paged {
        items: vars,
        next: None,
    };
    Ok(axum::Json(answer(
        all,
        |v| json!({"name": v.name, "value": v.value, "updated_at": rfc3339(v.updated_at)}),
    )))
}
