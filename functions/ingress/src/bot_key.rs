//! The bot API key check shared by hook calls (`auth: api_key`) and
//! publishes: `Authorization: Bearer <key>` against the bot's stored key
//! hash, in constant time (`hooklane_auth::api_key`).

use axum::http::{header, HeaderMap};
use hooklane_auth::api_key;
use hooklane_domain::Bot;
use hooklane_web::ApiError;

/// Checks the call's `Authorization` header against `bot`'s API key. Reads
/// nothing: a caller holding a cached bot checks a rotated key again with
/// the bot as stored (hook calls do it for every auth kind in
/// `hooks::authenticate`, publishes in `events`).
///
/// # Errors
/// 401 with `missing` when there is no `Authorization` header; 401 "the API
/// key is not valid for this bot" when it does not match.
pub(crate) fn check(bot: &Bot, headers: &HeaderMap, missing: &'static str) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized(missing))?;
    if api_key::verify_authorization(presented.to_str().unwrap_or_default(), &bot.api_key_hash) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "the API key is not valid for this bot",
        ))
    }
}
