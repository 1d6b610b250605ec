//! Finding what a route's path names: a bot, a hook or an endpoint by its
//! id. An id that does not parse is answered like one that is not stored
//! (`From<InvalidId>` for `ApiError`): 404, "no such bot" (hook, endpoint).

use hooklane_domain::{Bot, BotId, Endpoint, EndpointId, Hook, HookId};
use hooklane_web::ApiError;

use crate::AdminState;

/// The bot id in a path.
///
/// # Errors
/// 404 `not_found` ("no such bot") when `raw` is not a bot id.
pub fn bot_id(raw: &str) -> Result<BotId, ApiError> {
    Ok(BotId::parse(raw)?)
}

/// The value `found` holds, or 404 `not_found` with `message`.
pub(crate) fn found<T>(found: Option<T>, message: &str) -> Result<T, ApiError> {
    found.ok_or_else(|| ApiError::not_found(message))
}

/// The bot `raw` names.
///
/// # Errors
/// 404 `not_found` ("no such bot"); the store's error when it fails.
pub async fn load_bot(state: &AdminState, raw: &str) -> Result<Bot, ApiError> {
    let id = bot_id(raw)?;
    found(state.svc.store.get_bot(&id).await?, "no such bot")
}

/// The hook `hook` of the bot `bot` (both raw path segments).
///
/// # Errors
/// 404 `not_found` ("no such bot", "no such hook"); the store's error.
pub async fn load_hook(state: &AdminState, bot: &str, hook: &str) -> Result<Hook, ApiError> {
    let bot = load_bot(state, bot).await?;
    let id = HookId::parse(hook)?;
    found(
        state.svc.store.get_hook(&bot.id, &id).await?,
        "no such hook",
    )
}

/// The endpoint `ep` of the bot `bot` (both raw path segments).
///
/// # Errors
/// 404 `not_found` ("no such bot", "no such endpoint"); the store's error.
pub async fn load_endpoint(state: &AdminState, bot: &str, ep: &str) -> Result<Endpoint, ApiError> {
    let bot = load_bot(state, bot).await?;
    let id = EndpointId::parse(ep)?;
    found(
        state.svc.store.get_endpoint(&bot.id, &id).await?,
        "no such endpoint",
    )
}
