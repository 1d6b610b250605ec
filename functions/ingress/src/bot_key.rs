//! The bot API key check shared by hook calls (`auth: api_key`) and
//! publishes: `Authorization: Bearer <key>` against the bot's stored key
//! hash, in constant time (`hooklane_auth::api_key`).

use axum::http::{header, HeaderMap};
use hooklane_auth::api_key;
use hooklane_domain::Bot;
use hooklane_web::ApiError;

use crate::IngressState;

/// Checks the call's `Authorization` header against `bot`'s API key.
///
/// A key that does not match the cached bot is checked once more against
/// the bot as stored, since the key may have been rotated after the bot was
/// cached.
///
/// # Errors
/// 401 with `missing` when there is no `Authorization` header; 401 "the API
/// key is not valid for this bot" when it does not match; the store's error
/// (503 `unavailable`) when the reload cannot be made.
pub(crate) async fn check(
    state: &IngressState,
    bot: &Bot,
    headers: &HeaderMap,
    missing: &'static str,
) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized(missing))?;
    let presented = presented.to_str().unwrap_or_default();
    if api_key::verify_authorization(presented, &bot.api_key_hash) {
        return Ok(());
    }
    let store = state.svc.store.as_ref();
    let reloaded = state.cache.reload_bot(store, &bot.id).await?;
    if reloaded.is_some_and(|b| api_key::verify_authorization(presented, &b.api_key_hash)) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "the API key is not valid for this bot",
        ))
    }
}
