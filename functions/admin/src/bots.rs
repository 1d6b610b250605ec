//! Bots and their API keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use hooklane_auth::api_key;
use hooklane_domain::{rfc3339, Bot, BotId};
use hooklane_web::{About as _, ApiError, Json};
use serde_json::{json, Value};

use crate::input::check_bot;
use crate::lookup::{bot_id, load_bot};
use crate::AdminState;

/// `POST /v1/bots`, `GET`/`DELETE /v1/bots/{bot}` and
/// `POST /v1/bots/{bot}/api-key/rotate`.
pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v1/bots", post(create))
        .route("/v1/bots/{bot}", get(read).delete(delete))
        .route("/v1/bots/{bot}/api-key/rotate", post(rotate))
}

/// The public form of a bot: `{"id", "name", "created_at"}` (never its key).
pub(crate) fn view(bot: &Bot) -> Value {
    json!({"id": bot.id, "name": bot.name, "created_at": rfc3339(bot.created_at)})
}

/// [`view`] with the bot's new API key, shown this once (only its hash is kept).
fn view_with_key(bot: &Bot, key: String) -> axum::Json<Value> {
    let mut answer = view(bot);
    answer["api_key"] = Value::String(key);
    axum::Json(answer)
}

async fn create(
    State(state): State<AdminState>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let (name, id) = check_bot(body)?;
    let id = id.unwrap_or_else(BotId::generate);
    let key = api_key::generate();
    let bot = Bot {
        id,
        name,
        api_key_hash: api_key::hash(&key),
        created_at: state.svc.now(),
    };
    state
        .svc
        .store
        .create_bot(&bot)
        .await
        .about("bot", &bot.id)?;
    tracing::info!(bot_id = %bot.id, "bot created");
    Ok((StatusCode::CREATED, view_with_key(&bot, key)))
}

pub(crate) async fn read(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let bot = load_bot(&state, &bot).await?;
    Ok(axum::Json(view(&bot)))
}

async fn delete(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = bot_id(&bot)?;
    state.svc.store.delete_bot(&id).await.about("bot", &id)?;
    tracing::info!(bot_id = %id, "bot deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let mut bot = load_bot(&state, &bot).await?;
    let key = api_key::generate();
    bot.api_key_hash = api_key::hash(&key);
    state.svc.store.update_bot(&bot).await?;
    tracing::info!(bot_id = %bot.id, "API key rotated");
    Ok(view_with_key(&bot, key))
}
