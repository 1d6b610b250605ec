//! `GET /v1/bots`: every bot of the installation, paged, never their keys.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use hooklane_web::ApiError;
use serde_json::Value;

use crate::bots::view;
use crate::list::{answer, ListQuery};
use crate::AdminState;

/// `GET /v1/bots`.
pub fn router() -> Router<AdminState> {
    Router::new().route("/v1/bots", get(list))
}

/// `{"data": [{"id", "name", "created_at"}, …], "next"}`, by id descending
/// (generated ids sort by creation time, so newest first). 400
/// `invalid_cursor` for a cursor this API did not hand out, `invalid_limit`
/// for a `limit` that is not a whole number.
async fn list(
    State(state): State<AdminState>,
    q: ListQuery,
) -> Result<axum::Json<Value>, ApiError> {
    let page = state.svc.store.list_bots(&q.checked_page()?).await?;
    Ok(axum::Json(answer(page, |bot| view(&bot))))
}
